"""The local .xlsx workbook: read with python-calamine, written atomically under a lock.

A write holds the lock file `.NAME.xlsx.lock`, reads what it needs from the file as it is
then (a new complaint's number included), writes a temporary copy beside the workbook and
replaces it in one step, keeping the file's permissions. Writes patch the sheet XML inside
the zip when the layout is one this product knows (xlsx_append.py), otherwise openpyxl.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import socket
import stat
import tempfile
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import python_calamine

from core.errors import LockedError, RegisterError
from core.reading.parse import text_of
from core.reading.raw import RawBook, RawTab
from core.reading.schema import Schema, Tab
from core.reading.text import clean, for_xlsx
from core.store import columns, xlsx_append
from core.store.base import (
    Store,
    UpdatePlan,
    created_lines,
    plan_update,
    record_row,
)
from core.store.numbering import allocate, serials_in

if TYPE_CHECKING:  # openpyxl is imported by the writes that need it: reading does not
    import openpyxl

DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
WRITABLE = (".xlsx", ".xlsm")
LOCK_WAIT_SECONDS = 10.0
STALE_LOCK_SECONDS = 600.0   # no write of this product takes this long
EMPTY_LOCK_SECONDS = 5.0     # a lock file still empty or garbled after this was left by a crash
LEFTOVER_SECONDS = 60.0      # temporary copies older than this were left by a crash
BUSY_TRIES = 20              # another program mid-save: wait up to ~4 s for a whole file


def _owner_files(path: Path) -> list[Path]:
    """The files Excel/WPS (~$name) and LibreOffice (.~lock.name#) leave while a file is open."""
    # Excel drops the first two characters of longer names (~$port.xlsx for report.xlsx).
    names = {"~$" + path.name, "~$" + path.name[2:], f".~lock.{path.name}#"}
    return [path.with_name(n) for n in sorted(names)]


class WorkbookLock:
    """An exclusive lock file beside the workbook, so two processes never write at once.

    A lock is reclaimed when it was left behind: its process is gone (same host), it is
    older than any write takes, or it is still empty or garbled a few seconds after it was
    made (a crash between creating and filling it).
    """

    def __init__(self, path: Path, wait: float | None = None):
        self.path = path.with_name(f".{path.name}.lock")
        self.wait = LOCK_WAIT_SECONDS if wait is None else wait
        self.token = uuid.uuid4().hex

    def _stale(self) -> bool:
        try:
            st = self.path.stat()
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return False
        except OSError:
            return False
        age = time.time() - st.st_mtime
        try:
            info = json.loads(raw)
            made = float(info["time"])
        except (ValueError, KeyError, TypeError):
            return age > EMPTY_LOCK_SECONDS
        if time.time() - made > STALE_LOCK_SECONDS:
            return True
        if info.get("host") == socket.gethostname():
            try:
                os.kill(int(info["pid"]), 0)
            except ProcessLookupError:
                return True
            except (PermissionError, KeyError, ValueError, TypeError):
                return False
        return False

    def _reclaim(self) -> None:
        """Remove a stale lock; a rename makes sure only one waiter removes that very file."""
        aside = self.path.with_name(f"{self.path.name}.{self.token}.stale")
        with contextlib.suppress(FileNotFoundError):
            os.rename(self.path, aside)
            os.unlink(aside)

    def __enter__(self) -> WorkbookLock:
        deadline = time.monotonic() + self.wait
        while True:
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
            except FileExistsError:
                if self._stale():
                    self._reclaim()
                    continue
                if time.monotonic() >= deadline:
                    raise LockedError("writing_elsewhere", name=self.path.name[1:-5],
                                      lock=self.path.name) from None
                time.sleep(0.02 + 0.03 * (os.getpid() % 3))
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump({"pid": os.getpid(), "host": socket.gethostname(), "time": time.time(),
                           "token": self.token}, f)
            return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(FileNotFoundError, ValueError, OSError):
            if json.loads(self.path.read_text(encoding="utf-8")).get("token") == self.token:
                self.path.unlink()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def replace_atomically(tmp: str | os.PathLike, path: Path) -> None:
    """Make the finished temporary file the workbook in one step (after syncing it), with
    the workbook's own permissions (a temporary file starts owner-only)."""
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    try:
        st = path.stat()
    except FileNotFoundError:
        os.chmod(tmp, 0o666 & ~_umask())
    else:
        os.chmod(tmp, stat.S_IMODE(st.st_mode))
        with contextlib.suppress(OSError):  # only root may give a file to someone else
            os.chown(tmp, st.st_uid, st.st_gid)
    try:
        os.replace(tmp, path)
    except PermissionError as exc:
        raise LockedError("cannot_replace", name=path.name, why=exc.strerror) from exc


@contextlib.contextmanager
def temporary_beside(path: Path) -> Iterator[str]:
    """A temporary file in the workbook's folder, removed afterwards unless it replaced it."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise LockedError("folder_not_writable", name=path.name, why=exc.strerror) from exc
    os.close(fd)
    try:
        yield tmp
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def remove_leftovers(path: Path) -> None:
    """Temporary copies a crashed writer left beside the workbook (we hold the lock)."""
    for p in path.parent.glob(f".{path.name}.*.tmp"):
        with contextlib.suppress(OSError):
            if time.time() - p.stat().st_mtime > LEFTOVER_SECONDS:
                p.unlink()


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
        cell.value = for_xlsx(value)
        cell.data_type = "s"
    else:
        cell.value = value


def _busy(path: Path, exc: Exception) -> RegisterError:
    return LockedError("saving_elsewhere", name=path.name, why=exc)


class WorkbookStore(Store):
    """A register kept in a local .xlsx file."""

    def __init__(self, path: str | os.PathLike, schema: Schema):
        super().__init__(schema)
        self.path = Path(path)
        self.label = str(self.path)

    # --- reading -------------------------------------------------------------------------

    def read(self, skip: tuple[str, ...] = ()) -> RawBook:
        """Every tab the schema knows (but those in `skip`), read as columns when the file
        allows it (columns.py), else cell by cell."""
        keys = [t.key for t in self.schema.tabs if t.key not in skip]
        if self.path.suffix.lower() in WRITABLE and self.path.exists():
            try:
                return self._read_columns(keys)
            except columns.READ_ERRORS:
                pass  # mid-save, damaged or unusual: the cell-by-cell read retries or explains
        return self._read_tabs(keys)

    def _read_columns(self, keys: list[str]) -> RawBook:
        from core.store import prefetch

        reader = prefetch.take(str(self.path)) or columns.ColumnReader(str(self.path))
        tabs: dict[str, RawTab] = {}
        for key in keys:
            title = self.schema.find_tab(reader.titles, key)
            if title is None:
                continue
            if key == "complaints":  # the big one: typed from Arrow (core.reading.parse)
                first_row, cols = reader.sheet(title)
                tabs[key] = RawTab.from_columns(title, first_row, cols, self.schema.tab(key))
            else:
                header_row, cells = reader.small_sheet(title, self.schema.tab(key))
                tabs[key] = (RawTab(title, cells[0], cells[1:], header_row) if cells
                             else RawTab(title, [], [], 1))
        return RawBook(tabs, reader.titles)

    def read_cells(self, keys: list[str]) -> RawBook:
        """The given tabs cell by cell, each value as the cell holds it (a date cell as a
        datetime, a number as a float); locating a row need not read the growing Audit log."""
        return self._read_tabs(keys)

    def _read_tabs(self, keys: list[str]) -> RawBook:
        """The given tabs only (locating a row need not read the growing Audit log)."""
        if not self.path.exists():
            raise RegisterError(f"There is no workbook at {self.path}; create one with "
                                f"`python -m core demo {self.path}` or `python -m core init "
                                f"--workbook {self.path}`.")
        for attempt in range(3):
            try:
                wb = python_calamine.load_workbook(str(self.path))
                break
            except Exception as exc:  # calamine raises several types for a bad file
                if attempt == 2:
                    raise RegisterError(
                        f"{self.path} cannot be read as an Excel workbook ({type(exc).__name__}: "
                        f"{exc}). If another program is saving it right now, try again in a "
                        f"moment.") from exc
                time.sleep(0.3)
        titles = list(wb.sheet_names)
        tabs: dict[str, RawTab] = {}
        for key in keys:
            title = self.schema.find_tab(titles, key)
            if title is None:
                continue
            cells = wb.get_sheet_by_name(title).to_python(skip_empty_area=False)
            tabs[key] = RawTab.from_cells(title, cells, self.schema.tab(key))
        return RawBook(tabs, titles)

    # --- writing -------------------------------------------------------------------------

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        """The workbook can be written, no other program has it open, and we hold its lock."""
        if not self.path.exists():
            raise RegisterError(f"There is no workbook at {self.path}; run `python -m core init "
                                f"--workbook {self.path}` first.")
        self._check_writable()
        for owner in _owner_files(self.path):
            if owner.exists():
                raise LockedError("open_elsewhere", name=self.path.name, owner=owner.name)
        with WorkbookLock(self.path):
            remove_leftovers(self.path)
            yield

    def _check_writable(self) -> None:
        if self.path.suffix.lower() not in WRITABLE:
            raise RegisterError(
                f"{self.path.name} is a {self.path.suffix or 'file without an extension'} file; "
                f"the app reads it but writes only Excel .xlsx workbooks. Save it as .xlsx "
                f"(File → Save As → Excel Workbook) and use that file. Nothing was written.")

    def _open_xml(self) -> xlsx_append.XlsxFile:
        """The workbook's zip, waiting briefly while another program finishes saving it."""
        for attempt in range(BUSY_TRIES):
            try:
                return xlsx_append.XlsxFile(self.path)
            except (zipfile.BadZipFile, KeyError, EOFError) as exc:
                if attempt == BUSY_TRIES - 1:
                    raise _busy(self.path, exc) from exc
                time.sleep(0.2)
        raise AssertionError("unreachable")

    def _load(self) -> openpyxl.Workbook:
        import openpyxl

        for attempt in range(BUSY_TRIES):
            try:
                return openpyxl.load_workbook(self.path)
            except (zipfile.BadZipFile, EOFError) as exc:
                if attempt == BUSY_TRIES - 1:
                    raise _busy(self.path, exc) from exc
                time.sleep(0.2)
            except Exception as exc:
                raise RegisterError(f"{self.path} cannot be opened for writing ({exc}); nothing "
                                    f"was written.") from exc
        raise AssertionError("unreachable")

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[openpyxl.Workbook]:
        """openpyxl's full load and save (inside the lock the caller holds)."""
        wb = self._load()
        yield wb
        atomic_save(wb, self.path)

    def _fast(self, write: Callable[[xlsx_append.XlsxFile], object]) -> tuple[bool, object]:
        """Run `write` on the zip and replace the workbook; (False, None) when this workbook
        needs openpyxl (nothing written)."""
        with self._open_xml() as x:
            try:
                result = write(x)
            except xlsx_append.Unsupported:
                return False, None
            with temporary_beside(self.path) as tmp:
                x.save_to(tmp)
                replace_atomically(tmp, self.path)
        return True, result

    # sheet lookups shared by the two paths

    def _title(self, titles: list[str], tab_key: str, *, required: bool = True) -> str | None:
        title = self.schema.find_tab(titles, tab_key)
        if title is None and required:
            tab = self.schema.tab(tab_key)
            raise RegisterError(f"The workbook has no {tab.en} ({tab.zh}) tab; run "
                                f"`python -m core init --workbook {self.path}`.")
        return title

    def _xml_header(self, x: xlsx_append.XlsxFile, title: str, tab: Tab) -> list[object]:
        return RawTab.from_cells(title, x.top_rows(title, 10), tab).header

    @staticmethod
    def _ws_header(ws, tab: Tab) -> tuple[int, list[object]]:
        """(sheet row of the header, its cells) of an openpyxl sheet."""
        top = [[c.value for c in r] for r in ws.iter_rows(min_row=1, max_row=min(ws.max_row, 10))]
        raw = RawTab.from_cells(ws.title, top, tab)
        return raw.header_row, raw.header

    def _append_ws(self, ws, tab: Tab, records: list[dict]) -> None:
        _, header = self._ws_header(ws, tab)
        last = ws.max_row
        while last > 1 and all(c.value in (None, "") for c in ws[last]):
            last -= 1  # write right under the last row that holds something
        for n, rec in enumerate(records, start=1):
            for c, v in enumerate(record_row(tab, header, rec), start=1):
                if v is not None:
                    _put(ws.cell(row=last + n, column=c), v)

    def append(self, tab_key, records, *, audit=()) -> None:
        tab = self.schema.tab(tab_key)
        with self._guard():
            def fast(x):
                title = self._title(x.titles(), tab_key)
                header = self._xml_header(x, title, tab)
                x.append_rows(title, [record_row(tab, header, r) for r in records])
                self._fast_audit(x, list(audit))
            if self._fast(fast)[0]:
                return
            with self._transaction() as wb:
                self._append_ws(wb[self._title(wb.sheetnames, tab_key)], tab, records)
                self._audit_ws(wb, list(audit))

    def _fast_audit(self, x: xlsx_append.XlsxFile, lines: list[dict]) -> None:
        title = self._title(x.titles(), "audit", required=False)
        if lines and title:  # a register without an Audit tab simply has no log
            tab = self.schema.tab("audit")
            header = self._xml_header(x, title, tab)
            x.append_rows(title, [record_row(tab, header, r) for r in lines])

    def _audit_ws(self, wb, lines: list[dict]) -> None:
        title = self._title(wb.sheetnames, "audit", required=False)
        if lines and title:
            self._append_ws(wb[title], self.schema.tab("audit"), lines)

    def add_complaints(self, records, *, prefix, user, now) -> list[str]:
        tab = self.schema.tab("complaints")
        with self._guard():
            def fast(x):
                title = self._title(x.titles(), "complaints")
                audit_title = self._title(x.titles(), "audit", required=False)
                parts = [x.sheet_xml(title), x.shared_strings_xml()]
                if audit_title:
                    parts.append(x.sheet_xml(audit_title))
                ids = allocate(prefix, [r["received_at"] for r in records],
                               lambda stem: xlsx_append.used_serials(stem, *parts))
                header = self._xml_header(x, title, tab)
                x.append_rows(title, [record_row(tab, header, {**r, "id": i})
                                      for r, i in zip(records, ids, strict=True)])
                subjects = [r.get("subject") for r in records]
                self._fast_audit(x, created_lines(now, user, ids, subjects,
                                                  tab.header_lang(header)))
                return ids
            done, ids = self._fast(fast)
            if done:
                return ids
            with self._transaction() as wb:
                ws = wb[self._title(wb.sheetnames, "complaints")]
                texts = _column_texts(ws, tab, "id", self._ws_header)
                audit_title = self._title(wb.sheetnames, "audit", required=False)
                if audit_title:
                    texts += _column_texts(wb[audit_title], self.schema.tab("audit"), "id",
                                           self._ws_header)
                ids = allocate(prefix, [r["received_at"] for r in records],
                               lambda stem: serials_in(stem, texts))
                self._append_ws(ws, tab, [{**r, "id": i} for r, i in
                                          zip(records, ids, strict=True)])
                lang = tab.header_lang(self._ws_header(ws, tab)[1])
                subjects = [r.get("subject") for r in records]
                self._audit_ws(wb, created_lines(now, user, ids, subjects, lang))
            return ids

    def update(self, complaint_id, changes, *, seen, user, now) -> UpdatePlan:
        tab = self.schema.tab("complaints")
        with self._guard():
            raw = self._read_tabs(["complaints"]).tabs.get("complaints")
            if raw is None:
                self._title([], "complaints")
            plan = plan_update(tab, raw, complaint_id, changes, seen=seen, user=user, now=now,
                               stamp=now)

            def fast(x):
                x.patch_row(raw.title, plan.row, {c.col + 1: c.value for c in plan.cells})
                self._fast_audit(x, plan.audit)
            if self._fast(fast)[0]:
                return plan
            with self._transaction() as wb:
                ws = wb[self._title(wb.sheetnames, "complaints")]
                for ch in plan.cells:
                    _put(ws.cell(row=ch.row, column=ch.col + 1), ch.value)
                self._audit_ws(wb, plan.audit)
        return plan

    # --- init ----------------------------------------------------------------------------

    def init(self, lang: str) -> list[str]:
        import openpyxl

        done: list[str] = []
        if not self.path.exists():
            self._check_writable()
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with WorkbookLock(self.path):
                wb = openpyxl.Workbook()
                wb.remove(wb.active)
                self._init_tabs(wb, lang, done)
                atomic_save(wb, self.path)
            return done
        with self._guard(), self._transaction() as wb:
            self._init_tabs(wb, lang, done)
        return done

    def _init_tabs(self, wb: openpyxl.Workbook, lang: str, done: list[str]) -> None:
        from openpyxl.utils import get_column_letter
        from openpyxl.worksheet.datavalidation import DataValidation

        for tab in self.schema.tabs:
            title = self.schema.find_tab(wb.sheetnames, tab.key)
            if title is None:
                ws = wb.create_sheet(tab.title(lang))
                done.append(f"added tab {ws.title}")
            else:
                ws = wb[title]
            header_row, header = self._ws_header(ws, tab)
            have = tab.match_headers(header)
            if not have:
                header_row = _header_row_for_new_header(ws, tab)
                header = []
            for col in tab.columns:
                if col.key not in have:
                    pos = len(header) + 1
                    while ws.cell(row=header_row, column=pos).value not in (None, ""):
                        header.append(ws.cell(row=header_row, column=pos).value)
                        pos += 1  # never over a cell that holds something
                    _put(ws.cell(row=header_row, column=pos), col.header(lang))
                    header.append(col.header(lang))
                    have[col.key] = pos - 1
                    if title is not None:
                        done.append(f"added column {col.header(lang)} to {ws.title}")
            freeze = f"A{header_row + 1}"
            if ws.freeze_panes != freeze:
                ws.freeze_panes = freeze
                done.append(f"froze the header row of {ws.title}")
            existing = {str(dv.sqref) for dv in ws.data_validations.dataValidation}
            for col in tab.columns:
                if not col.values or col.values not in self.schema.value_sets:
                    continue
                letter = get_column_letter(have[col.key] + 1)
                sqref = f"{letter}{header_row + 1}:{letter}1048576"
                if sqref in existing:
                    continue
                labels = [c.label(lang) for c in self.schema.value_sets[col.values].choices]
                dv = DataValidation(type="list", formula1='"' + ",".join(labels) + '"',
                                    allow_blank=True, errorStyle="warning",
                                    showErrorMessage=True)
                dv.add(sqref)
                ws.add_data_validation(dv)
                done.append(f"added a dropdown to {ws.title} {col.header(lang)}")


def _header_row_for_new_header(ws, tab: Tab) -> int:
    """Where `init` may write a header into a tab that has none: row 1 of an empty sheet, or
    the empty row under a title. A tab holding rows but no header is refused: `init` never
    writes into a row that holds something."""
    filled = [r for r in range(1, min(ws.max_row, 10) + 1)
              if any(c.value not in (None, "") for c in ws[r])]
    if not filled:
        return 1
    top = filled[-1]
    titles = all(sum(c.value not in (None, "") for c in ws[r]) <= 2 for r in filled)
    if titles and filled == list(range(1, top + 1)) and ws.max_row <= top:
        return top + 1
    first = next(str(c.value) for c in ws[filled[0]] if c.value not in (None, ""))
    raise RegisterError(f"The {tab.en} ({tab.zh}) tab holds rows but no header row init can "
                        f"recognise (row {filled[0]} starts with '{first[:30]}'); put the "
                        f"column names above the data yourself. Nothing was written.")


def _column_texts(ws, tab: Tab, key: str, header_of) -> list[str]:
    header_row, header = header_of(ws, tab)
    col = tab.match_headers(header).get(key)
    if col is None:
        return []
    return [text_of(r[0]) for r in ws.iter_rows(min_row=header_row + 1, min_col=col + 1,
                                                 max_col=col + 1, values_only=True)]


def write_tables(path: str | os.PathLike, tables: list[tuple[str, object]]) -> Path:
    """A workbook of plain tables (one sheet each): numbers as numbers, text as literal text
    (never a formula, a number or a link, whatever it looks like), bold frozen header;
    written atomically like the register. Through XlsxWriter, which writes a new workbook
    in a tenth of openpyxl's time and escapes what Excel would misread (control characters,
    a literal _xHHHH_) itself."""
    import pandas as pd
    import xlsxwriter

    path = Path(path)
    with temporary_beside(path) as tmp:
        wb = xlsxwriter.Workbook(tmp, {"strings_to_numbers": False, "strings_to_formulas": False,
                                       "strings_to_urls": False})
        bold = wb.add_format({"bold": True})
        when = wb.add_format({"num_format": DATETIME_FORMAT})
        used: set[str] = set()  # Excel compares sheet names regardless of case
        for title, df in tables:
            name = "".join(ch for ch in str(title) if ch not in "[]:*?/\\")[:31].strip("'")
            name = name or "Sheet"
            while name.casefold() in used:
                name = name[:28] + f"~{len(used)}"
            used.add(name.casefold())
            ws = wb.add_worksheet(name)
            for c, h in enumerate(df.columns):
                ws.write_string(0, c, clean(str(h))[0], bold)
                ws.set_column(c, c, max(10, min(40, len(str(h)) * 2)))
            for r, row in enumerate(df.itertuples(index=False), start=1):
                for c, v in enumerate(row):
                    if v is None or (not isinstance(v, str) and pd.isna(v)):
                        continue
                    if hasattr(v, "item"):  # numpy scalars → Python numbers
                        v = v.item()
                    if isinstance(v, str):
                        ws.write_string(r, c, clean(v)[0])
                    elif isinstance(v, bool):
                        ws.write_boolean(r, c, v)
                    elif isinstance(v, int | float):
                        ws.write_number(r, c, v)
                    elif isinstance(v, dt.date):
                        if isinstance(v, dt.datetime):
                            v = v.replace(tzinfo=None)
                        ws.write_datetime(r, c, v, when)
                    else:
                        ws.write_string(r, c, clean(str(v))[0])
            ws.freeze_panes(1, 0)
        wb.close()
        replace_atomically(tmp, path)
    return path


__all__ = ["WorkbookLock", "WorkbookStore", "atomic_save", "replace_atomically",
           "temporary_beside", "write_tables"]
