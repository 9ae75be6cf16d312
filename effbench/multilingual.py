"""Multilingual and grouped results: the per-family scaling law of sampling ratios, and rankings per
group of scenarios (language, language family, domain) with the disagreements an overall rank hides.

Pure numpy/scipy on arrays; nothing here reads files or the database.

Scaling law (He et al., "Scaling Laws for Multilingual Language Models", arXiv 2410.12883)
------------------------------------------------------------------------------------------
A language family i's test loss depends on the model's parameters N, its training tokens D and the
family's share p_i of the training mixture only:

    L_i(N, D, p_i) = (E_i + A_i / N^alpha_i + B_i / D^beta_i) * p_i^(-gamma_i)

Our choices where the paper leaves them open: each family is fitted on its own by least squares on
log L (so every run weighs the same whatever its loss), with E, A, B kept positive through their logs
and the best of several starting points; intervals are Wald intervals from the Jacobian at the optimum
(t quantiles with n - 6 degrees of freedom; on the log scale for E, A and B, so their intervals are
asymmetric). The normalised loss L_i / L_i(p_i = 1) = p_i^(-gamma_i) does not depend on N or D, so
the mixture minimising the summed normalised loss is the same at every scale: it solves
gamma_i * p_i^(-(1 + gamma_i)) = lambda for all i with sum p_i = 1. Its interval comes from drawing
the gammas from their fitted normal distribution.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize
from scipy import stats as scipy_stats

from effbench.paired import overall_p_value
from effbench.stats import RankIntervals, ResultsMatrix, rank_intervals

PARAMETERS = ("E", "A", "alpha", "B", "beta", "gamma")
_LOG_PARAMETERS = (True, True, False, True, False, False)  # fitted on the log scale


@dataclass(frozen=True)
class FamilyFit:
    """The fitted law of one family: each parameter with its interval, in the order of `PARAMETERS`."""

    family: str
    n_runs: int
    estimate: tuple[float, ...]
    lo: tuple[float, ...]
    hi: tuple[float, ...]
    rmse_log: float  # root mean squared residual of log L

    def parameter(self, name: str) -> tuple[float, float, float]:
        """Return (estimate, lo, hi) of parameter `name`."""
        i = PARAMETERS.index(name)
        return self.estimate[i], self.lo[i], self.hi[i]


@dataclass(frozen=True)
class MultilingualFit:
    """Result of `fit_multilingual`: one fit per family and the optimal sampling ratios.

    `ratios`, `ratios_lo` and `ratios_hi` are in the order of `fits`; `resampled_ratios` holds the
    ``(n_draws, n_families)`` ratios of the drawn gammas behind the intervals.
    """

    fits: tuple[FamilyFit, ...]
    ratios: tuple[float, ...]
    ratios_lo: tuple[float, ...]
    ratios_hi: tuple[float, ...]
    resampled_ratios: np.ndarray
    confidence_level: float


def law_loss(params: np.ndarray, tokens: np.ndarray, ratio: np.ndarray, coefficients: Sequence[float]) -> np.ndarray:
    """Return L(N, D, p) = (E + A / N^alpha + B / D^beta) * p^(-gamma) for `coefficients` in the order of
    `PARAMETERS`."""
    e, a, alpha, b, beta, gamma = coefficients
    return (e + a / np.power(params, alpha) + b / np.power(tokens, beta)) * np.power(ratio, -gamma)


def fit_multilingual(
    family: Sequence[str],
    params: np.ndarray,
    tokens: np.ndarray,
    sampling_ratio: np.ndarray,
    loss: np.ndarray,
    *,
    confidence_level: float = 0.95,
    n_draws: int = 2000,
    rng: int | np.random.Generator = 0,
) -> MultilingualFit:
    """Return each family's fitted multilingual scaling law with intervals, and the optimal sampling ratios.

    Parameters
    ----------
    family : sequence of str, length n_runs
        The language family each training run's loss is measured on.
    params, tokens, sampling_ratio, loss : array_like, shape (n_runs,)
        Model parameters N, training tokens D, the family's share p of the training mixture (0 < p <= 1)
        and the family's test loss L (> 0) of each run.
    confidence_level : float, default 0.95
        Coverage of the intervals.
    n_draws : int, default 2000
        Draws of the gammas behind the intervals of the sampling ratios.
    rng : int or numpy.random.Generator, default 0
        Seed or generator of those draws.

    Returns
    -------
    MultilingualFit
    """
    family, columns = _validate_runs(family, params, tokens, sampling_ratio, loss, confidence_level, n_draws, rng)
    generator = np.random.default_rng(rng)
    fits, gamma_se = [], []
    for name in sorted(set(family)):
        rows = np.array([f == name for f in family])
        fit, se = _fit_family(name, *(c[rows] for c in columns), confidence_level)
        fits.append(fit)
        gamma_se.append(se)
    gammas = np.array([f.estimate[-1] for f in fits])
    ratios = optimal_ratios(gammas)
    draws = gammas + generator.standard_normal((n_draws, len(fits))) * np.array(gamma_se)
    resampled = optimal_ratios(draws)
    tail = (1 - confidence_level) / 2
    lo, hi = np.quantile(resampled, [tail, 1 - tail], axis=0)
    return MultilingualFit(fits=tuple(fits), ratios=tuple(float(r) for r in ratios),
                           ratios_lo=tuple(float(v) for v in lo), ratios_hi=tuple(float(v) for v in hi),
                           resampled_ratios=resampled, confidence_level=confidence_level)


def optimal_ratios(gammas: np.ndarray) -> np.ndarray:
    """Return the sampling ratios p (summing to 1) that minimise sum_i p_i^(-gamma_i); a family with
    gamma <= 0 gains nothing from data and gets 0. `gammas` may be ``(..., n_families)``: one solution
    per row."""
    gammas = np.maximum(np.asarray(gammas, dtype=np.float64), 0.0)
    positive = gammas > 0
    log_gamma = np.log(np.where(positive, gammas, 1.0))

    def ratios(log_lambda: np.ndarray) -> np.ndarray:
        return np.where(positive, np.exp((log_gamma - log_lambda[..., None]) / (1 + gammas)), 0.0)

    # The sum of the ratios falls monotonically in lambda: bisect log(lambda) in every row at once.
    low, high = np.full(gammas.shape[:-1], -60.0), np.full(gammas.shape[:-1], 60.0)
    for _ in range(200):
        middle = (low + high) / 2
        too_big = ratios(middle).sum(axis=-1) > 1.0
        low, high = np.where(too_big, middle, low), np.where(too_big, high, middle)
    found = ratios((low + high) / 2)
    total = found.sum(axis=-1, keepdims=True)
    uniform = np.full(gammas.shape, 1.0 / gammas.shape[-1])
    return np.where(positive.any(axis=-1, keepdims=True), found / np.where(total > 0, total, 1.0), uniform)


def _fit_family(name: str, params: np.ndarray, tokens: np.ndarray, ratio: np.ndarray, loss: np.ndarray,
                confidence_level: float) -> tuple[FamilyFit, float]:
    n = loss.size
    if n <= len(PARAMETERS):
        raise ValueError(f"family {name!r} has {n} runs; the law has {len(PARAMETERS)} parameters, so it needs "
                         f"at least {len(PARAMETERS) + 1}")
    log_loss = np.log(loss)
    log_n, log_d, log_p = np.log(params), np.log(tokens), np.log(ratio)

    def residuals(theta: np.ndarray) -> np.ndarray:
        log_e, log_a, alpha, log_b, beta, gamma = theta
        inner = np.logaddexp(np.logaddexp(log_e, log_a - alpha * log_n), log_b - beta * log_d)
        return inner - gamma * log_p - log_loss

    floor = float(np.log(loss.min()))
    best = None
    for alpha, beta, share in itertools.product((0.15, 0.5), (0.15, 0.5), (0.5,)):
        start = np.array([floor + np.log(share), floor + alpha * log_n.mean(), alpha,
                          floor + beta * log_d.mean(), beta, 0.1])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            result = optimize.least_squares(residuals, start, method="lm", x_scale="jac", max_nfev=5000)
        if np.all(np.isfinite(result.x)) and (best is None or result.cost < best.cost):
            best = result
    if best is None:
        raise ValueError(f"family {name!r}: the law could not be fitted to its runs")
    dof = n - len(PARAMETERS)
    sigma2 = 2 * best.cost / dof
    jacobian = best.jac
    covariance = np.linalg.pinv(jacobian.T @ jacobian) * sigma2
    se = np.sqrt(np.clip(np.diag(covariance), 0, None))
    t = scipy_stats.t.ppf(1 - (1 - confidence_level) / 2, dof)
    estimate, lo, hi = [], [], []
    for value, error, on_log in zip(best.x, se, _LOG_PARAMETERS, strict=True):
        transform = np.exp if on_log else float
        estimate.append(float(transform(value)))
        lo.append(float(transform(value - t * error)))
        hi.append(float(transform(value + t * error)))
    fit = FamilyFit(family=name, n_runs=int(n), estimate=tuple(estimate), lo=tuple(lo), hi=tuple(hi),
                    rmse_log=float(np.sqrt(2 * best.cost / n)))
    return fit, float(se[-1])


def _validate_runs(family, params, tokens, sampling_ratio, loss, confidence_level, n_draws, rng):
    family = [str(f) for f in family]
    columns = [np.asarray(c, dtype=np.float64) for c in (params, tokens, sampling_ratio, loss)]
    names = ("params", "tokens", "sampling_ratio", "loss")
    for name, column in zip(names, columns, strict=True):
        if column.shape != (len(family),):
            raise ValueError(f"`{name}` must have one entry per run ({len(family)}), got shape {column.shape}")
        if not np.all(np.isfinite(column)) or np.any(column <= 0):
            raise ValueError(f"`{name}` must hold positive finite numbers")
    if np.any(columns[2] > 1):
        raise ValueError("`sampling_ratio` must be a share of the training mixture, in (0, 1]")
    if not family:
        raise ValueError("`family` must name at least one run")
    if not 0 < confidence_level < 1:
        raise ValueError(f"`confidence_level` must be in (0, 1), got {confidence_level!r}")
    if isinstance(n_draws, bool) or not isinstance(n_draws, int | np.integer) or n_draws < 2:
        raise ValueError(f"`n_draws` must be an integer of at least 2, got {n_draws!r}")
    if not isinstance(rng, int | np.integer | np.random.Generator) or isinstance(rng, bool):
        raise TypeError(f"`rng` must be an int seed or a numpy Generator, got {type(rng).__name__}")
    return family, columns


# ---------------------------------------------------------------------------------------------
# Rankings per group of scenarios


@dataclass(frozen=True)
class GroupRanking:
    """The ranking of the models on one group's scenarios (a `RankIntervals` of that subset)."""

    group: str
    scenarios: tuple[str, ...]
    intervals: RankIntervals


@dataclass(frozen=True)
class GroupDisagreement:
    """Two models each clearly better than the other in some group: one overall rank hides that."""

    model_a: str
    model_b: str
    a_better_in: tuple[str, ...]
    b_better_in: tuple[str, ...]


@dataclass(frozen=True)
class GroupResult:
    """Result of `group_rankings`: one ranking per group (sorted by name) and the hidden disagreements."""

    groups: tuple[GroupRanking, ...]
    disagreements: tuple[GroupDisagreement, ...]


def group_rankings(
    results: ResultsMatrix,
    tags: Mapping[str, Sequence[str]],
    *,
    n_resamples: int = 1000,
    confidence_level: float = 0.95,
    rng: int = 0,
) -> GroupResult:
    """Return each tag's ranking on its scenarios with paired-bootstrap intervals, and every pair of models
    each clearly better than the other in some group.

    Parameters
    ----------
    results : ResultsMatrix
        The per-item results.
    tags : mapping of scenario name to its tags
        A scenario may carry several tags (e.g. a language and its family); scenarios not named carry none.
    n_resamples, confidence_level, rng
        As in `effbench.stats.rank_intervals`; each group uses the seed `rng`.

    Returns
    -------
    GroupResult
    """
    if not isinstance(results, ResultsMatrix):
        raise TypeError(f"`results` must be a ResultsMatrix, got {type(results).__name__}")
    members: dict[str, list[int]] = {}
    for s, scenario in enumerate(results.scenarios):
        for tag in tags.get(scenario, ()):
            members.setdefault(str(tag), []).append(s)
    groups = []
    for group in sorted(members):
        index = members[group]
        subset = results.scenario_subset(index)
        groups.append(GroupRanking(group, subset.scenarios, rank_intervals(
            subset, n_resamples=n_resamples, confidence_level=confidence_level, rng=rng)))
    subsets = [results.scenario_subset(members[group]) for group in sorted(members)]
    return GroupResult(tuple(groups), _disagreements(results.models, groups, subsets))


def _disagreements(models: tuple[str, ...], groups: Sequence[GroupRanking], subsets: Sequence[ResultsMatrix]
                   ) -> tuple[GroupDisagreement, ...]:
    """Return the pairs of models each clearly better than the other in some group: the paired-bootstrap
    interval of their score difference in the group excludes 0 and the sign-flip test of that
    difference (`effbench.paired.overall_p_value`) rejects, both at the groups' confidence level
    Bonferroni-corrected over the groups (an interval alone excludes 0 on a single differing item)."""
    if len(groups) < 2:
        return ()
    n = len(models)
    better = np.zeros((len(groups), n, n), dtype=bool)  # better[g, a, b]: a clearly above b in group g
    for g, group in enumerate(groups):
        intervals = group.intervals
        if not intervals.has_intervals:
            continue
        tail = (1 - intervals.confidence_level) / (2 * len(groups))
        draws = intervals.resampled_scores
        for a in range(n):  # one model at a time keeps memory at (n_resamples, n_models)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # a model without results in the group: NaN
                lo = np.nanquantile(draws[:, [a]] - draws, tail, axis=0)
            better[g, a] = lo > 0
    alpha = (1 - groups[0].intervals.confidence_level) / len(groups)
    for a, b in zip(*np.nonzero(better.any(axis=0) & better.any(axis=0).T), strict=True):
        for g in np.flatnonzero(better[:, a, b]):
            better[g, a, b] = overall_p_value(subsets[g], int(a), int(b)) < alpha
    found = []
    for a, b in zip(*np.nonzero(better.any(axis=0) & better.any(axis=0).T), strict=True):
        if a < b:
            found.append(GroupDisagreement(
                models[a], models[b], tuple(groups[g].group for g in np.flatnonzero(better[:, a, b])),
                tuple(groups[g].group for g in np.flatnonzero(better[:, b, a]))))
    return tuple(found)
