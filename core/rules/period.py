"""Review periods: a month (2026-10) or a quarter (2026-Q3)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from core.errors import RegisterError


@dataclass(frozen=True)
class Period:
    start: pd.Timestamp
    end: pd.Timestamp  # exclusive
    label: str
    months: int

    def shift(self, n: int) -> Period:
        start = self.start + pd.DateOffset(months=n * self.months)
        return make_period(start, self.months)

    def previous(self) -> Period:
        return self.shift(-1)

    def year_before(self) -> Period:
        return make_period(self.start - pd.DateOffset(years=1), self.months)

    def contains(self, t: pd.Series) -> pd.Series:
        return (t >= self.start) & (t < self.end)


def make_period(start: pd.Timestamp, months: int) -> Period:
    end = start + pd.DateOffset(months=months)
    label = (f"{start.year}-{start.month:02d}" if months == 1
             else f"{start.year}-Q{(start.month - 1) // 3 + 1}")
    return Period(start, end, label, months)


def parse_period(text: str) -> Period:
    """'2026-10' → October 2026; '2026-Q3' → July–September 2026."""
    s = text.strip().upper()
    if m := re.fullmatch(r"(\d{4})-(\d{1,2})", s):
        y, mo = int(m[1]), int(m[2])
        if 1 <= mo <= 12:
            return make_period(pd.Timestamp(y, mo, 1), 1)
    if m := re.fullmatch(r"(\d{4})-?Q([1-4])", s):
        return make_period(pd.Timestamp(int(m[1]), 3 * int(m[2]) - 2, 1), 3)
    raise RegisterError(f"'{text}' is not a period; write a month as 2026-10 or a quarter as "
                        f"2026-Q3.")
