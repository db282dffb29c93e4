"""The default letter templates in sheets_schema/letters/{zh,en}/, built from the letter_tpl_*
texts of labels.yaml (`python -m core.commands.letter_templates` rewrites them). A team replaces
them with its own .docx files; the README lists the placeholders."""

from __future__ import annotations

import string
import sys
from functools import partial
from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from core.commands.letters import DEFAULT_DIR, KINDS
from core.reading.i18n import LANGS, label_text
from core.reading.schema import schema

FONT = {"zh": "SimSun", "en": "Times New Roman"}


def tpl(key: str, lang: str) -> str:
    """A letter_tpl_* text with each {name} turned into the placeholder {{ name }}."""
    text = label_text(key, lang)
    return "".join(lit + (f"{{{{ {name} }}}}" if name is not None else "")
                   for lit, name, _, _ in string.Formatter().parse(text))


def _doc(lang: str):
    doc = Document()
    s = doc.sections[0]
    s.page_height, s.page_width = Cm(29.7), Cm(21.0)
    s.left_margin = s.right_margin = Cm(2.5)
    s.top_margin = s.bottom_margin = Cm(2.2)
    normal = doc.styles["Normal"]
    normal.font.name, normal.font.size = FONT[lang], Pt(12)
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), FONT[lang])
    return doc


def _para(doc, text: str = "", *, size: float | None = None, bold: bool = False,
          align=None, indent: bool = False):
    p = doc.add_paragraph()
    run = p.add_run(text)
    run.bold = bold or None
    if size:
        run.font.size = Pt(size)
    if align is not None:
        p.alignment = align
    if indent:
        p.paragraph_format.first_line_indent = Pt(24)
    return p


def _head(doc, kind: str, lang: str, to_complainant: bool = True) -> None:
    _para(doc, label_text(f"letter_kind_{kind}", lang), size=18, bold=True,
          align=WD_ALIGN_PARAGRAPH.CENTER)
    _para(doc, tpl("letter_tpl_ref", lang), align=WD_ALIGN_PARAGRAPH.RIGHT)
    if to_complainant:
        _para(doc, tpl("letter_tpl_to", lang))


def _foot(doc, lang: str) -> None:
    _para(doc)
    _para(doc, tpl("letter_tpl_sign", lang), align=WD_ALIGN_PARAGRAPH.RIGHT)
    _para(doc, tpl("letter_tpl_date", lang), align=WD_ALIGN_PARAGRAPH.RIGHT)


def reply(lang: str):
    doc = _doc(lang)
    _head(doc, "reply", lang)
    _para(doc, tpl("letter_tpl_reply_open", lang), indent=True)
    for head, lines in (("complaint", ["{{ description }}", tpl("letter_tpl_request", lang)]),
                        ("finding", ["{{ finding }}"]),
                        ("measures", ["{{ measures }}", tpl("letter_tpl_resolved", lang)]),
                        ("preventive", ["{{ preventive }}"]),
                        ("thanks", [tpl("letter_tpl_thanks", lang)])):
        _para(doc, tpl(f"letter_tpl_h_{head}", lang), bold=True)
        for line in lines:
            _para(doc, line, indent=True)
    _foot(doc, lang)
    return doc


def notice(kind: str, lang: str, lines: tuple[tuple[str, bool], ...]):
    """A notice to the complainant: its paragraphs (label key, bold) between head and foot."""
    doc = _doc(lang)
    _head(doc, kind, lang)
    for key, bold in lines:
        _para(doc, tpl(key, lang), indent=True, bold=bold)
    _foot(doc, lang)
    return doc


ACCEPTANCE = (("letter_tpl_acceptance_body", False), ("letter_tpl_notice_end", False))
EXTENSION = (("letter_tpl_extension_body", False), ("letter_tpl_extension_date", True),
             ("letter_tpl_extension_end", False))


def eight_d(lang: str):
    doc = _doc(lang)
    _head(doc, "8d", lang, to_complainant=False)
    col = schema().tab("complaints").column
    info = doc.add_table(rows=3, cols=4)
    info.style = "Table Grid"
    cells = [(label_text("letter_report_no", lang), "{{ report_no }}"),
             (col("id").header(lang), "{{ complaint_no }}"),
             (label_text("letter_tpl_8d_received", lang), "{{ received_date }}"),
             (col("category").header(lang), "{{ category }}"),
             (col("severity").header(lang), "{{ severity }}"),
             (col("department").header(lang), "{{ department }}")]
    for i, (name, value) in enumerate(cells):
        row, c = divmod(i, 2)
        info.cell(row, 2 * c).text, info.cell(row, 2 * c + 1).text = name, value
    _para(doc)
    steps = doc.add_table(rows=8, cols=2)
    steps.style = "Table Grid"
    content = ["{{ team }}", "{{ subject }}\n{{ description }}", "{{ containment }}",
               "{{ root_cause }}", "{{ corrective_action }}",
               "{{ verification }}\n" + tpl("letter_tpl_resolved", lang),
               "{{ preventive_action }}", tpl("letter_tpl_8d_closure", lang)]
    for i, text in enumerate(content):
        steps.cell(i, 0).text = label_text(f"letter_tpl_8d_d{i + 1}", lang)
        steps.cell(i, 1).text = text
    for table, widths in ((info, (Cm(3.2), Cm(4.8), Cm(3.2), Cm(4.8))), (steps, (Cm(4), Cm(12)))):
        for column, width in zip(table.columns, widths, strict=True):
            column.width = width
            for cell in column.cells:
                cell.width = width
    _para(doc)
    _para(doc, label_text("letter_tpl_8d_sign", lang))
    return doc


BUILDERS = {"reply": reply, "acceptance": partial(notice, "acceptance", lines=ACCEPTANCE),
            "extension": partial(notice, "extension", lines=EXTENSION), "8d": eight_d}


def build_templates(folder: Path = DEFAULT_DIR) -> list[Path]:
    """Write every default template into folder/{zh,en}/KIND.docx."""
    paths = []
    for lang in LANGS:
        (folder / lang).mkdir(parents=True, exist_ok=True)
        for kind in KINDS:
            doc = BUILDERS[kind](lang)
            doc.core_properties.title = label_text(f"letter_kind_{kind}", lang)
            doc.core_properties.author = ""
            path = folder / lang / f"{kind}.docx"
            doc.save(path)
            paths.append(path)
    return paths


if __name__ == "__main__":
    for p in build_templates(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DIR):
        print(p)
