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
from core.rules.stats import _open_at, _times, complaints, most_each, open_at


def _grouped(sub: pd.DataFrame, text: str, by: list[str]) -> pd.DataFrame:
    """Rows grouped by their folded `text` (and `by`): the text as most often written, its
    count, and the distinct values of the other columns."""
    if sub.empty:
        return pd.DataFrame(columns=[*by, text, "count"])
    sub = sub[[*by, text]].assign(_key=fold(sub[text]))
    grouped = sub.groupby([*by, "_key"], sort=False)
    out = grouped.size().rename("count").reset_index()
    out.insert(len(by), text, most_each(grouped.ngroup().to_numpy(), sub[text], len(out)))
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
    sub = resolved_valid(reg, period)[["root_cause", "category", "department"]]
    sub = sub[sub["root_cause"].ne("")]
    out = _grouped(sub, "root_cause", [])
    rows: dict[str, list[int]] = {}  # each cause's rows, in order
    for i, k in enumerate(fold(sub["root_cause"]).tolist()):
        rows.setdefault(k, []).append(i)
    causes = fold(out["root_cause"]).tolist()

    def distinct(col: str) -> list[tuple]:
        values = sub[col].tolist()
        return [tuple(dict.fromkeys(values[i] for i in rows.get(k, ()) if values[i]))
                for k in causes]
    return out.assign(category=distinct("category"), department=distinct("department"))


def actions_taken(reg: Register, period: Period) -> pd.DataFrame:
    """Corrective and preventive actions recorded on the period's resolved valid complaints,
    by department."""
    sub = resolved_valid(reg, period)[["department", "corrective_action"]]
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
    is_c = complaints(view).to_numpy(dtype=bool)
    hot = (is_c & view.flags["trend"].to_numpy(dtype=bool)
           & window.contains(t["received_at"]).to_numpy(dtype=bool))
    month = _times(t["received_at"]).astype("datetime64[M]").astype(str)  # "2026-11"
    category = t["category"].to_numpy(dtype=object)
    counted = is_c & (category != "")
    threshold = int(view.policy.settings["trend_threshold"])
    h = np.flatnonzero(hot)
    # the raised proposals: one per category and month, in that order (as a groupby sorts)
    raised = list(zip(category[h].tolist(), month[h].tolist(), strict=True))
    keys = sorted(set(raised))
    where = {key: i for i, key in enumerate(keys)}
    codes = np.array([where[key] for key in raised], dtype=np.int64)
    size = np.bincount(codes, minlength=len(keys))
    still = np.bincount(codes, weights=_open_at(view, period.end)[h], minlength=len(keys))
    department = most_each(codes, t["department"].to_numpy(dtype=object)[h], len(keys))
    category_code, categories = pd.factorize(category)
    month_code, months = pd.factorize(month)
    category_of = {c: i for i, c in enumerate(categories)}
    month_of = {m: i for i, m in enumerate(months)}
    rows = []
    for i, (cat, m) in enumerate(keys):
        nxt = pd.Period(m, "M") + 1
        known = nxt.end_time < pd.Timestamp(view.now)
        later = (int((counted & (category_code == category_of[cat])
                      & (month_code == month_of.get(str(nxt), -1))).sum()) if known else None)
        rows.append({"category": cat, "month": m, "count": int(size[i]),
                     "department": department[i],
                     "next_count": later, "below": None if later is None else later <= threshold,
                     "closed": int(size[i] - still[i]), "open": int(still[i])})
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
    t, gid = view.table, view.flags["group_id"].to_numpy(dtype=object)
    is_c = complaints(view).to_numpy(dtype=bool)
    cols = ["group", "subject", "respondent", "rows", "complainants", "first", "last", "open"]
    ids = pd.unique(gid[is_c & period.contains(t["received_at"]).to_numpy(dtype=bool)
                        & (gid != "")])
    at = np.flatnonzero(pd.Series(gid).isin(ids).to_numpy() & is_c)
    if not len(at):
        return pd.DataFrame(columns=cols)
    received = _times(t["received_at"])
    # the groups' rows in the order they came in (none without a time here: R-GROUP)
    at = at[np.argsort(received[at], kind="stable")]
    codes, _ = pd.factorize(gid[at])  # the groups in the order they first came in
    k = int(codes.max()) + 1
    lead = np.unique(codes, return_index=True)[1]
    sub = t.iloc[at]
    who = (fold(sub["complainant"]) + "\x1f" + fold(sub["contact"])).to_numpy(dtype=object)
    people = np.unique(codes.astype(np.int64) * len(at) + pd.factorize(who)[0])
    when = received[at]
    last = np.full(k, np.iinfo(np.int64).min)  # NaT's integer: below every time
    np.maximum.at(last, codes, when.astype(np.int64))
    out = pd.DataFrame({
        "group": sub["id"].iloc[lead].reset_index(drop=True),  # the column's own type
        "subject": most_each(codes, sub["subject"].to_numpy(dtype=object), k),
        "respondent": most_each(codes, sub["respondent"].to_numpy(dtype=object), k),
        "rows": np.bincount(codes, minlength=k),
        "complainants": np.bincount(people // len(at), minlength=k),
        "first": when[lead], "last": last.astype(when.dtype),
        "open": np.bincount(codes, weights=_open_at(view, period.end)[at], minlength=k
                            ).astype(int)})
    return out[cols]


def suggestions_and_praise(reg: Register, period: Period) -> pd.DataFrame:
    """Suggestions and praise received in the period (R-KIND), oldest first."""
    view = as_of(reg, period.end)
    t = view.table
    sel = t["kind"].isin(("suggestion", "praise")) & period.contains(t["received_at"])
    return t.loc[sel, ["id", "kind", "subject", "respondent", "department", "received_at"]
                 ].sort_values("received_at", kind="stable")
