"""Clocks: each row's due time and state for every clock of the policy (R-COUNT, R-STATE,
R-EXTEND), computed for the whole table at once."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from core.calendar import WorkCalendar
from core.policy import ClockSpec, Policy

STATES = ("met", "missed", "running", "due_soon", "overdue")
END_OF_DAY = pd.Timedelta(hours=23, minutes=59, seconds=59)


def _lengths(spec: ClockSpec, table: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Per-row length and unit: a fixed number, by a column's value, or by a case."""
    if isinstance(spec.length, dict):
        by = spec.length["by"]
        mapping = {k: float(v) for k, v in spec.length.items() if k not in ("by", "default")}
        length = table[by].map(mapping).fillna(float(spec.length["default"])).astype(float)
    else:
        length = pd.Series(float(spec.length), index=table.index)
    unit = pd.Series(spec.unit, index=table.index, dtype=object)
    for case in spec.cases:
        hit = pd.Series(True, index=table.index)
        for col, want in case.get("if", {}).items():
            hit &= table[col].eq(want).fillna(False).astype(bool)
        if "length" in case:
            length = length.where(~hit, float(case["length"]))
        if "unit" in case:
            unit = unit.where(~hit, case["unit"])
    return length, unit


def due_times(start: pd.Series, length: pd.Series, unit: pd.Series,
              cal: WorkCalendar) -> pd.Series:
    """Due time of each clock from its start, counted as R-COUNT says."""
    due = pd.Series(pd.NaT, index=start.index, dtype="datetime64[us]")
    started = start.notna()
    day = start.dt.floor("D")
    for u in ("hours", "same_day", "days", "working_days"):
        m = started & unit.eq(u)
        if not m.any():
            continue
        s, n, d = start[m], length[m], day[m]
        if u == "hours":
            due[m] = s + pd.to_timedelta(n, unit="h")
        elif u == "same_day":
            due[m] = d + END_OF_DAY
        elif u == "days":  # start day not counted; a last day off rolls to the next working day
            last = (d + pd.to_timedelta(n.round(), unit="D")).to_numpy("datetime64[D]")
            rolled = np.where(n.to_numpy() > 0, cal.roll_forward(last), last)
            due[m] = pd.to_datetime(rolled) + END_OF_DAY
        else:  # working days after the start day
            n_int = n.round().astype(np.int64).to_numpy()
            last = cal.add_working_days(d.to_numpy("datetime64[D]"), n_int)
            last = np.where(n_int > 0, last, d.to_numpy("datetime64[D]"))
            due[m] = pd.to_datetime(last) + END_OF_DAY
    return due


def due_soon_from(start: pd.Series, due: pd.Series, policy: Policy,
                  cal: WorkCalendar) -> pd.Series:
    """When a running clock becomes due soon: the shorter of the two windows of R-STATE."""
    frac = float(policy.settings["due_soon_fraction"])
    by_fraction = due - (due - start) * frac
    n = int(policy.settings["due_soon_working_days"])
    ok = due.notna()
    by_days = pd.Series(pd.NaT, index=due.index, dtype="datetime64[us]")
    if ok.any() and n > 0:
        days = due[ok].dt.floor("D").to_numpy("datetime64[D]")
        for _ in range(n):
            days = cal.previous_working_day(days)
        by_days[ok] = pd.to_datetime(days) + (due[ok] - due[ok].dt.floor("D")).to_numpy()
    return pd.concat([by_fraction, by_days], axis=1).max(axis=1)


def clock_frame(spec: ClockSpec, table: pd.DataFrame, policy: Policy, cal: WorkCalendar,
                now: dt.datetime) -> pd.DataFrame:
    """One clock for every row: start, due, stop, state, extended (NaN where not started)."""
    start = table[spec.start[0]]
    for alt in spec.start[1:]:
        start = start.fillna(table[alt])
    # Deadlines bind complaints only (R-KIND); a rejected complaint keeps just the clocks that
    # end with the decision or the reply telling the complainant (R-ACCEPT).
    applies = table["kind"].eq("complaint") & (
        ~table["accepted"].eq(False).fillna(False).astype(bool)
        | (spec.stop in ("accepted_at", "first_reply_at")))
    start = start.where(applies)
    length, unit = _lengths(spec, table)
    due = due_times(start, length, unit, cal)
    extended = pd.Series(False, index=table.index)
    if spec.id == "resolution" and "extended_to" in table:
        ext = table["extended_to"]
        # A date without a time means that whole day (R-COUNT's end of the last day).
        ext = ext.where(ext != ext.dt.floor("D"), ext + END_OF_DAY)
        extended = start.notna() & ext.notna()
        due = due.where(~extended, ext)
    stop = table[spec.stop]
    soon = due_soon_from(start, due, policy, cal)
    now_ts = pd.Timestamp(now)
    state = np.select(
        [start.isna(), stop.notna() & (stop <= due), stop.notna(),
         due < now_ts, soon <= now_ts],
        ["", "met", "missed", "overdue", "due_soon"], default="running")
    return pd.DataFrame({"start": start, "due": due, "stop": stop, "state": state,
                         "extended": extended, "original_due": due_times(
                             start, length, unit, cal) if extended.any() else due},
                        index=table.index)


def compute_clocks(table: pd.DataFrame, policy: Policy, cal: WorkCalendar,
                   now: dt.datetime) -> dict[str, pd.DataFrame]:
    """Every clock of the policy, by clock id."""
    return {spec.id: clock_frame(spec, table, policy, cal, now) for spec in policy.clocks}
