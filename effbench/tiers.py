"""Rank tiers and their resolution: the exact place matters at the top, much less further down.

Defaults from Flash-HELM (Perlitz et al., 2024) as effbench reads them: rank 1 exact, ranks 2-4 to
+-1, 5-9 to +-2, 10-19 to +-3, 20 and below to +-4 (the paper is inconsistent between "1-4" and
"2-4"; effbench takes 2-4).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Tier:
    """Ranks `first` to `last` (None = no lower end), resolved to +-`resolution` ranks."""

    first: int
    last: int | None
    resolution: int

    @property
    def label(self) -> str:
        if self.last == self.first:
            return f"rank {self.first}"
        return f"ranks {self.first}-{self.last}" if self.last else f"ranks {self.first} and below"

    def describe(self) -> str:
        """Return the tier's resolution in plain words."""
        if self.resolution == 0:
            return f"{self.label}: resolved exactly"
        return (f"{self.label}: resolved to ±{self.resolution} rank{'s' if self.resolution > 1 else ''} "
                f"(treat models within {self.resolution} place{'s' if self.resolution > 1 else ''} as tied)")


DEFAULT_TIERS: tuple[Tier, ...] = (
    Tier(1, 1, 0), Tier(2, 4, 1), Tier(5, 9, 2), Tier(10, 19, 3), Tier(20, None, 4),
)


def validate_tiers(tiers: Sequence[Tier]) -> None:
    """Raise ValueError unless `tiers` start at rank 1, follow each other without gaps and end open."""
    if not tiers or tiers[0].first != 1:
        raise ValueError("`tiers` must start at rank 1")
    for before, after in zip(tiers, tiers[1:], strict=False):
        if before.last is None or after.first != before.last + 1:
            raise ValueError(f"`tiers` must follow each other without gaps: {before.label} then {after.label}")
    if tiers[-1].last is not None:
        raise ValueError("the last tier must be open-ended (last = None)")
    if any(t.resolution < 0 for t in tiers):
        raise ValueError("tier resolutions must be >= 0")


def tier_index(ranks: np.ndarray, tiers: Sequence[Tier] = DEFAULT_TIERS) -> np.ndarray:
    """Return the index into `tiers` of each rank (1-based ranks, any shape)."""
    starts = np.array([t.first for t in tiers])
    return np.searchsorted(starts, np.asarray(ranks), side="right") - 1


def tier_resolution(ranks: np.ndarray, tiers: Sequence[Tier] = DEFAULT_TIERS) -> np.ndarray:
    """Return the rank resolution (+-ranks) of the tier each rank falls in."""
    resolutions = np.array([t.resolution for t in tiers])
    return resolutions[tier_index(ranks, tiers)]
