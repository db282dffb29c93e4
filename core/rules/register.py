"""The register read once: typed complaints, problems, warnings, clocks and flags.

store → raw tabs → parse/validate → typed table → rules → this object, which pages, the
CLI and reports all read from.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.errors import RegisterError
from core.reading.i18n import label, message
from core.reading.parse import text_of
from core.reading.raw import RawBook
from core.reading.schema import Schema
from core.reading.validate import Problem, raw_frame, time_bar_problems, type_frame, validate
from core.rules import clock
from core.rules.access import Users, read_users
from core.rules.calendar import WorkCalendar, calendar_for
from core.rules.closure import closure_problems
from core.rules.deadlines import clock_problems, compute_clocks
from core.rules.flags import compute_flags
from core.rules.flow import flow_problems
from core.rules.policy import DEFAULT_POLICY, Policy, load_policy


@dataclass
class Notice:
    """A register-wide warning (not tied to one complaint row)."""

    code: str
    params: dict[str, object] = field(default_factory=dict)

    def message(self, lang: str = "en") -> str:
        params = dict(self.params)
        if "message" in params and isinstance(params["message"], Problem):
            params["message"] = params["message"].message(params.pop("tab"), lang)
        params.pop("tab", None)
        return message("warnings", self.code, lang, **params)


#: the Audit tab's field of a complaint's first line, in either language (and as written
#: before it was said in the sheet's language)
CREATED = frozenset({"created", label("audit_created", "zh"), label("audit_created", "en")})


@dataclass
class Register:
    schema: Schema
    policy: Policy
    calendar: WorkCalendar
    table: pd.DataFrame
    problems: list[Problem]
    warnings: list[Notice]
    clocks: Mapping[str, pd.DataFrame]  # by clock id (core.rules.deadlines)
    flags: pd.DataFrame
    now: dt.datetime
    departments: list[str]
    settings: dict[str, str]
    source: str = ""
    sheet_lang: str = "zh"
    audit_ids: tuple[str, ...] = ()
    #: views of this register as of earlier moments (core.rules.asof), shared with those views
    views: dict = field(default_factory=dict, repr=False, compare=False)
    users: Users = field(default_factory=Users)  # the Users tab: who may do what (core.rules.access)
    creators: dict[str, str] = field(default_factory=dict)  # complaint number → who added it
    memo: dict = field(default_factory=dict, repr=False, compare=False)  # derived columns

    @property
    def tab(self):
        return self.schema.tab("complaints")

    def derived(self, key: object, make):
        """`make()`, computed once per register and kept in `memo`: the register is shared by
        every page and session until the next read or minute, and they only read it (so
        neither may change what this returns)."""
        if key not in self.memo:
            self.memo[key] = make()
        return self.memo[key]

    def derived_each(self, key: object, make: Callable[[], Iterable]) -> Iterator:
        """The items of `make()` as each is made, kept in `memo` once all are (as `derived`):
        a page shows each while the next is worked out; later views take them all at once.
        Left unfinished (a viewer who clicked on meanwhile), nothing is kept."""
        if key in self.memo:
            yield from self.memo[key]
            return
        made = []
        for item in make():
            made.append(item)
            yield item
        self.memo[key] = made

    def problems_by_row(self) -> dict[int, list[Problem]]:
        out: dict[int, list[Problem]] = {}
        for p in self.problems:
            out.setdefault(p.row, []).append(p)
        return out

    def localize(self, t: pd.Timestamp | dt.datetime) -> dt.datetime:
        """A register-local time with the register's offset, for ISO output."""
        return clock.aware(pd.Timestamp(t).to_pydatetime(), self.policy.tz)


def _settings(book: RawBook, schema: Schema) -> dict[str, str]:
    raw = book.tabs.get("settings")
    if raw is None or not raw.header:
        return {}
    frame = raw_frame(schema.tab("settings"), raw)
    return {text_of(k): text_of(v) for k, v in zip(frame["key"], frame["value"], strict=True)
            if text_of(k)}


def holiday_overrides(book: RawBook, schema: Schema, tz) -> tuple[dict[dt.date, bool], list[Notice]]:
    """The Holidays tab's days (True = a working day), and notices for its bad rows."""
    raw = book.tabs.get("holidays")
    if raw is None or not raw.header or all(text_of(h) == "" for h in raw.header):
        return {}, []
    tab = schema.tab("holidays")
    typed, problems = type_frame(tab, raw_frame(tab, raw), schema.value_sets, tz)
    bad_rows = {p.row for p in problems}
    notices = [Notice("holiday_row", {"row": p.row, "message": p, "tab": tab}) for p in problems]
    out = {}
    for r, d, kind in zip(typed.index, typed["date"], typed["type"], strict=True):
        if r in bad_rows:
            continue
        if pd.isna(d) or not kind:
            missing = "date" if pd.isna(d) else "type"
            notices.append(Notice("holiday_row", {"row": r, "message": Problem(r, missing,
                                  "required"), "tab": tab}))
            continue
        out[d.date()] = kind == "workday"
    return out, notices


def _rule_problems(table: pd.DataFrame, policy: Policy, clocks: dict[str, pd.DataFrame],
                   schema: Schema, problems: list[Problem]) -> list[Problem]:
    """The row problems that need the policy: R-CLOSE on closed rows, the clocks' (R-EXTEND,
    a column a clock needs, a stop missing on a closed row), R-ACCEPT's time bar and R-FLOW's.
    Where a closure item and a clock point at the same cell, the closure item says it."""
    have = {(p.row, p.column, p.code) for p in problems}  # R-CLOSE 7 is row validation too
    closing = [p for p in closure_problems(table, policy, schema.value_sets["satisfaction"])
               if (p.row, p.column, p.code) not in have]
    taken = {(p.row, p.column) for p in closing} | {(p.row, p.column) for p in problems}
    clock = [p for p in clock_problems(table, policy, clocks, schema)
             if (p.row, p.column) not in taken]
    out = [*problems, *closing, *clock,
           *time_bar_problems(table, int(policy.settings["reject_after_years"]),
                              next(c for c in schema.value_sets["reject_reason"].choices
                                   if c.key == "time_barred")),
           *flow_problems(table)]
    order = {c.key: i for i, c in enumerate(schema.tab("complaints").columns)}
    out.sort(key=lambda p: (p.row, order.get(p.column, 99)))
    return out


def build_register(book: RawBook, schema: Schema, *, policy_name: str | None = None,
                   now: dt.datetime | None = None, source: str = "") -> Register:
    """Validate the raw register and apply the policy's rules as of `now`."""
    if "complaints" not in book.tabs:
        tab = schema.tab("complaints")
        have = ", ".join(book.titles) or "none"
        raise RegisterError(f"The register has no {tab.en} ({tab.zh}) tab (tabs found: {have}); "
                            f"run `python -m core init` to create it.")
    settings = _settings(book, schema)
    notices: list[Notice] = []
    name = policy_name or settings.get("policy") or DEFAULT_POLICY
    policy, refused = load_policy(name, schema, settings)
    for key, value, reason, default in refused:
        if reason == "unknown":
            notices.append(Notice("setting_unknown", {"value": key}))
        else:
            notices.append(Notice("setting_bad", {"key": key, "value": value, "reason": reason,
                                                  "default": default}))
    tz = policy.tz
    local_now = clock.local(now, tz) if now is not None else clock.now_in(tz)
    overrides, holiday_notices = holiday_overrides(book, schema, tz)
    notices += holiday_notices
    table, problems = validate(schema.tab("complaints"), book.tabs["complaints"], schema,
                               policy.categories, tz)
    complete = {int(y) for y in policy.settings["calendar_complete"]}
    cal = calendar_for(overrides, _years(table, local_now), complete)
    clocks = compute_clocks(table, policy, cal, local_now)
    used = pd.concat([c[col] for c in clocks.values() for col in ("start", "due")]).dropna()
    for year in cal.uncovered_years(used.to_numpy("datetime64[D]")):
        notices.append(Notice("calendar_year", {"year": year}))
    problems = _rule_problems(table, policy, clocks, schema, problems)
    flags = compute_flags(table, policy)
    depts = []
    if "departments" in book.tabs and book.tabs["departments"].header:
        dtab = schema.tab("departments")
        depts = [n for n in raw_frame(dtab, book.tabs["departments"])["name"].map(text_of) if n]
    sheet_lang = schema.tab("complaints").header_lang(book.tabs["complaints"].header)
    audit_ids, creators = _audit(book, schema)
    return Register(schema, policy, cal, table, problems, notices, clocks, flags,
                    local_now, depts, settings, source=source,
                    sheet_lang=sheet_lang, audit_ids=audit_ids,
                    users=read_users(book, schema), creators=creators)


def _years(table: pd.DataFrame, now: dt.datetime) -> list[int]:
    """The first and last year of any date in the register (a clock may start from any
    milestone, not only from the day received), and this year."""
    years = {now.year}
    dates = [table[c].to_numpy("datetime64[D]") for c in table.columns
             if table[c].dtype.kind == "M"]
    if dates:
        days = np.concatenate(dates)
        days = days[~np.isnat(days)]
        if days.size:  # the calendar spans from the first to the last of them
            first, last = (days.min(), days.max())
            years |= {int(d.astype("datetime64[Y]").astype(np.int64)) + 1970
                      for d in (first, last)}
    return sorted(years)


def _audit(book: RawBook, schema: Schema) -> tuple[tuple[str, ...], dict[str, str]]:
    """Every complaint number the audit log mentions, and who created each complaint."""
    raw = book.tabs.get("audit")
    if raw is None or not raw.header:
        return (), {}
    cols = schema.tab("audit").match_headers(raw.header)
    if "id" not in cols:
        return (), {}
    c, f, u = cols["id"], cols.get("field"), cols.get("user")
    ids, creators = set(), {}
    for r in raw.rows:
        if c < len(r):
            cid = text_of(r[c])
            ids.add(cid)
            if f is not None and u is not None and max(f, u) < len(r) \
                    and text_of(r[f]) in CREATED:
                creators.setdefault(cid, text_of(r[u]))
    return tuple(ids), creators
