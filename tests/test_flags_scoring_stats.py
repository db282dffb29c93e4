"""Classification flags (R-URGENT, R-REPEAT, R-GROUP, R-TREND), department scoring worked by
hand (R-SCORE-1…6) and the statistics tables (R-STATS)."""

import dataclasses

import pandas as pd
import pytest

from core.rules.flags import flag_lists
from core.rules.period import parse_period
from core.rules.scoring import department_scores, score_table
from core.rules.stats import breakdown, figures, statistics

from .conftest import run_cli
from .rules_helpers import register_of


def flags_of(reg, row):
    return flag_lists(reg.flags)[row]


def test_urgent_and_repeat_flags():
    reg = register_of([{"received_at": "2026-11-02 09:00", "urgent": "是"},
                       {"received_at": "2026-11-05 09:00", "parent_id": "TS001"}])
    assert flags_of(reg, 2) == ["urgent"]  # R-URGENT
    assert flags_of(reg, 3) == ["repeat"]  # R-REPEAT


def test_possible_repeat_is_a_hint_for_the_same_contact_and_respondent_within_30_days():
    # R-REPEAT: unlinked rows of the same contact and respondent are flagged as a hint
    base = {"contact": "13800138000", "respondent": "工程部"}
    reg = register_of([{"received_at": "2026-10-01 09:00", **base},
                       {"received_at": "2026-10-20 09:00", **base},
                       {"received_at": "2026-11-25 09:00", **base},
                       {"received_at": "2026-10-21 09:00", "contact": "13800138000",
                        "respondent": "保洁部"}])
    assert [flags_of(reg, r) for r in (2, 3, 4, 5)] == [[], ["possible_repeat"], [], []]


@pytest.mark.parametrize(("complainants", "flagged"), [(11, True), (10, False)])
def test_group_when_more_than_10_complainants_raise_the_same_matter(complainants, flagged):
    # R-GROUP: more than 10 distinct complainants, same subject and respondent, within 30 days.
    rows = [{"received_at": f"2026-11-{1 + i:02d} 09:00", "subject": "电梯停运",
             "respondent": "工程部", "complainant": f"住户{i}"} for i in range(complainants)]
    rows.append({"received_at": "2026-11-03 09:00", "subject": "电梯停运", "respondent": "工程部",
                 "complainant": "住户0"})  # the same person again does not count twice
    reg = register_of(rows)
    assert reg.flags["group"].all() == flagged and reg.flags["group"].any() == flagged


@pytest.mark.parametrize(("count", "flagged"), [(6, True), (5, False)])
def test_trend_when_more_than_5_of_one_category_in_a_month(count, flagged):
    # R-TREND
    rows = [{"received_at": f"2026-10-{1 + i:02d} 09:00", "category": "价格收费"}
            for i in range(count)]
    rows.append({"received_at": "2026-11-01 09:00", "category": "价格收费"})
    reg = register_of(rows)
    assert reg.flags["trend"].tolist() == [flagged] * count + [False]


def scoring_register():
    """Service-centre rules (resolution 24 h for general), October 2026, department Eng."""
    return register_of(scoring_records(), policy="service-center")


def scoring_records() -> list[dict]:
    g = {"severity": "general", "department": "Eng", "respondent": "Eng", "handler": "Sun"}
    return [
        # A: due 13 Oct 09:00, resolved 15 Oct 10:00 → 2 d 1 h late → 3 days → 3 points
        {"id": "A", "received_at": "2026-10-12 09:00", "resolved_at": "2026-10-15 10:00", **g},
        # B: late by the original due, but the customer agreed the new date → exempt
        {"id": "B", "received_at": "2026-10-20 09:00", "resolved_at": "2026-10-24 09:00",
         "extended_to": "2026-10-25", "extension_agreed": "是", "extension_reason": "parts", **g},
        # C: same, extension not agreed → 3 d 3 h late against 21 Oct 09:00 → 4 points
        {"id": "C", "received_at": "2026-10-20 09:00", "resolved_at": "2026-10-24 12:00",
         "extended_to": "2026-10-25", "extension_agreed": "否", "extension_reason": "parts", **g},
        # D: a repeat of A in the same month, resolved in time → doubles A's deduction
        {"id": "D", "received_at": "2026-10-20 09:00", "resolved_at": "2026-10-20 12:00",
         "parent_id": "A", **g},
        # E: a valid direct complaint about employee Qian → 1 point
        {"id": "E", "received_at": "2026-10-21 09:00", "resolved_at": "2026-10-21 12:00",
         **{**g, "respondent": "Qian"}, "validity": "成立"},
        # Zhao praised twice → +1; Li praised once → nothing
        {"id": "P1", "kind": "表扬", "received_at": "2026-10-05 09:00", "department": "Eng",
         "respondent": "Zhao"},
        {"id": "P2", "kind": "praise", "received_at": "2026-10-25 09:00", "department": "Eng",
         "respondent": "Zhao"},
        {"id": "P3", "kind": "praise", "received_at": "2026-10-25 09:00", "department": "Eng",
         "respondent": "Li"},
    ]


def test_scoring_worked_by_hand():
    result = department_scores(scoring_register(), "2026-10")
    (eng,) = result["departments"]
    deductions = {d["id"]: (d["late_days"], d["points"], d["doubled"]) for d in eng["deductions"]}
    assert deductions == {"A": (3, 6, True),   # R-SCORE-1 + R-SCORE-4: 3 days, doubled
                          "C": (4, 4, False)}  # R-SCORE-1 (R-SCORE-2 not met: not agreed)
    assert [e["id"] for e in eng["exemptions"]] == ["B"]  # R-SCORE-2
    assert eng["complained_about"] == [{"employee": "Qian", "complaints": 1,  # R-SCORE-3
                                        "points": 1}]
    assert eng["praised"] == [{"employee": "Zhao", "praises": 2, "points": 1}]  # R-SCORE-3
    assert (eng["points_lost"], eng["points_gained"], eng["net"]) == (11, 1, -10)
    assert eng["yuan"] == -1000  # R-SCORE-5: 100 yuan per point
    assert eng["escalated"] is True  # R-SCORE-6: 10 points lost
    assert {(i["employee"], i["yuan"]) for i in result["individuals"]} == {("Zhao", 200),
                                                                          ("Qian", -100)}


def test_each_praised_or_complained_about_employee_carries_the_points_the_policy_sets():
    # R-SCORE-3 read from the policy, never hard-coded: a register whose rules give 2 points
    # for repeated praise and take 3 for a direct complaint says so entry by entry
    reg = scoring_register()
    policy = dataclasses.replace(reg.policy, scoring={
        **reg.policy.scoring, "praise_bonus": 2, "direct_complaint_penalty": 3})
    (eng,) = department_scores(dataclasses.replace(reg, policy=policy), "2026-10")["departments"]
    assert [e["points"] for e in eng["complained_about"]] == [3]
    assert [e["points"] for e in eng["praised"]] == [2]
    assert (eng["points_lost"], eng["points_gained"]) == (6 + 4 + 3, 2)
    table = score_table({"policy": "x", "period": "2026-10", "yuan_per_point": 100,
                         "escalation_points": 10, "departments": [eng], "individuals": []},
                        "en", policy)
    assert "Qian: directly complained about 1 time -3" in table
    assert "Zhao: praised 2 times +2" in table


def test_scoring_in_another_month_is_empty():
    assert department_scores(scoring_register(), "2026-09")["departments"] == []


def test_rectification_late_costs_a_point_per_week():
    # R-SCORE-1 second half: property's rectification clock is the 3-day resolution.
    reg = register_of([{"id": "R", "received_at": "2026-11-02 09:00",
                        "resolved_at": "2026-11-16 09:00", "first_reply_at": "2026-11-02 10:00",
                        "department": "Eng", "respondent": "Eng"}], policy="property")
    (eng,) = department_scores(reg, "2026-11")["departments"]
    assert [(d["kind"], d["late_days"], d["points"]) for d in eng["deductions"]] == [
        ("rectification", 11, 2)]


def test_the_escalation_threshold_comes_from_settings():
    reg = register_of([{"id": "A", "received_at": "2026-10-12 09:00", "severity": "general",
                        "resolved_at": "2026-10-15 10:00", "department": "Eng"}],
                      policy="service-center", settings={"scoring.escalation_points": "3"})
    assert department_scores(reg, "2026-10")["departments"][0]["escalated"] is True


def test_score_cli_prints_departments(demo_path):
    p = run_cli("score", "--workbook", str(demo_path), "--period", "2026-10", "--now",
                "2026-11-24T10:00:00+08:00")
    assert p.returncode == 0
    assert p.stdout.startswith("Department scores for 2026-10 (policy consumer)")
    p = run_cli("score", "--workbook", str(demo_path), "--period", "2026-13")
    assert p.returncode == 2 and p.stderr == ("Error: '2026-13' is not a period; write a month "
                                              "as 2026-10 or a quarter as 2026-Q3.\n")


def stats_register():
    return register_of([
        {"received_at": "2026-09-20 09:00", "category": "价格收费"},  # carried over into Oct
        {"received_at": "2026-10-02 09:00", "accepted": "是", "validity": "valid",
         "category": "价格收费", "channel": "电话", "resolved_at": "2026-10-04 09:00",
         "callback_at": "2026-10-05 09:00", "satisfaction": "满意",
         "closed_at": "2026-10-06 09:00"},
        {"received_at": "2026-10-10 09:00", "accepted": "是", "validity": "invalid",
         "category": "合同", "channel": "phone", "resolved_at": "2026-10-11 09:00"},
        {"received_at": "2026-10-12 09:00", "kind": "建议"},
        {"received_at": "2025-10-12 09:00", "category": "合同"},  # a year earlier
    ])


def test_statistics_figures_for_a_month():
    # R-STATS: received, accepted, valid, closed, open, carried over, times, rates
    f = figures(stats_register(), parse_period("2026-10"))
    assert {k: f[k] for k in ("received", "suggestions", "accepted", "valid", "closed", "open",
                              "carried_over", "callback_rate", "satisfaction_rate")} == {
        "received": 2, "suggestions": 1, "accepted": 2, "valid": 1, "closed": 1, "open": 3,
        "carried_over": 2, "callback_rate": 0.5, "satisfaction_rate": 1.0}
    assert (f["resolve_hours_mean"], f["resolve_hours_median"]) == (36.0, 36.0)


def test_statistics_breakdowns_and_comparisons():
    s = statistics(stats_register(), "2026-10")
    # open at the period's end counts every complaint still open, whenever received
    assert s["breakdowns"]["channel"].to_dict("index") == {
        "phone": {"received": 2, "closed": 1, "open": 1},
        "—": {"received": 0, "closed": 0, "open": 2}}
    assert s["previous"]["period"] == "2026-09" and s["previous"]["received"] == 1
    assert s["year_before"]["period"] == "2025-10" and s["year_before"]["received"] == 1
    q = statistics(stats_register(), "2026-Q4")
    assert q["figures"]["received"] == 2 and q["previous"]["period"] == "2026-Q3"


def test_breakdown_counts_blank_values_visibly():
    b = breakdown(stats_register(), parse_period("2026-09"), "channel")
    assert b.index.tolist() == ["—"] and b["received"].tolist() == [1]


def test_the_monthly_series_counted_by_hand_with_odd_rows():
    # R-STATS (received, closed and open at each month's end, as of the last month's end):
    # a closing typed before the receipt, a row without a receipt, a suggestion, and a
    # closing after the series' end (not yet happened then)
    from core.rules.stats import monthly_series

    reg = register_of([
        {"id": "A", "received_at": "2026-08-10 09:00", "closed_at": "2026-09-05 10:00"},
        {"id": "B", "received_at": "2026-09-20 09:00"},
        {"id": "C", "received_at": "2026-09-25 09:00", "closed_at": "2026-09-20 09:00"},
        {"id": "D", "received_at": "", "closed_at": "2026-10-03 09:00"},
        {"id": "E", "kind": "建议", "received_at": "2026-10-05 09:00"},
        {"id": "F", "received_at": "2026-10-30 09:00", "closed_at": "2026-11-02 09:00"},
    ])
    series = monthly_series(reg, 3, until=pd.Timestamp("2026-10-31"))
    assert series.to_dict("list") == {"month": ["2026-08", "2026-09", "2026-10"],
                                      "received": [1, 2, 1], "closed": [0, 2, 0],
                                      "open": [1, 1, 2]}
