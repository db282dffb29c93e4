"""The review-meeting pack (R-STATS): the statistics table (.xlsx), and the analysis report
as self-contained HTML and as an A4 PDF — all rendered from core.reports.sections, the same
sections the statistics page shows, so no figure has a second copy."""

from __future__ import annotations

import base64
import html
import io
import re
import tempfile
import zipfile
from pathlib import Path

import pandas as pd

from core.errors import RegisterError
from core.reading.i18n import label
from core.reports.pdf import FontMissing, PdfDoc, PdfSection, pdf_font
from core.reports.processes import Charts, PackWorkers, RemoteCharts, WorkerFailed
from core.reports.sections import Section, each_section
from core.rules.asof import moment_text, period_moment
from core.rules.period import parse_period
from core.rules.register import Register

MAX_ROWS = 50  # rows of one table shown in the HTML/PDF; the xlsx holds them all


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


def write_xlsx(reg: Register, sections: list[Section], path: Path, lang: str) -> Path:
    from core.store.workbook import write_tables

    tables = [(s.title, s.table) for s in sections if not s.table.empty or s.key == "overview"]
    notes = calendar_warnings(reg, lang)
    if notes:
        tables.insert(0, (label("warnings", lang), pd.DataFrame({label("warnings", lang): notes})))
    return write_tables(path, tables)


def _rows(s: Section) -> list[list[str]]:
    """The shown rows of a section's table as text, as written (HTML and PDF run no
    formulas, so nothing is prefixed with an apostrophe)."""
    return s.rows(MAX_ROWS)


def _more(s: Section, lang: str) -> str | None:
    """The sentence under a table cut to MAX_ROWS rows (HTML and PDF), None when it is whole."""
    more = len(s.table) - MAX_ROWS
    return label("report_more", lang, n=more) if more > 0 else None


def render_html(reg: Register, sections: list[Section], period: str, lang: str,
                charts: Charts | RemoteCharts | None = None) -> str:
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
             f"<p>{esc(register_name(reg))} — {esc(generated(reg, period, lang))}</p>",
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
            if _more(s, lang):
                parts.append(f"<p>{esc(_more(s, lang))}</p>")
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts)


def register_name(reg: Register) -> str:
    """The register as a report names it: its file's name, not where it lies on the server
    (a pack is handed round; the folders of the machine that made it are nobody's business)."""
    return Path(reg.source).name if reg.source else ""


def pdf_head(reg: Register, period: str, lang: str) -> PdfDoc:
    """What the PDF shows above its sections, as plain text for core.reports.pdf (laid out
    in the PDF worker or here). FontMissing when the report is in Chinese and no Chinese
    font is installed."""
    title, _ = _titles(period, lang)
    header = label("report_header", lang, title=title, period=period,
                   register=register_name(reg))
    return PdfDoc(pdf_font(lang), header, label("report_page", lang, n="{n}", total="{nb}"),
                  f"{title} · {period}", generated(reg, period, lang),
                  [f"{label('warnings', lang)}: {w}" for w in calendar_warnings(reg, lang)],
                  reg.localize(pack_moment(reg, period)))


def pdf_section(s: Section, lang: str) -> PdfSection:
    """A section as the PDF shows it: its table's first MAX_ROWS rows as text."""
    if s.table.empty:
        return PdfSection(s.title, list(s.text), s.chart is not None)
    return PdfSection(s.title, list(s.text), s.chart is not None,
                      [str(c) for c in s.table.columns], _rows(s), _more(s, lang))


PARTS = ("xlsx", "html", "pdf")
NAMES = {"xlsx": "statistics.xlsx", "html": "report.html", "pdf": "report.pdf"}


def start_workers(lang: str) -> PackWorkers:
    """The pack's helper processes (charts, PDF), started before the register is read so
    that they load their engine and font meanwhile. `python -m core report` starts them
    once its own modules are imported, not before: on two cores, helpers loading beside
    the import of pandas and the read of the file slowed the command, which the helpers
    then waited for (about 0.2 s at 10k rows, measured both ways)."""
    try:
        font: str | Exception | None = pdf_font(lang)
    except FontMissing as exc:
        font = exc
    return PackWorkers(font)


def pack_parts(reg: Register, period: str, lang: str = "zh",
               workers: PackWorkers | None = None) -> tuple[dict[str, bytes], list[str]]:
    """The three documents of a period by file name, each made on its own, and a sentence
    in `lang` for each one that could not be made (the others are still there). For a
    closed period the same bytes whenever they are produced (all as of the period's end).
    `workers` (started here if not given) draw each section's chart and lay out its part of
    the PDF as soon as it is built, while the next ones are built here; then the workbook
    and the HTML are made here."""
    workers = workers or start_workers(lang)
    made: dict[str, bytes | str] = {}  # each part's document, or the sentence why not

    def attempt(part: str, make) -> bool:
        name = f"{parse_period(period).label}-{NAMES[part]}"
        try:
            made[part] = make()
            return True
        except RegisterError as exc:
            made[part] = label("pack_part_failed", lang, name=name, e=exc.message(lang))
        except WorkerFailed as exc:
            made[part] = label("pack_part_failed", lang, name=name, e=str(exc))
        except Exception as exc:  # one document's failure must not cost the others
            made[part] = label("pack_part_failed", lang, name=name,
                               e=f"{type(exc).__name__}: {exc}")
        return False

    try:
        shown = parse_period(period).label
        charts = workers.draw()
        sections: list[Section] = []
        job = None

        def begin() -> bytes:
            nonlocal job
            job = workers.render(pdf_head(reg, shown, lang), lambda i: charts.svg(sections[i]))
            return b""

        attempt("pdf", begin)
        for s in each_section(reg, period, lang):
            sections.append(s)
            charts.add(len(sections) - 1, s)
            if job is not None and not attempt(
                    "pdf", lambda s=s, job=job: job.add(pdf_section(s, lang))):
                job = None  # its worker ends when its input is closed
        charts.end()
        if job is not None:
            job.end()
        attempt("xlsx", lambda: _xlsx(reg, sections, shown, lang))
        attempt("html", lambda: render_html(reg, sections, shown, lang, charts).encode())
        if job is not None:
            attempt("pdf", job.result)
    finally:
        workers.close()
    files = {f"{shown}-{NAMES[p]}": made[p] for p in PARTS if isinstance(made[p], bytes)}
    return files, [made[p] for p in PARTS if isinstance(made[p], str)]


def _xlsx(reg: Register, sections: list[Section], period: str, lang: str) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        data = write_xlsx(reg, sections, Path(folder) / "statistics.xlsx", lang).read_bytes()
    return stable_zip(data, pack_moment(reg, period))


def build_pack(reg: Register, period: str, lang: str = "zh") -> dict[str, bytes]:
    """The three documents of a period, by file name; RegisterError if one cannot be made."""
    files, failures = pack_parts(reg, period, lang)
    if failures:
        raise RegisterError(" ".join(failures))
    return files


def write_pack(reg: Register, period: str, out: str | Path, lang: str = "zh",
               workers: PackWorkers | None = None) -> tuple[list[Path], list[str]]:
    """Write every document that could be made into `out`; the paths, and the sentences
    saying which could not be made and why."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        if workers is not None:
            workers.close()
        raise RegisterError(f"{out} is a file, not a folder; give --out a folder (it is created "
                            f"if it does not exist).")
    out.mkdir(parents=True, exist_ok=True)
    files, failures = pack_parts(reg, period, lang, workers)
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
