"""The register schema, loaded from sheets_schema/register.yaml and checked at start."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from functools import cache, cached_property, lru_cache
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from core.errors import SchemaError

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "sheets_schema"
HEADER_SEARCH_ROWS = 10  # a header may sit below a title row or two
TYPES = {"id", "text", "phone", "datetime", "date", "enum", "bool", "int", "category"}


def norm(text: object) -> str:
    """Fold a header or value for matching: trim, collapse spaces, ignore case and width."""
    return _norm(text if isinstance(text, str) else str(text))


@lru_cache(maxsize=1 << 16)  # the same headers and values are folded on every read
def _norm(text: str) -> str:
    s = unicodedata.normalize("NFKC", text).strip().lower()
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


# What str.split() splits on and NFKC leaves as is (RE2's \s is the ASCII [\t\n\f\r ] only).
_SPACES = r"[\s\x0b\x1c-\x1f\x85\x{1680}\x{2028}\x{2029}]+"
# str.lower() maps İ to two characters and Σ by its place in the word; utf8_lower one to one.
_SPECIAL_LOWER = r"[\x{130}\x{3a3}]"


def _fold_text(values):
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(values.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
    arr = pc.utf8_normalize(pc.fill_null(arr, ""), "NFKC")
    special = np.flatnonzero(pc.match_substring_regex(arr, _SPECIAL_LOWER))
    arr = pc.utf8_trim_whitespace(pc.replace_substring_regex(pc.utf8_lower(arr), _SPACES, " "))
    out = arr.to_numpy(zero_copy_only=False).astype(object)
    out[special] = [norm(v) for v in values.to_numpy(dtype=object)[special]]
    return pd.Series(out, dtype=object)


Text = Annotated[str, BeforeValidator(str)]
Texts = Annotated[tuple[str, ...], BeforeValidator(lambda v: tuple(str(a) for a in v or ()))]
#: what a collection's entries are called in a sentence about a broken file
NOUNS = {"value_sets": "value set", "tabs": "tab", "columns": "column", "clocks": "clock",
         "categories": "category", "omitted": "omitted clock",
         "milestone_order": "milestone_order entry", "cases": "case"}


def bad(code: str, text: str, **params: object) -> PydanticCustomError:
    """A validation error whose message is our own sentence (no "Value error, " before it)."""
    return PydanticCustomError(code, text, params)


def one_of(*choices: str) -> AfterValidator:
    def check(v: str) -> str:
        if v not in choices:
            raise bad("one_of", "expected one of {choices}", choices=", ".join(choices))
        return v
    return AfterValidator(check)


class Entry(BaseModel):
    """An entry of a file in sheets_schema/: frozen, and a mapping holding every required key
    (else: "each column needs key, zh, en and type")."""

    model_config = ConfigDict(frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _needs(cls, raw: object) -> object:
        need = [n for n, f in cls.model_fields.items() if f.is_required()]
        if not isinstance(raw, dict) or any(n not in raw for n in need):
            raise bad("needs", "needs {fields}", fields=need)
        return raw


def _and(items: list[str]) -> str:
    return ", ".join(items[:-1]) + " and " + items[-1] if len(items) > 1 else "".join(items)


def file_error(where: str, data: object, exc: ValidationError) -> SchemaError:
    """The first error of a file's validation as one sentence naming the file and the entry:
    entries by their key (tab 'complaints': column 'id'), then what is wrong."""
    err = exc.errors(include_url=False)[0]
    loc, kind = err["loc"], err["type"]
    parts, node, at = [where], data, None
    for step in loc[:-1] if kind == "needs" else loc:
        node = node[step] if isinstance(node, (dict, list)) and _has(node, step) else None
        if at in NOUNS or isinstance(step, int):
            named = next((f"'{node[k]}'" for k in ("key", "id", "clock")
                          if isinstance(node, dict) and k in node),
                         f"'{step}'" if isinstance(step, str) else step + 1)
            parts.append(f"{NOUNS.get(at, 'value')} {named}")
            at = None
        else:
            at = f"{at}.{step}" if at else step
    head = ": ".join(parts)
    if kind == "needs" and not loc:
        return SchemaError(f"{where}: needs the top-level entries "
                           f"{_and([repr(f) for f in err['ctx']['fields']])}")
    if kind == "needs":
        noun = NOUNS.get(at, "value")
        return SchemaError(f"{head}: each {noun} needs {_and(err['ctx']['fields'])} "
                           f"(got {err['input']!r:.80})")
    if at is None:
        return SchemaError(f"{head}: {err['msg']}")
    if kind == "one_of":
        return SchemaError(f"{head} has unknown {at} '{err['input']}' ({err['msg']})")
    return SchemaError(f"{head}: '{at}' = {err['input']!r:.80} is not valid ({err['msg']})")


def _has(node: dict | list, step: str | int) -> bool:
    return step in node if isinstance(node, dict) else isinstance(step, int) and step < len(node)


#: libyaml's parser when PyYAML was built with it: the same data, about ten times faster
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path) -> object:
    """The data of a YAML file; SchemaError when it cannot be read."""
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER)
    except (OSError, yaml.YAMLError) as exc:
        raise SchemaError(f"{path}: cannot be read as YAML ({exc})") from exc


class Choice(Entry):
    key: Text
    zh: Text
    en: Text
    aliases: Texts = ()

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


class Column(Entry):
    key: Text
    zh: Text
    en: Text
    type: Annotated[str, one_of(*sorted(TYPES))]
    values: str | None = None
    required: bool = False
    bookkeeping: bool = False
    aliases: Texts = ()

    @model_validator(mode="before")
    @classmethod
    def _bool_is_yes_no(cls, raw: object) -> object:
        return {**raw, "values": "yes_no"} if isinstance(raw, dict) and raw.get("type") == "bool" else raw

    def header(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    def spellings(self) -> tuple[str, ...]:
        return (self.key, self.zh, self.en, *self.aliases)


class Tab(Entry):
    key: Text
    zh: Text
    en: Text
    columns: tuple[Column, ...]
    required: bool = False

    @model_validator(mode="after")
    def _headers_are_distinct(self) -> Tab:
        seen: dict[str, str] = {}
        for c in self.columns:
            for s in c.spellings():
                if seen.get(norm(s), c.key) != c.key:
                    raise bad("header", "header '{s}' names both '{a}' and '{b}'",
                              s=s, a=seen[norm(s)], b=c.key)
                seen[norm(s)] = c.key
        return self

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

    @cached_property
    def header_keys(self) -> dict[str, str]:
        """Column key by folded spelling (key, zh, en, aliases)."""
        return {norm(s): c.key for c in self.columns for s in c.spellings()}

    def header_lang(self, headers: list[object]) -> str:
        """The language a header row is written in: "en" when more of its cells are the
        columns' English names than their Chinese ones, else "zh"."""
        texts = {str(h).strip() for h in headers if h not in (None, "")}
        zh = sum(1 for c in self.columns if c.zh in texts)
        en = sum(1 for c in self.columns if c.en in texts)
        return "en" if en > zh else "zh"

    def match_headers(self, headers: list[object]) -> dict[str, int]:
        """Map column keys to 0-based positions of the given header row (first match wins)."""
        wanted = self.header_keys
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


class _SchemaFile(Entry):
    """sheets_schema/register.yaml as written."""

    value_sets: dict[str, list[Choice]]
    tabs: list[Tab]
    milestone_order: list[tuple[str, str]] = []

    @field_validator("value_sets", "tabs", "milestone_order", mode="before")
    @classmethod
    def _blank_is_empty(cls, v: object, info: ValidationInfo) -> object:
        return v if v is not None else {} if info.field_name == "value_sets" else []

    @model_validator(mode="after")
    def _references(self) -> _SchemaFile:
        complaints = next((t for t in self.tabs if t.key == "complaints"), None)
        for t in self.tabs:
            for c in t.columns:
                if c.type == "enum" and c.values not in self.value_sets:
                    raise bad("value_set", "tab '{t}': column '{c}' names value set '{v}', "
                              "which is not defined under value_sets", t=t.key, c=c.key, v=c.values)
        if complaints is None:
            raise bad("complaints", "the tab 'complaints' is missing")
        keys = {c.key for c in complaints.columns}
        for pair in self.milestone_order:
            if not set(pair) <= keys:
                raise bad("milestone", "milestone_order entry {pair} must be two column keys",
                          pair=list(pair))
        return self


def load_schema(path: Path | None = None) -> Schema:
    """Read and check the register schema; a broken file raises SchemaError naming the entry."""
    path = Path(path or SCHEMA_DIR / "register.yaml")
    data = read_yaml(path)
    try:
        file = _SchemaFile.model_validate(data)
    except ValidationError as exc:
        raise file_error(str(path), data, exc) from None
    value_sets = {name: ValueSet.build(name, choices, str(path))
                  for name, choices in file.value_sets.items()}
    return Schema(tuple(file.tabs), value_sets, tuple(file.milestone_order))


@cache
def schema() -> Schema:
    """The product's schema, loaded once per process."""
    return load_schema()
