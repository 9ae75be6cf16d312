"""Statements at the edges of the evidence (issue 19): intervals near 0 and 1 with small scenarios, the
scale of lower-is-better scenarios, verdicts from few differing items, and one rule for partial models."""

from __future__ import annotations

import itertools
import types
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats
from typer.testing import CliRunner

from effbench import analysis_tables, flash, paired, pipeline, reliability
from effbench.cli import app
from effbench.compare import compare_models, verdict
from effbench.load import Source
from effbench.multilingual import group_rankings
from effbench.paired import holm, sign_flip_p_value
from effbench.render import analyses, leaderboard, pages
from effbench.stats import ResultsMatrix, rank_intervals

from conftest import long_rows, write_csv


def test_an_error_rate_interval_stays_on_its_own_scale():
    """0 errors of 40, ranked negated: the interval is [-upper, 0], never above 0 errors (the prior's
    pseudo-items at the error rate's own ends, 0 and 1)."""
    errors = np.zeros((40, 1))
    negated = rank_intervals(ResultsMatrix(("m",), ("errors",), (-errors,), (True,), lower_is_better=(True,)),
                             n_resamples=4000, rng=2)
    upper = scipy_stats.beta.ppf(0.975, 1, 40)  # Clopper-Pearson's upper end for 0 of 40
    for lo, hi in ((negated.score_lo[0], negated.score_hi[0]),
                   (negated.scenario_score_lo[0, 0], negated.scenario_score_hi[0, 0])):
        assert hi == 0.0
        assert lo == pytest.approx(-upper, abs=0.01)


def test_a_declared_lower_is_better_scenario_keeps_its_intervals_within_its_scale(tmp_path):
    path = write_csv(tmp_path / "x.csv", long_rows({"clean": {"error": [0.0] * 40},
                                                    "sloppy": {"error": [1.0] * 10 + [0.0] * 30}}))
    db = tmp_path / "e.duckdb"
    pipeline.update(db, [Source(path)], all_analyses=False, lower_is_better=["error"])
    with duckdb.connect(str(db), read_only=True) as con:
        rows = dict((m, (lo, hi)) for m, lo, hi in con.execute(
            "SELECT model, score_lo, score_hi FROM scenario_intervals").fetchall())
    assert rows["clean"][1] == 0.0 and -0.1 < rows["clean"][0] < 0
    assert all(-1 <= lo <= hi <= 0 for lo, hi in rows.values())


def test_overall_interval_covers_with_many_small_scenarios_near_zero():
    """Three scenarios of 40 items at p = 0.1 and six of 2 items always failed: the true score is 0.1 / 3.
    Jeffreys pseudo-items recentred on the point held it in 63% of 1,000 draws, the truth below every miss."""
    rng = np.random.default_rng(19)
    truth, draws, covered = 0.1 * 3 / 9, 300, 0
    for _ in range(draws):
        matrices = tuple((rng.random((40, 1)) < 0.1).astype(float) for _ in range(3)) + (np.zeros((2, 1)),) * 6
        result = rank_intervals(ResultsMatrix(("m",), tuple(f"s{i}" for i in range(9)), matrices, (True,) * 9),
                                n_resamples=400, rng=int(rng.integers(1 << 30)))
        covered += result.score_lo[0] <= truth <= result.score_hi[0]
    assert covered / draws >= 0.93




def brute_force_p_value(differences: np.ndarray) -> float:
    """Every one of the 2^n sign vectors, enumerated: the sign-flip test's definition."""
    d = differences[differences != 0]
    signs = np.array(list(itertools.product((-1.0, 1.0), repeat=d.size)))
    return float(np.mean(np.abs(signs @ d) >= abs(d.sum()) - 1e-9))


@pytest.mark.parametrize("differences", [[1, 1, 1, 1, 1], [1] * 6, [0.5, 1, 1, 1, 1, 1, 0, 0],
                                         [0.5, -0.1, 0.3, 0.7, 1, 1],
                                         [0.25, 0.5, 0.75, 1, 1, 1, 1, 1, 1, 1, -0.25], [0.1, 0.35, 0.12, 0.9, 0.77]])
def test_sign_flip_p_value_is_exact(differences):
    d = np.array(differences, dtype=float)
    assert sign_flip_p_value(d) == pytest.approx(brute_force_p_value(d), abs=0.012)
    if np.all(np.isin(np.abs(d), [0, 0.1, 0.25, 0.3, 0.5, 0.7, 0.75, 1])):  # on a grid: exact to rounding
        assert sign_flip_p_value(d) == pytest.approx(brute_force_p_value(d), abs=1e-12)


def test_tests_sharing_one_seeds_flips_give_the_p_values_each_gives_alone():
    """Many tests draw the random flips of one seed once; each must flip exactly as it would alone: random
    and graded differences of growing and shrinking sizes (flips drawn again, or a view of a longer draw),
    ties, NaN, weights, few items, and more items than one block of flips holds (drawn block by block)."""
    rng = np.random.default_rng(5)
    cases = []
    for n in (30, 12, 300, 5, 64, 419, 420, 600, 2, 100):
        d = rng.normal(size=n) * (rng.random(n) < 0.9)  # some items do not differ
        d[rng.random(n) < 0.1] = np.nan
        cases.append((d, None))
        cases.append((np.round(d, 1), None))  # graded: tenths, with ties
        cases.append((d, rng.integers(1, 4, n) / rng.integers(1, 40)))  # weighted, as the overall test
    cases += [(np.array([0.3, -0.3, 0.3, np.nan]), None), (np.array([0.1, 0.37]), None), (np.array([np.nan]), None)]
    for seed in (0, 3):
        flips = paired._SharedFlips(seed)
        for d, w in cases:
            assert flips.p_value(paired._signed(d, w)) == sign_flip_p_value(d, w, rng=seed)


def test_holm_adjusts_over_the_tested_scenarios_only():
    adjusted = holm(np.array([0.01, 0.04, np.nan, 0.03]))
    np.testing.assert_allclose(adjusted, [0.03, 0.06, np.nan, 0.06])


def two_models(first: list[np.ndarray], second: list[np.ndarray]) -> ResultsMatrix:
    matrices = tuple(np.column_stack([a, b]).astype(float) for a, b in zip(first, second, strict=True))
    return ResultsMatrix(("a", "b"), tuple(f"s{i}" for i in range(len(matrices))), matrices,
                         (True,) * len(matrices), tuple(tuple(map(str, range(m.shape[0]))) for m in matrices))


def test_one_differing_item_is_no_verdict_and_equal_models_get_a_nonzero_interval():
    """One item of 129 scored 0.5 by one model: the bootstrap interval of the difference lay above 0
    ("+0.005 (+0.000 to +0.018)", "better"); two models equal on every item got (0.0 to 0.0)."""
    rng = np.random.default_rng(3)
    base = (rng.random(129) < 0.9).astype(float)
    one = base.copy()
    one[np.flatnonzero(base == 0)[0]] = 0.5
    same = (rng.random(60) < 0.5).astype(float)
    results = two_models([one, same], [base, same])
    intervals = rank_intervals(results, n_resamples=1000)
    pair = compare_models(intervals, results).pairs[0]
    alpha = 1 - intervals.confidence_level
    assert verdict(pair.by_scenario[0], pair.scenario_p[0], alpha) == 0
    assert pair.scenario_p[0] == 1.0
    assert pair.by_scenario[0][1] < 0 < pair.by_scenario[0][2]  # the interval holds 0 as well
    difference, lo, hi = pair.by_scenario[1]
    assert difference == 0 and hi - lo > 0.01
    assert verdict(pair.overall, pair.overall_p, alpha) == 0


def test_clear_differences_still_get_a_verdict():
    rng = np.random.default_rng(4)
    strong, weak = (rng.random(300) < 0.8).astype(float), (rng.random(300) < 0.4).astype(float)
    results = two_models([strong], [weak])
    intervals = rank_intervals(results, n_resamples=1000)
    pair = compare_models(intervals, results).pairs[0]
    assert verdict(pair.by_scenario[0], pair.scenario_p[0], 0.05) == 1 == verdict(pair.overall, pair.overall_p, 0.05)


def test_exchangeable_models_are_called_different_in_at_most_five_percent_of_scenarios():
    """Two models whose scores on each item are swapped at random are exchangeable; in scenarios of
    various sizes, near-saturated ones included, a verdict is false whenever it is given."""
    rng = np.random.default_rng(5)
    sizes, rates = (3, 8, 20, 60, 150), (0.02, 0.5, 0.97, 0.995, 0.3)
    called = total = 0
    for _ in range(60):
        first, second = [], []
        for n, rate in zip(sizes, rates, strict=True):
            a = (rng.random(n) < rate).astype(float)
            b = np.where(rng.random(n) < 0.1, (rng.random(n) < rate).astype(float), a)  # mostly concordant
            swap = rng.random(n) < 0.5
            first.append(np.where(swap, b, a))
            second.append(np.where(swap, a, b))
        results = two_models(first, second)
        intervals = rank_intervals(results, n_resamples=300, rng=int(rng.integers(1 << 30)))
        pair = compare_models(intervals, results).pairs[0]
        called += sum(verdict(t, p, 0.05) != 0 for t, p in zip(pair.by_scenario, pair.scenario_p, strict=True))
        total += len(sizes)
    assert called / total <= 0.05


def test_a_single_differing_item_each_way_is_no_hidden_disagreement():
    """a wins one item in s0, b one item in s1: each scenario's bootstrap interval excluded 0, and the
    pair was reported as "each clearly better in different scenarios"."""
    base = np.zeros(50)
    up = base.copy()
    up[0] = 1
    results = two_models([up, base], [base, up])
    intervals = rank_intervals(results, n_resamples=500)
    assert reliability.disagreements(intervals, results) == ()
    groups = group_rankings(results, {"s0": ["x"], "s1": ["y"]}, n_resamples=500)
    assert groups.disagreements == ()


def skipped_hard_scenario() -> ResultsMatrix:
    """"skipper" has no result in the hard scenario; the leaderboard counts it there at the lowest score
    (0.1), so "steady" (0.2 and 0.9) ranks first, "skipper" (0.95 on the easy one) second."""
    def column(n_right: int, n: int = 20) -> np.ndarray:
        return (np.arange(n) < n_right).astype(float)
    hard = np.column_stack([column(4), np.full(20, np.nan), column(2)])
    easy = np.column_stack([column(18), column(19), column(10)])
    return ResultsMatrix(("steady", "skipper", "weak"), ("hard", "easy"), (hard, easy), (True, True))


@pytest.mark.parametrize("how", reliability.AGGREGATIONS)
def test_every_aggregation_counts_a_missing_scenario_as_the_leaderboard_does(how):
    results = skipped_hard_scenario()
    board = rank_intervals(results, n_resamples=20)
    assert board.rank.tolist() == [1, 2, 3]
    scores = reliability.aggregate_scores(results, how)
    assert scores[0] >= scores[1] > scores[2], how  # mean rank ties them (1.5 each); skipping never leads
    if how != "mean rank":
        assert scores[0] > scores[1], how


def test_flash_scores_its_board_and_truth_as_the_leaderboard_does():
    results = skipped_hard_scenario()
    np.testing.assert_array_equal(flash.reference_of(results).scores, rank_intervals(results, n_resamples=20).score)
    # (0/3 + 1/7 + 2/10 + 11/11) / 4 = (3/3 + 1/7 + 2/10 + 0/11) / 4: float means in order split the tie.
    correct = {"a": (0, 1, 2, 11), "b": (3, 1, 2, 0)}
    matrices = tuple(np.column_stack([(np.arange(size) < correct[m][s]).astype(float) for m in "ab"])
                     for s, size in enumerate((3, 7, 10, 11)))
    tied = ResultsMatrix(("a", "b"), tuple("wxyz"), matrices, (True,) * 4)
    scores = flash.reference_of(tied).scores
    assert scores[0] == scores[1]
    replay = flash.replay._prepare(tied, ["a", "b"], flash.FlashConfig())
    assert replay.truths == (1, 1)


def test_two_models_identical_on_every_item_are_warned_about(tmp_path):
    answers = [1.0, 0.0, 1.0] * 10
    path = write_csv(tmp_path / "x.csv", long_rows({"falcon-40b": {"qa": answers}, "falcon-7b": {"qa": answers},
                                                    "other": {"qa": [1.0] * 30}}))
    report = pipeline.update(tmp_path / "e.duckdb", [Source(path)], all_analyses=False)
    assert report.warnings == ("models 'falcon-40b' and 'falcon-7b' have identical scores on every one of their 30 "
                               "items; check that they are not one run loaded under two names (both are ranked)",)


HELM_SUITE = Path(__file__).resolve().parent / "data" / "formats" / "helm" / "runs" / "v4"


@pytest.mark.parametrize(("flag", "message"), [
    ("bbq=rouge_l", "metric 'rouge_l' is not recorded per instance in scenario 'bbq:"),
    ("no_such_scenario=exact_match", "--metric no_such_scenario=exact_match: no scenario, run group or task named"),
])
def test_a_metric_choice_that_cannot_be_honoured_is_an_error(tmp_path, flag, message):
    """Both were silent: the scenario skipped with exit 0, or the choice ignored."""
    db = tmp_path / "e.duckdb"
    first = CliRunner().invoke(app, ["ingest", str(HELM_SUITE), "--db", str(db)])
    assert first.exit_code == 0, first.output
    before = db.read_bytes()
    result = CliRunner().invoke(app, ["ingest", str(HELM_SUITE), "--db", str(db), "--metric", flag])
    assert result.exit_code != 0
    assert "effbench: error:" in result.output and message in result.output
    assert db.read_bytes() == before


def test_heat_map_shade_is_the_place_in_the_column():
    """One outlier at 0.99 and 29 models between 0.30 and 0.44: linear between minimum and maximum, the 29
    shared one or two shades; by place they spread over every step, as the legend says."""
    column = np.sort(np.r_[np.linspace(0.30, 0.44, 29), 0.99])
    shades = {leaderboard.heat_cell(float(v), column).style for v in column}
    assert shades == {f"h{i}" for i in range(leaderboard.HEAT_STEPS)}
    assert leaderboard.heat_cell(0.99, column).style == "h8" and leaderboard.heat_cell(0.30, column).style == "h0"


@pytest.mark.parametrize("n", range(1, 8))
def test_no_scenario_is_named_both_strongest_and_weakest(n):
    strongest, weakest = pages.strongest_weakest([f"s{i}" for i in range(n)])
    assert not set(strongest) & set(weakest)
    assert len(strongest) == len(weakest) == min(3, n // 2)


def test_flash_cost_says_all_only_when_every_item_was_used():
    row = types.SimpleNamespace(items_used=560, items_full=805, saving=805 / 560)
    assert analyses.flash_cost(row).text == "560 of 805"
    assert analyses.flash_cost(types.SimpleNamespace(items_used=805, items_full=805, saving=1.0)).text == "805 (all)"


def test_flash_text_says_which_question_its_interval_answers():
    row = types.SimpleNamespace(stop_stage="all", items_used=805, items_full=805, saving=1.0, flash_rank=1,
                                rank_lo=1, rank_hi=1, full_rank=1)
    text = analyses.flash_text(row)
    assert "a full run on these same items" in text and "other items of the same kind" in text
    assert "rank 1 (1–1)" not in text


def test_a_dior_just_below_the_target_is_printed_below_it_and_aggregations_named_once():
    def row(level: str, dior: float) -> reliability.DiorRow:
        return reliability.DiorRow("aggregation", level, "kendall_tau", dior, dior, dior, dior, 1.0, 1, 0, "",
                                   level, 0)
    advice = " ".join(reliability.recommend([row("micro mean", 0.8994), row("mean rank", 0.5)], (), 0.9, 5, 0.95))
    assert "micro mean gives Kendall tau 0.899;" in advice and "0.90" not in advice
    assert advice.count("the aggregation") == 1


def test_summary_of_a_one_or_two_model_board_says_what_cannot_be_measured():
    one = pd.DataFrame({"model": ["m"], "rank": [1], "rank_lo": [1.0], "rank_hi": [1.0]})
    (line,) = leaderboard.summary(one, "95%")
    assert "nothing to rank" in line and "cannot be measured" in line
    two = pd.DataFrame({"model": ["a", "b"], "rank": [1, 2], "rank_lo": [1.0, 1.0], "rank_hi": [2.0, 2.0]})
    assert "against the other alone" in leaderboard.summary(two, "95%")[-1]


def dior_row(decision: str, level: str, metric: str, mean: float, compute: float = 1.0,
             aggregation: str = "macro mean") -> reliability.DiorRow:
    return reliability.DiorRow(decision, level, metric, mean, mean, mean, mean, compute, 1000, 0, "", aggregation, 0)


def test_two_model_advice_is_told_in_shares_of_draws_that_keep_the_order():
    rows = [dior_row("examples", "10", "top1", 0.90, 0.25), dior_row("examples", "20", "top1", 0.98, 0.5),
            dior_row("examples", "10", "kendall_tau", -1.0, 0.25), dior_row("scenarios", "3", "top1", 0.6),
            dior_row("aggregation", "micro mean", "top1", 0.0, aggregation="micro mean"),
            dior_row("allocation", "30 evaluations: 3 scenarios x 10 items", "kendall_tau", 0.22)]
    advice = reliability.recommend(rows, (), 0.9, 2, 0.95)
    text = " ".join(advice)
    assert "20 examples per scenario keep its order in 98.0% of draws" in advice[0] and "x2 less" in advice[0]
    assert "at least 97.5% is reliable" in advice[0]
    assert "the 3 scenarios keep the order in 60.0% of draws" in text and "under micro mean" in text
    assert "Kendall tau -1" not in text and "mean Kendall tau" not in text  # a tau of one pair reads as nothing
    none = reliability.recommend(rows[:1], (), 0.9, 2, 0.95)
    assert "even 10 examples per scenario keep its order in only 90.0% of draws" in none[0]


def test_a_tie_at_the_top_of_a_draw_counts_as_a_coin_flip_not_by_the_models_order():
    reference = np.array([[0.6, 0.5]])
    draws = np.array([[0.5, 0.5], [0.4, 0.5], [0.7, 0.5], [np.nan, 0.5], [np.nan, np.nan]])
    np.testing.assert_array_equal(reliability.top1_agreement(reference, draws)[:4], [0.5, 0.0, 1.0, 1.0])
    assert np.isnan(reliability.top1_agreement(reference, draws)[4])
    # The same tie with the models listed the other way round gives the same agreement.
    assert reliability.top1_agreement(reference[:, ::-1], draws[:1, ::-1])[0] == 0.5


def test_a_one_model_board_has_no_reliability_or_flash_claims(tmp_path):
    path = write_csv(tmp_path / "x.csv", long_rows({"solo": {"qa": [1.0, 0.0] * 15, "math": [0.0, 1.0, 1.0] * 10}}))
    built = pipeline.build(tmp_path / "e.duckdb", tmp_path / "site", pipeline.result_sources([path]),
                           parameters=analysis_tables.AnalysisParameters(n_resamples=30),
                           dior_parameters=analysis_tables.DiorParameters(n_draws=10))
    assert not (built.out / "reliability.html").exists() and not (built.out / "flash.html").exists()
    for page in built.out.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert "reliability.html" not in html and "flash.html" not in html, page
    index = (built.out / "index.html").read_text(encoding="utf-8")
    assert "cannot be measured until a second model" in index and "DIoR 0.90" not in index
    assert "less)" not in index  # no Flash saving against nobody
    result = CliRunner().invoke(app, ["dior", "--db", str(tmp_path / "e.duckdb")])
    assert result.exit_code == 1 and "ranks 1 model" in result.output and "needs at least 2" in result.output


def test_a_board_that_falls_to_one_model_loses_its_stored_reliability_and_flash(tmp_path):
    import dataclasses

    from effbench import store

    path = write_csv(tmp_path / "x.csv", long_rows({"a": {"qa": [1.0, 0.0] * 15}, "b": {"qa": [0.0, 1.0] * 15}}))
    db = tmp_path / "e.duckdb"
    pipeline.build(db, tmp_path / "site", pipeline.result_sources([path]),
                   parameters=analysis_tables.AnalysisParameters(n_resamples=30),
                   dior_parameters=analysis_tables.DiorParameters(n_draws=10))
    with store.open_store(db) as con:
        (board,) = store.stored_boards(con)
        alone = dataclasses.replace(board, ranked=board.ranked[:1])
        assert pipeline.refresh_dior(con, analysis_tables.DiorParameters(n_draws=10), alone)
        assert pipeline.refresh_flash(con, flash.FlashConfig(), alone)
        for table in ("dior", "recommendations", "flash", "flash_summary"):
            assert con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table
        assert not pipeline.refresh_dior(con, analysis_tables.DiorParameters(n_draws=10), alone)  # nothing left to drop


def test_two_models_identical_on_every_item_are_noted_on_the_site(tmp_path):
    answers = [1.0, 0.0, 1.0] * 10
    path = write_csv(tmp_path / "x.csv", long_rows({"falcon-40b": {"qa": answers}, "falcon-7b": {"qa": answers},
                                                    "other": {"qa": [1.0] * 30}}))
    built = pipeline.build(tmp_path / "e.duckdb", tmp_path / "site", pipeline.result_sources([path]),
                           parameters=analysis_tables.AnalysisParameters(n_resamples=30),
                           dior_parameters=analysis_tables.DiorParameters(n_draws=10))
    index = (built.out / "index.html").read_text(encoding="utf-8")
    assert "identical scores to falcon-7b on every one of its 30 items" in index
    assert "identical scores to falcon-40b on every one of its 30 items" in index
