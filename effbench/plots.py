"""SVG charts drawn at build time: no JavaScript, no request anywhere, readable in light and dark mode.

Colours come from CSS classes (``plot-*`` in ``style.css``), so one chart serves both colour schemes.
Every chart has a <title> and axis labels; every text is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

_ROW = 18  # px per row of an interval plot
_LABEL = 210  # px for the row labels
_MARGIN = 12


@dataclass(frozen=True)
class IntervalPoint:
    """One row of an interval plot: a label, a point estimate and its interval (NaN = none)."""

    label: str
    value: float
    lo: float
    hi: float


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Return round tick values covering [low, high], about `count` of them."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [low] if math.isfinite(low) else []
    raw = (high - low) / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step - 1e-9) * step
    ticks = []
    value = first
    while value <= high + 1e-9 * step:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _fmt_tick(value: float) -> str:
    return f"{value:g}"


def _svg_start(width: int, height: int, title: str, chart_id: str) -> list[str]:
    """Return the opening of a chart: the svg element, labelled by its <title> for screen readers."""
    return [
        f'<svg class="plot" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg" aria-labelledby="{chart_id}-title">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
    ]


def _y_grid(y0: float, y1: float, left: float, right: float, py) -> list[str]:
    """Return horizontal grid lines with their labels at round values between y0 and y1."""
    parts = []
    for tick in nice_ticks(y0, y1):
        parts.append(f'<line class="plot-grid" x1="{left}" y1="{py(tick):.1f}" x2="{right}" y2="{py(tick):.1f}"/>')
        parts.append(f'<text class="plot-text" x="{left - 6}" y="{py(tick) + 4:.1f}" text-anchor="end">'
                     f"{escape(_fmt_tick(tick))}</text>")
    return parts


def _axis_labels(x_label: str, y_label: str, left: float, right: float, top: float, bottom: float,
                 height: float) -> list[str]:
    middle = (top + bottom) / 2
    return [f'<text class="plot-label" x="{(left + right) / 2:.1f}" y="{height - 12}" '
            f'text-anchor="middle">{escape(x_label)}</text>',
            f'<text class="plot-label" x="14" y="{middle:.1f}" text-anchor="middle" '
            f'transform="rotate(-90 14 {middle:.1f})">{escape(y_label)}</text>']


def interval_plot(
    points: Sequence[IntervalPoint],
    *,
    title: str,
    x_label: str,
    domain: tuple[float, float],
    chart_id: str,
    width: int = 680,
    integer_axis: bool = False,
) -> Markup:
    """Return an SVG dot-and-bar chart: one row per point, the bar spanning its interval.

    `domain` is the (left, right) value range of the x axis; (1, n_models) puts rank 1 on the left.
    `chart_id` must be unique within the page (it labels the chart for screen readers).
    """
    left, right = domain
    plot_left, plot_right = _LABEL, width - _MARGIN
    height = _MARGIN * 2 + _ROW * len(points) + 40

    def x(value: float) -> float:
        if right == left:
            return (plot_left + plot_right) / 2
        return plot_left + (value - left) / (right - left) * (plot_right - plot_left)

    parts = _svg_start(width, height, title, chart_id)
    bottom = _MARGIN + _ROW * len(points)
    low, high = sorted((left, right))
    ticks = nice_ticks(low, high)
    if integer_axis:
        ticks = sorted({int(round(t)) for t in ticks if abs(t - round(t)) < 1e-9} | {int(low), int(high)})
    for tick in ticks:
        tx = x(tick)
        parts.append(f'<line class="plot-grid" x1="{tx:.1f}" y1="{_MARGIN}" x2="{tx:.1f}" y2="{bottom}"/>')
        parts.append(f'<text class="plot-text" x="{tx:.1f}" y="{bottom + 14}" text-anchor="middle">'
                     f"{escape(_fmt_tick(tick))}</text>")
    for row, point in enumerate(points):
        cy = _MARGIN + _ROW * row + _ROW / 2
        parts.append(f'<text class="plot-text" x="{plot_left - 8}" y="{cy + 4:.1f}" text-anchor="end">'
                     f"{escape(_shorten(point.label))}</text>")
        if math.isfinite(point.lo) and math.isfinite(point.hi):
            parts.append(f'<line class="plot-bar" x1="{x(point.lo):.1f}" y1="{cy:.1f}" '
                         f'x2="{x(point.hi):.1f}" y2="{cy:.1f}"/>')
        if math.isfinite(point.value):
            parts.append(f'<circle class="plot-dot" cx="{x(point.value):.1f}" cy="{cy:.1f}" r="4">'
                         f"<title>{escape(point.label)}: {escape(_interval_text(point))}</title></circle>")
    parts.append(f'<text class="plot-label" x="{(plot_left + plot_right) / 2:.1f}" y="{bottom + 34}" '
                 f'text-anchor="middle">{escape(x_label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def rank_bar(rank: int, lo: float, hi: float, n_models: int) -> Markup:
    """Return a small inline picture of one model's rank interval on the scale 1..n_models: a bar for
    the interval and a dot for the rank, drawn with CSS (``.rank-bar`` in style.css) to stay light."""

    def at(value: float) -> str:
        return f"{(value - 1) / max(n_models - 1, 1) * 100:.1f}%"

    label = f"rank {rank}" + (f", 95% interval {int(lo)} to {int(hi)}" if math.isfinite(lo) else "")
    bar = (f'<i style="left:{at(lo)};width:{(hi - lo) / max(n_models - 1, 1) * 100:.1f}%"></i>'
           if math.isfinite(lo) and math.isfinite(hi) else "")
    return Markup(f'<span class="rank-bar" role="img" aria-label="{escape(label)}" title="{escape(label)}">'
                  f'{bar}<b style="left:{at(rank)}"></b></span>')


def bar_chart(
    bars: Sequence[tuple[str, float]], *, title: str, x_label: str, y_label: str, width: int = 680
) -> Markup:
    """Return an SVG column chart of (label, share) pairs, shares in [0, 1]."""
    height, bottom, left = 220, 170, 48
    slot = (width - left - _MARGIN) / max(len(bars), 1)
    parts = [
        f'<svg class="plot" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for tick in nice_ticks(0.0, 1.0):
        ty = bottom - tick * (bottom - _MARGIN)
        parts.append(f'<line class="plot-grid" x1="{left}" y1="{ty:.1f}" x2="{width - _MARGIN}" y2="{ty:.1f}"/>')
        parts.append(f'<text class="plot-text" x="{left - 6}" y="{ty + 4:.1f}" text-anchor="end">{tick:.0%}</text>')
    for i, (label, share) in enumerate(bars):
        bx = left + i * slot + slot * 0.15
        bh = share * (bottom - _MARGIN)
        parts.append(f'<rect class="plot-column" x="{bx:.1f}" y="{bottom - bh:.1f}" width="{slot * 0.7:.1f}" '
                     f'height="{bh:.1f}"><title>{escape(label)}: {share:.1%}</title></rect>')
        parts.append(f'<text class="plot-text" x="{bx + slot * 0.35:.1f}" y="{bottom + 14}" '
                     f'text-anchor="middle">{escape(label)}</text>')
    parts.append(f'<text class="plot-label" x="{(left + width) / 2:.1f}" y="{bottom + 36}" '
                 f'text-anchor="middle">{escape(x_label)}</text>')
    parts.append(f'<text class="plot-label" x="12" y="{bottom / 2:.1f}" text-anchor="middle" '
                 f'transform="rotate(-90 12 {bottom / 2:.1f})">{escape(y_label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _shorten(label: str, limit: int = 30) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _interval_text(point: IntervalPoint) -> str:
    if math.isfinite(point.lo) and math.isfinite(point.hi):
        return f"{point.value:g} ({point.lo:g} to {point.hi:g})"
    return f"{point.value:g}"


@dataclass(frozen=True)
class Series:
    """One line of a line chart: a name for the legend and (x, y, point label) triples."""

    name: str
    points: tuple[tuple[float, float, str], ...]


def line_chart(
    series: Sequence[Series],
    *,
    title: str,
    x_label: str,
    y_label: str,
    chart_id: str,
    log_x: bool = False,
    y_domain: tuple[float, float] | None = None,
    target: float | None = None,
    width: int = 680,
    height: int = 320,
) -> Markup:
    """Return an SVG line chart with markers, a legend and an optional dashed target line.

    Series take the colour-blind-safe colours ``plot-series-0`` .. ``plot-series-4`` from the stylesheet.
    """
    left, right, top, bottom = 56, width - 16, 16 + 18 * len(series), height - 48
    xs = [p[0] for s in series for p in s.points if math.isfinite(p[0]) and (p[0] > 0 or not log_x)]
    ys = [p[1] for s in series for p in s.points if math.isfinite(p[1])]
    if not xs or not ys:
        return Markup("")
    tx = (lambda v: math.log10(v)) if log_x else (lambda v: v)
    x0, x1 = tx(min(xs)), tx(max(xs))
    if x1 == x0:
        x0, x1 = x0 - 1, x1 + 1
    y0, y1 = y_domain if y_domain else (min(ys), max(ys))
    if y1 == y0:
        y0, y1 = y0 - 0.5, y1 + 0.5

    def px(v: float) -> float:
        return left + (tx(v) - x0) / (x1 - x0) * (right - left)

    def py(v: float) -> float:
        return bottom - (v - y0) / (y1 - y0) * (bottom - top)

    parts = _svg_start(width, height, title, chart_id) + _y_grid(y0, y1, left, right, py)
    if log_x:
        x_ticks = [10.0 ** e for e in range(math.floor(x0), math.ceil(x1) + 1) if x0 - 1e-9 <= e <= x1 + 1e-9]
        x_ticks = x_ticks or [min(xs), max(xs)]
    else:
        x_ticks = nice_ticks(x0, x1)
    for tick in x_ticks:
        parts.append(f'<line class="plot-grid" x1="{px(tick):.1f}" y1="{top}" x2="{px(tick):.1f}" y2="{bottom}"/>')
        label = f"{tick:.0%}" if log_x and tick <= 1 else _fmt_tick(tick)
        parts.append(f'<text class="plot-text" x="{px(tick):.1f}" y="{bottom + 14}" text-anchor="middle">'
                     f"{escape(label)}</text>")
    if target is not None and y0 <= target <= y1:
        ty = py(target)
        parts.append(f'<line class="plot-target" x1="{left}" y1="{ty:.1f}" x2="{right}" y2="{ty:.1f}"/>')
        parts.append(f'<text class="plot-text" x="{right}" y="{py(target) - 4:.1f}" text-anchor="end">'
                     f"target {escape(_fmt_tick(target))}</text>")
    for index, line in enumerate(series):
        points = [(px(x), py(y), x, y, label) for x, y, label in line.points
                  if math.isfinite(x) and math.isfinite(y) and (x > 0 or not log_x)]
        css = f"plot-series-{index % 5}"
        path = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y, *_) in enumerate(points))
        parts.append(f'<path class="plot-line {css}" d="{path}"/>')
        for x, y, _, vy, label in points:
            parts.append(f'<circle class="plot-marker {css}" cx="{x:.1f}" cy="{y:.1f}" r="3.5">'
                         f"<title>{escape(line.name)}, {escape(label)}: {vy:.3f}</title></circle>")
        ly = 14 + 18 * index
        parts.append(f'<line class="plot-line {css}" x1="{left}" y1="{ly}" x2="{left + 22}" y2="{ly}"/>')
        parts.append(f'<text class="plot-text" x="{left + 28}" y="{ly + 4}">{escape(line.name)}</text>')
    parts += _axis_labels(x_label, y_label, left, right, top, bottom, height)
    parts.append("</svg>")
    return Markup("".join(parts))


def _diverging_colour(value: float) -> str:
    """Return a fill for `value` in [-1, 1]: orange below 0, white at 0, blue above (colour-blind safe)."""
    if not math.isfinite(value):
        return "#bbbbbb"
    end = (0, 114, 178) if value >= 0 else (213, 94, 0)
    share = min(abs(value), 1.0)
    r, g, b = (round(255 + (c - 255) * share) for c in end)
    return f"#{r:02x}{g:02x}{b:02x}"


def matrix_chart(labels: Sequence[str], values: Sequence[Sequence[float]], *, title: str, chart_id: str) -> Markup:
    """Return an SVG heat map of a square matrix of values in [-1, 1], each cell with its value."""
    n = len(labels)
    cell, label_width = 40, 150
    width, height = label_width + cell * n + 8, label_width + cell * n + 8
    parts = _svg_start(width, height, title, chart_id)
    for i, label in enumerate(labels):
        y = label_width + cell * i + cell / 2
        parts.append(f'<text class="plot-text" x="{label_width - 6}" y="{y + 4:.1f}" text-anchor="end">'
                     f"{escape(_shorten(label, 22))}</text>")
        x = label_width + cell * i + cell / 2
        parts.append(f'<text class="plot-text" x="{x:.1f}" y="{label_width - 6}" text-anchor="start" '
                     f'transform="rotate(-60 {x:.1f} {label_width - 6})">{escape(_shorten(label, 22))}</text>')
    for i in range(n):
        for j in range(n):
            value = float(values[i][j])
            x, y = label_width + cell * j, label_width + cell * i
            colour = _diverging_colour(value)
            dark = math.isfinite(value) and abs(value) > 0.55
            text = f"{value:.2f}" if math.isfinite(value) else "–"
            parts.append(f'<rect x="{x}" y="{y}" width="{cell - 1}" height="{cell - 1}" fill="{colour}">'
                         f"<title>{escape(labels[i])} vs {escape(labels[j])}: {text}</title></rect>")
            parts.append(f'<text x="{x + cell / 2 - 0.5:.1f}" y="{y + cell / 2 + 4:.1f}" text-anchor="middle" '
                         f'fill="{"#ffffff" if dark else "#1b1f24"}">{text}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def scatter_chart(
    points: Sequence[tuple[float, float, float, float, str]],
    *,
    title: str,
    x_label: str,
    y_label: str,
    chart_id: str,
    width: int = 680,
    height: int = 360,
) -> Markup:
    """Return an SVG scatter of (x, y, y_lo, y_hi, label) points, x on a log scale, with vertical
    interval bars and each point's label in its tooltip."""
    left, right, top, bottom = 56, width - 16, 16, height - 48
    xs = [math.log10(p[0]) for p in points]
    ys = [v for p in points for v in p[1:4] if math.isfinite(v)]
    x0, x1 = min(xs) - 0.1, max(xs) + 0.1
    y0, y1 = min(ys), max(ys)
    pad = (y1 - y0) * 0.05 or 0.05
    y0, y1 = y0 - pad, y1 + pad

    def px(v: float) -> float:
        return left + (math.log10(v) - x0) / (x1 - x0) * (right - left)

    def py(v: float) -> float:
        return bottom - (v - y0) / (y1 - y0) * (bottom - top)

    parts = _svg_start(width, height, title, chart_id) + _y_grid(y0, y1, left, right, py)
    for exponent in range(math.ceil(x0), math.floor(x1) + 1):
        for mantissa in (1, 3):
            value = mantissa * 10.0 ** exponent
            if x0 <= math.log10(value) <= x1:
                parts.append(f'<line class="plot-grid" x1="{px(value):.1f}" y1="{top}" x2="{px(value):.1f}" '
                             f'y2="{bottom}"/>')
                parts.append(f'<text class="plot-text" x="{px(value):.1f}" y="{bottom + 14}" text-anchor="middle">'
                             f"{escape(_fmt_tick(value))}</text>")
    for x, y, lo, hi, label in points:
        if math.isfinite(lo) and math.isfinite(hi):
            parts.append(f'<line class="plot-bar" x1="{px(x):.1f}" y1="{py(lo):.1f}" x2="{px(x):.1f}" '
                         f'y2="{py(hi):.1f}"/>')
        parts.append(f'<circle class="plot-dot" cx="{px(x):.1f}" cy="{py(y):.1f}" r="4">'
                     f"<title>{escape(label)}: {y:.3f} at {x:g}B parameters</title></circle>")
    parts += _axis_labels(x_label, y_label, left, right, top, bottom, height)
    parts.append("</svg>")
    return Markup("".join(parts))
