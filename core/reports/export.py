"""Exports people open in Excel: text that looks like a formula is neutralised."""

from __future__ import annotations

import csv
import io
import os
import re

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?\d+(\.\d+)?%?")  # a plain number is never a formula


def neutralise(value: object) -> object:
    """Prefix text that a spreadsheet would run as a formula with an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not NUMBER.fullmatch(value):
        return "'" + value
    return value


def _cell(value: object) -> object:
    """A cell as pandas' to_csv writes it: blank for nothing, text neutralised."""
    if value is None or (not isinstance(value, str) and pd.api.types.is_scalar(value)
                         and pd.isna(value)):  # None, NaN, NaT, pd.NA
        return ""
    return neutralise(value)


def safe_csv(df: pd.DataFrame) -> bytes:
    """A table of text as shown (Section.display) as CSV in UTF-8 with a BOM (so Excel
    shows Chinese), formula-looking text neutralised: the bytes pandas' to_csv(index=False)
    gives such a table, written row by row by the csv module (pandas' fixed cost per call
    was most of a statistics page's CSVs: about 3 ms each)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=os.linesep)
    writer.writerow([_cell(c) for c in df.columns])
    writer.writerows([_cell(v) for v in row] for row in df.itertuples(index=False, name=None))
    return out.getvalue().encode("utf-8-sig")
