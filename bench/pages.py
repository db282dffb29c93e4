"""Render time of every dashboard page at 100 and 10k rows, in one run (AppTest).

    python bench/pages.py --rows 100 10000
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("STREAMLIT_LOGGER_LEVEL", "error")  # AppTest's bare-mode notices
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from check import NOW, build  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from core.config import Target  # noqa: E402

PAGES = ("queue", "intake", "closure", "statistics", "scores", "quality")


def render(path: Path, page: str) -> tuple[float, float]:
    """(cold, warm): the first view after a read window (read + check + page), then a view
    served from the shared read and checked register (every other viewer in the window)."""
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    times = []
    for _ in range(2):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
        at.session_state["target"] = Target(workbook=str(path))
        at.session_state["lang"] = "zh"
        at.session_state["now"] = NOW.replace(tzinfo=dt.timezone(dt.timedelta(hours=8)))
        at.query_params["page"] = page
        t0 = time.perf_counter()
        at.run()
        at.switch_page(f"pages/{page}.py").run()
        times.append(time.perf_counter() - t0)
        assert not at.exception, at.exception
    return times[0], times[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, nargs="+", default=[100, 10_000])
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        paths = {n: build(Path(d) / f"r{n}.xlsx", n).path for n in args.rows}
        print("page         " + "".join(f"{n:>7} rows cold / warm" for n in args.rows)
              + "   (target <= 1.5 s at 10k)")
        for page in PAGES:
            times = [render(paths[n], page) for n in args.rows]
            print(f"{page:<12}" + "".join(f"{c:>14.2f} s / {w:.2f} s" for c, w in times))


if __name__ == "__main__":
    main()
