"""Sign-in outside the browser: local accounts (argon2 hashes in secrets.toml, added by the CLI,
nothing secret printed), failed attempts slowed down, and a server that serves only this
machine until sign-in is configured — checked on real sockets."""

import os
import socket
import stat
import subprocess
import sys
import time
import tomllib
import urllib.request

import pytest

from core.front import accounts
from core.front.serve import address, command

from .browser import free_port
from .conftest import ROOT

GSHEETS = """# the team's Google Sheet
[connections.gsheets]
spreadsheet = "https://docs.google.com/spreadsheets/d/KEY/edit"
private_key = "-----BEGIN PRIVATE KEY-----\\n[not a header]\\n-----END PRIVATE KEY-----\\n"

[auth.microsoft]
client_id = "abc"
"""


def add_user(secrets, name, password, action="add"):
    env = {**os.environ, "COMPLAINTS_SECRETS": str(secrets)}
    return subprocess.run([sys.executable, "-m", "core", "user", action, name], cwd=ROOT,
                          env=env, input=password + "\n", capture_output=True, text=True,
                          timeout=120)


def test_user_add_stores_an_argon2_hash_keeps_every_other_setting_and_prints_nothing_secret(
        tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(GSHEETS, encoding="utf-8")
    before = tomllib.loads(GSHEETS)
    p = add_user(secrets, "王芳", "correct horse battery")
    assert p.returncode == 0, p.stderr
    assert "correct horse" not in p.stdout + p.stderr and "$argon2" not in p.stdout + p.stderr
    assert p.stdout.startswith("Added the local account 王芳 in ")
    data = tomllib.loads(secrets.read_text(encoding="utf-8"))
    assert data["accounts"]["王芳"].startswith("$argon2id$")
    assert "correct horse" not in secrets.read_text(encoding="utf-8")
    assert {k: v for k, v in data.items() if k != "accounts"} == before
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o600  # it holds secrets
    assert accounts.check_password(data["accounts"], "王芳", "correct horse battery") == "王芳"
    assert accounts.check_password(data["accounts"], "王芳", "wrong") is None
    assert accounts.check_password(data["accounts"], "nobody", "correct horse battery") is None

    assert add_user(secrets, "Zhao Liu", "another password").returncode == 0
    p = add_user(secrets, "王芳", "a new password")
    assert p.stdout.startswith("Changed the password of the local account 王芳")
    data = tomllib.loads(secrets.read_text(encoding="utf-8"))
    assert list(data["accounts"]) == ["王芳", "Zhao Liu"]
    assert accounts.check_password(data["accounts"], "王芳", "a new password") == "王芳"
    assert accounts.check_password(data["accounts"], "zhao liu", "another password") == \
        "Zhao Liu"  # the account name in any case

    assert add_user(secrets, "王芳", "", "remove").returncode == 0
    data = tomllib.loads(secrets.read_text(encoding="utf-8"))
    assert list(data["accounts"]) == ["Zhao Liu"] and data["connections"] == before["connections"]


def test_user_add_refuses_a_short_password_and_unknown_removals(tmp_path):
    secrets = tmp_path / "secrets.toml"
    p = add_user(secrets, "王芳", "short")
    assert p.returncode == 2 and p.stderr == ("Error: A password needs at least 8 characters; "
                                              "nothing was changed.\n")
    assert not secrets.exists()
    p = add_user(secrets, "王芳", "", "remove")
    assert p.returncode == 2 and "There is no local account 王芳" in p.stderr


def test_failed_sign_ins_wait_longer_each_time_per_account():
    now = [1000.0]
    gate = accounts.Throttle(cap=60, clock=lambda: now[0])
    assert gate.wait("王芳") == 0
    assert [gate.failed("王芳") for _ in range(8)] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert gate.wait("王芳") == 60 and gate.wait("王 芳".replace(" ", "")) == 60
    assert gate.wait("李娜") == 0  # another account is not held up
    now[0] += 61
    assert gate.wait("王芳") == 0
    gate.succeeded("王芳")
    assert gate.failed("王芳") == 1  # a success starts the count again


def test_which_sign_in_is_configured():
    assert accounts.sign_in({}) is None and address({}) == "127.0.0.1"
    assert accounts.sign_in({"connections": {"gsheets": {}}}) is None
    assert accounts.sign_in({"accounts": {"a": "$argon2id$..."}}) == "accounts"
    oidc = {"auth": {"redirect_uri": "http://x/oauth2callback", "cookie_secret": "s",
                     "client_id": "c", "client_secret": "s", "server_metadata_url": "u"},
            "accounts": {"a": "h"}}
    assert accounts.sign_in(oidc) == "oidc" and address(oidc) == "0.0.0.0"
    assert accounts.providers(oidc) == [None]
    assert accounts.providers(tomllib.loads(GSHEETS)) == ["microsoft"]


# --- the server on real sockets --------------------------------------------------------------

def other_address() -> str | None:
    """This machine's address on its network (not loopback), if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # no packet is sent for a UDP connect
            ip = s.getsockname()[0]
        except OSError:
            return None
    return None if ip.startswith("127.") else ip


def answers(host: str, port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/_stcore/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def listening(port: int) -> set[str]:
    """The local addresses a TCP socket listens on for `port` (from /proc/net/tcp)."""
    out = set()
    with open("/proc/net/tcp") as table:
        lines = table.read().splitlines()[1:]
    for line in lines:
        local, state = line.split()[1], line.split()[3]
        ip_hex, port_hex = local.split(":")
        if state == "0A" and int(port_hex, 16) == port:
            out.add(socket.inet_ntoa(bytes.fromhex(ip_hex)[::-1]))
    return out


@pytest.fixture
def serve(tmp_path, demo_path):
    procs = []

    def start(secrets_text: str | None, *extra: str, plain: bool = False):
        secrets = tmp_path / f"secrets{len(procs)}.toml"
        if secrets_text is not None:
            secrets.write_text(secrets_text, encoding="utf-8")
        port = free_port()
        env = {**os.environ, "COMPLAINTS_SECRETS": str(secrets),
               "COMPLAINTS_WORKBOOK": str(demo_path)}
        cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)] \
            if plain else [sys.executable, "-m", "core", "serve", "--server.port", str(port),
                           *extra]
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        procs.append(proc)
        for _ in range(120):
            if answers("127.0.0.1", port) or proc.poll() is not None:
                break
            time.sleep(0.25)
        return port, proc

    yield start
    for p in procs:
        p.terminate()
        p.wait(timeout=20)


def test_with_nothing_configured_the_server_answers_on_127_0_0_1_only(serve):
    port, proc = serve(None)
    assert answers("127.0.0.1", port)
    assert listening(port) == {"127.0.0.1"}
    other = other_address()
    if other:
        assert not answers(other, port)
    proc.terminate()
    assert "serves this machine only (127.0.0.1)" in proc.communicate(timeout=20)[1]


def test_a_plain_streamlit_run_also_serves_this_machine_only(serve):
    # .streamlit/config.toml sets server.address, whoever starts it
    port, _ = serve(None, plain=True)
    assert answers("127.0.0.1", port) and listening(port) == {"127.0.0.1"}


def test_with_sign_in_configured_the_team_can_reach_it(serve):
    port, _ = serve('[accounts]\n"王芳" = "$argon2id$v=19$m=65536,t=3,p=4$x$y"\n')
    assert answers("127.0.0.1", port)
    assert listening(port) == {"0.0.0.0"}
    other = other_address()
    if other:
        assert answers(other, port)


def test_the_streamlit_config_is_safe_for_visitors():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["address"] == "127.0.0.1"  # until ./run.sh finds sign-in
    assert config["client"]["showErrorDetails"] == "none"  # no traceback, no message
    assert config["client"]["toolbarMode"] == "viewer"  # no developer menu, no Deploy


def test_the_serve_command_line():
    cmd = command(["--server.port", "9999"], secrets_path="/nonexistent/secrets.toml")
    assert cmd[1:4] == ["-m", "streamlit", "run"] and cmd[-2:] == ["--server.port", "9999"]
    assert cmd[cmd.index("--server.address") + 1] == "127.0.0.1"
    assert cmd[cmd.index("--secrets.files") + 1] == "/nonexistent/secrets.toml"


# --- staying signed in: a signed, expiring token, never the password --------------------------

def test_a_session_token_names_its_account_until_it_expires_and_never_holds_the_password():
    people = {"王芳": accounts.hash_password("correct horse battery")}
    key = b"k" * 40
    token = accounts.session_token(key, people, "王芳", now=1_000_000.0, hours=12)
    assert "correct horse" not in token and people["王芳"] not in token
    assert accounts.token_account(key, people, token, now=1_000_000.0) == "王芳"
    assert accounts.token_account(key, people, token, now=1_000_000.0 + 12 * 3600) is None
    assert accounts.token_account(b"x" * 40, people, token, now=1_000_000.0) is None


def test_a_session_token_ends_with_a_new_password_a_removed_account_or_a_sign_out():
    people = {"王芳": accounts.hash_password("correct horse battery"), "赵六": "$argon2id$x"}
    key = b"k" * 40
    token = accounts.session_token(key, people, "王芳", now=1_000_000.0)
    changed = {**people, "王芳": accounts.hash_password("a new password")}
    assert accounts.token_account(key, changed, token, now=1_000_000.0) is None
    assert accounts.token_account(key, {"赵六": people["赵六"]}, token, now=1_000_000.0) is None
    revoked = accounts.Revoked()
    revoked.add(token, now=1_000_000.0)
    assert accounts.token_account(key, people, token, now=1_000_000.0, revoked=revoked) is None
    other = accounts.session_token(key, people, "王芳", now=1_000_000.0)  # another browser
    assert accounts.token_account(key, people, other, now=1_000_000.0, revoked=revoked) == "王芳"


def test_a_signed_out_token_stays_signed_out_after_a_restart(tmp_path):
    people = {"王芳": accounts.hash_password("correct horse battery")}
    key, path = b"k" * 40, tmp_path / "keys" / "signed-out"
    token = accounts.session_token(key, people, "王芳", now=1_000_000.0)
    accounts.Revoked(path).add(token, now=1_000_000.0)
    restarted = accounts.Revoked(path)  # a new server process reads what the last one kept
    assert accounts.token_account(key, people, token, now=1_000_100.0, revoked=restarted) is None
    # ids past their token's lifetime are dropped on the next sign-out; a garbled line is skipped
    path.write_text(path.read_text() + "garbled\n", encoding="ascii")
    later = 1_000_000.0 + accounts.SESSION_HOURS * 3600 + 1
    other = accounts.session_token(key, people, "王芳", now=later)
    accounts.Revoked(path).add(other, now=later)
    assert path.read_text().splitlines() == [f"{accounts.token_id(other)}:"
                                             f"{later + accounts.SESSION_HOURS * 3600:.0f}"]


def test_a_forged_session_token_is_refused():
    people = {"王芳": "$argon2id$a", "赵六": "$argon2id$b"}
    key = b"k" * 40
    name, expires, tid, mac = accounts.session_token(key, people, "赵六", now=0.0).split(".")
    other = accounts.session_token(key, people, "王芳", now=0.0).split(".")[0]
    assert accounts.token_account(key, people, f"{other}.{expires}.{tid}.{mac}", now=0.0) is None
    assert accounts.token_account(key, people, f"{name}.9{expires}.{tid}.{mac}", now=0.0) is None
    for junk in ("", "a.b", "....", "赵六.1.2.3", f"{name}.x.{tid}.{mac}"):
        assert accounts.token_account(key, people, junk, now=0.0) is None


def test_the_session_key_is_the_configured_secret_else_made_once_outside_the_repository(
        tmp_path):
    assert accounts.session_key({"session_secret": "s" * 40}) == b"s" * 40
    path = tmp_path / "state" / "session.key"
    first = accounts.session_key({}, path)
    assert len(first) >= 32 and accounts.session_key({}, path) == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not accounts.SESSION_KEY_FILE.is_relative_to(ROOT) or \
        "COMPLAINTS_SESSION_KEY" in os.environ
