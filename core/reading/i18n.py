"""Bilingual text: problem and warning messages, and UI labels, from sheets_schema/."""

from __future__ import annotations

import string
from functools import cache

from core.errors import SchemaError
from core.reading.schema import SCHEMA_DIR, read_yaml

LANGS = ("zh", "en")


@cache
def _load(name: str) -> dict:
    path = SCHEMA_DIR / name
    data = read_yaml(path)
    for section, entries in (data or {}).items():
        for key, text in (entries or {}).items():
            if not isinstance(key, str):  # YAML 1.1 reads bare yes/no/on/off as booleans
                raise SchemaError(f"{path}: {section}.{key!r} must be quoted to be a text key")
            if not isinstance(text, dict) or set(LANGS) - text.keys():
                raise SchemaError(f"{path}: {section}.{key} needs both 'zh' and 'en'")
    return data


class _Counted(string.Formatter):
    """str.format, and a count's words: `{n:|complaint was|complaints were}` gives the first
    when n is 1 and the second otherwise (English; Chinese needs none)."""

    def format_field(self, value: object, format_spec: str) -> str:
        if format_spec.startswith("|"):
            one, _, other = format_spec[1:].partition("|")
            return one if str(value).strip() == "1" else other
        return super().format_field(value, format_spec)


_COUNTED = _Counted()


def fill(text: str, **params: object) -> str:
    """A text of sheets_schema/ with its {name} fields filled."""
    return _COUNTED.format(text, **params) if ":|" in text else text.format(**params)


def message(section: str, code: str, lang: str, **params: object) -> str:
    """The message `code` of `section` in `lang`, filled with `params`."""
    entry = _load("messages.yaml")[section][code]
    return fill(entry["zh" if lang == "zh" else "en"], **params)


def label(key: str, lang: str, **params: object) -> str:
    """A UI label from labels.yaml; an unknown key is shown as itself so nothing is hidden."""
    entry = _load("labels.yaml")["labels"].get(key)
    if entry is None:
        return key
    return fill(entry["zh" if lang == "zh" else "en"], **params)


def label_text(key: str, lang: str) -> str:
    """A label's text as written, its {name} fields not filled (templates are built from it)."""
    return _load("labels.yaml")["labels"][key]["zh" if lang == "zh" else "en"]
