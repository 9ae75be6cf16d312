"""Where the error is spent: the critical value of each look of a group-sequential design.

With one critical value for every look (`group_sequential_critical_value`) each look gets the same share
of the error, also the late looks at which hardly any model is still running. An error-spending design
(Lan and DeMets 1983) fixes in advance how much of alpha may be spent by each look and sets each look's
critical value from that: P(some look k' <= k misses) = the cumulative share at k. Any such schedule keeps
all the looks' intervals right together with probability 1 - alpha, as long as it does not depend on the
model being ranked.

The board's schedule (`board_shares`) spends the error where the board's own models are expected to stop:
for a model at each place of the board, the first look at which an interval of the expected width would
fit between the models `r + 1` places above and below it (r the resolution asked of that place); a share
`EVEN_SHARE` of alpha is spread evenly over all looks, so that no look is left without any.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from effbench.tiers import Tier, tier_resolution

EVEN_SHARE = 0.2  # of alpha spread evenly over the looks; the rest where the board's models are expected to stop


def spent_critical_values(paths: np.ndarray, cumulative_alpha: Sequence[float]) -> np.ndarray:
    """Return each look's critical value such that the share of `paths` (``(looks, draws)`` absolute
    standardised deviations) that exceed their look's value at some look up to k is `cumulative_alpha[k]`
    (rounded down to whole paths; inf where a look spends nothing)."""
    looks, draws = paths.shape
    alive = np.ones(draws, dtype=bool)
    values = np.full(looks, np.inf)
    for k in range(looks):
        spend = int(np.floor(cumulative_alpha[k] * draws + 1e-9)) - int(draws - alive.sum())
        z = paths[k][alive]
        if spend > 0 and z.size:
            # between the spend-th largest survivor and the next: `spend` paths exceed it (all, when no more survive)
            if spend >= z.size:
                values[k] = 0.0
            else:
                top = np.partition(z, (z.size - spend - 1, z.size - spend))
                values[k] = 0.5 * (top[z.size - spend - 1] + top[z.size - spend])
            alive &= ~(paths[k] > values[k])
    return values


def expected_stop_looks(scores: np.ndarray, half_widths: np.ndarray, tiers: Sequence[Tier]) -> np.ndarray:
    """Return, for a model at each place of a board whose models score `scores`, the first look whose
    `half_widths` (the expected half-width of the score interval at each look) fit between the models `r + 1`
    places above and below it, r the resolution of the place; the last look where none does."""
    ordered = np.sort(scores[np.isfinite(scores)])[::-1]
    places = np.arange(ordered.size)
    r = tier_resolution(places + 1, tiers)
    above, below = places - r - 1, places + r + 1
    room_up = np.where(above >= 0, ordered[np.clip(above, 0, None)] - ordered, np.inf)
    room_down = np.where(below < ordered.size, ordered - ordered[np.clip(below, None, ordered.size - 1)], np.inf)
    room = np.minimum(room_up, room_down)
    fits = half_widths[None, :] < room[:, None]
    return np.where(fits.any(axis=1), fits.argmax(axis=1), half_widths.size - 1)


def board_shares(scores: np.ndarray, half_widths: np.ndarray, tiers: Sequence[Tier], *,
                 even: float = EVEN_SHARE) -> np.ndarray:
    """Return the share of the error each look spends: `even` spread over every look, the rest in proportion
    to the places of the board expected to stop at that look (`expected_stop_looks`)."""
    looks = half_widths.size
    stops = expected_stop_looks(scores, half_widths, tiers)
    counts = np.bincount(stops, minlength=looks).astype(float)
    expected = counts / counts.sum() if counts.sum() else np.full(looks, 1 / looks)
    return (1 - even) * expected + even / looks
