"""Build a register from a few records through the real pipeline (raw cells → typed → rules)."""

from __future__ import annotations

import datetime as dt

from core.reading.raw import RawBook, RawTab
from core.reading.schema import schema
from core.rules.register import build_register


def register_of(records: list[dict], *, policy: str = "consumer", now: str = "2026-11-24 10:00",
                settings: dict | None = None, holidays: list[tuple[str, str]] | None = None):
    keys: list[str] = []
    for r in records:
        keys += [k for k in r if k not in keys]
    for k in ("id", "received_at", "subject"):
        if k not in keys:
            keys.append(k)
    rows = []
    for i, r in enumerate(records, 1):
        base = {"id": f"TS{i:03d}", "subject": "s"}
        base.update(r)
        rows.append([base.get(k, "") for k in keys])
    tabs = {"complaints": RawTab("Complaints", keys, rows)}
    if settings:
        tabs["settings"] = RawTab("Settings", ["key", "value"], [[k, v] for k, v in settings.items()])
    if holidays:
        tabs["holidays"] = RawTab("Holidays", ["date", "type"], [list(h) for h in holidays])
    n = dt.datetime.fromisoformat(now)
    return build_register(RawBook(tabs), schema(), policy_name=policy, now=n)


def clock(reg, clock_id: str, row: int = 2) -> tuple[str, str]:
    c = reg.clocks[clock_id].loc[row]
    return c["due"].strftime("%Y-%m-%d %H:%M:%S"), c["state"]
