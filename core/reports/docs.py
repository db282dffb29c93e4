"""The README's column reference and presets table, generated from sheets_schema/
(`python -m core.reports.docs`)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from core.reading.schema import Schema, schema
from core.rules.policy import load_policy, policy_names

BEGIN, END = "<!-- columns:begin -->", "<!-- columns:end -->"
PRESETS_BEGIN, PRESETS_END = "<!-- presets:begin -->", "<!-- presets:end -->"
UNITS = {"hours": "h", "days": "days", "working_days": "working days", "same_day": "same day"}
README = Path(__file__).resolve().parents[2] / "README.md"


def columns_markdown(s: Schema) -> str:
    lines = ["| key | 中文表头 | English header | type | values |", "|---|---|---|---|---|"]
    for col in s.tab("complaints").columns:
        if col.values:
            vals = " / ".join(f"{c.key} {c.zh}" if c.zh != c.key else c.key
                              for c in s.value_sets[col.values].choices)
        elif col.type == "category":
            vals = "from the policy preset"
        else:
            vals = ""
        req = " (required)" if col.required else ""
        lines.append(f"| `{col.key}` | {col.zh} | {col.en} | {col.type}{req} | {vals} |")
    return "\n".join(lines)


def _amount(n: float, unit: str) -> str:
    return "same day" if unit == "same_day" else f"{n:g} {UNITS[unit]}"


def _length(c) -> str:
    if isinstance(c.length, dict):
        by = " / ".join(f"{k} {v:g}" for k, v in c.length.items() if k not in ("by", "blank"))
        return f"{by} {UNITS[c.unit]} (by `{c.length['by']}`)"
    cases = "".join(f"; {_amount(case.get('length', c.length), case.get('unit', c.unit))} if "
                    + ", ".join(f"`{k}`" for k in case["if"]) for case in c.cases)
    return _amount(c.length, c.unit) + cases


def presets_markdown(s: Schema) -> str:
    """Every preset's clocks: id, start → stop, length, the rows it is limited to, its seed;
    and the clocks of its regime it leaves out, with the reason."""
    lines = ["| preset | clock | start → stop | length | only when | seed |",
             "|---|---|---|---|---|---|"]
    for name in policy_names():
        p, _ = load_policy(name, s)
        first = f"`{name}` {p.zh} [{', '.join(p.seeds)}]"
        for c in p.clocks:
            start = " or ".join(f"`{m}`" + (" (if " + ", ".join(f"{k} {v}" for k, v in
                                                               c.start_if[m].items()) + ")"
                                            if m in c.start_if else "") for m in c.start)
            stop = " or ".join(f"`{m}`" for m in (c.stop, *c.stop_also))
            when = ", ".join(f"`{k}` {'/'.join(map(str, v)) if isinstance(v, list) else v}"
                             for k, v in c.when.items()) or "—"
            lines.append(f"| {first} | `{c.id}` {c.zh} | {start} → {stop} | {_length(c)} | "
                         f"{when} | {c.seed} |")
            first = ""
        for cid, reason in p.omitted:
            lines.append(f"| {first} | `{cid}` left out | | | {reason} | |")
            first = ""
    return "\n".join(lines)


def update_readme(path: Path = README) -> bool:
    text = path.read_text(encoding="utf-8")
    new = re.sub(f"{BEGIN}.*?{END}", f"{BEGIN}\n{columns_markdown(schema())}\n{END}", text,
                 flags=re.S)
    new = re.sub(f"{PRESETS_BEGIN}.*?{PRESETS_END}",
                 f"{PRESETS_BEGIN}\n{presets_markdown(schema())}\n{PRESETS_END}", new, flags=re.S)
    path.write_text(new, encoding="utf-8")
    return new != text


if __name__ == "__main__":
    sys.exit(1 if update_readme() else 0)
