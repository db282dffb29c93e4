"""R-CLOSE enforced on the register (`check`) with the same items as the app's checklist;
R-REOPEN's reprocessing keeps the first result; escalation only after a reprocessing."""

import datetime as dt

import pytest

from core.rules.check import check_result
from core.rules.closure import (
    can_close,
    can_escalate,
    checklist,
    needs_reprocessing,
    reprocess_changes,
)
from core.rules.period import parse_period
from core.rules.stats import figures

from .rules_helpers import register_of

# Every item holds (consumer preset: written replies, callback, archive).
CLOSED = {"received_at": "2026-11-02 09:00", "accepted_at": "2026-11-02 10:00",
          "validity": "valid", "root_cause": "worn cable", "corrective_action": "replace it",
          "first_reply_at": "2026-11-02 11:00", "reply_written": "yes",
          "resolved_at": "2026-11-04 09:00", "callback_at": "2026-11-04 12:00",
          "satisfaction": "满意", "archived": "yes", "closed_at": "2026-11-05 09:00",
          "channel": "phone"}

ITEMS = [
    # (rule, change, policy, expected problems as (column, code), failing checklist item)
    ("R-CLOSE 1: facts verified, validity recorded", {"validity": ""}, "consumer",
     [("validity", "close_verified")], "verified"),
    ("R-CLOSE 2: root cause", {"root_cause": ""}, "consumer",
     [("root_cause", "close_root_cause")], "root_cause"),
    ("R-CLOSE 3: corrective and preventive action", {"corrective_action": ""}, "consumer",
     [("corrective_action", "close_corrective_action")], "corrective_action"),
    ("R-CLOSE 4: answered", {"first_reply_at": ""}, "consumer",
     [("first_reply_at", "close_answered")], "answered"),
    ("R-CLOSE 4: in writing where the preset asks", {"reply_written": ""}, "consumer",
     [("reply_written", "close_answered_in_writing")], "answered"),
    ("R-CLOSE 4: a phone complaint in a preset without written replies", {"reply_written": ""},
     "property", [], None),
    ("R-CLOSE 4: a letter is answered in writing in every preset",
     {"reply_written": "no", "channel": "信函"}, "property",
     [("reply_written", "close_answered_in_writing")], "answered"),
    ("R-CLOSE 4: so is a forwarded complaint", {"reply_written": "", "channel": "12345"},
     "property", [("reply_written", "close_answered_in_writing")], "answered"),
    ("R-CLOSE 5: the plan carried out", {"resolved_at": "", "callback_at": ""}, "employee",
     [("resolved_at", "close_carried_out")], "carried_out"),
    ("R-CLOSE 6: callback", {"callback_at": ""}, "consumer",
     [("callback_at", "close_callback")], "callback"),
    ("R-CLOSE 7: satisfied", {"satisfaction": "基本满意"}, "consumer",
     [("satisfaction", "closed_unsatisfied")], "satisfied"),
    ("R-CLOSE 7/R-REOPEN: escalated without reprocessing", {"satisfaction": "不满意",
                                                           "escalated": "yes"}, "consumer",
     [("reprocess_count", "escalated_before_reprocess")], "satisfied"),
    ("R-CLOSE 7: escalated after a reprocessing", {"satisfaction": "不满意", "escalated": "yes",
                                                  "reprocess_count": "1"}, "consumer", [], None),
    ("R-CLOSE 8: archived", {"archived": "否"}, "consumer", [("archived", "close_archived")],
     "archived"),
    ("R-VALID: an invalid complaint closes with an explanation only",
     {"validity": "invalid", "root_cause": "", "corrective_action": "", "resolved_at": "",
      "callback_at": "", "satisfaction": ""}, "consumer", [], None),
    ("R-CLOSE: an open complaint is not checked", {"closed_at": "", "archived": ""}, "consumer",
     [], "archived"),
    ("R-KIND: a tip-off has no closure checklist",
     {"kind": "举报", "validity": "", "archived": ""}, "consumer", [], None),
]


@pytest.mark.parametrize(("rule", "change", "policy", "expected", "item"), ITEMS,
                         ids=[c[0] for c in ITEMS])
def test_each_closure_item_in_check_and_in_the_app(rule, change, policy, expected, item):
    reg = register_of([{**CLOSED, **change}], policy=policy)
    assert [(p.column, p.code) for p in reg.problems] == expected
    # The app's checklist fails on the same item (and only where the item applies).
    if reg.table.at[2, "kind"] == "complaint":
        failing = [i.key for i in checklist(reg, 2) if not i.ok]
        assert failing == ([item] if item else [])


def test_check_reports_closure_on_the_items_column_in_words():
    reg = register_of([{**CLOSED, "channel": "letter", "reply_written": "", "archived": ""}],
                      policy="property")
    row = check_result(reg, "en")["rows"][0]
    assert row["problems"] == [
        {"column": "reply_written", "message": "The complaint is closed but the answer is not "
         "recorded as written; this complaint needs a written reply — set Written reply to yes "
         "once it is sent."},
        {"column": "archived", "message": "The complaint is closed but its materials are not "
         "archived; set Archived to yes once they are in the year's case file."}]


def test_a_closed_complaint_needs_no_growing_clock_but_its_stop_recorded():
    # §5 / R-STATE: closing stops the clocks; a missing stop is a problem on its column
    reg = register_of([{**CLOSED, "accepted_at": ""}], now="2027-03-01 09:00")
    assert reg.clocks["acceptance"].at[2, "state"] == "met"  # stopped by the closing on 5 Nov
    assert [(p.column, p.code) for p in reg.problems] == [("accepted_at", "closed_without_stop")]
    assert reg.problems[0].message(reg.tab, "en") == (
        "Decided is empty but the complaint was closed on 2026-11-05 09:00; the clock "
        "“Acceptance decision” stopped at the closing — record when it actually happened.")


def test_the_close_button_follows_the_same_items():
    open_row = {**CLOSED, "closed_at": ""}
    assert can_close(register_of([open_row]), 2)
    assert not can_close(register_of([{**open_row, "root_cause": ""}]), 2)


def test_reprocessing_keeps_the_first_result_and_escalation_comes_after_it():
    # R-REOPEN
    row = {**CLOSED, "closed_at": "", "satisfaction": "不满意"}
    reg = register_of([row])
    assert needs_reprocessing(reg, 2) and not can_escalate(reg, 2)
    assert reprocess_changes(reg, 2) == {"reprocess_count": 1, "resolved_at": "",
                                         "callback_at": "", "satisfaction": "",
                                         "first_satisfaction": "unsatisfied",
                                         "first_callback_at": dt.datetime(2026, 11, 4, 12, 0),
                                         "first_resolved_at": reg.table.at[2, "resolved_at"]
                                         .to_pydatetime()}
    # after the second round, still unsatisfied: escalation is offered; the first result stays
    again = register_of([{**row, "first_satisfaction": "unsatisfied", "reprocess_count": "1",
                          "satisfaction": "基本满意"}])
    assert can_escalate(again, 2)
    assert reprocess_changes(again, 2) == {"reprocess_count": 2, "resolved_at": "",
                                           "callback_at": "", "satisfaction": "",
                                           "first_resolved_at": again.table.at[2, "resolved_at"]
                                           .to_pydatetime()}
    # a third round keeps the first resolution it already has
    third = register_of([{**row, "first_satisfaction": "unsatisfied", "reprocess_count": "2",
                          "first_resolved_at": "2026-11-01 09:00", "satisfaction": "不满意"}])
    assert "first_resolved_at" not in reprocess_changes(third, 2)


def test_statistics_see_the_first_result_after_reprocessing():
    # R-REOPEN / R-STATS: satisfaction at the first callback and the final one
    rows = [{**CLOSED, "first_satisfaction": "unsatisfied", "reprocess_count": "1"},
            {**CLOSED}]
    f = figures(register_of(rows), parse_period("2026-11"))
    assert (f["first_satisfaction_rate"], f["satisfaction_rate"], f["reprocessed"]) == (0.5, 1.0, 1)
