"""The pages beyond one number: Scaling (score against model size), Contamination (scores before and
after each model's date) and Groups (a ranking per tag of scenarios), their contexts, charts and the
notes they add to model pages.

The analyses arrive computed (`trend_data.TrendAnalyses`, filled by `pipeline.trend_analyses`); a page
whose analysis is missing is not built, so a board without sizes, dates or tags simply has no such page.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from markupsafe import Markup, escape

from effbench.contamination import ContaminationResult
from effbench.formatting import format_interval, format_rank, format_score
from effbench.multilingual import GroupResult
from effbench.plots import _axis_labels, _svg_start, _y_grid
from effbench.render.contexts import Page
from effbench.render.site_index import SiteIndex
from effbench.render.trend_data import CONTAMINATION_PAGE, GROUPS_PAGE, OVERALL, SCALING_PAGE, TrendAnalyses
from effbench.render.values import (
    Download,
    Link,
    frame_table,
    table_downloads,
)
from effbench.scaling import ScalingFit, ScalingResult

# ---------------------------------------------------------------------------------------------
# Page contexts


@dataclass(frozen=True)
class ScalingRow:
    """One model far from its scenario's trend."""

    model: Link
    scenario: str
    params: str
    score: str
    trend: str
    deviation: str
    deviation_interval: str
    z: str
    reading: str  # the deviation in words


@dataclass(frozen=True)
class ScalingPage:
    page: Page
    method: tuple[str, ...]
    overview: Markup
    overview_text: str
    compute_chart: Markup  # the overall score against training compute, where tokens are known
    compute_rows: tuple[ScalingRow, ...]
    compute_missing: tuple[str, ...]  # sized models without training tokens
    rows: tuple[ScalingRow, ...]  # off the trend of the overall score
    scenario_rows: tuple[ScalingRow, ...]  # off the trend of a single scenario
    charts: tuple[tuple[str, Markup], ...]  # (scenario, its chart)
    no_params: tuple[str, ...]
    unfitted: tuple[str, ...]


@dataclass(frozen=True)
class ContaminationRow:
    model: Link
    date: str
    items: str  # before / after
    before: str
    after: str
    raw: str
    raw_interval: str
    control_change: str
    adjusted: str
    adjusted_interval: str
    flagged: str  # "yes" or ""


@dataclass(frozen=True)
class ContaminationPage:
    page: Page
    method: tuple[str, ...]
    summary: str
    rows: tuple[ContaminationRow, ...]
    charts: tuple[Markup, ...]
    controls: str
    untested: tuple[str, ...]


@dataclass(frozen=True)
class GroupRow:
    model: Link
    rank_text: str
    score: str
    score_interval: str
    overall_rank: int


@dataclass(frozen=True)
class GroupTable:
    group: str
    scenarios: str
    rows: tuple[GroupRow, ...]


@dataclass(frozen=True)
class GroupsPage:
    page: Page
    method: tuple[str, ...]
    warnings: tuple[str, ...]
    tables: tuple[GroupTable, ...]


# ---------------------------------------------------------------------------------------------
# Builders


def trend_pages(site: SiteIndex, trends: TrendAnalyses | None) -> tuple[list, list[Download]]:
    """Return the trend pages this data has and their downloads."""
    if trends is None:
        return [], []
    pages: list = []
    downloads: list[Download] = []
    for present, build in ((SCALING_PAGE, _scaling_page), (CONTAMINATION_PAGE, _contamination_page),
                           (GROUPS_PAGE, _groups_page)):
        if present in dict(trends.pages()):
            page, page_downloads = build(site, trends)
            pages.append(page)
            downloads += page_downloads
    return pages, downloads


def model_notes(trends: TrendAnalyses | None) -> dict[str, tuple[str, ...]]:
    """Return, per model, the lines its page gets: a flagged contamination signal, a flagged distance
    from the overall scaling trend."""
    if trends is None:
        return {}
    notes: dict[str, list[str]] = {}
    if trends.contamination is not None:
        level = f"{trends.contamination.confidence_level:.0%}"
        for t in trends.contamination.flagged:
            notes.setdefault(t.model, []).append(
                f"possible contamination: on items published after its date ({trends.date_text.get(t.model, '')}) "
                f"it scores {abs(t.adjusted_difference):.3f} lower than on earlier items, beyond the controls' "
                f"change over the same dates (adjusted difference {_signed(t.adjusted_difference)}, {level} "
                f"interval {_signed_interval(t.adjusted_lo, t.adjusted_hi)}; raw difference "
                f"{_signed(t.raw_difference)}); see the Contamination page")
    if trends.scaling is not None:
        for fit in trends.scaling.fits:
            if fit.scenario != OVERALL:
                continue
            for i in np.flatnonzero(fit.flagged):
                notes.setdefault(fit.models[i], []).append(
                    f"off the scaling trend: it {_reading(fit, i)} (overall score {format_score(fit.scores[i])} "
                    f"against {format_score(fit.expected[i])} on the trend of the other models)")
    return {model: tuple(lines) for model, lines in notes.items()}


def _scaling_page(site: SiteIndex, trends: TrendAnalyses) -> tuple[ScalingPage, list[Download]]:
    result = trends.scaling
    assert result is not None
    frame = scaling_frame(result)
    downloads = table_downloads("data/scaling", frame_table("scaling", frame))
    page = site.page(SCALING_PAGE, "Scaling", "scaling.html", downloads)
    level = f"{result.confidence_level:.0%}"
    overview = next((f for f in result.fits if f.scenario == OVERALL), None)
    scenario_fits = [f for f in result.fits if f.scenario != OVERALL]
    flagged = [(f, i) for f in [*([overview] if overview else []), *scenario_fits] for i in np.flatnonzero(f.flagged)]
    flagged.sort(key=lambda pair: (pair[0].scenario != OVERALL, -abs(pair[0].deviation[pair[1]]), pair[0].scenario))
    rows = [_scaling_row(site, fit, i) for fit, i in flagged]
    compute_result = trends.compute_scaling
    compute = compute_result.fits[0] if compute_result is not None and compute_result.fits else None
    margin = result.fits[0].margin if result.fits else 0.05
    method = (
        "Trend: a sigmoid in log10(parameters), score = 1 / (1 + exp(-(a + b log10 N))), fitted by least squares on "
        "the logit of the score (scores clipped to [0.01, 0.99]); scores outside [0, 1] get a straight line in "
        "log10 N.",
        f"Band: the central {level} of the trends refitted on {result.n_resamples:,} bootstrap draws of the models "
        f"(seed {result.seed}).",
        "Deviation: a model's score minus the trend fitted without it, so that a far-off model does not pull the "
        f"trend towards itself; its {level} interval combines the uncertainty of that trend and of the model's own "
        "score over the items.",
        f"Flagged: the whole interval lies more than {margin:g} above or below the trend. Above: a better training "
        "recipe, more training data than its size suggests, or contamination; below: an older recipe or a task it "
        "was not tuned for. z: the deviation in units of how far models usually scatter around the trend.",
        "Size is the total parameter count (params_b in the model metadata); for mixtures of experts the active "
        "parameters are fewer.",
    ) + (("Where the metadata has training tokens (training_tokens_b, tokens_b or their _t forms, in trillions), "
          "the overall score is also fitted against training compute, 6 N D: a model above the trend of compute "
          "gets more from the same training budget.",) if trends.compute_scaling is not None else ())
    overview_text = ""
    if overview is not None:
        overview_text = (f"Overall score: each tenfold increase in parameters moves the logit of the score by "
                         f"{overview.slope:.2f} ({level} interval {overview.slope_lo:.2f} to {overview.slope_hi:.2f}); "
                         f"{int(overview.flagged.sum())} of {len(overview.models)} models lie clearly off the trend."
                         if overview.link == "logit" else
                         f"Overall score: each tenfold increase in parameters adds {overview.slope:.3g} "
                         f"({level} interval {overview.slope_lo:.3g} to {overview.slope_hi:.3g}).")
    return ScalingPage(
        page=page, method=method,
        overview=trend_chart(overview, title=f"Overall score against parameters, with the trend and its {level} band",
                             chart_id="scaling-overall") if overview else Markup(""),
        overview_text=overview_text, rows=tuple(r for r in rows if r.scenario == OVERALL),
        compute_chart=trend_chart(compute, title=f"Overall score against training compute (6 N D), with the trend "
                                  f"and its {level} band", chart_id="scaling-compute", x_label="compute")
        if compute else Markup(""),
        compute_rows=tuple(_scaling_row(site, compute, i) for i in np.flatnonzero(compute.flagged)) if compute else (),
        compute_missing=tuple(m for m in overview.models if m not in compute.models)
        if compute and overview else (),
        scenario_rows=tuple(r for r in rows if r.scenario != OVERALL),
        charts=tuple((f.scenario, trend_chart(f, title=f"{f.scenario}: score against parameters",
                                              chart_id=f"scaling-{k}", width=420, height=280, labels=False))
                     for k, f in enumerate(scenario_fits)),
        no_params=result.no_params, unfitted=tuple(s for s in result.unfitted if s != OVERALL),
    ), downloads


def _scaling_row(site: SiteIndex, fit: ScalingFit, i: int) -> ScalingRow:
    return ScalingRow(
        model=site.model_link(SCALING_PAGE, fit.models[i]),
        scenario=site.names.scenario(fit.scenario), params=f"{fit.params[i]:.3g}", score=format_score(fit.scores[i]),
        trend=format_score(fit.expected[i]), deviation=_signed(fit.deviation[i]),
        deviation_interval=_signed_interval(fit.deviation_lo[i], fit.deviation_hi[i]),
        z=f"{fit.z[i]:+.1f}", reading=_reading(fit, i),
    )


def scaling_frame(result: ScalingResult) -> pd.DataFrame:
    """Return one row per fitted model and scenario: its size, score, trend, deviation and flag."""
    rows = [
        {"scenario": f.scenario, "model": m, "params": float(f.params[i]), "score": float(f.scores[i]),
         "trend": float(f.expected[i]), "deviation": float(f.deviation[i]), "deviation_lo": float(f.deviation_lo[i]),
         "deviation_hi": float(f.deviation_hi[i]), "z": float(f.z[i]), "flagged": bool(f.flagged[i])}
        for f in result.fits for i, m in enumerate(f.models)
    ]
    return pd.DataFrame(rows, columns=["scenario", "model", "params", "score", "trend", "deviation", "deviation_lo",
                                       "deviation_hi", "z", "flagged"])


def _contamination_page(site: SiteIndex, trends: TrendAnalyses) -> tuple[ContaminationPage, list[Download]]:
    result = trends.contamination
    assert result is not None
    frame = contamination_frame(result, trends.date_text)
    downloads = table_downloads("data/contamination", frame_table("contamination", frame))
    page = site.page(CONTAMINATION_PAGE, "Contamination", "contamination.html", downloads)
    level = f"{result.confidence_level:.0%}"
    rows = tuple(
        ContaminationRow(
            model=site.model_link(CONTAMINATION_PAGE, t.model),
            date=trends.date_text.get(t.model, ""), items=f"{t.n_before} / {t.n_after}",
            before=format_score(t.before), after=format_score(t.after), raw=_signed(t.raw_difference),
            raw_interval=_signed_interval(t.raw_lo, t.raw_hi),
            control_change=_signed(t.control_after - t.control_before), adjusted=_signed(t.adjusted_difference),
            adjusted_interval=_signed_interval(t.adjusted_lo, t.adjusted_hi),
            flagged="yes" if t.flagged else "",
        )
        for t in sorted(result.tested, key=lambda t: (not t.flagged, t.adjusted_difference, t.model))
    )
    method = (
        f"Each model with a date (the model metadata's {trends.model_date_column}) inside the range of the items' "
        f"dates ({trends.item_date_column}) is compared on the items published before and on or after that date.",
        "Raw difference: its mean score after minus before. Later items may simply be harder or easier, so the "
        "same difference is taken for the controls, the models whose date lies before every item or after every "
        "item (their exposure is the same for every item, so their change measures the change in difficulty), "
        "on the same items, and subtracted: the adjusted difference.",
        f"Intervals: {level}, a paired bootstrap over the items ({result.n_resamples:,} draws, seed {result.seed}).",
        f"Flagged: the adjusted difference is below 0 at {level} confidence after a Bonferroni correction over the "
        f"{len(result.tested)} models tested (normal interval from the bootstrap's standard deviation).",
    )
    flagged = result.flagged
    first, last = (str(np.datetime64(int(day), "D")) for day in (result.first_item_date, result.last_item_date))
    summary = (f"No model's date falls between the first and the last item's ({first} to {last}), so there is "
               "nothing to compare." if not result.tested else
               f"{len(flagged)} of {len(result.tested)} models tested score clearly lower on items published after "
               f"their date: {', '.join(t.model for t in flagged)}." if flagged else
               f"None of the {len(result.tested)} models tested scores clearly lower on items published after "
               "its date.")
    if result.adjustment != "controls":
        summary += (" No model has a date before or after every item, so the mean of all the other models stands "
                    "in for the controls: a weaker adjustment, since some of them may share a model's exposure.")
    charts = ()
    if trends.timeline is not None:
        timeline = trends.timeline
        charts = tuple(
            timeline_chart(timeline.labels, [(t.model, timeline.by_model[t.model]), ("controls (board)",
                                                                                      timeline.board)],
                           cutoff=timeline.cutoff_index.get(t.model, math.nan),
                           title=f"{t.model}: mean score by month of the items' dates, against the controls",
                           chart_id=f"contamination-{k}")
            for k, t in enumerate(sorted(flagged, key=lambda t: (t.adjusted_difference, t.model)))
            if t.model in timeline.by_model
        )
    return ContaminationPage(
        page=page, method=method, summary=summary, rows=rows, charts=charts,
        controls=", ".join(result.controls) or "none",
        untested=tuple(f"{model}: {reason}" for model, reason in result.untested),
    ), downloads


def contamination_frame(result: ContaminationResult, date_text: dict[str, str]) -> pd.DataFrame:
    """Return one row per tested model: its date, scores before and after, raw and adjusted differences."""
    rows = [
        {"model": t.model, "date": date_text.get(t.model, ""), "n_before": t.n_before, "n_after": t.n_after,
         "before": t.before, "after": t.after, "raw_difference": t.raw_difference, "raw_lo": t.raw_lo,
         "raw_hi": t.raw_hi, "control_before": t.control_before, "control_after": t.control_after,
         "adjusted_difference": t.adjusted_difference, "adjusted_lo": t.adjusted_lo, "adjusted_hi": t.adjusted_hi,
         "flagged": t.flagged}
        for t in result.tested
    ]
    return pd.DataFrame(rows, columns=["model", "date", "n_before", "n_after", "before", "after", "raw_difference",
                                       "raw_lo", "raw_hi", "control_before", "control_after", "adjusted_difference",
                                       "adjusted_lo", "adjusted_hi", "flagged"])


def _groups_page(site: SiteIndex, trends: TrendAnalyses) -> tuple[GroupsPage, list[Download]]:
    result = trends.groups
    assert result is not None
    frame = groups_frame(result)
    downloads = table_downloads("data/groups", frame_table("groups", frame))
    page = site.page(GROUPS_PAGE, "Groups", "groups.html", downloads)
    tables = []
    for group in result.groups:
        intervals = group.intervals
        order = sorted(range(len(intervals.models)), key=lambda m: (intervals.rank[m], intervals.models[m]))
        tables.append(GroupTable(group.group, ", ".join(group.scenarios), tuple(
            GroupRow(site.model_link(GROUPS_PAGE, intervals.models[m]),
                     format_rank(int(intervals.rank[m]), intervals.rank_lo[m], intervals.rank_hi[m]),
                     format_score(intervals.score[m]), format_interval(intervals.score_lo[m], intervals.score_hi[m]),
                     int(site.overall_rank.get(intervals.models[m], 0)))
            for m in order if np.isfinite(intervals.score[m]))))
    warnings = tuple(
        f"{site.names.model(d.model_a)} (overall rank {site.overall_rank.get(d.model_a, '–')}) and "
        f"{site.names.model(d.model_b)} (overall rank {site.overall_rank.get(d.model_b, '–')}): "
        f"{site.names.model(d.model_a)} is clearly better in {', '.join(d.a_better_in)}, "
        f"{site.names.model(d.model_b)} in {', '.join(d.b_better_in)}."
        for d in result.disagreements
    )
    confidence = f"{result.groups[0].intervals.confidence_level:.0%}" if result.groups else ""
    method = (
        "Scenarios carry tags (a language, a language family, a domain), from the loaded files' tags or from "
        "effbench.toml ([scenarios.NAME] tags = [...]); a scenario may be in several groups.",
        f"Each group is ranked on its own scenarios as the leaderboard is (mean of scenario means, {confidence} "
        "paired-bootstrap intervals over the items).",
        "A warning names each pair of models each clearly better than the other in some group (the paired-bootstrap "
        "interval of their score difference excludes 0, Bonferroni-corrected over the groups): one overall rank "
        "cannot stand for both groups (in multilingual benchmarks, transfer between languages is uneven).",
    )
    return GroupsPage(page=page, method=method, warnings=warnings, tables=tuple(tables)), downloads


def groups_frame(result: GroupResult) -> pd.DataFrame:
    """Return one row per group and model: rank and score with their intervals."""
    rows = [
        {"group": g.group, "model": m, "rank": int(g.intervals.rank[i]),
         "rank_lo": _int_or_none(g.intervals.rank_lo[i]), "rank_hi": _int_or_none(g.intervals.rank_hi[i]),
         "score": float(g.intervals.score[i]), "score_lo": float(g.intervals.score_lo[i]),
         "score_hi": float(g.intervals.score_hi[i])}
        for g in result.groups for i, m in enumerate(g.intervals.models) if np.isfinite(g.intervals.score[i])
    ]
    return pd.DataFrame(rows, columns=["group", "model", "rank", "rank_lo", "rank_hi", "score", "score_lo",
                                       "score_hi"])


def _int_or_none(value: float) -> int | None:
    return int(value) if np.isfinite(value) else None


def _signed(value: float) -> str:
    return "–" if not np.isfinite(value) else f"{value:+.3f}"


def _signed_interval(lo: float, hi: float) -> str:
    """Return "-0.290 to -0.130": signed bounds read better with a word between them than with a dash."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return ""
    return f"{_signed(lo)} to {_signed(hi)}"


def _reading(fit: ScalingFit, i: int) -> str:
    side = "above" if fit.deviation[i] > 0 else "below"
    reason = ("a better training recipe, more training data or possible contamination" if side == "above"
              else "an older training recipe or less training data")
    return (f"scores {abs(fit.deviation[i]):.2f} {side} models of its size "
            f"({_signed_interval(fit.deviation_lo[i], fit.deviation_hi[i])}): {reason}")


# ---------------------------------------------------------------------------------------------
# Charts


def trend_chart(fit: ScalingFit, *, title: str, chart_id: str, width: int = 680, height: int = 360,
                labels: bool = True, x_label: str = "parameters") -> Markup:
    """Return an SVG of the models' scores against log parameters, the fitted trend and its band; flagged
    models in orange, with their names when `labels` (every point names its model in its tooltip)."""
    left, right, top, bottom = 56, width - 16, 16, height - 48
    unit, axis = (("B parameters", "parameters (billions, log scale)") if x_label == "parameters" else
                  (" FLOPs", "training compute 6 N D (FLOPs, log scale)"))
    x = np.log10(fit.params)
    x0, x1 = float(fit.grid[0]), float(fit.grid[-1])
    values = np.concatenate([fit.scores, fit.curve_lo, fit.curve_hi])
    values = values[np.isfinite(values)]
    y0, y1 = float(values.min()), float(values.max())
    pad = (y1 - y0) * 0.05 or 0.05
    y0, y1 = y0 - pad, y1 + pad

    def px(v: float) -> float:
        return left + (v - x0) / (x1 - x0) * (right - left)

    def py(v: float) -> float:
        return bottom - (v - y0) / (y1 - y0) * (bottom - top)

    parts = _svg_start(width, height, title, chart_id) + _y_grid(y0, y1, left, right, py)
    for exponent in range(math.ceil(x0), math.floor(x1) + 1):
        for mantissa in (1, 3):
            tick = math.log10(mantissa) + exponent
            if x0 <= tick <= x1:
                parts.append(f'<line class="plot-grid" x1="{px(tick):.1f}" y1="{top}" x2="{px(tick):.1f}" '
                             f'y2="{bottom}"/>')
                parts.append(f'<text class="plot-text" x="{px(tick):.1f}" y="{bottom + 14}" text-anchor="middle">'
                             f"{mantissa * 10.0 ** exponent:g}</text>")
    finite = np.isfinite(fit.curve_lo) & np.isfinite(fit.curve_hi)
    upper = [f"{px(g):.1f},{py(v):.1f}" for g, v in zip(fit.grid[finite], fit.curve_hi[finite], strict=True)]
    lower = [f"{px(g):.1f},{py(v):.1f}" for g, v in zip(fit.grid[finite][::-1], fit.curve_lo[finite][::-1],
                                                         strict=True)]
    if upper:
        parts.append(f'<path d="M{" L".join(upper + lower)} Z" fill="#0072b2" fill-opacity="0.18" stroke="none"/>')
    line = " ".join(f"{'M' if k == 0 else 'L'}{px(g):.1f},{py(v):.1f}" for k, (g, v) in
                    enumerate(zip(fit.grid, fit.curve, strict=True)))
    parts.append(f'<path class="plot-line plot-series-0" d="{line}"/>')
    placed: list[tuple[float, float, float]] = []  # (x from, x to, baseline) of the labels drawn so far
    for i, model in enumerate(fit.models):
        css = "plot-marker plot-series-1" if fit.flagged[i] else "plot-dot plot-neutral"
        parts.append(f'<circle class="{css}" cx="{px(x[i]):.1f}" cy="{py(fit.scores[i]):.1f}" r="4">'
                     f"<title>{escape(model)}: {fit.scores[i]:.3f} at {fit.params[i]:.3g}{unit}; trend "
                     f"{fit.expected[i]:.3f}</title></circle>")
        if fit.flagged[i] and labels:
            anchor = "end" if px(x[i]) > (left + right) / 2 else "start"
            shift = -7 if anchor == "end" else 7
            baseline = _free_baseline(placed, px(x[i]) + shift, anchor, py(fit.scores[i]) + 4, len(model),
                                      top=top + 10, bottom=bottom - 2)
            if baseline is not None and baseline != py(fit.scores[i]) + 4:  # moved off its point: a leader line
                parts.append(f'<line class="plot-grid" x1="{px(x[i]):.1f}" y1="{py(fit.scores[i]):.1f}" '
                             f'x2="{px(x[i]) + shift:.1f}" y2="{baseline - 4:.1f}"/>')
            if baseline is not None:  # no room near its point: the tooltip still names the model
                parts.append(f'<text class="plot-text" x="{px(x[i]) + shift:.1f}" y="{baseline:.1f}" '
                             f'text-anchor="{anchor}">{escape(model)}</text>')
    parts += _axis_labels(axis, "score", left, right, top, bottom, height)
    parts.append("</svg>")
    return Markup("".join(parts))


def _free_baseline(placed: list[tuple[float, float, float]], x: float, anchor: str, y: float, n_characters: int,
                   *, top: float, bottom: float, line: float = 14.0, char_width: float = 6.6) -> float | None:
    """Return a baseline near `y` where a label of `n_characters` at `x` overlaps no label in `placed`
    (and record it there), trying y, then one and two lines below and above; None when all overlap."""
    width = n_characters * char_width
    start, end = (x - width, x) if anchor == "end" else (x, x + width)
    for offset in (0.0, line, -line, 2 * line, -2 * line):
        baseline = y + offset
        if not top <= baseline <= bottom:
            continue
        if all(end < a or start > b or abs(baseline - c) >= line for a, b, c in placed):
            placed.append((start, end, baseline))
            return baseline
    return None


def timeline_chart(labels: Sequence[str], series: Sequence[tuple[str, np.ndarray]], *, cutoff: float, title: str,
                   chart_id: str, width: int = 680, height: int = 320) -> Markup:
    """Return an SVG line chart of mean scores per period, one line per series, with a dashed line at
    `cutoff` (a fractional period index; NaN = none)."""
    left, right, top, bottom = 56, width - 36, 16 + 18 * len(series), height - 48  # room for the last label
    values = np.concatenate([np.asarray(v, dtype=float) for _, v in series])
    values = values[np.isfinite(values)]
    if not values.size or len(labels) < 2:
        return Markup("")
    y0, y1 = 0.0, max(float(values.max()) * 1.1, 0.05)
    n = len(labels)

    def px(v: float) -> float:
        return left + v / (n - 1) * (right - left)

    def py(v: float) -> float:
        return bottom - (v - y0) / (y1 - y0) * (bottom - top)

    parts = _svg_start(width, height, title, chart_id) + _y_grid(y0, y1, left, right, py)
    step = max(1, math.ceil(n / 8))
    for k in range(0, n, step):
        parts.append(f'<text class="plot-text" x="{px(k):.1f}" y="{bottom + 14}" text-anchor="middle">'
                     f"{escape(labels[k])}</text>")
    if math.isfinite(cutoff):
        cx = px(min(max(cutoff, 0.0), n - 1))
        parts.append(f'<line class="plot-target" x1="{cx:.1f}" y1="{top}" x2="{cx:.1f}" y2="{bottom}"/>')
        parts.append(f'<text class="plot-text" x="{cx + 4:.1f}" y="{top + 12}">model date</text>')
    for index, (name, means) in enumerate(series):
        css = f"plot-series-{index % 5}"
        points = [(px(k), py(float(v)), k, float(v)) for k, v in enumerate(means) if np.isfinite(v)]
        path = " ".join(f"{'M' if j == 0 else 'L'}{a:.1f},{b:.1f}" for j, (a, b, _, _) in enumerate(points))
        parts.append(f'<path class="plot-line {css}" d="{path}"/>')
        for a, b, k, v in points:
            parts.append(f'<circle class="plot-marker {css}" cx="{a:.1f}" cy="{b:.1f}" r="3.5">'
                         f"<title>{escape(name)}, {escape(labels[k])}: {v:.3f}</title></circle>")
        ly = 14 + 18 * index
        parts.append(f'<line class="plot-line {css}" x1="{left}" y1="{ly}" x2="{left + 22}" y2="{ly}"/>')
        parts.append(f'<text class="plot-text" x="{left + 28}" y="{ly + 4}">{escape(name)}</text>')
    parts += _axis_labels("month the items were published", "mean score", left, right, top, bottom, height)
    parts.append("</svg>")
    return Markup("".join(parts))


__all__ = ["model_notes", "trend_pages"]
