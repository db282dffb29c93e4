"""Complaint numbers (R-NUMBER): PREFIX + yyyymmdd + a 3-digit daily serial.

Numbers are allocated by the store at the moment of writing, from the register as it is
then: every serial already mentioned in the register or its audit log counts as used, so a
number is never given twice and never reused after its row is deleted.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable


def stem(prefix: str, day: dt.date) -> str:
    return f"{prefix}{day:%Y%m%d}"


def number(stem_: str, serial: int) -> str:
    return f"{stem_}{serial:03d}"


def serials_in(stem_: str, texts: Iterable[object]) -> set[int]:
    """The serials of `stem_` among complaint numbers (case and spaces ignored)."""
    pattern = re.compile(re.escape(stem_) + r"(\d{3,})$", re.IGNORECASE)
    return {int(m[1]) for t in texts if t and (m := pattern.match(str(t).strip()))}


def allocate(prefix: str, received: list[dt.datetime],
             used_for: Callable[[str], set[int]]) -> list[str]:
    """A new number for each complaint, by its day of receipt, after every serial in use."""
    last: dict[str, int] = {}
    out = []
    for when in received:
        s = stem(prefix, when)
        if s not in last:
            last[s] = max(used_for(s), default=0)
        last[s] += 1
        out.append(number(s, last[s]))
    return out
