"""Time to build the quarterly review pack (xlsx + HTML + PDF) at N rows.

    python bench/report.py --rows 10000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from check import NOW, build

from core.register import build_register
from core.report import build_pack
from core.schema import schema
from core.sections import build_sections


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--period", default="2026-Q3")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        store = build(Path(d) / "r.xlsx", args.rows)
        reg = build_register(store.read(), schema(), now=NOW)
        t0 = time.perf_counter()
        build_sections(reg, args.period, "zh")
        t1 = time.perf_counter()
        pack = build_pack(reg, args.period, "zh")
        t2 = time.perf_counter()
    sizes = ", ".join(f"{k.split('-', 2)[-1]} {len(v) / 1024:,.0f} KiB" for k, v in pack.items())
    print(f"{args.rows} rows, {args.period}: sections {t1 - t0:.2f} s; whole pack {t2 - t1:.2f} s "
          f"({sizes})")


if __name__ == "__main__":
    main()
