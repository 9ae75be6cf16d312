"""File names are names: a path the user gives, or one found in a folder, is read as that one file,
whatever glob characters it holds; only a pattern given with --glob is expanded, and the load says
what it matched."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from effbench.cli import app

from conftest import long_rows, write_csv

runner = CliRunner()


def results(path: Path, model: str) -> Path:
    return write_csv(path, long_rows({model: {"qa": [1, 0, 1]}, f"{model}-peer": {"qa": [0, 0, 1]}}))


def models_in(db: Path) -> set[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {row[0] for row in con.execute("SELECT DISTINCT model FROM scores").fetchall()}


def ingest(*args: str):
    return runner.invoke(app, ["ingest", *args])


@pytest.mark.parametrize("name, sibling", [("run[1].csv", "run1.csv"), ("*.csv", "other.csv"),
                                           ("r?.csv", "r1.csv"), ("[ab].csv", "a.csv")])
def test_a_named_file_is_read_alone_whatever_its_name(tmp_path, name, sibling):
    target = results(tmp_path / name, "named")
    results(tmp_path / sibling, "sibling")
    db = tmp_path / "e.duckdb"
    result = ingest(str(target), "--db", str(db))
    assert result.exit_code == 0, result.output
    assert models_in(db) == {"named", "named-peer"}


def test_a_parquet_file_named_like_a_pattern_is_read_alone(tmp_path):
    for name, model in (("r?.parquet", "named"), ("r1.parquet", "sibling")):
        duckdb.execute(f"COPY (SELECT '{model}' AS model, 'qa' AS scenario, CAST(i AS VARCHAR) AS item_id, "
                       f"i % 2 AS score FROM range(4) t(i) UNION ALL SELECT '{model}-peer', 'qa', CAST(i AS VARCHAR),"
                       f" 1 FROM range(4) t(i)) TO '{tmp_path / name}' (FORMAT parquet)")
    db = tmp_path / "e.duckdb"
    result = ingest(str(tmp_path / "r?.parquet"), "--db", str(db))
    assert result.exit_code == 0, result.output
    assert models_in(db) == {"named", "named-peer"}


def test_a_folder_with_a_name_and_its_glob_twin_loads_both(tmp_path):
    folder = tmp_path / "runs"
    folder.mkdir()
    results(folder / "a[0].csv", "bracket")
    results(folder / "a0.csv", "plain")
    db = tmp_path / "e.duckdb"
    result = ingest(str(folder), "--db", str(db))
    assert result.exit_code == 0, result.output
    assert models_in(db) == {"bracket", "bracket-peer", "plain", "plain-peer"}


def test_a_folder_whose_own_name_holds_glob_characters(tmp_path):
    folder = tmp_path / "suite[v1]"
    folder.mkdir()
    results(folder / "a.csv", "inside")
    (tmp_path / "suitev").mkdir()
    results(tmp_path / "suitev" / "a.csv", "twin")
    db = tmp_path / "e.duckdb"
    assert ingest(str(folder / "a.csv"), "--db", str(db)).exit_code == 0
    assert models_in(db) == {"inside", "inside-peer"}


def test_glob_expands_and_the_load_lists_what_it_matched(tmp_path):
    for name in ("x1.csv", "x2.csv", "y.csv"):
        results(tmp_path / name, name.removesuffix(".csv"))
    db = tmp_path / "e.duckdb"
    result = ingest("--glob", str(tmp_path / "x*.csv"), "--db", str(db))
    assert result.exit_code == 0, result.output
    assert models_in(db) == {"x1", "x1-peer", "x2", "x2-peer"}
    assert f"matched 2 file(s): {tmp_path / 'x1.csv'}, {tmp_path / 'x2.csv'}" in result.stderr


def test_a_glob_that_matches_nothing_is_an_error(tmp_path):
    result = ingest("--glob", str(tmp_path / "none*.csv"), "--db", str(tmp_path / "e.duckdb"))
    assert result.exit_code == 1 and "matches no file" in result.stderr
    assert not (tmp_path / "e.duckdb").exists()


TITLE_AND_CLEAR = "\x1b]0;owned\x07\x1b[2J\x9b31m\r"  # set the window title, clear the screen, C1 CSI, CR


def test_control_characters_in_paths_print_escaped(tmp_path):
    folder = tmp_path / f"in{TITLE_AND_CLEAR}side"
    folder.mkdir()
    good = results(folder / f"ok{TITLE_AND_CLEAR}.csv", "named")
    bad = folder / f"bad{TITLE_AND_CLEAR}.csv"
    bad.write_text("model,scenario,item_id,score\nx,qa,1,hello\n")
    db = tmp_path / "e.duckdb"
    loaded = ingest(str(good), "--db", str(db))
    refused = ingest(str(bad), "--db", str(db))
    assert loaded.exit_code == 0 and refused.exit_code == 1
    for output in (loaded.stderr, refused.stderr):
        assert not any(ch in output for ch in "\x1b\x07\x9b\r"), repr(output)
        assert "\\x1b]0;owned\\x07\\x1b[2J\\x9b31m\\r" in output
    assert len(refused.stderr.splitlines()) == 1


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_folders_named_key_value_add_no_column_to_a_named_file(tmp_path, suffix):
    """DuckDB reads folders named key=value as columns by default; a file named alone is read as it is."""
    folder = tmp_path / "model=from-folder" / "seed=1"
    folder.mkdir(parents=True)
    path = results(folder / "r.csv", "in-file")
    if suffix == "parquet":
        duckdb.execute(f"COPY (SELECT * FROM read_csv('{path}', hive_partitioning = false))"
                       f" TO '{folder / 'r.parquet'}' (FORMAT parquet)")
        path = folder / "r.parquet"
    db = tmp_path / "e.duckdb"
    result = ingest(str(path), "--db", str(db))
    assert result.exit_code == 0, result.output
    assert models_in(db) == {"in-file", "in-file-peer"}
    with duckdb.connect(str(db), read_only=True) as con:
        columns = {row[0] for row in con.execute("DESCRIBE scores").fetchall()}
    assert not {"seed", "extra"} & columns
