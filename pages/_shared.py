"""What every page needs: the language, the register (read once per cache window), labels."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re

import pandas as pd
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from core import config
from core.commands.intake import record_milestones
from core.errors import RegisterError
from core.front.service import register_from, store_for
from core.reading.i18n import label
from core.rules import clock
from core.rules.access import CONFIDENTIAL, Who, may, may_see, pages_for
from core.rules.picklists import off_list, pick_list
from core.rules.register import Register

# Streamlit starts in its legacy pages/ mode whenever a pages/ folder exists, and leaves it
# only once app.py has called st.navigation. A first request straight to a page URL (a
# bookmark, right after a restart) would run that page without app.py. Leave that mode and
# run again, through app.py.
if PagesManager.uses_pages_directory:
    PagesManager.uses_pages_directory = False
    st.rerun()


BANNER_WARNINGS = ("calendar_year",)


def lang() -> str:
    return st.session_state.get("lang", "zh")


def t(key: str, **params) -> str:
    return label(key, lang(), **params)


def one() -> dict:
    """A selectbox's own text in the UI's language (never Streamlit's "Choose an option");
    pass index=None too where nothing is chosen at first."""
    return {"placeholder": t("choose_one")}


def many() -> dict:
    """A multiselect's own text in the UI's language (never "Choose options"), without
    Streamlit's English "Select all" entry."""
    return {"placeholder": t("choose_many"), "select_all": False}


def target() -> config.Target:
    return st.session_state.get("target") or config.resolve()


@st.cache_resource(show_spinner=False)
def _store(target_key: tuple):
    """One store per register for the whole server: a Google Sheet is opened once."""
    creds = dict(target_key[2]) if target_key[2] else None
    return store_for(config.Target(target_key[0], target_key[1], credentials=creds))


@st.cache_resource(ttl=config.cache_seconds(), max_entries=4, show_spinner=False)
def _read(target_key: tuple) -> tuple:
    """One read of the whole register, shared by every page and session for the window.

    Kept as a resource, not as data: a view served from it neither pickles nor unpickles
    the workbook (at 10k rows that was most of a warm view). Nothing changes the book it
    returns; the key holds the file's time stamp, so a saved file is read again at once.
    """
    book = _store(target_key[:3]).read()
    return book, dt.datetime.now(dt.UTC)


@st.cache_resource(max_entries=4, show_spinner=False)
def _build(key: tuple, read_at: dt.datetime, policy: str | None, minute: dt.datetime, source: str):
    """The checked register for one read, policy and minute, shared by every session.

    Pages only read it. Clocks are evaluated to the minute, which is all a queue shows.
    """
    book, _ = _read(key)
    return register_from(book, policy=policy, now=minute, source=source)


def _key(tgt: config.Target) -> tuple:
    """The cache key: a local workbook is re-read as soon as the file changes (someone saved
    it in Excel); a Google Sheet is re-read after the cache window or the app's own write."""
    stamp = None
    if tgt.workbook:
        with contextlib.suppress(OSError):
            stamp = os.stat(tgt.workbook).st_mtime_ns
    creds = tuple(sorted((tgt.credentials or {}).items())) or None
    return (tgt.workbook, tgt.gsheet, creds, stamp)


def clear_cache(reopen: bool = False) -> None:
    """Forget the shared read (after the app's own write); `reopen` also re-opens the
    register (the Refresh button: tabs added by hand are seen)."""
    _read.clear()
    if reopen:
        _store.clear()


def register(details: bool | None = None) -> Register | None:
    """The register as of now; on a read error, the last good one marked stale (or None).
    The error's details (they name the file or sheet) only for those who may see where the
    register is kept (`details`: whether the caller, who knows, allows them)."""
    tgt = target()
    try:
        with st.spinner(t("reading")):
            key = _key(tgt)
            _, read_at = _read(key)
            minute = now().replace(second=0, microsecond=0)
            reg = _build(key, read_at, st.session_state.get("policy"), minute,
                         tgt.workbook or tgt.gsheet)
        read_at = clock.local(read_at, reg.policy.tz)  # shown in the register's time
        st.session_state["last_good"] = (reg, read_at)
        st.session_state["read_at"] = read_at
        for w in reg.warnings:  # R-CAL: a year the calendar does not know, on every page
            if w.code in BANNER_WARNINGS:
                st.warning(w.message(lang()))
        return reg
    except RegisterError as exc:
        known = st.session_state.get("who")
        if details is None:
            details = known is not None and may(known, "location")
        shown = exc if details else "—"
        st.error(esc(t("read_error", e=shown)))
        last = st.session_state.get("last_good")
        if last:
            st.warning(t("stale", t=last[1].strftime("%Y-%m-%d %H:%M:%S")))
            return last[0]
        return None


def store():
    return _store(_key(target())[:3])


def who() -> Who:
    """The person using this session, as app.py identified them for this run."""
    return st.session_state["who"]


def page(key: str) -> Who:
    """The person opening page `key`; stops the page when their role may not open it (the
    navigation lists only the pages they may open, this also holds for a bookmark)."""
    person = st.session_state.get("who")
    if person is None or key not in pages_for(person):
        st.stop()
    return person


# What makes Streamlit's markdown more than text: emphasis, code, links and images, HTML,
# LaTeX, strikethrough, tables, headings and entities anywhere; lists, quotes and rules at
# the start of a line; `:name:` emoji, icons and colour directives; bare web and mail
# addresses, which GFM links even when escaped.
_MARKUP = re.compile(r"([\\`*_\[\]<>$~|#&])")
_LINE_START = re.compile(r"(?m)^(\s*)([-+=>]|\d+(?=[.)]))")
_DIRECTIVE = re.compile(r":(?=[A-Za-z_])")
_AUTOLINK = re.compile(r"(?i)(://|www\.|@)")
_JOIN = "\u2060"  # word joiner: invisible, and no address or link forms across it


def esc(text: object) -> str:
    """`text` for an element that renders markdown (st.markdown, alerts, captions, labels):
    shown exactly as written, never as markdown, HTML, a link, an image or an icon."""
    s = _AUTOLINK.sub(lambda m: _JOIN + m.group(1), str(text))
    s = _MARKUP.sub(r"\\\1", s)
    s = _LINE_START.sub(lambda m: m.group(1) + (m.group(2) + "\\" if m.group(2)[0].isdigit()
                                                else "\\" + m.group(2)), s)
    return _DIRECTIVE.sub("&#58;", s)


def now() -> dt.datetime:
    """This moment, as an aware time; core turns it into the register's wall-clock time
    (tests may pin it in session_state['now'])."""
    return st.session_state.get("now") or dt.datetime.now(dt.UTC)


def choices(reg: Register, key: str) -> tuple[list[str], callable]:
    """Options of an enumerated column and how to show them in the current language."""
    col = reg.tab.column(key)
    vs = reg.policy.categories if col.type == "category" else reg.schema.value_sets[col.values]
    current = lang()  # bound now: a format_func may be called outside the script run
    return ["", *vs.keys()], lambda k: "" if k == "" else vs.label(k, current)


def field_input(reg: Register, key: str, widget_key: str, required: bool = False,
                problems: dict | None = None, time_hint: str = "received_hint") -> None:
    """One register column as a widget, with its problem shown right under it."""
    col = reg.tab.column(key)
    title = col.header(lang()) + (" *" if required else "")
    if col.type in ("enum", "bool", "category"):
        opts, fmt = choices(reg, key)
        st.selectbox(title, opts, key=widget_key, format_func=fmt, **one())
    elif pick_list(reg, key):  # people and departments: from the Users / Departments tabs
        opts = pick_list(reg, key)
        typed = st.session_state.get(widget_key)
        if typed and typed not in opts:  # a value typed before (kept after a failed write)
            opts = [*opts, typed]
        st.selectbox(title, ["", *opts], key=widget_key, accept_new_options=True,
                     placeholder=t("pick_or_type"))
    elif key in ("description", "request", "root_cause", "corrective_action", "notes"):
        st.text_area(title, key=widget_key, height=80)
    elif col.type == "datetime":
        st.text_input(title, key=widget_key, placeholder=t(time_hint))
    else:
        st.text_input(title, key=widget_key)
    if problems and key in problems:
        st.error(esc(problems[key]))


def state_label(state: str, language: str | None = None) -> str:
    return label(f"state_{state}", language or lang()) if state else ""


STATE_COLOURS = {"overdue": "#f8d7da", "due_soon": "#fff3cd", "running": "#e7f1ff",
                 "missed": "#f3e5f5", "met": "#d4edda"}


def header_of(reg: Register, key: str, language: str) -> str:
    return reg.tab.column(key).header(language)


def letter_downloads(reg: Register, complaint_id: str, key: str) -> None:
    """The letters of one complaint (R-LETTER), in the register's language: pick one,
    download it as Word or PDF."""
    from core.commands.letters import letter_download, letter_filename, letter_kinds

    current = lang()
    # a box per language: one kept across a change of language shows its old label
    kind = st.selectbox(t("letter_choose"), letter_kinds(reg), key=f"{key}_letter_{current}",
                        format_func=lambda k: label(f"letter_kind_{k}", current), **one())
    if not kind:
        return
    try:  # made once per register and letter (in the register's language), not every rerun
        name, docx = reg.derived(("letter", complaint_id, kind, "docx"),
                                 lambda: letter_download(reg, complaint_id, kind, "docx"))
    except RegisterError as exc:
        st.error(str(exc))
        return
    a, b = st.columns(2)
    a.download_button(t("letter_docx"), docx, name, key=f"{key}_docx", mime="application/"
                      "vnd.openxmlformats-officedocument.wordprocessingml.document")
    from core.reports.pdf import FontMissing, cjk_font

    try:  # said on the page, not only in the server's log, when the PDF cannot be made
        cjk_font()
    except FontMissing as exc:
        b.warning(esc(exc.message(lang())))
        return
    # The PDF is laid out only when asked for: it takes a moment.
    b.download_button(t("letter_pdf"), lambda: letter_download(reg, complaint_id, kind, "pdf")[1],
                      letter_filename(complaint_id, kind, "pdf"), key=f"{key}_pdf",
                      mime="application/pdf")


def failed(exc: RegisterError) -> str:
    """The sentence for a write that did not happen, in this language where the error
    knows it (a refusal, a locked workbook)."""
    return esc(t("save_failed", e=exc.message(lang())))


def field_table(reg: Register, person: Who, row: int, keys) -> pd.DataFrame:
    """Fields of one complaint as a two-column table of text, blanks left out; the
    complainant's name, contact and address masked unless this person may see them."""
    r = reg.table.loc[row]
    hidden = not may_see(reg, person, row).complainant
    rows = []
    for k in keys:
        v = r[k]
        if v is None or v is pd.NA or v is pd.NaT or v == "" or (isinstance(v, float) and v != v):
            continue
        col = reg.tab.column(k)
        if hidden and k in CONFIDENTIAL:
            v = t("masked")
        elif col.type in ("enum", "bool", "category"):
            v = shown_value(reg, k, v)
        elif col.type == "datetime":
            v = shown_time(v)
        elif col.type == "date":
            v = pd.Timestamp(v).strftime("%Y-%m-%d")
        rows.append({t("col_field"): col.header(lang()), t("col_value"): str(v)})
    return pd.DataFrame(rows)


def shown_value(reg: Register, key: str, value) -> str:
    """An enumerated value as its label in the current language."""
    col = reg.tab.column(key)
    if col.type == "bool":
        value = "yes" if value else "no"
    vs = reg.policy.categories if col.type == "category" else reg.schema.value_sets[col.values]
    return vs.label(str(value), lang())


def off_list_warnings(reg: Register, values: dict) -> None:
    """A warning per picked value that is on none of its tab's names (it was still saved)."""
    for _key, value, tab in off_list(reg, values):
        st.warning(esc(t("not_on_list", value=value, tab=t(f"tab_{tab}"))))


def shown_time(v) -> str:
    """A date-time as the pages show it, to the minute."""
    return "" if v is None or pd.isna(v) else pd.Timestamp(v).strftime("%Y-%m-%d %H:%M")


def record_and_say(reg: Register, row: int, changes: dict, person: Who, prefix: str,
                   message: str, blank_is_now: bool = False) -> list | None:
    """A form's or button's callback: record the milestones, then keep what to say under
    `{prefix}_outcome` for `show_outcome` (the page redraws after the write). Returns the
    problems ([] when written), or None when the store refused the write."""
    try:
        bad = record_milestones(store(), reg, row, changes, user=person, now=now(),
                                blank_is_now=blank_is_now)
    except RegisterError as exc:
        st.session_state[f"{prefix}_outcome"] = ("error", failed(exc))
        return None
    if bad:
        st.session_state[f"{prefix}_outcome"] = ("error", "  \n".join(
            esc(f"{reg.tab.column(p.column).header(lang())}: {p.message(reg.tab, lang())}")
            for p in bad))
        return bad
    clear_cache()
    st.session_state[f"{prefix}_outcome"] = ("success", esc(message))
    st.session_state[f"{prefix}_written"] = dict(changes)
    return []


def show_outcome(reg: Register, prefix: str) -> None:
    """What the last write of this form said; after a success, off-list names flagged."""
    kind, text = st.session_state.pop(f"{prefix}_outcome", (None, None))
    if kind == "error":
        st.error(text)
    elif kind == "success":
        st.success(text)
        off_list_warnings(reg, st.session_state.pop(f"{prefix}_written", {}))
