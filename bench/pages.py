"""Render time of every dashboard page, cold and warm, beside a bare read of the same file
measured in the same run (AppTest, in one process).

    python bench/pages.py --rows 10000 --repeat 3

Each figure is one wait of one viewer: opening the dashboard (its first page, the queue), or
clicking another page from the queue. Cold: the caches were emptied just before (a new read
window, or the app's own write): read + check + page. Warm: the next viewer, served from the
shared read and checked register. Figures are medians of `--repeat` runs.
Targets (issue 11, at 10k rows): warm <= 0.3 s; cold <= 2x the bare read.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("STREAMLIT_LOGGER_LEVEL", "error")  # AppTest's bare-mode notices
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from registers import NOW, register  # noqa: E402
from streamlit import logger  # noqa: E402
from streamlit.runtime.scriptrunner.script_cache import ScriptCache  # noqa: E402
from streamlit.testing.v1 import AppTest, app_test, local_script_runner  # noqa: E402

from core.config import Target  # noqa: E402

logger.set_log_level("error")  # clearing the caches outside a script run is expected here

PAGES = ("queue", "intake", "closure", "statistics", "scores", "quality")
WARM, COLD = 0.3, 2.0  # seconds; times the bare read


def timed(fn) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process, every thread) of fn()."""
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t0, time.process_time() - c0


def bare_read(path: Path) -> tuple[float, float]:
    """The bare python-calamine read bench/check.py compares against, in this process."""
    import python_calamine as c

    def read():
        wb = c.load_workbook(str(path))
        wb.get_sheet_by_name(wb.sheet_names[0]).to_python(skip_empty_area=False)
    return timed(read)


_COMPONENTS = []
# AppTest also compiles app.py and the page again on every run (a new ScriptCache each
# time); a server compiles each script once, at its first view. Share one cache likewise.
_SCRIPTS = ScriptCache()
app_test.ScriptCache = local_script_runner.ScriptCache = lambda: _SCRIPTS


def view(path: Path, page: str, cold: bool = False) -> tuple[float, float]:
    """One viewer opening `page`: the queue by opening the dashboard, another page by a click
    from the queue (a new session). `cold`: the caches are emptied just before (a new read
    window, or the app's own write), so the view reads and checks the register."""
    import streamlit as st

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    # AppTest scans every installed package for components on each new session (about 1 s
    # of CPU here); a server does it once, at start. Share one scan, so only the view counts.
    if _COMPONENTS:
        at._bidi_component_manager = _COMPONENTS[0]
    at.secrets = {"tests": {"sign_in": "none"}}  # not the checkout's own secrets.toml
    at.session_state["target"] = Target(workbook=str(path))
    at.session_state["lang"] = "zh"
    at.session_state["now"] = NOW.replace(tzinfo=dt.timezone(dt.timedelta(hours=8)))
    if page != "queue":
        at.run()  # the viewer is on the dashboard's first page, the queue
    if cold:
        st.cache_data.clear()
        st.cache_resource.clear()

    def run():  # the one wait: opening the dashboard, or the click on the page
        if page == "queue":
            at.run()
        else:
            at.switch_page(f"pages/{page}.py").run()
    seconds = timed(run)
    assert not at.exception, at.exception
    if not _COMPONENTS:
        _COMPONENTS.append(at._bidi_component_manager)
    return seconds


def render(path: Path, page: str) -> tuple[tuple, tuple]:
    """(cold, warm) of one page, each (wall, CPU)."""
    return view(path, page, cold=True), view(path, page)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, nargs="+", default=[10_000])
    ap.add_argument("--dates", choices=("native", "text"), default="native")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--pages", nargs="+", choices=PAGES, default=list(PAGES))
    args = ap.parse_args()
    paths = {n: register(n, args.dates) for n in args.rows}
    for page in args.pages:  # each page's imports and script compile, once (as a server)
        view(paths[args.rows[0]], page)
    print(f"pages, medians of {args.repeat}; targets: warm <= {WARM} s, cold <= {COLD}x the "
          f"bare read of the same file (python-calamine, this process, this run)")
    for n, path in paths.items():
        bare, runs = [], {p: [] for p in args.pages}
        for _ in range(args.repeat):
            bare.append(bare_read(path))
            for page in args.pages:
                runs[page].append(render(path, page))
        b, bc = [statistics.median(x[i] for x in bare) for i in (0, 1)]
        print(f"{n} rows (dates {args.dates}): bare read {b:.2f} s (CPU {bc:.2f} s), so cold "
              f"target <= {COLD * b:.2f} s")
        for page in args.pages:
            (cold, cc), (warm, wc) = [[statistics.median(r[k][i] for r in runs[page])
                                       for i in (0, 1)] for k in (0, 1)]
            print(f"  {page:<11} cold {cold:5.2f} s = {cold / b:4.2f}x the read "
                  f"({'met' if cold <= COLD * b else 'NOT met'}; <= {COLD}x; CPU {cc / bc:4.2f}x)"
                  f"   warm {warm:5.2f} s, CPU {wc:4.2f} s "
                  f"({'met' if warm <= WARM else 'NOT met'}; <= {WARM} s)")


if __name__ == "__main__":
    main()
