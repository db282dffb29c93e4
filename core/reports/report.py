"""The review-meeting pack (R-STATS): the statistics table (.xlsx), and the analysis report
as self-contained HTML and as an A4 PDF — all rendered from core.reports.sections, the same
sections the statistics page shows, so no figure has a second copy."""

from __future__ import annotations

import base64
import html
import io
import itertools
import re
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import vl_convert as vlc

from core.errors import RegisterError
from core.reading.i18n import label
from core.reports.sections import Section, build_sections
from core.rules.asof import moment_text, period_moment
from core.rules.period import parse_period
from core.rules.register import Register

MAX_ROWS = 50  # rows of one table shown in the HTML/PDF; the xlsx holds them all
CJK_FONTS = ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
             "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
             "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
             "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf")


#: fonts for a PDF in English when no Chinese font is installed (any text in Chinese in the
#: register's own data then shows as blanks, but the pack is made)
LATIN_FONTS = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
               "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
               "/usr/share/fonts/truetype/freefont/FreeSans.ttf")


LATIN1 = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "—": "-", "–": "-",
                        "…": "...", "≥": ">=", "≤": "<=", "→": "->", "\u2060": ""})


class FontMissing(RegisterError):
    """No Chinese font is installed, so a PDF in Chinese cannot be laid out."""

    def __init__(self) -> None:
        super().__init__(self.message("en"))

    def message(self, lang: str) -> str:
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


def _titles(period_text: str, lang: str) -> tuple[str, str]:
    period = parse_period(period_text)
    report = label("report_monthly" if period.months == 1 else "report_quarterly", lang)
    return report, label("report_table", lang)


def pack_moment(reg: Register, period_text: str) -> pd.Timestamp:
    """The moment a pack is taken at: its period's end, or now while the period runs."""
    return period_moment(reg, parse_period(period_text).end)


def generated(reg: Register, period_text: str, lang: str) -> str:
    return label("report_as_of", lang, t=moment_text(pack_moment(reg, period_text)),
                 policy=reg.policy.label(lang))


def calendar_warnings(reg: Register, lang: str) -> list[str]:
    """R-CAL: the pack says when its dates use a year the calendar does not know."""
    return [w.message(lang) for w in reg.warnings if w.code == "calendar_year"]


def stable_zip(data: bytes, when: pd.Timestamp) -> bytes:
    """A zip (an .xlsx too) whose entry times and document dates are `when`, not the
    wall clock, so the same content gives the same bytes."""
    stamp = f"{when:%Y-%m-%dT%H:%M:%S}Z".encode()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == "docProps/core.xml":
                body = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + stamp,
                              body)
            entry = zipfile.ZipInfo(info.filename, date_time=when.timetuple()[:6])
            entry.compress_type, entry.external_attr = zipfile.ZIP_DEFLATED, info.external_attr
            dst.writestr(entry, body)
    return out.getvalue()


class Charts:
    """Every chart of a pack drawn once, in a background thread while the rest of the pack
    is built: the SVG the HTML embeds, and the PNG the PDF shows rasterised from that same
    SVG (the same bytes as vegalite_to_png, without running Vega a second time). vl-convert
    works outside the GIL, so this overlaps the Python work of the workbook and the PDF.
    `pool`: the drawing thread, when one was started before the sections were built."""

    def __init__(self, sections: list[Section], scale: float = 2.0,
                 pool: ThreadPoolExecutor | None = None):
        self._pool = pool or ThreadPoolExecutor(1, thread_name_prefix="charts")
        # built by core.reports.sections from altair's own classes: checking each spec against the
        # Vega-Lite schema again would cost more than drawing it
        specs = [(id(s), s.chart.to_dict(validate=False)) for s in sections
                 if s.chart is not None]
        self._done = {key: self._pool.submit(self._draw, spec, scale) for key, spec in specs}
        self._pool.shutdown(wait=False)

    @staticmethod
    def _draw(spec: dict, scale: float = 2.0) -> tuple[str, bytes]:
        svg = vlc.vegalite_to_svg(spec)
        return svg, vlc.svg_to_png(svg, scale=scale)

    @classmethod
    def drawer(cls) -> ThreadPoolExecutor:
        """A drawing thread started at once on a chart of one word: vl-convert's JavaScript
        engine and fonts cost some 0.7 s of CPU on first use, spent while the sections are
        built instead of before the first chart."""
        pool = ThreadPoolExecutor(1, thread_name_prefix="charts")
        pool.submit(cls._draw, {"mark": "text", "data": {"values": [{}]},
                                "encoding": {"text": {"value": "投诉 complaint"}}})
        return pool

    def svg(self, section: Section) -> str | None:
        done = self._done.get(id(section))
        return done.result()[0] if done else None

    def png(self, section: Section) -> bytes | None:
        done = self._done.get(id(section))
        return done.result()[1] if done else None


def write_xlsx(reg: Register, sections: list[Section], path: Path, lang: str) -> Path:
    from core.store.workbook import write_tables

    tables = [(s.title, s.table) for s in sections if not s.table.empty or s.key == "overview"]
    notes = calendar_warnings(reg, lang)
    if notes:
        tables.insert(0, (label("warnings", lang), pd.DataFrame({label("warnings", lang): notes})))
    return write_tables(path, tables)


def _rows(s: Section):
    """The shown rows of a section's table as text, as written (HTML and PDF run no
    formulas, so nothing is prefixed with an apostrophe)."""
    for row in s.display(MAX_ROWS).itertuples(index=False):
        yield list(row)


def render_html(reg: Register, sections: list[Section], period: str, lang: str,
                charts: Charts | None = None) -> str:
    title, _ = _titles(period, lang)
    charts = charts or Charts(sections)
    esc = html.escape
    parts = [f"<!doctype html><html lang='{'zh-CN' if lang == 'zh' else 'en'}'><head>"
             f"<meta charset='utf-8'><title>{esc(title)} {esc(period)}</title><style>"
             "body{font-family:'WenQuanYi Micro Hei','Noto Sans CJK SC',sans-serif;max-width:"
             "60rem;margin:2rem auto;padding:0 1rem;color:#222}table{border-collapse:collapse;"
             "margin:.5rem 0 1.5rem}td,th{border:1px solid #ccc;padding:.2rem .5rem;"
             "text-align:left}th{background:#f3f3f3}img{max-width:100%}</style></head><body>",
             f"<h1>{esc(title)} · {esc(period)}</h1>",
             f"<p>{esc(reg.source)} — {esc(generated(reg, period, lang))}</p>",
             *(f"<p class='warning'><strong>{esc(label('warnings', lang))}:</strong> {esc(w)}</p>"
               for w in calendar_warnings(reg, lang))]
    for s in sections:
        parts.append(f"<section id='{s.key}'><h2>{esc(s.title)}</h2>")
        parts += [f"<p>{esc(line)}</p>" for line in s.text]
        svg = charts.svg(s)
        if svg:
            data = base64.b64encode(svg.encode()).decode()
            parts.append(f"<img alt='{esc(s.title)}' src='data:image/svg+xml;base64,{data}'>")
        if not s.table.empty:
            shown = s.table.head(MAX_ROWS)
            parts.append("<table><tr>" + "".join(f"<th>{esc(str(c))}</th>" for c in shown.columns)
                         + "</tr>")
            for row in _rows(s):
                parts.append("<tr>" + "".join(f"<td>{esc(v)}</td>" for v in row) + "</tr>")
            parts.append("</table>")
            if len(s.table) > MAX_ROWS:
                parts.append(f"<p>{esc(label('report_more', lang, n=len(s.table) - MAX_ROWS))}</p>")
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts)


LINE = 5  # mm: the height of one line of a table's text in the PDF
HEADING_FILL = (235, 235, 235)


def _table(pdf, head: list[str], rows: list[list[str]]) -> None:
    """A table laid out as fpdf2's `pdf.table(line_height=LINE, text_align="LEFT")` with a
    grey heading lays it out — the same equal columns, borders, word wrapping, rows centred
    vertically, page breaks before a row that does not fit, the heading repeated on each page
    and never left alone at the foot of one; the same PDF, byte for byte — without its cost
    per cell: a cell whose text fits on one line is measured by its glyph widths, and only
    the others go through fpdf2's line breaking, once; each line is then one cell()."""
    from fpdf.enums import Align, TableBordersLayout, WrapMode
    from fpdf.fonts import FontFace
    from fpdf.util import Padding

    body = pdf.font_face()
    heading = FontFace.combine(body, FontFace(fill_color=HEADING_FILL))
    table = [head, *rows]
    ncols = max(len(r) for r in table)
    margin, pdf.l_margin = pdf.l_margin, (pdf.w - pdf.epw) / 2  # centred, as fpdf2 does
    width = pdf.epw / ncols
    xs = list(itertools.accumulate([pdf.l_margin] + [width] * (ncols - 1)))
    room = width - 2 * pdf.c_margin  # multi_cell keeps c_margin clear on either side
    font, size = pdf.current_font, pdf.font_size_pt
    no_padding = Padding.new(0)
    subset = getattr(font, "subset", None)  # a TrueType font's glyphs in the PDF

    def wrap(text: str) -> list[str]:
        """The lines of a cell's text: itself when it fits on one line (clear of fpdf2's
        rounding), else as fpdf2's multi_cell breaks it."""
        if not text:
            return []
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

    lines = [[wrap(text) for text in row] for row in table]
    heights = [max(LINE * len(cell) for cell in row) or LINE for row in lines]
    border = TableBordersLayout.ALL.cell_style_getter(0, 0, 0, 1, len(table), ncols, ncols)

    def draw(i: int) -> None:
        style = heading if i == 0 else body
        y = pdf.y
        for j, cell in enumerate(lines[i]):
            pdf.set_x(xs[j])
            border.draw_cell_border(pdf, xs[j], y, xs[j] + width, y + heights[i],
                                    fill_color=style.fill_color)
            if cell:
                pdf.y += (heights[i] - LINE * len(cell)) / 2  # centred in its row
                with pdf.use_font_face(style):
                    for line in cell:
                        pdf.cell(width, LINE, line, align=Align.L, new_x="LEFT", new_y="NEXT")
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


def render_pdf(reg: Register, sections: list[Section], period: str, lang: str,
               charts: Charts | None = None) -> bytes:
    from fpdf import FPDF

    title, _ = _titles(period, lang)
    charts = charts or Charts(sections)
    font = pdf_font(lang)
    header = label("report_header", lang, title=title, period=period, register=Path(
        reg.source).name if reg.source else "")

    family = "cjk" if font else "helvetica"  # Helvetica: built into every PDF reader

    class Pack(FPDF):
        def normalize_text(self, text: str) -> str:
            if not self.is_ttf_font:  # Helvetica knows Latin-1 only; other letters become ?
                text = text.translate(LATIN1).encode("latin-1", "replace").decode("latin-1")
            return super().normalize_text(text)

        def header(self):
            self.set_font(family, size=8)
            self.set_text_color(110)
            self.cell(0, 6, header, align="R", new_x="LMARGIN", new_y="NEXT")
            self.set_text_color(0)

        def footer(self):
            self.set_y(-12)
            self.set_font(family, size=8)
            self.cell(0, 6, label("report_page", lang, n=self.page_no(), total="{nb}"),
                      align="C")

    pdf = Pack(format="A4")
    pdf.set_creation_date(reg.localize(pack_moment(reg, period)))
    if font:
        pdf.add_font("cjk", fname=font)
    pdf.set_auto_page_break(True, margin=16)
    pdf.alias_nb_pages()
    pdf.add_page()
    pdf.set_font(family, size=18)
    pdf.multi_cell(0, 10, f"{title} · {period}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, size=9)
    pdf.multi_cell(0, 5, generated(reg, period, lang), new_x="LMARGIN", new_y="NEXT")
    for w in calendar_warnings(reg, lang):
        pdf.set_text_color(160, 60, 0)
        pdf.multi_cell(0, 5, f"{label('warnings', lang)}: {w}", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0)
    for s in sections:
        pdf.ln(3)
        pdf.set_font(family, size=13)
        pdf.multi_cell(0, 8, s.title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(family, size=9.5)
        for line in s.text:
            pdf.multi_cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
        png = charts.png(s)
        if png:
            pdf.image(io.BytesIO(png), w=150)
        if not s.table.empty:
            shown = s.table.head(MAX_ROWS)
            pdf.set_font(family, size=8)
            _table(pdf, [str(c) for c in shown.columns], list(_rows(s)))
            if len(s.table) > MAX_ROWS:
                pdf.multi_cell(0, 5, label("report_more", lang, n=len(s.table) - MAX_ROWS),
                               new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


PARTS = ("xlsx", "html", "pdf")
#: the order they are made in: the PDF takes the charts one by one as they are drawn, the
#: HTML all at once, so the charts thread has the workbook and the PDF's time to draw them
MADE = ("xlsx", "pdf", "html")
NAMES = {"xlsx": "statistics.xlsx", "html": "report.html", "pdf": "report.pdf"}


def pack_parts(reg: Register, period: str, lang: str = "zh"
               ) -> tuple[dict[str, bytes], list[str]]:
    """The three documents of a period by file name, each made on its own, and a sentence
    in `lang` for each one that could not be made (the others are still there). For a
    closed period the same bytes whenever they are produced (all as of the period's end)."""
    drawer = Charts.drawer()
    sections = build_sections(reg, period, lang)
    charts = Charts(sections, pool=drawer)  # drawn while the workbook is written
    period = parse_period(period).label
    made: dict[str, bytes | str] = {}  # each part's document, or the sentence why not
    for part in MADE:
        name = f"{period}-{NAMES[part]}"
        try:
            if part == "xlsx":
                with tempfile.TemporaryDirectory() as folder:
                    data = write_xlsx(reg, sections, Path(folder) / "statistics.xlsx",
                                      lang).read_bytes()
                made[part] = stable_zip(data, pack_moment(reg, period))
            elif part == "html":
                made[part] = render_html(reg, sections, period, lang, charts).encode()
            else:
                made[part] = render_pdf(reg, sections, period, lang, charts)
        except RegisterError as exc:
            made[part] = label("pack_part_failed", lang, name=name, e=exc.message(lang))
        except Exception as exc:  # one document's failure must not cost the others
            made[part] = label("pack_part_failed", lang, name=name,
                               e=f"{type(exc).__name__}: {exc}")
    files = {f"{period}-{NAMES[p]}": made[p] for p in PARTS if isinstance(made[p], bytes)}
    return files, [made[p] for p in PARTS if isinstance(made[p], str)]


def build_pack(reg: Register, period: str, lang: str = "zh") -> dict[str, bytes]:
    """The three documents of a period, by file name; RegisterError if one cannot be made."""
    files, failures = pack_parts(reg, period, lang)
    if failures:
        raise RegisterError(" ".join(failures))
    return files


def write_pack(reg: Register, period: str, out: str | Path, lang: str = "zh"
               ) -> tuple[list[Path], list[str]]:
    """Write every document that could be made into `out`; the paths, and the sentences
    saying which could not be made and why."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise RegisterError(f"{out} is a file, not a folder; give --out a folder (it is created "
                            f"if it does not exist).")
    out.mkdir(parents=True, exist_ok=True)
    files, failures = pack_parts(reg, period, lang)
    paths = []
    for name, data in files.items():
        (out / name).write_bytes(data)
        paths.append(out / name)
    return paths, failures


def pack_zip(reg: Register, period: str, lang: str = "zh") -> tuple[bytes | None, list[str]]:
    """The pack as one zip of every document that could be made (None if none could), and
    the sentences saying which could not be made."""
    files, failures = pack_parts(reg, period, lang)
    if not files:
        return None, failures
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return stable_zip(buf.getvalue(), pack_moment(reg, period)), failures
