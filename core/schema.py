"""The register schema, loaded from sheets_schema/register.yaml and checked at start."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

from core.errors import SchemaError

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "sheets_schema"
HEADER_SEARCH_ROWS = 10  # a header may sit below a title row or two
TYPES = {"id", "text", "phone", "datetime", "date", "enum", "bool", "int", "category"}


def norm(text: object) -> str:
    """Fold a header or value for matching: trim, collapse spaces, ignore case and width."""
    import unicodedata

    s = unicodedata.normalize("NFKC", str(text)).strip().lower()
    return " ".join(s.split())


_BOOL_TEXT = {"true": "TRUE", "false": "FALSE"}


def map_distinct(values, fn):
    """`fn` over a pandas Series, called once per distinct value (C hashing, numpy take).

    Returns the mapped Series and, for each row, the code of its distinct value and the
    mapped distinct values (so callers can test results per distinct value, not per row).
    """
    import numpy as np
    import pandas as pd

    if isinstance(values.dtype, pd.ArrowDtype):  # read as Arrow columns: no object copy
        import pyarrow.compute as pc

        arr = values.array.__arrow_array__().combine_chunks()
        enc = pc.dictionary_encode(arr, null_encoding="encode")
        # A TRUE/FALSE cell comes as `true`/`false`: shown as the sheet shows it.
        uniques = [_BOOL_TEXT.get(u, u) for u in enc.dictionary.to_pylist()]
        codes = enc.indices.to_numpy(zero_copy_only=False)
    else:
        cells = values.to_numpy(dtype=object)
        # Python hashes True like 1 (and 1.0): a TRUE cell is kept apart as the sheet shows it.
        flags = [i for i, v in enumerate(cells) if type(v) is bool]
        if flags:
            cells = cells.copy()
            cells[flags] = ["TRUE" if cells[i] else "FALSE" for i in flags]
        codes, uniques = pd.factorize(cells, use_na_sentinel=False)
    out = np.empty(len(uniques), dtype=object)
    out[:] = [fn(u) for u in uniques]
    mapped = out[codes] if len(codes) else np.empty(0, dtype=object)
    return pd.Series(mapped, index=values.index, dtype=object, name=values.name), codes, out


def on_distinct(values, fn):
    """`fn` (a Series of text to a Series) applied to the distinct values of `values` only
    and spread back to every row: a column of 100k cells holds far fewer distinct texts."""
    import pandas as pd

    codes, uniques = pd.factorize(values.to_numpy(dtype=object), use_na_sentinel=False)
    done = fn(pd.Series(uniques, dtype=object)).to_numpy(dtype=object)
    return pd.Series(done[codes], index=values.index, dtype=object, name=values.name)


def fold(values):
    """`norm` over a pandas Series of text, vectorised: NFKC, lower case, spaces collapsed;
    each distinct text folded once."""
    import pyarrow as pa

    if values.empty:
        return values.astype(object)
    try:
        return on_distinct(values, _fold_text)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # not all text: the scalar way
        return map_distinct(values, norm)[0]


def _fold_text(values):
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(values.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
    arr = pc.utf8_lower(pc.utf8_normalize(pc.fill_null(arr, ""), "NFKC"))
    arr = pc.utf8_trim_whitespace(pc.replace_substring_regex(arr, r"\s+", " "))
    return pd.Series(arr.to_numpy(zero_copy_only=False), dtype=object)


@dataclass(frozen=True)
class Choice:
    key: str
    zh: str
    en: str
    aliases: tuple[str, ...] = ()

    def label(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class ValueSet:
    name: str
    choices: tuple[Choice, ...]
    lookup: dict[str, str] = field(repr=False, compare=False, hash=False, default_factory=dict)

    @classmethod
    def build(cls, name: str, choices: list[Choice], where: str) -> ValueSet:
        lookup: dict[str, str] = {}
        for c in choices:
            for spelling in (c.key, c.zh, c.en, *c.aliases):
                k = norm(spelling)
                if lookup.get(k, c.key) != c.key:
                    raise SchemaError(f"{where}: value set '{name}': '{spelling}' names both "
                                      f"'{lookup[k]}' and '{c.key}'")
                lookup[k] = c.key
        return cls(name, tuple(choices), lookup)

    def keys(self) -> list[str]:
        return [c.key for c in self.choices]

    def label(self, key: str, lang: str) -> str:
        for c in self.choices:
            if c.key == key:
                return c.label(lang)
        return key


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    en: str
    type: str
    values: str | None = None
    required: bool = False
    bookkeeping: bool = False
    aliases: tuple[str, ...] = ()

    def header(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    def spellings(self) -> tuple[str, ...]:
        return (self.key, self.zh, self.en, *self.aliases)


@dataclass(frozen=True)
class Tab:
    key: str
    zh: str
    en: str
    columns: tuple[Column, ...]
    required: bool = False

    def title(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    def column(self, key: str) -> Column:
        for c in self.columns:
            if c.key == key:
                return c
        raise KeyError(key)

    def names(self) -> tuple[str, ...]:
        return (self.key, self.zh, self.en, f"{self.en} {self.zh}", f"{self.zh} {self.en}")

    def find_header(self, rows: list[list[object]], limit: int = HEADER_SEARCH_ROWS) -> int:
        """0-based index of the header among the first `limit` rows: the row that names the
        most of this tab's columns (a title row or two above it is skipped). 0 when no row
        names any column, so the caller reports the missing headers."""
        best, best_n = 0, 0
        for i, row in enumerate(rows[:limit]):
            n = len(self.match_headers(list(row)))
            if n > best_n:
                best, best_n = i, n
        return best

    def match_headers(self, headers: list[object]) -> dict[str, int]:
        """Map column keys to 0-based positions of the given header row (first match wins)."""
        wanted = {norm(s): c.key for c in self.columns for s in c.spellings()}
        found: dict[str, int] = {}
        for i, h in enumerate(headers):
            key = wanted.get(norm(h)) if h not in (None, "") else None
            if key and key not in found:
                found[key] = i
        return found


@dataclass(frozen=True)
class Schema:
    tabs: tuple[Tab, ...]
    value_sets: dict[str, ValueSet]
    milestone_order: tuple[tuple[str, str], ...] = ()

    def tab(self, key: str) -> Tab:
        for t in self.tabs:
            if t.key == key:
                return t
        raise KeyError(key)

    def find_tab(self, titles: list[str], key: str) -> str | None:
        """The actual sheet title among `titles` that holds tab `key`, if any."""
        names = {norm(n) for n in self.tab(key).names()}
        for t in titles:
            if norm(t) in names:
                return t
        return None


def _choice(raw: object, where: str) -> Choice:
    if not isinstance(raw, dict) or not {"key", "zh", "en"} <= raw.keys():
        raise SchemaError(f"{where}: each value needs key, zh and en (got {raw!r})")
    return Choice(str(raw["key"]), str(raw["zh"]), str(raw["en"]),
                  tuple(str(a) for a in raw.get("aliases", []) or []))


def _column(raw: object, where: str, value_sets: dict[str, ValueSet]) -> Column:
    if not isinstance(raw, dict) or not {"key", "zh", "en", "type"} <= raw.keys():
        raise SchemaError(f"{where}: a column needs key, zh, en and type (got {raw!r})")
    col = Column(key=str(raw["key"]), zh=str(raw["zh"]), en=str(raw["en"]), type=str(raw["type"]),
                 values=raw.get("values"), required=bool(raw.get("required", False)),
                 bookkeeping=bool(raw.get("bookkeeping", False)),
                 aliases=tuple(str(a) for a in raw.get("aliases", []) or []))
    if col.type not in TYPES:
        raise SchemaError(f"{where}: column '{col.key}' has unknown type '{col.type}' "
                          f"(one of {', '.join(sorted(TYPES))})")
    if col.type == "enum" and col.values not in value_sets:
        raise SchemaError(f"{where}: column '{col.key}' names value set '{col.values}', "
                          f"which is not defined under value_sets")
    if col.type == "bool":
        col = Column(**{**col.__dict__, "values": "yes_no"})
    return col


def load_schema(path: Path | None = None) -> Schema:
    """Read and check the register schema; a broken file raises SchemaError naming the entry."""
    path = Path(path or SCHEMA_DIR / "register.yaml")
    where = str(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SchemaError(f"{where}: cannot be read as YAML ({exc})") from exc
    if not isinstance(data, dict) or "tabs" not in data or "value_sets" not in data:
        raise SchemaError(f"{where}: needs the top-level entries 'value_sets' and 'tabs'")
    value_sets = {}
    for name, raw in (data["value_sets"] or {}).items():
        if not isinstance(raw, list):
            raise SchemaError(f"{where}: value set '{name}' must be a list")
        value_sets[name] = ValueSet.build(name, [_choice(c, f"{where}: value set '{name}'")
                                                 for c in raw], where)
    tabs = []
    for t in data["tabs"] or []:
        if not isinstance(t, dict) or not {"key", "zh", "en", "columns"} <= t.keys():
            raise SchemaError(f"{where}: a tab needs key, zh, en and columns (got {t!r:.80})")
        tw = f"{where}: tab '{t['key']}'"
        cols = tuple(_column(c, tw, value_sets) for c in t["columns"])
        seen: dict[str, str] = {}
        for c in cols:
            for s in c.spellings():
                if seen.get(norm(s), c.key) != c.key:
                    raise SchemaError(f"{tw}: header '{s}' names both '{seen[norm(s)]}' and '{c.key}'")
                seen[norm(s)] = c.key
        tabs.append(Tab(str(t["key"]), str(t["zh"]), str(t["en"]), cols, bool(t.get("required"))))
    if not any(t.key == "complaints" for t in tabs):
        raise SchemaError(f"{where}: the tab 'complaints' is missing")
    keys = {c.key for t in tabs if t.key == "complaints" for c in t.columns}
    order = []
    for pair in data.get("milestone_order") or []:
        if not (isinstance(pair, list) and len(pair) == 2 and set(pair) <= keys):
            raise SchemaError(f"{where}: milestone_order entry {pair!r} must be two column keys")
        order.append((pair[0], pair[1]))
    return Schema(tuple(tabs), value_sets, tuple(order))


@cache
def schema() -> Schema:
    """The product's schema, loaded once per process."""
    return load_schema()
