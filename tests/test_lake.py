"""Results lakes: Parquet files found in one folder, or matched by one --glob pattern, are read in place in
one DuckDB scan, folders named key=value giving columns; each file is still a sources row of its own, and a
file the load refuses is named."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from effbench.cli import app

from conftest import long_rows, table_counts, write_csv

runner = CliRunner()
MODELS = {"alpha": {"qa": [1, 1, 0, 1], "math": [1, 0, 1, 1]},
          "beta": {"qa": [0, 1, 0, 0], "math": [1, 0, None, 0]},
          "gamma": {"qa": [0, 0, 1, 0], "math": [0, 0, 0, 1]}}


def effbench(*args: str):
    return runner.invoke(app, [*args])


def write_parquet(path: Path, rows: list[dict], drop: tuple[str, ...] = ()) -> Path:
    """Write `rows` as Parquet at `path`, leaving out the columns `drop` (which the folder names give)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    csv = write_csv(path.with_suffix(".csv.tmp"), rows)
    columns = ", ".join(f'"{name}"' for name in rows[0] if name not in drop)
    duckdb.execute(f"COPY (SELECT {columns} FROM read_csv('{csv}', all_varchar = true, hive_partitioning = false))"
                   f" TO '{path}' (FORMAT parquet)")
    csv.unlink()
    return path


def hive_lake(root: Path, models: dict = MODELS) -> Path:
    """One file per scenario and model, scenario and model only in the folder names."""
    for model, by_scenario in models.items():
        for scenario, values in by_scenario.items():
            write_parquet(root / f"scenario={scenario}" / f"model={model}" / "part-0.parquet",
                          long_rows({model: {scenario: values}}), drop=("model", "scenario"))
    return root


def query(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


RESULTS = "SELECT model, scenario, item_id, CAST(score AS DOUBLE) FROM scores ORDER BY ALL"


def test_a_hive_folder_is_one_table_with_its_partition_columns(tmp_path):
    lake = hive_lake(tmp_path / "lake")
    db = tmp_path / "e.duckdb"
    result = effbench("ingest", str(lake), "--db", str(db))
    assert result.exit_code == 0, result.output
    assert f"{lake}: loaded 24 rows (long)" in result.stderr
    assert "6 Parquet file(s) read in one scan; partition columns from folder names: scenario, model" in result.stderr
    # One sources row per file, with its own digest and rows; every result names its file.
    sources = query(db, "SELECT path, rows, options->>'lake', options->>'partitions' FROM sources ORDER BY path")
    assert len(sources) == 6 and {row[1] for row in sources} == {4}
    assert sources[0][0] == str(lake / "scenario=math" / "model=alpha" / "part-0.parquet")
    assert sources[0][2:] == (str(lake), '{"model": "alpha", "scenario": "math"}')
    assert query(db, "SELECT count(*) FROM scores JOIN sources USING (source_id)"
                     " WHERE NOT contains(path, 'scenario=' || scenario || '/model=' || model)") == [(0,)]


def test_a_lake_loads_the_same_as_its_rows_in_one_csv(tmp_path):
    lake_db, csv_db = tmp_path / "lake.duckdb", tmp_path / "csv.duckdb"
    assert effbench("build", str(hive_lake(tmp_path / "lake")), "--db", str(lake_db), "--out",
                    str(tmp_path / "s1")).exit_code == 0
    assert effbench("build", str(write_csv(tmp_path / "all.csv", long_rows(MODELS))), "--db", str(csv_db), "--out",
                    str(tmp_path / "s2")).exit_code == 0
    assert query(lake_db, RESULTS) == query(csv_db, RESULTS)
    ranking = "SELECT model, rank, rank_lo, rank_hi FROM leaderboard ORDER BY model"
    assert query(lake_db, ranking) == query(csv_db, ranking)


def test_a_glob_reads_files_of_differing_columns_in_one_scan(tmp_path):
    write_parquet(tmp_path / "runs" / "a.parquet", long_rows({"alpha": MODELS["alpha"]}))
    # Other column order, and an extra column the first file lacks: columns are matched by name.
    rows = [{"score": r["score"], "item_id": r["item_id"], "judge": "j1", "scenario": r["scenario"],
             "model": r["model"]} for r in long_rows({"beta": MODELS["beta"]})]
    write_parquet(tmp_path / "runs" / "deeper" / "b.parquet", rows)
    write_csv(tmp_path / "runs" / "c.csv", long_rows({"gamma": MODELS["gamma"]}))
    db = tmp_path / "e.duckdb"
    pattern = str(tmp_path / "runs" / "**" / "*.parquet")
    result = effbench("ingest", "--glob", pattern, "--db", str(db))
    assert result.exit_code == 0, result.output
    assert f"--glob {pattern}: matched 2 file(s)" in result.stderr
    assert f"{pattern}: loaded 16 rows (long)" in result.stderr
    assert "2 Parquet file(s) read in one scan" in result.stderr
    assert query(db, "SELECT model, count(*), count(extra->>'judge') FROM scores GROUP BY model ORDER BY model") == [
        ("alpha", 8, 0), ("beta", 8, 8)]
    assert query(db, "SELECT count(*) FROM sources") == [(2,)]


def test_a_file_added_to_the_lake_loads_alone(tmp_path):
    lake = hive_lake(tmp_path / "lake", {"alpha": MODELS["alpha"], "beta": MODELS["beta"]})
    db = tmp_path / "e.duckdb"
    assert effbench("ingest", str(lake), "--db", str(db)).exit_code == 0
    hive_lake(lake, {"gamma": MODELS["gamma"]})
    result = effbench("ingest", str(lake), "--db", str(db))
    assert result.exit_code == 0, result.output
    assert f"{lake}: loaded 8 rows (long)" in result.stderr and "4 file(s) already loaded, skipped" in result.stderr
    assert query(db, "SELECT count(*), count(DISTINCT source_id) FROM scores") == [(24, 6)]


def test_equal_bytes_in_two_partitions_are_two_files(tmp_path):
    """A file's rows are its bytes and its folders' values: the same bytes for two models load twice."""
    same = {"alpha": {"qa": [1, 0, 1]}, "beta": {"qa": [1, 0, 1]}, "gamma": {"qa": [0, 0, 1]}}
    lake = hive_lake(tmp_path / "lake", same)
    db = tmp_path / "e.duckdb"
    assert effbench("ingest", str(lake), "--db", str(db)).exit_code == 0
    assert query(db, "SELECT count(DISTINCT model), count(DISTINCT sha256) FROM scores JOIN sources USING (source_id)"
                 ) == [(3, 2)]


def refused(tmp_path: Path, lake: Path) -> tuple[str, dict, dict]:
    """Load a good file first, then `lake`; return the one error line and the table counts before and after."""
    db = tmp_path / "e.duckdb"
    good = write_csv(tmp_path / "first.csv", long_rows({"first": {"qa": [1, 0]}, "second": {"qa": [0, 0]}}))
    assert effbench("ingest", str(good), "--db", str(db)).exit_code == 0
    before = table_counts(db)
    result = effbench("ingest", str(lake), "--db", str(db))
    assert result.exit_code == 1 and len(result.stderr.splitlines()) == 1, result.stderr
    return result.stderr.strip(), before, table_counts(db)


def test_a_bad_score_in_one_file_names_that_file(tmp_path):
    lake = hive_lake(tmp_path / "lake")
    bad = lake / "scenario=qa" / "model=beta" / "part-0.parquet"
    write_parquet(bad, [{"item_id": "qa-0", "score": "hello"}])
    line, before, after = refused(tmp_path, lake)
    assert line == f"effbench: error: {bad}: column 'score' has 1 value(s) that are not numbers, e.g. 'hello'"
    assert after == before


def test_a_file_that_is_not_parquet_is_named(tmp_path):
    lake = hive_lake(tmp_path / "lake")
    bad = lake / "scenario=qa" / "model=zeta" / "part-0.parquet"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"model,scenario\n" * 10)
    line, before, after = refused(tmp_path, lake)
    assert line.startswith(f"effbench: error: {bad}: cannot be read as Parquet: ")
    assert after == before


def test_a_row_repeated_across_files_names_the_later_file(tmp_path):
    lake = hive_lake(tmp_path / "lake")
    later = write_parquet(lake / "scenario=qa" / "model=beta" / "part-1.parquet", [{"item_id": "qa-2", "score": "1"}])
    line, before, after = refused(tmp_path, lake)
    assert line.startswith(f"effbench: error: {later}: 1 (model, scenario, item_id) value(s) appear more than once")
    assert after == before


def test_a_file_without_a_needed_column_is_named(tmp_path):
    lake = hive_lake(tmp_path / "lake")
    bare = write_parquet(lake / "scenario=qa" / "extra.parquet", [{"item_id": "x", "score": "1"}])
    line, _, _ = refused(tmp_path, lake)
    assert line == (f"effbench: error: {bare}: no column 'model', in the file or as a folder named model=VALUE "
                    "above it; name the right one with --model-col")


def test_a_folder_disagreeing_with_its_file_is_refused(tmp_path):
    lake = tmp_path / "lake"
    wrong = write_parquet(lake / "model=alpha" / "r.parquet", long_rows({"beta": {"qa": [1, 0]}}))
    line, _, _ = refused(tmp_path, lake)
    assert line == (f"effbench: error: {wrong}: column 'model' holds 'beta', which differs from its folder "
                    "model=alpha; a column and a partition folder of the same name must agree")


def test_key_value_folders_not_meant_as_partitions(tmp_path):
    """As documented: CSV files, and files named alone, take nothing from their folders; a Parquet file found
    in a folder takes its key=value folders as columns (kept in `extra`, or told apart with --key); a
    folder name that is no plain key (HELM's run names) is no partition."""
    csv = write_csv((tmp_path / "csv" / "seed=1").mkdir(parents=True) or tmp_path / "csv" / "seed=1" / "a.csv",
                    long_rows({"csv": {"qa": [1, 0]}, "csv2": {"qa": [0, 0]}}))
    helm = write_parquet(tmp_path / "helm" / "mmlu:subject=anatomy,model=x" / "q.parquet",
                         long_rows({"helm-like": {"qa": [0, 1]}, "helm2": {"qa": [1, 1]}}))
    for folder in (csv.parent.parent, helm.parent.parent):
        db = tmp_path / f"{folder.name}.duckdb"
        assert effbench("ingest", str(folder), "--db", str(db)).exit_code == 0
        assert not {"seed", "subject", "extra"} & {row[0] for row in query(db, "DESCRIBE scores")}
        assert query(db, "SELECT count(*) FROM sources WHERE options->>'partitions' IS NOT NULL") == [(0,)]
    runs = tmp_path / "runs"
    for seed in ("1", "2"):
        write_parquet(runs / f"seed={seed}" / "p.parquet", long_rows({"pq": {"qa": [1, 0]}, "pq2": {"qa": [0, 1]}}))
    db = tmp_path / "e.duckdb"
    result = effbench("ingest", str(runs), "--db", str(db))
    assert result.exit_code == 1 and "appear more than once" in result.stderr and "--key" in result.stderr
    result = effbench("ingest", str(runs), "--db", str(db), "--key", "seed")
    assert result.exit_code == 0, result.output
    assert query(db, "SELECT model, seed, count(*) FROM scores GROUP BY ALL ORDER BY ALL") == [
        ("pq", "1", 2), ("pq", "2", 2), ("pq2", "1", 2), ("pq2", "2", 2)]
    alone = tmp_path / "alone.duckdb"
    named = effbench("ingest", str(runs / "seed=1" / "p.parquet"), "--db", str(alone))
    assert named.exit_code == 0 and "seed" not in {row[0] for row in query(alone, "DESCRIBE scores")}


def test_a_file_of_a_hive_lake_named_alone_lacks_its_folder_columns(tmp_path):
    lake = hive_lake(tmp_path / "lake")
    path = lake / "scenario=qa" / "model=alpha" / "part-0.parquet"
    result = effbench("ingest", str(path), "--db", str(tmp_path / "e.duckdb"))
    assert result.exit_code == 1 and f"{path}: no column 'model'" in result.stderr


def test_lake_benchmark_smoke():
    """benchmarks/bench_lake.py runs; every file of the lake is a sources row and every row is loaded."""
    script = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_lake.py"
    result = subprocess.run([sys.executable, str(script), "--smoke"], capture_output=True, text=True, check=True)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("lake of 1,000 rows in 20 files")
    assert [line.split()[-6:-4] for line in lines[2:]] == [["1,000", "20"], ["1,000", "20"], ["1,000", "1"]]


@pytest.mark.parametrize("command", ["build", "ingest"])
def test_both_loading_commands_say_what_glob_does_to_parquet(command):
    assert "one scan" in " ".join(effbench(command, "--help").output.split())
