"""The frozen results of the reliability analysis (`effbench.reliability`): a DIoR row, the rank
resolution, the effect of removing a model, a disagreement and the whole result. They have a module of
their own because the analysis, the resolution checks and the advice all read them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class DiorRow:
    """One decision at one level, judged by one meta-metric."""

    decision: str
    level: str
    meta_metric: str
    mean: float
    lo: float
    hi: float
    dior: float
    compute_fraction: float
    n_draws: int
    seed: int | None
    metric_range: str
    aggregation: str
    order: int  # position of the level within its decision, for plotting and sorting


@dataclass(frozen=True)
class RankResolution:
    """How far ranks move with `examples_per_scenario` items, against the full-data ranks."""

    examples_per_scenario: str
    half_width: int  # 95% of models' ranks lie within +- this of their full-data rank
    compute_fraction: float


@dataclass(frozen=True)
class MwrInstability:
    """What removing one model does to the others' order under mean win rate (the mean never changes)."""

    removed_model: str
    changed_models: tuple[str, ...]
    top_pair_swapped: bool


@dataclass(frozen=True)
class Disagreement:
    """Two models whose overall scores are within noise while each is clearly better in some scenarios."""

    model_a: str
    model_b: str
    a_better_in: tuple[str, ...]
    b_better_in: tuple[str, ...]


@dataclass(frozen=True)
class ReliabilityResult:
    rows: tuple[DiorRow, ...]
    rank_resolution: tuple[RankResolution, ...]
    mwr_instability: tuple[MwrInstability, ...]
    scenario_agreement: np.ndarray  # (n, n) Kendall tau between the `scenarios`, NaN where undefined
    scenarios: tuple[str, ...]  # those of `scenario_agreement`: every one, or see `agreement_scenarios`
    recommendations: tuple[str, ...]
    n_draws: int
    confidence_level: float
    seed: int | None
    target: float
