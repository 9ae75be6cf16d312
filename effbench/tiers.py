"""Rank tiers and their resolution: the exact place matters at the top, much less further down.

The paper's tiers, from Flash-HELM (Perlitz et al., 2024) as effbench reads them: rank 1 exact, ranks
2-4 to +-1, 5-9 to +-2, 10-19 to +-3, 20 and below to +-4 (the paper is inconsistent between "1-4" and
"2-4"; effbench takes 2-4). They were made for boards of tens of models: at rank 2,000 of 4,000 they ask
for a precision the full benchmark itself does not have. So the default rule scales with the board:

- **Board-size tiers** (`board_size_tiers`): each rank's resolution is the paper's or a share of the
  board, whichever is wider: rank 1 exact, then up to 1% of the board within +-0.25% of it, up to 10%
  within +-0.5%, the rest within +-1% (ends rounded up, resolutions down to whole ranks, so that a share
  never asks less than it says). On boards of fewer than 500 models these are the paper's tiers exactly; at
  4,000, rank 1 exact, 2-40 +-10, 41-400 +-20, 401 and below +-40.
- **The full run's floor** (`full_run_floor`): no rank is asked for more precision than the full run
  itself has there: the width (hi - lo) of the leaderboard's rank intervals (its own resampling of
  items), by place on the board. Two models up to that many places apart have overlapping rank
  intervals on all items: the leaderboard itself does not order them, and asking Flash to would ask it
  to reproduce the noise of this particular set of items. ("half-width", ceil((hi - lo) / 2), is the
  stricter choice: Flash then has to be about as precise as the full run.) Flash uses each rank's wider
  resolution, tier or floor (`widest`).

Tiers may also be declared, with ends and resolutions in ranks or as shares of the board
(`DeclaredTier`, `declared_tiers`).
"""

from __future__ import annotations

import math
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
)  # the paper's
TIER_RULES = ("board-size", "paper", "declared")
# The board-size rule's shares after rank 1: (last rank, resolution), each as a share of the board.
BOARD_SIZE_SHARES: tuple[tuple[float | None, float], ...] = ((0.01, 0.0025), (0.10, 0.005), (None, 0.01))


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


Amount = int | float  # a number of ranks (int) or a share of the board (float, 0.01 = 1%)


@dataclass(frozen=True)
class DeclaredTier:
    """A tier as `effbench.toml` declares it: up to rank `last` (None = to the end), resolved to
    +-`resolution`; each a number of ranks or a share of the board (`[[flash.tiers]] last = "1%"`)."""

    last: Amount | None
    resolution: Amount


def _in_ranks(amount: Amount | None, n_models: int, *, up: bool) -> int | None:
    """Return `amount` in whole ranks: a share of the board rounded up (a tier's end) or down (a resolution)."""
    if amount is None or isinstance(amount, int):
        return amount
    return _whole(amount * n_models, up=up)


def _whole(ranks: float, *, up: bool) -> int:
    """Return `ranks` rounded up or down to a whole number of ranks, ignoring float error (1% of 400 is 4)."""
    return math.ceil(ranks - 1e-9) if up else math.floor(ranks + 1e-9)


def share(text: str) -> float:
    """Return a share of the board written as a percentage, "1%" -> 0.01."""
    if not (isinstance(text, str) and text.endswith("%")):
        raise ValueError(f"expected a number of ranks or a share like \"1%\", got {text!r}")
    value = float(text[:-1]) / 100
    if not 0 < value <= 1:
        raise ValueError(f"a share of the board must be above 0% and at most 100%, got {text!r}")
    return value


def resolutions(tiers: Sequence[Tier], n_models: int) -> np.ndarray:
    """Return the resolution of each rank 1..`n_models` under `tiers`."""
    return tier_resolution(np.arange(1, n_models + 1), tiers)


def from_resolutions(resolution: np.ndarray) -> tuple[Tier, ...]:
    """Return the tiers of consecutive ranks with the same resolution (`resolution[k]` of rank k + 1); the
    last tier is open-ended, so ranks past the end keep the last resolution."""
    resolution = np.asarray(resolution, dtype=int)
    if resolution.size == 0:
        return (Tier(1, None, 0),)
    starts = np.flatnonzero(np.r_[True, resolution[1:] != resolution[:-1]])
    ends = np.r_[starts[1:], resolution.size]
    return tuple(Tier(int(a) + 1, None if b == resolution.size else int(b), int(resolution[a]))
                 for a, b in zip(starts, ends, strict=True))


def declared_tiers(declared: Sequence[DeclaredTier], n_models: int) -> tuple[Tier, ...]:
    """Return `declared` at a board of `n_models`: ranks and resolutions in whole ranks; tiers that a small
    board leaves empty are dropped, and the last one is open-ended."""
    if not declared or declared[-1].last is not None:
        raise ValueError("the last declared tier must have no `last` (it runs to the end of the board)")
    n = max(n_models, 1)
    resolution = np.zeros(n, dtype=int)
    first = 1
    for tier in declared:
        last = _in_ranks(tier.last, n, up=True)
        if last is not None and last < first:
            continue
        width = _in_ranks(tier.resolution, n, up=False)
        if width < 0:
            raise ValueError("tier resolutions must be >= 0")
        resolution[first - 1:n if last is None else min(last, n)] = width
        first = n + 1 if last is None else last + 1
    return from_resolutions(resolution)


def board_size_tiers(n_models: int, tiers: Sequence[Tier] = DEFAULT_TIERS) -> tuple[Tier, ...]:
    """Return the board-size rule's tiers for a board of `n_models`: each rank's resolution is that of
    `tiers` or its share of the board (`BOARD_SIZE_SHARES`, rank 1 exact), whichever is wider."""
    n = max(n_models, 1)
    span = max(n, tiers[-1].first)  # every tier of `tiers`, also on a board that does not reach it
    resolution = resolutions(tiers, span)
    first = 2
    for last, width in BOARD_SIZE_SHARES:
        end = span if last is None else min(n, _whole(last * n, up=True))
        resolution[first - 1:end] = np.maximum(resolution[first - 1:end], _whole(width * n, up=False))
        first = max(first, end + 1)
    return from_resolutions(resolution)


FLOOR_RULES = ("width", "half-width", "none")


def full_run_floor(rank_lo: np.ndarray, rank_hi: np.ndarray, rule: str = "width") -> tuple[Tier, ...]:
    """Return the precision the full run has at each place of the board, as tiers: the width hi - lo of
    the leaderboard's rank intervals (`rule` "half-width": ceil((hi - lo) / 2)), of the models in rank
    order (ties by name), taken at each place as the median over a window of max(5, n / 50) places
    (rounded up), so that a place's floor does not hang on one model's interval."""
    width = np.asarray(rank_hi, dtype=int) - np.asarray(rank_lo, dtype=int)
    if rule == "half-width":
        width = -(-width // 2)
    n = width.size
    if n == 0:
        return (Tier(1, None, 0),)
    half = max(5, n // 50) // 2
    padded = np.pad(width, half, mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1)
    return from_resolutions(np.ceil(np.median(windows, axis=1)).astype(int))


def widest(*tier_sets: Sequence[Tier], n_models: int) -> tuple[Tier, ...]:
    """Return the tiers whose resolution at each rank is the widest of `tier_sets` (to `n_models`; past it,
    each set's last tier)."""
    n = max(n_models, max((t.first for tiers in tier_sets for t in tiers), default=1))
    return from_resolutions(np.max([resolutions(tiers, n) for tiers in tier_sets if tiers], axis=0))
