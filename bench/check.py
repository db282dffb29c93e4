"""`check --format json` as the user runs it — a whole process, imports, output and exit
included — beside a bare python-calamine read of the same file, in the same run.

Each command is a separate OS process, timed from start to exit, with its peak memory
(ru_maxrss of that very child, from os.wait4). The two commands alternate, and the best of
`--repeat` runs of each is compared, so the machine's speed and load cancel out of the
ratio.

    python bench/check.py --rows 10000 100000
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from registers import register  # noqa: E402

PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv").exists() else sys.executable
NOW = "2026-11-24T10:00:00+08:00"
# The bare read: load the workbook and turn the complaints sheet into Python values.
BARE = ("import sys, python_calamine as c; wb = c.load_workbook(sys.argv[1]); "
        "wb.get_sheet_by_name(wb.sheet_names[0]).to_python(skip_empty_area=False)")
TARGET, STRETCH, MEMORY = 1.3, 1.2, 1.5


def run(cmd: list[str]) -> tuple[float, float, int, float]:
    """(seconds, peak MiB, exit status, CPU seconds) of one whole process, its output thrown
    away as a pipe reader would."""
    t0 = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=sink, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed ({code}): {err.strip()}")
    return seconds, usage.ru_maxrss / 1024, code, usage.ru_utime + usage.ru_stime


def measure(path: Path, repeat: int) -> dict:
    check = [PYTHON, "-m", "core", "check", "--workbook", str(path), "--format", "json",
             "--now", NOW]
    bare = [PYTHON, "-c", BARE, str(path)]
    runs = {"bare": [], "check": []}
    for _ in range(repeat):
        runs["bare"].append(run(bare))
        runs["check"].append(run(check))
    return {k: (min(r[0] for r in v), max(r[1] for r in v), min(r[3] for r in v))
            for k, v in runs.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print(f"check --format json as whole processes, best of {args.repeat}; targets: "
          f"<= {TARGET}x the bare read (stretch {STRETCH}x), peak memory <= {MEMORY}x")
    for n in args.rows:
        for dates in ("text", "native"):
            path = register(n, dates)
            m = measure(path, args.repeat)
            (tb, mb, cb), (tc, mc, cc) = m["bare"], m["check"]
            ok = "met" if tc / tb <= TARGET else "NOT met"
            mem = "met" if mc / mb <= MEMORY else "NOT met"
            print(f"{n:>7} rows, dates {dates:<6}  bare read {tb:6.2f} s {mb:5.0f} MiB | "
                  f"check {tc:6.2f} s {mc:5.0f} MiB | {tc / tb:4.2f}x the read ({ok}; "
                  f"CPU {cc / cb:4.2f}x), memory {mc / mb:4.2f}x ({mem})")


if __name__ == "__main__":
    main()
