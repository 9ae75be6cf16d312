"""Tiers that fit the board: the board-size rule, declared tiers in ranks or shares, and the full run's floor."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pytest
from typer.testing import CliRunner

from effbench import flash
from effbench.cli import app
from effbench.config import load_config
from effbench.errors import EffbenchError
from effbench.stats import ResultsMatrix
from effbench.tiers import (
    BOARD_SIZE_SHARES,
    DEFAULT_TIERS,
    DeclaredTier,
    Tier,
    board_size_tiers,
    declared_tiers,
    from_resolutions,
    full_run_floor,
    resolutions,
    widest,
)


def test_board_size_tiers_are_the_papers_below_500_models():
    for n_models in range(1, 500):
        assert board_size_tiers(n_models) == DEFAULT_TIERS, n_models
    assert board_size_tiers(500)[-1] == Tier(51, None, 5)


def test_board_size_tiers_at_4000_models():
    assert board_size_tiers(4000) == (Tier(1, 1, 0), Tier(2, 40, 10), Tier(41, 400, 20), Tier(401, None, 40))


@pytest.mark.parametrize("n_models", [401, 777, 1000, 2345, 4000, 10_000])
def test_board_size_tiers_are_the_wider_of_the_papers_and_the_shares(n_models):
    """Rank by rank, from the shares as written in the rule, not from the code's own loop."""
    got = resolutions(board_size_tiers(n_models), n_models)
    paper = resolutions(DEFAULT_TIERS, n_models)
    (top, top_width), (upper, upper_width), (_, rest_width) = BOARD_SIZE_SHARES
    for rank in (1, 2, 3, n_models // 100, n_models // 100 + 1, n_models // 10, n_models // 10 + 1, n_models):
        if rank < 1:
            continue
        if rank == 1:
            share = 0
        elif rank <= np.ceil(top * n_models):
            share = np.floor(top_width * n_models)
        elif rank <= np.ceil(upper * n_models):
            share = np.floor(upper_width * n_models)
        else:
            share = np.floor(rest_width * n_models)
        assert got[rank - 1] == max(paper[rank - 1], share), rank


def test_declared_tiers_in_shares_resolve_at_the_boards_size():
    declared = (DeclaredTier(1, 0), DeclaredTier(0.01, 0.0025), DeclaredTier(None, 0.01))
    assert declared_tiers(declared, 4000) == (Tier(1, 1, 0), Tier(2, 40, 10), Tier(41, None, 40))
    # On 50 models 1% is rank 1: the middle tier is empty and dropped; 1% of 50 rounds down to 0 ranks.
    assert declared_tiers(declared, 50) == (Tier(1, None, 0),)
    assert declared_tiers(declared, 250) == (Tier(1, 3, 0), Tier(4, None, 2))  # ranks 2-3 +-0 merge with rank 1
    with pytest.raises(ValueError, match="last declared tier"):
        declared_tiers((DeclaredTier(5, 1),), 100)


def test_from_resolutions_merges_equal_neighbours_and_ends_open():
    assert from_resolutions(np.array([0, 1, 1, 3, 3, 3])) == (Tier(1, 1, 0), Tier(2, 3, 1), Tier(4, None, 3))


@pytest.mark.parametrize(("rule", "expected"), [("width", 20), ("half-width", 10)])
def test_full_run_floor_is_the_median_width_by_place(rule, expected):
    lo = np.arange(1, 201) - 10
    hi = np.arange(1, 201) + 10  # every interval spans 20 places, 10 either way
    hi[100] += 400  # one model's interval far wider: a median over its neighbours ignores it
    floor = resolutions(full_run_floor(lo, hi, rule), 200)
    assert (floor == expected).all()
    # Rank 1 exact ([1, 1]) and two tied at 2-4: the median keeps the leader exact.
    assert resolutions(full_run_floor(np.array([1, 2, 2]), np.array([1, 4, 4]), rule), 3).tolist() == [
        0, expected // 10, expected // 10]


def test_widest_takes_the_larger_resolution_at_each_rank():
    a = (Tier(1, 1, 0), Tier(2, None, 4))
    b = (Tier(1, 9, 2), Tier(10, None, 1))
    assert widest(a, b, n_models=12) == (Tier(1, 1, 2), Tier(2, None, 4))


def test_the_stop_rule_applies_the_floor_and_the_plan_says_which_rule():
    """A board of 4,000 whose full run's rank intervals span 60 places: Flash asks +-60 there, and says so;
    without the floor it would ask the board-size tiers' +-40."""
    n = 4000
    lo, hi = np.arange(1, n + 1) - 30, np.arange(1, n + 1) + 30
    config = flash.FlashConfig().for_board(n, lo, hi)
    assert config.tiers == board_size_tiers(n)
    assert resolutions(config.resolution_tiers, n)[[0, 1, 1999]].tolist() == [60, 60, 60]
    assert flash.within_resolution(2060, 2000, config.resolution_tiers)
    assert not flash.within_resolution(2060, 2000, config.tiers)
    text = config.describe_resolution(2000)
    assert text == ("ranks 401 and below: within ±60 places of 4,000 (board-size tiers for 4,000 models: ±40, "
                    "widened to what the full run resolves here: its own rank intervals span 60 places)")
    strict = flash.FlashConfig(floor_rule="half-width").for_board(n, lo, hi)
    assert strict.describe_resolution(2000) == ("ranks 401 and below: within ±40 places of 4,000 "
                                                "(board-size tiers for 4,000 models)")
    narrow = flash.FlashConfig().for_board(n, np.arange(1, n + 1) - 17, np.arange(1, n + 1) + 18)
    assert narrow.describe_resolution(2000) == ("ranks 401 and below: within ±40 places of 4,000 "
                                                "(board-size tiers for 4,000 models)")
    paper = flash.FlashConfig(tier_rule="paper", floor_rule="none").for_board(n, lo, hi)
    assert paper.resolution_tiers == DEFAULT_TIERS
    assert paper.describe_resolution(1) == "rank 1: resolved exactly (the paper's tiers)"


def test_a_wider_floor_lets_flash_stop_earlier_and_is_judged_by_it():
    rng = np.random.default_rng(3)
    accuracy = np.linspace(0.3, 0.7, 40)
    items = tuple((rng.random((300, accuracy.size)) < accuracy).astype(float) for _ in range(2))
    board = ResultsMatrix(tuple(f"m{i:02d}" for i in range(40)), ("a", "b"), items, (True, True))
    plain = flash.simulate(board, config=flash.FlashConfig(seeds=1).for_board(40))
    ranks = np.arange(1, 41)
    wide = flash.simulate(board, config=flash.FlashConfig(seeds=1).for_board(40, ranks - 8, ranks + 8))
    assert wide.summary.saving > plain.summary.saving
    for outcome in wide.outcomes:  # intervals spanning 16 places: within 16
        assert outcome.within_resolution == (abs(outcome.final.rank - outcome.full_rank) <= 16)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "effbench.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_settings_choose_a_rule_or_declare_tiers_in_ranks_and_shares(tmp_path):
    assert load_config(write(tmp_path, "[flash]\n")).flash.tier_rule == "board-size"
    config = load_config(write(tmp_path, '[flash]\ntiers = "paper"\nfloor = false\n')).flash
    assert (config.tier_rule, config.floor_rule) == ("paper", "none")
    assert load_config(write(tmp_path, '[flash]\nfloor = "half-width"\n')).flash.floor_rule == "half-width"
    declared = load_config(write(tmp_path, """
[[flash.tiers]]
first = 1
last = 1
resolution = 0
[[flash.tiers]]
last = "1%"
resolution = "0.25%"
[[flash.tiers]]
resolution = 3
""")).flash
    assert declared.tier_rule == "declared"
    assert declared.declared_tiers == (DeclaredTier(1, 0), DeclaredTier(0.01, 0.0025), DeclaredTier(None, 3))
    assert declared.for_board(1000).tiers == (Tier(1, 1, 0), Tier(2, 10, 2), Tier(11, None, 3))  # 2.5 rounds down


@pytest.mark.parametrize(("text", "message"), [
    ('[flash]\ntiers = "fast"\n', "tiers must be one of board-size, paper, declared"),
    ('[flash]\nfloor = "yes"\n', "floor must be"),
    ('[flash]\nfloor = 2\n', "floor must be"),
    ('[[flash.tiers]]\nlast = "ten"\nresolution = 1\n', "share like"),
    ('[[flash.tiers]]\nlast = 3\nresolution = "150%"\n', "at most 100%"),
    ('[[flash.tiers]]\nfirst = 2\nlast = 3\nresolution = 1\n', "first must be 1"),
    ('[[flash.tiers]]\nlast = 3\nresolution = 1\n', "last tier must have no last"),
    ('[[flash.tiers]]\nlast = 3\nwidth = 1\n', "unknown key"),
])
def test_malformed_tier_settings_are_one_line_errors_naming_the_setting(tmp_path, text, message):
    with pytest.raises(EffbenchError, match=message) as error:
        load_config(write(tmp_path, text))
    assert "\n" not in str(error.value) and "[flash]" in str(error.value)


def test_the_build_resolves_the_rule_for_its_board_and_the_site_says_so(example_build):
    """MMLU-Pro's 29 models: the board-size rule gives the paper's tiers; the leaderboard's own rank intervals
    span 2 places at ranks 2-4 (three models it does not order), wider than the tier's +-1 there only."""
    db = example_build.out.parent / "effbench.duckdb"
    with duckdb.connect(str(db), read_only=True) as con:
        (options,) = con.execute("SELECT CAST(options AS VARCHAR) FROM analyses WHERE analysis = 'flash'").fetchone()
        intervals = con.execute("SELECT rank_lo, rank_hi FROM rank_intervals ORDER BY rank, model").fetchall()
    options = json.loads(options)
    assert (options["tier_rule"], options["board_models"], options["floor_rule"]) == ("board-size", 29, "width")
    assert [Tier(**t) for t in options["tiers"]] == list(DEFAULT_TIERS)
    floor = [Tier(**t) for t in options["floor"]]
    assert [hi - lo for lo, hi in intervals[1:4]] == [2, 2, 2]
    assert max(t.resolution for t in floor) <= max(hi - lo for lo, hi in intervals)
    assert widest(DEFAULT_TIERS, floor, n_models=29) == (Tier(1, 1, 0), Tier(2, 9, 2), *DEFAULT_TIERS[3:])
    page = (example_build.out / "flash.html").read_text(encoding="utf-8")
    assert "The tiers scale with the board" in page and "for this board of 29 models" in page
    assert "Here: ranks 2-4 ±2 instead of ±1." in page


def test_flash_plan_says_which_rule_sets_the_resolution(example_build, tmp_path):
    db = tmp_path / "board.duckdb"
    shutil.copy(example_build.out.parent / "effbench.duckdb", db)
    result = CliRunner().invoke(app, ["flash", "plan", "Yi-34B", "--db", str(db), "--out", str(tmp_path / "n.csv")])
    assert result.exit_code == 0, result.output
    assert "within ±3 places of 29 (board-size tiers for 29 models)" in result.output


def test_the_flash_page_summarises_the_floor_per_tier_on_a_large_board():
    """Thousands of runs of ranks with their own floor read as one range per tier, smallest to largest."""
    from effbench.render.analyses import tier_rule_lines, widened_tiers
    n = 4000
    ranks = np.arange(1, n + 1)
    half = np.minimum(ranks, n + 1 - ranks) // 4  # narrow at the ends, up to 500 places mid-board
    config = flash.FlashConfig().for_board(n, ranks - half, ranks + half)
    options = json.loads(json.dumps(dataclasses.asdict(config)))
    before, after = tier_rule_lines(options, widened_tiers(options))
    assert "for this board of 4,000 models" in before
    assert len(config.resolution_tiers) > 100
    # Mid-board the widths peak at 1,000; the median over the 81 places around the peak is 990.
    assert after.endswith("Here: ranks 2-40 ±12 to ±20 instead of ±10; ranks 41-400 ±22 to ±200 instead of ±20; "
                          "ranks 401 and below ±42 to ±990 instead of ±40.")


def test_a_widened_tier_says_so_in_the_list_of_tiers():
    """The list does not leave "rank 1: resolved exactly" standing where the floor widens it."""
    from effbench.render.analyses import tier_lines, widened_tiers
    config = flash.FlashConfig().for_board(29, [1, 1, 1] + [2] * 26, [4, 4, 4] + [6] * 26)
    options = json.loads(json.dumps(dataclasses.asdict(config)))
    lines = tier_lines(config.tiers, widened_tiers(options))
    assert lines[0] == "rank 1: resolved exactly; on this board ±3 (the full run's floor, below)"
    assert lines[-1] == "ranks 20 and below: resolved to ±4 ranks (treat models within 4 places as tied)"
