"""Running Flash for one model, and replaying it for every model of a board (the simulation)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from effbench.flash.config import DEFAULT_CONFIG, PAPER_STAGES, FlashConfig, stage_label
from effbench.flash.design import StageSample, model_seed, orders_for, stage_samples
from effbench.flash.estimators import rank_against, rank_bootstrap, rank_greg
from effbench.flash.reference import LeaveOneOut, Reference
from effbench.flash.results import FlashOutcome, FlashSimulation, FlashSummary, StageResult
from effbench.flash.stop_rule import resolution_met, within_resolution
from effbench.stats import (
    ResultsMatrix,
    exact_competition_ranks,
    exact_overall_scores,
)
from effbench.tiers import tier_index


def _stage_result(model: str, sample: StageSample, new_items: Sequence[np.ndarray], orders: Sequence[np.ndarray],
                  reference: Reference, config: FlashConfig, seed: int,
                  bounds: tuple[float, float] | None = None) -> tuple[StageResult, tuple[float, float] | None]:
    """Return the stage's result and the score bounds to carry to the next look: with `bounds` (the
    intersection of the earlier looks' intervals, `FlashConfig.intersects`) the rank interval is that of
    this look's interval intersected with them."""
    if config.estimator == "greg":
        rank, lo, hi, estimate, half = rank_greg(new_items, sample, orders, reference, config)
        if bounds is not None:
            bounds, lo, hi = intersected(bounds, estimate, half, reference, lo, hi)
    else:
        # One generator per model and stage: a replay and a real run of the same stage agree exactly.
        rng = np.random.default_rng([model_seed(seed, model), sample.index])
        rank, lo, hi, estimate, half = rank_bootstrap(new_items, sample, orders, reference, config, rng)
    _, met, report = resolution_met(rank, lo, hi, config.resolution_tiers, config.stop_rule)
    tier = int(tier_index(np.array([report if config.stop_rule == "reported" else lo]), config.tiers)[0])
    last = sample.size is None or sample.complete
    return StageResult(stage_label(sample.size), sample.items_used, report, lo, hi, tier, met or last,
                       estimate, half), bounds


def intersected(bounds: tuple[float, float], estimate: float, half: float, reference: Reference, lo: int,
                hi: int) -> tuple[tuple[float, float], int, int]:
    """Return the bounds this look leaves and the rank interval they give. The looks' intervals hold the score
    together (95% for all of them at once), so their intersection holds it whenever they do; an empty
    intersection (some look has missed) starts again from this look's interval, whose ranks are `lo`..`hi`."""
    if not math.isfinite(half):
        return bounds, lo, hi
    low, high = max(bounds[0], estimate - half), min(bounds[1], estimate + half)
    if low > high:
        return (estimate - half, estimate + half), lo, hi
    top, bottom = rank_against(reference.scores, np.array([high, low]))
    return (low, high), int(top), int(bottom)


def _walk(model: str, new_items: Sequence[np.ndarray], reference: Reference, config: FlashConfig, seed: int,
          availability_known: bool) -> tuple[list[StageResult], StageSample | None, int]:
    """Return the stages up to the first that meets the stop rule (or the last run), the pending stage of
    a plan (None when none is pending) and the number of items skipped."""
    orders = orders_for(model, reference, config, seed)
    evaluated = [np.isfinite(v) for v in new_items]
    results: list[StageResult] = []
    skipped = 0
    bounds = (-math.inf, math.inf) if config.intersects else None
    for sample in stage_samples(orders, evaluated, config.stage_sizes(reference.largest_scenario),
                                availability_known=availability_known):
        skipped = int(sum(len(k) for k in sample.skipped))
        if sample.pending:
            return results, sample, skipped
        result, bounds = _stage_result(model, sample, new_items, orders, reference, config, seed, bounds)
        results.append(result)
        if result.resolution_met:
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
    config: FlashConfig = DEFAULT_CONFIG,
    variant: str | None = None,
    seeds: int | None = None,
    _replay: _Replay | None = None,
) -> FlashSimulation:
    """Replay Flash for each held-out model against the others, over `seeds` item orders (default
    `config.seeds`). By default every model is held out in turn (leave-one-out), or on a board of more than
    `config.max_replayed` models a seeded draw of that many, one from each stratum of consecutive full-data
    ranks (`replay_sample`); the summary says how many were replayed out of how many.

    Each held-out model is treated as new: ranked at every stage against the other models' full
    results, with difficulty, variance floor and critical values fitted on those others only (the full run's
    floor in `config.resolution_tiers` comes from the whole board's rank intervals, the held-out model's
    included). Its full-data rank (among all models) is the truth its Flash rank is judged against. A
    model's replay does not depend on which other models are replayed.
    """
    config = config.at_size(len(results.models))
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
                                    within_resolution=within_resolution(final.rank, truth,
                                                                         config.resolution_tiers),
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
    mean, no correction), each with the configured tiers (as resolved for the board), confidence and seeds."""
    shared = {"tier_rule": config.tier_rule, "declared_tiers": config.declared_tiers, "floor_rule": config.floor_rule,
              "tiers": config.tiers, "floor": config.floor, "board_models": config.board_models,
              "confidence_level": config.confidence_level, "n_resamples": config.n_resamples,
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
                      config: FlashConfig = DEFAULT_CONFIG, seeds: int | None = None) -> tuple[FlashSimulation, ...]:
    """Run the simulation for the configured variant and the comparisons, on the same data, models and seeds."""
    config = config.at_size(len(results.models))
    replay = _prepare(results, holdout, config)
    return tuple(simulate(results, config=c, seeds=seeds, _replay=replay) for c in comparison_configs(config))
