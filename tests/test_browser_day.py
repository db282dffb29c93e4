"""A clerk's day in real headless Chromium, in both languages (issue 12's "done when"):
register a complaint, find it in the queue with its next step and state, record two
milestones with their times left blank (= now), complete the closure checklist's missing
item in place, and download the meeting pack — asserting what the page shows against the
workbook it wrote. Also: an open queue shows a row someone else added, and the chosen
language stays over a reload."""

import datetime as dt
import io
import shutil
import time
import zipfile
from html import unescape
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from core.front.demo import DEMO_USERS
from core.reading.i18n import label
from core.reading.schema import schema
from core.reports.sections import build_sections
from core.rules.queue import queue_frame, remaining
from core.rules.register import build_register
from core.store.workbook import WorkbookStore

from .browser import chrome, serving

pytestmark = pytest.mark.browser
ME = DEMO_USERS["supervisor"]["zh"]  # the operator of this machine, on the Users tab
TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def live(demo_path, tmp_path_factory):
    """The app on a copy of the demo register, its operator named as a Users-tab person."""
    folder = tmp_path_factory.mktemp("day")
    register = folder / "register.xlsx"
    shutil.copy(demo_path, register)
    with serving(register, folder / "no-secrets.toml", COMPLAINTS_USER=ME) as url:
        yield url, register


@pytest.fixture(scope="module")
def chromium(tmp_path_factory):
    """One Chromium for the module; each test starts it afresh as a new visitor."""
    driver = chrome(tmp_path_factory.mktemp("chrome"))
    yield driver
    driver.quit()


@pytest.fixture
def driver(chromium):
    chromium.execute_cdp_cmd("Network.clearBrowserCookies", {})  # whatever page it is on
    return chromium


def read(path):
    return build_register(WorkbookStore(path, schema()).read(), schema(),
                          now=dt.datetime.now(TZ).replace(tzinfo=None))


class Page:
    """The few gestures a person makes on a Streamlit page, each waiting for the app."""

    def __init__(self, driver, lang):
        from selenium.common.exceptions import StaleElementReferenceException
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait

        self.d, self.lang, self.By = driver, lang, By
        self.stale = StaleElementReferenceException
        self.wait = WebDriverWait(driver, 90, ignored_exceptions=(self.stale,))

    def retry(self, gesture):
        """A gesture again when the app re-drew its element in between (a rerun)."""
        for _ in range(5):
            try:
                return gesture()
            except self.stale:
                time.sleep(0.5)
        return gesture()

    def t(self, key, **kw):
        return label(key, self.lang, **kw)

    def h(self, key):
        return schema().tab("complaints").column(key).header(self.lang)

    def idle(self):
        time.sleep(0.4)  # Streamlit shows its running sign a moment after a gesture
        self.wait.until(lambda d: not d.find_elements(
            self.By.CSS_SELECTOR, "[data-testid='stStatusWidgetRunningIcon'],"
                                  "[data-testid='stStatusWidgetRunningManIcon']"))
        time.sleep(0.1)

    def x(self, xpath):
        return self.wait.until(lambda d: d.find_element(self.By.XPATH, xpath))

    def text(self, text):
        return self.x(f"//*[contains(text(), {_lit(text)})]")

    def type(self, field, value, enter=False):
        def gesture():
            el = self.x(f"//input[@aria-label={_lit(field)}] | "
                        f"//textarea[@aria-label={_lit(field)}]")
            el.send_keys(value + ("\n" if enter else ""))
        self.retry(gesture)

    def pick(self, field, value):
        from selenium.webdriver.common.keys import Keys

        def gesture():
            box = self.x(f"//label[contains(., {_lit(field)})]/following::input[1]")
            box.click()
            box.send_keys(value)
            self.x(f"//*[@role='option' and contains(., {_lit(value)})]")
            box.send_keys(Keys.ENTER)
        self.retry(gesture)
        self.idle()

    def press(self, text):
        self.retry(lambda: self.x(f"//button[contains(., {_lit(text)}) and not(@disabled)]")
                   .click())
        self.idle()

    def go(self, page_key):
        self.retry(lambda: self.x(f"//a[contains(., {_lit(self.t(page_key))})]").click())
        self.x(f"//h2[contains(., {_lit(self.t(page_key))})]")
        self.idle()

    def metric(self, key):
        """The number a metric shows, once the page has drawn it."""
        def read(d):
            try:
                shown = {m.text.split("\n")[0]: int(m.text.split("\n")[1]) for m in
                         d.find_elements(self.By.CSS_SELECTOR, "[data-testid='stMetric']")}
            except (self.stale, IndexError, ValueError):  # being drawn
                return None
            return (shown[self.t(key)],) if self.t(key) in shown else None
        return self.wait.until(read)[0]

    def grid(self, n=0, rows=None):
        """The n-th table's rows as text (read from the grid's accessible table); with `rows`,
        once it holds that many (the header included)."""
        def read(d):
            try:
                tables = d.find_elements(self.By.CSS_SELECTOR, ".stDataFrame table")
                out = [[c.get_attribute("textContent") for c in r.find_elements(
                    self.By.CSS_SELECTOR, "th, td")]
                    for r in tables[n].find_elements(self.By.TAG_NAME, "tr")]
            except (self.stale, IndexError):
                return None
            out = [r for r in out if r]
            return out if rows is None or len(out) == rows else None
        return self.wait.until(read)

    def line(self, start):
        """The text of the paragraph that (after its icon) starts with `start`."""
        for e in self.d.find_elements(self.By.CSS_SELECTOR, "[data-testid='stMarkdownContainer']"):
            text = e.text.replace("\n", " ")
            if start in text:
                return text[text.index(start):]
        return None


def _lit(s: str) -> str:
    """A string as an XPath literal."""
    return f"'{s}'" if "'" not in s else f'"{s}"'


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_clerks_day_from_intake_to_the_meeting_pack(live, driver, tmp_path, lang):
    url, register = live
    _day(Page(driver, lang), url, register, tmp_path, lang)


def _day(p, url, register, tmp_path, lang):
    d, By = p.d, p.By
    d.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow",
                                                   "downloadPath": str(tmp_path)})
    d.get(f"{url}/intake")
    if lang == "en":
        p.x("//*[text()='English']").click()
    p.x(f"//h2[contains(., {_lit(p.t('page_intake'))})]")
    p.idle()
    subject = f"浏览器{lang}：电梯停运"
    for key, value in (("complainant", "李娜"), ("contact", "0571-88886666"),
                       ("respondent", "工程部"), ("subject", subject),
                       ("description", "三天没有电梯"), ("request", "尽快修复")):
        p.type(f"{p.h(key)} *", value)
    p.pick(p.h("channel"), schema().value_sets["channel"].label("phone", lang))
    p.pick(p.h("first_receiver"), ME)  # the pick-list of the Users tab
    p.press(p.t("save"))
    done = p.text(p.t("saved", id="TS").split("TS")[0])
    number = "TS" + done.text.split("TS")[1][:11]
    assert read(register).table["id"].tolist().count(number) == 1  # written once, to the file

    # --- the queue: the new complaint with its next step, owner, due time and state ---------
    p.go("page_queue")
    reg = read(register)
    q = queue_frame(reg)
    assert p.metric("open_count") == len(q)
    assert p.metric("overdue") == int(q["state"].eq("overdue").sum())
    p.retry(lambda: p.x(f"//label[contains(., {_lit(p.t('quick_mine'))})]").click())  # mine
    p.idle()
    p.type(p.t("queue_search"), number, enter=True)
    p.idle()
    line = q.loc[q["id"].eq(number)].iloc[0]
    rows = p.grid(rows=2)  # the header and our complaint only
    shown = dict(zip(rows[0], rows[1], strict=False))
    assert shown[p.t("col_id")] == number and shown[p.t("col_subject")] == subject
    assert shown[p.t("col_step")] == p.t("step_accept") == {"zh": "作出受理决定",
                                                              "en": "Decide on acceptance"}[lang]
    assert shown[p.t("col_owner")] == ME
    assert shown[p.t("col_state")] == p.t(f"state_{line['state']}")
    assert shown[p.t("col_state")] in ({"zh": "进行中", "en": "running"}[lang],
                                       {"zh": "即将到期", "en": "due soon"}[lang])
    assert shown[p.t("col_due")] == line["due"].strftime("%Y-%m-%d %H:%M")
    assert shown[p.t("col_days")] == remaining(line["days_left"], lang)

    # --- record two milestones, their times left blank: now ----------------------------------
    p.pick(p.t("open_one"), number)
    p.text(p.t("next_step_line", step=p.t("step_accept"), owner=ME))
    before = dt.datetime.now(TZ).replace(tzinfo=None, second=0, microsecond=0)
    p.pick(p.t("fields_to_record"), p.h("accepted_at"))
    p.pick(p.t("fields_to_record"), p.h("first_reply_at"))
    p.press(p.t("record"))
    p.text(p.t("recorded"))
    after = dt.datetime.now(TZ).replace(tzinfo=None)
    t = read(register).table
    r = t.loc[t["id"].eq(number)].iloc[0]
    for key in ("accepted_at", "first_reply_at"):
        assert before <= r[key] <= after, (key, r[key])
    # the detail updated at once: the next step moved on; the milestones show the times
    p.text(p.t("next_step_line", step=p.t("step_assign"), owner=ME))
    milestones = {a: b for a, b in p.grid(2)[1:]}
    assert milestones[p.h("first_reply_at")] == r["first_reply_at"].strftime("%Y-%m-%d %H:%M")
    # the form is cleared: no field left chosen
    chosen = d.find_elements(By.XPATH, f"//label[contains(., {_lit(p.t('fields_to_record'))})]"
                                       f"/following::*[@data-baseweb='tag'][1]")
    assert not chosen

    # --- closure: only the written reply is missing of item 4; recorded in place ------------
    p.go("page_closure")
    p.pick(p.t("open_one"), number)
    answered = p.line(p.t("close_answered"))
    assert answered == f"{p.t('close_answered')} — {p.t('to_record', cols=p.h('reply_written'))}"
    p.pick(p.h("reply_written"), schema().value_sets["yes_no"].label("yes", lang))
    p.press(p.t("record"))
    p.text(p.t("recorded"))
    answered = p.line(p.t("close_answered"))
    assert answered == p.t("close_answered")  # it holds now: nothing left to record
    assert read(register).table.set_index("id").at[number, "reply_written"] == True  # noqa: E712
    close = p.x(f"//button[contains(., {_lit(p.t('close_button'))})]")
    assert close.get_attribute("disabled") is not None  # the root cause etc. are still missing

    # --- statistics: this month's overview counts today's complaints, on the page and in the
    # downloaded pack ------------------------------------------------------------------------
    p.go("page_stats")
    period = pd.Timestamp(dt.datetime.now(TZ).replace(tzinfo=None)).to_period("M")
    overview = build_sections(read(register), str(period), lang)[0].text[0]
    received = read(register).table["received_at"].dt.to_period("M").eq(period).sum()
    assert str(received) in overview  # today's complaint(s), this one included
    p.text(overview)
    p.press(p.t("pack_make"))  # the pack is made on request, then offered for download
    p.press(p.t("download_pack"))
    pack = tmp_path / f"complaints-{period}.zip"
    for _ in range(240):
        if pack.exists():
            break
        time.sleep(0.5)
    with zipfile.ZipFile(io.BytesIO(pack.read_bytes())) as z:
        names = sorted(z.namelist())
        html = unescape(z.read(f"{period}-report.html").decode())
    assert names == [f"{period}-report.html", f"{period}-report.pdf",
                     f"{period}-statistics.xlsx"]
    assert overview in html


def test_an_open_queue_shows_a_row_added_by_someone_else_within_the_read_window(
        demo_path, driver, tmp_path):
    # the read window (ttl) is 3 s here: the queue refreshes itself without any gesture
    from core.commands.intake import register_complaint

    register = tmp_path / "register.xlsx"
    shutil.copy(demo_path, register)
    secrets = tmp_path / "secrets.toml"
    secrets.write_text("[connections.gsheets]\nttl = 3\n")
    with serving(register, secrets, COMPLAINTS_USER=ME, COMPLAINTS_SECRETS=str(secrets)) as url:
        p = Page(driver, "en")
        driver.get(f"{url}/queue")
        p.x("//*[text()='English']").click()
        p.x(f"//h2[contains(., {_lit(p.t('page_queue'))})]")
        p.idle()
        before = p.metric("open_count")
        store = WorkbookStore(register, schema())
        now = dt.datetime.now(TZ).replace(tzinfo=None)
        saved = register_complaint(store, read(register), {
            "complainant": "王芳", "contact": "0571-88886666", "respondent": "工程部",
            "subject": "added in the file", "description": "d", "request": "r",
            "channel": "phone"}, user=ME, now=now)
        assert saved.id
        p.wait.until(lambda d: p.metric("open_count") == before + 1)
        driver.get("about:blank")  # the page stops refreshing before its app stops


def test_the_chosen_language_stays_over_a_reload(live, driver):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    url, _ = live
    browser = driver
    wait = WebDriverWait(browser, 60)
    browser.get(f"{url}/intake")  # a page that draws quickly: the language is the point
    wait.until(ec.presence_of_element_located((By.XPATH, "//h2[contains(., '登记')]")))
    wait.until(ec.presence_of_element_located((By.XPATH, "//*[text()='English']"))).click()
    wait.until(ec.presence_of_element_located((By.XPATH, "//h2[contains(., 'Intake')]")))
    wait.until(lambda d: d.get_cookie("complaints_lang"))
    browser.refresh()
    head = wait.until(ec.presence_of_element_located((By.XPATH, "//h2[contains(., 'Intake')]")))
    assert "Intake" in head.text
    assert browser.find_element(By.XPATH, "//a[contains(., 'Statistics')]").text == "Statistics"
    assert not browser.find_elements(By.XPATH, "//a[contains(., '统计')]")
    # and back: Chinese is kept as well
    wait.until(ec.element_to_be_clickable((By.XPATH, "//*[text()='简体中文']"))).click()
    wait.until(ec.presence_of_element_located((By.XPATH, "//h2[contains(., '登记')]")))
    wait.until(lambda d: d.get_cookie("complaints_lang")["value"] == "zh")
    browser.refresh()
    wait.until(ec.presence_of_element_located((By.XPATH, "//h2[contains(., '登记')]")))
    assert browser.find_element(By.XPATH, "//a[contains(., '统计')]").text.strip() == "统计"
