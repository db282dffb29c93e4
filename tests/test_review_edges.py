"""Rules at their edges, found by trying the merged issues 10 and 14 as a user would: the
cycle a day late falls in (§5, R-SCORE-1), the calendar warning on scores (R-CAL), the first
callback kept through a reprocessing (R-REOPEN, R-STATS), every column recordable
(R-FLOW, R-LETTER's 8D fields)."""

import datetime as dt

import pandas as pd
import pytest

from core.commands.intake import MILESTONES
from core.reading.schema import schema
from core.rules.closure import reprocess_changes
from core.rules.period import parse_period
from core.rules.policy import load_policy, policy_names
from core.rules.scoring import department_scores, score_table
from core.rules.stats import figures, satisfaction_table

from .rules_helpers import register_of


def deductions(reg, period: str) -> dict[str, int]:
    return {e["id"]: e["points"] for d in department_scores(reg, period)["departments"]
            for e in d["deductions"]}


@pytest.mark.parametrize(("rule", "reply", "expected"), [
    ("§5/R-SCORE-1: due at the end of 31 Oct, answered 2 Nov: both days late fall in November",
     "2026-11-02 10:00", {"2026-10": {}, "2026-11": {"A": 2}}),
    ("§5/R-SCORE-1: answered in the due day's last second is on time",
     "2026-10-31 23:59:59", {"2026-10": {}, "2026-11": {}}),
    ("§5/R-SCORE-1: answered a second after it, one day late in November",
     "2026-11-01 00:00:00", {"2026-10": {}, "2026-11": {"A": 1}}),
])
def test_a_day_late_counts_in_the_cycle_it_falls_in(rule, reply, expected):
    # property: the same-day reply is the result clock
    reg = register_of([{"id": "A", "received_at": "2026-10-31 09:00", "department": "Eng",
                        "first_reply_at": reply, "resolved_at": "2026-10-31 12:00"}],
                      policy="property", now="2027-01-10 09:00")
    assert reg.clocks["first_reply"].at[2, "due"] == dt.datetime(2026, 10, 31, 23, 59, 59)
    for period, want in expected.items():
        assert deductions(reg, period) == want, period


@pytest.mark.parametrize("now", ["2026-10-31 10:00", "2026-10-31 23:59", "2026-12-01 09:00",
                                 "2027-03-01 09:00"])
def test_an_open_late_clock_scores_october_the_same_on_31_october_and_later(now):
    # §5: "scoring October on 31 October or next March gives the same October figure" — for
    # a clock late since before the last day (dept_reply due Thu 8 Oct, never answered)
    reg = register_of([{"id": "A", "received_at": "2026-09-28 09:00", "department": "Eng",
                        "assigned_at": "2026-09-28 10:00"}], now=now)
    assert deductions(reg, "2026-10") == {"A": 23}  # 9 … 31 Oct


@pytest.mark.parametrize(("settings", "warned"), [
    ({}, True),
    ({"calendar_complete": "2027"}, False),
])
def test_scores_say_when_the_calendar_does_not_know_the_year(settings, warned):
    # R-CAL: a working-day figure in 2027 carries the warning, in the result and the table,
    # and one Holidays row in the year does not silence it
    reg = register_of([{"id": "A", "received_at": "2027-02-03 09:00", "department": "Eng",
                        "assigned_at": "2027-02-03 10:00"}], now="2027-03-05 10:00",
                      settings=settings or None, holidays=[("2027-01-01", "holiday")])
    result = department_scores(reg, "2027-02")
    assert [w["year"] for w in result["warnings"]] == ([2027] if warned else [])
    assert ("2027" in score_table(result, "en").splitlines()[1]) is warned
    assert ("2027" in score_table(result, "zh").splitlines()[1]) is warned


CALLED = {"received_at": "2026-10-05 09:00", "accepted_at": "2026-10-05 10:00",
          "validity": "valid", "department": "Eng", "assigned_at": "2026-10-05 11:00",
          "dept_reply_at": "2026-10-06 09:00", "first_reply_at": "2026-10-05 11:00",
          "resolved_at": "2026-10-12 09:00", "callback_at": "2026-10-13 10:00",
          "channel": "phone"}


def _reprocessed(row: dict, now: str) -> dict:
    reg = register_of([row], now=now)
    changes = reprocess_changes(reg, 2)
    return {**row, **{k: (v.strftime("%Y-%m-%d %H:%M") if isinstance(v, dt.datetime) else v)
                      for k, v in changes.items()}}


def test_a_reprocessed_complaint_keeps_its_first_callback_in_its_own_period():
    # R-REOPEN / R-STATS: reprocessing keeps the first result and when it was given, so the
    # October figures see the unsatisfied first callback while the new round runs, after it,
    # and the same as before the reprocessing
    first = {**CALLED, "satisfaction": "不满意"}
    oct_ = parse_period("2026-10")
    before = register_of([first, {**CALLED, "satisfaction": "满意"}], now="2026-11-01 09:00")
    running = _reprocessed(first, "2026-11-03 09:00")
    assert running["first_callback_at"] == "2026-10-13 10:00"
    done = {**running, "resolved_at": "2026-11-05 09:00", "callback_at": "2026-11-06 09:00",
            "satisfaction": "满意"}
    for later in (running, done):
        reg = register_of([later, {**CALLED, "satisfaction": "满意"}], now="2026-12-01 09:00")
        for key in ("first_satisfaction_rate", "satisfaction_rate", "rated"):
            assert figures(reg, oct_)[key] == figures(before, oct_)[key], key
        assert satisfaction_table(reg, oct_).equals(satisfaction_table(before, oct_))
        assert figures(reg, oct_)["first_satisfaction_rate"] == 0.5
    # November sees the second round's result as final, not a second first result
    reg = register_of([done, {**CALLED, "satisfaction": "满意"}], now="2026-12-01 09:00")
    nov = figures(reg, parse_period("2026-11"))
    assert (nov["rated"], nov["satisfaction_rate"], nov["first_satisfaction_rate"]) == (1, 1.0, None)


@pytest.mark.parametrize("when", ["2026-11-03 09:00", "2026-10-20 09:00"])
def test_a_reprocessed_complaint_stays_resolved_in_the_period_it_was_first_resolved(when):
    # R-REOPEN / R-STATS: the reprocess action clears the result for the new round, but
    # October's resolved count, handling hours and resolution clock are what they were at
    # its end — whether the reprocessing came after the period or inside it
    first = {**CALLED, "satisfaction": "不满意"}
    oct_ = parse_period("2026-10")
    before = register_of([first], now="2026-11-01 09:00")
    running = _reprocessed(first, when)
    assert running["first_resolved_at"] == "2026-10-12 09:00" and running["resolved_at"] == ""
    done = {**running, "resolved_at": "2026-11-05 09:00", "callback_at": "2026-11-06 09:00",
            "satisfaction": "满意"}
    for later in (running, done):
        reg = register_of([later], now="2026-12-01 09:00")
        for key in ("resolved", "resolve_hours_mean", "resolve_hours_median"):
            assert figures(reg, oct_)[key] == figures(before, oct_)[key], key
        assert figures(reg, oct_)["resolved"] == 1
    # the live register runs the new round's resolution clock again
    reg = register_of([running], now="2026-11-04 09:00")
    assert pd.isna(reg.table.at[2, "resolved_at"])


def test_every_column_recorded_after_intake_is_a_milestone():
    # R-FLOW / R-LETTER: the queue and `record` take every column the schema adds after
    # intake — each clock's stop in every preset, the measures and the 8D fields
    stops = {s.stop for name in policy_names()
             for s in load_policy(name, schema(), {})[0].clocks}
    stops |= {c for name in policy_names() for s in load_policy(name, schema(), {})[0].clocks
              for c in s.stop_also}
    wanted = stops | {"measures", "team", "containment", "verification", "preventive_action",
                      "media_known_at", "extended_at", "harm_known_at"}
    assert wanted <= set(MILESTONES)
    assert not {"id", "version", "updated_at", "updated_by", "received_at"} & set(MILESTONES)


@pytest.mark.parametrize(("changes", "refused"), [
    ({"extended_to": "2026-12-20", "extended_at": "now"}, [("extension_reason",
                                                           "extension_without_reason")]),
    ({"extension_reason": "parts on order"}, [("extended_to", "extension_without_date")]),
    ({"extended_to": "2026-12-20", "extension_reason": "parts on order", "extended_at": "now"},
     []),
])
def test_record_refuses_an_extension_without_its_reason_or_date(tmp_path, changes, refused):
    # R-EXTEND: the queue and `record` write an extension only with its reason and new date
    from core.commands.intake import record, register_complaint
    from core.rules.register import build_register
    from core.store.workbook import WorkbookStore

    path = tmp_path / "r.xlsx"
    store = WorkbookStore(path, schema())
    store.init("zh")
    now = dt.datetime(2026, 11, 24, 10, 0)

    def read():
        return build_register(WorkbookStore(path, schema()).read(), schema(), now=now)

    cid = register_complaint(store, read(), dict(
        complainant="王芳", contact="0571-88886666", respondent="工程部", channel="电话",
        subject="电梯停运", description="三天没有电梯", request="尽快修复"), user="a", now=now).id
    problems, _ = record(store, read(), 2, changes, user="a", now=now)
    assert [(p.column, p.code) for p in problems] == refused
    row = read().table.loc[2]
    assert row["id"] == cid and (pd.isna(row["extended_to"]) if refused else
                                 row["extension_reason"] == "parts on order")


def test_an_as_of_view_derives_its_own_columns_not_the_whole_registers():
    # R-STATS / R-RECUSE: a view as of a period's end has fewer rows; what access derived
    # from the whole register (its folded columns) must not be handed to the view
    from core.rules.access import _folded
    from core.rules.asof import as_of

    reg = register_of([{"received_at": "2026-10-05 09:00", "respondent": "Eng"},
                       {"received_at": "2026-11-05 09:00", "respondent": "Qian"}],
                      now="2026-11-24 10:00")
    assert len(_folded(reg, "respondent")) == 2
    view = as_of(reg, parse_period("2026-10").end)
    assert _folded(view, "respondent").index.equals(view.table.index)
    assert list(view.table.index) == [2]


def test_a_view_before_an_extension_has_its_clocks_as_they_stood_then():
    # R-STATS / R-EXTEND / R-STATE: as of a moment before the extension was recorded the
    # clock stood unextended; a row without one keeps its due, its state at that moment
    from core.rules.asof import as_of

    reg = register_of([
        {"id": "E", "received_at": "2026-10-08 09:00", "department": "Eng",
         "extended_to": "2026-12-20", "extended_at": "2026-10-12 10:00",
         "extension_reason": "parts on order"},
        {"id": "K", "received_at": "2026-10-08 09:00", "department": "Eng"},
    ], now="2026-11-24 10:00")
    first = reg.clocks["first_reply"]
    assert first.at[2, "extended"] and first.at[2, "state"] == "running"
    assert first.at[3, "state"] == "overdue"
    before = as_of(reg, pd.Timestamp("2026-10-11 12:00")).clocks["first_reply"]
    assert not before.at[2, "extended"]
    assert before.at[2, "due"] == before.at[3, "due"] == first.at[3, "due"]
    assert list(before["state"]) == ["running", "running"]
    after = as_of(reg, pd.Timestamp("2026-10-15 12:00")).clocks["first_reply"]
    assert after.at[2, "extended"] and after.at[2, "due"] == pd.Timestamp("2026-12-20 23:59:59")
    assert list(after["state"]) == ["running", "overdue"]
