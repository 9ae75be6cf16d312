"""Ranking a model on a sample: the GREG estimator with its analytic variance, and the earlier
Poisson bootstrap."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import special
from scipy import stats as scipy_stats

from effbench.flash.config import FlashConfig
from effbench.flash.design import StageSample
from effbench.flash.reference import Reference


def least_favourable_proportion(successes: float, n: int, alpha: float) -> float:
    """Return the proportion nearest 0.5 inside the exact (Clopper-Pearson) 1 - `alpha` interval for `successes`
    of `n` (fractional successes, from scores between the scale's ends, use the same beta quantiles)."""
    successes = min(max(successes, 0.0), float(n))
    lower = 0.0 if successes <= 0 else float(special.betaincinv(successes, n - successes + 1, alpha / 2))
    upper = 1.0 if successes >= n else float(special.betaincinv(successes + 1, n - successes, 1 - alpha / 2))
    return min(max(0.5, lower), upper)


def greg_estimate(values: np.ndarray, x: np.ndarray, population_x: float, population: int, *,
                  rho: float = 1.0, floor: bool = True, floor_alpha: float = 0.05,
                  scale: tuple[float, float] = (0.0, 1.0)) -> tuple[float, float]:
    """Return (estimate, variance) of a scenario mean from a sample without replacement of `population`
    items: the GREG estimator on the auxiliary `x` (whose population mean is `population_x`) and its
    analytic variance (1 - n/N) s_e^2 / n.

    With `floor`, s_e^2 is at least rho * p (1 - p) (hi - lo)^2, p the least favourable proportion of the
    sample (`least_favourable_proportion`: nearest 0.5 within its exact 1 - `floor_alpha` interval, the
    look's level). Any true proportion the sample does not rule out at that level has a variance at most
    p (1 - p) on the scale (a score between lo and hi with that mean varies no more than a 0/1 one), so a
    sample that is all right or all wrong cannot narrow the interval below what the proportions it is
    consistent with would give. The Agresti-Coull proportion (x + 2) / (n + 4) used before goes to 0
    with an all-wrong sample and took the floor with it: after 23 wrong answers it is 0.07, while at a
    look's level of 0.6% Clopper-Pearson's upper end is 0.22. The floor uses only the sample and the
    reference's rho, and the critical value does not depend on it: a larger variance at a look only widens
    that look's interval, so the group-sequential error control is unchanged."""
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
        successes = float(np.clip((values - lo) / (hi - lo), 0, 1).sum())
        p = least_favourable_proportion(successes, n, floor_alpha)
        residual_var = max(residual_var, rho * p * (1 - p) * (hi - lo) ** 2)
    fpc = max(0.0, 1 - n / population) if population > 0 else 0.0
    return estimate, fpc * residual_var / n


def rank_against(reference_scores: np.ndarray, estimates: np.ndarray) -> np.ndarray:
    """Rank of each estimate among the reference: 1 + the reference models with a strictly higher score."""
    ordered = np.sort(reference_scores[~np.isnan(reference_scores)])
    return 1 + ordered.size - np.searchsorted(ordered, estimates, side="right")


def greg_estimates(values: np.ndarray, x: np.ndarray, population_x: Sequence[float], population: Sequence[int], *,
                   rho: Sequence[float], floor: bool = True, floor_alpha: float = 0.05,
                   scale: Sequence[tuple[float, float]]) -> tuple[list[float], list[float]]:
    """Return the estimates and variances of `greg_estimate` for each row of ``(k, n)`` `values` and `x`
    (k scenarios, each a sample of n items), with each row's `population_x`, `population`, `rho` and
    `scale`: the same floats, since each reduction runs along a row, summing it as it is summed alone,
    and the rest is the same arithmetic on each row's floats."""
    k, n = values.shape
    if n == 0:
        return [math.nan] * k, [math.inf] * k
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_y, mean_x, var_x = values.mean(axis=1), x.mean(axis=1), np.var(x, axis=1)
        slope = np.mean((x - mean_x[:, None]) * (values - mean_y[:, None]), axis=1) / var_x
        residual = (np.sum((values - mean_y[:, None] - slope[:, None] * (x - mean_x[:, None])) ** 2, axis=1) / (n - 2)
                    if n >= 3 else np.zeros(k))
        plain = np.var(values, axis=1, ddof=1) if n >= 2 else np.zeros(k)
        lo, hi = np.array([s[0] for s in scale], dtype=float), np.array([s[1] for s in scale], dtype=float)
        clipped = np.clip((values - lo[:, None]) / (hi - lo)[:, None], 0, 1).sum(axis=1)
    estimates, variances = [], []
    for my, mx, vx, b, res, var, total, px, size, r, (low, high) in zip(
            mean_y.tolist(), mean_x.tolist(), var_x.tolist(), slope.tolist(), residual.tolist(), plain.tolist(),
            clipped.tolist(), population_x, population, rho, scale, strict=True):
        estimate, residual_var = my, 0.0
        if n >= 3 and math.isfinite(px) and vx > 1e-12:
            estimate, residual_var = my + b * (px - mx), res
        elif n >= 2:
            residual_var = var
        if floor:
            p = least_favourable_proportion(total, n, floor_alpha)
            residual_var = max(residual_var, r * p * (1 - p) * (high - low) ** 2)
        fpc = max(0.0, 1 - n / size) if size > 0 else 0.0
        estimates.append(estimate)
        variances.append(fpc * residual_var / n)
    return estimates, variances


def population_difficulty(sample: StageSample, orders: Sequence[np.ndarray], reference: Reference) -> list[float]:
    """Return, per scenario, the mean filled difficulty of the items not skipped (NaN when none is left),
    summed in the order's order; scenarios of equal size without skipped items are averaged together."""
    out = [math.nan] * len(orders)
    whole: dict[int, list[int]] = {}
    for s, skipped in enumerate(sample.skipped):
        if len(skipped):
            # setdiff1d keeps the order's order: the same items, the same sum
            keep = np.setdiff1d(orders[s], skipped, assume_unique=True)
            out[s] = float(reference.filled_difficulty[s][keep].mean()) if keep.size else math.nan
        elif len(orders[s]):
            whole.setdefault(len(orders[s]), []).append(s)
    for group in whole.values():
        means = np.stack([reference.filled_difficulty[s][orders[s]] for s in group]).mean(axis=1)
        for s, mean in zip(group, means.tolist(), strict=True):
            out[s] = mean
    return out


def rank_greg(new_items: Sequence[np.ndarray], sample: StageSample, orders: Sequence[np.ndarray], reference: Reference,
              config: FlashConfig) -> tuple[int, int, int, float, float]:
    """Return (rank, rank_lo, rank_hi, estimate, half_width) of a model from its GREG scenario estimates
    (`greg_estimates` over the scenarios of each sample size at once)."""
    rho, _ = reference.residual_fit
    values = reference.critical_values(config)
    critical_value = float(values[min(sample.index, values.size - 1)])
    look_alpha = float(2 * scipy_stats.norm.sf(critical_value))  # this look's own two-sided level
    population_x = population_difficulty(sample, orders, reference)
    by_size: dict[int, list[int]] = {}
    for s, sampled in enumerate(sample.sampled):
        if len(sampled):
            by_size.setdefault(len(sampled), []).append(s)
    if not by_size:
        return 1, 1, len(reference.models) + 1, math.nan, math.inf
    estimated: dict[int, tuple[float, float]] = {}
    for group in by_size.values():
        values = np.stack([new_items[s][sample.sampled[s]] for s in group])
        x = np.stack([reference.filled_difficulty[s][sample.sampled[s]] for s in group])
        estimates, variances = greg_estimates(
            values, x, [population_x[s] for s in group], [sample.population[s] for s in group],
            rho=[float(rho[s]) for s in group], floor=config.variance_floor, floor_alpha=look_alpha,
            scale=[reference.score_range[s] for s in group])
        estimated.update(zip(group, zip(estimates, variances, strict=True), strict=True))
    in_order = [estimated[s] for s in sorted(estimated)]  # the scenarios' order, as the sums were taken
    estimate = float(np.mean([e for e, _ in in_order]))
    # A look that spends no error has an infinite critical value: it bounds nothing, even where the sample shows
    # no spread (no floor), unless every item is in (the estimate is then exact).
    half_width = (0.0 if sample.complete else math.inf if math.isinf(critical_value)
                  else critical_value * math.sqrt(sum(v for _, v in in_order)) / len(in_order))
    rank = int(rank_against(reference.scores, np.array([estimate]))[0])
    lo, hi = rank_against(reference.scores, np.array([estimate + half_width, estimate - half_width]))
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
    """Return the scenario mean estimate for each row of `weights` (``(n_resamples, n_sampled)``). The caller
    ignores numpy's invalid and divide warnings (`rank_bootstrap` does, once for all its scenarios)."""
    total = weights.sum(axis=1)
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
    exact = sample.complete
    point, boots = [], []
    populations = population_difficulty(sample, orders, reference)
    ones: dict[int, np.ndarray] = {}  # the point estimate's weights, one row per sample size
    # One warnings context for every scenario: a board may have thousands, and entering one costs more than
    # a small scenario's estimate.
    with np.errstate(invalid="ignore", divide="ignore"):
        for s, sampled in enumerate(sample.sampled):
            if len(sampled) == 0:
                continue
            values = new_items[s][sampled]
            x = reference.filled_difficulty[s][sampled]
            population_x = populations[s]
            use_regression = regression and not exact and len(sampled) >= 3
            unit = ones.get(len(sampled))
            if unit is None:
                unit = ones[len(sampled)] = np.ones((1, len(sampled)))
            point.append(_bootstrap_estimates(values, x, population_x, unit, use_regression)[0])
            if not exact:
                draws = rng.integers(0, _POISSON_WEIGHTS.size, size=(config.n_resamples, len(sampled)), dtype=np.uint16)
                weights = _POISSON_WEIGHTS[draws]
                weights[weights.sum(axis=1) == 0] = 1.0  # an empty resample keeps the sample as it is
                boots.append(_bootstrap_estimates(values, x, population_x, weights, use_regression))
    if not point:
        return 1, 1, len(reference.models) + 1, math.nan, math.inf
    estimate = float(np.mean(point))
    rank = int(rank_against(reference.scores, np.array([estimate]))[0])
    if exact:
        return rank, rank, rank, estimate, 0.0
    means = np.mean(np.stack(boots, axis=1), axis=1)
    ranks = rank_against(reference.scores, means)
    tail = (1 - level) / 2
    lo, hi = np.quantile(ranks, [tail, 1 - tail], method="inverted_cdf")
    spread = np.quantile(means, [tail, 1 - tail])
    return rank, int(min(lo, rank)), int(max(hi, rank)), estimate, float(spread[1] - spread[0]) / 2
