"""Flash's error control across looks: where a group-sequential design spends its error
(`effbench.flash.spending`: each look's critical value keeps the error spent by that look, all looks together
keep alpha, the board's schedule puts the error where its models are expected to stop), and rank intervals
from the intersection of the looks' intervals."""

from __future__ import annotations

from dataclasses import asdict, replace

import numpy as np
import pytest
from scipy.stats import norm

from effbench import flash
from effbench.config import load_config
from effbench.errors import EffbenchError
from effbench.render.analyses import flash_method
from effbench.stats import ResultsMatrix
from effbench.tiers import DEFAULT_TIERS, Tier

# MMLU-Pro's looks: 12 stages of 10 to 912 items per scenario in its 14 scenarios.
SIZES = [10, 15, 23, 35, 53, 80, 120, 180, 270, 405, 608, 912]
POPULATION = [717, 789, 1132, 410, 844, 969, 818, 381, 1101, 1351, 924, 499, 1299, 798]


def independent_paths(variances: np.ndarray, draws: int = 200_000, seed: int = 99) -> np.ndarray:
    """|Z_k| of nested looks drawn afresh (another generator than the design's), as independent increments."""
    rng = np.random.default_rng(seed)
    increments = np.sqrt(np.diff(variances[::-1], prepend=0.0))
    paths = np.cumsum(rng.standard_normal((variances.size, draws)) * increments[:, None], axis=0)[::-1]
    return np.abs(paths) / np.sqrt(variances)[:, None]


def test_all_the_error_at_the_first_look_is_the_normal_quantile_there_and_nothing_after():
    variances = flash.look_variances(SIZES, POPULATION, [0.14] * 14)
    shares = np.r_[1.0, np.zeros(variances.size - 1)]
    values = flash.spent_critical_values(flash.look_paths(variances), 0.05 * np.cumsum(shares))
    assert values[0] == pytest.approx(norm.ppf(0.975), abs=0.02)
    assert np.isinf(values[1:]).all()


@pytest.mark.parametrize("shares", [np.full(12, 1 / 12), np.r_[0.0, 0.0, 0.0, 0.6, 0.3, np.full(7, 0.1 / 7)],
                                    np.r_[np.full(11, 0.01), 0.89]])
def test_each_look_keeps_the_error_spent_by_it_and_all_looks_keep_alpha(shares):
    """Checked on draws independent of the design's own: the share of paths that cross some look up to k is
    the error spent by k (nominal 5% in all), to within the Monte Carlo error of both (about 0.1 points)."""
    variances = flash.look_variances(SIZES, POPULATION, [0.14] * 14)
    cumulative = 0.05 * np.cumsum(shares)
    values = flash.spent_critical_values(flash.look_paths(variances), cumulative)
    crossed = np.maximum.accumulate(independent_paths(variances) > values[:, None], axis=0).mean(axis=1)
    assert crossed == pytest.approx(cumulative, abs=0.002)
    flat = flash.group_sequential_critical_value(variances, 0.05)
    assert (values[shares > 1 / 12] < flat).all()  # a look spending more than an even share: below the flat value
    assert np.isinf(values[shares == 0]).all()  # a look spending nothing never rejects


def test_a_place_stops_at_the_first_look_whose_interval_fits_between_its_neighbours():
    scores = np.array([0.9, 0.8, 0.79, 0.5, 0.2])
    tiers = (Tier(1, 1, 0), Tier(2, None, 1))
    half_widths = np.array([0.2, 0.1, 0.04, 0.005])
    # Rank 1 (exact): 0.1 down to the next model, so 0.04 (look 2) is the first half-width below it.
    # Rank 2 (+-1): nothing 2 places up, 0.3 down to 0.5: look 0. Rank 3: 0.11 up to 0.9, 0.59 down to 0.2:
    # look 1 (0.1). Ranks 4 and 5: 0.3 up to 0.8 and 0.59 up to 0.79, nothing 2 places down: look 0.
    assert flash.expected_stop_looks(scores, half_widths, tiers).tolist() == [2, 0, 1, 0, 0]
    assert flash.expected_stop_looks(np.array([0.5, 0.5]), half_widths, (Tier(1, None, 0),)).tolist() == [3, 3]


def test_the_board_schedule_spends_a_fifth_evenly_and_the_rest_where_its_places_stop():
    scores = np.linspace(0.9, 0.1, 9)
    half_widths = np.array([0.5, 0.3, 0.15, 0.08, 0.02])
    shares = flash.board_shares(scores, half_widths, DEFAULT_TIERS)
    stops = flash.expected_stop_looks(scores, half_widths, DEFAULT_TIERS)
    expected = 0.8 * np.bincount(stops, minlength=5) / 9 + 0.2 / 5
    assert shares == pytest.approx(expected) and shares.sum() == pytest.approx(1.0) and (shares > 0).all()


def mmlu_like_board(seed: int = 5) -> flash.Reference:
    """29 models in 14 scenarios of MMLU-Pro's sizes, accuracies from 0.15 to 0.75."""
    rng = np.random.default_rng(seed)
    accuracy = np.linspace(0.15, 0.75, 29)
    items = tuple((rng.random((n, accuracy.size)) < accuracy).astype(float) for n in POPULATION)
    return flash.reference_of(ResultsMatrix(tuple(f"m{i}" for i in range(29)), tuple(f"s{k}" for k in range(14)),
                                            items, (True,) * 14))


def test_a_board_spends_its_error_where_its_models_stop_and_keeps_alpha_in_all():
    board = mmlu_like_board()
    config = flash.FlashConfig().at_size(30)
    values = board.critical_values(config)
    flat = board.critical_value(config)
    stages = config.stage_sizes(board.largest_scenario)
    assert values.size == len(stages) and values[-1] == values[-2]  # the stage of all items is exact
    assert (board.critical_values(flash.FlashConfig(spending="flat").at_size(30)) == flat).all()
    variances = flash.look_variances([s for s in stages if s is not None], board.item_counts, board.residual_fit[1])
    looks = values[:variances.size]
    crossed = (independent_paths(variances) > looks[:, None]).any(axis=0).mean()
    assert crossed == pytest.approx(0.05, abs=0.002)  # nominal 5%
    scenarios = len(board.item_counts)
    stops = flash.expected_stop_looks(board.scores, flat * np.sqrt(variances) / scenarios, config.resolution_tiers)
    busiest = np.bincount(stops).argmax()
    assert looks[busiest] < flat < looks[-1]


def test_spending_is_read_from_effbench_toml_and_checked(tmp_path):
    path = tmp_path / "effbench.toml"
    path.write_text('[flash]\nspending = "flat"\n')
    assert load_config(path).flash.spending == "flat"
    path.write_text('[flash]\nspending = "early"\n')
    with pytest.raises(EffbenchError, match=r"invalid \[flash\] settings: spending must be one of board, flat"):
        load_config(path)


def test_each_look_ranks_the_intersection_of_its_interval_with_the_earlier_looks():
    board = mmlu_like_board()
    rng = np.random.default_rng(1)
    new = [(rng.random(n) < 0.6).astype(float) for n in POPULATION]
    config = flash.FlashConfig().at_size(30)
    alone = flash.run_model("new", new, board, replace(config, intersect=False))
    joint = flash.run_model("new", new, board, config)
    low, high = -np.inf, np.inf
    for own, stage in zip(alone.stages, joint.stages, strict=False):
        assert (stage.estimate, stage.half_width) == (own.estimate, own.half_width)
        low, high = max(low, own.estimate - own.half_width), min(high, own.estimate + own.half_width)
        assert low <= high  # this path's looks all hold one score
        assert (stage.rank_lo, stage.rank_hi) == tuple(flash.rank_against(board.scores, np.array([high, low])))
        assert own.rank_lo <= stage.rank_lo <= stage.rank_hi <= own.rank_hi
    assert len(joint.stages) < len(alone.stages)  # this model stops a look earlier
    assert any((s.rank_lo, s.rank_hi) != (o.rank_lo, o.rank_hi) for o, s in zip(alone.stages, joint.stages,
                                                                               strict=False))  # it narrowed one


def test_looks_that_do_not_meet_start_again_from_the_latest():
    board = mmlu_like_board()
    bounds, lo, hi = flash.replay.intersected((0.5, 0.6), 0.3, 0.05, board, 20, 25)
    assert (bounds, lo, hi) == ((0.25, 0.35), 20, 25)
    bounds, lo, hi = flash.replay.intersected((0.2, 0.32), 0.3, 0.05, board, 20, 25)
    assert bounds == (0.25, 0.32) and (lo, hi) == tuple(flash.rank_against(board.scores, np.array([0.32, 0.25])))


def test_uncorrected_looks_and_the_bootstrap_never_intersect(tmp_path):
    assert flash.FlashConfig().intersects
    assert not flash.FlashConfig(correction="none").intersects
    assert not flash.FlashConfig(estimator="bootstrap", correction="bonferroni").intersects
    path = tmp_path / "effbench.toml"
    path.write_text("[flash]\nintersect = false\n")
    assert not load_config(path).flash.intersects


@pytest.mark.parametrize("change", [{}, {"spending": "flat"}, {"intersect": False},
                                    {"spending": "flat", "intersect": False}, {"correction": "bonferroni"},
                                    {"correction": "none"}, {"estimator": "bootstrap", "correction": "bonferroni"}])
def test_the_flash_page_states_one_error_control_and_the_intersection_only_where_it_applies(change):
    config = flash.FlashConfig(**change)
    lines = flash_method(asdict(config))
    control = [line for line in lines if line.startswith(("Error control:", "No correction:"))]
    assert len(control) == 1
    assert ("where the board's models are expected to stop" in control[0]) == (
        config.correction == "group-sequential" and config.spending == "board")
    assert ("one critical value for every look" in control[0]) == (
        config.correction == "group-sequential" and config.spending == "flat")
    assert any(line.startswith("Rank intervals: since the looks' intervals hold together") for line in lines) == \
        config.intersects


def test_a_look_that_spends_nothing_cannot_stop_even_on_a_sample_without_spread():
    """At 99.99% the first looks spend less than one of the design's paths: their critical value is infinite, and
    an all-wrong sample without the variance floor (variance 0) must still get an unbounded interval there, not
    infinity times zero."""
    board = mmlu_like_board()
    config = flash.FlashConfig(confidence_level=0.9999, variance_floor=False).at_size(30)
    values = board.critical_values(config)
    assert np.isinf(values[0])
    outcome = flash.run_model("new", [np.zeros(n) for n in POPULATION], board, config)
    first = outcome.stages[0]
    assert (first.rank_lo, first.rank_hi) == (1, 30) and not first.resolution_met
    assert outcome.final.rank == 30
