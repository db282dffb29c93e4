"""Registering a complaint and recording its milestones: validated by the same code as
`check`, numbered by R-NUMBER, written through the store with an audit line."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import pandas as pd

from core.deadlines import compute_clocks
from core.register import Register
from core.store.base import RawTab, Store, audit_lines
from core.validate import Problem, validate

#: what a clerk fills at intake (issue: intake form); R-INTAKE names the required ones
INTAKE_FIELDS = ("kind", "channel", "source", "complainant", "contact", "respondent", "subject",
                 "description", "request", "category", "severity", "warning_level", "urgent",
                 "first_receiver")
INTAKE_REQUIRED = ("channel", "complainant", "contact", "respondent", "subject", "description",
                   "request")
MILESTONES = ("accepted", "reject_reason", "accepted_at", "validity", "department", "handler",
              "first_reply_at", "assigned_at", "dept_reply_at", "plan_agreed", "resolved_at",
              "onsite_at", "callback_at", "satisfaction", "last_followup_at", "extended_to",
              "extension_reason", "extension_agreed", "root_cause", "corrective_action",
              "reply_written", "archived", "escalated", "closed_at", "notes")


@dataclass
class Saved:
    id: str
    row_problems: list[Problem]
    clocks: dict[str, pd.Timestamp]


def sheet_value(reg: Register, key: str, value: object) -> object:
    """A typed value as the sheet shows it: enumerations as labels of the sheet's language."""
    col = reg.tab.column(key)
    if value is None or value == "":
        return ""
    if col.type == "bool":
        value = "yes" if value is True else "no" if value is False else value
    if col.type in ("enum", "bool"):
        return reg.schema.value_sets[col.values].label(str(value), reg.sheet_lang)
    if col.type == "category":
        return reg.policy.categories.label(str(value), reg.sheet_lang)
    return value


def _blank(v: object) -> bool:
    return v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v) or v == ""


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


def check_values(reg: Register, values: dict[str, object], required=()) -> list[Problem]:
    """Problems of one candidate row, by the same validation as `check` (row number 2)."""
    keys = list(dict.fromkeys(["id", "received_at", "subject", *values]))
    raw = RawTab("Complaints", keys, [[values.get(k, "") for k in keys]])
    _, problems = validate(reg.tab, raw, reg.schema, reg.policy.categories, reg.policy.tz)
    for key in required:
        if str(values.get(key, "") or "").strip() == "" and not any(p.column == key for p in problems):
            problems.append(Problem(2, key, "required"))
    return [p for p in problems if p.column != "id"]


def next_id(reg: Register, day: dt.date) -> str:
    """PREFIX + yyyymmdd + 3-digit serial, never reusing a number seen in the register or
    its audit log, even of a deleted row (R-NUMBER)."""
    prefix = f"{reg.policy.settings['id_prefix']}{day:%Y%m%d}"
    pattern = re.compile(re.escape(prefix) + r"(\d{3,})$", re.I)
    used = [int(m[1]) for v in (*reg.table["id"], *reg.audit_ids) if (m := pattern.match(str(v)))]
    return f"{prefix}{max(used, default=0) + 1:03d}"


def register_complaint(store: Store, reg: Register, values: dict[str, object], *, user: str,
                       now: dt.datetime) -> Saved:
    """Validate and append one complaint; returns its number and its clocks' due times.

    Raises nothing for bad input: problems come back and nothing is written. Store errors
    (locked, network) propagate; the caller keeps the form's values.
    """
    now = now.replace(tzinfo=None, microsecond=0)
    values = {k: v for k, v in values.items() if v not in (None, "")}
    values.setdefault("received_at", now)
    problems = check_values(reg, values, INTAKE_REQUIRED)
    if problems:
        return Saved("", problems, {})
    cid = next_id(reg, values["received_at"].date() if isinstance(values["received_at"],
                                                                   dt.datetime) else now.date())
    record = {k: sheet_value(reg, k, v) for k, v in values.items()}
    record.update(id=cid, version=1, updated_at=now, updated_by=user)
    store.append("complaints", [record],
                 audit=audit_lines(now, user, cid, {"created": ("", str(values.get("subject")))}))
    # The register's own policy and calendar (Settings and Holidays tabs included), so the
    # due times the clerk is shown are the ones `check` will report.
    row, _ = validate(reg.tab, RawTab("Complaints", list(record), [list(record.values())]),
                      reg.schema, reg.policy.categories, reg.policy.tz)
    clocks = {k: c["due"].iloc[0] for k, c in compute_clocks(row, reg.policy, reg.calendar,
                                                              now).items()
              if c["due"].notna().iloc[0]}
    return Saved(cid, [], clocks)


def record_milestones(store: Store, reg: Register, row: int, changes: dict[str, object], *,
                      user: str, now: dt.datetime) -> list[Problem]:
    """Write milestone fields of one row, if the whole row still validates with them.

    The row's version and the old values of the changed fields are checked by the store,
    so a concurrent edit is a conflict and nothing is written.
    """
    now = now.replace(tzinfo=None, microsecond=0)
    current = reg.table.loc[row]
    merged = row_values(reg, row)
    seen = {"version": merged.get("version", 0), **{k: merged.get(k, "") for k in changes}}
    typed_changes = {k: sheet_value(reg, k, v) for k, v in changes.items()}
    merged.update(typed_changes)
    problems = [p for p in check_values(reg, merged) if p.column in changes or
                p.code in ("reject_without_reason", "handler_is_respondent", "closed_unsatisfied",
                           "before_received", "before_milestone")]
    if problems:
        return problems
    store.update(str(current["id"]), typed_changes, seen=seen, user=user, now=now)
    return []
