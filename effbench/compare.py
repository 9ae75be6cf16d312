"""Comparing two models: paired differences with bootstrap intervals, and the items they disagree on most.

Pure numpy on the ranking's bootstrap resamples and the results matrix; nothing here reads files or
the database. The differences come from the same paired resamples as the rank intervals (the same
drawn items for both models), so a comparison agrees with the leaderboard's intervals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from effbench.paired import holm, overall_p_values, scenario_p_values, scenarios_by_size
from effbench.stats import RankIntervals, ResultsMatrix, percentile_interval, scale_ends


@dataclass(frozen=True)
class DisagreeingItem:
    """One item on which two models score differently, with the other models' mean on it."""

    scenario: int  # index into the scenarios
    item_id: str
    score_a: float
    score_b: float
    board_mean: float  # the other models' mean score on the item (NaN: none)


@dataclass(frozen=True)
class PairComparison:
    """Model `a` minus model `b`: point differences and percentile intervals, overall and per scenario.

    ``overall`` is ``(difference, lo, hi)``; ``by_scenario`` has one such triple per scenario (NaN where
    either model has no result, lo/hi NaN without items to resample). ``overall_p`` is the sign-flip
    test's p-value of the overall difference (over the scenarios both have), ``scenario_p`` each
    scenario's, Holm-adjusted over the pair's scenarios (NaN: nothing to test); a verdict needs both
    the test and the interval (`verdict`). ``a_better``, ``b_better`` and ``same`` count the items both
    were scored on; ``items`` are the items they disagree on most.
    """

    a: int
    b: int
    overall: tuple[float, float, float]
    by_scenario: tuple[tuple[float, float, float], ...]
    a_better: int
    b_better: int
    same: int
    items: tuple[DisagreeingItem, ...]
    overall_p: float = float("nan")
    scenario_p: tuple[float, ...] = ()


def verdict(difference: tuple[float, float, float], p_value: float, alpha: float) -> int:
    """Return +1 when a is clearly better (the interval lies above 0 and the test rejects at `alpha`),
    -1 when b is, 0 otherwise (no interval or no test included)."""
    _, lo, hi = difference
    if not p_value < alpha:
        return 0
    return 1 if lo > 0 else -1 if hi < 0 else 0


@dataclass(frozen=True)
class Comparisons:
    """The compared pairs of models (a before b in the models' order; every pair on a small board, rank
    neighbours and the top of the board on a large one), with the parameters of the intervals and
    each model's overall ``(n_models,)`` and per-scenario ``(n_scenarios, n_models)`` scores."""

    models: tuple[str, ...]
    scenarios: tuple[str, ...]
    pairs: tuple[PairComparison, ...]
    scores: np.ndarray
    scenario_scores: np.ndarray
    confidence_level: float
    n_resamples: int
    selection: str = ""  # which pairs a large board compares, in words; "" when every pair is compared


def compare_models(
    intervals: RankIntervals,
    results: ResultsMatrix,
    *,
    items_per_side: int = 5,
    all_pairs_up_to: int = 100,
    neighbours: int = 5,
    top: int = 20,
) -> Comparisons:
    """Return the paired difference of two models, overall and per scenario, with percentile intervals
    from the bootstrap resamples in `intervals` (widened where needed to hold the difference), and the
    items each pair disagrees on most: every pair of a board of at most `all_pairs_up_to` models, else
    the pairs `compared_pairs` selects (a number of pairs linear in the number of models).

    Parameters
    ----------
    intervals : RankIntervals
        The ranking of `results`, with its raw resamples.
    results : ResultsMatrix
        The per-item results the ranking was computed from (same models and scenarios, same order).
    items_per_side : int, default 5
        How many disagreeing items to keep for each side of a pair (items where a scored higher, and
        items where b did): those with the largest difference first, then those the other models most
        clearly side on (their mean furthest from the two models' midpoint), then by scenario and item.
    all_pairs_up_to : int, default 100
        Boards of at most this many models compare every pair of models.
    neighbours, top : int, default 5 and 20
        Larger boards compare each model with the `neighbours` models below it on the board, and every
        two of the `top` models at the top of the board.

    Returns
    -------
    Comparisons
    """
    _validate(intervals, results, items_per_side)
    for name, value in (("all_pairs_up_to", all_pairs_up_to), ("neighbours", neighbours), ("top", top)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"`{name}` must be a non-negative integer, got {value!r}")
    tail = (1 - intervals.confidence_level) / 2
    n_models = len(intervals.models)
    boot, boot_scenario = intervals.resampled_scores, intervals.resampled_scenario_scores
    pairs, selection = [], ""
    if n_models <= all_pairs_up_to:
        later = {a: np.arange(a + 1, n_models) for a in range(n_models - 1)}
    else:
        later = compared_pairs(intervals.rank, neighbours=neighbours, top=top)
        selection = (f"With {n_models:,} models, paired intervals and items are computed for each model with the "
                     f"{neighbours} models below it on the leaderboard and for every two of the top {top}; for "
                     "other pairs this shows the difference of their scores without an interval (each model's "
                     "own interval is on its page).")
    smoothing = _difference_smoothing(results, boot_scenario.shape[0], intervals.seed)
    groups = scenarios_by_size(results)
    terms = _smoothing_terms(results, smoothing)
    board = _board_sums(results, groups)
    n_scenarios = len(results.scenarios)
    for a, others in later.items():
        shared = _shared_items(groups, a, others, n_scenarios)
        # Scenario by scenario block, so that each block's differences stay in the processor's cache.
        shift_sum = _ScenarioSum(boot_scenario.shape[0], n_scenarios, len(others))
        scen_lo, scen_hi = np.empty((n_scenarios, len(others))), np.empty((n_scenarios, len(others)))
        block = max(1, _BLOCK_VALUES // max(1, boot_scenario.shape[0] * len(others)))
        # Every later model (a board compared pair by pair) is a slice of the resamples, read without a copy.
        columns = slice(a + 1, n_models) if np.array_equal(others, np.arange(a + 1, n_models)) else others
        for start in range(0, n_scenarios, block):
            part = slice(start, start + block)
            raw = boot_scenario[:, part, a:a + 1] - boot_scenario[:, part, columns]  # (R, block, n_others)
            boot_diff = _smoothed_differences(raw, terms, shared, part)
            moved = boot_diff - raw
            moved[np.isnan(moved)] = 0.0  # as np.nansum counts them
            shift_sum.add(moved, part)
            scen_lo[part], scen_hi[part] = percentile_interval(boot_diff, tail)  # (block, n_others)
        shift = shift_sum.total() / n_scenarios  # the pseudo-items' share overall
        overall_lo, overall_hi = percentile_interval(boot[:, [a]] - boot[:, others] + shift, tail)  # (n_others,)
        scenario_p = holm(scenario_p_values(results, a, others, groups).T)  # (n_others, S)
        overall_p = overall_p_values(results, a, others, groups)
        overall = intervals.score[a] - intervals.score[others]
        scenario_diff = intervals.scenario_score[:, [a]] - intervals.scenario_score[:, others]
        # The pseudo-items pull the resamples toward 0: widen the intervals to hold the point difference,
        # as the score intervals are.
        overall_lo, overall_hi = np.fmin(overall_lo, overall), np.fmax(overall_hi, overall)
        scen_lo, scen_hi = np.fmin(scen_lo, scenario_diff), np.fmax(scen_hi, scenario_diff)
        disagreements = _disagreeing_items(results, groups, board, a, others, items_per_side)
        for k, b in enumerate(others):
            counts, items = disagreements[k]
            lo, hi = (overall_lo[k], overall_hi[k]) if intervals.has_intervals else (np.nan, np.nan)
            differences = scenario_diff[:, k].tolist()
            ends = zip(scen_lo[:, k].tolist(), scen_hi[:, k].tolist(), strict=True)
            by_scenario = tuple((d, *(end if resampled else (np.nan, np.nan)))
                                for d, end, resampled in zip(differences, ends, results.resampled, strict=True))
            pairs.append(PairComparison(a, int(b), (float(overall[k]), float(lo), float(hi)), by_scenario,
                                        *counts, items, float(overall_p[k]),
                                        tuple(float(p) for p in scenario_p[k])))
    return Comparisons(intervals.models, intervals.scenarios, tuple(pairs), intervals.score,
                       intervals.scenario_score, intervals.confidence_level, intervals.n_resamples, selection)


def _difference_smoothing(results: ResultsMatrix, n_resamples: int, seed: int | None) -> list[np.ndarray]:
    """Return, per scenario, ``(n_resamples, 2)`` Gamma(1/2) weights of two pseudo-items for the paired
    differences (drawn once, from the ranking's seed, and shared by every pair)."""
    rng = np.random.default_rng([19, seed or 0])
    return [rng.standard_gamma(0.5, size=(n_resamples, 2)) for _ in results.scenarios]


def _smoothing_terms(results: ResultsMatrix, smoothing: list[np.ndarray]
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return what `_smoothed_differences` needs of each resampled scenario, the same for every pair: their
    indices, the width of their score scales ``(S,)``, and the pseudo-items' weight difference and sum
    ``(n_resamples, S)``."""
    resampled = np.flatnonzero(results.resampled)
    span = []
    for s in resampled:
        low, high = scale_ends(results.scores[s], negated=results.negated(s))
        span.append(high - low)
    pseudo = [smoothing[s] for s in resampled]
    width = len(smoothing[0]) if smoothing else 0
    return (resampled, np.array(span, dtype=float),
            np.stack([p[:, 0] - p[:, 1] for p in pseudo], axis=1) if pseudo else np.zeros((width, 0)),
            np.stack([p.sum(axis=1) for p in pseudo], axis=1) if pseudo else np.zeros((width, 0)))


_BLOCK_VALUES = 1 << 20  # resampled differences held at once per block of scenarios (8 MB)


def _shared_items(groups: list[tuple[np.ndarray, np.ndarray]], a: int, others: np.ndarray, n_scenarios: int
                  ) -> np.ndarray:
    """Return ``(S, k)``: the items model `a` and each of `others` were both scored on in each resampled
    scenario, plus the models' own pseudo-items (1); 0 in the other scenarios."""
    shared = np.zeros((n_scenarios, len(others)))
    for scenarios, stacked in groups:
        shared[scenarios] = np.sum(~np.isnan(stacked[:, :, [a]]) & ~np.isnan(stacked[:, :, others]), axis=1) + 1.0
    return shared


def _smoothed_differences(boot_diff: np.ndarray, terms: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
                          shared: np.ndarray, part: slice) -> np.ndarray:
    """Return the resampled differences ``(R, block, k)`` of model `a` minus `others` in the scenarios
    `part`, each scenario's with two pseudo-items added at the ends of the difference's scale (+-the
    score range), weighted Gamma(1/2) (`terms` is `_smoothing_terms`, `shared` `_shared_items`).

    The models' own pseudo-items cancel in a difference, so two models equal on every item (or differing
    on one) would get an interval of zero width (or one that excludes 0 on one item). The added pair is
    Jeffreys' prior on the difference's scale; the resample's total item weight is taken at its mean,
    the items both models were scored on plus the models' own pseudo-items (1). The arithmetic is
    elementwise, so the block's scenarios are adjusted at once."""
    resampled, span, pseudo_diff, pseudo_sum = terms
    at = np.flatnonzero((resampled >= part.start) & (resampled < part.stop))  # positions in `terms`
    s = resampled[at]
    if len(s) and len(s) == boot_diff.shape[1]:  # every scenario of the block is resampled: slices, not copies
        first, last = at[0], at[-1] + 1
        out = boot_diff * shared[part]
        out += span[first:last, None] * pseudo_diff[:, first:last, None]
        out /= shared[part] + pseudo_sum[:, first:last, None]
        return out
    out = boot_diff.copy()
    out[:, s - part.start] = ((boot_diff[:, s - part.start] * shared[s] + span[at, None] * pseudo_diff[:, at, None])
                              / (shared[s] + pseudo_sum[:, at, None]))
    return out


class _ScenarioSum:
    """The sum over the scenarios of ``(R, S, k)`` values given a block of scenarios at a time: the floats of
    ``np.sum(values, axis=1)`` over the whole array without holding it (1,000 x 3,000 x 19 values are 456 MB).

    numpy adds the scenarios one after another when k > 1, and pairwise when k = 1, where the scenarios'
    axis is the contiguous one; only then are the values kept whole and summed by numpy."""

    def __init__(self, n_resamples: int, n_scenarios: int, k: int) -> None:
        self._whole = np.empty((n_resamples, n_scenarios, k)) if k == 1 else None
        self._sum: np.ndarray | None = None if n_scenarios else np.zeros((n_resamples, k))

    def add(self, values: np.ndarray, part: slice) -> None:
        if self._whole is not None:
            self._whole[:, part] = values
            return
        for s in range(values.shape[1]):
            if self._sum is None:
                self._sum = values[:, s].copy()
            else:
                self._sum += values[:, s]

    def total(self) -> np.ndarray:
        return np.sum(self._whole, axis=1) if self._whole is not None else self._sum


def compared_pairs(rank: np.ndarray, *, neighbours: int, top: int) -> dict[int, np.ndarray]:
    """Return the pairs compared on a large board, as each model index's later model indices (sorted):
    each model with the `neighbours` models below it in rank order (ties in model order), and every
    two of the `top` models; at most ``n * neighbours + top * (top - 1) / 2`` pairs."""
    n_models = len(rank)
    board = np.lexsort((np.arange(n_models), rank))  # model indices in rank order
    chosen: set[tuple[int, int]] = set()
    for place, model in enumerate(board):
        for other in board[place + 1:place + 1 + neighbours]:
            chosen.add((min(model, other), max(model, other)))
    leaders = board[:top]
    chosen.update((min(a, b), max(a, b)) for i, a in enumerate(leaders) for b in leaders[i + 1:])
    later: dict[int, list[int]] = {}
    for a, b in sorted(chosen):
        later.setdefault(int(a), []).append(int(b))
    return {a: np.array(bs) for a, bs in later.items()}


PairItems = tuple[tuple[int, int, int], tuple[DisagreeingItem, ...]]  # (a better, b better, same), items


def _board_sums(results: ResultsMatrix, groups: list[tuple[np.ndarray, np.ndarray]]
                ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Return, for each group of `paired.scenarios_by_size`, every item's sum of scores over the models and
    its number of scores ``(scenarios, items)``, each scenario's summed as it would be alone."""
    sums = []
    for scenarios, _ in groups:
        sums.append((np.stack([np.nansum(results.scores[s], axis=1) for s in scenarios]),
                     np.stack([np.sum(~np.isnan(results.scores[s]), axis=1) for s in scenarios])))
    return sums


def _disagreeing_items(results: ResultsMatrix, groups: list[tuple[np.ndarray, np.ndarray]],
                       board: list[tuple[np.ndarray, np.ndarray]], a: int, others: np.ndarray, limit: int
                       ) -> list[PairItems]:
    """Return, for each model b in `others`, the (a better, b better, same) item counts of a and b and the
    items they disagree on most; the scenarios of one size (`groups`, with their `_board_sums`) are one
    matrix operation over all of `others` at once, and each b's items one sort over every scenario."""
    k = len(others)
    a_better, b_better, same = np.zeros(k, int), np.zeros(k, int), np.zeros(k, int)
    # Per b and side: (size, clarity, scenario, row, others' mean) of the differing items, a group at a time.
    candidates: list[dict[int, list[tuple[np.ndarray, ...]]]] = [{1: [], -1: []} for _ in range(k)]
    for (scenarios, stacked), (total, count) in zip(groups, board, strict=True):
        mine, theirs = stacked[:, :, [a]], stacked[:, :, others]
        diff = mine - theirs  # (scenarios, items, k); NaN where either has no result
        a_better += np.sum(diff > 0, axis=(0, 1))
        b_better += np.sum(diff < 0, axis=(0, 1))
        same += np.sum(diff == 0, axis=(0, 1))
        differ = ~np.isnan(diff) & (diff != 0)
        if not differ.any():
            continue
        # Each item's mean score over the models other than a and b (NaN where none has one).
        rest = count[:, :, None] - (~np.isnan(mine)).astype(int) - (~np.isnan(theirs)).astype(int)
        with np.errstate(invalid="ignore", divide="ignore"):
            others_mean = np.where(rest > 0, (total[:, :, None] - np.nan_to_num(mine) - np.nan_to_num(theirs))
                                   / np.maximum(rest, 1), np.nan)
        clarity = np.nan_to_num(np.abs(others_mean - (mine + theirs) / 2))
        size = np.abs(diff)
        for sign in (1, -1):
            where, row, column = np.nonzero(differ & (np.sign(diff) == sign))
            for j in np.unique(column):
                at = column == j
                place = (where[at], row[at], j)
                candidates[j][sign].append((size[place], clarity[place], scenarios[where[at]], row[at],
                                            others_mean[place]))
    found = []
    for j, b in enumerate(others):
        chosen = []
        for sign in (1, -1):
            if not candidates[j][sign]:
                continue
            size, clarity, scenario, row, mean = (np.concatenate(part) for part in zip(*candidates[j][sign],
                                                                                       strict=True))
            # The largest difference first, then the clearest side taken by the others, then scenario and item.
            for at in np.lexsort((row, scenario, -clarity, -size))[:limit]:
                s, item = int(scenario[at]), int(row[at])
                chosen.append(DisagreeingItem(s, results.item_ids[s][item] if results.item_ids else str(item),
                                              float(results.scores[s][item, a]), float(results.scores[s][item, b]),
                                              float(mean[at])))
        found.append(((int(a_better[j]), int(b_better[j]), int(same[j])), tuple(chosen)))
    return found


def _validate(intervals: RankIntervals, results: ResultsMatrix, items_per_side: int) -> None:
    if not isinstance(intervals, RankIntervals):
        raise TypeError(f"`intervals` must be a RankIntervals, got {type(intervals).__name__}")
    if not isinstance(results, ResultsMatrix):
        raise TypeError(f"`results` must be a ResultsMatrix, got {type(results).__name__}")
    if intervals.models != results.models or intervals.scenarios != results.scenarios:
        raise ValueError("`intervals` must be the ranking of `results` (same models and scenarios)")
    if isinstance(items_per_side, bool) or not isinstance(items_per_side, int) or items_per_side < 0:
        raise ValueError(f"`items_per_side` must be a non-negative integer, got {items_per_side!r}")
