"""The handling workflow (R-FLOW): each open complaint's next step and who owns it, and the
workflow problems that need more than one column's order."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from core.reading.validate import Problem
from core.rules.closure import NOT_SATISFIED, open_rows

if TYPE_CHECKING:
    from core.rules.register import Register

OWNER_COLUMNS = ("handler", "department", "first_receiver")  # R-FIRSTASK: someone always owns it
SKIPPED_WHEN_INVALID = ("assign", "dept_reply", "agree_plan", "carry_out", "callback")
KEPT_WHEN_REJECTED = ("accept", "first_reply")


def _done(t: pd.DataFrame) -> dict[str, pd.Series]:
    """Whether each step of R-FLOW has been recorded."""
    return {
        "accept": t["accepted"].notna() | t["accepted_at"].notna(),
        "first_reply": t["first_reply_at"].notna(),
        "assign": t["assigned_at"].notna() | t["department"].ne(""),
        "dept_reply": t["dept_reply_at"].notna(),
        "agree_plan": t["plan_agreed"].eq(True).fillna(False).astype(bool),
        "carry_out": t["resolved_at"].notna(),
        "callback": t["callback_at"].notna() & t["satisfaction"].ne(""),
    }


def next_steps(reg: Register) -> pd.DataFrame:
    """Every open complaint's next step (a label key `step_…`) and its owner: the handler,
    else the department, else the first receiver; `owner_kind` names which (or "")."""
    rows = open_rows(reg)
    t = reg.table.loc[rows]
    steps = [s for s in reg.policy.flow if s != "close"]
    done = _done(t)
    rejected = t["accepted"].eq(False).fillna(False).astype(bool).to_numpy()
    invalid = t["validity"].eq("invalid").to_numpy()
    pending = np.zeros((len(t), len(steps) + 1), dtype=bool)
    pending[:, -1] = True  # close, once every other step is done
    for j, s in enumerate(steps):
        skip = (invalid & (s in SKIPPED_WHEN_INVALID)) | (rejected & (s not in KEPT_WHEN_REJECTED))
        pending[:, j] = ~done[s].to_numpy() & ~skip
    names = np.array([f"step_{s}" for s in (*steps, "close")], dtype=object)
    step = names[pending.argmax(axis=1)] if len(t) else np.array([], dtype=object)
    step = pd.Series(step, index=rows, dtype=object)
    in_round = ~pd.Series(rejected | invalid, index=rows)
    # R-FLOW: a plan the complainant did not agree goes back to the department.
    refused = t["plan_agreed"].eq(False).fillna(False).astype(bool) & t["resolved_at"].isna()
    step = step.mask(in_round & refused, "step_revise_plan")
    # R-REOPEN: an unsatisfied callback is reprocessed; still unsatisfied after that, escalated.
    unhappy = (in_round & step.eq("step_close") & t["satisfaction"].isin(NOT_SATISFIED)
               & ~t["escalated"].eq(True).fillna(False).astype(bool))
    again = t["reprocess_count"].fillna(0).astype(int) >= 1
    step = step.mask(unhappy & ~again, "step_reprocess").mask(unhappy & again, "step_escalate")
    owner = pd.Series("", index=rows, dtype=object)
    kind = pd.Series("", index=rows, dtype=object)
    for col in reversed(OWNER_COLUMNS):
        has = t[col].ne("")
        owner = owner.mask(has, t[col])
        kind = kind.mask(has, col)
    return pd.DataFrame({"step": step, "owner": owner, "owner_kind": kind}, index=rows)


def flow_problems(table: pd.DataFrame) -> list[Problem]:
    """R-FLOW: a plan the complainant did not agree was carried out anyway (or the agreement
    to the revised plan was not recorded)."""
    wrong = table["plan_agreed"].eq(False).fillna(False).astype(bool) & table["resolved_at"].notna()
    return [Problem(int(r), "plan_agreed", "plan_not_agreed") for r in table.index[wrong.to_numpy()]]
