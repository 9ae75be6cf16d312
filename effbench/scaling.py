"""Scaling trends: each scenario's score against model size, and the models far from that trend.

Pure numpy/scipy on arrays; nothing here reads files or the database.

Method
------
- The trend is a sigmoid in log10(parameters): ``score = expit(a + b * log10(N))`` for scores on
  [0, 1], fitted by least squares on the logit scale (scores are clipped to [0.01, 0.99] first, so a
  model at 0 or 1 does not pull the fit without bound). Scores outside [0, 1] get a straight line in
  log10(N) on their own scale.
- Bands: a bootstrap over models (pairs drawn with replacement, the fit repeated on each draw); the
  band at each size is the central `confidence_level` share of the resampled curves.
- A model's deviation is its score minus the trend fitted *without it* (leave one out, so a far-off
  model does not pull the trend towards itself). Its interval combines the uncertainty of that trend
  (the bootstrap) with the uncertainty of the model's own score (its standard error, if given).
- A model is flagged when its whole deviation interval lies more than `margin` (score units) above or
  below the trend: clearly off the trend, and by an amount that matters. (An interval merely excluding
  0 is not enough: with thousands of items nearly every model differs from the trend a little.)
- `z` says how unusual the deviation is among models of that size, on the link scale:
  ``z = deviation / sqrt(scatter^2 + var(trend) + se^2)``, where scatter is the other models' spread
  around the trend. It is reported, not used for the flag.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import special

from effbench.stats import percentile_interval

_CLIP = 0.01  # scores are clipped to [_CLIP, 1 - _CLIP] before the logit
_GRID_POINTS = 60


@dataclass(frozen=True)
class ScalingFit:
    """The trend of one scenario and every fitted model's place against it.

    Arrays indexed by model have shape ``(n_fitted,)`` in the order of `models`. ``curve*`` are
    on `grid` (log10 parameters). `resampled_coefficients` is the raw ``(n_resamples, 2)``
    bootstrap distribution of (intercept, slope) on the link scale; NaN where a draw held a single size.
    """

    scenario: str
    link: str  # "logit" (sigmoid in log N) or "identity" (a line in log N)
    intercept: float
    slope: float
    slope_lo: float
    slope_hi: float
    scatter: float  # residual standard deviation of the models around the trend, link scale
    grid: np.ndarray
    curve: np.ndarray
    curve_lo: np.ndarray
    curve_hi: np.ndarray
    models: tuple[str, ...]
    params: np.ndarray
    scores: np.ndarray
    expected: np.ndarray  # the leave-one-out trend at each model's size
    deviation: np.ndarray
    deviation_lo: np.ndarray
    deviation_hi: np.ndarray
    z: np.ndarray
    flagged: np.ndarray  # the deviation interval lies beyond +-margin
    margin: float
    resampled_coefficients: np.ndarray


@dataclass(frozen=True)
class ScalingResult:
    """Result of `scaling_trends`: one fit per scenario with enough sized models.

    `unfitted` names the scenarios with fewer than `min_models` models of known size; `no_params` the
    models without a parameter count, which no fit uses.
    """

    fits: tuple[ScalingFit, ...]
    unfitted: tuple[str, ...]
    no_params: tuple[str, ...]
    n_resamples: int
    confidence_level: float
    seed: int | None


def scaling_trends(
    params: np.ndarray,
    scores: np.ndarray,
    *,
    models: tuple[str, ...],
    scenarios: tuple[str, ...],
    score_se: np.ndarray | None = None,
    n_resamples: int = 1000,
    confidence_level: float = 0.95,
    min_models: int = 5,
    margin: float = 0.05,
    rng: int | np.random.Generator = 0,
) -> ScalingResult:
    """Return each scenario's trend of score against log-parameters, with bands and flagged models.

    Parameters
    ----------
    params : array_like, shape (n_models,)
        Parameter counts (any unit, e.g. billions); NaN or <= 0 = unknown.
    scores : array_like, shape (n_scenarios, n_models)
        Each model's score in each scenario; NaN = no result.
    models, scenarios : tuple of str
        Names of the columns and rows of `scores`.
    score_se : array_like, shape (n_scenarios, n_models), optional
        Standard error of each score (e.g. from the item bootstrap); NaN or omitted = 0.
    n_resamples : int, default 1000
        Bootstrap draws of the models.
    confidence_level : float, default 0.95
        Coverage of the bands and intervals, and 1 - the flag's family-wise error per scenario.
    min_models : int, default 5
        Fewest models of known size a scenario needs for a trend (at least 4).
    margin : float, default 0.05
        A model is flagged when its deviation interval lies entirely beyond this distance from the
        trend, in score units.
    rng : int or numpy.random.Generator, default 0
        Seed or generator.

    Returns
    -------
    ScalingResult
    """
    params, scores, score_se = _validate(params, scores, models, scenarios, score_se, n_resamples,
                                         confidence_level, min_models, margin, rng)
    seed = int(rng) if isinstance(rng, int | np.integer) else None
    generator = np.random.default_rng(rng)
    sized = np.isfinite(params) & (params > 0)
    fits, unfitted = [], []
    for row, scenario in enumerate(scenarios):
        use = sized & np.isfinite(scores[row])
        if use.sum() < min_models or np.unique(params[use]).size < 2:
            unfitted.append(scenario)
            continue
        index = np.flatnonzero(use)
        fits.append(_fit_one(scenario, np.log10(params[index]), scores[row, index], score_se[row, index],
                             tuple(models[i] for i in index), n_resamples, confidence_level, margin, generator))
    return ScalingResult(
        fits=tuple(fits), unfitted=tuple(unfitted),
        no_params=tuple(m for m, known in zip(models, sized, strict=True) if not known),
        n_resamples=n_resamples, confidence_level=confidence_level, seed=seed,
    )


def _fit_one(scenario: str, x: np.ndarray, scores: np.ndarray, se: np.ndarray, models: tuple[str, ...],
             n_resamples: int, confidence_level: float, margin: float, rng: np.random.Generator) -> ScalingFit:
    n = x.size
    logit = bool(np.all((scores >= 0) & (scores <= 1)))
    if logit:
        clipped = np.clip(scores, _CLIP, 1 - _CLIP)
        y = special.logit(clipped)
        se_link = se / (clipped * (1 - clipped))  # delta method
        inverse = special.expit
    else:
        y, se_link, inverse = scores, se, (lambda v: v)
    tail = (1 - confidence_level) / 2

    boot = rng.multinomial(n, np.full(n, 1.0 / n), size=n_resamples).astype(np.float64)  # (R, n)
    a, b = _weighted_line(np.ones((1, n)), x, y)
    boot_a, boot_b = _weighted_line(boot, x, y)
    grid = np.linspace(x.min() - 0.1, x.max() + 0.1, _GRID_POINTS)
    boot_curves = inverse(boot_a[:, None] + boot_b[:, None] * grid)
    curve_lo, curve_hi = percentile_interval(boot_curves, tail)

    # Leave-one-out: the same draws with the model's own weight set to 0.
    leave_out = 1.0 - np.eye(n)  # (n, n): row m drops model m
    loo_a, loo_b = _weighted_line(leave_out, x, y)
    expected_link = loo_a + loo_b * x
    residuals = y[None, :] - (loo_a[:, None] + loo_b[:, None] * x[None, :])  # (n, n)
    residuals[np.arange(n), np.arange(n)] = np.nan
    scatter_loo = np.sqrt(np.nansum(residuals ** 2, axis=1) / max(n - 3, 1))
    boot_loo_a, boot_loo_b = _leave_one_out_lines(boot, x, y)  # (R, n)
    boot_expected = (boot_loo_a + boot_loo_b * x[None, :]).T  # (n, R)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        trend_var = np.nanvar(boot_expected, axis=1)
    z = (y - expected_link) / np.sqrt(scatter_loo ** 2 + trend_var + se_link ** 2)

    expected = inverse(expected_link)
    noise = rng.standard_normal((n, n_resamples)) * se[:, None]
    boot_deviation = scores[:, None] + noise - inverse(boot_expected)
    deviation_lo, deviation_hi = percentile_interval(boot_deviation.T, tail)
    residual_all = y - (a[0] + b[0] * x)
    slope_lo, slope_hi = percentile_interval(boot_b[:, None], tail)
    return ScalingFit(
        scenario=scenario, link="logit" if logit else "identity", intercept=float(a[0]), slope=float(b[0]),
        slope_lo=float(slope_lo[0]), slope_hi=float(slope_hi[0]),
        scatter=float(np.sqrt(np.sum(residual_all ** 2) / max(n - 2, 1))),
        grid=grid, curve=inverse(a[0] + b[0] * grid), curve_lo=curve_lo, curve_hi=curve_hi,
        models=models, params=10.0 ** x, scores=scores, expected=expected,
        deviation=scores - expected, deviation_lo=deviation_lo, deviation_hi=deviation_hi,
        z=z, flagged=(deviation_lo > margin) | (deviation_hi < -margin), margin=margin,
        resampled_coefficients=np.column_stack([boot_a, boot_b]),
    )


def _weighted_line(weights: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the weighted least-squares intercepts and slopes of y on x, one per row of `weights`
    (any leading shape); NaN where the weighted x has no spread."""
    sw, sx, sy = weights.sum(-1), weights @ x, weights @ y
    sxx, sxy = weights @ (x * x), weights @ (x * y)
    denominator = sw * sxx - sx * sx
    spread = denominator > 1e-12 * np.maximum(sw * sxx, 1e-300)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = np.where(spread, (sw * sxy - sx * sy) / np.where(spread, denominator, 1.0), np.nan)
        intercept = np.where(spread, (sy - slope * sx) / np.where(sw > 0, sw, 1.0), np.nan)
    return intercept, slope


def _leave_one_out_lines(weights: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the ``(n_draws, n_models)`` intercepts and slopes of each draw of `weights` without model m,
    from the draw's weighted sums minus model m's share: memory grows as draws x models, not x models^2."""
    sw, sx, sy = (weights.sum(-1)[:, None] - weights, (weights @ x)[:, None] - weights * x,
                  (weights @ y)[:, None] - weights * y)
    sxx, sxy = (weights @ (x * x))[:, None] - weights * x * x, (weights @ (x * y))[:, None] - weights * x * y
    denominator = sw * sxx - sx * sx
    spread = denominator > 1e-9 * np.maximum(sw * sxx, 1e-300)  # looser than one fit: sums minus shares
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = np.where(spread, (sw * sxy - sx * sy) / np.where(spread, denominator, 1.0), np.nan)
        intercept = np.where(spread, (sy - slope * sx) / np.where(sw > 0, sw, 1.0), np.nan)
    return intercept, slope


def _validate(params, scores, models, scenarios, score_se, n_resamples, confidence_level, min_models, margin, rng):
    params = np.asarray(params, dtype=np.float64)
    scores = np.asarray(scores, dtype=np.float64)
    if params.ndim != 1 or params.shape[0] != len(models):
        raise ValueError(f"`params` must have one entry per model ({len(models)}), got shape {params.shape}")
    if scores.shape != (len(scenarios), len(models)):
        raise ValueError(f"`scores` must be (n_scenarios, n_models) = ({len(scenarios)}, {len(models)}), "
                         f"got {scores.shape}")
    if score_se is None:
        score_se = np.zeros_like(scores)
    score_se = np.nan_to_num(np.asarray(score_se, dtype=np.float64), nan=0.0)
    if score_se.shape != scores.shape or np.any(score_se < 0):
        raise ValueError("`score_se` must be non-negative and shaped like `scores`")
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, int | np.integer) or n_resamples < 1:
        raise ValueError(f"`n_resamples` must be a positive integer, got {n_resamples!r}")
    if not 0 < confidence_level < 1:
        raise ValueError(f"`confidence_level` must be in (0, 1), got {confidence_level!r}")
    if isinstance(min_models, bool) or not isinstance(min_models, int | np.integer) or min_models < 4:
        raise ValueError(f"`min_models` must be an integer of at least 4, got {min_models!r}")
    if not (isinstance(margin, int | float) and margin >= 0 and np.isfinite(margin)):
        raise ValueError(f"`margin` must be a non-negative number, got {margin!r}")
    if not isinstance(rng, int | np.integer | np.random.Generator) or isinstance(rng, bool):
        raise TypeError(f"`rng` must be an int seed or a numpy Generator, got {type(rng).__name__}")
    return params, scores, score_se
