"""The command line: help on every command, clean one-line errors, and the README's own commands."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from effbench.cli import app

from conftest import long_rows, table_counts, write_csv

REPO = Path(__file__).resolve().parent.parent
runner = CliRunner()


def commands() -> list[str]:
    import typer.main

    group = typer.main.get_command(app)
    return sorted(group.commands)


def test_every_command_has_help_text_and_examples():
    assert commands() == ["build", "check", "dior", "export", "fit", "flash", "ingest", "init", "publish", "serve",
                          "synth"]
    for name in ["build", "check", "dior", "export", "ingest", "init", "publish", "serve", "flash simulate",
                 "flash plan", "flash status", "fit multilingual"]:
        result = runner.invoke(app, [*name.split(), "--help"])
        assert result.exit_code == 0, result.output
        assert "Examples:" in result.output, name
        assert re.search(r"effbench " + name, result.output), name


def test_top_level_help_and_version():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0 and "build" in result.output and "ingest" in result.output
    version = subprocess.run([sys.executable, "-m", "effbench", "--version"], capture_output=True, text=True,
                             check=True)
    assert version.stdout.startswith("effbench ")


def test_ingest_then_build_own_results(tmp_path, small_results):
    db, out = tmp_path / "mine.duckdb", tmp_path / "site"
    meta = write_csv(tmp_path / "models.csv", [{"model": "alpha", "organization": "A"}])
    result = runner.invoke(app, ["ingest", str(small_results), "--models", str(meta), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "loaded 24 rows (long)" in result.output
    result = runner.invoke(app, ["build", "--db", str(db), "--out", str(out), "--title", "Small bench"])
    assert result.exit_code == 0, result.output
    assert "<title>Small bench</title>" in (out / "index.html").read_text()
    assert "alpha" in (out / "index.html").read_text()


def test_bad_input_exits_1_with_one_line_and_the_database_unchanged(tmp_path, small_results):
    db = tmp_path / "e.duckdb"
    assert runner.invoke(app, ["ingest", str(small_results), "--db", str(db)]).exit_code == 0
    before = table_counts(db)
    bad = write_csv(tmp_path / "bad.csv", long_rows({"zeta": {"qa": ["n/a?"]}}))
    result = subprocess.run([sys.executable, "-m", "effbench", "ingest", str(bad), "--db", str(db)],
                            capture_output=True, text=True)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("effbench: error: ") and "not numbers" in lines[0]
    assert "Traceback" not in result.stderr
    assert table_counts(db) == before


def test_ingest_needs_something_to_load(tmp_path):
    result = runner.invoke(app, ["ingest", "--db", str(tmp_path / "e.duckdb")])
    assert result.exit_code == 1
    assert "nothing to load" in result.output
    assert not (tmp_path / "e.duckdb").exists()


def test_unknown_example_lists_the_choices(tmp_path):
    result = runner.invoke(app, ["build", "--example", "nope", "--db", str(tmp_path / "x.duckdb"),
                                 "--out", str(tmp_path / "site")])
    assert result.exit_code == 1
    assert "choose one of: livecodebench, mmlu-pro" in result.output


def test_readme_quick_start_is_two_commands_and_ci_runs_its_test_command():
    readme = (REPO / "README.md").read_text()
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands_ = re.findall(r"```sh\n(.*?)\n```", quick_start, flags=re.S)
    assert len(commands_) == 2 and all("\n" not in c for c in commands_)
    assert "effbench build" in commands_[0]
    ci = (REPO / ".ci" / "run").read_text()
    assert commands_[1] in ci


@pytest.mark.parametrize("name", ["build", "dior", "ingest", "publish", "init", "serve"])
def test_python_m_effbench_runs_the_same_commands(name):
    result = subprocess.run([sys.executable, "-m", "effbench", name, "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "Examples:" in result.stdout


def test_analysis_commands_do_not_create_a_database(tmp_path):
    db = tmp_path / "absent.duckdb"
    for args in (["dior"], ["flash", "simulate"], ["flash", "status"], ["flash", "plan", "m"]):
        result = runner.invoke(app, [*args, "--db", str(db)])
        assert result.exit_code == 1 and "no such database" in result.output, args
    assert not db.exists()


def test_build_refuses_a_foreign_output_folder_before_any_work(tmp_path):
    out = tmp_path / "docs"
    out.mkdir()
    (out / "notes.md").write_text("mine")
    result = runner.invoke(app, ["build", "--db", str(tmp_path / "e.duckdb"), "--out", str(out)])
    assert result.exit_code == 1 and "not built by effbench" in result.output
    assert not (tmp_path / "e.duckdb").exists()


def test_ingest_reads_lower_is_better_from_the_settings_file(tmp_path, monkeypatch):
    """`ingest` and `build` take [ranking] lower_is_better from effbench.toml alike."""
    path = write_csv(tmp_path / "x.csv", long_rows({"fast": {"latency": [1.0, 2.0, 1.5]},
                                                    "slow": {"latency": [9.0, 8.0, 7.5]}}))
    (tmp_path / "effbench.toml").write_text('[ranking]\nlower_is_better = ["latency"]\n')
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["ingest", str(path), "--db", "e.duckdb", "--quiet"])
    assert result.exit_code == 0, result.output
    with duckdb.connect("e.duckdb", read_only=True) as con:
        assert con.execute("SELECT model FROM leaderboard ORDER BY rank").fetchall() == [("fast",), ("slow",)]


@pytest.mark.parametrize("arguments", [["--help"], ["build", "--help"], ["flash", "plan", "--help"]])
def test_help_loads_no_numerical_library(arguments):
    """`effbench --help` answers without importing numpy, scipy or pandas (a third of a second, not two):
    the commands' modules load the analyses on first use."""
    code = ("import sys\nfrom effbench.cli import main\nsys.argv = ['effbench', *sys.argv[1:]]\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('numpy', 'scipy', 'pandas') if m in sys.modules), file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", code, *arguments], capture_output=True, text=True)
    assert "Usage" in result.stdout and result.stderr.strip().endswith("[]"), result.stderr
