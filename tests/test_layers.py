"""Imports point one way (DESIGN.md data flow; STYLE.md layers; docs/architecture.md): core's
packages follow the flow store/ → reading/ → rules/ → reports/, commands/ → front/. No core
module imports streamlit, only core/store/ touches the spreadsheet libraries, the rules import
no store, report, command or front end, and nothing below the front ends imports them.
Lazy imports inside functions count too."""

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parent.parent / "core"
SPREADSHEET = {"gspread", "openpyxl", "xlsxwriter", "python_calamine", "fastexcel", "google"}
#: what each layer of core may import from core; `base` is errors.py and config.py
MAY_IMPORT = {
    "base": {"base", "reading"},  # an error says itself in the UI's language (reading/i18n)
    "reading": {"base", "reading"},
    "store": {"base", "reading", "store"},
    "rules": {"base", "reading", "rules"},
    "reports": {"base", "reading", "store", "rules", "reports"},  # the pack's workbook is written by the store
    # commands write through a store; letter PDFs use the report's font
    "commands": {"base", "reading", "store", "rules", "reports", "commands"},
    "front": {"base", "reading", "store", "rules", "reports", "commands", "front"},
}
BASE = {"errors", "config"}


def layer_of(path: Path) -> str:
    parts = path.relative_to(CORE).parts
    if len(parts) > 1:
        return parts[0]
    name = parts[0].removesuffix(".py")
    return "base" if name in BASE else name  # __init__, __main__: the entry points


def layer_of_module(module: str) -> str:
    name = module.split(".")[1]
    return "base" if name in BASE else name


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


def test_every_module_is_in_a_layer():
    layers = {layer_of(p) for p in modules()}
    assert layers <= set(MAY_IMPORT) | {"__init__", "__main__"}, layers


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(CORE.parent)))
def test_core_never_imports_streamlit(path):
    assert not {m for m in imports(path) if m.split(".")[0] == "streamlit"}


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(CORE.parent)))
def test_only_the_stores_touch_the_spreadsheet_libraries(path):
    if layer_of(path) == "store":
        return
    assert not {m for m in imports(path) if m.split(".")[0] in SPREADSHEET}


@pytest.mark.parametrize("path", [p for p in modules() if layer_of(p) in MAY_IMPORT],
                         ids=lambda p: str(p.relative_to(CORE.parent)))
def test_imports_point_down_the_flow(path):
    layer = layer_of(path)
    upward = {m for m in imports(path) if m.startswith("core.")
              and layer_of_module(m) not in MAY_IMPORT[layer]}
    assert not upward, f"{path.relative_to(CORE.parent)} ({layer}) imports {sorted(upward)}"


def test_the_rules_import_no_store():
    """The issue's own words, kept as a test of their own."""
    assert "store" not in MAY_IMPORT["rules"]
    assert not [p for p in modules() if layer_of(p) == "rules"
                and any(layer_of_module(m) == "store" for m in imports(p) if m.startswith("core."))]
