"""The work queue: open complaints by their nearest due clock, with counts for the top."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.reading.i18n import label
from core.reading.schema import norm
from core.rules.access import Who
from core.rules.closure import open_rows, tip_offs
from core.rules.flow import next_steps
from core.rules.register import Register

LIVE = ("overdue", "due_soon", "running")
#: the state of an open complaint none of whose clocks is running (e.g. an unsatisfied
#: callback waiting to be reprocessed): it still has its next step and owner (R-FLOW)
NO_CLOCK = "no_clock"
#: the queue's states, most urgent first
STATES = (*LIVE[:2], LIVE[2], NO_CLOCK)
QUEUE_COLUMNS = ("id", "subject", "department", "handler", "first_receiver", "severity",
                 "warning_level", "category", "channel", "received_at")


def queue_frame(reg: Register) -> pd.DataFrame:
    """One line per open complaint: its nearest live clock, due time and state, and its next
    step and owner (R-FLOW). Computed once per register."""
    return reg.derived(("queue",), lambda: _queue_frame(reg))


def _queue_frame(reg: Register) -> pd.DataFrame:
    rows = open_rows(reg)
    out = reg.table.loc[rows, list(QUEUE_COLUMNS)].copy()
    out = out.join(next_steps(reg))
    ids = list(reg.clocks)
    if ids:
        # each row's live clocks (overdue, due soon, running) side by side; the nearest due
        at = reg.table.index.get_indexer(rows)
        frames = [reg.clocks[cid] for cid in ids]
        due = np.column_stack([c["due"].to_numpy("datetime64[us]")[at] for c in frames])
        state = np.column_stack([c["state"].to_numpy(dtype=object)[at] for c in frames])
        live = np.isin(state, LIVE) & ~np.isnat(due)
        ticks = np.where(live, due.astype(np.int64), np.iinfo(np.int64).max)
        has = live.any(axis=1)
        pick = np.where(has, ticks.argmin(axis=1), 0)
        line = np.arange(len(rows))
        clock = np.where(has, np.array(ids, dtype=object)[pick], "")
        nearest = np.where(has, due[line, pick], np.datetime64("NaT"))
        state = np.where(has, state[line, pick], "")
    else:
        clock = state = np.full(len(rows), "", dtype=object)
        nearest = np.full(len(rows), np.datetime64("NaT"), dtype="datetime64[us]")
    # text, as pandas takes a column of strings (an empty queue's too)
    out["clock"] = pd.array(clock, dtype="str")
    out["due"] = nearest
    out["state"] = pd.array(state, dtype="str")
    out["state"] = out["state"].mask(out["state"].eq(""), NO_CLOCK)
    now = pd.Timestamp(reg.now)
    # R-STATE as a number: days left until due (negative: days overdue); none without a clock
    out["days_left"] = (out["due"] - now) / pd.Timedelta(days=1)
    out["age_days"] = (now - out["received_at"]) / pd.Timedelta(days=1)
    out.insert(0, "row", rows)
    # Most urgent first: the nearest due (the most overdue leads), then the rows without a
    # running clock, oldest first.
    return out.sort_values(["due", "received_at", "row"], na_position="last")


def queue_counts(queue: pd.DataFrame, now) -> dict[str, int]:
    """The figures above the queue. `overdue` is the state the statistics' overdue list and
    carried-over count use (the same `queue_frame`, as of their period's end)."""
    today_end = pd.Timestamp(now).normalize() + pd.Timedelta(days=1)
    return {"open": len(queue),
            "overdue": int(queue["state"].eq("overdue").sum()),
            "due_today": int((queue["state"].ne("overdue") & (queue["due"] < today_end)).sum()),
            "due_soon": int(queue["state"].eq("due_soon").sum()),
            "no_clock": int(queue["state"].eq(NO_CLOCK).sum())}


def _named(col: pd.Series, names) -> pd.Series:
    wanted = {norm(n) for n in names if n}
    return col.fillna("").astype(str).map(norm).isin(wanted)


def mine(queue: pd.DataFrame, who: Who) -> pd.Series:
    """Rows this person owns (R-FLOW owner) or handles, or first received (R-FIRSTASK)."""
    return (_named(queue["owner"], who.names) | _named(queue["handler"], who.names)
            | _named(queue["first_receiver"], who.names))


def my_department(queue: pd.DataFrame, who: Who) -> pd.Series:
    """Rows of this person's department (none when the Users tab gives them none)."""
    if not who.department:
        return pd.Series(False, index=queue.index)
    return _named(queue["department"], [who.department])


def search(queue: pd.DataFrame, text: str) -> pd.Series:
    """Rows whose number, subject, department, handler or owner contains `text` (any case
    and width)."""
    needle = norm(text)
    if not needle:
        return pd.Series(True, index=queue.index)
    hay = queue[["id", "subject", "department", "handler", "owner"]].fillna("").astype(str)
    return hay.apply(lambda c: c.map(norm).str.contains(needle, regex=False)).any(axis=1)


def filter_queue(queue: pd.DataFrame, filters: dict[str, list]) -> pd.DataFrame:
    """Rows whose every filtered column is one of the chosen values (empty: no filter)."""
    keep = pd.Series(True, index=queue.index)
    for col, chosen in filters.items():
        if chosen:
            keep &= queue[col].isin(chosen)
    return queue[keep]


def remaining(days: float, lang: str) -> str:
    """Days left until due, or overdue, in words ("逾期 3 天", "剩 5 小时"); blank without a
    running clock. Under a day it is counted in hours (the hour clocks of R-SEVERITY)."""
    if days is None or pd.isna(days):
        return ""
    over = days < 0
    d = abs(float(days))
    if d < 1:
        return label("hours_overdue" if over else "hours_left", lang, n=int(d * 24))
    return label("days_overdue" if over else "days_left", lang, n=int(d))


#: what the tip-offs list shows (R-KIND: listed apart; its reporter for supervisors only)
TIP_OFF_COLUMNS = ("id", "received_at", "complainant", "contact", "respondent", "subject",
                   "department", "handler", "closed_at")


def tip_off_frame(reg: Register, rows: pd.Index) -> pd.DataFrame:
    """The tip-offs (举报) among `rows` (those the person may open), newest first, open ones
    before closed ones: they have no complaint clocks, so the queue does not hold them."""
    keep = tip_offs(reg).intersection(rows)
    out = reg.table.loc[keep, list(TIP_OFF_COLUMNS)]
    return out.sort_values(["closed_at", "received_at"], ascending=[True, False],
                           na_position="first")
