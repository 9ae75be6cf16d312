"""SVG charts drawn at build time: no JavaScript, no request anywhere, readable in light and dark mode.

Colours come from CSS classes (``plot-*`` in ``style.css``), so one chart serves both colour schemes.
Every chart has a <title> and axis labels; every text is escaped.

Charts scale to the width of the page (a viewBox, no fixed size). So that their text (13 units) is
shown at 12 px or more at any width, each chart is drawn twice: `WIDE` units across for screens from
900 px, `NARROW` for phones; the stylesheet shows one of the two (``.chart-wide``, ``.chart-narrow``).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

_ROW = 20  # units per row of an interval plot
_LABEL = 230  # units for the row labels
_MARGIN = 12
_CHAR = 7.2  # approximate width of a character of 13-unit text
WIDE = 900
NARROW = 360


def _responsive(draw: Callable[..., Markup]) -> Callable[..., Markup]:
    """Return `draw` made to return both drawings of a chart: `WIDE` and `NARROW` units across."""

    @functools.wraps(draw)
    def both(*args, chart_id: str, width: int = WIDE, **options) -> Markup:
        wide = draw(*args, chart_id=chart_id, width=width, **options)
        if not wide:
            return Markup("")
        # A phone has no pointer to hover with: the narrow drawing leaves out the tooltips, half its weight.
        narrow = _without_tooltips(draw(*args, chart_id=f"{chart_id}-narrow", width=NARROW, **options))
        return Markup(f'<div class="chart-wide">{wide}</div><div class="chart-narrow">{narrow}</div>')

    return both


def _without_tooltips(svg: Markup) -> Markup:
    """Return `svg` without the <title> tooltips of its marks (the chart's own title is kept)."""
    return Markup(re.sub(r"<title>[^<]*</title>(?=</(?:circle|rect)>)", "", str(svg)))


def integer_ticks(low: float, high: float, count: int = 5) -> list[int]:
    """Return round integer tick values covering [low, high] (never 1.25 on an axis of counts or ranks)."""
    ticks = sorted({int(round(v)) for v in nice_ticks(low, high, count) if abs(v - round(v)) < 1e-9})
    if len(ticks) < 2 and math.isfinite(low) and math.isfinite(high):
        ticks = sorted({math.ceil(low - 1e-9), math.floor(high + 1e-9)})
    return ticks


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


def _svg_start(width: int, height: int, title: str, chart_id: str, *, fixed: bool = False) -> list[str]:
    """Return the opening of a chart: the svg element, labelled by its <title> for screen readers; it
    scales to its container unless `fixed` (then it keeps its size and its figure scrolls)."""
    size = f' width="{width}" height="{height}"' if fixed else ""
    return [
        f'<svg class="plot{" plot-fixed" if fixed else ""}" role="img" viewBox="0 0 {width} {height}"{size} '
        f'xmlns="http://www.w3.org/2000/svg" aria-labelledby="{chart_id}-title">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
    ]


def _y_grid(y0: float, y1: float, left: float, right: float, py, *, integer: bool = False) -> list[str]:
    """Return horizontal grid lines with their labels at round values between y0 and y1."""
    parts = []
    for tick in (integer_ticks(y0, y1) if integer else nice_ticks(y0, y1)):
        parts.append(f'<line class="plot-grid" x1="{left}" y1="{py(tick):.1f}" x2="{right}" y2="{py(tick):.1f}"/>')
        parts.append(f'<text class="plot-text" x="{left - 6}" y="{py(tick) + 4:.1f}" text-anchor="end">'
                     f"{escape(_fmt_tick(tick))}</text>")
    return parts


def _axis_labels(x_label: str, y_label: str, left: float, right: float, top: float, bottom: float,
                 height: float) -> list[str]:
    middle = (top + bottom) / 2
    lines = _wrap(x_label, int((right - left) / _CHAR), 2)
    x_text = "".join(f'<tspan x="{(left + right) / 2:.1f}" dy="{0 if i == 0 else 15}">{escape(line)}</tspan>'
                     for i, line in enumerate(lines))
    return [f'<text class="plot-label" x="{(left + right) / 2:.1f}" y="{height - 12 - 15 * (len(lines) - 1)}" '
            f'text-anchor="middle">{x_text}</text>',
            f'<text class="plot-label" x="14" y="{middle:.1f}" text-anchor="middle" '
            f'transform="rotate(-90 14 {middle:.1f})">{escape(y_label)}</text>']


@_responsive
def interval_plot(
    points: Sequence[IntervalPoint],
    *,
    title: str,
    x_label: str,
    domain: tuple[float, float],
    chart_id: str,
    width: int = WIDE,
    integer_axis: bool = False,
) -> Markup:
    """Return an SVG dot-and-bar chart: one row per point, the bar spanning its interval.

    `domain` is the (left, right) value range of the x axis; (1, n_models) puts rank 1 on the left.
    `chart_id` must be unique within the page (it labels the chart for screen readers).
    """
    left, right = domain
    label_width = min(_LABEL, int(width * 0.4))
    plot_left, plot_right = label_width, width - _MARGIN - 6
    height = _MARGIN * 2 + _ROW * len(points) + 44

    def x(value: float) -> float:
        if right == left:
            return (plot_left + plot_right) / 2
        return plot_left + (value - left) / (right - left) * (plot_right - plot_left)

    parts = _svg_start(width, height, title, chart_id)
    bottom = _MARGIN + _ROW * len(points)
    low, high = sorted((left, right))
    ticks = nice_ticks(low, high, 6 if width > NARROW else 4)
    if integer_axis:
        ticks = sorted(set(integer_ticks(low, high, 6 if width > NARROW else 4)) | {int(low), int(high)})
        # Drop a round tick that would crowd the end ticks' labels.
        ticks = [t for t in ticks if t in (int(low), int(high)) or min(abs(x(t) - x(low)), abs(x(t) - x(high))) > 24]
    for tick in ticks:
        tx = x(tick)
        parts.append(f'<line class="plot-grid" x1="{tx:.1f}" y1="{_MARGIN}" x2="{tx:.1f}" y2="{bottom}"/>')
        parts.append(f'<text class="plot-text" x="{tx:.1f}" y="{bottom + 14}" text-anchor="middle">'
                     f"{escape(_fmt_tick(tick))}</text>")
    for row, point in enumerate(points):
        cy = _MARGIN + _ROW * row + _ROW / 2
        parts.append(f'<text class="plot-text" x="{plot_left - 8}" y="{cy + 4:.1f}" text-anchor="end">'
                     f"{escape(_shorten(point.label, int((label_width - 12) / _CHAR)))}</text>")
        if math.isfinite(point.lo) and math.isfinite(point.hi):
            parts.append(f'<line class="plot-bar" x1="{x(point.lo):.1f}" y1="{cy:.1f}" '
                         f'x2="{x(point.hi):.1f}" y2="{cy:.1f}"/>')
        if math.isfinite(point.value):
            parts.append(f'<circle class="plot-dot" cx="{x(point.value):.1f}" cy="{cy:.1f}" r="4">'
                         f"<title>{escape(point.label)}: {escape(_interval_text(point))}</title></circle>")
    parts.append(f'<text class="plot-label" x="{(plot_left + plot_right) / 2:.1f}" y="{bottom + 36}" '
                 f'text-anchor="middle">{escape(x_label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


@_responsive
def bar_chart(
    bars: Sequence[tuple[str, float]], *, title: str, x_label: str, y_label: str, chart_id: str, width: int = WIDE,
) -> Markup:
    """Return an SVG column chart of (label, share) pairs, shares in [0, 1]; where the columns are too
    narrow for every label, every k-th column is labelled."""
    height, bottom, left = 230, 176, 56
    slot = (width - left - _MARGIN) / max(len(bars), 1)
    every = max(1, math.ceil(max((len(label) for label, _ in bars), default=1) * _CHAR * 1.6 / slot))
    parts = _svg_start(width, height, title, chart_id)
    for tick in nice_ticks(0.0, 1.0):
        ty = bottom - tick * (bottom - _MARGIN)
        parts.append(f'<line class="plot-grid" x1="{left}" y1="{ty:.1f}" x2="{width - _MARGIN}" y2="{ty:.1f}"/>')
        parts.append(f'<text class="plot-text" x="{left - 6}" y="{ty + 4:.1f}" text-anchor="end">{tick:.0%}</text>')
    for i, (label, share) in enumerate(bars):
        bx = left + i * slot + slot * 0.15
        bh = share * (bottom - _MARGIN)
        parts.append(f'<rect class="plot-column" x="{bx:.1f}" y="{bottom - bh:.1f}" width="{slot * 0.7:.1f}" '
                     f'height="{bh:.1f}"><title>{escape(label)}: {share:.1%}</title></rect>')
        if i % every == 0:
            parts.append(f'<text class="plot-text" x="{bx + slot * 0.35:.1f}" y="{bottom + 15}" '
                         f'text-anchor="middle">{escape(label)}</text>')
    parts.append(f'<text class="plot-label" x="{(left + width) / 2:.1f}" y="{bottom + 40}" '
                 f'text-anchor="middle">{escape(x_label)}</text>')
    parts.append(f'<text class="plot-label" x="14" y="{bottom / 2:.1f}" text-anchor="middle" '
                 f'transform="rotate(-90 14 {bottom / 2:.1f})">{escape(y_label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _wrap(text: str, width: int, max_lines: int) -> list[str]:
    """Return `text` broken at spaces into at most `max_lines` lines of about `width` characters."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    if len(lines) > max_lines:
        lines = lines[: max_lines - 1] + [_shorten(" ".join(lines[max_lines - 1:]), width)]
    return lines or [""]


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


@_responsive
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
    width: int = WIDE,
    height: int = 340,
) -> Markup:
    """Return an SVG line chart with markers, a legend and an optional dashed target line.

    Series take the colour-blind-safe colours ``plot-series-0`` .. ``plot-series-4`` from the stylesheet.
    An axis whose values are all whole numbers (scenarios, ranks) gets whole-number ticks only.
    """
    left, right, top, bottom = 60, width - 16, 18 + 20 * len(series), height - 50
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

    whole_y = all(float(y).is_integer() for y in ys) and (y_domain is None or all(
        float(v).is_integer() for v in y_domain))
    parts = _svg_start(width, height, title, chart_id) + _y_grid(y0, y1, left, right, py, integer=whole_y)
    if log_x:
        x_ticks = [10.0 ** e for e in range(math.floor(x0), math.ceil(x1) + 1) if x0 - 1e-9 <= e <= x1 + 1e-9]
        x_ticks = x_ticks or [min(xs), max(xs)]
    elif all(float(x).is_integer() for x in xs):
        x_ticks = integer_ticks(x0, x1, 6 if width > NARROW else 4)
    else:
        x_ticks = nice_ticks(x0, x1, 6 if width > NARROW else 4)
    for tick in x_ticks:
        parts.append(f'<line class="plot-grid" x1="{px(tick):.1f}" y1="{top}" x2="{px(tick):.1f}" y2="{bottom}"/>')
        label = f"{tick:.0%}" if log_x and tick <= 1 else _fmt_tick(tick)
        parts.append(f'<text class="plot-text" x="{px(tick):.1f}" y="{bottom + 16}" text-anchor="middle">'
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
        ly = 14 + 20 * index
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


def _luminance(colour: str) -> float:
    """Return the relative luminance (WCAG 2) of a #rrggbb colour."""
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(first: str, second: str) -> float:
    """Return the WCAG 2 contrast ratio of two #rrggbb colours (1 to 21)."""
    high, low = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def text_colour(background: str) -> str:
    """Return black or white, whichever contrasts more with `background` (always at least 4.5:1)."""
    return "#000000" if contrast_ratio(background, "#000000") >= contrast_ratio(background, "#ffffff") else "#ffffff"


def matrix_chart(labels: Sequence[str], values: Sequence[Sequence[float]], *, title: str, chart_id: str) -> Markup:
    """Return an SVG heat map of a square matrix of values in [-1, 1], each cell with its value in the
    text colour (black or white) that contrasts more with the cell. It keeps its size (its figure scrolls
    on a narrow screen): a matrix cannot shrink without its numbers becoming unreadable."""
    n = len(labels)
    cell, label_width = 44, 170
    width, height = label_width + cell * n + 8, label_width + cell * n + 8
    parts = _svg_start(width, height, title, chart_id, fixed=True)
    for i, label in enumerate(labels):
        y = label_width + cell * i + cell / 2
        parts.append(f'<text class="plot-text" x="{label_width - 6}" y="{y + 4:.1f}" text-anchor="end">'
                     f"{escape(_shorten(label, 22))}</text>")
        x = label_width + cell * i + cell / 2 + 4
        parts.append(f'<text class="plot-text" x="{x:.1f}" y="{label_width - 6}" text-anchor="start" '
                     f'transform="rotate(-60 {x:.1f} {label_width - 6})">{escape(_shorten(label, 22))}</text>')
    for i in range(n):
        for j in range(n):
            value = float(values[i][j])
            x, y = label_width + cell * j, label_width + cell * i
            colour = _diverging_colour(value)
            text = f"{value:.2f}" if math.isfinite(value) else "–"
            parts.append(f'<rect x="{x}" y="{y}" width="{cell - 1}" height="{cell - 1}" fill="{colour}">'
                         f"<title>{escape(labels[i])} vs {escape(labels[j])}: {text}</title></rect>")
            parts.append(f'<text x="{x + cell / 2 - 0.5:.1f}" y="{y + cell / 2 + 4:.1f}" text-anchor="middle" '
                         f'class="cell-text" fill="{text_colour(colour)}">{text}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def notable_points(points: Sequence[tuple[float, float, float, float, str]], limit: int = 8) -> list[int]:
    """Return the indices of the points worth a label: the best score at its size or below (the
    frontier: no smaller point scores higher), then the smallest and largest, at most `limit`."""
    order = sorted(range(len(points)), key=lambda i: (points[i][0], -points[i][1]))
    frontier, best = [], -math.inf
    for i in order:
        if points[i][1] > best:
            frontier.append(i)
            best = points[i][1]
    chosen = sorted(frontier, key=lambda i: -points[i][1])[:limit]
    for extra in (order[0], order[-1]):
        if extra not in chosen and len(chosen) < limit:
            chosen.append(extra)
    return chosen


DENSE_POINTS = 300  # a scatter of more points draws them as small dots on a grid (see scatter_chart)
DENSE_CELL = 3  # units of the grid: points closer than this share one dot


@_responsive
def scatter_chart(
    points: Sequence[tuple[float, float, float, float, str]],
    *,
    title: str,
    x_label: str,
    y_label: str,
    chart_id: str,
    width: int = WIDE,
    height: int = 380,
) -> Markup:
    """Return an SVG scatter of (x, y, y_lo, y_hi, label) points, x on a log scale, with vertical
    interval bars, every point's label in its tooltip and the notable points (`notable_points`)
    labelled on the chart, where their label does not collide with one already placed.

    More than `DENSE_POINTS` points are drawn as small dots without bars or tooltips, one dot per
    cell of a `DENSE_CELL`-unit grid (points that would overlap share it), all in one path, so that
    thousands of models stay readable and the drawing small; the notable points are still labelled."""
    left, right, top, bottom = 60, width - 16, 16, height - 50
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
                parts.append(f'<text class="plot-text" x="{px(value):.1f}" y="{bottom + 16}" text-anchor="middle">'
                             f"{escape(_fmt_tick(value))}</text>")
    dense = len(points) > DENSE_POINTS
    if dense:  # one path of zero-length strokes with round caps: a dot in ~10 bytes
        cells = sorted({(round(px(x) / DENSE_CELL) * DENSE_CELL, round(py(y) / DENSE_CELL) * DENSE_CELL)
                        for x, y, _, _, _ in points})
        parts.append(f'<path class="plot-dots" d="{"".join(f"M{cx} {cy}h0" for cx, cy in cells)}"/>')
    for x, y, lo, hi, label in points if not dense else ():
        if math.isfinite(lo) and math.isfinite(hi):
            parts.append(f'<line class="plot-bar" x1="{px(x):.1f}" y1="{py(lo):.1f}" x2="{px(x):.1f}" '
                         f'y2="{py(hi):.1f}"/>')
        parts.append(f'<circle class="plot-dot" cx="{px(x):.1f}" cy="{py(y):.1f}" r="4">'
                     f"<title>{escape(label)}: {y:.3f} at {x:g}B parameters</title></circle>")
    placed: list[tuple[float, float, float, float]] = []  # boxes of the labels drawn so far
    limit = 8 if width > NARROW else 4
    for index in notable_points(points, limit):
        x, y, _, _, label = points[index]
        text = _shorten(label, 24 if width > NARROW else 16)
        span = len(text) * _CHAR
        cx, cy = px(x), py(y)
        to_left = cx + 8 + span > right
        x_from = cx - 8 - span if to_left else cx + 8
        box = (x_from, cy - 13, x_from + span, cy + 3)
        if any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in placed):
            continue
        placed.append(box)
        anchor = "end" if to_left else "start"
        parts.append(f'<text class="plot-point-label" x="{cx - 8 if to_left else cx + 8:.1f}" y="{cy - 4:.1f}" '
                     f'text-anchor="{anchor}">{escape(text)}</text>')
    parts += _axis_labels(x_label, y_label, left, right, top, bottom, height)
    parts.append("</svg>")
    return Markup("".join(parts))
