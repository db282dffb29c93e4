"""The closure checklist (R-CLOSE): which items apply to a complaint and whether each holds."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from core.register import Register

SATISFIED = ("satisfied", "very_satisfied")


@dataclass(frozen=True)
class Item:
    key: str        # label key: close_<key>
    ok: bool
    record: tuple[str, ...]  # the columns to fill when it is missing


def _flag(v) -> bool | None:
    """A yes/no cell as True, False or None (blank)."""
    return None if v is None or v is pd.NA or (isinstance(v, float) and v != v) else bool(v)


def _has(v) -> bool:
    return not (v is None or v == "" or (not isinstance(v, str) and pd.isna(v)))


def checklist(reg: Register, row: int) -> list[Item]:
    """Every R-CLOSE item that applies to the row, in the rule's order."""
    r = reg.table.loc[row]
    cfg = reg.policy.closure
    rejected = _flag(r["accepted"]) is False
    valid = r["validity"] == "valid"
    items = [Item("verified", rejected or _has(r["validity"]), ("validity",))]  # R-CLOSE 1
    if valid and cfg["root_cause"]:
        items.append(Item("root_cause", _has(r["root_cause"]), ("root_cause",)))  # 2
    if valid and cfg["corrective_action"]:
        items.append(Item("corrective_action", _has(r["corrective_action"]),
                          ("corrective_action",)))  # 3
    answered = _has(r["first_reply_at"]) and (not cfg["written_reply"] or _flag(r["reply_written"]))
    items.append(Item("answered", answered, ("first_reply_at", "reply_written")))  # 4
    if valid:
        items.append(Item("carried_out", _has(r["resolved_at"]), ("resolved_at",)))  # 5
        if cfg["callback"]:
            items.append(Item("callback", _has(r["callback_at"]), ("callback_at",)))  # 6
        items.append(Item("satisfied", r["satisfaction"] in SATISFIED or bool(_flag(r["escalated"])),
                          ("satisfaction", "escalated")))  # 7
    if cfg["archived"]:
        items.append(Item("archived", bool(_flag(r["archived"])), ("archived",)))  # 8
    return items


def can_close(reg: Register, row: int) -> bool:
    return not _has(reg.table.at[row, "closed_at"]) and all(i.ok for i in checklist(reg, row))


def needs_reprocessing(reg: Register, row: int) -> bool:
    """An unsatisfied callback reopens the complaint (R-REOPEN)."""
    r = reg.table.loc[row]
    return r["satisfaction"] in ("unsatisfied", "basically_satisfied") and not _flag(r["escalated"])


def open_rows(reg: Register) -> pd.Index:
    """Complaints not closed yet."""
    t = reg.table
    return t.index[t["kind"].eq("complaint") & t["closed_at"].isna()]
