"""The dashboard rendered with streamlit.testing.v1.AppTest on real workbooks."""

import datetime as dt
import json
import shutil

import openpyxl
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.config import Target
from core.front.demo import demo_records
from core.reading.schema import schema
from core.rules.access import operator
from core.store.workbook import WorkbookStore

from .conftest import ROOT, made_once, write_xlsx

PAGES = ("queue", "intake", "closure", "statistics", "scores", "quality")
NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def app_on(path, lang="zh", page=None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.secrets = {"tests": {"sign_in": "none"}}  # not the checkout's own secrets.toml
    at.session_state["target"] = Target(workbook=str(path))
    at.session_state["lang"] = lang
    at.session_state["now"] = NOW
    at.run()
    if page:
        at.switch_page(f"pages/{page}.py").run()
    return at


@pytest.fixture(scope="session")
def empty_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("empty") / "empty.xlsx"
    WorkbookStore(path, schema()).init("zh")
    return path


@pytest.fixture(scope="session")
def big_path(tmp_path_factory, worker_id):
    """A 10k-row register, made once for the run (the workers share it; it is only read)."""
    def make(folder):
        store = WorkbookStore(folder / "big.xlsx", schema())
        store.init("en")
        for k, v in demo_records(schema(), rows=10_000, seed=3, lang="en",
                                 now=NOW.replace(tzinfo=None)).items():
            store.append(k, v[:1])  # the first write adds the date style; the rest appends fast
            store.append(k, v[1:])
    return made_once(tmp_path_factory, worker_id, "big", make) / "big.xlsx"


# Every page in both languages on an empty and the demo register; the 10k-row register (the
# same code at scale, labels already walked) in Chinese only, to keep the suite fast.
@pytest.mark.parametrize(("register", "page", "lang"), [
    (r, p, lang) for r in ("empty_path", "demo_path", "big_path") for p in PAGES
    for lang in (("zh",) if r == "big_path" else ("zh", "en"))])
def test_every_page_renders_in_both_languages(request, register, page, lang):
    at = app_on(request.getfixturevalue(register), lang, page)
    assert not at.exception, at.exception
    assert at.header[0].value == {
        "queue": ("待办", "Queue"), "intake": ("登记", "Intake"), "closure": ("结案", "Closure"),
        "statistics": ("统计", "Statistics"), "scores": ("考核", "Scores"),
        "quality": ("数据质量", "Data quality")}[page][lang == "en"]


def test_quality_page_lists_problems_by_row(tmp_path):
    path = write_xlsx(tmp_path / "bad.xlsx", {"Complaints": [
        ["Complaint No.", "Received", "Subject"], ["TS1", "03/11/2026", "Lift"],
        ["TS2", "2026-11-03", "Door"]]})
    at = app_on(path, "en", "quality")
    df = at.dataframe[0].value
    assert df.to_dict("records") == [{
        "Row": 2, "Complaint No.": "TS1", "Column": "Received",
        "Problem and how to fix it": "'03/11/2026' could be day/month or month/day; write it "
                                     "as 2026-11-03."}]


def test_an_unreadable_register_is_one_clear_banner(tmp_path):
    bad = tmp_path / "bad.xlsx"
    bad.write_text("x")
    at = app_on(bad, "en")
    assert not at.exception
    assert len(at.error) == 1 and at.error[0].value.startswith("The register could not be read: ")


def fill_intake(at, **values):
    for key, value in values.items():
        if key in ("channel", "kind"):
            at.selectbox(key=f"in_{key}").set_value(value)
        elif key in ("description", "request"):
            at.text_area(key=f"in_{key}").set_value(value)
        else:
            at.text_input(key=f"in_{key}").set_value(value)
    return at


INTAKE = dict(complainant="王芳", contact="0571-88886666", respondent="工程部",
              subject="=电梯停运", description="三天没有电梯", request="尽快修复", channel="phone")


def test_intake_adds_exactly_one_row_and_shows_the_number_and_due_times(demo_path, tmp_path):
    path = tmp_path / "r.xlsx"
    shutil.copy(demo_path, path)
    before = openpyxl.load_workbook(path)["投诉登记"].max_row
    at = fill_intake(app_on(path, "en", "intake"), **INTAKE)
    next(b for b in at.button if b.label in ("Save", "保存")).click().run()
    assert not at.exception
    ws = openpyxl.load_workbook(path)["投诉登记"]
    assert ws.max_row == before + 1
    new = [c.value for c in ws[ws.max_row]]
    assert "=电梯停运" in new and "0571-88886666" in new and "电话" in new
    msg = at.success[0].value
    assert msg.startswith("Registered as TS20261124") and "First reply: due 2026-12-01 23:59" in msg
    audit = openpyxl.load_workbook(path)["操作日志"]
    assert audit.cell(row=audit.max_row, column=4).value == "新建"  # the sheet's language


def test_intake_problems_show_next_to_the_fields_and_nothing_is_written(demo_path, tmp_path):
    path = tmp_path / "r.xlsx"
    shutil.copy(demo_path, path)
    before = path.read_bytes()
    at = fill_intake(app_on(path, "en", "intake"), **{**INTAKE, "complainant": ""},
                     received_at="03/11/2026")
    next(b for b in at.button if b.label in ("Save", "保存")).click().run()
    errors = [e.value for e in at.error]
    assert "Complainant is empty; every row needs it." in errors
    assert "'03/11/2026' could be day/month or month/day; write it as 2026-11-03." in errors
    assert path.read_bytes() == before
    assert at.text_input(key="in_subject").value == "=电梯停运"


def test_a_failed_write_keeps_every_value_on_the_form(demo_path, tmp_path):
    path = tmp_path / "r.xlsx"
    shutil.copy(demo_path, path)
    (tmp_path / "~$r.xlsx").write_text("Excel has it open")
    at = fill_intake(app_on(path, "zh", "intake"), **INTAKE)
    next(b for b in at.button if b.label in ("Save", "保存")).click().run()
    assert at.error[0].value.startswith("未能保存：r.xlsx 正在另一个程序中打开")
    assert {k: at.text_input(key=f"in_{k}").value for k in
            ("complainant", "contact", "respondent", "subject")} == {
        k: INTAKE[k] for k in ("complainant", "contact", "respondent", "subject")}
    assert at.selectbox(key="in_channel").value == "phone"


def test_queue_filters_filter(demo_path):
    at = app_on(demo_path, "en", "queue")
    total = len(at.dataframe[0].value)
    at.multiselect(key="f_state").set_value(["overdue"]).run()
    shown = at.dataframe[0].value
    assert 0 < len(shown) < total and set(shown["State"]) == {"overdue"}
    assert {m.label: int(m.value) for m in at.metric}["Overdue"] == len(shown)
    # the complaint number stays in sight when the wide table is scrolled sideways
    assert json.loads(at.dataframe[0].proto.columns)["Complaint No."]["pinned"] is True


def test_queue_records_a_milestone(demo_path, tmp_path):
    path = tmp_path / "r.xlsx"
    shutil.copy(demo_path, path)
    at = app_on(path, "en", "queue")
    first = at.dataframe[0].value.iloc[0]
    at.selectbox(key="queue_pick").set_value(first["Complaint No."]).run()
    at.multiselect(key="q_fields").set_value(["last_followup_at"]).run()
    at.text_input(key="q_last_followup_at").set_value("2026-11-24 09:30")
    next(b for b in at.button if b.label == "Record").click().run()
    assert not at.exception and at.success[0].value == "Recorded."
    assert read(path).table.at[int(first["Row"]), "last_followup_at"] == dt.datetime(2026, 11, 24,
                                                                                      9, 30)


def read(path):
    from core.rules.register import build_register
    return build_register(WorkbookStore(path, schema()).read(), schema(), now=NOW)


def closable_book(tmp_path, **over):
    row = {"Complaint No.": "TS1", "Received": "2026-11-02 09:00", "Subject": "Lift",
           "Validity": "valid", "Root cause": "worn cable", "Corrective action": "replace",
           "First reply": "2026-11-02 10:00", "Written reply": "yes",
           "Resolved": "2026-11-05 09:00", "Callback": "2026-11-06 09:00",
           "Satisfaction": "satisfied", "Archived": "yes", "Escalated": "", "Closed": "",
           "First callback satisfaction": "", "Times reprocessed": "", "First callback": "",
           "First resolved": "", "Version": 1,
           "Updated": "", "Updated by": ""}
    row.update(over)
    return write_xlsx(tmp_path / "c.xlsx", {"Complaints": [list(row), list(row.values())]})


def test_the_close_button_stays_disabled_until_the_checklist_holds(tmp_path):
    # R-CLOSE: every item that applies must hold before the complaint can close
    at = app_on(closable_book(tmp_path, Archived=""), "en", "closure")
    assert at.button(key="close_go").disabled
    assert any(m.value == ":red[:material/cancel:] Materials archived — Record: Archived"
               for m in at.markdown)
    at = app_on(closable_book(tmp_path), "en", "closure")
    assert not at.button(key="close_go").disabled
    at.button(key="close_go").click().run()
    assert at.success[0].value == "TS1 is closed."
    reg = read(tmp_path / "c.xlsx")
    assert reg.table.at[2, "closed_at"] == dt.datetime(2026, 11, 24, 10, 0)
    # no sign-in configured: this machine's operator acts, and is the audit user
    assert reg.table.at[2, "version"] == 2 and reg.table.at[2, "updated_by"] == operator()


def test_an_unsatisfied_callback_is_reprocessed_before_any_escalation(tmp_path):
    # R-REOPEN and R-CLOSE 7: unsatisfied never closes silently; reprocessing keeps the first
    # result; escalation is offered only once a reprocessing still left it unsatisfied
    at = app_on(closable_book(tmp_path, Satisfaction="unsatisfied"), "en", "closure")
    assert at.button(key="close_go").disabled
    assert at.warning[0].value.startswith("The callback was unsatisfied")
    assert at.button(key="escalate").disabled
    at.button(key="reprocess").click().run()
    t = read(tmp_path / "c.xlsx").table.loc[2]
    assert (t["reprocess_count"], t["first_satisfaction"], t["satisfaction"]) == (
        1, "unsatisfied", "")
    assert pd.isna(t["resolved_at"]) and pd.isna(t["callback_at"])
    assert t["first_callback_at"] == pd.Timestamp("2026-11-06 09:00")  # R-REOPEN: kept
    assert t["first_resolved_at"] == pd.Timestamp("2026-11-05 09:00")
    # the second round's callback is still unsatisfied: now it may be escalated
    at = app_on(closable_book(tmp_path, Satisfaction="unsatisfied", **{
        "First callback satisfaction": "unsatisfied", "Times reprocessed": 1}), "en", "closure")
    assert not at.button(key="escalate").disabled
    at.button(key="escalate").click().run()
    assert read(tmp_path / "c.xlsx").table.at[2, "escalated"]
    at = app_on(tmp_path / "c.xlsx", "en", "closure")
    assert not at.button(key="close_go").disabled  # escalated: closes on instruction


def test_the_uncovered_year_warning_is_on_every_page(tmp_path):
    # R-CAL: a 2027 date without calendar_complete warns on every page, not only in check
    path = write_xlsx(tmp_path / "y.xlsx", {"Complaints": [
        ["Complaint No.", "Received", "Subject"], ["TS1", "2026-12-28 09:00", "Lift"]]})
    for page in PAGES:
        at = app_on(path, "en", page)
        assert [w.value for w in at.warning if "2027" in w.value] == [
            "The working-day calendar has no official data for 2027: deadlines there count "
            "Monday–Friday and the Holidays tab's rows. Enter 2027's holidays and make-up working "
            "days from the State Council's notice in the Holidays tab (python -m core holidays "
            "--year 2027 drafts them), then add 2027 to the calendar_complete setting."], page


def test_statistics_page_charts_tables_and_downloads(demo_path):
    at = app_on(demo_path, "en", "statistics")
    assert not at.exception
    assert [s.value for s in at.subheader][:4] == ["Overview", "Changes against 2026-10",
                                                   "Received, closed and open by month",
                                                   "On-time rate per clock"]
    assert len(at.get("vega_lite_chart")) >= 5


def test_a_failed_read_shows_one_banner_and_the_last_good_data_marked_stale(demo_path,
                                                                           tmp_path):
    path = tmp_path / "r.xlsx"
    shutil.copy(demo_path, path)
    at = app_on(path, "en", "quality")
    assert at.metric[0].value == "300"
    path.write_text("someone saved something else here")
    at.run()
    assert len(at.error) == 1 and at.error[0].value.startswith("The register could not be read:")
    assert at.warning[0].value.startswith("Showing the last good data, read at ")
    assert at.metric[0].value == "300"


def test_two_clerks_saving_one_after_the_other_from_two_sessions_get_two_numbers(demo_path,
                                                                                 tmp_path):
    # R-NUMBER: both pages were opened on the same read of the register; the number is
    # allocated when the row is written, so the second save does not reuse the first's.
    path = tmp_path / "r.xlsx"
    shutil.copy(demo_path, path)
    a = fill_intake(app_on(path, "en", "intake"), **INTAKE)
    b = fill_intake(app_on(path, "zh", "intake"), **{**INTAKE, "subject": "second clerk"})
    next(x for x in a.button if x.label == "Save").click().run()
    next(x for x in b.button if x.label == "保存").click().run()
    told_a = a.success[0].value.split("Registered as ")[1].split(".")[0]
    told_b = b.success[0].value.split("已登记，投诉编号 ")[1].split("。")[0]
    assert told_a != told_b
    t = read(path).table
    assert t.loc[t["id"].eq(told_a), "subject"].tolist() == ["=电梯停运"]
    assert t.loc[t["id"].eq(told_b), "subject"].tolist() == ["second clerk"]


def test_viewers_share_one_read_and_one_check_until_the_file_changes(demo_path, tmp_path,
                                                                     monkeypatch):
    # Issue 11: a warm view reads nothing and checks nothing again (nor builds the
    # statistics again); a file saved in Excel (its time stamp moves) is read at the next view.
    import os

    import streamlit as st

    import core.front.service
    import core.reports.sections
    from core.store.workbook import WorkbookStore as Store

    path = tmp_path / "r.xlsx"
    shutil.copy(demo_path, path)
    reads, checks, sections = [], [], []
    real_read, real_build = Store.read, core.front.service.build_register
    real_sections = core.reports.sections.each_section
    monkeypatch.setattr(Store, "read", lambda self, *a, **k: reads.append(1) or
                        real_read(self, *a, **k))
    monkeypatch.setattr(core.front.service, "build_register", lambda *a, **k: checks.append(1) or
                        real_build(*a, **k))
    monkeypatch.setattr(core.reports.sections, "each_section", lambda *a, **k: sections.append(1)
                        or real_sections(*a, **k))
    st.cache_data.clear()
    st.cache_resource.clear()
    for page in ("queue", "quality", "scores", "statistics", "statistics"):
        assert not app_on(path, "en", page).exception
    assert (len(reads), len(checks), len(sections)) == (1, 1, 1)
    stamp = os.stat(path).st_mtime_ns + 1_000_000_000
    os.utime(path, ns=(stamp, stamp))
    assert not app_on(path, "en", "queue").exception
    assert (len(reads), len(checks)) == (2, 2)


def test_statistics_built_for_a_first_view_are_kept_only_when_all_were_built(demo_path):
    # the statistics page shows each section as it is built; a viewer who clicks on
    # before the last one leaves nothing half-built behind for the next viewer
    from core.reports.sections import each_section
    from core.rules.register import build_register
    from core.store.workbook import WorkbookStore

    reg = build_register(WorkbookStore(demo_path, schema()).read(), schema(),
                         now=dt.datetime(2026, 11, 24, 10, 0))
    made = []

    def make():
        made.append(1)
        return each_section(reg, "2026-10", "en")

    first = reg.derived_each("sections", make)
    assert next(first).key == "overview"
    first.close()  # the viewer clicked on
    whole = list(reg.derived_each("sections", make))
    again = list(reg.derived_each("sections", make))
    assert len(made) == 2 and [s.key for s in whole] == [s.key for s in again]
    assert all(a is b for a, b in zip(whole, again, strict=True))  # kept, not built again


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_scores_page_shows_the_points_of_each_employee_complained_about(demo_path, lang):
    # R-SCORE-3: a valid direct complaint about an employee costs the department the
    # policy's points once per employee, shown beside the number of complaints
    at = app_on(demo_path, lang, "scores")
    employee, times, lost = (("员工", "被投诉次数", "扣分") if lang == "zh"
                             else ("Employee", "Times complained about", "Points lost"))
    tables = [d.value for d in at.dataframe if employee in d.value.columns]
    assert tables and all(list(df.columns) == [employee, times, lost] for df in tables)
    rows = pd.concat(tables)
    assert len(rows) and set(rows[lost]) == {1} and set(rows[times]) <= set(range(1, 99))


def test_the_queue_box_shows_no_choice_in_the_new_language_after_a_change(demo_path):
    # nothing chosen is the box's placeholder, in the page's language; an option meaning
    # "nothing" went on showing 请选择 in the English page
    at = app_on(demo_path, "zh", "queue")
    box = at.selectbox(key="queue_pick")
    assert box.value is None and None not in box.options and box.placeholder == "请选择"
    at.session_state["lang"] = "en"
    at.run()
    box = at.selectbox(key="queue_pick")
    assert box.value is None and box.placeholder == "Choose one" and box.label == "Open complaint"


def test_the_period_kind_chosen_is_kept_across_a_change_of_language(demo_path):
    # one radio per language (a radio kept across a change showed neither choice in the
    # browser); the choice itself goes over to the other language's radio
    at = app_on(demo_path, "zh", "statistics")
    at.radio(key="stats_kind_zh").set_value("quarter").run()
    at.session_state["lang"] = "en"
    at.run()
    radio = at.radio(key="stats_kind_en")
    assert (radio.value, radio.label) == ("quarter", "Period")
    assert [s.label for s in at.selectbox if s.key == "stats_quarter"] == ["Quarter"]
