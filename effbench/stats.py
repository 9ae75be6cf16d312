"""Ranking statistics on results matrices: scores, ranks and paired-bootstrap intervals.

Pure numpy/scipy on arrays; nothing here reads files or the database.

Conventions
-----------
- A model's score in a scenario is the mean of its item scores, over the items it was evaluated on
  (missing results are left out, never counted as 0).
- A model's overall score is the mean of its scenario scores, over the scenarios it has a score in
  ("macro" mean: every scenario weighs the same, however many items it has).
- Rank 1 is best. Tied models share the best rank of their group (competition ranking: 1, 2, 2, 4).
  A model with no score ranks below every model with one.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats as scipy_stats

# Cap on the entries of one resample-weights block (resamples x items), so memory stays bounded
# for scenarios with very many items; blocks depend only on the data's shape, so results do not.
_MAX_WEIGHT_ENTRIES = 1 << 24


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
    """

    models: tuple[str, ...]
    scenarios: tuple[str, ...]
    scores: tuple[np.ndarray, ...]
    resampled: tuple[bool, ...]
    item_ids: tuple[tuple[str, ...], ...] = ()  # per scenario, the id of each row (optional)

    def __post_init__(self) -> None:
        if not (len(self.scenarios) == len(self.scores) == len(self.resampled)):
            raise ValueError("`scenarios`, `scores` and `resampled` must have one entry per scenario")
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
                             tuple(m[:, keep] for m in self.scores), self.resampled, self.item_ids)

    def scenario_means(self) -> np.ndarray:
        """Return the ``(n_scenarios, n_models)`` mean scores; NaN where a model has no item."""
        return np.stack([nanmean(matrix, axis=0) for matrix in self.scores])

    def items_scored(self) -> np.ndarray:
        """Return the ``(n_scenarios, n_models)`` number of items each model has a score on."""
        return np.stack([np.sum(~np.isnan(matrix), axis=0) for matrix in self.scores])


@dataclass(frozen=True)
class RankIntervals:
    """Result of `rank_intervals`: point estimates on all data and percentile intervals.

    Arrays indexed by model have shape ``(n_models,)``; by scenario and model ``(n_scenarios,
    n_models)``. ``*_lo``/``*_hi`` are NaN when no scenario has items to resample
    (`has_intervals` is False), and scenario-level values are NaN where a model has no result.
    `resampled_scores` and `resampled_ranks` are the raw ``(n_resamples, n_models)`` bootstrap
    distribution of the overall score and rank; `resampled_scenario_scores` is
    ``(n_resamples, n_scenarios, n_models)``.
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


def competition_ranks(scores: np.ndarray) -> np.ndarray:
    """Return integer ranks along the last axis, 1 = highest score; ties share the best rank of their
    group; NaN scores rank last."""
    filled = np.where(np.isnan(scores), -np.inf, scores)
    return scipy_stats.rankdata(-filled, method="min", axis=-1).astype(np.int64)


def rank_intervals(
    results: ResultsMatrix,
    *,
    n_resamples: int = 1000,
    confidence_level: float = 0.95,
    rng: int | np.random.Generator = 0,
) -> RankIntervals:
    """Return each model's rank and score with paired-bootstrap percentile intervals.

    Items are resampled with replacement within each scenario, the same resampled items for every
    model (a paired bootstrap: models are compared on the same questions), `n_resamples` times.
    Each resample recomputes every model's scenario means, overall score and ranks; the interval
    of each quantity is the central `confidence_level` share of its resampled values (percentile
    method; for integer ranks, the observed ranks at those quantiles).

    Parameters
    ----------
    results : ResultsMatrix
        The per-item results.
    n_resamples : int, default 1000
        Number of bootstrap resamples.
    confidence_level : float, default 0.95
        Coverage of the intervals, in (0, 1).
    rng : int or numpy.random.Generator, default 0
        Seed or generator; an int is recorded as the analysis's seed.

    Returns
    -------
    RankIntervals
    """
    _validate(results, n_resamples, confidence_level, rng)
    seed = int(rng) if isinstance(rng, int | np.integer) else None
    generator = np.random.default_rng(rng)

    scenario_score = results.scenario_means()
    score = aggregate(scenario_score)
    rank = competition_ranks(score)

    boot_scenario = np.stack(
        [_resampled_means(matrix, n_resamples, generator) if resampled
         else np.broadcast_to(nanmean(matrix, axis=0), (n_resamples, matrix.shape[1]))
         for matrix, resampled in zip(results.scores, results.resampled, strict=True)],
        axis=1,
    )  # (n_resamples, n_scenarios, n_models)
    boot_score = aggregate(boot_scenario)
    boot_rank = competition_ranks(boot_score)
    boot_scenario_rank = competition_ranks(boot_scenario)

    has_intervals = any(results.resampled)
    tail = (1 - confidence_level) / 2
    score_lo, score_hi = _percentile_interval(boot_score, tail, "linear")
    rank_lo, rank_hi = _percentile_interval(boot_rank, tail, "inverted_cdf")
    scen_lo, scen_hi = _percentile_interval(boot_scenario, tail, "linear")
    scen_rank_lo, scen_rank_hi = _percentile_interval(boot_scenario_rank, tail, "inverted_cdf")
    no_result = np.isnan(scenario_score)
    scenario_rank = np.where(no_result, np.nan, competition_ranks(scenario_score))
    scen_rank_lo, scen_rank_hi = (np.where(no_result, np.nan, bound) for bound in (scen_rank_lo, scen_rank_hi))
    if not has_intervals:
        score_lo = score_hi = rank_lo = rank_hi = np.full(len(results.models), np.nan)
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
    )


def _resampled_means(matrix: np.ndarray, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Return ``(n_resamples, n_models)`` means of `matrix` over items drawn with replacement.

    Each resample is a row of multinomial counts (how often each item was drawn); weighted sums
    are then one matrix product per block of resamples, and a model's mean uses only the drawn
    items it has a score on.
    """
    n_items = matrix.shape[0]
    scored = ~np.isnan(matrix)
    values = np.where(scored, matrix, 0.0)
    scored = scored.astype(np.float64)
    block = max(1, _MAX_WEIGHT_ENTRIES // n_items)
    uniform = np.full(n_items, 1.0 / n_items)
    means = []
    for start in range(0, n_resamples, block):
        weights = rng.multinomial(n_items, uniform, size=min(block, n_resamples - start)).astype(np.float64)
        counts = weights @ scored
        with np.errstate(invalid="ignore", divide="ignore"):
            means.append(np.where(counts > 0, (weights @ values) / counts, np.nan))
    return np.concatenate(means)


def _percentile_interval(samples: np.ndarray, tail: float, method: str) -> tuple[np.ndarray, np.ndarray]:
    """Return the `tail` and ``1 - tail`` quantiles over axis 0, ignoring NaN."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns give NaN, as intended
        lo, hi = np.nanquantile(samples, [tail, 1 - tail], axis=0, method=method)
    return lo, hi


def nanmean(values: np.ndarray, axis: int) -> np.ndarray:
    """Return np.nanmean along `axis`, NaN (without a warning) where there is nothing to average."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # mean of nothing is NaN, as intended
        return np.nanmean(values, axis=axis)


def _validate(results: ResultsMatrix, n_resamples: int, confidence_level: float, rng: object) -> None:
    if not isinstance(results, ResultsMatrix):
        raise TypeError(f"`results` must be a ResultsMatrix, got {type(results).__name__}")
    if not results.models or not results.scenarios:
        raise ValueError("`results` must hold at least one model and one scenario")
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, int | np.integer) or n_resamples < 1:
        raise ValueError(f"`n_resamples` must be a positive integer, got {n_resamples!r}")
    if not 0 < confidence_level < 1:
        raise ValueError(f"`confidence_level` must be in (0, 1), got {confidence_level!r}")
    if not isinstance(rng, int | np.integer | np.random.Generator) or isinstance(rng, bool):
        raise TypeError(f"`rng` must be an int seed or a numpy Generator, got {type(rng).__name__}")
