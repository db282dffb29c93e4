"""The closure checklist (R-CLOSE) and reprocessing (R-REOPEN).

One definition of the items serves the whole register (`closure_problems`, which `check`
reports for closed rows) and one complaint in the app (`checklist`): the same masks, computed
for a table of one row or of all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from core.reading.schema import ValueSet
from core.reading.validate import Problem, satisfaction_item, satisfaction_problems
from core.rules.policy import Policy

if TYPE_CHECKING:
    from core.rules.register import Register

NOT_SATISFIED = ("basically_satisfied", "unsatisfied")


@dataclass(frozen=True)
class Item:
    key: str        # label key: close_<key>
    ok: bool
    record: tuple[str, ...]  # the columns that make the item hold
    missing: tuple[str, ...] = ()  # of those, the ones still blank that the item needs
    why: str = ""   # when it fails with nothing blank: label key of the reason (a value is wrong)
    value: str = ""  # the value the reason is about (a value-set key), if any


@dataclass(frozen=True)
class _Rule:
    """One R-CLOSE item over a table: where it applies, where it holds, and the problem (code
    and column, per row) of a closed row where it fails."""

    key: str
    record: tuple[str, ...]
    applies: pd.Series
    ok: pd.Series
    column: pd.Series
    code: pd.Series


def _yes(s: pd.Series) -> pd.Series:
    return s.eq(True).fillna(False).astype(bool)


def _rules(t: pd.DataFrame, policy: Policy) -> list[_Rule]:
    cfg = policy.closure
    idx = t.index
    everywhere = pd.Series(True, index=idx)
    rejected = t["accepted"].eq(False).fillna(False).astype(bool)
    # Items 2, 3, 5-7 apply to complaints that may be valid: a rejected or invalid one closes
    # with an explanation (R-ACCEPT, R-VALID).
    may_be_valid = ~rejected & t["validity"].ne("invalid")

    def const(value: str) -> pd.Series:
        return pd.Series(value, index=idx, dtype=object)

    def filled(col: str) -> pd.Series:
        s = t[col]
        return (s.ne("") & s.notna()) if s.dtype == object else s.notna()

    def rule(key, record, applies, ok, column=None, code=None) -> _Rule:
        return _Rule(key, record, applies, ok, const(record[0]) if column is None else column,
                     const(f"close_{key}") if code is None else code)

    out = [rule("verified", ("validity",), everywhere, rejected | filled("validity"))]
    if cfg["root_cause"]:
        out.append(rule("root_cause", ("root_cause",), may_be_valid, filled("root_cause")))
    if cfg["corrective_action"]:
        out.append(rule("corrective_action", ("corrective_action",), may_be_valid,
                        filled("corrective_action")))
    # Item 4: answered, in writing where the complaint came in writing or the preset asks.
    written = _written(t, policy)
    replied = t["first_reply_at"].notna()
    in_writing = _yes(t["reply_written"])
    out.append(rule("answered", ("first_reply_at", "reply_written"), everywhere,
                    replied & (~written | in_writing),
                    const("first_reply_at").where(~replied, "reply_written"),
                    const("close_answered").where(~replied, "close_answered_in_writing")))
    out.append(rule("carried_out", ("resolved_at",), may_be_valid, t["resolved_at"].notna()))
    if cfg["callback"]:
        out.append(rule("callback", ("callback_at",), may_be_valid, t["callback_at"].notna()))
    # Item 7: satisfied, or escalated after a reprocessing that still left them unsatisfied.
    _, satisfied, early = satisfaction_item(t)
    out.append(rule("satisfied", ("satisfaction", "escalated"), may_be_valid, satisfied,
                    const("satisfaction").where(~early, "reprocess_count"),
                    const("closed_unsatisfied").where(~early, "escalated_before_reprocess")))
    if cfg["archived"]:
        out.append(rule("archived", ("archived",), everywhere, _yes(t["archived"])))
    return out


def closure_problems(table: pd.DataFrame, policy: Policy, satisfaction: ValueSet) -> list[Problem]:
    """A problem per R-CLOSE item that applies and fails, on closed complaints, on the column
    the item needs. `satisfaction` (the value set) labels the value in item 7's message."""
    closed = table["kind"].eq("complaint") & table["closed_at"].notna()
    out: list[Problem] = []
    for rule in _rules(table, policy):
        if rule.key == "satisfied":
            out += satisfaction_problems(table, satisfaction)
            continue
        fail = closed & rule.applies & ~rule.ok
        out += [Problem(int(r), rule.column[r], rule.code[r]) for r in table.index[fail.to_numpy()]]
    return out


#: a failing item whose columns are all filled: why, by the column the rule points at
_WHY = {"reply_written": "close_why_not_in_writing", "satisfaction": "close_why_not_satisfied",
        "reprocess_count": "close_why_escalated_early"}


def checklist(reg: Register, row: int) -> list[Item]:
    """Every R-CLOSE item that applies to the row, in the rule's order. A failing item names
    only what is still blank among what it needs (the column its rule points at, e.g. only
    Written reply once First reply is recorded), or why a recorded value does not do (a
    reply recorded as not written where one is required; 基本满意 is not satisfied).
    Computed once per register and row."""
    return reg.derived(("checklist", row), lambda: _checklist(reg, row))


def _checklist(reg: Register, row: int) -> list[Item]:
    one = reg.table.loc[[row]]
    r = one.loc[row]
    out = []
    for rule in _rules(one, reg.policy):
        if not rule.applies[row]:
            continue
        ok = bool(rule.ok[row])
        missing: tuple[str, ...] = ()
        why = value = ""
        if not ok:
            col = rule.column[row]
            if _blank(r[col]) and col != "reprocess_count":  # that one the app writes itself
                # the item's other blank columns that it also needs (4: the reply and, where
                # required, its being written)
                missing = tuple(c for c in rule.record if c == col or (
                    rule.key == "answered" and c == "reply_written" and _blank(r[c])
                    and rule.code[row] == "close_answered" and _written(one, reg.policy)[row]))
            else:
                why = _WHY.get(col, "")
                value = str(r[col]) if col == "satisfaction" else ""
        out.append(Item(rule.key, ok, rule.record, missing, why, value))
    return out


def _blank(v: object) -> bool:
    return v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v) or v == ""


def _written(t: pd.DataFrame, policy: Policy) -> pd.Series:
    """R-CLOSE 4: where the answer must be in writing (the preset asks, or it came in writing)."""
    cfg = policy.closure
    return (pd.Series(bool(cfg["written_reply"]), index=t.index)
            | t["channel"].isin(list(cfg["written_channels"])))


def can_close(reg: Register, row: int) -> bool:
    return pd.isna(reg.table.at[row, "closed_at"]) and all(i.ok for i in checklist(reg, row))


def _escalated(reg: Register, row: int) -> bool:
    v = reg.table.at[row, "escalated"]
    return v is not pd.NA and bool(v)


def needs_reprocessing(reg: Register, row: int) -> bool:
    """An unsatisfied callback reopens the complaint (R-REOPEN)."""
    return reg.table.at[row, "satisfaction"] in NOT_SATISFIED and not _escalated(reg, row)


def times_reprocessed(reg: Register, row: int) -> int:
    n = reg.table.at[row, "reprocess_count"]
    return 0 if pd.isna(n) else int(n)


def can_escalate(reg: Register, row: int) -> bool:
    """Escalation to the top executive comes only after a reprocessing that still left the
    complainant unsatisfied (R-REOPEN, R-CLOSE 7)."""
    return needs_reprocessing(reg, row) and times_reprocessed(reg, row) >= 1


def reprocess_changes(reg: Register, row: int) -> dict[str, object]:
    """What "reprocess" writes (R-REOPEN): the first callback's satisfaction and time are
    kept in `first_satisfaction` and `first_callback_at`, and when it was first resolved in
    `first_resolved_at` (once), the round is counted, and the result, callback and
    satisfaction are cleared for the new round. The statistics keep counting the first
    result in the period of the first callback, and the first resolution in its own."""
    r = reg.table.loc[row]
    changes: dict[str, object] = {"reprocess_count": times_reprocessed(reg, row) + 1,
                                  "resolved_at": "", "callback_at": "", "satisfaction": ""}
    if not r["first_satisfaction"]:
        changes["first_satisfaction"] = r["satisfaction"]
        if pd.isna(r["first_callback_at"]) and pd.notna(r["callback_at"]):
            changes["first_callback_at"] = r["callback_at"].to_pydatetime()
    if pd.isna(r["first_resolved_at"]) and pd.notna(r["resolved_at"]):
        changes["first_resolved_at"] = r["resolved_at"].to_pydatetime()
    return changes


def open_rows(reg: Register) -> pd.Index:
    """Complaints not closed yet."""
    t = reg.table
    return t.index[t["kind"].eq("complaint") & t["closed_at"].isna()]


def tip_offs(reg: Register) -> pd.Index:
    """Tip-offs (举报), listed apart from complaints (R-KIND)."""
    return reg.table.index[reg.table["kind"].eq("tip_off")]
