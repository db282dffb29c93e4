"""The queue, closure and intake pages of issue 12 with streamlit.testing.v1.AppTest on real
workbooks: blank times recorded as now, the views fresh after the user's own write with the
form cleared, what is missing recorded on the closure page, the close button disabled once
closed, quick filters, and off-list names flagged."""

import datetime as dt

import pandas as pd
from streamlit.testing.v1 import AppTest

from core.config import Target
from core.rules.queue import mine, queue_frame

from .conftest import ROOT
from .test_app import INTAKE, NOW, app_on, closable_book, fill_intake, read

ME = "林洋"  # a handler and first receiver of the demo register


def waiting_for_a_reply(path) -> str:
    q = queue_frame(read(path))
    return q.loc[q["step"].eq("step_first_reply"), "id"].iloc[0]


def open_in_queue(path, number, lang="en"):
    at = app_on(path, lang, "queue")
    at.selectbox(key="queue_pick").set_value(number).run()
    return at


def test_recording_with_times_left_blank_writes_now_and_refreshes_the_detail(register_copy):
    # R-FLOW: the queue's form says "blank means now"; the first reply and a follow-up are
    # recorded at the register's current time, and the next step moves on at once
    number = waiting_for_a_reply(register_copy)
    at = open_in_queue(register_copy, number)
    assert any(m.value == "Next step: Reply to the complainant (owner: 林洋)"
               for m in at.markdown)
    at.multiselect(key="q_fields").set_value(["first_reply_at", "last_followup_at"]).run()
    next(b for b in at.button if b.label == "Record").click().run()
    assert not at.exception and [s.value for s in at.success] == ["Recorded."]
    t = read(register_copy).table.set_index("id")
    assert t.at[number, "first_reply_at"] == t.at[number, "last_followup_at"] == pd.Timestamp(
        "2026-11-24 10:00")
    # the form is cleared, the detail shows the new times and the next step
    assert at.multiselect(key="q_fields").value == []
    milestones = dict(at.dataframe[2].value.to_numpy().tolist())
    assert milestones["First reply"] == milestones["Last follow-up"] == "2026-11-24 10:00"
    assert any(m.value == "Next step: Department's answer and plan (owner: 林洋)"
               for m in at.markdown)


def test_a_failed_record_keeps_what_was_typed(register_copy, tmp_path):
    number = waiting_for_a_reply(register_copy)
    at = open_in_queue(register_copy, number)
    at.multiselect(key="q_fields").set_value(["first_reply_at"]).run()
    at.text_input(key="q_first_reply_at").set_value("2026-11-24 09:30")
    (tmp_path / "~$r.xlsx").write_text("Excel has it open")
    next(b for b in at.button if b.label == "Record").click().run()
    assert at.error[0].value.startswith("Could not save") or "open in another" in at.error[0].value
    assert at.multiselect(key="q_fields").value == ["first_reply_at"]
    assert at.text_input(key="q_first_reply_at").value == "2026-11-24 09:30"
    assert pd.isna(read(register_copy).table.set_index("id").at[number, "first_reply_at"])


def test_every_row_is_reachable_and_mine_shows_what_names_me(register_copy, monkeypatch):
    # R-FLOW owner / R-FIRSTASK: "mine" is what I own, handle or first received
    monkeypatch.setenv("COMPLAINTS_USER", ME)
    at = app_on(register_copy, "en", "queue")
    reg = read(register_copy)
    q = queue_frame(reg)
    assert len(at.dataframe[0].value) == len(q)  # every open row, not the first ten
    metrics = {m.label: int(m.value) for m in at.metric}
    assert metrics["Open"] == len(q) and metrics["No clock running"] == int(
        q["state"].eq("no_clock").sum())
    assert "" not in set(at.dataframe[0].value["State"])
    assert "" not in set(at.dataframe[0].value["Next step"])
    at.radio(key="q_quick").set_value("mine").run()
    mine_rows = q[mine(q, at.session_state["who"])]
    shown = at.dataframe[0].value
    assert len(shown) == len(mine_rows) and set(shown["Complaint No."]) == set(mine_rows["id"])


def test_the_missing_item_is_recorded_on_the_closure_page_then_it_closes_once(tmp_path):
    # R-CLOSE: item 8 missing; recorded here; the close button then works, and once closed it
    # stays on the page, closed, with the button disabled
    at = app_on(closable_book(tmp_path, Archived=""), "en", "closure")
    assert at.button(key="close_go").disabled
    at.selectbox(key="c_archived").set_value("yes")
    next(b for b in at.button if b.label == "Record").click().run()
    assert [s.value for s in at.success] == ["Recorded."]
    assert not at.button(key="close_go").disabled
    at.button(key="close_go").click().run()
    assert [s.value for s in at.success] == ["TS1 is closed."]
    assert at.info[0].value == "This complaint is closed."
    assert at.button(key="close_go").disabled
    assert read(tmp_path / "c.xlsx").table.at[2, "closed_at"] == dt.datetime(2026, 11, 24, 10)


def test_basically_satisfied_is_named_as_the_reason_not_as_missing(tmp_path):
    # R-CLOSE 7: 基本满意 is recorded; the checklist says why it does not close
    at = app_on(closable_book(tmp_path, Satisfaction="basically_satisfied"), "zh", "closure")
    line = next(m.value for m in at.markdown if "投诉人满意或非常满意" in m.value)
    assert "待记录" not in line and "满意度为“基本满意”：只有满意或非常满意才能结案" in line


def test_an_off_list_first_receiver_is_saved_and_flagged(register_copy):
    assert "周文博" in app_on(register_copy, "zh", "intake").selectbox(key="in_first_receiver").options
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.secrets = {"tests": {"sign_in": "none"}}
    for k, v in {"target": Target(workbook=str(register_copy)), "lang": "zh", "now": NOW}.items():
        at.session_state[k] = v
    at.session_state["in_first_receiver"] = "张三丰"  # typed (AppTest cannot type an option)
    at.run()
    at = fill_intake(at.switch_page("pages/intake.py").run(), **INTAKE)
    next(b for b in at.button if b.label == "保存").click().run()
    assert at.success[0].value.startswith("已登记")
    assert [w.value for w in at.warning] == ["“张三丰”不在用户名单中，请核对（仍可保存）。"]
    t = read(register_copy).table
    assert t["first_receiver"].iloc[-1] == "张三丰"


def test_on_the_closure_page_a_blank_time_records_nothing_and_now_is_typed(tmp_path):
    # R-CLOSE 6 and 8 missing: recording the archive alone must not invent a callback time
    at = app_on(closable_book(tmp_path, Archived="", Callback=""), "en", "closure")
    assert at.text_input(key="c_callback_at").placeholder == (
        "e.g. 2026-11-24 09:05, or now; left blank, nothing is recorded")
    at.selectbox(key="c_archived").set_value("yes")
    next(b for b in at.button if b.label == "Record").click().run()
    t = read(tmp_path / "c.xlsx").table.loc[2]
    assert t["archived"] and pd.isna(t["callback_at"])
    at.text_input(key="c_callback_at").set_value("now")
    next(b for b in at.button if b.label == "Record").click().run()
    assert read(tmp_path / "c.xlsx").table.at[2, "callback_at"] == dt.datetime(2026, 11, 24, 10)
    assert not at.button(key="close_go").disabled


def test_a_complaint_with_nothing_recorded_yet_says_so_in_the_language_chosen(register_copy):
    # R-FLOW: a complaint just registered has no milestones; the detail says so in words
    # (Streamlit's own empty table says "empty" in English whatever the language)
    from core.commands.intake import register_complaint
    from core.store.workbook import WorkbookStore

    from .conftest import SUPERVISOR
    from .test_app import schema

    number = register_complaint(WorkbookStore(register_copy, schema()), read(register_copy),
                                {**INTAKE, "subject": "电梯停运"}, user=SUPERVISOR,
                                now=dt.datetime(2026, 11, 24, 9, 0)).id
    for lang, words in (("zh", "尚未记录任何进度。"), ("en", "Nothing recorded yet.")):
        at = open_in_queue(register_copy, number, lang)
        assert not at.exception
        assert words in [c.value for c in at.caption]
        assert len(at.dataframe) == 3  # the queue, the details, the clocks: no empty table
