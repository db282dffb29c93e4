"""The statistics of a period as sections (title, sentences, table, chart), built once and
rendered by both the statistics page and the report pack (R-STATS, R-TREND, R-SCORE).

Every section reads the register as of the period's end (core.rules.asof): the pack of a closed
period is the same whenever it is produced.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.reading.i18n import label
from core.reading.schema import map_distinct
from core.reports import charts
from core.rules.asof import as_of
from core.rules.period import Period, make_period, parse_period
from core.rules.queue import queue_frame
from core.rules.register import Register
from core.rules.scoring import department_scores
from core.rules.stats import BREAKDOWNS, breakdown, figures, monthly_series, open_at

HEADLINE = ("received", "received_once", "accepted", "valid", "closed", "open", "carried_over",
            "repeats", "groups", "group_rows", "suggestions", "praise", "tip_offs",
            "callback_rate", "callback_target", "first_satisfaction_rate", "satisfaction_rate",
            "reprocessed", "resolve_hours_mean", "resolve_hours_median")
RATES = ("callback_rate", "callback_target", "first_satisfaction_rate", "satisfaction_rate")


@dataclass
class Section:
    key: str
    title: str
    text: list[str]
    table: pd.DataFrame
    chart: dict | None = None  # a Vega-Lite specification (core.reports.charts)
    extra: dict = field(default_factory=dict)
    _rows: dict = field(default_factory=dict, repr=False, compare=False)  # rows(), by limit

    def display(self, limit: int | None = None) -> pd.DataFrame:
        """The table as people read it: rates as percentages, blanks as blanks."""
        shown = self.table.head(limit) if limit else self.table
        out = pd.DataFrame(dict(enumerate(self._shown_columns(limit))), index=shown.index,
                           dtype=object)
        out.columns = shown.columns
        return out

    def rows(self, limit: int | None = None) -> list[list[str]]:
        """The rows of display(limit) as lists of text, new lists on each call (the HTML and
        the PDF show the same rows: worked out once for the table the section has then)."""
        table, rows = self._rows.get(limit, (None, None))
        if table is not self.table:
            rows = [tuple(row) for row in zip(*self._shown_columns(limit), strict=True)]
            self._rows[limit] = (self.table, rows)
        return [list(row) for row in rows]

    def _shown_columns(self, limit: int | None) -> list[list[str]]:
        cols = self.extra.get("percent_columns", set())
        pct_rows = self.extra.get("percent_rows", set())
        shown = self.table.head(limit) if limit else self.table
        pct = ([v in pct_rows for v in shown.iloc[:, 0].tolist()] if pct_rows
               else [False] * len(shown))
        return [[_shown(v, p or c in cols) for v, p in zip(shown.iloc[:, j].tolist(), pct,
                                                            strict=True)]
                for j, c in enumerate(shown.columns)]

    def csv(self) -> pd.DataFrame:
        """The table for a CSV download: whole counts, rates as percentages, as shown."""
        return self.display()


def _shown(v, percent: bool) -> str:
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return ""
    if isinstance(v, float):
        if percent:
            return f"{v:.0%}"
        return str(int(v)) if v.is_integer() else f"{v:.2f}".rstrip("0").rstrip(".")
    return str(v)


def _fmt(v, rate: bool = False) -> str:
    if v is None:
        return "—"
    return f"{v:.0%}" if rate else f"{v:g}"


def _value_label(reg: Register, column: str, key: str, lang: str) -> str:
    if key in ("—", ""):
        return "—"
    col = reg.tab.column(column)
    if col.type in ("enum", "bool"):
        return reg.schema.value_sets[col.values].label(key, lang)
    if col.type == "category":
        return reg.policy.categories.label(key, lang)
    return key


def _date(s: pd.Series) -> list[str]:
    """Each time's day as 2026-11-24, "" for none."""
    days = s.to_numpy(dtype="datetime64[D]")
    return np.where(np.isnat(days), "", np.datetime_as_string(days, unit="D")).tolist()


def _each(keys: pd.Series, fn) -> list:
    """fn(key) for every key, worked out once per distinct key (a list of 1,000 rows names
    a few categories, clocks and states)."""
    return map_distinct(keys, fn)[0].tolist()


def _ids(ids: list[str], limit: int = 10) -> str:
    return ", ".join(ids[:limit]) + (" …" if len(ids) > limit else "")


def _bar(df: pd.DataFrame, x: str, y: str, title: str, sort: str | None = "-y",
         percent: bool = False) -> dict:
    """Horizontal bars: one per row of `df`, named by column `x`, as long as column `y`."""
    return charts.bars(df[x].astype(str), df[y], x, y, title, sort=sort, percent=percent)


def kinds_text(suggestions: int, praise: int, lang: str) -> str:
    """The sentence on the suggestions and praise received, naming only those there were."""
    key = ("text_kinds" if suggestions and praise else "text_kinds_s" if suggestions
           else "text_kinds_p" if praise else "text_kinds_none")
    return label(key, lang, s=suggestions, p=praise)


def months_of(period: Period) -> list[Period]:
    return [make_period(period.start + pd.DateOffset(months=i), 1) for i in range(period.months)]


def overview(reg: Register, period: Period, lang: str) -> Section:
    now = figures(reg, period)
    prev, last = (figures(reg, p, on_time=False) for p in (period.previous(),
                                                             period.year_before()))
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
        if now["groups"]:
            text.append(label("text_received_once", lang, rows=now["group_rows"],
                              g=now["groups"], once=now["received_once"]))
    if now["suggestions"] or now["praise"]:
        text.append(kinds_text(now["suggestions"], now["praise"], lang))
    rates = {label(f"fig_{k}", lang) for k in RATES}
    return Section("overview", label("sec_overview", lang), text, table,
                   extra={"figures": now, "percent_rows": rates})


def trend(reg: Register, period: Period, lang: str) -> Section:
    series = monthly_series(reg, 15, until=period.end - pd.Timedelta(days=1))
    names = {k: label(f"fig_{k}", lang) for k in ("received", "closed", "open")}
    keys = list(names)
    long = series.melt("month", value_vars=keys, var_name="figure", value_name="count")
    long["figure"] = long["figure"].map(names)
    long["month"] = long["month"].astype(str)
    chart = charts.lines(long.to_dict("records"), {names[k]: charts.SERIES[k] for k in keys},
                         label("col_month", lang), label("col_figure", lang),
                         label("col_count", lang), label("sec_trend", lang))
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
                      rate=_fmt(known[worst], True)) if known[worst] < 1
                else label("text_on_time_all", lang)]
        chart = _bar(table.dropna(), label("col_clock", lang), label("col_rate", lang),
                     label("sec_on_time", lang), sort=None, percent=True)
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
    total = int(b["received"].sum())
    if total == 0:
        return Section(f"by_{column}", title, [label("text_empty_period", lang, p=period.label)],
                       table)
    top = table.iloc[0]
    text = [label("text_top", lang, name=name, value=top[name], n=int(top.iloc[1]),
                  total=total)]
    return Section(f"by_{column}", title, text, table,
                   _bar(table, name, label("fig_received", lang), title))


def scores(reg: Register, period: Period, lang: str) -> Section:
    """Each department's points over the period's months (R-SCORE), each month scored as of
    its own end; a quarter shows its months side by side."""
    months = months_of(period)
    totals: dict[str, dict] = {}
    for m in months:
        for d in department_scores(as_of(reg, m.end), m.label)["departments"]:
            agg = totals.setdefault(d["department"], {"lost": 0, "gained": 0, "yuan": 0,
                                                      "escalated": False, "by_month": {}})
            agg["lost"] += d["points_lost"]
            agg["gained"] += d["points_gained"]
            agg["yuan"] += d["yuan"]
            agg["escalated"] |= d["escalated"]
            agg["by_month"][m.label] = d["points_lost"]
    rows = []
    for k, v in sorted(totals.items(), key=lambda kv: (-kv[1]["lost"], kv[0])):
        row = {label("col_department", lang): k, label("col_lost", lang): v["lost"],
               label("col_gained", lang): v["gained"], label("col_yuan", lang): v["yuan"],
               label("col_escalated", lang): label("yes" if v["escalated"] else "no", lang)}
        if len(months) > 1:
            row.update({label("col_lost_in", lang, m=m.label): v["by_month"].get(m.label, 0)
                        for m in months})
        rows.append(row)
    esc = [k for k, v in totals.items() if v["escalated"]]
    text = [label("text_scores", lang, n=len(totals), esc=", ".join(esc) or "—")]
    return Section("scores", label("sec_scores", lang), text, pd.DataFrame(rows))


def open_list(reg: Register, period: Period, lang: str, overdue_only: bool) -> pd.DataFrame:
    """Complaints open at the period's end (or only those overdue then), nearest due first."""
    view = as_of(reg, period.end)
    q = queue_frame(view)
    if overdue_only:
        q = q[q["state"].eq("overdue")]
    now = pd.Timestamp(view.now)
    return pd.DataFrame({
        label("col_row", lang): q["row"], label("col_id", lang): q["id"],
        label("col_subject", lang): q["subject"],
        label("col_category", lang): _each(q["category"],
                                           lambda c: _value_label(reg, "category", c, lang)),
        label("col_department", lang): q["department"],
        label("col_received", lang): _date(q["received_at"]),
        label("col_clock", lang): _each(q["clock"],
                                        lambda c: reg.policy.clock(c).label(lang) if c else ""),
        label("col_due", lang): q["due"].dt.strftime("%Y-%m-%d %H:%M"),
        label("col_state", lang): _each(q["state"],
                                        lambda s: label(f"state_{s}", lang) if s else ""),
        label("col_age_days", lang): ((now - q["received_at"]) / pd.Timedelta(days=1)).round(0)
        .astype("Int64")})


def overdue_list(reg: Register, period: Period, lang: str) -> Section:
    table = open_list(reg, period, lang, overdue_only=True)
    return Section("overdue", label("sec_overdue", lang),
                   [label("text_overdue", lang, n=len(table))], table)


def carried_items(reg: Register, period: Period, lang: str) -> Section:
    """Open items carried into the next period: everything open at this period's end."""
    table = open_list(reg, period, lang, overdue_only=False)
    overdue = int(table[label("col_state", lang)].eq(label("state_overdue", lang)).sum())
    text = [label("text_carried", lang, n=len(table), next=period.shift(1).label, o=overdue)]
    return Section("carried", label("sec_carried", lang, next=period.shift(1).label), text, table)


AGE_BUCKETS = ((7, "0–7"), (30, "8–30"), (90, "31–90"), (None, "> 90"))


def open_ages(reg: Register, period: Period, lang: str) -> Section:
    """Complaints open at the period's end by age, and how many of them came in before it."""
    view = as_of(reg, period.end)
    t = view.table
    end = pd.Timestamp(view.now)
    is_open = open_at(view, end)
    age = ((end - t.loc[is_open, "received_at"]) / pd.Timedelta(days=1)).to_numpy()
    rows, lo = [], -1
    for hi, name in AGE_BUCKETS:
        n = int(((age > lo) & ((age <= hi) if hi else True)).sum())
        rows.append({label("col_age_days", lang): name, label("col_count", lang): n})
        lo = hi if hi else lo
    table = pd.DataFrame(rows)
    older = int((is_open & (t["received_at"] < period.start)).sum())
    text = [label("text_ages", lang, n=int(is_open.sum()), older=older,
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
    """Every section of the period's report, in the order of a review meeting: the monthly
    analysis and improvement report, or the quarterly summary."""
    return list(each_section(reg, period_text, lang))


def each_section(reg: Register, period_text: str, lang: str = "zh") -> Iterator[Section]:
    """The sections of build_sections one by one, each as soon as it is built (the pack
    hands each one's chart and PDF text to its helper processes meanwhile)."""
    from core.reports import analysis_sections as an

    period = parse_period(period_text)
    quarter = period.months > 1
    yield overview(reg, period, lang)
    if quarter:
        yield an.months_side_by_side(reg, period, lang)
    yield an.changes(reg, period, lang)
    yield trend(reg, period, lang)
    yield on_time(reg, period, lang)
    yield an.satisfaction(reg, period, lang)
    yield an.causes(reg, period, lang)
    yield an.actions(reg, period, lang)
    yield an.proposals_section(reg, period, lang)
    yield an.repeats(reg, period, lang)
    yield an.groups(reg, period, lang)
    yield an.issues(reg, period, lang)
    for c in BREAKDOWNS:
        yield by_column(reg, period, c, lang)
    yield top_respondents(reg, period, lang)
    yield an.suggestions(reg, period, lang)
    yield open_ages(reg, period, lang)
    yield scores(reg, period, lang)
    if quarter:
        yield carried_items(reg, period, lang)
    yield overdue_list(reg, period, lang)
