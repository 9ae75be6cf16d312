"""The reference models and what is fitted on them: difficulty, the variance floor, the group-sequential
critical value; `LeaveOneOut` fits every held-out model's reference in one pass."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import stats as scipy_stats

from effbench.flash import spending
from effbench.flash.config import CRITICAL_VALUE_DRAWS, FlashConfig
from effbench.stats import (
    ResultsMatrix,
    nanmean,
)


@dataclass(frozen=True)
class ReferenceFit:
    """What Flash fits on a reference, per scenario: the difficulty of each item (NaN where no reference model has
    it), the (low, high) of the score scale, rho and the mean residual variance (see `Reference.residual_fit`)."""

    difficulty: tuple[np.ndarray, ...]
    score_range: tuple[tuple[float, float], ...]
    rho: np.ndarray
    residual: np.ndarray


@dataclass(frozen=True)
class Reference:
    """The models already ranked: their full-data scores, and per scenario their item matrices
    (for the difficulty of each item, the variance floor and the critical value).

    `fitted`, when given, holds what is fitted on the items, computed elsewhere (`LeaveOneOut` fits every
    "all models but one" reference from one pass over the results); `items` may then be empty.
    """

    models: tuple[str, ...]
    scores: np.ndarray  # (n_models,) overall (macro) scores on all their items
    items: tuple[np.ndarray, ...]  # per scenario (n_items, n_models), NaN = not evaluated
    fitted: ReferenceFit | None = field(default=None, compare=False, repr=False)
    _critical_values: dict = field(default_factory=dict, compare=False, repr=False)
    # per (model, seed, order kind), and under "levels" the items' difficulty levels they are sorted by
    _orders: dict = field(default_factory=dict, compare=False, repr=False)

    @functools.cached_property
    def difficulty(self) -> tuple[np.ndarray, ...]:
        """Per scenario, the reference's mean score on each item (NaN where no reference model has it)."""
        if self.fitted is not None:
            return self.fitted.difficulty
        return tuple(nanmean(m, axis=1) if m.shape[1] else np.full(m.shape[0], np.nan) for m in self.items)

    @functools.cached_property
    def filled_difficulty(self) -> tuple[np.ndarray, ...]:
        """Difficulty with the items no reference model has set to the scenario's mean difficulty."""
        out = []
        for d in self.difficulty:
            fill = float(np.nanmean(d)) if np.isfinite(d).any() else 0.0
            out.append(np.where(np.isnan(d), fill, d))
        return tuple(out)

    @functools.cached_property
    def score_range(self) -> tuple[tuple[float, float], ...]:
        """Per scenario, (low, high) of the score scale: (0, 1) for proportions, else the reference's range."""
        if self.fitted is not None:
            return self.fitted.score_range
        out = []
        for m in self.items:
            finite = m[np.isfinite(m)]
            lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
            out.append((0.0, 1.0) if lo >= 0 and hi <= 1 else (lo, max(hi, lo + 1e-12)))
        return tuple(out)

    @functools.cached_property
    def residual_fit(self) -> tuple[np.ndarray, np.ndarray]:
        """Per scenario: rho, the reference's residual-to-raw variance ratio of item scores regressed on
        difficulty (pooled over the reference's models, each against the difficulty without itself), and the
        reference's mean residual variance (the weights of the scenarios in the critical value)."""
        if self.fitted is not None:
            return self.fitted.rho, self.fitted.residual
        rho, residual = [], []
        for m in self.items:
            have = np.isfinite(m)
            values = np.where(have, m, 0.0)
            count = have.sum(axis=1, keepdims=True)
            others = (values.sum(axis=1, keepdims=True) - values) / np.maximum(count - 1, 1)
            raw_total = resid_total = 0.0
            resid_each = []
            for j in range(m.shape[1]):
                ok = have[:, j] & (count[:, 0] > 1)
                if ok.sum() < 3:
                    continue
                y, x = m[ok, j], others[ok, j]
                raw = float(np.var(y))
                if raw <= 0:
                    continue
                vx = float(np.var(x))
                slope = float(np.mean((x - x.mean()) * (y - y.mean())) / vx) if vx > 1e-12 else 0.0
                res = float(np.var(y - slope * x))
                raw_total += raw
                resid_total += res
                resid_each.append(res)
            rho.append(min(1.0, resid_total / raw_total) if raw_total > 0 else 1.0)
            residual.append(float(np.mean(resid_each)) if resid_each else 0.25)
        return np.array(rho), np.array(residual)

    @property
    def item_counts(self) -> tuple[int, ...]:
        """The number of items of each scenario."""
        return tuple(len(d) for d in self.difficulty)

    @property
    def largest_scenario(self) -> int:
        return max(self.item_counts, default=0)

    def critical_value(self, config: FlashConfig) -> float:
        """Return the one critical value of every look (`spending` "flat", or the corrections other than
        group-sequential) for this reference's looks."""
        key = (config.stage_sizes(self.largest_scenario), config.correction, config.confidence_level)
        if key not in self._critical_values:
            alpha = 1 - config.confidence_level
            variances = look_variances([s for s in key[0] if s is not None], self.item_counts, self.residual_fit[1])
            if config.correction == "none" or not variances.size:
                value = float(scipy_stats.norm.ppf(1 - alpha / 2))
            elif config.correction == "bonferroni":
                value = float(scipy_stats.norm.ppf(1 - alpha / (2 * variances.size)))
            else:
                value = _design_values(_relative(variances), None, alpha)[0]
            self._critical_values[key] = value
        return self._critical_values[key]

    def critical_values(self, config: FlashConfig) -> np.ndarray:
        """Return the critical value of each stage of the configured design (the last look's for the stage of
        all items, which is exact). With the group-sequential correction and `spending` "board", the error is
        spent where the board's models are expected to stop (`effbench.flash.spending`); otherwise every look
        has `critical_value`."""
        stages = config.stage_sizes(self.largest_scenario)
        flat = self.critical_value(config)
        if config.correction != "group-sequential" or config.spending == "flat":
            return np.full(len(stages), flat)
        key = (stages, config.confidence_level, "board", config.resolution_tiers)
        if key not in self._critical_values:
            variances = look_variances([s for s in stages if s is not None], self.item_counts, self.residual_fit[1])
            values = np.full(len(stages), flat)
            if variances.size:
                scenarios = sum(1 for n in self.item_counts if n > 0)
                shares = spending.board_shares(self.scores, flat * np.sqrt(variances) / scenarios,
                                               config.resolution_tiers)
                alpha = 1 - config.confidence_level
                cumulative = tuple(round(float(a), 9) for a in alpha * np.cumsum(shares))
                spent = _design_values(_relative(variances), cumulative, alpha)
                values[:len(spent)] = spent
                values[len(spent):] = spent[-1]
            self._critical_values[key] = values
        return self._critical_values[key]


def _relative(variances: np.ndarray) -> tuple[float, ...]:
    """The looks' variances relative to the first, to 4 significant digits: all a design's critical values
    depend on (they are scale-free), rounded so that the nearly equal references of a large board share them."""
    return tuple(float(f"{v:.4g}") for v in (variances / variances[0]).tolist())


@functools.lru_cache(maxsize=2)
def _cached_paths(relative: tuple[float, ...]) -> np.ndarray:
    """`look_paths` of the last designs asked for: a reference's one and spent critical values share them."""
    return look_paths(np.array(relative))


@functools.lru_cache(maxsize=256)
def _design_values(relative: tuple[float, ...], cumulative: tuple[float, ...] | None,
                   alpha: float) -> tuple[float, ...]:
    """The critical values of nested looks with `relative` variances: one for every look with P(some look
    misses) = `alpha` when `cumulative` is None, else each look's from the error spent by it (`cumulative`)."""
    paths = _cached_paths(relative)
    if cumulative is None:
        return (_one_value(paths, alpha),)
    return tuple(spending.spent_critical_values(paths, cumulative).tolist())


REPLAY_BLOCK = 64  # held-out models fitted together: one pass over the results per block
# Below this many results in a scenario, a reference's difficulty is averaged over its own columns, as `Reference` does;
# above, it is the scenario's total less the held-out model's results (equal up to rounding, when not 0/1 scores).
EXACT_DIFFICULTY_CELLS = 1 << 22


class LeaveOneOut:
    """The references "these models but one", each fitted as `Reference` would fit it on its own items, from one pass
    over the results per block of held-out models instead of one copy of the results per model.

    The reference's sums over items less the held-out model's column give its difficulty; its residual fit
    comes from per-model moments that are matrix products of the results with item vectors (all models of a
    block at once). `scores` are the models' overall scores (results order); `on_reference` marks the models that
    make up the reference (default all); a held-out model off the reference leaves it whole.
    """

    def __init__(self, results: ResultsMatrix, scores: np.ndarray, on_reference: np.ndarray | None = None) -> None:
        self.results = results
        self.scores = np.asarray(scores, dtype=float)
        n = len(results.models)
        self.on_reference = np.ones(n, bool) if on_reference is None else np.asarray(on_reference, bool)
        self._sums: list[tuple[np.ndarray, np.ndarray]] = []
        self._ranges: list[tuple[np.ndarray, np.ndarray]] = []
        for matrix in results.scores:
            have = np.isfinite(matrix) & self.on_reference
            values = np.where(have, matrix, 0.0)
            self._sums.append((values.sum(axis=1), have.sum(axis=1).astype(float)))
            self._ranges.append((np.where(have, matrix, np.inf).min(axis=0),
                                 np.where(have, matrix, -np.inf).max(axis=0)))

    def references(self, held: Sequence[int | None]) -> Iterator[Reference]:
        """Yield, for each index of `held` (None: nobody held out), the reference without that model."""
        names = self.results.models
        for start in range(0, len(held), REPLAY_BLOCK):
            block = list(held[start: start + REPLAY_BLOCK])
            left_out = [h if h is not None and self.on_reference[h] else None for h in block]
            for k, fit in enumerate(self._fits(left_out)):
                keep = self.on_reference.copy()
                if left_out[k] is not None:
                    keep[left_out[k]] = False
                index = np.flatnonzero(keep)
                yield Reference(tuple(names[i] for i in index), self.scores[index], (), fitted=fit)

    def _fits(self, left_out: Sequence[int | None]) -> list[ReferenceFit]:
        k = len(left_out)
        columns = np.array([-1 if h is None else h for h in left_out])
        out_mask = np.zeros((len(self.results.models), k), bool)
        out_mask[columns[columns >= 0], np.flatnonzero(columns >= 0)] = True
        difficulty: list[list[np.ndarray]] = [[] for _ in range(k)]
        ranges: list[list[tuple[float, float]]] = [[] for _ in range(k)]
        rho, residual = np.ones((k, len(self.results.scores))), np.full((k, len(self.results.scores)), 0.25)
        for s, matrix in enumerate(self.results.scores):
            have = np.isfinite(matrix) & self.on_reference
            values = np.where(have, matrix, 0.0)
            total, count = self._sums[s]
            own_values = np.where(columns >= 0, values[:, np.maximum(columns, 0)], 0.0)
            own_have = np.where(columns >= 0, have[:, np.maximum(columns, 0)], False)
            reference_total, reference_count = total[:, None] - own_values, count[:, None] - own_have
            for j in range(k):
                if matrix.size <= EXACT_DIFFICULTY_CELLS:
                    # np.nanmean's own sums, to the last bit: items of equal difficulty keep their order
                    difficulty[j].append(nanmean(matrix[:, self.on_reference & ~out_mask[:, j]], axis=1))
                else:
                    with np.errstate(invalid="ignore", divide="ignore"):
                        difficulty[j].append(np.where(reference_count[:, j] > 0,
                                                      reference_total[:, j] / reference_count[:, j],
                                                      np.nan))
            low, high = self._ranges[s]
            for j in range(k):
                lo = float(np.min(low[self.on_reference & ~out_mask[:, j]], initial=np.inf))
                hi = float(np.max(high[self.on_reference & ~out_mask[:, j]], initial=-np.inf))
                lo, hi = (0.0, 1.0) if not np.isfinite(lo) else (lo, hi)
                ranges[j].append((0.0, 1.0) if lo >= 0 and hi <= 1 else (lo, max(hi, lo + 1e-12)))
            rho[:, s], residual[:, s] = _residual_fits(values, have, reference_total, reference_count,
                                                        self.on_reference, out_mask)
        return [ReferenceFit(tuple(difficulty[j]), tuple(ranges[j]), rho[j], residual[j]) for j in range(k)]


def _item_sums(matrix: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Return matrix.T @ vectors, ``(n_models, k)``: BLAS for large products only, since a threaded BLAS on a
    busy machine spends far longer waking its threads than a small product takes."""
    if matrix.size * vectors.shape[1] < 1 << 27:
        return np.einsum("im,ik->mk", matrix, vectors)
    return matrix.T @ vectors


def _residual_fits(values: np.ndarray, have: np.ndarray, reference_total: np.ndarray, reference_count: np.ndarray,
                   on_reference: np.ndarray, out_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return `Reference.residual_fit` of one scenario for each column of `reference_total` (one reference each).

    Reference model j's item score y is regressed on x = (reference total - y) / (reference count - 1), over the items
    it has where the reference count exceeds 1: with a = total / (count - 1) and w = 1 / (count - 1), x = a - w y,
    so every sum the regression needs is a product of the results (or of their squares) with item vectors.
    """
    gate = reference_count > 1
    scale = 1.0 / np.maximum(reference_count - 1, 1)
    a, w = np.where(gate, reference_total * scale, 0.0), np.where(gate, scale, 0.0)
    g = gate.astype(float)
    have_f, squares = have.astype(float), values * values
    n, sum_a, sum_aa = np.split(_item_sums(have_f, np.hstack([g, a, a * a])), 3, axis=1)
    sum_y, sum_ay, sum_wy, sum_awy = np.split(_item_sums(values, np.hstack([g, a, w, a * w])), 4, axis=1)
    sum_yy, sum_wyy, sum_wwyy = np.split(_item_sums(squares, np.hstack([g, w, w * w])), 3, axis=1)
    sum_x, sum_xx, sum_xy = sum_a - sum_wy, sum_aa - 2 * sum_awy + sum_wwyy, sum_ay - sum_wyy
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_y, mean_x = sum_y / n, sum_x / n
        raw = sum_yy / n - mean_y * mean_y
        var_x = sum_xx / n - mean_x * mean_x
        cov = sum_xy / n - mean_x * mean_y
        slope = np.where(var_x > 1e-12, cov / var_x, 0.0)
        res = np.maximum(raw - 2 * slope * cov + slope * slope * var_x, 0.0)
    # raw > 0 up to rounding: a column whose scores are all equal has no variance to explain
    used = on_reference[:, None] & ~out_mask & (n >= 3) & (raw > 1e-12 * np.maximum(sum_yy / np.maximum(n, 1), 1e-300))
    raw_total = np.where(used, raw, 0.0).sum(axis=0)
    resid_total = np.where(used, res, 0.0).sum(axis=0)
    count = used.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = np.where(raw_total > 0, np.minimum(1.0, resid_total / raw_total), 1.0)
        residual = np.where(count > 0, resid_total / np.maximum(count, 1), 0.25)
    return rho, residual


def look_variances(sizes: Sequence[int], population: Sequence[int], weights: Sequence[float]) -> np.ndarray:
    """Return the variance (up to a constant) of the overall estimate at each look that is not exact:
    sum over scenarios of weight * (1/n - 1/N) with n = min(size, N), the finite population variance of a
    mean of n items drawn without replacement from N."""
    out = []
    for size in sizes:
        v = sum(w * (1 / min(size, n) - 1 / n) for n, w in zip(population, weights, strict=True) if n > 0)
        if v > 1e-15:
            out.append(v)
    return np.array(out)


@functools.lru_cache(maxsize=8)
def _standard_normals(looks: int, draws: int) -> np.ndarray:
    """The draws, one row per look: the same numbers as ``standard_normal((draws, looks))``, laid out so that
    the sums over looks run along long rows (the same additions in the same order, several times faster)."""
    return np.ascontiguousarray(np.random.default_rng(20240501).standard_normal((draws, looks)).T)


def look_paths(variances: np.ndarray, draws: int = CRITICAL_VALUE_DRAWS) -> np.ndarray:
    """Return ``(looks, draws)`` simulated |X_k| / sqrt(V_k) for nested looks with variances V_1 > V_2 > ...

    Nested samples of a finite population have Cov(X_j, X_k) = V_k for j < k (the later look is the
    more precise), so X_K, X_{K-1} - X_K, ... are independent: the looks are simulated as sums of
    independent normal increments (Monte Carlo with a fixed seed, reproducible).
    """
    v = np.asarray(variances, dtype=float)
    if np.any(np.diff(v) > 0):
        raise ValueError("`variances` must not increase from look to look")
    backwards = v[::-1]
    increments = np.sqrt(np.diff(backwards, prepend=0.0))
    paths = np.cumsum(_standard_normals(v.size, draws) * increments[:, None], axis=0)[::-1]
    return np.abs(paths) / np.sqrt(v)[:, None]


def group_sequential_critical_value(variances: np.ndarray, alpha: float, *,
                                    draws: int = CRITICAL_VALUE_DRAWS) -> float:
    """Return c with P(max_k |X_k| / sqrt(V_k) > c) = alpha for nested looks with variances V_1 > V_2 > ...
    (`look_paths`): one critical value for every look."""
    v = np.asarray(variances, dtype=float)
    if v.size == 0:
        return float(scipy_stats.norm.ppf(1 - alpha / 2))
    return _one_value(look_paths(v, draws), alpha)


def _one_value(paths: np.ndarray, alpha: float) -> float:
    """The one critical value that `paths` (`look_paths`) exceed at some look with probability `alpha`."""
    return float(np.quantile(paths.max(axis=0), 1 - alpha))
