"""The aggregations and the meta-metrics of the reliability analysis (`effbench.reliability`).

An aggregation turns ``(n_scenarios, n_models)`` scenario scores into one score a model (the macro mean,
the micro mean, HELM's mean win rate, the mean rank); a meta-metric compares a reference score vector with
each draw's (Kendall's tau, the top-weighted tau, the leader, the tiers, the change of scores), and
`summarise` turns its values over the draws into the DIoR. Both are plain array functions, used by the
decisions' draws and by the checks of the rank resolution."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence

import numpy as np
from scipy import stats as scipy_stats

from effbench.stats import (
    ResultsMatrix,
    competition_ranks,
    fill_missing_scenarios,
    mean_of_ratios,
    nanmean,
    overall_scores,
)
from effbench.tiers import Tier, board_size_tiers, tier_resolution

META_METRICS = ("kendall_tau", "weighted_tau", "top1", "tier_agreement", "score_change")
DEFAULT_METRICS = ("kendall_tau", "weighted_tau", "top1", "tier_agreement", "score_change")
METRIC_RANGES = {"kendall_tau": "[-1, 1]", "weighted_tau": "[-1, 1]", "top1": "[0, 1]",
                 "tier_agreement": "[0, 1]", "score_change": "[0, 1]"}
AGGREGATIONS = ("macro mean", "micro mean", "mean win rate", "mean rank")
DEFAULT_AGGREGATION = "macro mean"
_MAX_PAIR_ENTRIES = 1 << 22  # draws x model pairs held at once by the vectorised tau
# Boards with more model pairs than this compute the tau meta-metrics draw by draw in n log n.
_PAIRWISE_TAU_PAIRS = 1 << 17
WEIGHTED_TAU_DRAWS = 100  # draws that the top-weighted tau is computed on at that size


# Aggregations: (n_scenarios, n_models) scenario scores -> (n_models,) scores, higher = better


def mean_win_rate(scenario_scores: np.ndarray, present: np.ndarray | None = None) -> np.ndarray:
    """Return HELM's mean win rate: over the scenarios where a model has a score, the share of the
    other models (present, with a score there) it beats strictly, averaged.

    `scenario_scores` is ``(..., n_scenarios, n_models)``; `present` (``(..., n_models)`` bool)
    leaves models out of the board. Absent models get NaN. Wins are counted as integers and their
    rates averaged exactly (`effbench.stats.mean_of_ratios`): two models with the same rational win
    rate tie exactly, and pass `scenario_scores` from ``ResultsMatrix.canonical_scenario_means`` so
    that equal scenario means compare as equal.
    """
    scores = np.asarray(scenario_scores, dtype=float)
    if present is None:
        present = np.ones(scores.shape[:-2] + scores.shape[-1:], dtype=bool)
    has = ~np.isnan(scores) & present[..., None, :]
    wins = _strict_wins(np.where(has, scores, -np.inf), has)
    others = has.sum(axis=-1, keepdims=True) - 1
    rate = mean_of_ratios(wins, np.where(has & (others > 0), others, 0))
    return np.where(present, rate, np.nan)


def _strict_wins(filled: np.ndarray, has: np.ndarray) -> np.ndarray:
    """Return, along the last axis, how many present models each present model beats strictly (0 for an
    absent one): its count of lower values from one sort (absent models hold -inf and are taken off),
    so a board of n models costs n log n, not the n^2 of comparing every pair."""
    below = scipy_stats.rankdata(filled, method="min", axis=-1).astype(np.int64) - 1
    absent = (~has).sum(axis=-1, keepdims=True)
    return np.where(has, below - absent, 0)


def _mean_win_rates_of(scenario_scores: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Return `mean_win_rate` of the ``(n_scenarios, n_models)`` scores on each board of models `present`
    (``(n_draws, n_models)``) as ``(n_draws, n_models)``, the same floats. The scores are sorted once: in each
    draw a model beats the present models before its group of equal scores in that order, a running count,
    so that a draw costs scenarios x models with no sort. Blocks of draws bound the memory."""
    scored = ~np.isnan(scenario_scores)
    filled = np.where(scored, scenario_scores, -np.inf)
    order = np.argsort(filled, axis=-1, kind="stable")
    ordered = np.take_along_axis(filled, order, axis=-1)
    positions = np.broadcast_to(np.arange(ordered.shape[-1]), ordered.shape)
    new_value = np.concatenate([np.ones((ordered.shape[0], 1), bool), ordered[:, 1:] != ordered[:, :-1]], axis=-1)
    group_start = np.maximum.accumulate(np.where(new_value, positions, 0), axis=-1)
    start_of_model = np.take_along_axis(group_start, np.argsort(order, axis=-1), axis=-1)  # (S, M)
    scored_in_order = np.take_along_axis(scored, order, axis=-1)
    out = []
    block = max(1, (1 << 20) // max(1, scenario_scores.size))
    for first in range(0, present.shape[0], block):
        chunk = present[first:first + block]
        has_in_order = chunk[:, order] & scored_in_order  # (draws, S, M) in each scenario's order
        before = np.cumsum(has_in_order, axis=-1, dtype=np.int32) - has_in_order
        has = scored & chunk[:, None, :]
        wins = np.where(has, np.take_along_axis(before, np.broadcast_to(start_of_model, has.shape), axis=-1), 0)
        others = has.sum(axis=-1, keepdims=True) - 1
        rate = mean_of_ratios(wins, np.where(has & (others > 0), others, 0))
        out.append(np.where(chunk, rate, np.nan))
    return np.concatenate(out) if out else np.zeros((0, scenario_scores.shape[-1]))


def aggregate_scores(results: ResultsMatrix, how: str) -> np.ndarray:
    """Return each model's overall score under aggregation `how` (one of ``AGGREGATIONS``), computed
    exactly (equal rational scores are equal floats), with the leaderboard's rule for partial models: a
    missing scenario counts at the lowest score any model has there (a model with no score at all
    stays NaN)."""
    if how in ("macro mean", "micro mean"):
        return overall_scores(results, micro=how == "micro mean")
    has_any = ~np.isnan(overall_scores(results))
    scenario_scores = np.where(has_any, fill_missing_scenarios(results.canonical_scenario_means()), np.nan)
    if how == "mean win rate":
        return mean_win_rate(scenario_scores)
    if how == "mean rank":
        has = ~np.isnan(scenario_scores)
        ranks = np.where(has, competition_ranks(scenario_scores), 0)
        return -mean_of_ratios(ranks, has.astype(float))  # negated so that higher is better, like the others
    raise ValueError(f"`aggregation` must be one of {', '.join(AGGREGATIONS)}, got {how!r}")


# Meta-metrics: reference (n_models,), draws (n_draws, n_models) -> (n_draws,); NaN = model absent


def kendall_tau(reference: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """Kendall's tau-b of `reference` with each row of `draws`, over the models present in both.

    Boards of more than `_PAIRWISE_TAU_PAIRS` model pairs take one draw at a time with scipy's
    n log n algorithm (the same statistic, up to rounding in the last digit) instead of every pair."""
    n_models = reference.shape[0]
    if n_models * (n_models - 1) // 2 > _PAIRWISE_TAU_PAIRS:
        return _per_draw(scipy_stats.kendalltau, reference, draws)
    i, j = np.triu_indices(n_models, 1)
    ref_sign = np.sign(reference[i] - reference[j])
    ref_valid = ~np.isnan(ref_sign)
    ref_sign = np.nan_to_num(ref_sign)
    out = np.empty(draws.shape[0])
    block = max(1, _MAX_PAIR_ENTRIES // max(len(i), 1))
    for start in range(0, draws.shape[0], block):
        chunk = draws[start:start + block]
        sign = np.sign(chunk[:, i] - chunk[:, j])
        valid = ref_valid & ~np.isnan(sign)
        sign = np.where(valid, sign, 0.0)
        n_pairs = valid.sum(axis=1)
        ties_ref = (valid & (ref_sign == 0)).sum(axis=1)
        ties_draw = (valid & (sign == 0)).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[start:start + block] = (sign * ref_sign).sum(axis=1) / np.sqrt(
                (n_pairs - ties_ref) * (n_pairs - ties_draw))
    return out


def weighted_tau(reference: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """Top-weighted tau of `reference` with each draw: equal to ``scipy.stats.weightedtau(x, y)``
    (hyperbolic weigher, additive pair weights, ranks by importance from both sides, averaged), over
    the models present in both, computed for all draws at once.

    Boards of more than `_PAIRWISE_TAU_PAIRS` model pairs call scipy (n log n) on the first
    `WEIGHTED_TAU_DRAWS` draws only, and return that many values: its n log n is still some
    milliseconds a draw at thousands of models."""
    n_models = reference.shape[0]
    if n_models * (n_models - 1) // 2 > _PAIRWISE_TAU_PAIRS:
        return _per_draw(scipy_stats.weightedtau, reference, draws[:WEIGHTED_TAU_DRAWS])
    i, j = np.triu_indices(n_models, 1)
    out = np.empty(draws.shape[0])
    block = max(1, _MAX_PAIR_ENTRIES // max(len(i), 1))
    for start in range(0, draws.shape[0], block):
        y = draws[start:start + block]
        x = np.broadcast_to(reference, y.shape)
        present = ~np.isnan(x) & ~np.isnan(y)
        # Absent models sort last, so the present ones take importance ranks 0, 1, ... among themselves.
        x, y = np.where(present, x, -np.inf), np.where(present, y, -np.inf)
        valid = present[:, i] & present[:, j]
        with np.errstate(invalid="ignore"):
            sx = np.where(valid, np.sign(x[:, i] - x[:, j]), 0.0)
            sy = np.where(valid, np.sign(y[:, i] - y[:, j]), 0.0)
        halves = []
        for primary, secondary in ((x, y), (y, x)):
            order = np.lexsort((-secondary, -primary), axis=-1)
            rank = np.empty_like(order)
            np.put_along_axis(rank, order, np.arange(n_models)[None, :], axis=1)
            weight = 1.0 / (rank + 1)
            pair_weight = weight[:, i] + weight[:, j]
            with np.errstate(invalid="ignore", divide="ignore"):
                halves.append((pair_weight * sx * sy).sum(axis=1) / np.sqrt(
                    (pair_weight * (sx != 0)).sum(axis=1) * (pair_weight * (sy != 0)).sum(axis=1)))
        out[start:start + block] = (halves[0] + halves[1]) / 2
    return out


def _per_draw(statistic: Callable, reference: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """Return `statistic` (a scipy rank correlation) of `reference` with each draw, over the models
    present in both; NaN where fewer than two are or the statistic is undefined."""
    out = np.full(draws.shape[0], np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a constant ranking: NaN, as the pairwise form gives
        for d, draw in enumerate(draws):
            both = ~np.isnan(reference) & ~np.isnan(draw)
            if both.sum() >= 2:
                out[d] = statistic(reference[both], draw[both]).statistic
    return out


def top1_agreement(reference: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """The chance that the draw's best model (among those present) is a best model of the reference: 1 or
    0, and for k models tied at the top of a draw the share of them that lead the reference, as a random
    pick among them would give (with two models and few items such ties are common; counting them by
    the models' order would side with whichever model comes first). NaN for a draw with no model."""
    present = ~np.isnan(draws)
    ref = np.where(present, reference, -np.inf)
    drawn = np.where(present, draws, -np.inf)
    ref_best = present & (ref == ref.max(axis=1, keepdims=True))
    draw_best = present & (drawn == drawn.max(axis=1, keepdims=True))
    tied = draw_best.sum(axis=1)
    agree = (ref_best & draw_best).sum(axis=1).astype(float)
    return np.divide(agree, tied, out=np.full(agree.shape, np.nan), where=tied > 0)


def tier_agreement(reference: np.ndarray, draws: np.ndarray, tiers: Sequence[Tier] | None = None) -> np.ndarray:
    """Share of present models whose rank in the draw is within their full-data tier's resolution; the tiers
    are by default the board-size tiers of the board's models (`effbench.tiers.board_size_tiers`)."""
    if tiers is None:
        tiers = board_size_tiers(reference.shape[-1])
    present = ~np.isnan(draws) & ~np.isnan(reference)
    ref_ranks = competition_ranks(np.where(present, reference, np.nan))
    draw_ranks = competition_ranks(np.where(present, draws, np.nan))
    within = np.abs(draw_ranks - ref_ranks) <= tier_resolution(ref_ranks, tiers)
    with np.errstate(invalid="ignore"):  # a draw with no model present (one-model board): NaN, not a warning
        return (within & present).sum(axis=1) / present.sum(axis=1)


def score_change(reference: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """1 - the mean absolute score change over the models present in both."""
    return 1 - nanmean(np.abs(draws - reference), axis=1)


_METRIC_FUNCTIONS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "kendall_tau": kendall_tau, "weighted_tau": weighted_tau, "top1": top1_agreement,
    "tier_agreement": tier_agreement, "score_change": score_change,
}


def summarise(values: np.ndarray, metric: str, confidence_level: float) -> tuple[float, float, float, float]:
    """Return (mean, lo, hi, dior) of the per-draw meta-metric `values` (see the module docstring)."""
    values = values[~np.isnan(values)]
    if values.size == 0:
        return (math.nan,) * 4
    mean = float(values.mean())
    if values.size == 1:  # one fixed alternative (an aggregation): no distribution to summarise
        return mean, mean, mean, mean
    if metric == "top1":
        lo, hi = wilson_interval(mean, values.size, confidence_level)
        return mean, lo, hi, mean
    tail = (1 - confidence_level) / 2
    lo, hi = np.quantile(values, [tail, 1 - tail])
    return mean, float(lo), float(hi), float(lo)


def wilson_interval(rate: float, n: int, confidence_level: float) -> tuple[float, float]:
    """Return the Wilson score interval of a proportion `rate` observed in `n` trials."""
    z = scipy_stats.norm.ppf(1 - (1 - confidence_level) / 2)
    centre = (rate + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(rate * (1 - rate) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)
