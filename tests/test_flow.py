"""R-FLOW: milestones out of order are problems; every open complaint has a next step and an
owner (R-FIRSTASK), which the queue shows."""

import pytest

from core.rules.flow import next_steps
from core.rules.queue import queue_frame

from .rules_helpers import register_of

R = {"received_at": "2026-11-02 09:00"}

ORDER = [
    # (rule, row, expected problems as (column, code))
    ("R-FLOW: resolved before assigned", {**R, "assigned_at": "2026-11-05 09:00",
                                          "resolved_at": "2026-11-04 09:00"},
     [("resolved_at", "before_milestone")]),
    ("R-FLOW: callback before resolved", {**R, "resolved_at": "2026-11-05 09:00",
                                          "callback_at": "2026-11-04 09:00"},
     [("callback_at", "before_milestone")]),
    ("R-FLOW: department answer before assigned", {**R, "assigned_at": "2026-11-05 09:00",
                                                   "dept_reply_at": "2026-11-04 09:00"},
     [("dept_reply_at", "before_milestone")]),
    ("R-FLOW: plan not agreed but carried out", {**R, "plan_agreed": "否",
                                                 "resolved_at": "2026-11-04 09:00"},
     [("plan_agreed", "plan_not_agreed")]),
    ("R-EXTEND: the new date before the extension was recorded",
     {**R, "extended_to": "2026-11-03", "extended_at": "2026-11-04 09:00",
      "extension_reason": "r"}, [("extended_to", "before_milestone")]),
]


@pytest.mark.parametrize(("rule", "row", "expected"), ORDER, ids=[c[0] for c in ORDER])
def test_milestones_out_of_order(rule, row, expected):
    reg = register_of([row])
    assert [(p.column, p.code) for p in reg.problems] == expected


def test_closed_before_the_callback_is_a_problem_on_the_closing():
    # R-FLOW: closed before callback
    reg = register_of([{**R, "resolved_at": "2026-11-04 09:00", "callback_at": "2026-11-06 09:00",
                        "closed_at": "2026-11-05 09:00"}])
    assert ("closed_at", "before_milestone") in [(p.column, p.code) for p in reg.problems]
    p = next(p for p in reg.problems if p.column == "closed_at" and p.code == "before_milestone")
    assert p.message(reg.tab, "en") == "Closed (2026-11-05 09:00) is before Callback (2026-11-06 09:00)."


PEOPLE = {"first_receiver": "Zhou"}
STEPS = [
    # (rule, policy, row, step, owner, owner kind)
    ("R-FLOW: received → acceptance decision", "consumer", {}, "step_accept", "Zhou",
     "first_receiver"),
    ("R-FLOW: accepted → first reply", "consumer", {"accepted": "是"}, "step_first_reply", "Zhou",
     "first_receiver"),
    ("R-FLOW: replied → assign", "consumer", {"accepted": "是", "first_reply_at": "2026-11-02 10:00"},
     "step_assign", "Zhou", "first_receiver"),
    ("R-FLOW: assigned → department answer", "consumer",
     {"accepted": "是", "first_reply_at": "2026-11-02 10:00", "department": "Eng"},
     "step_dept_reply", "Eng", "department"),
    ("R-FLOW: answered → agree the plan", "consumer",
     {"accepted": "是", "first_reply_at": "2026-11-02 10:00", "department": "Eng",
      "handler": "Sun", "dept_reply_at": "2026-11-03 10:00"}, "step_agree_plan", "Sun", "handler"),
    ("R-FLOW: plan not agreed → back to the department", "consumer",
     {"accepted": "是", "first_reply_at": "2026-11-02 10:00", "department": "Eng",
      "dept_reply_at": "2026-11-03 10:00", "plan_agreed": "否"}, "step_revise_plan", "Eng",
     "department"),
    ("R-FLOW: agreed → carry out", "consumer",
     {"accepted": "是", "first_reply_at": "2026-11-02 10:00", "department": "Eng",
      "dept_reply_at": "2026-11-03 10:00", "plan_agreed": "是"}, "step_carry_out", "Eng",
     "department"),
    ("R-FLOW: carried out → call back", "consumer",
     {"accepted": "是", "first_reply_at": "2026-11-02 10:00", "department": "Eng",
      "dept_reply_at": "2026-11-03 10:00", "plan_agreed": "是", "resolved_at": "2026-11-04 10:00"},
     "step_callback", "Eng", "department"),
    ("R-FLOW: satisfied → close", "consumer",
     {"accepted": "是", "first_reply_at": "2026-11-02 10:00", "department": "Eng",
      "dept_reply_at": "2026-11-03 10:00", "plan_agreed": "是", "resolved_at": "2026-11-04 10:00",
      "callback_at": "2026-11-05 10:00", "satisfaction": "满意"}, "step_close", "Eng", "department"),
    ("R-REOPEN: unsatisfied → reprocess", "consumer",
     {"accepted": "是", "first_reply_at": "2026-11-02 10:00", "department": "Eng",
      "dept_reply_at": "2026-11-03 10:00", "plan_agreed": "是", "resolved_at": "2026-11-04 10:00",
      "callback_at": "2026-11-05 10:00", "satisfaction": "不满意"}, "step_reprocess", "Eng",
     "department"),
    ("R-REOPEN: still unsatisfied after reprocessing → escalate", "consumer",
     {"accepted": "是", "first_reply_at": "2026-11-02 10:00", "department": "Eng",
      "dept_reply_at": "2026-11-03 10:00", "plan_agreed": "是", "resolved_at": "2026-11-06 10:00",
      "callback_at": "2026-11-07 10:00", "satisfaction": "不满意", "reprocess_count": "1"},
     "step_escalate", "Eng", "department"),
    ("R-ACCEPT: rejected and told → close", "consumer",
     {"accepted": "否", "reject_reason": "材料不全", "first_reply_at": "2026-11-02 10:00"},
     "step_close", "Zhou", "first_receiver"),
    ("R-ACCEPT: rejected, not told yet → reply", "consumer",
     {"accepted": "否", "reject_reason": "材料不全"}, "step_first_reply", "Zhou", "first_receiver"),
    ("R-VALID: invalid and answered → close", "consumer",
     {"accepted": "是", "validity": "invalid", "first_reply_at": "2026-11-02 10:00"}, "step_close",
     "Zhou", "first_receiver"),
    ("property: no acceptance step, the same-day reply first", "property", {}, "step_first_reply",
     "Zhou", "first_receiver"),
    ("service centre: assign, carry out, call back", "service-center", {"department": "Eng"},
     "step_carry_out", "Eng", "department"),
]


@pytest.mark.parametrize(("rule", "policy", "row", "step", "owner", "kind"), STEPS,
                         ids=[c[0] for c in STEPS])
def test_every_open_complaint_has_a_next_step_and_an_owner(rule, policy, row, step, owner, kind):
    reg = register_of([{**R, **PEOPLE, **row}], policy=policy)
    assert next_steps(reg).loc[2].tolist() == [step, owner, kind]


def test_closed_rows_tip_offs_and_praise_have_no_next_step_and_the_queue_shows_it():
    reg = register_of([{**R, "department": "Eng"}, {**R, "kind": "举报"}, {**R, "kind": "表扬"},
                       {**R, "closed_at": "2026-11-03 09:00"}])
    steps = next_steps(reg)
    assert steps.index.tolist() == [2]
    q = queue_frame(reg)
    assert q[["row", "step", "owner"]].to_dict("records") == [
        {"row": 2, "step": "step_accept", "owner": "Eng"}]
