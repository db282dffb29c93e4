"""Policy presets (sheets_schema/policies/*.yaml) and the Settings tab's overrides."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.errors import PolicyError, SchemaError
from core.reading.schema import SCHEMA_DIR, Choice, Schema, ValueSet, read_yaml

POLICY_DIR = SCHEMA_DIR / "policies"
UNITS = ("hours", "days", "working_days", "same_day")
DEFAULT_POLICY = "consumer"


@dataclass(frozen=True)
class ClockSpec:
    """One deadline: from the first non-empty `start` milestone to `stop`, `length` `unit`s.

    `start_if` limits a start milestone to rows matching a condition ({column: values});
    `when` limits the whole clock to matching rows; `stop_also` names milestones that stop
    it too (the earliest recorded wins); `needs` names columns the clock cannot do without,
    so a blank one is a problem on its row (the `by` column of a length is always needed).
    """

    id: str
    zh: str
    en: str
    start: tuple[str, ...]
    stop: str
    unit: str
    length: float | dict
    cases: tuple[dict, ...] = ()
    seed: str = ""
    start_if: dict = field(default_factory=dict)
    when: dict = field(default_factory=dict)
    stop_also: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()

    def label(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    @property
    def needed(self) -> tuple[str, ...]:
        """Columns a row must fill for this clock: `needs` and the length's `by` column."""
        by = (self.length["by"],) if isinstance(self.length, dict) else ()
        return tuple(dict.fromkeys((*self.needs, *by)))


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


def _clock(raw: dict, where: str, schema: Schema) -> ClockSpec:
    need = {"id", "zh", "en", "start", "stop", "length", "unit"}
    if not isinstance(raw, dict) or need - raw.keys():
        raise SchemaError(f"{where}: a clock needs {', '.join(sorted(need))} (got {raw!r:.80})")
    cols = {c.key for c in schema.tab("complaints").columns}
    start = tuple(raw["start"]) if isinstance(raw["start"], list) else (raw["start"],)
    also = tuple(raw.get("stop_also") or ())
    start_if = dict(raw.get("start_if") or {})
    when = dict(raw.get("when") or {})
    needs = tuple(raw.get("needs") or ())
    conds = [c for cond in (*start_if.values(), when) for c in cond]
    for m in (*start, raw["stop"], *also, *start_if, *conds, *needs):
        if m not in cols:
            raise SchemaError(f"{where}: clock '{raw['id']}' names milestone '{m}', "
                              f"which is not a column of the register")
    for unit in (raw["unit"], *(c.get("unit", raw["unit"]) for c in raw.get("cases", []))):
        if unit not in UNITS:
            raise SchemaError(f"{where}: clock '{raw['id']}' has unit '{unit}' "
                              f"(one of {', '.join(UNITS)})")
    length = raw["length"]
    if isinstance(length, dict) and ("by" not in length or "blank" not in length
                                     or length["blank"] not in length):
        raise SchemaError(f"{where}: clock '{raw['id']}': a length by column needs 'by' and "
                          f"'blank' (the value assumed, with a problem, while the cell is empty)")
    return ClockSpec(str(raw["id"]), str(raw["zh"]), str(raw["en"]), start, str(raw["stop"]),
                     str(raw["unit"]), length, tuple(raw.get("cases", []) or []),
                     str(raw.get("seed", "")), start_if, when, also, needs)


@cache
def _preset(name: str) -> dict:
    path = POLICY_DIR / f"{name}.yaml"
    if not path.exists():
        raise PolicyError(f"There is no policy preset '{name}'; choose one of: "
                          f"{', '.join(policy_names())}.")
    base = _yaml(POLICY_DIR / "_defaults.yaml")
    data = _yaml(path)
    merged = copy.deepcopy(base)
    for section in ("settings", "scoring", "closure"):
        merged[section] = {**base.get(section, {}), **(data.get(section) or {})}
    for key in ("name", "zh", "en", "seeds", "categories", "clocks"):
        if key not in data:
            raise SchemaError(f"{path}: the preset needs '{key}'")
        merged[key] = data[key]
    merged["flow"] = data.get("flow") or base.get("flow") or []
    merged["omitted"] = data.get("omitted") or []
    for o in merged["omitted"]:
        if not isinstance(o, dict) or not {"clock", "reason"} <= o.keys() or not o["reason"]:
            raise SchemaError(f"{path}: each omitted clock needs 'clock' and a 'reason' "
                              f"(got {o!r})")
    return merged


def split_list(text: str) -> list[str]:
    """A Settings cell holding a list: items separated by commas, 、, semicolons or spaces."""
    return [p for p in re.split(r"[,，、;；\s]+", str(text).strip()) if p]


def _coerce(value: str, default: object) -> object:
    """A Settings cell typed like the preset's value; ValueError when it cannot be."""
    text = str(value).strip()
    if isinstance(default, list):
        return split_list(text)
    if isinstance(default, bool):
        folded = text.lower()
        if folded in ("yes", "true", "1", "是"):
            return True
        if folded in ("no", "false", "0", "否"):
            return False
        raise ValueError("expected yes or no")
    if isinstance(default, int):
        f = float(text)
        if not f.is_integer() or f < 0:
            raise ValueError("expected a whole number of 0 or more")
        return int(f)
    if isinstance(default, float):
        f = float(text)
        if not 0 <= f <= 1:
            raise ValueError("expected a number between 0 and 1")
        return f
    if default is None or isinstance(default, str):
        return text or None
    raise ValueError("this setting cannot be changed from the sheet")


def load_policy(name: str, schema: Schema, overrides: dict[str, str] | None = None
                ) -> tuple[Policy, list[tuple[str, str, str, str]]]:
    """The named preset with the Settings tab's overrides applied.

    Returns the policy and the overrides that were refused, as (key, value, reason, default):
    a refused override leaves the preset's value in force.
    """
    data = copy.deepcopy(_preset(name))
    where = str(POLICY_DIR / f"{name}.yaml")
    refused: list[tuple[str, str, str, str]] = []
    clock_raw = {c["id"]: c for c in data["clocks"]}
    for key, value in (overrides or {}).items():
        section, _, sub = key.partition(".")
        try:
            if section == "policy":
                continue
            if section in ("scoring", "closure") and sub in data[section]:
                data[section][sub] = _coerce(value, data[section][sub])
            elif section == "clock" and sub.count(".") == 1:
                cid, field = sub.split(".")
                if cid not in clock_raw or field not in ("length", "unit"):
                    raise KeyError(key)
                if field == "unit":
                    if value not in UNITS:
                        raise ValueError(f"expected one of {', '.join(UNITS)}")
                    clock_raw[cid]["unit"] = value
                else:
                    f = float(value)
                    if f < 0:
                        raise ValueError("expected a length of 0 or more")
                    clock_raw[cid]["length"] = f
            elif key in data["settings"]:
                new = _coerce(value, data["settings"][key])
                if key == "calendar_complete" and not all(re.fullmatch(r"\d{4}", y) for y in new):
                    raise ValueError("expected years such as 2027, 2028")
                if key == "timezone":
                    try:
                        ZoneInfo(str(new))
                    except (ZoneInfoNotFoundError, ValueError):
                        raise ValueError("unknown time zone, e.g. Asia/Shanghai") from None
                data["settings"][key] = new
            else:
                raise KeyError(key)
        except KeyError:
            refused.append((key, value, "unknown", ""))
        except ValueError as exc:
            default = (data["settings"].get(key) if section not in ("scoring", "closure", "clock")
                       else data.get(section, {}).get(sub, ""))
            reason = str(exc)
            if reason.startswith("could not convert"):
                reason = "expected a number"
            refused.append((key, value, reason, str(default)))
    cats = []
    for c in data["categories"]:
        if not isinstance(c, dict) or not {"key", "zh", "en"} <= c.keys():
            raise SchemaError(f"{where}: each category needs key, zh and en (got {c!r})")
        cats.append(Choice(str(c["key"]), str(c["zh"]), str(c["en"]),
                           tuple(str(a) for a in c.get("aliases", []) or [])))
    clocks = tuple(_clock(c, where, schema) for c in clock_raw.values())
    policy = Policy(str(data["name"]), str(data["zh"]), str(data["en"]),
                    tuple(str(s) for s in data["seeds"]), data["settings"], data["scoring"],
                    data["closure"], ValueSet.build("category", cats, where), clocks,
                    tuple((str(o["clock"]), str(o["reason"])) for o in data["omitted"]),
                    tuple(str(s) for s in data["flow"]))
    return policy, refused
