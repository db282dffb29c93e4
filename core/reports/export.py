"""Exports people open in Excel: text that looks like a formula is neutralised."""

from __future__ import annotations

import re

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?\d+(\.\d+)?%?")  # a plain number is never a formula


def neutralise(value: object) -> object:
    """Prefix text that a spreadsheet would run as a formula with an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not NUMBER.fullmatch(value):
        return "'" + value
    return value


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object:
            out[c] = out[c].map(neutralise)
    out.columns = [neutralise(c) for c in out.columns]
    return out


def safe_csv(df: pd.DataFrame) -> bytes:
    """CSV in UTF-8 with a BOM (so Excel shows Chinese), formula-looking text neutralised."""
    return safe_frame(df).to_csv(index=False).encode("utf-8-sig")
