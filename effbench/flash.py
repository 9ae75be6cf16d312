"""Flash rankings: evaluate a new model on a few items first, more only while its rank is too uncertain.

After Flash-HELM (Perlitz et al., 2024), with a design-based estimator and error control that holds
on every board. A new model is ranked against the reference models (the board's models with full
results; `Reference`) after each stage of a nested schedule of items per scenario, and stops at the
first stage where some rank can be reported within the resolution of its tier (rank 1 exact, 2-4 +-1,
...; `effbench.tiers`). Pure
numpy: arrays in, frozen results out. The default (``estimator="greg"``):

- **One item order** per model and scenario, over all the scenario's items and independent of the
  model's results: items sorted by reference difficulty (the reference's mean score on the item) and visited
  so that every prefix spreads evenly over the difficulty range. Each stage takes the next items of
  the order; an item the model has no result for (its harness skipped it) is skipped, and the stage
  does not fill it from later items. Samples are nested, so no evaluation is wasted.
- **Stages** grow geometrically, x1.5 from 10 items per scenario (10, 15, 23, 34, ...), ending with
  all items.
- **Estimator**: per scenario, the design-based regression (GREG) estimator of the model's mean on
  the reference difficulty, ybar + b (X_U - xbar), with its analytic variance (1 - n/N) s_e^2 / n, where
  (1 - n/N) is the finite population correction (the items are drawn without replacement from a known
  pool). The residual variance s_e^2 is floored at rho * p (1 - p), with p the Agresti-Coull proportion
  (successes + 2) / (n + 4) and rho the reference's residual-to-raw variance ratio in that scenario, so that
  10 items all right or all wrong never give a zero-width interval.
- **Error control**: the looks are nested samples, so their estimates are correlated; the repeated
  confidence intervals of a group-sequential design use one critical value c for every look, with
  P(max_k |Z_k| > c) = alpha under the looks' joint normal law (correlation sqrt(V_k / V_j) for nested
  samples), computed once per reference by Monte Carlo. ``"bonferroni"`` uses z at alpha / (2 K) instead.
- **Stop rule**: stop when some reported rank Q has |Q - t| <= min(r(Q), r(t)) for every rank t in the
  interval, and report Q (the candidate nearest the point estimate). Whenever the interval covers the
  true rank T, |Q - T| <= min(r(Q), r(T)): the report is within the resolution of both its own tier and
  the truth's.

The earlier variant (``estimator="bootstrap"``: a Poisson bootstrap of the sample, Bonferroni over the
stages 10, 20, 50, 200, 1000, all, and the rule "the interval lies within r of the point estimate",
``stop_rule="estimate"``) stays for comparison, as does the paper's uncorrected rule (random order,
plain mean, no correction). Everything that is fitted (difficulty, rho, the critical value, the
order) comes from the reference only: in a replay the held-out model never influences it.
"""

from __future__ import annotations

import functools
import math
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from scipy import stats as scipy_stats

from effbench.stats import (
    ResultsMatrix,
    exact_competition_ranks,
    exact_overall_scores,
    nanmean,
    overall_scores,
)
from effbench.tiers import DEFAULT_TIERS, Tier, tier_index, tier_resolution, validate_tiers

PAPER_STAGES: tuple[int | None, ...] = (10, 20, 50, 200, 1000, None)  # None = all items
ORDERS = ("random", "informed")
ESTIMATORS = ("greg", "bootstrap")
CORRECTIONS = ("group-sequential", "bonferroni", "none")
STOP_RULES = ("reported", "estimate")
CRITICAL_VALUE_DRAWS = 100_000  # Monte Carlo draws for the group-sequential critical value (+-0.01)


@dataclass(frozen=True)
class FlashConfig:
    """How Flash runs: stages, tiers, order, estimator, error control and stop rule.

    `stages` None means geometric stages: `first_stage` items per scenario, then x`growth` (rounded
    up) while below the largest scenario, then all items.
    """

    stages: tuple[int | None, ...] | None = None
    first_stage: int = 10
    growth: float = 1.5
    tiers: tuple[Tier, ...] = DEFAULT_TIERS
    order: str = "informed"
    estimator: str = "greg"
    correction: str = "group-sequential"
    stop_rule: str = "reported"
    variance_floor: bool = True
    confidence_level: float = 0.95
    n_resamples: int = 1000  # bootstrap estimator only
    seed: int = 0
    seeds: int = 5  # item orders replayed by the simulation (seed, seed + 1, ...)
    max_replayed: int = 100  # on larger boards the simulation replays a stratified draw of this many models

    def __post_init__(self) -> None:
        validate_tiers(self.tiers)
        if self.stages is not None:
            sizes = [s for s in self.stages if s is not None]
            if (not self.stages or self.stages[-1] is not None or sizes != sorted(set(sizes))
                    or any(s < 1 for s in sizes)):
                raise ValueError("`stages` must be increasing positive item counts ending with all items (None)")
        if self.first_stage < 1:
            raise ValueError(f"`first_stage` must be at least 1, got {self.first_stage!r}")
        if not self.growth > 1:
            raise ValueError(f"`growth` must be greater than 1, got {self.growth!r}")
        for name, value, allowed in (("order", self.order, ORDERS), ("estimator", self.estimator, ESTIMATORS),
                                     ("correction", self.correction, CORRECTIONS),
                                     ("stop_rule", self.stop_rule, STOP_RULES)):
            if value not in allowed:
                raise ValueError(f"`{name}` must be one of {', '.join(allowed)}, got {value!r}")
        if self.estimator == "bootstrap" and self.correction == "group-sequential":
            raise ValueError("`correction` group-sequential needs the greg estimator; use bonferroni or none")
        if not 0 < self.confidence_level < 1:
            raise ValueError(f"`confidence_level` must be in (0, 1), got {self.confidence_level!r}")
        if self.n_resamples < 10:
            raise ValueError(f"`n_resamples` must be at least 10, got {self.n_resamples!r}")
        if self.seeds < 1:
            raise ValueError(f"`seeds` must be at least 1, got {self.seeds!r}")
        if self.max_replayed < 1:
            raise ValueError(f"`max_replayed` must be at least 1, got {self.max_replayed!r}")

    def stage_sizes(self, largest: int) -> tuple[int | None, ...]:
        """Return the stages for a reference whose largest scenario has `largest` items (None = all)."""
        if self.stages is not None:
            return self.stages
        sizes, n = [], self.first_stage
        while n < largest:
            sizes.append(n)
            n = max(n + 1, math.ceil(n * self.growth))
        return (*sizes, None)

    def describe(self) -> str:
        """Return a short name of this variant."""
        if self.estimator == "greg":
            return {"group-sequential": "design-based", "bonferroni": "design-based, Bonferroni",
                    "none": "design-based, uncorrected"}[self.correction]
        if self.order == "random" and self.correction == "none" and self.stop_rule == "estimate":
            return "paper's uncorrected rule"
        if self.order == "informed" and self.correction == "bonferroni" and self.stop_rule == "estimate":
            return "old rule"
        return f"bootstrap, {self.order} order, {self.correction}, {self.stop_rule} rule"


def stage_label(stage: int | None) -> str:
    return "all" if stage is None else str(stage)


# ---------------------------------------------------------------------------------------------
# The reference and what is fitted on it


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
    _orders: dict = field(default_factory=dict, compare=False, repr=False)  # per (model, seed, order kind)

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
        """Return the critical value of the configured error control for this reference's looks."""
        key = (config.stage_sizes(self.largest_scenario), config.correction, config.confidence_level)
        if key not in self._critical_values:
            sizes = [s for s in key[0] if s is not None]
            alpha = 1 - config.confidence_level
            variances = look_variances(sizes, self.item_counts, self.residual_fit[1])
            if config.correction == "none" or not variances.size:
                value = float(scipy_stats.norm.ppf(1 - alpha / 2))
            elif config.correction == "bonferroni":
                value = float(scipy_stats.norm.ppf(1 - alpha / (2 * variances.size)))
            else:
                value = group_sequential_critical_value(variances, alpha)
            self._critical_values[key] = value
        return self._critical_values[key]


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


def group_sequential_critical_value(variances: np.ndarray, alpha: float, *,
                                    draws: int = CRITICAL_VALUE_DRAWS) -> float:
    """Return c with P(max_k |X_k| / sqrt(V_k) > c) = alpha for nested looks with variances V_1 > V_2 > ...

    Nested samples of a finite population have Cov(X_j, X_k) = V_k for j < k (the later look is the
    more precise), so X_K, X_{K-1} - X_K, ... are independent: the looks are simulated as sums of
    independent normal increments (Monte Carlo with a fixed seed, reproducible).
    """
    v = np.asarray(variances, dtype=float)
    if v.size == 0:
        return float(scipy_stats.norm.ppf(1 - alpha / 2))
    if np.any(np.diff(v) > 0):
        raise ValueError("`variances` must not increase from look to look")
    backwards = v[::-1]
    increments = np.sqrt(np.diff(backwards, prepend=0.0))
    paths = np.cumsum(_standard_normals(v.size, draws) * increments[:, None], axis=0)[::-1]
    z = np.abs(paths) / np.sqrt(v)[:, None]
    return float(np.quantile(z.max(axis=0), 1 - alpha))


# ---------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class StageResult:
    stage: str
    items_used: int
    rank: int  # the reported rank: Q where the stop rule is met, else the point estimate's rank
    rank_lo: int
    rank_hi: int
    tier: int  # index into the tiers of the reported rank (stop_rule "estimate": of rank_lo)
    resolution_met: bool
    estimate: float = math.nan  # the model's estimated overall score
    half_width: float = math.nan  # of the score interval


@dataclass(frozen=True)
class FlashOutcome:
    """One model's Flash run: the stages it went through up to where it stopped, and (in a simulation)
    the truth."""

    model: str
    stages: tuple[StageResult, ...]
    stop: int  # index into stages
    items_full: int  # the items the model has (simulation) or can still have (plan)
    full_rank: int | None = None
    within_resolution: bool | None = None  # strict: within the resolution of the reported and the true tier
    covered: bool | None = None
    seed: int = 0
    skipped: int = 0  # items of the model's order it has no result for

    @property
    def final(self) -> StageResult:
        return self.stages[self.stop]

    @property
    def saving(self) -> float:
        return self.items_full / max(self.final.items_used, 1)

    @property
    def used_every_item(self) -> bool:
        return self.final.items_used >= self.items_full


@dataclass(frozen=True)
class FlashSummary:
    variant: str
    saving: float  # mean over seeds of (all models' full evaluations / the evaluations Flash used)
    saving_lo: float  # smallest and largest saving over the seeds
    saving_hi: float
    within_resolution: float  # share of replays within the resolution of both reported and true tier
    within_resolution_early: float  # the same among replays that stopped before using every item
    n_every_item: int  # replays that used every item (trivially right)
    largest_error: int
    coverage: float  # share of replays whose full-data rank lies inside the final Flash interval
    collapsed_misses: int  # replays outside resolution with a one-rank interval, stopped early
    n_models: int  # models replayed
    n_seeds: int
    n_replays: int
    n_candidates: int = 0  # models that could be replayed (the replayed ones are a stratified draw when fewer)


@dataclass(frozen=True)
class FlashSimulation:
    variant: str
    config: FlashConfig
    outcomes: tuple[FlashOutcome, ...]  # the first seed's replays
    summary: FlashSummary
    all_outcomes: tuple[FlashOutcome, ...] = ()  # every seed's replays


# ---------------------------------------------------------------------------------------------
# Item orders


def model_seed(seed: int, model: str) -> int:
    """Return a seed for `model` that is stable across runs and platforms."""
    return (seed * 1_000_003 + zlib.crc32(model.encode())) % (2**32)


def item_order(difficulty: np.ndarray, available: np.ndarray, kind: str, rng: np.random.Generator) -> np.ndarray:
    """Return the indices of the `available` items of one scenario in the order they are evaluated.

    ``random``: a random permutation. ``informed``: the items sorted by difficulty (ties broken at
    random), then visited in bit-reversed order of their position, so that every prefix of the
    order spreads evenly over the whole difficulty range (a nested, difficulty-stratified sample).
    """
    items = np.flatnonzero(available)
    if kind == "random" or items.size < 3:
        return rng.permutation(items)
    level = np.where(np.isnan(difficulty[items]), np.nanmean(difficulty[items]) if
                     np.isfinite(difficulty[items]).any() else 0.0, difficulty[items])
    by_difficulty = items[np.lexsort((rng.random(items.size), level))]
    return by_difficulty[_spread_order(items.size, rng)]


def _spread_order(n: int, rng: np.random.Generator) -> np.ndarray:
    """Return a permutation of range(n) whose every prefix is spread evenly over 0..n-1: positions
    are visited by the van der Corput sequence of a random offset."""
    bits = max(1, math.ceil(math.log2(n)))
    order, missing = _spread_positions(n, int(rng.integers(0, 1 << bits)))
    return np.concatenate([order, rng.permutation(missing)])


@functools.lru_cache(maxsize=1 << 12)
def _spread_positions(n: int, offset: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the positions of range(n) that the van der Corput sequence from `offset` visits, in the order
    it first visits them, and the positions it never visits. Boards of many small scenarios ask for the same
    few (n, offset) again and again: each is computed once (the caller only reads them)."""
    bits = max(1, math.ceil(math.log2(n)))
    codes = np.arange(1 << bits)
    reversed_codes = np.zeros_like(codes)
    for b in range(bits):
        reversed_codes |= ((codes >> b) & 1) << (bits - 1 - b)
    positions = ((reversed_codes + offset) % (1 << bits)) * n // (1 << bits)
    _, first = np.unique(positions, return_index=True)
    order = positions[np.sort(first)]
    missing = np.setdiff1d(np.arange(n), order)
    return order, missing


def orders_for(model: str, reference: Reference, config: FlashConfig, seed: int | None = None) -> list[np.ndarray]:
    """Return, per scenario, the order in which `model` is evaluated: every item of the scenario, from
    the reference's difficulty and the seed only (never from the model's results). Plan and simulation
    both use this order."""
    seed = config.seed if seed is None else seed
    key = (model, seed, config.order)  # the variants of a replay share their references, hence their orders
    if key not in reference._orders:
        rng = np.random.default_rng(model_seed(seed, model))
        reference._orders[key] = [item_order(d, np.ones(d.shape, bool), config.order, rng)
                                  for d in reference.difficulty]
    return list(reference._orders[key])


@dataclass(frozen=True)
class StageSample:
    """The items of one stage: per scenario, those with results (the sample) and those skipped."""

    index: int
    size: int | None
    sampled: tuple[np.ndarray, ...]
    skipped: tuple[np.ndarray, ...]
    population: tuple[int, ...]  # per scenario, the items not skipped so far
    pending: tuple[np.ndarray, ...] = ()  # plan only: the stage's items still to evaluate

    @property
    def items_used(self) -> int:
        return int(sum(len(s) for s in self.sampled))


def stage_samples(orders: Sequence[np.ndarray], evaluated: Sequence[np.ndarray], sizes: Sequence[int | None], *,
                  availability_known: bool) -> Iterator[StageSample]:
    """Yield the sample of each stage in turn, the same way for a replay and for a plan.

    Stage k takes, in every scenario, the next items of the order until the sample would hold
    `sizes[k]` items (all remaining items for None). An item without a result is skipped: with
    `availability_known` (a replay) at once; otherwise (a plan) once the stage has been run, that is
    once the model has a result for any item of the stage. A stage not yet run ends the walk with
    `pending` set to its items.
    """
    taken: list[list[np.ndarray]] = [[] for _ in orders]
    skipped: list[list[np.ndarray]] = [[] for _ in orders]
    position = [0] * len(orders)
    counts = [0] * len(orders)
    for index, size in enumerate(sizes):
        blocks = []
        for s, order in enumerate(orders):
            need = len(order) - position[s] if size is None else max(size - counts[s], 0)
            blocks.append(order[position[s]: position[s] + need])
        if not availability_known:
            ran = any(evaluated[s][block].any() for s, block in enumerate(blocks) if len(block))
            if not ran and any(len(block) for block in blocks):
                yield StageSample(index, size, tuple(np.concatenate(t) if t else np.zeros(0, int) for t in taken),
                                  tuple(np.concatenate(k) if k else np.zeros(0, int) for k in skipped),
                                  tuple(len(o) - sum(len(k) for k in sk) for o, sk in zip(orders, skipped,
                                                                                          strict=True)),
                                  pending=tuple(blocks))
                return
        for s, block in enumerate(blocks):
            have = evaluated[s][block]
            taken[s].append(block[have])
            skipped[s].append(block[~have])
            position[s] += len(block)
            counts[s] += int(have.sum())
        yield StageSample(index, size, tuple(np.concatenate(t) for t in taken),
                          tuple(np.concatenate(k) for k in skipped),
                          tuple(len(o) - sum(len(k) for k in sk) for o, sk in zip(orders, skipped, strict=True)))


# ---------------------------------------------------------------------------------------------
# Ranking a model on a sample


def greg_estimate(values: np.ndarray, x: np.ndarray, population_x: float, population: int, *,
                  rho: float = 1.0, floor: bool = True, scale: tuple[float, float] = (0.0, 1.0)
                  ) -> tuple[float, float]:
    """Return (estimate, variance) of a scenario mean from a sample without replacement of `population`
    items: the GREG estimator on the auxiliary `x` (whose population mean is `population_x`) and its
    analytic variance (1 - n/N) s_e^2 / n, s_e^2 floored at rho * p (1 - p) (Agresti-Coull p)."""
    n = len(values)
    if n == 0:
        return math.nan, math.inf
    mean_y = float(values.mean())
    estimate, residual_var = mean_y, 0.0
    if n >= 3 and np.isfinite(population_x) and float(np.var(x)) > 1e-12:
        mean_x = float(x.mean())
        slope = float(np.mean((x - mean_x) * (values - mean_y)) / np.var(x))
        estimate = mean_y + slope * (population_x - mean_x)
        residual_var = float(np.sum((values - mean_y - slope * (x - mean_x)) ** 2) / (n - 2))
    elif n >= 2:
        residual_var = float(np.var(values, ddof=1))
    if floor:
        lo, hi = scale
        p = (float(np.clip((values - lo) / (hi - lo), 0, 1).sum()) + 2) / (n + 4)
        residual_var = max(residual_var, rho * p * (1 - p) * (hi - lo) ** 2)
    fpc = max(0.0, 1 - n / population) if population > 0 else 0.0
    return estimate, fpc * residual_var / n


def _rank_against(reference_scores: np.ndarray, estimates: np.ndarray) -> np.ndarray:
    """Rank of each estimate among the reference: 1 + the reference models with a strictly higher score."""
    ordered = np.sort(reference_scores[~np.isnan(reference_scores)])
    return 1 + ordered.size - np.searchsorted(ordered, estimates, side="right")


def rank_greg(new_items: Sequence[np.ndarray], sample: StageSample, orders: Sequence[np.ndarray], reference: Reference,
              config: FlashConfig) -> tuple[int, int, int, float, float]:
    """Return (rank, rank_lo, rank_hi, estimate, half_width) of a model from its GREG scenario estimates."""
    rho, _ = reference.residual_fit
    estimates, variances = [], []
    for s, sampled in enumerate(sample.sampled):
        if len(sampled) == 0:
            continue
        keep = (np.setdiff1d(orders[s], sample.skipped[s], assume_unique=True) if len(sample.skipped[s])
                else orders[s])  # setdiff1d keeps the order's order: the same items, the same sum
        population_x = float(reference.filled_difficulty[s][keep].mean()) if keep.size else math.nan
        estimate, variance = greg_estimate(new_items[s][sampled], reference.filled_difficulty[s][sampled], population_x,
                                           sample.population[s], rho=float(rho[s]), floor=config.variance_floor,
                                           scale=reference.score_range[s])
        estimates.append(estimate)
        variances.append(variance)
    if not estimates:
        return 1, 1, len(reference.models) + 1, math.nan, math.inf
    estimate = float(np.mean(estimates))
    half_width = reference.critical_value(config) * math.sqrt(sum(variances)) / len(variances)
    rank = int(_rank_against(reference.scores, np.array([estimate]))[0])
    lo, hi = _rank_against(reference.scores, np.array([estimate + half_width, estimate - half_width]))
    return rank, int(lo), int(hi), estimate, half_width


def _poisson_weights(levels: int = 1 << 16) -> np.ndarray:
    """Return a table whose uniform draws are Poisson(1) to within 1/`levels` per value: looking up 16-bit
    integers is ten times faster than drawing Poisson variates, for the same bootstrap."""
    pmf = np.array([math.exp(-1) / math.factorial(k) for k in range(12)])
    counts = np.round(pmf * levels).astype(int)
    counts[1] += levels - counts.sum()
    return np.repeat(np.arange(pmf.size, dtype=float), counts)


_POISSON_WEIGHTS = _poisson_weights()


def _bootstrap_estimates(values: np.ndarray, difficulty: np.ndarray, population_difficulty: float,
                         weights: np.ndarray, regression: bool) -> np.ndarray:
    """Return the scenario mean estimate for each row of `weights` (``(n_resamples, n_sampled)``)."""
    total = weights.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        if not regression or not np.isfinite(population_difficulty):
            return weights @ values / total
        # one product with the four sums' columns reads the (large) weights once
        sums = weights @ np.column_stack([values, difficulty, values * difficulty, difficulty * difficulty])
        mean_y, mean_x = sums[:, 0] / total, sums[:, 1] / total
        cov = sums[:, 2] / total - mean_y * mean_x
        var = sums[:, 3] / total - mean_x * mean_x
        beta = np.where(var > 1e-12, cov / np.where(var > 1e-12, var, 1.0), 0.0)
    return mean_y + beta * (population_difficulty - mean_x)


def rank_bootstrap(new_items: Sequence[np.ndarray], sample: StageSample, orders: Sequence[np.ndarray],
                   reference: Reference, config: FlashConfig, rng: np.random.Generator
                   ) -> tuple[int, int, int, float, float]:
    """Return (rank, rank_lo, rank_hi, estimate, half_width) from a Poisson bootstrap of the sample (the
    earlier variant; with the informed order the mean is corrected by a regression on difficulty)."""
    regression = config.order == "informed"
    early = max(len(config.stage_sizes(reference.largest_scenario)) - 1, 1)
    level = config.confidence_level if config.correction == "none" else 1 - (1 - config.confidence_level) / early
    exact = all(len(sampled) == population for sampled, population in zip(sample.sampled, sample.population,
                                                                          strict=True))
    point, boots = [], []
    for s, sampled in enumerate(sample.sampled):
        if len(sampled) == 0:
            continue
        values = new_items[s][sampled]
        x = reference.filled_difficulty[s][sampled]
        keep = (np.setdiff1d(orders[s], sample.skipped[s], assume_unique=True) if len(sample.skipped[s])
                else orders[s])  # setdiff1d keeps the order's order: the same items, the same sum
        population_x = float(reference.filled_difficulty[s][keep].mean()) if keep.size else math.nan
        use_regression = regression and not exact and len(sampled) >= 3
        point.append(_bootstrap_estimates(values, x, population_x, np.ones((1, len(sampled))), use_regression)[0])
        if not exact:
            weights = _POISSON_WEIGHTS[rng.integers(0, _POISSON_WEIGHTS.size, size=(config.n_resamples,
                                                                                    len(sampled)), dtype=np.uint16)]
            weights[weights.sum(axis=1) == 0] = 1.0  # an empty resample keeps the sample as it is
            boots.append(_bootstrap_estimates(values, x, population_x, weights, use_regression))
    if not point:
        return 1, 1, len(reference.models) + 1, math.nan, math.inf
    estimate = float(np.mean(point))
    rank = int(_rank_against(reference.scores, np.array([estimate]))[0])
    if exact:
        return rank, rank, rank, estimate, 0.0
    means = np.mean(np.stack(boots, axis=1), axis=1)
    ranks = _rank_against(reference.scores, means)
    tail = (1 - level) / 2
    lo, hi = np.quantile(ranks, [tail, 1 - tail], method="inverted_cdf")
    spread = np.quantile(means, [tail, 1 - tail])
    return rank, int(min(lo, rank)), int(max(hi, rank)), estimate, float(spread[1] - spread[0]) / 2


def reported_rank(rank: int, rank_lo: int, rank_hi: int, tiers: Sequence[Tier]) -> int | None:
    """Return the rank Q nearest `rank` in [rank_lo, rank_hi] with |Q - t| <= min(r(Q), r(t)) for every rank t
    of the interval, or None when there is none (the resolution is not met)."""
    if rank_hi - rank_lo > 2 * max(t.resolution for t in tiers):
        return None  # no Q is within its own resolution of both ends
    span = np.arange(rank_lo, rank_hi + 1)
    resolution = tier_resolution(span, tiers)
    # |Q - t| <= min(r(Q), r(t)) for every t: Q reaches both ends within r(Q), and every t reaches Q within r(t).
    fits = ((np.maximum(span - rank_lo, rank_hi - span) <= resolution)
            & (span >= np.max(span - resolution)) & (span <= np.min(span + resolution)))
    if not fits.any():
        return None
    candidates = span[fits]
    return int(candidates[np.argmin(np.abs(candidates - rank))])  # the nearest; the smaller of two


def resolution_met(rank: int, rank_lo: int, rank_hi: int, tiers: Sequence[Tier],
                   stop_rule: str = "reported") -> tuple[int, bool, int]:
    """Return (tier index, whether the stop rule is met, the rank to report).

    ``reported``: met when `reported_rank` finds a Q; the tier is Q's. ``estimate`` (the earlier rule):
    met when the interval lies within r of the estimated rank, r the resolution of the tier of the
    interval's most optimistic rank.
    """
    if stop_rule == "reported":
        q = reported_rank(rank, rank_lo, rank_hi, tiers)
        report = rank if q is None else q
        return int(tier_index(np.array([report]), tiers)[0]), q is not None, report
    tier = int(tier_index(np.array([rank_lo]), tiers)[0])
    r = tiers[tier].resolution
    return tier, rank - r <= rank_lo and rank_hi <= rank + r, rank


def within_resolution(reported: int, truth: int, tiers: Sequence[Tier]) -> bool:
    """Whether `reported` is within the resolution of both its own tier and the tier of `truth`."""
    r = min(int(tier_resolution(np.array([reported]), tiers)[0]), int(tier_resolution(np.array([truth]), tiers)[0]))
    return abs(reported - truth) <= r


# ---------------------------------------------------------------------------------------------
# Running Flash for one model


def _stage_result(model: str, sample: StageSample, new_items: Sequence[np.ndarray], orders: Sequence[np.ndarray],
                  reference: Reference, config: FlashConfig, seed: int) -> StageResult:
    if config.estimator == "greg":
        rank, lo, hi, estimate, half = rank_greg(new_items, sample, orders, reference, config)
    else:
        # One generator per model and stage: a replay and a real run of the same stage agree exactly.
        rng = np.random.default_rng([model_seed(seed, model), sample.index])
        rank, lo, hi, estimate, half = rank_bootstrap(new_items, sample, orders, reference, config, rng)
    tier, met, report = resolution_met(rank, lo, hi, config.tiers, config.stop_rule)
    last = sample.size is None or all(len(t) == p for t, p in zip(sample.sampled, sample.population, strict=True))
    return StageResult(stage_label(sample.size), sample.items_used, report, lo, hi, tier, met or last,
                       estimate, half)


def _walk(model: str, new_items: Sequence[np.ndarray], reference: Reference, config: FlashConfig, seed: int,
          availability_known: bool) -> tuple[list[StageResult], StageSample | None, int]:
    """Return the stages up to the first that meets the stop rule (or the last run), the pending stage of
    a plan (None when none is pending) and the number of items skipped."""
    orders = orders_for(model, reference, config, seed)
    evaluated = [np.isfinite(v) for v in new_items]
    results: list[StageResult] = []
    skipped = 0
    for sample in stage_samples(orders, evaluated, config.stage_sizes(reference.largest_scenario),
                                availability_known=availability_known):
        skipped = int(sum(len(k) for k in sample.skipped))
        if sample.pending:
            return results, sample, skipped
        results.append(_stage_result(model, sample, new_items, orders, reference, config, seed))
        if results[-1].resolution_met:
            break
    return results, None, skipped


def run_model(model: str, new_items: Sequence[np.ndarray], reference: Reference, config: FlashConfig,
              seed: int | None = None) -> FlashOutcome:
    """Replay Flash for a model whose scores are known (`new_items`, NaN = the model has no such item)."""
    seed = config.seed if seed is None else seed
    stages, _, skipped = _walk(model, new_items, reference, config, seed, availability_known=True)
    items_full = int(sum(np.isfinite(v).sum() for v in new_items))
    return FlashOutcome(model, tuple(stages), len(stages) - 1, items_full, seed=seed, skipped=skipped)


def replay_sample(models: Sequence[str], full_rank: np.ndarray, count: int, seed: int) -> list[str]:
    """Return the models a simulation replays: all of them when there are at most `count`, else `count`
    drawn one from each of `count` strata of consecutive full-data ranks (seeded), in `models` order."""
    if len(models) <= count:
        return list(models)
    by_rank = np.array(sorted(range(len(models)), key=lambda i: (full_rank[i], models[i])))
    rng = np.random.default_rng([seed, len(models), count])
    picks = sorted(int(stratum[rng.integers(stratum.size)]) for stratum in np.array_split(by_rank, count))
    return [models[i] for i in picks]


@dataclass(frozen=True)
class _Replay:
    """What every variant of a simulation shares: the replayed models, their references and truths."""

    held: tuple[str, ...]
    references: tuple[Reference, ...]
    new_items: tuple[tuple[np.ndarray, ...], ...]
    truths: tuple[int, ...]
    n_candidates: int


def _prepare(results: ResultsMatrix, holdout: Sequence[str] | None, config: FlashConfig) -> _Replay:
    names = list(results.models)
    # Only a model with per-item results can be replayed item by item.
    replayable = [m for i, m in enumerate(names) if any(np.isfinite(s[:, i]).any() for s in results.scores)]
    unknown = sorted(set(holdout or ()) - set(replayable))
    if unknown:
        raise ValueError(f"`holdout` names models without per-item results: {', '.join(unknown)}")
    exact = exact_overall_scores(results)  # the leaderboard's rule and arithmetic: its ranks are the truth
    overall = np.array([np.nan if v is None else float(v) for v in exact])
    full_rank = exact_competition_ranks(exact)
    if holdout:
        held = list(holdout)
    else:
        where = {m: i for i, m in enumerate(names)}
        held = replay_sample(replayable, full_rank[[where[m] for m in replayable]], config.max_replayed, config.seed)
    index = [names.index(m) for m in held]
    references = LeaveOneOut(results, overall, ~np.isnan(overall)).references(index)
    return _Replay(tuple(held), tuple(references), tuple(tuple(s[:, m] for s in results.scores) for m in index),
                   tuple(int(full_rank[m]) for m in index), len(replayable))


def simulate(
    results: ResultsMatrix,
    *,
    holdout: Sequence[str] | None = None,
    config: FlashConfig = FlashConfig(),
    variant: str | None = None,
    seeds: int | None = None,
    _replay: _Replay | None = None,
) -> FlashSimulation:
    """Replay Flash for each held-out model against the others, over `seeds` item orders (default
    `config.seeds`). By default every model is held out in turn (leave-one-out), or on a board of more than
    `config.max_replayed` models a seeded draw of that many, one from each stratum of consecutive full-data
    ranks (`replay_sample`); the summary says how many were replayed out of how many.

    Each held-out model is treated as new: ranked at every stage against the other models' full
    results, with difficulty, variance floor and critical value fitted on those others only. Its
    full-data rank (among all models) is the truth its Flash rank is judged against. A model's replay does
    not depend on which other models are replayed.
    """
    n_seeds = config.seeds if seeds is None else seeds
    if n_seeds < 1:
        raise ValueError(f"`seeds` must be at least 1, got {n_seeds!r}")
    replay = _prepare(results, holdout, config) if _replay is None else _replay
    by_seed: dict[int, list[FlashOutcome]] = {config.seed + k: [] for k in range(n_seeds)}
    for model, reference, new_items, truth in zip(replay.held, replay.references, replay.new_items, replay.truths,
                                              strict=True):
        for seed, outcomes in by_seed.items():
            outcome = run_model(model, new_items, reference, config, seed)
            final = outcome.final
            outcomes.append(replace(outcome, full_rank=truth,
                                    within_resolution=within_resolution(final.rank, truth, config.tiers),
                                    covered=final.rank_lo <= truth <= final.rank_hi))
    name = variant or config.describe()
    first = tuple(by_seed[config.seed])
    every = tuple(o for outcomes in by_seed.values() for o in outcomes)
    summary = replace(summarise(name, list(by_seed.values())), n_candidates=replay.n_candidates)
    return FlashSimulation(name, config, first, summary, every)


def summarise(variant: str, per_seed: Sequence[Sequence[FlashOutcome]]) -> FlashSummary:
    """Summarise replays: saving per seed (mean and range), validity pooled over every replay."""
    savings = [sum(o.items_full for o in outcomes) / max(sum(o.final.items_used for o in outcomes), 1)
               for outcomes in per_seed if outcomes]
    every = [o for outcomes in per_seed for o in outcomes]
    judged = [o for o in every if o.full_rank is not None]
    early = [o for o in judged if not o.used_every_item]
    collapsed = [o for o in early if not o.within_resolution and o.final.rank_lo == o.final.rank_hi]
    return FlashSummary(
        variant=variant,
        saving=float(np.mean(savings)) if savings else math.nan,
        saving_lo=min(savings, default=math.nan),
        saving_hi=max(savings, default=math.nan),
        within_resolution=float(np.mean([o.within_resolution for o in judged])) if judged else math.nan,
        within_resolution_early=float(np.mean([o.within_resolution for o in early])) if early else math.nan,
        n_every_item=len(judged) - len(early),
        largest_error=max((abs(o.final.rank - o.full_rank) for o in judged), default=0),
        coverage=float(np.mean([o.covered for o in judged])) if judged else math.nan,
        collapsed_misses=len(collapsed),
        n_models=len(per_seed[0]) if per_seed else 0,
        n_seeds=len(per_seed),
        n_replays=len(every),
    )


def comparison_configs(config: FlashConfig) -> tuple[FlashConfig, ...]:
    """Return the configured variant and the two it is compared with: the earlier rule (informed order,
    bootstrap, Bonferroni over the paper's stages) and the paper's uncorrected rule (random order, plain
    mean, no correction), each with the configured tiers, confidence and seeds."""
    shared = {"tiers": config.tiers, "confidence_level": config.confidence_level, "n_resamples": config.n_resamples,
              "seed": config.seed, "seeds": config.seeds, "max_replayed": config.max_replayed}
    old = FlashConfig(stages=PAPER_STAGES, order="informed", estimator="bootstrap", correction="bonferroni",
                      stop_rule="estimate", variance_floor=False, **shared)
    paper = FlashConfig(stages=PAPER_STAGES, order="random", estimator="bootstrap", correction="none",
                        stop_rule="estimate", variance_floor=False, **shared)
    default = FlashConfig(**shared)
    chosen = [config]
    for other in (default, old, paper):
        if all(other.describe() != c.describe() for c in chosen):
            chosen.append(other)
    return tuple(chosen)


def simulate_variants(results: ResultsMatrix, *, holdout: Sequence[str] | None = None,
                      config: FlashConfig = FlashConfig(), seeds: int | None = None) -> tuple[FlashSimulation, ...]:
    """Run the simulation for the configured variant and the comparisons, on the same data, models and seeds."""
    replay = _prepare(results, holdout, config)
    return tuple(simulate(results, config=c, seeds=seeds, _replay=replay) for c in comparison_configs(config))


# ---------------------------------------------------------------------------------------------
# Planning the next stage for a model being evaluated


@dataclass(frozen=True)
class Plan:
    """Where a model stands and which items it should be evaluated on next.

    `next_items` are (scenario index, item index) pairs; empty when the resolution is met (or the
    model has been evaluated on everything it can be). `skipped` counts the items of stages already
    run that the model has no result for: taken as items its harness cannot evaluate.
    """

    model: str
    completed_stage: str | None
    items_evaluated: int
    rank: int | None
    rank_lo: int | None
    rank_hi: int | None
    tier: int | None
    resolution_met: bool
    next_stage: str | None
    next_items: tuple[tuple[int, int], ...]
    skipped: int = 0


def item_level(results: ResultsMatrix) -> ResultsMatrix:
    """Return the scenarios with per-item results only: Flash samples items, so scenario-level
    results (wide tables) take no part in it."""
    return results.scenario_subset([i for i, r in enumerate(results.resampled) if r])


def reference_of(results: ResultsMatrix) -> Reference:
    """Return the reference made of every model in `results`, scored as on the leaderboard (`overall_scores`:
    the macro mean on all their items, a missing scenario at the lowest score there)."""
    scores = overall_scores(results) if results.models else np.zeros(0)
    return Reference(results.models, scores, results.scores)


def plan(model: str, new_items: Sequence[np.ndarray], reference: Reference, config: FlashConfig) -> Plan:
    """Return the Flash plan of `model` given the results it has so far (`new_items`, NaN = none).

    The stages are walked as in a replay (`stage_samples`, the same order): the model stops at the
    first stage that meets the stop rule. A stage counts as run once the model has a result for any of
    its items; its items without a result are then skipped (the harness could not evaluate them), so
    a model whose harness skips items still gets a rank and a plan that ends. The first stage not yet
    run is the next one: its items are the plan.
    """
    stages, pending, skipped = _walk(model, new_items, reference, config, config.seed, availability_known=False)
    evaluated = int(sum(np.isfinite(items).sum() for items in new_items))
    final = stages[-1] if stages else None
    rank, lo, hi, tier = (None, None, None, None) if final is None else (final.rank, final.rank_lo, final.rank_hi,
                                                                         final.tier)
    if pending is None:
        return Plan(model, final.stage if final else None, evaluated, rank, lo, hi, tier, True, None, (), skipped)
    missing = tuple((s, int(i)) for s, block in enumerate(pending.pending) for i in block)
    return Plan(model, final.stage if final else None, evaluated, rank, lo, hi, tier, False,
                stage_label(pending.size), missing, skipped)


def plans(results: ResultsMatrix, models: Sequence[str], config: FlashConfig) -> Iterator[Plan]:
    """Yield the plan of each of `models` against every other model of `results` (a model not in `results`
    starts new against all of them), as `plan` on `reference_of` the others would; the references are fitted a block
    of models at a time (`LeaveOneOut`), so a status of every model costs no copy of the results per model."""
    scores = overall_scores(results) if results.models else np.zeros(0)
    where = {m: i for i, m in enumerate(results.models)}
    index = [where.get(m) for m in models]
    references = LeaveOneOut(results, scores).references(index)
    for model, i, reference in zip(models, index, references, strict=True):
        have = [s[:, i] if i is not None else np.full(s.shape[0], np.nan) for s in results.scores]
        yield plan(model, have, reference, config)
