"""Who is looking: the person acting, their role from the Users tab, and what they may see and
do with each complaint (DESIGN.md "Who is looking"; RULES.md R-RECUSE, R-KIND).

Pages, the CLI, letters and reports ask here; the write commands in core.commands.intake enforce it.
The roles' rights are data (sheets_schema/roles.yaml); R-RECUSE and tip-offs are not.
"""

from __future__ import annotations

import dataclasses
import getpass
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, NamedTuple

import pandas as pd
import yaml

from core.errors import RegisterError, SchemaError
from core.reading.i18n import label, message
from core.reading.parse import is_blank, text_of
from core.reading.schema import SCHEMA_DIR, YAML_LOADER, Schema, fold, norm

if TYPE_CHECKING:
    from core.reading.raw import RawBook
    from core.rules.register import Register

ROLES_FILE = SCHEMA_DIR / "roles.yaml"
ROLES = ("clerk", "handler", "supervisor", "viewer")
SCOPES = ("all", "department", "own")
ACTIONS = ("intake", "record", "assign", "close", "reopen", "escalate", "report", "scores",
           "quality", "location")
#: the complainant's identity: shown only to those whose role needs it (R-RECUSE)
CONFIDENTIAL = ("complainant", "contact", "address")
TIP_OFF = "tip_off"  # R-KIND: the reporter is shown to supervisors only
#: the role whose tip-offs it may see; not a setting (R-KIND, R-RECUSE)
TIP_OFF_ROLE = "supervisor"
#: what someone acting on a register whose Users tab lists nobody is (a one-person register)
OPEN_ROLE = "supervisor"
#: fields whose recording is an action beyond `record`, when given a value
FIELD_ACTIONS = {"department": "assign", "closed_at": "close", "escalated": "escalate"}
#: fields whose clearing reopens a complaint for reprocessing, and those only reprocessing
#: changes (R-REOPEN)
CLEARING_REOPENS = ("closed_at", "resolved_at", "callback_at", "satisfaction")
REPROCESSING = ("reprocess_count", "first_satisfaction")


@dataclass(frozen=True)
class Role:
    key: str
    rows: str
    complainant: bool
    may: frozenset[str]


@cache
def _rules() -> tuple[dict[str, Role], dict[str, str | None]]:
    try:
        data = yaml.load(ROLES_FILE.read_text(encoding="utf-8"), Loader=YAML_LOADER)
        roles = {}
        for key in ROLES:
            raw = data["roles"][key]
            may = frozenset(raw.get("may") or ())
            if raw["rows"] not in SCOPES or not may <= set(ACTIONS):
                raise ValueError(f"roles.{key}: rows is one of {SCOPES}, may from {ACTIONS}")
            roles[key] = Role(key, raw["rows"], bool(raw["complainant"]), may)
        pages = {str(k): v for k, v in (data.get("pages") or {}).items()}
        if not set(pages.values()) <= {None, *ACTIONS}:
            raise ValueError(f"pages: each page needs one of {ACTIONS} or null")
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError) as exc:
        raise SchemaError(f"{ROLES_FILE}: {exc}") from exc
    return roles, pages


def role(key: str) -> Role:
    return _rules()[0][key]


# --- the Users tab ---------------------------------------------------------------------------

@dataclass(frozen=True)
class User:
    """One row of the Users tab."""

    user: str  # sign-in name or email: what identifies the person
    name: str  # the name complaints would call them by (R-RECUSE), may be blank
    role: str  # a key of ROLES, or "" when the cell holds something else
    department: str
    role_text: str = ""  # the cell as typed, for the sentence when it is not a role


@dataclass(frozen=True)
class Users:
    """The Users tab as read. `problem` says why it could not be read: then nobody is let in."""

    rows: tuple[User, ...] = ()
    problem: str = ""

    def find(self, identities: Iterable[str], by_name: bool = True) -> User | None:
        """The row whose user (then, with `by_name`, whose name) is one of `identities`."""
        wanted = [norm(i) for i in identities if text_of(i)]
        for field in ("user", "name") if by_name else ("user",):
            for w in wanted:
                for u in self.rows:
                    if norm(getattr(u, field)) == w:
                        return u
        return None


def read_users(book: RawBook, schema: Schema) -> Users:
    """The Users tab's people; a missing or empty tab lists nobody."""
    raw = book.tabs.get("users")
    if raw is None or not raw.header:
        return Users()
    tab = schema.tab("users")
    cols = tab.match_headers(raw.header)
    if "user" not in cols:  # a tab that names people only by 姓名 / Name
        if "name" not in cols:
            return Users(problem=message("access", "users_no_column", "en"))
        cols["user"] = cols["name"]
    roles = schema.value_sets[tab.column("role").values]

    def cell(r: list, key: str) -> str:
        return text_of(r[cols[key]]) if key in cols and cols[key] < len(r) else ""

    out = []
    for r in raw.rows:
        user = cell(r, "user")
        if user:
            typed = cell(r, "role")
            out.append(User(user, cell(r, "name"), roles.lookup.get(norm(typed), ""),
                            cell(r, "department"), typed))
    return Users(tuple(out))


# --- who is acting ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Who:
    """The person acting: `user` is written to the audit log; `names` are every name they go
    by, matched against respondents (R-RECUSE). `wall` is the wall display: it shows, masks
    every complainant and records nothing."""

    user: str
    role: str
    department: str = ""
    names: tuple[str, ...] = ()
    wall: bool = False

    def describe(self, schema: Schema, lang: str) -> str:
        r = schema.value_sets["role"].label(self.role, lang)
        return f"{self.user} ({r}{', ' + self.department if self.department else ''})"


class Refused(RegisterError):
    """The acting user's role or R-RECUSE does not allow this; nothing was done."""

    def __init__(self, code: str, **params: object):
        self.code, self.params = code, params
        super().__init__(self.message("en"))

    def message(self, lang: str) -> str:
        params = dict(self.params)
        if "role" in params:
            params["role"] = role_label(str(params["role"]), lang)
        if "action" in params:
            params["action"] = label(f"action_{params['action']}", lang)
        if "scope" in params:
            params["scope"] = label(f"scope_{params['scope']}", lang,
                                    department=params.get("department") or "—")
        return message("access", self.code, lang, **params)


def role_label(key: str, lang: str) -> str:
    from core.reading.schema import schema

    return schema().value_sets["role"].label(key, lang)


def identify(users: Users, identities: Sequence[str], *, by_name: bool = True,
             also: Sequence[str] = (), open_role: str | None = OPEN_ROLE) -> Who:
    """The person signed in (or named on the command line) as one of `identities`, with the
    role the Users tab gives them. On a register whose Users tab lists nobody they act as
    `open_role`; with `open_role=None` (a sign-in anyone on the internet may have, such as
    Google's) they are refused. `also`: more names they go by (the provider's `name`)."""
    shown = next((i for i in identities if text_of(i)), "")
    if users.problem:
        raise Refused("users_unreadable", reason=users.problem)
    if not users.rows:
        if open_role is None:
            raise Refused("no_users", user=shown)
        return Who(shown, open_role, "", _names(shown, *identities, *also))
    found = users.find(identities, by_name)
    if found is None:
        raise Refused("unknown_user", user=shown)
    if not found.role:
        raise Refused("bad_role", user=found.user, value=found.role_text or "—",
                      allowed=" / ".join(ROLES))
    return Who(found.user, found.role, found.department,
               _names(found.user, found.name, *identities, *also))


def _names(*names: str) -> tuple[str, ...]:
    """Distinct names (the same name in another case or width counts once)."""
    out: dict[str, str] = {}
    for n in (text_of(x) for x in names):
        if n:
            out.setdefault(norm(n), n)
    return tuple(out.values())


def operator() -> str:
    """Who works at this machine without signing in (the command line, or the app with no
    sign-in configured): $COMPLAINTS_USER, else the login name."""
    try:
        login = getpass.getuser()
    except (OSError, KeyError):
        login = ""
    return (os.environ.get("COMPLAINTS_USER") or login or "operator").strip()


def acting(reg: Register, user: str | Who) -> Who:
    """`user` as a Who: a name given by a script is looked up in the Users tab."""
    return user if isinstance(user, Who) else identify(reg.users, [user])


def may(who: Who, action: str) -> bool:
    """Whether the role allows `action` at all (rows aside)."""
    return not who.wall and action in role(who.role).may


def pages_for(who: Who) -> list[str]:
    """The pages this person may open, in the order of roles.yaml."""
    return [p for p, need in _rules()[1].items() if need is None or may(who, need)]


def page_refusal(who: Who, page: str) -> Refused | None:
    """Why this person may not open `page` (a bookmark of another role's page), or None."""
    need = _rules()[1].get(page)
    if need is None or may(who, need):
        return None
    return Refused("wall") if who.wall else \
        Refused("not_allowed", user=who.user, role=who.role, action=need)


# --- which rows, and whose complainant -------------------------------------------------------

class Sight(NamedTuple):
    row: bool  # may open it (see its details, handle it)
    complainant: bool  # may see the complainant's name, contact and address


def _folded(reg: Register, column: str) -> pd.Series:
    """A text column folded for matching, computed once per register."""
    return reg.derived(("folded", column),
                       lambda: fold(reg.table[column].fillna("").astype(object)))


def respondent_rows(reg: Register, who: Who) -> pd.Series:
    """Rows that name this person as the respondent (R-RECUSE). A name of two or more
    characters counts wherever it appears in the respondent ("工程部 张伟"), so doubt hides
    the complaint from them rather than shows it."""
    resp = _folded(reg, "respondent")
    hit = pd.Series(False, index=resp.index)
    for n in {norm(x) for x in who.names}:
        if n:
            hit |= resp.eq(n) if len(n) < 2 else resp.str.contains(n, regex=False)
    return hit


def _own(reg: Register, who: Who) -> pd.Series:
    names = {norm(n) for n in who.names}
    created = {i for i, by in reg.creators.items() if norm(by) in names}
    return _folded(reg, "first_receiver").isin(names) | reg.table["id"].isin(created)


def _department(reg: Register, who: Who) -> pd.Series:
    mine = _folded(reg, "handler").isin({norm(n) for n in who.names})
    if who.department:
        mine |= _folded(reg, "department").eq(norm(who.department))
    return mine


def sight(reg: Register, who: Who) -> pd.DataFrame:
    """For every complaint (index: sheet row), whether this person may open it (`row`) and
    see its complainant (`complainant`). Use it wherever a row or a complainant is shown —
    pages, downloads, letters. Computed once per register and person."""
    return reg.derived(("sight", who), lambda: _sight(reg, who))


def _sight(reg: Register, who: Who) -> pd.DataFrame:
    r = role(who.role)
    t = reg.table
    if who.wall or r.rows == "all":
        rows = pd.Series(True, index=t.index)
    elif r.rows == "department":
        rows = _department(reg, who)
    else:
        rows = _own(reg, who)
    rows &= ~respondent_rows(reg, who)  # R-RECUSE: never the person complained about
    if who.wall or who.role != TIP_OFF_ROLE:
        rows &= t["kind"].ne(TIP_OFF)
    see = rows & (r.complainant and not who.wall)
    return pd.DataFrame({"row": rows.astype(bool), "complainant": see.astype(bool)})


def may_see(reg: Register, who: Who, row: int) -> Sight:
    """Whether this person may open complaint `row` and see its complainant."""
    s = sight(reg, who).loc[row]
    return Sight(bool(s["row"]), bool(s["complainant"]))


def visible_rows(reg: Register, who: Who) -> pd.Index:
    """The sheet rows this person may open."""
    s = sight(reg, who)
    return s.index[s["row"]]


def masked(reg: Register, who: Who, frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """`frame` (indexed by sheet row, columns keyed like the register) with the complainant's
    name, contact and address replaced on the rows whose complainant this person may not see."""
    out = frame.copy()
    hide = ~sight(reg, who)["complainant"].reindex(out.index, fill_value=False)
    mark = label("masked", lang)
    for c in CONFIDENTIAL:
        if c in out.columns:
            out[c] = out[c].astype(object).where(~hide | out[c].map(is_blank), mark)
    return out


# --- what they may do ------------------------------------------------------------------------

def _yes(reg: Register, v: object) -> bool:
    return v is True or reg.schema.value_sets["yes_no"].lookup.get(norm(v)) == "yes"


def actions_of(reg: Register, row: int, changes: dict[str, object]) -> list[str]:
    """The actions a change to complaint `row` amounts to: always `record`, and `assign`,
    `close`, `reopen` or `escalate` as its fields say."""
    current = reg.table.loc[row]
    acts = ["record"]
    for k, v in changes.items():
        was = text_of(current[k]) if k in current.index else ""
        if k in REPROCESSING or (k in CLEARING_REOPENS and is_blank(v) and was):
            acts.append("reopen")
        elif (k == "closed_at" and not is_blank(v)) or (k == "escalated" and _yes(reg, v)):
            acts.append(FIELD_ACTIONS[k])
        elif k == "department" and norm(text_of(v)) != norm(was):
            acts.append("assign")
    return list(dict.fromkeys(acts))


def refusal(reg: Register, who: Who, action: str, row: int | None = None) -> Refused | None:
    """Why this person may not take `action` (on complaint `row`), or None when they may."""
    cid = text_of(reg.table.at[row, "id"]) if row is not None else ""
    if who.wall:
        return Refused("wall")
    if row is not None:
        if respondent_rows(reg, who).get(row, False):
            return Refused("recused", user=who.user, id=cid)
        if reg.table.at[row, "kind"] == TIP_OFF and who.role != TIP_OFF_ROLE:
            return Refused("tip_off", id=cid)
    if not may(who, action):
        return Refused("not_allowed", user=who.user, role=who.role, action=action)
    if row is not None and not may_see(reg, who, row).row:
        return Refused("not_theirs", user=who.user, role=who.role, id=cid,
                       scope=role(who.role).rows, department=who.department)
    return None


def require(reg: Register, who: Who, action: str, row: int | None = None) -> None:
    """Raise Refused, with the sentence saying why, unless this person may take `action`."""
    refused = refusal(reg, who, action, row)
    if refused is not None:
        raise refused


def recordable(reg: Register, who: Who, row: int, fields: Sequence[str]) -> list[str]:
    """Of `fields`, those this person may record on complaint `row` (a field whose value
    would close, escalate or assign the complaint needs that right)."""
    if refusal(reg, who, "record", row) is not None:
        return []
    return [f for f in fields if f not in FIELD_ACTIONS or may(who, FIELD_ACTIONS[f])]


def require_letter(reg: Register, who: Who, row: int) -> None:
    """Raise Refused unless this person may write complaint `row`'s letters: a letter names
    the complainant, so it takes the right to record on that complaint (R-RECUSE: never its
    respondent; tip-offs only for supervisors) and sight of its complainant."""
    require(reg, who, "record", row)
    if not may_see(reg, who, row).complainant:  # a role that records but sees no complainant
        raise Refused("not_allowed", user=who.user, role=who.role, action="record")


# --- what a report may be built from ---------------------------------------------------------

_SEEN_VIEWS = 16  # per register (one a minute): people who opened the statistics that minute


def seen_by(reg: Register, who: Who) -> Register:
    """The register as this person may see it, for statistics and report packs: only the rows
    they may open (R-RECUSE: never a complaint against them; tip-offs for supervisors only).
    Reports show no complainant, contact or address, so nothing else needs masking. A person
    who may open every row gets `reg` itself."""
    rows = sight(reg, who)["row"]
    if bool(rows.all()):
        return reg
    key = ("seen", who)
    view = reg.memo.get(key)
    if view is None:
        keep = rows.index[rows]
        kept = set(keep)
        view = dataclasses.replace(
            reg, table=reg.table.loc[keep], flags=reg.flags.loc[keep],
            clocks={k: c.loc[keep] for k, c in reg.clocks.items()},
            problems=[p for p in reg.problems if p.row in kept], views={}, memo={})
        # list(): one step, while other sessions' views may add to the shared memo
        older = [k for k in list(reg.memo) if isinstance(k, tuple) and k[:1] == ("seen",)]
        for k in older[:max(0, len(older) - _SEEN_VIEWS + 1)]:
            reg.memo.pop(k, None)
        reg.memo[key] = view
    return view
