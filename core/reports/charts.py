"""The report's charts as Vega-Lite specifications: plain dictionaries, which the page hands
to st.vega_lite_chart and the pack's charts helper to vl-convert.

They were built with altair; building the dictionaries directly gives the same
specifications (the same keys, values and inline data names) without importing altair
(about 0.4 s of CPU in the report command) or building its objects (about 0.3 s per
period's sections at 10k rows).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable

#: One colour per series, the same on the page, in the HTML and in the PDF, in either
#: language: charts name their colours instead of taking each renderer's default palette.
BAR = "#1f6fb4"
SERIES = {"received": "#1f6fb4", "closed": "#2e9d4e", "open": "#e8731a"}
WIDTH = 600  # the HTML and PDF; the page stretches charts to its column
ROW = 30     # pixels per bar: labels a meeting reads from across the room
FONT = "WenQuanYi Micro Hei, Noto Sans CJK SC, Source Han Sans SC, sans-serif"
SCHEMA = "https://vega.github.io/schema/vega-lite/v6.4.1.json"


def _config() -> dict:
    """Large text, and labels written out in full (never cut to "Acceptance decisi…")."""
    return {
        "view": {"continuousWidth": 300, "continuousHeight": 300},
        "axis": {"labelFontSize": 13, "labelLimit": 0, "titleFontSize": 13,
                 "titleFontWeight": "normal"},
        # the value axis's title across the top of its labels, never vertical
        "axisY": {"titleAlign": "right", "titleAnchor": "end", "titleAngle": 0,
                  "titleBaseline": "bottom", "titleX": 0, "titleY": -8},
        "font": FONT,
        "legend": {"labelFontSize": 13, "labelLimit": 0, "orient": "bottom", "title": None},
        "title": {"anchor": "start", "fontSize": 15, "offset": 14},
    }


def _number(v) -> int | float | None:
    """A count or a rate as JSON holds it (numpy's scalars are not JSON)."""
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int) or (hasattr(v, "dtype") and v.dtype.kind in "iu"):
        return int(v)
    try:
        f = float(v)
    except TypeError:  # None, pandas' NA
        return None
    return None if math.isnan(f) else f


def _with_data(spec: dict, values: list[dict]) -> dict:
    """`spec` with its rows inline, named by their content as altair names them."""
    name = "data-" + hashlib.sha256(
        json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()[:32]
    return {"config": _config(), **spec, "data": {"name": name}, "$schema": SCHEMA,
            "datasets": {name: values}}


def bars(names: Iterable, values: Iterable, x: str, y: str, title: str,
         sort: str | None = "-y", percent: bool = False) -> dict:
    """Horizontal bars, one per name, as long as its value; the names read horizontally,
    the value written at the end of each bar. `x` names the names' axis, `y` the values'
    (the columns of the table the bars show); `sort` "-y" puts the longest bar first, None
    keeps the order given."""
    fmt = ".0%" if percent else "d"

    def encoding() -> dict:
        return {
            "tooltip": [{"field": "name", "title": x, "type": "nominal"},
                        {"field": "value", "format": fmt, "title": y,
                         "type": "quantitative"}],
            "x": {"axis": {"format": fmt, "grid": True, "tickMinStep": 0.1 if percent else 1},
                  "field": "value",
                  "scale": {"domain": [0, 1]} if percent else {"domainMin": 0, "nice": True},
                  "title": y, "type": "quantitative"},
            "y": {"axis": {"labelLimit": 0}, "field": "name",
                  "sort": "-x" if sort == "-y" else sort, "title": x, "type": "nominal"}}
    rows = [{"name": str(n), "value": _number(v)} for n, v in zip(names, values, strict=True)]
    text = {"field": "value", "format": fmt, "type": "quantitative"}
    return _with_data({
        "layer": [
            {"mark": {"type": "bar", "color": BAR, "size": ROW * 0.7}, "encoding": encoding()},
            {"mark": {"type": "text", "align": "left", "color": "#222", "dx": 4,
                      "fontSize": 13}, "encoding": {**encoding(), "text": text}}],
        # the height as a step per bar: Streamlit, vl-convert and any width give every bar
        # its row
        "height": {"step": ROW}, "title": title, "width": WIDTH}, rows)


def lines(rows: list[dict], series: dict[str, str], x: str, legend: str, y: str,
          title: str) -> dict:
    """One line per series over the months: `rows` are {"month", "figure", "count"}, the
    figure being a label of `series` (label → colour, in the legend's order)."""
    names = list(series)
    return _with_data({
        "mark": {"type": "line", "point": {"size": 60}, "strokeWidth": 3},
        "encoding": {
            "color": {"field": "figure", "scale": {"domain": names,
                                                   "range": list(series.values())},
                      "sort": names, "type": "nominal"},
            "tooltip": [{"field": "month", "title": x, "type": "ordinal"},
                        {"field": "figure", "title": legend, "type": "nominal"},
                        {"field": "count", "title": y, "type": "quantitative"}],
            "x": {"axis": {"labelAngle": 0, "labelOverlap": "parity"}, "field": "month",
                  "title": x, "type": "ordinal"},
            "y": {"axis": {"format": "d", "tickMinStep": 1}, "field": "count", "title": y,
                  "type": "quantitative"}},
        "height": 300, "title": title, "width": WIDTH + 200},
        [{"month": str(r["month"]), "figure": str(r["figure"]), "count": _number(r["count"])}
         for r in rows])
