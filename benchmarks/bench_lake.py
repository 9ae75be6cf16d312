"""Rows per second and peak memory of loading a results lake: Parquet files read in place, in one scan.

A Hive-partitioned folder (scenario=S/model=M/part-0.parquet, the partition columns only in the folder
names) is loaded as a folder and with --glob, and the same rows as one Parquet file, for comparison.
Each load runs in a process of its own, which reports its peak resident memory; the files are never
copied to a staging place first, so memory stays far below the lake's size in rows.

    python benchmarks/bench_lake.py            # 2,000,000 rows in 200 files (4 scenarios x 50 models)
    python benchmarks/bench_lake.py --smoke    # 1,000 rows in 20 files, for the tests
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb

CHILD = """
import resource, sys, time
from pathlib import Path
from effbench import pipeline, store
start = time.perf_counter()
paths, globs = ([Path(sys.argv[2])], ()) if sys.argv[3] == "path" else ([], pipeline.expand_globs([sys.argv[2]]))
with store.open_store(Path(sys.argv[1])) as con:
    reports = store.ingest(con, pipeline.result_sources(paths, globs=globs))
    rows = con.execute("SELECT count(*) FROM scores").fetchone()[0]
    files = con.execute("SELECT count(*) FROM sources").fetchone()[0]
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, time.perf_counter() - start, rows, files)
"""


def write_lake(folder: Path, n_scenarios: int, n_models: int, n_items: int) -> tuple[Path, Path, int]:
    """Write the lake (one file per scenario x model, partition columns in the folder names only) and the
    same rows as one Parquet file; return both paths and the number of rows."""
    rows = (f"SELECT 's' || s AS scenario, 'm' || m AS model, 'item-' || i AS item_id,"
            f" CAST(hash(s, m, i) % 2 AS DOUBLE) AS score FROM range({n_scenarios}) a(s), range({n_models}) b(m),"
            f" range({n_items}) c(i)")
    lake, single = folder / "lake", folder / "single.parquet"
    with duckdb.connect() as con:
        con.execute(f"COPY ({rows}) TO '{lake}' (FORMAT parquet, PARTITION_BY (scenario, model))")
        con.execute(f"COPY ({rows}) TO '{single}' (FORMAT parquet)")
    return lake, single, n_scenarios * n_models * n_items


def measure(folder: Path, name: str, target: str, how: str) -> tuple[float, float, int, int]:
    """Load `target` into a new database in a child process; return (peak MB, seconds, rows, sources rows)."""
    db = folder / f"{name}.duckdb"
    done = subprocess.run([sys.executable, "-c", CHILD, str(db), target, how], capture_output=True, text=True,
                          check=True)
    peak_kb, seconds, rows, files = done.stdout.splitlines()[-1].split()  # after any progress bar of DuckDB
    return int(peak_kb) / 1024, float(seconds), int(rows), int(files)


def main(argv: list[str] | None = None) -> list[tuple[str, float, float, int, int]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a tiny lake (for the tests)")
    args = parser.parse_args(argv)
    shape = (2, 10, 50) if args.smoke else (4, 50, 10_000)
    measured = []
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        lake, single, n_rows = write_lake(folder, *shape)
        n_files = len(list(lake.rglob("*.parquet")))
        print(f"lake of {n_rows:,} rows in {n_files:,} files; one load per process")
        print(f"{'read as':<22} {'rows':>11} {'sources':>8} {'time':>7} {'rows/s':>11} {'peak memory':>12}")
        for label, target, how in (("Hive folder", lake, "path"), ("--glob '**/*.parquet'", f"{lake}/**/*.parquet",
                                   "glob"), ("one Parquet file", single, "path")):
            peak, seconds, rows, files = measure(folder, label.split()[0].strip("-'"), str(target), how)
            print(f"{label:<22} {rows:>11,} {files:>8,} {seconds:>6.1f}s {rows / seconds:>11,.0f} {peak:>9.0f} MB")
            measured.append((label, peak, seconds, rows, files))
    return measured


if __name__ == "__main__":
    main()
