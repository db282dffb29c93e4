"""Pick-lists for the people and department fields: names from the Users and Departments
tabs. A value off the list may still be saved; it is flagged so a typo (保洁 for 保洁部) is
seen when it is written, not in next month's statistics."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.reading.schema import norm

if TYPE_CHECKING:
    from core.rules.register import Register

#: field → the tab its values come from
SOURCES = {"handler": "users", "first_receiver": "users", "department": "departments"}


def pick_list(reg: Register, key: str) -> list[str]:
    """The names a field is picked from, in the tab's order, each once."""
    if SOURCES.get(key) == "departments":
        names = [*reg.departments, *(u.department for u in reg.users.rows)]
    elif SOURCES.get(key) == "users":
        names = [u.name or u.user for u in reg.users.rows]
    else:
        return []
    seen: dict[str, str] = {}
    for n in names:
        if n and norm(n) not in seen:
            seen[norm(n)] = n
    return list(seen.values())


def off_list(reg: Register, values: dict[str, object]) -> list[tuple[str, str, str]]:
    """(field, value, tab) for each picked field whose value is on no list of its tab. A
    tab that lists nobody flags nothing (the team keeps no list)."""
    out = []
    for key, v in values.items():
        text = str(v or "").strip()
        if key not in SOURCES or not text:
            continue
        names = pick_list(reg, key)
        if SOURCES[key] == "users":
            names += [u.user for u in reg.users.rows]
        if names and norm(text) not in {norm(n) for n in names}:
            out.append((key, text, SOURCES[key]))
    return out
