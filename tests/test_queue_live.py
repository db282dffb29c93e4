"""Issue 12 in core: blank means now on the record forms, the queue's every open row with a
next step, an owner and a state, the closure checklist naming only what is missing, dates
written as dates, and the people and department pick-lists."""

import datetime as dt

import openpyxl
import pandas as pd
import pytest

from core.commands.intake import record_milestones
from core.front.demo import DEMO_USERS
from core.reading.schema import schema
from core.reports.sections import open_list
from core.rules.access import Who
from core.rules.closure import checklist
from core.rules.period import parse_period
from core.rules.picklists import off_list, pick_list
from core.rules.queue import NO_CLOCK, mine, my_department, queue_counts, queue_frame, remaining, search
from core.rules.register import build_register
from core.store.workbook import WorkbookStore

from .rules_helpers import register_of
from .test_closure import CLOSED
from .test_gsheet import ZH, app_numbered, fake, key_info, store  # noqa: F401 (fixtures)

NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
SUPERVISOR = DEMO_USERS["supervisor"]["zh"]


def read(path):
    return build_register(WorkbookStore(path, schema()).read(), schema(), now=NOW)


def unreplied_row(reg) -> int:
    q = queue_frame(reg)
    return int(next(r for r in q["row"] if pd.isna(reg.table.at[r, "first_reply_at"])
                    and pd.isna(reg.table.at[r, "last_followup_at"])))


# --- 1. blank means now ----------------------------------------------------------------------

def test_blank_date_times_on_a_record_form_are_the_registers_now(register_copy):
    # R-STATE/R-FLOW: a reply recorded with its time left blank stops the first-reply clock now
    reg = read(register_copy)
    row = unreplied_row(reg)
    utc = NOW.astimezone(dt.UTC)  # the page's clock is UTC; the register's zone is +08:00
    bad = record_milestones(WorkbookStore(register_copy, schema()), reg, row,
                            {"last_followup_at": "", "first_reply_at": " "}, user=SUPERVISOR,
                            now=utc, blank_is_now=True)
    assert bad == []
    t = read(register_copy).table.loc[row]
    assert (t["last_followup_at"], t["first_reply_at"]) == (pd.Timestamp("2026-11-24 10:00"),
                                                       pd.Timestamp("2026-11-24 10:00"))


def test_without_the_promise_a_blank_clears_and_nothing_is_invented(register_copy):
    # reprocessing (R-REOPEN) clears the result with a blank: it must not become "now"
    reg = read(register_copy)
    row = unreplied_row(reg)
    assert record_milestones(WorkbookStore(register_copy, schema()), reg, row,
                             {"first_reply_at": ""}, user=SUPERVISOR, now=NOW) == []
    assert pd.isna(read(register_copy).table.at[row, "first_reply_at"])


# --- 6. dates written as dates ---------------------------------------------------------------

def test_a_milestone_typed_with_slashes_is_written_as_a_date_cell(register_copy):
    reg = read(register_copy)
    row = unreplied_row(reg)
    record_milestones(WorkbookStore(register_copy, schema()), reg, row,
                      {"first_reply_at": "2026/11/25 14:30", "notes": "=1+1"}, user=SUPERVISOR,
                      now=NOW)
    ws = openpyxl.load_workbook(register_copy)["投诉登记"]
    header = [c.value for c in ws[1]]
    cell = ws.cell(row=row, column=header.index("首次答复时间") + 1)
    assert cell.value == dt.datetime(2026, 11, 25, 14, 30) and cell.is_date
    note = ws.cell(row=row, column=header.index("备注") + 1)
    assert (note.value, note.data_type) == ("=1+1", "s")  # text stays text, never a formula


def test_a_milestone_in_a_google_sheet_is_a_date_serial_the_sheet_shows_as_a_date(fake, store):  # noqa: F811
    from core.rules.register import build_register as build

    ids = app_numbered(fake, store, schema(), n=2)
    reg = build(store.read(), schema(), now=NOW)
    row = int(reg.table.index[reg.table["id"].eq(ids[1])][0])
    assert record_milestones(store, reg, row, {"first_reply_at": "2026/11/25 14:30",
                                               "notes": "=1+1"}, user="clerk", now=NOW) == []
    tab = fake.tab(ZH)
    header = tab.rows[0]
    cells = tab.grid[row - 1].cells
    raw = cells[header.index("首次答复时间")]
    assert isinstance(raw, float) and not isinstance(raw, bool)  # a number, not text typed
    assert fake.get(f"'{ZH}'!A{row}:ZZ{row}", "FORMATTED_VALUE")[0][
        header.index("首次答复时间")] == "2026-11-25 14:30"
    assert cells[header.index("备注")] == "=1+1"  # written RAW: text, never a formula


# --- 2. the queue ----------------------------------------------------------------------------

def test_every_open_row_has_a_next_step_an_owner_and_a_state_even_without_a_clock():
    # R-FLOW: an unsatisfied callback has no running clock, yet it has a next step
    unhappy = {**CLOSED, "closed_at": "", "satisfaction": "不满意", "department": "工程部",
               "dept_reply_at": "2026-11-03 09:00", "plan_agreed": "是"}
    reg = register_of([unhappy, {"received_at": "2026-11-20 09:00", "first_receiver": "Zhou"}])
    q = queue_frame(reg).set_index("row")
    assert q.loc[2, ["step", "owner", "state"]].tolist() == ["step_reprocess", "工程部", NO_CLOCK]
    assert pd.isna(q.loc[2, "days_left"])
    assert q.loc[3, "state"] in ("running", "due_soon", "overdue")
    assert q.index.tolist() == [3, 2]  # a running clock before a row without one
    assert set(q["state"]) <= {"overdue", "due_soon", "running", NO_CLOCK}


def test_the_queue_is_sorted_by_urgency_and_counts_days_left_and_overdue():
    # R-STATE / R-COUNT: 5 working days from Mon 16 Nov is Mon 23 Nov: overdue on the 24th
    reg = register_of([{"received_at": "2026-11-23 09:00"}, {"received_at": "2026-11-16 09:00"},
                       {"received_at": "2026-11-20 09:00"}], now="2026-11-24 10:00")
    q = queue_frame(reg)
    assert q["row"].tolist() == [3, 4, 2]
    assert q.iloc[0]["state"] == "overdue" and q.iloc[0]["days_left"] < 0
    assert remaining(q.iloc[0]["days_left"], "zh").startswith("逾期 ")
    assert remaining(q.iloc[2]["days_left"], "en").endswith(" d left")
    counts = queue_counts(q, reg.now)
    assert (counts["open"], counts["overdue"]) == (3, 1)


def test_days_under_one_are_hours_and_no_clock_is_blank():
    assert remaining(-0.25, "en") == "6 h overdue"
    assert remaining(2.9, "zh") == "剩 2 天"
    assert remaining(float("nan"), "zh") == ""


def test_the_queues_overdue_count_is_the_statistics_overdue_count(demo_path):
    # R-STATS / R-STATE: at a month's last moment the queue's counts and the statistics' lists
    # of that month (open and overdue at its end) say the same
    end = dt.datetime(2026, 11, 30, 23, 59, 59)
    reg = build_register(WorkbookStore(demo_path, schema()).read(), schema(), now=end)
    q = queue_frame(reg)
    counts = queue_counts(q, reg.now)
    period = parse_period("2026-11")
    carried = open_list(reg, period, "en", overdue_only=False)
    overdue = open_list(reg, period, "en", overdue_only=True)
    assert counts["overdue"] > 0
    assert (counts["open"], counts["overdue"]) == (len(carried), len(overdue))
    assert "" not in set(carried["State"])  # every open row has a state there too


def test_mine_and_my_department_follow_the_signed_in_person():
    reg = register_of([{"received_at": "2026-11-20 09:00", "handler": "李娜", "department": "工程部"},
                       {"received_at": "2026-11-20 09:00", "first_receiver": "李娜"},
                       {"received_at": "2026-11-20 09:00", "department": "客服部"}])
    q = queue_frame(reg).set_index("row")
    li = Who("lina", "clerk", "工程部", ("lina", "李娜"))
    assert q.index[mine(q, li)].tolist() == [2, 3]
    assert q.index[my_department(q, li)].tolist() == [2]
    assert not my_department(q, Who("x", "clerk", "", ("x",))).any()
    assert q.index[search(q, "客服")].tolist() == [4]
    assert q.index[search(q, "ts002")].tolist() == [3]


# --- 4. the closure checklist ----------------------------------------------------------------

OPEN = {**CLOSED, "closed_at": ""}


@pytest.mark.parametrize(("rule", "change", "key", "missing", "why"), [
    ("R-CLOSE 4: nothing recorded names both", {"first_reply_at": "", "reply_written": ""},
     "answered", ("first_reply_at", "reply_written"), ""),
    ("R-CLOSE 4: the reply recorded, only the written reply is missing",
     {"reply_written": ""}, "answered", ("reply_written",), ""),
    ("R-CLOSE 4: recorded as not written says so", {"reply_written": "否"}, "answered", (),
     "close_why_not_in_writing"),
    ("R-CLOSE 7: 基本满意 is recorded, and is not satisfied", {"satisfaction": "基本满意"},
     "satisfied", (), "close_why_not_satisfied"),
    ("R-CLOSE 7: no satisfaction yet", {"satisfaction": ""}, "satisfied", ("satisfaction",), ""),
    ("R-CLOSE 7 / R-REOPEN: escalated before any reprocessing",
     {"satisfaction": "不满意", "escalated": "是"}, "satisfied", (), "close_why_escalated_early"),
])
def test_the_checklist_names_only_what_is_missing_or_why_a_value_does_not_do(rule, change, key,
                                                                               missing, why):
    items = {i.key: i for i in checklist(register_of([{**OPEN, **change}]), 2)}
    assert (items[key].ok, items[key].missing, items[key].why) == (False, missing, why)
    assert all(i.ok for k, i in items.items() if k != key)


def test_after_both_are_recorded_the_answered_item_holds():
    # R-CLOSE 4: the reply and its being in writing recorded: nothing left to record
    items = {i.key: i for i in checklist(register_of([OPEN]), 2)}
    assert items["answered"].ok and items["answered"].missing == ()


# --- 6. pick-lists ---------------------------------------------------------------------------

def test_departments_and_people_come_from_their_tabs_and_a_typo_is_flagged(demo_path):
    reg = read(demo_path)
    assert "保洁部" in pick_list(reg, "department")
    assert SUPERVISOR in pick_list(reg, "handler") == pick_list(reg, "first_receiver")
    assert off_list(reg, {"department": "保洁", "handler": SUPERVISOR, "subject": "保洁"}) == [
        ("department", "保洁", "departments")]
    assert off_list(reg, {"department": "保洁部 "}) == []


def test_a_register_without_lists_flags_nothing():
    reg = register_of([{"received_at": "2026-11-20 09:00"}])
    assert pick_list(reg, "department") == [] and off_list(reg, {"department": "x"}) == []
