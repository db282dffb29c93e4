"""What the monthly analysis and improvement report analyses (R-STATS, R-TREND, R-REPEAT,
R-GROUP): causes, corrective actions, improvement proposals and what became of them,
repeat and group complaints — data only, as of the period's end (core.rules.asof)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.reading.schema import fold
from core.rules.asof import as_of
from core.rules.period import Period, make_period
from core.rules.register import Register
from core.rules.stats import complaints, open_at


def _most(s: pd.Series) -> str:
    s = s[s.ne("")]
    return s.value_counts().index[0] if len(s) else ""


def _most_each(codes: np.ndarray, values: pd.Series, n: int) -> list[str]:
    """For each of `n` groups (`codes` gives each row's), the value of `values` written
    most often, not counting blanks, the one written first of those written as often; ""
    for a group with none. One pass over all the groups (a _most per group was a
    value_counts each)."""
    v = values.to_numpy(dtype=object)
    keep = pd.notna(v) & (v != "")
    at = np.flatnonzero(keep)
    counted = (pd.DataFrame({"g": codes[at], "v": v[at], "at": at})
               .groupby(["g", "v"], sort=False).agg(n=("at", "size"), first=("at", "min"))
               .reset_index()
               .sort_values(["g", "n", "first"], ascending=[True, False, True], kind="stable")
               .drop_duplicates("g"))
    out = [""] * n
    for g, value in zip(counted["g"].tolist(), counted["v"].tolist(), strict=True):
        out[g] = value
    return out


def _grouped(sub: pd.DataFrame, text: str, by: list[str]) -> pd.DataFrame:
    """Rows grouped by their folded `text` (and `by`): the text as most often written, its
    count, and the distinct values of the other columns."""
    if sub.empty:
        return pd.DataFrame(columns=[*by, text, "count"])
    sub = sub.assign(_key=fold(sub[text]))
    grouped = sub.groupby([*by, "_key"], sort=False)
    out = grouped.size().rename("count").reset_index()
    out.insert(len(by), text, _most_each(grouped.ngroup().to_numpy(), sub[text], len(out)))
    return out.drop(columns="_key").sort_values("count", ascending=False, kind="stable")


def resolved_valid(reg: Register, period: Period) -> pd.DataFrame:
    """Valid complaints whose handling was completed in the period (their causes are known):
    worked out once per view and period (the causes and actions sections ask eight times;
    callers only read it)."""
    reg = as_of(reg, period.end)

    def make() -> pd.DataFrame:
        t = reg.table
        sel = complaints(reg) & period.contains(t["resolved_at"]) & t["validity"].eq("valid")
        return t[sel].sort_values("resolved_at", kind="stable")
    return reg.derived(("resolved_valid", period.start, period.end), make)


def main_causes(reg: Register, period: Period) -> pd.DataFrame:
    """Recorded root causes of the period's resolved valid complaints, grouped, with the
    categories and departments they came from."""
    sub = resolved_valid(reg, period)
    sub = sub[sub["root_cause"].ne("")]
    out = _grouped(sub, "root_cause", [])
    key = fold(sub["root_cause"])
    distinct = lambda col: [tuple(dict.fromkeys(v for v in sub.loc[key.eq(k), col] if v))  # noqa: E731
                            for k in fold(out["root_cause"])]
    return out.assign(category=distinct("category"), department=distinct("department"))


def actions_taken(reg: Register, period: Period) -> pd.DataFrame:
    """Corrective and preventive actions recorded on the period's resolved valid complaints,
    by department."""
    sub = resolved_valid(reg, period)
    return _grouped(sub[sub["corrective_action"].ne("")], "corrective_action", ["department"])


def missing(reg: Register, period: Period, column: str) -> list[str]:
    """Numbers of the period's resolved valid complaints with `column` not recorded."""
    sub = resolved_valid(reg, period)
    return list(sub.loc[sub[column].eq(""), "id"])


def proposals(reg: Register, period: Period) -> pd.DataFrame:
    """Improvement proposals (R-TREND) raised in the month before the period and in each of
    its months, and what became of them: the category's count the next month (None while
    that month has not ended), and how many of its complaints were closed or open at the
    period's end."""
    view = as_of(reg, period.end)
    t = view.table
    first = make_period(period.start, 1).previous()
    window = make_period(first.start, period.months + 1)
    hot = complaints(view) & view.flags["trend"] & window.contains(t["received_at"])
    month = t["received_at"].dt.to_period("M").astype(str)
    counts = (t.loc[complaints(view) & t["category"].ne("")]
              .assign(month=month).groupby(["category", "month"]).size())
    threshold = int(view.policy.settings["trend_threshold"])
    still_open = open_at(view, period.end)
    rows = []
    raised = pd.DataFrame({"category": t["category"], "month": month,
                           "department": t["department"], "open": still_open})[hot]
    for (cat, m), g in raised.groupby(["category", "month"]):
        nxt = pd.Period(m, "M") + 1
        known = nxt.end_time < pd.Timestamp(view.now)
        later = int(counts.get((cat, str(nxt)), 0)) if known else None
        still = int(g["open"].sum())
        rows.append({"category": cat, "month": m, "count": len(g),
                     "department": _most(g["department"]),
                     "next_count": later, "below": None if later is None else later <= threshold,
                     "closed": len(g) - still, "open": still})
    cols = ["category", "month", "count", "department", "next_count", "below", "closed", "open"]
    out = pd.DataFrame(rows, columns=cols, dtype=object).astype(
        {"count": int, "closed": int, "open": int})
    return out.sort_values(["month", "count"], ascending=[True, False],
                           kind="stable").reset_index(drop=True)


def repeat_list(reg: Register, period: Period) -> pd.DataFrame:
    """Repeat complaints (R-REPEAT) received in the period, with their parent and state."""
    view = as_of(reg, period.end)
    t = view.table
    sel = complaints(view) & period.contains(t["received_at"]) & view.flags["repeat"]
    out = t.loc[sel, ["id", "parent_id", "subject", "department", "received_at"]].copy()
    out["open"] = open_at(view, period.end)[sel]
    return out.sort_values("received_at", kind="stable")


def group_list(reg: Register, period: Period) -> pd.DataFrame:
    """Group complaints (R-GROUP) with a row received in the period, one line per group:
    its matter, respondent, rows, distinct complainants and rows still open at the end."""
    view = as_of(reg, period.end)
    t, gid = view.table, view.flags["group_id"]
    ids = gid[complaints(view) & period.contains(t["received_at"]) & gid.ne("")].unique()
    cols = ["group", "subject", "respondent", "rows", "complainants", "first", "last", "open"]
    sub = t[gid.isin(ids) & complaints(view)].sort_values("received_at", kind="stable")
    if sub.empty:
        return pd.DataFrame(columns=cols)
    sub = sub.assign(_g=gid, _open=open_at(view, period.end),
                     _who=fold(sub["complainant"]) + "\x1f" + fold(sub["contact"]))
    grouped = sub.groupby("_g", sort=False)
    out = grouped.agg(
        group=("id", "first"), rows=("id", "size"), complainants=("_who", "nunique"),
        first=("received_at", "min"), last=("received_at", "max"), open=("_open", "sum"))
    codes = grouped.ngroup().to_numpy()
    out["subject"] = _most_each(codes, sub["subject"], len(out))
    out["respondent"] = _most_each(codes, sub["respondent"], len(out))
    return out.reset_index(drop=True).astype({"open": int})[cols]


def suggestions_and_praise(reg: Register, period: Period) -> pd.DataFrame:
    """Suggestions and praise received in the period (R-KIND), oldest first."""
    view = as_of(reg, period.end)
    t = view.table
    sel = t["kind"].isin(("suggestion", "praise")) & period.contains(t["received_at"])
    return t.loc[sel, ["id", "kind", "subject", "respondent", "department", "received_at"]
                 ].sort_values("received_at", kind="stable")
