"""Who is looking, end to end in Debian's Chromium: sign-in through a real OIDC provider on
localhost (oidc-provider-mock) and through a local account; each role's pages and actions as
the browser shows them; a signed-out browser reaches no page content; markup typed into the
register is shown as text and makes the browser fetch nothing; with no sign-in configured,
another machine is turned away. One app per sign-in kind and one browser for the module."""

import contextlib
import datetime as dt
import http.server
import os
import shutil
import subprocess
import sys
import threading
import time

import pytest

from core.commands.intake import register_complaint
from core.front.accounts import hash_password
from core.front.demo import DEMO_USERS
from core.reading.i18n import label, message
from core.reading.schema import schema
from core.rules.register import build_register
from core.store.workbook import WorkbookStore

from .browser import chrome, free_port, wait_healthy
from .conftest import ROOT
from .test_signin import other_address

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
NOW = dt.datetime(2026, 11, 24, 10, 0)
SUPERVISOR, VIEWER = DEMO_USERS["supervisor"]["zh"], DEMO_USERS["viewer"]["zh"]
AGAINST = {"complainant": "保密人甲", "contact": "13912345678"}  # complains about the handler
PAGES = {"queue": "page_queue", "intake": "page_intake", "closure": "page_closure",
         "statistics": "page_stats", "scores": "page_scores", "quality": "page_quality"}
#: role × page × action, as the browser must show it (DESIGN.md "Who is looking")
TABLE = {
    "supervisor": {"pages": list(PAGES), "record": True, "complainant": True, "pack": True},
    "clerk": {"pages": ["queue", "intake", "statistics", "quality"], "record": True,
              "complainant": True, "pack": False},
    "handler": {"pages": ["queue", "statistics", "quality"], "record": True,
                "complainant": True, "pack": False},
    "viewer": {"pages": ["queue", "statistics"], "record": False, "complainant": False,
               "pack": False},
}


def zh(key: str, **params) -> str:
    return label(key, "zh", **params)


# --- a web server that counts what browsers fetch from it ------------------------------------

@pytest.fixture(scope="module")
def fetched():
    hits: list[str] = []

    class Count(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Count)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", hits
    server.shutdown()


def markup(host: str, tag: str) -> str:
    return (f"![{tag}]({host}/{tag}-md.png) <img src='{host}/{tag}-tag.png'> "
            f"[{tag}]({host}/{tag}-link) **{tag}** :material/home: $x$ {host}/{tag}-bare")


# --- the register, the provider, the apps -----------------------------------------------------

@pytest.fixture(scope="module")
def book(demo_path, tmp_path_factory, fetched):
    """The demo register plus people who sign in by email (OIDC), a supervisor whose name
    carries markup, and a complaint whose every text field carries markup."""
    host, _ = fetched
    path = tmp_path_factory.mktemp("access") / "register.xlsx"
    shutil.copy(demo_path, path)
    store = WorkbookStore(path, schema())
    store.append("users", [
        {"user": "boss@corp.example", "name": SUPERVISOR, "role": "主管"},
        {"user": "viewer@corp.example", "name": VIEWER, "role": "查看"},
        {"user": markup(host, "who"), "role": "主管"}])
    reg = build_register(store.read(), schema(), now=NOW)
    text = {k: f"{k} {markup(host, k)}" for k in (
        "complainant", "contact", "address", "respondent", "subject", "description",
        "request", "materials", "first_receiver")}
    saved = register_complaint(store, reg, {**text, "channel": "电话"}, user=SUPERVISOR,
                               now=NOW)
    assert saved.id, saved.row_problems
    reg = build_register(store.read(), schema(), now=NOW)
    against = register_complaint(store, reg, {  # R-RECUSE: against the handler who signs in
        **AGAINST, "respondent": people(path)["handler"], "department": "工程部",
        "subject": "对处理人的投诉", "description": "态度", "request": "道歉", "channel": "电话"},
        user=SUPERVISOR, now=NOW)
    assert against.id, against.row_problems
    return path, saved.id, text


def people(path) -> dict[str, str]:
    reg = build_register(WorkbookStore(path, schema()).read(), schema(), now=NOW)
    out = {}
    for u in reg.users.rows:
        if u.role == "handler" and u.department != "工程部":
            continue
        if "@" not in u.user and "!" not in u.user:
            out.setdefault(u.role, u.user)
    return out


def start_app(tmp, register, secrets: str | None, *extra: str, port: int | None = None):
    port = port or free_port()
    path = tmp / f"secrets-{port}.toml"
    if secrets is not None:
        path.write_text(secrets, encoding="utf-8")
    env = {**os.environ, "COMPLAINTS_SECRETS": str(path), "COMPLAINTS_WORKBOOK": str(register),
           "COMPLAINTS_SESSION_KEY": str(tmp / "session.key")}
    proc = subprocess.Popen([sys.executable, "-m", "core", "serve", "--server.port", str(port),
                             *extra], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    wait_healthy(f"http://127.0.0.1:{port}")
    return f"http://127.0.0.1:{port}", proc


class Apps(dict):
    """The servers on the same register, each started when a test first asks for it (a
    worker running only some of this module's tests starts only theirs): "local"
    accounts, "oidc", and "open" (nothing configured, listening on every address)."""

    def __init__(self, tmp, path, host, provider):
        super().__init__()
        self.tmp, self.path, self.host, self.provider = tmp, path, host, provider
        self.procs: list[subprocess.Popen] = []

    def __missing__(self, kind: str) -> str:
        if kind == "local":
            names = [*people(self.path).values(), markup(self.host, "who")]
            hashed = hash_password(PASSWORD)
            local = "[accounts]\n" + "".join(f'"{n}" = "{hashed}"\n' for n in
                                              [n.replace("\\", "\\\\").replace('"', '\\"')
                                               for n in names])
            url, proc = start_app(self.tmp, self.path, local)
        elif kind == "oidc":
            port = free_port()
            oidc = (f'[auth]\nredirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
                    f'cookie_secret = "a-long-random-test-cookie-secret"\n'
                    f'client_id = "complaints"\nclient_secret = "s3cret"\n'
                    f'server_metadata_url = "{self.provider()}/.well-known/openid-configuration"\n')
            url, proc = start_app(self.tmp, self.path, oidc, port=port)
        else:
            url, proc = start_app(self.tmp, self.path, None, "--server.address", "0.0.0.0")
        self.procs.append(proc)
        self[kind] = url
        return url


@pytest.fixture(scope="module")
def apps(book, tmp_path_factory, fetched):
    from oidc_provider_mock import User, run_server_in_thread

    users = [User(sub="boss", claims={"email": "boss@corp.example", "name": SUPERVISOR}),
             User(sub="viewer", claims={"email": "viewer@corp.example", "name": VIEWER}),
             User(sub="stranger", claims={"email": "stranger@elsewhere.example",
                                          "name": SUPERVISOR})]
    with contextlib.ExitStack() as stack:
        def provider() -> str:  # the OIDC provider on localhost, started when first needed
            if not hasattr(provider, "url"):
                server = stack.enter_context(run_server_in_thread(user_claims=users))
                provider.url = f"http://localhost:{server.server_port}"
            return provider.url

        started = Apps(tmp_path_factory.mktemp("apps"), book[0], fetched[0], provider)
        yield started
        for proc in started.procs:
            proc.terminate()
            proc.wait(timeout=20)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    driver = chrome(tmp_path_factory.mktemp("chrome"))
    yield driver
    driver.quit()


# --- what the browser shows -------------------------------------------------------------------

def by():
    from selenium.webdriver.common.by import By
    return By


class wait:
    """WebDriverWait that, when it times out, says where the browser was and what it showed."""

    def __init__(self, browser, seconds=60):
        from selenium.webdriver.support.ui import WebDriverWait
        self.browser = browser
        self.inner = WebDriverWait(browser, seconds, ignored_exceptions=(Exception,))

    def until(self, condition):
        from selenium.common.exceptions import TimeoutException
        try:
            return self.inner.until(condition)
        except TimeoutException:
            text = self.browser.find_element(by().TAG_NAME, "body").text[:600]
            raise AssertionError(f"timed out at {self.browser.current_url}: {text}") from None


def heading(browser) -> str:
    """The page's header once the app has drawn it (or the sentence when it turns one away)."""
    def found(d):
        hs = d.find_elements(by().CSS_SELECTOR, "[data-testid='stMain'] h2")
        if hs and hs[0].text.strip():
            return hs[0].text.strip()
        alerts = d.find_elements(by().CSS_SELECTOR, "[data-testid='stMain'] "
                                                    "[data-testid='stAlertContentError']")
        return alerts[0].text.strip() if alerts else False
    text = wait(browser).until(found)
    time.sleep(0.5)  # the rest of the run reaches the page
    return text


def body(browser) -> str:
    return browser.find_element(by().TAG_NAME, "body").text


def shown(browser) -> str:
    """The page's text as read: without the invisible joiners that keep addresses unlinked."""
    return body(browser).replace("\u2060", "")


def open_page(browser, url: str) -> str:
    browser.get(url)
    return heading(browser)


def subheaders(browser) -> list[str]:
    return [h.text.strip() for h in browser.find_elements(by().CSS_SELECTOR,
                                                          "[data-testid='stMain'] h3")]


def nav(browser) -> list[str]:
    return [a.text.strip() for a in browser.find_elements(
        by().CSS_SELECTOR, "[data-testid='stSidebarNav'] a")]


def go(browser, page: str) -> str:
    """Open a page from the sidebar (the session, and so the sign-in, stays)."""
    title = zh(PAGES[page])
    link = next(a for a in browser.find_elements(by().CSS_SELECTOR,
                                                 "[data-testid='stSidebarNav'] a")
                if a.text.strip() == title)
    link.click()
    wait(browser).until(lambda d: heading(d) == title)
    return title


def sign_in_locally(browser, url: str, account: str, password: str = PASSWORD) -> str:
    from selenium.webdriver.common.keys import Keys

    browser.delete_all_cookies()
    assert open_page(browser, url) == zh("signin_title")
    field = wait(browser).until(lambda d: d.find_element(
        by().CSS_SELECTOR, f"input[aria-label='{zh('account')}']"))
    field.send_keys(account)
    browser.find_element(by().CSS_SELECTOR, "input[type='password']").send_keys(password,
                                                                               Keys.ENTER)
    return signed_in(browser)


def sign_out(browser) -> None:
    """Click Sign out once the sidebar has drawn it (the page's heading can come first)."""
    wait(browser).until(lambda d: d.find_element(
        by().XPATH, f"//button[.='{zh('sign_out')}']")).click()


def signed_in(browser) -> str:
    """The page a sign-in led to, or the sentence of the sign-in page turning it down."""
    def moved(d):
        errors = d.find_elements(by().CSS_SELECTOR, "[data-testid='stAlertContentError']")
        if errors:
            return errors[0].text.strip()
        h = heading(d)
        return h if h != zh("signin_title") else False
    return wait(browser).until(moved)


def sign_in_oidc(browser, url: str, sub: str) -> str:
    browser.delete_all_cookies()
    assert open_page(browser, url) == zh("signin_title")

    def at_provider(d):  # a click while the app is still drawing can be lost: click again
        boxes = d.find_elements(by().CSS_SELECTOR, "input[name='sub']")
        if boxes:
            return boxes[0]
        for b in d.find_elements(by().XPATH, f"//button[.='{zh('signin_sso')}']"):
            b.click()
        time.sleep(1)
        return False
    box = wait(browser).until(at_provider)
    box.send_keys(sub)
    browser.find_element(by().XPATH, "//button[.='Authorize']").click()
    return signed_in(browser)


def pick(browser, complaint: str) -> None:
    from selenium.webdriver.common.keys import Keys

    box = wait(browser).until(lambda d: d.find_element(
        by().XPATH, f"//label[contains(., '{zh('open_one')}')]/following::input[1]"))
    box.click()
    box.send_keys(complaint, Keys.ENTER)
    wait(browser).until(lambda d: zh("complaint_details") in body(d))
    time.sleep(1)


def cells(browser) -> list[str]:
    """The text of every dataframe cell (the grids keep an accessible table of them)."""
    return [td.get_attribute("textContent") for td in browser.find_elements(
        by().CSS_SELECTOR, "[data-testid='stDataFrame'] td")]


def details(browser) -> dict[str, str]:
    """The shown complaint's fields: the grid after the queue's."""
    grids = browser.find_elements(by().CSS_SELECTOR, "[data-testid='stDataFrame']")
    tds = [td.get_attribute("textContent") for td in grids[1].find_elements(
        by().CSS_SELECTOR, "td")]
    return dict(zip(tds[::2], tds[1::2], strict=True))


def queue_ids(browser) -> list[str]:
    """The complaint numbers the queue lists, once its grid is drawn (or it says none)."""
    def ready(d):
        found = [x for x in cells(d) if x.startswith("TS")]
        return (found,) if found or zh("queue_empty") in body(d) else False
    return wait(browser).until(ready)[0]


# --- the tests --------------------------------------------------------------------------------

def test_sign_in_through_the_oidc_provider_and_out(apps, browser):
    assert sign_in_oidc(browser, apps["oidc"], "boss") == zh("page_queue")
    assert zh("signed_in_as", who="boss@corp.example (主管)") in shown(browser)
    assert nav(browser) == [zh(PAGES[p]) for p in PAGES]
    # the cookie keeps the sign-in: a bookmark opens straight on its page
    assert open_page(browser, f"{apps['oidc']}/scores") == zh("page_scores")
    sign_out(browser)
    # Streamlit forgets the sign-in, then sends the browser to the provider to end its session
    wait(browser).until(lambda d: d.find_element(by().XPATH, "//button[.='End session']"))
    browser.find_element(by().XPATH, "//button[.='End session']").click()
    assert heading(browser) == zh("signin_title")  # back on the app, signed out
    assert open_page(browser, f"{apps['oidc']}/queue") == zh("signin_title")


def test_oidc_identifies_by_email_and_a_stranger_sees_nothing(apps, browser):
    refused = sign_in_oidc(browser, apps["oidc"], "stranger")  # named like the supervisor
    assert refused.replace("\u2060", "") == message(
        "access", "unknown_user", "zh", user="stranger@elsewhere.example")
    assert "TS2026" not in body(browser) and nav(browser) == []


def test_a_viewer_through_oidc_sees_no_complainant_and_no_other_page(apps, browser):
    assert sign_in_oidc(browser, apps["oidc"], "viewer") == zh("page_queue")
    assert nav(browser) == [zh("page_queue"), zh("page_stats")]
    for page in ("intake", "closure", "scores", "quality"):  # bookmarks of other pages
        assert open_page(browser, f"{apps['oidc']}/{page}") != zh(PAGES[page]), page
    open_page(browser, apps["oidc"])  # the queue is the default page: its URL is the root
    pick(browser, queue_ids(browser)[0])
    fields = details(browser)
    assert fields["投诉人"] == fields["联系方式"] == zh("masked")
    assert zh("record_next") not in subheaders(browser)


def test_the_wall_display(apps, browser):
    sign_in_oidc(browser, apps["oidc"], "boss")
    assert open_page(browser, f"{apps['oidc']}/?wall=1") == zh("page_queue")
    assert zh("wall_banner") in body(browser)
    assert nav(browser) == [zh("page_queue"), zh("page_stats")]
    assert zh("open_one") not in body(browser)  # nothing to open, nothing to record


#: every address a signed-out visitor might open; through the local accounts' sign-in page a
#: few of them (the gate before any page is the same code for both kinds)
SIGNED_OUT = {"oidc": ("", *PAGES, "signin", "no-such-page", "?wall=1"),
              "local": ("", "closure", "no-such-page", "?wall=1")}


@pytest.mark.parametrize("kind", ["oidc", "local"])  # after the other OIDC tests: one run
def test_a_signed_out_browser_reaches_no_page_content(apps, browser, book, kind):
    _, injected, _ = book
    browser.delete_all_cookies()
    for path in SIGNED_OUT[kind]:
        assert open_page(browser, f"{apps[kind]}/{path}") == zh("signin_title"), path
        shown = body(browser)
        assert "TS2026" not in shown and injected not in shown, path
        assert not browser.find_elements(by().CSS_SELECTOR, "[data-testid='stDataFrame']")
        assert nav(browser) == []  # no page of the register is even named


@pytest.mark.parametrize("role", list(TABLE))
def test_each_role_sees_and_can_do_exactly_what_the_table_says(apps, browser, book, role):
    path, _, _ = book
    name = people(path)[role]
    expect = TABLE[role]
    assert sign_in_locally(browser, apps["local"], name) == zh("page_queue")
    role_label = schema().value_sets["role"].label(role, "zh")
    assert zh("signed_in_as", who=f"{name} ({role_label}") in shown(browser)
    assert nav(browser) == [zh(PAGES[p]) for p in expect["pages"]]
    queue = queue_ids(browser)
    if role == "viewer":
        assert len(queue) == len(set(queue)) > 0
    if queue:
        pick(browser, queue[0])
        fields = details(browser)
        assert (fields["投诉人"] == zh("masked")) == (not expect["complainant"])
        assert (zh("record_next") in subheaders(browser)) == expect["record"]
    for page in expect["pages"][1:]:
        go(browser, page)
        text = body(browser)
        if page == "intake":
            assert browser.find_elements(by().XPATH, f"//button[.='{zh('save')}']")
        if page == "closure":
            assert browser.find_elements(by().XPATH, f"//button[.='{zh('close_button')}']")
        if page == "statistics":  # the last section drawn, the page is complete
            wait(browser).until(lambda d: zh("sec_overdue") in body(d))
            buttons = [b.text for b in browser.find_elements(by().CSS_SELECTOR, "button")]
            assert (zh("pack_make") in buttons) == expect["pack"], buttons
        assert "Traceback" not in text


def test_wrong_passwords_are_refused_then_slowed_down(apps, browser, book):
    from selenium.webdriver.common.keys import Keys

    path, _, _ = book
    name = people(path)["handler"]
    assert sign_in_locally(browser, apps["local"], name, "wrong password") == \
        zh("signin_failed")
    said = []
    for _ in range(5):  # 1, 2, 4, 8 seconds after each failure: soon one try must wait
        browser.find_element(by().CSS_SELECTOR, f"input[aria-label='{zh('account')}']") \
            .send_keys(name)
        browser.find_element(by().CSS_SELECTOR, "input[type='password']").send_keys(
            "still wrong", Keys.ENTER)
        time.sleep(0.5)
        said.append(signed_in(browser))
        if said[-1] != zh("signin_failed"):
            break
    assert said[-1].startswith("登录失败次数过多，请 ") and said[-1].endswith(" 秒后再试。"), said
    assert zh("page_queue") not in nav(browser)


def test_markup_in_the_register_is_shown_as_text_and_fetches_nothing(apps, browser, book,
                                                                     fetched):
    _, injected, text = book
    host, hits = fetched
    assert sign_in_locally(browser, apps["local"], markup(host, "who")) == zh("page_queue")
    pick(browser, injected)
    fields = details(browser)
    for key in ("complainant", "contact", "address", "respondent", "subject", "description",
                "request", "materials"):
        assert text[key] in fields.values(), key
    assert zh("signed_in_as", who=markup(host, "who")) in shown(browser)
    for page in ("closure", "statistics", "quality", "intake", "scores"):
        go(browser, page)
        if page == "closure":
            box = browser.find_element(
                by().XPATH, f"//label[contains(., '{zh('open_one')}')]/following::input[1]")
            from selenium.webdriver.common.keys import Keys
            box.click()
            box.send_keys(injected, Keys.ENTER)
            wait(browser).until(lambda d: f"subject {markup(host, 'subject')}" in shown(d))
    time.sleep(2)
    assert not browser.find_elements(by().CSS_SELECTOR, f"img[src^='{host}'], a[href^='{host}']")
    assert hits == []  # not one request reached the address in the text


def test_with_no_sign_in_configured_another_machine_is_turned_away(apps, browser):
    other = other_address()
    if not other:
        pytest.skip("this machine has no address besides loopback")
    url = apps["open"].replace("127.0.0.1", other)
    assert open_page(browser, url) == zh("remote_refused")
    assert "TS2026" not in body(browser) and nav(browser) == []
    here = open_page(browser, apps["open"])  # this machine: its operator, a supervisor
    assert here == zh("page_queue") and zh("local_only") in body(browser)
    assert "Deploy" not in body(browser)  # client.toolbarMode: no developer toolbar


def session_cookie(browser) -> dict:
    """The session cookie, once the page has had the browser keep it."""
    return wait(browser).until(lambda d: d.get_cookie("complaints_session"))


def test_a_local_sign_in_survives_a_reload_and_a_new_tab_until_signed_out(apps, browser, book):
    path, _, _ = book
    name = people(path)["clerk"]
    assert sign_in_locally(browser, apps["local"], name) == zh("page_queue")
    cookie = session_cookie(browser)
    assert PASSWORD not in cookie["value"] and cookie["sameSite"] == "Strict"
    browser.refresh()
    assert heading(browser) == zh("page_queue")
    # a bookmark of each page it may open, in a new session: straight there, /queue too
    for page in TABLE["clerk"]["pages"]:
        assert open_page(browser, f"{apps['local']}/{page}") == zh(PAGES[page]), page
    # another role's page says why it does not open, and shows nothing of the register
    said = open_page(browser, f"{apps['local']}/closure").replace("\u2060", "")
    assert said == message("access", "not_allowed", "zh", user=name, role="登记员",
                           action=zh("action_close"))
    assert not browser.find_elements(by().CSS_SELECTOR, "[data-testid='stDataFrame']")
    sign_out(browser)
    wait(browser).until(lambda d: heading(d) == zh("signin_title"))
    time.sleep(1)
    assert browser.get_cookie("complaints_session") is None  # this browser forgot it
    assert open_page(browser, f"{apps['local']}/queue") == zh("signin_title")


def test_a_signed_out_token_opens_nothing_even_when_replayed(apps, browser, book):
    path, _, _ = book
    assert sign_in_locally(browser, apps["local"], people(path)["viewer"]) == zh("page_queue")
    token = session_cookie(browser)["value"]
    sign_out(browser)
    wait(browser).until(lambda d: heading(d) == zh("signin_title"))
    browser.add_cookie({"name": "complaints_session", "value": token, "path": "/"})
    assert open_page(browser, f"{apps['local']}/queue") == zh("signin_title")
    assert "TS2026" not in body(browser)


def test_the_respondent_never_sees_the_complaint_against_them_nor_its_complainant(
        apps, browser, book):
    # R-RECUSE: not in the queue, the statistics nor the data-quality page
    path, _, _ = book
    handler = people(path)["handler"]
    reg = build_register(WorkbookStore(path, schema()).read(), schema(), now=NOW)
    cid = reg.table.loc[reg.table["complainant"].eq(AGAINST["complainant"]), "id"].iloc[0]
    assert sign_in_locally(browser, apps["local"], handler) == zh("page_queue")
    for page in TABLE["handler"]["pages"]:
        open_page(browser, f"{apps['local']}/{page}")
        if page == "statistics":
            wait(browser).until(lambda d: zh("sec_overdue") in body(d))
        text = shown(browser) + "".join(cells(browser))
        assert cid not in text and "对处理人的投诉" not in text, page
        assert not [v for v in AGAINST.values() if v in text], page
