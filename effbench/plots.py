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

    parts = [
        f'<svg class="plot" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg" aria-labelledby="{chart_id}-title">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
    ]
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


def rank_bar(rank: int, lo: float, hi: float, n_models: int, *, width: int = 110) -> Markup:
    """Return a small inline SVG of one model's rank interval on the scale 1..n_models."""
    pad = 5

    def x(value: float) -> float:
        return pad + (value - 1) / max(n_models - 1, 1) * (width - 2 * pad)

    label = f"rank {rank}" + (f", 95% interval {int(lo)} to {int(hi)}" if math.isfinite(lo) else "")
    bar = (f'<line class="plot-bar" x1="{x(lo):.1f}" y1="7" x2="{x(hi):.1f}" y2="7"/>'
           if math.isfinite(lo) and math.isfinite(hi) else "")
    return Markup(
        f'<svg class="rank-bar" role="img" viewBox="0 0 {width} 14" width="{width}" height="14" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(label)}</title>'
        f'<line class="plot-axis" x1="{pad}" y1="7" x2="{width - pad}" y2="7"/>{bar}'
        f'<circle class="plot-dot" cx="{x(rank):.1f}" cy="7" r="3.5"/></svg>'
    )


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
