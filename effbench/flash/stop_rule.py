"""The stop rule: the rank to report and whether the resolution of its tier is met."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from effbench.tiers import Tier, tier_index, tier_resolution


def reported_rank(rank: int, rank_lo: int, rank_hi: int, tiers: Sequence[Tier]) -> int | None:
    """Return the rank Q nearest `rank` in [rank_lo, rank_hi] with |Q - t| <= min(r(Q), r(t)) for every rank t
    of the interval, or None when there is none (the resolution is not met)."""
    if rank_hi - rank_lo > 2 * max(t.resolution for t in tiers):
        return None  # no Q is within its own resolution of both ends
    span = np.arange(rank_lo, rank_hi + 1)
    resolution = tier_resolution(span, tiers)
    # |Q - t| <= min(r(Q), r(t)) for every t: Q reaches both ends within r(Q), and every t reaches Q within r(t).
    fits = ((np.maximum(span - rank_lo, rank_hi - span) <= resolution)
            & (span >= np.max(span - resolution)) & (span <= np.min(span + resolution)))
    if not fits.any():
        return None
    candidates = span[fits]
    return int(candidates[np.argmin(np.abs(candidates - rank))])  # the nearest; the smaller of two


def resolution_met(rank: int, rank_lo: int, rank_hi: int, tiers: Sequence[Tier],
                   stop_rule: str = "reported") -> tuple[int, bool, int]:
    """Return (tier index, whether the stop rule is met, the rank to report).

    ``reported``: met when `reported_rank` finds a Q; the tier is Q's. ``estimate`` (the earlier rule):
    met when the interval lies within r of the estimated rank, r the resolution of the tier of the
    interval's most optimistic rank.
    """
    if stop_rule == "reported":
        q = reported_rank(rank, rank_lo, rank_hi, tiers)
        report = rank if q is None else q
        return int(tier_index(np.array([report]), tiers)[0]), q is not None, report
    tier = int(tier_index(np.array([rank_lo]), tiers)[0])
    r = tiers[tier].resolution
    return tier, rank - r <= rank_lo and rank_hi <= rank + r, rank


def within_resolution(reported: int, truth: int, tiers: Sequence[Tier]) -> bool:
    """Whether `reported` is within the resolution of both its own tier and the tier of `truth`."""
    r = min(int(tier_resolution(np.array([reported]), tiers)[0]), int(tier_resolution(np.array([truth]), tiers)[0]))
    return abs(reported - truth) <= r
