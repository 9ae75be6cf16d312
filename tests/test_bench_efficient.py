"""The comparison of Flash with its peers (benchmarks/bench_efficient.py) runs, and each method is sane."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_efficient.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_efficient", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up by name
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


def test_smoke_prints_a_table_of_every_method(bench, capsys):
    rows = bench.main(["--smoke"])
    out = capsys.readouterr().out
    assert [r.method for r in rows] == list(bench.METHODS)
    for method in bench.METHODS:
        assert f"| {method} |" in out
    for r in rows:
        assert r.budget == 0.1 and r.n_models == 12 and r.items == 24  # 8 items in each of 3 scenarios
        assert 0 <= r.mae < 0.2 and r.mae_se >= 0 and 0 <= r.rank_error < 6
        assert -1 <= r.kendall_tau <= 1
        assert r.kendall_tau > 0.2  # twelve models spread over the whole ability range: any working method ranks
        if r.method in bench.WITH_INTERVALS:
            assert 0 <= r.coverage <= 1 and r.half_width > 0
        else:
            assert math.isnan(r.coverage)


def test_every_item_gives_the_full_score_to_every_design_based_method(bench):
    """With the whole pool every method but the pure IRT prediction sees every result: no error, and the
    intervals shrink to the point (finite population correction)."""
    rows = {r.method: r for r in bench.main(["--smoke", "--budgets", "100"])}
    for method, r in rows.items():
        if method == "IRT":
            assert r.mae > 0  # a model's predictions, not its results
            continue
        assert r.mae == pytest.approx(0, abs=1e-12) and r.rank_error == 0, method
        assert r.kendall_tau == pytest.approx(1), method
    for method in bench.WITH_INTERVALS:
        assert rows[method].half_width == pytest.approx(0, abs=1e-12) and rows[method].coverage == 1


def test_budget_is_split_equally_over_scenarios(bench):
    assert bench.items_per_scenario([100, 100, 100], 0.1) == [10, 10, 10]
    assert bench.items_per_scenario([4, 200, 196], 0.1) == [4, 18, 18]  # a small scenario gives its share away
    assert bench.items_per_scenario([4, 200, 196], 0.001) == [1, 1, 1]  # at least one item in each
    assert bench.items_per_scenario([4, 200, 196], 1.0) == [4, 200, 196]


def test_anchor_points_weigh_each_medoid_by_its_cluster(bench):
    # Two blocks of items, each answered alike by the board's models: two medoids, one from each block.
    pattern = np.array([[1, 0, 1, 0, 1.0], [0, 1, 1, 1, 0.0]])
    board = np.repeat(pattern, [6, 2], axis=0)
    distance = 1 - bench.item_correlations(board)
    medoids, sizes = bench.k_medoids(distance, 2, np.random.default_rng(0))
    assert sorted(sizes.tolist()) == [2, 6]
    assert sorted(set(np.repeat([0, 1], [6, 2])[medoids].tolist())) == [0, 1]
    new_model = np.repeat([1.0, 0.0], [6, 2])
    assert bench.anchor_estimate(new_model, medoids, sizes) == pytest.approx(0.75)


def test_irt_fit_recovers_the_ordering_of_abilities_and_difficulties(bench):
    rng = np.random.default_rng(1)
    ability, difficulty = np.linspace(-2, 2, 30), rng.normal(0, 1, 400)
    matrix = (rng.random((400, 30)) < 1 / (1 + np.exp(-(ability - difficulty[:, None])))).astype(float)
    fit = bench.fit_irt(matrix)
    assert np.corrcoef(fit.ability, ability)[0, 1] > 0.95
    assert np.corrcoef(fit.intercept, -difficulty)[0, 1] > 0.85  # easier items, larger intercepts
    easy = fit.slope > 0.2
    seen = np.arange(400) < 200
    theta = bench.irt_ability(matrix[seen & easy, 29], fit.slope[seen & easy], fit.intercept[seen & easy])
    assert theta > np.median(fit.ability)  # the strongest model, from half its items


def test_k_medoids_with_more_clusters_than_distinct_items(bench):
    """Items that all models answer alike are copies of each other, at a distance of a few 1e-15 (rounding)
    from each other and from themselves; asking for more medoids than there are distinct items still gives k
    distinct medoids and clusters that hold every item once."""
    group = np.repeat(np.arange(4), [6, 5, 3, 1])
    distance = 0.5 * (group[:, None] != group[None, :]) + 3e-15
    for k in (5, 8, 12):
        for seed in range(10):
            medoids, sizes = bench.k_medoids(distance, k, np.random.default_rng(seed))
            assert len(set(medoids.tolist())) == k and sizes.sum() == 15 and sizes.min() >= 1


def test_a_bundled_example_board_reads_as_the_flash_stage_reads_it(bench):
    """The script's example boards (not only its smoke board) load: LiveCodeBench, 45 models x 400 items."""
    board = bench.example_board("livecodebench")
    assert len(board.models) == 45 and sum(matrix.shape[0] for matrix in board.scores) == 400
