"""Clocks: each row's due time and state for every clock of the policy (R-COUNT, R-STATE,
R-EXTEND), computed for the whole table at once."""

from __future__ import annotations

import datetime as dt
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


def _lengths(spec: ClockSpec, table: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Per-row length and unit: a fixed number, by a column's value, or by a case. A blank
    `by` cell counts as the preset's `blank` value (and is a problem, see clock_problems)."""
    if isinstance(spec.length, dict):
        by = spec.length["by"]
        mapping = {k: float(v) for k, v in spec.length.items() if k not in ("by", "blank")}
        fallback = mapping[spec.length["blank"]]
        length = table[by].map(mapping).fillna(fallback).astype(float)
    else:
        length = pd.Series(float(spec.length), index=table.index)
    unit = pd.Series(spec.unit, index=table.index, dtype=object)
    for case in spec.cases:
        hit = matches(table, case.get("if", {}))
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
    a, b = by_fraction.to_numpy(), by_days.to_numpy()  # the later of the two, NaT skipped
    later = np.where(np.isnat(a), b, np.where(np.isnat(b), a, np.maximum(a, b)))
    return pd.Series(later, index=due.index)


def clock_start(spec: ClockSpec, table: pd.DataFrame) -> pd.Series:
    """When the clock starts for each row, before `when` is applied: the first non-empty
    start milestone (a conditional one only on matching rows), for complaints only (R-KIND);
    a rejected complaint keeps just the clocks that end with the decision or the reply
    telling the complainant (R-ACCEPT)."""
    start = pd.Series(pd.NaT, index=table.index, dtype="datetime64[us]")
    for col in spec.start:
        value = table[col]
        if col in spec.start_if:
            value = value.where(matches(table, spec.start_if[col]))
        start = start.fillna(value)
    applies = table["kind"].eq("complaint") & (
        ~table["accepted"].eq(False).fillna(False).astype(bool)
        | (spec.stop in ("accepted_at", "first_reply_at")))
    return start.where(applies)


def _extension(table: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """The extension's new due time (a date alone means the end of that day) and when it
    was recorded."""
    ext = table["extended_to"]
    ext = ext.where(ext != ext.dt.floor("D"), ext + END_OF_DAY)
    return ext, table["extended_at"]


def clock_frame(spec: ClockSpec, table: pd.DataFrame, policy: Policy, cal: WorkCalendar,
                now: dt.datetime) -> pd.DataFrame:
    """One clock for every row (NaT where it has not started):

    start, original_due, due (after an extension), stop (the milestone recorded), end (the
    stop, else the closing: closing a complaint stops its clocks), state (R-STATE),
    extended (R-EXTEND applied), late_extension (an extension recorded after this clock's
    due time, which cannot rescue it).
    """
    start = clock_start(spec, table)
    if spec.when:
        start = start.where(matches(table, spec.when))
    length, unit = _lengths(spec, table)
    original = due_times(start, length, unit, cal)
    stop = table[spec.stop]
    if spec.stop_also:
        stop = pd.concat([stop, *(table[c] for c in spec.stop_also)], axis=1).min(axis=1)
    end = stop.fillna(table["closed_at"].where(start.notna()))
    # R-EXTEND: an extension applies to the clocks still running when it was recorded; one
    # recorded after a clock's due time leaves that clock as it was. Without `extended_at`
    # it is taken as recorded in time (the row carries a problem asking when).
    ext_to, ext_at = _extension(table)
    # R-EXTEND: an extension needs its reason; without one it moves no clock (a problem)
    offered = (start.notna() & ext_to.notna() & (ext_to > original)
               & ~blank(table["extension_reason"]))
    recorded = ext_at.fillna(original)
    running = (start <= recorded) & (end.isna() | (end > recorded))
    in_time = recorded <= original
    extended = (offered & running & in_time).astype(bool)
    late_ext = (offered & ext_at.notna() & ~in_time & (start <= ext_at)
                & (end.isna() | (end > original))).astype(bool)
    due = original.where(~extended, ext_to)
    soon = due_soon_from(start, due, policy, cal)
    now_ts = pd.Timestamp(now)
    state = np.select(
        [start.isna(), end.notna() & (end <= due), end.notna(), due < now_ts, soon <= now_ts],
        ["", "met", "missed", "overdue", "due_soon"], default="running")
    return pd.DataFrame({"start": start, "due": due, "stop": stop, "end": end, "state": state,
                         "extended": extended, "original_due": original,
                         "late_extension": late_ext}, index=table.index)


def compute_clocks(table: pd.DataFrame, policy: Policy, cal: WorkCalendar,
                   now: dt.datetime) -> dict[str, pd.DataFrame]:
    """Every clock of the policy, by clock id."""
    return {spec.id: clock_frame(spec, table, policy, cal, now) for spec in policy.clocks}


class Clocks(Mapping):
    """Every clock of the policy by clock id, as compute_clocks gives them, each computed
    when it is first read: a report's views of earlier moments (core.rules.asof) read only
    some of them (the year before's figures, a month's scores). Two threads reading the same
    clock at once both compute it, to the same frame."""

    def __init__(self, table: pd.DataFrame, policy: Policy, cal: WorkCalendar,
                 now: dt.datetime):
        self._args = (table, policy, cal, now)
        self._specs = {spec.id: spec for spec in policy.clocks}
        self._frames: dict[str, pd.DataFrame] = {}

    def __getitem__(self, clock_id: str) -> pd.DataFrame:
        frame = self._frames.get(clock_id)
        if frame is None:
            table, policy, cal, now = self._args
            frame = clock_frame(self._specs[clock_id], table, policy, cal, now)
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
    ext_to, ext_at = _extension(table)
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
