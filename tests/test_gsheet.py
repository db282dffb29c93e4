"""The Google Sheet store through the real gspread client against an in-process fake of the
Sheets v4 API: init, read, intake numbering (R-NUMBER), updates by developer metadata under
human edits, faults and several writers at once."""

import datetime as dt
import json
import random
import threading

import pytest
import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from core.errors import ConflictError, NotFoundError, RegisterError
from core.front.cli import main
from core.front.demo import demo_records
from core.reading.parse import parse_datetime
from core.reading.schema import norm
from core.store.gsheet import GSheetStore

from .sheets_fake import TOKEN_URL, FakeSheets, Row

NOW = dt.datetime(2026, 11, 24, 10, 0)
ZH = "投诉登记"


@pytest.fixture(scope="session")
def key_info():
    """A service-account key made up for the tests (its RSA key is real, the account not)."""
    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()
    return {"type": "service_account", "project_id": "test", "private_key_id": "k1",
            "private_key": pem, "client_email": "register@test.iam.gserviceaccount.com",
            "client_id": "1", "token_uri": TOKEN_URL}


@pytest.fixture
def fake():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield FakeSheets().install(rsps)


def client(fake, schema, key_info, seed=None, tries=5):
    return GSheetStore(fake.key, schema, credentials=key_info, sleep=lambda s: None, seed=seed,
                       tries=tries)


@pytest.fixture
def store(fake, schema, key_info):
    return client(fake, schema, key_info, seed=1)


def writes(fake) -> int:
    return fake.count(r"^(POST|PUT) ") - fake.count("ByDataFilter$|batchGetByDataFilter|search")


def rows_by_key(fake, schema, title=ZH) -> list[dict]:
    """The tab's data rows as {column key: value}, read through its header wherever the
    columns are now (a human may have moved them)."""
    tab = schema.tab("complaints")
    rows = fake.tab(title).rows
    h = tab.find_header(rows)
    cols = tab.match_headers(rows[h])
    return [{k: (r[c] if c < len(r) else "") for k, c in cols.items()} for r in rows[h + 1:]
            if any(v not in ("", None) for v in r)]


def intake(store, subject, *, when=NOW, user="clerk", **extra):
    rec = {"received_at": when, "subject": subject, "version": 1, "updated_at": when,
           "updated_by": user, **extra}
    return store.add_complaints([rec], prefix="TS", user=user, now=when)[0]


# --- init ------------------------------------------------------------------------------------

def test_init_creates_tabs_headers_dropdowns_freeze_and_protection_and_twice_changes_nothing(
        fake, store):
    done = store.init("zh")
    assert {t.title for t in fake.tabs} == {ZH, "部门", "节假日", "设置", "用户", "操作日志"}
    complaints = fake.tab(ZH)
    assert complaints.rows[0][:3] == ["投诉编号", "类型", "关联编号"] and complaints.frozen == 1
    assert [p["warningOnly"] for p in complaints.protected] == [True, True, True]
    assert any(v["rule"]["condition"]["values"][0] == {"userEnteredValue": "轻度"}
               for v in complaints.validations)
    received = complaints.rows[0].index("受理时间")
    assert complaints.column_formats[received] == "yyyy-mm-dd hh:mm"  # dates show as dates
    assert "protected version, updated_at, updated_by of 投诉登记 (warning only)" in done
    before = writes(fake)
    assert GSheetStore(fake.key, store.schema, credentials=store.credentials).init("zh") == []
    assert writes(fake) == before


def test_init_never_touches_existing_data(fake, store):
    fake.add_tab("Complaints", [["Complaint No.", "Received", "Subject", "My column"],
                                ["TS1", "2026-11-03 09:00", "Lift", "keep me"]])
    store.init("en")
    rows = fake.tab("Complaints").rows
    assert rows[1] == ["TS1", "2026-11-03 09:00", "Lift", "keep me"]
    assert rows[0][:4] == ["Complaint No.", "Received", "Subject", "My column"]
    assert "Kind" in rows[0][4:]


def test_init_adds_headers_to_the_header_under_a_title_row_not_into_the_title(fake, store,
                                                                               schema):
    fake.add_tab("Complaints", [["2026 complaint register — Building 3"],
                                ["Complaint No.", "Received", "Subject"],
                                ["TS1", "2026-11-03 09:00", "Lift"]])
    store.init("en")
    rows = fake.tab("Complaints").rows
    assert rows[0] == ["2026 complaint register — Building 3"]  # the title row is untouched
    assert rows[1][:3] == ["Complaint No.", "Received", "Subject"] and "Kind" in rows[1]
    assert fake.tab("Complaints").frozen == 2
    book = store.read()
    assert book.tabs["complaints"].header_row == 2 and book.tabs["complaints"].sheet_row(0) == 3


def test_init_refuses_a_tab_holding_rows_without_a_header(fake, store):
    fake.add_tab("Complaints", [["TS1", "2026-11-03 09:00", "Lift"]])
    with pytest.raises(RegisterError, match="holds rows but no header row init can recognise"):
        store.init("en")
    assert fake.tab("Complaints").rows == [["TS1", "2026-11-03 09:00", "Lift"]]


# --- reading -----------------------------------------------------------------------------------

def seeded(fake, store, schema, rows=40):
    store.init("zh")
    recs = demo_records(schema, rows=rows, seed=5, lang="zh", now=NOW)
    store.append("complaints", recs["complaints"])
    return recs


def test_check_on_a_sheet_gives_the_same_json_as_on_a_workbook(fake, store, schema, key_info,
                                                                 tmp_path, monkeypatch, capsys):
    key = tmp_path / "key.json"
    key.write_text(json.dumps(key_info))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key))
    assert main(["init", "--gsheet", fake.key, "--lang", "zh"]) == 0
    recs = demo_records(schema, rows=60, seed=9, lang="zh", now=NOW)
    store.append("complaints", recs["complaints"])
    book = tmp_path / "same.xlsx"
    from core.store.workbook import WorkbookStore
    wb = WorkbookStore(book, schema)
    wb.init("zh")
    wb.append("complaints", recs["complaints"])
    capsys.readouterr()
    now = "2026-11-24T10:00:00+08:00"
    assert main(["check", "--gsheet", fake.key, "--format", "json", "--now", now]) == 0
    from_sheet = json.loads(capsys.readouterr().out)
    assert main(["check", "--workbook", str(book), "--format", "json", "--now", now]) == 0
    assert from_sheet == json.loads(capsys.readouterr().out)
    assert from_sheet["summary"]["rows"] == 60


def test_a_read_is_one_batch_get_of_every_tab_as_strings(fake, store, schema):
    seeded(fake, store, schema)
    fake.type_cell(ZH, 2, 9, "013800138000")  # contact with a leading zero
    fake.calls.clear()
    book = store.read()
    assert fake.calls == [next(c for c in fake.calls if "batchGet" in c)]
    assert book.tabs["complaints"].rows[0][8] == "013800138000"


# --- intake: one number per complaint ----------------------------------------------------------

def test_intake_numbers_from_the_sheet_and_writes_text_literally_and_dates_as_dates(fake, store,
                                                                                     schema):
    store.init("en")
    store.read()
    fake.calls.clear()
    risky = ["=1+1", "+86 138", "-5", "@SUM(A1)", "\tTab", "_x0041_"]
    ids = [intake(store, text, contact="0571-88886666") for text in risky]
    assert ids == [f"TS20261124{n:03d}" for n in range(1, 7)]
    # one read of the header, the ID column and the marker; one atomic write; one read-back
    assert fake.calls[:3] == ["GET SHEET123", "POST SHEET123:batchUpdate",
                              "POST SHEET123/values:batchGetByDataFilter"]
    assert len(fake.calls) == 3 * len(risky)
    rows = rows_by_key(fake, schema, "Complaints")
    assert [r["subject"] for r in rows] == risky and all(isinstance(r["subject"], str) for r in rows)
    assert all(r["contact"] == "0571-88886666" for r in rows)
    book = store.read()  # as the sheet shows it: a date, not a number or text typed
    cols = schema.tab("complaints").match_headers(book.tabs["complaints"].header)
    assert book.tabs["complaints"].rows[0][cols["received_at"]] == "2026-11-24 10:00"
    assert [r[2:4] for r in fake.tab("Audit").rows[1:]] == [[i, "created"] for i in ids]


def test_a_number_written_meanwhile_by_someone_else_is_not_given_again(fake, store, schema):
    store.init("en")
    first = intake(store, "first")
    fake.insert_row("Complaints", 3, ["TS20261124002", "", "", "2026-11-24 09:00", "", "", "",
                                      "", "", "", "", "typed by hand"])
    assert (first, intake(store, "second")) == ("TS20261124001", "TS20261124003")


def test_a_deleted_rows_number_is_never_given_again(fake, store, schema):
    # R-NUMBER: numbers are unique and never reused, even after a row is deleted
    store.init("en")
    ids = [intake(store, f"s{i}") for i in range(3)]
    fake.delete_row("Complaints", 4)  # the last one, TS20261124003
    assert intake(store, "after") == "TS20261124004" and ids[-1] == "TS20261124003"


@pytest.mark.parametrize("fault", ["429", "500", "timeout", "lost"])
def test_a_fault_on_intake_neither_loses_nor_duplicates(fake, store, schema, fault):
    store.init("en")
    fake.fail(fault, "POST SHEET123:batchUpdate", times=2)
    assert intake(store, "s") == "TS20261124001"
    assert [r["id"] for r in rows_by_key(fake, schema, "Complaints")] == ["TS20261124001"]
    assert len(fake.tab("Audit").rows) == 2  # the header and one audit line


def test_after_the_last_try_a_clear_error_and_nothing_written(fake, store):
    store.init("en")
    fake.fail("429", "POST SHEET123:batchUpdate", times=5)
    with pytest.raises(RegisterError) as err:
        intake(store, "s")
    assert str(err.value) == ("Google Sheets' request quota is used up for now (429) while "
                              "adding the complaint; wait a minute and try again.")
    assert fake.tab("Complaints").rows[1:] == []


def test_two_clerks_with_the_same_number_end_with_two_numbers_each_told_its_own(fake, schema,
                                                                                  key_info):
    # R-NUMBER: both read the ID column before either writes, so both pick 001; the one
    # that reads back and sees the other's row renumbers itself before its clerk is told.
    a, b = client(fake, schema, key_info, seed=1), client(fake, schema, key_info, seed=2)
    a.init("en")
    b.read()
    pending = {}
    original = a._snapshot

    def slow_snapshot(*args):
        snap = original(*args)
        if "b" not in pending:  # B registers right after A has read, before A writes
            pending["b"] = intake(b, "clerk B")
        return snap
    a._snapshot = slow_snapshot
    told_a = intake(a, "clerk A")
    rows = {r["subject"]: r["id"] for r in rows_by_key(fake, schema, "Complaints")}
    assert rows == {"clerk B": pending["b"], "clerk A": told_a}
    assert sorted(rows.values()) == ["TS20261124001", "TS20261124002"]
    audit = [r[2:6] for r in fake.tab("Audit").rows[1:]]
    assert ["TS20261124002", "Complaint No.", "TS20261124001", "TS20261124002"] in audit  # A moved


def test_a_column_inserted_after_the_read_does_not_shift_the_intake(fake, store, schema):
    store.init("en")
    original = store._snapshot

    def then_insert(*args):
        snap = original(*args)
        fake.insert_column("Complaints", 3, "My notes")  # by hand, between the two calls
        return snap
    store._snapshot = then_insert
    cid = intake(store, "lift", contact="13800138000")
    row = rows_by_key(fake, schema, "Complaints")[0]
    assert (row["id"], row["subject"], row["contact"]) == (cid, "lift", "13800138000")
    header = fake.tab("Complaints").rows[0]
    assert fake.tab("Complaints").rows[1][header.index("My notes")] == ""


class Harness:
    """Several clerks at once (threads, each its own gspread client), with faults and human
    edits injected before API calls, and a count of what went wrong."""

    def __init__(self, fake, schema, key_info, seed, fault_rate=0.2, human_rate=0.1,
                 moves=True):
        self.fake, self.schema = fake, schema
        self.rnd = random.Random(seed)
        self.fault_rate, self.human_rate, self.moves = fault_rate, human_rate, moves
        self.human = 0
        self.crashes: list[Exception] = []
        self.key_info = key_info
        fake.between = self.before_call

    def before_call(self, call: str) -> None:
        r = self.rnd.random()
        if r < self.fault_rate and call != "GET SHEET123":
            self.fake.fail(self.rnd.choice(["429", "500", "timeout", "lost"]), call)
        if self.rnd.random() < self.human_rate:
            self.human_edit()

    def human_edit(self) -> None:
        tab = self.fake.tab("Complaints")
        kind = self.rnd.choice(["sort", "insert", "delete", "move"] if self.moves
                               else ["sort", "insert", "delete"])
        width = len(tab.rows[0])
        if kind == "sort":
            self.fake.sort("Complaints", self.rnd.randrange(width), self.rnd.random() < 0.5)
        elif kind == "insert" and len(tab.grid) > 1:
            self.human += 1
            cols = self.schema.tab("complaints").match_headers(tab.rows[0])
            row = [""] * width
            row[cols["id"]], row[cols["subject"]] = f"H{self.human}", f"human {self.human}"
            self.fake.insert_row("Complaints", self.rnd.randint(2, len(tab.grid) + 1), row)
        elif kind == "delete":
            cols = self.schema.tab("complaints").match_headers(tab.rows[0])
            mine = [i for i, r in enumerate(tab.rows) if i and str(cell(r, cols["id"])).startswith("H")]
            if mine:
                self.fake.delete_row("Complaints", self.rnd.choice(mine) + 1)
        elif kind == "move":
            src, dst = self.rnd.randint(1, width), self.rnd.randint(1, width)
            self.fake.move_column("Complaints", src, dst)

    def run(self, writers: int, each: int, work) -> dict:
        results: dict = {}
        errors: list = []

        def clerk(w):
            store = client(self.fake, self.schema, self.key_info, seed=100 + w, tries=8)
            for i in range(each):
                try:
                    results[(w, i)] = work(store, w, i)
                except RegisterError as exc:
                    errors.append((w, i, str(exc)))
                except Exception as exc:  # a bug: recorded so the test fails and shows it
                    import traceback
                    errors.append((w, i, f"{type(exc).__name__}: {exc}"))
                    self.crashes.append(traceback.format_exc())
        threads = [threading.Thread(target=clerk, args=(w,)) for w in range(writers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.fake.between = None
        return {"results": results, "errors": errors}


def test_concurrent_intakes_with_faults_sorts_inserts_deletes_and_moves(fake, schema, key_info):
    client(fake, schema, key_info).init("en")
    h = Harness(fake, schema, key_info, seed=7)
    out = h.run(3, 20, lambda store, w, i: intake(store, f"w{w}-{i}", user=f"clerk{w}"))
    rows = rows_by_key(fake, schema, "Complaints")
    app_rows = [r for r in rows if str(r["subject"]).startswith("w")]
    told = out["results"]
    by_subject: dict[str, list] = {}
    for r in app_rows:
        by_subject.setdefault(r["subject"], []).append(r)
    lost = sum(1 for (w, i) in told if f"w{w}-{i}" not in by_subject)
    duplicated = sum(len(v) - 1 for v in by_subject.values())
    ids = [norm(r["id"]) for r in rows]
    duplicated += len(ids) - len(set(ids))
    wrong_told = sum(1 for (w, i), cid in told.items()
                     if f"w{w}-{i}" in by_subject and by_subject[f"w{w}-{i}"][0]["id"] != cid)
    misplaced = sum(1 for r in app_rows if not (
        parse_datetime(r["received_at"]) == NOW and str(r["version"]) == "1"
        and str(r["id"]).startswith("TS20261124")))
    print(f"\n3 clerks x 20 intakes, 20% faults, human sorts/inserts/deletes/moves: "
          f"{len(told)} told, {len(out['errors'])} refused, {lost} lost, {duplicated} "
          f"duplicated, {misplaced} misplaced, {wrong_told} wrong numbers told")
    assert h.crashes == [] and out["errors"] == []
    assert (lost, duplicated, misplaced, wrong_told) == (0, 0, 0, 0)
    assert len(told) == 60
    # every saved intake has one "created" line, and its renumberings lead to the number told
    audit = fake.tab("Audit").rows[1:]
    renamed = {(r[1], r[4]): r[5] for r in audit if r[3] == "Complaint No."}  # its words
    finals = []
    for r in (r for r in audit if r[3] == "created"):
        number = r[2]
        while (r[1], number) in renamed:
            number = renamed[(r[1], number)]
        finals.append(number)
    assert sorted(finals) == sorted(told.values())


# --- updates -----------------------------------------------------------------------------------

def cell(row: list, c: int):
    return row[c] if c < len(row) else ""


def row_of(fake, schema, cid, title=ZH):
    cols = schema.tab("complaints").match_headers(fake.tab(title).rows[0])
    return next(i for i, r in enumerate(fake.tab(title).rows, 1)
                if len(r) > cols["id"] and r[cols["id"]] == cid)


def seen_for(fake, schema, cid, title=ZH):
    cols = schema.tab("complaints").match_headers(fake.tab(title).rows[0])
    r = fake.tab(title).rows[row_of(fake, schema, cid, title) - 1]
    get = lambda k: r[cols[k]] if len(r) > cols[k] else ""  # noqa: E731
    return {"version": get("version"), "handler": get("handler")}


def app_numbered(fake, store, schema, n=12):
    store.init("zh")
    return [intake(store, f"事项{i}", handler="") for i in range(n)]


HUMAN = {
    "sorted": lambda f, cid: f.sort(ZH, 11, reverse=True),
    "inserted above": lambda f, cid: f.insert_row(ZH, 2, ["TSNEW", "投诉", "", "2026-11-01"]),
    "other row deleted": lambda f, cid: f.delete_row(ZH, 2 if f.tab(ZH).rows[1][0] != cid else 3),
    "column moved": lambda f, cid: f.move_column(ZH, 25, 3),
    "column inserted": lambda f, cid: f.insert_column(ZH, 2, "自用列"),
}


@pytest.mark.parametrize("edit", HUMAN)
@pytest.mark.parametrize("between", [0, 1, 2, 3])
def test_a_human_edit_between_any_two_calls_never_misplaces_the_write(fake, store, schema,
                                                                      edit, between):
    ids = app_numbered(fake, store, schema)
    cid = ids[5]
    seen = seen_for(fake, schema, cid)
    calls = []

    def human(call):
        calls.append(call)
        if len(calls) == between + 1:
            HUMAN[edit](fake, cid)
    fake.between = human
    store.update(cid, {"handler": "赵六"}, seen=seen, user="clerk", now=NOW)
    fake.between = None
    rows = rows_by_key(fake, schema)
    mine = next(r for r in rows if r["id"] == cid)
    assert mine["handler"] == "赵六" and mine["updated_by"] == "clerk" and mine["subject"] == "事项5"
    assert [r["id"] for r in rows if r["handler"] == "赵六"] == [cid]
    assert all(r["subject"] == f"事项{ids.index(r['id'])}" for r in rows if r["id"] in ids)


def typed_by_hand(fake, ids):
    """Rows typed into the Complaints tab by hand under the header: a number, a received
    time and a subject each, and no row mark."""
    tab = fake.tab("Complaints")
    width = len(tab.rows[0])
    for cid in ids:
        row = [""] * width
        row[0], row[3], row[11] = cid, "2026-11-03 09:00", f"typed {cid}"
        tab.grid.append(Row(row))
    return tab


def test_a_row_typed_by_hand_is_marked_checked_and_updated(fake, store, schema):
    store.init("en")
    typed_by_hand(fake, [f"HAND{i}" for i in range(3)])
    calls = []

    def sort_right_after_the_id_column_is_read(call):
        calls.append(call)
        if len(calls) == 3:  # between reading the ID column and marking the row
            fake.sort("Complaints", 0, reverse=True)
    fake.between = sort_right_after_the_id_column_is_read
    store.update("HAND1", {"handler": "Li"}, seen={"version": ""}, user="clerk", now=NOW)
    fake.between = None
    rows = {r["id"]: r for r in rows_by_key(fake, schema, "Complaints")}
    assert rows["HAND1"]["handler"] == "Li" and rows["HAND0"]["handler"] == ""
    assert rows["HAND2"]["handler"] == ""


def test_the_same_row_edited_by_hand_is_a_conflict_naming_who_and_when(fake, store, schema):
    cid = app_numbered(fake, store, schema)[5]
    seen = seen_for(fake, schema, cid)
    store.update(cid, {"handler": "钱七"}, seen=seen, user="王主管", now=NOW)
    before = [list(r) for r in fake.tab(ZH).rows]
    with pytest.raises(ConflictError) as err:
        store.update(cid, {"handler": "赵六"}, seen=seen, user="clerk", now=NOW)
    assert str(err.value).startswith(f"Complaint {cid} was changed by 王主管 at 2026-11-24 10:00")
    assert fake.tab(ZH).rows == before
    handler = fake.tab(ZH).rows[0].index("处理人") + 1
    fake.type_cell(ZH, row_of(fake, schema, cid), handler, "孙八")  # typed, no version bump
    with pytest.raises(ConflictError, match="Handler"):
        store.update(cid, {"handler": "赵六"}, seen=seen_for(fake, schema, cid) | {"handler": "钱七"},
                     user="clerk", now=NOW)


def test_a_deleted_row_is_reported_not_written_elsewhere(fake, store, schema):
    cid = app_numbered(fake, store, schema)[5]
    seen = seen_for(fake, schema, cid)
    fake.delete_row(ZH, row_of(fake, schema, cid))
    before = [list(r) for r in fake.tab(ZH).rows]
    with pytest.raises(NotFoundError):
        store.update(cid, {"handler": "赵六"}, seen=seen, user="clerk", now=NOW)
    assert fake.tab(ZH).rows == before


@pytest.mark.parametrize("call", ["values:batchUpdateByDataFilter", ":batchUpdate"])
def test_a_lost_reply_is_reported_saved_and_the_audit_line_written_once(fake, store, schema,
                                                                        call):
    cid = app_numbered(fake, store, schema)[5]
    fake.fail("lost", call, times=3)
    store.update(cid, {"handler": "赵六"}, seen=seen_for(fake, schema, cid), user="clerk", now=NOW)
    assert next(r for r in rows_by_key(fake, schema) if r["id"] == cid)["handler"] == "赵六"
    lines = [r for r in fake.tab("操作日志").rows[1:] if r[2] == cid and r[3] == "处理人"]  # its header
    assert len(lines) == 1


def test_500_randomized_updates_with_human_edits_and_faults_lose_and_misplace_nothing(
        fake, store, schema):
    ids = app_numbered(fake, store, schema, n=20)
    rnd = random.Random(11)
    written = conflicts = misplaced = lost_human = audit_dups = 0
    for i in range(500):
        cid = rnd.choice(ids)
        seen = seen_for(fake, schema, cid)
        op = rnd.choice(["sort", "insert", "delete", "same", "other", "move", "none"])
        at_call = rnd.randint(1, 4)
        human_typed = []
        calls = []

        def human(call, op=op, cid=cid, at_call=at_call, i=i, human_typed=human_typed,
                  calls=calls):
            calls.append(call)
            if rnd.random() < 0.15:
                fake.fail(rnd.choice(["429", "500", "timeout", "lost"]), call)
            if len(calls) != at_call:
                return
            cols = schema.tab("complaints").match_headers(fake.tab(ZH).rows[0])
            if op == "sort":
                fake.sort(ZH, rnd.randrange(len(fake.tab(ZH).rows[0])), rnd.random() < 0.5)
            elif op == "insert":
                row = [""] * len(fake.tab(ZH).rows[0])
                row[cols["id"]], row[cols["subject"]] = f"H{i}", "human"
                fake.insert_row(ZH, rnd.randint(2, len(fake.tab(ZH).rows)), row)
            elif op == "delete":
                hs = [n for n, r in enumerate(fake.tab(ZH).rows, 1) if str(cell(r, cols["id"]))
                      .startswith("H")]
                if hs:
                    fake.delete_row(ZH, rnd.choice(hs))
            elif op == "move":
                w = len(fake.tab(ZH).rows[0])
                fake.move_column(ZH, rnd.randint(1, w), rnd.randint(1, w))
            elif op in ("same", "other"):
                target = cid if op == "same" else rnd.choice([x for x in ids if x != cid])
                human_typed.append((target, f"手填{i}"))
                fake.type_cell(ZH, row_of(fake, schema, target), cols["handler"] + 1, f"手填{i}")
        fake.between = human
        new = f"app{i}"
        saved = False
        try:
            store.update(cid, {"handler": new}, seen=seen, user="app", now=NOW)
            written += saved is False
            saved = True
        except ConflictError as exc:
            conflicts += 1
            assert op == "same" and human_typed, (op, at_call, calls, str(exc))  # a real edit
        finally:
            fake.between = None
        rows = {r["id"]: r for r in rows_by_key(fake, schema)}
        misplaced += sum(1 for k, r in rows.items() if k != cid and r["handler"] == new)
        if saved and not (op == "same" and human_typed):  # a human may type over it after
            misplaced += rows[cid]["handler"] != new
        for target, text in human_typed:
            if target != cid:
                lost_human += rows[target]["handler"] != text
        lines = [r for r in fake.tab("操作日志").rows[1:] if r[5] == new]
        audit_dups += max(0, len(lines) - 1)
    print(f"\n500 updates with human edits and 15% faults between calls: {written} written, "
          f"{conflicts} conflicts, {misplaced} misplaced, {lost_human} human edits lost, "
          f"{audit_dups} duplicated audit lines")
    assert (misplaced, lost_human, audit_dups) == (0, 0, 0) and written + conflicts == 500


# --- errors ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("case", "message"), [
    ("no credentials", "No Google credentials: put the service-account key in "
                       ".streamlit/secrets.toml under [connections.gsheets], or set "
                       "GOOGLE_APPLICATION_CREDENTIALS to the key file (see the README)."),
    ("key invalid", "The service-account key is not valid ("),
    ("not shared", "The sheet SHEET123 is not shared with the service account; share it with "
                   "register@test.iam.gserviceaccount.com as Editor."),
    ("not found", "There is no Google Sheet with the key NOPE; check the URL or key."),
])
def test_connection_errors_in_plain_language(fake, schema, key_info, monkeypatch, case, message):
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    creds, key = key_info, fake.key
    if case == "no credentials":
        creds = None
    elif case == "key invalid":
        creds = {**key_info, "private_key": "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n"}
    elif case == "not shared":
        fake.shared_with = "someone@else.com"
    else:
        key = "NOPE"
    with pytest.raises(RegisterError) as err:
        GSheetStore(key, schema, credentials=creds, sleep=lambda s: None).read()
    assert str(err.value).startswith(message)


def test_a_missing_tab_suggests_init(fake, store, capsys, monkeypatch, key_info, tmp_path):
    fake.add_tab("Sheet1", [["a"]])
    key = tmp_path / "key.json"
    key.write_text(json.dumps(key_info))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key))
    assert main(["check", "--gsheet", fake.key]) == 2
    assert capsys.readouterr().err == ("Error: The register has no Complaints (投诉登记) tab "
                                       "(tabs found: Sheet1); run `python -m core init` to "
                                       "create it.\n")


# --- the app on a sheet --------------------------------------------------------------------------

def app_session(fake, key_info, lang="en"):
    from streamlit.testing.v1 import AppTest

    from core.config import Target

    from .conftest import ROOT
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["target"] = Target(gsheet=fake.key, credentials=key_info)
    at.session_state["lang"] = lang
    at.session_state["now"] = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.timezone(
        dt.timedelta(hours=8)))
    return at


def test_twenty_viewers_cost_one_read_per_cache_window(fake, store, schema, key_info):
    import streamlit as st
    seeded(fake, store, schema)
    st.cache_data.clear()
    st.cache_resource.clear()
    fake.calls.clear()
    for _ in range(20):
        at = app_session(fake, key_info).run()
        assert not at.exception and at.header[0].value == "Queue"
    print(f"\n20 sessions: {fake.count('batchGet')} batchGet, {len(fake.calls)} API calls")
    # one batchGet for all twenty; opening the sheet once per server costs two metadata gets
    assert fake.count("batchGet") == 1 and fake.calls.count("GET SHEET123") == 2
    assert len(fake.calls) == 3


def test_intake_from_the_app_numbers_at_write_time_and_the_queue_shows_it(fake, store, schema,
                                                                         key_info):
    import streamlit as st
    seeded(fake, store, schema)
    st.cache_data.clear()
    st.cache_resource.clear()
    at = app_session(fake, key_info).run()
    at.switch_page("pages/intake.py").run()
    for k, v in dict(complainant="王芳", contact="0571-88886666", respondent="工程部",
                     subject="=电梯停运", request="尽快修复").items():
        at.text_input(key=f"in_{k}").set_value(v) if k != "request" else \
            at.text_area(key=f"in_{k}").set_value(v)
    at.text_area(key="in_description").set_value("三天没有电梯")
    at.selectbox(key="in_channel").set_value("phone")
    fake.calls.clear()
    next(b for b in at.button if b.label == "Save").click().run()
    assert not at.exception and at.success[0].value.startswith("Registered as TS20261124")
    told = at.success[0].value.split("Registered as ")[1].split(".")[0]
    assert fake.count(r"^POST SHEET123:batchUpdate$") == 1  # one write
    new = next(r for r in rows_by_key(fake, schema) if r["id"] == told)
    assert (new["subject"], new["channel"], new["contact"]) == ("=电梯停运", "电话", "0571-88886666")


def test_any_text_written_through_the_sheet_reads_back_as_typed_or_visibly_cleaned(
        fake, store, schema):
    from hypothesis import given, settings

    from core.commands.intake import register_complaint
    from core.reading.text import clean
    from core.rules.register import build_register

    from .test_trust import TEXT, VALID
    store.init("en")
    reg = build_register(store.read(), schema, now=NOW)

    @settings(max_examples=40, deadline=None)
    @given(text=TEXT)
    def one(text):
        saved = register_complaint(store, reg, {**VALID, "notes": text}, user="u", now=NOW)
        row = next(r for r in rows_by_key(fake, schema, "Complaints") if r["id"] == saved.id)
        assert (row["notes"] or "") == clean(text)[0].strip()
        assert isinstance(row["notes"], str)  # text, never a formula or a number
    one()


def test_a_row_typed_by_hand_is_found_by_the_cell_the_read_placed_it_on(fake, store, schema):
    # Issue 11: marking a row without a mark reads its one cell (the row the register's read
    # found it on), not the ID column; a row that moved since is found by the column.
    store.init("en")
    typed_by_hand(fake, [f"HAND{i}" for i in range(4)])
    fake.calls.clear()
    store.update("HAND1", {"handler": "Li"}, seen={"version": "", "row": 3}, user="clerk",
                 now=NOW)
    reads = [c for c in fake.calls if c.startswith("GET") and "/values/" in c]
    assert reads and all(c.endswith("!A3") for c in reads), reads
    fake.calls.clear()
    store.update("HAND2", {"handler": "Wu"}, seen={"version": "", "row": 2}, user="clerk",
                 now=NOW)  # row 2 holds HAND0 now: the column decides
    reads = [c for c in fake.calls if c.startswith("GET") and "/values/" in c]
    assert [c.endswith("!A2") for c in reads] == [True, False] and reads[1].endswith("!A:A")
    rows = {r["id"]: r for r in rows_by_key(fake, schema, "Complaints")}
    assert (rows["HAND1"]["handler"], rows["HAND2"]["handler"]) == ("Li", "Wu")
    assert rows["HAND0"]["handler"] == rows["HAND3"]["handler"] == ""


def test_a_row_without_a_mark_and_no_row_given_is_found_without_reading_the_id_column(
        fake, store, schema):
    # Issue 11: in a register kept in number order, a few cells of the ID column sampled per
    # call narrow down where the number is, and only those rows are read. Rows sorted by
    # hand meanwhile, or a column out of number order, leave it to the whole column.
    store.init("en")
    ids = [f"TS20261103{i:03d}" for i in range(1, 401)]
    tab = typed_by_hand(fake, ids)

    def update(cid, handler):
        fake.calls.clear()
        store.update(cid, {"handler": handler}, seen={"version": ""}, user="clerk", now=NOW)
        rows = rows_by_key(fake, schema, "Complaints")
        assert [r["id"] for r in rows if r["handler"] == handler] == [cid]
        return [c.rsplit("!", 1)[-1] for c in fake.calls if c.startswith("GET")
                and "/values/" in c]

    spans = update(ids[250], "Li")
    assert "A:A" not in spans and len(spans) == 1, spans
    first, last = (int(x[1:]) for x in spans[0].split(":"))
    assert first <= 252 <= last and last - first < 128

    sorted_once = []

    def sort_before_marking(call):
        if call.endswith(":batchUpdate") and not sorted_once:
            sorted_once.append(call)
            fake.sort("Complaints", 0, reverse=True)
    fake.between = sort_before_marking
    spans = update(ids[100], "Wu")  # the mark lands on another row, is checked and moved
    fake.between = None
    assert sorted_once and spans[-1] == "A:A", spans

    header, body = tab.grid[:1], tab.grid[1:]
    random.Random(3).shuffle(body)
    tab.grid[:] = header + body
    assert update(ids[10], "Ma")[-1] == "A:A"
    rows = {r["id"]: r for r in rows_by_key(fake, schema, "Complaints")}
    assert (rows[ids[250]]["handler"], rows[ids[100]]["handler"]) == ("Li", "Wu")


def test_a_date_recorded_on_a_sheet_init_never_formatted_shows_as_a_date(fake, store, schema):
    # A register kept in a sheet made by hand (init never run): a milestone recorded from
    # the app is shown in the sheet as a date, as an intake's dates are, not as a serial
    # number; on a sheet init formatted, no call is added for it
    tab = schema.tab("complaints")
    header = [c.header("en") for c in tab.columns]
    fake.add_tab("Complaints", [header])
    typed_by_hand(fake, ["HAND1"])
    when = dt.datetime(2026, 11, 25, 14, 30)
    store.update("HAND1", {"first_reply_at": when}, seen={"version": ""}, user="clerk", now=when)
    assert fake.requests.count("repeatCell") == 2  # the two dates written, one call
    shown = fake.get("Complaints!A1:ZZ2", "FORMATTED_VALUE")
    row = dict(zip(shown[0], shown[1], strict=False))
    assert row[tab.column("first_reply_at").header("en")] == "2026-11-25 14:30"
    assert row[tab.column("updated_at").header("en")] == "2026-11-25 14:30"
    assert row[tab.column("received_at").header("en")] == "2026-11-03 09:00"  # as typed
    # a format call that fails does not fail the change, which is saved (and read as a date)
    fake.fail("500", f"{fake.key}:batchUpdate", times=20)  # not values:batchUpdate…
    later = dt.datetime(2026, 11, 26, 9, 0)
    store.update("HAND1", {"callback_at": later}, seen={"version": "1"}, user="clerk",
                 now=later)
    fake.faults.clear()
    from core.store.gsheet import serial

    saved = fake.get("Complaints!A1:ZZ2", "UNFORMATTED_VALUE")
    assert dict(zip(saved[0], saved[1], strict=False))[
        tab.column("callback_at").header("en")] == serial(later)
    store.init("en")
    formats = fake.requests.count("repeatCell")
    store.update("HAND1", {"dept_reply_at": when}, seen={"version": "2"}, user="clerk",
                 now=when)
    assert fake.requests.count("repeatCell") == formats
    shown = fake.get("Complaints!A1:ZZ2", "FORMATTED_VALUE")
    assert dict(zip(shown[0], shown[1], strict=False))[
        tab.column("dept_reply_at").header("en")] == "2026-11-25 14:30"
