"""Policy presets (sheets_schema/policies/*.yaml) and the Settings tab's overrides, as
pydantic models: a preset file is checked once as a whole, and a Settings cell is typed and
checked by the same model as the preset's own value."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from typing_extensions import TypedDict

from core.errors import PolicyError, SchemaError
from core.reading.schema import (
    SCHEMA_DIR,
    Choice,
    Entry,
    Schema,
    Text,
    Texts,
    ValueSet,
    bad,
    file_error,
    one_of,
    read_yaml,
)

POLICY_DIR = SCHEMA_DIR / "policies"
UNITS = ("hours", "days", "working_days", "same_day")
DEFAULT_POLICY = "consumer"


def split_list(text: str) -> list[str]:
    """A Settings cell holding a list: items separated by commas, 、, semicolons or spaces."""
    return [p for p in re.split(r"[,，、;；\s]+", str(text).strip()) if p]


# A value of a preset file or a Settings cell (text), each typed the same way.
def _number(v: object) -> float:
    try:
        return float(str(v).strip())
    except ValueError:
        raise bad("number", "expected a number") from None


def _whole(v: object) -> int:
    f = _number(v)
    if not f.is_integer() or f < 0:
        raise bad("whole", "expected a whole number of 0 or more")
    return int(f)


def _fraction(v: object) -> float:
    f = _number(v)
    if not 0 <= f <= 1:
        raise bad("fraction", "expected a number between 0 and 1")
    return f


def _yes_no(v: object) -> bool:
    folded = v if isinstance(v, bool) else str(v).strip().lower()
    if folded in (True, "yes", "true", "1", "是"):
        return True
    if folded in (False, "no", "false", "0", "否"):
        return False
    raise bad("yes_no", "expected yes or no")


def _years(years: list[str]) -> list[str]:
    if not all(re.fullmatch(r"\d{4}", y) for y in years):
        raise bad("years", "expected years such as 2027, 2028")
    return years


def _zone(name: str | None) -> str | None:
    try:
        ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise bad("zone", "unknown time zone, e.g. Asia/Shanghai") from None
    return name


def _length(v: object) -> int | float | dict:
    if isinstance(v, dict):
        if "by" not in v or "blank" not in v or v["blank"] not in v:
            raise bad("length_by", "a length by column needs 'by' and 'blank' (the value "
                      "assumed, with a problem, while the cell is empty)")
        return v
    f = v if isinstance(v, (int, float)) and not isinstance(v, bool) else _number(v)
    if f < 0:
        raise bad("length", "expected a length of 0 or more")
    return f


Whole = Annotated[int, BeforeValidator(_whole)]
Fraction = Annotated[float, BeforeValidator(_fraction)]
YesNo = Annotated[bool, BeforeValidator(_yes_no)]
Words = Annotated[list[str], BeforeValidator(lambda v: [str(w) for w in v]
                                             if isinstance(v, list) else split_list(v))]
Line = Annotated[str | None, BeforeValidator(lambda v: v if v is None else str(v).strip() or None)]
Unit = Annotated[str, one_of(*UNITS)]
Length = Annotated[int | float | dict, BeforeValidator(_length)]
Milestones = Annotated[tuple[str, ...], BeforeValidator(lambda v: v if isinstance(v, list)
                                                        else [v])]
Case = TypedDict("Case", {"if": dict, "length": int | float, "unit": Unit}, total=False)


class _Section(Entry):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Settings(_Section):
    """The settings a preset gives (_defaults.yaml holds every value, with its rule) and the
    Settings tab may change."""

    id_prefix: Line
    timezone: Annotated[Line, AfterValidator(_zone)]
    due_soon_fraction: Fraction
    due_soon_working_days: Whole
    repeat_window_days: Whole
    group_threshold: Whole
    group_window_days: Whole
    group_similarity: Whole
    group_ignore_words: Words
    trend_threshold: Whole
    reject_after_years: Whole
    calendar_complete: Annotated[Words, AfterValidator(_years)]
    callback_target: Fraction
    letters: Line
    organisation: Line
    letters_dir: Line


class Scoring(_Section):
    result_clock: Line
    rectification_clock: Line
    points_per_day_late: Whole
    points_per_week_late: Whole
    repeat_multiplier: Whole
    praise_bonus: Whole
    praise_min_count: Whole
    direct_complaint_penalty: Whole
    yuan_per_point: Whole
    escalation_points: Whole


class Closure(_Section):
    written_reply: YesNo
    written_channels: Words
    root_cause: YesNo
    corrective_action: YesNo
    callback: YesNo
    archived: YesNo


class ClockSpec(Entry):
    """One deadline: from the first non-empty `start` milestone to `stop`, `length` `unit`s.

    `start_if` limits a start milestone to rows matching a condition ({column: values});
    `when` limits the whole clock to matching rows; `stop_also` names milestones that stop
    it too (the earliest recorded wins); `needs` names columns the clock cannot do without,
    so a blank one is a problem on its row (the `by` column of a length is always needed).
    """

    id: Text
    zh: Text
    en: Text
    start: Milestones
    stop: Text
    unit: Unit
    length: Length
    cases: tuple[Case, ...] = ()
    seed: Text = ""
    start_if: dict = Field(default_factory=dict)
    when: dict = Field(default_factory=dict)
    stop_also: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()

    @field_validator("cases", "start_if", "when", "stop_also", "needs", mode="before")
    @classmethod
    def _blank_is_empty(cls, v: object, info: ValidationInfo) -> object:
        return v if v is not None else cls.model_fields[info.field_name].get_default(call_default_factory=True)

    @model_validator(mode="after")
    def _milestones_are_columns(self, info: ValidationInfo) -> ClockSpec:
        conds = [c for cond in (*self.start_if.values(), self.when) for c in cond]
        for m in (*self.start, self.stop, *self.stop_also, *self.start_if, *conds, *self.needs):
            if m not in info.context["columns"]:
                raise bad("milestone", "names milestone '{m}', which is not a column of the "
                          "register", m=m)
        return self

    def label(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    @property
    def needed(self) -> tuple[str, ...]:
        """Columns a row must fill for this clock: `needs` and the length's `by` column."""
        by = (self.length["by"],) if isinstance(self.length, dict) else ()
        return tuple(dict.fromkeys((*self.needs, *by)))


class Omitted(Entry):
    clock: Text
    reason: Annotated[str, Field(min_length=1)]


class Preset(Entry):
    """A preset file, over _defaults.yaml's settings, scoring, closure and flow."""

    name: Text
    zh: Text
    en: Text
    seeds: Texts
    categories: tuple[Choice, ...]
    clocks: tuple[ClockSpec, ...]
    settings: Settings
    scoring: Scoring
    closure: Closure
    omitted: tuple[Omitted, ...] = ()
    flow: Texts = ()

    @model_validator(mode="after")
    def _one_clock_an_id(self) -> Preset:
        ids = [c.id for c in self.clocks]
        if len(set(ids)) < len(ids):
            raise bad("clock_ids", "clock '{id}' is defined twice",
                      id=next(i for i in ids if ids.count(i) > 1))
        return self


@dataclass(frozen=True)
class Policy:
    name: str
    zh: str
    en: str
    seeds: tuple[str, ...]
    settings: dict
    scoring: dict
    closure: dict
    categories: ValueSet
    clocks: tuple[ClockSpec, ...]
    omitted: tuple[tuple[str, str], ...] = ()   # (clock id, reason) of the regime's clocks left out
    flow: tuple[str, ...] = ()                 # R-FLOW steps the preset uses, in order

    def label(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    def clock(self, clock_id: str) -> ClockSpec | None:
        return next((c for c in self.clocks if c.id == clock_id), None)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.settings["timezone"])


def policy_names() -> list[str]:
    return sorted(p.stem for p in POLICY_DIR.glob("*.yaml") if not p.stem.startswith("_"))


def policy_title(name: str | None, lang: str) -> str:
    """A preset's name as people read it (物业服务中心, not `property`); None: the register's
    own setting."""
    from core.reading.i18n import label

    if name is None:
        return label("policy_default", lang)
    return _title(name, lang)


@cache
def _title(name: str, lang: str) -> str:
    """Read once per process, as presets are (the policy box shows every title on each run)."""
    raw = _yaml(POLICY_DIR / f"{name}.yaml")
    return str(raw.get("zh" if lang == "zh" else "en") or name)


def _yaml(path: Path) -> dict:
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise SchemaError(f"{path}: must be a mapping of keys to values")
    return data


@cache
def _preset(name: str) -> dict:
    """The preset file as written, over _defaults.yaml (checked by `Preset` in load_policy)."""
    path = POLICY_DIR / f"{name}.yaml"
    if not path.exists():
        raise PolicyError(f"There is no policy preset '{name}'; choose one of: "
                          f"{', '.join(policy_names())}.")
    base = _yaml(POLICY_DIR / "_defaults.yaml")
    data = _yaml(path)
    merged = {**base, **data, "flow": data.get("flow") or base.get("flow") or [],
              "omitted": data.get("omitted") or []}
    for section in ("settings", "scoring", "closure"):
        merged[section] = {**base.get(section, {}), **(data.get(section) or {})}
    return merged


def _override_path(key: str, data: dict) -> tuple[str | int, ...] | None:
    """Where a Settings row's key lands in a preset (None: a key this policy does not know):
    `scoring.x`, `closure.x`, `clock.ID.length`, `clock.ID.unit` or a setting's own name."""
    section, _, sub = key.partition(".")
    if section in ("scoring", "closure") and sub in data[section]:
        return (section, sub)
    if section == "clock" and sub.count(".") == 1:
        cid, field = sub.split(".")
        ids = [c.get("id") if isinstance(c, dict) else None for c in data.get("clocks") or ()]
        return ("clocks", ids.index(cid), field) if cid in ids and field in ("length", "unit") \
            else None
    return ("settings", key) if key in data["settings"] else None


def load_policy(name: str, schema: Schema, overrides: dict[str, str] | None = None
                ) -> tuple[Policy, list[tuple[str, str, str, str]]]:
    """The named preset with the Settings tab's overrides applied.

    Returns the policy and the overrides that were refused, as (key, value, reason, default):
    a refused override leaves the preset's value in force. A broken preset file raises
    SchemaError naming the file and the entry.
    """
    data = _preset(name)
    where = str(POLICY_DIR / f"{name}.yaml")
    context = {"columns": {c.key for c in schema.tab("complaints").columns}}
    reasons: dict[str, tuple[str, str, str, str]] = {}
    paths: dict[tuple[str | int, ...], str] = {}
    for key, value in (overrides or {}).items():
        path = _override_path(key, data) if key.partition(".")[0] != "policy" else ()
        if path is None:
            reasons[key] = (key, value, "unknown", "")
        elif path:
            paths[path] = key
    while True:  # once more without the overrides refused, until it holds
        changed = copy.deepcopy(data)
        for (*at, last), key in paths.items():
            _at(changed, at)[last] = overrides[key]
        try:
            preset = Preset.model_validate(changed, context=context)
            break
        except ValidationError as exc:
            bad_paths = {p: e["msg"] for e in exc.errors(include_url=False) for p in paths
                         if e["loc"][:len(p)] == p}
            if not bad_paths:
                raise file_error(where, data, exc) from None
            for path, reason in bad_paths.items():
                key = paths.pop(path)
                reasons[key] = (key, overrides[key], reason, _shown(data, path))
    policy = Policy(preset.name, preset.zh, preset.en, preset.seeds, preset.settings.model_dump(),
                    preset.scoring.model_dump(), preset.closure.model_dump(),
                    ValueSet.build("category", list(preset.categories), where), preset.clocks,
                    tuple((o.clock, o.reason) for o in preset.omitted), preset.flow)
    return policy, [reasons[k] for k in overrides or {} if k in reasons]


def _shown(data: dict, path: tuple[str | int, ...]) -> str:
    """The preset's own value at `path`, as a refused override's warning names it."""
    try:
        return str(_at(data, path))
    except (KeyError, IndexError, TypeError):
        return "—"  # the preset leaves it to its defaults


def _at(data: Any, path: Iterable) -> Any:
    for step in path:
        data = data[step]
    return data
