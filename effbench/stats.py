"""Ranking statistics on results matrices: scores, ranks and paired-bootstrap intervals.

Pure numpy/scipy (and pandas.unique) on arrays; nothing here reads files or the database.

Conventions
-----------
- A model's score in a scenario is the mean of its item scores, over the items it was evaluated on
  (missing results are left out, never counted as 0).
- A model's overall score is the mean of its scenario scores ("macro" mean: every scenario weighs the
  same, however many items it has). A model without a result in some scenario ("partial") counts that
  scenario at the lowest score any model has there, so a skipped scenario never raises a score: a
  partial model never outranks a model that is at least as good on every scenario they share.
- Point scores and ranks are computed in exact rational arithmetic over the item scores, so equal
  sums of discrete scores (0/1 accuracy, pass@1 in tenths) are exact ties, never split by rounding.
- Rank 1 is best. Tied models share the best rank of their group (competition ranking: 1, 2, 2, 4).
  A model with no score ranks below every model with one.
- Rank intervals come from the intervals of the paired differences to every other model: a model's
  best rank is 1 + the number of models clearly better than it, its worst rank the number of models
  not clearly worse than it (itself included). Exact or near ties therefore widen the interval.
"""

from __future__ import annotations

import hashlib
import math
import warnings
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

# Cap on the entries of one resample-weights block (resamples x items), so memory stays bounded
# for scenarios with very many items; blocks depend only on the data's shape, so results do not.
_MAX_WEIGHT_ENTRIES = 1 << 24
# Values of one block of model pairs x resamples in `difference_rank_intervals` (about 8 MB).
_PAIR_BLOCK_ENTRIES = 1 << 20
RANK_METHODS = ("marginal", "simultaneous")
RANK_BINS = 50  # most bins of a model's stored rank distribution
# A scenario with fewer items than this share of the median scenario's weighs each of its items over
# ten times as much as a typical scenario does under the macro mean.
TINY_SCENARIO_SHARE = 0.1
# Largest denominator tried when looking for a common unit of the item scores (0.1 for pass@1 of 10).
_MAX_SCORE_UNIT = 1000
# Entries of one block of `mean_of_ratios`: its temporaries stay in the processor's cache.
_RATIO_BLOCK_ENTRIES = 1 << 16


@dataclass(frozen=True)
class ResultsMatrix:
    """Per-item results of several models, one matrix per scenario.

    Attributes
    ----------
    models, scenarios : tuple of str
        Names, in the order of the matrices' columns and of `scores`.
    scores : tuple of ndarray
        One ``(n_items, n_models)`` float array per scenario; NaN = not evaluated.
    resampled : tuple of bool
        False for a scenario known only by one score per model (a wide table): it is one "item"
        that the bootstrap holds fixed.
    item_ids : tuple of tuple of str, optional
        The id of each row of each scenario's matrix, where known.
    lower_is_better : tuple of bool, optional
        Per scenario, whether its scores were negated on the way in (error rates, latency): its scale
        then ends at 0 from below, and the bootstrap's pseudo-items sit at its own ends.
    """

    models: tuple[str, ...]
    scenarios: tuple[str, ...]
    scores: tuple[np.ndarray, ...]
    resampled: tuple[bool, ...]
    item_ids: tuple[tuple[str, ...], ...] = ()  # per scenario, the id of each row (optional)
    lower_is_better: tuple[bool, ...] = ()  # per scenario, whether its scores are negated (optional)

    def __post_init__(self) -> None:
        if not (len(self.scenarios) == len(self.scores) == len(self.resampled)):
            raise ValueError("`scenarios`, `scores` and `resampled` must have one entry per scenario")
        if self.lower_is_better and len(self.lower_is_better) != len(self.scenarios):
            raise ValueError("`lower_is_better` must be empty or have one entry per scenario")
        for name, matrix in zip(self.scenarios, self.scores, strict=True):
            if matrix.ndim != 2 or matrix.shape[1] != len(self.models) or matrix.shape[0] == 0:
                raise ValueError(
                    f"`scores` of scenario {name!r} must be (n_items >= 1, {len(self.models)}), "
                    f"got {matrix.shape}"
                )

    def without(self, model: str) -> ResultsMatrix:
        """Return these results without `model`."""
        keep = [i for i, m in enumerate(self.models) if m != model]
        return ResultsMatrix(tuple(self.models[i] for i in keep), self.scenarios,
                             tuple(m[:, keep] for m in self.scores), self.resampled, self.item_ids,
                             self.lower_is_better)

    def scenario_subset(self, keep: list[int]) -> ResultsMatrix:
        """Return these results on the scenarios at indices `keep` only, in that order."""
        def pick(values: tuple) -> tuple:
            return tuple(values[i] for i in keep) if values else ()
        return ResultsMatrix(self.models, pick(self.scenarios), pick(self.scores), pick(self.resampled),
                             pick(self.item_ids), pick(self.lower_is_better))

    def negated(self, scenario: int) -> bool:
        """Return whether scenario index `scenario` holds negated (lower-is-better) scores."""
        return bool(self.lower_is_better[scenario]) if self.lower_is_better else False

    def scenario_means(self) -> np.ndarray:
        """Return the ``(n_scenarios, n_models)`` mean scores; NaN where a model has no item."""
        return np.stack([nanmean(matrix, axis=0) for matrix in self.scores])

    def items_scored(self) -> np.ndarray:
        """Return the ``(n_scenarios, n_models)`` number of items each model has a score on."""
        return np.stack([np.sum(~np.isnan(matrix), axis=0) for matrix in self.scores])

    def exact_sums(self) -> list[list[tuple[Fraction, int] | None]]:
        """Return ``[scenario][model]`` (exact sum of the item scores, items scored); None where a model
        has no item.

        Scores that are all whole multiples of one unit 1/L (L <= 1000: 0/1, halves, tenths) are
        summed as integers; other scores by an exactly rounded sum (`math.fsum`), which does not
        depend on the order of the items. Computed once per results object (the matrices are not
        changed after construction), since the ranking and each aggregation ask for them.
        """
        cached = self.__dict__.get("_exact_sums")
        if cached is None:
            cached = self._exact_sums()
            object.__setattr__(self, "_exact_sums", cached)  # a cache, not a field: eq and repr ignore it
        return [list(row) for row in cached]

    def _exact_sums(self) -> list[list[tuple[Fraction, int] | None]]:
        out = []
        for matrix in self.scores:
            unit = _score_unit(matrix)
            row = []
            for column in matrix.T:
                values = column[~np.isnan(column)]
                if values.size == 0:
                    row.append(None)
                elif unit is not None:
                    row.append((Fraction(int(np.rint(values * unit).astype(np.int64).sum()), unit), values.size))
                else:
                    row.append((Fraction(math.fsum(values)), values.size))
            out.append(row)
        return out

    def exact_scenario_means(self) -> list[list[Fraction | None]]:
        """Return ``[scenario][model]`` mean scores as exact fractions (see `exact_sums`); None where a
        model has no item."""
        return [[None if cell is None else cell[0] / cell[1] for cell in row] for row in self.exact_sums()]

    def canonical_scenario_means(self) -> np.ndarray:
        """Return `scenario_means` computed exactly: equal means are equal floats, never split by rounding."""
        return np.array([_as_float(row) for row in self.exact_scenario_means()])


def _score_unit(matrix: np.ndarray) -> int | None:
    """Return the smallest L <= 1000 such that every score is a whole multiple of 1/L, else None."""
    values = np.sort(pd.unique(matrix[~np.isnan(matrix)]))
    if values.size == 0 or np.abs(values).max() * _MAX_SCORE_UNIT * matrix.shape[0] > 2**52:
        return None
    for unit in range(1, _MAX_SCORE_UNIT + 1):
        scaled = values * unit
        if np.all(np.abs(scaled - np.rint(scaled)) <= 1e-9 * np.maximum(1.0, np.abs(scaled))):
            return unit
    return None


@dataclass(frozen=True)
class RankIntervals:
    """Result of `rank_intervals`: point estimates on all data and their intervals.

    Arrays indexed by model have shape ``(n_models,)``; by scenario and model ``(n_scenarios,
    n_models)``. ``*_lo``/``*_hi`` are NaN when no scenario has items to resample
    (`has_intervals` is False), and scenario-level values are NaN where a model has no result.
    `resampled_scores` and `resampled_ranks` are the raw ``(n_resamples, n_models)`` bootstrap
    distribution of the overall score and rank; `resampled_scenario_scores` is
    ``(n_resamples, n_scenarios, n_models)``. `partial` marks models without a result in some
    scenario (`missing_scenarios` of them), counted there at the lowest score on the board.
    ``micro_*`` rank the models with every item weighing the same (scenario means weighted by the
    scenarios' numbers of items). `scenario_items` is each scenario's number of items,
    `scenario_variance_share` its median share (over models) of the bootstrap variance of the
    overall score, and `tiny_scenarios` marks scenarios too small to weigh like the others.
    `rank_method` says which rank intervals these are: ``marginal`` (each model's interval holds
    its rank with `confidence_level`) or ``simultaneous`` (all models' intervals at once).
    """

    models: tuple[str, ...]
    scenarios: tuple[str, ...]
    score: np.ndarray
    score_lo: np.ndarray
    score_hi: np.ndarray
    rank: np.ndarray
    rank_lo: np.ndarray
    rank_hi: np.ndarray
    scenario_score: np.ndarray
    scenario_score_lo: np.ndarray
    scenario_score_hi: np.ndarray
    scenario_rank: np.ndarray
    scenario_rank_lo: np.ndarray
    scenario_rank_hi: np.ndarray
    items_scored: np.ndarray
    resampled_scores: np.ndarray
    resampled_ranks: np.ndarray
    resampled_scenario_scores: np.ndarray
    has_intervals: bool
    n_resamples: int
    confidence_level: float
    seed: int | None
    rank_method: str = "marginal"
    partial: np.ndarray | None = None
    missing_scenarios: np.ndarray | None = None
    micro_score: np.ndarray | None = None
    micro_score_lo: np.ndarray | None = None
    micro_score_hi: np.ndarray | None = None
    micro_rank: np.ndarray | None = None
    micro_rank_lo: np.ndarray | None = None
    micro_rank_hi: np.ndarray | None = None
    scenario_items: np.ndarray | None = None
    scenario_variance_share: np.ndarray | None = None
    tiny_scenarios: np.ndarray | None = None

    def rank_histogram(self, max_bins: int = RANK_BINS) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Return ``(model, first_rank, last_rank, share)`` arrays: each model's overall ranks over the
        resamples, in at most `max_bins` bins of equal width from its best resampled rank (width 1 - one
        bin per rank - when its ranks span at most `max_bins`), with the share of resamples in each;
        bins never reached are left out. Rows grow with models x `max_bins`, never models^2."""
        ranks = self.resampled_ranks
        n_resamples, n_models = ranks.shape
        best, worst = ranks.min(axis=0), ranks.max(axis=0)
        width = np.maximum(1, -(-(worst - best + 1) // max_bins))
        counts = np.bincount((np.arange(n_models) * max_bins + (ranks - best) // width).ravel(),
                             minlength=n_models * max_bins).reshape(n_models, max_bins)
        model, position = np.nonzero(counts)
        first = best[model] + position * width[model]
        return model, first, np.minimum(first + width[model] - 1, worst[model]), counts[model, position] / n_resamples

    def rank_distribution(self) -> np.ndarray:
        """Return the ``(n_models, n_models)`` share of resamples in which model i took rank j + 1."""
        n_models = len(self.models)
        counts = np.zeros((n_models, n_models + 1))
        rows = np.broadcast_to(np.arange(n_models), self.resampled_ranks.shape)
        np.add.at(counts, (rows, self.resampled_ranks), 1)
        return counts[:, 1:] / self.resampled_ranks.shape[0]


def aggregate(scenario_scores: np.ndarray) -> np.ndarray:
    """Return the mean over the scenario axis (second to last) of ``(..., n_scenarios, n_models)``
    scores, leaving out scenarios where a model has none; NaN for a model with none at all."""
    return nanmean(scenario_scores, axis=-2)


def fill_missing_scenarios(scenario_scores: np.ndarray) -> np.ndarray:
    """Return ``(..., n_scenarios, n_models)`` scores with each missing one set to the lowest score any
    model has in that scenario (so a skipped scenario never raises a model above any model that has it)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a scenario nobody has stays NaN
        lowest = np.nanmin(scenario_scores, axis=-1, keepdims=True)
    return np.where(np.isnan(scenario_scores), lowest, scenario_scores)


def competition_ranks(scores: np.ndarray) -> np.ndarray:
    """Return integer ranks along the last axis, 1 = highest score; ties share the best rank of their
    group; NaN scores rank last."""
    filled = np.where(np.isnan(scores), -np.inf, scores)
    return scipy_stats.rankdata(-filled, method="min", axis=-1).astype(np.int64)


def exact_competition_ranks(values: list[Fraction | None]) -> np.ndarray:
    """Return competition ranks (1 = highest) of exact values; None ranks last."""
    order = sorted(range(len(values)), key=lambda i: (values[i] is None, -(values[i] or 0)))
    ranks = np.empty(len(values), dtype=np.int64)
    for position, i in enumerate(order):
        if position and values[i] == values[order[position - 1]]:
            ranks[i] = ranks[order[position - 1]]
        else:
            ranks[i] = position + 1
    return ranks


def _exact_overall(scenario_means: list[list[Fraction | None]], weights: list[int] | None = None
                   ) -> list[Fraction | None]:
    """Return each model's exact weighted mean over scenarios, a missing scenario counted at the
    lowest score on the board there (`weights` None: every scenario weighs the same)."""
    lowest = [min((v for v in row if v is not None), default=None) for row in scenario_means]
    n_models = len(scenario_means[0]) if scenario_means else 0
    out = []
    for m in range(n_models):
        total, weight = Fraction(0), 0
        for s, row in enumerate(scenario_means):
            value = row[m] if row[m] is not None else lowest[s]
            if value is None:
                continue
            w = 1 if weights is None else weights[s]
            total += w * value
            weight += w
        out.append(total / weight if weight else None)
    return out


def exact_overall_scores(results: ResultsMatrix, *, micro: bool = False) -> list[Fraction | None]:
    """Return each model's exact overall score as the leaderboard computes it: the mean of its scenario
    means (`micro`: weighted by the scenarios' numbers of items), a missing scenario counted at the
    lowest score any model has there; None for a model with no score. Every analysis that ranks the
    board's models (Flash's truth and reference scores, DIoR's aggregations) uses this rule."""
    weights = [matrix.shape[0] for matrix in results.scores] if micro else None
    return _exact_overall(results.exact_scenario_means(), weights)


def overall_scores(results: ResultsMatrix, *, micro: bool = False) -> np.ndarray:
    """Return `exact_overall_scores` as floats (equal exact scores give equal floats; NaN for None)."""
    return _as_float(exact_overall_scores(results, micro=micro))


def score_unit(matrix: np.ndarray) -> int | None:
    """Return the smallest L <= 1000 such that every score of `matrix` is a whole multiple of 1/L, else None
    (then sums of its scores are not exact and ties among them are decided on floating-point sums)."""
    return _score_unit(matrix)


def mean_of_ratios(numerators: np.ndarray, denominators: np.ndarray, weights: np.ndarray | None = None
                   ) -> np.ndarray:
    """Return the weighted mean over the second-to-last axis of ``numerators / denominators``, as floats
    that are equal exactly when the rational means are equal, and ordered as they are.

    `numerators` and `denominators` are ``(..., S, M)`` whole numbers (stored as floats or ints); a
    denominator of 0 (or NaN) leaves the term out. `weights` (whole numbers, broadcastable to the same
    shape) weigh the terms; default 1. Sums of floats depend on their order, so two models whose
    rational means are equal (213 wins each) could otherwise differ in the last bit and be ordered by
    rounding. Where a common denominator fits in 52 bits the means are computed as integers over it;
    otherwise the near-equal ones (within 1e-9) are recomputed as fractions.
    """
    num = np.asarray(numerators, dtype=float)
    den = np.asarray(denominators, dtype=float)
    w = np.ones(1) if weights is None else np.asarray(weights, dtype=float)
    shape = np.broadcast_shapes(num.shape, den.shape, w.shape)
    num, den, w = (np.broadcast_to(a, shape) for a in (num, den, w))
    # Blocks along the first axis (draws) keep the temporaries small; each block's means are exact under its
    # own common denominator, so they are the same floats as under the whole array's.
    rows = max(1, _RATIO_BLOCK_ENTRIES // max(1, math.prod(shape[1:]))) if len(shape) >= 3 else 0
    blocks = [slice(i, i + rows) for i in range(0, shape[0], rows)] if rows else []
    means, common, weight_common, largest = [], 1, 1, 0.0
    for part in blocks or [slice(None)]:
        mean, part_common, part_weight, part_largest = _whole_mean_of_ratios(num[part], den[part], w[part])
        means.append(mean)
        common, weight_common = math.lcm(common, part_common), math.lcm(weight_common, part_weight)
        largest = max(largest, part_largest)
    if common * weight_common < 2**52 and (largest + 1) * common * weight_common < 2**52:  # (no float overflow)
        return means[0] if len(means) == 1 else np.concatenate(means)
    present = (den > 0) & (w > 0) & ~np.isnan(num)
    num, den_safe, w = np.where(present, num, 0.0), np.where(present, den, 1.0), np.where(present, w, 0.0)
    total_weight = w.sum(axis=-2)
    with np.errstate(invalid="ignore", divide="ignore"):
        approx = np.where(total_weight > 0, (w * num / den_safe).sum(axis=-2) / total_weight, np.nan)
    return _exact_near_ties(approx, num, den_safe, w)


def _whole_mean_of_ratios(num: np.ndarray, den: np.ndarray, w: np.ndarray
                          ) -> tuple[np.ndarray | None, int, int, float]:
    """Return `mean_of_ratios` computed over one common denominator (None when that would not be exact),
    with that denominator, the common multiple of the total weights and the largest ratio."""
    present = (den > 0) & (w > 0) & ~np.isnan(num)  # a NaN denominator is not > 0: the term is left out
    num = np.where(present, num, 0.0)
    den_safe = np.where(present, den, 1.0)
    w = np.where(present, w, 0.0)
    total_weight = w.sum(axis=-2)
    if not present.any():
        return np.full(total_weight.shape, np.nan), 1, 1, 0.0
    # Distinct values by hashing (pandas.unique), not sorting: these arrays hold draws x scenarios x models.
    # The terms left out hold a denominator of 1 and a numerator of 0, which change neither the least
    # common multiple nor the largest ratio.
    common = math.lcm(*(int(d) for d in pd.unique(den_safe.ravel())))
    weight_common = math.lcm(*(int(t) for t in pd.unique(total_weight[total_weight > 0])))
    largest = float(np.max(np.abs(num) / den_safe))
    if not (common * weight_common < 2**52 and (largest + 1) * common * weight_common < 2**52):
        return None, common, weight_common, largest
    # Every term w * num * (common / den) and every partial sum of them is a whole number below 2**52, so
    # these float sums are exact, in whatever order they are added.
    key = (w * num * (common / den_safe)).sum(axis=-2)
    per_weight = np.where(total_weight > 0, weight_common // np.maximum(total_weight, 1), 0)
    mean = np.where(total_weight > 0, key * per_weight / float(common * weight_common), np.nan)
    return mean, common, weight_common, largest


def _exact_near_ties(approx: np.ndarray, num: np.ndarray, den: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Return `approx` with every value within 1e-9 of another in its row recomputed exactly: as a
    ratio of Python integers over the least common multiple of its denominators, which true division
    rounds correctly (so equal rationals give equal floats)."""
    out = approx.copy()
    flat = out.reshape(-1, out.shape[-1])
    order = np.argsort(flat, axis=1)
    ordered = np.take_along_axis(flat, order, axis=1)
    close = np.abs(np.diff(ordered, axis=1)) <= 1e-9 * np.maximum(1.0, np.abs(ordered[:, 1:]))
    near = np.zeros(ordered.shape, dtype=bool)
    near[:, 1:] |= close
    near[:, :-1] |= close
    rows, positions = np.nonzero(near)
    if rows.size == 0:
        return out
    models = order[rows, positions]
    num2, den2, w2 = (a.reshape(-1, *a.shape[-2:]) for a in (num, den, w))
    terms_num = np.rint(num2[rows, :, models]).astype(np.int64).tolist()  # (entries, S)
    terms_den = np.rint(den2[rows, :, models]).astype(np.int64).tolist()
    terms_w = np.rint(w2[rows, :, models]).astype(np.int64).tolist()
    for row, m, nums, dens, weights in zip(rows, models, terms_num, terms_den, terms_w, strict=True):
        kept = [(a, b, c) for a, b, c in zip(nums, dens, weights, strict=True) if c > 0]
        common = math.lcm(*(b for _, b, _ in kept))
        total = sum(c * a * (common // b) for a, b, c in kept)
        flat[row, m] = total / (common * sum(c for _, _, c in kept))
    return out


def _as_float(values: list[Fraction | None]) -> np.ndarray:
    return np.array([np.nan if v is None else float(v) for v in values])


def rank_intervals(
    results: ResultsMatrix,
    *,
    n_resamples: int = 1000,
    confidence_level: float = 0.95,
    rank_method: str = "marginal",
    rng: int | np.random.Generator = 0,
    with_rank_intervals: bool = True,
) -> RankIntervals:
    """Return each model's rank and score with paired Bayesian-bootstrap intervals.

    Within each scenario, every resample weighs the items with Dirichlet(1, ..., 1) weights and adds
    two pseudo-items scoring the ends of the score range (0 and 1) with weight 1/2 each: Rubin's
    Bayesian bootstrap with a Jeffreys prior, so for 0/1 scores a scenario's interval is the Jeffreys
    interval (never of zero width when a model got every item right), and every item of a model keeps
    some weight in every resample. The same weights serve every model (a paired bootstrap: models are
    compared on the same questions). Score intervals, of a scenario and overall, take their lower bound
    from resamples with one pseudo-item at the bottom of each scenario's scale and their upper bound
    from resamples with one at the top (`_end_interval`; Clopper-Pearson's bounds for 0/1 scores in
    one scenario), so that many small scenarios near 0 or 1 do not add up to a bias. Every interval
    is widened where needed to hold the point estimate, and stays within the scale: a lower-is-better
    scenario's scale ends at 0 errors (`scale_ends`).

    Rank intervals come from paired differences: model k is *clearly better* than model j when the
    studentised bootstrap interval of their score difference lies above 0. A model's best rank is 1
    + the number of models clearly better, its worst the number not clearly worse. With
    ``rank_method="marginal"`` the critical value covers a model's comparisons with all others at
    once (each model's interval holds its rank with `confidence_level`); with ``"simultaneous"`` it
    covers all pairs (every model's interval at once), as in Mogstad, Romano, Shaikh & Wilhelm,
    "Inference for Ranks with Applications to Mobility across Neighbourhoods and Academic
    Achievement across Countries" (Review of Economic Studies, 2024).

    Parameters
    ----------
    results : ResultsMatrix
        The per-item results.
    n_resamples : int, default 1000
        Number of bootstrap resamples.
    confidence_level : float, default 0.95
        Coverage of the intervals, in (0, 1).
    rank_method : {"marginal", "simultaneous"}, default "marginal"
        Whether each rank interval covers on its own or all of them together.
    rng : int or numpy.random.Generator, default 0
        Seed or generator; an int is recorded as the analysis's seed.
    with_rank_intervals : bool, default True
        False leaves the rank intervals NaN, for callers that need only the scores and their paired
        resamples: the intervals cost resamples x models^2 (see `difference_rank_intervals`).

    Returns
    -------
    RankIntervals
    """
    _validate(results, n_resamples, confidence_level, rank_method, rng)
    seed = int(rng) if isinstance(rng, int | np.integer) else None
    generator = np.random.default_rng(rng)
    n_models = len(results.models)

    exact_scenario = results.exact_scenario_means()
    scenario_score = np.array([_as_float(row) for row in exact_scenario])
    no_result = np.isnan(scenario_score)
    exact_score = _exact_overall(exact_scenario)
    score = _as_float(exact_score)
    rank = exact_competition_ranks(exact_score)
    sizes = [matrix.shape[0] for matrix in results.scores]
    exact_micro = _exact_overall(exact_scenario, sizes)
    micro_score = _as_float(exact_micro)
    micro_rank = exact_competition_ranks(exact_micro)
    scenario_rank = np.where(no_result, np.nan, [exact_competition_ranks(row) for row in exact_scenario])
    partial = no_result.any(axis=0) & ~np.isnan(score)

    weights = np.asarray(sizes, dtype=float)
    tail = (1 - confidence_level) / 2
    drawn, ends = [], np.zeros((2, 2, n_resamples, n_models))  # [macro, micro][low end, high end]
    scenario_ends = np.zeros((2, len(sizes), n_models))
    # The end pseudo-items' weights come from a stream of their own, so the resamples that give the
    # ranks are the same draws as without them.
    ends_rng = generator.spawn(1)[0]
    for s, (matrix, resampled) in enumerate(zip(results.scores, results.resampled, strict=True)):
        if resampled:
            central, low_end, high_end = _resampled_means(matrix, n_resamples, generator,
                                                          negated=results.negated(s), ends=ends_rng)
        else:
            central = low_end = high_end = np.broadcast_to(nanmean(matrix, axis=0), (n_resamples, matrix.shape[1]))
        drawn.append(central)
        scenario_ends[0, s], _ = percentile_interval(low_end, tail, "linear")
        _, scenario_ends[1, s] = percentile_interval(high_end, tail, "linear")
        for side, end in enumerate((low_end, high_end)):
            filled = fill_missing_scenarios(end[:, None, :])[:, 0]
            ends[0, side] += filled
            ends[1, side] += weights[s] * filled
    boot_scenario = np.stack(drawn, axis=1)  # (n_resamples, n_scenarios, n_models)
    del drawn
    boot_filled = fill_missing_scenarios(boot_scenario)
    boot_score = nanmean(boot_filled, axis=1)
    has = ~np.isnan(boot_filled)
    if len(set(sizes)) == 1:  # equal weights: the micro mean is the macro mean, resample by resample
        boot_micro = boot_score
    else:
        with np.errstate(invalid="ignore", divide="ignore"):
            boot_micro = ((np.where(has, boot_filled, 0.0) * weights[:, None]).sum(axis=1)
                          / (has * weights[:, None]).sum(axis=1))
    boot_rank = competition_ranks(boot_score)

    has_intervals = any(results.resampled)
    no_score = np.isnan(score)
    ends[0] /= len(sizes)
    ends[1] /= weights.sum()
    ends[:, :, :, no_score] = np.nan
    score_lo, score_hi = _end_interval(ends[0], score, tail)
    micro_lo, micro_hi = _end_interval(ends[1], micro_score, tail)
    del ends
    scen_lo, scen_hi = np.fmin(scenario_ends[0], scenario_score), np.fmax(scenario_ends[1], scenario_score)
    # Found by a digest of their bytes, then compared: a board of thousands of scenarios compares each with
    # the few of equal digest, not with every one before it.
    computed: dict[bytes, list[tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]]] = {}

    def intervals_of(point: np.ndarray, boot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # With one scenario (or equal-sized ones giving equal means) the overall, micro and scenario
        # rankings are the same numbers: compute their intervals once.
        if not (has_intervals and with_rank_intervals):
            return np.full(point.shape, np.nan), np.full(point.shape, np.nan)
        digest = hashlib.blake2b(np.ascontiguousarray(point).tobytes() + np.ascontiguousarray(boot).tobytes()).digest()
        for seen_point, seen_boot, result in computed.get(digest, ()):
            if np.array_equal(seen_point, point, equal_nan=True) and np.array_equal(seen_boot, boot, equal_nan=True):
                return result
        result = difference_rank_intervals(point, boot, confidence_level=confidence_level, method=rank_method)
        computed.setdefault(digest, []).append((point, boot, result))
        return result

    rank_lo, rank_hi = intervals_of(score, boot_score)
    micro_rank_lo, micro_rank_hi = intervals_of(micro_score, boot_micro)
    scen_rank_lo, scen_rank_hi = np.full(scenario_score.shape, np.nan), np.full(scenario_score.shape, np.nan)
    for s in range(len(results.scenarios)):
        scen_rank_lo[s], scen_rank_hi[s] = intervals_of(scenario_score[s], boot_scenario[:, s])
    variance_share = _variance_share(boot_scenario, results.resampled)
    resampled_sizes = [n for n, r in zip(sizes, results.resampled, strict=True) if r]
    median_size = float(np.median(resampled_sizes)) if resampled_sizes else 0.0
    tiny = np.array([bool(r) and n < TINY_SCENARIO_SHARE * median_size
                     for n, r in zip(sizes, results.resampled, strict=True)])
    if not has_intervals:
        nothing = np.full(n_models, np.nan)
        score_lo = score_hi = rank_lo = rank_hi = micro_lo = micro_hi = micro_rank_lo = micro_rank_hi = nothing
        scen_lo = scen_hi = scen_rank_lo = scen_rank_hi = np.full(scenario_score.shape, np.nan)

    return RankIntervals(
        models=results.models,
        scenarios=results.scenarios,
        score=score,
        score_lo=score_lo,
        score_hi=score_hi,
        rank=rank,
        rank_lo=rank_lo,
        rank_hi=rank_hi,
        scenario_score=scenario_score,
        scenario_score_lo=scen_lo,
        scenario_score_hi=scen_hi,
        scenario_rank=scenario_rank,
        scenario_rank_lo=scen_rank_lo,
        scenario_rank_hi=scen_rank_hi,
        items_scored=results.items_scored(),
        resampled_scores=boot_score,
        resampled_ranks=boot_rank,
        resampled_scenario_scores=boot_scenario,
        has_intervals=has_intervals,
        n_resamples=n_resamples,
        confidence_level=confidence_level,
        seed=seed,
        rank_method=rank_method,
        partial=partial,
        missing_scenarios=no_result.sum(axis=0),
        micro_score=micro_score,
        micro_score_lo=micro_lo,
        micro_score_hi=micro_hi,
        micro_rank=micro_rank,
        micro_rank_lo=micro_rank_lo,
        micro_rank_hi=micro_rank_hi,
        scenario_items=np.asarray(sizes),
        scenario_variance_share=variance_share,
        tiny_scenarios=tiny,
    )


def difference_rank_intervals(
    score: np.ndarray,
    resampled: np.ndarray,
    *,
    confidence_level: float = 0.95,
    method: str = "marginal",
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(rank_lo, rank_hi)`` of each model from paired differences of its score to the others'.

    `score` is ``(n_models,)``, `resampled` the ``(n_resamples, n_models)`` bootstrap scores (NaN =
    no score; such models get NaN bounds and stay out of the others' counts). Model k is clearly
    better than j when ``score[k] - score[j] > c * se``, with se the bootstrap standard deviation of
    the difference and c the `confidence_level` quantile of the largest studentised deviation over
    j's comparisons (``marginal``) or over all pairs (``simultaneous``). Pairs whose difference never
    varies (both fixed, or identical everywhere) are decided by their point difference alone.

    Every pair enters the critical values: a studentised deviation is about standard normal however
    far apart two models' scores are, so the largest one over j's comparisons can come from any of
    them, and leaving any pair out could lower c and narrow an interval. The work is therefore
    ``n_resamples x n_models^2 / 2`` (each pair once, in blocks; about 15 s at 4,000 models and
    1,000 resamples on one core), while memory stays ``O(n_models^2 + n_resamples x n_models)``.
    """
    n_models = score.shape[0]
    lo, hi = np.full(n_models, np.nan), np.full(n_models, np.nan)
    valid = np.flatnonzero(~np.isnan(score) & ~np.isnan(resampled).any(axis=0))
    if valid.size == 0:
        return lo, hi
    point, boot = score[valid], resampled[:, valid]
    n = valid.size
    # Var(b_j - b_k) = Var b_j + Var b_k - 2 Cov(b_j, b_k): one matrix product instead of n^2 columns.
    deviation = boot - boot.mean(axis=0)
    covariance = deviation.T @ deviation / boot.shape[0]
    variance = np.diag(covariance).copy()
    se = np.sqrt(np.maximum(variance[:, None] + variance[None, :] - 2 * covariance, 0.0))
    se[se <= 1e-12 * np.maximum(1.0, np.abs(point[:, None] - point[None, :]))] = 0.0  # rounding, not noise
    del deviation, covariance
    inverse_se = np.divide(1.0, se, out=np.zeros_like(se), where=se > 0)  # a difference that never varies
    shift = boot - point  # studentised deviation of pair (j, k): |shift_j - shift_k| / se_jk
    row_max = _largest_studentised_deviation(shift, inverse_se)
    if method == "simultaneous":
        critical = np.full(n, np.quantile(row_max.max(axis=1), confidence_level))
    else:
        critical = np.quantile(row_max, confidence_level, axis=0)
    # Counted in blocks of rows: a pair's own diagonal never counts (0 > c * 0 is false).
    rows = max(1, _PAIR_BLOCK_ENTRIES // n)
    for j0 in range(0, n, rows):
        j1 = min(n, j0 + rows)
        gap = point[None, :] - point[j0:j1, None]  # [j, k] = score_k - score_j
        margin = critical[j0:j1, None] * se[j0:j1]
        lo[valid[j0:j1]] = 1 + (gap > margin).sum(axis=1)  # k clearly better than j
        hi[valid[j0:j1]] = n - (-gap > margin).sum(axis=1)  # k clearly worse than j
    return lo, hi


def _largest_studentised_deviation(shift: np.ndarray, inverse_se: np.ndarray) -> np.ndarray:
    """Return the ``(n_resamples, n_models)`` largest ``|shift_j - shift_k| * inverse_se[j, k]`` over k.

    Every pair is computed once, in blocks of models (a pair's deviation is symmetric and so is
    `inverse_se`), on the models-first layout so that each block is contiguous; a block holds at
    most `_PAIR_BLOCK_ENTRIES` values (small enough to stay in cache), so memory stays linear in the
    number of models. The values are the same floats as a loop over every k would give, so the maxima
    and quantiles are too.
    """
    n_resamples, n = shift.shape
    by_model = np.ascontiguousarray(shift.T)  # (n_models, n_resamples)
    row_max = np.zeros((n, n_resamples))
    width = max(1, math.isqrt(_PAIR_BLOCK_ENTRIES // n_resamples))
    block = np.empty((width, width, n_resamples))
    for j0 in range(0, n, width):
        j1 = min(n, j0 + width)
        for k0 in range(j0, n, width):
            k1 = min(n, k0 + width)
            deviation = block[:j1 - j0, :k1 - k0]
            np.subtract(by_model[j0:j1, None, :], by_model[None, k0:k1, :], out=deviation)
            np.abs(deviation, out=deviation)
            deviation *= inverse_se[j0:j1, k0:k1, None]
            np.maximum(row_max[j0:j1], deviation.max(axis=1), out=row_max[j0:j1])
            if k0 != j0:
                np.maximum(row_max[k0:k1], deviation.max(axis=0), out=row_max[k0:k1])
    return row_max.T


def _end_interval(ends: np.ndarray, point: np.ndarray, tail: float) -> tuple[np.ndarray, np.ndarray]:
    """Return the `tail` quantile of the low-end resamples ``ends[0]`` and the ``1 - tail`` quantile of
    the high-end resamples ``ends[1]`` over axis 0, widened to hold the point estimate.

    Each low-end resample adds one pseudo-item at the bottom of the scale, each high-end one at its
    top: for 0/1 scores in one scenario the two bounds are then Clopper-Pearson's, and for a mean over
    scenarios they are the bootstrap counterpart of Fay & Feuer's gamma interval for weighted sums of
    rates. Jeffreys' two half-weight pseudo-items instead pull every resample toward the middle of
    the scale, which a mean over many small scenarios adds up to a bias larger than the interval."""
    lo, _ = percentile_interval(ends[0], tail, "linear")
    _, hi = percentile_interval(ends[1], tail, "linear")
    return np.fmin(lo, point), np.fmax(hi, point)


def _variance_share(boot_scenario: np.ndarray, resampled: tuple[bool, ...]) -> np.ndarray:
    """Return each scenario's median share, over models, of the bootstrap variance of the macro mean.

    Scenarios are resampled independently, so the macro mean's variance is the sum of its terms'."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        variance = np.nanvar(boot_scenario, axis=0)  # (S, M)
        variance[~np.asarray(resampled)] = 0.0
        total = variance.sum(axis=0)
        share = np.where(total > 0, variance / np.where(total > 0, total, 1.0), np.nan)
        return np.nanmedian(share, axis=1)


def scale_ends(matrix: np.ndarray, *, negated: bool = False) -> tuple[float, float]:
    """Return the ends (low, high) of a scenario's score scale: [0, 1] widened to hold every score, or
    for negated (lower-is-better) scores [-1, 0] widened likewise, so that an error rate's best end
    is 0 errors and never above it."""
    observed = matrix[~np.isnan(matrix)]
    if negated:
        return (min(-1.0, float(observed.min())) if observed.size else -1.0,
                max(0.0, float(observed.max())) if observed.size else 0.0)
    return (min(0.0, float(observed.min())) if observed.size else 0.0,
            max(1.0, float(observed.max())) if observed.size else 1.0)


def _resampled_means(matrix: np.ndarray, n_resamples: int, rng: np.random.Generator, *, negated: bool = False,
                     ends: np.random.Generator | None = None) -> np.ndarray | tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(n_resamples, n_models)`` Bayesian-bootstrap means of `matrix` over its items; with
    `ends` (the generator of their pseudo-items' weights), also the low-end and high-end resamples of
    the same item weights.

    Each resample gives the items Dirichlet(1, ..., 1) weights (independent exponential draws; the
    normalisation cancels in a weighted mean) plus two pseudo-items at the ends of the score scale
    (`scale_ends`) with Gamma(1/2) weights, the Jeffreys prior. The low-end (high-end) resample adds
    instead one pseudo-item with an Exp(1) weight at the low (high) end only (see `_end_interval`).
    Weighted sums are one matrix product per block of resamples; a model's mean uses only the items
    it has a score on.
    """
    n_items = matrix.shape[0]
    scored_mask = ~np.isnan(matrix)
    complete = bool(scored_mask.all())
    values = np.where(scored_mask, matrix, 0.0)
    scored = scored_mask.astype(np.float64)
    low, high = scale_ends(matrix, negated=negated)
    any_score = scored_mask.any(axis=0)
    block = max(1, _MAX_WEIGHT_ENTRIES // n_items)
    means, low_ends, high_ends = [], [], []
    for start in range(0, n_resamples, block):
        size = min(block, n_resamples - start)
        weights = rng.standard_exponential((size, n_items))
        pseudo = rng.standard_gamma(0.5, size=(size, 2))
        sums = weights @ values
        counts = weights.sum(axis=1, keepdims=True) if complete else weights @ scored
        means.append(np.where(any_score, (sums + (pseudo[:, :1] * high + pseudo[:, 1:] * low))
                              / (counts + pseudo.sum(axis=1)[:, None]), np.nan))
        if ends is not None:
            end = ends.standard_exponential((size, 2))
            low_ends.append(np.where(any_score, (sums + end[:, :1] * low) / (counts + end[:, :1]), np.nan))
            high_ends.append(np.where(any_score, (sums + end[:, 1:] * high) / (counts + end[:, 1:]), np.nan))
    if ends is not None:
        return np.concatenate(means), np.concatenate(low_ends), np.concatenate(high_ends)
    return np.concatenate(means)


def percentile_interval(samples: np.ndarray, tail: float, method: str = "linear") -> tuple[np.ndarray, np.ndarray]:
    """Return the `tail` and ``1 - tail`` quantiles over axis 0, ignoring NaN (NaN where a column has none):
    the percentile interval of resamples, shared by every analysis that reports one."""
    if not np.isnan(samples).any():  # np.quantile is many times faster than np.nanquantile
        lo, hi = np.quantile(samples, [tail, 1 - tail], axis=0, method=method)
        return lo, hi
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns give NaN, as intended
        lo, hi = np.nanquantile(samples, [tail, 1 - tail], axis=0, method=method)
    return lo, hi


def nanmean(values: np.ndarray, axis: int) -> np.ndarray:
    """Return np.nanmean along `axis`, NaN (without a warning) where there is nothing to average."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # mean of nothing is NaN, as intended
        return np.nanmean(values, axis=axis)


def _validate(results: ResultsMatrix, n_resamples: int, confidence_level: float, rank_method: str,
              rng: object) -> None:
    if not isinstance(results, ResultsMatrix):
        raise TypeError(f"`results` must be a ResultsMatrix, got {type(results).__name__}")
    if not results.models or not results.scenarios:
        raise ValueError("`results` must hold at least one model and one scenario")
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, int | np.integer) or n_resamples < 1:
        raise ValueError(f"`n_resamples` must be a positive integer, got {n_resamples!r}")
    if not 0 < confidence_level < 1:
        raise ValueError(f"`confidence_level` must be in (0, 1), got {confidence_level!r}")
    if rank_method not in RANK_METHODS:
        raise ValueError(f"`rank_method` must be one of {', '.join(RANK_METHODS)}, got {rank_method!r}")
    if not isinstance(rng, int | np.integer | np.random.Generator) or isinstance(rng, bool):
        raise TypeError(f"`rng` must be an int seed or a numpy Generator, got {type(rng).__name__}")
