"""The statistics of a period as sections (title, sentences, table, chart), built once and
rendered by both the statistics page and the report pack (R-STATS, R-TREND, R-SCORE)."""

from __future__ import annotations

from dataclasses import dataclass, field

import altair as alt
import pandas as pd

from core.i18n import label
from core.period import Period, parse_period
from core.queue import queue_frame
from core.register import Register
from core.scoring import department_scores
from core.stats import BREAKDOWNS, breakdown, figures, monthly_series

HEADLINE = ("received", "accepted", "valid", "closed", "open", "carried_over", "repeats",
            "groups", "group_rows", "callback_rate", "first_satisfaction_rate",
            "satisfaction_rate", "reprocessed", "resolve_hours_mean", "resolve_hours_median",
            "tip_offs")
RATES = ("callback_rate", "first_satisfaction_rate", "satisfaction_rate")


@dataclass
class Section:
    key: str
    title: str
    text: list[str]
    table: pd.DataFrame
    chart: alt.Chart | None = None
    extra: dict = field(default_factory=dict)

    def display(self, limit: int | None = None) -> pd.DataFrame:
        """The table as people read it: rates as percentages, blanks as blanks."""
        cols = self.extra.get("percent_columns", set())
        pct_rows = self.extra.get("percent_rows", set())
        shown = self.table.head(limit) if limit else self.table
        out = shown.astype(object).copy()
        for i, row in enumerate(shown.itertuples(index=False)):
            pct_row = bool(pct_rows) and row[0] in pct_rows
            for j, (c, v) in enumerate(zip(shown.columns, row, strict=True)):
                out.iat[i, j] = _shown(v, pct_row or c in cols)
        return out


def _shown(v, percent: bool) -> str:
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return ""
    if isinstance(v, float):
        return f"{v:.0%}" if percent else f"{v:g}"
    return str(v)


def _fmt(v, rate: bool = False) -> str:
    if v is None:
        return "—"
    return f"{v:.0%}" if rate else f"{v:g}"


def _value_label(reg: Register, column: str, key: str, lang: str) -> str:
    if key == "—":
        return key
    col = reg.tab.column(column)
    if col.type in ("enum", "bool"):
        return reg.schema.value_sets[col.values].label(key, lang)
    if col.type == "category":
        return reg.policy.categories.label(key, lang)
    return key


def _bar(df: pd.DataFrame, x: str, y: str, title: str, sort: str | None = "-y") -> alt.Chart:
    return alt.Chart(df).mark_bar().encode(
        x=alt.X(f"{x}:N", sort=sort, title=None), y=alt.Y(f"{y}:Q", title=None),
        tooltip=list(df.columns)).properties(title=title, width=480, height=220)


def overview(reg: Register, period: Period, lang: str) -> Section:
    now, prev, last = (figures(reg, p) for p in (period, period.previous(), period.year_before()))
    rows = [{label("col_figure", lang): label(f"fig_{k}", lang),
             period.label: now[k], prev["period"]: prev[k], last["period"]: last[k]}
            for k in HEADLINE]
    table = pd.DataFrame(rows)
    if now["received"] == 0:
        text = [label("text_empty_period", lang, p=period.label)]
    else:
        text = [label("text_overview", lang, p=period.label, n=now["received"],
                      prev=prev["received"], last=last["received"], closed=now["closed"],
                      open=now["open"], carried=now["carried_over"])]
        if now["satisfaction_rate"] is not None:
            text.append(label("text_satisfaction", lang, rate=_fmt(now["satisfaction_rate"], True),
                              cb=_fmt(now["callback_rate"], True)))
    rates = {label(f"fig_{k}", lang) for k in RATES}
    return Section("overview", label("sec_overview", lang), text, table,
                   extra={"figures": now, "percent_rows": rates})


def trend(reg: Register, period: Period, lang: str) -> Section:
    series = monthly_series(reg, 15, until=period.end - pd.Timedelta(days=1))
    names = {k: label(f"fig_{k}", lang) for k in ("received", "closed", "open")}
    long = series.melt("month", var_name="figure", value_name="count")
    long["figure"] = long["figure"].map(names)
    chart = alt.Chart(long).mark_line(point=True).encode(
        x=alt.X("month:O", title=None), y=alt.Y("count:Q", title=None),
        color=alt.Color("figure:N", title=None), tooltip=["month", "figure", "count"]
    ).properties(title=label("sec_trend", lang), width=480, height=220)
    table = series.rename(columns={**names, "month": label("col_month", lang)})
    return Section("trend", label("sec_trend", lang), [label("text_trend", lang)], table, chart)


def on_time(reg: Register, period: Period, lang: str) -> Section:
    rates = figures(reg, period)["on_time_rate"]
    table = pd.DataFrame([{label("col_clock", lang): reg.policy.clock(c).label(lang),
                           label("col_rate", lang): r} for c, r in rates.items()])
    known = {k: v for k, v in rates.items() if v is not None}
    if known:
        worst = min(known, key=known.get)
        text = [label("text_on_time", lang, clock=reg.policy.clock(worst).label(lang),
                      rate=_fmt(known[worst], True))]
        chart = _bar(table.dropna(), label("col_clock", lang), label("col_rate", lang),
                     label("sec_on_time", lang))
    else:
        text, chart = [label("text_no_clocks", lang, p=period.label)], None
    return Section("on_time", label("sec_on_time", lang), text, table, chart,
                   extra={"percent_columns": {label("col_rate", lang)}})


def by_column(reg: Register, period: Period, column: str, lang: str) -> Section:
    b = breakdown(reg, period, column).reset_index()
    name = reg.tab.column(column).header(lang)
    b[column] = [_value_label(reg, column, k, lang) for k in b[column]]
    table = b.rename(columns={column: name, "received": label("fig_received", lang),
                              "closed": label("fig_closed", lang), "open": label("fig_open", lang)})
    title = label("sec_by", lang, name=name)
    if table.empty:
        return Section(f"by_{column}", title, [label("text_empty_period", lang, p=period.label)],
                       table)
    top = table.iloc[0]
    text = [label("text_top", lang, name=name, value=top[name], n=int(top.iloc[1]),
                  total=int(table.iloc[:, 1].sum()))]
    return Section(f"by_{column}", title, text, table,
                   _bar(table, name, label("fig_received", lang), title))


def trends_and_repeats(reg: Register, period: Period, lang: str) -> Section:
    t = reg.table
    sel = period.contains(t["received_at"]) & reg.flags["trend"]
    hot = (pd.DataFrame({"c": t.loc[sel, "category"], "m": t.loc[sel, "received_at"].dt.strftime(
        "%Y-%m")}).value_counts().reset_index(name="n"))
    rows = [{label("col_category", lang): _value_label(reg, "category", r.c, lang),
             label("col_month", lang): r.m, label("col_count", lang): int(r.n),
             label("col_proposal", lang): label("proposal", lang, category=_value_label(
                 reg, "category", r.c, lang), n=int(r.n))} for r in hot.itertuples()]
    f = figures(reg, period)
    text = [label("text_repeats", lang, repeats=f["repeats"], groups=f["groups"],
                  group_rows=f["group_rows"], threshold=reg.policy.settings["trend_threshold"])]
    if not rows:
        text.append(label("text_no_trend", lang))
    return Section("trends", label("sec_trends", lang), text, pd.DataFrame(rows))


def scores(reg: Register, period: Period, lang: str) -> Section:
    months = [str(p) for p in pd.period_range(period.start, period.end - pd.Timedelta(days=1),
                                              freq="M")]
    totals: dict[str, dict] = {}
    for m in months:
        for d in department_scores(reg, m)["departments"]:
            agg = totals.setdefault(d["department"], {"lost": 0, "gained": 0, "yuan": 0,
                                                      "escalated": False})
            agg["lost"] += d["points_lost"]
            agg["gained"] += d["points_gained"]
            agg["yuan"] += d["yuan"]
            agg["escalated"] |= d["escalated"]
    table = pd.DataFrame([{label("col_department", lang): k, label("col_lost", lang): v["lost"],
                           label("col_gained", lang): v["gained"], label("col_yuan", lang): v["yuan"],
                           label("col_escalated", lang): label("yes" if v["escalated"] else "no",
                                                               lang)}
                          for k, v in sorted(totals.items(), key=lambda kv: -kv[1]["lost"])])
    esc = [k for k, v in totals.items() if v["escalated"]]
    text = [label("text_scores", lang, n=len(totals), esc=", ".join(esc) or "—")]
    return Section("scores", label("sec_scores", lang), text, table)


def overdue_list(reg: Register, period: Period, lang: str) -> Section:
    q = queue_frame(reg)
    q = q[q["state"].eq("overdue") & (q["received_at"] < period.end)]
    now = pd.Timestamp(reg.now)
    table = pd.DataFrame({
        label("col_row", lang): q["row"], label("col_id", lang): q["id"],
        label("col_subject", lang): q["subject"], label("col_department", lang): q["department"],
        label("col_clock", lang): [reg.policy.clock(c).label(lang) for c in q["clock"]],
        label("col_due", lang): q["due"].dt.strftime("%Y-%m-%d %H:%M"),
        label("col_age_days", lang): ((now - q["received_at"]) / pd.Timedelta(days=1)).round(0)
        .astype("Int64")})
    text = [label("text_overdue", lang, n=len(table))]
    return Section("overdue", label("sec_overdue", lang), text, table)


AGE_BUCKETS = ((7, "0–7"), (30, "8–30"), (90, "31–90"), (None, "> 90"))


def open_ages(reg: Register, period: Period, lang: str) -> Section:
    """Complaints open at the period's end by age, and how many were carried over into it."""
    t = reg.table
    end = min(period.end, pd.Timestamp(reg.now))
    is_open = (t["kind"].eq("complaint") & (t["received_at"] < end)
               & (t["closed_at"].isna() | (t["closed_at"] >= end)))
    age = ((end - t.loc[is_open, "received_at"]) / pd.Timedelta(days=1)).to_numpy()
    rows, lo = [], -1
    for hi, name in AGE_BUCKETS:
        n = int(((age > lo) & ((age <= hi) if hi else True)).sum())
        rows.append({label("col_age_days", lang): name, label("col_count", lang): n})
        lo = hi if hi else lo
    table = pd.DataFrame(rows)
    carried = int((is_open & (t["received_at"] < period.start)).sum())
    text = [label("text_ages", lang, n=int(is_open.sum()), carried=carried,
                  old=rows[-1][label("col_count", lang)])]
    return Section("ages", label("sec_ages", lang), text, table,
                   _bar(table, label("col_age_days", lang), label("col_count", lang),
                        label("sec_ages", lang), sort=None))


def top_respondents(reg: Register, period: Period, lang: str, n: int = 10) -> Section:
    sec = by_column(reg, period, "respondent", lang)
    sec.table = sec.table.head(n)
    sec.key, sec.title = "by_respondent", label("sec_respondents", lang, n=n)
    if sec.chart is not None:
        sec.chart = _bar(sec.table, sec.table.columns[0], sec.table.columns[1], sec.title)
    return sec


def build_sections(reg: Register, period_text: str, lang: str = "zh") -> list[Section]:
    """Every section of the period's statistics, in the order of a review meeting."""
    period = parse_period(period_text)
    return [overview(reg, period, lang), trend(reg, period, lang), on_time(reg, period, lang),
            open_ages(reg, period, lang),
            *(by_column(reg, period, c, lang) for c in BREAKDOWNS),
            top_respondents(reg, period, lang), trends_and_repeats(reg, period, lang),
            scores(reg, period, lang), overdue_list(reg, period, lang)]
