"""Time the examples-per-scenario DIoR curve (9 levels x 1,000 draws) against a straightforward loop.

Usage: python benchmarks/bench_dior.py [--example mmlu-pro|livecodebench] [--draws 1000]
The loop (tests/reference.py) samples items, recomputes scores and calls scipy's kendalltau once
per draw; it runs the same levels and draws, so the printed ratio compares like with like.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from effbench import pipeline, reliability, store  # noqa: E402
from effbench.examples import EXAMPLES  # noqa: E402

import reference  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--example", default="mmlu-pro", choices=sorted(EXAMPLES))
    parser.add_argument("--draws", type=int, default=1000)
    args = parser.parse_args()
    example = EXAMPLES[args.example]
    with tempfile.TemporaryDirectory() as folder, store.open_store(Path(folder) / "e.duckdb") as con:
        store.ingest(con, pipeline.example_sources(example))
        results = store.results_matrix(con)

    started = time.perf_counter()
    result = reliability.dior(results, decisions=["examples"], metrics=["kendall_tau"], n_draws=args.draws)
    fast = time.perf_counter() - started
    levels = [r.level for r in result.rows]

    frame = pd.read_csv(example.results_path, usecols=["model", "scenario", "item_id", "score"])
    started = time.perf_counter()
    for level in levels:
        if level != "all":
            reference.examples_dior(frame, int(level), n_draws=args.draws)
    slow = time.perf_counter() - started

    print(f"example: {args.example}; examples curve: {len(levels)} levels x {args.draws:,} draws, Kendall tau")
    print(f"effbench (vectorised):     {fast:7.2f} s")
    print(f"straightforward loop:      {slow:7.2f} s")
    print(f"speed ratio:               x{slow / fast:.0f}")
    started = time.perf_counter()
    full = reliability.dior(results, n_draws=args.draws)
    print(f"every decision and meta-metric ({len(full.rows)} rows): {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main()
