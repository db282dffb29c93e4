"""Work queue: every open complaint with its next step, owner, due time and state, most urgent
first; a detail view records the next step. The page refreshes on its own within the read
window, and at once after the user's own write."""

from functools import partial

import pandas as pd
import streamlit as st

from core import config
from core.commands.intake import MILESTONES
from core.reading.i18n import label
from core.rules.access import may_see, recordable, visible_rows
from core.rules.flags import ROUTING
from core.rules.queue import (
    STATES,
    TIP_OFF_COLUMNS,
    filter_queue,
    mine,
    my_department,
    queue_counts,
    queue_frame,
    remaining,
    search,
    tip_off_frame,
)
from pages._shared import (
    STATE_COLOURS,
    choices,
    esc,
    field_input,
    field_table,
    header_of,
    lang,
    letter_downloads,
    many,
    one,
    page,
    record_and_say,
    register,
    show_outcome,
    shown_time,
    state_label,
    t,
)

FILTERS = ("department", "handler", "state", "severity", "warning_level", "category", "channel")
QUICK = ("all", "mine", "department")
PAGE = 200  # rows per page of the table (every page reachable; search narrows)
#: what the complaint says, shown above its milestones (the complainant masked unless allowed)
DETAILS = ("kind", "channel", "received_at", "complainant", "contact", "address", "respondent",
           "subject", "description", "request", "materials")


def _record(reg, row: int) -> None:
    """The record form's callback: write, then clear the form (a failed write keeps it)."""
    fields = st.session_state.get("q_fields") or []
    if not fields:
        return
    changes = {k: st.session_state.get(f"q_{k}", "") for k in fields}
    bad = record_and_say(reg, row, changes, person, "q", t("recorded"), blank_is_now=True)
    if bad is None:
        return
    st.session_state["q_problems"] = {p.column: p.message(reg.tab, lang()) for p in bad}
    if bad:
        return
    for k in fields:
        st.session_state.pop(f"q_{k}", None)
    st.session_state["q_fields"] = []


def _select(shown_ids: list[str]) -> None:
    """A row clicked in the table opens it below."""
    picked = st.session_state["queue_table"].selection.rows
    if picked and picked[0] < len(shown_ids):
        st.session_state["queue_pick"] = shown_ids[picked[0]]


def _quick_label(key: str, language: str) -> str:
    return label(f"quick_{key}", language)


def _view(q: pd.DataFrame, reg) -> pd.DataFrame:
    step = [t(s) for s in q["step"]]
    owner = [o or t("no_owner") for o in q["owner"]]
    return pd.DataFrame({
        t("col_id"): q["id"], t("col_subject"): q["subject"],
        t("col_step"): step, t("col_owner"): owner,
        t("col_due"): [shown_time(d) for d in q["due"]],
        t("col_days"): [remaining(d, lang()) for d in q["days_left"]],
        t("col_state"): [state_label(s) for s in q["state"]],
        t("col_clock"): [reg.policy.clock(c).label(lang()) if c else "" for c in q["clock"]],
        t("col_department"): q["department"], t("col_handler"): q["handler"],
        t("col_age_days"): q["age_days"].round(0).astype("Int64"),
        t("col_row"): q["row"]})


@st.fragment(run_every=config.cache_seconds())
def queue_view() -> None:
    reg = register()
    if reg is None:
        return
    queue_table(reg)
    tip_off_list(reg)


def queue_table(reg) -> None:
    q = queue_frame(reg)
    q = q[q["row"].isin(visible_rows(reg, person))]
    counts = queue_counts(q, reg.now)
    for col, key in zip(st.columns(5), ("open", "overdue", "due_today", "due_soon", "no_clock"),
                        strict=True):
        col.metric(t({"open": "open_count", "no_clock": "no_clock_count"}.get(key, key)),
                   counts[key])
    quick = st.radio(t("quick_filter"), QUICK, horizontal=True, key="q_quick",
                     format_func=partial(_quick_label, language=lang()))
    text = st.text_input(t("queue_search"), key="q_search")
    chosen = {}
    with st.expander(t("more_filters")):
        cols = st.columns(len(FILTERS))
        for col, key in zip(cols, FILTERS, strict=True):
            with col:
                if key == "state":
                    opts = list(STATES)
                    fmt = partial(state_label, language=lang())
                elif key in ("department", "handler"):
                    opts, fmt = sorted(v for v in q[key].unique() if v), str
                else:
                    opts, fmt = choices(reg, key)
                    opts = opts[1:]
                title = t("col_state") if key == "state" else reg.tab.column(key).header(lang())
                chosen[key] = st.multiselect(title, opts, key=f"f_{key}", format_func=fmt,
                                             **many())
    shown = filter_queue(q, chosen)
    if quick == "mine":
        shown = shown[mine(shown, person)]
    elif quick == "department":
        shown = shown[my_department(shown, person)]
    shown = shown[search(shown, text)]
    if shown.empty:
        st.info(t("queue_empty"))
    else:
        pages = (len(shown) - 1) // PAGE + 1
        at = 1
        if pages > 1:
            at = st.number_input(t("queue_page"), 1, pages, 1, key="q_page_no")
        part = shown.iloc[(at - 1) * PAGE: at * PAGE]
        view = _view(part, reg)
        colour = {state_label(k): v for k, v in STATE_COLOURS.items()}
        st.dataframe(view.style.map(lambda s: f"background-color: {colour.get(s, '')}",
                                    subset=[t("col_state")]),
                     hide_index=True, width="stretch", height=min(38 + 35 * len(view), 560),
                     # the number stays in sight when the table is scrolled sideways
                     column_config={t("col_id"): st.column_config.TextColumn(pinned=True)},
                     key="queue_table", on_select=partial(_select, list(part["id"])),
                     selection_mode="single-row")
        st.caption(t("queue_pages", first=(at - 1) * PAGE + 1,
                     last=(at - 1) * PAGE + len(part), total=len(shown)))
    if person.wall:
        return
    ids = list(shown["id"])
    if st.session_state.get("queue_pick") not in [None, *ids]:
        ids.append(st.session_state["queue_pick"])  # keep the open one while filters change
    if st.session_state.get("queue_pick") and st.session_state["queue_pick"] not in set(q["id"]):
        st.session_state["queue_pick"] = None  # closed or gone since
        ids = [i for i in ids if i in set(q["id"])]
    # nothing chosen is the placeholder, not an option: an option "请选择" stayed shown as the
    # choice in an English page after a change of language
    pick = st.selectbox(t("open_one"), ids, key="queue_pick", index=None, **one())
    if pick:
        detail(reg, q, pick)


def detail(reg, q: pd.DataFrame, pick: str) -> None:
    line = q.loc[q["id"].eq(pick)].iloc[0]
    row = int(line["row"])
    st.session_state["selected_row"] = row
    r = reg.table.loc[row]
    st.markdown(esc(t("next_step_line", step=t(line["step"]),
                      owner=line["owner"] or t("no_owner"))))
    left, right = st.columns(2)
    with left:
        st.subheader(t("complaint_details"))
        details = field_table(reg, person, row, DETAILS)
        st.dataframe(details, hide_index=True, width="stretch", height=38 + 35 * len(details))
        st.subheader(t("milestones"))
        milestones = field_table(reg, person, row, MILESTONES)
        if milestones.empty:  # Streamlit's empty table says "empty" in English only
            st.caption(t("milestones_none"))
        else:
            st.dataframe(milestones, hide_index=True, width="stretch",
                         height=38 + 35 * len(milestones), key=f"q_ms_{row}_{r['version']}")
    with right:
        if r["warning_level"]:
            st.write(t("routing_" + ROUTING[r["warning_level"]]))
        st.subheader(t("clocks"))
        for cid, c in reg.clocks.items():
            if pd.notna(c.at[row, "due"]):
                ext = t("extended", due=shown_time(c.at[row, "original_due"])) \
                    if c.at[row, "extended"] else ""
                st.write(esc(f"{reg.policy.clock(cid).label(lang())}: "
                             f"{shown_time(c.at[row, 'due'])} — "
                             f"{state_label(c.at[row, 'state'])}") + esc(ext))
        if may_see(reg, person, row).complainant:  # letters name the complainant
            letter_downloads(reg, pick, "q")
    allowed = recordable(reg, person, row, MILESTONES)
    if not allowed:
        return
    st.subheader(t("record_next"))
    fields = st.multiselect(t("fields_to_record"), allowed, key="q_fields", **many(),
                            format_func=partial(header_of, reg, language=lang()))
    problems = st.session_state.get("q_problems", {})
    with st.form("milestone"):
        for k in fields:
            field_input(reg, k, f"q_{k}", problems=problems)
        st.form_submit_button(t("record"), type="primary", on_click=_record, args=(reg, row))
    show_outcome(reg, "q")


def tip_off_list(reg) -> None:
    """R-KIND: tip-offs are listed apart; only a supervisor may open them (R-RECUSE)."""
    if person.wall:
        return
    tips = tip_off_frame(reg, visible_rows(reg, person))
    if tips.empty:
        return
    with st.expander(f"{t('fig_tip_offs')}: {len(tips)}"):
        view = pd.DataFrame({reg.tab.column(k).header(lang()): (
            tips[k].map(shown_time) if k in ("received_at", "closed_at") else tips[k])
            for k in TIP_OFF_COLUMNS})
        st.dataframe(view, hide_index=True, width="stretch")


person = page("queue")
st.header(t("page_queue"))
st.write(t("queue_intro"))
queue_view()
