"""Department scores for a month (R-SCORE): points, yuan, deductions, exemptions, escalations."""

import pandas as pd
import streamlit as st

from core.rules.scoring import department_scores
from pages._shared import esc, lang, page, register, t


def late_table(reg, entries: list[dict]) -> pd.DataFrame:
    """Deductions or exemptions as people read them: labels, dates, never raw keys."""
    out = {t("col_row"): [e["row"] for e in entries], t("col_id"): [e["id"] for e in entries],
           t("col_clock"): [reg.policy.clock(e["clock"]).label(lang()) if reg.policy.clock(
               e["clock"]) else e["clock"] for e in entries],
           t("col_late_kind"): [t(f"late_{e['kind']}") for e in entries],
           t("col_due"): [e["due"][:16].replace("T", " ") for e in entries],
           t("col_late_days"): [e["late_days"] for e in entries]}
    if any("points" in e for e in entries):
        out[t("col_points")] = [e.get("points", 0) for e in entries]
        out[t("col_doubled")] = [t("yes" if e.get("doubled") else "no") for e in entries]
    return pd.DataFrame(out)


page("scores")
st.header(t("page_scores"))
st.write(t("scores_intro"))
reg = register()
if reg is not None:
    last = pd.Timestamp(reg.now).to_period("M")
    month = st.selectbox(t("pick_month"), [str(p) for p in pd.period_range(last - 14, last,
                                                                            freq="M")][::-1],
                         key="score_month")
    # once per checked register and month, for every session
    result = reg.derived(("scores", month), lambda: department_scores(reg, month))
    if not result["departments"]:
        st.info(t("no_scores"))
    for d in result["departments"]:
        if d["escalated"]:
            st.error(esc(t("escalation_warning", d=d["department"], n=d["points_lost"])))
    if result["departments"]:
        st.dataframe(pd.DataFrame([{
            t("col_department"): d["department"], t("col_lost"): d["points_lost"],
            t("col_gained"): d["points_gained"], t("col_yuan"): d["yuan"],
            t("col_escalated"): t("yes" if d["escalated"] else "no")}
            for d in result["departments"]]), hide_index=True, width="stretch", height="content")
        for d in result["departments"]:
            with st.expander(esc(f"{d['department']}: -{d['points_lost']} / +{d['points_gained']}")):
                for key in ("deductions", "exemptions"):
                    if d[key]:
                        st.write(t(key))
                        st.dataframe(late_table(reg, d[key]), hide_index=True, width="stretch",
                                     height="content")
                for key, title, count, points in (
                        ("complained_about", "complained_people", "complaints", "col_lost"),
                        ("praised", "praised_people", "praises", "col_gained")):
                    if d[key]:
                        st.write(t(title))
                        st.dataframe(pd.DataFrame({
                            t("col_employee"): [e["employee"] for e in d[key]],
                            t(f"col_{count}"): [e[count] for e in d[key]],
                            t(points): [e["points"] for e in d[key]]}),
                            hide_index=True, width="stretch", height="content")
