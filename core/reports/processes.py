"""The pack's charts and PDF made beside the main process (core.reports.worker), or in it when
a helper process cannot be started or stops: the same bytes either way."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from core.reports import pdf, worker
from core.reports.pdf import PdfDoc

ROOT = Path(__file__).resolve().parent.parent.parent  # the folder `core` is imported from


class Worker:
    """One helper process (`python -m core.reports.worker ROLE …`) and its two pipes."""

    def __init__(self, proc: subprocess.Popen):
        self.proc = proc
        self._lock = threading.Lock()  # one message at a time on its input

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
        """False when the process is gone."""
        with self._lock:
            try:
                worker.send(self.proc.stdin, message)
            except (OSError, ValueError):
                return False
        return True

    def receive(self) -> object | None:
        """The next answer; None when the process is gone."""
        try:
            return worker.receive(self.proc.stdout)
        except (OSError, ValueError, EOFError):
            return None
        except Exception:  # a garbled answer: as if the process had stopped
            return None

    def close(self) -> None:
        for pipe in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):
                pipe.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Charts:
    """Every chart of a pack drawn once, in this process: the SVG the HTML embeds and the PNG
    the PDF shows (worker.draw). `pool`: a drawing thread started beforehand (Charts.drawer).
    vl-convert holds the interpreter while it draws: a thread here does not draw beside the
    rest of the pack, the charts worker does."""

    def __init__(self, sections: list, scale: float = 2.0,
                 pool: ThreadPoolExecutor | None = None):
        self._pool = pool or ThreadPoolExecutor(1, thread_name_prefix="charts")
        # built by core.reports.sections from altair's own classes: checking each spec
        # against the Vega-Lite schema again would cost more than drawing it
        specs = [(id(s), s.chart.to_dict(validate=False)) for s in sections
                 if s.chart is not None]
        self._done = {key: self._pool.submit(worker.draw, spec, scale) for key, spec in specs}
        self._pool.shutdown(wait=False)

    @classmethod
    def drawer(cls) -> ThreadPoolExecutor:
        """A drawing thread that starts vl-convert's engine at once (some 0.7 s of CPU)."""
        pool = ThreadPoolExecutor(1, thread_name_prefix="charts")
        pool.submit(worker.draw, worker.WARM)
        return pool

    def svg(self, section) -> str | None:
        done = self._done.get(id(section))
        return done.result()[0] if done else None

    def png(self, section) -> bytes | None:
        done = self._done.get(id(section))
        return done.result()[1] if done else None


class RemoteCharts:
    """The charts drawn by the charts worker, collected by a thread that hands each PNG on to
    the PDF worker as it arrives; a chart the worker could not deliver is drawn here."""

    def __init__(self, sections: list, charts: Worker, forward: Worker | None):
        self._index = {id(s): i for i, s in enumerate(sections) if s.chart is not None}
        self._specs = {i: sections[i].chart.to_dict(validate=False)
                       for i in self._index.values()}
        self._got: dict[int, tuple[str | None, bytes | None, str | None]] = {}
        self._ready = threading.Condition()
        self._forward = forward
        threading.Thread(target=self._collect, args=(charts,), name="charts",
                         daemon=True).start()

    def _keep(self, i: int, svg: str | None, png: bytes | None, error: str | None) -> None:
        if svg is None and error is None:
            try:
                svg, png = worker.draw(self._specs[i])
            except Exception as exc:  # said by the documents that need it
                error = f"{type(exc).__name__}: {exc}"
        if self._forward is not None:
            self._forward.send(("png", i, png, error))
        with self._ready:
            self._got[i] = (svg, png, error)
            self._ready.notify_all()

    def _collect(self, charts: Worker) -> None:
        sent = charts.send(list(self._specs.items()))  # here: it waits while the engine starts
        while sent and len(self._got) < len(self._specs):
            answer = charts.receive()
            if answer is None:
                break
            _, i, svg, png, error = answer
            self._keep(i, svg, png, error)
        for i in self._specs:  # the worker stopped early: the rest are drawn here
            if i not in self._got:
                self._keep(i, None, None, None)

    def _result(self, section, part: int):
        i = self._index.get(id(section))
        if i is None:
            return None
        with self._ready:
            self._ready.wait_for(lambda: i in self._got)
        got = self._got[i]
        if got[2] is not None:
            raise WorkerFailed(got[2])
        return got[part]

    def svg(self, section) -> str | None:
        return self._result(section, 0)

    def png(self, section) -> bytes | None:
        return self._result(section, 1)


class WorkerFailed(Exception):
    """A helper process's sentence saying why its document could not be made."""


class PackWorkers:
    """The two helper processes of one pack, started as early as possible (the `report`
    command starts them before it reads the register): `charts`, and `pdf` with the font of
    the pack's language loaded (none started when no font can be used: the PDF then fails
    here with the sentence saying why)."""

    def __init__(self, font: str | Exception | None):
        self.font = font
        self.charts = Worker.start("charts")
        self.pdf = None if isinstance(font, Exception) else Worker.start("pdf", font or "")

    def draw(self, sections: list) -> Charts | RemoteCharts:
        if self.charts is None:
            return Charts(sections)
        return RemoteCharts(sections, self.charts, self.pdf)

    def render(self, doc: PdfDoc, png: Callable[[int], bytes | None]) -> Callable[[], bytes]:
        """Begin the PDF: a function giving its bytes when it is done (WorkerFailed with the
        worker's sentence). Laid out here if the worker is gone."""
        if self.pdf is None:
            return lambda: pdf.render(doc, png)
        sent: list[bool] = []  # sent from a thread: the worker reads it once its font is loaded
        sending = threading.Thread(target=lambda: sent.append(self.pdf.send(doc)), daemon=True)
        sending.start()

        def result() -> bytes:
            sending.join()
            answer = self.pdf.receive() if sent[0] else None
            if answer is None:  # the worker stopped: made here instead
                return pdf.render(doc, png)
            kind, value = answer
            if kind == "error":
                raise WorkerFailed(value)
            return value
        return result

    def close(self) -> None:
        for w in (self.charts, self.pdf):
            if w is not None:
                w.close()
