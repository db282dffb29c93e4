"""A pydantic model of one Complaints row, validated row by row, beside the vectorised
validation (core.reading.validate.validate) of the same register read, in the same run: why the
register's rows are typed column by column and pydantic is kept for one file or one record.

    python bench/row_model.py --rows 100000
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path
from typing import Annotated

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from pydantic import AfterValidator, BeforeValidator, create_model  # noqa: E402
from registers import register  # noqa: E402

from core.reading.schema import norm, schema  # noqa: E402
from core.reading.validate import validate  # noqa: E402
from core.rules.policy import DEFAULT_POLICY, load_policy  # noqa: E402
from core.store.workbook import WorkbookStore  # noqa: E402


def row_model(tab, sets):
    """Each column typed as pydantic would: date-times, whole numbers, enumerations looked up
    by any spelling (as parse_enum does), text as text; blank cells allowed."""
    blank = BeforeValidator(lambda v: None if v in ("", None) else v)
    fields = {}
    for c in tab.columns:
        if c.type in ("datetime", "date"):
            t = Annotated[dt.datetime | None, blank]
        elif c.type == "int":
            t = Annotated[int | None, blank]
        elif c.type in ("enum", "bool", "category"):
            vs = sets[c.values or "category"]
            t = Annotated[str | None, blank, BeforeValidator(lambda v: v if v is None else str(v)),
                          AfterValidator(lambda v, vs=vs: v if v is None else vs.lookup.get(norm(v), v))]
        else:
            t = Annotated[str | None, blank, BeforeValidator(lambda v: v if v is None else str(v))]
        fields[c.key] = (t, None)
    return create_model("ComplaintRow", **fields)


def timed(label: str, f) -> float:
    w, c = time.perf_counter(), time.process_time()
    f()
    w, c = time.perf_counter() - w, time.process_time() - c
    print(f"{label}: {w:.2f} s wall, {c:.2f} s CPU")
    return c


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    n = ap.parse_args().rows
    s = schema()
    tab = s.tab("complaints")
    policy, _ = load_policy(DEFAULT_POLICY, s)
    raw = WorkbookStore(register(n), s).read().tabs["complaints"]
    cols = raw.column_map(tab)
    rows = [{k: r[i] for k, i in cols.items() if i < len(r)} for r in raw.rows]
    Row = row_model(tab, {**s.value_sets, "category": policy.categories})
    a = timed(f"validate(), {n} rows as read", lambda: validate(tab, raw, s, policy.categories, policy.tz))
    b = timed(f"ComplaintRow.model_validate, {n} times", lambda: [Row.model_validate(r) for r in rows])
    print(f"a pydantic model a row: {b / n * 1e6:.0f} µs CPU a row, {b / a:.1f}x the whole "
          f"vectorised validation's CPU (row rules and problems included)")


if __name__ == "__main__":
    main()
