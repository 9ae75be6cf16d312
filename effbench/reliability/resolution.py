"""What the reliability analysis (`effbench.reliability`) reports besides the DIoR: how far ranks move
with fewer items, the agreement between scenarios, what removing one model does under mean win rate, and
the pairs of models within noise overall that each win some scenario clearly. Each is read off arrays the
analysis already has, in blocks that bound the memory."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from effbench.paired import holm, scenario_p_values, scenarios_by_size
from effbench.reliability.draws import _Instantiations
from effbench.reliability.metrics import _strict_wins, kendall_tau
from effbench.reliability.results import Disagreement, MwrInstability, RankResolution
from effbench.stats import RankIntervals, ResultsMatrix, competition_ranks, mean_of_ratios, percentile_interval

# Disagreements are sought between each model and this many models after it on the board.
DISAGREEMENT_NEIGHBOURS = 50
# Boards with more models than this remove a random sample of this many in `mwr_instability`.
MWR_REMOVALS = 200
# Boards with more scenarios than this show the agreement of this many (those with the most items): the
# matrix grows with the square of the scenarios, and a reader cannot take in more cells than this anyway.
AGREEMENT_SCENARIOS = 100


def _rank_resolution(inst: _Instantiations) -> RankResolution:
    """95th percentile, over draws and models, of |rank on the sample - rank on all items|."""
    ref_ranks = competition_ranks(inst.reference)
    moves = np.abs(competition_ranks(inst.draws) - ref_ranks)
    return RankResolution(inst.level, int(np.quantile(moves, 0.95, method="inverted_cdf")), inst.compute_fraction)


def agreement_scenarios(sizes: np.ndarray, limit: int = AGREEMENT_SCENARIOS) -> np.ndarray:
    """Return the positions, in board order, of the scenarios whose agreement is shown: every one on a board of
    up to `limit` scenarios, else the `limit` with the most items (`sizes`; the first on the board among equals)."""
    if len(sizes) <= limit:
        return np.arange(len(sizes))
    return np.sort(np.argsort(-np.asarray(sizes), kind="stable")[:limit])


def scenario_agreement(scenario_scores: np.ndarray) -> np.ndarray:
    """Return the ``(S, S)`` Kendall tau between every two scenarios' scores, over models with both."""
    return np.stack([kendall_tau(row, scenario_scores) for row in scenario_scores])


def mwr_instability(results: ResultsMatrix, *, max_removals: int = MWR_REMOVALS,
                    rng: int | np.random.Generator = 0) -> tuple[MwrInstability, ...]:
    """Remove each model in turn and list the other models whose mean-win-rate order changes.

    A model "changes" when its order relative to some other remaining model flips against the
    ranking with every model on the board. Means do not depend on the other models, so under the
    macro mean this list would always be empty. A board of more than `max_removals` models removes
    a random sample of `max_removals` of them (drawn with `rng`, listed in board order), so that the
    work and the stored lists grow linearly with the number of models.

    Removing r takes r's win away from the models above it in each scenario and one opponent from
    every model, so each removal costs ``n_scenarios x n_models`` plus one sort, and whether a model
    changes is read off the board order with running maxima and minima instead of comparing every
    pair: a model flips against some other one exactly when a model ranked below it (with every model)
    now has a win rate at least its own, one ranked above now has at most its own, or one tied with it
    no longer is. A model without a win rate makes every order undefined: then every model changes,
    as the pairwise comparison would say.
    """
    scenario_scores = results.canonical_scenario_means()
    n_models = len(results.models)
    has = ~np.isnan(scenario_scores)
    filled = np.where(has, scenario_scores, -np.inf)
    wins = _strict_wins(filled, has)
    count = has.sum(axis=-1, keepdims=True)
    full = mean_of_ratios(wins, np.where(has & (count > 1), count - 1, 0))
    if n_models > max_removals:
        removed = np.sort(np.random.default_rng(rng).choice(n_models, max_removals, replace=False))
    else:
        removed = np.arange(n_models)
    leader_pair = np.argsort(-full, kind="stable")[:2]
    order = np.argsort(full, kind="stable")
    sorted_full = full[order]
    starts = np.flatnonzero(np.r_[True, sorted_full[1:] != sorted_full[:-1]])
    group = np.cumsum(np.r_[True, sorted_full[1:] != sorted_full[:-1]]) - 1
    ends = np.r_[starts[1:], n_models] - 1
    out = []
    block = max(1, (1 << 22) // max(1, scenario_scores.size))
    for first in range(0, len(removed), block):
        chunk = removed[first:first + block]
        gone = np.zeros((len(chunk), n_models), dtype=bool)
        gone[np.arange(len(chunk)), chunk] = True
        beaten = has.T[chunk][:, :, None] & (filled.T[chunk][:, :, None] < filled[None])  # (R, S, M): beat r
        remaining = has[None] & ~gone[:, None, :]
        others = (count - 1)[None] - has.T[chunk][:, :, None]
        rate = mean_of_ratios(wins[None] - beaten, np.where(remaining & (others > 0), others, 0))
        rate[gone] = np.nan
        kept = ~gone[:, order]
        after = rate[:, order]
        high = np.where(kept, after, -np.inf)
        low = np.where(kept, after, np.inf)
        below_max = np.maximum.accumulate(high, axis=1)
        above_min = np.minimum.accumulate(low[:, ::-1], axis=1)[:, ::-1]
        below = np.where(starts[group] > 0, below_max[:, np.maximum(starts[group] - 1, 0)], -np.inf)
        above = np.where(ends[group] < n_models - 1, above_min[:, np.minimum(ends[group] + 1, n_models - 1)], np.inf)
        split = (np.maximum.reduceat(high, starts, axis=1) != np.minimum.reduceat(low, starts, axis=1))[:, group]
        undefined = ((np.isnan(after) | np.isnan(sorted_full)) & kept).any(axis=1, keepdims=True)
        changed_sorted = kept & (undefined | (below >= after) | (above <= after) | split)
        changed = np.zeros_like(changed_sorted)
        changed[:, order] = changed_sorted
        before_sign = np.sign(full[leader_pair[0]] - full[leader_pair[1]]) if n_models > 1 else 0.0
        for i, r in enumerate(chunk):
            top_swapped = False
            if n_models > 1 and r not in leader_pair:
                after_sign = np.sign(rate[i, leader_pair[0]] - rate[i, leader_pair[1]])
                top_swapped = bool(before_sign != after_sign)
            out.append(MwrInstability(results.models[r], tuple(results.models[m] for m in np.flatnonzero(changed[i])),
                                      top_swapped))
    return tuple(out)


def disagreements(intervals: RankIntervals, results: ResultsMatrix | None = None,
                  confidence_level: float | None = None, *,
                  neighbours: int = DISAGREEMENT_NEIGHBOURS) -> tuple[Disagreement, ...]:
    """Return pairs of models whose overall scores are within noise (the paired bootstrap interval
    of their difference holds 0) although each is clearly better in some scenario (the interval of
    that scenario's difference excludes 0) - the warning against averaging disagreement away.

    The per-scenario intervals are Bonferroni-corrected over the scenarios (level 1 - alpha/S), so
    that two models alike in every scenario are flagged with probability at most alpha, however
    many scenarios there are. With `results` (the per-item results ranked), a scenario counts only when
    the sign-flip test of the pair's differences there also rejects, Holm-adjusted over the scenarios
    (`effbench.paired`): an interval alone excludes 0 when every differing item goes one way, however
    few they are. Only pairs whose rank intervals overlap are examined (others are not
    within noise), each model with the next `neighbours` models on the board (so every pair on a
    board of up to ``neighbours + 1`` models; on larger boards the pairs within noise grow with the
    square of the models, and the nearest are the ones a reader compares), and with one scenario
    there is nothing to examine. The pairs are examined in blocks, each statistic computed for the
    whole block at once.
    """
    level = intervals.confidence_level if confidence_level is None else confidence_level
    if not intervals.has_intervals or len(intervals.scenarios) < 2:
        return ()  # with one scenario no model can be better in one scenario and worse in another
    tail = (1 - level) / 2
    scenario_tail = tail / len(intervals.scenarios)
    boot, boot_scen = intervals.resampled_scores, intervals.resampled_scenario_scores
    out = []
    groups = None
    block = max(1, (1 << 22) // max(1, boot_scen.shape[0] * boot_scen.shape[1]))
    for first, second in _overlapping_pairs(intervals, block, neighbours):
        lo, hi = percentile_interval(boot[:, first] - boot[:, second], tail)
        tied = (lo <= 0) & (hi >= 0)
        if not tied.any():
            continue
        first, second = first[tied], second[tied]
        scen_lo, scen_hi = percentile_interval(boot_scen[:, :, first] - boot_scen[:, :, second],  # (S, P)
                                               scenario_tail)
        a_better, b_better = scen_lo > 0, scen_hi < 0
        if results is not None:
            for p in np.flatnonzero(a_better.any(axis=0) & b_better.any(axis=0)):
                if groups is None:  # the board's scenarios stacked once, for every pair tested
                    groups = scenarios_by_size(results)
                p_values = scenario_p_values(results, int(first[p]), np.array([second[p]]), groups)[:, 0]
                tested = holm(p_values) < 1 - level
                a_better[:, p] &= tested
                b_better[:, p] &= tested
        for p in np.flatnonzero(a_better.any(axis=0) & b_better.any(axis=0)):
            out.append(Disagreement(
                intervals.models[first[p]], intervals.models[second[p]],
                tuple(s for s, v in zip(intervals.scenarios, a_better[:, p], strict=True) if v),
                tuple(s for s, v in zip(intervals.scenarios, b_better[:, p], strict=True) if v)))
    return tuple(out)


def _overlapping_pairs(intervals: RankIntervals, block: int, neighbours: int
                       ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield the pairs (a, b) with b among the `neighbours` models after a in board order whose rank
    intervals overlap (b's best rank is not below a's worst), as arrays of at most `block` pairs, in
    board order.

    The pairs are found a block of rows at a time from the sorted board, so no list of every pair is
    ever built: memory stays linear in the number of models."""
    order = np.argsort(intervals.rank, kind="stable")
    best, worst = intervals.rank_lo[order], intervals.rank_hi[order]
    n_models = order.size
    rows = max(1, min(n_models, (1 << 22) // max(1, n_models)))
    pending_a, pending_b, pending = [], [], 0
    for x0 in range(0, n_models, rows):
        x1 = min(n_models, x0 + rows)
        distance = np.arange(n_models)[None, :] - np.arange(x0, x1)[:, None]
        overlap = (distance > 0) & (distance <= neighbours) & ~(best[None, :] > worst[x0:x1, None])
        a, b = np.nonzero(overlap)
        pending_a.append(order[a + x0])
        pending_b.append(order[b])
        pending += a.size
        while pending >= block or (x1 == n_models and pending):
            first, second = np.concatenate(pending_a), np.concatenate(pending_b)
            yield first[:block], second[:block]
            pending_a, pending_b, pending = [first[block:]], [second[block:]], first.size - min(block, first.size)
