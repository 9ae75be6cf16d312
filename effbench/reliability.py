"""How much each benchmark design decision changes the ranking: DIoR, after Perlitz et al. (2024).

    DIoR = lower bound of the central interval, over random instantiations c of a decision,
           of f(s_c0(M), s_c(M))

with c0 the decision as the benchmark made it (all items, all scenarios, the macro mean, all models),
s the scores of the models M, and f a similarity meta-metric. Pure numpy/scipy: arrays in, frozen
results out. Every decision is drawn `n_draws` times as matrices (selection weights times the
items x models score matrix), with no Python loop over draws.

Meta-metrics (``META_METRICS``), each on its own range:

- ``kendall_tau``: Kendall's tau-b between the two score vectors, on [-1, 1] (not rescaled; 1 =
  same order, 0 = unrelated).
- ``weighted_tau``: scipy's top-weighted (hyperbolic) tau, on [-1, 1]: swaps near the top count more.
- ``top1``: 1 when the best model is the same, else 0 (a tie at the top counts as a random pick
  among the tied models would). A 0/1 value has a degenerate percentile
  interval, so for ``top1`` effbench reports the *agreement rate* (1 - the rate at which the leader
  changes) as both `mean` and `dior`, and the Wilson interval of that rate as `lo`-`hi`.
- ``tier_agreement``: share of models whose rank stays within the resolution of the tier their
  full-data rank is in (see `effbench.tiers`), on [0, 1].
- ``score_change``: 1 - the mean absolute change of the models' scores, on [0, 1] for scores in
  [0, 1]; only where both sides use the same score scale.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy import stats as scipy_stats

from effbench.paired import holm, scenario_p_values
from effbench.stats import (
    RankIntervals,
    ResultsMatrix,
    competition_ranks,
    fill_missing_scenarios,
    mean_of_ratios,
    nanmean,
    overall_scores,
    percentile_interval,
    score_unit,
)
from effbench.tiers import DEFAULT_TIERS, Tier, tier_resolution

DECISIONS = ("examples", "scenarios", "aggregation", "models", "prompts", "allocation")
META_METRICS = ("kendall_tau", "weighted_tau", "top1", "tier_agreement", "score_change")
DEFAULT_METRICS = ("kendall_tau", "weighted_tau", "top1", "tier_agreement", "score_change")
EXAMPLE_LEVELS = (5, 10, 20, 50, 100, 200, 500, 1000)
METRIC_RANGES = {"kendall_tau": "[-1, 1]", "weighted_tau": "[-1, 1]", "top1": "[0, 1]",
                 "tier_agreement": "[0, 1]", "score_change": "[0, 1]"}
AGGREGATIONS = ("macro mean", "micro mean", "mean win rate", "mean rank")
DEFAULT_AGGREGATION = "macro mean"
_MAX_PAIR_ENTRIES = 1 << 22  # draws x model pairs held at once by the vectorised tau
# Boards with more model pairs than this compute the tau meta-metrics draw by draw in n log n.
_PAIRWISE_TAU_PAIRS = 1 << 17
WEIGHTED_TAU_DRAWS = 100  # draws that the top-weighted tau is computed on at that size
# Above this many draws x items x models in a scenario, item samples are summed from the previous
# (smaller) sample's sums, as sparse products where they add fewer than this share of the items.
_DENSE_SAMPLE_WORK = 1 << 32
_SPARSE_SHARE = 0.05
# Disagreements are sought between each model and this many models after it on the board.
DISAGREEMENT_NEIGHBOURS = 50
# Boards with more models than this remove a random sample of this many in `mwr_instability`.
MWR_REMOVALS = 200
# Boards with more scenarios than this draw about this many numbers of scenarios, not every one.
ALL_SCENARIO_LEVELS = 50
# Draws x scenarios x models held at once when the scenarios decision gathers each draw's scenarios.
_MAX_GATHERED_ENTRIES = 1 << 22
# Boards with more scenarios than this show the agreement of this many (those with the most items): the
# matrix grows with the square of the scenarios, and a reader cannot take in more cells than this anyway.
AGREEMENT_SCENARIOS = 100


@dataclass(frozen=True)
class DiorRow:
    """One decision at one level, judged by one meta-metric."""

    decision: str
    level: str
    meta_metric: str
    mean: float
    lo: float
    hi: float
    dior: float
    compute_fraction: float
    n_draws: int
    seed: int | None
    metric_range: str
    aggregation: str
    order: int  # position of the level within its decision, for plotting and sorting


@dataclass(frozen=True)
class RankResolution:
    """How far ranks move with `examples_per_scenario` items, against the full-data ranks."""

    examples_per_scenario: str
    half_width: int  # 95% of models' ranks lie within +- this of their full-data rank
    compute_fraction: float


@dataclass(frozen=True)
class MwrInstability:
    """What removing one model does to the others' order under mean win rate (the mean never changes)."""

    removed_model: str
    changed_models: tuple[str, ...]
    top_pair_swapped: bool


@dataclass(frozen=True)
class Disagreement:
    """Two models whose overall scores are within noise while each is clearly better in some scenarios."""

    model_a: str
    model_b: str
    a_better_in: tuple[str, ...]
    b_better_in: tuple[str, ...]


@dataclass(frozen=True)
class ReliabilityResult:
    rows: tuple[DiorRow, ...]
    rank_resolution: tuple[RankResolution, ...]
    mwr_instability: tuple[MwrInstability, ...]
    scenario_agreement: np.ndarray  # (n, n) Kendall tau between the `scenarios`, NaN where undefined
    scenarios: tuple[str, ...]  # those of `scenario_agreement`: every one, or see `agreement_scenarios`
    recommendations: tuple[str, ...]
    n_draws: int
    confidence_level: float
    seed: int | None
    target: float


# ---------------------------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------------------------
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


def tier_agreement(reference: np.ndarray, draws: np.ndarray, tiers: Sequence[Tier] = DEFAULT_TIERS) -> np.ndarray:
    """Share of present models whose rank in the draw is within their full-data tier's resolution."""
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


# ---------------------------------------------------------------------------------------------
# Decisions: each returns (level label, compute fraction, aggregation, scores of every draw)


@dataclass(frozen=True)
class _Instantiations:
    level: str
    compute_fraction: float
    aggregation: str
    reference: np.ndarray  # (n_models,)
    draws: np.ndarray  # (n_draws, n_models)
    same_scale: bool = True  # whether score_change is meaningful


class _Prepared:
    """Per-scenario arrays shared by the decisions: values with NaN as 0, and 0/1 'scored' masks."""

    def __init__(self, results: ResultsMatrix) -> None:
        self.results = results
        units = [score_unit(m) for m in results.scores]
        # Where every score is a whole multiple of 1/unit, sums are exact integers in units and means
        # are averaged exactly, so that equal means tie exactly (see `mean_of_ratios`).
        self.exact = all(u is not None for u in units)
        self.units = np.array([u or 1 for u in units], dtype=float)
        self.values = [np.where(np.isnan(m), 0.0, np.rint(m * u) if self.exact else m)
                       for m, u in zip(results.scores, self.units, strict=True)]
        self.scored = [(~np.isnan(m)).astype(float) for m in results.scores]
        self.complete = [not np.isnan(m).any() for m in results.scores]
        self.sizes = np.array([m.shape[0] for m in results.scores])
        self.scenario_scores = results.canonical_scenario_means()
        full_sums = np.stack([v.sum(axis=0) for v in self.values])
        full_counts = np.stack([s.sum(axis=0) for s in self.scored])
        self.full_sums, self.full_denominators = full_sums, full_counts * self.units[:, None]
        self.reference = self.macro(full_sums, self.full_denominators)
        self._item_at: dict[int, np.ndarray] = {}
        self._sums_cache: dict[int, tuple[int, np.ndarray | None, np.ndarray | None]] = {}

    def macro(self, sums: np.ndarray, denominators: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """Return the (weighted) mean over scenarios (axis -2) of ``sums / denominators``; a model without a
        result in a scenario (denominator 0) counts there at the lowest mean any model has, as on the
        leaderboard (`effbench.stats`)."""
        sums, denominators = _fill_missing(sums, denominators)
        if self.exact:
            return mean_of_ratios(sums, denominators, weights)
        present = denominators > 0
        if weights is not None:
            present = present & (weights > 0)  # weights may add the draws' axis: broadcast both ways
        w = np.where(present, 1.0 if weights is None else weights, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.where(present, sums / np.where(present, denominators, 1.0), 0.0)
            total = w.sum(axis=-2)
            return np.where(total > 0, (w * ratio).sum(axis=-2) / total, np.nan)

    def macro_of_counts(self, counts: np.ndarray) -> np.ndarray:
        """Return ``macro`` of the full-data sums with each scenario weighed by `counts` (``(n_draws, S)`` whole
        numbers, how often each draw holds each scenario): the same floats, in draws x (scenarios drawn) x
        models rather than draws x S x models.

        Where every mean is a whole number of units (`exact`) and the sums over a common denominator stay
        within 52 bits, each draw's means are one matrix product of whole numbers, divided once: the
        correctly rounded ratio that `mean_of_ratios` also returns there. Otherwise each draw's scenarios are
        gathered (in board order, padded with weight 0) and passed to ``macro`` a block of draws at a time."""
        fast = self._exact_counts(counts)
        if fast is not None:
            return fast
        width = max(1, int((counts > 0).sum(axis=1).max()))
        drawn = np.argsort(counts == 0, axis=1, kind="stable")[:, :width]
        weights = np.take_along_axis(counts, drawn, axis=1).astype(float)
        block = max(1, _MAX_GATHERED_ENTRIES // (width * len(self.results.models)))
        return np.concatenate([
            self.macro(self.full_sums[drawn[i:i + block]], self.full_denominators[drawn[i:i + block]],
                       weights[i:i + block, :, None])
            for i in range(0, counts.shape[0], block)])

    @functools.cached_property
    def _whole_means(self) -> tuple[np.ndarray, np.ndarray, int, float] | None:
        """Return each scenario's full-data means as whole numbers over one common denominator (a missing one
        filled as in ``macro``), whether each is present (0/1), that denominator and the largest mean; None
        unless `exact`."""
        if not self.exact:
            return None
        sums, denominators = _fill_missing(self.full_sums, self.full_denominators)
        present = denominators > 0
        common = math.lcm(*(int(d) for d in np.unique(denominators[present]))) if present.any() else 1
        largest = float(np.max(np.abs(sums[present]) / denominators[present])) if present.any() else 0.0
        keys = np.where(present, np.rint(sums) * np.round(common / np.where(present, denominators, 1.0)), 0.0)
        return keys, present.astype(float), common, largest

    def _exact_counts(self, counts: np.ndarray) -> np.ndarray | None:
        """Return ``macro_of_counts`` as exact whole-number products, or None where they would not be exact."""
        if self._whole_means is None:
            return None
        keys, present, common, largest = self._whole_means
        weights = counts.astype(float)
        total = weights @ present  # (n_draws, n_models) scenarios counted, whole numbers
        totals = np.unique(total[total > 0])
        weight_common = math.lcm(*(int(t) for t in totals)) if totals.size else 1
        if (largest + 1) * common * weight_common >= 2**52:  # `mean_of_ratios` is not exact there either
            return None
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total > 0, (weights @ keys) / (common * total), np.nan)

    def item_orders(self, n_draws: int, rng: np.random.Generator) -> list[np.ndarray]:
        """Return, per scenario, each draw's random position of every item (``(n_draws, n_items)``).

        The items at positions < n are a uniform sample of n without replacement; samples of
        different n from one order are nested, which makes the curves smooth.
        """
        orders = []
        for size, resampled in zip(self.sizes, self.results.resampled, strict=True):
            if not resampled:
                orders.append(np.zeros((n_draws, size), dtype=np.int64))
                continue
            # A uniformly random permutation read as "the position of each item" is itself uniform,
            # so one shuffle per draw does what sorting random keys and inverting the order did.
            orders.append(rng.permuted(np.broadcast_to(np.arange(size), (n_draws, size)), axis=1))
        return orders

    def scenario_sums_with(self, orders: list[np.ndarray], n: int | None) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(n_draws, n_scenarios, n_models)`` sums over each draw's first `n` items (all if None)
        and their denominators (items scored, in score units); divide them with `macro`.

        A scenario whose draws x items x models exceed `_DENSE_SAMPLE_WORK` adds up only the items each
        draw takes, as a sparse product, starting from the last (smaller) `n` asked for, since the
        samples are nested; its whole sample is the full data. The sums are the same (exactly so for
        scores on a common unit, to rounding otherwise) at a small part of a dense product's work."""
        sums, denominators = [], []
        for s, position in enumerate(orders):
            size = position.shape[1] if n is None else min(n, position.shape[1])
            if position.shape[0] * position.shape[1] * self.values[s].shape[1] > _DENSE_SAMPLE_WORK:
                total, scored = self._sparse_sums(s, position, size)
            else:
                weights = (position < size).astype(float)
                total = weights @ self.values[s]
                scored = None if self.complete[s] else weights @ self.scored[s]
            sums.append(total)
            if self.complete[s]:  # every model scored every item: the count is the sample size
                denominators.append(np.full(total.shape, size * self.units[s]))
            else:
                denominators.append(scored * self.units[s])
        return np.stack(sums, axis=1), np.stack(denominators, axis=1)

    def _sparse_sums(self, s: int, position: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray | None]:
        """Return scenario `s`'s sums (and items scored, None when complete) over each draw's first `size`
        items, from the last sums computed for it when those were over fewer items."""
        n_draws, n_items = position.shape
        if size == n_items:
            full = np.broadcast_to(self.values[s].sum(axis=0), (n_draws, self.values[s].shape[1]))
            counts = None if self.complete[s] else np.broadcast_to(self.scored[s].sum(axis=0), full.shape)
            return full, counts
        if s not in self._item_at:
            self._item_at[s] = np.argsort(position, axis=1).astype(np.int32)  # the item at each position
        done, total, scored = self._sums_cache.get(s, (0, None, None))
        if done > size:
            done, total, scored = 0, None, None
        if done == size and total is not None:
            return total, scored
        if size - done > _SPARSE_SHARE * n_items:  # a large part of the items: a dense product is faster
            weights = ((position >= done) & (position < size)).astype(float)
            added, counts = weights @ self.values[s], None if self.complete[s] else weights @ self.scored[s]
            total = added if total is None else total + added
            scored = counts if scored is None else scored + counts
            self._sums_cache[s] = (size, total, scored)
            return total, scored
        taken = self._item_at[s][:, done:size]
        pick = sparse.csr_matrix((np.ones(taken.size), taken.ravel(), np.arange(0, taken.size + 1, taken.shape[1])),
                                 shape=(n_draws, n_items))
        added = pick @ self.values[s]
        total = added if total is None else total + added
        if not self.complete[s]:
            added = pick @ self.scored[s]
            scored = added if scored is None else scored + added
        self._sums_cache[s] = (size, total, scored)
        return total, scored


def _fill_missing(sums: np.ndarray, denominators: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(..., S, M)`` sums and denominators where each absent (model, scenario) takes those of the
    model with the lowest mean in that scenario, so that a missing scenario never raises a model."""
    sums, denominators = np.broadcast_arrays(np.asarray(sums, dtype=float), np.asarray(denominators, dtype=float))
    absent = ~(denominators > 0)
    if not absent.any():
        return sums, denominators
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(absent, np.inf, sums / np.where(absent, 1.0, denominators))
    lowest = np.argmin(ratio, axis=-1)[..., None]
    fill = absent & ~absent.all(axis=-1, keepdims=True)
    return (np.where(fill, np.take_along_axis(sums, lowest, axis=-1), sums),
            np.where(fill, np.take_along_axis(denominators, lowest, axis=-1), denominators))


def _examples(prep: _Prepared, orders: list[np.ndarray]) -> list[_Instantiations]:
    total = prep.sizes.sum()
    largest = int(prep.sizes[np.array(prep.results.resampled)].max()) if any(prep.results.resampled) else 0
    out = []
    for n in [level for level in EXAMPLE_LEVELS if level < largest] + [None]:
        draws = prep.macro(*prep.scenario_sums_with(orders, n))
        used = np.minimum(prep.sizes, n).sum() if n is not None else total
        out.append(_Instantiations("all" if n is None else str(n), used / total, DEFAULT_AGGREGATION,
                                   prep.reference, draws))
    return out


def scenario_levels(n_scenarios: int) -> list[int]:
    """Return the numbers of scenarios the "scenarios" decision draws: every one from 1 to `n_scenarios` on a
    board of up to `ALL_SCENARIO_LEVELS` scenarios, else about that many spread evenly on a log scale from 1 to
    `n_scenarios` (a curve needs no more points, and drawing every count would cost the square of the scenarios)."""
    if n_scenarios <= ALL_SCENARIO_LEVELS:
        return list(range(1, n_scenarios + 1))
    return sorted({int(k) for k in np.rint(np.geomspace(1, n_scenarios, ALL_SCENARIO_LEVELS))})


def _scenarios(prep: _Prepared, n_draws: int, rng: np.random.Generator) -> list[_Instantiations]:
    n_scenarios = len(prep.sizes)
    out = []
    for k in scenario_levels(n_scenarios):
        if n_scenarios <= ALL_SCENARIO_LEVELS:
            counts = rng.multinomial(k, np.full(n_scenarios, 1 / n_scenarios), size=n_draws)
        else:  # the same multinomial, as k scenarios drawn per draw: draws x k work, not draws x S binomials
            picks = rng.integers(0, n_scenarios, (n_draws, k)) + n_scenarios * np.arange(n_draws)[:, None]
            counts = np.bincount(picks.ravel(), minlength=n_draws * n_scenarios).reshape(n_draws, n_scenarios)
        draws = prep.macro_of_counts(counts)
        used = ((counts > 0) * prep.sizes).sum(axis=1).mean() / prep.sizes.sum()
        out.append(_Instantiations(str(k), float(used), DEFAULT_AGGREGATION, prep.reference, draws))
    return out


def _aggregation(prep: _Prepared) -> list[_Instantiations]:
    return [
        _Instantiations(how, 1.0, how, prep.reference, aggregate_scores(prep.results, how)[None, :],
                        same_scale=how in ("macro mean", "micro mean"))
        for how in AGGREGATIONS if how != DEFAULT_AGGREGATION
    ]


def _models(prep: _Prepared, n_draws: int, rng: np.random.Generator) -> list[_Instantiations]:
    n_models = len(prep.results.models)
    mwr_reference = mean_win_rate(prep.scenario_scores)
    out = []
    for k in (1, 2, 5, 10):
        if k > n_models - 3:
            break
        keys = rng.random((n_draws, n_models))
        present = keys > np.partition(keys, k - 1, axis=1)[:, k - 1:k]  # drop the k smallest keys
        macro = np.where(present, prep.reference, np.nan)
        out.append(_Instantiations(str(k), 1.0, DEFAULT_AGGREGATION, prep.reference, macro))
        out.append(_Instantiations(str(k), 1.0, "mean win rate", mwr_reference,
                                   _mean_win_rates_of(prep.scenario_scores, present)))
    return out


def _prompts(prep: _Prepared, prompt_scores: Sequence[np.ndarray], n_draws: int,
             rng: np.random.Generator) -> list[_Instantiations]:
    """Same budget, two designs: K items x every prompt, or K x P (item, prompt) pairs drawn uniformly."""
    n_prompts = prompt_scores[0].shape[1]
    cells = [m.reshape(-1, m.shape[2]) for m in prompt_scores]  # (items * prompts, models), item-major
    values = [np.where(np.isnan(c), 0.0, c) for c in cells]
    scored = [(~np.isnan(c)).astype(float) for c in cells]
    reference = nanmean(np.stack([nanmean(c, axis=0) for c in cells]), axis=0)
    sizes = np.array([m.shape[0] for m in prompt_scores])
    out = []
    for k in [level for level in EXAMPLE_LEVELS if level < sizes.max()]:
        for design in ("cross-product", "uniform pairs"):
            means = []
            for s, matrix in enumerate(prompt_scores):
                n_items = matrix.shape[0]
                if design == "cross-product":
                    keys = rng.random((n_draws, n_items))
                    kth = min(k, n_items) - 1
                    take = keys <= np.partition(keys, kth, axis=1)[:, kth:kth + 1]
                    weights = np.repeat(take, n_prompts, axis=1).astype(float)
                else:
                    budget = min(k, n_items) * n_prompts
                    keys = rng.random((n_draws, n_items * n_prompts))
                    weights = (keys <= np.partition(keys, budget - 1, axis=1)[:, budget - 1:budget]).astype(float)
                counts = weights @ scored[s]
                with np.errstate(invalid="ignore", divide="ignore"):
                    means.append(np.where(counts > 0, (weights @ values[s]) / counts, np.nan))
            draws = nanmean(np.stack(means, axis=1), axis=1)
            fraction = np.minimum(sizes, k).sum() / sizes.sum()
            out.append(_Instantiations(f"{k} items: {design}", fraction, DEFAULT_AGGREGATION, reference, draws))
    return out


def _allocation(prep: _Prepared, orders: list[np.ndarray], n_draws: int,
                rng: np.random.Generator) -> list[_Instantiations]:
    """At a fixed number of evaluations per model, many scenarios x few items or few x many.

    Budgets are 10, 50 and 200 items per scenario's worth; a split is kept only where every
    scenario has enough items for it, so that each split spends the whole budget."""
    n_scenarios = len(prep.sizes)
    total = prep.sizes.sum()
    counts_of_scenarios = sorted({k for k in (1, 2, 4, 8, n_scenarios // 2, n_scenarios) if 1 <= k <= n_scenarios})
    splits = []
    smallest = int(prep.sizes.min())
    for budget in (10 * n_scenarios, 50 * n_scenarios, 200 * n_scenarios):
        if budget >= total:
            continue
        for k in counts_of_scenarios:
            n = budget // k
            if not 1 <= n <= smallest:  # a split that no scenario can fill would spend less than the budget
                continue
            keys = rng.random((n_draws, n_scenarios))
            splits.append((budget, k, n, keys <= np.partition(keys, k - 1, axis=1)[:, k - 1:k]))
    out: list[_Instantiations | None] = [None] * len(splits)
    # By growing n, so that each sample's sums extend the last ones (the draws are as drawn above).
    for position in sorted(range(len(splits)), key=lambda i: splits[i][2]):
        budget, k, n, chosen = splits[position]
        sums, denominators = prep.scenario_sums_with(orders, n)  # (draws, S, M)
        draws = prep.macro(sums, denominators, chosen[:, :, None].astype(float))
        used = (chosen * np.minimum(prep.sizes, n)).sum(axis=1).mean() / total
        label = f"{budget} evaluations: {k} scenario{'s' if k > 1 else ''} x {n} items"
        out[position] = _Instantiations(label, float(used), DEFAULT_AGGREGATION, prep.reference, draws)
    return out


# ---------------------------------------------------------------------------------------------
# The analysis


def dior(
    results: ResultsMatrix,
    *,
    decisions: Sequence[str] = DECISIONS,
    metrics: Sequence[str] = DEFAULT_METRICS,
    prompt_scores: Sequence[np.ndarray] | None = None,
    n_draws: int = 1000,
    confidence_level: float = 0.95,
    target: float = 0.9,
    rng: int | np.random.Generator = 0,
) -> ReliabilityResult:
    """Return the DIoR of each design decision at each level, for each meta-metric.

    Parameters
    ----------
    results : ResultsMatrix
        Per-item results; the full data is the reference design c0.
    decisions : sequence of str
        Any of ``DECISIONS``. ``prompts`` needs `prompt_scores` and is skipped without them.
    metrics : sequence of str
        Any of ``META_METRICS``.
    prompt_scores : sequence of ndarray, optional
        Per scenario, ``(n_items, n_prompts, n_models)`` scores (NaN = not evaluated).
    n_draws : int, default 1000
        Random instantiations per level.
    confidence_level : float, default 0.95
        The DIoR is the lower end of this central interval of the meta-metric.
    target : float, default 0.9
        The DIoR that the recommendations call reliable.
    rng : int or numpy.random.Generator, default 0

    Returns
    -------
    ReliabilityResult
    """
    _validate(decisions, metrics, n_draws, confidence_level, target, rng)
    seed = int(rng) if isinstance(rng, int | np.integer) else None
    generator = np.random.default_rng(rng)
    prep = _Prepared(results)
    orders = prep.item_orders(n_draws, generator) if {"examples", "allocation"} & set(decisions) else []

    rows, resolution = [], []
    for decision in DECISIONS:
        if decision not in decisions:
            continue
        if decision == "examples":
            levels = _examples(prep, orders)
            resolution = [_rank_resolution(inst) for inst in levels]
        elif decision == "scenarios":
            levels = _scenarios(prep, n_draws, generator)
        elif decision == "aggregation":
            levels = _aggregation(prep)
        elif decision == "models":
            levels = _models(prep, n_draws, generator)
        elif decision == "prompts":
            if not prompt_scores:
                continue
            levels = _prompts(prep, prompt_scores, n_draws, generator)
        else:
            levels = _allocation(prep, orders, n_draws, generator)
        for order, inst in enumerate(levels):
            for metric in metrics:
                if metric == "score_change" and not inst.same_scale:
                    continue
                values = _METRIC_FUNCTIONS[metric](inst.reference, inst.draws)
                mean, lo, hi, value = summarise(values, metric, confidence_level)
                rows.append(DiorRow(decision, inst.level, metric, mean, lo, hi, value, float(inst.compute_fraction),
                                    values.shape[0], seed, METRIC_RANGES[metric], inst.aggregation, order))

    shown = agreement_scenarios(prep.sizes)
    agreement = scenario_agreement(prep.scenario_scores[shown])
    instability = mwr_instability(results) if "aggregation" in decisions else ()
    return ReliabilityResult(
        rows=tuple(rows), rank_resolution=tuple(resolution), mwr_instability=instability,
        scenario_agreement=agreement, scenarios=tuple(results.scenarios[s] for s in shown),
        recommendations=recommend(rows, resolution, target, len(results.models), confidence_level), n_draws=n_draws,
        confidence_level=confidence_level, seed=seed, target=target,
    )


def _rank_resolution(inst: _Instantiations) -> RankResolution:
    """95th percentile, over draws and models, of |rank on the sample - rank on all items|."""
    ref_ranks = competition_ranks(inst.reference)
    moves = np.abs(competition_ranks(inst.draws) - ref_ranks)
    return RankResolution(inst.level, int(np.quantile(moves, 0.95, method="inverted_cdf")), inst.compute_fraction)


def agreement_scenarios(sizes: np.ndarray, limit: int = AGREEMENT_SCENARIOS) -> np.ndarray:
    """Return the positions, in board order, of the scenarios whose agreement is shown: every one on a board of
    up to `limit` scenarios, else the `limit` with the most items (`sizes`; the first on the board among equals)."""
    if len(sizes) <= limit:
        return np.arange(len(sizes))
    return np.sort(np.argsort(-np.asarray(sizes), kind="stable")[:limit])


def scenario_agreement(scenario_scores: np.ndarray) -> np.ndarray:
    """Return the ``(S, S)`` Kendall tau between every two scenarios' scores, over models with both."""
    return np.stack([kendall_tau(row, scenario_scores) for row in scenario_scores])


def mwr_instability(results: ResultsMatrix, *, max_removals: int = MWR_REMOVALS,
                    rng: int | np.random.Generator = 0) -> tuple[MwrInstability, ...]:
    """Remove each model in turn and list the other models whose mean-win-rate order changes.

    A model "changes" when its order relative to some other remaining model flips against the
    ranking with every model on the board. Means do not depend on the other models, so under the
    macro mean this list would always be empty. A board of more than `max_removals` models removes
    a random sample of `max_removals` of them (drawn with `rng`, listed in board order), so that the
    work and the stored lists grow linearly with the number of models.

    Removing r takes r's win away from the models above it in each scenario and one opponent from
    every model, so each removal costs ``n_scenarios x n_models`` plus one sort, and whether a model
    changes is read off the board order with running maxima and minima instead of comparing every
    pair: a model flips against some other one exactly when a model ranked below it (with every model)
    now has a win rate at least its own, one ranked above now has at most its own, or one tied with it
    no longer is. A model without a win rate makes every order undefined: then every model changes,
    as the pairwise comparison would say.
    """
    scenario_scores = results.canonical_scenario_means()
    n_models = len(results.models)
    has = ~np.isnan(scenario_scores)
    filled = np.where(has, scenario_scores, -np.inf)
    wins = _strict_wins(filled, has)
    count = has.sum(axis=-1, keepdims=True)
    full = mean_of_ratios(wins, np.where(has & (count > 1), count - 1, 0))
    if n_models > max_removals:
        removed = np.sort(np.random.default_rng(rng).choice(n_models, max_removals, replace=False))
    else:
        removed = np.arange(n_models)
    leader_pair = np.argsort(-full, kind="stable")[:2]
    order = np.argsort(full, kind="stable")
    sorted_full = full[order]
    starts = np.flatnonzero(np.r_[True, sorted_full[1:] != sorted_full[:-1]])
    group = np.cumsum(np.r_[True, sorted_full[1:] != sorted_full[:-1]]) - 1
    ends = np.r_[starts[1:], n_models] - 1
    out = []
    block = max(1, (1 << 22) // max(1, scenario_scores.size))
    for first in range(0, len(removed), block):
        chunk = removed[first:first + block]
        gone = np.zeros((len(chunk), n_models), dtype=bool)
        gone[np.arange(len(chunk)), chunk] = True
        beaten = has.T[chunk][:, :, None] & (filled.T[chunk][:, :, None] < filled[None])  # (R, S, M): beat r
        remaining = has[None] & ~gone[:, None, :]
        others = (count - 1)[None] - has.T[chunk][:, :, None]
        rate = mean_of_ratios(wins[None] - beaten, np.where(remaining & (others > 0), others, 0))
        rate[gone] = np.nan
        kept = ~gone[:, order]
        after = rate[:, order]
        high = np.where(kept, after, -np.inf)
        low = np.where(kept, after, np.inf)
        below_max = np.maximum.accumulate(high, axis=1)
        above_min = np.minimum.accumulate(low[:, ::-1], axis=1)[:, ::-1]
        below = np.where(starts[group] > 0, below_max[:, np.maximum(starts[group] - 1, 0)], -np.inf)
        above = np.where(ends[group] < n_models - 1, above_min[:, np.minimum(ends[group] + 1, n_models - 1)], np.inf)
        split = (np.maximum.reduceat(high, starts, axis=1) != np.minimum.reduceat(low, starts, axis=1))[:, group]
        undefined = ((np.isnan(after) | np.isnan(sorted_full)) & kept).any(axis=1, keepdims=True)
        changed_sorted = kept & (undefined | (below >= after) | (above <= after) | split)
        changed = np.zeros_like(changed_sorted)
        changed[:, order] = changed_sorted
        before_sign = np.sign(full[leader_pair[0]] - full[leader_pair[1]]) if n_models > 1 else 0.0
        for i, r in enumerate(chunk):
            top_swapped = False
            if n_models > 1 and r not in leader_pair:
                after_sign = np.sign(rate[i, leader_pair[0]] - rate[i, leader_pair[1]])
                top_swapped = bool(before_sign != after_sign)
            out.append(MwrInstability(results.models[r], tuple(results.models[m] for m in np.flatnonzero(changed[i])),
                                      top_swapped))
    return tuple(out)


def disagreements(intervals: RankIntervals, results: ResultsMatrix | None = None,
                  confidence_level: float | None = None, *,
                  neighbours: int = DISAGREEMENT_NEIGHBOURS) -> tuple[Disagreement, ...]:
    """Return pairs of models whose overall scores are within noise (the paired bootstrap interval
    of their difference holds 0) although each is clearly better in some scenario (the interval of
    that scenario's difference excludes 0) - the warning against averaging disagreement away.

    The per-scenario intervals are Bonferroni-corrected over the scenarios (level 1 - alpha/S), so
    that two models alike in every scenario are flagged with probability at most alpha, however
    many scenarios there are. With `results` (the per-item results ranked), a scenario counts only when
    the sign-flip test of the pair's differences there also rejects, Holm-adjusted over the scenarios
    (`effbench.paired`): an interval alone excludes 0 when every differing item goes one way, however
    few they are. Only pairs whose rank intervals overlap are examined (others are not
    within noise), each model with the next `neighbours` models on the board (so every pair on a
    board of up to ``neighbours + 1`` models; on larger boards the pairs within noise grow with the
    square of the models, and the nearest are the ones a reader compares), and with one scenario
    there is nothing to examine. The pairs are examined in blocks, each statistic computed for the
    whole block at once.
    """
    level = intervals.confidence_level if confidence_level is None else confidence_level
    if not intervals.has_intervals or len(intervals.scenarios) < 2:
        return ()  # with one scenario no model can be better in one scenario and worse in another
    tail = (1 - level) / 2
    scenario_tail = tail / len(intervals.scenarios)
    boot, boot_scen = intervals.resampled_scores, intervals.resampled_scenario_scores
    out = []
    block = max(1, (1 << 22) // max(1, boot_scen.shape[0] * boot_scen.shape[1]))
    for first, second in _overlapping_pairs(intervals, block, neighbours):
        lo, hi = percentile_interval(boot[:, first] - boot[:, second], tail)
        tied = (lo <= 0) & (hi >= 0)
        if not tied.any():
            continue
        first, second = first[tied], second[tied]
        scen_lo, scen_hi = percentile_interval(boot_scen[:, :, first] - boot_scen[:, :, second],  # (S, P)
                                               scenario_tail)
        a_better, b_better = scen_lo > 0, scen_hi < 0
        if results is not None:
            for p in np.flatnonzero(a_better.any(axis=0) & b_better.any(axis=0)):
                tested = holm(scenario_p_values(results, int(first[p]), np.array([second[p]]))[:, 0]) < 1 - level
                a_better[:, p] &= tested
                b_better[:, p] &= tested
        for p in np.flatnonzero(a_better.any(axis=0) & b_better.any(axis=0)):
            out.append(Disagreement(
                intervals.models[first[p]], intervals.models[second[p]],
                tuple(s for s, v in zip(intervals.scenarios, a_better[:, p], strict=True) if v),
                tuple(s for s, v in zip(intervals.scenarios, b_better[:, p], strict=True) if v)))
    return tuple(out)


def _overlapping_pairs(intervals: RankIntervals, block: int, neighbours: int
                       ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield the pairs (a, b) with b among the `neighbours` models after a in board order whose rank
    intervals overlap (b's best rank is not below a's worst), as arrays of at most `block` pairs, in
    board order.

    The pairs are found a block of rows at a time from the sorted board, so no list of every pair is
    ever built: memory stays linear in the number of models."""
    order = np.argsort(intervals.rank, kind="stable")
    best, worst = intervals.rank_lo[order], intervals.rank_hi[order]
    n_models = order.size
    rows = max(1, min(n_models, (1 << 22) // max(1, n_models)))
    pending_a, pending_b, pending = [], [], 0
    for x0 in range(0, n_models, rows):
        x1 = min(n_models, x0 + rows)
        distance = np.arange(n_models)[None, :] - np.arange(x0, x1)[:, None]
        overlap = (distance > 0) & (distance <= neighbours) & ~(best[None, :] > worst[x0:x1, None])
        a, b = np.nonzero(overlap)
        pending_a.append(order[a + x0])
        pending_b.append(order[b])
        pending += a.size
        while pending >= block or (x1 == n_models and pending):
            first, second = np.concatenate(pending_a), np.concatenate(pending_b)
            yield first[:block], second[:block]
            pending_a, pending_b, pending = [first[block:]], [second[block:]], first.size - min(block, first.size)
def below(value: float, target: float) -> str:
    """Return `value` (below `target`) with two decimals, or as many more as it takes (up to six) for the
    printed figure to be below the target too: 0.8994 against 0.90 prints 0.899, not 0.90."""
    digits = 2
    while digits < 6 and round(value, digits) >= target:
        digits += 1
    return f"{value:.{digits}f}"


def recommend(rows: Sequence[DiorRow], resolution: Sequence[RankResolution], target: float,
              n_models: int, confidence_level: float) -> tuple[str, ...]:
    """Return plain-words advice from the curves: how few examples suffice, what is unreliable now,
    and whether scenarios or items buy more reliability per evaluation. Two models are one comparison,
    told in shares of draws that keep their order (see `_recommend_pair`)."""
    if n_models == 2:
        return _recommend_pair(rows, confidence_level)
    advice = []
    tau = {(r.decision, r.level, r.aggregation): r for r in rows if r.meta_metric == "kendall_tau"}
    examples = [r for r in rows if r.decision == "examples" and r.meta_metric == "kendall_tau"]
    reaching = [r for r in examples if r.dior >= target and r.level != "all"]
    if reaching:
        best = min(reaching, key=lambda r: r.compute_fraction)
        advice.append(
            f"{best.level} examples per scenario keep the ranking at Kendall-tau DIoR {best.dior:.2f} "
            f"(target {target:.2f}) with {best.compute_fraction:.1%} of the evaluations: "
            f"x{1 / best.compute_fraction:.0f} less compute."
        )
    elif examples:
        advice.append(f"No reduced number of examples per scenario reaches Kendall-tau DIoR {target:.2f}: "
                      "every example counts for this ranking; adding examples would make it more reliable.")
    tops = [r for r in rows if r.decision == "examples" and r.meta_metric == "top1" and r.level != "all"]
    reliable_top = [r for r in tops if r.mean >= 0.95]
    if reliable_top:
        best = min(reliable_top, key=lambda r: r.compute_fraction)
        advice.append(f"The leader is the same in {best.mean:.0%} of draws from {best.level} examples per scenario.")
    unreliable = []
    scenarios = [r for r in rows if r.decision == "scenarios" and r.meta_metric == "kendall_tau"]
    if scenarios:
        full = max(scenarios, key=lambda r: int(r.level))
        if full.dior < target:
            unreliable.append(f"the choice of scenarios (DIoR {below(full.dior, target)} when the {full.level} "
                              "scenarios are drawn again with replacement)")
    aggregations = [f"{how} gives Kendall tau {below(row.dior, target)}" for how in AGGREGATIONS
                    if (row := tau.get(("aggregation", how, how))) is not None and row.dior < target]
    if aggregations:
        unreliable.append(f"the aggregation ({'; '.join(aggregations)}, against the macro mean)")
    mwr = tau.get(("models", "1", "mean win rate"))
    if mwr is not None and mwr.dior < target:
        unreliable.append(f"the set of models under mean win rate (dropping one model: DIoR "
                          f"{below(mwr.dior, target)}); the macro mean does not depend on the other models")
    if unreliable:
        advice.append("Unreliable at the current design: " + "; ".join(unreliable) + ".")
    elif scenarios or tau:
        advice.append(f"At the current design no analysed decision (scenarios drawn again, another aggregation, "
                      f"other models on the board) brings the Kendall-tau DIoR below {target:.2f}.")
    allocation = [r for r in rows if r.decision == "allocation" and r.meta_metric == "kendall_tau"]
    budgets = sorted({r.level.split(":")[0] for r in allocation}, key=lambda b: int(b.split()[0]))
    for budget in budgets:
        options = [r for r in allocation if r.level.startswith(budget + ":")]
        best = max(options, key=lambda r: (r.mean, -r.order))
        many = max(options, key=lambda r: r.order)
        verdict = ("spreading it over more scenarios buys more reliability than more items per scenario"
                   if best is many else "the best split is " + best.level.split(": ")[1])
        advice.append(f"At {budget} per model, {verdict} (mean Kendall tau {best.mean:.2f}).")
    return tuple(advice)


def _recommend_pair(rows: Sequence[DiorRow], confidence_level: float) -> tuple[str, ...]:
    """Return the advice for a board of two models. Their ranking is one comparison: Kendall's tau of a
    draw is 1 or -1, so a mean tau reads as nothing, and a Kendall-tau DIoR above -1 (any target) says
    that the order is kept in all but the lower tail of the draws. The share of draws in which the
    leader stays the leader (`top1`, ties counted as a coin flip) is the number to give, against that
    same bar: 1 - (1 - confidence_level) / 2 of the draws."""
    keep = 1 - (1 - confidence_level) / 2
    share = {(r.decision, r.level, r.aggregation): r for r in rows if r.meta_metric == "top1"}
    bar = (f"at least {keep:.1%} is reliable: for one pair, that is what a Kendall-tau DIoR above -1 at the "
           f"{confidence_level:.0%} level means")
    examples = sorted((r for r in share.values() if r.decision == "examples" and r.level != "all"),
                      key=lambda r: r.compute_fraction)
    reaching = [r for r in examples if r.mean >= keep]
    if reaching:
        best = reaching[0]
        advice = [f"With two models the ranking is one comparison: {best.level} examples per scenario keep its order "
                  f"in {best.mean:.1%} of draws ({bar}), with {best.compute_fraction:.1%} of the evaluations: "
                  f"x{1 / best.compute_fraction:.0f} less compute."]
    elif examples:
        advice = [f"With two models the ranking is one comparison: even {examples[-1].level} examples per scenario "
                  f"keep its order in only {examples[-1].mean:.1%} of draws ({bar}): every example counts for it."]
    else:
        advice = [f"With two models the ranking is one comparison, told here as the share of draws that keep its "
                  f"order ({bar})."]
    unreliable = []
    scenarios = [r for r in share.values() if r.decision == "scenarios"]
    if scenarios:
        full = max(scenarios, key=lambda r: int(r.level))
        if full.mean < keep:
            unreliable.append(f"the choice of scenarios (drawn again with replacement, the {full.level} scenarios "
                              f"keep the order in {full.mean:.1%} of draws)")
    flips = [how for how in AGGREGATIONS if (r := share.get(("aggregation", how, how))) is not None and r.mean < keep]
    if flips:
        unreliable.append(f"the aggregation: under {' and '.join(flips)} the same model no longer leads alone")
    if unreliable:
        advice.append("Unreliable at the current design: " + "; ".join(unreliable) + ".")
    elif scenarios:
        advice.append("At the current design neither drawing the scenarios again nor another aggregation changes "
                      f"the order in more than {1 - keep:.1%} of draws.")
    return tuple(advice)


def _validate(decisions, metrics, n_draws, confidence_level, target, rng) -> None:
    unknown = sorted(set(decisions) - set(DECISIONS))
    if unknown:
        raise ValueError(f"`decisions` must be among {', '.join(DECISIONS)}; unknown: {', '.join(unknown)}")
    unknown = sorted(set(metrics) - set(META_METRICS))
    if unknown:
        raise ValueError(f"`metrics` must be among {', '.join(META_METRICS)}; unknown: {', '.join(unknown)}")
    if isinstance(n_draws, bool) or not isinstance(n_draws, int | np.integer) or n_draws < 2:
        raise ValueError(f"`n_draws` must be an integer >= 2, got {n_draws!r}")
    if not 0 < confidence_level < 1:
        raise ValueError(f"`confidence_level` must be in (0, 1), got {confidence_level!r}")
    if not -1 <= target <= 1:
        raise ValueError(f"`target` must be in [-1, 1], got {target!r}")
    if not isinstance(rng, int | np.integer | np.random.Generator) or isinstance(rng, bool):
        raise TypeError(f"`rng` must be an int seed or a numpy Generator, got {type(rng).__name__}")
