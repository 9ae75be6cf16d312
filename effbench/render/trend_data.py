"""The analyses the trend pages show, as they arrive computed (`pipeline.trend_analyses` fills them),
and where those pages live: shared by `site_index`, which links the pages, and `trends`, which builds them."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from effbench.contamination import ContaminationResult
from effbench.multilingual import GroupResult
from effbench.scaling import ScalingResult

SCALING_PAGE = "scaling.html"
CONTAMINATION_PAGE = "contamination.html"
GROUPS_PAGE = "groups.html"
OVERALL = "overall score"  # the name of the overview fit among the scenario fits


@dataclass(frozen=True)
class Timeline:
    """Mean scores per period of item dates: the controls' (the board) and each tested model's."""

    labels: tuple[str, ...]  # one per period, e.g. "2023-05"
    board: np.ndarray
    by_model: dict[str, np.ndarray]
    cutoff_index: dict[str, float]  # each tested model's date as a fractional period index


@dataclass(frozen=True)
class TrendAnalyses:
    """The analyses the trend pages show; None where the data lacks what one needs."""

    scaling: ScalingResult | None = None
    compute_scaling: ScalingResult | None = None  # the overall score against training compute (6 N D)
    contamination: ContaminationResult | None = None
    timeline: Timeline | None = None
    groups: GroupResult | None = None
    item_date_column: str = ""
    model_date_column: str = ""
    date_text: dict[str, str] = field(default_factory=dict)  # model -> its date as text

    def pages(self) -> tuple[tuple[str, str], ...]:
        """Return (site path, navigation label) of each trend page this data has (groups: at least two)."""
        return tuple((path, label) for path, label, present in (
            (SCALING_PAGE, "Scaling", self.scaling is not None and bool(self.scaling.fits)),
            (CONTAMINATION_PAGE, "Contamination", self.contamination is not None),
            (GROUPS_PAGE, "Groups", self.groups is not None and len(self.groups.groups) >= 2),
        ) if present)
