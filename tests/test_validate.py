"""Row validation, table-driven; each case cites its rule."""

import datetime as dt

import pytest

from core.reading.raw import RawBook, RawTab
from core.rules.register import build_register

from .conftest import EN_HEADER, en_row

NOW = dt.datetime(2026, 11, 24, 10, 0)


def problems_of(schema, *rows, header=EN_HEADER):
    book = RawBook({"complaints": RawTab("Complaints", list(header), [list(r) for r in rows])})
    reg = build_register(book, schema, now=NOW)
    return [(p.row, p.column, p.code) for p in reg.problems], reg


# A complaint closed with every R-CLOSE item recorded (consumer preset).
CLOSED = {"closed": dt.datetime(2026, 11, 5), "validity": "valid", "decided": dt.datetime(2026, 11, 2, 10),
          "root_cause": "worn cable", "corrective_action": "replace it",
          "first_reply": dt.datetime(2026, 11, 2, 11), "written_reply": "yes",
          "resolved": dt.datetime(2026, 11, 4), "callback": dt.datetime(2026, 11, 4, 12),
          "archived": "yes", "satisfaction": "满意"}

CASES = [
    # (rule, row, expected problems as (column, code))
    ("required: id", en_row(id=""), [("id", "required")]),
    ("required: received_at", en_row(received=""), [("received_at", "required")]),
    ("required: subject", en_row(subject=" "), [("subject", "required")]),
    ("R-ACCEPT: rejection needs a ground", en_row(accepted="否"),
     [("reject_reason", "reject_without_reason")]),
    ("R-ACCEPT: rejection with a ground", en_row(accepted="no", reason_not_accepted="材料不全"), []),
    ("R-RECUSE: handler is the respondent", en_row(handler="Li Lei", respondent=" li lei "),
     [("handler", "handler_is_respondent")]),
    ("R-CLOSE 7: closed while unsatisfied", en_row(**{**CLOSED, "satisfaction": "不满意"}),
     [("satisfaction", "closed_unsatisfied")]),
    ("R-CLOSE 7: closed without satisfaction", en_row(**{**CLOSED, "satisfaction": ""}),
     [("satisfaction", "closed_unsatisfied")]),
    ("R-CLOSE 7, R-REOPEN: escalated with no reprocessing first", en_row(
        **{**CLOSED, "satisfaction": "unsatisfied", "escalated": "是"}),
     [("reprocess_count", "escalated_before_reprocess")]),
    ("R-CLOSE 7: closed unsatisfied, escalated after a reprocessing", en_row(
        **{**CLOSED, "satisfaction": "unsatisfied", "escalated": "是", "times_reprocessed": 1}),
     []),
    ("R-CLOSE: closed with every item", en_row(**CLOSED), []),
    ("R-VALID/R-ACCEPT: a rejected complaint closes without satisfaction", en_row(
        accepted="no", reason_not_accepted="out of scope", decided=dt.datetime(2026, 11, 3),
        first_reply=dt.datetime(2026, 11, 3), written_reply="yes", archived="yes",
        closed=dt.datetime(2026, 11, 3)), []),
    ("milestone order: closed before received, before the result and the callback", en_row(
        **{**CLOSED, "closed": dt.datetime(2026, 11, 1)}),
     [("closed_at", "before_received"), ("closed_at", "before_milestone"),
      ("closed_at", "before_milestone")]),
    ("enum: unknown kind", en_row(kind="complain"), [("kind", "enum")]),
    ("date: ambiguous received", en_row(received="03/11/2026"), [("received_at", "date_ambiguous")]),
]


@pytest.mark.parametrize(("rule", "row", "expected"), CASES, ids=[c[0] for c in CASES])
def test_row_rules(schema, rule, row, expected):
    got, _ = problems_of(schema, row)
    assert [(c, code) for _, c, code in got] == expected


def test_a_repeated_number_is_a_problem_on_every_row_after_the_first(schema):
    got, reg = problems_of(schema, en_row(), en_row(), en_row(id="TS20261102002"), en_row())
    assert got == [(3, "id", "duplicate_id"), (5, "id", "duplicate_id")]
    assert reg.problems[0].message(reg.tab, "en") == (
        "Complaint No. TS20261102001 is used again; it was first used on row 2.")
    assert reg.problems[0].message(reg.tab, "zh") == "投诉编号 TS20261102001 重复，第 2 行已使用。"


def test_messages_name_the_column_in_the_users_language(schema):
    _, reg = problems_of(schema, en_row(received="03/11/2026"))
    p = reg.problems[0]
    assert p.message(reg.tab, "en") == (
        "'03/11/2026' could be day/month or month/day; write it as 2026-11-03.")
    assert p.message(reg.tab, "zh") == "“03/11/2026”无法判断日月顺序，请写成 2026-11-03。"
    _, reg = problems_of(schema, en_row(subject=""))
    assert reg.problems[0].message(reg.tab, "zh") == "投诉事项为空，每一行都必须填写。"


def test_blank_kind_means_complaint(schema):
    _, reg = problems_of(schema, en_row())
    assert reg.table["kind"].tolist() == ["complaint"]


def test_bad_rows_are_reported_never_dropped(schema):
    rows = [en_row(id=f"TS2026110200{i}", received="bad" if i % 2 else dt.datetime(2026, 11, 2))
            for i in range(1, 6)]
    got, reg = problems_of(schema, *rows)
    assert len(reg.table) == 5 and [r for r, _, _ in got] == [2, 4, 6]


def test_a_milestone_years_before_the_day_received_is_a_problem_not_a_crash(tmp_path):
    # R-FLOW: milestones follow the order of the flow; a clock may start from a milestone
    # typed in a year the register otherwise never mentions (the calendar must span it).
    from .conftest import check_json, write_xlsx

    path = write_xlsx(tmp_path / "r.xlsx", {"Complaints": [
        EN_HEADER, en_row(resolved="2023-05-06 10:00", handler="Wang")]})
    code, out = check_json(path)
    assert code == 1
    problems = out["rows"][0]["problems"]
    assert any(p["column"] == "resolved_at" and "2023-05-06" in p["message"] for p in problems)


def test_columns_with_no_cell_filled_type_as_their_cells_would(schema, demo_path, monkeypatch):
    # A column with no cell filled (most of one new row's) is typed from a one-cell template:
    # the same values, types and problems as parsing its cells, for one row, several and none.
    import pandas as pd

    from core.reading import validate as v
    from core.rules.policy import load_policy
    from core.store.workbook import WorkbookStore

    policy, _ = load_policy("consumer", schema, {})
    tabs = [WorkbookStore(demo_path, schema).read().tabs["complaints"],
            RawTab("Complaints", ["id", "received_at", "subject", "accepted"],
                   [["", NOW, "Lift", ""]]),
            RawTab("Complaints", ["id", "received_at", "subject", "accepted_at"],
                   [["TS1", "2026-11-24 10:00", "Lift", "2026-11-23 09:00"], ["TS2", None, None, None]]),
            RawTab("Complaints", ["id", "received_at", "subject"], [])]
    used, template = [], v._blank_column
    monkeypatch.setattr(v, "_blank_column", lambda *a: used.append(a[0].key) or template(*a))
    for raw in tabs:
        args = (schema.tab("complaints"), raw, schema, policy.categories, policy.tz)
        quick = v.validate(*args)
        with monkeypatch.context() as m:
            m.setattr(v, "_blank_column", lambda *a: None)
            parsed = v.validate(*args)
        pd.testing.assert_frame_equal(quick[0], parsed[0], check_exact=True)
        assert list(quick[0].dtypes) == list(parsed[0].dtypes)
        assert quick[1] == parsed[1]
    assert "closed_at" in used and "satisfaction" in used  # the templates were used
