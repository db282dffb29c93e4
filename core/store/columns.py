"""Read a workbook's tabs as Arrow columns with fastexcel, no Python object per cell.

The Complaints tab of a large register is most of what `check` waits for. python-calamine's
`to_python` makes a Python object of every cell; fastexcel reads the same file (calamine
underneath) straight into Arrow arrays, as text: a date cell as `2026-11-24 09:30:00`, a
number as `12.5`, TRUE as `true`. Every column is read as text on purpose: a header or
title row makes each column mixed anyway, and fastexcel's type guess from a sample of
rows silently drops cells that do not fit it. Typing then works on whole arrays
(core.reading.parse), the same way for dates typed as text and for native dates.

fastexcel's range starts at the first row and column holding a value, so the sheet's row
number of each row (for messages) and its column (for writes) are found by reading the
start of the sheet's XML.
"""

from __future__ import annotations

import logging
import re
import zipfile

import pyarrow as pa

from core.store import xlsx_append

# fastexcel logs a warning for every mixed column ("falling back to string"): expected here.
logging.getLogger("fastexcel").setLevel(logging.ERROR)
logging.getLogger("fastexcel.types.dtype").setLevel(logging.ERROR)

_ROW = re.compile(rb'<row\b[^>]*?\br="(\d+)"[^>]*?(?:/>|>(.*?)</row>)', re.S)
_VALUED_CELL = re.compile(rb'<c\b[^>]*?\br="([A-Z]+)\d+"[^>]*?>(?:(?!</c>).)*?<(?:v|is)\b', re.S)
_CHUNK = 1 << 16
HEADER_ROWS = 10  # core.reading.schema.HEADER_SEARCH_ROWS


class NotSupported(Exception):
    """The fast read cannot place this sheet's cells exactly; read it the other way."""


def _read_errors() -> tuple[type[BaseException], ...]:
    import fastexcel

    return (NotSupported, fastexcel.FastExcelError, zipfile.BadZipFile, KeyError, EOFError,
            OSError, ValueError, xlsx_append.Unsupported)


READ_ERRORS = _read_errors()


def first_valued_cell(z: zipfile.ZipFile, part: str) -> tuple[int, int] | None:
    """(sheet row number, 0-based column) of the first cell holding a value in the first
    row that holds one; None for a sheet with no value. Reads only the start of the XML."""
    buf = b""
    with z.open(part) as f:
        while True:
            chunk = f.read(_CHUNK)
            buf += chunk
            pos = 0
            for m in _ROW.finditer(buf):
                pos = m.end()
                body = m[2]
                if not body:
                    continue
                cells = [xlsx_append.column_index_from_string(c[1].decode()) - 1 for c in _VALUED_CELL.finditer(body)]
                if cells:
                    return int(m[1]), min(cells)
                if b"<c" in body and b"<v" in body and b' r="' not in body:
                    raise NotSupported("cells without references")
            if not chunk:
                if b"<row" in buf and not _ROW.search(buf):
                    raise NotSupported("rows without numbers")
                return None
            buf = buf[pos:] if pos else buf


class ColumnReader:
    """One open workbook; `sheet(title)` gives (first sheet row, columns) of a tab, each
    column an Arrow array positioned as the sheet's columns (column A = index 0)."""

    def __init__(self, path: str):
        import fastexcel

        self.path = path
        self.reader = fastexcel.read_excel(path)
        self.titles = list(self.reader.sheet_names)
        with xlsx_append.XlsxFile(path) as x:
            self.parts = dict(x.parts)
        self._cache: dict[str, tuple[int, int, list[pa.Array]]] = {}

    def start(self, title: str) -> tuple[int, int] | None:
        part = self.parts.get(title)
        if part is None:
            raise NotSupported(f"no XML part for {title}")
        with zipfile.ZipFile(self.path) as z:
            return first_valued_cell(z, part)

    def sheet(self, title: str) -> tuple[int, list[pa.Array]]:
        """The tab's cells from its first row holding a value: (that row's number, columns
        with the sheet's column A at index 0). Rows between keep their place (an empty row
        is nulls)."""
        first_row, pad, cols = self.cached(title)
        return first_row, [pa.nulls(len(cols[0]))] * pad + cols if cols else []

    def small_sheet(self, title: str, tab) -> tuple[int, list[list[object]]]:
        """A small tab as Python values, typed per column as fastexcel finds it reading every
        row below the header (dates as datetimes, numbers as floats, mixed as text):
        (the header's sheet row, [header, *rows])."""
        first_row, pad, cols = self._read(title)
        if not cols:
            return 1, []
        top = [[None] * pad + list(r) for r in zip(
            *(c.slice(0, HEADER_ROWS).to_pylist() for c in cols), strict=True)]
        h = tab.find_header(top)
        body = self.reader.load_sheet(title, header_row=None, skip_rows=h + 1,
                                      schema_sample_rows=None).to_arrow()
        # An empty cell is "" as python-calamine gives it.
        rows = [[""] * pad + ["" if v is None else v for v in r]
                for r in zip(*(c.to_pylist() for c in body.columns), strict=True)]
        return first_row + h, [["" if v is None else v for v in top[h]], *rows]

    def cached(self, title: str) -> tuple[int, int, list[pa.Array]]:
        """`_read(title)`, kept: a reader started early (core.store.prefetch) hands it over."""
        if title not in self._cache:
            self._cache[title] = self._read(title)
        return self._cache[title]

    def _read(self, title: str) -> tuple[int, int, list[pa.Array]]:
        """(first sheet row holding a value, empty columns left of the range, columns)."""
        where = self.start(title)
        if where is None:
            return 1, 0, []
        first_row, first_col = where
        table = self.reader.load_sheet(title, header_row=None, dtypes="string").to_arrow()
        if table.num_rows == 0:
            return first_row, 0, []
        cols = [c.combine_chunks() if isinstance(c, pa.ChunkedArray) else c
                for c in table.columns]
        # The range's first column is the leftmost value anywhere in the sheet: find it from
        # where the first valued row's first value sits in the columns fastexcel returned.
        lead = next((j for j, c in enumerate(cols) if c[0].is_valid), None)
        if lead is None or lead > first_col:
            raise NotSupported("the first row read is not the first row holding a value")
        return first_row, first_col - lead, cols
