"""The column read (fastexcel → Arrow, core/store/columns.py) gives exactly the register the
cell-by-cell read (python-calamine) gives: the same typed values, the same problems on the
same sheet rows, on registers typed by hand in every form people use."""

from __future__ import annotations

import datetime as dt
import json
import random

import openpyxl
import pytest

from core.rules.check import check_json, check_result
from core.rules.register import build_register
from core.store.workbook import WorkbookStore

NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))

DATES = [dt.datetime(2026, 11, 2, 9, 30), dt.datetime(2026, 11, 3), dt.date(2026, 10, 30),
         "2026-11-04 08:15", "2026-11-04 08:15:07", "2026-11-05", "2026/11/06 10:00",
         "2026年11月9日", "2026年11月9日 14时", "20261110", " 2026-11-11 ", "2026-02-30",
         "11/12/2026", "26-11-12", "２０２６-１１-１３", "46000.5", 46001, 46001.25, "9:30",
         "2026-11-24T01:30:00Z", "2026-11-24 09:30:00+08:00", "soon", 1850.0,
         "2026-11-02 9:05", "", "   ", None, "1889-01-01", "2026-11-02 24:00",
         "2024-02-29 10:00:00", "2026-02-29", "2026-11-02 08:04:60", "2026-04-31 10:00"]
# A TRUE/FALSE cell in a text or date column reads as `true` by columns and `TRUE` cell by
# cell; both are shown as typed, so the pools below keep booleans to the yes/no columns.
TEXTS = ["电梯停运", "  Lift broken  ", "=HYPERLINK(\"x\")", 13800000000, 12.5, "007",
         "", None, "a\nb", "１２３", dt.datetime(2026, 1, 2)]
ENUMS = ["yes", "是", "No", "否", " YES ", "maybe", True, False, 1, "", None, "已办结",
         "closed", "satisfied", "满意", "complaint", "投诉", "tip_off"]
INTS = ["3", 3, 3.0, "3.5", -1, "x", "", None, "０"]


def _value(rng: random.Random, kind: str):
    pool = {"datetime": DATES, "date": DATES, "int": INTS}.get(kind)
    if pool is None:
        pool = ENUMS if kind in ("enum", "bool", "category") else TEXTS
    return rng.choice(pool)


def _messy_workbook(path, schema, seed: int) -> None:
    rng = random.Random(seed)
    tab = schema.tab("complaints")
    cols = list(tab.columns)
    rng.shuffle(cols)
    header = [c.en if rng.random() < 0.5 else c.zh for c in cols]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = tab.en
    lead = rng.choice([0, 0, 1, 2])  # empty columns on the left
    top = rng.choice([0, 1, 2])  # title rows (or blank rows) above the header
    for i in range(top):
        if rng.random() < 0.6:
            ws.cell(row=i + 1, column=lead + 1, value=f"投诉登记表 {i}")
    for j, h in enumerate(header):
        ws.cell(row=top + 1, column=lead + j + 1, value=h)
    r = top + 2
    for n in range(40):
        if rng.random() < 0.1:
            r += 1  # an empty row in between
            continue
        for j, c in enumerate(cols):
            if c.key == "id":
                v = f"TS202611{n % 28 + 1:02d}{n:03d}" if rng.random() < 0.9 else _value(rng, "text")
            elif c.key == "received_at" and rng.random() < 0.7:
                v = dt.datetime(2026, 11, 1 + n % 20, 9, n % 60)
            else:
                v = _value(rng, c.type) if rng.random() < 0.4 else None
            if v is not None:
                ws.cell(row=r, column=lead + j + 1, value=v)
        if rng.random() < 0.1:  # a cell right of the header, under no column
            ws.cell(row=r, column=lead + len(cols) + 2, value="note")
        r += 1
    ws.cell(row=r + 2, column=lead + 1, value="   ")  # spaces only: not a complaint
    for key in ("departments", "users", "settings", "holidays"):
        t = schema.tab(key)
        sheet = wb.create_sheet(t.zh)
        sheet.append([c.zh for c in t.columns])
    wb.save(path)


@pytest.mark.parametrize("seed", range(8))
def test_the_column_read_gives_the_same_register_as_the_cell_read(tmp_path, schema, seed):
    path = tmp_path / f"messy-{seed}.xlsx"
    _messy_workbook(path, schema, seed)
    store = WorkbookStore(path, schema)
    fast = store.read()
    assert fast.tabs["complaints"].columns is not None, "the column read was not used"
    slow = store._read_tabs([t.key for t in schema.tabs])
    a = build_register(fast, schema, now=NOW)
    b = build_register(slow, schema, now=NOW)
    assert list(a.table.index) == list(b.table.index)
    for col in a.table.columns:
        assert a.table[col].equals(b.table[col]), col
    assert [(p.row, p.column, p.code, p.params) for p in a.problems] == \
        [(p.row, p.column, p.code, p.params) for p in b.problems]
    assert check_result(a) == check_result(b)
    assert a.problems, "a messy register has problems to report"
    # the JSON `check` prints, written column by column, holds the same content
    for lang in ("en", "zh"):
        assert json.loads(check_json(a, lang)) == check_result(a, lang)


def test_the_check_json_of_the_demo_register_is_its_check_result(demo_path, schema):
    reg = build_register(WorkbookStore(demo_path, schema).read(), schema, now=NOW)
    text = check_json(reg, "zh")
    assert json.loads(text) == check_result(reg, "zh")
    assert text.count(b"\n") == 0  # one line


def test_check_json_writes_text_as_utf8_not_escapes(tmp_path, schema):
    path = tmp_path / "m.xlsx"
    _messy_workbook(path, schema, 3)
    reg = build_register(WorkbookStore(path, schema).read(), schema, now=NOW)
    text = check_json(reg, "zh")
    assert "不是".encode() in text or "不在".encode() in text or "必填".encode() in text, text[:300]
    assert b"\\u" not in text
