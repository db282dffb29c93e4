"""The pack's charts and PDF made beside the main process (core.reports.worker), or in it when
a helper process cannot be started or stops: the same bytes either way."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from core.reports import pdf, worker
from core.reports.pdf import PdfDoc, PdfSection

ROOT = Path(__file__).resolve().parent.parent.parent  # the folder `core` is imported from


_CLOSE = object()  # the end of a worker's outbox: its input is closed
#: how long a helper may take to answer (a chart, the whole PDF: their tables are at most
#: MAX_ROWS rows, so even a large register's take a few seconds) before it is stopped
ANSWER_SECONDS = 120.0


class Worker:
    """One helper process (`python -m core.reports.worker ROLE …`) and its two pipes. What is
    posted is sent in order by a thread of its own, so the main process never waits on a
    full pipe while the helper is busy."""

    def __init__(self, proc: subprocess.Popen):
        self.proc = proc
        self._lock = threading.Lock()  # one message at a time on its input
        self._outbox: queue.SimpleQueue = queue.SimpleQueue()
        self._sender = threading.Thread(target=self._send_all, name="to-helper", daemon=True)
        self._sender.start()

    @classmethod
    def start(cls, *args: str) -> Worker | None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
        try:
            proc = subprocess.Popen([sys.executable, "-m", "core.reports.worker", *args],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        except OSError:
            return None
        return cls(proc)

    def send(self, message: object) -> bool:
        """Send now; False when the process is gone (or the message cannot be sent: the
        helper then never finishes, and its work is done here after ANSWER_SECONDS)."""
        with self._lock:
            try:
                worker.send(self.proc.stdin, message)
            except Exception:
                return False
        return True

    def post(self, message: object) -> None:
        """Send when the messages posted before it have been sent."""
        self._outbox.put(message)

    def _send_all(self) -> None:
        gone = False
        while (message := self._outbox.get()) is not _CLOSE:
            gone = gone or not self.send(message)
        with self._lock, contextlib.suppress(OSError):
            self.proc.stdin.close()

    def receive(self) -> object | None:
        """The next answer; None when the process is gone, or has not answered within
        ANSWER_SECONDS (it is then stopped: its work is done here instead)."""
        got: list = []

        def read() -> None:
            try:
                got.append(worker.receive(self.proc.stdout))
            except Exception:  # a garbled answer: as if the process had stopped
                got.append(None)

        reader = threading.Thread(target=read, name="from-helper", daemon=True)
        reader.start()
        reader.join(ANSWER_SECONDS)
        if reader.is_alive():  # stuck: stopped, which ends the read
            self.proc.kill()
            reader.join()
        return got[0] if got else None

    def close(self) -> None:
        """Close its input once everything posted is sent (it then ends), and wait for it."""
        self.post(_CLOSE)
        self._sender.join(timeout=5)
        with contextlib.suppress(OSError):
            self.proc.stdout.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Charts:
    """Every chart of a pack drawn once, in this process: the SVG the HTML embeds and the PDF
    draws (worker.draw). vl-convert holds the interpreter while it draws: a thread here does
    not draw beside the rest of the pack, the charts worker does."""

    def __init__(self, sections: list = ()):
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="charts")
        self._done: dict = {}
        for i, s in enumerate(sections):
            self.add(i, s)
        if sections:
            self.end()

    def add(self, i: int, section) -> None:
        """Draw section `i`'s chart, if it has one."""
        if section.chart is not None:  # a Vega-Lite specification (core.reports.charts)
            self._done[id(section)] = self._pool.submit(worker.draw, section.chart)

    def end(self) -> None:
        self._pool.shutdown(wait=False)

    def svg(self, section) -> str | None:
        done = self._done.get(id(section))
        return done.result() if done else None


class RemoteCharts:
    """The charts drawn by the charts worker as their sections are built, collected by a
    thread that hands each SVG on to the PDF worker as it arrives; a chart the worker could
    not deliver (it stopped) is drawn here."""

    def __init__(self, charts: Worker, forward: Worker | None):
        self._worker, self._forward = charts, forward
        self._index: dict[int, int] = {}
        self._specs: dict[int, dict] = {}
        self._got: dict[int, tuple[str | None, str | None]] = {}
        self._gone = False
        self._ready = threading.Condition()
        threading.Thread(target=self._collect, name="charts", daemon=True).start()

    def add(self, i: int, section) -> None:
        if section.chart is None:
            return
        spec = section.chart
        with self._ready:
            self._index[id(section)], self._specs[i] = i, spec
            gone = self._gone
        if gone:
            self._keep(i, None, None)
        else:
            self._worker.post((i, spec))

    def end(self) -> None:
        self._worker.post("end")

    def _keep(self, i: int, svg: str | None, error: str | None) -> None:
        if svg is None and error is None:  # drawn here
            try:
                svg = worker.draw(self._specs[i])
            except Exception as exc:  # said by the documents that need it
                error = f"{type(exc).__name__}: {exc}"
        if self._forward is not None:
            self._forward.post(("svg", i, svg, error))
        with self._ready:
            self._got[i] = (svg, error)
            self._ready.notify_all()

    def _collect(self) -> None:
        while (answer := self._worker.receive()) is not None:
            _, i, svg, error = answer
            self._keep(i, svg, error)
        with self._ready:  # the worker has ended: what it did not draw is drawn here
            self._gone = True
            missing = [i for i in self._specs if i not in self._got]
        for i in missing:
            self._keep(i, None, None)

    def svg(self, section) -> str | None:
        i = self._index.get(id(section))
        if i is None:
            return None
        with self._ready:
            self._ready.wait_for(lambda: i in self._got)
        svg, error = self._got[i]
        if error is not None:
            raise WorkerFailed(error)
        return svg


class WorkerFailed(Exception):
    """A helper process's sentence saying why its document could not be made."""


class PdfJob:
    """The PDF being laid out: by the PDF worker section by section as they are built, or
    here at the end when there is no worker or it stopped."""

    def __init__(self, helper: Worker | None, head: PdfDoc, svg: Callable[[int], str | None]):
        self._worker, self._head, self._svg = helper, head, svg
        self._sections: list[PdfSection] = []
        if helper is not None:
            helper.post(dataclasses.replace(head, streamed=True))

    def add(self, section: PdfSection) -> None:
        self._sections.append(section)
        if self._worker is not None:
            self._worker.post(("section", section))

    def end(self) -> None:
        if self._worker is not None:
            self._worker.post(("end",))

    def result(self) -> bytes:
        """The PDF's bytes (WorkerFailed with the worker's sentence)."""
        answer = self._worker.receive() if self._worker is not None else None
        if answer is None:  # laid out here
            return pdf.render(dataclasses.replace(self._head, sections=self._sections),
                              self._svg)
        kind, value = answer
        if kind == "error":
            raise WorkerFailed(value)
        return value


class PackWorkers:
    """The two helper processes of one pack, started as early as possible (the `report`
    command starts them before it reads the register): `charts`, and `pdf` with the font of
    the pack's language loaded (none started when no font can be used: the PDF then fails
    here with the sentence saying why)."""

    def __init__(self, font: str | Exception | None):
        self.charts = Worker.start("charts")
        self.pdf = None if isinstance(font, Exception) else Worker.start("pdf", font or "")

    def draw(self) -> Charts | RemoteCharts:
        """Charts to `add` section by section."""
        if self.charts is None:
            return Charts()
        return RemoteCharts(self.charts, self.pdf)

    def render(self, head: PdfDoc, svg: Callable[[int], str | None]) -> PdfJob:
        """A PDF to `add` section by section; `svg(i)` section i's chart."""
        return PdfJob(self.pdf, head, svg)

    def close(self) -> None:
        for w in (self.charts, self.pdf):
            if w is not None:
                w.close()
