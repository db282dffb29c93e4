"""What the browser tests share: the app served on a register, and Debian's headless
Chromium under chromedriver (both installed by test.sh)."""

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from .conftest import ROOT

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")


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


def wait_healthy(url: str) -> None:
    """Until the Streamlit server at `url` answers; a test fails saying so after a minute
    (rather than on the page it could not open)."""
    for _ in range(120):
        try:
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=1)
            return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"The dashboard at {url} did not answer within a minute.")


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
