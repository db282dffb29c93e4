"""Statistics: the period's sections — a sentence, a chart, its table and a download."""

from collections.abc import Iterator
from functools import partial

import pandas as pd
import streamlit as st

from core.reading.i18n import label
from core.reports.export import safe_csv
from core.reports.report import generated, pack_zip
from core.reports.sections import each_section
from core.rules.access import may, seen_by
from pages._shared import esc, lang, page, register, t

LONG = 40  # characters: a table with longer cells is shown wrapped, not cut to its column


def pack_button(reg, period: str) -> None:
    """Make the pack when asked (it draws the charts and lays out a PDF: seconds), then offer
    it; any document that could not be made is said in the page, in plain words."""
    key = (period, lang(), reg.now)
    if st.button(t("pack_make"), key="pack_make"):
        with st.spinner(t("pack_making")):
            st.session_state["pack_made"] = (key, *pack_zip(reg, period, lang()))
    made = st.session_state.get("pack_made")
    if not made or made[0] != key:
        return
    _, data, failures = made
    for line in failures:
        st.error(esc(line))
    if data is None:
        st.error(t("pack_none"))
        return
    st.download_button(t("download_pack"), data=data, file_name=f"complaints-{period}.zip",
                       mime="application/zip", key="pack")


def shown_sections(reg, period: str, language: str) -> Iterator[tuple]:
    """The period's sections as each is built, each with its chart as a Vega-Lite spec, its
    table as shown (None when empty), whether that table is shown wrapped, and its CSV:
    built once per checked register, period and language for every session (the register
    is shared and never changed); a first view shows each section as soon as it is built.
    The CSV is made with the section, not when its button is clicked: Streamlit's deferred
    downloads now and then gave no file on the first click."""
    def shown(s) -> tuple:
        spec = s.chart  # a Vega-Lite specification, or None
        if s.table.empty:
            return s, spec, None, False, None
        table = s.display()
        csv = safe_csv(table)  # the CSV is the table as shown (Section.csv)
        wrapped = any(len(str(v)) > LONG for v in table.to_numpy().ravel())
        if wrapped:  # st.table reads cells as markdown
            table = table.map(esc).rename(columns=esc)
        return s, spec, table, wrapped, csv

    return reg.derived_each(("sections", period, language),
                            lambda: map(shown, each_section(reg, period, language)))


person = page("statistics")
st.header(t("page_stats"))
st.write(t("stats_intro"))
reg = register()
if reg is not None:
    last = pd.Timestamp(reg.now).to_period("M")
    # one radio per language (as the sidebar's policy box): a radio kept across a change of
    # language showed neither choice selected; the choice itself is carried over
    kinds = ["month", "quarter"]
    kind = st.radio(t("period_kind"), kinds, horizontal=True, key=f"stats_kind_{lang()}",
                    index=kinds.index(st.session_state.get("stats_kind", "month")),
                    format_func=partial(label, lang=lang()))
    st.session_state["stats_kind"] = kind
    if kind == "month":
        options = [str(p) for p in pd.period_range(last - 14, last, freq="M")][::-1]
    else:
        options = [f"{p.year}-Q{p.quarter}" for p in pd.period_range(
            last.asfreq("Q") - 4, last.asfreq("Q"), freq="Q")][::-1]
    period = st.selectbox(t(f"pick_{kind}"), options, key=f"stats_{kind}")  # not 统计周期 twice
    reg = seen_by(reg, person)  # every figure from the rows this person may open (R-RECUSE)
    st.caption(generated(reg, period, lang()))  # every figure is as of the period's end
    if may(person, "report"):
        pack_button(reg, period)
    # a first view shows each section as it is built, under the "working out…" spinner
    # (Streamlit shows it after half a second); a later one shows them all at once
    with st.spinner(t("stats_building")):
        for s, spec, shown, wrapped, csv in shown_sections(reg, period, lang()):
            st.subheader(esc(s.title))
            for line in s.text:
                st.markdown(esc(line))
            if spec is not None:  # its own colours, the same as in the HTML and the PDF
                st.vega_lite_chart(spec, width="stretch", theme=None)
            if shown is not None:
                if wrapped:  # causes, actions: every word of each cell shown
                    st.table(shown, hide_index=True)
                else:
                    st.dataframe(shown, hide_index=True, width="stretch", height="content")
                st.download_button(t("download_csv"), csv, f"{period}-{s.key}.csv",
                                   "text/csv", key=f"csv_{s.key}")
