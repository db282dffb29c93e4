"""Closure: the R-CLOSE checklist item by item; closing works only when every item holds."""

import streamlit as st

from core.access import may, may_see, visible_rows
from core.closure import (
    can_close,
    can_escalate,
    checklist,
    needs_reprocessing,
    open_rows,
    reprocess_changes,
    times_reprocessed,
)
from core.errors import RegisterError
from core.intake import record_milestones, register_complaint
from pages._shared import (
    choices,
    clear_cache,
    esc,
    failed,
    lang,
    letter_downloads,
    now,
    page,
    register,
    store,
    t,
)


def _write(reg, row, changes, message) -> None:
    try:
        bad = record_milestones(store(), reg, row, changes, user=person, now=now())
    except RegisterError as exc:
        st.error(failed(exc))
        return
    if bad:
        for p in bad:
            st.error(esc(p.message(reg.tab, lang())))
    else:
        clear_cache()
        st.success(esc(message))


person = page("closure")
st.header(t("page_closure"))
st.write(t("closure_intro"))
reg = register()
if reg is not None:
    rows = list(open_rows(reg).intersection(visible_rows(reg, person), sort=False))
    if not rows:
        st.info(t("no_open"))
    else:
        ids = [reg.table.at[r, "id"] for r in rows]
        default = reg.table.at[st.session_state["selected_row"], "id"] \
            if st.session_state.get("selected_row") in rows else ids[0]
        pick = st.selectbox(t("open_one"), ids, index=ids.index(default), key="close_pick")
        row = rows[ids.index(pick)]
        r = reg.table.loc[row]
        st.markdown(f"**{esc(pick)}** — {esc(r['subject'])}")
        if may_see(reg, person, row).complainant:  # letters name the complainant
            letter_downloads(reg, pick, "c")
        for item in checklist(reg, row):
            cols = ", ".join(reg.tab.column(c).header(lang()) for c in item.record)
            mark = ":green[:material/check_circle:]" if item.ok else ":red[:material/cancel:]"
            hint = "" if item.ok else f" — {t('to_record', cols=cols)}"
            st.write(f"{mark} {t('close_' + item.key)}{hint}")
        if st.button(t("close_button"), type="primary", disabled=not can_close(reg, row),
                     key="close_go"):
            _write(reg, row, {"closed_at": "now"}, t("closed_ok", id=pick))
        if times_reprocessed(reg, row):
            first = r["first_satisfaction"] or r["satisfaction"]
            st.caption(t("reprocessed_times", n=times_reprocessed(reg, row),
                         first=choices(reg, "satisfaction")[1](first) or "—"))
        if needs_reprocessing(reg, row):
            st.warning(t("unsatisfied"))
            a, b, c = st.columns(3)
            if may(person, "reopen") and a.button(t("reprocess"), key="reprocess"):
                _write(reg, row, reprocess_changes(reg, row), t("recorded"))
            if may(person, "intake") and b.button(t("linked_repeat"), key="repeat"):
                values = {k: r[k] for k in ("complainant", "contact", "respondent", "subject",
                                            "description", "request", "channel")}
                values.update(parent_id=pick, received_at="now")
                try:
                    saved = register_complaint(store(), reg, values, user=person, now=now())
                except RegisterError as exc:
                    st.error(failed(exc))
                else:
                    clear_cache()
                    st.success(esc(t("saved", id=saved.id)))
            # R-REOPEN: escalation only after a reprocessing that still left them unsatisfied
            if may(person, "escalate") and c.button(
                    t("escalate"), key="escalate", disabled=not can_escalate(reg, row),
                    help=None if can_escalate(reg, row) else t("escalate_after_reprocess")):
                _write(reg, row, {"escalated": "yes"}, t("recorded"))
