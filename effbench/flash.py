"""Flash rankings: evaluate a new model on a few items first, more only while its rank is too uncertain.

After Flash-HELM (Perlitz et al., 2024). A new model is ranked against the board (models with full
results) after each stage of a nested schedule of items per scenario (10, 20, 50, 200, 1000, all).
It stops at the first stage where its rank interval fits the resolution of the tier it may belong
to (the tier of the interval's most optimistic rank): rank 1 exact, 2-4 +-1, and so on
(`effbench.tiers`). Pure numpy: arrays in, frozen results out.

Choices (documented in the README):

- **Samples are nested**: each stage's items contain the previous stage's, in a fixed order per
  model and scenario, so no evaluation is wasted.
- **Orders**: ``random`` (a seeded permutation) or ``informed`` (items spread evenly over difficulty,
  where difficulty is the board's mean score on the item: every prefix is a difficulty-stratified
  sample).
- **Estimators**: ``random`` order uses the model's plain mean per scenario. ``informed`` uses a
  regression estimator with the board's item difficulty as control variate: mean(sample) +
  beta * (difficulty over all items - difficulty over the sample), beta fitted on the sample; it is
  unbiased to first order and has lower variance whenever difficulty predicts the model's scores.
- **Intervals**: a Poisson bootstrap of the sampled items (refitting beta in every resample)
  gives the model's overall score; its rank interval is the range of ranks against the board's
  full-data scores. At the last stage (all items) the rank is exact.
- **Error control**: looking after every stage inflates the error rate, so with
  ``correction="bonferroni"`` each of the K stages that can stop early uses a (1 - alpha/K)
  interval (the union bound keeps the whole procedure at >= 1 - alpha). ``"none"`` uses the plain
  (1 - alpha) interval at every stage: the uncorrected rule, for comparison.
"""

from __future__ import annotations

import functools
import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from effbench.stats import ResultsMatrix, aggregate, competition_ranks, nanmean
from effbench.tiers import DEFAULT_TIERS, Tier, tier_index, validate_tiers

DEFAULT_STAGES: tuple[int | None, ...] = (10, 20, 50, 200, 1000, None)  # None = all items
ORDERS = ("random", "informed")
CORRECTIONS = ("bonferroni", "none")


@dataclass(frozen=True)
class FlashConfig:
    """How Flash runs: stages, tiers, order and estimator, error control, bootstrap."""

    stages: tuple[int | None, ...] = DEFAULT_STAGES
    tiers: tuple[Tier, ...] = DEFAULT_TIERS
    order: str = "informed"
    correction: str = "bonferroni"
    confidence_level: float = 0.95
    n_resamples: int = 1000
    seed: int = 0

    def __post_init__(self) -> None:
        validate_tiers(self.tiers)
        sizes = [s for s in self.stages if s is not None]
        if not self.stages or self.stages[-1] is not None or sizes != sorted(set(sizes)) or any(s < 1 for s in sizes):
            raise ValueError("`stages` must be increasing positive item counts ending with all items (None)")
        if self.order not in ORDERS:
            raise ValueError(f"`order` must be one of {', '.join(ORDERS)}, got {self.order!r}")
        if self.correction not in CORRECTIONS:
            raise ValueError(f"`correction` must be one of {', '.join(CORRECTIONS)}, got {self.correction!r}")
        if not 0 < self.confidence_level < 1:
            raise ValueError(f"`confidence_level` must be in (0, 1), got {self.confidence_level!r}")
        if self.n_resamples < 10:
            raise ValueError(f"`n_resamples` must be at least 10, got {self.n_resamples!r}")

    @property
    def stage_confidence(self) -> float:
        """Confidence level of the interval at each stage that can stop early."""
        early = len(self.stages) - 1
        if self.correction == "none" or early == 0:
            return self.confidence_level
        return 1 - (1 - self.confidence_level) / early


def stage_label(stage: int | None) -> str:
    return "all" if stage is None else str(stage)


@dataclass(frozen=True)
class Board:
    """The models already ranked: their full-data scores, and per scenario their item matrices
    (for the difficulty of each item)."""

    models: tuple[str, ...]
    scores: np.ndarray  # (n_models,) overall (macro) scores on all their items
    items: tuple[np.ndarray, ...]  # per scenario (n_items, n_models), NaN = not evaluated

    @functools.cached_property
    def difficulty(self) -> tuple[np.ndarray, ...]:
        """Per scenario, the board's mean score on each item (NaN where no board model has it)."""
        return tuple(nanmean(m, axis=1) if m.shape[1] else np.full(m.shape[0], np.nan) for m in self.items)


@dataclass(frozen=True)
class StageResult:
    stage: str
    items_used: int
    rank: int
    rank_lo: int
    rank_hi: int
    tier: int  # index into the tiers of the interval's most optimistic rank
    resolution_met: bool


@dataclass(frozen=True)
class FlashOutcome:
    """One model's Flash run: the stages it went through up to where it stopped, and (in a simulation)
    the truth."""

    model: str
    stages: tuple[StageResult, ...]
    stop: int  # index into stages
    items_full: int
    full_rank: int | None = None
    within_resolution: bool | None = None
    covered: bool | None = None

    @property
    def final(self) -> StageResult:
        return self.stages[self.stop]

    @property
    def saving(self) -> float:
        return self.items_full / max(self.final.items_used, 1)


@dataclass(frozen=True)
class FlashSummary:
    variant: str
    saving: float  # all models' full evaluations / the evaluations Flash used
    within_resolution: float  # share of models whose Flash rank is within their tier's resolution of the truth
    largest_error: int
    coverage: float  # share of models whose full-data rank lies inside their final Flash interval
    n_models: int


@dataclass(frozen=True)
class FlashSimulation:
    variant: str
    config: FlashConfig
    outcomes: tuple[FlashOutcome, ...]
    summary: FlashSummary


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
    # Sort by difficulty, breaking ties at random; then visit positions in bit-reversed order.
    by_difficulty = items[np.lexsort((rng.random(items.size), level))]
    return by_difficulty[_spread_order(items.size, rng)]


def _spread_order(n: int, rng: np.random.Generator) -> np.ndarray:
    """Return a permutation of range(n) whose every prefix is spread evenly over 0..n-1: positions
    are visited by the van der Corput sequence of a random offset."""
    bits = max(1, math.ceil(math.log2(n)))
    codes = np.arange(1 << bits)
    reversed_codes = np.zeros_like(codes)
    for b in range(bits):
        reversed_codes |= ((codes >> b) & 1) << (bits - 1 - b)
    offset = rng.integers(0, 1 << bits)
    positions = ((reversed_codes + offset) % (1 << bits)) * n // (1 << bits)
    _, first = np.unique(positions, return_index=True)
    order = positions[np.sort(first)]
    missing = np.setdiff1d(np.arange(n), order)
    return np.concatenate([order, rng.permutation(missing)])


# ---------------------------------------------------------------------------------------------
# Ranking a model on a sample


def _scenario_estimates(values: np.ndarray, difficulty: np.ndarray, population_difficulty: float,
                        weights: np.ndarray, regression: bool) -> np.ndarray:
    """Return the scenario mean estimate for each row of `weights` (``(n_resamples, n_sampled)``)."""
    total = weights.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_y = weights @ values / total
        if not regression or not np.isfinite(population_difficulty):
            return mean_y
        mean_x = weights @ difficulty / total
        cov = weights @ (values * difficulty) / total - mean_y * mean_x
        var = weights @ (difficulty * difficulty) / total - mean_x * mean_x
        beta = np.where(var > 1e-12, cov / np.where(var > 1e-12, var, 1.0), 0.0)
    return mean_y + beta * (population_difficulty - mean_x)


def rank_on_sample(
    new_items: Sequence[np.ndarray],
    sampled: Sequence[np.ndarray],
    populations: Sequence[np.ndarray],
    board: Board,
    *,
    regression: bool,
    confidence_level: float,
    n_resamples: int,
    rng: np.random.Generator,
) -> tuple[int, int, int]:
    """Return (rank, rank_lo, rank_hi) of a model against `board` from its scores on `sampled` items.

    `new_items[s]` holds the model's score on every item of scenario s (NaN = not evaluated);
    `sampled[s]` the indices evaluated so far; `populations[s]` the indices of all items the model
    would be evaluated on. When every scenario's sample is its whole population, the rank is exact.
    """
    difficulty = board.difficulty
    point, boots = [], []
    exact = all(len(sample) == len(population) for sample, population in zip(sampled, populations, strict=True))
    for s, sample in enumerate(sampled):
        if len(sample) == 0:
            continue
        values = new_items[s][sample]
        x = difficulty[s][sample]
        filled_x = np.where(np.isnan(x), np.nanmean(x) if np.isfinite(x).any() else 0.0, x)
        population_x = difficulty[s][populations[s]]
        mean_population = float(np.nanmean(population_x)) if np.isfinite(population_x).any() else math.nan
        use_regression = regression and not exact and len(sample) >= 3
        point.append(_scenario_estimates(values, filled_x, mean_population, np.ones((1, len(sample))),
                                         use_regression)[0])
        if not exact:
            weights = rng.poisson(1.0, size=(n_resamples, len(sample))).astype(float)
            weights[weights.sum(axis=1) == 0] = 1.0  # an empty resample keeps the sample as it is
            boots.append(_scenario_estimates(values, filled_x, mean_population, weights, use_regression))
    if not point:
        n = len(board.models) + 1
        return 1, 1, n  # nothing evaluated yet: any rank is possible
    estimate = float(np.mean(point))
    rank = _rank_against(board.scores, np.array([estimate]))[0]
    if exact:
        return rank, rank, rank
    ranks = _rank_against(board.scores, np.mean(np.stack(boots, axis=1), axis=1))
    tail = (1 - confidence_level) / 2
    lo, hi = np.quantile(ranks, [tail, 1 - tail], method="inverted_cdf")
    return rank, int(min(lo, rank)), int(max(hi, rank))


def _rank_against(board_scores: np.ndarray, estimates: np.ndarray) -> np.ndarray:
    """Rank of each estimate among the board: 1 + the board models with a strictly higher score."""
    ordered = np.sort(board_scores[~np.isnan(board_scores)])
    return 1 + ordered.size - np.searchsorted(ordered, estimates, side="right")


def resolution_met(rank: int, rank_lo: int, rank_hi: int, tiers: Sequence[Tier]) -> tuple[int, bool]:
    """Return (tier index of the interval's most optimistic rank, whether the interval lies within that
    tier's resolution of the estimated rank: rank - r <= rank_lo and rank_hi <= rank + r).

    Then, whenever the interval holds the full-data rank, the reported rank is within +-r of it.
    """
    tier = int(tier_index(np.array([rank_lo]), tiers)[0])
    r = tiers[tier].resolution
    return tier, rank - r <= rank_lo and rank_hi <= rank + r


# ---------------------------------------------------------------------------------------------
# Running Flash for one model


def orders_for(model: str, new_items: Sequence[np.ndarray], board: Board, config: FlashConfig) -> list[np.ndarray]:
    """Return, per scenario, the order in which `model` is evaluated on the items it can be evaluated on."""
    rng = np.random.default_rng(model_seed(config.seed, model))
    return [item_order(d, ~np.isnan(items) if items is not None else np.ones(d.shape, bool), config.order, rng)
            for d, items in zip(board.difficulty, new_items, strict=True)]


def _rank_at_stage(model: str, index: int, new_items: Sequence[np.ndarray], sampled: Sequence[np.ndarray],
                   orders: Sequence[np.ndarray], board: Board, config: FlashConfig) -> tuple[int, int, int]:
    # One generator per model and stage: a replay and a real run of the same stage agree exactly.
    rng = np.random.default_rng([model_seed(config.seed, model), index])
    return rank_on_sample(new_items, sampled, orders, board, regression=config.order == "informed",
                          confidence_level=config.stage_confidence, n_resamples=config.n_resamples, rng=rng)


def run_model(model: str, new_items: Sequence[np.ndarray], board: Board, config: FlashConfig,
              orders: Sequence[np.ndarray] | None = None) -> FlashOutcome:
    """Replay Flash for a model whose scores on every item are known (`new_items`, NaN = none)."""
    orders = orders if orders is not None else orders_for(model, new_items, board, config)
    stages = []
    for index, stage in enumerate(config.stages):
        sampled = [order[: (len(order) if stage is None else stage)] for order in orders]
        rank, lo, hi = _rank_at_stage(model, index, new_items, sampled, orders, board, config)
        tier, met = resolution_met(rank, lo, hi, config.tiers)
        stages.append(StageResult(stage_label(stage), int(sum(len(s) for s in sampled)), rank, lo, hi, tier, met))
        if met or stage is None:
            break
    return FlashOutcome(model, tuple(stages), len(stages) - 1, int(sum(len(o) for o in orders)))


def simulate(
    results: ResultsMatrix,
    *,
    holdout: Sequence[str] | None = None,
    config: FlashConfig = FlashConfig(),
    variant: str | None = None,
) -> FlashSimulation:
    """Replay Flash for each held-out model (default: every model, leave-one-out) against the others.

    Each held-out model is treated as new: ranked at every stage against the other models' full
    results. Its full-data rank (among all models) is the truth its Flash rank is judged against.
    """
    names = list(results.models)
    # Only a model with per-item results can be replayed item by item.
    replayable = [m for i, m in enumerate(names) if any(np.isfinite(s[:, i]).any() for s in results.scores)]
    unknown = sorted(set(holdout or ()) - set(replayable))
    if unknown:
        raise ValueError(f"`holdout` names models without per-item results: {', '.join(unknown)}")
    held = list(holdout) if holdout else replayable
    scenario_scores = results.scenario_means()
    overall = aggregate(scenario_scores)
    full_rank = competition_ranks(overall)
    outcomes = []
    for model in held:
        m = names.index(model)
        keep = [i for i in range(len(names)) if i != m and not math.isnan(overall[i])]
        board = Board(tuple(names[i] for i in keep), overall[keep], tuple(s[:, keep] for s in results.scores))
        new_items = [s[:, m] for s in results.scores]
        outcome = run_model(model, new_items, board, config)
        truth = int(full_rank[m])
        final = outcome.final
        resolution = config.tiers[int(tier_index(np.array([truth]), config.tiers)[0])].resolution
        outcomes.append(FlashOutcome(
            model, outcome.stages, outcome.stop, outcome.items_full, truth,
            abs(final.rank - truth) <= resolution, final.rank_lo <= truth <= final.rank_hi,
        ))
    name = variant or f"{config.order} order, {'corrected' if config.correction != 'none' else 'uncorrected'}"
    return FlashSimulation(name, config, tuple(outcomes), summarise(name, outcomes))


def summarise(variant: str, outcomes: Sequence[FlashOutcome]) -> FlashSummary:
    used = sum(o.final.items_used for o in outcomes)
    full = sum(o.items_full for o in outcomes)
    errors = [abs(o.final.rank - o.full_rank) for o in outcomes if o.full_rank is not None]
    return FlashSummary(
        variant=variant,
        saving=full / max(used, 1),
        within_resolution=float(np.mean([o.within_resolution for o in outcomes])) if outcomes else math.nan,
        largest_error=max(errors) if errors else 0,
        coverage=float(np.mean([o.covered for o in outcomes])) if outcomes else math.nan,
        n_models=len(outcomes),
    )


VARIANTS: tuple[tuple[str, str, str], ...] = (
    ("informed order, corrected", "informed", "bonferroni"),
    ("random order, corrected", "random", "bonferroni"),
    ("random order, uncorrected", "random", "none"),
)


def simulate_variants(results: ResultsMatrix, *, holdout: Sequence[str] | None = None,
                      config: FlashConfig = FlashConfig()) -> tuple[FlashSimulation, ...]:
    """Run the simulation for the configured variant and the two comparisons, on the same data."""
    out = []
    for name, order, correction in VARIANTS:
        variant_config = FlashConfig(stages=config.stages, tiers=config.tiers, order=order, correction=correction,
                                     confidence_level=config.confidence_level, n_resamples=config.n_resamples,
                                     seed=config.seed)
        out.append(simulate(results, holdout=holdout, config=variant_config, variant=name))
    return tuple(out)


# ---------------------------------------------------------------------------------------------
# Planning the next stage for a model being evaluated


@dataclass(frozen=True)
class Plan:
    """Where a model stands and which items it should be evaluated on next.

    `next_items` are (scenario index, item index) pairs; empty when the resolution is met (or the
    model has been evaluated on everything).
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


def item_level(results: ResultsMatrix) -> ResultsMatrix:
    """Return the scenarios with per-item results only: Flash samples items, so scenario-level
    results (wide tables) take no part in it."""
    keep = [i for i, r in enumerate(results.resampled) if r]
    ids = tuple(results.item_ids[i] for i in keep) if results.item_ids else ()
    return ResultsMatrix(results.models, tuple(results.scenarios[i] for i in keep),
                         tuple(results.scores[i] for i in keep), (True,) * len(keep), ids)


def board_of(results: ResultsMatrix) -> Board:
    """Return the board made of every model in `results`, scored by the macro mean on all their items."""
    scores = aggregate(results.scenario_means()) if results.models else np.zeros(0)
    return Board(results.models, scores, results.scores)


def plan(model: str, new_items: Sequence[np.ndarray], board: Board, config: FlashConfig) -> Plan:
    """Return the Flash plan of `model` given the scores it has so far (`new_items`, NaN = not yet).

    The stage reached is the largest one whose items (the first n of the model's order in every
    scenario) all have results. If its rank interval fits the tier's resolution, or every item
    is done, the plan is complete; otherwise it lists the items of the next stage still missing.
    """
    orders = orders_for(model, [None] * len(new_items), board, config)
    completed = None
    for i, stage in enumerate(config.stages):
        prefix = [order[: (len(order) if stage is None else stage)] for order in orders]
        if all(np.isfinite(items[p]).all() for items, p in zip(new_items, prefix, strict=True)):
            completed = i
    evaluated = int(sum(np.isfinite(items).sum() for items in new_items))
    if completed is None:
        rank = lo = hi = tier = None
        met = False
    else:
        stage = config.stages[completed]
        sampled = [order[: (len(order) if stage is None else stage)] for order in orders]
        rank, lo, hi = _rank_at_stage(model, completed, new_items, sampled, orders, board, config)
        tier, met = resolution_met(rank, lo, hi, config.tiers)
        met = met or stage is None
    if met:
        return Plan(model, stage_label(config.stages[completed]), evaluated, rank, lo, hi, tier, True, None, ())
    nxt = 0 if completed is None else completed + 1
    stage = config.stages[nxt]
    missing = tuple((s, int(i)) for s, (items, order) in enumerate(zip(new_items, orders, strict=True))
                    for i in order[: (len(order) if stage is None else stage)] if not np.isfinite(items[i]))
    return Plan(model, None if completed is None else stage_label(config.stages[completed]), evaluated, rank, lo,
                hi, tier, False, stage_label(stage), missing)
