"""Sections of the analysis and improvement report and of the quarterly summary (R-STATS):
sentences a meeting reads, each with the table behind it. Data from core.reports.analysis and
core.rules.stats, as of the period's end."""

from __future__ import annotations

import pandas as pd

from core.reading.i18n import label
from core.reports import analysis as an
from core.reports.sections import (
    Section,
    _date,
    _fmt,
    _ids,
    _value_label,
    kinds_text,
    months_of,
)
from core.rules.period import Period
from core.rules.register import Register
from core.rules.stats import breakdown, figures, not_called_back, satisfaction_table, top_issues

SIDE_BY_SIDE = ("received", "received_once", "accepted", "valid", "closed", "open",
                "carried_over", "repeats", "groups", "suggestions", "praise", "callback_rate",
                "first_satisfaction_rate", "satisfaction_rate")
COMPARED = ("received", "closed", "open", "repeats", "groups", "callback_rate",
            "satisfaction_rate")
RATES = {"callback_rate", "callback_target", "first_satisfaction_rate", "satisfaction_rate"}
TOP = 3


def _labels(reg: Register, column: str, keys, lang: str) -> str:
    return ", ".join(_value_label(reg, column, k, lang) for k in keys)


def _shown_percent(rate: float) -> int:
    """A rate as the whole percentage the sections print (f"{rate:.0%}")."""
    return int(f"{rate * 100:.0f}")


def _change(now, prev, rate: bool, lang: str) -> str:
    if now is None or prev is None:
        return "—"
    if rate:  # the difference of the percentages as shown, so a reader's sum agrees
        return label("change_points", lang, d=_shown_percent(now) - _shown_percent(prev))
    pct = f", {(now - prev) / prev:+.0%}" if prev else ""
    return f"{now - prev:+d}{pct}"


def months_side_by_side(reg: Register, period: Period, lang: str) -> Section:
    """The quarter's months next to each other and the quarter itself."""
    months = months_of(period)
    figs = [figures(reg, m, on_time=False) for m in months]
    whole = figures(reg, period)
    table = pd.DataFrame([{label("col_figure", lang): label(f"fig_{k}", lang),
                           **{f["period"]: f[k] for f in figs}, period.label: whole[k]}
                          for k in SIDE_BY_SIDE], dtype=object)  # counts stay whole numbers
    busiest = max(figs, key=lambda f: f["received"])
    each = label("list_sep", lang).join(label("month_count", lang, m=f["period"], n=f["received"])
                                        for f in figs)
    text = [label("text_months", lang, p=period.label, each=each, m=busiest["period"],
                  n=busiest["received"])]
    return Section("months", label("sec_months", lang), text, table,
                   extra={"percent_rows": {label(f"fig_{k}", lang) for k in RATES}})


def changes(reg: Register, period: Period, lang: str) -> Section:
    """What changed against the previous period: headline figures, categories, clocks."""
    prev_p = period.previous()
    now, prev = figures(reg, period), figures(reg, prev_p)
    rows, text = [], []
    for k in COMPARED:
        rate = k in RATES
        rows.append({label("col_figure", lang): label(f"fig_{k}", lang), prev_p.label: prev[k],
                     period.label: now[k], label("col_change", lang): _change(now[k], prev[k],
                                                                              rate, lang)})
        if k in ("received", "closed", "open", "satisfaction_rate") and now[k] is not None:
            text.append(label("text_change", lang, name=label(f"fig_{k}", lang),
                              now=_fmt(now[k], rate), prev=_fmt(prev[k], rate),
                              change=_change(now[k], prev[k], rate, lang)))
    for cid, r in now["on_time_rate"].items():
        name = label("fig_on_time", lang, clock=reg.policy.clock(cid).label(lang))
        was = prev["on_time_rate"].get(cid)
        rows.append({label("col_figure", lang): name, prev_p.label: was, period.label: r,
                     label("col_change", lang): _change(r, was, True, lang)})
    cats = pd.DataFrame({"now": breakdown(reg, period, "category")["received"],
                         "prev": breakdown(reg, prev_p, "category")["received"]}
                        ).fillna(0).astype(int)
    cats["d"] = cats["now"] - cats["prev"]
    cats = cats.drop(index="—", errors="ignore").sort_values("d", kind="stable")
    if len(cats) and cats["d"].iloc[-1] > 0:
        up = cats.iloc[-1]
        text.append(label("text_category_up", lang, c=_value_label(reg, "category", cats.index[-1],
                                                                   lang), a=up["prev"], b=up["now"]))
    if len(cats) and cats["d"].iloc[0] < 0:
        down = cats.iloc[0]
        text.append(label("text_category_down", lang, c=_value_label(reg, "category",
                                                                     cats.index[0], lang),
                          a=down["prev"], b=down["now"]))
    rates = {label(f"fig_{k}", lang) for k in RATES} | {
        label("fig_on_time", lang, clock=reg.policy.clock(c).label(lang)) for c in now["on_time_rate"]}
    return Section("changes", label("sec_changes", lang, prev=prev_p.label), text,
                   pd.DataFrame(rows, dtype=object), extra={"percent_rows": rates})


def satisfaction(reg: Register, period: Period, lang: str) -> Section:
    """Satisfaction at the first callback and final, and the callback rate against its
    target (R-CLOSE 6, R-REOPEN)."""
    f = figures(reg, period)
    tab = satisfaction_table(reg, period)
    vs = reg.schema.value_sets["satisfaction"]
    table = pd.DataFrame({
        label("col_satisfaction", lang): [vs.label(k, lang) if k else label("not_recorded", lang)
                                          for k in tab.index],
        label("col_first_callback", lang): tab["first"].to_list(),
        label("col_final", lang): tab["final"].to_list()})
    called = int(tab["final"].sum())
    text = [label("text_callbacks", lang, p=period.label, n=called,
                  first=_fmt(f["first_satisfaction_rate"], True),
                  final=_fmt(f["satisfaction_rate"], True)) if called
            else label("text_no_callbacks", lang, p=period.label)]
    text.append(label("text_callback_rate", lang, rate=_fmt(f["callback_rate"], True),
                      target=_fmt(f["callback_target"], True), due=f["callback_due"],
                      cb=f["called_back"]))
    missing = not_called_back(reg, period)
    if missing:
        text.append(label("text_not_called_back", lang, n=len(missing), ids=_ids(missing)))
    return Section("satisfaction", label("sec_satisfaction", lang), text, table)


def _quoted(rows: pd.DataFrame, text: str, lang: str) -> str:
    return label("list_sep", lang).join(label("quoted_count", lang, s=r[text], n=r["count"])
                                        for _, r in rows.head(TOP).iterrows())


def _resolved(reg: Register, period: Period, lang: str, key: str, column: str,
              table: pd.DataFrame, summary: list[str]) -> Section:
    """A section on the valid complaints resolved in the period, naming those that have no
    `column` recorded."""
    title = label(f"sec_{key}", lang)
    if an.resolved_valid(reg, period).empty:
        return Section(key, title, [label("text_none_resolved", lang, p=period.label)], table)
    lacking = an.missing(reg, period, column)
    if lacking:
        summary.append(label("text_lacking", lang, n=len(lacking), ids=_ids(lacking),
                             field=reg.tab.column(column).header(lang)))
    return Section(key, title, summary, table)


def causes(reg: Register, period: Period, lang: str) -> Section:
    """The main causes: recorded root causes of the complaints resolved in the period."""
    grouped = an.main_causes(reg, period)
    table = pd.DataFrame({
        label("col_root_cause", lang): grouped["root_cause"].to_list(),
        label("col_count", lang): grouped["count"].to_list(),
        label("col_category", lang): [_labels(reg, "category", c, lang) for c in grouped["category"]],
        label("col_department", lang): [", ".join(d) for d in grouped["department"]]})
    text = [label("text_causes", lang, p=period.label, n=len(an.resolved_valid(reg, period)),
                  k=int(grouped["count"].sum()))]
    if len(grouped):
        text.append(label("text_main_causes", lang, top=_quoted(grouped, "root_cause", lang)))
    return _resolved(reg, period, lang, "causes", "root_cause", table, text)


def actions(reg: Register, period: Period, lang: str) -> Section:
    """Corrective and preventive actions taken on the complaints resolved in the period."""
    grouped = an.actions_taken(reg, period)
    table = pd.DataFrame({
        label("col_department", lang): grouped["department"].to_list(),
        label("col_action", lang): grouped["corrective_action"].to_list(),
        label("col_count", lang): grouped["count"].to_list()})
    text = [label("text_actions", lang, n=len(an.resolved_valid(reg, period)),
                  k=int(grouped["count"].sum()))]
    return _resolved(reg, period, lang, "actions", "corrective_action", table, text)


def proposals_section(reg: Register, period: Period, lang: str) -> Section:
    """Improvement proposals (R-TREND) raised, and what became of them."""
    p = an.proposals(reg, period)
    threshold = reg.policy.settings["trend_threshold"]
    cat = [_value_label(reg, "category", c, lang) for c in p["category"]]
    below = [label("pending", lang) if b is None else label("yes" if b else "no", lang)
             for b in p["below"]]
    table = pd.DataFrame({
        label("col_category", lang): cat, label("col_month", lang): p["month"].to_list(),
        label("col_count", lang): p["count"].to_list(),
        label("col_department", lang): p["department"].to_list(),
        label("col_next_count", lang): p["next_count"].to_list(),
        label("col_below", lang, n=threshold): below,
        label("fig_closed", lang): p["closed"].to_list(), label("fig_open", lang): p["open"].to_list()})
    in_period = [str(m) for m in pd.period_range(period.start, period.end - pd.Timedelta(days=1),
                                                 freq="M")]
    text = []
    for c, r in zip(cat, p.itertuples(), strict=True):
        if r.month in in_period:
            text.append(label("text_proposal", lang, m=r.month, category=c, n=r.count,
                              threshold=threshold, department=r.department or "—"))
    if not text:
        text.append(label("text_no_proposal", lang, p=period.label, threshold=threshold))
    for c, r in zip(cat, p.itertuples(), strict=True):
        if r.below is not None:
            text.append(label("text_followup", lang, m=r.month, category=c, next=r.next_count,
                              result=label("below_yes" if r.below else "below_no", lang),
                              closed=r.closed, open=r.open))
    return Section("proposals", label("sec_proposals", lang), text, table)


def _status(is_open: bool, lang: str) -> str:
    return label("status_open" if is_open else "status_closed", lang)


def repeats(reg: Register, period: Period, lang: str) -> Section:
    r = an.repeat_list(reg, period)
    prev = figures(reg, period.previous())["repeats"]
    table = pd.DataFrame({
        label("col_id", lang): r["id"].to_list(), label("col_parent", lang): r["parent_id"].to_list(),
        label("col_subject", lang): r["subject"].to_list(),
        label("col_department", lang): r["department"].to_list(),
        label("col_received", lang): _date(r["received_at"]),
        label("col_status", lang): [_status(o, lang) for o in r["open"]]})
    text = [label("text_repeat_list", lang, p=period.label, n=len(r), prev=prev,
                  open=int(r["open"].sum()))]
    return Section("repeats", label("sec_repeats", lang), text, table)


def groups(reg: Register, period: Period, lang: str) -> Section:
    g = an.group_list(reg, period)
    table = pd.DataFrame({
        label("col_group", lang): g["group"].to_list(), label("col_subject", lang): g["subject"].to_list(),
        label("col_respondent", lang): g["respondent"].to_list(),
        label("col_rows", lang): g["rows"].to_list(),
        label("col_complainants", lang): g["complainants"].to_list(),
        label("col_first", lang): _date(g["first"]), label("col_last", lang): _date(g["last"]),
        label("fig_open", lang): g["open"].to_list()})
    text = [label("text_group_list", lang, p=period.label, g=len(g), rows=int(g["rows"].sum()))
            if len(g) else label("text_no_groups", lang, p=period.label)]
    return Section("groups", label("sec_groups", lang), text, table)


def issues(reg: Register, period: Period, lang: str, n: int = 10) -> Section:
    """Top issues: the most frequent matters (a group complaint is one matter)."""
    top = top_issues(reg, period, n)
    total = figures(reg, period)["received"]
    table = pd.DataFrame({
        label("col_subject", lang): top["subject"].to_list(),
        label("col_category", lang): [_value_label(reg, "category", c, lang) for c in top["category"]],
        label("col_count", lang): top["count"].to_list(),
        label("col_group_matter", lang): [label("yes", lang) if g else "" for g in top["group"]]})
    text = [label("text_issues", lang, s=top["subject"].iloc[0], n=int(top["count"].iloc[0]),
                  total=total) if len(top) else label("text_empty_period", lang, p=period.label)]
    return Section("issues", label("sec_issues", lang, n=n), text, table)


def suggestions(reg: Register, period: Period, lang: str) -> Section:
    s = an.suggestions_and_praise(reg, period)
    kinds = reg.schema.value_sets["kind"]
    table = pd.DataFrame({
        label("col_kind", lang): [kinds.label(k, lang) for k in s["kind"]],
        label("col_id", lang): s["id"].to_list(), label("col_subject", lang): s["subject"].to_list(),
        label("col_respondent", lang): s["respondent"].to_list(),
        label("col_department", lang): s["department"].to_list(),
        label("col_received", lang): _date(s["received_at"])})
    f = figures(reg, period)
    text = [kinds_text(f["suggestions"], f["praise"], lang)]
    praised = s.loc[s["kind"].eq("praise") & s["respondent"].ne(""), "respondent"].value_counts()
    if len(praised) and praised.iloc[0] >= reg.policy.scoring["praise_min_count"]:
        text.append(label("text_praised", lang, who=praised.index[0], n=int(praised.iloc[0])))
    return Section("suggestions", label("sec_suggestions", lang), text, table)
