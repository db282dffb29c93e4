"""Entry point: routes only — language, sign-in, register, policy, and the pages a role opens."""

from functools import partial

import streamlit as st

from core.front.service import ensure_demo
from core.reading.i18n import label
from core.rules.access import may, page_refusal, pages_for
from core.rules.policy import policy_names, policy_title
from pages import _auth
from pages._shared import clear_cache, esc, t, target

st.set_page_config(page_title="投诉登记台账 Complaint register", layout="wide")

LANGS, LANG_COOKIE = ("zh", "en"), "complaints_lang"
if "lang" not in st.session_state and st.context.cookies.get(LANG_COOKIE) in LANGS:
    st.session_state["lang"] = st.context.cookies[LANG_COOKIE]  # this browser's last choice
with st.sidebar:
    st.radio("语言 / Language", LANGS, key="lang", horizontal=True,
             format_func=lambda code: "简体中文" if code == "zh" else "English")
saved = st.session_state.get("lang_saved", st.context.cookies.get(LANG_COOKIE))
if saved != st.session_state["lang"]:  # this browser keeps the choice over a reload
    st.session_state["lang_saved"] = st.session_state["lang"]
    st.html(f"<script>document.cookie = '{LANG_COOKIE}={st.session_state['lang']}; "
            "Max-Age=31536000; Path=/; SameSite=Strict';</script>",
            unsafe_allow_javascript=True, width=1)
tgt = target()
if ensure_demo(tgt, st.session_state.get("lang", "zh")):
    st.session_state["demo_created"] = True
person, mode = _auth.identity()  # the sign-in page stops the run here until someone signs in
person = _auth.on_the_wall(person)
st.session_state["who"] = person

with st.sidebar:
    _auth.sidebar(person, mode)
    # One box per language: a box kept across a change of language goes on showing its
    # choice in the old language. The placeholder too: Streamlit may show None as no choice.
    lang_now = st.session_state.get("lang", "zh")
    names = [None, *policy_names()]
    st.session_state["policy"] = st.selectbox(
        t("policy"), names, index=names.index(st.session_state.get("policy")),
        key=f"policy_{lang_now}", format_func=partial(policy_title, lang=lang_now),
        placeholder=t("policy_default"))
    if may(person, "location"):
        st.caption(esc(f"{t('register')}: {tgt.workbook or tgt.gsheet}"))
    if "read_at" in st.session_state:
        st.caption(t("read_at", t=st.session_state["read_at"].strftime("%Y-%m-%d %H:%M:%S")))
    if st.button(t("refresh")):
        clear_cache(reopen=True)

if person.wall:
    st.info(t("wall_banner"))
elif tgt.is_default and may(person, "location"):
    st.info(t("demo_banner"))

lang = st.session_state.get("lang", "zh")
allowed = pages_for(person)
names = (("queue", "queue"), ("intake", "intake"), ("closure", "closure"),
         ("statistics", "stats"), ("scores", "scores"), ("quality", "quality"))
pages = [st.Page(f"pages/{name}.py", title=label(f"page_{key}", lang), url_path=name)
         for name, key in names if name in allowed]
# Another role's page keeps its URL too, hidden, and says why it does not open (a bookmark).
refused = [st.Page(partial(st.error, esc(page_refusal(person, name).message(lang))),
                   title=label(f"page_{key}", lang), url_path=name, visibility="hidden")
           for name, key in names if name not in allowed]
# The first page is also the root's (the default); a hidden twin keeps its own URL, so that
# /queue opens the queue too instead of "Page not found".
first = pages[0]
root = st.Page(f"pages/{first.url_path}.py", title=first.title, url_path="start", default=True)
twin = st.Page(f"pages/{first.url_path}.py", title=first.title, url_path=first.url_path,
               visibility="hidden")
st.navigation([root, twin, *pages[1:], *refused]).run()
