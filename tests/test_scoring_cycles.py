"""Department scores are final per cycle (RULES.md §5, R-SCORE-1, R-SCORE-2, R-SCORE-4): a unit
of lateness counts in the cycle it begins in, closing stops clocks, and a closed cycle scores
the same at any later `now`."""

import json

import pytest

from core.rules.scoring import department_scores

from .conftest import run_cli, write_xlsx
from .rules_helpers import register_of

ENG = {"department": "Eng", "respondent": "Eng", "severity": "general"}


def points(reg, period: str) -> dict[str, tuple[int, int, bool]]:
    """(late days in the cycle, points, doubled) per complaint and clock kind."""
    out = {}
    for d in department_scores(reg, period)["departments"]:
        for e in d["deductions"]:
            out[f"{e['id']}/{e['kind']}"] = (e["late_days"], e["points"], e["doubled"])
    return out


# (rule, policy, rows, {period: expected points}), scored at several `now` after each period
CASES = [
    ("§5: a complaint closed on 9 Oct without its stop costs October its days, never more",
     "consumer", [{"id": "A", "received_at": "2026-09-21 09:00", "assigned_at": "2026-09-21 10:00",
                   "closed_at": "2026-10-09 09:00", "department": "Eng"}],
     # dept_reply due Thu 24 Sep (3 working days), stopped by the closing on 9 Oct: the days
     # late are 25 … 30 Sep (6) and 1 … 9 Oct (9) — the due day itself is not late
     {"2026-09": {"A/result": (6, 6, False)}, "2026-10": {"A/result": (9, 9, False)},
      "2026-11": {}}),
    ("§5/R-SCORE-1: an open clock late across months costs each month its own days",
     "service-center", [{"id": "B", "received_at": "2026-10-25 09:00", **ENG}],
     # due 26 Oct 09:00; days begin 26, 27 … 31 Oct (6), then 1 … 30 Nov (30)
     {"2026-10": {"B/result": (6, 6, False)}, "2026-11": {"B/result": (30, 30, False)}}),
    ("§5/R-SCORE-1: a clock resolved in the next month stops there",
     "service-center", [{"id": "C", "received_at": "2026-10-25 09:00",
                         "resolved_at": "2026-11-03 12:00", **ENG}],
     {"2026-10": {"C/result": (6, 6, False)}, "2026-11": {"C/result": (3, 3, False)},
      "2026-12": {}}),
    ("R-SCORE-1: a week late on rectification, weeks counted in the month they begin",
     "property", [{"id": "D", "received_at": "2026-11-02 09:00", "first_reply_at": "2026-11-02 10:00",
                   "resolved_at": "2026-12-20 09:00", **ENG}],
     # resolution due 5 Nov 23:59:59; weeks begin 6, 13, 20, 27 Nov and 4, 11, 18 Dec
     {"2026-11": {"D/rectification": (25, 4, False)},
      "2026-12": {"D/rectification": (20, 3, False)}}),
    ("R-SCORE-4: a repeat within the rectification period doubles the deduction",
     "property", [{"id": "E", "received_at": "2026-11-02 09:00", "first_reply_at": "2026-11-04 10:00",
                   "resolved_at": "2026-11-05 09:00", **ENG},
                  {"id": "E2", "received_at": "2026-11-04 09:00", "parent_id": "E",
                   "first_reply_at": "2026-11-04 10:00", "resolved_at": "2026-11-04 12:00", **ENG}],
     # first reply due the same day, 2 Nov 23:59:59; 1 d 10 h late → 2 days, doubled
     {"2026-11": {"E/result": (2, 4, True)}}),
    ("R-SCORE-4: a repeat after the rectification period does not double",
     "property", [{"id": "F", "received_at": "2026-11-02 09:00", "first_reply_at": "2026-11-04 10:00",
                   "resolved_at": "2026-11-05 09:00", **ENG},
                  {"id": "F2", "received_at": "2026-11-10 09:00", "parent_id": "F",
                   "first_reply_at": "2026-11-10 10:00", "resolved_at": "2026-11-10 12:00", **ENG}],
     {"2026-11": {"F/result": (2, 2, False)}}),
    ("R-SCORE-4: the doubling counts in the cycle the repeat arrives, so October stays final",
     "property", [{"id": "G", "received_at": "2026-10-30 09:00", "first_reply_at": "2026-11-01 10:00",
                   "resolved_at": "2026-11-02 09:00", **ENG},
                  {"id": "G2", "received_at": "2026-11-02 10:00", "parent_id": "G",
                   "first_reply_at": "2026-11-02 11:00", "resolved_at": "2026-11-02 12:00", **ENG}],
     # the days late are 31 Oct and 1 Nov; the repeat on 2 Nov is within the period (due
     # 2 Nov), so November charges both again
     {"2026-10": {"G/result": (1, 1, False)}, "2026-11": {"G/result": (1, 3, True)}}),
    ("R-SCORE-4 without a rectification clock: a repeat in the same cycle doubles",
     "service-center", [{"id": "H", "received_at": "2026-10-12 09:00",
                         "resolved_at": "2026-10-15 10:00", **ENG},
                        {"id": "H2", "received_at": "2026-10-20 09:00", "parent_id": "H",
                         "resolved_at": "2026-10-20 12:00", **ENG},
                        {"id": "J", "received_at": "2026-10-12 09:00",
                         "resolved_at": "2026-10-15 10:00", **ENG},
                        {"id": "J2", "received_at": "2026-11-02 09:00", "parent_id": "J",
                         "resolved_at": "2026-11-02 12:00", **ENG}],
     {"2026-10": {"H/result": (3, 6, True), "J/result": (3, 3, False)}, "2026-11": {}}),
]


@pytest.mark.parametrize(("rule", "policy", "rows", "expected"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("later", ["2026-12-31 23:00", "2027-03-01 09:00", "2027-06-30 18:00"])
def test_a_closed_cycle_scores_the_same_at_any_later_now(rule, policy, rows, expected, later):
    reg = register_of(rows, policy=policy, now=later)
    for period, want in expected.items():
        assert points(reg, period) == want, period


def test_the_current_cycle_counts_only_the_days_begun_so_far():
    # §5: B above, scored during November
    reg = register_of(CASES[1][2], policy="service-center", now="2026-11-10 08:00")
    assert points(reg, "2026-10") == {"B/result": (6, 6, False)}
    assert points(reg, "2026-11") == {"B/result": (9, 9, False)}  # 1 … 9 Nov (the 10th at 09:00)


@pytest.mark.parametrize(("rule", "extension", "expected", "exempt"), [
    ("R-SCORE-2: agreed in time, met by the new date: exempt", {"extension_agreed": "是"}, {},
     ["K"]),
    ("R-SCORE-2: not agreed: late from the original due time", {"extension_agreed": "否"},
     {"K/result": (4, 4, False)}, []),
    ("R-EXTEND: agreed but recorded after the due time: no rescue",
     {"extension_agreed": "是", "extended_at": "2026-11-07 09:00"}, {"K/result": (4, 4, False)}, []),
])
def test_an_agreed_extension_exempts_any_clock(rule, extension, expected, exempt):
    # consumer's result clock is the department's answer (3 working days → Thu 5 Nov), not
    # a resolution clock: extended to 10 Nov, answered on Mon 9 Nov 10:00.
    row = {"id": "K", "received_at": "2026-11-02 09:00", "assigned_at": "2026-11-02 10:00",
           "dept_reply_at": "2026-11-09 10:00", "department": "Eng", "extended_to": "2026-11-10",
           "extended_at": "2026-11-04 09:00", "extension_reason": "waiting for the supplier",
           **extension}
    reg = register_of([row], now="2026-12-01 09:00")
    assert points(reg, "2026-11") == expected
    (dept,) = department_scores(reg, "2026-11")["departments"] or [{"exemptions": []}]
    assert [e["id"] for e in dept["exemptions"]] == exempt


def test_score_at_several_now_from_the_command_line(tmp_path):
    # §5: `score --period 2026-10` prints the same figures at every later --now
    head = ["Complaint No.", "Received", "Subject", "Severity", "Department", "Resolved"]
    rows = [["S1", "2026-10-25 09:00", "Lift", "general", "Eng", ""],
            ["S2", "2026-10-12 09:00", "Door", "general", "Eng", "2026-10-15 10:00"]]
    path = write_xlsx(tmp_path / "s.xlsx", {"Complaints": [head, *rows]})
    outs = []
    for now in ("2026-11-01T00:00:00+08:00", "2026-12-24T10:00:00+08:00",
                "2027-03-01T09:00:00+08:00"):
        p = run_cli("score", "--workbook", str(path), "--policy", "service-center", "--period",
                    "2026-10", "--format", "json", "--now", now)
        assert p.returncode == 0, p.stderr
        outs.append(json.loads(p.stdout))
    assert outs[0] == outs[1] == outs[2]
    assert outs[0]["departments"][0]["points_lost"] == 6 + 3
