"""The working-day calendar: the official PRC schedule (chinesecalendar, with make-up
working days) overlaid by the register's Holidays tab (R-CAL)."""

from __future__ import annotations

import datetime as dt
from functools import cache

import chinese_calendar
import numpy as np

#: the years the official schedule covers (chinese_calendar.is_workday raises outside them)
OFFICIAL_YEARS = (min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year)


def _official(day: dt.date) -> bool | None:
    """Whether the official schedule makes `day` a working day; None if it has no data.
    chinese_calendar.is_workday's rule, without its search for the years it covers on
    every call (a calendar asks about some 4,000 days)."""
    if not OFFICIAL_YEARS[0] <= day.year <= OFFICIAL_YEARS[1]:
        return None
    return day in chinese_calendar.workdays or (day.weekday() <= 4
                                                and day not in chinese_calendar.holidays)


@cache
def _official_span(first: dt.date, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The official schedule of `n` days from `first` as (working, known) arrays, looked up
    once per process (a day at a time it was a tenth of a second of every register build).
    Callers copy before changing them."""
    work = np.zeros(n, dtype=bool)
    known = np.zeros(n, dtype=bool)
    for i in range(n):
        official = _official(first + dt.timedelta(days=i))
        if official is not None:
            work[i], known[i] = official, True
    return work, known


class WorkCalendar:
    """Working days over a span of years, as arrays so deadlines compute for a whole table.

    A year the official data does not cover stays `uncovered` (a warning wherever its dates
    are used) until it is in `complete`: the team has entered that year's whole schedule in
    the Holidays tab. A few Holidays rows do not make a year known (R-CAL).
    """

    def __init__(self, overrides: dict[dt.date, bool] | None = None,
                 first_year: int = 2020, last_year: int = 2030,
                 complete: frozenset[int] | set[int] = frozenset()):
        self.overrides = dict(overrides or {})
        years = [d.year for d in self.overrides]
        self.first = dt.date(min([first_year, *years]), 1, 1)
        self.last = dt.date(max([last_year, *years]), 12, 31)
        n = (self.last - self.first).days + 1
        self.days = np.arange(np.datetime64(self.first), np.datetime64(self.last) + 1)
        official, known = _official_span(self.first, n)
        work = official.copy()
        self.uncovered: set[int] = set()
        for i in np.flatnonzero(~known).tolist():  # no official data: Monday to Friday
            day = self.first + dt.timedelta(days=i)
            if day.year not in complete:
                self.uncovered.add(day.year)
            work[i] = day.weekday() < 5
        for day, value in self.overrides.items():
            i = (day - self.first).days if type(day) is dt.date else -1
            if 0 <= i < n:
                work[i] = value
        self.work = work
        self.cum = np.cumsum(work)

    def covers(self, days: np.ndarray) -> bool:
        return bool(len(days) == 0 or (days.min() >= self.days[0] and days.max() <= self.days[-1]))

    def is_workday(self, day: dt.date) -> bool:
        return bool(self.work[(np.datetime64(day) - self.days[0]).astype(int)])

    def _index(self, days: np.ndarray) -> np.ndarray:
        idx = (days.astype("datetime64[D]") - self.days[0]).astype(np.int64)
        if len(idx) and (idx.min() < 0 or idx.max() >= len(self.days) - 60):
            raise ValueError("date outside the calendar's span")
        return idx

    def add_working_days(self, days: np.ndarray, n: np.ndarray) -> np.ndarray:
        """The n-th working day after each day (the day itself is not counted; R-COUNT)."""
        idx = self._index(days)
        target = self.cum[idx] + n
        return self.days[np.searchsorted(self.cum, target, side="left")]

    def roll_forward(self, days: np.ndarray) -> np.ndarray:
        """Each day, or the first working day after it when it is a holiday or rest day."""
        idx = self._index(days)
        before = self.cum[idx] - self.work[idx]
        return self.days[np.searchsorted(self.cum, before + 1, side="left")]

    def previous_working_day(self, days: np.ndarray) -> np.ndarray:
        """The last working day strictly before each day."""
        idx = self._index(days)
        before = self.cum[idx] - self.work[idx]
        return self.days[np.searchsorted(self.cum, np.maximum(before, 1), side="left")]

    def uncovered_years(self, days: np.ndarray) -> list[int]:
        """Years among `days` that neither the official data nor the Holidays tab covers."""
        if len(days) == 0 or not self.uncovered:
            return []
        years = set(np.unique(days.astype("datetime64[Y]").astype(int) + 1970).tolist())
        return sorted(years & self.uncovered)


def calendar_for(overrides: dict[dt.date, bool], years: list[int],
                 complete: frozenset[int] | set[int] = frozenset()) -> WorkCalendar:
    """A calendar spanning `years` with a margin for deadlines that run into the next year."""
    lo = min(years, default=dt.date.today().year)
    hi = max(years, default=dt.date.today().year)
    return WorkCalendar(overrides, first_year=lo - 1, last_year=hi + 2, complete=complete)


def draft_holidays(year: int) -> list[tuple[dt.date, bool, str, str]]:
    """A draft of `year`'s rows for the Holidays tab, as (date, is_workday, name in Chinese,
    name in English): the statutory festivals the `holidays` package knows, and the make-up
    working days once it knows the State Council's notice. Only a draft: the notice decides."""
    import holidays

    zh = holidays.China(years=year, language="zh_CN")
    en = holidays.China(years=year, language="en_US")
    rows = [(d, False, zh[d], en.get(d, zh[d])) for d in sorted(zh) if d.year == year]
    rows += [(d, True, "调休上班", "make-up working day")
             for d in sorted(zh.weekend_workdays) if d.year == year]
    return sorted(rows)
