"""Imports point one way (DESIGN.md data flow; STYLE.md layers): no core module imports
streamlit, only core/store/ touches the spreadsheet libraries, and the rules import neither
a store nor the commands, reports, CLI or server built on them. Lazy imports inside functions
count too."""

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parent.parent / "core"
SPREADSHEET = {"gspread", "openpyxl", "python_calamine", "fastexcel", "google"}
#: the rules: calendar, policy, clocks, flags, closure, scoring, statistics
RULES = ("calendar", "policy", "deadlines", "flags", "closure", "flow", "scoring", "stats",
         "asof", "period", "queue", "check", "clock")
#: what is built on the rules: stores, write-side commands, reports, the CLI and the server
ABOVE_RULES = ("store", "intake", "letters", "letter_templates", "report", "docx_pdf",
               "export", "cli", "serve", "service", "demo", "prefetch", "sections",
               "analysis", "analysis_sections")


def imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            if node.module == "core":
                found |= {f"core.{a.name}" for a in node.names}
    return found


def modules():
    return sorted(p for p in CORE.rglob("*.py") if "__pycache__" not in p.parts)


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(CORE.parent)))
def test_core_never_imports_streamlit(path):
    assert not {m for m in imports(path) if m.split(".")[0] == "streamlit"}


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(CORE.parent)))
def test_only_the_stores_touch_the_spreadsheet_libraries(path):
    if path.parent.name == "store":
        return
    assert not {m for m in imports(path) if m.split(".")[0] in SPREADSHEET}


@pytest.mark.parametrize("name", RULES)
def test_the_rules_import_no_store_command_report_or_cli(name):
    above = {m for m in imports(CORE / f"{name}.py")
             if m.startswith("core.") and m.split(".")[1] in ABOVE_RULES}
    assert not above, f"core/{name}.py imports {sorted(above)}"
