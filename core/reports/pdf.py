"""The report as an A4 PDF, laid out from plain text (core.reports.report turns the sections
into a PdfDoc, every sentence in its language already): no pandas or labels here, so the
pack's worker process (core.reports.worker) starts in a fraction of a second and loads the
font while the main process reads the register."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import RegisterError

LINE = 5  # mm: the height of one line of a table's text in the PDF
HEADING_FILL = (235, 235, 235)

CJK_FONTS = ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
             "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
             "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
             "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf")
#: fonts for a PDF in English when no Chinese font is installed (any text in Chinese in the
#: register's own data then shows as blanks, but the pack is made)
LATIN_FONTS = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
               "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
               "/usr/share/fonts/truetype/freefont/FreeSans.ttf")


class FontMissing(RegisterError):
    """No Chinese font is installed, so a PDF in Chinese cannot be laid out."""

    def __init__(self) -> None:
        super().__init__(self.message("en"))

    def message(self, lang: str) -> str:
        from core.reading.i18n import label

        return label("no_cjk_font", lang)


def cjk_font() -> str:
    for path in CJK_FONTS:
        if Path(path).exists():
            return path
    raise FontMissing()


def pdf_font(lang: str) -> str | None:
    """The font file for a PDF in `lang`: a Chinese one when installed; in English any
    installed one, else None (PDF's built-in Helvetica). Chinese without one: FontMissing."""
    try:
        return cjk_font()
    except FontMissing:
        if lang == "zh":
            raise
    return next((p for p in LATIN_FONTS if Path(p).exists()), None)


LATIN1 = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "—": "-", "–": "-",
                        "…": "...", "≥": ">=", "≤": "<=", "→": "->", "\u2060": ""})


@dataclass
class PdfSection:
    title: str
    text: list[str]
    chart: bool  # whether a chart's picture follows the text
    head: list[str] = field(default_factory=list)  # the table's columns (none: no table)
    rows: list[list[str]] = field(default_factory=list)
    more: str | None = None  # the sentence saying how many rows are left out


@dataclass
class PdfDoc:
    font: str | None  # a font file; None: PDF's built-in Helvetica
    header: str
    footer: str  # with {n} for the page's number and {nb} for the number of pages
    title: str
    generated: str
    warnings: list[str]
    created: dt.datetime
    sections: list[PdfSection] = field(default_factory=list)
    #: the sections follow as ("section", PdfSection) messages up to ("end",) (worker.py)
    streamed: bool = False


def new_pdf(font: str | None):
    """An empty A4 document with its font loaded (the slow part of starting one: fontTools
    reads the whole font file), ready for `render`."""
    from fpdf import FPDF

    family = "cjk" if font else "helvetica"  # Helvetica: built into every PDF reader

    class Pack(FPDF):
        header_text = footer_text = ""

        def normalize_text(self, text: str) -> str:
            if not self.is_ttf_font:  # Helvetica knows Latin-1 only; other letters become ?
                text = text.translate(LATIN1).encode("latin-1", "replace").decode("latin-1")
            return super().normalize_text(text)

        def header(self):
            self.set_font(family, size=8)
            self.set_text_color(110)
            self.cell(0, 6, self.header_text, align="R", new_x="LMARGIN", new_y="NEXT")
            self.set_text_color(0)

        def footer(self):
            self.set_y(-12)
            self.set_font(family, size=8)
            self.cell(0, 6, self.footer_text.replace("{n}", str(self.page_no())), align="C")

    pdf = Pack(format="A4")
    pdf.family_name = family
    if font:
        pdf.add_font("cjk", fname=font)
        # the glyphs are embedded as the font file has them: fontTools would otherwise
        # unpack every glyph the PDF uses to work out its bounding box again (0.1-0.15 s as
        # the last step of every pack, while the command waits)
        pdf.fonts["cjk"].ttfont.recalcBBoxes = False
    return pdf


def render(doc: PdfDoc, svg: Callable[[int], str | None], pdf=None,
           sections: Iterable[PdfSection] | None = None) -> bytes:
    """The PDF's bytes; `svg(i)` is section i's chart as SVG (waited for when the layout
    reaches it); `pdf` one made by new_pdf(doc.font) beforehand; `sections` the document's
    sections as they come, when not in `doc`."""
    pdf = pdf or new_pdf(doc.font)
    family = pdf.family_name
    pdf.header_text, pdf.footer_text = doc.header, doc.footer
    pdf.set_creation_date(doc.created)
    pdf.set_auto_page_break(True, margin=16)
    pdf.alias_nb_pages()
    pdf.add_page()
    _text(pdf, doc.title, 18, 10)
    _text(pdf, doc.generated, 9)
    for w in doc.warnings:
        pdf.set_text_color(160, 60, 0)
        _text(pdf, w, 9)
        pdf.set_text_color(0)
    for i, s in enumerate(doc.sections if sections is None else sections):
        chart = svg(i) if s.chart else None
        pdf.ln(3)
        _keep_together(pdf, s, chart)
        _text(pdf, s.title, 13, 8)
        for line in s.text:
            _text(pdf, line, 9.5)
        if chart:
            _chart(pdf, chart)
        if s.head:
            pdf.set_font(family, size=8)
            _table(pdf, s.head, s.rows)
            if s.more:
                _text(pdf, s.more, 8)
    return bytes(pdf.output())


MM_PER_PX = 0.25  # a chart's size on paper: its text (13 px) about 9 pt, up to the text width

#: what SVG leaves implicit and fpdf2 does not assume: a line starts at 0,0 (Vega's axis
#: ticks and grid lines write only their end) and a path with no outline draws nothing
_LINE_FROM_ORIGIN = re.compile(r"<line\b(?![^>]*\bx1=)")
_EMPTY_PATH = re.compile(r'<path\b[^>]*\bd=""[^>]*/>')
_SVG_OPEN = re.compile(r"<svg\b[^>]*>")
_FONT_FAMILY = re.compile(r'font-family="[^"]*"')
_WEIGHT_STYLE = re.compile(r'\sfont-(?:weight|style)="[^"]*"')


def vector(svg: str, family: str, ttf: bool) -> bytes:
    """A chart's SVG (vl-convert's, as the HTML shows it) as fpdf2 draws it: SVG's own
    defaults written out (nothing is stroked unless asked: fpdf2 strokes in black what has
    only a stroke width, as Vega's points do), its text in the PDF's font `family` (the
    chart names a list of fonts the PDF does not have; upright and in regular weight: a
    TrueType font is loaded in one face, and a face it lacks would fail only once the
    chart's room on the page is taken), and in Latin-1 when that font is PDF's own
    Helvetica (as the PDF's other text)."""
    svg = _LINE_FROM_ORIGIN.sub('<line x1="0" y1="0"', _EMPTY_PATH.sub("", svg))
    svg = _FONT_FAMILY.sub(f'font-family="{family}"', svg)
    svg = (_WEIGHT_STYLE.sub("", svg) if ttf
           else svg.translate(LATIN1).encode("latin-1", "replace").decode("latin-1"))
    opened, end = _SVG_OPEN.search(svg), svg.rfind("</svg>")
    if opened and end > opened.end():
        svg = (f'{svg[:opened.end()]}<g stroke="none">{svg[opened.end():end]}</g>'
               f'{svg[end:]}')
    return svg.encode()


def _text(pdf, text: str, size: float, height: float = 5) -> None:
    """A paragraph in the document's font at `size` pt, lines `height` mm high, left-aligned
    (fpdf2 justifies by default, which spreads a Chinese line's few spaces across the page),
    broken as _lines breaks it; each line one cell, which turns the page when it is full."""
    for line in _lines(pdf, text, size):
        pdf.cell(0, height, line, align="L", new_x="LMARGIN", new_y="NEXT")


CJK_CHARS = r"\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\U00020000-\U0003ffff"
#: the spaces a line may break at (a no-break space belongs to the words it joins)
_SPACE = " \t"
#: what a line may break between: spaces, each Chinese character, and each run of other
#: characters (a number, a complaint number, a word with its brackets and stops), which is
#: never broken inside unless it is longer than a line
_TOKEN = re.compile(f"[{_SPACE}]+|[{CJK_CHARS}]|[^{_SPACE}{CJK_CHARS}]+")
#: what a line never starts with: these close what came before them (it goes down with them)
_CLOSING = set("，。、；：！？）】》」』”’%％…·,.;:!?)]}")
#: what a line never ends with: these open what follows them (it goes down with what follows)
_OPENING = set("（【《「『“‘([{")


def _is_space(piece: str) -> bool:
    return piece[0] in _SPACE


def _lines(pdf, text: str, size: float) -> list[str]:
    """`text` at `size` pt as the lines of a paragraph as wide as the page's text: broken at
    a space or between two Chinese characters, never inside a number or a word, never before
    a closing mark or after an opening one (fpdf2 breaks at spaces only: a Chinese sentence's
    lines ended short and "（7 件）" was cut before 件). Every line fits: cell() sets it as it
    is. Widths are summed per piece, each measured once: a text's width is the sum of its
    characters' (no kerning is applied). A soft hyphen is never shown, as in multi_cell."""
    pdf.set_font(pdf.family_name, size=size)
    font, room = pdf.current_font, pdf.epw - 2 * pdf.c_margin - 0.01
    measured: dict[str, float] = {}

    def width(s: str) -> float:
        if s not in measured:
            measured[s] = font.get_text_width(pdf.normalize_text(s), size, None)[1] / pdf.k
        return measured[s]

    lines: list[str] = []
    paras = text.replace("\u00ad", "").split("\n")
    if len(paras) > 1 and not paras[-1]:  # a final line break ends the last line
        paras.pop()
    for para in paras:
        line: list[str] = []  # its pieces
        used, first = 0.0, len(lines)
        for token in _pieces(_TOKEN.findall(para), width, room):
            if line and not _is_space(token) and used + width(token) > room:
                keep = _kept(line, token)
                down = line[keep:]
                while down and _is_space(down[0]):
                    down.pop(0)
                if sum(map(width, down)) + width(token) > room:  # a piece as wide as a line
                    keep, down = len(line), []  # the marks stay where they are
                lines.append("".join(line[:keep]).rstrip(_SPACE))
                line, used = down, sum(map(width, down))
            if line or not _is_space(token) or len(lines) == first:
                line.append(token)
                used += width(token)
        lines.append("".join(line).rstrip(_SPACE))
    return lines


def _kept(line: list[str], token: str) -> int:
    """How many of a full line's pieces stay on it when `token` comes next: not the spaces
    it ends with; not, when `token` is a closing mark, the piece that mark closes (with the
    closing marks just before it); not an opening mark it ends with. At least one."""
    keep = len(line)
    while keep > 1 and _is_space(line[keep - 1]):
        keep -= 1
    if token[0] in _CLOSING:  # down with what it closes (and marks before it)
        keep -= 1
        while keep > 1 and line[keep][0] in _CLOSING:
            keep -= 1
    while keep > 1 and (_is_space(line[keep - 1]) or line[keep - 1][-1] in _OPENING):
        keep -= 1
    return max(keep, 1)


def _pieces(tokens: list[str], width: Callable[[str], float], room: float) -> Iterable[str]:
    """The tokens, each one wider than a line cut into pieces that fit, character by
    character (as fpdf2 cuts a word longer than a line)."""
    for token in tokens:
        if _is_space(token) or width(token) <= room:
            yield token
            continue
        piece, used = "", 0.0
        for char in token:
            if piece and used + width(char) > room:
                yield piece
                piece, used = "", 0.0
            piece += char
            used += width(char)
        yield piece


_SIZE = re.compile(r'<svg\b[^>]*?\bwidth="([\d.]+)"[^>]*?\bheight="([\d.]+)"')


def _keep_together(pdf, section: PdfSection, svg: str | None) -> None:
    """A new page before a section whose heading and sentences, with its chart or the first
    rows of its table, fit on a page but not on what is left of this one: a heading is not
    left at the foot of a page with what it introduces on the next."""
    size = _SIZE.search(svg) if svg else None
    if size:
        need = _chart_width(pdf, svg) * float(size[2]) / float(size[1])
    elif section.head:
        need = 3 * LINE  # the table's heading and its first two rows
    else:
        return
    need += 8 * len(_lines(pdf, section.title, 13))
    need += sum(5 * len(_lines(pdf, line, 9.5)) for line in section.text)
    room = pdf.page_break_trigger - pdf.t_margin - 2 * LINE  # a new page, below its header
    if need <= room and pdf.will_page_break(need):
        pdf.add_page()


def _chart_width(pdf, svg: str) -> float:
    """How wide a chart is on the page (mm): in proportion to its width in pixels, so that
    every chart's text is the same size, and no wider than the text."""
    size = _SIZE.search(svg)
    return min(pdf.epw, float(size[1]) * MM_PER_PX) if size else pdf.epw


def _chart(pdf, svg: str) -> None:
    """A chart drawn in the PDF as vector graphics (sharp at any size, a few kB); one that
    fpdf2 cannot read is placed as a picture of it instead (vl-convert rasterises the same
    SVG), never left out. fpdf2 reads the whole SVG before it takes the chart's room on the
    page, so a chart it cannot read leaves no gap; its fonts are looked up only while
    drawing, which is why `vector` leaves it only faces the PDF has."""
    try:
        pdf.image(io.BytesIO(vector(svg, pdf.family_name, pdf.is_ttf_font)),
                  w=_chart_width(pdf, svg))
    except Exception:
        import vl_convert as vlc

        pdf.image(io.BytesIO(vlc.svg_to_png(svg, scale=2.0)), w=_chart_width(pdf, svg))


#: what a table cell never breaks inside: a complaint number, a date, a time, a number
UNBROKEN = re.compile(r"[0-9A-Za-z_\-./:+%@#]+")


#: a column heading this short is never broken ("件数" read "件" over "数")
SHORT_HEADING = 4


def _widths(pdf, table: list[list[str]], ncols: int, room: float) -> list[float]:
    """Column widths (mm) that fill `room`: each column at least as wide as its longest
    complaint number, date or number and its heading when short (so none is split over two
    lines), when they all fit (else equal columns), and the width left shared in proportion
    to what each column's text would take on one line beyond that."""
    font, size, pad = pdf.current_font, pdf.font_size_pt, 2 * pdf.c_margin + 0.2

    def width(text: str) -> float:
        return font.get_text_width(pdf.normalize_text(text), size, None)[1] / pdf.k

    least, whole = [pad] * ncols, [pad] * ncols
    for i, row in enumerate(table):
        for j, text in enumerate(row):
            if text:
                words = [text] if i == 0 and len(text) <= SHORT_HEADING else \
                    UNBROKEN.findall(text)
                least[j] = max(least[j], pad + max(map(width, words), default=0))
                whole[j] = max(whole[j], pad + width(text))
    if sum(least) > room:
        return [room / ncols] * ncols
    want = [w - m for w, m in zip(whole, least, strict=True)]
    left = room - sum(least)
    if sum(want) <= 0:
        return [m + left / ncols for m in least]
    return [m + left * w / sum(want) for m, w in zip(least, want, strict=True)]


def _table(pdf, head: list[str], rows: list[list[str]]) -> None:
    """A table laid out as fpdf2's `pdf.table(line_height=LINE, text_align="LEFT")` with a
    grey heading lays it out — borders, word wrapping, rows centred vertically, page breaks
    before a row that does not fit, the heading repeated on each page and never left alone
    at the foot of one — with columns as wide as their content needs (_widths: a complaint
    number or a date never split), without fpdf2's cost per cell: a cell whose text fits on
    one line is measured by its glyph widths, and only the others go through fpdf2's line
    breaking, once; each line is then set with text() where cell() would set it."""
    from fpdf.enums import Align, TableBordersLayout, WrapMode
    from fpdf.fonts import FontFace
    from fpdf.util import Padding

    body = pdf.font_face()
    heading = FontFace.combine(body, FontFace(fill_color=HEADING_FILL))
    table = [head, *rows]
    ncols = max(len(r) for r in table)
    margin, pdf.l_margin = pdf.l_margin, (pdf.w - pdf.epw) / 2  # centred, as fpdf2 does
    widths = _widths(pdf, table, ncols, pdf.epw)
    xs = list(itertools.accumulate([pdf.l_margin, *widths[:-1]]))
    font, size = pdf.current_font, pdf.font_size_pt
    no_padding = Padding.new(0)
    subset = getattr(font, "subset", None)  # a TrueType font's glyphs in the PDF

    def wrap(text: str, width: float) -> list[str]:
        """The lines of a cell's text in a column `width` wide: itself when it fits on one
        line (clear of fpdf2's rounding), else as fpdf2's multi_cell breaks it."""
        if not text:
            return []
        room = width - 2 * pdf.c_margin  # multi_cell keeps c_margin clear on either side
        normal = pdf.normalize_text(text)
        if subset is not None:  # glyphs numbered in the order fpdf2's table measures them
            for char in normal:
                subset.pick(ord(char))
        if "\n" not in normal and "\r" not in normal and \
                font.get_text_width(normal, size, None)[1] / pdf.k < room - 0.01:
            return [text]
        return pdf.multi_cell(width, LINE, text, max_line_height=LINE, align=Align.L,
                              padding=no_padding, wrapmode=WrapMode.WORD, dry_run=True,
                              output="LINES")

    lines = [[wrap(text, widths[j]) for j, text in enumerate(row)] for row in table]
    heights = [max(LINE * len(cell) for cell in row) or LINE for row in lines]
    border = TableBordersLayout.ALL.cell_style_getter(0, 0, 0, 1, len(table), ncols, ncols)

    def draw(i: int) -> None:
        fill = heading.fill_color if i == 0 else body.fill_color
        y = pdf.y
        for j, cell in enumerate(lines[i]):
            border.draw_cell_border(pdf, xs[j], y, xs[j] + widths[j], y + heights[i],
                                    fill_color=fill)
            top = y + (heights[i] - LINE * len(cell)) / 2  # centred in its row
            for k, line in enumerate(cell):  # where cell(align="L") sets its text
                pdf.text(xs[j] + pdf.c_margin, top + (k + 0.5) * LINE + 0.3 * pdf.font_size,
                         line)
        pdf.set_y(y)
        pdf.ln(heights[i])

    # the page break fpdf2's own table performs (keeping x, header and footer drawn)
    if len(table) > 1:
        pdf._perform_page_break_if_need_be(heights[0] + heights[1])
    for i in range(len(table)):
        if pdf._perform_page_break_if_need_be(heights[i]):
            if pdf.y + heights[i] > pdf.page_break_trigger:  # fpdf2's table refuses it too
                raise ValueError(f"The row with index {i} is too high and cannot be rendered "
                                 f"on a single page")
            if i >= 1:
                draw(0)
        draw(i)
    pdf.l_margin = margin
    pdf.x = pdf.l_margin
