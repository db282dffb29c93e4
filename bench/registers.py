"""Registers to measure on: the demo generator's rows at N rows, with dates stored as native
Excel dates or typed as text (as many teams' sheets hold them). Built once and kept in
bench/out/ (ignored by git); `--fresh` rebuilds.

    python bench/registers.py --rows 10000 100000
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.front.demo import demo_records  # noqa: E402
from core.reading.schema import schema  # noqa: E402
from core.store.workbook import WorkbookStore  # noqa: E402

OUT = ROOT / "bench" / "out"
NOW = dt.datetime(2026, 11, 24, 10, 0)
CHUNK = 20_000


def _as_text(rec: dict) -> dict:
    return {k: v.strftime("%Y-%m-%d %H:%M") if isinstance(v, dt.datetime) else v
            for k, v in rec.items()}


def register(rows: int, dates: str = "native", *, fresh: bool = False) -> Path:
    """The path of a demo register of `rows` complaints (dates "native" or "text")."""
    path = OUT / f"register-{rows}-{dates}.xlsx"
    if path.exists() and not fresh:
        return path
    OUT.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    store = WorkbookStore(path, schema())
    store.init("zh")
    recs = demo_records(schema(), rows=rows, seed=1, lang="zh", now=NOW)
    for key, values in recs.items():
        if key == "complaints" and dates == "text":
            values = [_as_text(r) for r in values]
        store.append(key, values[:1])  # the first write adds the date style; the rest is fast
        for i in range(1, len(values), CHUNK):
            store.append(key, values[i:i + CHUNK])
    return path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--fresh", action="store_true")
    args = ap.parse_args()
    for n in args.rows:
        for dates in ("native", "text"):
            print(register(n, dates, fresh=args.fresh))


if __name__ == "__main__":
    main()
