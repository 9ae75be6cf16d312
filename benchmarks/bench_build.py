"""Time each stage of `effbench build` on a bundled example.

Usage: python benchmarks/bench_build.py [--example mmlu-pro|livecodebench] [--smoke]
Prints one line per measurement; numbers depend on the machine (the README's come from 2 cores).
`benchmarks/bench_engine.py` compares the bootstrap with a per-resample loop and the BLAS floor.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

from effbench import analysis_tables, pipeline, queries, reliability, render, stats, store
from effbench.examples import EXAMPLES


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--example", default="mmlu-pro", choices=sorted(EXAMPLES))
    parser.add_argument("--smoke", action="store_true", help="50 resamples, to check that the script runs")
    args = parser.parse_args(argv)
    n_resamples = 50 if args.smoke else 1000
    example = EXAMPLES[args.example]
    with tempfile.TemporaryDirectory() as folder:
        db, out = Path(folder) / "e.duckdb", Path(folder) / "site"
        started = time.perf_counter()
        with store.open_store(db) as con:
            store.ingest(con, pipeline.example_sources(example))
            loaded = time.perf_counter()
            matrix = analysis_tables.results_matrix(con)
            pulled = time.perf_counter()
            result = stats.rank_intervals(matrix, n_resamples=n_resamples)
            boot = time.perf_counter()
            board = pipeline.refresh_boards(con, analysis_tables.model_sets(con))[0]
            analysis_tables.save_ranking(con, result, reliability.disagreements(result),
                               analysis_tables.AnalysisParameters(n_resamples=n_resamples), board)
            saved = time.perf_counter()
            plan = render.site_pages(queries.site_data(con, board), title="bench")
        files = render.write_site(plan, out, db)
        written = time.perf_counter()
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())

    n_rows = sum(int((~np.isnan(m)).sum()) for m in matrix.scores)
    print(f"example: {args.example} ({n_rows:,} scored cells, {len(matrix.models)} models, "
          f"{len(matrix.scenarios)} scenarios)")
    print(f"load into DuckDB:            {loaded - started:6.2f} s")
    print(f"results matrix from DuckDB:  {pulled - loaded:6.2f} s")
    print(f"rank intervals, {n_resamples:,} resamples: {boot - pulled:6.2f} s")
    print(f"store analysis:              {saved - boot:6.2f} s")
    print(f"render and write site:       {written - saved:6.2f} s ({len(files)} files, {size / 1e6:.1f} MB)")
    print(f"total:                       {written - started:6.2f} s")
    print(f"peak memory (max RSS):       {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
