"""Shared fixtures: small result files written on the fly, and the bundled example built once."""

from __future__ import annotations

import os

# One BLAS thread per test process (and the commands it runs), set before numpy loads OpenBLAS: the suite
# already runs a process per core, and BLAS threads waiting on a busy core made each small matrix product
# last milliseconds (the compare view's sign flips took most of a LiveCodeBench build).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import csv
import dataclasses
import fcntl
import gzip
import pickle
import shutil
from pathlib import Path

import duckdb
import pytest

from effbench import pipeline
from effbench.examples import EXAMPLES


def write_csv(path: Path, rows: list[dict], *, gz: bool = False) -> Path:
    """Write `rows` (dicts with the same keys) as a CSV file, gzipped when `gz`; return the path."""
    opener = gzip.open if gz else open
    with opener(path, "wt", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def long_rows(scores: dict[str, dict[str, list[float | None]]], **extra) -> list[dict]:
    """Rows of a long results file from {model: {scenario: [score per item]}}; None = blank."""
    rows = []
    for model, by_scenario in scores.items():
        for scenario, values in by_scenario.items():
            for i, value in enumerate(values):
                rows.append({"model": model, "scenario": scenario, "item_id": f"{scenario}-{i}",
                             "score": "" if value is None else value, **extra})
    return rows


def table_counts(db: Path) -> dict[str, int]:
    """Row count of every table in the database (a fingerprint of its state for 'left as it was' tests)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        counts = {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
        columns = con.execute("SELECT table_name, count(*) FROM duckdb_columns() GROUP BY 1").fetchall()
    finally:
        con.close()
    return {**counts, **{f"{t}.columns": n for t, n in columns}}


@pytest.fixture(autouse=True)
def fresh_default_connection():
    """Give each test its own `duckdb.sql`/`duckdb.execute` connection.

    DuckDB 2 refuses new work on a connection whose last result was not read to the end, so one
    test's unread `duckdb.execute(...)` would otherwise fail whichever test the same worker runs next.
    """
    connection = duckdb.connect()
    duckdb.set_default_connection(connection)
    yield
    connection.close()


@pytest.fixture
def small_results(tmp_path: Path) -> Path:
    """Three models, two scenarios of four items, with one blank score."""
    return write_csv(tmp_path / "small.csv", long_rows({
        "alpha": {"qa": [1, 1, 1, 0], "math": [1, 1, 0, 1]},
        "beta": {"qa": [1, 0, 1, 0], "math": [0, 1, None, 0]},
        "gamma": {"qa": [0, 0, 1, 0], "math": [0, 0, 0, 0]},
    }))


@pytest.fixture(scope="session")
def example_build(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> pipeline.BuildReport:
    """The MMLU-Pro example built once for the whole test run, as `effbench build` does.

    Under pytest-xdist the first worker to ask builds it into the run's shared folder, under a lock, and
    every worker gets its own copy of the database and site (a DuckDB file opened for writing in one
    process cannot be read in another), so the 20-odd seconds of the build are spent once, not per worker.
    """
    root = tmp_path_factory.mktemp("example")
    if worker_id == "master":
        return pipeline.build(root / "effbench.duckdb", root / "site")
    shared = tmp_path_factory.getbasetemp().parent / "example-build"  # this run's folder, above the workers'
    shared.mkdir(exist_ok=True)
    with open(shared / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (shared / "report.pickle").exists():
            report = pipeline.build(shared / "effbench.duckdb", shared / "site")
            (shared / "report.pickle").write_bytes(pickle.dumps(report))
        report = pickle.loads((shared / "report.pickle").read_bytes())
    shutil.copy2(shared / "effbench.duckdb", root / "effbench.duckdb")
    shutil.copytree(shared / "site", root / "site")
    return dataclasses.replace(report, out=root / "site")


@pytest.fixture(scope="session")
def mmlu_pro_path() -> Path:
    return EXAMPLES["mmlu-pro"].results_path


# DuckDB 1.4 lays out the blocks of a file it writes in an order that varies from one write to the next;
# from 2.0 on, the same contents give the same bytes, and the site's database copy is reproducible.
DUCKDB_WRITES_REPRODUCIBLY = int(duckdb.__version__.split(".")[0]) >= 2


def same_database(a: Path, b: Path) -> bool:
    """Whether two database files hold the same tables, views and rows (compared by content)."""
    def dump(path: Path) -> list:
        with duckdb.connect(str(path), read_only=True) as con:
            names = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()]
            views = con.execute("SELECT view_name, sql FROM duckdb_views() WHERE NOT internal ORDER BY 1").fetchall()
            return [views] + [(n, sorted(map(repr, con.execute(f'SELECT * FROM "{n}"').fetchall()))) for n in names]
    return dump(a) == dump(b)
