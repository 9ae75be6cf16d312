"""The results matrix and the point statistics of `effbench.stats`: scenario and overall scores, computed
in exact rational arithmetic where the item scores allow it, competition ranks, and the exact mean of
ratios the other analyses average with, so that equal scores are exact ties. Nothing here resamples;
the bootstrap and its intervals are in `effbench.stats.intervals`."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

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
    # Units that fail on a few of the values cannot fit them all: testing every unit on those few first
    # leaves the full test (the same one) to a handful of candidates instead of up to 1,000 units.
    probe = values[:: max(1, values.size // 8)]
    scaled = probe[None, :] * np.arange(1, _MAX_SCORE_UNIT + 1)[:, None]
    fits = np.all(np.abs(scaled - np.rint(scaled)) <= 1e-9 * np.maximum(1.0, np.abs(scaled)), axis=1)
    for unit in (np.flatnonzero(fits) + 1).tolist():
        scaled = values * unit
        if np.all(np.abs(scaled - np.rint(scaled)) <= 1e-9 * np.maximum(1.0, np.abs(scaled))):
            return unit
    return None


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


def nanmean(values: np.ndarray, axis: int) -> np.ndarray:
    """Return np.nanmean along `axis`, NaN (without a warning) where there is nothing to average."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # mean of nothing is NaN, as intended
        return np.nanmean(values, axis=axis)
