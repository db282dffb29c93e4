"""Statistics tables per month or quarter (R-STATS); data only, charts live elsewhere.

Every function here reads the register as of the period's end (core.rules.asof), so a closed
period's figures are the same whenever they are computed. Complaint figures count kind
`complaint` only: suggestions, praise and tip-offs are counted apart or not at all.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd

from core.reading.schema import fold
from core.rules.asof import as_of
from core.rules.period import Period, parse_period
from core.rules.register import Register

BREAKDOWNS = ("category", "channel", "department", "severity", "warning_level")
OK_SATISFACTION = ("satisfied", "very_satisfied")
SATISFACTION_LEVELS = ("very_satisfied", "satisfied", "basically_satisfied", "unsatisfied")


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def complaints(reg: Register) -> pd.Series:
    """Rows of kind `complaint` (R-KIND): asked for by nearly every figure, worked out once
    per register or view."""
    return reg.derived(("complaints",), lambda: reg.table["kind"].eq("complaint"))


def open_at(reg: Register, when: pd.Timestamp) -> pd.Series:
    """Complaints received before `when` and not closed by then."""
    t = reg.table
    return pd.Series(_open_at(reg, when), index=t.index)


def _open_at(reg: Register, when: pd.Timestamp) -> np.ndarray:
    t, moment = reg.table, np.datetime64(pd.Timestamp(when))
    closed = _times(t["closed_at"])
    return (complaints(reg).to_numpy(dtype=bool) & (_times(t["received_at"]) < moment)
            & (np.isnat(closed) | (closed >= moment)))


def _times(s: pd.Series) -> np.ndarray:
    """A column of times as numpy's datetime64 (NaT for none)."""
    return s.to_numpy(dtype="datetime64[us]")


def first_satisfaction(reg: Register) -> pd.Series:
    """Satisfaction at the first callback: kept apart when the complaint was reprocessed."""
    t = reg.table
    return t["first_satisfaction"].where(t["first_satisfaction"].ne(""), t["satisfaction"])


def first_callback(reg: Register) -> pd.Series:
    """When the first callback happened (R-REOPEN): kept apart when the complaint was
    reprocessed, so an unsatisfied first result still counts in its own period while the
    new round runs (its callback cleared) and after it."""
    t = reg.table
    return t["first_callback_at"].fillna(t["callback_at"])


def callback_not_due(reg: Register) -> pd.Series:
    """Rows whose callback clock was still running at the register's moment: a complaint
    resolved just before a period's end is not yet late for its callback."""
    out = pd.Series(False, index=reg.table.index)
    for spec in reg.policy.clocks:
        if spec.stop == "callback_at":
            out |= reg.clocks[spec.id]["state"].isin(("running", "due_soon"))
    return out


def figures(reg: Register, period: Period, on_time: bool = True) -> dict:
    """The headline figures of one period, as of its end. A report asks for the same
    period's figures up to seven times (overview, changes, months, satisfaction, …): they
    are computed once per register and kept on it. Without `on_time` there is no
    "on_time_rate": the clocks that only it reads are not worked out (the year before's
    figures beside a period's, the months of a quarter)."""
    reg = as_of(reg, period.end)
    key = ("figures", period.start, period.end, reg.now)
    if key not in reg.memo:
        reg.memo[key] = _figures(reg, period)
    if not on_time:
        return {k: copy.deepcopy(v) for k, v in reg.memo[key].items() if k != "on_time_rate"}
    rates = reg.derived(("on_time_rate", period.start, period.end), lambda: _on_time(reg, period))
    return {k: dict(rates) if k == "on_time_rate" else copy.deepcopy(v)
            for k, v in reg.memo[key].items()}


def _within(s: pd.Series, period: Period) -> np.ndarray:
    """Which times fall in the period (NaT: none)."""
    times = _times(s)
    return (times >= np.datetime64(period.start)) & (times < np.datetime64(period.end))


def _on_time(reg: Register, period: Period) -> dict[str, float | None]:
    """Each clock's share of those due in the period that were met (R-STATS)."""
    out = {}
    for cid, c in reg.clocks.items():
        state = c["state"]
        due_in = _within(c["due"], period) & state.isin(("met", "missed", "overdue")).to_numpy(
            bool)
        met = due_in & state.eq("met").to_numpy(dtype=bool)
        out[cid] = _ratio(int(met.sum()), int(due_in.sum()))
    return out


def _figures(reg: Register, period: Period) -> dict:
    t, f = reg.table, reg.flags

    def within(s: pd.Series) -> np.ndarray:
        return _within(s, period)

    def text(s: pd.Series) -> np.ndarray:
        return s.to_numpy(dtype=object)

    kind = text(t["kind"])
    is_c = complaints(reg).to_numpy(dtype=bool)
    got = within(t["received_at"])
    gc = got & is_c
    resolved = within(t["resolved_at"]) & is_c
    hours = ((t["resolved_at"] - t["received_at"]) / pd.Timedelta(hours=1))[resolved]
    satisfaction = text(t["satisfaction"])
    rated = within(t["callback_at"]) & is_c & (satisfaction != "")
    first = text(first_satisfaction(reg))
    rated_first = within(first_callback(reg)) & is_c & (first != "")
    group_id = text(f["group_id"])
    groups = pd.Series(group_id[gc & (group_id != "")], dtype=object)
    due_cb = resolved & ~callback_not_due(reg).to_numpy(dtype=bool)
    called_back = int((due_cb & ~np.isnat(_times(t["callback_at"]))).sum())

    def is_ok(levels: np.ndarray) -> np.ndarray:
        return np.logical_or.reduce([levels == level for level in OK_SATISFACTION])

    return {
        "period": period.label,
        "received": int(gc.sum()),
        # R-GROUP: a group complaint is one matter in the statistics, however many rows
        "received_once": int(gc.sum()) - len(groups) + groups.nunique(),
        "suggestions": int((got & (kind == "suggestion")).sum()),
        "praise": int((got & (kind == "praise")).sum()),
        "accepted": int((gc & t["accepted"].eq(True).fillna(False).to_numpy(dtype=bool)).sum()),
        "valid": int((gc & (text(t["validity"]) == "valid")).sum()),
        "closed": int((within(t["closed_at"]) & is_c).sum()),
        "open": int(_open_at(reg, period.end).sum()),
        "carried_over": int(_open_at(reg, period.start).sum()),
        "on_time_rate": None,  # figures() adds it: the clocks are worked out only for it
        "resolve_hours_mean": round(float(hours.mean()), 1) if len(hours) else None,
        "resolve_hours_median": round(float(hours.median()), 1) if len(hours) else None,
        "resolved": int(resolved.sum()),
        "callback_due": int(due_cb.sum()),
        "called_back": called_back,
        "callback_rate": _ratio(called_back, int(due_cb.sum())),
        "callback_target": float(reg.policy.settings["callback_target"]),
        "rated": int(rated.sum()),
        "satisfaction_rate": _ratio(int((rated & is_ok(satisfaction)).sum()), int(rated.sum())),
        "first_satisfaction_rate": _ratio(
            int((rated_first & is_ok(first)).sum()), int(rated_first.sum())),
        # R-REOPEN: complaints reprocessed after an unsatisfied callback
        "reprocessed": int((gc & t["reprocess_count"].fillna(0).gt(0).to_numpy(dtype=bool)).sum()),
        "repeats": int((gc & f["repeat"].to_numpy(dtype=bool)).sum()),
        # R-GROUP: a group is one group, however many of its rows fall in the period
        "groups": int(groups.nunique()),
        "group_rows": len(groups),
        # R-KIND: tip-offs are counted apart, never as complaints
        "tip_offs": int((got & (kind == "tip_off")).sum()),
    }


def breakdown(reg: Register, period: Period, column: str) -> pd.DataFrame:
    """Complaints by one column: received and closed in the period, open at its end (open
    counts everything still open then, whenever it was received)."""
    reg = as_of(reg, period.end)
    t = reg.table
    key = t[column].where(t[column].ne(""), "—")
    is_c = complaints(reg)
    out = pd.DataFrame({
        "received": key[is_c & period.contains(t["received_at"])].value_counts(),
        "closed": key[is_c & period.contains(t["closed_at"])].value_counts(),
        "open": key[open_at(reg, period.end)].value_counts(),
    }).fillna(0).astype(int)
    out.index.name = column
    return out.sort_values(["received", "open"], ascending=False)


def monthly_series(reg: Register, months: int = 15, until: pd.Timestamp | None = None
                   ) -> pd.DataFrame:
    """Received, closed and open at month end, for the last `months` months up to `until`'s
    month, as of that month's end. Counted by binary search over the sorted times: received
    in a month is received before its end less received before its start; open at a month's
    end is received before it less received and closed before it."""
    last = (until or pd.Timestamp(reg.now)).to_period("M")
    view = as_of(reg, (last + 1).start_time)
    t = view.table[complaints(view)]
    received, closed = (t[c].to_numpy("datetime64[us]") for c in ("received_at", "closed_at"))
    both = ~np.isnat(received) & ~np.isnat(closed)
    got, shut, done = (np.sort(a[~np.isnat(a)]) for a in (
        received, closed, np.maximum(received[both], closed[both])))
    periods = pd.period_range(last - months + 1, last, freq="M")
    edges = np.array([p.start_time for p in periods] + [(last + 1).start_time],
                     dtype="datetime64[us]")
    before = {name: np.searchsorted(a, edges, side="left")
              for name, a in (("got", got), ("shut", shut), ("done", done))}
    return pd.DataFrame({"month": [str(p) for p in periods],
                         "received": np.diff(before["got"]).astype(int),
                         "closed": np.diff(before["shut"]).astype(int),
                         "open": (before["got"] - before["done"])[1:].astype(int)})


def satisfaction_table(reg: Register, period: Period) -> pd.DataFrame:
    """Complaints called back in the period by satisfaction level, at the first callback
    and final (R-REOPEN: a reprocessed complaint's first result still counts)."""
    reg = as_of(reg, period.end)
    t = reg.table
    called = complaints(reg) & period.contains(t["callback_at"])
    called_first = complaints(reg) & period.contains(first_callback(reg))
    levels = [*SATISFACTION_LEVELS, ""]
    first = first_satisfaction(reg)[called_first].value_counts()
    final = t.loc[called, "satisfaction"].value_counts()
    return pd.DataFrame({"first": [int(first.get(k, 0)) for k in levels],
                         "final": [int(final.get(k, 0)) for k in levels]},
                        index=pd.Index(levels, name="satisfaction"))


def most_each(codes: np.ndarray, values: np.ndarray, n: int, blanks: bool = False) -> list:
    """For each of `n` groups (`codes` gives each row's group, -1 for none), the value of
    `values` written most often, the one written first of those written as often (as
    `value_counts().index[0]` of each group's values, in one pass over all the groups); ""
    for a group with none. Blank values are counted only with `blanks`; None and NaN never."""
    v = np.asarray(values, dtype=object)
    codes = np.asarray(codes)
    keep = (codes >= 0) & pd.notna(v)
    if not blanks:
        keep &= v != ""
    at = np.flatnonzero(keep)
    out: list = [""] * n
    if not len(at):
        return out
    value_code, distinct = pd.factorize(v[at])
    width = len(distinct)
    pairs, first, count = np.unique(codes[at].astype(np.int64) * width + value_code,
                                    return_index=True, return_counts=True)
    group = pairs // width
    # each group's pairs, the most written first, then the one written first
    order = np.lexsort((first, -count, group))
    lead = order[np.r_[True, group[order][1:] != group[order][:-1]]]
    for g, k in zip(group[lead].tolist(), (pairs[lead] % width).tolist(), strict=True):
        out[g] = distinct[k]
    return out


def top_issues(reg: Register, period: Period, n: int = 10) -> pd.DataFrame:
    """The most frequent matters of the complaints received in the period: rows of one
    group complaint are one matter (R-GROUP), other rows are matched by their subject."""
    reg = as_of(reg, period.end)
    t = reg.table
    sel = (complaints(reg) & period.contains(t["received_at"])).to_numpy(dtype=bool)
    if not sel.any():
        return pd.DataFrame(columns=["subject", "category", "count", "group"])
    at = np.flatnonzero(sel)
    at = at[np.argsort(_times(t["received_at"])[at], kind="stable")]  # NaT: none here
    gid = reg.flags["group_id"].to_numpy(dtype=object)[at]
    grouped = gid != ""
    subject = t["subject"].to_numpy(dtype=object)[at]
    matter = np.where(grouped, gid, "s:" + fold(pd.Series(subject, dtype=object)).to_numpy(
        dtype=object))
    codes, _ = pd.factorize(matter)  # the matters in the order they first came in
    k = int(codes.max()) + 1
    out = pd.DataFrame({
        "subject": most_each(codes, subject, k, blanks=True),
        "category": most_each(codes, t["category"].to_numpy(dtype=object)[at], k, blanks=True),
        "count": np.bincount(codes, minlength=k),
        "group": np.bincount(codes, weights=grouped, minlength=k) > 0})
    return out.sort_values("count", ascending=False, kind="stable").head(n).reset_index(drop=True)


def statistics(reg: Register, period_text: str) -> dict:
    """Everything a review meeting expects for one period, with comparisons."""
    period = parse_period(period_text)
    return {
        "period": period.label,
        "figures": figures(reg, period),
        "previous": figures(reg, period.previous()),
        "year_before": figures(reg, period.year_before()),
        "breakdowns": {c: breakdown(reg, period, c) for c in BREAKDOWNS},
    }


def not_called_back(reg: Register, period: Period) -> list[str]:
    """Complaints resolved in the period and due for a callback by its end, with none by
    then (the target is every one)."""
    reg = as_of(reg, period.end)
    t = reg.table
    sel = (complaints(reg) & period.contains(t["resolved_at"]) & t["callback_at"].isna()
           & ~callback_not_due(reg))
    return list(t.loc[sel].sort_values("resolved_at", kind="stable")["id"])
