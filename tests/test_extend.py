"""R-EXTEND in every preset: an extension applies to the clocks still running when it was
recorded, needs a reason, and cannot rescue a clock already due."""

import pytest

from core.rules.check import check_result

from .rules_helpers import clock, register_of

# consumer: received Mon 2 Nov 09:00, assigned 10:00. Due: department answer Thu 5 Nov,
# first reply Mon 9 Nov, acceptance Wed 11 Nov (all 23:59:59). Extended to Thu 12 Nov.
BASE = {"received_at": "2026-11-02 09:00", "assigned_at": "2026-11-02 10:00",
        "extended_to": "2026-11-12", "extension_reason": "waiting for the supplier"}

CASES = [
    # (rule, row, {clock: (due, state, extended)}, problems as (column, code))
    ("R-EXTEND: recorded in time, every running clock moves",
     {"extended_at": "2026-11-04 09:00", "dept_reply_at": "2026-11-10 10:00"},
     {"dept_reply": ("2026-11-12 23:59:59", "met", True),
      "first_reply": ("2026-11-12 23:59:59", "overdue", True),
      "acceptance": ("2026-11-12 23:59:59", "overdue", True)}, []),
    ("R-EXTEND: recorded after one clock's due time, that clock stays missed",
     {"extended_at": "2026-11-07 09:00", "dept_reply_at": "2026-11-10 10:00"},
     {"dept_reply": ("2026-11-05 23:59:59", "missed", False),
      "first_reply": ("2026-11-12 23:59:59", "overdue", True)},
     [("extended_at", "extension_too_late")]),
    ("R-EXTEND: typed in after a late result, the result stays missed",
     {"extended_at": "2026-11-08 09:00", "dept_reply_at": "2026-11-06 10:00"},
     {"dept_reply": ("2026-11-05 23:59:59", "missed", False)},
     [("extended_at", "extension_too_late")]),
    ("R-EXTEND: a clock met before the extension is left as it was",
     {"extended_at": "2026-11-04 09:00", "dept_reply_at": "2026-11-03 10:00"},
     {"dept_reply": ("2026-11-05 23:59:59", "met", False)}, []),
    ("R-EXTEND: a clock that starts after the extension is not extended",
     {"extended_at": "2026-11-04 09:00", "resolved_at": "2026-11-05 09:00"},
     {"callback": ("2026-11-12 23:59:59", "overdue", False)}, []),
    ("R-EXTEND: without the time it was recorded, it applies and the row asks when",
     {"dept_reply_at": "2026-11-10 10:00"},
     {"dept_reply": ("2026-11-12 23:59:59", "met", True)},
     [("extended_at", "extension_when")]),
    ("R-EXTEND: a reason is required; without one the extension moves no clock",
     {"extended_at": "2026-11-04 09:00", "extension_reason": ""},
     {"dept_reply": ("2026-11-05 23:59:59", "overdue", False)},
     [("extension_reason", "extension_without_reason")]),
    ("R-EXTEND: a new date is required",
     {"extended_at": "2026-11-04 09:00", "extended_to": ""},
     {"dept_reply": ("2026-11-05 23:59:59", "overdue", False)},
     [("extended_to", "extension_without_date")]),
    ("R-EXTEND: an extension never shortens a clock",
     {"extended_at": "2026-11-03 09:00", "extended_to": "2026-11-04"},
     {"dept_reply": ("2026-11-05 23:59:59", "overdue", False),
      "acceptance": ("2026-11-11 23:59:59", "overdue", False)}, []),
]


@pytest.mark.parametrize(("rule", "extra", "clocks", "problems"), CASES, ids=[c[0] for c in CASES])
def test_extensions(rule, extra, clocks, problems):
    reg = register_of([{**BASE, **extra}])
    for cid, (due, state, extended) in clocks.items():
        assert clock(reg, cid) == (due, state), cid
        assert bool(reg.clocks[cid].at[2, "extended"]) is extended, cid
    assert [(p.column, p.code) for p in reg.problems] == problems


@pytest.mark.parametrize(("policy", "row", "clock_id", "due"), [
    # R-EXTEND in every preset: not only a resolution clock
    ("quality", {"received_at": "2026-11-02 08:00", "accepted_at": "2026-11-02 09:00"},
     "stock_decision", "2026-11-06 23:59:59"),
    ("bureau", {"received_at": "2026-11-02 08:00", "accepted_at": "2026-11-02 09:00"},
     "assignment", "2026-11-06 23:59:59"),
    ("prevention", {"received_at": "2026-11-02 08:00", "warning_level": "B"},
     "report_written", "2026-11-06 23:59:59"),
])
def test_every_preset_extends_its_running_clocks(policy, row, clock_id, due):
    reg = register_of([{**row, "extended_to": "2026-11-06", "extended_at": "2026-11-02 09:30",
                        "extension_reason": "r", "extension_agreed": "yes"}],
                      policy=policy, now="2026-11-03 09:00")
    assert clock(reg, clock_id) == (due, "running")


def test_the_messages_say_which_clock_and_when():
    reg = register_of([{**BASE, "extended_at": "2026-11-07 09:00",
                        "dept_reply_at": "2026-11-10 10:00"}])
    (p,) = reg.problems
    assert p.message(reg.tab, "en") == (
        "The extension was recorded on 2026-11-07 09:00, after the clock “Department answer and "
        "plan” was due (2026-11-05 23:59); it cannot rescue that clock, which stays late.")
    assert p.message(reg.tab, "zh") == (
        "延期于 2026-11-07 09:00 登记，晚于“部门答复及方案”时限（2026-11-05 23:59），不能挽回该时限，"
        "仍按逾期计。")


def test_check_shows_the_original_due_time_of_any_extended_clock():
    reg = register_of([{**BASE, "extended_at": "2026-11-04 09:00"}])
    (row,) = check_result(reg)["rows"]
    assert row["clocks"]["dept_reply"] == {"due": "2026-11-12T23:59:59+08:00", "state": "overdue",
                                           "extended": True,
                                           "original_due": "2026-11-05T23:59:59+08:00"}
