"""The local workbook store on real .xlsx files."""

import datetime as dt
import os

import openpyxl
import pytest

from core.errors import ConflictError, LockedError, NotFoundError, RegisterError
from core.rules.register import build_register
from core.store.workbook import WorkbookLock, WorkbookStore

from .conftest import write_xlsx

NOW = dt.datetime(2026, 11, 24, 10, 0)
ZH_SHUFFLED = ["投诉事项", "备注（自用）", "受理时间", "投诉编号", "联系方式", "严重程度", "类型"]


def zh_book(tmp_path):
    return write_xlsx(tmp_path / "zh.xlsx", {"投诉登记": [
        ZH_SHUFFLED,
        ["电梯停运", "客户很急", "2026-11-03 09:05", "TS20261103001", "0571-88886666", "一般", "投诉"],
        [None] * 7,  # an empty row: skipped, not counted
        ["漏水", "", "2026年11月4日", "TS20261104001", "13800138000", "重大", ""],
        ["噪音", "", "03/11/2026", "TS20261104002", "", "中等", "投诉"],
    ]})


def test_chinese_headers_in_any_order_with_an_extra_column_and_an_empty_row(tmp_path, schema):
    store = WorkbookStore(zh_book(tmp_path), schema)
    reg = build_register(store.read(), schema, now=NOW)
    t = reg.table
    assert t.index.tolist() == [2, 4, 5]  # sheet row numbers; the empty row 3 is skipped
    assert t.loc[2, "subject"] == "电梯停运" and t.loc[2, "contact"] == "0571-88886666"
    assert t.loc[4, "severity"] == "major" and t.loc[4, "kind"] == "complaint"
    assert [(p.row, p.column, p.code) for p in reg.problems] == [
        (5, "received_at", "date_ambiguous"), (5, "severity", "enum")]


def test_english_headers_read_the_same(tmp_path, schema):
    path = write_xlsx(tmp_path / "en.xlsx", {"Complaints": [
        ["Complaint No.", "Received", "Subject", "Severity"],
        ["TS20261103001", dt.datetime(2026, 11, 3, 9, 5), "Lift stopped", "general"]]})
    reg = build_register(WorkbookStore(path, schema).read(), schema, now=NOW)
    assert reg.table.loc[2, "received_at"] == dt.datetime(2026, 11, 3, 9, 5)
    assert reg.problems == []


def test_append_writes_text_as_text_never_as_a_formula(tmp_path, schema):
    store = WorkbookStore(zh_book(tmp_path), schema)
    risky = ["=1+1", "+86 138", "-5", "@SUM(A1)", "\tTab", "\rCR"]
    store.append("complaints", [{"id": f"TS2026112400{i}", "received_at": NOW, "subject": s}
                                for i, s in enumerate(risky, 1)])
    ws = openpyxl.load_workbook(store.path)["投诉登记"]
    subjects = [ws.cell(row=r, column=1) for r in range(6, 12)]
    assert {c.data_type for c in subjects} == {"s"}  # strings, not formulas
    raw = store.read().tabs["complaints"]
    assert [r[0] for r in raw.rows[-6:]] == risky


def test_append_lands_under_the_last_row_and_keeps_extra_columns(tmp_path, schema):
    store = WorkbookStore(zh_book(tmp_path), schema)
    store.append("complaints", [{"id": "TS20261124001", "received_at": NOW, "subject": "新"}])
    ws = openpyxl.load_workbook(store.path)["投诉登记"]
    assert ws.max_row == 6 and ws.cell(row=6, column=4).value == "TS20261124001"
    assert ws.cell(row=2, column=2).value == "客户很急"


def test_a_crash_mid_write_leaves_the_old_file_intact(tmp_path, schema, monkeypatch):
    path = zh_book(tmp_path)
    before = path.read_bytes()

    def crash(self, filename):
        with open(filename, "wb") as f:
            f.write(b"PK\x03\x04 half a zip")
        raise OSError("disk full")

    monkeypatch.setattr(openpyxl.Workbook, "save", crash)
    with pytest.raises(OSError, match="disk full"):
        WorkbookStore(path, schema).append("complaints", [{"id": "X", "subject": "s"}])
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["zh.xlsx"]  # no temp or lock left


def test_a_second_writer_waits_then_gets_a_clear_error(tmp_path, schema):
    path = zh_book(tmp_path)
    with WorkbookLock(path):
        store = WorkbookStore(path, schema)
        import core.store.workbook as wbmod
        old = wbmod.LOCK_WAIT_SECONDS
        wbmod.LOCK_WAIT_SECONDS = 0.2
        try:
            with pytest.raises(LockedError, match=r"Another process is writing zh\.xlsx"):
                WorkbookLock(path, wait=0.2).__enter__()
        finally:
            wbmod.LOCK_WAIT_SECONDS = old
        assert store.read().tabs["complaints"].rows  # reading is never blocked


def test_a_stale_lock_from_a_dead_process_is_taken_over(tmp_path, schema):
    path = zh_book(tmp_path)
    lock = path.with_name(".zh.xlsx.lock")
    import json
    import socket
    lock.write_text(json.dumps({"pid": 999999, "host": socket.gethostname(), "time": 0}))
    WorkbookStore(path, schema).append("complaints", [{"id": "TS1", "subject": "s",
                                                       "received_at": NOW}])
    assert not lock.exists()


def test_a_workbook_open_in_excel_is_refused_and_unchanged(tmp_path, schema):
    path = zh_book(tmp_path)
    before = path.read_bytes()
    (tmp_path / "~$zh.xlsx").write_bytes(b"owner")
    with pytest.raises(LockedError) as err:
        WorkbookStore(path, schema).append("complaints", [{"id": "X", "subject": "s"}])
    assert err.value.message("zh") == ("zh.xlsx 正在另一个程序中打开（Excel、WPS 或 LibreOffice 留下了 "
                                      "~$zh.xlsx），请关闭后重试。未写入任何内容。")
    assert str(err.value) == ("zh.xlsx is open in another program (Excel, WPS or LibreOffice "
                              "left ~$zh.xlsx); close it and try again. Nothing was written.")
    assert path.read_bytes() == before


def test_update_checks_the_version_and_writes_an_audit_line(tmp_path, schema):
    store = WorkbookStore(tmp_path / "r.xlsx", schema)
    store.init("en")
    store.append("complaints", [{"id": "TS1", "subject": "s", "received_at": NOW, "version": 1}])
    plan = store.update("TS1", {"handler": "Wang"}, seen={"version": 1, "handler": ""},
                        user="clerk", now=NOW)
    assert plan.row == 2 and plan.old == {"handler": ""}
    reg = build_register(store.read(), schema, now=NOW)
    assert reg.table.loc[2, "handler"] == "Wang" and reg.table.loc[2, "version"] == 2
    audit = store.read().tabs["audit"].rows
    assert audit[-1][1:] == ["clerk", "TS1", "Handler", "", "Wang"]  # the sheet's header
    with pytest.raises(ConflictError, match="was changed by clerk") as conflict:
        store.update("TS1", {"handler": "Li"}, seen={"version": 1}, user="other", now=NOW)
    with pytest.raises(NotFoundError) as gone:
        store.update("TS9", {"handler": "Li"}, seen={"version": 1}, user="other", now=NOW)
    # issue 12: the Chinese UI says it in Chinese, all of it
    assert conflict.value.message("zh").startswith("投诉 TS1 在您打开后已被 clerk 于 ")
    assert conflict.value.message("zh").endswith("修改，未写入任何内容。请刷新后重新填写。")
    assert gone.value.message("zh") == "登记表中已没有投诉 TS9（可能有人删除了该行），未写入任何内容。"


def test_init_creates_tabs_headers_dropdowns_and_freezes_without_touching_data(tmp_path,
                                                                                schema):
    path = zh_book(tmp_path)
    store = WorkbookStore(path, schema)
    done = store.init("zh")
    assert "added tab 部门" in done and "froze the header row of 投诉登记" in done
    wb = openpyxl.load_workbook(path)
    ws = wb["投诉登记"]
    assert ws.freeze_panes == "A2" and ws.cell(row=2, column=1).value == "电梯停运"
    assert [c.value for c in ws[1]][:7] == ZH_SHUFFLED
    assert any('"轻度,一般,重大"' in dv.formula1 for dv in ws.data_validations.dataValidation)
    assert set(wb.sheetnames) == {"投诉登记", "部门", "节假日", "设置", "用户", "操作日志"}
    mtime = os.stat(path).st_mtime_ns
    assert store.init("zh") == []  # running it twice changes nothing
    assert build_register(store.read(), schema, now=NOW).table.shape[0] == 3
    assert os.stat(path).st_mtime_ns >= mtime


def test_reading_a_missing_or_broken_file_says_what_to_do(tmp_path, schema):
    with pytest.raises(RegisterError, match="There is no workbook at"):
        WorkbookStore(tmp_path / "nope.xlsx", schema).read()
    bad = tmp_path / "bad.xlsx"
    bad.write_text("not a zip")
    with pytest.raises(RegisterError, match="cannot be read as an Excel workbook"):
        WorkbookStore(bad, schema).read()


def test_intake_appends_without_loading_the_workbook(demo_path, tmp_path, schema, monkeypatch):
    import shutil

    path = tmp_path / "r.xlsx"
    shutil.copy(demo_path, path)
    store = WorkbookStore(path, schema)
    tabs = ["complaints", "audit"]
    before = store.read_cells(tabs).tabs["complaints"]
    monkeypatch.setattr(openpyxl, "load_workbook", lambda *a, **k: pytest.fail("loaded"))
    risky = "=1+1\r\n<b>&'\""
    when = dt.datetime(2026, 11, 24, 9, 5)
    store.append("complaints", [{"id": "TS20261124901", "received_at": when, "subject": risky,
                                 "contact": "0571-88886666", "version": 1, "kind": "投诉"}],
                 audit=[{"time": when, "user": "王", "id": "TS20261124901", "field": "created",
                         "old": "", "new": risky}])
    monkeypatch.undo()
    after = store.read_cells(tabs)
    rows = after.tabs["complaints"].rows
    assert len(rows) == len(before.rows) + 1 and rows[:-1] == before.rows
    cols = schema.tab("complaints").match_headers(after.tabs["complaints"].header)
    new = rows[-1]
    assert new[cols["subject"]] == risky and new[cols["received_at"]] == when
    assert new[cols["contact"]] == "0571-88886666" and new[cols["version"]] == 1
    assert after.tabs["audit"].rows[-1][1:] == ["王", "TS20261124901", "created", "", risky]
    ws = openpyxl.load_workbook(path)["投诉登记"]  # Excel's view: a date cell, a text cell
    date_cell = ws.cell(row=ws.max_row, column=cols["received_at"] + 1)
    assert date_cell.value == when and date_cell.number_format == "yyyy-mm-dd hh:mm"
    text_cell = ws.cell(row=ws.max_row, column=cols["subject"] + 1)
    assert text_cell.data_type == "s" and text_cell.value.startswith("=1+1")
    reg = build_register(store.read(), schema, now=NOW)
    assert reg.problems == [] and reg.table.loc[ws.max_row, "id"] == "TS20261124901"


def test_a_crash_in_the_fast_append_leaves_the_old_file_intact(demo_path, tmp_path, schema,
                                                                monkeypatch):
    import shutil

    from core.store import xlsx_append

    path = tmp_path / "r.xlsx"
    shutil.copy(demo_path, path)
    before = path.read_bytes()

    def crash(self, tmp):
        with open(tmp, "wb") as f:
            f.write(b"PK half")
        raise OSError("disk full")

    monkeypatch.setattr(xlsx_append.XlsxFile, "save_to", crash)
    with pytest.raises(OSError, match="disk full"):
        WorkbookStore(path, schema).append("complaints", [{"id": "X", "subject": "s"}])
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.xlsx"]


def test_an_update_rewrites_only_the_row_without_loading_the_workbook(demo_path, tmp_path,
                                                                       schema, monkeypatch):
    import shutil

    from openpyxl.styles import Font

    path = tmp_path / "r.xlsx"
    shutil.copy(demo_path, path)
    wb = openpyxl.load_workbook(path)  # a human formats a cell in Excel
    ws = wb["投诉登记"]
    cols = schema.tab("complaints").match_headers([c.value for c in ws[1]])
    target = 7
    ws.cell(row=target, column=cols["handler"] + 1).font = Font(bold=True)
    wb.save(path)
    store = WorkbookStore(path, schema)
    before = store.read_cells(["complaints"]).tabs["complaints"].rows
    cid, version = before[target - 2][cols["id"]], int(before[target - 2][cols["version"]])
    monkeypatch.setattr(openpyxl, "load_workbook", lambda *a, **k: pytest.fail("loaded"))
    when = dt.datetime(2026, 11, 24, 9, 30)
    plan = store.update(cid, {"handler": "=赵六", "last_followup_at": when, "notes": ""},
                        seen={"version": version, "handler": before[target - 2][cols["handler"]]},
                        user="clerk", now=NOW)
    monkeypatch.undo()
    assert plan.row == target
    after = store.read_cells(["complaints", "audit"])
    rows = after.tabs["complaints"].rows
    changed = {i for i, (a, b) in enumerate(zip(before, rows, strict=True)) if a != b}
    assert changed == {target - 2}  # no other row touched
    new = rows[target - 2]
    assert new[cols["handler"]] == "=赵六" and new[cols["last_followup_at"]] == when
    assert new[cols["version"]] == version + 1 and new[cols["updated_by"]] == "clerk"
    untouched = [k for k in cols if k not in ("handler", "last_followup_at", "notes", "version",
                                               "updated_at", "updated_by")]
    assert [new[cols[k]] for k in untouched] == [before[target - 2][cols[k]] for k in untouched]
    cell = openpyxl.load_workbook(path)["投诉登记"].cell(row=target, column=cols["handler"] + 1)
    assert cell.value == "=赵六" and cell.data_type == "s" and cell.font.bold  # style kept
    assert [r[1:4] for r in after.tabs["audit"].rows[-2:]] == [
        ["clerk", cid, "处理人"], ["clerk", cid, "最近跟进时间"]]  # a line per field, by its header
    assert build_register(after, schema, now=NOW).problems == []


def test_a_table_workbook_keeps_text_as_text_and_names_sheets_as_excel_compares_them(tmp_path):
    import pandas as pd

    from core.store.workbook import write_tables

    df = pd.DataFrame({"text": ["=1+1", "0012", "http://example.com", "-3"],
                       "number": [1, 2.5, None, 4]})
    path = write_tables(tmp_path / "t.xlsx", [("Scores", df), ("scores", df), ("a/b:c", df)])
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Scores", "scores~1", "abc"]  # Excel: "Scores" is "scores"
    ws = wb["Scores"]
    assert ws.freeze_panes == "A2" and ws["A1"].font.bold
    cells = [(c.value, c.data_type) for c in ws["A"][1:]]
    assert cells == [("=1+1", "s"), ("0012", "s"), ("http://example.com", "s"), ("-3", "s")]
    assert [c.value for c in ws["B"][1:]] == [1, 2.5, None, 4]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.xlsx"]  # no temporary left


@pytest.mark.parametrize(("lang", "word"), [("zh", "新建"), ("en", "created")])
def test_a_new_complaints_audit_line_is_in_the_sheets_language_and_names_who_added_it(
        tmp_path, schema, lang, word):
    # the Audit tab as people read it: the first line of a complaint says "created" in the
    # sheet's own language (the other lines name the sheet's column headers); the register
    # knows who added each complaint from it, as from the English word written before
    path = tmp_path / "r.xlsx"
    store = WorkbookStore(path, schema)
    store.init(lang)
    when = dt.datetime(2026, 11, 24, 10, 0)
    cid = store.add_complaints([{"received_at": when, "subject": "电梯停运", "version": 1,
                                 "updated_at": when, "updated_by": "王芳"}],
                               prefix="TS", user="王芳", now=when)[0]
    book = WorkbookStore(path, schema).read()
    assert [r[1:5] for r in book.tabs["audit"].rows] == [["王芳", cid, word, ""]]
    assert build_register(book, schema, now=when).creators == {cid: "王芳"}
    ws = openpyxl.load_workbook(path)[book.tabs["audit"].title]
    ws.cell(row=2, column=4).value = "created"  # as an earlier version wrote it
    ws.parent.save(path)
    assert build_register(WorkbookStore(path, schema).read(), schema, now=when).creators == {
        cid: "王芳"}
