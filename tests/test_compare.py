"""Paired differences of two models: against a direct computation from the resamples, invariances, items."""

from __future__ import annotations

import numpy as np
import pytest

from effbench.compare import _difference_smoothing, _ScenarioSum, _smoothed_differences, compare_models
from effbench.render import compare as render_compare
from effbench.stats import ResultsMatrix, rank_intervals


def results(seed: int = 1, n_models: int = 4) -> ResultsMatrix:
    rng = np.random.default_rng(seed)
    skill = np.linspace(0.8, 0.3, n_models)
    scores = tuple((rng.random((n, n_models)) < skill).astype(float) for n in (30, 45))
    scores[1][3, 2] = np.nan  # one missing result
    return ResultsMatrix(tuple(f"m{i}" for i in range(n_models)), ("maths", "reading"), scores, (True, True),
                         (tuple(f"q{i}" for i in range(30)), tuple(f"r{i}" for i in range(45))))


def test_intervals_are_the_quantiles_of_the_paired_resampled_differences():
    data = results()
    intervals = rank_intervals(data, n_resamples=300, rng=3)
    comparison = compare_models(intervals, data)
    assert len(comparison.pairs) == 6
    pair = next(p for p in comparison.pairs if (p.a, p.b) == (1, 3))
    # Each scenario's paired difference gets two pseudo-items at -1 and +1 with Gamma(1/2) weights,
    # the items both were scored on (plus the models' own pseudo-items, 1) weighing their number.
    pseudo = _difference_smoothing(data, 300, 3)
    adjusted = []
    for s, shared in enumerate((30 + 1, 45 + 1)):  # items both scored on (model 2, not 1 or 3, lacks one)
        raw = intervals.resampled_scenario_scores[:, s, 1] - intervals.resampled_scenario_scores[:, s, 3]
        h = pseudo[s]
        adjusted.append((raw, (raw * shared + h[:, 0] - h[:, 1]) / (shared + h.sum(axis=1))))
    direct = (intervals.resampled_scores[:, 1] - intervals.resampled_scores[:, 3]
              + sum(new - raw for raw, new in adjusted) / 2)
    assert pair.overall[0] == pytest.approx(intervals.score[1] - intervals.score[3])
    assert pair.overall[1:] == pytest.approx(tuple(np.quantile(direct, [0.025, 0.975])))
    assert pair.by_scenario[1][1:] == pytest.approx(tuple(np.quantile(adjusted[1][1], [0.025, 0.975])))


def test_counts_and_items_follow_the_definition():
    data = results()
    comparison = compare_models(rank_intervals(data, n_resamples=50), data, items_per_side=3)
    pair = next(p for p in comparison.pairs if (p.a, p.b) == (0, 2))
    a, b = (np.concatenate([m[:, k] for m in data.scores]) for k in (0, 2))
    both = ~np.isnan(a - b)
    assert (pair.a_better, pair.b_better, pair.same) == (
        int(np.sum(a[both] > b[both])), int(np.sum(a[both] < b[both])), int(np.sum(a[both] == b[both])))
    assert len(pair.items) == min(3, pair.a_better) + min(3, pair.b_better)
    for item in pair.items:
        scenario = data.scenarios.index(comparison.scenarios[item.scenario])
        row = data.item_ids[scenario].index(item.item_id)
        assert (item.score_a, item.score_b) == (data.scores[scenario][row, 0], data.scores[scenario][row, 2])
        others = data.scores[scenario][row, [1, 3]]
        assert item.board_mean == pytest.approx(np.nanmean(others))
    # Among equal differences, the items the other models side on most clearly come first.
    firsts = [abs(i.board_mean - (i.score_a + i.score_b) / 2) for i in pair.items[:3]]
    assert firsts == sorted(firsts, reverse=True)


def test_the_same_data_in_another_model_order_gives_the_same_comparisons():
    data = results(n_models=3)
    order = [2, 0, 1]
    shuffled = ResultsMatrix(tuple(data.models[i] for i in order), data.scenarios,
                             tuple(m[:, order] for m in data.scores), data.resampled, data.item_ids)
    first = compare_models(rank_intervals(data, n_resamples=200, rng=0), data)
    second = compare_models(rank_intervals(shuffled, n_resamples=200, rng=0), shuffled)

    def by_names(comparison):
        out = {}
        for p in comparison.pairs:
            a, b = comparison.models[p.a], comparison.models[p.b]
            out[(a, b)] = p.overall[0]
            out[(b, a)] = -p.overall[0]
        return out

    assert by_names(first) == pytest.approx(by_names(second))


def test_errors_name_the_parameter():
    data = results()
    intervals = rank_intervals(data, n_resamples=20)
    with pytest.raises(ValueError, match="`items_per_side` must be a non-negative integer"):
        compare_models(intervals, data, items_per_side=-1)
    with pytest.raises(ValueError, match="`intervals` must be the ranking of `results`"):
        compare_models(intervals, data.without("m0"))
    with pytest.raises(TypeError, match="`results` must be a ResultsMatrix"):
        compare_models(intervals, "results.csv")


def _reference_items(data: ResultsMatrix, a: int, b: int, limit: int) -> tuple[tuple[int, int, int], list]:
    """One pair at a time, item by item in plain Python: the counts and the items a and b disagree on most
    (largest difference, then the other models' mean furthest from the two's midpoint, then scenario, item)."""
    counts, candidates = [0, 0, 0], []
    for s, matrix in enumerate(data.scores):
        if not data.resampled[s]:  # one score per model: no items to disagree on
            continue
        for row in range(matrix.shape[0]):
            x, y = matrix[row, a], matrix[row, b]
            if np.isnan(x) or np.isnan(y):
                continue
            counts[0 if x > y else 1 if x < y else 2] += 1
            if x == y:
                continue
            rest = [matrix[row, m] for m in range(matrix.shape[1]) if m not in (a, b) and not np.isnan(matrix[row, m])]
            mean = sum(rest) / len(rest) if rest else float("nan")
            clarity = 0.0 if not rest else abs(mean - (x + y) / 2)
            candidates.append((-abs(x - y), -clarity, s, row, 1 if x > y else -1, mean))
    chosen = []
    for sign in (1, -1):
        chosen += [(s, data.item_ids[s][row], matrix_a, matrix_b, mean)
                   for _, _, s, row, _, mean, matrix_a, matrix_b in
                   sorted((*c, data.scores[c[2]][c[3], a], data.scores[c[2]][c[3], b]) for c in candidates
                          if c[4] == sign)[:limit]]
    return tuple(counts), chosen


@pytest.mark.parametrize("n_models", [6, 130])  # every pair; and rank neighbours and the top of a large board
def test_items_of_every_compared_pair_match_a_plain_item_by_item_computation(n_models):
    rng = np.random.default_rng(5)
    skill = np.linspace(0.9, 0.2, n_models)
    scores = tuple(np.where(rng.random((n, n_models)) < 0.05, np.nan, (rng.random((n, n_models)) < skill) * 1.0)
                   for n in (25, 40))
    data = ResultsMatrix(tuple(f"m{i}" for i in range(n_models)), ("maths", "reading"), scores, (True, True),
                         (tuple(f"q{i}" for i in range(25)), tuple(f"r{i}" for i in range(40))))
    comparison = compare_models(rank_intervals(data, n_resamples=50, rng=0), data, items_per_side=3)
    assert len(comparison.pairs) == (n_models * (n_models - 1) // 2 if n_models <= 100 else
                                     len({(p.a, p.b) for p in comparison.pairs}))
    _assert_items_match(data, comparison.pairs[:: max(1, len(comparison.pairs) // 60)], 3)


def _assert_items_match(data: ResultsMatrix, pairs, limit: int) -> None:
    for pair in pairs:
        counts, items = _reference_items(data, pair.a, pair.b, limit)
        assert (pair.a_better, pair.b_better, pair.same) == counts
        got = [(i.scenario, i.item_id, i.score_a, i.score_b, i.board_mean) for i in pair.items]
        assert len(got) == len(items)
        for mine, theirs in zip(got, items, strict=True):
            assert mine[:4] == theirs[:4] and mine[4] == pytest.approx(theirs[4], nan_ok=True)


def test_items_over_many_small_scenarios_of_a_few_sizes_match_the_plain_computation():
    rng = np.random.default_rng(6)
    sizes = [3, 5, 3, 1, 5, 3, 8, 5, 2, 3] * 4  # scenarios of one size are taken together
    scores = tuple(np.where(rng.random((n, 7)) < 0.1, np.nan, rng.integers(0, 3, (n, 7)) / 2) for n in sizes)
    data = ResultsMatrix(tuple(f"m{i}" for i in range(7)), tuple(f"s{s:02d}" for s in range(len(sizes))), scores,
                         tuple(n != 1 for n in sizes), tuple(tuple(f"q{i}" for i in range(n)) for n in sizes))
    comparison = compare_models(rank_intervals(data, n_resamples=30, rng=0), data, items_per_side=4)
    _assert_items_match(data, comparison.pairs, 4)


@pytest.mark.parametrize("digits", [4, 6])
def test_rounding_a_whole_array_gives_pythons_round_of_each_value(digits):
    """The compare view's numbers, rounded an array at a time, are `round(value, digits)` to the bit (None where
    not finite), halves and values a rounding error away from them included."""
    rng = np.random.default_rng(4)
    halves = (rng.integers(-10**6, 10**6, 2000) + 0.5) / 10**digits
    values = np.concatenate([
        rng.normal(size=5000), rng.random(2000) * 1e-3, halves, np.nextafter(halves, np.inf),
        np.nextafter(halves, -np.inf), rng.normal(size=200) * 1e12, [0.0, -0.0, -1e-9, np.nan, np.inf, -np.inf],
    ]).tolist()
    rounded = render_compare._numbers(values, digits)
    expected = [render_compare._number(v, digits) for v in values]
    assert [type(v) for v in rounded] == [type(v) for v in expected]
    assert [v if v is None else (v, np.signbit(v)) for v in rounded] == [
        v if v is None else (v, np.signbit(v)) for v in expected]


@pytest.mark.parametrize("k", [1, 2, 5])
def test_scenario_sum_in_blocks_is_numpys_sum_over_the_scenarios(k):
    """The pseudo-items' shifts summed a block of scenarios at a time are np.sum over the whole scenario axis."""
    rng = np.random.default_rng(k)
    for n_scenarios, block in [(1, 1), (7, 3), (130, 16), (3000, 116), (3000, 3000)]:
        values = rng.normal(size=(50, n_scenarios, k)) * rng.random((1, n_scenarios, 1)) * 1e3
        total = _ScenarioSum(50, n_scenarios, k)
        for start in range(0, n_scenarios, block):
            total.add(values[:, start:start + block], slice(start, start + block))
        np.testing.assert_array_equal(total.total(), np.sum(values, axis=1))


def test_smoothed_differences_of_a_block_of_resampled_scenarios_take_slices_for_the_same_floats():
    """A block whose scenarios are all resampled is adjusted on slices; the values are those of the general
    form, which picks the resampled scenarios out one by one."""
    rng = np.random.default_rng(8)
    n_resamples, n_scenarios, k = 40, 12, 3
    resampled = np.flatnonzero(rng.random(n_scenarios) < 0.7)
    resampled = np.union1d(resampled, np.arange(4, 8))  # one block of resampled scenarios only
    terms = (resampled, rng.random(len(resampled)) + 0.5, rng.normal(size=(n_resamples, len(resampled))),
             rng.gamma(0.5, size=(n_resamples, len(resampled))) * 2)
    shared = rng.integers(1, 9, (n_scenarios, k)).astype(float)
    for part in (slice(4, 8), slice(0, 5), slice(8, 12), slice(10, 14)):
        diff = rng.normal(size=(n_resamples, len(range(n_scenarios)[part]), k))
        diff[0, 0, 0] = np.nan
        span, pseudo_diff, pseudo_sum = terms[1:]
        at = np.flatnonzero((resampled >= part.start) & (resampled < part.stop))
        s = resampled[at]
        expected = diff.copy()
        expected[:, s - part.start] = ((diff[:, s - part.start] * shared[s] + span[at, None] * pseudo_diff[:, at, None])
                                       / (shared[s] + pseudo_sum[:, at, None]))
        np.testing.assert_array_equal(_smoothed_differences(diff, terms, shared, part), expected)
