"""The paired Bayesian bootstrap of `effbench.stats` and the intervals it gives: each model's score and
rank with their intervals (`rank_intervals`), rank intervals from paired differences, and the percentile
interval that every analysis reporting one shares. The point scores they start from are in
`effbench.stats.scores`."""

from __future__ import annotations

import hashlib
import math
import warnings
from dataclasses import dataclass

import numpy as np

from effbench.stats.scores import (
    ResultsMatrix,
    _as_float,
    _exact_overall,
    competition_ranks,
    exact_competition_ranks,
    fill_missing_scenarios,
    nanmean,
)

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
    the percentile interval of resamples, shared by every analysis that reports one.

    The linear quantiles of float columns are `np.quantile`'s values to the bit, from the four order
    statistics they need (`_linear_quantiles`); a column with some NaN goes through `np.nanquantile`."""
    samples = np.asarray(samples)
    if (method != "linear" or samples.dtype != np.float64 or samples.ndim == 0 or samples.shape[0] == 0
            or not 0 <= tail <= 1):
        return _numpy_interval(samples, tail, method)
    n = samples.shape[0]
    rows = np.ascontiguousarray(np.moveaxis(samples.reshape(n, -1), 0, -1))  # (columns, n), a copy to reorder
    nan_count = np.count_nonzero(np.isnan(rows), axis=1)
    clean = nan_count == 0
    lo, hi = np.full(rows.shape[0], np.nan), np.full(rows.shape[0], np.nan)
    if clean.all():
        lo, hi = _linear_quantiles(rows, (tail, 1 - tail))
    else:
        if clean.any():
            lo[clean], hi[clean] = _linear_quantiles(rows[clean], (tail, 1 - tail))
        partly = ~clean & (nan_count < n)  # all-NaN columns stay NaN, as np.nanquantile leaves them
        if partly.any():
            lo[partly], hi[partly] = _numpy_interval(rows[partly].T, tail, method)
    return lo.reshape(samples.shape[1:]), hi.reshape(samples.shape[1:])


def _numpy_interval(samples: np.ndarray, tail: float, method: str) -> tuple[np.ndarray, np.ndarray]:
    """Return `percentile_interval` computed by numpy alone: `np.quantile`, or `np.nanquantile` with NaN."""
    if not np.isnan(samples).any():  # np.quantile is many times faster than np.nanquantile
        lo, hi = np.quantile(samples, [tail, 1 - tail], axis=0, method=method)
        return lo, hi
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns give NaN, as intended
        lo, hi = np.nanquantile(samples, [tail, 1 - tail], axis=0, method=method)
    return lo, hi


def _linear_quantiles(rows: np.ndarray, quantiles: tuple[float, ...]) -> list[np.ndarray]:
    """Return each row's `quantiles` of `rows` ``(m, n)`` (no NaN; reordered in place), as `np.quantile`'s
    "linear" method computes them: its virtual indices, neighbours and interpolation, step for step.

    np.quantile partitions every column around all the order statistics it needs at once, by
    introselect; one order statistic at a time takes numpy's vectorised selection, several times as
    fast, and its neighbour is then the largest value below it or the smallest above it."""
    n = rows.shape[1]
    q = np.asarray(quantiles, dtype=np.float64)
    virtual = (n - 1) * q
    previous, following = np.floor(virtual), np.floor(virtual) + 1
    previous[virtual >= n - 1], following[virtual >= n - 1] = -1, -1
    previous[virtual < 0], following[virtual < 0] = 0, 0
    previous, following = previous.astype(np.intp), following.astype(np.intp)
    gamma = virtual - previous
    found: dict[int, np.ndarray] = {}
    for low, high in zip(previous % n, following % n, strict=True):
        if low in found and high in found:
            continue
        if low == high:
            rows.partition(low, axis=1)
            found[low] = rows[:, low].copy()
        elif low + 1 <= n - 1 - low:  # near the bottom: select the upper one, the lower is the largest below it
            rows.partition(high, axis=1)
            found[high], found[low] = rows[:, high].copy(), rows[:, :high].max(axis=1)
        else:
            rows.partition(low, axis=1)
            found[low], found[high] = rows[:, low].copy(), rows[:, high:].min(axis=1)
    result = []
    for low, high, t in zip(previous % n, following % n, gamma, strict=True):
        a, b = found[low], found[high]
        difference = b - a  # numpy's _lerp: from the nearer end, so that t = 1 gives b exactly
        result.append(b - difference * (1 - t) if t >= 0.5 else a + difference * t)
    return result


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
