"""Clocks: each row's due time and state for every clock of the policy (R-COUNT, R-STATE,
R-EXTEND), computed for the whole table at once."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator, Mapping

import numpy as np
import pandas as pd

from core.reading.schema import Schema
from core.reading.validate import Problem
from core.rules.calendar import WorkCalendar
from core.rules.policy import ClockSpec, Policy

STATES = ("met", "missed", "running", "due_soon", "overdue")
END_OF_DAY = pd.Timedelta(hours=23, minutes=59, seconds=59)


def matches(table: pd.DataFrame, cond: dict) -> pd.Series:
    """Rows whose every named column holds one of the given values (a condition in a preset)."""
    hit = pd.Series(True, index=table.index)
    for col, want in cond.items():
        values = want if isinstance(want, list | tuple) else [want]
        hit &= table[col].isin(values).fillna(False).astype(bool)
    return hit


def blank(values: pd.Series) -> pd.Series:
    """Empty cells of a typed column (text "", enum "", bool/number/date NA)."""
    if values.dtype == object:
        return values.isna() | values.eq("")
    return values.isna()


NAT = np.datetime64("NaT", "us")
EOD = END_OF_DAY.to_timedelta64().astype("timedelta64[us]")


def _times(values: pd.Series) -> np.ndarray:
    """A date-time column as datetime64[us] values (the typed table's own, not copied)."""
    return values.to_numpy("datetime64[us]")


def _midnight(t: np.ndarray) -> np.ndarray:
    return t.astype("datetime64[D]").astype("datetime64[us]")


def _lengths(spec: ClockSpec, table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per-row length and unit: a fixed number, by a column's value, or by a case. A blank
    `by` cell counts as the preset's `blank` value (and is a problem, see clock_problems)."""
    if isinstance(spec.length, dict):
        by = spec.length["by"]
        mapping = {k: float(v) for k, v in spec.length.items() if k not in ("by", "blank")}
        fallback = mapping[spec.length["blank"]]
        length = table[by].map(mapping).fillna(fallback).to_numpy(float)
    else:
        length = np.full(len(table), float(spec.length))
    unit = np.full(len(table), spec.unit, dtype=object)
    for case in spec.cases:
        hit = matches(table, case.get("if", {})).to_numpy()
        if "length" in case:
            length = np.where(hit, float(case["length"]), length)
        if "unit" in case:
            unit = np.where(hit, case["unit"], unit)
    return length, unit


def due_times(start: np.ndarray, length: np.ndarray, unit: np.ndarray,
              cal: WorkCalendar) -> np.ndarray:
    """Due time of each clock from its start, counted as R-COUNT says."""
    due = np.full(len(start), NAT)
    started = ~np.isnat(start)
    day = start.astype("datetime64[D]")
    for u in ("hours", "same_day", "days", "working_days"):
        m = started & (unit == u)
        if not m.any():
            continue
        s, n, d = start[m], length[m], day[m]
        if u == "hours":
            hours = pd.to_timedelta(n, unit="h").to_numpy()
            due[m] = (s.astype("datetime64[ns]") + hours).astype("datetime64[us]")
        elif u == "same_day":
            due[m] = d.astype("datetime64[us]") + EOD
        elif u == "days":  # start day not counted; a last day off rolls to the next working day
            last = d + np.round(n).astype(np.int64).astype("timedelta64[D]")
            rolled = np.where(n > 0, cal.roll_forward(last), last)
            due[m] = rolled.astype("datetime64[us]") + EOD
        else:  # working days after the start day
            n_int = np.round(n).astype(np.int64)
            last = cal.add_working_days(d, n_int)
            last = np.where(n_int > 0, last, d)
            due[m] = last.astype("datetime64[us]") + EOD
    return due


def due_soon_from(start: np.ndarray, due: np.ndarray, policy: Policy,
                  cal: WorkCalendar) -> np.ndarray:
    """When a running clock becomes due soon: the shorter of the two windows of R-STATE."""
    frac = float(policy.settings["due_soon_fraction"])
    span = (due - start).astype(np.int64)  # microseconds; NaT spans are masked below
    # the fraction of the span cut to the microsecond toward zero, as pandas multiplies
    by_fraction = due - (span * frac).astype(np.int64).astype("timedelta64[us]")
    by_fraction[np.isnat(due) | np.isnat(start)] = NAT
    n = int(policy.settings["due_soon_working_days"])
    ok = ~np.isnat(due)
    by_days = np.full(len(due), NAT)
    if ok.any() and n > 0:
        days = due[ok].astype("datetime64[D]")
        for _ in range(n):
            days = cal.previous_working_day(days)
        by_days[ok] = days.astype("datetime64[us]") + (due[ok] - _midnight(due[ok]))
    a, b = by_fraction, by_days  # the later of the two, NaT skipped
    return np.where(np.isnat(a), b, np.where(np.isnat(b), a, np.maximum(a, b)))


class _Shared:
    """What every clock of one table reads the same way, worked out once for all of them
    (each when first asked for)."""

    def __init__(self, table: pd.DataFrame):
        self.table = table

    @functools.cached_property
    def closed(self) -> np.ndarray:
        return _times(self.table["closed_at"])

    @functools.cached_property
    def kinds(self) -> tuple[np.ndarray, np.ndarray]:
        """(a complaint, rejected) per row."""
        t = self.table
        return (t["kind"].to_numpy() == "complaint",
                t["accepted"].eq(False).fillna(False).to_numpy(bool))

    @functools.cached_property
    def extension(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(extended to, recorded at, with its reason) per row."""
        ext_to, ext_at = _extension(self.table)
        return ext_to, ext_at, ~blank(self.table["extension_reason"]).to_numpy()


def _start(spec: ClockSpec, table: pd.DataFrame, shared: _Shared | None = None) -> np.ndarray:
    shared = shared or _Shared(table)
    start = np.full(len(table), NAT)
    for col in spec.start:
        value = _times(table[col])
        if col in spec.start_if:
            value = np.where(matches(table, spec.start_if[col]).to_numpy(), value, NAT)
        start = np.where(np.isnat(start), value, start)
    complaint, rejected = shared.kinds
    applies = complaint & (~rejected | (spec.stop in ("accepted_at", "first_reply_at")))
    return np.where(applies, start, NAT)


def clock_start(spec: ClockSpec, table: pd.DataFrame) -> pd.Series:
    """When the clock starts for each row, before `when` is applied: the first non-empty
    start milestone (a conditional one only on matching rows), for complaints only (R-KIND);
    a rejected complaint keeps just the clocks that end with the decision or the reply
    telling the complainant (R-ACCEPT)."""
    return pd.Series(_start(spec, table), index=table.index)


def _extension(table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The extension's new due time (a date alone means the end of that day) and when it
    was recorded."""
    ext = _times(table["extended_to"])
    ext = np.where(ext == _midnight(ext), ext + EOD, ext)
    return ext, _times(table["extended_at"])


def clock_frame(spec: ClockSpec, table: pd.DataFrame, policy: Policy, cal: WorkCalendar,
                now: dt.datetime, shared: _Shared | None = None) -> pd.DataFrame:
    """One clock for every row (NaT where it has not started):

    start, original_due, due (after an extension), stop (the milestone recorded), end (the
    stop, else the closing: closing a complaint stops its clocks), state (R-STATE),
    extended (R-EXTEND applied), late_extension (an extension recorded after this clock's
    due time, which cannot rescue it). Computed on the columns' arrays (numpy), row by row.
    """
    shared = shared or _Shared(table)
    start = _start(spec, table, shared)
    if spec.when:
        start = np.where(matches(table, spec.when).to_numpy(), start, NAT)
    started = ~np.isnat(start)
    length, unit = _lengths(spec, table)
    original = due_times(start, length, unit, cal)
    stop = _times(table[spec.stop])
    for col in spec.stop_also:  # the earliest of them
        other = _times(table[col])
        stop = np.where(np.isnat(stop) | (other < stop), other, stop)
    end = np.where(np.isnat(stop), np.where(started, shared.closed, NAT), stop)
    open_ = np.isnat(end)
    # R-EXTEND: an extension applies to the clocks still running when it was recorded; one
    # recorded after a clock's due time leaves that clock as it was. Without `extended_at`
    # it is taken as recorded in time (the row carries a problem asking when).
    ext_to, ext_at, with_reason = shared.extension
    # R-EXTEND: an extension needs its reason; without one it moves no clock (a problem)
    offered = started & (ext_to > original) & with_reason
    recorded = np.where(np.isnat(ext_at), original, ext_at)
    running = (start <= recorded) & (open_ | (end > recorded))
    in_time = recorded <= original
    extended = offered & running & in_time
    late_ext = offered & ~np.isnat(ext_at) & ~in_time & (start <= ext_at) & (
        open_ | (end > original))
    due = np.where(extended, ext_to, original)
    soon = due_soon_from(start, due, policy, cal)
    now_us = np.datetime64(pd.Timestamp(now).to_datetime64(), "us")
    state = np.select(
        [~started, ~open_ & (end <= due), ~open_, due < now_us, soon <= now_us],
        ["", "met", "missed", "overdue", "due_soon"], default="running")
    return pd.DataFrame({"start": start, "due": due, "stop": stop, "end": end, "state": state,
                         "extended": extended, "original_due": original,
                         "late_extension": late_ext}, index=table.index)


def compute_clocks(table: pd.DataFrame, policy: Policy, cal: WorkCalendar,
                   now: dt.datetime) -> dict[str, pd.DataFrame]:
    """Every clock of the policy, by clock id."""
    shared = _Shared(table)
    return {spec.id: clock_frame(spec, table, policy, cal, now, shared)
            for spec in policy.clocks}


class Clocks(Mapping):
    """Every clock of the policy by clock id, as compute_clocks gives them, each computed
    when it is first read: a report's views of earlier moments (core.rules.asof) read only
    some of them (the year before's figures, a month's scores). Two threads reading the same
    clock at once both compute it, to the same frame."""

    def __init__(self, table: pd.DataFrame, policy: Policy, cal: WorkCalendar,
                 now: dt.datetime):
        self._args = (table, policy, cal, now, _Shared(table))
        self._specs = {spec.id: spec for spec in policy.clocks}
        self._frames: dict[str, pd.DataFrame] = {}

    def __getitem__(self, clock_id: str) -> pd.DataFrame:
        frame = self._frames.get(clock_id)
        if frame is None:
            table, policy, cal, now, shared = self._args
            frame = clock_frame(self._specs[clock_id], table, policy, cal, now, shared)
            self._frames[clock_id] = frame
        return frame

    def __contains__(self, clock_id: object) -> bool:
        return clock_id in self._specs

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)


def _fmt(t) -> str:
    return pd.Timestamp(t).strftime("%Y-%m-%d %H:%M")


def clock_problems(table: pd.DataFrame, policy: Policy, clocks: dict[str, pd.DataFrame],
                   schema: Schema) -> list[Problem]:
    """Problems the clocks find on rows: R-EXTEND's reason, date and recording time; an
    extension too late to rescue a clock; a column a clock needs left blank; a clock left
    without its stop on a closed complaint (closing stopped it, the record is missing)."""
    out: list[Problem] = []
    seen: set[tuple[int, str]] = set()

    def add(mask: pd.Series, column: str, code: str, params=None) -> None:
        for r in table.index[mask.to_numpy()]:
            if (int(r), column) not in seen:
                seen.add((int(r), column))
                out.append(Problem(int(r), column, code, params(r) if params else {}))

    complaint = table["kind"].eq("complaint")
    ext_to, ext_at = (pd.Series(v, index=table.index) for v in _extension(table))
    add(complaint & ext_to.notna() & blank(table["extension_reason"]), "extension_reason",
        "extension_without_reason")
    add(complaint & ext_to.notna() & ext_at.isna(), "extended_at", "extension_when")
    add(complaint & ext_to.isna() & (ext_at.notna() | ~blank(table["extension_reason"])),
        "extended_to", "extension_without_date")
    closed = table["closed_at"]
    not_invalid = table["validity"].ne("invalid")
    for spec in policy.clocks:
        c = clocks[spec.id]
        name = {"clock_zh": spec.zh, "clock_en": spec.en}
        add(c["late_extension"], "extended_at", "extension_too_late",
            lambda r, c=c, name=name: {**name, "due": _fmt(c.at[r, "original_due"]),
                                       "recorded": _fmt(ext_at[r])})
        started = clock_start(spec, table).notna()
        for col in spec.needed:
            empty = started & blank(table[col])
            vs = schema.value_sets.get(schema.tab("complaints").column(col).values or "")
            if isinstance(spec.length, dict) and spec.length["by"] == col and vs is not None:
                key = spec.length["blank"]
                add(empty, col, "clock_needs_assumed", lambda r, vs=vs, key=key, name=name: {
                    **name, "assumed_zh": vs.label(key, "zh"), "assumed_en": vs.label(key, "en")})
            else:
                add(empty, col, "clock_needs", lambda r, name=name: name)
        add(c["start"].notna() & c["stop"].isna() & closed.notna() & not_invalid, spec.stop,
            "closed_without_stop", lambda r, name=name: {**name, "closed": _fmt(closed[r])})
    return out
