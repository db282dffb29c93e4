"""`report` as the user runs it — a whole process, imports, the three documents and exit —
beside a bare python-calamine read of the same file, in the same run (as bench/check.py).

    python bench/report.py --rows 10000 --period 2026-Q3 --repeat 3

Target (issue 11): the quarterly pack at 10k rows in <= 3 s. The figures are medians of
`--repeat` runs of each command, alternating; CPU seconds (user + system of that very
process) are printed too, since wall time on a shared machine mostly measures the others.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from check import BARE, NOW, PYTHON, run  # noqa: E402
from registers import register  # noqa: E402

TARGET = 3.0
SUPERVISOR = "周文博"  # the demo register's supervisor (the pack is for supervisors)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, nargs="+", default=[10_000])
    ap.add_argument("--period", default="2026-Q3")
    ap.add_argument("--dates", choices=("native", "text"), default="native")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print(f"report --period {args.period} as whole processes, medians of {args.repeat}; "
          f"target <= {TARGET} s at 10k rows")
    for n in args.rows:
        path = register(n, args.dates)
        runs = {"bare": [], "report": []}
        with tempfile.TemporaryDirectory() as out:
            cmd = [PYTHON, "-m", "core", "report", "--workbook", str(path), "--period",
                   args.period, "--out", out, "--now", NOW, "--user", SUPERVISOR]
            for _ in range(args.repeat):
                runs["bare"].append(run([PYTHON, "-c", BARE, str(path)]))
                seconds, mib, code, cpu = run(cmd)
                if code != 0:
                    raise SystemExit(f"report exited with {code}")
                runs["report"].append((seconds, mib, code, cpu))
            sizes = ", ".join(f"{p.name.split('-', 2)[-1]} {p.stat().st_size / 1024:,.0f} KiB"
                              for p in sorted(Path(out).iterdir()))
        (tb, cb), (tr, cr) = ([statistics.median(r[i] for r in runs[k]) for i in (0, 3)]
                              for k in ("bare", "report"))
        print(f"{n:>7} rows, dates {args.dates}: bare read {tb:5.2f} s (CPU {cb:5.2f} s) | "
              f"report {tr:5.2f} s (CPU {cr:5.2f} s) = {tr / tb:4.1f}x the read | "
              f"{'met' if tr <= TARGET else 'NOT met'} (<= {TARGET} s)  [{sizes}]")


if __name__ == "__main__":
    main()
