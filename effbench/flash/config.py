"""The configuration of Flash: stages, tiers, order, estimator, error control and stop rule."""

from __future__ import annotations

import math
from dataclasses import dataclass

from effbench.tiers import DEFAULT_TIERS, Tier, validate_tiers

PAPER_STAGES: tuple[int | None, ...] = (10, 20, 50, 200, 1000, None)  # None = all items
ORDERS = ("random", "informed")
ESTIMATORS = ("greg", "bootstrap")
CORRECTIONS = ("group-sequential", "bonferroni", "none")
STOP_RULES = ("reported", "estimate")
CRITICAL_VALUE_DRAWS = 100_000  # Monte Carlo draws for the group-sequential critical value (+-0.01)


@dataclass(frozen=True)
class FlashConfig:
    """How Flash runs: stages, tiers, order, estimator, error control and stop rule.

    `stages` None means geometric stages: `first_stage` items per scenario, then x`growth` (rounded
    up) while below the largest scenario, then all items.
    """

    stages: tuple[int | None, ...] | None = None
    first_stage: int = 10
    growth: float = 1.5
    tiers: tuple[Tier, ...] = DEFAULT_TIERS
    order: str = "informed"
    estimator: str = "greg"
    correction: str = "group-sequential"
    stop_rule: str = "reported"
    variance_floor: bool = True
    confidence_level: float = 0.95
    n_resamples: int = 1000  # bootstrap estimator only
    seed: int = 0
    seeds: int = 5  # item orders replayed by the simulation (seed, seed + 1, ...)
    max_replayed: int = 100  # on larger boards the simulation replays a stratified draw of this many models

    def __post_init__(self) -> None:
        validate_tiers(self.tiers)
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
