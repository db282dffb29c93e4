"""Turn raw cells into typed values, or into a problem a person can act on.

Cells arrive as whatever the backend gives: str (typed text, Google's formatted values),
float/int (Excel numbers, Google's unformatted serial dates), datetime/date (native Excel
dates). Each column is parsed as a whole: common forms take a vectorised fast path, and
every other distinct value goes through the scalar parser once.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.reading.schema import Column, ValueSet, map_distinct, norm

EXCEL_EPOCH = dt.datetime(1899, 12, 30)
MIN_YEAR, MAX_YEAR = 1990, 2100
SERIAL_MIN = (dt.datetime(MIN_YEAR, 1, 1) - EXCEL_EPOCH).days
SERIAL_MAX = (dt.datetime(MAX_YEAR, 12, 31) - EXCEL_EPOCH).days


@dataclass(frozen=True)
class Bad:
    """A cell that could not be typed: `code` names the message, `params` fill it."""

    code: str
    params: tuple[tuple[str, str], ...] = ()


def _bad(code: str, **params: object) -> Bad:
    return Bad(code, tuple((k, str(v)) for k, v in params.items()))


def is_blank(v: object) -> bool:
    if v is None or v is pd.NA:
        return True
    if isinstance(v, str):
        return not v.strip()
    if isinstance(v, float):
        return np.isnan(v)
    return v is pd.NaT


# --- dates and times -------------------------------------------------------------------

_TIME = (r"(?:SEP(?P<h>\d{1,2})(?:[:时点](?P<mi>\d{1,2})(?:[:分](?P<s>\d{1,2})(?:\.\d+)?秒?)?分?|[时点])?)?")
_YMD = re.compile(r"(?P<y>\d{4})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})"
                  + _TIME.replace("SEP", "[ T]+") + r"$")
_CJK = re.compile(r"(?P<y>\d{4})年(?P<m>\d{1,2})月(?P<d>\d{1,2})[日号]?" + _TIME.replace("SEP", "[ T]*") + r"$")
_COMPACT = re.compile(r"(?P<y>(?:19|20|21)\d{2})(?P<m>\d{2})(?P<d>\d{2})" + _TIME.replace("SEP", "[ T]+") + r"$")
_DMY = re.compile(r"\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}(?:[ T].*)?$")
_SHORT_YEAR = re.compile(r"\d{2}[-/.]\d{1,2}[-/.]\d{1,2}(?:[ T].*)?$")
_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?$")
_OFFSET = re.compile(r"(Z|[+-]\d{2}:?\d{2})$")


def _from_parts(m: re.Match, raw: str) -> dt.datetime | Bad:
    try:
        y, mo, d = int(m["y"]), int(m["m"]), int(m["d"])
        h = int(m["h"]) if m["h"] else 0
        mi = int(m["mi"]) if m["mi"] else 0
        s = int(m["s"]) if m["s"] else 0
        if not MIN_YEAR <= y <= MAX_YEAR:
            return _bad("date_year", value=raw, low=MIN_YEAR, high=MAX_YEAR)
        return dt.datetime(y, mo, d, h, mi, s)
    except ValueError:
        return _bad("date_invalid", value=raw)


def _from_serial(x: float, raw: object) -> dt.datetime | Bad:
    if not SERIAL_MIN <= x <= SERIAL_MAX:
        return _bad("date_serial", value=raw)
    # Round to the second: serials carry float noise (0.375 of a day is 09:00:00.000001).
    return EXCEL_EPOCH + dt.timedelta(seconds=round(x * 86400))


def parse_datetime(v: object, tz: dt.tzinfo | None = None) -> dt.datetime | Bad | None:
    """One cell to a naive local datetime, None for a blank cell, or Bad.

    `tz` is the register's time zone: a value carrying an offset is converted to it.
    """
    if is_blank(v):
        return None
    if isinstance(v, pd.Timestamp):
        v = v.to_pydatetime()
    if isinstance(v, dt.datetime):
        if v.tzinfo is not None:
            v = v.astimezone(tz).replace(tzinfo=None) if tz else v.replace(tzinfo=None)
        return v
    if isinstance(v, dt.date):
        return dt.datetime(v.year, v.month, v.day)
    if isinstance(v, dt.time):
        return _bad("date_time_only", value=v)
    if isinstance(v, bool):
        return _bad("date_unknown", value=v)
    if isinstance(v, (int, float, np.integer, np.floating)):
        return _from_serial(float(v), text_of(v))
    raw = str(v)
    s = unicodedata.normalize("NFKC", raw).strip()
    s = " ".join(s.split())
    s = re.sub(r"\s*([年月日时分秒:/.\-])\s*", r"\1", s)
    if (_OFFSET.search(s) and "T" in s) or (_OFFSET.search(s) and " " in s and ":" in s[-6:]):
        try:
            aware = dt.datetime.fromisoformat(s.replace("Z", "+00:00").replace(" ", "T", 1))
            if aware.tzinfo is not None:
                return aware.astimezone(tz).replace(tzinfo=None) if tz else aware.replace(tzinfo=None)
        except ValueError:
            pass
    for pattern in (_YMD, _CJK, _COMPACT):
        m = pattern.match(s)
        if m:
            return _from_parts(m, raw)
    if _DMY.match(s):
        return _bad("date_ambiguous", value=raw)
    if _SHORT_YEAR.match(s):
        return _bad("date_short_year", value=raw)
    if _NUMBER.match(s):
        return _from_serial(float(s), raw)
    if re.fullmatch(r"\d{1,2}:\d{2}(:\d{2})?", s):
        return _bad("date_time_only", value=raw)
    return _bad("date_unknown", value=raw)


def parse_date(v: object, tz: dt.tzinfo | None = None) -> dt.datetime | Bad | None:
    """Like parse_datetime, but the cell must hold a day: a time of day is a problem."""
    out = parse_datetime(v, tz)
    if isinstance(out, dt.datetime) and out.time() != dt.time(0):
        return _bad("date_has_time", value=v)
    return out


_FAST_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")


def arrow_of(values: pd.Series):
    """The Arrow array behind a Series read as Arrow columns (core.store.columns)."""
    return values.array.__arrow_array__().combine_chunks()


_MIDNIGHT = " 00:00:00"


def _as_typed(text):
    """Arrow text of cells read as columns, shown as a person sees the cell: a date cell
    comes as `2026-01-02 00:00:00` and is shown `2026-01-02` (as text_of shows a date)."""
    import pyarrow.compute as pc

    if pc.any(pc.ends_with(text, _MIDNIGHT)).as_py():
        text = pc.replace_substring_regex(text, r"^(\d{4}-\d{2}-\d{2}) 00:00:00$", r"\1")
    return text


# Text dates by shape: each length in bytes has one form, read on the cells of that length
# only, digit by digit (0 marks a digit), so that a day or time that does not exist is left
# to the scalar parser, which says why.
_SHAPES = {19: b"0000-00-00 00:00:00", 16: b"0000-00-00 00:00", 10: b"0000-00-00"}
_FIELDS = ((0, 4), (5, 7), (8, 10), (11, 13), (14, 16), (17, 19))  # y m d H M S
_LIMITS = ((MIN_YEAR, MAX_YEAR), (1, 12), (1, 31), (0, 23), (0, 59), (0, 59))
_US_PER_DAY = 86_400_000_000


def _shaped(cells, size: int) -> np.ndarray:
    """datetime64[s] of the cells (Arrow text, each `size` bytes long) written exactly in the
    form of that size; NaT for any other cell, a date that does not exist (30 February) and
    a year outside MIN_YEAR..MAX_YEAR."""
    shape = np.frombuffer(_SHAPES[size], np.uint8)
    k = len(cells)
    start = int(np.frombuffer(cells.buffers()[1], np.int32)[cells.offset])
    # every cell is `size` bytes, so the cells lie back to back: a (k, size) grid of bytes
    grid = np.frombuffer(cells.buffers()[2], np.uint8, k * size, start).reshape(k, size)
    digits = grid - np.uint8(ord("0"))
    digit = shape == ord("0")
    ok = (digits[:, digit] <= 9).all(axis=1) & (grid[:, ~digit] == shape[~digit]).all(axis=1)
    parts = []
    for (a, b), (low, high) in zip(_FIELDS, _LIMITS, strict=True):
        v = np.zeros(k, dtype=np.int64)
        for i in range(a, min(b, size)):
            v = v * 10 + digits[:, i]
        if b <= size:
            ok &= (v >= low) & (v <= high)
        parts.append(v)
    y, m, d, hh, mm, ss = parts
    month = ((np.where(ok, y, 1970) - 1970) * 12 + np.where(ok, m, 1) - 1).astype("datetime64[M]")
    first = month.astype("datetime64[D]")
    ok &= d <= ((month + 1).astype("datetime64[D]") - first).astype(np.int64)
    got = first.astype("datetime64[s]") + ((d - 1) * 86_400 + hh * 3_600 + mm * 60 + ss)
    got[~ok] = np.datetime64("NaT")
    return got


def _datetime_text_column(values: pd.Series, date_only: bool, tz: dt.tzinfo | None
                          ) -> tuple[pd.Series, dict[int, Bad]]:
    """A column of text (Arrow): one vectorised pass per shape of date, the scalar parser
    once per distinct cell of any other form."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pc.utf8_trim_whitespace(arrow_of(values))
    n = len(text)
    out = np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")
    todo = pc.fill_null(pc.not_equal(text, ""), False).to_numpy(zero_copy_only=False)
    if not todo.any():
        return pd.Series(out, index=values.index), {}
    length = pc.fill_null(pc.binary_length(text), 0).to_numpy(zero_copy_only=False)
    for size in _SHAPES:
        sel = np.flatnonzero(todo & (length == size))
        if not len(sel):
            continue
        got = _shaped(text.take(pa.array(sel)), size).astype("datetime64[us]")
        ok = ~np.isnat(got)
        if date_only:
            ok &= got.astype(np.int64) % _US_PER_DAY == 0
        out[sel[ok]] = got[ok]
        todo[sel[ok]] = False
    bad: dict[int, Bad] = {}
    rest = np.flatnonzero(todo)
    if len(rest):
        parser = parse_date if date_only else parse_datetime
        cells = _as_typed(text.take(pa.array(rest))).to_pylist()
        cache: dict[str, object] = {}
        index = values.index
        for pos, v in zip(rest, cells, strict=True):
            if v not in cache:
                cache[v] = parser(v, tz)
            r = cache[v]
            if isinstance(r, Bad):
                bad[index[pos]] = r
            elif r is not None:
                out[pos] = np.datetime64(r, "us")
    return pd.Series(out, index=values.index), bad


def _datetime_column(values: pd.Series, date_only: bool, tz: dt.tzinfo | None
                     ) -> tuple[pd.Series, dict[int, Bad]]:
    if isinstance(values.dtype, pd.ArrowDtype):
        return _datetime_text_column(values, date_only, tz)
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
    bad: dict[int, Bad] = {}
    cells = values.to_numpy(dtype=object)
    # One pass over the cells: 2 a native date-time, 1 text, 0 anything else.
    native_types = (dt.datetime, pd.Timestamp)
    kind = np.fromiter((2 if type(v) in native_types else 1 if type(v) is str else 0
                        for v in cells), np.int8, len(cells))
    native = pd.Series(kind == 2, index=values.index)
    if native.any():
        conv = pd.to_datetime(values[native], errors="coerce")
        if getattr(conv.dt, "tz", None) is None:
            conv = conv.dt.floor("us")  # a Timestamp's nanoseconds: below what a sheet holds
            ok = conv.notna()
            out[conv.index[ok]] = conv[ok]
            if date_only:
                timed = ok & (conv.dt.normalize() != conv)
                for i in conv.index[timed]:
                    bad[i] = _bad("date_has_time", value=values[i])
                    out[i] = pd.NaT
            native &= ok.reindex(values.index, fill_value=False)
        else:
            native[:] = False
    strings = pd.Series(kind == 1, index=values.index)
    if strings.any():
        s = values[strings].str.strip()
        s = s[s.ne("")]  # blank cells are simply empty: no format to try
        for fmt in _FAST_FORMATS:
            if s.empty:
                break
            conv = pd.to_datetime(s, format=fmt, errors="coerce")
            hit = conv.notna() & conv.dt.year.between(MIN_YEAR, MAX_YEAR)
            if fmt.endswith("%S"):  # pandas rolls 08:04:60 over to 08:05; the parser does not
                hit &= ~s.str.endswith(":60")
            if date_only:
                hit &= conv.dt.normalize() == conv
            out[hit[hit].index] = conv[hit]
            s = s[~hit]
        done = native | strings
        done[s.index] = False
    else:
        done = native
    rest = values[~done]
    if not rest.empty:
        parser = parse_date if date_only else parse_datetime
        cache: dict[object, object] = {}
        for i, v in rest.items():
            key = (type(v), v)
            if key not in cache:
                cache[key] = parser(v, tz)
            r = cache[key]
            if isinstance(r, Bad):
                bad[i] = r
            elif r is not None:
                out[i] = r
    return out, bad


# --- everything else ---------------------------------------------------------------------

def text_of(v: object) -> str:
    """A cell as the text a person sees: integral numbers without '.0', dates in ISO form."""
    if is_blank(v):
        return ""
    if isinstance(v, str):
        return v.strip()
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    if isinstance(v, (dt.datetime, dt.date, dt.time)):
        return v.isoformat(sep=" ") if isinstance(v, dt.datetime) else v.isoformat()
    return str(v).strip()


def parse_enum(v: object, values: ValueSet) -> str | Bad:
    text = text_of(v)
    if not text:
        return ""
    key = values.lookup.get(norm(text))
    if key is None:
        return _bad("enum", value=text, allowed=" / ".join(
            f"{c.zh} {c.en}" if c.zh != c.en else c.en for c in values.choices))
    return key


def parse_int(v: object) -> int | Bad | None:
    text = text_of(v)
    if not text:
        return None
    try:
        f = float(unicodedata.normalize("NFKC", text))
    except ValueError:
        return _bad("int", value=text)
    if not f.is_integer() or f < 0:
        return _bad("int", value=text)
    return int(f)


def trimmed(values: pd.Series) -> pd.Series:
    """Text with surrounding spaces removed, in Arrow, one Python string per distinct text
    (most columns repeat a few values)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(values.dtype, pd.ArrowDtype):  # blank cells read as Arrow are ""
        enc = pc.dictionary_encode(arrow_of(values), null_encoding="encode")
        words = _as_typed(pc.fill_null(pc.utf8_trim_whitespace(enc.dictionary), ""))
    else:
        enc = pc.dictionary_encode(pa.array(values.to_numpy(dtype=object), type=pa.string()),
                                   null_encoding="encode")
        words = pc.utf8_trim_whitespace(enc.dictionary)
    cells = np.array(words.to_pylist(), dtype=object)
    return pd.Series(cells[enc.indices.to_numpy(zero_copy_only=False)], index=values.index,
                     dtype=object, name=values.name)


def parse_column(values: pd.Series, column: Column, value_set: ValueSet | None,
                 tz: dt.tzinfo | None = None) -> tuple[pd.Series, dict[int, Bad]]:
    """Type one column; returns the typed values and the Bad cells by index label."""
    if column.type in ("datetime", "date"):
        return _datetime_column(values, column.type == "date", tz)
    if column.type in ("enum", "bool", "category"):
        fn = lambda u: parse_enum(u, value_set)  # noqa: E731
    elif column.type == "int":
        fn = parse_int
    else:  # id, text, phone: the text a person sees; leading zeros are kept in text cells
        if (isinstance(values.dtype, pd.ArrowDtype)
                or pd.api.types.infer_dtype(values, skipna=False) == "string"):
            return trimmed(values), {}  # all text: one vectorised pass
        fn = text_of
    mapped, codes, distinct = map_distinct(values, fn)
    bad_codes = [i for i, r in enumerate(distinct) if isinstance(r, Bad)]
    bad_mask = pd.Series(np.isin(codes, bad_codes), index=values.index)
    bad = {i: mapped[i] for i in mapped.index[bad_mask.to_numpy()]}
    if bad:
        mapped = mapped.where(~bad_mask, None if column.type == "int" else "")
    if column.type == "int":
        return pd.array(mapped.tolist(), dtype="Int64"), bad
    if column.type == "bool":  # from the distinct values: yes, no, else NA (blank or bad)
        truth = np.array([r == "yes" for r in distinct], dtype=bool)
        known = np.array([r in ("yes", "no") for r in distinct], dtype=bool)
        return pd.Series(pd.arrays.BooleanArray(truth[codes], ~known[codes]),
                         index=values.index, name=values.name), bad
    return mapped.astype(object), bad
