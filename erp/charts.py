"""Charts drawn on the server as SVG: bars, stacked bars and lines, in pure Python.

Readable without colour: each series has its own pattern (solid, stripes, dots, cross-hatch, ...)
or, for lines, its own marker and a label at its end; the legend names every series in text; each
bar and point has a ``<title>`` (its hover text); the ``<svg>`` is ``role="img"`` with an
``aria-label`` saying what it shows; and the numbers are in ``Chart.table`` for a "Show as table"
under the chart. Colours come from CSS variables (erp/static/erp/home.css: ``--chart-0`` ...).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal
from xml.sax.saxutils import escape

from django.utils.safestring import SafeString, mark_safe

Number = int | float | Decimal
Kind = Literal["bar", "stacked", "line"]

WIDTH, HEIGHT = 480, 240  # drawn at 13 px: still about 10 px on a 390 px phone
LEFT, RIGHT, TOP, BOTTOM = 50, 14, 34, 30  # plot margins: y labels, legend on top, x labels
PATTERNS = ("solid", "stripes", "dots", "cross", "bars", "grid")
MARKERS = ("circle", "square", "diamond", "triangle")
SERIES_COLOURS = 6  # --chart-0 ... --chart-5; --chart-bad for a highlighted series


def compact(value: Number) -> str:
    """A tick label: 950, 1.2k, 35k, 1.5M."""
    v = float(value)
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= limit:
            scaled = v / limit
            text = f"{scaled:.1f}" if abs(scaled) < 10 else f"{scaled:.0f}"
            return text.removesuffix(".0") + suffix
    return f"{v:.1f}".removesuffix(".0") if v != int(v) else str(int(v))


def nice_ticks(top: float, count: int = 4) -> list[float]:
    """0 and 3-5 round steps (1, 2, 2.5, 5 x 10^n) reaching at least ``top``."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    ticks = [0.0]
    while ticks[-1] < top:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[Number]
    highlight: bool = False  # drawn in the "bad" colour with its own pattern (errors)


@dataclass
class Chart:
    """What a chart shows: ``labels`` along x (days, weeks), one ``Series`` per stack or line."""

    key: str  # unique on the page (pattern ids)
    title: str
    kind: Kind
    labels: Sequence[str]
    series: Sequence[Series]
    caption: str = ""
    unit: str = ""  # said in the aria-label and the table's header: "USD", "%", "events"
    fmt: Callable[[Number], str] = compact  # a value in a title or the table
    max_value: float | None = None  # a fixed top (100 for a share)
    label_every: int = 0  # an x label every n categories (0: as many as fit)
    _svg: SafeString | None = field(default=None, repr=False)

    # --- the table under the chart ------------------------------------------------------------

    @property
    def table_headers(self) -> list[str]:
        total = ["Total"] if self.kind == "stacked" and len(self.series) > 1 else []
        return ["", *(s.name for s in self.series), *total]

    @property
    def table_rows(self) -> list[list[str]]:
        rows = []
        for i, label in enumerate(self.labels):
            values = [s.values[i] for s in self.series]
            cells = [self.fmt(v) for v in values]
            if self.kind == "stacked" and len(self.series) > 1:
                cells.append(self.fmt(sum(values, Decimal(0)) if _decimal(values) else sum(values)))
            rows.append([label, *cells])
        return rows

    @property
    def is_empty(self) -> bool:
        return not self.labels or all(not v for s in self.series for v in s.values)

    @property
    def aria_label(self) -> str:
        names = ", ".join(s.name for s in self.series)
        span = f"{self.labels[0]} to {self.labels[-1]}" if self.labels else "no data"
        unit = f" in {self.unit}" if self.unit else ""
        return f"{self.title}{unit}, {span}; series: {names}. The numbers are in the table below."

    # --- drawing ------------------------------------------------------------------------------

    def svg(self) -> SafeString:
        if self._svg is None:
            self._svg = mark_safe(_draw(self))
        return self._svg


def _with_unit(chart: Chart, value: Number) -> str:
    """A value as its hover text says it: formatted, with the unit unless the format carries it."""
    text = chart.fmt(value)
    return text if not chart.unit or chart.unit in text or text.endswith("%") else f"{text} {chart.unit}"


def _decimal(values: Sequence[Number]) -> bool:
    return any(isinstance(v, Decimal) for v in values)


def _t(text: object) -> str:
    return escape(str(text), {'"': "&quot;"})


def _colour_class(index: int, series: Series) -> str:
    return "c-bad" if series.highlight else f"c{index % SERIES_COLOURS}"


def _pattern_defs(chart: Chart) -> str:
    """One <pattern> per series: the colour underneath, a texture in the page's background on top."""
    parts = []
    for i, s in enumerate(chart.series):
        pid = f"{chart.key}-p{i}"
        kind = "cross" if s.highlight else PATTERNS[i % len(PATTERNS)]
        shapes = {
            "solid": "",
            "stripes": '<path class="tex" d="M-1,1 l2,-2 M0,6 l6,-6 M5,7 l2,-2"/>',
            "dots": '<circle class="tex-fill" cx="3" cy="3" r="1.2"/>',
            "cross": '<path class="tex" d="M0,0 L6,6 M6,0 L0,6"/>',
            "bars": '<path class="tex" d="M0,3 H6"/>',
            "grid": '<path class="tex" d="M3,0 V6 M0,3 H6"/>',
        }[kind]
        parts.append(
            f'<pattern id="{pid}" width="6" height="6" patternUnits="userSpaceOnUse">'
            f'<rect class="{_colour_class(i, s)}" width="6" height="6"/>{shapes}</pattern>'
        )
    return f"<defs>{''.join(parts)}</defs>"


def _marker(kind: str, x: float, y: float, cls: str) -> str:
    if kind == "square":
        return f'<rect class="{cls}" x="{x - 3.5:.1f}" y="{y - 3.5:.1f}" width="7" height="7"/>'
    if kind == "diamond":
        return f'<path class="{cls}" d="M{x:.1f},{y - 4.5:.1f} l4.5,4.5 l-4.5,4.5 l-4.5,-4.5 z"/>'
    if kind == "triangle":
        return f'<path class="{cls}" d="M{x:.1f},{y - 4.5:.1f} l4.5,8 h-9 z"/>'
    return f'<circle class="{cls}" cx="{x:.1f}" cy="{y:.1f}" r="3.5"/>'


CHAR_WIDTH = 7.4  # the width of a character of the 13 px labels, about
LEGEND_ROW = 18  # a legend too wide for one row wraps, and the plot moves down by a row each time


def _legend(chart: Chart) -> tuple[str, int]:
    """The legend's SVG, and how many rows it takes."""
    x: float = LEFT
    row = 0
    parts: list[str] = []
    for i, s in enumerate(chart.series):
        name = s.name if len(s.name) <= 22 else s.name[:21] + "…"
        width = 26 + CHAR_WIDTH * len(name)
        if x > LEFT and x + width - 9 > WIDTH - RIGHT:
            x, row = LEFT, row + 1
        dy = row * LEGEND_ROW
        if chart.kind == "line":
            swatch = (
                f'<line class="line {_colour_class(i, s)}-stroke" x1="{x}" y1="{12 + dy}" x2="{x + 14}" '
                f'y2="{12 + dy}"/>' + _marker(MARKERS[i % len(MARKERS)], x + 7, 12 + dy, _colour_class(i, s))
            )
        else:
            swatch = (
                f'<rect x="{x}" y="{6 + dy}" width="12" height="12" fill="url(#{chart.key}-p{i})" '
                'class="swatch"/>'
            )
        parts.append(f'<g class="legend-item"><title>{_t(s.name)}</title>{swatch}')
        parts.append(f'<text x="{x + 17}" y="{16 + dy}" class="legend">{_t(name)}</text></g>')
        x += width
    return "".join(parts), row + 1


def _draw(chart: Chart) -> str:
    n = len(chart.labels)
    legend, legend_rows = _legend(chart)
    top_margin = TOP + LEGEND_ROW * (legend_rows - 1)
    svg_height = HEIGHT + LEGEND_ROW * (legend_rows - 1)  # the plot keeps its height under a taller legend
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    if chart.kind == "stacked":
        tops = [sum(float(s.values[i] or 0) for s in chart.series) for i in range(n)]
    else:
        tops = [float(v or 0) for s in chart.series for v in s.values]
    top = chart.max_value if chart.max_value is not None else max(tops, default=0)
    ticks = nice_ticks(top)
    y_max = ticks[-1] or 1.0

    def y_of(value: float) -> float:
        return top_margin + plot_h - plot_h * value / y_max

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg" viewBox="0 0 {WIDTH} {svg_height}" '
        f'role="img" aria-label="{_t(chart.aria_label)}" preserveAspectRatio="xMidYMid meet">',
        _pattern_defs(chart),
        legend,
    ]
    for tick in ticks:  # the y axis: gridlines with their labels
        y = y_of(tick)
        out.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        out.append(
            f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{compact(tick)}</text>'
        )
    out.append(f'<line class="axis" x1="{LEFT}" x2="{LEFT}" y1="{top_margin}" y2="{top_margin + plot_h}"/>')
    out.append(
        f'<line class="axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{top_margin + plot_h}" '
        f'y2="{top_margin + plot_h}"/>'
    )

    slot = plot_w / max(n, 1)
    every = chart.label_every or max(1, math.ceil(n / 6))
    for i, label in enumerate(chart.labels):  # the x axis: every n-th label, centred on its slot
        # Counted back from the last category (today, this week: the one people look for), which
        # is always labelled: counted from the first, "Dec 5" stood beside today's unlabelled bar.
        if (n - 1 - i) % every == 0 or n <= 6:
            x, anchor = LEFT + slot * (i + 0.5), "middle"
            if x + CHAR_WIDTH * len(str(label)) / 2 > WIDTH:  # the last of many slots: not cut at the edge
                x, anchor = WIDTH - 1, "end"
            out.append(
                f'<text class="tick" x="{x:.1f}" y="{svg_height - 10}" '
                f'text-anchor="{anchor}">{_t(label)}</text>'
            )

    if chart.kind == "line":
        out.extend(_lines(chart, slot, y_of))
    else:
        out.extend(_bars(chart, slot, y_of))
    out.append("</svg>")
    return "".join(out)


def _bars(chart: Chart, slot: float, y_of: Callable[[float], float]) -> list[str]:
    out = []
    gap = max(1.0, slot * 0.2)
    groups = 1 if chart.kind == "stacked" else max(len(chart.series), 1)
    width = (slot - gap) / groups
    base_y = y_of(0)
    for i, label in enumerate(chart.labels):
        x0 = LEFT + slot * i + gap / 2
        stacked = 0.0
        for j, s in enumerate(chart.series):
            value = float(s.values[i] or 0)
            if not value:
                continue
            if chart.kind == "stacked":
                y_top, y_bottom = y_of(stacked + value), y_of(stacked)
                x = x0
                stacked += value
            else:
                y_top, y_bottom, x = y_of(value), base_y, x0 + j * width
            height = max(y_bottom - y_top, 0.5)
            hover = f"{label} · {s.name}: {_with_unit(chart, s.values[i])}"
            out.append(
                f'<rect class="bar" x="{x:.1f}" y="{y_top:.1f}" width="{max(width, 0.8):.1f}" '
                f'height="{height:.1f}" fill="url(#{chart.key}-p{j})"><title>{_t(hover)}</title></rect>'
            )
    return out


def _lines(chart: Chart, slot: float, y_of: Callable[[float], float]) -> list[str]:
    out = []
    n = len(chart.labels)
    show_markers = n <= 40
    for j, s in enumerate(chart.series):
        cls = _colour_class(j, s)
        points = [(LEFT + slot * (i + 0.5), y_of(float(s.values[i] or 0))) for i in range(n)]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        out.append(f'<polyline class="line {cls}-stroke" points="{path}"/>')
        for i, (x, y) in enumerate(points):  # a hover target per point (a marker where they are few)
            hover = f"{chart.labels[i]} · {s.name}: {_with_unit(chart, s.values[i])}"
            mark = _marker(MARKERS[j % len(MARKERS)], x, y, cls) if show_markers else ""
            hit = f'<circle class="hit" cx="{x:.1f}" cy="{y:.1f}" r="{max(slot / 2, 3):.1f}"/>'
            out.append(f'<g class="point">{mark}{hit}<title>{_t(hover)}</title></g>')
        if points:  # a direct label at the line's end: the last value
            x, y = points[-1]
            out.append(
                f'<text class="end-label" x="{x - 4:.1f}" y="{y - 8:.1f}" text-anchor="end">'
                f"{_t(chart.fmt(s.values[-1]))}</text>"
            )
    return out
