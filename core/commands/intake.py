"""Registering complaints and recording their milestones — the write-side commands the
pages and the CLI share: validated by the same code as `check`, numbered by the store at
the moment of writing (R-NUMBER), stamped with the register's time, audited."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cache
from typing import Annotated, Any

import pandas as pd
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    ValidationError,
    ValidationInfo,
    create_model,
    model_validator,
)

from core.errors import NotAColumn
from core.reading.i18n import message
from core.reading.parse import parse_datetime
from core.reading.raw import RawTab
from core.reading.schema import Tab, norm
from core.reading.text import clean
from core.reading.validate import Problem, validate
from core.rules import clock
from core.rules.access import Who, acting, actions_of, require
from core.rules.closure import closure_problems
from core.rules.deadlines import clock_problems, compute_clocks
from core.rules.register import Register
from core.store.base import Store

#: what a clerk fills at intake (issue: intake form); R-INTAKE names the required ones
INTAKE_FIELDS = ("kind", "channel", "source", "complainant", "contact", "respondent", "subject",
                 "description", "request", "category", "severity", "warning_level", "urgent",
                 "first_receiver")
INTAKE_REQUIRED = ("channel", "complainant", "contact", "respondent", "subject", "description",
                   "request")
#: columns the app keeps itself; nobody records them by hand
OWNED = ("id", "version", "updated_at", "updated_by")
#: written by the reprocess action (R-REOPEN), not typed
REPROCESS_KEPT = ("first_satisfaction", "first_callback_at", "first_resolved_at", "reprocess_count")


def _milestones() -> tuple[str, ...]:
    """Every column recorded after intake, in the schema's order: whatever the schema holds
    beyond the intake form (measures, the 8D fields, a new clock's milestone…) is recordable
    without a second list to keep in step."""
    from core.reading.schema import schema

    skip = {"received_at", *INTAKE_FIELDS, *OWNED, *REPROCESS_KEPT}
    return tuple(c.key for c in schema().tab("complaints").columns
                 if not c.bookkeeping and c.key not in skip)


#: what is recorded on a complaint after intake (the queue's form, `record`)
MILESTONES = _milestones()
#: a date-time value that means "the register's current time"
NOW_WORDS = ("now", "现在")
#: problems of a whole row that a change to other fields can cause
ROW_RULES = ("reject_without_reason", "handler_is_respondent", "closed_unsatisfied",
             "before_received", "before_milestone")


@dataclass
class Saved:
    id: str
    row_problems: list[Problem]
    clocks: dict[str, pd.Timestamp]
    cleaned: dict[str, int] = field(default_factory=dict)  # column → characters removed


def cleaned_notes(tab, cleaned: dict[str, int], lang: str) -> list[str]:
    """One sentence per field whose pasted text lost characters a spreadsheet cannot hold."""
    return [message("notices", "text_cleaned", lang, column=tab.column(k).header(lang), n=n)
            for k, n in cleaned.items()]


def _blank(v: object) -> bool:
    return v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v) or v == ""


def _cell(value: object, info: ValidationInfo) -> object:
    """A value as typed or picked; text loses the characters a spreadsheet cannot hold
    (counted in the context, by column) and its outer spaces."""
    if not isinstance(value, str):
        return value
    value, n = clean(value)
    if n:
        info.context[info.field_name] = n
    return value.strip()


class Fields(BaseModel):
    """What a form, `add` or `record` hands in for one row: values by column key. The
    columns the app keeps itself (OWNED) are never taken from outside; a key that is no column
    is refused. Whether a value is valid is the register's own validation (check_values), so
    the clerk reads what `check` would say."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _not_owned(cls, values: dict[str, object]) -> dict[str, object]:
        return {k: v for k, v in values.items() if k not in OWNED}


@cache
def fields_model(columns: tuple[str, ...]) -> type[Fields]:
    """The model of what may be handed in for a row of a tab of these column keys: any
    column but OWNED. (Keyed by the keys: hashing a whole Tab costs more than validating.)"""
    cell = (Annotated[Any, BeforeValidator(_cell)], None)
    return create_model("Fields", __base__=Fields, **{k: cell for k in columns if k not in OWNED})


def given(tab: Tab, values: dict[str, object]) -> tuple[dict[str, object], dict[str, int]]:
    """`values` through the tab's model, in the order given, and the characters cleaned out of
    each text (by column)."""
    cleaned: dict[str, int] = {}
    try:
        fields = fields_model(tuple(c.key for c in tab.columns)).model_validate(values, context=cleaned)
    except ValidationError as exc:
        key = exc.errors(include_url=False)[0]["loc"][0]
        raise NotAColumn(key) from None
    return ({k: getattr(fields, k) for k in values if k in fields.model_fields_set},
            {k: cleaned[k] for k in values if k in cleaned})


def sheet_value(reg: Register, key: str, value: object) -> object:
    """A value as the sheet holds it: enumerations as labels of the sheet's language,
    date-times as real date-times (never the text typed), numbers as numbers."""
    col = reg.tab.column(key)
    if _blank(value):
        return ""
    if col.type == "bool":
        value = "yes" if value is True else "no" if value is False else value
    if col.type in ("enum", "bool"):
        vs = reg.schema.value_sets[col.values]
        return vs.label(vs.lookup.get(norm(value), str(value)), reg.sheet_lang)
    if col.type == "category":
        vs = reg.policy.categories
        return vs.label(vs.lookup.get(norm(value), str(value)), reg.sheet_lang)
    if col.type in ("datetime", "date"):
        parsed = parse_datetime(value, reg.policy.tz)
        return parsed if isinstance(parsed, dt.datetime) else value
    if col.type == "int" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    return value


def row_values(reg: Register, row: int) -> dict[str, object]:
    """A typed row back in the form the sheet holds it (labels, datetimes), blanks left out."""
    out = {}
    for k, v in reg.table.loc[row].items():
        if _blank(v):
            continue
        if isinstance(v, pd.Timestamp):
            v = v.to_pydatetime()
        elif reg.tab.column(k).type == "int":
            v = int(v)
        out[k] = sheet_value(reg, k, bool(v) if reg.tab.column(k).type == "bool" else v)
    return out


def check_values(reg: Register, values: dict[str, object], required=(),
                 closing: bool = False) -> list[Problem]:
    """Problems of one candidate row, by the same validation as `check` (row number 2);
    `closing` adds the closure checklist (R-CLOSE), as `check` applies it to closed rows."""
    keys = list(dict.fromkeys(["id", "received_at", "subject", *values]))
    raw = RawTab("Complaints", keys, [[values.get(k, "") for k in keys]])
    table, problems = validate(reg.tab, raw, reg.schema, reg.policy.categories, reg.policy.tz)
    if closing:
        seen = {(p.column, p.code) for p in problems}
        problems += [p for p in closure_problems(table, reg.policy,
                                                 reg.schema.value_sets["satisfaction"])
                     if (p.column, p.code) not in seen]
    for key in required:
        if str(values.get(key, "") or "").strip() == "" and not any(p.column == key for p in problems):
            problems.append(Problem(2, key, "required"))
    return [p for p in problems if p.column != "id"]


def _resolve_now(reg: Register, values: dict[str, object], now: dt.datetime,
                 blank_is_now: bool = False) -> dict[str, object]:
    """`now` (or 现在) in a date-time field is the register's current time; so is a blank
    one when `blank_is_now` (a form that says "blank means now")."""
    out = dict(values)
    for k, v in values.items():
        is_now = isinstance(v, str) and v.strip().lower() in NOW_WORDS
        if (is_now or (blank_is_now and _blank(v))) and reg.tab.column(k).type == "datetime":
            out[k] = now
        elif isinstance(v, dt.datetime):
            out[k] = clock.local(v, reg.policy.tz)
    return out


EXTENSION = ("extended_to", "extension_reason", "extension_agreed", "extended_at")
#: what an extension being recorded must carry (R-EXTEND): its new date and its reason
EXTENSION_RULES = ("extension_without_reason", "extension_without_date")


def extension_problems(reg: Register, values: dict[str, object], now: dt.datetime
                       ) -> list[Problem]:
    """R-EXTEND on one candidate row, by the rules `check` applies: an extension needs its
    new date and its reason."""
    keys = list(dict.fromkeys(["id", "received_at", "subject", *values]))
    table, _ = validate(reg.tab, RawTab("Complaints", keys, [[values.get(k, "") for k in keys]]),
                        reg.schema, reg.policy.categories, reg.policy.tz)
    clocks = compute_clocks(table, reg.policy, reg.calendar, now)
    return [p for p in clock_problems(table, reg.policy, clocks, reg.schema)
            if p.code in EXTENSION_RULES]


def prepare_complaint(reg: Register, values: dict[str, object], now: dt.datetime
                      ) -> tuple[dict[str, object], list[Problem], dict[str, int]]:
    """A new complaint as the sheet will hold it, or its problems (nothing to write)."""
    values, cleaned = given(reg.tab, values)
    values = {k: v for k, v in values.items() if not _blank(v)}
    values = _resolve_now(reg, values, now)
    values.setdefault("received_at", now)
    problems = check_values(reg, values, INTAKE_REQUIRED)
    if problems:
        return {}, problems, cleaned
    record = {k: sheet_value(reg, k, v) for k, v in values.items()}
    record.update(version=1, updated_at=now)
    return record, [], cleaned


def due_times(reg: Register, record: dict[str, object]) -> dict[str, pd.Timestamp]:
    """The due times of a new row's clocks by the register's own policy and calendar (the
    Settings and Holidays tabs included), so the clerk is told what `check` will report."""
    row, _ = validate(reg.tab, RawTab("Complaints", list(record), [list(record.values())]),
                      reg.schema, reg.policy.categories, reg.policy.tz)
    return {k: c["due"].iloc[0] for k, c in compute_clocks(row, reg.policy, reg.calendar,
                                                            record["updated_at"]).items()
            if c["due"].notna().iloc[0]}


def register_complaints(store: Store, reg: Register, rows: list[dict[str, object]], *,
                        user: str | Who, now: dt.datetime) -> list[Saved]:
    """Validate every row; write the valid ones in one store write, each numbered by the
    store at the moment of writing. A row with problems is reported and not written.

    `user` acts: a name is looked up in the Users tab (core.rules.access); a role that may not
    register complaints is refused (access.Refused) and nothing is written.
    """
    who = acting(reg, user)
    require(reg, who, "intake")
    user = who.user
    now = clock.local(now, reg.policy.tz)
    prepared = [prepare_complaint(reg, v, now) for v in rows]
    good = [(i, {**rec, "updated_by": user}) for i, (rec, probs, _) in enumerate(prepared)
            if not probs]
    ids = store.add_complaints([r for _, r in good], prefix=str(reg.policy.settings["id_prefix"]),
                               user=user, now=now) if good else []
    out = [Saved("", probs, {}, cleaned) for _, probs, cleaned in prepared]
    for (i, rec), cid in zip(good, ids, strict=True):
        out[i] = Saved(cid, [], due_times(reg, {**rec, "id": cid}), prepared[i][2])
    return out


def register_complaint(store: Store, reg: Register, values: dict[str, object], *,
                       user: str | Who, now: dt.datetime) -> Saved:
    """Validate and append one complaint; returns its number and its clocks' due times.

    Raises nothing for bad input: problems come back and nothing is written. Store errors
    (locked, network) propagate; the caller keeps the form's values.
    """
    return register_complaints(store, reg, [values], user=user, now=now)[0]


def record_milestones(store: Store, reg: Register, row: int, changes: dict[str, object], *,
                      user: str | Who, now: dt.datetime, blank_is_now: bool = False
                      ) -> list[Problem]:
    """Write milestone fields of one row, if the whole row still validates with them.

    The row's version and the old values of the changed fields are checked by the store,
    so a concurrent edit is a conflict and nothing is written. Closing, reopening,
    escalating and assigning are actions of their own; `user` must be allowed each one on
    this row (core.rules.access, R-RECUSE), else access.Refused is raised and nothing is written.

    `blank_is_now`: a date-time field given blank is the register's current time (the forms
    say "blank means now"); otherwise a blank clears the field (reprocessing clears the
    result and the callback).
    """
    return record(store, reg, row, changes, user=user, now=now, blank_is_now=blank_is_now)[0]


def record(store: Store, reg: Register, row: int, changes: dict[str, object], *,
           user: str | Who, now: dt.datetime, blank_is_now: bool = False
           ) -> tuple[list[Problem], dict[str, int]]:
    """`record_milestones`, also returning which fields lost characters a sheet cannot hold."""
    now = clock.local(now, reg.policy.tz)
    changes, cleaned = given(reg.tab, changes)
    changes = _resolve_now(reg, changes, now, blank_is_now)
    who = acting(reg, user)
    for action in actions_of(reg, row, changes):
        require(reg, who, action, row)
    user = who.user
    current = reg.table.loc[row]
    merged = row_values(reg, row)
    seen = {"version": merged.get("version", 0), **{k: merged.get(k, "") for k in changes}}
    if int(reg.table["id"].eq(current["id"]).sum()) == 1:
        seen["row"] = int(row)  # its sheet row in this read: a Google update reads that cell
    merged.update(changes)
    # Closing now: the whole R-CLOSE checklist must hold, as `check` and the closure page say
    closing = not _blank(changes.get("closed_at")) and _blank(current["closed_at"])
    problems = [p for p in check_values(reg, merged, closing=closing)
                if p.column in changes or p.code in ROW_RULES or closing]
    if set(changes) & set(EXTENSION):
        problems += extension_problems(reg, merged, now)
    if problems:
        return problems, cleaned
    typed = {k: sheet_value(reg, k, v) for k, v in changes.items()}
    store.update(str(current["id"]), typed, seen=seen, user=user, now=now)
    return [], cleaned
