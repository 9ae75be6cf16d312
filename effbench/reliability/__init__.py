"""How much each benchmark design decision changes the ranking: DIoR, after Perlitz et al. (2024).

    DIoR = lower bound of the central interval, over random instantiations c of a decision,
           of f(s_c0(M), s_c(M))

with c0 the decision as the benchmark made it (all items, all scenarios, the macro mean, all models),
s the scores of the models M, and f a similarity meta-metric. Pure numpy/scipy: arrays in, frozen
results out. Every decision is drawn `n_draws` times as matrices (selection weights times the
items x models score matrix), with no Python loop over draws.

Meta-metrics (``META_METRICS``), each on its own range:

- ``kendall_tau``: Kendall's tau-b between the two score vectors, on [-1, 1] (not rescaled; 1 =
  same order, 0 = unrelated).
- ``weighted_tau``: scipy's top-weighted (hyperbolic) tau, on [-1, 1]: swaps near the top count more.
- ``top1``: 1 when the best model is the same, else 0 (a tie at the top counts as a random pick
  among the tied models would). A 0/1 value has a degenerate percentile
  interval, so for ``top1`` effbench reports the *agreement rate* (1 - the rate at which the leader
  changes) as both `mean` and `dior`, and the Wilson interval of that rate as `lo`-`hi`.
- ``tier_agreement``: share of models whose rank stays within the resolution of the tier their
  full-data rank is in, on [0, 1]: the board-size tiers of `effbench.tiers` (the paper's below 500
  models, shares of the board above), as Flash and the leaderboard's tier groups use them.
- ``score_change``: 1 - the mean absolute change of the models' scores, on [0, 1] for scores in
  [0, 1]; only where both sides use the same score scale.

The analysis is a package, a module per concern, and every name stays importable from here:
`results` (the frozen results), `metrics` (aggregations and meta-metrics), `draws` (each decision's
instantiations), `resolution` (rank resolution, scenario agreement, mean-win-rate instability,
disagreements) and `advice` (the recommendations). `dior` itself is here.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from effbench.reliability.advice import below, recommend  # noqa: F401
from effbench.reliability.draws import (  # noqa: F401
    ALL_SCENARIO_LEVELS,
    EXAMPLE_LEVELS,
    _aggregation,
    _allocation,
    _examples,
    _models,
    _Prepared,
    _prompts,
    _scenarios,
    scenario_levels,
)
from effbench.reliability.metrics import (  # noqa: F401
    _METRIC_FUNCTIONS,
    AGGREGATIONS,
    DEFAULT_AGGREGATION,
    DEFAULT_METRICS,
    META_METRICS,
    METRIC_RANGES,
    WEIGHTED_TAU_DRAWS,
    aggregate_scores,
    kendall_tau,
    mean_win_rate,
    score_change,
    summarise,
    tier_agreement,
    top1_agreement,
    weighted_tau,
    wilson_interval,
)
from effbench.reliability.resolution import (  # noqa: F401
    AGREEMENT_SCENARIOS,
    DISAGREEMENT_NEIGHBOURS,
    MWR_REMOVALS,
    _rank_resolution,
    agreement_scenarios,
    disagreements,
    mwr_instability,
    scenario_agreement,
)
from effbench.reliability.results import (  # noqa: F401
    DiorRow,
    Disagreement,
    MwrInstability,
    RankResolution,
    ReliabilityResult,
)
from effbench.stats import ResultsMatrix

DECISIONS = ("examples", "scenarios", "aggregation", "models", "prompts", "allocation")


def dior(
    results: ResultsMatrix,
    *,
    decisions: Sequence[str] = DECISIONS,
    metrics: Sequence[str] = DEFAULT_METRICS,
    prompt_scores: Sequence[np.ndarray] | None = None,
    n_draws: int = 1000,
    confidence_level: float = 0.95,
    target: float = 0.9,
    rng: int | np.random.Generator = 0,
) -> ReliabilityResult:
    """Return the DIoR of each design decision at each level, for each meta-metric.

    Parameters
    ----------
    results : ResultsMatrix
        Per-item results; the full data is the reference design c0.
    decisions : sequence of str
        Any of ``DECISIONS``. ``prompts`` needs `prompt_scores` and is skipped without them.
    metrics : sequence of str
        Any of ``META_METRICS``.
    prompt_scores : sequence of ndarray, optional
        Per scenario, ``(n_items, n_prompts, n_models)`` scores (NaN = not evaluated).
    n_draws : int, default 1000
        Random instantiations per level.
    confidence_level : float, default 0.95
        The DIoR is the lower end of this central interval of the meta-metric.
    target : float, default 0.9
        The DIoR that the recommendations call reliable.
    rng : int or numpy.random.Generator, default 0

    Returns
    -------
    ReliabilityResult
    """
    _validate(decisions, metrics, n_draws, confidence_level, target, rng)
    seed = int(rng) if isinstance(rng, int | np.integer) else None
    generator = np.random.default_rng(rng)
    prep = _Prepared(results)
    orders = prep.item_orders(n_draws, generator) if {"examples", "allocation"} & set(decisions) else []

    rows, resolution = [], []
    for decision in DECISIONS:
        if decision not in decisions:
            continue
        if decision == "examples":
            levels = _examples(prep, orders)
            resolution = [_rank_resolution(inst) for inst in levels]
        elif decision == "scenarios":
            levels = _scenarios(prep, n_draws, generator)
        elif decision == "aggregation":
            levels = _aggregation(prep)
        elif decision == "models":
            levels = _models(prep, n_draws, generator)
        elif decision == "prompts":
            if not prompt_scores:
                continue
            levels = _prompts(prep, prompt_scores, n_draws, generator)
        else:
            levels = _allocation(prep, orders, n_draws, generator)
        for order, inst in enumerate(levels):
            for metric in metrics:
                if metric == "score_change" and not inst.same_scale:
                    continue
                values = _METRIC_FUNCTIONS[metric](inst.reference, inst.draws)
                mean, lo, hi, value = summarise(values, metric, confidence_level)
                rows.append(DiorRow(decision, inst.level, metric, mean, lo, hi, value, float(inst.compute_fraction),
                                    values.shape[0], seed, METRIC_RANGES[metric], inst.aggregation, order))

    shown = agreement_scenarios(prep.sizes)
    agreement = scenario_agreement(prep.scenario_scores[shown])
    instability = mwr_instability(results) if "aggregation" in decisions else ()
    return ReliabilityResult(
        rows=tuple(rows), rank_resolution=tuple(resolution), mwr_instability=instability,
        scenario_agreement=agreement, scenarios=tuple(results.scenarios[s] for s in shown),
        recommendations=recommend(rows, resolution, target, len(results.models), confidence_level), n_draws=n_draws,
        confidence_level=confidence_level, seed=seed, target=target,
    )


def _validate(decisions, metrics, n_draws, confidence_level, target, rng) -> None:
    unknown = sorted(set(decisions) - set(DECISIONS))
    if unknown:
        raise ValueError(f"`decisions` must be among {', '.join(DECISIONS)}; unknown: {', '.join(unknown)}")
    unknown = sorted(set(metrics) - set(META_METRICS))
    if unknown:
        raise ValueError(f"`metrics` must be among {', '.join(META_METRICS)}; unknown: {', '.join(unknown)}")
    if isinstance(n_draws, bool) or not isinstance(n_draws, int | np.integer) or n_draws < 2:
        raise ValueError(f"`n_draws` must be an integer >= 2, got {n_draws!r}")
    if not 0 < confidence_level < 1:
        raise ValueError(f"`confidence_level` must be in (0, 1), got {confidence_level!r}")
    if not -1 <= target <= 1:
        raise ValueError(f"`target` must be in [-1, 1], got {target!r}")
    if not isinstance(rng, int | np.integer | np.random.Generator) or isinstance(rng, bool):
        raise TypeError(f"`rng` must be an int seed or a numpy Generator, got {type(rng).__name__}")
