"""Data quality: every row with problems, by row number and column; calendar warnings."""

import pandas as pd
import streamlit as st

from pages._shared import BANNER_WARNINGS, lang, register, t

st.header(t("page_quality"))
st.write(t("quality_intro"))
reg = register()
if reg is not None:
    by_row = reg.problems_by_row()
    c1, c2, c3 = st.columns(3)
    c1.metric(t("rows"), len(reg.table))
    c2.metric(t("with_problems"), len(by_row))
    c3.metric(t("overdue"), int(sum(c["state"].eq("overdue").sum() for c in reg.clocks.values())))
    for w in reg.warnings:
        if w.code not in BANNER_WARNINGS:  # those are on every page already
            st.warning(w.message(lang()))
    if reg.table.empty:
        st.info(t("empty_register"))
    elif not reg.problems:
        st.success(t("no_problems"))
    else:
        tab = reg.tab
        st.dataframe(pd.DataFrame([{
            t("col_row"): p.row, t("col_id"): reg.table.at[p.row, "id"],
            t("col_column"): tab.column(p.column).header(lang()),
            t("col_problem"): p.message(tab, lang())} for p in reg.problems]),
            hide_index=True, width="stretch")
