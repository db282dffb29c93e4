"""Statistics tables per month or quarter (R-STATS); data only, charts live elsewhere."""

from __future__ import annotations

import pandas as pd

from core.period import Period, parse_period
from core.register import Register

BREAKDOWNS = ("category", "channel", "department", "severity", "warning_level")
OK_SATISFACTION = ("satisfied", "very_satisfied")


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def figures(reg: Register, period: Period) -> dict:
    """The headline figures of one period."""
    t = reg.table
    got = period.contains(t["received_at"])
    complaints = t["kind"].eq("complaint")
    closed = t["closed_at"]
    start, end = period.start, period.end
    open_at = lambda when: (t["received_at"] < when) & (closed.isna() | (closed >= when))  # noqa: E731
    resolved = period.contains(t["resolved_at"]) & complaints
    hours = ((t["resolved_at"] - t["received_at"]) / pd.Timedelta(hours=1))[resolved]
    callbacks = period.contains(t["callback_at"]) & complaints
    rated = callbacks & t["satisfaction"].ne("")
    # R-REOPEN: the first callback's result still counts after a reprocessing.
    first = t["first_satisfaction"].where(t["first_satisfaction"].ne(""), t["satisfaction"])
    first_rated = got & complaints & first.ne("")
    group = reg.flags["group_id"].where(got & complaints, "")
    on_time = {}
    for cid, c in reg.clocks.items():
        due_in = period.contains(c["due"]) & c["state"].isin(("met", "missed", "overdue"))
        on_time[cid] = _ratio(int((due_in & c["state"].eq("met")).sum()), int(due_in.sum()))
    return {
        "period": period.label,
        "received": int((got & complaints).sum()),
        "suggestions": int((got & t["kind"].eq("suggestion")).sum()),
        "praise": int((got & t["kind"].eq("praise")).sum()),
        "accepted": int((got & complaints & t["accepted"].eq(True).fillna(False)).sum()),
        "valid": int((got & complaints & t["validity"].eq("valid")).sum()),
        "closed": int((period.contains(closed) & complaints).sum()),
        "open": int((open_at(end) & complaints).sum()),
        "carried_over": int((open_at(start) & complaints).sum()),
        "on_time_rate": on_time,
        "resolve_hours_mean": round(float(hours.mean()), 1) if len(hours) else None,
        "resolve_hours_median": round(float(hours.median()), 1) if len(hours) else None,
        "callback_rate": _ratio(int((resolved & t["callback_at"].notna()).sum()),
                                int(resolved.sum())),
        "satisfaction_rate": _ratio(int((rated & t["satisfaction"].isin(OK_SATISFACTION)).sum()),
                                    int(rated.sum())),
        "first_satisfaction_rate": _ratio(int((first_rated & first.isin(OK_SATISFACTION)).sum()),
                                          int(first_rated.sum())),
        "reprocessed": int((got & complaints & t["reprocess_count"].fillna(0).gt(0)).sum()),
        "repeats": int((got & complaints & reg.flags["repeat"]).sum()),
        # R-GROUP: a group is one group, however many of its rows fall in the period
        "groups": int(group[group.ne("")].nunique()),
        "group_rows": int(group.ne("").sum()),
        # R-KIND: tip-offs are counted apart, never as complaints
        "tip_offs": int((got & t["kind"].eq("tip_off")).sum()),
    }


def breakdown(reg: Register, period: Period, column: str) -> pd.DataFrame:
    """Complaints received in the period by one column: received, closed and open."""
    t = reg.table
    sel = period.contains(t["received_at"]) & t["kind"].eq("complaint")
    sub = t[sel]
    key = sub[column].where(sub[column].ne(""), "—")
    out = pd.DataFrame({
        "received": key.value_counts(),
        "closed": key[sub["closed_at"].notna() & (sub["closed_at"] < period.end)].value_counts(),
    }).fillna(0).astype(int)
    out["open"] = out["received"] - out["closed"]
    out.index.name = column
    return out.sort_values(["received", "open"], ascending=False)


def monthly_series(reg: Register, months: int = 15, until: pd.Timestamp | None = None
                   ) -> pd.DataFrame:
    """Received, closed and open at month end, for the last `months` months."""
    last = (until or pd.Timestamp(reg.now)).to_period("M")
    rows = []
    for p in pd.period_range(last - months + 1, last, freq="M"):
        per = parse_period(str(p))
        f = figures(reg, per)
        rows.append({"month": str(p), "received": f["received"], "closed": f["closed"],
                     "open": f["open"]})
    return pd.DataFrame(rows)


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
