"""Leaderboard scale: the scalable ranking and reliability methods against the exact pairwise ones on a
generated 1,000-model board, and no stored table growing with the square of the number of models."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from effbench import analysis_tables, pipeline, reliability, stats, store, synth
from effbench.stats import ResultsMatrix, mean_of_ratios

N_MODELS = 1000


def synthetic_results(n_models: int, n_items: int, n_scenarios: int, seed: int = 0) -> ResultsMatrix:
    """Return a 2PL board from `effbench synth` as a results matrix (items x models per scenario)."""
    spec = synth.SynthSpec(n_models=n_models, n_items=n_items, n_scenarios=n_scenarios, seed=seed)
    frame = pd.concat(list(synth.blocks(spec)))
    scenarios = tuple(sorted(frame["scenario"].unique()))
    models = tuple(sorted(frame["model"].unique()))
    scores = tuple(
        frame[frame["scenario"] == s].pivot(index="item_id", columns="model", values="score")
        .reindex(columns=list(models)).to_numpy(np.float64)
        for s in scenarios
    )
    return ResultsMatrix(models, scenarios, scores, (True,) * len(scenarios))


@pytest.fixture(scope="module")
def board() -> ResultsMatrix:
    return synthetic_results(N_MODELS, 60, 3)


@pytest.fixture(scope="module")
def intervals(board) -> stats.RankIntervals:
    return stats.rank_intervals(board, n_resamples=100)


def pairwise_rank_intervals(score, resampled, confidence_level, method):
    """The rank intervals as first written: one (resamples x models) array per other model k."""
    n = score.size
    deviation = resampled - resampled.mean(axis=0)
    covariance = deviation.T @ deviation / resampled.shape[0]
    variance = np.diag(covariance)
    se = np.sqrt(np.maximum(variance[:, None] + variance[None, :] - 2 * covariance, 0.0))
    se[se <= 1e-12 * np.maximum(1.0, np.abs(score[:, None] - score[None, :]))] = 0.0
    inverse_se = np.divide(1.0, se, out=np.zeros_like(se), where=se > 0)
    shift = resampled - score
    row_max = np.zeros(resampled.shape)
    for k in range(n):
        np.maximum(row_max, np.abs(shift - shift[:, k:k + 1]) * inverse_se[:, k], out=row_max)
    critical = (np.full(n, np.quantile(row_max.max(axis=1), confidence_level)) if method == "simultaneous"
                else np.quantile(row_max, confidence_level, axis=0))
    gap = score[None, :] - score[:, None]
    better, worse = gap > critical[:, None] * se, -gap > critical[:, None] * se
    np.fill_diagonal(better, False)
    np.fill_diagonal(worse, False)
    return 1 + better.sum(axis=1), n - worse.sum(axis=1)


@pytest.mark.parametrize("method", ["marginal", "simultaneous"])
def test_blocked_rank_intervals_equal_the_pairwise_loop(board, intervals, method):
    score, resampled = intervals.score, intervals.resampled_scores
    lo, hi = stats.difference_rank_intervals(score, resampled, confidence_level=0.95, method=method)
    ref_lo, ref_hi = pairwise_rank_intervals(score, resampled, 0.95, method)
    assert np.array_equal(lo, ref_lo) and np.array_equal(hi, ref_hi)
    assert (hi - lo).max() > 10  # a board where the intervals are wide, so that the comparison means something


def test_each_pair_once_gives_the_same_largest_deviations_as_every_column():
    rng = np.random.default_rng(3)
    shift = rng.standard_normal((50, 301))
    inverse_se = rng.random((301, 301))
    inverse_se = (inverse_se + inverse_se.T) / 2
    expected = np.max([np.abs(shift - shift[:, k:k + 1]) * inverse_se[:, k] for k in range(301)], axis=0)
    assert np.array_equal(stats.intervals._largest_studentised_deviation(shift, inverse_se), expected)


def pairwise_disagreements(intervals, neighbours=None):
    """Disagreements as first written: every pair with overlapping rank intervals (of the `neighbours`
    next models on the board, if given), one model at a time."""
    tail = (1 - intervals.confidence_level) / 2
    scenario_tail = tail / len(intervals.scenarios)
    boot, boot_scen = intervals.resampled_scores, intervals.resampled_scenario_scores
    order = np.argsort(intervals.rank, kind="stable")
    out = []
    for x, a in enumerate(order):
        later = order[x + 1:] if neighbours is None else order[x + 1:x + 1 + neighbours]
        later = later[~(intervals.rank_lo[later] > intervals.rank_hi[a])]
        lo, hi = np.quantile(boot[:, [a]] - boot[:, later], [tail, 1 - tail], axis=0)
        for b in later[(lo <= 0) & (hi >= 0)]:
            scen_lo, scen_hi = np.quantile(boot_scen[:, :, a] - boot_scen[:, :, b], [scenario_tail, 1 - scenario_tail],
                                           axis=0)
            a_better = tuple(s for s, v in zip(intervals.scenarios, scen_lo, strict=True) if v > 0)
            b_better = tuple(s for s, v in zip(intervals.scenarios, scen_hi, strict=True) if v < 0)
            if a_better and b_better:
                out.append((intervals.models[a], intervals.models[b], a_better, b_better))
    return out


def test_disagreements_in_blocks_equal_the_pairwise_loop():
    """The blocked search finds the pairwise loop's disagreements, over every pair and over the nearest
    neighbours. The claim holds at any size; 400 models already take several blocks (4 over every pair,
    2 over the neighbours, at 60 resamples and 4 scenarios), and the loop, quadratic in the pairs within
    noise, takes a quarter of the time it takes on 1,000."""
    n_models = 400
    results = synthetic_results(n_models, 240, 4, seed=1)
    result = stats.rank_intervals(results, n_resamples=60)
    every = [dataclasses.astuple(d) for d in reliability.disagreements(result, neighbours=n_models)]
    assert every == pairwise_disagreements(result)
    near = [dataclasses.astuple(d) for d in reliability.disagreements(result)]
    assert near == pairwise_disagreements(result, reliability.DISAGREEMENT_NEIGHBOURS)
    assert 0 < len(near) < len(every)  # the board has disagreeing pairs, and some far apart on it


def test_one_scenario_has_no_disagreements_to_seek():
    result = stats.rank_intervals(synthetic_results(300, 40, 1), n_resamples=50)
    assert reliability.disagreements(result) == () == tuple(pairwise_disagreements(result))


def pairwise_mean_win_rate(scenario_scores, present):
    has = ~np.isnan(scenario_scores) & present[..., None, :]
    filled = np.where(has, scenario_scores, -np.inf)
    wins = ((filled[..., :, :, None] > filled[..., :, None, :]) & has[..., :, None, :]).sum(axis=-1)
    others = has.sum(axis=-1, keepdims=True) - 1
    return np.where(present, mean_of_ratios(wins, np.where(has & (others > 0), others, 0)), np.nan)


def test_mean_win_rate_from_sorts_equals_the_pairwise_count(board):
    scores = board.canonical_scenario_means()
    scores[1, :40] = np.nan  # some models without a result there
    present = np.random.default_rng(0).random((3, N_MODELS)) > 0.01
    assert np.array_equal(reliability.mean_win_rate(np.broadcast_to(scores, (3, *scores.shape)), present),
                          pairwise_mean_win_rate(np.broadcast_to(scores, (3, *scores.shape)), present), equal_nan=True)


def test_model_removals_equal_the_pairwise_sign_matrices(board):
    found = {row.removed_model: row for row in reliability.mwr_instability(board, max_removals=N_MODELS)}
    assert len(found) == N_MODELS
    scores = board.canonical_scenario_means()
    full = reliability.mean_win_rate(scores)
    leaders = np.argsort(-full, kind="stable")[:2]
    for removed in np.random.default_rng(1).choice(N_MODELS, 12, replace=False):
        keep = np.arange(N_MODELS) != removed
        without = pairwise_mean_win_rate(scores, keep)
        flipped = ((np.sign(full[:, None] - full[None, :]) != np.sign(without[:, None] - without[None, :]))
                   & keep[:, None] & keep[None, :])
        row = found[board.models[removed]]
        assert row.changed_models == tuple(board.models[m] for m in np.flatnonzero(flipped.any(axis=1)))
        assert row.top_pair_swapped == (removed not in leaders and bool(flipped[leaders[0], leaders[1]]))


def test_model_removals_are_sampled_on_large_boards(board):
    sampled = reliability.mwr_instability(board, max_removals=50)
    full = {row.removed_model: row for row in reliability.mwr_instability(board, max_removals=N_MODELS)}
    assert len(sampled) == 50 and all(full[row.removed_model] == row for row in sampled)
    assert [row.removed_model for row in sampled] == sorted(row.removed_model for row in sampled)


def test_tau_per_draw_equals_the_pairwise_form(board, monkeypatch):
    reference = board.canonical_scenario_means().mean(axis=0)
    draws = reference + np.random.default_rng(2).normal(scale=0.05, size=(4, N_MODELS))
    draws[1, :5] = np.nan
    per_draw = reliability.kendall_tau(reference, draws), reliability.weighted_tau(reference, draws)
    monkeypatch.setattr(reliability.metrics, "_PAIRWISE_TAU_PAIRS", 10**12)
    pairwise = reliability.kendall_tau(reference, draws), reliability.weighted_tau(reference, draws)
    np.testing.assert_allclose(per_draw[0], pairwise[0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(per_draw[1], pairwise[1], rtol=0, atol=1e-12)
    assert np.isfinite(pairwise[0]).all() and (pairwise[0] < 1).all()


@pytest.mark.parametrize("sparse_share", [0.05, 1.0])  # sparse where a sample adds few items; sparse always
def test_sparse_item_samples_equal_the_dense_product(monkeypatch, sparse_share):
    results = synthetic_results(80, 300, 3, seed=2)
    dense = reliability.dior(results, n_draws=30, decisions=("examples", "allocation"))
    monkeypatch.setattr(reliability.draws, "_DENSE_SAMPLE_WORK", 0)
    monkeypatch.setattr(reliability.draws, "_SPARSE_SHARE", sparse_share)
    sparse = reliability.dior(results, n_draws=30, decisions=("examples", "allocation"))
    assert sparse.rows == dense.rows and sparse.rank_resolution == dense.rank_resolution


def stored_rows(tmp_path: Path, n_models: int) -> dict[str, int]:
    """Load a generated board, run the ranking and reliability analyses, return each table's rows."""
    board = tmp_path / f"board-{n_models}.parquet"
    synth.write(synth.SynthSpec(n_models=n_models, n_items=60, n_scenarios=2, seed=4), board)
    db = tmp_path / f"board-{n_models}.duckdb"
    tables = ("rank_intervals", "scenario_intervals", "rank_distribution", "disagreements", "scenario_weights",
              "dior", "rank_resolution", "scenario_agreement", "mwr_instability", "recommendations")
    with store.open_store(db) as con:
        store.ingest(con, pipeline.result_sources([board]))
        board = pipeline.refresh_boards(con, analysis_tables.model_sets(con))[0]
        pipeline.refresh_ranking(con, analysis_tables.AnalysisParameters(n_resamples=100), board)
        pipeline.refresh_dior(con, analysis_tables.DiorParameters(n_draws=10, decisions=("models", "aggregation")),
                              board)
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables} | {
            "changed_models": con.execute("SELECT coalesce(sum(len(changed_models)), 0) FROM mwr_instability")
            .fetchone()[0]}


def test_no_stored_table_grows_with_the_square_of_the_models(tmp_path):
    small, large = stored_rows(tmp_path, 300), stored_rows(tmp_path, 1200)
    per_model = {"rank_intervals": 1, "scenario_intervals": 2, "rank_distribution": stats.RANK_BINS,
                 "disagreements": reliability.DISAGREEMENT_NEIGHBOURS}
    for table, bound in per_model.items():  # at most a fixed number of rows per model, whatever the board
        assert small[table] <= bound * 300 and large[table] <= bound * 1200, (table, small[table], large[table])
    assert large["rank_distribution"] < 4.5 * small["rank_distribution"]  # models squared would be 16 times
    assert small["mwr_instability"] == reliability.MWR_REMOVALS == large["mwr_instability"]
    assert large["changed_models"] <= reliability.MWR_REMOVALS * 1200
    for table in ("scenario_weights", "dior", "rank_resolution", "scenario_agreement", "recommendations"):
        assert large[table] <= small[table] + 10, (table, small[table], large[table])  # do not grow with models


def test_resamples_alone_skip_the_rank_intervals_and_match_the_full_analysis():
    results = synthetic_results(200, 40, 2, seed=5)
    full = stats.rank_intervals(results, n_resamples=50)
    bare = stats.rank_intervals(results, n_resamples=50, with_rank_intervals=False)
    assert np.array_equal(full.resampled_scenario_scores, bare.resampled_scenario_scores)
    assert np.array_equal(full.score, bare.score) and np.array_equal(full.rank, bare.rank)
    assert np.isnan(bare.rank_lo).all() and not np.isnan(full.rank_lo).any()


def test_equal_scenarios_give_the_micro_ranking_the_macro_intervals():
    result = stats.rank_intervals(synthetic_results(150, 40, 2, seed=6), n_resamples=50)
    assert np.array_equal(result.micro_rank_lo, result.rank_lo) and np.array_equal(result.micro_score, result.score)


def test_disagreements_stack_the_board_once_not_once_per_tested_pair(monkeypatch):
    """Each pair the intervals flag is confirmed by sign-flip tests on the board's stacked scenarios; stacking
    them per pair made a 4,000-model board of 4 scenarios spend minutes copying its results."""
    from effbench import paired
    from effbench.reliability import resolution
    calls = []
    stack = paired.scenarios_by_size
    monkeypatch.setattr(resolution, "scenarios_by_size", lambda results: calls.append(1) or stack(results))
    results = synthetic_results(120, 400, 4, seed=2)
    found = reliability.disagreements(stats.rank_intervals(results, n_resamples=60), results)
    assert len(found) > 1 and len(calls) == 1
