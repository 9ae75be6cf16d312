"""Flash rankings: the simulation's figures, the plan-ingest loop, orders, stop rule and settings."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import numpy as np
import pytest
from typer.testing import CliRunner

from effbench import flash, pipeline, store
from effbench.cli import app
from effbench.config import load_config
from effbench.errors import EffbenchError
from effbench.examples import EXAMPLES
from effbench.load import Source
from effbench.stats import ResultsMatrix
from effbench.tiers import DEFAULT_TIERS, Tier

runner = CliRunner()


def read_rows(path: Path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def simulate_json(db: Path) -> dict:
    result = runner.invoke(app, ["flash", "simulate", "--json", "--db", str(db)])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_mmlu_pro_simulation_saves_at_least_x4_with_95_percent_within_resolution(example_build):
    report = simulate_json(example_build.out.parent / "effbench.duckdb")
    summary = report["summary"]
    assert report["variant"] == "informed order, corrected"
    assert summary["saving"] >= 4
    assert summary["within_resolution"] >= 0.95
    assert summary["n_models"] == len(report["rows"]) == 29
    by_variant = {s["variant"]: s for s in report["comparison"]}
    assert set(by_variant) == {"informed order, corrected", "random order, corrected", "random order, uncorrected"}
    # Error control costs compute: the corrected random order saves less than the uncorrected one.
    assert by_variant["random order, corrected"]["saving"] < by_variant["random order, uncorrected"]["saving"]
    for row in report["rows"]:
        assert row["rank_lo"] <= row["flash_rank"] <= row["rank_hi"]
        assert row["items_used"] <= row["items_full"]


def test_livecodebench_simulation_reports_the_same_figures(tmp_path):
    db = tmp_path / "lcb.duckdb"
    pipeline.update(db, example="livecodebench", all_analyses=False)
    report = simulate_json(db)
    assert report["summary"]["n_models"] == 45
    assert report["summary"]["within_resolution"] >= 0.95
    assert report["summary"]["saving"] >= 1.0  # 400 problems in 9 scenarios leave little to save


@pytest.fixture(scope="module")
def board_without_yi(tmp_path_factory) -> tuple[Path, Path]:
    """A database of the MMLU-Pro example without Yi-34B, and a file of Yi-34B's real results."""
    root = tmp_path_factory.mktemp("plan")
    source = EXAMPLES["mmlu-pro"].results_path
    others, held = root / "others.csv", root / "yi.csv"
    duckdb.execute(f"COPY (SELECT * FROM read_csv('{source}') WHERE model <> 'Yi-34B') TO '{others}' (HEADER)")
    duckdb.execute(f"COPY (SELECT model, scenario, CAST(item_id AS VARCHAR) AS item_id, score FROM "
                   f"read_csv('{source}') WHERE model = 'Yi-34B') TO '{held}' (HEADER)")
    db = root / "e.duckdb"
    pipeline.update(db, [Source(others)], all_analyses=False)
    return db, held


def test_plan_then_ingest_exactly_the_planned_items_until_the_resolution_is_met(board_without_yi, tmp_path):
    db, held = board_without_yi
    db_copy = tmp_path / "loop.duckdb"
    db_copy.write_bytes(db.read_bytes())
    truth = {(r["scenario"], r["item_id"]): r for r in read_rows(held)}
    config = flash.FlashConfig()
    stages_seen = []
    for step in range(len(config.stages) + 1):
        out = tmp_path / f"next-{step}.csv"
        result = runner.invoke(app, ["flash", "plan", "Yi-34B", "--out", str(out), "--db", str(db_copy)])
        assert result.exit_code == 0, result.output
        planned = read_rows(out)
        if "resolution met" in result.output:
            assert planned == []  # header only
            break
        stages_seen.append(result.output)
        batch = tmp_path / f"results-{step}.csv"
        with open(batch, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=["model", "scenario", "item_id", "score"])
            writer.writeheader()
            writer.writerows(truth[(r["scenario"], r["item_id"])] for r in planned)
        assert runner.invoke(app, ["ingest", str(batch), "--db", str(db_copy)]).exit_code == 0
    else:
        pytest.fail("the plan never reached the tier's resolution")
    plan, _ = pipeline.flash_plan(db_copy, "Yi-34B", config)
    assert plan.resolution_met and plan.next_items == ()
    assert plan.items_evaluated < 12_032 / 4  # far fewer evaluations than a full run
    assert abs(plan.rank - 11) <= DEFAULT_TIERS[2].resolution + 1  # Yi-34B is 11th on all items


def test_a_model_without_results_is_planned_its_first_stage(board_without_yi):
    db, _ = board_without_yi
    plan, items = pipeline.flash_plan(db, "brand-new-model", flash.FlashConfig())
    assert plan.completed_stage is None and plan.next_stage == "10"
    assert len(items) == 14 * 10
    assert len({(i.scenario, i.item_id) for i in items}) == len(items)


def test_plan_and_replay_agree_on_every_stage(board_without_yi):
    """The planner and the simulation share orders and generators: the same stage gives the same interval."""
    db, held = board_without_yi
    with store.open_store(db, read_only=True) as con:
        results = flash.item_level(store.results_matrix(con))
    board = flash.board_of(results)
    scores = {(r["scenario"], r["item_id"]): float(r["score"]) for r in read_rows(held)}
    new_items = [np.array([scores.get((s, i), np.nan) for i in ids])
                 for s, ids in zip(results.scenarios, results.item_ids, strict=True)]
    replay = flash.run_model("Yi-34B", new_items, board, flash.FlashConfig())
    have = [np.full(len(v), np.nan) for v in new_items]
    for stage in replay.stages:
        plan = flash.plan("Yi-34B", have, board, flash.FlashConfig())
        for s, i in plan.next_items:
            have[s][i] = new_items[s][i]
        after = flash.plan("Yi-34B", have, board, flash.FlashConfig())
        assert (after.rank, after.rank_lo, after.rank_hi) == (stage.rank, stage.rank_lo, stage.rank_hi)


def test_orders_are_nested_permutations_of_the_available_items():
    rng = np.random.default_rng(0)
    difficulty = rng.random(300)
    available = rng.random(300) < 0.8
    for kind in ("random", "informed"):
        order = flash.item_order(difficulty, available, kind, np.random.default_rng(1))
        assert sorted(order) == sorted(np.flatnonzero(available))


def test_informed_order_spreads_every_prefix_over_difficulty():
    difficulty = np.linspace(0, 1, 1000)
    order = flash.item_order(difficulty, np.ones(1000, bool), "informed", np.random.default_rng(3))
    for n in (10, 20, 50, 200):
        counts = np.histogram(difficulty[order[:n]], bins=5, range=(0, 1))[0]
        assert counts.min() >= n // 5 - 2, (n, counts)


def test_stop_rule_uses_the_optimistic_tier_and_the_estimate():
    assert flash.resolution_met(1, 1, 1, DEFAULT_TIERS) == (0, True)
    assert flash.resolution_met(1, 1, 2, DEFAULT_TIERS) == (0, False)  # rank 1 must be exact
    assert flash.resolution_met(3, 2, 4, DEFAULT_TIERS) == (1, True)
    assert flash.resolution_met(5, 5, 9, DEFAULT_TIERS) == (2, False)  # 9 is 4 places from 5: beyond +-2
    assert flash.resolution_met(24, 20, 28, DEFAULT_TIERS) == (4, True)


def test_a_clear_leader_is_ranked_first_exactly_after_few_items():
    rng = np.random.default_rng(4)
    board_items = [(rng.random((500, 5)) < np.linspace(0.3, 0.5, 5)).astype(float) for _ in range(3)]
    results = ResultsMatrix(tuple("abcde"), ("s1", "s2", "s3"), tuple(board_items), (True,) * 3)
    new = [(rng.random(500) < 0.95).astype(float) for _ in range(3)]
    outcome = flash.run_model("star", new, flash.board_of(results), flash.FlashConfig())
    assert (outcome.final.rank, outcome.final.rank_lo, outcome.final.rank_hi) == (1, 1, 1)
    assert outcome.final.items_used <= 3 * 50


def test_correction_widens_the_per_stage_interval():
    assert flash.FlashConfig(correction="bonferroni").stage_confidence == pytest.approx(0.99)
    assert flash.FlashConfig(correction="none").stage_confidence == 0.95


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"stages": (10, 5, None)}, "increasing"),
    ({"stages": (10, 20)}, "ending with all items"),
    ({"order": "smart"}, "`order` must be one of"),
    ({"tiers": (Tier(2, None, 1),)}, "start at rank 1"),
])
def test_invalid_flash_settings_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        flash.FlashConfig(**kwargs)


def test_settings_file_sets_tiers_and_schedule(tmp_path):
    path = tmp_path / "effbench.toml"
    path.write_text('[site]\ntitle = "Mine"\n[flash]\nstages = [20, 100, "all"]\norder = "random"\n'
                    "[[flash.tiers]]\nfirst = 1\nlast = 3\nresolution = 1\n"
                    "[[flash.tiers]]\nfirst = 4\nresolution = 5\n")
    config = load_config(path)
    assert config.title == "Mine"
    assert config.flash.stages == (20, 100, None) and config.flash.order == "random"
    assert config.flash.tiers == (Tier(1, 3, 1), Tier(4, None, 5))


@pytest.mark.parametrize(("text", "message"), [
    ("[flash]\nstagez = [1]\n", "unknown setting"),
    ("[colours]\nx = 1\n", "unknown section"),
    ("[flash]\norder = \"smart\"\n", "order must be one of"),
    ("[flash\n", "cannot read settings"),
])
def test_bad_settings_file_is_a_clear_error(tmp_path, text, message):
    path = tmp_path / "effbench.toml"
    path.write_text(text)
    with pytest.raises(EffbenchError, match=message):
        load_config(path)


def test_newest_models_come_from_release_dates(example_build):
    db = example_build.out.parent / "effbench.duckdb"
    result = runner.invoke(app, ["flash", "simulate", "--newest", "3", "--json", "--db", str(db)])
    assert result.exit_code == 0, result.output
    models = {r["model"] for r in json.loads(result.stdout)["rows"]}
    with duckdb.connect(str(db), read_only=True) as con:
        newest = {r[0] for r in con.execute(
            "SELECT model FROM models ORDER BY release_date DESC, model LIMIT 3").fetchall()}
    assert models == newest


def test_flash_page_and_leaderboard_tiers(example_build):
    site = example_build.out
    index = (site / "index.html").read_text()
    assert "ranks 10-19: resolved to ±3 ranks (treat models within 3 places as tied)" in index
    assert "Flash: evaluations needed" in index
    page = (site / "flash.html").read_text()
    assert "informed order, corrected" in page and "random order, uncorrected" in page
    with duckdb.connect(str(site.parent / "effbench.duckdb"), read_only=True) as con:
        rows = con.execute("SELECT count(*), count(DISTINCT variant) FROM flash").fetchone()
    assert rows == (3 * 29, 3)


def test_models_known_only_by_aggregated_scores_are_not_replayed():
    rng = np.random.default_rng(6)
    items = (rng.random((60, 4)) < np.array([0.2, 0.4, 0.6, 0.8])).astype(float)
    items[:, 3] = np.nan  # "d" has no per-item result
    results = ResultsMatrix(tuple("abcd"), ("s",), (items,), (True,))
    simulation = flash.simulate(results, config=flash.FlashConfig(n_resamples=100))
    assert [o.model for o in simulation.outcomes] == ["a", "b", "c"]
    with pytest.raises(ValueError, match="without per-item results: d"):
        flash.simulate(results, holdout=["d"])
