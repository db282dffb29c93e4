"""The register as a backend returned it, before typing: each tab's header and data rows
(or Arrow columns), with the sheet row numbers that problems are reported by."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.reading.schema import Tab


class RawTab:
    """One tab as the backend returned it: the header row and the data rows below it.

    `header_row` is the sheet's own row number of the header (1 unless title rows sit above
    it); the data row `rows[i]` is sheet row `header_row + 1 + i`.

    A large tab may come as `columns` instead (Arrow arrays, one per sheet column, the data
    rows only): typing reads them whole, and `rows` is made from them only if asked for.
    """

    def __init__(self, title: str, header: list[object], rows: list[list[object]] | None = None,
                 header_row: int = 1, *, columns: list | None = None):
        self.title = title
        self.header = header
        self.header_row = header_row
        self.columns = columns
        self._rows = rows if rows is not None or columns is not None else []

    @property
    def rows(self) -> list[list[object]]:
        if self._rows is None:
            cols = [c.to_pylist() for c in self.columns or []]
            self._rows = [list(r) for r in zip(*cols, strict=True)] if cols else []
        return self._rows

    @property
    def height(self) -> int:
        if self._rows is None:
            return len(self.columns[0]) if self.columns else 0
        return len(self._rows)

    def __repr__(self) -> str:
        return f"RawTab({self.title!r}, {len(self.header)} columns, {self.height} rows)"

    @classmethod
    def from_cells(cls, title: str, cells: list[list[object]], tab: Tab) -> RawTab:
        """Split a tab's cells into its header (found below any title rows) and data rows."""
        if not cells:
            return cls(title, [], [], 1)
        h = tab.find_header(cells)
        return cls(title, list(cells[h]), [list(r) for r in cells[h + 1:]], h + 1)

    @classmethod
    def from_columns(cls, title: str, first_row: int, columns: list, tab: Tab) -> RawTab:
        """A tab read as columns starting at sheet row `first_row`: the header is found among
        the first rows, and the columns keep the rows below it."""
        if not columns or len(columns[0]) == 0:
            return cls(title, [], [], 1)
        top = [c.slice(0, 10).to_pylist() for c in columns]
        cells = [list(r) for r in zip(*top, strict=True)]
        h = tab.find_header(cells)
        return cls(title, cells[h], None, first_row + h,
                   columns=[c.slice(h + 1) for c in columns])

    def sheet_row(self, i: int) -> int:
        """The sheet row number of data row `i` (0-based)."""
        return self.header_row + 1 + i

    def column_map(self, tab: Tab) -> dict[str, int]:
        return tab.match_headers(self.header)


@dataclass
class RawBook:
    """Every tab the schema knows that the register holds, by tab key."""

    tabs: dict[str, RawTab]
    titles: list[str] = field(default_factory=list)
