"""Screenshots of every page in both languages, for the README and for review.

    .venv/bin/python tools/screenshots.py --out screenshots

Writes a demo register to a temporary folder (or uses --workbook), starts the dashboard on
it on a free local port, opens each page in Debian's headless Chromium (chromium and
chromium-driver) and saves one whole-page PNG per page and language, plus the queue with
one complaint opened: `zh-queue.png`, `en-statistics.png`, … Needs the dev dependencies
(selenium).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = ("queue", "intake", "closure", "statistics", "scores", "quality")
WIDTH, MAX_HEIGHT = 1400, 16000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def dashboard(workbook: Path, folder: Path):
    """The dashboard on `workbook`, on this machine only, with no sign-in configured."""
    port = free_port()
    env = {**os.environ, "COMPLAINTS_WORKBOOK": str(workbook)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true",
         "--secrets.files", str(folder / "no-secrets.toml")],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        else:
            raise SystemExit("The dashboard did not start within a minute.")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def chrome(profile: Path):
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        raise SystemExit("Debian's chromium and chromium-driver are needed: "
                         "apt-get install chromium chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--hide-scrollbars", f"--window-size={WIDTH},1000",
                 f"--user-data-dir={profile}"):
        opts.add_argument(flag)
    return webdriver.Chrome(service=Service(driver), options=opts)


def settled(browser, timeout: float = 90) -> None:
    """Until the script run has finished and the page stopped growing."""
    from selenium.webdriver.common.by import By

    end, last, same = time.time() + timeout, -1, 0
    while time.time() < end:
        running = browser.find_elements(By.CSS_SELECTOR, "[data-testid='stStatusWidget'] button, "
                                        "[data-testid='stSpinner'], .stSpinner")
        height = browser.execute_script(
            "const m = document.querySelector('[data-testid=\"stMain\"]');"
            "return m ? m.scrollHeight : 0")
        same = same + 1 if (height == last and not running) else 0
        if same >= 4:
            return
        last = height
        time.sleep(0.5)


def whole_page(browser, path: Path) -> None:
    """A PNG of the whole page: the window made as tall as the page's main column."""
    height = browser.execute_script(
        "const m = document.querySelector('[data-testid=\"stMain\"]');"
        "const b = m && m.firstElementChild; return Math.max(m ? m.scrollHeight : 0, "
        "b ? b.scrollHeight : 0)")
    browser.set_window_size(WIDTH, min(MAX_HEIGHT, max(1000, int(height) + 80)))
    time.sleep(1.5)  # charts re-lay themselves out to the new size
    browser.save_screenshot(str(path))
    browser.set_window_size(WIDTH, 1000)


def open_page(browser, url: str, page: str, lang: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 90)
    browser.get(f"{url}/{page}")
    wait.until(ec.presence_of_element_located((By.TAG_NAME, "h2")))
    settled(browser)
    if lang == "en":
        browser.find_element(By.XPATH, "//*[text()='English']").click()
        wait.until(ec.presence_of_element_located(
            (By.XPATH, "//h2[not(contains(., '待办') or contains(., '登记') or contains(., '结案')"
                       " or contains(., '统计') or contains(., '考核') or contains(., '质量'))]")))
        settled(browser)


def open_first_complaint(browser) -> bool:
    """On the queue: open the first complaint of the pick-list (its detail and form)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    boxes = browser.find_elements(By.XPATH, "//div[@data-testid='stSelectbox']//input")
    if not boxes:
        return False
    boxes[-1].click()
    time.sleep(0.5)
    boxes[-1].send_keys(Keys.ARROW_DOWN, Keys.ENTER)
    settled(browser)
    return True


def take(url: str, out: Path, langs: tuple[str, ...], pages: tuple[str, ...] = PAGES
         ) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    done = []
    with tempfile.TemporaryDirectory() as profile:
        browser = chrome(Path(profile))
        try:
            for lang in langs:
                for page in pages:
                    open_page(browser, url, page, lang)
                    path = out / f"{lang}-{page}.png"
                    whole_page(browser, path)
                    done.append(path)
                    print(path, flush=True)
                    if page == "queue" and open_first_complaint(browser):
                        path = out / f"{lang}-queue-detail.png"
                        whole_page(browser, path)
                        done.append(path)
                        print(path, flush=True)
        finally:
            browser.quit()
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="screenshots", help="folder for the PNGs")
    parser.add_argument("--workbook", help="register to show (default: a fresh demo register)")
    parser.add_argument("--lang", choices=("zh", "en"), help="one language only")
    parser.add_argument("--page", choices=PAGES, action="append", help="only this page "
                        "(repeat for more)")
    args = parser.parse_args(argv)
    langs = (args.lang,) if args.lang else ("zh", "en")
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        workbook = Path(args.workbook).resolve() if args.workbook else folder / "register.xlsx"
        if not args.workbook:
            subprocess.run([sys.executable, "-m", "core", "demo", str(workbook), "--rows", "300",
                            "--seed", "7"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        with dashboard(workbook, folder) as url:
            take(url, Path(args.out).resolve(), langs, tuple(args.page or PAGES))
    return 0


if __name__ == "__main__":
    sys.exit(main())
