"""The cell parser: every accepted form, every rejected form (DESIGN.md "The register")."""

import datetime as dt

import pandas as pd
import pytest

from core.reading.parse import Bad, parse_column, parse_datetime, parse_enum, text_of

D = dt.datetime


@pytest.mark.parametrize(("cell", "expected"), [
    ("2026-11-03 09:05", D(2026, 11, 3, 9, 5)),
    ("2026/11/3 9:05", D(2026, 11, 3, 9, 5)),
    ("2026.11.3", D(2026, 11, 3)),
    ("2026年11月3日 9:05", D(2026, 11, 3, 9, 5)),
    ("2026年11月3日9时5分", D(2026, 11, 3, 9, 5)),
    ("2026年11月3日", D(2026, 11, 3)),
    ("２０２６年１１月３日　９：０５", D(2026, 11, 3, 9, 5)),  # full-width digits and space
    ("  2026-11-03  ", D(2026, 11, 3)),  # stray spaces
    ("2026 - 11 - 03", D(2026, 11, 3)),
    ("2026-11-03 09:05:30", D(2026, 11, 3, 9, 5, 30)),
    ("20261103", D(2026, 11, 3)),
    (46329, D(2026, 11, 3)),  # serial number: days since 1899-12-30
    (46329.378472222, D(2026, 11, 3, 9, 5)),
    ("46329", D(2026, 11, 3)),  # Google's UNFORMATTED_VALUE as text
    (D(2026, 11, 3, 9, 5), D(2026, 11, 3, 9, 5)),  # native Excel date
    (dt.date(2026, 11, 3), D(2026, 11, 3)),
    ("2026-11-03T01:05:00Z", D(2026, 11, 3, 9, 5)),  # converted to the register's zone
])
def test_accepts_every_form_people_type(cell, expected):
    assert parse_datetime(cell, dt.timezone(dt.timedelta(hours=8))) == expected


@pytest.mark.parametrize(("cell", "code"), [
    ("03/11/2026", "date_ambiguous"),
    ("3.11.2026", "date_ambiguous"),
    ("26-11-3", "date_short_year"),
    ("2026-02-30", "date_invalid"),
    ("2026-11-03 25:00", "date_invalid"),
    ("9:05", "date_time_only"),
    ("yesterday", "date_unknown"),
    ("2026年11月3日下午", "date_unknown"),
    (3, "date_serial"),
    ("1850-01-01", "date_year"),
    (dt.time(9, 5), "date_time_only"),
])
def test_rejects_ambiguous_and_unknown_forms_rather_than_guessing(cell, code):
    out = parse_datetime(cell)
    assert isinstance(out, Bad) and out.code == code


@pytest.mark.parametrize("cell", [None, "", "   ", float("nan")])
def test_blank_cells_are_blank_not_problems(cell):
    assert parse_datetime(cell) is None


def test_enumerations_accept_both_languages_trimmed_and_case_insensitive(schema):
    sev = schema.value_sets["severity"]
    assert [parse_enum(v, sev) for v in ("一般", " General ", "MAJOR", "轻度", "")] == [
        "general", "general", "major", "light", ""]
    yes_no = schema.value_sets["yes_no"]
    assert [parse_enum(v, yes_no) for v in ("是", "yes", "否", "No")] == ["yes", "yes", "no", "no"]
    bad = parse_enum("medium", sev)
    assert bad.code == "enum" and dict(bad.params)["allowed"] == (
        "轻度 light / 一般 general / 重大 major")


def test_phone_numbers_stay_text_with_leading_zeros(schema):
    col = schema.tab("complaints").column("contact")
    values, bad = parse_column(pd.Series(["0571-88886666", "013800138000", 13800138000.0]),
                               col, None)
    assert list(values) == ["0571-88886666", "013800138000", "13800138000"] and not bad


def test_column_fast_path_and_slow_path_agree(schema):
    col = schema.tab("complaints").column("received_at")
    cells = ["2026-11-03 09:05", "2026/11/3 9:05", "03/11/2026", D(2026, 1, 2), 46329, "", None]
    values, bad = parse_column(pd.Series(cells, dtype=object), col, None)
    assert list(values[:2]) == [pd.Timestamp(2026, 11, 3, 9, 5)] * 2
    assert values[3] == pd.Timestamp(2026, 1, 2) and values[4] == pd.Timestamp(2026, 11, 3)
    assert bad[2].code == "date_ambiguous" and set(bad) == {2}
    assert values[5:].isna().all()


def test_a_timestamp_finer_than_a_microsecond_is_read_to_the_microsecond(schema):
    # pandas' Timestamps carry nanoseconds (pd.Timestamp.now()); a sheet holds milliseconds
    col = schema.tab("complaints").column("received_at")
    cells = [pd.Timestamp("2026-11-03 09:05:00.000001999"), pd.Timestamp("2026-11-03")]
    values, bad = parse_column(pd.Series(cells, dtype=object), col, None)
    assert list(values) == [pd.Timestamp("2026-11-03 09:05:00.000001"), pd.Timestamp(2026, 11, 3)]
    assert bad == {} and str(values.dtype) == "datetime64[us]"


def test_text_of_shows_what_a_person_sees():
    assert [text_of(v) for v in (12.0, 12.5, " a ", None, True)] == ["12", "12.5", "a", "", "TRUE"]
