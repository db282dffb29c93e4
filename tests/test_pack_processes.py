"""The pack's charts are drawn and its PDF laid out by two helper processes beside the main one
(issue 11: vl-convert holds the interpreter while it draws, fpdf2 is pure Python): the same
documents, byte for byte, as made in one process (R-STATS: the same pack whenever it is
produced); a helper that cannot start or stops midway costs time, never a document; a helper
ends when its input does."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io

import pytest

from core.reports import pdf, processes, report
from core.reports.processes import Worker
from core.reports.sections import Section, build_sections
from core.rules.register import build_register
from core.store.workbook import WorkbookStore

QUARTER = "2026-Q3"


@pytest.fixture(scope="module")
def reg(demo_path, schema):
    return build_register(WorkbookStore(demo_path, schema).read(), schema,
                          now=dt.datetime(2026, 11, 24, 10, 0))


@pytest.fixture(scope="module")
def in_one_process(reg):
    with pytest.MonkeyPatch.context() as m:
        m.setattr(Worker, "start", classmethod(lambda cls, *args: None))
        files, failures = report.pack_parts(reg, QUARTER, "zh")
    assert failures == [] and len(files) == 3
    return files


@pytest.fixture
def helpers(monkeypatch):
    """Every helper process started, as (arguments, Worker)."""
    started = []
    start = Worker.start.__func__

    def recording(cls, *args):
        w = start(cls, *args)
        started.append((args, w))
        return w

    monkeypatch.setattr(Worker, "start", classmethod(recording))
    return started


def test_the_helpers_make_the_same_pack_as_one_process(reg, in_one_process, helpers):
    files, failures = report.pack_parts(reg, QUARTER, "zh")
    assert failures == []
    assert files == in_one_process
    assert [args[0] for args, _ in helpers] == ["charts", "pdf"]
    assert [w.proc.returncode for _, w in helpers] == [0, 0]  # ended with their input


def test_helpers_that_stop_before_their_work_cost_no_document(reg, in_one_process, monkeypatch):
    start = Worker.start.__func__

    def stopped(cls, *args):
        w = start(cls, *args)
        w.proc.kill()
        w.proc.wait()
        return w

    monkeypatch.setattr(Worker, "start", classmethod(stopped))
    files, failures = report.pack_parts(reg, QUARTER, "zh")
    assert failures == [] and files == in_one_process


def test_the_report_command_starts_its_helpers_before_it_reads(demo_path, tmp_path,
                                                                monkeypatch):
    from core.front import cli

    order = []
    start, load = processes.PackWorkers, cli._load

    def started(font):
        order.append("helpers")
        return start(font)

    monkeypatch.setattr(report, "PackWorkers", started)
    monkeypatch.setattr(cli, "_load", lambda args: order.append("read") or load(args))
    argv = ["report", "--workbook", str(demo_path), "--period", QUARTER, "--out", str(tmp_path),
            "--lang", "zh", "--now", "2026-11-24T10:00:00+08:00", "--user", "周文博"]
    assert cli.main(argv) == 0
    assert order == ["helpers", "read"]  # once, before the register is read
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        f"{QUARTER}-report.html", f"{QUARTER}-report.pdf", f"{QUARTER}-statistics.xlsx"]


BROKEN = {"mark": "no such mark", "data": {"values": [{}]}}  # a chart Vega-Lite cannot draw


def test_a_chart_that_cannot_be_drawn_fails_only_the_documents_showing_it(reg, monkeypatch):
    def sections(*args):
        out = build_sections(*args)
        out[0] = Section(out[0].key, out[0].title, out[0].text, out[0].table, BROKEN)
        return iter(out)

    monkeypatch.setattr(report, "each_section", sections)
    files, failures = report.pack_parts(reg, QUARTER, "en")
    assert list(files) == [f"{QUARTER}-statistics.xlsx"]
    assert len(failures) == 2
    assert failures[0].startswith(f"{QUARTER}-report.html could not be made: ValueError: "
                                  "Vega-Lite to SVG conversion failed")
    assert failures[1].startswith(f"{QUARTER}-report.pdf could not be made: ValueError: "
                                  "Vega-Lite to SVG conversion failed")


def test_the_pdf_helper_is_not_started_without_a_font_for_the_language(monkeypatch):
    monkeypatch.setattr(pdf, "CJK_FONTS", ())
    workers = report.start_workers("zh")
    try:
        assert workers.pdf is None and workers.charts is not None
    finally:
        workers.close()
    assert processes.PackWorkers  # the same class the command and the page use


def test_the_pdf_helper_takes_charts_and_sections_in_any_order_around_its_document():
    from core.reports import worker

    chart = worker.draw(worker.WARM)
    sections = [pdf.PdfSection("One", ["text"], True),
                pdf.PdfSection("Two", [], True, ["a"], [["1"]])]
    doc = pdf.PdfDoc(None, "Header", "Page {n} of {nb}", "Title", "As of now", [],
                     dt.datetime(2026, 10, 1), sections)
    alone = pdf.render(doc, lambda i: chart)
    streamed = dataclasses.replace(doc, sections=[], streamed=True)
    one, two = (("svg", 0, chart, None), ("svg", 1, chart, None))
    parts = [("section", sections[0]), ("section", sections[1]), ("end",)]
    for first, then in (([two, one], [doc]), ([doc], [one, two]),
                        ([streamed, parts[0], one], [two, *parts[1:]]),
                        ([two, streamed, *parts], [one])):
        w = Worker.start("pdf", "")
        for message in first + then:
            assert w.send(message)
        assert w.receive() == ("pdf", alone)
        w.close()
        assert w.proc.returncode == 0


def test_the_pdf_helper_places_a_chart_it_cannot_draw_as_vector_as_a_picture():
    # the helper starts without the modules fpdf2 only signs, encrypts or speeds pictures
    # with (worker.UNUSED_BY_PDF): its picture fallback still works without them
    from pypdf import PdfReader

    odd = ('<svg xmlns="http://www.w3.org/2000/svg" width="20em" height="10em">'
           '<rect width="50" height="50" fill="#1f6fb4"/></svg>')  # fpdf2 reads no em
    doc = pdf.PdfDoc(None, "Header", "Page {n} of {nb}", "Title", "As of now", [],
                     dt.datetime(2026, 10, 1), [pdf.PdfSection("One", ["text"], True)])
    w = Worker.start("pdf", "")
    assert w.send(("svg", 0, odd, None)) and w.send(doc)
    kind, data = w.receive()
    w.close()
    assert kind == "pdf" and w.proc.returncode == 0
    page = PdfReader(io.BytesIO(data)).pages[0]
    assert len(page.images) == 1 and "One" in page.extract_text()


def test_a_helper_that_does_not_answer_is_stopped_and_its_work_done_here(reg, in_one_process,
                                                                        monkeypatch):
    monkeypatch.setattr(processes, "ANSWER_SECONDS", 0.01)  # no helper answers that fast
    files, failures = report.pack_parts(reg, QUARTER, "zh")
    assert failures == [] and files == in_one_process
