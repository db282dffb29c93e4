"""Shared fixtures: real .xlsx files written with openpyxl in tmp_path."""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from core.front.demo import DEMO_USERS
from core.reading.schema import schema as load_schema

ROOT = Path(__file__).resolve().parent.parent
NOW = "2026-11-24T10:00:00+08:00"
SUPERVISOR = DEMO_USERS["supervisor"]["zh"]  # the demo register's supervisor (Users tab)


def _scan_installed_components_once() -> None:
    """Streamlit's AppTest looks for installed custom components on every new app: it reads
    the metadata of every installed package (about 0.7 s of CPU each time, most of an
    AppTest of a page). A server does it once when it starts; the packages installed do not
    change during a run, so the tests' apps share one look too."""
    import functools

    from streamlit.components.v2 import manifest_scanner

    if not hasattr(manifest_scanner.scan_component_manifests, "cache_info"):
        manifest_scanner.scan_component_manifests = functools.cache(
            manifest_scanner.scan_component_manifests)


_scan_installed_components_once()


@pytest.fixture(scope="session")
def schema():
    return load_schema()


def write_xlsx(path: Path, tabs: dict[str, list[list[object]]]) -> Path:
    """A workbook with the given tabs; each tab is a list of rows, the first the header."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in tabs.items():
        ws = wb.create_sheet(title)
        for r in rows:
            ws.append(r)
    wb.save(path)
    return path


def run_cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def check_json(path: Path, *extra: str) -> tuple[int, dict]:
    p = run_cli("check", "--workbook", str(path), "--format", "json", "--now", NOW, *extra)
    assert p.returncode in (0, 1), p.stderr
    return p.returncode, json.loads(p.stdout)


EN_HEADER = ["Complaint No.", "Received", "Subject", "Kind", "Accepted", "Reason not accepted",
             "Handler", "Respondent", "Closed", "Satisfaction", "Escalated", "Contact", "Validity",
             "Decided", "Root cause", "Corrective action", "First reply", "Written reply",
             "Resolved", "Callback", "Archived", "Times reprocessed"]


def en_row(id="TS20261102001", received=dt.datetime(2026, 11, 2, 9, 0), subject="Lift broken",
           **kw) -> list[object]:
    values = dict.fromkeys(EN_HEADER[3:], "")
    values.update({k.replace("_", " ").capitalize(): v for k, v in kw.items()})
    return [id, received, subject, *[values[h] for h in EN_HEADER[3:]]]


def made_once(tmp_path_factory, worker_id: str, name: str, make) -> Path:
    """A folder `make(folder)` fills once for the whole run, whichever xdist worker asks
    first; the others wait for it and share it (it is read, never written, by the tests)."""
    base = tmp_path_factory.getbasetemp()
    root = base if worker_id == "master" else base.parent  # the run's folder, not the user's
    folder = root / f"once-{name}"
    with open(root / f"once-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / ".done").exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            make(folder)
            (folder / ".done").touch()
    return folder


@pytest.fixture(scope="session")
def demo_path(tmp_path_factory, worker_id) -> Path:
    """The demo register (300 rows), made once for the run; never written to (register_copy
    gives a test a copy it may write to)."""
    def make(folder: Path) -> None:
        p = run_cli("demo", str(folder / "demo.xlsx"), "--rows", "300", "--seed", "7", "--now",
                    NOW)
        assert p.returncode == 0, p.stderr
    return made_once(tmp_path_factory, worker_id, "demo", make) / "demo.xlsx"


@pytest.fixture
def register_copy(demo_path, tmp_path) -> Path:
    """A copy of the demo register that a test may write to."""
    path = tmp_path / "r.xlsx"
    shutil.copy(demo_path, path)
    return path


#: tests that take tens of seconds (besides the browser's): started first, so that no worker
#: is left running one of them alone at the end of the run
SLOW = ("test_three_processes_adding", "test_any_text_written_through",
        "test_500_randomized_updates", "test_every_page_renders_in_both_languages[big_path",
        "test_the_xlsx_totals_equal_the_sheet", "test_the_pdf_has_every_section",
        "test_the_helpers_make_the_same_pack", "test_the_holidays_command_drafts")
#: browser tests that take about three times the others (a whole day's work)
LONG_BROWSER = ("test_a_clerks_day",)
#: at most this many browser tests of a module run one after another on a worker (they
#: share the module's servers and browser)
BROWSER_RUN = 5


def _browser(item) -> bool:
    return item.get_closest_marker("browser") is not None


def _weight(item) -> float:
    if _browser(item):
        return 3.0 if item.name.startswith(LONG_BROWSER) else 1.0
    return 1.0 if item.name.startswith(SLOW) else 0.0


def _deal(runs: list[list], lanes: list[list]) -> None:
    """Runs of tests to lanes, the heaviest first to the least loaded lane."""
    load = [sum(map(_weight, lane)) for lane in lanes]
    for run in sorted(runs, key=lambda r: -sum(map(_weight, r))):  # stable
        k = load.index(min(load))
        lanes[k].extend(run)
        load[k] += sum(map(_weight, run))


def pytest_collection_modifyitems(config, items):
    """The long tests first, spread over the xdist workers from the start.

    pytest-xdist's worksteal gives each of its n workers a contiguous n-th of the list, and
    an idle worker then takes half of the tail of the longest queue. A browser test keeps a
    core busy (Chromium and the app's server), so the browser tests run on two workers only
    (with four at once, each took twice as long), a module's in runs of a few that share its
    servers; the other long tests begin the other workers' parts, and the short tests fill
    every part."""
    heavy = [item for item in items if _weight(item)]
    light = [item for item in items if not _weight(item)]
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers < 2 or len(items) < 2 * workers:
        items[:] = heavy + light
        return
    runs: list[list] = []
    for item in (i for i in heavy if _browser(i)):
        last = runs[-1] if runs else None
        if last and last[0].module is item.module and len(last) < BROWSER_RUN:
            last.append(item)
        else:
            runs.append([item])
    browser_lanes = 2 if workers >= 4 else 1
    parts: list[list] = [[] for _ in range(workers)]
    _deal(runs, parts[:browser_lanes])
    _deal([[i] for i in heavy if not _browser(i)], parts[browser_lanes:])
    left, out = len(items), []
    for k, part in enumerate(parts):  # the sizes worksteal cuts the list into
        size = left // (workers - k)
        fill = max(0, size - len(part))
        out.extend(part + light[:fill])
        light = light[fill:]
        left -= size
    items[:] = out + light
