"""Time each stage of `effbench build` on a bundled example, and the vectorised bootstrap against a loop.

Usage: python benchmarks/bench_build.py [--example mmlu-pro|livecodebench]
Prints one line per measurement; numbers depend on the machine (the README's come from 2 cores).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from effbench import pipeline, render, stats, store  # noqa: E402
from effbench.examples import EXAMPLES  # noqa: E402

import reference  # noqa: E402  (the independent loop used by the tests)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--example", default="mmlu-pro", choices=sorted(EXAMPLES))
    args = parser.parse_args()
    example = EXAMPLES[args.example]
    with tempfile.TemporaryDirectory() as folder:
        db, out = Path(folder) / "e.duckdb", Path(folder) / "site"
        started = time.perf_counter()
        with store.open_store(db) as con:
            store.ingest(con, pipeline.example_sources(example))
            loaded = time.perf_counter()
            matrix = store.results_matrix(con)
            pulled = time.perf_counter()
            result = stats.rank_intervals(matrix)
            boot = time.perf_counter()
            store.save_ranking(con, result, store.AnalysisParameters())
            saved = time.perf_counter()
            plan = render.site_pages(store.site_data(con), title="bench")
        files = render.write_site(plan, out, db)
        written = time.perf_counter()
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())

    frame = pd.read_csv(example.results_path, usecols=["model", "scenario", "item_id", "score"])
    loop_started = time.perf_counter()
    reference.bootstrap_rank_intervals(frame, n_resamples=1000)
    loop = time.perf_counter() - loop_started

    n_rows = len(frame)
    print(f"example: {args.example} ({n_rows:,} rows, {len(matrix.models)} models, {len(matrix.scenarios)} scenarios)")
    print(f"load into DuckDB:            {loaded - started:6.2f} s")
    print(f"results matrix from DuckDB:  {pulled - loaded:6.2f} s")
    print(f"bootstrap, 1,000 resamples:  {boot - pulled:6.2f} s")
    print(f"store analysis:              {saved - boot:6.2f} s")
    print(f"render and write site:       {written - saved:6.2f} s ({len(files)} files, {size / 1e6:.1f} MB)")
    print(f"total:                       {written - started:6.2f} s")
    print(f"straightforward loop bootstrap: {loop:.2f} s; vectorised is x{loop / (boot - pulled):.0f} faster")
    print(f"peak memory (max RSS):       {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
