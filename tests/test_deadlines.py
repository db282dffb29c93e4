"""Deadlines counted as R-COUNT says, on the official calendar with make-up days (R-CAL);
states (R-STATE); extensions (R-EXTEND); each preset's clocks (DESIGN.md presets)."""

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.rules.calendar import WorkCalendar

from .conftest import check_json, write_xlsx
from .rules_helpers import clock, register_of

CAL = WorkCalendar(first_year=2025, last_year=2027)

COUNTING = [
    # (rule, policy, clock, row, due)
    ("R-COUNT working days: make-up Sunday 20 Sep counts", "consumer", "first_reply",
     {"received_at": "2026-09-18 10:00"}, "2026-09-24 23:59:59"),
    ("R-COUNT working days: Mid-Autumn 25-27 Sep skipped", "consumer", "dept_reply",
     {"received_at": "2026-09-24 09:00", "assigned_at": "2026-09-24 10:00"}, "2026-09-30 23:59:59"),
    ("R-COUNT working days: National Day skipped, make-up Sat 10 Oct counts", "consumer",
     "dept_reply", {"received_at": "2026-09-30 09:00", "assigned_at": "2026-09-30 10:00"},
     "2026-10-10 23:59:59"),
    ("R-COUNT working days: 7 across National Day (R-ACCEPT)", "consumer", "acceptance",
     {"received_at": "2026-09-28 15:00"}, "2026-10-13 23:59:59"),
    ("R-COUNT working days: start day not counted even at 00:00", "consumer", "first_reply",
     {"received_at": "2026-11-02"}, "2026-11-09 23:59:59"),
    ("R-COUNT working days: year end", "consumer", "first_reply",
     {"received_at": "2026-12-24 16:00"}, "2026-12-31 23:59:59"),
    ("R-COUNT days: 3 days from Mon 14 Dec due end of Thu 17 Dec", "property", "resolution",
     {"received_at": "2026-12-14 08:30"}, "2026-12-17 23:59:59"),
    ("R-COUNT days: last day in National Day rolls to Thu 8 Oct", "property", "resolution",
     {"received_at": "2026-09-28 09:00"}, "2026-10-08 23:59:59"),
    ("R-COUNT days: last day a make-up Sunday stays", "property", "resolution",
     {"received_at": "2026-09-17 09:00"}, "2026-09-20 23:59:59"),
    ("R-COUNT days: last day a Saturday of Mid-Autumn rolls to Monday", "property", "resolution",
     {"received_at": "2026-09-23 09:00"}, "2026-09-28 23:59:59"),
    ("R-COUNT days: 15 days ending on 5 Oct roll to 8 Oct (bureau)", "bureau", "resolution",
     {"received_at": "2026-09-20 09:00", "accepted_at": "2026-09-20 10:00"}, "2026-10-08 23:59:59"),
    ("R-URGENT same day (property)", "property", "resolution",
     {"received_at": "2026-11-24 09:00", "urgent": "是"}, "2026-11-24 23:59:59"),
    ("R-COUNT same day (property first reply)", "property", "first_reply",
     {"received_at": "2026-10-01 21:00"}, "2026-10-01 23:59:59"),
    ("R-COUNT hours: 3 hours from 16:20 (R-SEVERITY light)", "service-center", "resolution",
     {"received_at": "2026-11-20 16:20", "severity": "轻度"}, "2026-11-20 19:20:00"),
    ("R-SEVERITY general 24 hours", "service-center", "resolution",
     {"received_at": "2026-11-20 16:20", "severity": "general"}, "2026-11-21 16:20:00"),
    ("R-SEVERITY major 48 hours", "service-center", "resolution",
     {"received_at": "2026-11-20 16:20", "severity": "重大"}, "2026-11-22 16:20:00"),
    ("quality: reply in 4 hours from acceptance", "quality", "first_reply",
     {"received_at": "2026-11-20 08:00", "accepted_at": "2026-11-20 09:30"}, "2026-11-20 13:30:00"),
    ("quality: engineer on site out of province 7 days", "quality", "onsite",
     {"received_at": "2026-11-02 08:00", "assigned_at": "2026-11-02 09:00", "region": "省外"},
     "2026-11-09 23:59:59"),
    ("employee: 15 days from acceptance", "employee", "resolution",
     {"received_at": "2026-11-02 08:00", "accepted_at": "2026-11-03 09:00"}, "2026-11-18 23:59:59"),
    ("property: follow-up every 3 days from the last one", "property", "followup",
     {"received_at": "2026-11-02 08:00", "last_followup_at": "2026-11-16 09:00"},
     "2026-11-19 23:59:59"),
    ("property: callback 2 working days", "property", "callback",
     {"received_at": "2026-11-02 08:00", "resolved_at": "2026-11-06 17:00"}, "2026-11-10 23:59:59"),
]


@pytest.mark.parametrize(("rule", "policy", "clock_id", "row", "due"), COUNTING,
                         ids=[c[0] for c in COUNTING])
def test_due_dates(rule, policy, clock_id, row, due):
    reg = register_of([row], policy=policy)
    assert clock(reg, clock_id)[0] == due


STATES = [
    # R-STATE (first_reply, consumer: received Mon 16 Nov 09:00 → due Mon 23 Nov 23:59:59)
    ("R-STATE met", {"first_reply_at": "2026-11-23 23:00"}, "2026-11-24 10:00", "met"),
    ("R-STATE missed", {"first_reply_at": "2026-11-24 08:00"}, "2026-11-24 10:00", "missed"),
    ("R-STATE overdue", {}, "2026-11-24 00:00", "overdue"),
    ("R-STATE running", {}, "2026-11-21 12:00", "running"),
    ("R-STATE due soon: within 25% of the length", {}, "2026-11-22 12:00", "due_soon"),
]


@pytest.mark.parametrize(("rule", "extra", "now", "state"), STATES, ids=[s[0] for s in STATES])
def test_states(rule, extra, now, state):
    reg = register_of([{"received_at": "2026-11-16 09:00", **extra}], now=now)
    assert clock(reg, "first_reply") == ("2026-11-23 23:59:59", state)


def test_due_soon_uses_one_working_day_when_that_is_shorter():
    # R-STATE: acceptance 7 working days from Mon 2 Nov → due Wed 11 Nov; 25% of 9.6 days is
    # 2.4 days, so one working day (from the end of Tue 10 Nov) is the shorter window.
    row = {"received_at": "2026-11-02 09:00"}
    assert clock(register_of([row], now="2026-11-10 22:00"), "acceptance")[1] == "running"
    assert clock(register_of([row], now="2026-11-11 00:30"), "acceptance")[1] == "due_soon"


def test_an_extension_replaces_the_resolution_due_time():
    # R-EXTEND: property resolution 3 days → 5 Nov; extended to 10 Nov (a date: end of day).
    reg = register_of([{"received_at": "2026-11-02 09:00", "extended_to": "2026-11-10",
                        "extension_reason": "waiting for parts", "extension_agreed": "是"}],
                      policy="property", now="2026-11-08 10:00")
    c = reg.clocks["resolution"].loc[2]
    assert c["extended"] and c["state"] == "running"
    assert c["due"] == dt.datetime(2026, 11, 10, 23, 59, 59)
    assert c["original_due"] == dt.datetime(2026, 11, 5, 23, 59, 59)


def test_the_holidays_tab_overrides_the_library():
    # R-CAL: the team closes on Wed 25 Nov and works Sat 28 Nov.
    row = {"received_at": "2026-11-24 09:00", "assigned_at": "2026-11-24 10:00"}
    plain = register_of([row])
    assert clock(plain, "dept_reply")[0] == "2026-11-27 23:59:59"
    tabbed = register_of([row], holidays=[("2026-11-25", "假日"), ("2026-11-28", "workday")])
    assert clock(tabbed, "dept_reply")[0] == "2026-11-28 23:59:59"


CAL_2027 = ("The working-day calendar has no official data for 2027: deadlines there count "
            "Monday–Friday and the Holidays tab's rows. Enter 2027's holidays and make-up working "
            "days from the State Council's notice in the Holidays tab (python -m core holidays "
            "--year 2027 drafts them), then add 2027 to the calendar_complete setting.")


def test_a_year_the_calendar_does_not_cover_warns_and_falls_back_to_weekdays():
    # R-CAL: 5 working days from Mon 28 Dec 2026 run into 2027.
    reg = register_of([{"received_at": "2026-12-28 09:00"}], now="2026-12-28 10:00")
    assert clock(reg, "first_reply")[0] == "2027-01-04 23:59:59"  # 1 Jan taken as a weekday
    assert [w.message("en") for w in reg.warnings] == [CAL_2027]


@pytest.mark.parametrize(("holidays", "settings", "due", "warned"), [
    # R-CAL: one Holidays row in 2027 counts, but does not make the year known
    ([("2027-01-01", "holiday")], None, "2027-01-05 23:59:59", True),
    # the team has entered 2027 and says so: the warning goes
    ([("2027-01-01", "holiday")], {"calendar_complete": "2027"}, "2027-01-05 23:59:59", False),
    # Spring Festival 2027: without the Holidays rows, 3 Feb + 5 working days lands inside it
    ([], None, "2027-02-10 23:59:59", True),
    ([(f"2027-02-{d:02d}", "holiday") for d in range(5, 12)] + [("2027-02-20", "workday")],
     {"calendar_complete": "2026, 2027"}, "2027-02-17 23:59:59", False),
])
def test_a_year_is_known_only_once_the_team_marks_it_complete(holidays, settings, due, warned):
    received = "2026-12-28 09:00" if due.startswith("2027-01") else "2027-02-03 09:00"
    reg = register_of([{"received_at": received}], now=received, holidays=holidays,
                      settings=settings)
    assert clock(reg, "first_reply")[0] == due
    assert [w.message("en") for w in reg.warnings] == ([CAL_2027] if warned else [])


def test_a_completed_year_setting_must_name_years():
    reg = register_of([{"received_at": "2026-11-02 09:00"}], settings={"calendar_complete": "next"})
    assert [w.message("en") for w in reg.warnings] == [
        "Settings: 'calendar_complete' = 'next' is not valid (expected years such as 2027, 2028); "
        "the preset's value [] stays in force."]


def test_a_clock_whose_start_is_empty_is_left_out(tmp_path):
    path = write_xlsx(tmp_path / "r.xlsx", {"Complaints": [
        ["Complaint No.", "Received", "Subject"], ["TS1", "2026-11-20 09:00", "Lift"]]})
    _, out = check_json(path)
    assert set(out["rows"][0]["clocks"]) == {"acceptance", "first_reply"}
    assert out["rows"][0]["clocks"]["first_reply"] == {"due": "2026-11-27T23:59:59+08:00",
                                                        "state": "running"}


def test_praise_and_rejected_complaints_have_no_running_deadlines():
    reg = register_of([{"received_at": "2026-11-02 09:00", "kind": "表扬"},
                       {"received_at": "2026-11-02 09:00", "accepted": "no",
                        "reject_reason": "out of scope", "accepted_at": "2026-11-03 09:00",
                        "assigned_at": "2026-11-03 10:00"}])
    assert reg.clocks["first_reply"]["due"].isna().tolist() == [True, False]
    assert reg.clocks["dept_reply"]["due"].isna().all()


@pytest.mark.parametrize(("policy", "clocks"), [
    ("consumer", {"acceptance", "first_reply", "dept_reply", "callback"}),
    ("property", {"first_reply", "resolution", "followup", "callback", "second_reply"}),
    ("service-center", {"resolution"}),
    ("quality", {"first_reply", "stock_decision", "onsite"}),
    ("bureau", {"forwarding", "assignment", "resolution"}),
    ("employee", {"resolution"}),
    ("prevention", {"report_phone", "report_written", "media_notice", "media_written", "a_plan"}),
    ("law-firm", {"first_reply"}),
])
def test_every_preset_gives_every_row_its_clocks(demo_path, policy, clocks):
    _, out = check_json(demo_path, "--policy", policy)
    assert out["policy"] == policy
    seen = {c for r in out["rows"] for c in r["clocks"]}
    assert seen == clocks
    states = {c["state"] for r in out["rows"] for c in r["clocks"].values()}
    assert states <= {"met", "missed", "running", "due_soon", "overdue"}


def test_settings_override_a_clock_and_a_bad_override_keeps_the_preset():
    reg = register_of([{"received_at": "2026-11-16 09:00"}],
                      settings={"clock.first_reply.length": "3", "group_threshold": "many",
                                "colour": "blue"})
    assert clock(reg, "first_reply")[0] == "2026-11-19 23:59:59"
    assert reg.policy.settings["group_threshold"] == 10
    assert [w.message("en") for w in reg.warnings] == [
        "Settings: 'group_threshold' = 'many' is not valid (expected a number); the preset's "
        "value 10 stays in force.",
        "Settings: 'colour' is not a setting this policy knows; it is ignored."]


def test_a_refused_clock_override_names_the_presets_own_length():
    """R-ACCEPT: a Settings row cannot set the acceptance clock to nonsense; the warning says
    which length stays (it used to leave a blank where the value belongs)."""
    reg = register_of([{"received_at": "2026-11-16 09:00"}],
                      settings={"clock.acceptance.length": "soon"})
    [warning] = [w.message("en") for w in reg.warnings]
    length = next(c for c in reg.policy.clocks if c.id == "acceptance").length
    assert length == 7
    assert f"the preset's value {length} stays in force." in warning
    assert "value  stays" not in warning


def test_the_policy_setting_chooses_the_preset():
    reg = register_of([{"received_at": "2026-11-16 09:00"}], policy=None,
                      settings={"policy": "service-center"})
    assert reg.policy.name == "service-center"


days = st.dates(min_value=dt.date(2025, 1, 1), max_value=dt.date(2026, 12, 1))


@settings(max_examples=200, deadline=None)
@given(day=days, n=st.integers(min_value=1, max_value=20))
def test_adding_working_days_lands_on_a_working_day(day, n):
    # R-CAL / R-COUNT
    out = CAL.add_working_days(np.array([np.datetime64(day)]), np.array([n]))[0]
    assert CAL.is_workday(out.astype(dt.date)) and out > np.datetime64(day)


@settings(max_examples=200, deadline=None)
@given(a=days, b=days, n=st.integers(min_value=1, max_value=20))
def test_adding_working_days_is_monotonic(a, b, n):
    # R-COUNT: a later start or a longer length never gives an earlier due day.
    lo, hi = sorted([a, b])
    f = lambda d, k: CAL.add_working_days(np.array([np.datetime64(d)]), np.array([k]))[0]  # noqa: E731
    assert f(lo, n) <= f(hi, n) and f(lo, n) <= f(lo, n + 1)


def test_a_bad_holidays_row_is_a_warning_and_the_rest_still_counts():
    # R-CAL: the Holidays tab's bad rows are reported with their row number, never guessed.
    reg = register_of([{"received_at": "2026-11-24 09:00", "assigned_at": "2026-11-24 10:00"}],
                      holidays=[("2026-11-25", "holiday"), ("25/11/2026", "holiday"),
                                ("2026-11-26", "maybe")])
    assert clock(reg, "dept_reply")[0] == "2026-11-30 23:59:59"
    assert [w.message("en") for w in reg.warnings] == [
        "Holidays tab, row 3: '25/11/2026' could be day/month or month/day; write it as "
        "2026-11-03.",
        "Holidays tab, row 4: 'maybe' is not one of: 假日 holiday / 工作日 workday."]


def test_the_due_times_shown_at_intake_follow_the_holidays_and_settings_tabs(tmp_path, schema):
    # R-CAL and the Settings tab: what the clerk is told must be what `check` will say.
    from core.commands.intake import register_complaint
    from core.rules.register import build_register
    from core.store.workbook import WorkbookStore

    store = WorkbookStore(tmp_path / "r.xlsx", schema)
    store.init("en")
    store.append("holidays", [{"date": dt.datetime(2026, 11, 25), "type": "holiday"}])
    store.append("settings", [{"key": "clock.first_reply.length", "value": "2"}])
    now = dt.datetime(2026, 11, 24, 9, 0)
    reg = build_register(store.read(), schema, now=now)
    saved = register_complaint(store, reg, {
        "subject": "Lift", "complainant": "Li", "contact": "1", "respondent": "Eng",
        "description": "d", "request": "r", "channel": "phone"}, user="u", now=now)
    assert saved.clocks["first_reply"] == dt.datetime(2026, 11, 27, 23, 59, 59)  # 26, 27
    after = build_register(store.read(), schema, now=now)
    assert after.clocks["first_reply"]["due"].iloc[-1] == saved.clocks["first_reply"]
