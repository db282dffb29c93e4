"""End to end in real headless Chromium: start the app, register a complaint, find it in
the queue. Uses Debian's chromium and chromium-driver (installed by test.sh)."""

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from core.reading.schema import schema
from core.store.workbook import WorkbookStore

from .conftest import ROOT

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.browser


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(register, secrets, **env):
    """The dashboard on `register` with the secrets file `secrets` (none there: no sign-in,
    this machine's operator), until the block ends; yields its URL."""
    port = free_port()
    env = {**os.environ, "COMPLAINTS_WORKBOOK": str(register), **env}
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py",
                             "--server.port", str(port), "--server.address", "127.0.0.1",
                             "--server.headless", "true",
                             "--secrets.files", str(secrets)], cwd=ROOT,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture(scope="module")
def server(demo_path, tmp_path_factory):
    """One app for the module's tests, on a copy of the demo register."""
    folder = tmp_path_factory.mktemp("app")
    register = folder / "register.xlsx"
    shutil.copy(demo_path, register)
    with serving(register, folder / "no-secrets.toml") as url:
        yield url, register


def chrome(profile):
    """Debian's headless Chromium under chromedriver, with its profile in `profile`."""
    if not (CHROMIUM and DRIVER):
        pytest.fail("Debian's chromium and chromium-driver are needed: run ./test.sh as root "
                    "or apt-get install chromium chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1400,1000",
                 f"--user-data-dir={profile}"):
        opts.add_argument(flag)
    return webdriver.Chrome(service=Service(DRIVER), options=opts)


def wait_healthy(url: str) -> None:
    """Until the Streamlit server at `url` answers (at most a minute)."""
    for _ in range(120):
        try:
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=1)
            return
        except OSError:
            time.sleep(0.5)


@pytest.fixture(scope="module")
def chromium(tmp_path_factory):
    driver = chrome(tmp_path_factory.mktemp("chrome"))
    yield driver
    driver.quit()


@pytest.fixture
def browser(chromium):
    """The module's Chromium, as a new visitor: no cookie kept from an earlier test."""
    chromium.delete_all_cookies()
    return chromium


def test_register_a_complaint_and_see_it_in_the_queue(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    url, register = server
    wait = WebDriverWait(browser, 60)
    browser.get(f"{url}/intake")
    wait.until(ec.presence_of_element_located((By.XPATH, "//*[text()='English']"))).click()
    field = lambda label: wait.until(ec.element_to_be_clickable(  # noqa: E731
        (By.CSS_SELECTOR, f"[aria-label='{label}']")))
    wait.until(ec.presence_of_element_located((By.XPATH, "//h2[contains(., 'Intake')]")))
    for label, value in (("Complainant *", "李娜"), ("Contact *", "0571-88886666"),
                         ("Respondent *", "工程部"), ("Subject *", "浏览器测试：电梯停运"),
                         ("Details *", "三天没有电梯"), ("Request *", "尽快修复")):
        el = field(label)
        el.send_keys(value)
    box = browser.find_element(By.XPATH, "//label[contains(., 'Channel')]/following::input[1]")
    box.click()
    box.send_keys("phone", Keys.ENTER)
    browser.find_element(By.XPATH, "//button[contains(., 'Save')]").click()
    done = wait.until(ec.presence_of_element_located(
        (By.XPATH, "//*[contains(text(), 'Registered as TS')]")))
    number = done.text.split("Registered as ")[1].split(".")[0]

    browser.find_element(By.XPATH, "//a[contains(., 'Queue')]").click()
    pick = wait.until(ec.element_to_be_clickable(
        (By.XPATH, "//label[contains(., 'Open complaint')]/following::input[1]")))
    pick.click()
    pick.send_keys(number)
    option = wait.until(ec.presence_of_element_located(
        (By.XPATH, f"//*[@role='option' and contains(., '{number}')]")))
    assert number in option.text
    rows = WorkbookStore(register, schema()).read().tabs["complaints"].rows
    assert [r[0] for r in rows].count(number) == 1  # written once, to the real workbook


def test_the_chosen_language_stays_over_a_reload(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    url, _ = server
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
