"""The Google Sheet store through the real gspread client against an in-process fake of the
Sheets v4 API: init, read, intake, updates under human edits, faults and injection."""

import datetime as dt
import json
import random

import pytest
import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from core.cli import main
from core.demo import demo_records
from core.errors import ConflictError, NotFoundError, RegisterError
from core.store.gsheet import GSheetStore

from .sheets_fake import TOKEN_URL, FakeSheets

NOW = dt.datetime(2026, 11, 24, 10, 0)


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


@pytest.fixture
def store(fake, schema, key_info):
    return GSheetStore(fake.key, schema, credentials=key_info, sleep=lambda s: None)


def writes(fake) -> int:
    return fake.count(r"^(POST|PUT) ")


def test_init_creates_tabs_headers_dropdowns_freeze_and_protection_and_twice_changes_nothing(
        fake, store):
    done = store.init("zh")
    assert {t.title for t in fake.tabs} == {"投诉登记", "部门", "节假日", "设置", "用户", "操作日志"}
    complaints = fake.tab("投诉登记")
    assert complaints.rows[0][:3] == ["投诉编号", "类型", "关联编号"] and complaints.frozen == 1
    assert [p["warningOnly"] for p in complaints.protected] == [True, True, True]
    assert any(v["rule"]["condition"]["values"][0] == {"userEnteredValue": "轻度"}
               for v in complaints.validations)
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
    fake.type_cell("投诉登记", 2, 9, "013800138000")  # contact with a leading zero
    fake.calls.clear()
    book = store.read()
    assert fake.calls == [next(c for c in fake.calls if "batchGet" in c)]
    assert book.tabs["complaints"].rows[0][8] == "013800138000"


def test_intake_is_one_call_and_text_stays_literal(fake, store, schema):
    store.init("en")
    store.read()  # the app always holds a fresh read when a clerk saves
    fake.calls.clear()
    risky = ["=1+1", "+86 138", "-5", "@SUM(A1)", "\tTab", "\rCR"]
    for i, text in enumerate(risky):
        store.append("complaints", [{"id": f"TS{i}", "received_at": NOW, "subject": text}],
                     audit=[{"time": NOW, "user": "u", "id": f"TS{i}", "field": "created",
                             "old": "", "new": text}])
    assert fake.calls == ["POST SHEET123:batchUpdate"] * len(risky)  # one call per intake
    subjects = [r[11] for r in fake.tab("Complaints").rows[1:]]
    assert subjects == risky and all(isinstance(s, str) for s in subjects)
    assert [r[5] for r in fake.tab("Audit").rows[1:]] == risky


@pytest.mark.parametrize("fault", ["429", "500", "timeout", "lost"])
def test_a_fault_on_intake_neither_loses_nor_duplicates(fake, store, fault):
    store.init("en")
    fake.fail(fault, "POST SHEET123:batchUpdate", times=2)
    store.append("complaints", [{"id": "TS20261124001", "received_at": NOW, "subject": "s"}])
    ids = [r[0] for r in fake.tab("Complaints").rows[1:]]
    assert ids == ["TS20261124001"]


def test_after_the_last_try_a_clear_error_and_nothing_written(fake, store):
    store.init("en")
    fake.fail("429", "POST SHEET123:batchUpdate", times=5)
    with pytest.raises(RegisterError) as err:
        store.append("complaints", [{"id": "TS1", "received_at": NOW, "subject": "s"}])
    assert str(err.value) == ("Google Sheets' request quota is used up for now (429) while "
                              "appending to the register; wait a minute and try again.")
    assert fake.tab("Complaints").rows[1:] == []


def test_faults_randomized_intakes_zero_lost_zero_duplicated(fake, store):
    store.init("en")
    rnd = random.Random(4)
    n = 200
    for i in range(n):
        if rnd.random() < 0.3:
            fake.fail(rnd.choice(["429", "500", "timeout", "lost"]), "POST SHEET123:batchUpdate",
                      times=rnd.randint(1, 3))
        store.append("complaints", [{"id": f"TS{i:05d}", "received_at": NOW, "subject": "s"}])
        fake.faults.clear()
    ids = [r[0] for r in fake.tab("Complaints").rows[1:]]
    lost, dup = n - len(set(ids)), len(ids) - len(set(ids))
    print(f"\n{n} intakes with injected faults: {lost} lost, {dup} duplicated")
    assert (lost, dup) == (0, 0)


def row_of(fake, cid):
    rows = fake.tab("投诉登记").rows
    return next(i for i, r in enumerate(rows, 1) if r and r[0] == cid)


def col(fake, header):
    return fake.tab("投诉登记").rows[0].index(header)


def seen_for(fake, cid):
    r = fake.tab("投诉登记").rows[row_of(fake, cid) - 1]
    v, h = col(fake, "版本"), col(fake, "处理人")
    return {"version": r[v] if len(r) > v else "", "handler": r[h] if len(r) > h else ""}


HUMAN = {
    "sorted": lambda f, cid: f.sort("投诉登记", 11, reverse=True),
    "inserted above": lambda f, cid: f.insert_row("投诉登记", 2, ["TSNEW", "投诉", "", "2026-11-01"]),
    "other row deleted": lambda f, cid: f.delete_row("投诉登记", 2 if row_of(f, cid) != 2 else 3),
}


@pytest.mark.parametrize("edit", HUMAN)
def test_a_human_edit_between_read_and_write_never_misplaces_the_write(fake, store, schema, edit):
    seeded(fake, store, schema)
    cid = fake.tab("投诉登记").rows[5][0]
    seen = seen_for(fake, cid)
    HUMAN[edit](fake, cid)
    store.update(cid, {"handler": "赵六"}, seen=seen, user="clerk", now=NOW)
    r = fake.tab("投诉登记").rows[row_of(fake, cid) - 1]
    assert r[24] == "赵六" and r[col(fake, "更新人")] == "clerk"
    assert [x[24] for x in fake.tab("投诉登记").rows if len(x) > 24 and x[0] != cid].count("赵六") == 0


def test_the_same_row_edited_by_hand_is_a_conflict_naming_who_and_when(fake, store, schema):
    seeded(fake, store, schema)
    cid = fake.tab("投诉登记").rows[5][0]
    seen = seen_for(fake, cid)
    store.update(cid, {"handler": "钱七"}, seen=seen, user="王主管", now=NOW)
    before = [list(r) for r in fake.tab("投诉登记").rows]
    with pytest.raises(ConflictError) as err:
        store.update(cid, {"handler": "赵六"}, seen=seen, user="clerk", now=NOW)
    assert str(err.value).startswith(f"Complaint {cid} was changed by 王主管 at 2026-11-24 10:00:00")
    assert fake.tab("投诉登记").rows == before
    fake.type_cell("投诉登记", row_of(fake, cid), 25, "孙八")  # typed in the sheet, no version bump
    with pytest.raises(ConflictError, match="Handler"):
        store.update(cid, {"handler": "赵六"}, seen=seen_for(fake, cid) | {"handler": "钱七"},
                     user="clerk", now=NOW)


def test_a_deleted_row_is_reported_not_written_elsewhere(fake, store, schema):
    seeded(fake, store, schema)
    cid = fake.tab("投诉登记").rows[5][0]
    seen = seen_for(fake, cid)
    fake.delete_row("投诉登记", 6)
    with pytest.raises(NotFoundError):
        store.update(cid, {"handler": "赵六"}, seen=seen, user="clerk", now=NOW)


def test_a_lost_reply_on_update_is_not_a_conflict_with_ourselves(fake, store, schema):
    seeded(fake, store, schema)
    cid = fake.tab("投诉登记").rows[5][0]
    fake.fail("lost", "values:batchUpdate")
    store.update(cid, {"handler": "赵六"}, seen=seen_for(fake, cid), user="clerk", now=NOW)
    assert fake.tab("投诉登记").rows[row_of(fake, cid) - 1][24] == "赵六"
    assert [r[2] for r in fake.tab("操作日志").rows[1:]].count(cid) == 1


def test_1000_randomized_interleavings_lose_and_misplace_nothing(fake, store, schema):
    seeded(fake, store, schema, rows=30)
    rnd = random.Random(11)
    tab = fake.tab("投诉登记")
    written = conflicts = misplaced = lost_human = 0
    for i in range(1000):
        ids = [r[0] for r in tab.rows[1:] if r and r[0]]
        cid = rnd.choice(ids)
        seen = seen_for(fake, cid)
        op = rnd.choice(["sort", "insert", "delete", "same", "other", "none"])
        human_typed = None
        if op == "sort":
            fake.sort("投诉登记", rnd.choice([0, 3, 11]), reverse=rnd.random() < 0.5)
        elif op == "insert":
            fake.insert_row("投诉登记", rnd.randint(2, len(tab.rows)), [f"H{i}", "", "",
                                                                     "2026-11-01", "", "", "", "",
                                                                     "", "", "", "h"])
        elif op == "delete":
            victim = rnd.choice([x for x in ids if x != cid])
            fake.delete_row("投诉登记", row_of(fake, victim))
        elif op in ("same", "other"):
            target = cid if op == "same" else rnd.choice([x for x in ids if x != cid])
            human_typed = (target, f"手填{i}")
            fake.type_cell("投诉登记", row_of(fake, target), 25, human_typed[1])
        new = f"app{i}"
        try:
            store.update(cid, {"handler": new}, seen=seen, user="app", now=NOW)
            written += 1
        except ConflictError:
            conflicts += 1
            assert op == "same"
        rows = {r[0]: r for r in tab.rows[1:] if r}
        if op != "same":
            misplaced += sum(1 for k, r in rows.items() if k != cid and len(r) > 24 and r[24] == new)
            misplaced += rows[cid][24] != new
        if human_typed and human_typed[0] != cid:
            lost_human += rows[human_typed[0]][24] != human_typed[1]
    print(f"\n1000 interleavings: {written} written, {conflicts} conflicts, {misplaced} misplaced, "
          f"{lost_human} human edits lost")
    assert misplaced == 0 and lost_human == 0 and written + conflicts == 1000


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


def test_intake_from_the_app_is_one_call_and_the_queue_shows_it(fake, store, schema, key_info):
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
    assert fake.count("^POST") == 1 and fake.count("batchGet") == 1  # the write, then a re-read
    new = fake.tab("投诉登记").rows[-1]
    assert new[11] == "=电梯停运" and new[4] == "电话" and new[8] == "0571-88886666"
