"""Register backends behind one interface; the only package that touches gspread or openpyxl."""

from __future__ import annotations

from core.reading.raw import RawBook, RawTab
from core.reading.schema import Schema
from core.store.base import Store


def open_store(schema: Schema, *, workbook: str | None = None, gsheet: str | None = None,
               credentials: dict | None = None) -> Store:
    """The register named by a workbook path or a Google Sheet URL/key."""
    if gsheet:
        from core.store.gsheet import GSheetStore

        return GSheetStore(gsheet, schema, credentials=credentials)
    from core.store.workbook import WorkbookStore

    return WorkbookStore(workbook or "register.xlsx", schema)


__all__ = ["RawBook", "RawTab", "Store", "open_store"]
