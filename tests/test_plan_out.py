"""`effbench flash plan --out`: never the database, a file of the user's or part of a site; CSV plans
neutralise formula cells as the site's downloads do, JSON lines plans keep names exactly."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from effbench import pipeline
from effbench.cli import app
from effbench.load import Source
from effbench.writer import SITE_MARKER

from conftest import long_rows, write_csv

runner = CliRunner()


@pytest.fixture(scope="module")
def shared_board(tmp_path_factory) -> Path:
    """Three models on two scenarios of 12 items; one scenario's name starts like a formula."""
    root = tmp_path_factory.mktemp("board")
    scores = {model: {"qa": [(i * k) % 2 for i in range(12)], "@SUM(1)": [(i + k) % 3 / 2 for i in range(12)]}
              for k, model in enumerate(("alpha", "beta", "gamma"), start=1)}
    db = root / "e.duckdb"
    pipeline.update(db, [Source(write_csv(root / "r.csv", long_rows(scores)))], all_analyses=False)
    return db


@pytest.fixture
def board(shared_board, tmp_path) -> Path:
    """A copy of the board for one test, so that a test that overwrites it harms no other."""
    db = tmp_path / "board.duckdb"
    shutil.copyfile(shared_board, db)
    return db


def plan(db: Path, out: Path, model: str = "=cmd|' /C calc'!A0"):
    return runner.invoke(app, ["flash", "plan", model, "--new", "--out", str(out), "--db", str(db)])


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_database_is_never_the_plan(board):
    before = digest(board)
    result = plan(board, board)
    assert result.exit_code == 1 and "is the database" in result.output
    assert digest(board) == before


def test_a_symlink_to_the_database_is_the_database(board, tmp_path):
    link = tmp_path / "next.csv"
    link.symlink_to(board)
    before = digest(board)
    assert plan(board, link).exit_code == 1
    assert digest(board) == before


@pytest.mark.parametrize("content", ["id,notes\n1,keep me\n", "", '{"a": 1}\n'])
def test_a_file_that_is_not_a_plan_is_left_alone(board, tmp_path, content):
    out = tmp_path / "mine.csv"
    out.write_text(content)
    result = plan(board, out)
    assert result.exit_code == 1 and "not a plan effbench wrote" in result.output
    assert out.read_text() == content


def test_a_plan_inside_a_site_is_refused(board, tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / SITE_MARKER).write_text("Built by effbench\n")
    result = plan(board, site / "data" / "next.csv")
    assert result.exit_code == 1 and "inside the site" in result.output
    assert not (site / "data").exists()


def test_an_earlier_plan_is_replaced(board, tmp_path):
    for out in (tmp_path / "next.csv", tmp_path / "next.jsonl"):
        assert plan(board, out).exit_code == 0
        assert plan(board, out).exit_code == 0, "planning again over the last plan"


def test_csv_plans_neutralise_formulas_and_json_lines_keep_names(board, tmp_path):
    model = "=cmd|' /C calc'!A0"
    assert plan(board, tmp_path / "next.csv", model).exit_code == 0
    rows = list(csv.DictReader((tmp_path / "next.csv").open(newline="")))
    assert rows and {row["model"] for row in rows} == {"'" + model}
    assert "'@SUM(1)" in {row["scenario"] for row in rows}
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row.values())
    assert plan(board, tmp_path / "next.jsonl", model).exit_code == 0
    records = [json.loads(line) for line in (tmp_path / "next.jsonl").read_text().splitlines()]
    assert {r["model"] for r in records} == {model} and "@SUM(1)" in {r["scenario"] for r in records}
