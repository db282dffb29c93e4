"""Trust in the record on a real workbook: one number per complaint whatever happens at the
same time (R-NUMBER), the register's own time, text the file can hold, a file that stays the
team's, and sentences instead of tracebacks."""

import datetime as dt
import json
import os
import stat
import subprocess
import sys
import time
from zoneinfo import ZoneInfo

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.commands.intake import record, register_complaint
from core.errors import LockedError, RegisterError
from core.reading.text import clean
from core.rules.register import build_register
from core.store.workbook import LEFTOVER_SECONDS, WorkbookLock, WorkbookStore

from .conftest import ROOT, SUPERVISOR, run_cli, write_xlsx

NOW = dt.datetime(2026, 11, 24, 10, 0)
SHANGHAI = ZoneInfo("Asia/Shanghai")
VALID = dict(complainant="王芳", contact="0571-88886666", respondent="工程部", channel="电话",
             subject="电梯停运", description="三天没有电梯", request="尽快修复")


@pytest.fixture
def book(tmp_path, schema):
    path = tmp_path / "r.xlsx"
    store = WorkbookStore(path, schema)
    store.init("zh")
    return path


def read(path, schema, now=NOW):
    return build_register(WorkbookStore(path, schema).read(), schema, now=now)


def sets(values: dict) -> list[str]:
    return [a for k, v in values.items() for a in ("--set", f"{k}={v}")]


# --- one number per complaint ----------------------------------------------------------------

ADDER = """
import sys
from core.front.cli import main
path, who, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
for i in range(n):
    code = main(["add", "--workbook", path, "--user", who, "--now", "2026-11-24T10:00:00+08:00",
                 "--set", "subject=" + who + "-" + str(i), "--set", "complainant=王芳",
                 "--set", "contact=0571", "--set", "respondent=工程部", "--set", "channel=电话",
                 "--set", "description=d", "--set", "request=r"])
    assert code == 0, code
"""


def test_three_processes_adding_complaints_at_once_end_with_as_many_rows_and_numbers(book, schema):
    # R-NUMBER: numbers are allocated inside the write lock, from the file as it is then
    each = 15  # every add reads and rewrites the file: the three collide on almost every one
    procs = [subprocess.Popen([sys.executable, "-c", ADDER, str(book), f"clerk{w}", str(each)],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for w in range(3)]
    told = {}
    for w, p in enumerate(procs):
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
        told.update({f"clerk{w}-{i}": cid for i, cid in enumerate(out.split())})
    reg = read(book, schema)
    t = reg.table
    rows = dict(zip(t["subject"], t["id"], strict=True))
    lost = sum(1 for s in told if s not in rows)
    duplicated = len(t) - t["id"].nunique()
    wrong = sum(1 for s, cid in told.items() if rows.get(s) != cid)
    print(f"\n3 processes x {each} adds: {len(t)} rows, {t['id'].nunique()} numbers, {lost} lost, "
          f"{duplicated} duplicated, {wrong} wrong numbers told")
    assert (len(t), t["id"].nunique(), lost, duplicated, wrong) == (3 * each, 3 * each, 0, 0, 0)
    assert sorted(t["id"]) == [f"TS20261124{n:03d}" for n in range(1, 3 * each + 1)]
    assert reg.problems == []
    created = [r for r in WorkbookStore(book, schema).read().tabs["audit"].rows if r[3] == "新建"]
    assert len(created) == 3 * each


RECORDER = """
import sys
from core.front.cli import main
path, cid, who, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
for i in range(n):
    code = main(["record", cid, "--workbook", path, "--user", who,
                 "--set", "notes=" + who + "-" + str(i)])
    assert code in (0, 2), code
"""


def test_processes_recording_on_their_own_rows_never_touch_another_row(book, schema):
    store = WorkbookStore(book, schema)
    reg = read(book, schema)
    ids = [register_complaint(store, reg, {**VALID, "subject": f"s{i}"}, user="clerk", now=NOW).id
           for i in range(3)]
    procs = [subprocess.Popen([sys.executable, "-c", RECORDER, str(book), cid, f"w{w}", "10"],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for w, cid in enumerate(ids)]
    for p in procs:
        _, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
    t = read(book, schema).table.set_index("id")
    misplaced = sum(1 for w, cid in enumerate(ids) if not t.at[cid, "notes"].startswith(f"w{w}-"))
    assert misplaced == 0 and [t.at[c, "notes"] for c in ids] == ["w0-9", "w1-9", "w2-9"]
    assert [int(t.at[c, "version"]) for c in ids] == [11, 11, 11]  # every write counted


def test_two_clerks_saving_one_after_the_other_from_stale_pages_get_two_numbers(book, schema):
    # The page's register was read before either saved: the number comes from the file.
    store = WorkbookStore(book, schema)
    stale = read(book, schema)
    a = register_complaint(store, stale, VALID, user="a", now=NOW)
    b = register_complaint(store, stale, VALID, user="b", now=NOW)
    assert (a.id, b.id) == ("TS20261124001", "TS20261124002")


def test_a_deleted_rows_number_is_never_reused(book, schema):
    # R-NUMBER: the audit log remembers it
    store = WorkbookStore(book, schema)
    for _ in range(3):
        register_complaint(store, read(book, schema), VALID, user="a", now=NOW)
    wb = openpyxl.load_workbook(book)
    wb["投诉登记"].delete_rows(4)  # TS20261124003, the last one
    wb.save(book)
    assert register_complaint(store, read(book, schema), VALID, user="a",
                              now=NOW).id == "TS20261124004"


# --- the register's time ---------------------------------------------------------------------

def test_under_a_utc_server_add_stores_the_registers_wall_clock_time(book, schema):
    env = {**os.environ, "TZ": "UTC"}
    before = dt.datetime.now(SHANGHAI).replace(tzinfo=None, microsecond=0)
    p = subprocess.run([sys.executable, "-m", "core", "add", "--workbook", str(book),
                        *sets(VALID)], cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=120)
    after = dt.datetime.now(SHANGHAI).replace(tzinfo=None, microsecond=0)
    assert p.returncode == 0, p.stderr
    row = read(book, schema, now=after).table.iloc[0]
    assert before <= row["received_at"] <= after and before <= row["updated_at"] <= after
    assert row["id"] == f"TS{row['received_at']:%Y%m%d}001"
    audit = WorkbookStore(book, schema).read().tabs["audit"].rows[-1]
    assert before <= audit[0] <= after


def test_now_keeps_its_offset_and_the_number_takes_the_registers_date(book, schema):
    # 20:00 UTC on the 24th is 04:00 on the 25th in Shanghai
    p = run_cli("add", "--workbook", str(book), "--now", "2026-11-24T20:00:00Z", *sets(VALID))
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "TS20261125001"
    assert read(book, schema).table.iloc[0]["received_at"] == dt.datetime(2026, 11, 25, 4, 0)
    p = run_cli("check", "--workbook", str(book), "--now", "2026-11-25T02:00:00Z", "--format",
                "json")
    assert json.loads(p.stdout)["now"] == "2026-11-25T10:00:00+08:00"


# --- text the file can hold ------------------------------------------------------------------

def test_control_characters_pasted_from_word_are_cleaned_and_said(book, schema):
    store = WorkbookStore(book, schema)
    saved = register_complaint(store, read(book, schema),
                               {**VALID, "description": "第一行\x0b第二行\x0c\x00\x1b完"},
                               user="a", now=NOW)
    assert saved.id and saved.cleaned == {"description": 4}
    openpyxl.load_workbook(book)  # still a valid workbook
    assert read(book, schema).table.iloc[0]["description"] == "第一行\n第二行\n完"


def test_what_is_handed_in_keeps_out_the_apps_own_columns_and_names_a_stranger(book, schema):
    store = WorkbookStore(book, schema)
    saved = register_complaint(store, read(book, schema), {**VALID, "id": "X1", "version": 9},
                               user="a", now=NOW)
    assert saved.id == "TS20261124001" and read(book, schema).table.iloc[0]["version"] == 1
    before = book.read_bytes()
    with pytest.raises(RegisterError) as err:
        register_complaint(store, read(book, schema), {**VALID, "colour": "blue"}, user="a",
                           now=NOW)
    assert err.value.message("en") == "'colour' is not a column of the register; nothing was written."
    assert err.value.message("zh") == "“colour”不是登记表的列，未写入任何内容。"
    assert book.read_bytes() == before


TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40) | \
    st.sampled_from(["_x0041_", "a_x005F_b", "=1+1", "+86", "@SUM(A1)", "\r\n", "\x0b",
                     "\x00\x1b", "\ufffe", "0571", "  padded  "])


@pytest.fixture(scope="module")
def unicode_book(tmp_path_factory):
    from core.reading.schema import schema
    path = tmp_path_factory.mktemp("u") / "u.xlsx"
    WorkbookStore(path, schema()).init("en")
    return path


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT)
def test_any_text_written_through_the_workbook_reads_back_as_typed_or_visibly_cleaned(
        unicode_book, schema, text):
    store = WorkbookStore(unicode_book, schema)
    reg = unicode_register(unicode_book, schema)  # numbers come from the file, not from reg
    saved = register_complaint(store, reg, {**VALID, "notes": text}, user="u", now=NOW)
    assert saved.id
    openpyxl.load_workbook(unicode_book)  # the file stays valid XML for openpyxl (and Excel)
    raw = store.read().tabs["complaints"]
    cols = raw.column_map(schema.tab("complaints"))
    row = next(r for r in raw.rows if r[cols["id"]] == saved.id)
    assert (row[cols["notes"]] or "") == clean(text)[0].strip()
    assert ("notes" in saved.cleaned) == (clean(text)[1] > 0)


_REG: dict = {}


def unicode_register(path, schema):
    if path not in _REG:
        _REG[path] = read(path, schema)
    return _REG[path]


# --- the team's file ---------------------------------------------------------------------------

def test_a_write_keeps_the_workbooks_permissions(book, schema):
    os.chmod(book, 0o664)
    register_complaint(WorkbookStore(book, schema), read(book, schema), VALID, user="a", now=NOW)
    assert stat.S_IMODE(os.stat(book).st_mode) == 0o664


def test_temporary_copies_a_crashed_writer_left_are_removed(book, schema):
    old = book.with_name(f".{book.name}.abc123.tmp")
    old.write_bytes(b"half a workbook")
    past = time.time() - LEFTOVER_SECONDS - 5
    os.utime(old, (past, past))
    register_complaint(WorkbookStore(book, schema), read(book, schema), VALID, user="a", now=NOW)
    assert not old.exists()


@pytest.mark.parametrize("content", ["", "garbled{", '{"pid": 1}'])
def test_an_empty_or_garbled_lock_left_by_a_crash_is_taken_over(book, schema, content):
    lock = book.with_name(f".{book.name}.lock")
    lock.write_text(content)
    past = time.time() - 30
    os.utime(lock, (past, past))
    saved = register_complaint(WorkbookStore(book, schema), read(book, schema), VALID, user="a",
                               now=NOW)
    assert saved.id and not lock.exists()


def test_a_lock_being_written_right_now_is_respected(book, schema):
    lock = book.with_name(f".{book.name}.lock")
    lock.write_text("")  # just created by another writer, not filled yet
    with pytest.raises(LockedError, match=r"Another process is writing r\.xlsx"), \
            WorkbookLock(book, wait=0.3):
        pass
    assert lock.exists()


def test_a_lock_older_than_any_write_is_taken_over(book, schema):
    lock = book.with_name(f".{book.name}.lock")
    lock.write_text(json.dumps({"pid": 1, "host": "another-machine", "time": 0}))
    with WorkbookLock(book, wait=0.3):
        assert json.loads(lock.read_text())["pid"] == os.getpid()


TITLED = [["2026 年投诉登记台账（3 号楼）"], [],
          ["投诉编号", "受理时间", "投诉事项", "处理人", "版本", "更新时间", "更新人"],
          ["TS20261103001", "2026-11-03 09:05", "电梯停运", "", 1, "", ""],
          ["TS20261104001", "2026-11-04 10:00", "03/11/2026 漏水", "", 1, "", ""]]


def test_a_title_row_above_the_header_is_recognised_with_the_sheets_own_row_numbers(tmp_path,
                                                                                       schema):
    path = write_xlsx(tmp_path / "t.xlsx", {"投诉登记": [list(r) for r in TITLED]
                                            + [["TS20261105001", "05/11/2026", "x"]]})
    reg = read(path, schema)
    assert reg.table.index.tolist() == [4, 5, 6]
    assert [(p.row, p.column) for p in reg.problems] == [(6, "received_at")]
    p = run_cli("check", "--workbook", str(path), "--format", "json")
    assert [r["row"] for r in json.loads(p.stdout)["rows"]] == [4, 5, 6]


def test_intake_update_and_init_on_a_titled_sheet_never_touch_the_title(tmp_path, schema):
    path = write_xlsx(tmp_path / "t.xlsx", {"投诉登记": TITLED})
    store = WorkbookStore(path, schema)
    done = store.init("zh")
    ws = openpyxl.load_workbook(path)["投诉登记"]
    assert ws["A1"].value == "2026 年投诉登记台账（3 号楼）" and ws["B1"].value is None
    assert ws.freeze_panes == "A4" and "added column 类型 to 投诉登记" in done
    assert [c.value for c in ws[3]][:3] == ["投诉编号", "受理时间", "投诉事项"]
    reg = read(path, schema)
    saved = register_complaint(store, reg, VALID, user="a", now=NOW)
    problems, _ = record(store, read(path, schema), 4, {"handler": "赵六"}, user="a", now=NOW)
    assert problems == []
    t = read(path, schema).table
    assert t.loc[4, "handler"] == "赵六" and t.loc[6, "id"] == saved.id
    assert t.loc[6, "subject"] == "电梯停运" and t.loc[6, "contact"] == "0571-88886666"


def test_init_refuses_a_tab_with_rows_but_no_header_and_writes_nothing(tmp_path, schema):
    path = write_xlsx(tmp_path / "d.xlsx", {"投诉登记": [["TS1", "2026-11-03", "电梯", "王"]]})
    before = path.read_bytes()
    p = run_cli("init", "--workbook", str(path))
    assert p.returncode == 2
    assert p.stderr == ("Error: The Complaints (投诉登记) tab holds rows but no header row init "
                        "can recognise (row 1 starts with 'TS1'); put the column names above "
                        "the data yourself. Nothing was written.\n")
    assert path.read_bytes() == before


# --- sentences, not tracebacks -----------------------------------------------------------------

def write_ods(path, sheet: str, rows: list[list[str]]):
    """A minimal OpenDocument spreadsheet, as LibreOffice would save one."""
    import zipfile
    from xml.sax.saxutils import escape
    ns = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"')
    body = "".join("<table:table-row>" + "".join(
        f'<table:table-cell office:value-type="string"><text:p>{escape(v)}</text:p>'
        f"</table:table-cell>" for v in r) + "</table:table-row>" for r in rows)
    content = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ns} '
               f'office:version="1.2"><office:body><office:spreadsheet><table:table '
               f'table:name="{sheet}">{body}</table:table></office:spreadsheet></office:body>'
               f"</office:document-content>")
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
                '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
                '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/'
                'vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path='
                '"content.xml" manifest:media-type="text/xml"/></manifest:manifest>')
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet",
                   compress_type=zipfile.ZIP_STORED)
        z.writestr("META-INF/manifest.xml", manifest)
        z.writestr("content.xml", content)
    return path


def test_intake_on_an_ods_register_is_refused_with_a_sentence(tmp_path, schema):
    ods = write_ods(tmp_path / "r.ods", "投诉登记", [["投诉编号", "受理时间", "投诉事项"],
                                                   ["TS1", "2026-11-03 09:00", "电梯"]])
    assert read(ods, schema).table["subject"].tolist() == ["电梯"]  # it reads
    p = run_cli("add", "--workbook", str(ods), *sets(VALID))
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert p.stderr.startswith("Error: r.ods is a .ods file; the app reads it but writes only "
                               "Excel .xlsx workbooks.")


def test_a_workbook_another_program_is_saving_right_now_is_a_sentence(book, schema,
                                                                        monkeypatch):
    import core.store.workbook as wbmod
    monkeypatch.setattr(wbmod, "BUSY_TRIES", 2)
    reg = read(book, schema)
    book.write_bytes(book.read_bytes()[:2000])  # half-written by another program
    with pytest.raises(LockedError) as err:
        register_complaint(WorkbookStore(book, schema), reg, VALID, user="a", now=NOW)
    assert str(err.value).startswith("r.xlsx is not a complete workbook right now (")
    assert str(err.value).endswith("another program may be saving it. Try again in a moment. "
                                   "Nothing was written.")
    assert len(book.read_bytes()) == 2000  # nothing written


def test_report_out_naming_an_existing_file_is_a_sentence(demo_path, tmp_path):
    target = tmp_path / "pack.txt"
    target.write_text("mine")
    p = run_cli("report", "--workbook", str(demo_path), "--period", "2026-10", "--out",
                str(target), "--user", SUPERVISOR)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert p.stderr.startswith(f"Error: {target} is a file, not a folder;")
    assert target.read_text() == "mine"


def test_record_reports_problems_and_unknown_numbers_in_sentences(book, schema):
    store = WorkbookStore(book, schema)
    cid = register_complaint(store, read(book, schema), VALID, user="a", now=NOW).id
    p = run_cli("record", "TS99999999999", "--workbook", str(book), "--set", "handler=x")
    assert p.returncode == 2
    assert p.stderr == ("Error: Complaint TS99999999999 is not in the register; nothing was "
                        "written.\n")
    p = run_cli("record", cid, "--workbook", str(book), "--set", "first_reply_at=03/11/2026")
    assert p.returncode == 1 and "could be day/month or month/day" in p.stderr
    p = run_cli("record", cid, "--workbook", str(book), "--set", "首次答复时间=now",
                "--set", "handler=赵六", "--now", "2026-11-24T11:30:00+08:00")
    assert p.returncode == 0, p.stderr
    row = read(book, schema).table.iloc[0]
    assert row["first_reply_at"] == dt.datetime(2026, 11, 24, 11, 30)  # a date, not text
    assert row["handler"] == "赵六" and row["version"] == 2
    ws = openpyxl.load_workbook(book)["投诉登记"]
    col = [c.value for c in ws[1]].index("首次答复时间") + 1
    assert isinstance(ws.cell(row=2, column=col).value, dt.datetime)


def test_add_from_a_file_reports_each_bad_row_by_its_row_number_and_writes_the_rest(book,
                                                                                    tmp_path,
                                                                                    schema):
    src = tmp_path / "forwarded.csv"
    header = "12345工单号,投诉人,联系方式,被投诉对象,渠道,投诉事项,投诉内容,投诉要求,受理时间\n"
    rows = ["A1,李娜,0571-1,工程部,转办,电梯停运,三天,修复,2026-11-24 08:00",
            "A2,,0571-2,工程部,转办,漏水,楼上漏水,修复,2026-11-24 08:30",
            "A3,王五,0571-3,保洁部,转办,卫生差,没人打扫,打扫,03/11/2026"]
    src.write_bytes(("标题：12345 转办单\n" + header + "\n".join(rows) + "\n").encode("gb18030"))
    p = run_cli("add", "--workbook", str(book), "--from", str(src), "--format", "json",
                "--now", "2026-11-24T10:00:00+08:00")
    assert p.returncode == 1, p.stderr
    out = json.loads(p.stdout)
    assert [a["source_row"] for a in out["added"]] == [3]
    assert [(r["source_row"], [x["column"] for x in r["problems"]]) for r in out["rejected"]] \
        == [(4, ["complainant"]), (5, ["received_at"])]
    assert "12345工单号" in p.stderr  # the column the register does not know is named
    t = read(book, schema).table
    assert t["subject"].tolist() == ["电梯停运"] and t.iloc[0]["channel"] == "forwarded"


def test_set_names_an_unknown_column_in_a_sentence(book):
    p = run_cli("add", "--workbook", str(book), "--set", "colour=red")
    assert p.returncode == 2
    assert p.stderr == ("Error: --set colour: not a column of the register; use a key such as "
                        "subject or a header such as 投诉事项 / Subject.\n")


def test_store_errors_never_reach_the_user_as_tracebacks(tmp_path, schema):
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "r.xlsx"
    WorkbookStore(path, schema).init("en")
    os.chmod(folder, 0o555)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("running as a user who can write anywhere")
        p = run_cli("add", "--workbook", str(path), *sets(VALID))
        assert p.returncode == 2 and "Traceback" not in p.stderr and p.stderr.startswith("Error:")
    finally:
        os.chmod(folder, 0o755)


def test_register_error_messages_are_one_sentence(tmp_path, schema):
    with pytest.raises(RegisterError, match="no workbook at"):
        WorkbookStore(tmp_path / "none.xlsx", schema).read()


def test_closing_through_record_needs_the_whole_checklist(book, schema):
    # R-CLOSE is enforced on every write, not only on the closure page
    store = WorkbookStore(book, schema)
    cid = register_complaint(store, read(book, schema), VALID, user="a", now=NOW).id
    p = run_cli("record", cid, "--workbook", str(book), "--set", "closed_at=now")
    assert p.returncode == 1
    refused = {line.split(":")[0] for line in p.stderr.splitlines()}
    assert "not recorded — Validity" in refused and "not recorded — Archived" in refused
    assert read(book, schema).table.iloc[0]["closed_at"] is pd.NaT
