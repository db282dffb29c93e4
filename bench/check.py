"""Speed of reading and checking a register, and of one intake, at several sizes.

Prints figures; ratios are measured in the same run so the machine's speed cancels out.
    python bench/check.py --rows 10000 100000
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import openpyxl

from core.demo import demo_records
from core.register import build_register
from core.schema import schema
from core.store.workbook import WorkbookStore
from core.validate import validate

NOW = dt.datetime(2026, 11, 24, 10, 0)


def timed(fn, repeat: int = 1):
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def build(path: Path, rows: int) -> WorkbookStore:
    store = WorkbookStore(path, schema())
    store.init("zh")
    recs = demo_records(schema(), rows=rows, seed=1, lang="zh", now=NOW)
    for k, v in recs.items():
        store.append(k, v[:1])  # the first write adds the date style; the rest append fast
        if v[1:]:
            store.append(k, v[1:])
    return store


def bench_check(rows: int, folder: Path) -> None:
    store = build(folder / f"check-{rows}.xlsx", rows)
    s = schema()
    t_read, book = timed(store.read, 2)
    from core.policy import load_policy
    policy, _ = load_policy("consumer", s)
    t_parse, _ = timed(lambda: validate(s.tab("complaints"), book.tabs["complaints"], s,
                                        policy.categories, policy.tz), 2)
    t_rules, _ = timed(lambda: build_register(book, s, now=NOW), 2)
    full = t_read + t_rules
    print(f"{rows:>7} rows  read {t_read:6.2f} s | parse+validate {t_parse:6.2f} s | "
          f"clocks, flags and the rest {t_rules - t_parse:6.2f} s | full check (read included) "
          f"{full:6.2f} s = {full / t_read:4.2f}x the read (target <= 1.5x)")


def bench_intake(rows: int, folder: Path) -> None:
    store = build(folder / f"intake-{rows}.xlsx", rows)
    rec = {"id": "TS20261124999", "received_at": NOW, "subject": "bench"}
    t_app, _ = timed(lambda: store.append("complaints", [rec]), 3)

    def plain():
        wb = openpyxl.load_workbook(store.path)
        wb.save(folder / "plain.xlsx")
    t_plain, _ = timed(plain, 3)
    book = store.read()
    cols = schema().tab("complaints").match_headers(book.tabs["complaints"].header)
    row = book.tabs["complaints"].rows[rows // 2]
    version = [int(row[cols["version"]])]

    def update():
        store.update(row[cols["id"]], {"handler": f"h{version[0]}"}, seen={"version": version[0]},
                     user="bench", now=NOW)
        version[0] += 1
    t_upd, _ = timed(update, 3)
    print(f"{rows:>7} rows  intake (append one row) {t_app:5.2f} s | record a milestone "
          f"{t_upd:5.2f} s | plain openpyxl load+save {t_plain:5.2f} s | intake/plain "
          f"{t_app / t_plain:4.2f} (target: intake <= 0.5 s)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--intake-rows", type=int, nargs="+", default=[2_000, 10_000])
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        for n in args.rows:
            bench_check(n, folder)
        for n in args.intake_rows:
            bench_intake(n, folder)


if __name__ == "__main__":
    main()
