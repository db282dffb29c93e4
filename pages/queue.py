"""Work queue: open complaints by nearest deadline; a detail view records the next step."""

from functools import partial

import pandas as pd
import streamlit as st

from core.access import may_see, recordable, visible_rows
from core.errors import RegisterError
from core.flags import ROUTING
from core.intake import MILESTONES, record_milestones
from core.queue import filter_queue, queue_counts, queue_frame
from pages._shared import (
    STATE_COLOURS,
    choices,
    clear_cache,
    esc,
    failed,
    field_input,
    field_table,
    header_of,
    lang,
    letter_downloads,
    many,
    now,
    one,
    page,
    register,
    state_label,
    store,
    t,
)

FILTERS = ("department", "handler", "state", "severity", "warning_level", "category", "channel")
SHOW = 500
#: what the complaint says, shown above its milestones (the complainant masked unless allowed)
DETAILS = ("kind", "channel", "received_at", "complainant", "contact", "address", "respondent",
           "subject", "description", "request", "materials")

person = page("queue")
st.header(t("page_queue"))
st.write(t("queue_intro"))
reg = register()
if reg is not None:
    q = queue_frame(reg)
    q = q[q["row"].isin(visible_rows(reg, person))]
    counts = queue_counts(q, reg.now)
    c1, c2, c3 = st.columns(3)
    c1.metric(t("overdue"), counts["overdue"])
    c2.metric(t("due_today"), counts["due_today"])
    c3.metric(t("due_soon"), counts["due_soon"])
    cols = st.columns(len(FILTERS))
    chosen = {}
    for col, key in zip(cols, FILTERS, strict=True):
        with col:
            if key == "state":
                opts = ["overdue", "due_soon", "running"]
                fmt = partial(state_label, language=lang())
            elif key in ("department", "handler"):
                opts, fmt = sorted(v for v in q[key].unique() if v), str
            else:
                opts, fmt = choices(reg, key)
                opts = opts[1:]
            title = t("col_state") if key == "state" else reg.tab.column(key).header(lang())
            chosen[key] = st.multiselect(title, opts, key=f"f_{key}", format_func=fmt, **many())
    shown = filter_queue(q, chosen)
    if shown.empty:
        st.info(t("queue_empty"))
    else:
        view = pd.DataFrame({
            t("col_row"): shown["row"], t("col_id"): shown["id"], t("col_subject"): shown["subject"],
            t("col_department"): shown["department"],
            t("col_clock"): [reg.policy.clock(c).label(lang()) if c else "" for c in shown["clock"]],
            t("col_due"): shown["due"].dt.strftime("%Y-%m-%d %H:%M").fillna(""),
            t("col_state"): [state_label(s) for s in shown["state"]]}).head(SHOW)
        colour = {state_label(k): v for k, v in STATE_COLOURS.items()}
        st.dataframe(view.style.map(lambda s: f"background-color: {colour.get(s, '')}",
                                    subset=[t("col_state")]), hide_index=True, width="stretch")
        st.caption(t("shown_of", n=len(view), total=len(shown)))
        pick = None if person.wall else st.selectbox(t("open_one"), list(shown["id"]), index=None,
                                                     key="queue_pick", **one())
        if pick:
            row = int(shown.loc[shown["id"].eq(pick), "row"].iloc[0])
            st.session_state["selected_row"] = row
            r = reg.table.loc[row]
            left, right = st.columns(2)
            with left:
                st.subheader(t("complaint_details"))
                st.dataframe(field_table(reg, person, row, DETAILS), hide_index=True,
                             width="stretch", height="content")
                st.subheader(t("milestones"))
                st.dataframe(field_table(reg, person, row, MILESTONES), hide_index=True,
                             width="stretch", height="content")
            with right:
                if r["warning_level"]:
                    st.write(t("routing_" + ROUTING[r["warning_level"]]))
                st.subheader(t("clocks"))
                for cid, c in reg.clocks.items():
                    if pd.notna(c.at[row, "due"]):
                        ext = t("extended", due=c.at[row, "original_due"].strftime("%Y-%m-%d %H:%M")) \
                            if c.at[row, "extended"] else ""
                        st.write(f"{reg.policy.clock(cid).label(lang())}: "
                                 f"{c.at[row, 'due']:%Y-%m-%d %H:%M} — "
                                 f"{state_label(c.at[row, 'state'])}{ext}")
                if may_see(reg, person, row).complainant:  # letters name the complainant
                    letter_downloads(reg, pick, "q")
            allowed = recordable(reg, person, row, MILESTONES)
            if allowed:
                st.subheader(t("record_next"))
                fields = st.multiselect(t("fields_to_record"), allowed, key="q_fields", **many(),
                                        format_func=partial(header_of, reg, language=lang()))
                problems = st.session_state.get("q_problems", {})
                with st.form("milestone"):
                    for k in fields:
                        field_input(reg, k, f"q_{k}", problems=problems)
                    go = st.form_submit_button(t("record"), type="primary")
                if go and fields:
                    changes = {k: st.session_state.get(f"q_{k}", "") for k in fields}
                    try:
                        bad = record_milestones(store(), reg, row, changes, user=person, now=now())
                    except RegisterError as exc:
                        st.error(failed(exc))
                    else:
                        st.session_state["q_problems"] = {p.column: p.message(reg.tab, lang())
                                                          for p in bad}
                        if bad:
                            for p in bad:
                                st.error(esc(f"{reg.tab.column(p.column).header(lang())}: "
                                             f"{p.message(reg.tab, lang())}"))
                        else:
                            clear_cache()
                            st.success(t("recorded"))
