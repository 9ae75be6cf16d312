"""Time the examples-per-scenario DIoR curve (9 levels x 1,000 draws) and the whole reliability analysis.

Usage: python benchmarks/bench_dior.py [--example mmlu-pro|livecodebench] [--draws 1000] [--smoke]
       python benchmarks/bench_dior.py --db board.duckdb [--draws 1000]
With --db (a database already loaded, e.g. by `effbench ingest` of an `effbench synth` board), it times
instead each step of the ranking and reliability stages on that board, one decision at a time, with
the peak memory so far: where the time of a leaderboard-sized build goes.
The loop it is compared with (`bench_engine.examples_loop`) is what one would write by hand: per level
and draw, shuffle each scenario with numpy, keep the first n items, take the macro mean and scipy's
kendalltau. It runs the same levels and draws, so the printed ratio compares like with like.
`benchmarks/bench_engine.py` also prints the BLAS floor of the products.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_engine import examples_loop  # noqa: E402

from effbench import analysis_tables, pipeline, reliability, stats, store  # noqa: E402
from effbench.examples import EXAMPLES  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--example", default="mmlu-pro", choices=sorted(EXAMPLES))
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--smoke", action="store_true", help="20 draws, to check that the script runs")
    parser.add_argument("--db", type=Path, help="Time the ranking and reliability steps on this loaded board.")
    args = parser.parse_args(argv)
    if args.db:
        stages_on(args.db, args.draws)
        return
    if args.smoke:
        args.draws = 20
    with tempfile.TemporaryDirectory() as folder, store.open_store(Path(folder) / "e.duckdb") as con:
        store.ingest(con, pipeline.example_sources(EXAMPLES[args.example]))
        results = analysis_tables.results_matrix(con)

    started = time.perf_counter()
    result = reliability.dior(results, decisions=["examples"], metrics=["kendall_tau"], n_draws=args.draws)
    fast = time.perf_counter() - started
    levels = [None if r.level == "all" else int(r.level) for r in result.rows]

    started = time.perf_counter()
    examples_loop(results, levels, args.draws, np.random.default_rng(0))
    slow = time.perf_counter() - started

    print(f"example: {args.example}; examples curve: {len(levels)} levels x {args.draws:,} draws, Kendall tau")
    print(f"effbench (vectorised):     {fast:7.2f} s")
    print(f"per-draw numpy loop:       {slow:7.2f} s")
    print(f"speed ratio:               x{slow / fast:.1f}")
    started = time.perf_counter()
    full = reliability.dior(results, n_draws=args.draws)
    print(f"every decision and meta-metric ({len(full.rows)} rows): {time.perf_counter() - started:.2f} s")


def stages_on(db: Path, draws: int) -> None:
    """Print the time and peak memory of each ranking and reliability step on the loaded board at `db`."""
    def timed(label: str, function):
        started = time.perf_counter()
        value = function()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{label:<32} {time.perf_counter() - started:8.1f} s   peak {peak:6.0f} MB", flush=True)
        return value

    with store.open_store(db, read_only=True) as con:
        results = timed("results_matrix", lambda: analysis_tables.results_matrix(con))
    print(f"{len(results.models):,} models, {len(results.scenarios)} scenarios, "
          f"{sum(m.shape[0] for m in results.scores):,} items")
    intervals = timed("rank_intervals (1,000 resamples)", lambda: stats.rank_intervals(results))
    timed("disagreements", lambda: reliability.disagreements(intervals))
    for decision in reliability.DECISIONS:
        timed(f"dior: {decision}", lambda d=decision: reliability.dior(results, decisions=[d], n_draws=draws))
    timed("mwr_instability", lambda: reliability.mwr_instability(results))


if __name__ == "__main__":
    main()
