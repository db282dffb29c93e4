"""Column typing's fast paths against the scalar parser, on generated cells.

parse_column types a whole column at once (Arrow digit grids for the date shapes, pandas
formats for text in object columns, one call per distinct value for the rest). A register
people cannot trust is worth nothing: whatever shape a cell has, the column must hold what
parse_datetime / parse_date / parse_enum / parse_int / text_of give for that cell alone, and
report the same problems under the same sheet rows (DESIGN.md "Nothing is lost": a row that
fails validation is shown with its row number and the reason, never dropped or rewritten).
Flags keyed by integer codes of folded texts must key rows as their folded texts do (R-REPEAT,
R-GROUP), and fold must fold as norm, which the names it is matched against go through
(R-RECUSE).

Arrow columns are what core.store.columns reads: text, trimmed, a date cell written
`YYYY-MM-DD 00:00:00` shown as the day (core.reading.parse._as_typed), TRUE as `true`; the
scalar reference is given the cell as that reader shows it.
"""

from __future__ import annotations

import datetime as dt
import re

import orjson
import pandas as pd
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.reading.parse import (
    Bad,
    parse_column,
    parse_date,
    parse_datetime,
    parse_enum,
    parse_int,
    text_of,
)
from core.reading.schema import fold, load_schema, norm
from core.rules.check import check_json, check_result
from core.rules.flags import _codes, _possible_repeats

from .rules_helpers import register_of

SCHEMA = load_schema()
RECEIVED = SCHEMA.tab("complaints").column("received_at")  # datetime
HARM_KNOWN = SCHEMA.tab("complaints").column("harm_known_at")  # date
URGENT = SCHEMA.tab("complaints").column("urgent")  # bool
YES_NO = SCHEMA.value_sets["yes_no"]
TZ = dt.timezone(dt.timedelta(hours=8))
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

FULL_WIDTH = str.maketrans("0123456789:-/. ", "０１２３４５６７８９：－／．\u3000")
SPACES = st.sampled_from(["", "", "", " ", "  ", "\t", "\n", "\u3000", "\xa0"])


@st.composite
def date_texts(draw) -> str:
    """A date typed as text: every shape the parser takes, and near misses of each."""
    y = draw(st.sampled_from([1989, 1990, 2026, 2100, 2101]) | st.integers(1000, 9999))
    m, d = draw(st.integers(0, 13)), draw(st.integers(0, 32))
    pad = draw(st.booleans())

    def f(n: int) -> str:
        return f"{n:02d}" if pad else str(n)

    sep = draw(st.sampled_from("-/."))
    shape = draw(st.sampled_from(["ymd", "ymd", "ymd", "cjk", "compact", "dmy", "short"]))
    s = {"ymd": f"{y}{sep}{f(m)}{sep}{f(d)}",
         "cjk": f"{y}年{m}月{d}" + draw(st.sampled_from(["日", "号", ""])),
         "compact": f"{y}{m:02d}{d:02d}",
         "dmy": f"{f(d)}{sep}{f(m)}{sep}{y}",
         "short": f"{y % 100:02d}{sep}{f(m)}{sep}{f(d)}"}[shape]
    if draw(st.booleans()):  # a time of day, with seconds or without
        h, mi = draw(st.integers(0, 25)), draw(st.integers(0, 61))
        sec = draw(st.none() | st.integers(0, 61))
        t = f"{f(h)}:{f(mi)}" + ("" if sec is None else f":{f(sec)}")
        if draw(st.booleans()) and shape == "cjk":
            t = f"{h}时{mi}分" + ("" if sec is None else f"{sec}秒")
        t += draw(st.sampled_from(["", "", "", ".5", ".000", "Z", "+08:00", "-0500"]))
        s += draw(st.sampled_from([" ", " ", "T", "  ", ""])) + t
    if draw(st.integers(0, 9)) == 0:
        s = s.translate(FULL_WIDTH)
    return draw(SPACES) + s + draw(SPACES)


NEAR_MISSES = st.sampled_from([
    "2026-2-30", "2026-02-30", "2026/11/5", "5/11/2026", "20261105", "2026-11-05 7:5",
    "2026年11月5日", "2026年11月5日 9:05:30", "２０２６-１１-０５", " 2026-11-05 ", "9:05",
    "9:05:30", "46329", "46329.5", "3", "-1", "yesterday", "2026-11-05 00:00:00",
    "2026-11-05 00:00", "2026-11-05 07:05:00", "2026-11-05 24:00:00", "2026-11-05 08:04:60",
    "2026-11-05T07:05:00Z", "2026-11-05 07:05:00+08:00", "1899-12-30 00:00:00", "1989-12-31",
    "2101-01-01", "2100-12-31 23:59:59", "2026-13-01", "2026-00-10", "0000-00-00", "",
    "   ", "2026-1１-05", "2026-11-05 07:05:0a", "2026_11_05", "2026-11-05 07:05:00.5",
])
TEXT_CELLS = date_texts() | NEAR_MISSES | st.text(max_size=12)
NATIVE = st.one_of(
    st.none(), st.just(float("nan")),
    st.integers(-5, 80_000), st.floats(-10, 80_000, allow_nan=False),
    st.sampled_from([True, False, 46329, 46329.375, 32874.0, 73051.99999]),
    st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(2200, 1, 1)),
    st.datetimes(dt.datetime(1980, 1, 1), dt.datetime(2110, 1, 1)).map(
        lambda v: v.replace(microsecond=0)),
    st.dates(dt.date(1980, 1, 1), dt.date(2110, 1, 1)),
    st.dates(dt.date(1980, 1, 1), dt.date(2110, 1, 1)).map(
        lambda v: dt.datetime(v.year, v.month, v.day)),
    st.times(), st.builds(pd.Timestamp, st.datetimes(dt.datetime(1980, 1, 1),
                                                     dt.datetime(2110, 1, 1))),
)


def columns(cells, max_size: int = 40):
    """A column of 1 or many cells, under sheet row numbers (not 0, 1, 2…)."""
    return st.tuples(st.lists(cells, min_size=1, max_size=max_size),
                     st.integers(2, 10_000)).map(
        lambda c: pd.Series(c[0], index=range(c[1], c[1] + len(c[0])), dtype=object))


def as_read(values: pd.Series) -> pd.Series:
    """The column as core.store.columns hands it over: Arrow text."""
    return pd.Series(pa.array(values.tolist(), type=pa.string()), index=values.index,
                     dtype=pd.ArrowDtype(pa.string()))


_MIDNIGHT = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2}) 00:00:00")


def shown(cell: str | None) -> str | None:
    """A cell read as Arrow text, as the person sees it (trimmed, a day shown without 00:00:00)."""
    if cell is None:
        return None
    cell = cell.strip()
    m = _MIDNIGHT.fullmatch(cell)
    return m[1] if m else cell


def dates_one_by_one(values: pd.Series, date_only: bool, arrow: bool):
    parser = parse_date if date_only else parse_datetime
    typed, bad = [], {}
    for row, v in values.items():
        r = parser(shown(v) if arrow else v, TZ)
        if isinstance(r, Bad):
            bad[row] = r
        typed.append(r if isinstance(r, dt.datetime) else None)
    return typed, bad


def typed_list(series: pd.Series) -> list:
    return [None if pd.isna(v) else pd.Timestamp(v).to_pydatetime() for v in series]


def check_dates(values: pd.Series, column, arrow: bool) -> None:
    date_only = column.type == "date"
    got, bad = parse_column(as_read(values) if arrow else values, column, None, TZ)
    want, want_bad = dates_one_by_one(values, date_only, arrow)
    assert list(got.index) == list(values.index)
    assert typed_list(got) == want
    assert bad == want_bad


@FAST
@given(columns(TEXT_CELLS | st.none()), st.sampled_from([RECEIVED, HARM_KNOWN]))
def test_text_dates_read_as_arrow_type_as_the_scalar_parser(values, column):
    check_dates(values, column, arrow=True)


@FAST
@given(columns(TEXT_CELLS | NATIVE), st.sampled_from([RECEIVED, HARM_KNOWN]))
def test_mixed_cells_in_object_columns_type_as_the_scalar_parser(values, column):
    check_dates(values, column, arrow=False)


@FAST
@given(columns(TEXT_CELLS, max_size=400), st.sampled_from([RECEIVED, HARM_KNOWN]))
def test_many_cells_of_one_length_type_as_the_scalar_parser(values, column):
    check_dates(values, column, arrow=True)
    check_dates(values, column, arrow=False)


def test_one_column_holds_native_dates_and_text_dates():
    values = pd.Series([dt.datetime(2026, 11, 5, 7, 5), "2026-11-05 07:05", "2026年11月5日",
                        dt.date(2026, 11, 5), 46331.5, "2026-2-30", None, ""],
                       index=range(5, 13), dtype=object)
    check_dates(values, RECEIVED, arrow=False)
    check_dates(values, HARM_KNOWN, arrow=False)


BOOL_CELLS = st.one_of(
    st.sampled_from(["是", "否", "yes", "no", "YES", " No ", "Yes", "y", "N", "true", "false",
                     "TRUE", "False", "1", "0", "√", "✓", "×", "有", "无", "ｙｅｓ", "ＮＯ",
                     " 是 ", "是的", "maybe", "2", "", "  ", "1.0", "00"]),
    st.sampled_from([None, float("nan"), True, False, 1, 0, 1.0, 0.0, 2, -1]),
    st.text(max_size=4),
)


def bools_one_by_one(values: pd.Series, arrow: bool):
    typed, bad = [], {}
    for row, v in values.items():
        if arrow and v in ("true", "false"):
            v = v.upper()  # fastexcel reads a TRUE cell as `true`
        r = parse_enum(v, YES_NO)
        if isinstance(r, Bad):
            bad[row] = r
        typed.append({"yes": True, "no": False}.get(r))
    return typed, bad


@FAST
@given(columns(BOOL_CELLS))
def test_bool_columns_type_as_the_scalar_parser(values):
    got, bad = parse_column(values, URGENT, YES_NO)
    assert str(got.dtype) == "boolean" and list(got.index) == list(values.index)
    assert [None if v is pd.NA else v for v in got] == bools_one_by_one(values, False)[0]
    assert bad == bools_one_by_one(values, False)[1]


@FAST
@given(columns(BOOL_CELLS.filter(lambda v: v is None or isinstance(v, str))))
def test_bool_columns_read_as_arrow_type_as_the_scalar_parser(values):
    got, bad = parse_column(as_read(values), URGENT, YES_NO)
    want, want_bad = bools_one_by_one(values, True)
    assert [None if v is pd.NA else v for v in got] == want
    assert bad == want_bad


INT_CELLS = st.one_of(st.integers(-3, 10**6), st.floats(-3, 1e6, allow_nan=False),
                      st.sampled_from(["3", " 12 ", "１２", "3.0", "3.5", "-1", "x", "", None]))


@FAST
@given(columns(INT_CELLS))
def test_int_columns_type_as_the_scalar_parser(values):
    column = SCHEMA.tab("complaints").column(
        next(c.key for c in SCHEMA.tab("complaints").columns if c.type == "int"))
    got, bad = parse_column(values, column, None)
    want = [parse_int(v) for v in values]
    assert [None if v is pd.NA else v for v in got] == [
        None if isinstance(w, Bad) else w for w in want]
    assert bad == {row: w for row, w in zip(values.index, want, strict=True) if isinstance(w, Bad)}


TEXTS = st.one_of(st.text(st.characters(exclude_categories=("Cs", "Cn")), max_size=10),
                 st.sampled_from(
    [" Ａｂｃ ", "ABC", "abc", "a  b", "a\tb", "张 三", "张三\u3000", "", "2026-11-05 00:00:00"]))


@FAST
@given(columns(TEXTS | st.none()))
def test_text_columns_show_what_text_of_shows(values):
    column = SCHEMA.tab("complaints").column("subject")
    got, bad = parse_column(values, column, None)
    assert not bad and list(got) == [text_of(v) for v in values]
    got, bad = parse_column(as_read(values), column, None)
    assert not bad and list(got) == [text_of(shown(v)) for v in values]


@FAST
@given(columns(TEXTS | st.none()))
def test_fold_is_norm_on_each_cell(values):
    assert list(fold(values)) == [norm("" if v is None else v) for v in values]


# --- flags keyed by integer codes of folded texts ----------------------------------------

NAMES = st.sampled_from(["张伟", " 张伟", "张伟\u3000", "ZHANG Wei", "zhang  wei", "Zhang wei",
                         "物业服务中心", "物业 服务中心", "0571-88886666", "０５７１-８８８８６６６６", ""])


@FAST
@given(st.lists(st.tuples(NAMES, NAMES), min_size=1, max_size=30))
def test_rows_share_a_code_exactly_when_their_folded_texts_are_equal(pairs):
    a = pd.Series([p[0] for p in pairs], dtype=object)
    b = pd.Series([p[1] for p in pairs], dtype=object)
    codes = _codes(a, b)
    keys = [(norm(x), norm(y)) for x, y in pairs]
    for i in range(len(pairs)):
        for j in range(len(pairs)):
            assert (codes[i] == codes[j]) == (keys[i] == keys[j])


@FAST
@given(st.lists(st.tuples(NAMES, NAMES, st.none() | st.integers(0, 20 * 24)), min_size=1,
                max_size=30), st.integers(2, 100), st.integers(0, 10))
def test_a_possible_repeat_is_an_earlier_row_of_the_same_contact_and_respondent(rows, first, days):
    """R-REPEAT: the same contact and respondent within `days` days of an earlier row (of two
    at the same time, the one higher on the sheet is the earlier)."""
    when = [None if h is None else dt.datetime(2026, 11, 1) + dt.timedelta(hours=h)
            for _, _, h in rows]
    table = pd.DataFrame({"contact": [r[0] for r in rows], "respondent": [r[1] for r in rows],
                          "received_at": pd.Series(when, dtype="datetime64[us]").to_numpy()},
                         index=range(first, first + len(rows)))
    got = _possible_repeats(table, days)
    want = []
    for i, (c, r, t) in enumerate(zip(table["contact"], table["respondent"], when, strict=True)):
        want.append(bool(c and r and t is not None) and any(
            norm(c2) == norm(c) and norm(r2) == norm(r) and t2 is not None
            and (t2 < t or (t2 == t and j < i)) and t - t2 <= dt.timedelta(days=days)
            for j, (c2, r2, t2) in enumerate(zip(table["contact"], table["respondent"], when,
                                                 strict=True))))
    assert list(got.index) == list(table.index) and list(got) == want


# --- check --format json through the whole pipeline ---------------------------------------

ODD_TEXT = st.sampled_from(['a"b', "a\\b", "张伟", " 张伟 ", "x\u2028y", "😀", "</script>", "",
                            "TS001", "ts001", "Ｔｓ００１", "\t", "null", "1e3"])
RECORD = st.fixed_dictionaries({
    "id": ODD_TEXT | st.text(max_size=5), "parent_id": ODD_TEXT,
    "received_at": TEXT_CELLS | NATIVE, "accepted_at": TEXT_CELLS | st.none(),
    "first_reply_at": NEAR_MISSES, "extended_to": NEAR_MISSES | st.none(),
    "severity": st.sampled_from(["重大", "major", "一般", " Light ", "medium", "", None]),
    "warning_level": st.sampled_from(["A", "b", "C", "D", "", None]),
    "urgent": BOOL_CELLS, "accepted": BOOL_CELLS, "extension_agreed": BOOL_CELLS,
    "contact": NAMES, "respondent": NAMES, "handler": NAMES, "complainant": NAMES,
    "subject": st.sampled_from(["电梯停运", "电梯坏了", "Lift broken", "", 'q"uote']),
    "reprocess_count": INT_CELLS,
})


@settings(FAST, max_examples=15)
@given(st.lists(RECORD, min_size=1, max_size=12))
def test_check_json_is_the_row_by_row_result_byte_for_byte(records):
    """The JSON `check` prints, joined in Arrow column by column, against check_result built
    row by row with the standard encoder (orjson), on messy registers."""
    reg = register_of(records)
    for lang in ("en", "zh"):
        assert check_json(reg, lang) == orjson.dumps(check_result(reg, lang))
