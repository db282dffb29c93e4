"""R-GROUP by matter, not wording: more than 10 distinct complainants about one matter of one
respondent within the window; one group counts once in the statistics."""

import pytest

from core.rules.period import parse_period
from core.rules.stats import figures

from .rules_helpers import register_of

LIFT = ["电梯停运", "电梯坏了", "3号楼电梯又不能用", "电梯又停了", "小区电梯停运", "电梯困人",
        "电梯坏了好几天", "2号楼电梯不能用", "电梯又坏了", "电梯停运没人管", "电梯故障"]
OTHER = ["电梯停运", "垃圾清运不及时", "停车收费太贵", "楼道灯不亮", "门禁坏了", "绿化带无人修剪",
         "保安态度差", "水压太低", "地下室漏水", "噪音扰民", "快递柜收费"]
OTHER_EN = ["Lift broken", "Rubbish not collected", "Parking fee too high", "Rude security guard",
            "Noise at night", "Water leak", "Door entry broken", "Corridor light out", "Gym closed",
            "Pool dirty", "Garden not maintained"]
ENGLISH = ["Lift out of service", "Lift broken again", "The lift in building 3 is down",
           "Lift stopped", "Lift broken", "lift not working", "The lift is broken", "Lift down",
           "Lift out of order", "Lift failed again", "Lift broken for days"]


def rows(subjects, *, respondent="物业服务中心", days=1, people=None, kind=""):
    return [{"received_at": f"2026-09-{1 + i * days:02d} 09:00" if 1 + i * days <= 30 else
             f"2026-10-{1 + i * days - 30:02d} 09:00", "subject": s, "respondent": respondent,
             "complainant": (people or [f"住户{n}" for n in range(len(subjects))])[i],
             "kind": kind} for i, s in enumerate(subjects)]


CASES = [
    # (rule, rows, rows flagged, number of groups)
    ("R-GROUP: eleven residents, eleven wordings, one lift: one group", rows(LIFT), 11, 1),
    ("R-GROUP: the same in English", rows(ENGLISH), 11, 1),
    ("R-GROUP: eleven different matters of one respondent: none", rows(OTHER), 0, 0),
    ("R-GROUP: the same in English: none", rows(OTHER_EN), 0, 0),
    ("R-GROUP: ten complainants are not more than ten", rows(LIFT[:10]), 0, 0),
    ("R-GROUP: a complainant counts once", rows(LIFT, people=["住户1"] * 2 + [f"住户{n}" for n in
                                                                           range(2, 11)]), 0, 0),
    ("R-GROUP: different respondents are different matters",
     rows(LIFT[:6]) + rows(LIFT[6:], respondent="开发商"), 0, 0),
    ("R-GROUP: spread over more than the window: none", rows(LIFT, days=5), 0, 0),
    ("R-GROUP: the lift's complaints among others of the same respondent",
     rows(LIFT) + rows(OTHER[1:], people=[f"业主{n}" for n in range(10)]), 11, 1),
    ("R-KIND: tip-offs are not counted", rows(LIFT, kind="举报"), 0, 0),
]


@pytest.mark.parametrize(("rule", "records", "flagged", "groups"), CASES, ids=[c[0] for c in CASES])
def test_groups_by_matter(rule, records, flagged, groups):
    reg = register_of(records, now="2026-11-24 10:00")
    assert int(reg.flags["group"].sum()) == flagged
    ids = reg.flags["group_id"][reg.flags["group"]]
    assert ids.nunique() == groups
    if groups:
        assert set(ids) == {f"TS001+{flagged}"}


@pytest.mark.parametrize(("settings", "grouped"), [
    ({"group_similarity": "100"}, True),  # 电梯 is in 3号楼电梯 once 又不能用 is left out
    ({"group_ignore_words": "", "group_similarity": "100"}, False),
    ({"group_threshold": "11"}, False),
])
def test_the_matching_is_set_in_settings(settings, grouped):
    # R-GROUP: the similarity, the words left out and the threshold are policy settings
    reg = register_of(rows(LIFT), settings=settings)
    assert reg.flags["group"].all() == grouped and reg.flags["group"].any() == grouped
    assert reg.warnings == []


def test_statistics_count_a_group_once():
    # R-GROUP / R-STATS: a September group of 12 complainants is one group of 12 complaints
    reg = register_of(rows([*LIFT, "电梯停运"], people=[f"住户{n}" for n in range(12)]))
    f = figures(reg, parse_period("2026-09"))
    assert (f["groups"], f["group_rows"]) == (1, 12)


def test_subjects_compared_in_small_batches_group_the_same(monkeypatch):
    # R-GROUP: the pairs of subjects are compared a batch at a time (memory stays bounded
    # however many subjects one respondent has); batch size changes nothing
    from pandas.testing import assert_frame_equal

    from core.rules import flags

    reg = register_of(rows(LIFT) + rows(OTHER, respondent="物业服务中心", days=2)
                      + rows(ENGLISH, respondent="Estate office"))
    whole = flags.compute_flags(reg.table, reg.policy)
    assert whole["group"].sum() == len(LIFT) + len(ENGLISH) + 1  # and OTHER's 电梯停运
    monkeypatch.setattr(flags, "PAIRS_AT_ONCE", 3)
    assert_frame_equal(flags.compute_flags(reg.table, reg.policy), whole)
