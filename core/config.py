"""Which register to open: CLI flags, then environment, then .streamlit/secrets.toml, then
the local demo workbook."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from core.errors import RegisterError

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_WORKBOOK = ROOT / "data" / "register.xlsx"
#: Streamlit's secrets file: the register's Google credentials, sign-in, local accounts
SECRETS = Path(os.environ.get("COMPLAINTS_SECRETS") or ROOT / ".streamlit" / "secrets.toml")


@dataclass(frozen=True)
class Target:
    workbook: str | None = None
    gsheet: str | None = None
    credentials: dict | None = None
    is_default: bool = False


def gsheets_section(path: Path = SECRETS) -> dict:
    """The [connections.gsheets] section of secrets.toml (Streamlit's st.connection layout)."""
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RegisterError(f"{path} cannot be read as TOML ({exc}).") from exc
    return dict(data.get("connections", {}).get("gsheets", {}))


def resolve(workbook: str | None = None, gsheet: str | None = None,
            secrets: Path = SECRETS) -> Target:
    """The register to open, by precedence: arguments, environment, secrets.toml, default."""
    if workbook:
        return Target(workbook=workbook)
    if gsheet:
        return Target(gsheet=gsheet, credentials=gsheets_section(secrets) or None)
    if os.environ.get("COMPLAINTS_WORKBOOK"):
        return Target(workbook=os.environ["COMPLAINTS_WORKBOOK"])
    if os.environ.get("COMPLAINTS_GSHEET"):
        return Target(gsheet=os.environ["COMPLAINTS_GSHEET"],
                      credentials=gsheets_section(secrets) or None)
    section = gsheets_section(secrets)
    if section.get("spreadsheet"):
        return Target(gsheet=str(section["spreadsheet"]), credentials=section)
    return Target(workbook=str(DEFAULT_WORKBOOK), is_default=True)


def cache_seconds(secrets: Path = SECRETS) -> int:
    """How long one read of a Google Sheet serves every viewer: `ttl` in the gsheets section
    of secrets.toml (Streamlit's st.connection convention), default 60 seconds."""
    try:
        return int(gsheets_section(secrets).get("ttl", 60))
    except (TypeError, ValueError, RegisterError):
        return 60
