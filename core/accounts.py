"""Sign-in: which kind is configured, local accounts (argon2 hashes in .streamlit/secrets.toml,
never plain text, never in the shared sheet), and failed attempts slowed down."""

from __future__ import annotations

import os
import re
import tempfile
import threading
import time
import tomllib
from collections.abc import Mapping
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from core import config
from core.errors import RegisterError
from core.schema import norm

SECTION = "accounts"  # [accounts] in secrets.toml: account name = argon2 hash
MIN_PASSWORD = 8
OIDC_KEYS = ("client_id", "client_secret", "server_metadata_url")
_HASHER = PasswordHasher()  # argon2id, the library's recommended parameters
_MISSING = _HASHER.hash("an account that does not exist")


def read_secrets(path: Path | None = None) -> dict:
    """secrets.toml as a dict ({} when there is none)."""
    path = Path(path or config.SECRETS)
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RegisterError(f"{path} cannot be read as TOML ({exc}).") from exc


def providers(secrets: Mapping) -> list[str | None]:
    """The OIDC providers of the [auth] section: None for one given in [auth] itself, else
    the names of its [auth.NAME] sections (Streamlit's st.login layout)."""
    auth = secrets.get("auth") or {}
    found: list[str | None] = [None] if all(k in auth for k in OIDC_KEYS) else []
    found += [k for k, v in auth.items() if isinstance(v, Mapping) and "client_id" in v]
    return found


def sign_in(secrets: Mapping) -> str | None:
    """`oidc` when an [auth] section is configured (it wins), `accounts` when local accounts
    are, else None: nothing configured, and the app serves only this machine."""
    if secrets.get("auth"):
        return "oidc"
    if secrets.get(SECTION):
        return "accounts"
    return None


# --- local accounts --------------------------------------------------------------------------

def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def check_password(accounts: Mapping[str, str], account: str, password: str) -> str | None:
    """The account's name as configured when `password` matches its hash, else None. An
    unknown account costs the same time as a wrong password."""
    name = next((k for k in accounts if norm(k) == norm(account)), None)
    stored = str(accounts[name]) if name is not None else _MISSING
    try:
        _HASHER.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    return name


def set_account(name: str, password_hash: str | None, path: Path | None = None) -> bool:
    """Add or replace (a hash) or remove (None) an account in secrets.toml, keeping every
    other setting. Returns whether the account existed before."""
    path = Path(path or config.SECRETS)
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    before = read_secrets(path)
    accounts = dict(before.get(SECTION) or {})
    existed = name in accounts
    if password_hash is None:
        accounts.pop(name, None)
    else:
        accounts[name] = password_hash
    new = _without_section(text).rstrip("\n")
    if accounts:
        lines = [f"{_toml_string(k)} = {_toml_string(v)}" for k, v in accounts.items()]
        new += ("\n\n" if new else "") + f"[{SECTION}]\n" + "\n".join(lines)
    new += "\n"
    try:
        after = tomllib.loads(new)
    except tomllib.TOMLDecodeError:
        after = {}
    if after.get(SECTION, {}) != accounts or \
            {k: v for k, v in after.items() if k != SECTION} != \
            {k: v for k, v in before.items() if k != SECTION}:
        raise RegisterError(f"{path} is laid out in a way this command cannot edit safely; "
                            f"nothing was changed. Move its [{SECTION}] section to the end and "
                            f"try again.")
    _write_private(path, new)
    return existed


_HEADER = re.compile(r"^\s*\[")
_OURS = re.compile(rf"^\s*\[\s*{SECTION}\s*\]\s*(#.*)?$")


def _without_section(text: str) -> str:
    out, inside = [], False
    for line in text.splitlines():
        if _HEADER.match(line):
            inside = bool(_OURS.match(line))
        if not inside:
            out.append(line)
    return "\n".join(out)


def _toml_string(s: str) -> str:
    escaped = s.replace("\\", "\\\\").replace('"', '\\"')
    escaped = "".join(c if c >= " " and c != "\x7f" else f"\\u{ord(c):04x}" for c in escaped)
    return f'"{escaped}"'


def _write_private(path: Path, text: str) -> None:
    """Write through a temporary file readable by the owner only (the file holds secrets)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o600
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".secrets-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, mode & 0o700 or 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --- failed sign-ins -------------------------------------------------------------------------

class Throttle:
    """Failed sign-ins per account, shared by every session of a server: after n failures in
    a row the next attempt waits 2**(n-1) seconds, at most `cap`. Unknown accounts count too,
    so trying names reveals nothing."""

    def __init__(self, cap: float = 300.0, clock=time.monotonic):
        self.cap, self.clock = cap, clock
        self._lock = threading.Lock()
        self._state: dict[str, tuple[int, float]] = {}  # account → (failures, next try at)

    def wait(self, account: str) -> float:
        """Seconds before this account may try again (0: now)."""
        with self._lock:
            _, until = self._state.get(norm(account), (0, 0.0))
        return max(0.0, until - self.clock())

    def failed(self, account: str) -> float:
        """Count a failure; returns the wait it imposes."""
        with self._lock:
            n, _ = self._state.get(norm(account), (0, 0.0))
            delay = min(2.0 ** n, self.cap)
            self._state[norm(account)] = (n + 1, self.clock() + delay)
        return delay

    def succeeded(self, account: str) -> None:
        with self._lock:
            self._state.pop(norm(account), None)
