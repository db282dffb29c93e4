"""Who is looking, in the app (AppTest): sign-in, what each role's pages show and allow, the
complainant masked (R-RECUSE), the wall display, and user text shown as text on every page."""

import datetime as dt
import re
import shutil

import pytest
from streamlit.testing.v1 import AppTest

from core.config import Target
from core.front.accounts import hash_password
from core.front.demo import DEMO_USERS
from core.reading.schema import schema
from core.rules.register import build_register
from core.store.workbook import WorkbookStore

from .conftest import ROOT, write_xlsx

NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
HEADERS = {"queue": "Queue", "intake": "Intake", "closure": "Closure",
           "statistics": "Statistics", "scores": "Scores", "quality": "Data quality"}
SUPERVISOR, VIEWER = DEMO_USERS["supervisor"]["zh"], DEMO_USERS["viewer"]["zh"]
PASSWORD = "correct horse battery"
HASH = hash_password(PASSWORD)


def app_as(path, account=None, page=None, lang="en", secrets=None, user=None, query=None):
    """The app on `path` with local accounts configured, signed in as `account` (None: not
    signed in); `user` and an [auth] section instead sign in through OIDC."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.secrets = secrets or {"accounts": {account or "someone": HASH}}
    if user is not None:
        at.user = user
    at.query_params.update(query or {})
    at.session_state["target"] = Target(workbook=str(path))
    at.session_state["lang"] = lang
    at.session_state["now"] = NOW
    if account:
        at.session_state["signed_in"] = account
    at.run()
    if page:
        try:
            at.switch_page(f"pages/{page}.py").run()
        except ValueError as exc:  # not among the pages this session's navigation offers
            at.unreachable = str(exc)
    assert not at.exception, at.exception
    return at


def header(at) -> str | None:
    """The page's header; None when the page asked for is not one this session may open."""
    if getattr(at, "unreachable", None):
        return None
    return at.header[0].value if at.header else None


@pytest.fixture(scope="module")
def demo(demo_path, tmp_path_factory):
    path = tmp_path_factory.mktemp("roles") / "r.xlsx"
    shutil.copy(demo_path, path)
    return path


@pytest.fixture(scope="module")
def reg(demo):
    return build_register(WorkbookStore(demo, schema()).read(), schema(), now=NOW)


def people(reg) -> dict[str, str]:
    """A name for each role in the demo register: a clerk and a handler of 工程部."""
    by_role = {}
    for u in reg.users.rows:
        if u.role == "handler" and u.department != "工程部":
            continue
        by_role.setdefault(u.role, u.user)
    return by_role


# --- signed out ------------------------------------------------------------------------------

def test_a_signed_out_session_reaches_no_page_of_the_register(demo):
    at = app_as(demo, None)
    assert header(at) == "Sign in"
    assert not at.dataframe and not at.metric and not at.caption
    for page in HEADERS:
        assert "Known pages: ['Sign in']" in app_as(demo, None, page).unreachable
    assert [e.label for e in at.text_input] == ["Account", "Password"]


def test_a_wrong_password_is_refused_and_the_next_try_must_wait(demo):
    at = app_as(demo, None, secrets={"accounts": {"试用甲": HASH}})
    at.text_input(key="signin_account").input("试用甲")
    at.text_input(key="signin_password").input("wrong password")
    at.button[0].click().run()
    assert [e.value for e in at.error] == ["The account or the password is not right."]
    at.text_input(key="signin_account").input("试用甲")
    at.text_input(key="signin_password").input(PASSWORD)
    at.button[0].click().run()  # at once: held up, the password is not even tried
    assert [e.value for e in at.error] == ["Too many failed sign-ins; try again in 1 s."]
    assert header(at) == "Sign in"


def test_the_right_password_signs_in(demo):
    at = app_as(demo, None, secrets={"accounts": {SUPERVISOR: HASH}})
    at.text_input(key="signin_account").input(SUPERVISOR)
    at.text_input(key="signin_password").input(PASSWORD)
    at.button[0].click().run()
    assert header(at) == "Queue"
    assert at.session_state["who"].user == SUPERVISOR
    assert f"Signed in as {SUPERVISOR} (supervisor)" in [c.value for c in at.caption]


def test_an_account_not_in_the_users_tab_is_told_why_and_sees_nothing(demo):
    at = app_as(demo, "外人")
    assert [e.value for e in at.error] == [
        "外人 is not in the register's Users tab; ask a supervisor to add you there with a role."]
    assert not at.dataframe and header(at) is None


# --- OIDC (Streamlit's st.login) -------------------------------------------------------------

OIDC = {"auth": {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x",
                 "client_id": "c", "client_secret": "s",
                 "server_metadata_url": "http://localhost:9/.well-known/openid-configuration"}}


def test_oidc_signed_out_shows_only_the_sign_in_button(demo):
    at = app_as(demo, secrets=OIDC, user={"is_logged_in": False})
    assert header(at) == "Sign in"
    assert [b.label for b in at.button] == ["Sign in with your organisation's account"]
    assert not at.dataframe


def test_oidc_identifies_by_email_not_by_the_name_a_provider_lets_anyone_choose(demo):
    at = app_as(demo, secrets=OIDC, user={"is_logged_in": True, "email": "x@gmail.example",
                                          "name": SUPERVISOR})
    shown = at.error[0].value.replace("\u2060", "")  # an invisible joiner: no mail link
    assert shown.startswith("x@gmail.example is not in the register's Users tab")
    assert not at.dataframe


def test_oidc_refuses_an_email_the_provider_has_not_verified(demo, tmp_path):
    path = tmp_path / "r.xlsx"
    shutil.copy(demo, path)
    WorkbookStore(path, schema()).append("users", [{"user": "boss@corp.example",
                                                    "role": "supervisor"}])
    user = {"is_logged_in": True, "email": "boss@corp.example", "name": "x"}
    assert header(app_as(path, secrets=OIDC, user=user)) == "Queue"
    at = app_as(path, secrets=OIDC, user={**user, "email_verified": False})
    assert at.error[0].value.replace("\u2060", "").startswith(
        "Your identity provider has not verified the email address boss@corp.example")
    assert not at.dataframe


# --- each role -------------------------------------------------------------------------------

def test_each_role_opens_exactly_its_pages(demo, reg):
    allowed = {"supervisor": set(HEADERS), "clerk": {"queue", "intake", "statistics", "quality"},
               "handler": {"queue", "statistics", "quality"}, "viewer": {"queue", "statistics"}}
    for role, name in people(reg).items():
        for page, title in HEADERS.items():
            shown = header(app_as(demo, name, page))
            assert (shown == title) == (page in allowed[role]), (role, page, shown)


def queue_rows(at) -> set[int]:
    return set(at.dataframe[0].value["Row"]) if at.dataframe else set()


def test_each_role_sees_its_rows_in_the_queue(demo, reg):
    t = reg.table
    who = people(reg)
    open_rows = queue_rows(app_as(demo, who["supervisor"], "queue"))
    assert queue_rows(app_as(demo, who["viewer"], "queue")) == open_rows
    clerk = t.index[t["first_receiver"].eq(who["clerk"])]
    assert queue_rows(app_as(demo, who["clerk"], "queue")) == open_rows & set(clerk)
    handler = t.index[(t["department"].eq("工程部") | t["handler"].eq(who["handler"]))
                      & ~t["respondent"].str.contains(who["handler"], regex=False)]
    assert queue_rows(app_as(demo, who["handler"], "queue")) == open_rows & set(handler)


def details(at) -> dict[str, str]:
    frame = at.dataframe[1].value
    return dict(zip(frame["Field"], frame["Value"], strict=True))


def test_the_complainant_is_shown_to_handlers_and_masked_for_viewers(demo, reg):
    who = people(reg)
    at = app_as(demo, who["handler"], "queue")
    first = at.dataframe[0].value.iloc[0]
    row = int(first["Row"])
    at.selectbox(key="queue_pick").set_value(first["Complaint No."]).run()
    seen = details(at)
    assert seen["Complainant"] == reg.table.at[row, "complainant"]
    assert seen["Contact"] == reg.table.at[row, "contact"]
    assert [s.value for s in at.subheader][-1] == "Record the next step"
    assert "closed_at" not in at.multiselect(key="q_fields").options  # a supervisor's step

    at = app_as(demo, who["viewer"], "queue")
    at.selectbox(key="queue_pick").set_value(first["Complaint No."]).run()
    seen = details(at)
    assert seen["Complainant"] == seen["Contact"] == "(hidden)"
    assert seen["Subject"] == reg.table.at[row, "subject"]
    assert "Record the next step" not in [s.value for s in at.subheader]


def test_r_recuse_a_handler_never_finds_the_complaint_naming_them(demo, reg):
    # R-RECUSE: a handler of the department complained about, named as its respondent
    t = reg.table
    handlers = {u.user for u in reg.users.rows if u.role == "handler"}
    open_rows = queue_rows(app_as(demo, SUPERVISOR, "queue"))
    row = next(r for r in sorted(open_rows) if t.at[r, "respondent"] in handlers)
    name = t.at[row, "respondent"]
    at = app_as(demo, name, "queue")
    assert row not in queue_rows(at)
    assert t.at[row, "id"] not in at.selectbox(key="queue_pick").options


def test_the_register_location_is_shown_to_supervisors_only(demo, reg):
    where = f"Register: {demo}"
    assert where in [c.value for c in app_as(demo, SUPERVISOR).caption]
    for name in people(reg).values():
        at = app_as(demo, name)
        shown = " ".join(c.value for c in at.caption) + " ".join(i.value for i in at.info)
        assert (str(demo) in shown) == (name == SUPERVISOR), name


def test_the_report_pack_is_offered_to_supervisors_only(demo, reg):
    for role, name in people(reg).items():
        at = app_as(demo, name, "statistics")
        assert ("pack_make" in [b.key for b in at.button]) == (role == "supervisor")


def test_the_wall_display_masks_and_records_nothing(demo):
    at = app_as(demo, SUPERVISOR, query={"wall": "1"})
    assert at.info[0].value == "Wall display: complainants are hidden and nothing can be recorded."
    assert not [s for s in at.selectbox if s.key == "queue_pick"]
    assert header(app_as(demo, SUPERVISOR, "closure", query={"wall": "1"})) is None


def test_with_no_sign_in_configured_the_operator_is_told_how_to_open_it_to_the_team(demo):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.secrets = {"tests": {"sign_in": "none"}}
    at.session_state["target"] = Target(workbook=str(demo))
    at.session_state["lang"] = "en"
    at.run()
    assert any(c.value.startswith("No sign-in is configured: this dashboard serves only this "
                                  "computer") for c in at.caption)
    assert not at.sidebar.text_input  # the "your name" field is gone: the audit user is known


# --- user text is text ------------------------------------------------------------------------

HOST = "http://127.0.0.1:9"
INJECT = (f"![i]({HOST}/img.png) <img src={HOST}/tag.png> [l]({HOST}/l) **b** _i_ `c` ~s~ "
          f":material/home: :red[r] :smile: $x^2$ &amp; www.example.com a@b.example {HOST}/bare"
          "\n# h\n1. n\n- d\n> q\n| t |")
ACCOUNT = f"![me]({HOST}/me.png) **boss**"  # the signed-in supervisor's name, with markup
#: what Streamlit would render as more than text, unless escaped: images, links, tags,
#: emphasis, code, strikethrough, maths, entities, tables, headings; `:name:` icons, colours
#: and emoji; bare addresses (GFM links them even escaped: a word joiner must break them);
#: lists, quotes and rules at the start of a line
ACTIVE = re.compile(r"(?<!\\)[\[<*_`~$|]|(?<!\\)&(?!#58;)|(?<![&\\])#|:(?=[A-Za-z_])|"
                    r"(?<!\u2060)(://|www\.|@)|^\s*([-+=>]|\d+[.)])", re.M)
#: the app's own markup around user text: a bold number, the checklist's marks
OURS = re.compile(r"^\*\*TS\d+\*\* — |:(red|green)\[:material/\w+:\] ")
TEXT_FIELDS = [c.key for c in schema().tab("complaints").columns
               if c.type in ("text", "phone", "id") and c.key not in ("id", "parent_id")]


def injected(path, tmp_path):
    """A register where every text field, a department, a setting and the signed-in account
    carry markup: complaint TS1 is open, TS2 is closable, TS3's kind is not a kind."""
    tab = schema().tab("complaints")
    head = [tab.column(k).en for k in ("id", "received_at", "kind", "channel", *TEXT_FIELDS,
                                       "validity", "first_reply_at", "reply_written",
                                       "resolved_at", "callback_at", "satisfaction", "archived",
                                       "version")]
    row = {k: f"{k}: {INJECT}" for k in TEXT_FIELDS}
    rows = [["TS1", "2026-11-02 09:00", "complaint", "letter", *row.values(), "", "", "", "",
             "", "", "", 1],
            ["TS2", "2026-11-02 09:00", "complaint", "phone", *row.values(), "valid",
             "2026-11-02 10:00", "yes", "2026-11-05 09:00", "2026-11-06 09:00", "satisfied",
             "yes", 1],
            ["TS3", "2026-11-02 09:00", INJECT, "phone", *row.values(), "", "", "", "", "", "",
             "", 1]]
    write_xlsx(path, {"Complaints": [head, *rows],
                      "Departments": [["Department"], [row["department"]]],
                      "Settings": [["Key", "Value"], [INJECT, "1"]],
                      "Users": [["User", "Role"], [ACCOUNT, "supervisor"]]})
    WorkbookStore(path, schema()).init("en")
    return path


def markdown_texts(node):
    """Every string of the tree that Streamlit renders as markdown: bodies of markdown,
    captions, alerts and headings, labels of widgets, metrics and expanders, table cells."""
    kind = getattr(node, "type", "")
    if kind in ("markdown", "caption", "latex", "error", "warning", "info", "success", "title",
                "header", "subheader", "toast"):
        yield node.value
    if kind == "table":
        yield from (str(v) for v in node.value.to_numpy().ravel())
    label = getattr(node, "label", None)
    if isinstance(label, str):
        yield label
    for child in getattr(node, "children", {}).values():
        yield from markdown_texts(child)


def literal_texts(node):
    """Strings shown as they are: st.text, dataframe cells, widget options and values."""
    kind = getattr(node, "type", "")
    if kind == "text":
        yield node.value
    if kind == "dataframe":
        yield from (str(v) for v in node.value.to_numpy().ravel())
    for attr in ("options", "value"):
        v = getattr(node, attr, None) if kind not in ("dataframe", "table") else None
        if isinstance(v, str):
            yield v
        elif isinstance(v, (list, tuple)):
            yield from (str(x) for x in v)
    for child in getattr(node, "children", {}).values():
        yield from literal_texts(child)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_markup_in_every_text_field_is_shown_literally_on_every_page(tmp_path, lang):
    path = injected(tmp_path / "inject.xlsx", tmp_path)
    seen_literally = set()
    for page in (None, *HEADERS):  # None: the first run, with the sidebar
        at = app_as(path, ACCOUNT, page, lang=lang)
        assert header(at) is not None, page
        if page == "queue":
            at.selectbox(key="queue_pick").set_value("TS1").run()
        if page == "closure":
            at.selectbox(key="close_pick").set_value("TS2").run()
        for text in markdown_texts(at._tree):
            if "127.0.0.1" in text:  # it carries injected text
                assert not ACTIVE.search(OURS.sub("", text)), (page, text)
        seen_literally |= {x for x in literal_texts(at._tree) if INJECT in x}
    # the queue's details show every field the page shows exactly as stored
    for key in ("subject", "description", "request", "complainant", "contact", "address",
                "respondent", "materials"):
        assert f"{key}: {INJECT}" in seen_literally, key


def test_tip_offs_are_listed_apart_for_supervisors_only(demo, reg):
    # R-KIND: a tip-off (举报) has no complaint clocks, so the queue lists it apart; its
    # reporter is shown to supervisors only (R-RECUSE)
    tips = reg.table[reg.table["kind"].eq("tip_off")]
    assert len(tips) >= 2  # the demo register holds some
    at = app_as(demo, SUPERVISOR, "queue")
    (box,) = [e for e in at.expander if e.label.startswith("Tip-offs")]
    assert box.label == f"Tip-offs (handled apart): {len(tips)}"
    shown = box.dataframe[0].value
    assert sorted(shown["Complaint No."]) == sorted(tips["id"])
    assert sorted(shown["Complainant"]) == sorted(tips["complainant"])
    queue = at.dataframe[0].value.to_string()
    assert not [i for i in tips["id"] if i in queue]  # not in the queue itself
    at = app_as(demo, people(reg)["clerk"], "queue")
    assert not [e for e in at.expander if e.label.startswith("Tip-offs")]
