"""The analysis and improvement report and the quarterly summary (R-STATS, R-TREND, R-REPEAT,
R-GROUP, R-REOPEN), counted by hand on a small register, and every figure as of the
period's end."""

import pandas as pd
import pytest

from core.reports.analysis import actions_taken, main_causes, missing, proposals, repeat_list
from core.reports.report import build_pack
from core.reports.sections import build_sections
from core.rules.asof import as_of
from core.rules.deadlines import compute_clocks
from core.rules.period import parse_period
from core.rules.queue import queue_frame
from core.rules.stats import (
    breakdown,
    figures,
    most_each,
    not_called_back,
    satisfaction_table,
    top_issues,
)

from .rules_helpers import register_of

OCT, SEP = parse_period("2026-10"), parse_period("2026-09")
SETTINGS = {"trend_threshold": "2", "group_threshold": "2"}


def rows():
    price, contract, safety = "价格收费", "合同纠纷", "人身财产安全"
    lift = {"category": safety, "subject": "电梯停运", "respondent": "物业", "department": "物业部"}
    return [
        {"id": "S1", "received_at": "2026-09-05 09:00", "category": price, "subject": "多收费",
         "closed_at": "2026-09-20 09:00"},
        {"id": "S2", "received_at": "2026-09-10 09:00", "category": price, "subject": "多收费"},
        {"id": "S3", "received_at": "2026-09-12 09:00", "category": price, "subject": "多收费",
         "closed_at": "2026-10-03 09:00"},
        {"id": "O1", "received_at": "2026-10-02 09:00", "category": price, "subject": "多收费",
         "validity": "成立", "department": "财务部", "resolved_at": "2026-10-04 09:00",
         "callback_at": "2026-10-05 09:00", "satisfaction": "满意", "closed_at": "2026-10-06 09:00",
         "root_cause": "计费系统错误", "corrective_action": "修正计费规则"},
        {"id": "O2", "received_at": "2026-10-03 09:00", "category": contract, "subject": "多收费",
         "validity": "成立", "department": "财务部", "resolved_at": "2026-10-08 09:00",
         "callback_at": "2026-10-20 09:00", "first_satisfaction": "不满意", "satisfaction": "满意",
         "reprocess_count": "1", "root_cause": "计费系统错误\u3000",
         "corrective_action": "修正计费规则"},
        {"id": "O3", "received_at": "2026-10-05 09:00", "category": contract, "subject": "合同争议",
         "validity": "成立", "department": "工程部", "resolved_at": "2026-10-10 09:00"},
        {"id": "O4", "received_at": "2026-10-06 09:00", "category": contract, "subject": "合同争议",
         "validity": "不成立", "department": "工程部", "resolved_at": "2026-10-07 09:00"},
        {"id": "O5", "received_at": "2026-10-10 09:00", "complainant": "甲", **lift},
        {"id": "O6", "received_at": "2026-10-11 09:00", "complainant": "乙", **lift},
        {"id": "O7", "received_at": "2026-10-12 09:00", "complainant": "丙", **lift},
        {"id": "O8", "received_at": "2026-10-15 09:00", "category": "其他", "subject": "服务差",
         "parent_id": "S2"},
        {"id": "O9", "received_at": "2026-10-16 09:00", "kind": "建议", "subject": "增加网点"},
        {"id": "O10", "received_at": "2026-10-17 09:00", "kind": "表扬", "subject": "服务好",
         "respondent": "张三"},
        # resolved in October; accepted, called back and closed only in November
        {"id": "O11", "received_at": "2026-10-20 09:00", "category": price, "subject": "多收费",
         "validity": "成立", "department": "仓库", "resolved_at": "2026-10-25 09:00",
         "accepted": "是", "accepted_at": "2026-11-10 09:00",
         "callback_at": "2026-11-03 09:00", "satisfaction": "满意", "closed_at": "2026-11-05 09:00",
         "root_cause": "配件缺货", "corrective_action": "增加库存"},
        {"id": "N1", "received_at": "2026-11-02 09:00", "category": contract, "subject": "合同争议"},
    ]


@pytest.fixture(scope="module")
def reg():
    return register_of(rows(), settings=SETTINGS)


def test_the_view_as_of_a_moment_leaves_out_what_came_after(reg):
    # R-STATS: rows received after the end are left out; milestones recorded after it have
    # not happened yet, nor the values recorded with them.
    v = as_of(reg, OCT.end)
    assert "N1" not in set(v.table["id"]) and pd.Timestamp(v.now) == OCT.end
    o11 = v.table.loc[v.table["id"].eq("O11")].iloc[0]
    assert pd.isna(o11["callback_at"]) and pd.isna(o11["closed_at"]) and pd.isna(o11["accepted_at"])
    assert o11["satisfaction"] == "" and pd.isna(o11["accepted"])
    assert o11["resolved_at"] == pd.Timestamp("2026-10-25 09:00")
    # clocks are evaluated at the moment: O11's acceptance decision was overdue then
    row = int(v.table.index[v.table["id"].eq("O11")][0])
    assert v.clocks["acceptance"].at[row, "state"] == "overdue"
    assert reg.clocks["acceptance"].at[row, "state"] == "missed"
    # a moment after now is now
    assert as_of(reg, pd.Timestamp("2030-01-01")) is reg


def test_a_views_clocks_are_computed_when_read_and_are_those_of_its_moment(reg):
    # R-STATS: a view's clocks (each computed when first read) are the clocks of its table at
    # its moment, every one of them
    v = as_of(reg, OCT.end - pd.Timedelta(days=3))
    assert list(v.clocks) == [c.id for c in reg.policy.clocks] and "nonesuch" not in v.clocks
    assert not v.clocks._frames  # none computed before one is read
    whole = compute_clocks(v.table, reg.policy, reg.calendar, v.now)
    assert v.clocks.keys() == whole.keys()
    for cid, frame in whole.items():
        pd.testing.assert_frame_equal(v.clocks[cid], frame)
        assert v.clocks[cid] is v.clocks[cid]  # computed once


def test_october_figures_by_hand(reg):
    f = figures(reg, OCT)
    assert {k: f[k] for k in (
        "received", "received_once", "suggestions", "praise", "accepted", "valid", "closed",
        "open", "carried_over", "resolved", "callback_due", "called_back", "callback_rate",
        "callback_target",
        "rated", "satisfaction_rate", "first_satisfaction_rate", "repeats", "groups",
        "group_rows")} == {
        "received": 9,          # O1–O8, O11; not the suggestion, the praise, nor N1
        "received_once": 7,     # the three lift rows are one group complaint (R-GROUP)
        "suggestions": 1, "praise": 1,
        "accepted": 0,          # O11 was accepted only in November
        "valid": 4,             # O1, O2, O3, O11
        "closed": 2,            # S3 (3 Oct) and O1
        "open": 9,              # S2, O2–O8, O11 (closed 5 Nov)
        "carried_over": 2,      # S2 and S3, open on 1 October
        "resolved": 5,          # O1–O4, O11
        "callback_due": 5,      # every one's callback clock had run out by 31 October
        "called_back": 2,       # O1, O2; O11 only in November
        "callback_rate": 0.4, "callback_target": 1.0,  # R-CLOSE 6: the target is 100%
        "rated": 2,
        "satisfaction_rate": 1.0,        # final: O1 and O2 satisfied
        "first_satisfaction_rate": 0.5,  # R-REOPEN: O2 was unsatisfied at its first callback
        "repeats": 1, "groups": 1, "group_rows": 3}
    assert not_called_back(reg, OCT) == ["O4", "O3", "O11"]


def test_figures_without_on_time_rates_leave_the_clocks_unread(reg):
    # R-STATS: the year before's figures beside a period's show no on-time rate: asked for
    # without it, they are the same figures, and the view works out no clock it would need
    # only for it (the callback clock is read: a callback not yet due does not count)
    moment = OCT.end - pd.Timedelta(days=2, hours=5)  # a view no other test asks for
    period = parse_period("2026-10")
    v = as_of(reg, moment)
    bare = figures(v, period, on_time=False)
    assert "on_time_rate" not in bare
    assert set(v.clocks._frames) == {c.id for c in reg.policy.clocks if c.stop == "callback_at"}
    full = figures(v, period)
    assert list(full) == [*list(bare)[:list(full).index("on_time_rate")], "on_time_rate",
                          *list(bare)[list(full).index("on_time_rate"):]]
    assert {k: v for k, v in full.items() if k != "on_time_rate"} == bare
    assert set(full["on_time_rate"]) == {c.id for c in reg.policy.clocks}


def test_an_empty_queue_has_the_columns_and_types_of_a_full_one(reg):
    # R-STATE: the carried-over and overdue lists of a period before the first complaint are
    # empty, with the same columns, of the same types, as any other period's
    empty = queue_frame(as_of(reg, pd.Timestamp("2020-01-01")))
    full = queue_frame(reg)
    assert empty.empty and not full.empty
    assert empty.dtypes.to_dict() == full.dtypes.to_dict()


def test_the_value_written_most_often_in_each_group():
    # R-STATS (causes, actions, top issues): the most written value, ties to the one written
    # first, blanks counted only when asked, no value at all left blank
    codes = [0, 1, 0, 0, 1, 1, 2, -1, 0, 3]
    values = ["b", "x", "a", "a", "", "", "", "z", "b", None]
    assert most_each(codes, values, 5) == ["b", "x", "", "", ""]
    assert most_each(codes, values, 5, blanks=True) == ["b", "", "", "", ""]
    assert most_each([], [], 2) == ["", ""]
    for n in range(1, 40):  # as value_counts().index[0] of each group's values
        vals = [str((i * 7 + n) % 5) for i in range(n)]
        groups = [i % 3 for i in range(n)]
        want = [pd.Series([v for v, g in zip(vals, groups, strict=True) if g == k]).value_counts().index[0]
                if k in groups else "" for k in range(3)]
        assert most_each(groups, vals, 3) == want


def test_a_callback_not_due_yet_at_the_end_does_not_count_against_the_rate():
    # R-CLOSE 6: callback within its clock (consumer: 5 working days after the fix), target 100%
    reg = register_of([
        {"id": "A", "received_at": "2026-10-02 09:00", "resolved_at": "2026-10-12 09:00",
         "callback_at": "2026-10-13 09:00"},
        {"id": "B", "received_at": "2026-10-05 09:00", "resolved_at": "2026-10-14 09:00"},
        {"id": "C", "received_at": "2026-10-20 09:00", "resolved_at": "2026-10-29 09:00",
         "callback_at": "2026-11-02 09:00"}])  # due 5 Nov: not late on 31 Oct
    f = figures(reg, OCT)
    assert (f["resolved"], f["callback_due"], f["called_back"], f["callback_rate"]) == \
        (3, 2, 1, 0.5)
    assert not_called_back(reg, OCT) == ["B"]


def test_carried_over_is_the_open_at_the_previous_end(reg):
    # R-STATS: carried over into a period = open at the previous period's end
    assert figures(reg, SEP)["open"] == figures(reg, OCT)["carried_over"] == 2
    q3, q4 = parse_period("2026-Q3"), parse_period("2026-Q4")
    assert figures(reg, q3)["open"] == figures(reg, q4)["carried_over"] == 2


def test_open_by_category_covers_everything_open_at_the_end(reg):
    b = breakdown(reg, OCT, "category")
    assert b.to_dict("index") == {
        "contract": {"received": 3, "closed": 0, "open": 3},
        "safety": {"received": 3, "closed": 0, "open": 3},
        "price": {"received": 2, "closed": 2, "open": 2},   # S2 from September, O11
        "other": {"received": 1, "closed": 0, "open": 1}}
    assert b["open"].sum() == figures(reg, OCT)["open"]


def test_satisfaction_at_the_first_callback_and_final(reg):
    t = satisfaction_table(reg, OCT)
    assert t["first"].to_dict() == {"very_satisfied": 0, "satisfied": 1,
                                    "basically_satisfied": 0, "unsatisfied": 1, "": 0}
    assert t["final"].to_dict() == {"very_satisfied": 0, "satisfied": 2,
                                    "basically_satisfied": 0, "unsatisfied": 0, "": 0}


def test_top_issues_count_a_group_as_one_matter(reg):
    top = top_issues(reg, OCT)
    assert top[["subject", "category", "count", "group"]].values.tolist() == [
        ["多收费", "price", 3, False], ["电梯停运", "safety", 3, True],
        ["合同争议", "contract", 2, False], ["服务差", "other", 1, False]]


def test_main_causes_and_actions_are_grouped_and_the_missing_named(reg):
    causes = main_causes(reg, OCT)
    assert causes[["root_cause", "count"]].values.tolist() == [["计费系统错误", 2], ["配件缺货", 1]]
    assert causes["category"].tolist() == [("price", "contract"), ("price",)]
    assert causes["department"].tolist() == [("财务部",), ("仓库",)]
    assert actions_taken(reg, OCT)[["department", "corrective_action", "count"]].values.tolist() \
        == [["财务部", "修正计费规则", 2], ["仓库", "增加库存", 1]]
    assert missing(reg, OCT, "root_cause") == missing(reg, OCT, "corrective_action") == ["O3"]


def test_proposals_and_what_became_of_them(reg):
    # R-TREND: more than the threshold in a month raises a proposal; the next month shows
    # whether the category fell back, and the proposal's complaints whether they closed.
    p = proposals(reg, OCT)
    assert p.to_dict("records") == [
        {"category": "price", "month": "2026-09", "count": 3, "department": "",
         "next_count": 2, "below": True, "closed": 2, "open": 1},
        {"category": "contract", "month": "2026-10", "count": 3, "department": "工程部",
         "next_count": None, "below": None, "closed": 0, "open": 3},
        {"category": "safety", "month": "2026-10", "count": 3, "department": "物业部",
         "next_count": None, "below": None, "closed": 0, "open": 3}]


def test_repeats_list_their_parent_and_state(reg):
    r = repeat_list(reg, OCT)
    assert r[["id", "parent_id", "open"]].values.tolist() == [["O8", "S2", True]]


def test_the_october_report_reads_as_sentences(reg):
    sections = {s.key: s for s in build_sections(reg, "2026-10", "zh")}
    assert sections["overview"].text == [
        "2026-10 受理投诉 9 件（上期 3 件，去年同期 0 件）；本期结案 2 件，期末未结 9 件；期初从上期结转 2 件。",
        "其中 3 件属于 1 起群体投诉，每起按一起计，本期投诉事项共 7 项。",
        "另收到建议 1 件、表扬 1 件，不计入投诉。"]
    assert sections["satisfaction"].text == [
        "2026-10 回访 2 件：首次回访满意率 50%，最终满意率 100%。",
        "回访率 40%，目标 100%：本期处理完成、期末前应回访的 5 件中，已回访 2 件。",
        "未回访 3 件：O4, O3, O11。"]
    assert sections["causes"].text == [
        "2026-10 处理完成的成立投诉 4 件，其中 3 件记录了原因分析。",
        "主要原因：“计费系统错误”（2 件）；“配件缺货”（1 件）。",
        "1 件未记录“原因分析”：O3。"]
    assert sections["proposals"].text == [
        "2026-10“合同纠纷”投诉 3 件，超过 2 件，向工程部提出《顾客满意度改善方案建议书》，请分析原因并限期整改。",
        "2026-10“人身财产安全”投诉 3 件，超过 2 件，向物业部提出《顾客满意度改善方案建议书》，请分析原因并限期整改。",
        "2026-09“价格收费”改进建议：次月 2 件，已降至阈值以内；该批投诉已结案 2 件，未结 1 件。"]
    assert sections["changes"].text[0] == "受理件数：本期 9，上期 3（+6, +200%）。"
    assert sections["groups"].text == ["2026-10 群体投诉 1 起，共 3 件，每起按一起统计。"]
    assert sections["groups"].table.values.tolist() == [
        ["O5", "电梯停运", "物业", 3, 3, "2026-10-10", "2026-10-12", 3]]
    assert sections["issues"].text == ["最常见的投诉事项是“多收费”：3 件（本期共 9 件）。"]
    # the overdue list is as of 31 October: O11's acceptance was overdue then
    overdue = sections["overdue"].table
    assert "O11" in set(overdue["投诉编号"])
    # no complainant and no contact in a report (R-RECUSE)
    assert not any("甲" in str(v) for s in sections.values() for v in s.table.to_numpy().ravel())


def test_the_quarter_puts_its_months_side_by_side_and_carries_its_open_items(reg):
    sections = {s.key: s for s in build_sections(reg, "2026-Q3", "en")}
    months = sections["months"].table.set_index("Figure")
    assert list(months.columns) == ["2026-07", "2026-08", "2026-09", "2026-Q3"]
    assert months.loc["Received"].tolist() == [0, 0, 3, 3]
    assert months.loc["Open"].tolist() == [0, 0, 2, 2]
    assert months.loc["Carried over"].tolist() == [0, 0, 0, 0]
    carried = sections["carried"]
    assert carried.title == "Open complaints carried into 2026-Q4"
    assert carried.table["Complaint No."].tolist() == ["S2", "S3"]
    # both were past their acceptance decision's due time on 30 September
    assert carried.text == ["2 complaints are still open and carried into 2026-Q4; 2 of them "
                            "were overdue at the end."]
    overview = sections["overview"].table.set_index("Figure")
    assert list(overview.columns) == ["2026-Q3", "2026-Q2", "2025-Q3"]  # the same quarter last year


def test_a_closed_period_pack_is_the_same_bytes_whenever_produced():
    # R-STATS: "it is the same report whenever it is produced"
    early = register_of(rows(), settings=SETTINGS, now="2026-11-24 10:00")
    late = register_of(rows(), settings=SETTINGS, now="2027-03-02 16:30")
    a, b = build_pack(early, "2026-10", "zh"), build_pack(late, "2026-10", "zh")
    assert list(a) == ["2026-10-statistics.xlsx", "2026-10-report.html", "2026-10-report.pdf"]
    assert all(a[k] == b[k] for k in a)
    assert "数据截至 2026-10-31 24:00" in a["2026-10-report.html"].decode()


@pytest.mark.parametrize(("now", "prev"), [(0.665, 0.8935), (0.9166, 0.8333), (0.125, 0.135),
                                           (0.6667, 0.8889)])
def test_a_change_in_points_is_the_difference_of_the_rates_as_shown(now, prev):
    # R-STATS (comparison with the previous period): "67% this period, 89% the previous
    # one (-22 points)" — the points a reader works out from the two percentages printed
    from core.reports.analysis_sections import _change
    from core.reports.sections import _fmt

    def shown(v):
        return int(_fmt(v, rate=True).rstrip("%"))
    assert _change(now, prev, True, "en") == f"{shown(now) - shown(prev):+d} points"
    assert _change(now, prev, True, "zh") == f"{shown(now) - shown(prev):+d} 个百分点"


def test_when_every_clock_was_met_the_on_time_section_says_so_not_which_is_lowest():
    # R-STATS (on-time rate per clock): "the lowest is X: 100%" said nothing; all met is said
    from core.reports.sections import on_time

    reg = register_of([{"received_at": "2026-10-08 09:00", "department": "Eng",
                        "accepted": "yes", "accepted_at": "2026-10-08 10:00",
                        "first_reply_at": "2026-10-09 10:00"}], now="2026-11-24 10:00")
    for lang, words in (("en", "Every clock due in the period was met on time."),
                        ("zh", "各项时限均按时完成。")):
        assert on_time(reg, parse_period("2026-10"), lang).text == [words]
    late = register_of([{"received_at": "2026-10-08 09:00", "department": "Eng",
                         "accepted": "yes", "accepted_at": "2026-10-08 10:00",
                         "first_reply_at": "2026-10-30 10:00"}], now="2026-11-24 10:00")
    assert on_time(late, parse_period("2026-10"), "en").text[0].startswith(
        "The lowest on-time rate is ")


@pytest.mark.parametrize(("suggestions", "praise", "en"), [
    (1, 1, "There were also 1 suggestion and 1 praise, not counted as complaints."),
    (2, 0, "There were also 2 suggestions, not counted as complaints."),
    (0, 1, "There was also 1 praise, not counted as complaints."),
    (0, 0, "No suggestions or praise were received in the period."),
])
def test_the_sentence_on_suggestions_and_praise_names_only_those_there_were(suggestions, praise,
                                                                            en):
    # R-KIND: suggestions and praise are counted apart from complaints, and said as counted
    from core.reports.sections import kinds_text

    assert kinds_text(suggestions, praise, "en") == en
    zh = kinds_text(suggestions, praise, "zh")
    assert ("建议" in zh) == bool(suggestions or not praise)
    assert ("表扬" in zh) == bool(praise or not suggestions)
