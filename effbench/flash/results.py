"""What Flash returns: each stage's result, a model's outcome, a simulation and its summary."""

from __future__ import annotations

import math
from dataclasses import dataclass

from effbench.flash.config import FlashConfig


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
    half_width: float = math.nan  # of this look's own score interval (the rank interval may be intersected)


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
