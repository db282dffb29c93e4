"""The review-meeting pack (R-STATS, R-TREND, R-SCORE): xlsx, self-contained HTML and PDF,
rendered from the same sections as the statistics page."""

import dataclasses
import datetime as dt
import io
import re
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from altair.utils.schemapi import validate_jsonschema
from altair.vegalite.v6.schema import load_schema as vega_lite_schema
from PIL import Image
from pypdf import PdfReader

from core.reading.schema import schema as load_schema
from core.reports.sections import build_sections
from core.rules.asof import as_of
from core.rules.register import build_register
from core.rules.scoring import department_scores
from core.store.workbook import WorkbookStore

from .conftest import NOW, SUPERVISOR, made_once, run_cli

QUARTER = "2026-Q3"  # the demo register's last full quarter (today is 2026-11-24)


@pytest.fixture(scope="module")
def packs(demo_path, tmp_path_factory, worker_id):
    """The quarter's pack made by the command in each language, once for the run."""
    def make(root: Path) -> None:
        for lang in ("zh", "en"):
            folder = root / lang
            p = run_cli("report", "--workbook", str(demo_path), "--period", QUARTER, "--out",
                        str(folder), "--lang", lang, "--now", NOW, "--user", SUPERVISOR)
            assert p.returncode == 0, p.stderr
            assert p.stdout.split() == [str(folder / f"{QUARTER}-{n}") for n in
                                        ("statistics.xlsx", "report.html", "report.pdf")]
    root = made_once(tmp_path_factory, worker_id, "packs", make)
    return {lang: root / lang for lang in ("zh", "en")}


def demo_reg(demo_path, schema):
    return build_register(WorkbookStore(demo_path, schema).read(), schema,
                          now=dt.datetime(2026, 11, 24, 10, 0))


def received_in_q3_by_hand(demo_path):
    """Count straight from the sheet, independent of core: complaints received Jul–Sep 2026."""
    ws = openpyxl.load_workbook(demo_path)["投诉登记"]
    head = [c.value for c in ws[1]]
    kind, when = head.index("类型"), head.index("受理时间")
    return sum(1 for r in ws.iter_rows(min_row=2, values_only=True)
               if r[kind] == "投诉" and dt.datetime(2026, 7, 1) <= r[when] < dt.datetime(2026, 10, 1))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_xlsx_totals_equal_the_sheet_and_the_score_command(packs, demo_path, lang):
    wb = openpyxl.load_workbook(packs[lang] / f"{QUARTER}-statistics.xlsx")
    overview = wb[wb.sheetnames[0]]
    assert overview.cell(row=1, column=2).value == QUARTER
    received = overview.cell(row=2, column=2).value
    assert isinstance(received, int) and received == received_in_q3_by_hand(demo_path)
    by_category = wb["按类别统计" if lang == "zh" else "By Category"]
    assert sum(r[1] for r in by_category.iter_rows(min_row=2, values_only=True)) == received
    # R-SCORE: each month is scored as it stood at its end (final per cycle), so the
    # pack's figures are those of `score` run at the end of each month
    lost: dict[str, int] = {}
    for month, end in (("2026-07", "2026-08-01"), ("2026-08", "2026-09-01"),
                       ("2026-09", "2026-10-01")):
        reg = as_of(demo_reg(demo_path, load_schema()), pd.Timestamp(end))
        for d in department_scores(reg, month)["departments"]:
            lost[d["department"]] = lost.get(d["department"], 0) + d["points_lost"]
    scores = wb["部门考核" if lang == "zh" else "Department scores"]
    assert {r[0]: r[1] for r in scores.iter_rows(min_row=2, values_only=True)} == lost


def test_the_pdf_has_every_section_and_the_key_figures(packs, demo_path, schema):
    sections = build_sections(demo_reg(demo_path, schema), QUARTER, "en")
    pdf = PdfReader(packs["en"] / f"{QUARTER}-report.pdf")
    text = "\n".join(page.extract_text() for page in pdf.pages)
    assert [s.title for s in sections if s.title in text] == [s.title for s in sections]
    assert len(sections) == 23
    assert sections[0].text[0] in text.replace("\n", " ")
    assert f"Page 1 of {len(pdf.pages)}" in text
    assert "Quarterly complaint summary report · 2026-Q3 · demo.xlsx" in text
    box = pdf.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4


def test_the_chinese_pdf_carries_chinese_text(packs):
    text = PdfReader(packs["zh"] / f"{QUARTER}-report.pdf").pages[0].extract_text()
    assert "客户投诉受理汇总报告" in text and "本期概况" in text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_html_is_self_contained(packs, demo_path, schema, lang):
    sections = build_sections(demo_reg(demo_path, schema), QUARTER, lang)
    charts = sum(s.chart is not None for s in sections)
    page = (packs[lang] / f"{QUARTER}-report.html").read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//|url\(\s*["']?https?:|@import""",
                         page)
    assert page.count("<img") == charts == page.count("data:image/svg+xml;base64,") == 9
    assert page.count("<section") == len(sections) == 23
    # the register by its file's name, as in the PDF, never the folder it lies in
    assert "<p>demo.xlsx — " in page and str(demo_path.parent) not in page


def test_an_empty_period_says_so(demo_path, schema):
    sections = build_sections(demo_reg(demo_path, schema), "2024-01", "en")
    assert sections[0].text == ["No complaints were received in 2024-01."]
    sections = build_sections(demo_reg(demo_path, schema), "2024-01", "zh")
    assert sections[0].text == ["2024-01 没有受理投诉。"]


def test_charts_draw_chinese_with_a_real_font():
    # DESIGN.md: without a CJK font vl-convert draws empty boxes. Two different Chinese
    # titles must give two different images; with no font both would be the same boxes.
    import vl_convert as vlc

    def png(title):
        spec = {"$schema": "https://vega.github.io/schema/vega-lite/v5.json",
                "title": title, "data": {"values": [{"a": 1}]}, "mark": "point",
                "encoding": {"x": {"field": "a", "type": "quantitative"}}}
        return np.asarray(Image.open(io.BytesIO(vlc.vegalite_to_png(spec))).convert("L"))

    a, b = png("月度投诉统计"), png("季度汇总报告")
    assert a.shape == b.shape and (a != b).sum() > 50


def test_the_statistics_page_offers_the_pack(demo_path):
    from .test_app import app_on
    at = app_on(demo_path, "en", "statistics")
    at.button(key="pack_make").click().run()
    assert not at.error
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Download the report pack (xlsx, HTML, PDF)" in labels


def test_without_a_chinese_font_the_page_says_so_and_offers_the_rest(demo_path, monkeypatch):
    from core.reports import pdf

    from .test_app import app_on
    at = app_on(demo_path, "zh", "statistics")
    monkeypatch.setattr(pdf, "CJK_FONTS", ())
    at.button(key="pack_make").click().run()
    assert [e.value for e in at.error] == [
        "2026-11-report.pdf 未能生成：本机未安装中文字体，PDF 无法显示中文；请安装一种（Debian："
        "apt-get install fonts-wqy-microhei）后重试。"]
    assert "下载报告（xlsx、HTML、PDF）" in [b.proto.label for b in at.get("download_button")]


def test_each_document_of_the_pack_is_made_on_its_own(demo_path, monkeypatch, tmp_path):
    from core.reports import pdf, report

    reg = build_register(WorkbookStore(demo_path, load_schema()).read(), load_schema(),
                         now=dt.datetime(2026, 11, 24, 10, 0))
    monkeypatch.setattr(pdf, "CJK_FONTS", ())
    paths, failures = report.write_pack(reg, "2026-10", tmp_path / "zh", "zh")
    assert [p.name for p in paths] == ["2026-10-statistics.xlsx", "2026-10-report.html"]
    assert failures == ["2026-10-report.pdf 未能生成：本机未安装中文字体，PDF 无法显示中文；请安装"
                        "一种（Debian：apt-get install fonts-wqy-microhei）后重试。"]
    # in English no Chinese font is needed, not even any font file: PDF's own Helvetica
    monkeypatch.setattr(pdf, "LATIN_FONTS", ())
    paths, failures = report.write_pack(reg, "2026-10", tmp_path / "en", "en")
    assert failures == [] and [p.name for p in paths] == [
        "2026-10-statistics.xlsx", "2026-10-report.html", "2026-10-report.pdf"]
    text = PdfReader(paths[2]).pages[0].extract_text()
    assert "Monthly" in text or "monthly" in text.lower()


def test_amounts_carry_no_apostrophe_and_formulas_still_do(packs):
    from core.reports.export import neutralise

    text = "".join(p.extract_text() for p in PdfReader(packs["zh"] / f"{QUARTER}-report.pdf").pages)
    assert re.search(r"[+-]\d", text) and "'-" not in text and "'+" not in text
    # in a CSV a plain number stays a number; text Excel would run as a formula does not
    assert [neutralise(v) for v in ("-15000", "+3", "-12%", "=1+1", "-1, -2%")] == [
        "-15000", "+3", "-12%", "'=1+1", "'-1, -2%"]


@pytest.mark.parametrize("dtype", [object, "str", "string"])
def test_a_csv_neutralises_formulas_in_any_text_column_and_writes_blanks_as_blank(dtype):
    # a column pandas holds as str (not object) was passed over by the guard before
    from core.reports.export import safe_csv

    df = pd.DataFrame({"=SUM(A1)": ["=1+1", "-5", "@x", None, 'a, "b"']}, dtype=dtype)
    assert safe_csv(df).decode("utf-8-sig").splitlines() == [
        "'=SUM(A1)", "'=1+1", "-5", "'@x", '""', '"a, ""b"""']


def test_a_closed_period_pack_is_byte_for_byte_the_same_at_another_now(packs, demo_path,
                                                                       tmp_path):
    # R-STATS: figures as of the period's end, "the same report whenever it is produced"
    p = run_cli("report", "--workbook", str(demo_path), "--period", QUARTER, "--out",
                str(tmp_path), "--lang", "zh", "--now", "2027-02-03T15:20:00+08:00", "--user", SUPERVISOR)
    assert p.returncode == 0, p.stderr
    for name in ("statistics.xlsx", "report.html", "report.pdf"):
        assert (tmp_path / f"{QUARTER}-{name}").read_bytes() == \
            (packs["zh"] / f"{QUARTER}-{name}").read_bytes(), name


def overview_figure(sections, name, column):
    table = sections[0].table.set_index(sections[0].table.columns[0])
    return table.loc[name, column]


def test_carried_over_figures_agree_within_a_report_and_across_periods(demo_path, schema):
    # R-STATS: carried over into a period = open at the previous period's end, in every
    # place a report shows it
    reg = demo_reg(demo_path, schema)
    q3 = {s.key: s for s in build_sections(reg, QUARTER, "en")}
    months = q3["months"].table.set_index("Figure")
    for before, after in (("2026-07", "2026-08"), ("2026-08", "2026-09")):
        assert months.loc["Open", before] == months.loc["Carried over", after]
    assert months.loc["Open", "2026-09"] == months.loc["Open", QUARTER]
    assert months.loc["Carried over", "2026-07"] == months.loc["Carried over", QUARTER]
    open_q3 = months.loc["Open", QUARTER]
    assert len(q3["carried"].table) == open_q3
    assert q3["ages"].text[0].startswith(f"{open_q3} complaints are open at the period's end")
    assert q3["by_category"].table["Open"].sum() == open_q3
    q4 = build_sections(reg, "2026-Q4", "en")
    assert overview_figure(q4, "Carried over", "2026-Q4") == open_q3
    sep, oct_ = build_sections(reg, "2026-09", "en"), build_sections(reg, "2026-10", "en")
    assert overview_figure(oct_, "Carried over", "2026-10") == overview_figure(sep, "Open", "2026-09")
    assert overview_figure(oct_, "Carried over", "2026-10") == \
        overview_figure(oct_, "Open", "2026-09")


def test_the_overdue_list_is_as_of_the_period_end(demo_path, schema):
    # The example: the Q3 pack must not list a complaint first due in October.
    reg = demo_reg(demo_path, schema)
    q3 = {s.key: s for s in build_sections(reg, QUARTER, "en")}
    due = pd.to_datetime(q3["overdue"].table["Due"])
    assert len(due) and (due < pd.Timestamp("2026-10-01")).all()


def _walk(spec):
    """Every dict in a Vega-Lite spec."""
    if isinstance(spec, dict):
        yield spec
        for v in spec.values():
            yield from _walk(v)
    elif isinstance(spec, list):
        for v in spec:
            yield from _walk(v)


def test_charts_read_from_across_the_room_in_the_same_colours_in_both_languages(demo_path):
    # issue 12: horizontal bars with their names written out, titled axes, a percent axis for
    # rates, and colours named in the chart (the page, the HTML and the PDF show the same)
    reg = build_register(WorkbookStore(demo_path, load_schema()).read(), load_schema(),
                         now=dt.datetime(2026, 11, 24, 10, 0))
    colours = {}
    for lang in ("zh", "en"):
        charts = {s.key: s.chart for s in build_sections(reg, "2026-10", lang)
                  if s.chart is not None}
        for spec in charts.values():  # each a valid Vega-Lite specification
            validate_jsonschema(spec, vega_lite_schema())
        assert {"trend", "on_time", "by_category", "ages"} <= set(charts)
        for key, spec in charts.items():
            nodes = list(_walk(spec))
            assert spec["config"]["axis"]["labelLimit"] == 0, key  # never "Acceptance decisi…"
            encodings = [n["encoding"] for n in nodes if "encoding" in n]
            assert all(e[a].get("title") for e in encodings for a in ("x", "y") if a in e), key
            if key != "trend":
                assert all(e["y"]["type"] == "nominal" for e in encodings if "y" in e), key
                assert spec["height"] == {"step": 30}, key
            colours.setdefault(key, set()).add(str([n.get("color") for n in nodes
                                                   if n.get("type") == "bar"]
                                                  + [n["scale"]["range"] for n in nodes
                                                     if "scale" in n and "range" in n["scale"]]))
        rate = next(n for n in _walk(charts["on_time"]) if n.get("field") == "value"
                    and "axis" in n)
        assert rate["axis"]["format"] == ".0%" and rate["scale"]["domain"] == [0, 1]
    assert all(len(c) == 1 for c in colours.values()), colours
    assert "#1f6fb4" in str(colours["on_time"]) and "#e8731a" in str(colours["trend"])


def test_csv_downloads_hold_whole_counts_and_percentages(demo_path):
    reg = build_register(WorkbookStore(demo_path, load_schema()).read(), load_schema(),
                         now=dt.datetime(2026, 11, 24, 10, 0))
    overview = build_sections(reg, "2026-10", "en")[0].csv().set_index("Figure")
    assert re.fullmatch(r"\d+", overview.loc["Received", "2026-10"])
    assert re.fullmatch(r"\d+%", overview.loc["Satisfaction rate", "2026-10"])
    assert not any(re.fullmatch(r"\d+\.0|0\.\d{3,}", v) for v in overview.to_numpy().ravel())


def test_without_a_chinese_font_the_letter_pdf_says_so_on_the_page(demo_path, monkeypatch):
    from core.reports import pdf

    from .test_app import app_on
    monkeypatch.setattr(pdf, "CJK_FONTS", ())
    at = app_on(demo_path, "zh", "closure")
    assert "本机未安装中文字体，PDF 无法显示中文；请安装一种（Debian：apt-get install " \
           "fonts-wqy-microhei）后重试。" in [w.value for w in at.warning]
    assert "下载 Word（可编辑）" in [b.proto.label for b in at.get("download_button")]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_pdf_never_splits_a_complaint_number_or_a_date_over_two_lines(packs, lang):
    # R-STATS (the lists of the meeting pack): a table's columns are as wide as its complaint
    # numbers and dates need, so each can be read, searched and copied whole
    pdf = PdfReader(packs[lang] / f"{QUARTER}-report.pdf")
    lines = [line.strip() for page in pdf.pages for line in page.extract_text().splitlines()]
    assert any(re.search(r"TS\d{11}\b", line) for line in lines)
    # nor a short column heading ("件数" read "件" over "数")
    assert not any(line in ("件", "数", "件 数") for line in lines)
    cut = [line for line in lines if re.fullmatch(r"(\S* )?(TS\d{1,10}|\d{4}-\d{2}-?)", line)]
    assert cut == []


@pytest.fixture(scope="module")
def pdf_parts(demo_path):
    """The quarter's PDF document and its charts' SVG, in Chinese, made in this process."""
    from core.reports import worker
    from core.reports.report import pdf_head, pdf_section

    schema = load_schema()
    reg = demo_reg(demo_path, schema)
    sections = build_sections(reg, QUARTER, "zh")
    doc = pdf_head(reg, QUARTER, "zh")
    doc.sections = [pdf_section(s, "zh") for s in sections]
    return doc, {i: worker.draw(s.chart) for i, s in enumerate(sections) if s.chart}, sections


def _pdf_text(data: bytes) -> tuple[str, int]:
    pdf = PdfReader(io.BytesIO(data))
    return ("\n".join(p.extract_text() for p in pdf.pages),
            sum(len(p.images) for p in pdf.pages))


def test_the_pdf_draws_its_charts_as_vector_graphics_with_their_words_as_text(pdf_parts):
    # R-STATS: the pack's charts print sharp at any size, and their words are text
    from core.reports import pdf

    doc, charts, sections = pdf_parts
    with_charts, pictures = _pdf_text(pdf.render(doc, charts.get))
    without, _ = _pdf_text(pdf.render(doc, lambda i: None))
    assert pictures == 0 and len(charts) == 9
    for i in charts:
        title = sections[i].chart["title"]
        assert with_charts.count(title) == without.count(title) + 1, title
    # the bars name what they count, in the chart as in its table
    assert with_charts.count("价格收费") > without.count("价格收费")


def test_chart_text_in_a_face_the_pdf_font_lacks_is_still_drawn_as_vector(pdf_parts):
    # the PDF's Chinese font has one face: a chart asking for bold, semibold or italic text
    # is drawn in it (fpdf2 would fail only once the chart's room is taken on the page)
    from core.reports import pdf

    doc, charts, _ = pdf_parts
    faces = {i: svg.replace('font-weight="normal"', 'font-weight="600" font-style="italic"')
             .replace('font-weight="bold"', 'font-weight="700"') for i, svg in charts.items()}
    assert all('font-weight="600"' in svg for svg in faces.values())
    text, pictures = _pdf_text(pdf.render(doc, faces.get))
    assert pictures == 0 and text == _pdf_text(pdf.render(doc, charts.get))[0]


def test_a_chart_the_pdf_cannot_draw_as_vector_is_placed_as_a_picture(pdf_parts, monkeypatch):
    from core.reports import pdf

    doc, charts, sections = pdf_parts

    def unreadable(*args):
        raise ValueError("not an SVG fpdf2 reads")

    monkeypatch.setattr(pdf, "vector", unreadable)
    text, pictures = _pdf_text(pdf.render(doc, charts.get))
    assert pictures == len(charts) == 9
    assert all(s.title in text for s in sections)  # nothing else is lost


def test_a_section_heading_is_kept_on_the_page_of_its_chart_or_table(pdf_parts):
    from core.reports import pdf

    doc, charts, _ = pdf_parts
    chart = next(iter(charts.values()))
    filler = pdf.PdfSection("Filler", [f"line {n}" for n in range(40)], False)
    table = {"head": ["No.", "Subject"], "rows": [[f"TS{n}", "Lift"] for n in range(9)]}
    for has_chart, rows, moved in ((True, {}, True), (False, {}, False),
                                   (False, table, True)):
        one = dataclasses.replace(doc, sections=[filler, pdf.PdfSection(
            "The section", ["Its sentence.", "Another.", "A third.", "A fourth."], has_chart,
            **rows)], warnings=[])
        pages = PdfReader(io.BytesIO(pdf.render(one, lambda i: chart))).pages
        first = pages[0].extract_text()
        # with a chart or a table below it the heading moves to the next page with them;
        # with nothing below it, it stays
        assert ("The section" in first) is not moved
        assert "line 39" in first


def test_chinese_paragraphs_break_between_characters_not_at_the_last_space(pdf_parts):
    # a Chinese sentence has few spaces ("（7 件）"): broken only at them, its lines ended
    # far short of the margin and split a count from its unit
    from core.reports import pdf

    doc, _, _ = pdf_parts
    sentence = "；".join(f"“现场核实：配件长期无货，原因是作业流程未执行到位。”（{n} 件）"
                        for n in range(7, 12)) + "。另见 TS20260612004、TS20260701003。"
    one = dataclasses.replace(doc, sections=[pdf.PdfSection("主要原因分析", [sentence], False)],
                              warnings=[])
    text = PdfReader(io.BytesIO(pdf.render(one, lambda i: None))).pages[0].extract_text()
    lines = text[text.index("主要原因分析"):].splitlines()[1:]
    body = lines[:next(i for i, line in enumerate(lines) if "TS20260701003" in line) + 1]
    assert len(body) >= 3 and "".join(body).replace(" ", "") == sentence.replace(" ", "")
    assert all(len(line) >= 0.9 * max(map(len, body)) for line in body[:-1]), body
    assert not any(line[:1] in "，。、；：）”件" for line in body), body
    assert all(re.fullmatch(r".*TS\d{11}.*", line) for line in body if "TS" in line)


def test_english_paragraphs_break_at_spaces_and_a_word_longer_than_a_line_is_cut(pdf_parts):
    # the PDF's own line breaking (fpdf2's multi_cell broke every paragraph before): a
    # sentence breaks at its spaces only, brackets and stops staying with their word; a
    # word longer than a line is cut where the line is full, nothing of it lost
    from core.reports import pdf

    doc, _, _ = pdf_parts
    words = [f"(word{n})," if n % 5 == 0 else f"word{n}" for n in range(60)]
    long = "x" * 300
    sentence = " ".join([*words, long, "end."])
    one = dataclasses.replace(doc, sections=[pdf.PdfSection("Causes", [sentence], False)],
                              warnings=[])
    text = PdfReader(io.BytesIO(pdf.render(one, lambda i: None))).pages[0].extract_text()
    lines = text[text.index("Causes"):].splitlines()[1:]
    body = lines[:next(i for i, line in enumerate(lines) if line.endswith("end.")) + 1]
    assert len(body) >= 6
    tokens = [t for line in body for t in line.split()]
    assert tokens[:60] == words and tokens[-1] == "end."  # each word whole, in order
    assert len(tokens) >= 63 and "".join(tokens[60:-1]) == long


@pytest.mark.parametrize("paragraph", [
    "详见（https://example.com/" + "a/b" * 40 + "）。",  # a link in brackets, longer than a line
    "见（" + "x" * 150,
    "word " * 30 + "50 %",
    "( x " * 80,
    "50\u00a0%" + " w" * 60,  # a no-break space joins its words
    "co\u00adoperate " * 20,  # a soft hyphen is never shown
    "“现场核实：配件长期无货。”（7 件）" * 6,
])
def test_every_line_of_a_pdf_paragraph_fits_and_keeps_its_text(pdf_parts, paragraph):
    # the PDF's own line breaking: cell() sets each line as it is, so none may be wider
    # than the text (a line 3 mm too wide ran into the margin), and nothing is lost
    from core.reports import pdf

    out = pdf.new_pdf(pdf_parts[0].font)
    out.add_page()
    room = out.epw - 2 * out.c_margin
    for size in (9.5, 13):
        lines = pdf._lines(out, paragraph, size)
        assert len(lines) >= 2
        assert all(out.get_string_width(line) <= room for line in lines), lines
        assert "".join(lines).replace(" ", "") == \
            paragraph.replace("\u00ad", "").replace(" ", "")


def test_pdf_lines_keep_marks_with_what_they_open_or_close(pdf_parts):
    from core.reports import pdf

    out = pdf.new_pdf(pdf_parts[0].font)
    out.add_page()
    lines = pdf._lines(out, "( x " * 80, 9.5)
    assert not any(line.endswith("(") for line in lines)
    # a unit after a space goes down with its number, the space kept between them
    out.set_font(out.family_name, size=9.5)
    room = out.epw - 2 * out.c_margin
    words = next(k for k in range(1, 400) if out.get_string_width("w " * k + "50 %") > room)
    assert out.get_string_width("w " * words + "50") <= room  # "%" alone does not fit
    assert pdf._lines(out, "w " * words + "50 %", 9.5)[1] == "50 %"
    # a bracket that opens a link longer than a line stays where it was written (the
    # link's first piece fills the next line), rather than standing alone on a line
    lines = pdf._lines(out, "详见（https://example.com/" + "a/b" * 40 + "）。", 9.5)
    assert lines[0] == "详见（" and "（" not in lines
