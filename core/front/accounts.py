"""Sign-in: which kind is configured, local accounts (argon2 hashes in .streamlit/secrets.toml,
never plain text, never in the shared sheet), and failed attempts slowed down."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets as random_secrets
import tempfile
import threading
import time
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from core import config
from core.errors import RegisterError
from core.reading.schema import norm

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


# --- staying signed in -------------------------------------------------------------------------
#
# After a local sign-in the browser keeps a signed, expiring token in a cookie, so a reload or
# a new tab does not ask again. The token names the account and when it expires, never the
# password; its HMAC covers the account's current hash too, so changing or removing the
# password ends every session of that account. The key is `session_secret` in secrets.toml,
# else one generated on first use and kept outside the repository (SESSION_KEY_FILE).

COOKIE = "complaints_session"
SESSION_HOURS = 12
SESSION_KEY_FILE = Path(os.environ.get("COMPLAINTS_SESSION_KEY") or
                        Path.home() / ".config" / "complaints-register" / "session.key")


def session_key(secrets: Mapping, path: Path | None = None) -> bytes:
    """The key that signs session tokens: `session_secret` from secrets.toml when set, else
    the key file's (created, readable by the owner only, the first time it is needed)."""
    configured = str(secrets.get("session_secret") or "")
    if configured:
        return configured.encode()
    path = Path(path or SESSION_KEY_FILE)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another session made it first: use theirs
            pass
        else:
            with os.fdopen(fd, "w", encoding="ascii") as f:
                f.write(random_secrets.token_urlsafe(48))
    key = path.read_text(encoding="ascii").strip()
    if len(key) < 32:
        raise RegisterError(f"{path} holds no usable session key; delete it and it is made "
                            f"again (every browser then signs in once more).")
    return key.encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, body: str, password_hash: str) -> str:
    return _b64(hmac.new(key, f"{body}\x1f{password_hash}".encode(), hashlib.sha256).digest())


def session_token(key: bytes, accounts: Mapping[str, str], account: str, now: float,
                  hours: float = SESSION_HOURS) -> str:
    """A token saying `account` signed in, valid for `hours` from `now` (seconds since the
    epoch); it carries a random id so that signing out can revoke this one token."""
    body = ".".join((_b64(account.encode()), str(int(now + hours * 3600)),
                     random_secrets.token_urlsafe(12)))
    return f"{body}.{_mac(key, body, str(accounts[account]))}"


def token_account(key: bytes, accounts: Mapping[str, str], token: str, now: float,
                  revoked: Callable[[str], bool] = lambda _: False) -> str | None:
    """The account a token signed in, when its signature holds, it has not expired, it was not
    revoked and the account still has the password it had; else None."""
    try:
        name_b64, expires, token_id, mac = token.split(".")
        account = _unb64(name_b64).decode()
        expires_at = int(expires)
    except (ValueError, UnicodeDecodeError):
        return None
    if account not in accounts or expires_at <= now or revoked(token_id):
        return None
    body = f"{name_b64}.{expires}.{token_id}"
    if not hmac.compare_digest(mac, _mac(key, body, str(accounts[account]))):
        return None
    return account


def token_id(token: str) -> str:
    """The random id inside a token (what a sign-out revokes)."""
    parts = token.split(".")
    return parts[2] if len(parts) == 4 else ""


class Revoked:
    """Tokens signed out before they expired, shared by every session of a server, and kept in
    `path` (beside the session key) so that a restart does not make them valid again: the key
    outlives the server, so a signed-out cookie would otherwise open the register again."""

    def __init__(self, path: Path | None = None):
        self._lock = threading.Lock()
        self._path = path
        self._ids: dict[str, float] = {}  # token id → when it would have expired
        if path is not None:
            try:
                lines = path.read_text(encoding="ascii").split()
            except (OSError, UnicodeDecodeError):
                lines = []
            for line in lines:
                tid, _, until = line.partition(":")
                try:
                    self._ids[tid] = float(until)
                except ValueError:
                    continue  # a garbled line revokes nothing; the rest still hold

    def add(self, token: str, now: float) -> None:
        with self._lock:
            self._ids = {k: v for k, v in self._ids.items() if v > now}
            self._ids[token_id(token)] = now + SESSION_HOURS * 3600
            if self._path is not None:
                self._save()

    def _save(self) -> None:
        """Rewrite the file with the live ids (replace, so a crash leaves the old file)."""
        self._path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=self._path.parent, prefix=".signed-out.")
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write("".join(f"{k}:{v:.0f}\n" for k, v in self._ids.items()))
        os.replace(tmp, self._path)

    def __call__(self, tid: str) -> bool:
        with self._lock:
            return tid in self._ids


def revoked_file() -> Path:
    """Where signed-out session ids are kept: beside the session key file."""
    return SESSION_KEY_FILE.with_name("signed-out")
