"""Every clock of RULES.md §3 in its preset (or left out with a reason), the new clocks and
presets, columns a clock needs (R-SEVERITY, R-WARN, region), R-ACCEPT's time bar and R-KIND's
tip-offs."""

import shutil

import pandas as pd
import pytest
import yaml

from core.errors import SchemaError
from core.reports.docs import PRESETS_BEGIN, PRESETS_END, presets_markdown
from core.rules import policy as policy_module
from core.rules.closure import tip_offs
from core.rules.period import parse_period
from core.rules.policy import POLICY_DIR, load_policy, policy_names
from core.rules.scoring import department_scores
from core.rules.stats import figures

from .conftest import ROOT
from .rules_helpers import clock, register_of

# RULES.md §3's table: each regime's clocks, by the preset that holds the regime.
SECTION_3 = {
    "consumer": {"first_reply", "dept_reply", "callback", "acceptance"},
    "property": {"callback", "second_reply", "resolution", "followup"},
    "service-center": {"resolution"},
    "bureau": {"assignment", "resolution", "forwarding"},
    "employee": {"resolution"},
    "quality": {"first_reply", "stock_decision", "onsite"},
    "prevention": {"report_phone", "report_written", "media_notice", "media_written", "a_plan"},
}


@pytest.mark.parametrize("name", sorted(SECTION_3))
def test_every_clock_of_section_3_is_in_its_preset(schema, name):
    policy, _ = load_policy(name, schema)
    held = {c.id for c in policy.clocks} | {cid for cid, _ in policy.omitted}
    assert SECTION_3[name] <= held
    assert all(reason for _, reason in policy.omitted)


@pytest.mark.parametrize("name", policy_names())
def test_every_preset_cites_its_seed(schema, name):
    policy, _ = load_policy(name, schema)
    assert policy.seeds and all(c.seed for c in policy.clocks)
    assert policy.flow and set(policy.flow) <= {"accept", "first_reply", "assign", "dept_reply",
                                                "agree_plan", "carry_out", "callback", "close"}


def test_the_new_presets_exist():
    assert {"prevention", "law-firm"} <= set(policy_names())


def test_the_readme_presets_table_is_generated(schema):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split(PRESETS_BEGIN)[1].split(PRESETS_END)[0].strip()
    assert section == presets_markdown(schema), "run `python -m core.reports.docs` to regenerate"


CLOCKS = [
    # (rule, policy, clock, row, now, due, state)
    ("property [003 4.6.2]: second reply within 3 days of the first", "property", "second_reply",
     {"received_at": "2026-11-02 09:00", "first_reply_at": "2026-11-02 15:00"},
     "2026-11-04 10:00", "2026-11-05 23:59:59", "running"),
    ("property: the second reply is recorded", "property", "second_reply",
     {"received_at": "2026-11-02 09:00", "first_reply_at": "2026-11-02 15:00",
      "second_reply_at": "2026-11-06 09:00"}, "2026-11-24 10:00", "2026-11-05 23:59:59", "missed"),
    ("property: settled before then, no second reply needed", "property", "second_reply",
     {"received_at": "2026-11-02 09:00", "first_reply_at": "2026-11-02 15:00",
      "resolved_at": "2026-11-03 09:00"}, "2026-11-24 10:00", "2026-11-05 23:59:59", "met"),
    ("quality [004 6.2.1]: stock decision within 8 hours of confirming", "quality",
     "stock_decision", {"received_at": "2026-11-02 08:00", "accepted_at": "2026-11-02 09:30"},
     "2026-11-02 12:00", "2026-11-02 17:30:00", "running"),
    ("quality [004 6.2.1]: reply on the lot within 4 hours", "quality", "first_reply",
     {"received_at": "2026-11-02 08:00", "accepted_at": "2026-11-02 09:30"},
     "2026-11-02 14:00", "2026-11-02 13:30:00", "overdue"),
    ("bureau [003 六]: forwarded to the handling unit the same day", "bureau", "forwarding",
     {"received_at": "2026-11-02 16:00", "transferred_at": "2026-11-02 17:00"},
     "2026-11-24 10:00", "2026-11-02 23:59:59", "met"),
    ("prevention [002 八.2.2]: phone report within 1 hour (B)", "prevention", "report_phone",
     {"received_at": "2026-11-02 09:00", "warning_level": "B"}, "2026-11-02 09:50",
     "2026-11-02 10:00:00", "due_soon"),
    ("prevention [002 八.2.2]: written report within 4 hours (A)", "prevention",
     "report_written", {"received_at": "2026-11-02 09:00", "warning_level": "A级",
                        "report_written_at": "2026-11-02 12:00"}, "2026-11-24 10:00",
     "2026-11-02 13:00:00", "met"),
    ("prevention [002 八.3.1]: media notice within 1 hour of knowing", "prevention",
     "media_notice", {"received_at": "2026-11-02 09:00", "warning_level": "C",
                      "media_known_at": "2026-11-03 14:10"}, "2026-11-24 10:00",
     "2026-11-03 15:10:00", "overdue"),
    ("prevention [002 八.3.1]: a complaint through the media is known at receipt", "prevention",
     "media_written", {"received_at": "2026-11-02 09:00", "warning_level": "C",
                       "channel": "新闻媒体"}, "2026-11-02 10:00", "2026-11-02 11:00:00",
     "running"),
    ("prevention [002 八.3.3]: A-level handling plan within 4 hours", "prevention", "a_plan",
     {"received_at": "2026-11-02 09:00", "warning_level": "A", "media_known_at": "2026-11-02 10:00",
      "plan_at": "2026-11-02 15:00"}, "2026-11-24 10:00", "2026-11-02 14:00:00", "missed"),
    ("law firm [000 ①]: the first reply with the handling plan", "law-firm", "first_reply",
     {"received_at": "2026-11-02 09:00"}, "2026-11-24 10:00", "2026-11-09 23:59:59", "overdue"),
]


@pytest.mark.parametrize(("rule", "policy", "clock_id", "row", "now", "due", "state"), CLOCKS,
                         ids=[c[0] for c in CLOCKS])
def test_each_new_clock(rule, policy, clock_id, row, now, due, state):
    reg = register_of([row], policy=policy, now=now)
    assert clock(reg, clock_id) == (due, state)


@pytest.mark.parametrize(("level", "clocks"), [
    ("A", {"report_phone", "report_written", "a_plan"}),
    ("B", {"report_phone", "report_written"}),
    ("C", set()),
])
def test_prevention_reports_follow_the_warning_level(level, clocks):
    # R-WARN [002]: A and B are reported up, C is handled by the office; only A needs a plan
    reg = register_of([{"received_at": "2026-11-02 09:00", "warning_level": level}],
                      policy="prevention")
    assert {c for c, f in reg.clocks.items() if f["due"].notna().any()} == clocks


NEEDS = [
    # (rule, policy, row, clock, expected due, problem message)
    ("R-SEVERITY: a blank severity is a problem, not a silent 24 hours", "service-center",
     {"received_at": "2026-11-20 16:20"}, "resolution", "2026-11-21 16:20:00",
     "Severity is empty; the clock “Resolution” needs it and counts it as general until it is "
     "filled."),
    ("quality: a blank region is a problem, not a silent 3 days", "quality",
     {"received_at": "2026-11-02 08:00", "assigned_at": "2026-11-02 09:00"}, "onsite",
     "2026-11-05 23:59:59",
     "Region is empty; the clock “Engineer on site” needs it and counts it as in province until "
     "it is filled."),
    ("R-WARN: the prevention regime needs every complaint's warning level", "prevention",
     {"received_at": "2026-11-02 08:00"}, "report_phone", None,
     "Warning level is empty; the clock “Escalation report by phone” needs it."),
]


@pytest.mark.parametrize(("rule", "policy", "row", "clock_id", "due", "message"), NEEDS,
                         ids=[c[0] for c in NEEDS])
def test_a_blank_column_a_clock_needs_is_a_problem(rule, policy, row, clock_id, due, message):
    reg = register_of([row], policy=policy)
    assert [p.message(reg.tab, "en") for p in reg.problems] == [message]
    got = reg.clocks[clock_id].at[2, "due"]
    assert pd.isna(got) if due is None else got.strftime("%Y-%m-%d %H:%M:%S") == due


def test_the_problem_shows_the_assumed_value_as_a_label_in_chinese():
    reg = register_of([{"received_at": "2026-11-20 16:20"}], policy="service-center")
    assert reg.problems[0].message(reg.tab, "zh") == (
        "严重程度为空，“处理完毕”时限需要此项，填写前暂按“一般”计算。")


TIME_BAR = [
    # (rule, row, expected problems as (column, code))
    ("R-ACCEPT: more than 3 years since the harm was known: not to be accepted",
     {"harm_known_at": "2023-10-01", "accepted": "是"}, [("accepted", "time_barred_accepted")]),
    ("R-ACCEPT: not yet decided, still a problem", {"harm_known_at": "2023-10-01"},
     [("accepted", "time_barred_accepted")]),
    ("R-ACCEPT: within 3 years", {"harm_known_at": "2023-11-03", "accepted": "是"}, []),
    ("R-ACCEPT: rejected on the time bar", {"harm_known_at": "2023-10-01", "accepted": "否",
                                            "reject_reason": "超过三年"}, []),
    ("R-ACCEPT: the time bar needs the date", {"accepted": "否", "reject_reason": "超过三年"},
     [("harm_known_at", "time_barred_without_date")]),
    ("R-ACCEPT: the time bar within 3 years is the wrong ground",
     {"harm_known_at": "2025-01-01", "accepted": "否", "reject_reason": "time barred"},
     [("reject_reason", "time_barred_within")]),
]


@pytest.mark.parametrize(("rule", "row", "expected"), TIME_BAR, ids=[c[0] for c in TIME_BAR])
def test_reject_after_years(rule, row, expected):
    reg = register_of([{"received_at": "2026-11-02 09:00", "accepted_at": "2026-11-03 09:00",
                        **row}])
    assert [(p.column, p.code) for p in reg.problems] == expected


def test_the_time_bar_message_names_the_ground_and_the_years_from_settings():
    reg = register_of([{"received_at": "2026-11-02 09:00", "harm_known_at": "2024-10-01"}],
                      settings={"reject_after_years": "2"})
    assert reg.problems[0].message(reg.tab, "en") == (
        "The complainant knew of the harm on 2024-10-01, more than 2 years before the complaint; "
        "record it as not accepted, on the ground 'time-barred'.")
    # the ground names no number of years of its own (R-ACCEPT: the bar is a setting)
    assert "three" not in reg.problems[0].message(reg.tab, "en")
    assert "三年" not in reg.problems[0].message(reg.tab, "zh")


def test_a_tip_off_is_kept_apart():
    # R-KIND: a tip-off (举报) is its own kind: no complaint clocks, scores or statistics
    tip = {"kind": "举报", "received_at": "2026-10-12 09:00", "severity": "general",
           "department": "Eng", "respondent": "Qian", "validity": "valid"}
    reg = register_of([tip, {**tip, "kind": "tip-off"}], policy="service-center",
                      now="2026-11-24 10:00")
    assert reg.table["kind"].tolist() == ["tip_off", "tip_off"] and reg.problems == []
    assert all(c["due"].isna().all() for c in reg.clocks.values())
    assert department_scores(reg, "2026-10")["departments"] == []
    f = figures(reg, parse_period("2026-10"))
    assert (f["received"], f["tip_offs"]) == (0, 2)
    assert tip_offs(reg).tolist() == [2, 3]


@pytest.mark.parametrize(("change", "message"), [
    ({"name": None}, "needs the top-level entries 'name'"),
    ({"clock": {"unit": "weeks"}}, "clock 'first_reply' has unknown unit 'weeks' (expected one of hours"),
    ({"clock": {"stop": "nope_at"}}, "clock 'first_reply': names milestone 'nope_at', which is not a column"),
    ({"clock": {"length": {"by": "severity"}}}, "clock 'first_reply': 'length' = {'by': 'severity'} is not valid"),
    ({"clock": {"id": "acceptance"}}, "clock 'acceptance' is defined twice"),
    ({"categories": [{"key": "x", "zh": "甲"}]}, "each category needs key, zh and en"),
    ({"omitted": [{"clock": "a"}]}, "each omitted clock needs clock and reason"),
    ({"scoring": {"result_clok": "first_reply"}}, "'scoring.result_clok' = 'first_reply' is not valid"),
])
def test_a_broken_preset_names_the_file_and_entry(tmp_path, monkeypatch, schema, change, message):
    shutil.copy(POLICY_DIR / "_defaults.yaml", tmp_path)
    data = yaml.safe_load((POLICY_DIR / "consumer.yaml").read_text(encoding="utf-8"))
    for key, value in change.items():
        if key == "clock":
            data["clocks"][1].update(value)
        elif value is None:
            del data[key]
        else:
            data[key] = value
    (tmp_path / "broken.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.setattr(policy_module, "POLICY_DIR", tmp_path)
    policy_module._preset.cache_clear()  # each case writes its own broken.yaml
    with pytest.raises(SchemaError) as err:
        load_policy("broken", schema)
    assert str(err.value).startswith(str(tmp_path / "broken.yaml")) and message in str(err.value)
