"""Peak memory and time of loading a one-row file with many extra columns into a loaded database.

Extra columns of result files are kept in one JSON column, so memory must not grow with extra
columns x rows already loaded (each added column of `scores` used to cost a full column of it).
Each load runs in its own process, which reports its peak resident memory.

    python benchmarks/bench_wide.py            # into the MMLU-Pro example (347,215 rows)
    python benchmarks/bench_wide.py --smoke    # a tiny database, for the tests
"""

from __future__ import annotations

import argparse
import csv
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from effbench import store
from effbench.examples import get_example
from effbench.load import Source

CHILD = """
import resource, sys, time
from pathlib import Path
from effbench import store
from effbench.load import Source
start = time.perf_counter()
with store.open_store(Path(sys.argv[1])) as con:
    store.ingest(con, [Source(Path(sys.argv[2]))])
    columns = con.execute("SELECT count(*) FROM duckdb_columns() WHERE table_name = 'scores'").fetchone()[0]
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, time.perf_counter() - start, columns)
"""


def wide_file(path: Path, n_extra: int) -> Path:
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["model", "scenario", "item_id", "score", *(f"extra_{i}" for i in range(n_extra))])
        writer.writerow(["wide-model", "wide-scenario", "1", 1, *range(n_extra)])
    return path


def base_database(folder: Path, smoke: bool) -> tuple[Path, int]:
    db = folder / "base.duckdb"
    if smoke:
        results = folder / "small.csv"
        with open(results, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["model", "scenario", "item_id", "score"])
            writer.writerows([m, "qa", i, (i + len(m)) % 2] for m in ("a", "bb", "ccc") for i in range(20))
        sources = [Source(results)]
    else:
        sources = [Source(get_example("mmlu-pro").results_path)]
    with store.open_store(db) as con:
        store.ingest(con, sources)
        rows = con.execute("SELECT count(*) FROM scores").fetchone()[0]
    return db, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a tiny database and few columns (for the tests)")
    args = parser.parse_args()
    counts = (0, 100) if args.smoke else (0, 1000, 10000)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        base, rows = base_database(folder, args.smoke)
        print(f"database with {rows:,} rows; loading one row with N extra columns")
        print(f"{'N':>6} {'peak memory':>12} {'time':>7} {'scores columns':>15}")
        for n_extra in counts:
            db = folder / f"db-{n_extra}.duckdb"
            shutil.copyfile(base, db)
            path = wide_file(folder / f"wide-{n_extra}.csv", n_extra)
            result = subprocess.run([sys.executable, "-c", CHILD, str(db), str(path)], capture_output=True,
                                    text=True, check=True)
            peak_kb, seconds, columns = result.stdout.split()
            print(f"{n_extra:>6} {int(peak_kb) / 1024:>9.0f} MB {float(seconds):>6.1f}s {columns:>15}")


if __name__ == "__main__":
    main()
