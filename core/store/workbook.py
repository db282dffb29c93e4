"""The local .xlsx workbook: read with python-calamine, written with openpyxl, atomically."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import socket
import tempfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import python_calamine
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from core.errors import LockedError, RegisterError
from core.schema import Schema
from core.store.base import RawBook, RawTab, Store, UpdatePlan, plan_update, record_row

DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
LOCK_WAIT_SECONDS = 10.0
STALE_LOCK_SECONDS = 600.0


def _owner_files(path: Path) -> list[Path]:
    """The files Excel/WPS (~$name) and LibreOffice (.~lock.name#) leave while a file is open."""
    # Excel drops the first two characters of longer names (~$port.xlsx for report.xlsx).
    names = {"~$" + path.name, "~$" + path.name[2:], f".~lock.{path.name}#"}
    return [path.with_name(n) for n in sorted(names)]


class WorkbookLock:
    """An exclusive lock file beside the workbook, so two processes never write at once."""

    def __init__(self, path: Path, wait: float = LOCK_WAIT_SECONDS):
        self.path = path.with_name(f".{path.name}.lock")
        self.wait = wait

    def _stale(self) -> bool:
        try:
            info = json.loads(self.path.read_text(encoding="utf-8"))
            age = time.time() - float(info.get("time", 0))
        except (OSError, ValueError):
            return False
        if age > STALE_LOCK_SECONDS:
            return True
        if info.get("host") == socket.gethostname():
            try:
                os.kill(int(info["pid"]), 0)
            except ProcessLookupError:
                return True
            except (PermissionError, KeyError, ValueError):
                return False
        return False

    def __enter__(self) -> WorkbookLock:
        deadline = time.monotonic() + self.wait
        while True:
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                if self._stale():
                    with contextlib.suppress(FileNotFoundError):
                        self.path.unlink()
                    continue
                if time.monotonic() >= deadline:
                    raise LockedError(f"Another process is writing {self.path.name[1:-5]} "
                                      f"(lock file {self.path.name}); try again in a moment. "
                                      f"Nothing was written.") from None
                time.sleep(0.05)
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump({"pid": os.getpid(), "host": socket.gethostname(), "time": time.time()}, f)
            return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def replace_atomically(tmp: str | os.PathLike, path: Path) -> None:
    """Make the finished temporary file the workbook in one step (after syncing it)."""
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    try:
        os.replace(tmp, path)
    except PermissionError as exc:
        raise LockedError(f"{path.name} cannot be replaced ({exc.strerror}); it is probably open "
                          f"in Excel or WPS. Close it and try again. Nothing was written.") from exc


@contextlib.contextmanager
def temporary_beside(path: Path) -> Iterator[str]:
    """A temporary file in the workbook's folder, removed afterwards unless it replaced it."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield tmp
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def atomic_save(wb: openpyxl.Workbook, path: Path) -> None:
    """Save beside the target, then replace it: a crash mid-write leaves the old file whole."""
    with temporary_beside(path) as tmp:
        wb.save(tmp)
        replace_atomically(tmp, path)


def _put(cell, value: object) -> None:
    """Write a value as data: text stays text even when it looks like a formula."""
    if isinstance(value, dt.datetime):
        cell.value = value.replace(tzinfo=None)
        cell.number_format = DATETIME_FORMAT
        return
    if isinstance(value, str):
        # XML turns a bare CR into LF; Excel's escape keeps it (calamine reads it back).
        cell.value = value.replace("\r", "_x000D_")
        cell.data_type = "s"
    else:
        cell.value = value


class WorkbookStore(Store):
    """A register kept in a local .xlsx file."""

    def __init__(self, path: str | os.PathLike, schema: Schema):
        super().__init__(schema)
        self.path = Path(path)
        self.label = str(self.path)

    # --- reading -------------------------------------------------------------------------

    def read(self) -> RawBook:
        return self._read_tabs([t.key for t in self.schema.tabs])

    def _read_tabs(self, keys: list[str]) -> RawBook:
        """The given tabs only (locating a row need not read the growing Audit log)."""
        if not self.path.exists():
            raise RegisterError(f"There is no workbook at {self.path}; create one with "
                                f"`python -m core demo {self.path}` or `python -m core init "
                                f"--workbook {self.path}`.")
        try:
            wb = python_calamine.load_workbook(str(self.path))
        except Exception as exc:  # calamine raises several types for a bad file
            raise RegisterError(f"{self.path} cannot be read as an Excel workbook "
                                f"({type(exc).__name__}: {exc}).") from exc
        titles = list(wb.sheet_names)
        tabs: dict[str, RawTab] = {}
        for key in keys:
            title = self.schema.find_tab(titles, key)
            if title is None:
                continue
            cells = wb.get_sheet_by_name(title).to_python(skip_empty_area=False)
            header = list(cells[0]) if cells else []
            tabs[key] = RawTab(title, header, [list(r) for r in cells[1:]])
        return RawBook(tabs, titles)

    # --- writing -------------------------------------------------------------------------

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        """The workbook exists, no other program has it open, and we hold its lock."""
        if not self.path.exists():
            raise RegisterError(f"There is no workbook at {self.path}; run `python -m core init "
                                f"--workbook {self.path}` first.")
        for owner in _owner_files(self.path):
            if owner.exists():
                raise LockedError(f"{self.path.name} is open in another program (Excel, WPS or "
                                  f"LibreOffice left {owner.name}); close it and try again. "
                                  f"Nothing was written.")
        with WorkbookLock(self.path):
            yield

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[openpyxl.Workbook]:
        with self._guard():
            try:
                wb = openpyxl.load_workbook(self.path)
            except Exception as exc:
                raise RegisterError(f"{self.path} cannot be opened for writing ({exc}).") from exc
            yield wb
            atomic_save(wb, self.path)

    def _sheet(self, wb: openpyxl.Workbook, tab_key: str):
        title = self.schema.find_tab(wb.sheetnames, tab_key)
        if title is None:
            tab = self.schema.tab(tab_key)
            raise RegisterError(f"The workbook has no {tab.en} ({tab.zh}) tab; run "
                                f"`python -m core init --workbook {self.path}`.")
        return wb[title]

    @staticmethod
    def _header(ws) -> list[object]:
        return [c.value for c in ws[1]] if ws.max_row >= 1 else []

    def _append_to(self, wb, tab_key: str, records) -> None:
        ws = self._sheet(wb, tab_key)
        tab = self.schema.tab(tab_key)
        header = self._header(ws)
        last = ws.max_row
        while last > 1 and all(c.value in (None, "") for c in ws[last]):
            last -= 1  # write right under the last row that holds something
        for n, rec in enumerate(records, start=1):
            for c, v in enumerate(record_row(tab, header, rec), start=1):
                if v is not None:
                    _put(ws.cell(row=last + n, column=c), v)

    def _fast_write(self, appends: list[tuple[str, list[dict]]],
                    patch: tuple[str, int, dict[int, object]] | None = None) -> bool:
        """Write through xlsx_append (appends by tab key); False: this needs openpyxl."""
        from core.store import xlsx_append

        with zipfile.ZipFile(self.path) as z:
            titles = list(xlsx_append.sheet_paths(z))
        jobs = []
        for key, recs in appends:
            title = self.schema.find_tab(titles, key)
            if title is None:
                if key == "audit":  # a register without an Audit tab simply has no log
                    continue
                return False
            tab = self.schema.tab(key)
            jobs.append((title, lambda header, tab=tab, recs=recs: [
                record_row(tab, header, r) for r in recs]))
        with temporary_beside(self.path) as tmp:
            try:
                if not xlsx_append.rewrite(self.path, tmp, appends=jobs, patch=patch):
                    return False
            except (zipfile.BadZipFile, KeyError, ValueError):
                return False  # not a layout the fast path knows: openpyxl will do it
            replace_atomically(tmp, self.path)
        return True

    def append(self, tab_key, records, *, audit=()) -> None:
        with self._guard():
            if self._fast_write([(tab_key, records), ("audit", list(audit))] if audit
                                else [(tab_key, records)]):
                return
        with self._transaction() as wb:
            self._append_to(wb, tab_key, records)
            if audit and self.schema.find_tab(wb.sheetnames, "audit"):
                self._append_to(wb, "audit", audit)

    def _fast_update(self, complaint_id, changes, *, seen, user, now) -> UpdatePlan | None:
        """Locate the row with calamine and rewrite only its changed cells in the sheet XML."""
        raw = self._read_tabs(["complaints"]).tabs.get("complaints")
        if raw is None:
            return None
        plan = plan_update(self.schema.tab("complaints"), raw, complaint_id, changes,
                           seen=seen, user=user, now=now, stamp=now)
        cells = {c.col + 1: c.value for c in plan.cells}
        audit = [("audit", plan.audit)] if plan.audit else []
        return plan if self._fast_write(audit, patch=(raw.title, plan.row, cells)) else None

    def update(self, complaint_id, changes, *, seen, user, now) -> UpdatePlan:
        tab = self.schema.tab("complaints")
        with self._guard():
            plan = self._fast_update(complaint_id, changes, seen=seen, user=user, now=now)
            if plan is not None:
                return plan
        with self._transaction() as wb:
            ws = self._sheet(wb, "complaints")
            raw = RawTab(ws.title, self._header(ws),
                         [[c.value for c in r] for r in ws.iter_rows(min_row=2)])
            plan = plan_update(tab, raw, complaint_id, changes, seen=seen, user=user, now=now,
                               stamp=now)
            for ch in plan.cells:
                _put(ws.cell(row=ch.row, column=ch.col + 1), ch.value)
            if plan.audit and self.schema.find_tab(wb.sheetnames, "audit"):
                self._append_to(wb, "audit", plan.audit)
        return plan

    def init(self, lang: str) -> list[str]:
        done: list[str] = []
        ctx = self._transaction() if self.path.exists() else self._create()
        with ctx as wb:
            for tab in self.schema.tabs:
                title = self.schema.find_tab(wb.sheetnames, tab.key)
                if title is None:
                    ws = wb.create_sheet(tab.title(lang))
                    done.append(f"added tab {ws.title}")
                else:
                    ws = wb[title]
                header = self._header(ws)
                if all(h in (None, "") for h in header):
                    header = []
                have = tab.match_headers(header)
                for col in tab.columns:
                    if col.key not in have:
                        pos = len(header) + 1
                        _put(ws.cell(row=1, column=pos), col.header(lang))
                        header.append(col.header(lang))
                        have[col.key] = pos - 1
                        if title is not None:
                            done.append(f"added column {col.header(lang)} to {ws.title}")
                if ws.freeze_panes != "A2":
                    ws.freeze_panes = "A2"
                    done.append(f"froze the header row of {ws.title}")
                existing = {str(dv.sqref) for dv in ws.data_validations.dataValidation}
                for col in tab.columns:
                    if not col.values or col.values not in self.schema.value_sets:
                        continue
                    letter = get_column_letter(have[col.key] + 1)
                    sqref = f"{letter}2:{letter}1048576"
                    if sqref in existing:
                        continue
                    labels = [c.label(lang) for c in self.schema.value_sets[col.values].choices]
                    dv = DataValidation(type="list", formula1='"' + ",".join(labels) + '"',
                                        allow_blank=True, errorStyle="warning",
                                        showErrorMessage=True)
                    dv.add(sqref)
                    ws.add_data_validation(dv)
                    done.append(f"added a dropdown to {ws.title} {col.header(lang)}")
        return done

    @contextlib.contextmanager
    def _create(self) -> Iterator[openpyxl.Workbook]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        wb = openpyxl.Workbook()
        wb.remove(wb.active)
        with WorkbookLock(self.path):
            yield wb
            atomic_save(wb, self.path)


def write_tables(path: str | os.PathLike, tables: list[tuple[str, object]]) -> Path:
    """A workbook of plain tables (one sheet each): numbers as numbers, text as literal text,
    bold frozen header; written atomically like the register."""
    import pandas as pd
    from openpyxl.styles import Font

    path = Path(path)
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    for title, df in tables:
        name = "".join(ch for ch in str(title) if ch not in "[]:*?/\\")[:31] or "Sheet"
        while name in used:
            name = name[:28] + f"~{len(used)}"
        used.add(name)
        ws = wb.create_sheet(name)
        for c, h in enumerate(df.columns, start=1):
            _put(ws.cell(row=1, column=c), str(h))
            ws.cell(row=1, column=c).font = Font(bold=True)
            ws.column_dimensions[get_column_letter(c)].width = max(10, min(40, len(str(h)) * 2))
        for r, row in enumerate(df.itertuples(index=False), start=2):
            for c, v in enumerate(row, start=1):
                if v is None or (not isinstance(v, str) and pd.isna(v)):
                    continue
                if hasattr(v, "item"):  # numpy scalars → Python numbers
                    v = v.item()
                _put(ws.cell(row=r, column=c), v)
        ws.freeze_panes = "A2"
    atomic_save(wb, path)
    return path
