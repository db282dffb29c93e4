"""The register's time: every "now" the product writes or compares is a wall-clock time of
the register's time zone (setting `timezone`), whatever the server's clock zone is.

Naive datetimes in core are register-local wall-clock times; aware ones are converted once,
here, at the edge (the CLI's --now, a page's clock, a value carrying an offset).
"""

from __future__ import annotations

import datetime as dt
import re

from core.errors import RegisterError

_ISO = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
                  r"(?:Z|[+-]\d{2}:?\d{2})?$")


def local(t: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """`t` as a naive wall-clock time of `tz`, to the second. An aware time is converted;
    a naive one is taken as already being the register's time."""
    if t.tzinfo is not None:
        t = t.astimezone(tz).replace(tzinfo=None)
    return t.replace(microsecond=0)


def now_in(tz: dt.tzinfo) -> dt.datetime:
    """The register's current wall-clock time (naive, to the second)."""
    return dt.datetime.now(tz).replace(tzinfo=None, microsecond=0)


def aware(t: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """A register-local naive time with the register's offset attached (for ISO output)."""
    return t.replace(tzinfo=tz) if t.tzinfo is None else t.astimezone(tz)


def parse_moment(text: str) -> dt.datetime:
    """An ISO 8601 moment as typed on a command line. An offset (`Z`, `+08:00`) is kept, so
    the moment is converted to the register's zone later; without one it is the register's
    own wall-clock time."""
    s = text.strip().replace("z", "Z")
    if not _ISO.match(s):
        raise RegisterError(f"'{text}' is not a date-time; write it as 2026-11-24T10:00:00+08:00 "
                            f"(or without the offset for the register's own time).")
    try:
        return dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        raise RegisterError(f"'{text}' is not a valid date-time (check the month, day and "
                            f"hour).") from None
