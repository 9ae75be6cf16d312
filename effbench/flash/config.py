"""The configuration of Flash: stages, tiers, order, estimator, error control and stop rule."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

from effbench.tiers import (
    DEFAULT_TIERS,
    FLOOR_RULES,
    TIER_RULES,
    DeclaredTier,
    Tier,
    board_size_tiers,
    declared_tiers,
    full_run_floor,
    tier_index,
    tier_resolution,
    validate_tiers,
    widest,
)

PAPER_STAGES: tuple[int | None, ...] = (10, 20, 50, 200, 1000, None)  # None = all items
ORDERS = ("random", "informed")
ESTIMATORS = ("greg", "bootstrap")
CORRECTIONS = ("group-sequential", "bonferroni", "none")
SPENDINGS = ("board", "flat")  # where a group-sequential design spends its error (`effbench.flash.spending`)
STOP_RULES = ("reported", "estimate")
CRITICAL_VALUE_DRAWS = 100_000  # Monte Carlo draws for the group-sequential critical values (one c: +-0.01)


@dataclass(frozen=True)
class FlashConfig:
    """How Flash runs: stages, tiers, order, estimator, error control and stop rule.

    `stages` None means geometric stages: `first_stage` items per scenario, then x`growth` (rounded
    up) while below the largest scenario, then all items.

    The tiers follow `tier_rule` (`effbench.tiers`): "board-size" (the paper's tiers, widened to shares
    of a board of 500 models or more), "paper" (the paper's at any size) or "declared"
    (`declared_tiers`, in ranks or shares of the board). `tiers` are the ones Flash applies: the
    paper's until `for_board` resolves the rule at a board's size (`board_models`). With `floor`, no
    rank is resolved more finely than the full run resolves there (`full_run_floor`, by `floor_rule`); `for_board`
    takes it from the leaderboard's rank intervals.

    `spending` (group-sequential correction only): "board" spends the error where the board's models are
    expected to stop (`effbench.flash.spending`), "flat" gives every look one critical value.
    """

    stages: tuple[int | None, ...] | None = None
    first_stage: int = 10
    growth: float = 1.5
    tier_rule: str = "board-size"
    declared_tiers: tuple[DeclaredTier, ...] = ()
    floor_rule: str = "width"  # the full run's floor: "width", "half-width" or "none" (`full_run_floor`)
    tiers: tuple[Tier, ...] = DEFAULT_TIERS  # as applied: resolved by `for_board`
    floor: tuple[Tier, ...] = ()  # the full run's rank resolution by place, from `for_board`
    board_models: int = 0  # the board size `tiers` were resolved for (0: not yet)
    order: str = "informed"
    estimator: str = "greg"
    correction: str = "group-sequential"
    spending: str = "board"
    intersect: bool = True  # the rank interval from the intersection of the looks' intervals (`intersects`)
    stop_rule: str = "reported"
    variance_floor: bool = True
    confidence_level: float = 0.95
    n_resamples: int = 1000  # bootstrap estimator only
    seed: int = 0
    seeds: int = 5  # item orders replayed by the simulation (seed, seed + 1, ...)
    max_replayed: int = 100  # on larger boards the simulation replays a stratified draw of this many models

    def __post_init__(self) -> None:
        validate_tiers(self.tiers)
        if self.floor:
            validate_tiers(self.floor)
        if self.floor_rule not in FLOOR_RULES:
            raise ValueError(f"`floor` must be one of {', '.join(FLOOR_RULES)}, got {self.floor_rule!r}")
        if self.tier_rule not in TIER_RULES:
            raise ValueError(f"`tiers` must be one of {', '.join(TIER_RULES)} or a list of tiers, "
                             f"got {self.tier_rule!r}")
        if (self.tier_rule == "declared") != bool(self.declared_tiers):
            raise ValueError("declared tiers go with `tier_rule` declared, and only with it")
        if self.declared_tiers:
            declared_tiers(self.declared_tiers, 1000)  # raises on a malformed declaration
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
                                     ("spending", self.spending, SPENDINGS),
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

    def for_board(self, n_models: int, rank_lo: Sequence[int] = (), rank_hi: Sequence[int] = ()) -> FlashConfig:
        """Return this configuration with its tier rule resolved for a board of `n_models` (the new model
        included), and the full run's floor from the leaderboard's rank intervals `rank_lo`..`rank_hi` of
        the models in rank order (none given: no floor)."""
        if self.tier_rule == "board-size":
            tiers = board_size_tiers(n_models)
        elif self.tier_rule == "declared":
            tiers = declared_tiers(self.declared_tiers, n_models)
        else:
            tiers = DEFAULT_TIERS
        floor = (full_run_floor(np.asarray(rank_lo), np.asarray(rank_hi), self.floor_rule)
                 if self.floor_rule != "none" and len(rank_lo) else ())
        return replace(self, tiers=tiers, floor=floor, board_models=n_models)

    def at_size(self, n_models: int) -> FlashConfig:
        """Return this configuration as it is, when its tiers are resolved already, else resolved for a
        board of `n_models` without a floor (the library's entry points; the pipeline adds the floor)."""
        return self if self.board_models else self.for_board(n_models)

    def describe_resolution(self, rank: int) -> str:
        """Return, in plain words, the resolution Flash asks of `rank` and which rule sets it."""
        tier = self.tiers[int(tier_index(np.array([rank]), self.tiers)[0])]
        effective = int(tier_resolution(np.array([rank]), self.resolution_tiers)[0])
        floor = int(tier_resolution(np.array([rank]), self.floor)[0]) if self.floor else 0
        rule = {"board-size": f"board-size tiers for {self.board_models:,} models", "paper": "the paper's tiers",
                "declared": "the declared tiers"}[self.tier_rule]
        if effective == 0:
            return f"{tier.label}: resolved exactly ({rule})"
        text = (f"{tier.label}: within ±{effective} place{'s' if effective > 1 else ''} of "
                f"{self.board_models:,} ({rule}")
        if floor > tier.resolution:
            what = (f"its own rank intervals span {floor} places" if self.floor_rule == "width"
                    else f"its own rank intervals reach ±{floor} places")
            return text + f": ±{tier.resolution}, widened to what the full run resolves here: {what})"
        return text + ")"

    @property
    def intersects(self) -> bool:
        """Whether a look's rank interval comes from the intersection of its score interval with the earlier
        looks': valid when the looks' intervals hold together (the GREG estimator with a group-sequential or
        Bonferroni correction), never with uncorrected looks."""
        return self.intersect and self.estimator == "greg" and self.correction != "none"

    @cached_property
    def resolution_tiers(self) -> tuple[Tier, ...]:
        """The tiers the stop rule applies: at each rank the wider of `tiers` and the full run's floor."""
        return widest(self.tiers, self.floor, n_models=self.board_models) if self.floor else self.tiers

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


DEFAULT_CONFIG = FlashConfig()  # the defaults, shared as the default argument of the functions that take one
