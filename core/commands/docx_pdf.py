"""A filled Word letter laid out as an A4 PDF with the Chinese font: its paragraphs and
tables in document order, so a team's own template changes the PDF's text too."""

from __future__ import annotations

import datetime as dt
import io

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.table import Table
from docx.text.paragraph import Paragraph

ALIGN = {WD_ALIGN_PARAGRAPH.CENTER: "C", WD_ALIGN_PARAGRAPH.RIGHT: "R",
         WD_ALIGN_PARAGRAPH.JUSTIFY: "J"}
BODY_PT = 11
PT_MM = 0.3528


def _size(p: Paragraph) -> float:
    sizes = [r.font.size.pt for r in p.runs if r.font.size is not None]
    if sizes:
        return max(sizes)
    style_size = p.style.font.size if p.style is not None else None
    return style_size.pt if style_size is not None else BODY_PT


def _align(p: Paragraph) -> str:
    a = p.alignment
    if a is None and p.style is not None:
        a = p.style.paragraph_format.alignment
    return ALIGN.get(a, "L")


def _paragraph(pdf, p: Paragraph) -> None:
    from fpdf.enums import TextMode

    size = _size(p)
    height = size * PT_MM * 1.5
    text = p.text.replace("\t", "    ")
    if not text.strip():
        pdf.ln(height * 0.6)
        return
    # The font has no bold face: a bold paragraph (a title, a heading) is drawn stroked.
    bold = all(r.bold for r in p.runs if r.text.strip())
    pdf.set_font("cjk", size=size)
    pdf.text_mode = TextMode.FILL_STROKE if bold else TextMode.FILL
    pdf.line_width = 0.15 if bold else 0.2
    pdf.multi_cell(0, height, text, align=_align(p), new_x="LMARGIN", new_y="NEXT")
    pdf.text_mode = TextMode.FILL
    pdf.ln(size * PT_MM * 0.5)


def _table(pdf, table: Table) -> None:
    pdf.set_font("cjk", size=BODY_PT - 1)
    widths = [c.width for c in table.columns]
    col_widths = tuple(w for w in widths) if all(widths) else None
    with pdf.table(col_widths=col_widths, first_row_as_headings=False, text_align="LEFT",
                   line_height=(BODY_PT - 1) * PT_MM * 1.5) as out:
        for row in table.rows:
            cells, spans = [], []
            for cell in row.cells:  # a merged cell repeats: lay it out once, spanning
                if cells and cell._tc is cells[-1]._tc:
                    spans[-1] += 1
                else:
                    cells.append(cell)
                    spans.append(1)
            line = out.row()
            for cell, span in zip(cells, spans, strict=True):
                line.cell(cell.text, colspan=span)
    pdf.ln(2)


def docx_to_pdf(data: bytes, *, title: str = "", when: dt.datetime | None = None) -> bytes:
    """The .docx `data` as an A4 PDF: paragraphs (size, alignment, bold) and tables."""
    from fpdf import FPDF

    from core.reports.pdf import cjk_font

    doc = Document(io.BytesIO(data))
    pdf = FPDF(format="A4")
    if when is not None:
        pdf.set_creation_date(when)
    pdf.set_title(title)
    pdf.add_font("cjk", fname=cjk_font())
    pdf.set_margins(22, 20, 22)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_page()
    for block in doc.iter_inner_content():
        if isinstance(block, Paragraph):
            _paragraph(pdf, block)
        else:
            _table(pdf, block)
    return bytes(pdf.output())
