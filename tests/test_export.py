"""`effbench export`: a board's leaderboard as Markdown, LaTeX, CSV and Every Eval Ever records."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import duckdb
import jsonschema
import pytest
from typer.testing import CliRunner

from effbench import pipeline
from effbench.analysis_tables import AnalysisParameters, DiorParameters
from effbench.cli import app
from effbench.load import Source

from conftest import long_rows, write_csv

SCHEMA = Path(__file__).parent / "data" / "formats" / "every_eval_ever" / "schemas" / "eval.schema.json"
runner = CliRunner()


def leaderboard(db: Path) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT model, rank, rank_lo, rank_hi, score, score_lo, score_hi FROM leaderboard"
                           " ORDER BY rank, model").fetchall()


def test_markdown_and_latex_carry_every_model_with_its_intervals(example_build):
    db = example_build.out.parent / "effbench.duckdb"
    rows = leaderboard(db)
    markdown, _ = pipeline.export_board(db, "markdown")
    lines = markdown.splitlines()
    assert lines[0].startswith("MMLU-Pro leaderboard: rank and score of each model with its 95% interval")
    table = [line for line in lines if line.startswith("| ")]
    assert len(table) == 1 + len(rows) and table[0].startswith("| Rank | Model | Score | biology |")
    model, rank, lo, hi, score, score_lo, score_hi = rows[0]
    assert table[1].startswith(f"| {rank} ({lo}–{hi}) | {model} | {score:.3f} ({score_lo:.3f}–{score_hi:.3f}) |")
    latex, _ = pipeline.export_board(db, "latex")
    assert r"\toprule" in latex and r"\bottomrule" in latex and r"\caption{MMLU-Pro leaderboard" in latex
    assert r"Meta-Llama-3\_1-70B-Instruct" in latex and "Meta-Llama-3_1" not in latex  # _ escaped
    assert latex.count(r" \\") == 1 + len(rows)


def test_csv_has_the_numbers_of_the_leaderboard(example_build, tmp_path):
    db = example_build.out.parent / "effbench.duckdb"
    result = runner.invoke(app, ["export", "--to", "csv", "--db", str(db), "--out", str(tmp_path / "l.csv")])
    assert result.exit_code == 0, result.output
    parsed = list(csv.DictReader(io.StringIO((tmp_path / "l.csv").read_text())))
    assert [(r["model"], int(r["rank"]), float(r["score"])) for r in parsed] == [
        (m, rank, pytest.approx(score)) for m, rank, _, _, score, _, _ in leaderboard(db)]
    assert {"biology:score", "biology:score_lo", "biology:score_hi"} <= set(parsed[0])


def test_every_eval_ever_records_follow_the_schema_and_give_lower_is_better_scores_on_their_scale(tmp_path):
    scores = {m: {"qa": [(i + k) % 2 for i in range(10)], "errors": [0.1 * k + 0.01 * i for i in range(10)]}
              for k, m in enumerate(("alpha", "beta", "gamma"))}
    results = write_csv(tmp_path / "r.csv", long_rows(scores))
    db = tmp_path / "e.duckdb"
    pipeline.update(db, [Source(results)], lower_is_better=["errors"], parameters=AnalysisParameters(n_resamples=100),
                    dior_parameters=DiorParameters(n_draws=10), all_analyses=False)
    result = runner.invoke(app, ["export", "--to", "eee", "--db", str(db), "--out", str(tmp_path / "records")])
    assert result.exit_code == 0, result.output
    schema = json.loads(SCHEMA.read_text())
    files = sorted((tmp_path / "records").glob("*.json"))
    assert len(files) == 3
    for path in files:
        record = json.loads(path.read_text())
        jsonschema.validate(record, schema)
        by_name = {r["evaluation_name"]: r for r in record["evaluation_results"]}
        errors = by_name["errors"]
        assert errors["metric_config"]["lower_is_better"] is True
        interval = errors["score_details"]["uncertainty"]["confidence_interval"]
        assert 0 <= interval["lower"] <= errors["score_details"]["score"] <= interval["upper"]
        assert errors["score_details"]["uncertainty"]["num_bootstrap_samples"] == 100
    alpha = json.loads((tmp_path / "records" / "table-errors__alpha.json").read_text())
    mean = sum(0.01 * i for i in range(10)) / 10  # alpha's error rate, as measured (not negated)
    assert {r["evaluation_name"]: r for r in alpha["evaluation_results"]}["errors"]["score_details"]["score"] == (
        pytest.approx(mean))


def test_eee_needs_a_folder(example_build):
    result = runner.invoke(app, ["export", "--to", "eee", "--db", str(example_build.out.parent / "effbench.duckdb")])
    assert result.exit_code == 1 and "give a folder with --out" in result.output
