"""DIoR and the "don't aggregate" checks: references, exact toy cases, invariants, regression values."""

from __future__ import annotations

import json

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats as scipy_stats
from typer.testing import CliRunner

from effbench import analysis_tables, pipeline, reliability
from effbench.cli import app
from effbench.load import ColumnMap, Source
from effbench.reliability import (
    dior,
    disagreements,
    kendall_tau,
    mean_win_rate,
    mwr_instability,
    tier_agreement,
    weighted_tau,
)
from effbench.stats import ResultsMatrix, rank_intervals

import reference
from conftest import write_csv


def fixed(scores: list[list[float]], models: str = "ABC") -> ResultsMatrix:
    """Scenario-level results: `scores[s][m]`, one score per model and scenario."""
    return ResultsMatrix(tuple(models[:len(scores[0])]), tuple(f"s{i}" for i in range(len(scores))),
                         tuple(np.array([row]) for row in scores), (False,) * len(scores))


def test_examples_dior_matches_an_independent_loop_through_the_cli(example_build):
    """The issue's check: `effbench dior --decision examples --json` at n = 10, 50, 200 within 0.03 of an
    independent 1,000-draw computation (tests/reference.py, scipy's kendalltau in a loop)."""
    db = example_build.out.parent / "effbench.duckdb"
    result = CliRunner().invoke(app, ["dior", "--decision", "examples", "--metric", "kendall_tau", "--json",
                                      "--db", str(db)])
    assert result.exit_code == 0, result.output
    rows = {r["level"]: r for r in json.loads(result.stdout)}
    frame = pd.read_csv(reference_path(), usecols=["model", "scenario", "item_id", "score"])
    for n in (10, 50, 200):
        assert rows[str(n)]["dior"] == pytest.approx(reference.examples_dior(frame, n), abs=0.03), n
    for key in ("decision", "level", "meta_metric", "mean", "lo", "hi", "dior", "compute_fraction", "n_draws", "seed"):
        assert key in rows["10"]
    assert rows["all"]["dior"] == 1.0 and rows["all"]["compute_fraction"] == 1.0


def reference_path():
    from effbench.examples import EXAMPLES

    return EXAMPLES["mmlu-pro"].results_path


def test_mean_win_rate_toy_case_of_the_paper_ties_once_a_third_model_is_added():
    two = fixed([[10, 12], [10, 12], [10, 8]], "AB")
    np.testing.assert_allclose(mean_win_rate(two.scenario_means()), [1 / 3, 2 / 3])
    three = fixed([[10, 12, 9], [10, 12, 9], [10, 8, 9]])
    rates = mean_win_rate(three.scenario_means())
    assert rates[0] == rates[1] == pytest.approx(2 / 3)
    # Removing the low-ranked C changes the order of A and B; the mean would not.
    removed_c = next(m for m in mwr_instability(three) if m.removed_model == "C")
    assert set(removed_c.changed_models) == {"A", "B"}


def test_equal_win_counts_are_exact_ties_in_mean_win_rate(mmlu_pro_path):
    """Mixtral-8x7B-v0.1 and mathstral-7B both win 213 of their 14 x 28 comparisons on MMLU-Pro; averaged
    as floats their win rates were 0.5433673469387755 and 0.5433673469387754."""
    frame = pd.read_csv(mmlu_pro_path, usecols=["model", "scenario", "item_id", "score"])
    results = matrix_from_frame(frame)
    rates = mean_win_rate(results.canonical_scenario_means())
    a, b = results.models.index("Mixtral-8x7B-v0.1"), results.models.index("mathstral-7B")
    assert rates[a] == rates[b] == 213 / (14 * 28)
    # Every removal agrees with an independent computation in fractions (tests/reference.py).
    models, exact_scores = reference.exact_scenario_scores(frame)
    assert tuple(models) == results.models
    full = reference.exact_mean_win_rates(exact_scores)
    found = {m.removed_model: set(m.changed_models) for m in mwr_instability(results)}
    for removed, name in enumerate(models):
        present = [k != removed for k in range(len(models))]
        after = reference.exact_mean_win_rates(exact_scores, present)
        changed = {models[i] for i in range(len(models)) for j in range(len(models))
                   if present[i] and present[j] and sign(full[i] - full[j]) != sign(after[i] - after[j])}
        assert found[name] == changed, name


def sign(value) -> int:
    return (value > 0) - (value < 0)


def test_six_by_six_example_reorders_nothing_when_win_rates_stay_exactly_one_half():
    """A and B have mean win rate exactly 1/2 with all six models and after removing D. Summing their
    per-scenario rates as floats gave 0.5000000000000001 and 0.5 on the full board, which was
    reported as a reordering of A and B when D is removed."""
    scores = [[2, 2, 0, 1, 2, 0], [2, 1, 0, 0, 0, 0], [2, 0, 1, 1, 2, 0],
              [0, 1, 0, 1, 0, 0], [1, 0, 0, 1, 1, 0], [0, 2, 2, 0, 0, 1]]
    results = fixed(scores, "ABCDEF")
    rates = mean_win_rate(results.canonical_scenario_means())
    assert rates[0] == rates[1] == 0.5
    present = np.array([True, True, True, False, True, True])
    after = mean_win_rate(results.canonical_scenario_means(), present)
    assert after[0] == after[1] == 0.5
    # The trap is real: the plain float mean of the per-scenario rates splits the tie on the full board.
    table = np.array(scores, dtype=float)
    naive = [np.mean([(row[i] > np.delete(row, i)).sum() / 5 for row in table]) for i in (0, 1)]
    assert naive[0] != naive[1]
    assert next(m for m in mwr_instability(results) if m.removed_model == "D").changed_models == ()


def matrix_from_frame(frame: pd.DataFrame) -> ResultsMatrix:
    pivots = reference.pivot_by_scenario(frame)
    models = tuple(sorted(frame["model"].unique()))
    return ResultsMatrix(models, tuple(pivots), tuple(p.reindex(columns=list(models)).to_numpy(float)
                                                      for p in pivots.values()), (True,) * len(pivots))


def test_dior_ranks_a_partial_model_as_the_leaderboard_does():
    """The reference ranking of the reliability analysis counts a missing scenario at the board's lowest
    score there, like the leaderboard, with 0/1 scores (exact path) and with fractional ones."""
    rng = np.random.default_rng(21)
    for scale in (1.0, 0.37):
        easy = (rng.random((60, 3)) < np.array([0.9, 0.95, 0.5])) * scale
        hard = (rng.random((40, 3)) < np.array([0.6, 0.5, 0.1])) * scale
        hard[:, 1] = np.nan
        results = ResultsMatrix(("a", "b", "c"), ("easy", "hard"), (easy, hard), (True, True))
        leaderboard = rank_intervals(results, n_resamples=20).score
        np.testing.assert_allclose(reliability._Prepared(results).reference, leaderboard)
        rows = dior(results, decisions=["examples", "scenarios", "allocation"], metrics=["kendall_tau"],
                    n_draws=50).rows
        assert next(r for r in rows if r.level == "all").dior == 1.0


def test_aggregations_are_what_they_say():
    results = ResultsMatrix(("a", "b"), ("big", "small"),
                            (np.array([[1.0, 0.0]] * 3 + [[0.0, 1.0]]), np.array([[0.0, 1.0]])), (True, True))
    np.testing.assert_allclose(reliability.aggregate_scores(results, "macro mean"), [0.375, 0.625])
    np.testing.assert_allclose(reliability.aggregate_scores(results, "micro mean"), [0.6, 0.4])
    np.testing.assert_allclose(reliability.aggregate_scores(results, "mean win rate"), [0.5, 0.5])
    np.testing.assert_allclose(reliability.aggregate_scores(results, "mean rank"), [-1.5, -1.5])


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.integers(2, 15), elements=st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0])),
       st.integers(0, 2**32 - 1))
def test_vectorised_taus_equal_scipy_with_ties(reference_scores, seed):
    rng = np.random.default_rng(seed)
    draws = rng.choice([0.0, 0.5, 1.0, 0.2], size=(4, len(reference_scores)))
    expected = [scipy_stats.kendalltau(reference_scores, d).statistic for d in draws]
    np.testing.assert_allclose(kendall_tau(reference_scores, draws), expected, atol=1e-12, equal_nan=True)
    expected_w = [scipy_stats.weightedtau(reference_scores, d).statistic for d in draws]
    np.testing.assert_allclose(weighted_tau(reference_scores, draws), expected_w, atol=1e-12, equal_nan=True)


def test_taus_leave_out_absent_models():
    ref = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    draw = np.array([[0.1, np.nan, 0.7, 0.6, 0.5]])
    keep = ~np.isnan(draw[0])
    assert kendall_tau(ref, draw)[0] == pytest.approx(scipy_stats.kendalltau(ref[keep], draw[0][keep]).statistic)
    assert weighted_tau(ref, draw)[0] == pytest.approx(
        scipy_stats.weightedtau(ref[keep], draw[0][keep]).statistic)


def test_tau_of_a_ranking_with_itself_is_one_and_reversed_is_minus_one():
    x = np.array([0.1, 0.5, 0.3, 0.9])
    assert kendall_tau(x, x[None, :])[0] == 1.0
    assert kendall_tau(x, -x[None, :])[0] == -1.0
    assert weighted_tau(x, x[None, :])[0] == pytest.approx(1.0)


def test_tier_agreement_counts_models_within_their_tiers_resolution():
    ref = np.linspace(1, 0, 25)  # ranks 1..25 in order
    draw = ref.copy()
    draw[[0, 1]] = draw[[1, 0]]  # rank 1 (exact) and rank 2 (+-1) swap: rank 1 is out, rank 2 within
    draw[[20, 24]] = draw[[24, 20]]  # ranks 21 and 25 swap: 4 places, within +-4
    assert tier_agreement(ref, draw[None, :])[0] == pytest.approx(24 / 25)


def test_full_data_level_has_dior_one_for_every_metric(mmlu_small):
    result = dior(mmlu_small, decisions=["examples"], n_draws=50)
    for row in result.rows:
        if row.level == "all":
            assert row.dior == pytest.approx(1.0), row.meta_metric


@pytest.fixture(scope="module")
def mmlu_small(mmlu_pro_path) -> ResultsMatrix:
    frame = pd.read_csv(mmlu_pro_path, usecols=["model", "scenario", "item_id", "score"])
    frame = frame[frame["scenario"].isin(["law", "math", "history", "biology"])]
    pivots = reference.pivot_by_scenario(frame)
    models = tuple(sorted(frame["model"].unique()))
    return ResultsMatrix(models, tuple(pivots), tuple(p.reindex(columns=list(models)).to_numpy(float)
                                                      for p in pivots.values()), (True,) * len(pivots))


def test_more_examples_never_lower_the_mean_similarity_much(mmlu_small):
    rows = [r for r in dior(mmlu_small, decisions=["examples"], metrics=["kendall_tau"], n_draws=200).rows]
    means = [r.mean for r in sorted(rows, key=lambda r: r.order)]
    assert all(b >= a - 0.01 for a, b in zip(means, means[1:], strict=False))
    fractions = [r.compute_fraction for r in sorted(rows, key=lambda r: r.order)]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_every_decision_runs_and_values_stay_in_their_range(mmlu_small):
    result = dior(mmlu_small, n_draws=100, rng=3)
    decisions = {r.decision for r in result.rows}
    assert decisions == {"examples", "scenarios", "aggregation", "models", "allocation"}  # no prompts in data
    for row in result.rows:
        low = -1 if row.metric_range == "[-1, 1]" else 0
        # (the mean may lie outside a percentile interval when most draws sit at 1)
        assert low - 1e-9 <= row.lo <= row.hi <= 1 + 1e-9, row
        assert low - 1e-9 <= row.mean <= 1 + 1e-9, row
    assert result.scenario_agreement.shape == (4, 4)
    np.testing.assert_allclose(np.diag(result.scenario_agreement), 1.0)
    # Under the macro mean, removing models never changes the others' order.
    assert all(r.dior == 1.0 for r in result.rows if r.decision == "models" and r.aggregation == "macro mean"
               and r.meta_metric == "kendall_tau")


def _many_scenarios(n_scenarios: int, *, exact: bool, seed: int = 0) -> ResultsMatrix:
    """Six models on `n_scenarios` scenarios of 1 to 5 items, some results missing; 0/1 scores or any in [0, 1]."""
    rng = np.random.default_rng(seed)
    matrices = []
    for _ in range(n_scenarios):
        shape = (int(rng.integers(1, 6)), 6)
        matrix = (rng.random(shape) < 0.5).astype(float) if exact else rng.random(shape)
        matrix[rng.random(shape) < 0.2] = np.nan
        matrices.append(matrix)
    return ResultsMatrix(tuple("ABCDEF"), tuple(f"s{i}" for i in range(n_scenarios)), tuple(matrices),
                         (True,) * n_scenarios)


@pytest.mark.parametrize("exact", [True, False])
@pytest.mark.parametrize("path", ["product", "gathered", "gathered in blocks"])
def test_the_scenarios_decision_equals_weighing_every_scenario(exact, path, monkeypatch):
    """Each draw's means are one product of whole numbers (exact scores), or its scenarios are gathered (and
    draws taken in blocks): the same floats, bit for bit, as weighing every scenario of the board by how
    often it was drawn."""
    if path != "product":
        monkeypatch.setattr(reliability.draws._Prepared, "_exact_counts", lambda self, counts: None)
    if path == "gathered in blocks":
        monkeypatch.setattr(reliability.draws, "_MAX_GATHERED_ENTRIES", 40)
    results = _many_scenarios(30, exact=exact)
    prep = reliability.draws._Prepared(results)
    levels = reliability.draws._scenarios(prep, 60, np.random.default_rng(4))
    rng = np.random.default_rng(4)
    assert [inst.level for inst in levels] == [str(k) for k in range(1, 31)]
    for k, inst in enumerate(levels, start=1):
        counts = rng.multinomial(k, np.full(30, 1 / 30), size=60).astype(float)
        expected = prep.macro(prep.full_sums[None], prep.full_denominators[None], counts[:, :, None])
        np.testing.assert_array_equal(inst.draws, expected)
        assert inst.compute_fraction == ((counts > 0) * prep.sizes).sum(axis=1).mean() / prep.sizes.sum()


def test_scenario_levels_are_every_count_on_a_small_board_and_a_log_grid_on_a_large_one():
    assert reliability.scenario_levels(1) == [1]
    assert reliability.scenario_levels(50) == list(range(1, 51))
    for n in (51, 120, 3000):
        levels = reliability.scenario_levels(n)
        assert levels[0] == 1 and levels[-1] == n and levels == sorted(set(levels))
        assert 30 <= len(levels) <= 50
        assert all(b / a <= 1.5 for a, b in zip(levels[10:], levels[11:], strict=False))  # no gap on the log scale


def test_a_board_of_many_scenarios_shows_the_agreement_of_those_with_the_most_items():
    results = _many_scenarios(130, exact=True, seed=2)
    result = dior(results, decisions=["scenarios"], metrics=["kendall_tau"], n_draws=20)
    sizes = np.array([m.shape[0] for m in results.scores])
    assert len(result.scenarios) == 100 and result.scenario_agreement.shape == (100, 100)
    shown = [results.scenarios.index(s) for s in result.scenarios]
    assert shown == sorted(shown)  # in board order
    assert sizes[shown].min() >= sizes[np.setdiff1d(np.arange(130), shown)].max()
    left_out_of_the_largest = [s for s in np.flatnonzero(sizes == sizes[shown].min()) if s not in shown]
    assert not left_out_of_the_largest or min(left_out_of_the_largest) > max(
        s for s in shown if sizes[s] == sizes[shown].min())  # the first on the board among equals
    expected = reliability.scenario_agreement(results.canonical_scenario_means()[shown])
    np.testing.assert_array_equal(result.scenario_agreement, expected)
    assert [r.level for r in result.rows] == [str(k) for k in reliability.scenario_levels(130)]


def test_fixed_seed_gives_fixed_values(mmlu_small):
    a = dior(mmlu_small, decisions=["examples", "scenarios"], metrics=["kendall_tau"], n_draws=100, rng=11)
    b = dior(mmlu_small, decisions=["examples", "scenarios"], metrics=["kendall_tau"], n_draws=100, rng=11)
    assert a.rows == b.rows
    # Regression value (exact ties and one shuffle per draw since issue 11): a change here changes every stored
    # analysis and must be deliberate.
    ten = next(r for r in a.rows if r.decision == "examples" and r.level == "10")
    assert ten.dior == pytest.approx(0.6752015318290933, abs=1e-12)


def test_prompts_decision_compares_designs_at_equal_budget():
    rng = np.random.default_rng(0)
    n_items, n_prompts, n_models = 60, 3, 6
    ability = np.linspace(0.3, 0.8, n_models)
    prompt_effect = rng.normal(0, 0.15, (n_items, n_prompts, 1))
    prompts = (rng.random((n_items, n_prompts, n_models)) < np.clip(ability + prompt_effect, 0, 1)).astype(float)
    results = ResultsMatrix(tuple("abcdef"), ("s",), (prompts.mean(axis=1),), (True,))
    result = dior(results, decisions=["prompts"], metrics=["kendall_tau"], prompt_scores=(prompts,), n_draws=200)
    by_level = {r.level: r for r in result.rows}
    assert set(by_level) == {f"{k} items: {d}" for k in (5, 10, 20, 50) for d in ("cross-product", "uniform pairs")}
    for k in (5, 10, 20, 50):
        cross, uniform = by_level[f"{k} items: cross-product"], by_level[f"{k} items: uniform pairs"]
        assert cross.compute_fraction == uniform.compute_fraction


def test_disagreements_flag_ties_that_average_away_opposite_strengths():
    # Two benchmarks that both total 1.5 from (1, 0.5) and (0.5, 1): equal on average, opposite per scenario.
    rng = np.random.default_rng(1)
    first = np.column_stack([rng.random(400) < 0.9, rng.random(400) < 0.5]).astype(float)
    second = np.column_stack([rng.random(400) < 0.5, rng.random(400) < 0.9]).astype(float)
    results = ResultsMatrix(("A", "B"), ("one", "two"), (first, second), (True, True))
    intervals = rank_intervals(results, n_resamples=500)
    found = disagreements(intervals)
    assert len(found) == 1
    pair = found[0]
    assert {pair.model_a, pair.model_b} == {"A", "B"}
    a_side = pair.a_better_in if pair.model_a == "A" else pair.b_better_in
    assert a_side == ("one",)


def test_clear_winner_is_not_flagged():
    rng = np.random.default_rng(2)
    scores = np.column_stack([rng.random(500) < 0.9, rng.random(500) < 0.2]).astype(float)
    assert disagreements(rank_intervals(ResultsMatrix(("A", "B"), ("s",), (scores,), (True,)))) == ()


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"decisions": ["vibes"]}, "unknown: vibes"),
    ({"metrics": ["accuracy"]}, "unknown: accuracy"),
    ({"n_draws": 1}, "`n_draws` must be an integer >= 2"),
    ({"confidence_level": 0}, r"`confidence_level` must be in \(0, 1\)"),
])
def test_invalid_parameters_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        dior(fixed([[1, 2, 3]]), **kwargs)


def test_stored_dior_table_and_reliability_page(example_build):
    con = duckdb.connect(str(example_build.out.parent / "effbench.duckdb"), read_only=True)
    try:
        decisions = {r[0] for r in con.execute("SELECT DISTINCT decision FROM dior").fetchall()}
        params = con.execute("SELECT seed, n_resamples, options FROM analyses WHERE analysis = 'dior'").fetchone()
        resolution = con.execute("SELECT count(*) FROM rank_resolution").fetchone()[0]
    finally:
        con.close()
    assert decisions == {"examples", "scenarios", "aggregation", "models", "allocation"}
    assert params[:2] == (0, 1000) and json.loads(params[2])["target"] == 0.9
    assert resolution == 9
    page = (example_build.out / "reliability.html").read_text()
    for needle in ("Rank resolution", "examples-curve", "agreement", "What this means for this benchmark"):
        assert needle in page
    assert "examples per scenario keep the ranking" in (example_build.out / "index.html").read_text()


def test_prompts_decision_runs_from_data_loaded_with_a_key_column(tmp_path):
    rng = np.random.default_rng(5)
    rows = [{"model": f"m{m}", "scenario": s, "item_id": f"{s}{i}", "prompt": f"p{p}",
             "score": int(rng.random() < 0.3 + 0.1 * m)}
            for m in range(5) for s in ("a", "b") for i in range(30) for p in range(3)]
    path = write_csv(tmp_path / "prompts.csv", rows)
    db = tmp_path / "e.duckdb"
    pipeline.update(db, [Source(path, columns=ColumnMap(keys=("prompt",)))], all_analyses=False)
    parameters = analysis_tables.DiorParameters(n_draws=50, decisions=("prompts",), metrics=("kendall_tau",))
    result = pipeline.dior(db, parameters)
    levels = {r.level for r in result.rows}
    assert {"5 items: cross-product", "5 items: uniform pairs", "20 items: uniform pairs"} <= levels


def test_models_alike_in_every_scenario_are_rarely_flagged():
    """Many scenarios must not manufacture disagreements: with the correction over scenarios, pairs of
    identical models are flagged in at most a few percent of simulated boards."""
    rng = np.random.default_rng(8)
    flagged = 0
    for _ in range(40):
        scenarios = tuple(f"s{i}" for i in range(14))
        matrices = tuple((rng.random((100, 2)) < 0.6).astype(float) for _ in scenarios)
        result = rank_intervals(ResultsMatrix(("A", "B"), scenarios, matrices, (True,) * 14), n_resamples=400,
                                rng=int(rng.integers(1 << 30)))
        flagged += bool(disagreements(result))
    assert flagged <= 3


# Digests of the stored ranking and reliability tables of the MMLU-Pro example, taken with the code before
# it was made to scale to thousands of models (commit 1592a8e): the scalable methods store the same values.
# Retaken after issue 19 changed the score intervals (end pseudo-items), the disagreements (a sign-flip test
# as well) and the micro-mean aggregation (the leaderboard's scenario-weighted micro mean); the rank
# distribution, from the same resamples, is unchanged.
EXAMPLE_TABLE_DIGESTS = {
    "rank_intervals": "3773872b9a8f5b96", "scenario_intervals": "c7f4dba3fc21d05b",
    "rank_distribution": "a291775634de0cbe", "disagreements": "952e0a2065b0f405", "dior": "8db332bdccd57197",
    "rank_resolution": "ab35bc4f6afce42e", "scenario_agreement": "f17a2c0a4461993e",
    "mwr_instability": "7e71d39fb08352a6",
}


def table_digest(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """Return the md5 of a table's rows as text, in sorted order, without the analysis name, the board (this
    database has one) and the rank distribution's bin ends (one rank per bin on this board). Floats are
    rounded to 9 significant digits first: sums of many products differ in their last bits from one CPU
    and BLAS build (or thread count) to another, by about 1e-15 relative, far below any printed figure."""
    described = [r[:2] for r in con.execute(f"DESCRIBE SELECT * FROM {table}").fetchall()
                 if r[0] not in ("analysis", "rank_last", "board")]
    row = "CAST(row(" + ", ".join(f"printf('%.9g', \"{c}\")" if kind in ("DOUBLE", "FLOAT") else f'"{c}"'
                                  for c, kind in described) + ") AS VARCHAR)"
    return con.execute(f"SELECT md5(string_agg({row}, '|' ORDER BY {row})) FROM {table}").fetchone()[0][:16]


def test_stored_example_tables_are_what_they_were_before_the_scalable_methods(example_build):
    with duckdb.connect(str(example_build.out.parent / "effbench.duckdb"), read_only=True) as con:
        assert {t: table_digest(con, t) for t in EXAMPLE_TABLE_DIGESTS} == EXAMPLE_TABLE_DIGESTS
        assert con.execute("SELECT bool_and(rank = rank_last) FROM rank_distribution").fetchone()[0]


def test_tier_agreement_on_a_large_board_uses_the_board_size_tiers():
    """On 4,000 models ranks 401 and below are within +-40 (the paper's +-4 would count this swap as out)."""
    ref = np.linspace(1, 0, 4000)
    draw = ref.copy()
    draw[[1999, 2029]] = draw[[2029, 1999]]  # ranks 2,000 and 2,030 swap: 30 places
    assert tier_agreement(ref, draw[None, :])[0] == 1.0
    from effbench.tiers import DEFAULT_TIERS
    assert tier_agreement(ref, draw[None, :], DEFAULT_TIERS)[0] == pytest.approx(3998 / 4000)
