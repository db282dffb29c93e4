"""Data quality: every row with problems, by row number and column; calendar warnings."""

import pandas as pd
import streamlit as st

from core.rules.access import CONFIDENTIAL, sight
from pages._shared import BANNER_WARNINGS, esc, lang, page, register, t

person = page("quality")
st.header(t("page_quality"))
st.write(t("quality_intro"))
reg = register()
if reg is not None:
    seen = sight(reg, person)
    rows = seen.index[seen["row"]]
    problems = [p for p in reg.problems if p.row in rows and (
        p.column not in CONFIDENTIAL or seen.at[p.row, "complainant"])]
    c1, c2, c3 = st.columns(3)
    c1.metric(t("rows"), len(rows))
    c2.metric(t("with_problems"), len({p.row for p in problems}))
    c3.metric(t("overdue"), int(sum(c.loc[rows, "state"].eq("overdue").sum()
                                    for c in reg.clocks.values())))
    for w in reg.warnings:
        if w.code not in BANNER_WARNINGS:  # those are on every page already
            st.warning(esc(w.message(lang())))
    if reg.table.empty:
        st.info(t("empty_register"))
    elif not problems:
        st.success(t("no_problems"))
    else:
        tab = reg.tab
        st.dataframe(pd.DataFrame([{
            t("col_row"): p.row, t("col_id"): reg.table.at[p.row, "id"],
            t("col_column"): tab.column(p.column).header(lang()),
            t("col_problem"): p.message(tab, lang())} for p in problems]),
            hide_index=True, width="stretch")
