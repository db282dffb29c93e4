"""Register backends behind one interface; the only package that touches gspread or openpyxl."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.reading.raw import RawBook, RawTab
    from core.reading.schema import Schema
    from core.store.base import Store

# Nothing is imported here: `python -m core` starts reading the register (core.store.prefetch)
# before it imports pandas, and importing a module of this package runs this file first.


def __getattr__(name: str):
    if name in ("RawBook", "RawTab"):
        from core.reading import raw

        return getattr(raw, name)
    if name == "Store":
        from core.store.base import Store

        return Store
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def open_store(schema: Schema, *, workbook: str | None = None, gsheet: str | None = None,
               credentials: dict | None = None) -> Store:
    """The register named by a workbook path or a Google Sheet URL/key."""
    if gsheet:
        from core.store.gsheet import GSheetStore

        return GSheetStore(gsheet, schema, credentials=credentials)
    from core.store.workbook import WorkbookStore

    return WorkbookStore(workbook or "register.xlsx", schema)


__all__ = ["RawBook", "RawTab", "Store", "open_store"]
