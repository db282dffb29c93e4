"""Intake: register a complaint; validated by core, numbered, written with an audit line."""

import streamlit as st

from core.commands.intake import INTAKE_FIELDS, INTAKE_REQUIRED, register_complaint
from core.errors import RegisterError
from pages._shared import (
    clear_cache,
    esc,
    failed,
    field_input,
    lang,
    now,
    off_list_warnings,
    page,
    register,
    store,
    t,
)

FIELDS = ("received_at", *INTAKE_FIELDS)


def _save(reg) -> None:
    values = {k: st.session_state.get(f"in_{k}", "") for k in FIELDS}
    values = {k: v.strip() if isinstance(v, str) else v for k, v in values.items()}
    st.session_state.pop("intake_saved", None)
    try:
        saved = register_complaint(store(), reg, values, user=person, now=now())
    except RegisterError as exc:  # the widgets keep every value the clerk typed
        st.session_state["intake_error"] = failed(exc)
        st.session_state["intake_problems"] = {}
        return
    st.session_state["intake_error"] = ""
    st.session_state["intake_problems"] = {p.column: p.message(reg.tab, lang())
                                           for p in saved.row_problems}
    if saved.id:
        st.session_state["intake_saved"] = saved
        st.session_state["intake_written"] = values
        for k in FIELDS:
            st.session_state[f"in_{k}"] = ""
        clear_cache()


person = page("intake")
st.header(t("page_intake"))
st.write(t("intake_intro"))
reg = register()
if reg is not None:
    problems = st.session_state.get("intake_problems", {})
    with st.form("intake"):
        left, right = st.columns(2)
        for i, key in enumerate(FIELDS):
            with left if i % 2 == 0 else right:
                field_input(reg, key, f"in_{key}", key in INTAKE_REQUIRED or key == "subject",
                            problems)
        st.form_submit_button(t("save"), type="primary", on_click=_save, args=(reg,))
    if st.session_state.get("intake_error"):
        st.error(st.session_state["intake_error"])
    elif problems:
        st.warning(t("fix_fields"))
    saved = st.session_state.get("intake_saved")
    if saved:
        lines = [t("due_line", clock=reg.policy.clock(c).label(lang()),
                   due=d.strftime("%Y-%m-%d %H:%M")) for c, d in saved.clocks.items()]
        st.success("  \n".join(esc(x) for x in [t("saved", id=saved.id), *lines]))
        off_list_warnings(reg, st.session_state.get("intake_written", {}))
