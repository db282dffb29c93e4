"""What every page needs: the language, the register (read once per cache window), labels."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from core import config
from core.errors import RegisterError
from core.i18n import label
from core.register import Register
from core.service import register_from, store_for

CACHE_SECONDS = 60


def lang() -> str:
    return st.session_state.get("lang", "zh")


def t(key: str, **params) -> str:
    return label(key, lang(), **params)


def target() -> config.Target:
    return st.session_state.get("target") or config.resolve()


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def _read(target_key: tuple) -> tuple:
    """One read of the whole register, shared by every page and session for the window."""
    tgt = config.Target(*target_key[:2], credentials=dict(target_key[2]) if target_key[2] else None)
    book = store_for(tgt).read()
    return book, dt.datetime.now().astimezone()


def _key(tgt: config.Target) -> tuple:
    return (tgt.workbook, tgt.gsheet, tuple(sorted((tgt.credentials or {}).items())) or None)


def clear_cache() -> None:
    _read.clear()


def register() -> Register | None:
    """The register as of now; on a read error, the last good one marked stale (or None)."""
    tgt = target()
    try:
        with st.spinner(t("reading")):
            book, read_at = _read(_key(tgt))
        reg = register_from(book, policy=st.session_state.get("policy"),
                            now=st.session_state.get("now"), source=tgt.workbook or tgt.gsheet)
        st.session_state["last_good"] = (reg, read_at)
        st.session_state["read_at"] = read_at
        return reg
    except RegisterError as exc:
        st.error(t("read_error", e=exc))
        last = st.session_state.get("last_good")
        if last:
            st.warning(t("stale", t=last[1].strftime("%Y-%m-%d %H:%M:%S")))
            return last[0]
        return None
