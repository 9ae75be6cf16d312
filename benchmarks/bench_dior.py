"""Time the examples-per-scenario DIoR curve (9 levels x 1,000 draws) and the whole reliability analysis.

Usage: python benchmarks/bench_dior.py [--example mmlu-pro|livecodebench] [--draws 1000] [--smoke]
The loop it is compared with (`bench_engine.examples_loop`) is what one would write by hand: per level
and draw, shuffle each scenario with numpy, keep the first n items, take the macro mean and scipy's
kendalltau. It runs the same levels and draws, so the printed ratio compares like with like.
`benchmarks/bench_engine.py` also prints the BLAS floor of the products.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_engine import examples_loop  # noqa: E402

from effbench import pipeline, reliability, store  # noqa: E402
from effbench.examples import EXAMPLES  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--example", default="mmlu-pro", choices=sorted(EXAMPLES))
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--smoke", action="store_true", help="20 draws, to check that the script runs")
    args = parser.parse_args(argv)
    if args.smoke:
        args.draws = 20
    with tempfile.TemporaryDirectory() as folder, store.open_store(Path(folder) / "e.duckdb") as con:
        store.ingest(con, pipeline.example_sources(EXAMPLES[args.example]))
        results = store.results_matrix(con)

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


if __name__ == "__main__":
    main()
