"""Sign-in and who is looking: Streamlit's st.login (OIDC) when an [auth] provider is
configured, else local accounts, else this machine's operator; the rules are core.access's."""

from __future__ import annotations

import dataclasses
import math

import streamlit as st

from core import accounts
from core.access import Refused, Who, identify, operator
from core.schema import schema
from pages._shared import esc, lang, register, t

SIGNED_IN = "signed_in"  # session key of the local account signed in (no widget has it)


def secrets() -> dict:
    """What Streamlit read from secrets.toml ({} when there is none)."""
    try:
        return st.secrets.to_dict()
    except (FileNotFoundError, OSError):
        return {}


@st.cache_resource(show_spinner=False)
def _throttle() -> accounts.Throttle:
    """Failed local sign-ins, shared by every session of this server."""
    return accounts.Throttle()


def _sign_in_page(mode: str, conf: dict) -> None:
    st.header(t("signin_title"))
    st.write(t("signin_intro"))
    if mode == "oidc":
        for provider in accounts.providers(conf) or [None]:
            text = t("signin_sso") if provider is None else t("signin_with", provider=provider)
            if st.button(esc(text), key=f"login_{provider}", type="primary"):
                st.login(provider)
        return
    with st.form("signin", clear_on_submit=True):
        name = st.text_input(t("account"), key="signin_account")
        password = st.text_input(t("password"), type="password", key="signin_password")
        go = st.form_submit_button(t("signin_button"), type="primary")
    if go and name:
        gate = _throttle()
        wait = gate.wait(name)
        if wait > 0:
            st.error(t("signin_wait", s=math.ceil(wait)))
            return
        found = accounts.check_password(conf.get(accounts.SECTION) or {}, name, password)
        if found is None:
            gate.failed(name)
            st.error(t("signin_failed"))
            return
        gate.succeeded(name)
        st.session_state[SIGNED_IN] = found
        st.rerun()


def _alone(render, *args) -> None:
    """Show only `render` — no page of the register, whatever the URL asked for — and stop."""
    st.navigation([st.Page(lambda: render(*args), title=t("signin_title"), url_path="signin",
                           default=True)], position="hidden").run()
    st.stop()


def _refuse(text: str, mode: str | None) -> None:
    st.error(esc(text))
    if mode is not None and st.button(t("sign_out"), key="sign_out_refused"):
        sign_out(mode)


def sign_out(mode: str | None) -> None:
    for k in (SIGNED_IN, "who", "last_good"):
        st.session_state.pop(k, None)
    if mode == "oidc":  # Streamlit sends the browser to drop its cookie and end the session
        st.logout()     # at the provider; a rerun now could drop that redirect
        st.stop()
    st.rerun()


def identity() -> tuple[Who, str | None]:
    """The person using this session and the sign-in mode; renders the sign-in page (or the
    sentence saying why they may not come in) and stops the run until there is one."""
    conf = secrets()
    mode = accounts.sign_in(conf)
    if mode is None and isinstance(st.context.ip_address, str):  # not this machine
        _alone(_refuse, t("remote_refused"), mode)
    if (mode == "oidc" and not st.user.is_logged_in) or \
            (mode == "accounts" and not st.session_state.get(SIGNED_IN)):
        st.session_state.pop("who", None)
        _alone(_sign_in_page, mode, conf)
    if mode is None:
        me = operator()
        return Who(me, "supervisor", names=(me,)), mode
    reg = register(details=False)  # who it is, and so what they may see, is not known yet
    if reg is None:
        st.stop()
    try:
        if mode == "oidc":
            u = st.user
            email = u.get("email") or ""
            if email and u.get("email_verified") is False:  # it could be anyone's address
                raise Refused("unverified", user=email)
            person = identify(reg.users, [email or u.get("preferred_username") or ""],
                              by_name=False, also=[u.get("name") or ""], open_role=None)
        else:
            person = identify(reg.users, [st.session_state[SIGNED_IN]])
    except Refused as exc:
        st.session_state.pop("who", None)
        _alone(_refuse, exc.message(lang()), mode)
    return person, mode


def sidebar(person: Who, mode: str | None) -> None:
    """Who is signed in, and the way out; or, with no sign-in, how to open it to the team."""
    if mode is None:
        st.caption(t("local_only"))
        return
    st.caption(esc(t("signed_in_as", who=person.describe(schema(), lang()))))
    if st.button(t("sign_out"), key="sign_out"):
        sign_out(mode)


def on_the_wall(person: Who) -> Who:
    """`?wall=1` (kept for the session): the wall display — every complainant masked, tip-offs
    left out, nothing recorded — for a screen on the office wall."""
    if st.query_params.get("wall") == "1":
        st.session_state["wall"] = True
    return dataclasses.replace(person, wall=True) if st.session_state.get("wall") else person
