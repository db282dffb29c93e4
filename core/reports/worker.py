"""The pack's helper processes: one draws the charts, one lays out the PDF.

vl-convert holds the interpreter while it draws, and fpdf2 and fontTools are pure Python, so
in one process the charts, the PDF and the rest of the pack take turns on one core. As two
processes started with the command, they load their engine and font while the main process
reads the register and builds the sections, then work beside it and beside each other.

    python -m core.reports.worker charts
    python -m core.reports.worker pdf [FONT]

Messages are length-prefixed pickles on stdin and stdout, between processes of this program
only. The charts worker takes (index, Vega-Lite spec) messages up to "end" and answers one
("chart", index, svg, error) per chart as it is drawn. The PDF worker takes a PdfDoc (when
`streamed`, followed by ("section", PdfSection) messages up to ("end",), laid out as they
come), and ("svg", index, text, error) for its sections' charts at any time; it answers
("pdf", bytes) or ("error", sentence). Either one exits when its input ends.
"""

from __future__ import annotations

import os
import pickle
import struct
import sys
from collections import deque
from typing import BinaryIO

HEAD = struct.Struct("!Q")


def send(out: BinaryIO, message: object) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(HEAD.pack(len(data)) + data)
    out.flush()


def receive(inp: BinaryIO) -> object | None:
    """The next message, or None when the other side has closed the pipe."""
    head = inp.read(HEAD.size)
    if len(head) < HEAD.size:
        return None
    size = HEAD.unpack(head)[0]
    data = inp.read(size)
    if len(data) < size:
        return None
    return pickle.loads(data)


class ChartFailed(Exception):
    """A chart could not be drawn: its sentence says why (as "ValueError: …")."""


def draw(spec: dict) -> str:
    """A chart's SVG: the HTML shows it, the PDF draws it as vector graphics."""
    import vl_convert as vlc

    return vlc.vegalite_to_svg(spec)


#: a chart of one word: drawing it starts vl-convert's JavaScript engine and loads its fonts
WARM = {"mark": "text", "data": {"values": [{}]},
        "encoding": {"text": {"value": "投诉 complaint"}}}


def charts(inp: BinaryIO, out: BinaryIO) -> None:
    draw(WARM)
    while (message := receive(inp)) not in (None, "end"):
        i, spec = message
        try:
            svg = draw(spec)
        except Exception as exc:  # the main process draws it or says why
            send(out, ("chart", i, None, f"{type(exc).__name__}: {exc}"))
        else:
            send(out, ("chart", i, svg, None))


def pdf(inp: BinaryIO, out: BinaryIO, font: str | None) -> None:
    from core.reports.pdf import new_pdf, render

    try:
        ready, failed = new_pdf(font), None
    except Exception as exc:  # said when the document is asked for
        ready, failed = None, exc
    charts: dict[int, str | Exception | None] = {}
    waiting: deque = deque()  # messages read while waiting for a chart, in order

    def is_chart(message: object) -> bool:
        return isinstance(message, tuple) and message[0] == "svg"

    def read() -> object:
        """The next message; a chart is kept (they may come before the document)."""
        message = receive(inp)
        if message is None:
            raise EOFError("the main process stopped sending")
        if is_chart(message):
            _, j, text, error = message
            charts[j] = text if error is None else ChartFailed(error)
        return message

    def take() -> object:
        """The next message that is not a chart."""
        while True:
            message = waiting.popleft() if waiting else read()
            if not is_chart(message):
                return message

    def svg(i: int) -> str | None:
        while i not in charts:
            message = read()
            if not is_chart(message):
                waiting.append(message)
        if isinstance(charts[i], Exception):
            raise charts[i]
        return charts[i]

    def sections():
        while True:
            message = take()
            if isinstance(message, tuple) and message[0] == "section":
                yield message[1]
            elif isinstance(message, tuple) and message[0] == "end":
                return

    try:
        doc = take()
    except EOFError:
        return
    try:
        if failed is not None:
            raise failed
        send(out, ("pdf", render(doc, svg, ready if doc.font == font else None,
                                 sections() if doc.streamed else None)))
    except ChartFailed as exc:
        send(out, ("error", str(exc)))
    except Exception as exc:  # one document's failure is said, not raised
        send(out, ("error", f"{type(exc).__name__}: {exc}"))


#: what fpdf2 imports when installed only for what the pack's PDF never does: sign or encrypt
#: it (cryptography), decode raster pictures faster (numpy). None in sys.modules makes their
#: import fail as if they were not installed, which fpdf2 allows for: the PDF helper starts
#: 0.25 s of CPU sooner, on a machine where every core is busy with the pack.
UNUSED_BY_PDF = ("numpy", "cryptography")


def main(argv: list[str]) -> int:
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    try:
        if argv[:1] == ["charts"]:
            charts(inp, out)
        elif argv[:1] == ["pdf"]:
            sys.modules.update(dict.fromkeys(UNUSED_BY_PDF))
            pdf(inp, out, argv[1] if len(argv) > 1 and argv[1] else None)
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except BrokenPipeError:  # the main process needs no more (its pack is made, or failed)
        sys.stdout = None  # nothing left to flush at exit
    return 0


if __name__ == "__main__":
    code = main(sys.argv[1:])
    # every answer was flushed as it was sent: end now, without the interpreter taking apart
    # the engine's, fpdf2's and the font's objects one by one (0.1-0.2 s the command waited)
    sys.stderr.flush()
    os._exit(code)
