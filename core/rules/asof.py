"""The register as it stood at a moment (R-STATS "figures as of the period's end").

A period's report is computed from this view of its end, so it is the same report whenever
it is produced: rows received after the moment are left out, milestones recorded after it
count as not yet happened (with the values recorded with them), and clocks and flags are
evaluated at that moment.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading

import numpy as np
import pandas as pd

from core.rules.deadlines import Clocks
from core.rules.flags import compute_flags, group_ids
from core.rules.register import Register

#: values recorded together with a milestone: unknown until that milestone happened
RECORDED_WITH = {
    "accepted_at": ("accepted", "reject_reason"),
    "first_reply_at": ("reply_written",),
    "dept_reply_at": ("plan_agreed",),
    "callback_at": ("satisfaction",),
    "extended_at": ("extended_to", "extension_reason", "extension_agreed"),
    "closed_at": ("archived",),
    # R-REOPEN: a reprocessing comes after the first callback
    "first_callback_at": ("first_satisfaction", "reprocess_count"),
}
#: date-time columns that are not events: the row's own receipt and a committed future date
NOT_EVENTS = ("received_at", "extended_to")
KEEP_VIEWS = 8
_LOCK = threading.Lock()


def _events(reg: Register) -> list[str]:
    return [c.key for c in reg.tab.columns
            if c.type == "datetime" and not c.bookkeeping and c.key not in NOT_EVENTS]


def _blanked(s: pd.Series, later: np.ndarray) -> np.ndarray | pd.Series:
    """`s` with the rows `later` blank: no time, no text, no value (on the column's array
    when it is a plain numpy one)."""
    values = s.to_numpy() if isinstance(s.dtype, np.dtype) else None
    if values is not None and values.dtype.kind == "M":
        return np.where(later, np.datetime64("NaT"), values)
    if values is not None and values.dtype == object:  # kept object (not inferred as str)
        return pd.Series(np.where(later, "", values), index=s.index, dtype=object)
    return s.mask(later, pd.NA)


def _cut(reg: Register, when: pd.Timestamp) -> pd.DataFrame:
    t = reg.table
    table = t[t["received_at"] < when]  # a new frame (copy-on-write: t is never changed)
    moment = np.datetime64(when.to_datetime64())
    for col in _events(reg):
        later = table[col].to_numpy() >= moment  # NaT: False
        if not later.any():
            continue
        table[col] = _blanked(table[col], later)
        for dep in RECORDED_WITH.get(col, ()):
            table[dep] = _blanked(table[dep], later)
    # R-REOPEN: a complaint reprocessed after its first callback, whose new round had not
    # been called back by then, stood at its first result (so a closed period's figures do
    # not change when a complaint of it is reprocessed later).
    back = table["callback_at"].isna() & table["first_callback_at"].notna()
    if back.any():
        table.loc[back, "callback_at"] = table.loc[back, "first_callback_at"]
        table.loc[back, "satisfaction"] = table.loc[back, "first_satisfaction"]
    # … and stood resolved at its first resolution
    back = table["resolved_at"].isna() & table["first_resolved_at"].notna()
    if back.any():
        table.loc[back, "resolved_at"] = table.loc[back, "first_resolved_at"]
    return table


def _flags(reg: Register, table: pd.DataFrame, when: pd.Timestamp) -> pd.DataFrame:
    """The flags of the rows received before `when`, as they were then.

    Later rows change them only through a trend month cut in the middle (then everything
    is recomputed) and through group complaints whose rows straddle the moment: fewer rows
    never make a group, so only those groups' earlier rows are grouped again.
    """
    if when != when.to_period("M").start_time:
        return compute_flags(table, reg.policy)
    flags = reg.flags.loc[table.index].copy()
    gid = reg.flags["group_id"]
    later = set(gid[gid.ne("") & ~gid.index.isin(table.index)])
    redo = flags.index[flags["group_id"].isin(later)]
    if len(redo):
        again = group_ids(table.loc[redo], reg.policy)
        flags.loc[redo, "group_id"] = again
        flags.loc[redo, "group"] = again.ne("")
    return flags


def as_of(reg: Register, when: pd.Timestamp | dt.datetime) -> Register:
    """The register as it stood at min(`when`, reg.now): the one view every period figure,
    list and score of a report is computed from. Views are kept on the register, so a
    report asking for the same moment twice computes it once."""
    when = period_moment(reg, when)
    if when >= pd.Timestamp(reg.now):
        return reg
    views = reg.views
    if when in views:
        return views[when]
    table = _cut(reg, when)
    now = when.to_pydatetime()
    view = dataclasses.replace(
        reg, table=table, now=now, flags=_flags(reg, table, when),
        clocks=Clocks(table, reg.policy, reg.calendar, now),  # each when first read
        problems=[p for p in reg.problems if p.row in table.index],
        memo={})  # columns derived from the whole table are not this view's
    with _LOCK:  # pages share one register between sessions
        while len(views) >= KEEP_VIEWS:
            views.pop(next(iter(views)))
        views[when] = view
    return view


def period_moment(reg: Register, end: pd.Timestamp) -> pd.Timestamp:
    """The moment a period's figures are taken: its end, or now while it is still running."""
    return min(pd.Timestamp(end), pd.Timestamp(reg.now))


def moment_text(when: pd.Timestamp) -> str:
    """A moment as a report prints it; midnight is the end of the day before (24:00)."""
    if when == when.normalize():
        return f"{when - pd.Timedelta(days=1):%Y-%m-%d} 24:00"
    return f"{when:%Y-%m-%d %H:%M}"
