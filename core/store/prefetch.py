"""Start reading the register in a thread while Python imports the rest of the command.

`python -m core check` spends its first second importing pandas and the rules; fastexcel
reads the file in Rust without holding the interpreter, so the two overlap. Only the
commands that read the whole register and name an .xlsx file take part; the store uses the
result only if the file is unchanged since, and otherwise reads again as usual.
"""

from __future__ import annotations

import os
import threading

COMMANDS = ("check", "score", "report")
_pending: dict[str, tuple[tuple[int, int], threading.Thread, list]] = {}


def _workbook(argv: list[str]) -> str | None:
    for i, a in enumerate(argv):
        if a == "--workbook" and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith("--workbook="):
            return a.split("=", 1)[1]
    if "--gsheet" in argv or any(a.startswith("--gsheet=") for a in argv):
        return None
    return os.environ.get("COMPLAINTS_WORKBOOK")


def _stamp(path: str) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_mtime_ns, st.st_size


def start(argv: list[str]) -> None:
    """Begin reading the Complaints tab of the workbook `argv` names, if it is one."""
    if not argv or argv[0] not in COMMANDS:
        return
    path = _workbook(argv)
    if not path or not path.lower().endswith((".xlsx", ".xlsm")) or not os.path.isfile(path):
        return
    out: list = []

    def run() -> None:
        try:
            from core.reading.schema import schema
            from core.store.columns import ColumnReader

            reader = ColumnReader(path)
            title = schema().find_tab(reader.titles, "complaints")
            if title is not None:
                reader.cached(title)
            out.append(reader)
        except Exception:
            pass

    thread = threading.Thread(target=run, name="read-register", daemon=True)
    _pending[os.path.abspath(path)] = (_stamp(path), thread, out)
    thread.start()


def take(path: str):
    """The reader started for `path`, once done, if the file has not changed since."""
    job = _pending.pop(os.path.abspath(path), None)
    if job is None:
        return None
    stamp, thread, out = job
    thread.join()
    try:
        unchanged = _stamp(path) == stamp
    except OSError:
        return None
    return out[0] if out and unchanged else None
