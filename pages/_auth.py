"""Sign-in and who is looking: Streamlit's st.login (OIDC) when an [auth] provider is
configured, else local accounts, else this machine's operator; the rules are core.rules.access's."""

from __future__ import annotations

import dataclasses
import json
import math
import time

import streamlit as st

from core.errors import RegisterError
from core.front import accounts
from core.reading.schema import schema
from core.rules.access import Refused, Who, identify, operator
from pages._shared import esc, lang, register, t

SIGNED_IN = "signed_in"  # session key of the local account signed in (no widget has it)
TOKEN = "session_token"  # the signed token the browser keeps for it (core.front.accounts)
FORGET = "forget_session"  # set on sign-out: the browser's cookie is to be dropped


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


@st.cache_resource(show_spinner=False)
def _revoked() -> accounts.Revoked:
    """Session tokens signed out on this server (kept over a restart)."""
    return accounts.Revoked(accounts.revoked_file())


def _cookie_script(token: str | None) -> None:
    """Have the browser keep `token` (None: drop it), so a reload or a new tab of this app stays
    signed in. The token is signed and expires; it never holds the password."""
    if token is None:
        value, age = "", 0
    else:
        value, age = token, accounts.SESSION_HOURS * 3600
    cookie = json.dumps(f"{accounts.COOKIE}={value}; Max-Age={age}; Path=/; SameSite=Strict")
    st.html(f"<script>document.cookie = {cookie} + "
            f"(location.protocol === 'https:' ? '; Secure' : '');</script>",
            unsafe_allow_javascript=True, width=1)


def _key(conf: dict) -> bytes | None:
    """The key signing session tokens; None when it cannot be had (then every reload asks
    for the password again, as it did before, rather than failing)."""
    try:
        return accounts.session_key(conf)
    except (OSError, RegisterError):
        return None


def _from_cookie(conf: dict) -> str | None:
    """The local account this browser's session cookie signed in, if it still holds."""
    token = st.context.cookies.get(accounts.COOKIE) if not st.session_state.get(FORGET) else None
    key = _key(conf) if token else None
    if key is None:
        return None
    found = accounts.token_account(key, conf.get(accounts.SECTION) or {}, token, time.time(),
                                   _revoked())
    if found is not None:
        st.session_state[TOKEN] = token
    return found


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
        key = _key(conf)
        if key is not None:
            st.session_state[TOKEN] = accounts.session_token(key, conf[accounts.SECTION], found,
                                                             time.time())
            st.session_state["keep_cookie"] = True
        st.session_state.pop(FORGET, None)
        st.rerun()
    if st.session_state.get(FORGET):  # signed out here: this browser forgets the session
        _cookie_script(None)


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
    token = st.session_state.get(TOKEN)
    if token:
        _revoked().add(token, time.time())
        st.session_state[FORGET] = True
    for k in (SIGNED_IN, TOKEN, "keep_cookie", "who", "last_good"):
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
    if mode == "accounts" and not st.session_state.get(SIGNED_IN):
        st.session_state[SIGNED_IN] = _from_cookie(conf)  # signed in before, in this browser
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
    if st.session_state.get("keep_cookie") and st.session_state.get(TOKEN):
        _cookie_script(st.session_state[TOKEN])
    if st.button(t("sign_out"), key="sign_out"):
        sign_out(mode)


def on_the_wall(person: Who) -> Who:
    """`?wall=1` (kept for the session): the wall display — every complainant masked, tip-offs
    left out, nothing recorded — for a screen on the office wall."""
    if st.query_params.get("wall") == "1":
        st.session_state["wall"] = True
    return dataclasses.replace(person, wall=True) if st.session_state.get("wall") else person
