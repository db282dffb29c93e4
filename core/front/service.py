"""Use cases the pages and the CLI share: open the register, create the demo on first run."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from core.config import Target
from core.front.demo import demo_records
from core.reading.raw import RawBook
from core.reading.schema import schema
from core.rules.register import Register, build_register
from core.store import Store, open_store


def store_for(target: Target) -> Store:
    return open_store(schema(), workbook=target.workbook, gsheet=target.gsheet,
                      credentials=target.credentials)


def ensure_demo(target: Target, lang: str = "zh", rows: int = 300) -> bool:
    """Create the demo workbook when the default register does not exist yet."""
    if not target.is_default or not target.workbook or Path(target.workbook).exists():
        return False
    store = store_for(target)
    store.init(lang)
    for tab_key, recs in demo_records(schema(), rows=rows, lang=lang).items():
        store.append(tab_key, recs)
    return True


def register_from(book: RawBook, *, policy: str | None = None, now: dt.datetime | None = None,
                  source: str = "") -> Register:
    return build_register(book, schema(), policy_name=policy, now=now, source=source)
