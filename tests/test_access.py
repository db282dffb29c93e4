"""The role rules of core.rules.access, enforced by the write commands (DESIGN.md "Who is looking";
RULES.md R-RECUSE: the person complained about never handles the complaint nor sees its
complainant; tip-offs for supervisors only; viewers and the wall see no complainant)."""

import dataclasses
import datetime as dt

import pytest

from core.commands.intake import record, register_complaint
from core.reading.i18n import message
from core.rules.access import (
    Refused,
    Who,
    actions_of,
    identify,
    masked,
    may,
    may_see,
    pages_for,
    recordable,
    refusal,
    sight,
)
from core.rules.register import build_register
from core.store.workbook import WorkbookStore

from .conftest import SUPERVISOR, run_cli, write_xlsx

NOW = dt.datetime(2026, 11, 24, 10, 0)
HEADER = ["投诉编号", "受理时间", "投诉事项", "类型", "首问责任人", "投诉人", "联系方式", "地址",
          "被投诉对象", "责任部门", "处理人", "版本"]
ROWS = [  # sheet rows 2..7
    ["TS1", "2026-11-20 09:00", "电梯停运", "投诉", "王芳", "李娜", "0571-1", "1号楼", "工程部",
     "工程部", "赵六", 1],
    ["TS2", "2026-11-20 10:00", "态度差", "投诉", "孙明", "周杰", "0571-2", "2号楼", "工程部 张伟",
     "工程部", "赵六", 1],
    ["TS3", "2026-11-21 09:00", "卫生差", "投诉", "孙明", "钱七", "0571-3", "3号楼", "保洁部",
     "保洁部", "林洋", 1],
    ["TS4", "2026-11-21 10:00", "维修慢", "投诉", "孙明", "吴八", "0571-4", "", "工程部",
     "工程部", "张伟", 1],
    ["TS5", "2026-11-22 09:00", "收费", "投诉", "孙明", "郑九", "0571-5", "", "王芳",
     "客服部", "", 1],
    ["TS6", "2026-11-22 10:00", "无人接听", "投诉", "孙明", "冯十", "0571-6", "", "客服部",
     "客服部", "", 1],
]
USERS = [["用户", "姓名", "角色", "部门"],
         ["boss@corp.example", "周文博", "主管", "管理部"],
         ["王芳", "", "登记员", "客服部"],
         ["赵六", "", "处理人", "工程部"],
         ["zhang.wei@corp.example", "张伟", "处理人", "工程部"],
         ["吴思远", "", "查看", ""],
         ["钱多多", "", "经理", ""]]
AUDIT = [["时间", "用户", "投诉编号", "字段", "原值", "新值"],
         ["2026-11-22 10:00", "王芳", "TS6", "created", "", "无人接听"]]


@pytest.fixture
def path(tmp_path, schema):
    path = write_xlsx(tmp_path / "r.xlsx", {"投诉登记": [HEADER, *ROWS], "用户": USERS,
                                             "操作日志": AUDIT})
    WorkbookStore(path, schema).init("zh")  # the other headers, as a team's register has
    return path


@pytest.fixture
def reg(path, schema):
    return build_register(WorkbookStore(path, schema).read(), schema, now=NOW)


def who(reg, name, **kw) -> Who:
    return identify(reg.users, [name], **kw)


def seen(reg, person) -> dict[str, tuple[bool, bool]]:
    s = sight(reg, person)
    return {reg.table.at[r, "id"]: (bool(s.at[r, "row"]), bool(s.at[r, "complainant"]))
            for r in s.index}


def test_r_recuse_the_respondent_never_sees_the_complaint_nor_its_complainant(reg):
    # R-RECUSE: 王芳 is the respondent of TS5; she registered TS1 and TS6 (own entries)
    clerk = who(reg, "王芳")
    assert seen(reg, clerk) == {"TS1": (True, True), "TS2": (False, False),
                                "TS3": (False, False), "TS4": (False, False),
                                "TS5": (False, False), "TS6": (True, True)}
    assert may_see(reg, clerk, 6) == (False, False)


def test_r_recuse_a_name_inside_the_respondent_counts_even_for_a_supervisor(reg):
    # R-RECUSE: "工程部 张伟" names 张伟; a supervisor named there is recused too
    zhang = who(reg, "张伟")  # found by the Name column; signs in as an email
    assert zhang.user == "zhang.wei@corp.example"
    assert seen(reg, zhang)["TS2"] == (False, False)
    boss = dataclasses.replace(who(reg, "周文博"), names=("周文博", "张伟"))
    assert seen(reg, boss)["TS2"] == (False, False)
    assert seen(reg, boss)["TS1"] == (True, True)


def test_a_handler_sees_the_complaints_of_their_department_and_those_naming_them(reg):
    zhao = who(reg, "赵六")
    assert [k for k, (row, _) in seen(reg, zhao).items() if row] == ["TS1", "TS2", "TS4"]
    assert all(c for row, c in seen(reg, zhao).values() if row)
    zhang = who(reg, "张伟")  # R-RECUSE: TS2 names him; TS4 names him as handler
    assert [k for k, (row, _) in seen(reg, zhang).items() if row] == ["TS1", "TS4"]


def test_a_viewer_sees_every_complaint_but_no_complainant_and_may_do_nothing(reg):
    viewer = who(reg, "吴思远")
    assert set(seen(reg, viewer).values()) == {(True, False)}
    assert pages_for(viewer) == ["queue", "statistics"]
    assert not any(may(viewer, a) for a in ("intake", "record", "report", "location"))
    frame = reg.table[["id", "complainant", "contact", "address", "subject"]]
    hidden = masked(reg, viewer, frame, "en")
    assert set(hidden["complainant"]) == {"(hidden)"} and set(hidden["contact"]) == {"(hidden)"}
    assert hidden["subject"].tolist() == frame["subject"].tolist()
    assert hidden.at[5, "address"] == ""  # a blank stays blank
    assert masked(reg, who(reg, "周文博"), frame, "zh").equals(frame)


def test_the_wall_display_masks_every_complainant_and_records_nothing(reg):
    wall = dataclasses.replace(who(reg, "周文博"), wall=True)
    assert set(seen(reg, wall).values()) == {(True, False)}
    assert pages_for(wall) == ["queue", "statistics"]
    assert refusal(reg, wall, "record", 2).message("en") == (
        "The wall display only shows the register; nothing can be recorded from it.")


def test_r_kind_tip_offs_are_open_to_supervisors_only(reg):
    # R-KIND and R-RECUSE: a tip-off's reporter is shown to supervisors only
    reg.table.loc[3, "kind"] = "tip_off"
    reg.memo.clear()
    assert seen(reg, who(reg, "周文博"))["TS2"] == (True, True)
    for name in ("赵六", "吴思远"):
        assert seen(reg, who(reg, name))["TS2"] == (False, False), name
    wall = dataclasses.replace(who(reg, "周文博"), wall=True)
    assert seen(reg, wall)["TS2"] == (False, False)
    assert refusal(reg, who(reg, "赵六"), "record", 3).message("en") == (
        "Complaint TS2 is a tip-off; only a supervisor may open it.")


def test_pages_each_role_may_open(reg):
    assert pages_for(who(reg, "周文博")) == ["queue", "intake", "closure", "statistics",
                                           "scores", "quality"]
    assert pages_for(who(reg, "王芳")) == ["queue", "intake", "statistics", "quality"]
    assert pages_for(who(reg, "赵六")) == ["queue", "statistics", "quality"]


def test_who_is_looked_up_in_the_users_tab(reg, schema):
    assert who(reg, "BOSS@corp.example") == who(reg, "周文博")  # email or name, any case
    boss = who(reg, "周文博")
    assert (boss.user, boss.role, boss.department) == ("boss@corp.example", "supervisor",
                                                       "管理部")
    with pytest.raises(Refused) as e:
        who(reg, "陌生人")
    assert e.value.message("en") == ("陌生人 is not in the register's Users tab; ask a "
                                     "supervisor to add you there with a role.")
    assert e.value.message("zh") == "登记表的“用户”表中没有 陌生人；请主管把您加入“用户”表并指定角色。"
    with pytest.raises(Refused) as e:
        who(reg, "钱多多")
    assert e.value.message("en") == ("钱多多 has the role '经理' in the Users tab, which is not "
                                     "one of: clerk / handler / supervisor / viewer.")


def test_a_sign_in_name_cannot_claim_a_users_tab_name(reg):
    # With OIDC only the email identifies; a display name anyone can choose grants nothing,
    # but it still hides the complaints that name it (R-RECUSE).
    with pytest.raises(Refused):
        identify(reg.users, ["stranger@gmail.example"], by_name=False, also=["周文博"],
                 open_role=None)
    zhang = identify(reg.users, ["zhang.wei@corp.example"], by_name=False, also=["张伟"],
                     open_role=None)
    assert zhang.role == "handler" and "张伟" in zhang.names


def test_an_empty_users_tab_is_a_one_person_register(tmp_path, schema):
    path = write_xlsx(tmp_path / "one.xlsx", {"投诉登记": [HEADER, ROWS[0]], "用户": USERS[:1]})
    reg = build_register(WorkbookStore(path, schema).read(), schema, now=NOW)
    me = identify(reg.users, ["老王"])
    assert (me.user, me.role) == ("老王", "supervisor")
    with pytest.raises(Refused) as e:  # a sign-in anyone may have: nobody is let in
        identify(reg.users, ["x@gmail.example"], by_name=False, open_role=None)
    assert e.value.code == "no_users"


def test_an_unreadable_users_tab_lets_nobody_in(tmp_path, schema):
    path = write_xlsx(tmp_path / "bad.xlsx", {"投诉登记": [HEADER, ROWS[0]],
                                              "用户": [["角色", "部门"], ["主管", ""]]})
    reg = build_register(WorkbookStore(path, schema).read(), schema, now=NOW)
    with pytest.raises(Refused) as e:
        identify(reg.users, ["老王"])
    assert e.value.message("en") == ("The register's Users tab cannot be read (it has no User "
                                     "(用户) or Name (姓名) column); nobody can be let in until "
                                     "it is fixed.")


@pytest.mark.parametrize("changes, actions", [
    ({"first_reply_at": "now"}, ["record"]),
    ({"closed_at": "2026-11-24 09:00"}, ["record", "close"]),
    ({"escalated": "是"}, ["record", "escalate"]),
    ({"escalated": "no"}, ["record"]),
    ({"department": "保洁部"}, ["record", "assign"]),
    ({"department": "工程部"}, ["record"]),  # unchanged
    ({"resolved_at": ""}, ["record"]),  # blank already: nothing reopened
    ({"reprocess_count": "1"}, ["record", "reopen"]),
])
def test_what_a_change_amounts_to(reg, changes, actions):
    assert actions_of(reg, 2, changes) == actions


def test_clearing_a_recorded_milestone_reopens(reg):
    reg.table.loc[2, "resolved_at"] = dt.datetime(2026, 11, 23, 9, 0)
    assert actions_of(reg, 2, {"resolved_at": "", "callback_at": ""}) == ["record", "reopen"]


def test_a_handler_may_record_but_not_close_escalate_or_assign(reg):
    zhao = who(reg, "赵六")
    assert recordable(reg, zhao, 2, ["first_reply_at", "department", "closed_at",
                                     "escalated", "notes"]) == ["first_reply_at", "notes"]
    assert recordable(reg, zhao, 4, ["notes"]) == []  # 保洁部: not theirs
    assert recordable(reg, who(reg, "吴思远"), 2, ["notes"]) == []


def test_the_write_commands_refuse_with_a_sentence_and_write_nothing(path, reg):
    # R-RECUSE: 张伟 is named in TS2; 赵六 may not close; 王芳 (clerk) may not touch TS2
    store = WorkbookStore(path, reg.schema)
    before = path.read_bytes()
    cases = [("张伟", 3, {"notes": "x"}, "zhang.wei@corp.example is named in complaint TS2 as "
              "the person complained about, and so may not open or handle it."),
             ("赵六", 2, {"closed_at": "now"}, "赵六 is a handler and may not close complaints."),
             ("王芳", 3, {"notes": "x"}, "王芳 is a clerk and works only on the complaints they "
              "registered or first received; complaint TS2 is not one of them."),
             ("赵六", 4, {"notes": "x"}, "赵六 is a handler and works only on the complaints of "
              "their department (工程部) and those naming them as handler; complaint TS3 is not "
              "one of them."),
             ("吴思远", 2, {"notes": "x"}, "吴思远 is a viewer and may not record steps on "
              "complaints.")]
    for name, row, changes, sentence in cases:
        with pytest.raises(Refused) as e:
            record(store, reg, row, changes, user=name, now=NOW)
        assert str(e.value) == sentence
        assert "R-" not in e.value.message("zh") and "R-" not in e.value.message("en")
    with pytest.raises(Refused) as e:
        register_complaint(store, reg, {"subject": "x"}, user="赵六", now=NOW)
    assert e.value.message("zh") == "赵六 的角色是处理人，不能登记投诉。"
    assert path.read_bytes() == before


def test_the_write_commands_audit_the_acting_user(path, reg, schema):
    store = WorkbookStore(path, reg.schema)
    assert record(store, reg, 2, {"first_reply_at": "now"}, user="赵六", now=NOW)[0] == []
    saved = register_complaint(store, reg, dict(
        complainant="李娜", contact="1", respondent="工程部", channel="电话", subject="漏水",
        description="d", request="r"), user="王芳", now=NOW)
    after = build_register(WorkbookStore(path, schema).read(), schema, now=NOW)
    assert after.table.at[2, "updated_by"] == "赵六"
    assert after.creators[saved.id] == "王芳"  # and so it is one of her own entries
    row = int(after.table.index[after.table["id"].eq(saved.id)][0])
    assert may_see(after, who(after, "王芳"), row) == (True, True)


def test_every_refusal_and_action_label_exists_in_both_languages():
    from core.reading.i18n import label
    from core.rules.access import ACTIONS
    for code in ("unknown_user", "no_users", "unverified", "users_unreadable", "bad_role", "not_allowed",
                 "not_theirs", "recused", "tip_off", "wall"):
        for lang in ("zh", "en"):
            assert "R-" not in message("access", code, lang, user="u", id="i", role="r",
                                       action="a", scope="s", value="v", allowed="a",
                                       reason="r")
    for a in ACTIONS:
        assert label(f"action_{a}", "zh") != f"action_{a}"


# --- the command line ------------------------------------------------------------------------

def test_cli_user_is_looked_up_and_a_role_refused_with_a_sentence(path):
    p = run_cli("record", "TS1", "--workbook", str(path), "--user", "赵六", "--set",
                "closed_at=now")
    assert p.returncode == 2
    assert p.stderr == "Error: 赵六 is a handler and may not close complaints.\n"
    p = run_cli("record", "TS1", "--workbook", str(path), "--user", "nobody", "--set",
                "notes=x", "--lang", "zh")
    assert p.returncode == 2
    assert p.stderr == "Error: 登记表的“用户”表中没有 nobody；请主管把您加入“用户”表并指定角色。\n"
    p = run_cli("record", "TS1", "--workbook", str(path), "--user", "赵六", "--set",
                "first_reply_at=now")
    assert p.returncode == 0, p.stderr


def test_cli_report_is_for_supervisors(demo_path, tmp_path):
    p = run_cli("report", "--workbook", str(demo_path), "--period", "2026-10", "--out",
                str(tmp_path / "out"), "--user", "吴思远")
    assert p.returncode == 2
    assert p.stderr == "Error: 吴思远 is a viewer and may not produce the report pack.\n"
    assert not (tmp_path / "out").exists()


def test_no_contact_details_in_the_report_pack(demo_path, schema):
    # R-RECUSE: never in a report — neither a complainant's name nor their contact
    from core.reports.report import render_html
    from core.reports.sections import build_sections

    reg = build_register(WorkbookStore(demo_path, schema).read(), schema, now=NOW)
    t = reg.table
    others = set(t["respondent"]) | set(t["handler"]) | set(t["first_receiver"]) | \
        set(t["department"])
    for period in ("2026-10", "2026-Q3"):
        html = render_html(reg, build_sections(reg, period, "zh"), period, "zh")
        assert not [c for c in set(t["contact"]) if c and c in html]
        assert not [c for c in set(t["complainant"]) if c and c in html
                    and not any(c in o for o in others)]  # not part of a staff name
        assert not [a for a in set(t["address"]) if a and a in html]


def test_the_demo_register_names_one_of_each_role(demo_path, schema):
    reg = build_register(WorkbookStore(demo_path, schema).read(), schema, now=NOW)
    roles = {u.role for u in reg.users.rows}
    assert roles == {"clerk", "handler", "supervisor", "viewer"}
    assert identify(reg.users, [SUPERVISOR]).role == "supervisor"


# --- statistics, report packs and letters: what they are built from (R-RECUSE) ---------------

def with_tip_off(reg, cid="TS6"):
    t = reg.table.copy()
    t.loc[t["id"].eq(cid), "kind"] = "tip_off"
    return dataclasses.replace(reg, table=t, memo={}, views={})


def test_statistics_leave_out_the_complaints_against_their_reader(reg):
    # R-RECUSE: 张伟 is the respondent of TS2; nothing he reads is built from it
    from core.reports.sections import build_sections
    from core.rules.access import seen_by

    zhang = identify(reg.users, ["张伟"])
    seen = seen_by(reg, zhang)
    assert list(seen.table["id"]) == ["TS1", "TS4"]  # his department's, less his own case
    assert set(seen.clocks["first_reply"].index) == set(seen.table.index)
    overview = build_sections(seen, "2026-11", "en")[0].extra["figures"]
    assert overview["received"] == 2
    assert seen_by(reg, zhang) is seen  # kept on the register for the minute it is current


def test_tip_offs_are_in_a_supervisors_statistics_only(reg):
    # R-RECUSE / R-KIND: a tip-off is neither listed nor counted for anyone else
    from core.rules.access import seen_by
    from core.rules.period import parse_period
    from core.rules.stats import figures

    reg = with_tip_off(reg)
    boss, viewer = identify(reg.users, ["周文博"]), identify(reg.users, ["吴思远"])
    november = parse_period("2026-11")
    assert seen_by(reg, boss) is reg
    assert figures(seen_by(reg, boss), november)["tip_offs"] == 1
    assert "TS6" not in set(seen_by(reg, viewer).table["id"])
    assert figures(seen_by(reg, viewer), november)["tip_offs"] == 0


def test_a_supervisor_named_as_respondent_gets_a_pack_without_that_complaint(reg, tmp_path):
    # R-RECUSE holds for supervisors too: 周文博's pack leaves out the complaint against him
    from core.rules.access import seen_by

    t = reg.table.copy()
    t.loc[t["id"].eq("TS3"), "respondent"] = "周文博"
    reg = dataclasses.replace(reg, table=t, memo={}, views={})
    boss = identify(reg.users, ["周文博"])
    assert "TS3" not in set(seen_by(reg, boss).table["id"])
    assert len(seen_by(reg, boss).table) == len(reg.table) - 1


def test_letters_go_to_who_may_handle_the_complaint_and_see_its_complainant(reg):
    # R-RECUSE: a letter names the complainant, so never for the respondent nor a viewer
    from core.rules.access import require_letter

    row = {cid: r for r, cid in reg.table["id"].items()}
    with pytest.raises(Refused) as no:
        require_letter(reg, identify(reg.users, ["王芳"]), row["TS5"])
    assert str(no.value) == "王芳 is named in complaint TS5 as the person complained about, " \
                            "and so may not open or handle it."
    with pytest.raises(Refused) as no:
        require_letter(reg, identify(reg.users, ["吴思远"]), row["TS1"])
    assert str(no.value).startswith("吴思远 is a viewer and may not ")
    with pytest.raises(Refused):
        require_letter(reg, identify(reg.users, ["张伟"]), row["TS2"])
    require_letter(reg, identify(reg.users, ["赵六"]), row["TS2"])  # his department's
    require_letter(reg, identify(reg.users, ["周文博"]), row["TS5"])


def test_cli_letter_asks_who_wants_it(path, tmp_path):
    # R-RECUSE: the respondent named with --user gets no letter, a supervisor does
    p = run_cli("letter", "TS5", "--workbook", str(path), "--kind", "reply", "--out",
                str(tmp_path / "no"), "--user", "王芳")
    assert p.returncode == 2
    assert p.stderr == ("Error: 王芳 is named in complaint TS5 as the person complained about, "
                        "and so may not open or handle it.\n")
    assert not (tmp_path / "no").exists()
    p = run_cli("letter", "TS5", "--workbook", str(path), "--kind", "reply", "--out",
                str(tmp_path / "yes"), "--user", "周文博")
    assert p.returncode == 0, p.stderr
    assert sorted(f.name for f in (tmp_path / "yes").iterdir()) == ["TS5-reply.docx",
                                                                     "TS5-reply.pdf"]
