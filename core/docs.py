"""The README's column reference, generated from sheets_schema/ (`python -m core.docs`)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from core.schema import Schema, schema

BEGIN, END = "<!-- columns:begin -->", "<!-- columns:end -->"
README = Path(__file__).resolve().parent.parent / "README.md"


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


def update_readme(path: Path = README) -> bool:
    text = path.read_text(encoding="utf-8")
    new = re.sub(f"{BEGIN}.*?{END}", f"{BEGIN}\n{columns_markdown(schema())}\n{END}", text,
                 flags=re.S)
    path.write_text(new, encoding="utf-8")
    return new != text


if __name__ == "__main__":
    sys.exit(1 if update_readme() else 0)
