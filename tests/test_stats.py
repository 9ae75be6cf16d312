"""Statistics, tested four ways: against independent references, invariances, seeded regression
values, and the errors its validation raises."""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats as scipy_stats

from effbench import stats
from effbench.stats import (
    ResultsMatrix,
    aggregate,
    competition_ranks,
    difference_rank_intervals,
    mean_of_ratios,
    rank_intervals,
)

import reference


def matrix_from_frame(frame: pd.DataFrame) -> ResultsMatrix:
    pivots = reference.pivot_by_scenario(frame)
    models = tuple(sorted(frame["model"].unique()))
    return ResultsMatrix(
        models=models,
        scenarios=tuple(pivots),
        scores=tuple(p.reindex(columns=list(models)).to_numpy(dtype=float) for p in pivots.values()),
        resampled=(True,) * len(pivots),
    )


@pytest.fixture(scope="module")
def mmlu_pro(mmlu_pro_path) -> pd.DataFrame:
    return pd.read_csv(mmlu_pro_path, usecols=["model", "scenario", "item_id", "score"])


@pytest.fixture(scope="module")
def mmlu_pro_intervals(mmlu_pro):
    return rank_intervals(matrix_from_frame(mmlu_pro))


def test_rank_intervals_match_an_independent_loop_within_one_rank(mmlu_pro, mmlu_pro_intervals):
    expected = reference.bootstrap_rank_intervals(mmlu_pro, n_resamples=1000, seed=2024)
    got = pd.DataFrame({"rank": mmlu_pro_intervals.rank, "rank_lo": mmlu_pro_intervals.rank_lo,
                        "rank_hi": mmlu_pro_intervals.rank_hi}, index=list(mmlu_pro_intervals.models))
    got = got.reindex(expected.index)
    assert mmlu_pro_intervals.rank_method == "marginal"
    assert (got["rank"] == expected["rank"]).all()
    assert (got["rank_lo"] - expected["rank_lo"]).abs().max() <= 1
    assert (got["rank_hi"] - expected["rank_hi"]).abs().max() <= 1
    assert mmlu_pro_intervals.models[int(np.argmin(mmlu_pro_intervals.rank))] == "gemini-1.5-pro-002"


def test_simultaneous_rank_intervals_match_an_independent_loop_and_hold_the_marginal_ones(mmlu_pro):
    frame = mmlu_pro[mmlu_pro["scenario"].isin(["law", "math", "history"])]
    expected = reference.bootstrap_rank_intervals(frame, n_resamples=1000, seed=7, simultaneous=True)
    results = matrix_from_frame(frame)
    both = rank_intervals(results, rank_method="simultaneous")
    marginal = rank_intervals(results)
    got = pd.DataFrame({"rank_lo": both.rank_lo, "rank_hi": both.rank_hi}, index=list(both.models))
    got = got.reindex(expected.index)
    assert (got["rank_lo"] - expected["rank_lo"]).abs().max() <= 1
    assert (got["rank_hi"] - expected["rank_hi"]).abs().max() <= 1
    assert both.rank_method == "simultaneous"
    assert (both.rank_lo <= marginal.rank_lo).all() and (both.rank_hi >= marginal.rank_hi).all()
    assert (both.rank_hi - both.rank_lo).sum() > (marginal.rank_hi - marginal.rank_lo).sum()


def test_point_scores_are_macro_means_of_the_scored_items(mmlu_pro, mmlu_pro_intervals):
    per_scenario = mmlu_pro.dropna(subset=["score"]).groupby(["model", "scenario"])["score"].mean()
    expected = per_scenario.groupby("model").mean()
    got = pd.Series(mmlu_pro_intervals.score, index=list(mmlu_pro_intervals.models))
    pd.testing.assert_series_equal(got.sort_index(), expected.sort_index(), check_names=False, rtol=1e-12)


def test_score_interval_of_one_scenario_agrees_with_scipy_bootstrap():
    rng = np.random.default_rng(1)
    values = (rng.random(400) < 0.6).astype(float)
    result = rank_intervals(
        ResultsMatrix(("m",), ("s",), (values[:, None],), (True,)), n_resamples=4000, rng=3
    )
    # scipy names its generator `rng` from 1.15 on, `random_state` before (the lowest supported is 1.11).
    generator = "rng" if "rng" in inspect.signature(scipy_stats.bootstrap).parameters else "random_state"
    scipy_ci = scipy_stats.bootstrap((values,), np.mean, n_resamples=4000, method="percentile",
                                     confidence_level=0.95, **{generator: np.random.default_rng(4)}).confidence_interval
    # The Bayesian bootstrap and the classic one estimate nearly the same quantiles at 400 items.
    width = scipy_ci.high - scipy_ci.low
    assert result.score_lo[0] == pytest.approx(scipy_ci.low, abs=0.08 * width)
    assert result.score_hi[0] == pytest.approx(scipy_ci.high, abs=0.08 * width)


@pytest.mark.parametrize(("n_items", "n_correct"), [(400, 240), (30, 29), (12, 1)])
def test_score_interval_of_zero_one_scores_is_the_clopper_pearson_interval(n_items, n_correct):
    values = np.zeros(n_items)
    values[:n_correct] = 1.0
    result = rank_intervals(ResultsMatrix(("m",), ("s",), (values[:, None],), (True,)), n_resamples=20_000, rng=5)
    lo = scipy_stats.beta.ppf(0.025, n_correct, n_items - n_correct + 1)
    hi = scipy_stats.beta.ppf(0.975, n_correct + 1, n_items - n_correct)
    assert result.scenario_score_lo[0, 0] == pytest.approx(lo, abs=0.04 * (hi - lo))
    assert result.scenario_score_hi[0, 0] == pytest.approx(hi, abs=0.04 * (hi - lo))


@pytest.mark.parametrize("value", [0.0, 1.0])
def test_all_correct_or_all_wrong_samples_give_intervals_of_nonzero_width(value):
    scores = np.full((100, 2), value)
    result = rank_intervals(ResultsMatrix(("a", "b"), ("s",), (scores,), (True,)), n_resamples=2000)
    assert (result.score_hi - result.score_lo > 0.01).all()
    assert (result.scenario_score_hi - result.scenario_score_lo > 0.01).all()
    # The interval holds the point estimate: [lower, 1] for all correct, [0, upper] for all wrong.
    assert (result.score_lo <= value).all() and (result.score_hi >= value).all()
    lower = scipy_stats.beta.ppf(0.025, 100, 1)  # Clopper-Pearson's lower end for 100 of 100 correct
    if value == 1.0:
        assert result.score_lo[0] == pytest.approx(lower, abs=0.005)


def test_intervals_for_accuracies_near_one_cover_the_truth():
    """Small samples of a model right 98% of the time: most are all correct, and their percentile
    bootstrap interval would be [1, 1]. The interval must still hold 0.98 in at least 90% of samples."""
    rng = np.random.default_rng(11)
    covered = 0
    for _ in range(200):
        sample = (rng.random((60, 1)) < 0.98).astype(float)
        result = rank_intervals(ResultsMatrix(("m",), ("s",), (sample,), (True,)), n_resamples=400,
                                rng=int(rng.integers(1 << 30)))
        covered += result.score_lo[0] <= 0.98 <= result.score_hi[0]
    assert covered / 200 >= 0.9


def test_model_order_does_not_change_any_model_result(mmlu_pro):
    results = matrix_from_frame(mmlu_pro[mmlu_pro["scenario"].isin(["law", "math", "history"])])
    order = np.random.default_rng(0).permutation(len(results.models))
    shuffled = ResultsMatrix(tuple(results.models[i] for i in order), results.scenarios,
                             tuple(m[:, order] for m in results.scores), results.resampled)
    a, b = rank_intervals(results, n_resamples=200), rank_intervals(shuffled, n_resamples=200)
    for field in ("rank", "rank_lo", "rank_hi", "score", "score_lo", "score_hi"):
        np.testing.assert_array_equal(getattr(a, field)[order], getattr(b, field), err_msg=field)


def test_duplicating_every_item_keeps_point_estimates():
    rng = np.random.default_rng(5)
    scores = (rng.random((50, 4)) < np.array([0.2, 0.4, 0.6, 0.8])).astype(float)
    once = rank_intervals(ResultsMatrix(tuple("abcd"), ("s",), (scores,), (True,)), n_resamples=50)
    twice = rank_intervals(ResultsMatrix(tuple("abcd"), ("s",), (np.vstack([scores, scores]),), (True,)),
                           n_resamples=50)
    np.testing.assert_allclose(once.score, twice.score)
    np.testing.assert_array_equal(once.rank, twice.rank)


def test_more_items_narrow_the_score_interval():
    rng = np.random.default_rng(6)
    small = (rng.random((100, 1)) < 0.5).astype(float)
    large = (rng.random((10_000, 1)) < 0.5).astype(float)
    width = [np.ptp([r.score_lo[0], r.score_hi[0]]) for r in (
        rank_intervals(ResultsMatrix(("m",), ("s",), (m,), (True,)), n_resamples=500) for m in (small, large))]
    assert width[1] < width[0] / 5


def test_seeded_results_are_reproducible_and_match_stored_values(mmlu_pro_intervals, mmlu_pro):
    again = rank_intervals(matrix_from_frame(mmlu_pro))
    np.testing.assert_array_equal(again.resampled_ranks, mmlu_pro_intervals.resampled_ranks)
    # Regression values for seed 0, 1,000 resamples (from effbench 0.1.0); a change here changes
    # every published interval and must be deliberate.
    by_model = dict(zip(mmlu_pro_intervals.models, zip(mmlu_pro_intervals.rank_lo, mmlu_pro_intervals.rank_hi,
                                                       strict=True), strict=True))
    assert by_model["gemini-1.5-pro-002"] == (1, 1)
    assert by_model["Meta-Llama-3_1-70B-Instruct"] == (2, 4)
    assert by_model["Mistral-7B-Instruct-v0.2"] == (21, 23)
    assert by_model["Llama-2-7b-hf"] == (29, 29)
    assert mmlu_pro_intervals.score_lo[mmlu_pro_intervals.models.index("gemini-1.5-pro-002")] == pytest.approx(
        REGRESSION_SCORE_LO, abs=1e-12)


# Seed 0, 1,000 resamples: the 2.5% quantile of the resamples with one pseudo-item at 0 in each scenario
# (issue 19; before it, Jeffreys pseudo-items recentred on the point gave 0.7078599504244978).
REGRESSION_SCORE_LO = 0.707417584440011


def test_equal_rational_means_are_exact_ties():
    """(0/3 + 1/7 + 2/10 + 11/11) / 4 = (3/3 + 1/7 + 2/10 + 0/11) / 4 = 47/140, but summing the
    floats in order gives 0.33571428571428574 and 0.3357142857142857: rounding would split the tie."""
    assert np.mean([0 / 3, 1 / 7, 2 / 10, 11 / 11]) != np.mean([3 / 3, 1 / 7, 2 / 10, 0 / 11])
    correct = {"a": (0, 1, 2, 11), "b": (3, 1, 2, 0), "c": (1, 1, 1, 1)}
    matrices = []
    for size, s in zip((3, 7, 10, 11), range(4), strict=True):
        matrices.append(np.column_stack([(np.arange(size) < correct[m][s]).astype(float) for m in "abc"]))
    result = rank_intervals(ResultsMatrix(tuple("abc"), tuple("wxyz"), tuple(matrices), (True,) * 4), n_resamples=50)
    assert result.score[0] == result.score[1] == 47 / 140
    assert result.rank[0] == result.rank[1] == 1 and result.rank[2] == 3
    assert result.micro_rank.tolist() == [1, 2, 3]  # 14, 6 and 4 of the 31 items


def test_mean_of_ratios_is_exact_on_both_paths():
    num = np.array([[0, 3, 1], [1, 1, 1], [2, 2, 1], [11, 0, 1]], dtype=float)
    den = np.array([[3, 3, 3], [7, 7, 7], [10, 10, 10], [11, 11, 11]], dtype=float)
    values = mean_of_ratios(num, den)
    assert values[0] == values[1] == 47 / 140 and values[2] < values[0]
    # Denominators whose common multiple exceeds 52 bits take the path through fractions.
    big = np.array([[1.0, 2.0], [5.0, 5.0]]), np.array([[2**31 - 1, 2 * (2**31 - 1)], [2**31 + 11, 2**31 + 11]])
    values = mean_of_ratios(*big)
    assert values[0] == values[1]


@pytest.mark.parametrize("values", ["normal", "ties", "nan"])
def test_percentile_interval_is_numpys_quantile_to_the_bit(values):
    """The order-statistic path gives np.quantile's (np.nanquantile's with NaN) linear quantiles exactly, for
    any number of resamples, tail and shape, with ties, all-NaN and partly-NaN columns."""
    rng = np.random.default_rng(11)
    for trial in range(400):
        n = int(rng.choice([1, 2, 3, 10, 39, 40, 41, 999, 1000, 1001]))
        shape = (n, *rng.integers(1, 6, size=trial % 3))
        sample = rng.normal(size=shape)
        if values == "ties":  # no zeros of both signs: which of two equal values is kept is not defined
            sample = np.abs(np.round(sample * 2) / 2)
        elif values == "nan":
            sample[rng.random(shape) < 0.2] = np.nan
            if sample.ndim > 1:
                sample[..., 0] = np.nan  # all-NaN columns
        tail = float(rng.choice([0.025, 0.005, 0.1, 0.5, 0.0, 1.0, rng.random() / 2]))
        fast = stats.percentile_interval(sample.copy(), tail)
        plain = stats.intervals._numpy_interval(sample.copy(), tail, "linear")
        for ours, numpys in zip(fast, plain, strict=True):
            assert np.shape(ours) == np.shape(numpys)
            np.testing.assert_array_equal(ours, numpys)
            np.testing.assert_array_equal(np.signbit(ours), np.signbit(numpys))


@pytest.mark.parametrize("denominators", [[3, 7, 10, 12], [2**31 - 1, 2**31 + 11, 999_983, 7]])
def test_mean_of_ratios_in_blocks_of_draws_is_the_same_as_in_one(denominators, monkeypatch):
    """Blocks of draws, each on its own common denominator (or all through fractions when the whole array's
    would exceed 52 bits), give the floats of one block, with ties and missing terms."""
    rng = np.random.default_rng(5)
    den = rng.choice(np.array(denominators, dtype=float), (40, 6, 5))
    den[rng.random(den.shape) < 0.1] = 0
    num = np.floor(rng.random(den.shape) * (den + 1))
    num[:, :, 1], den[:, :, 1] = num[:, :, 0], den[:, :, 0]  # ties
    weights = rng.integers(0, 3, (40, 6, 1)).astype(float)
    whole = mean_of_ratios(num, den, weights)
    monkeypatch.setattr(stats.scores, "_RATIO_BLOCK_ENTRIES", 30)  # one draw a block
    np.testing.assert_array_equal(mean_of_ratios(num, den, weights), whole)
    assert (whole[:, 0] == whole[:, 1])[weights[:, :, 0].sum(axis=1) > 0].all()


def test_a_partial_model_never_outranks_a_model_better_on_every_shared_scenario():
    """b skipped the hard scenario; a is better on the easy one and has the hard one. Averaging over the
    scenarios each has would put b (0.9) above a (0.55); counting b's missing scenario at the board's
    lowest score there puts b below a."""
    rng = np.random.default_rng(3)
    easy = (rng.random((200, 3)) < np.array([0.95, 0.9, 0.6])).astype(float)
    hard = (rng.random((200, 3)) < np.array([0.15, 0.5, 0.1])).astype(float)
    hard[:, 1] = np.nan
    result = rank_intervals(ResultsMatrix(("a", "b", "c"), ("easy", "hard"), (easy, hard), (True, True)),
                            n_resamples=300)
    assert result.rank[0] < result.rank[1]
    assert result.partial.tolist() == [False, True, False]
    assert result.missing_scenarios.tolist() == [0, 1, 0]
    lowest_hard = np.nanmin(result.scenario_score[1])
    assert result.score[1] == pytest.approx((result.scenario_score[0, 1] + lowest_hard) / 2)
    assert np.isnan(result.scenario_score[1, 1])
    assert (result.resampled_scores[:, 0] >= result.resampled_scores[:, 1]).mean() > 0.5


def test_a_model_with_one_item_keeps_its_scenario_in_every_resample():
    scores = (np.random.default_rng(4).random((50, 2)) < 0.5).astype(float)
    scores[1:, 1] = np.nan  # b has one item
    result = rank_intervals(ResultsMatrix(("a", "b"), ("s",), (scores,), (True,)), n_resamples=500)
    assert not np.isnan(result.resampled_scenario_scores).any()
    assert result.scenario_score_hi[0, 1] - result.scenario_score_lo[0, 1] > 0.5


def test_tied_models_share_their_rank_interval():
    rng = np.random.default_rng(9)
    strong = (rng.random(300) < 0.8).astype(float)
    scores = np.column_stack([strong, strong, (rng.random((300, 2)) < np.array([0.4, 0.2])).astype(float)])
    result = rank_intervals(ResultsMatrix(tuple("abcd"), ("s",), (scores,), (True,)), n_resamples=500)
    assert result.rank.tolist() == [1, 1, 3, 4]
    assert result.rank_lo.tolist()[:2] == [1, 1] and result.rank_hi.tolist()[:2] == [2, 2]
    assert result.rank_lo.tolist()[2:] == [3, 4] and result.rank_hi.tolist()[2:] == [3, 4]


def test_tiny_scenarios_are_flagged_and_carry_most_of_the_variance():
    rng = np.random.default_rng(12)
    big = [(rng.random((200, 4)) < 0.5).astype(float) for _ in range(3)]
    tiny = (rng.random((3, 4)) < 0.5).astype(float)
    result = rank_intervals(ResultsMatrix(tuple("abcd"), ("p", "q", "r", "tiny"), (*big, tiny), (True,) * 4),
                            n_resamples=400)
    assert result.tiny_scenarios.tolist() == [False, False, False, True]
    assert result.scenario_variance_share[3] > 0.8
    assert result.scenario_items.tolist() == [200, 200, 200, 3]
    pooled = np.vstack([*big, tiny]).mean(axis=0)
    np.testing.assert_allclose(result.micro_score, pooled)


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 8), st.integers(0, 2**32 - 1), st.sampled_from(["marginal", "simultaneous"]))
def test_rank_intervals_from_differences_hold_the_point_rank(n_models, seed, method):
    rng = np.random.default_rng(seed)
    score = rng.choice([0.2, 0.4, 0.5, 0.6], size=n_models)
    boot = score + rng.normal(0, rng.choice([0.0, 0.01, 0.1]), size=(200, n_models))
    lo, hi = difference_rank_intervals(score, boot, method=method)
    rank = competition_ranks(score)
    assert ((lo <= rank) & (rank <= hi)).all()
    assert ((lo >= 1) & (hi <= n_models)).all()


def test_missing_results_are_left_out_not_counted_as_zero():
    scores = np.array([[1.0, 0.0], [np.nan, 0.0], [1.0, 1.0], [np.nan, 1.0]])
    result = rank_intervals(ResultsMatrix(("a", "b"), ("s",), (scores,), (True,)), n_resamples=100)
    np.testing.assert_allclose(result.score, [1.0, 0.5])
    np.testing.assert_array_equal(result.items_scored, [[2, 4]])


def test_a_model_without_a_scenario_is_scored_on_the_others():
    qa = np.array([[1.0, 0.0], [1.0, 0.0]])
    math = np.array([[np.nan, 1.0], [np.nan, 1.0]])
    result = rank_intervals(ResultsMatrix(("a", "b"), ("qa", "math"), (qa, math), (True, True)), n_resamples=20)
    np.testing.assert_allclose(result.score, [1.0, 0.5])
    assert np.isnan(result.scenario_rank[1, 0])


def test_scenario_level_results_are_held_fixed_and_give_no_intervals():
    fixed = np.array([[0.3, 0.5, 0.9]])
    result = rank_intervals(ResultsMatrix(("a", "b", "c"), ("s",), (fixed,), (False,)), n_resamples=30)
    np.testing.assert_array_equal(result.rank, [3, 2, 1])
    assert not result.has_intervals
    assert np.isnan(result.rank_lo).all() and np.isnan(result.score_hi).all()


def test_rank_distribution_rows_sum_to_one(mmlu_pro_intervals):
    shares = mmlu_pro_intervals.rank_distribution()
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)


def test_competition_ranks_share_ties_and_put_missing_last():
    np.testing.assert_array_equal(competition_ranks(np.array([0.5, 0.9, 0.5, np.nan, 0.1])), [2, 1, 2, 5, 4])


def test_aggregate_leaves_out_missing_scenarios():
    np.testing.assert_allclose(aggregate(np.array([[1.0, np.nan], [0.0, 0.4]])), [0.5, 0.4])


@settings(max_examples=50, deadline=None)
@given(arrays(np.float64, st.integers(2, 12), elements=st.floats(0, 1)))
def test_ranks_are_monotone_in_scores(scores):
    ranks = competition_ranks(scores)
    for i in range(len(scores)):
        for j in range(len(scores)):
            if scores[i] > scores[j]:
                assert ranks[i] < ranks[j]
            elif scores[i] == scores[j]:
                assert ranks[i] == ranks[j]
    assert ranks.min() == 1


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 30), st.integers(2, 6), st.integers(0, 2**32 - 1))
def test_intervals_contain_the_point_estimate_shape(n_items, n_models, seed):
    rng = np.random.default_rng(seed)
    scores = rng.random((n_items, n_models))
    result = rank_intervals(ResultsMatrix(tuple(map(str, range(n_models))), ("s",), (scores,), (True,)),
                            n_resamples=50, rng=seed)
    assert (result.rank_lo <= result.rank_hi).all()
    assert (result.score_lo <= result.score_hi + 1e-12).all()
    assert ((result.rank_lo >= 1) & (result.rank_hi <= n_models)).all()


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"n_resamples": 0}, "`n_resamples` must be a positive integer"),
    ({"n_resamples": 1.5}, "`n_resamples` must be a positive integer"),
    ({"confidence_level": 1.0}, r"`confidence_level` must be in \(0, 1\)"),
    ({"rng": "zero"}, "`rng` must be an int seed or a numpy Generator"),
    ({"rank_method": "joint"}, "`rank_method` must be one of marginal, simultaneous"),
])
def test_invalid_parameters_are_named_in_the_error(kwargs, message):
    results = ResultsMatrix(("a",), ("s",), (np.ones((3, 1)),), (True,))
    with pytest.raises((ValueError, TypeError), match=message):
        rank_intervals(results, **kwargs)


def test_malformed_matrix_is_refused():
    with pytest.raises(ValueError, match="must be \\(n_items >= 1, 2\\)"):
        ResultsMatrix(("a", "b"), ("s",), (np.ones((3, 1)),), (True,))


@pytest.mark.parametrize("script", ["bench_coverage", "bench_engine", "bench_build", "bench_dior"])
def test_benchmark_scripts_run_in_their_smoke_mode(script, capsys):
    """The benchmarks behind the README's coverage and speed figures still run (tiny sizes)."""
    import importlib
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    try:
        module = importlib.import_module(script)
        module.main(["--smoke", "--example", "livecodebench"])
    finally:
        sys.path.pop(0)
    out = capsys.readouterr().out
    assert "example: livecodebench" in out
    expected = {"bench_coverage": "every model's rank covered at once", "bench_engine": "BLAS floor",
                "bench_build": "rank intervals, 50 resamples", "bench_dior": "per-draw numpy loop"}[script]
    assert expected in out
