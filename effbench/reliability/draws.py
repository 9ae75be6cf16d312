"""The decisions' draws of the reliability analysis (`effbench.reliability`): for each design decision
(examples, scenarios, aggregation, models, prompts, allocation) and each of its levels, the reference
scores and the scores of every random instantiation, as matrices (selection weights times each
scenario's items x models scores) with no Python loop over draws. `_Prepared` holds the per-scenario
arrays they share, exact where the scores allow it, so that equal means tie exactly."""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from effbench.reliability.metrics import (
    AGGREGATIONS,
    DEFAULT_AGGREGATION,
    _mean_win_rates_of,
    aggregate_scores,
    mean_win_rate,
)
from effbench.stats import ResultsMatrix, mean_of_ratios, nanmean, score_unit

EXAMPLE_LEVELS = (5, 10, 20, 50, 100, 200, 500, 1000)
# Above this many draws x items x models in a scenario, item samples are summed from the previous
# (smaller) sample's sums, as sparse products where they add fewer than this share of the items.
_DENSE_SAMPLE_WORK = 1 << 32
_SPARSE_SHARE = 0.05
# Boards with more scenarios than this draw about this many numbers of scenarios, not every one.
ALL_SCENARIO_LEVELS = 50
# Draws x scenarios x models held at once when the scenarios decision gathers each draw's scenarios.
_MAX_GATHERED_ENTRIES = 1 << 22


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
        keys = np.where(present, np.rint(sums) * np.round(float(common) / np.where(present, denominators, 1.0)), 0.0)
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
