"""`python -m core serve`: start the dashboard, safe by default. With no sign-in configured it
listens on 127.0.0.1 only (this machine); with sign-in configured, on every interface so the
team can reach it. core never imports streamlit: this runs it as a program."""

from __future__ import annotations

import os
import sys

from core import config
from core.front import accounts

LOCAL, EVERYWHERE = "127.0.0.1", "0.0.0.0"  # every interface only once sign-in is set up


def address(secrets: dict) -> str:
    """The address to listen on: every interface only when sign-in is configured."""
    return EVERYWHERE if accounts.sign_in(secrets) else LOCAL


def command(extra: list[str], secrets_path=None) -> list[str]:
    """The `streamlit run` command line; options in `extra` come last and win."""
    path = secrets_path or config.SECRETS
    return [sys.executable, "-m", "streamlit", "run", str(config.ROOT / "app.py"),
            "--server.address", address(accounts.read_secrets(path)),
            "--secrets.files", str(path), *extra]


def serve(extra: list[str]) -> None:
    """Replace this process by the Streamlit server."""
    if address(accounts.read_secrets()) == LOCAL and "--server.address" not in extra:
        print("No sign-in is configured, so the dashboard serves this machine only "
              f"({LOCAL}). To open it to your team, set up sign-in (README: Sign-in and "
              "roles) and start it again.", file=sys.stderr, flush=True)
    cmd = command(extra)
    os.chdir(config.ROOT)
    os.execv(cmd[0], cmd)
