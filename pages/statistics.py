"""Statistics: the period's sections — a sentence, a chart, its table and a download."""

from functools import partial

import pandas as pd
import streamlit as st

from core.access import may, seen_by
from core.export import safe_csv
from core.i18n import label
from core.report import generated, pack_zip
from core.sections import build_sections
from pages._shared import esc, lang, page, register, t

person = page("statistics")
st.header(t("page_stats"))
st.write(t("stats_intro"))
reg = register()
if reg is not None:
    last = pd.Timestamp(reg.now).to_period("M")
    kind = st.radio(t("period_kind"), ["month", "quarter"], horizontal=True, key="stats_kind",
                    format_func=partial(label, lang=lang()))
    if kind == "month":
        options = [str(p) for p in pd.period_range(last - 14, last, freq="M")][::-1]
    else:
        options = [f"{p.year}-Q{p.quarter}" for p in pd.period_range(
            last.asfreq("Q") - 4, last.asfreq("Q"), freq="Q")][::-1]
    period = st.selectbox(t("period_kind"), options, key=f"stats_{kind}")
    reg = seen_by(reg, person)  # every figure from the rows this person may open (R-RECUSE)
    # Built once per checked register, period and language, for every session (a warm view
    # of a 10k register spent 2 s of CPU here); the register is shared and never changed.
    key = ("sections", id(reg), reg.now, period, lang())
    sections = reg.memo.get(key) or reg.memo.setdefault(key, build_sections(reg, period, lang()))
    st.caption(generated(reg, period, lang()))  # every figure is as of the period's end
    if may(person, "report"):
        # Built only when clicked: the pack renders charts to images and takes seconds.
        st.download_button(t("download_pack"), data=partial(pack_zip, reg, period, lang()),
                           file_name=f"complaints-{period}.zip", mime="application/zip",
                           key="pack")
    for s in sections:
        st.subheader(esc(s.title))
        for line in s.text:
            st.markdown(esc(line))
        if s.chart is not None:
            st.altair_chart(s.chart, width="stretch")
        if not s.table.empty:
            st.dataframe(s.display(), hide_index=True, width="stretch")
            st.download_button(t("download_csv"), safe_csv(s.table), f"{period}-{s.key}.csv",
                               "text/csv", key=f"csv_{s.key}")
