"""The synthetic board generator and the progress display."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pytest
from scipy import stats as scipy_stats
from typer.testing import CliRunner

from effbench import synth
from effbench.cli import app
from effbench.errors import EffbenchError


def _rows(spec: synth.SynthSpec):
    import pandas as pd

    return pd.concat(list(synth.blocks(spec)), ignore_index=True)


def test_the_same_arguments_give_the_same_rows_whatever_the_block_size(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = synth.SynthSpec(n_models=30, n_items=200, n_scenarios=3, missing=0.1, seed=4)
    whole = _rows(spec)
    assert len(whole) == 30 * 200
    assert whole.equals(_rows(spec))
    assert not whole.equals(_rows(synth.SynthSpec(30, 200, 3, 0.1, seed=5)))
    # Blocks are whole models, so the row order is fixed; the missing share is near the one asked for.
    assert whole["score"].isna().mean() == pytest.approx(0.1, abs=0.02)
    assert set(whole["scenario"].unique()) == {"scenario-1", "scenario-2", "scenario-3"}


def test_scores_follow_the_latent_abilities() -> None:
    spec = synth.SynthSpec(n_models=40, n_items=2000, n_scenarios=4, seed=0)
    truth = synth.board(spec)
    rows = _rows(spec)
    observed = rows.groupby(["model", "scenario"], observed=True)["score"].mean().unstack().loc[list(truth.models)]
    expected = truth.expected_scores()
    # 500 items per scenario: observed means are within a few standard errors of the expected ones.
    assert np.abs(observed.to_numpy() - expected).max() < 0.08
    assert scipy_stats.kendalltau(observed.mean(axis=1), truth.ability).statistic > 0.8


def test_bad_shapes_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(EffbenchError, match="at least one item per scenario"):
        synth.SynthSpec(n_models=2, n_items=3, n_scenarios=4)
    with pytest.raises(EffbenchError, match="--missing"):
        synth.SynthSpec(missing=1.0)
    result = CliRunner().invoke(app, ["synth", "--models", "3", "--items", "10", "--out", str(tmp_path / "x.xlsx")])
    assert result.exit_code == 1 and "write .parquet, .csv or .jsonl" in result.output


def test_the_command_writes_a_board_effbench_loads(tmp_path: Path) -> None:
    out = tmp_path / "board.parquet"
    result = CliRunner().invoke(app, ["synth", "--models", "12", "--items", "90", "--scenarios", "3",
                                      "--missing", "0.05", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert duckdb.sql(f"SELECT count(*), count(DISTINCT model) FROM '{out}'").fetchall() == [(1080, 12)]
    db = tmp_path / "e.duckdb"
    loaded = CliRunner().invoke(app, ["ingest", str(out), "--db", str(db)])
    assert loaded.exit_code == 0, loaded.output
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM leaderboard").fetchone()[0] == 12


def _ingest_command(tmp_path: Path, db_name: str, *extra: str) -> list[str]:
    board = tmp_path / "board.csv"
    if not board.exists():
        synth.write(synth.SynthSpec(n_models=5, n_items=40, n_scenarios=2), board)
    return [sys.executable, "-m", "effbench", "ingest", str(board), "--db", str(tmp_path / db_name), *extra]


def _run_on_terminal(command: list[str]) -> str:
    """Run `command` with its stderr on a pseudo-terminal; return what it wrote there."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=follower)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closes when the process ends
            break
        if not chunk:
            break
        chunks.append(chunk)
    assert process.wait(timeout=120) == 0
    os.close(leader)
    return b"".join(chunks).decode("utf-8", "replace")


def test_progress_shows_on_a_terminal_only_and_not_with_quiet(tmp_path: Path) -> None:
    on_terminal = _run_on_terminal(_ingest_command(tmp_path, "terminal.duckdb"))
    assert "ranking" in on_terminal and " s\r\n" in on_terminal  # the per-stage summary lines
    quiet = _run_on_terminal(_ingest_command(tmp_path, "quiet.duckdb", "--quiet"))
    assert "ranking" not in quiet and "loaded" in quiet
    piped = subprocess.run(_ingest_command(tmp_path, "piped.duckdb"), capture_output=True, text=True, check=True)
    assert "ranking" not in piped.stderr and "loaded" in piped.stderr


def _bench_scale():
    import importlib.util

    script = Path(__file__).parent.parent / "benchmarks" / "bench_scale.py"
    spec = importlib.util.spec_from_file_location("bench_scale", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_scale_benchmark_runs_in_its_smoke_mode(capsys: pytest.CaptureFixture[str]) -> None:
    module = _bench_scale()
    (result,) = module.main(["--smoke"])
    assert result["models"] == 40 and result["rows"] == 40 * 120
    assert [stage for stage, _ in result["stages"]][:2] == ["load", "ranking"]
    assert "peak memory" in capsys.readouterr().out


def test_scale_benchmark_runs_its_board_of_many_scenarios_in_smoke_mode(capsys: pytest.CaptureFixture[str]) -> None:
    module = _bench_scale()
    (result,) = module.main(["--smoke-scenarios"])
    assert result["models"] == 5 and result["rows"] == 5 * 240
    assert {"reliability (DIoR)", "Flash replay", "site pages"} <= {stage for stage, _ in result["stages"]}
    assert result["files"] > 120  # a page per scenario at least
    assert "smoke-scenarios: 5 models" in capsys.readouterr().out
