"""Closure: the R-CLOSE checklist item by item, what is missing recordable in place; closing
works only when every item holds. Refreshes on its own within the read window."""

import pandas as pd
import streamlit as st

from core import config
from core.commands.intake import register_complaint
from core.errors import RegisterError
from core.rules.access import may, may_see, recordable, visible_rows
from core.rules.closure import (
    can_close,
    can_escalate,
    checklist,
    needs_reprocessing,
    open_rows,
    reprocess_changes,
    times_reprocessed,
)
from pages._shared import (
    choices,
    clear_cache,
    esc,
    failed,
    field_input,
    lang,
    letter_downloads,
    now,
    page,
    record_and_say,
    register,
    show_outcome,
    store,
    t,
)


def _write(reg, row, changes, message, blank_is_now=False, form=()) -> None:
    """A button's or the form's callback: write, then say so (the form cleared) or say why not
    (the form kept)."""
    if record_and_say(reg, row, changes, person, "c", message, blank_is_now) != []:
        return
    for k in form:
        st.session_state.pop(f"c_{k}", None)
    if "closed_at" in changes:  # keep showing it, closed, with the close button disabled
        st.session_state["c_just_closed"] = int(row)


def _record_missing(reg, row, keys) -> None:
    # several items at once, each optional: a field left blank records nothing (a time is
    # "now" only when the word is typed; the form says so)
    changes = {k: st.session_state.get(f"c_{k}", "") for k in keys}
    changes = {k: v for k, v in changes.items() if str(v or "").strip()}
    if changes:
        _write(reg, row, changes, t("recorded"), form=keys)


def _repeat(reg, row, pick) -> None:
    r = reg.table.loc[row]
    values = {k: r[k] for k in ("complainant", "contact", "respondent", "subject",
                                "description", "request", "channel")}
    values.update(parent_id=pick, received_at="now")
    try:
        saved = register_complaint(store(), reg, values, user=person, now=now())
    except RegisterError as exc:
        st.session_state["c_outcome"] = ("error", failed(exc))
    else:
        clear_cache()
        st.session_state["c_outcome"] = ("success", esc(t("saved", id=saved.id)))


@st.fragment(run_every=config.cache_seconds())
def closure_view() -> None:
    reg = register()
    if reg is None:
        return
    seen = visible_rows(reg, person)
    rows = list(open_rows(reg).intersection(seen, sort=False))
    just = st.session_state.get("c_just_closed")
    if just in reg.table.index and just in seen and just not in rows:
        rows.append(just)
    if not rows:
        st.info(t("no_open"))
        return
    ids = reg.table.loc[rows, "id"].tolist()
    default = reg.table.at[st.session_state["selected_row"], "id"] \
        if st.session_state.get("selected_row") in rows else ids[0]
    if st.session_state.get("close_pick") not in ids:
        st.session_state.pop("close_pick", None)
    pick = st.selectbox(t("open_one"), ids, index=ids.index(default), key="close_pick")
    row = rows[ids.index(pick)]
    if row != just:
        st.session_state.pop("c_just_closed", None)
    r = reg.table.loc[row]
    closed = pd.notna(r["closed_at"])
    st.markdown(f"**{esc(pick)}** — {esc(r['subject'])}")
    if may_see(reg, person, row).complainant:  # letters name the complainant
        letter_downloads(reg, pick, "c")
    items = checklist(reg, row)
    for item in items:
        mark = ":green[:material/check_circle:]" if item.ok else ":red[:material/cancel:]"
        hint = ""
        if not item.ok and item.missing:
            cols = ", ".join(reg.tab.column(c).header(lang()) for c in item.missing)
            hint = f" — {esc(t('to_record', cols=cols))}"
        elif not item.ok and item.why:
            value = choices(reg, "satisfaction")[1](item.value) if item.value else ""
            hint = f" — {esc(t(item.why, value=value))}"
        st.write(f"{mark} {t('close_' + item.key)}{hint}")
    # R-CLOSE: what is missing is recorded here, not on another page
    todo = [c for i in items if not i.ok for c in
            (*i.missing, *(("reply_written",) if i.why == "close_why_not_in_writing" else ()))]
    todo = recordable(reg, person, row, list(dict.fromkeys(todo))) if not closed else []
    if todo:
        with st.form("close_missing"):
            st.markdown(f"**{t('record_missing')}**")
            for k in todo:
                field_input(reg, k, f"c_{k}", time_hint="time_hint_now")
            st.form_submit_button(t("record"), on_click=_record_missing, args=(reg, row, todo))
    if closed:
        st.info(t("closed_already"))
    st.button(t("close_button"), type="primary", disabled=closed or not can_close(reg, row),
              key="close_go", on_click=_write,
              args=(reg, row, {"closed_at": "now"}, t("closed_ok", id=pick)))
    if times_reprocessed(reg, row):
        first = r["first_satisfaction"] or r["satisfaction"]
        st.caption(t("reprocessed_times", n=times_reprocessed(reg, row),
                     first=choices(reg, "satisfaction")[1](first) or "—"))
    if not closed and needs_reprocessing(reg, row):
        st.warning(t("unsatisfied"))
        a, b, c = st.columns(3)
        if may(person, "reopen"):
            a.button(t("reprocess"), key="reprocess", on_click=_write,
                     args=(reg, row, reprocess_changes(reg, row), t("recorded")))
        if may(person, "intake"):
            b.button(t("linked_repeat"), key="repeat", on_click=_repeat, args=(reg, row, pick))
        # R-REOPEN: escalation only after a reprocessing that still left them unsatisfied
        if may(person, "escalate"):
            c.button(t("escalate"), key="escalate", disabled=not can_escalate(reg, row),
                     help=None if can_escalate(reg, row) else t("escalate_after_reprocess"),
                     on_click=_write, args=(reg, row, {"escalated": "yes"}, t("recorded")))
    show_outcome(reg, "c")


person = page("closure")
st.header(t("page_closure"))
st.write(t("closure_intro"))
closure_view()
