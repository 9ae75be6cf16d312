"""Time the leave-one-out Flash simulation of every variant over several item orders and print its figures.

Usage: python benchmarks/bench_flash.py [--example mmlu-pro|livecodebench] [--seeds 5] [--smoke]

Each variant is what `effbench build` replays for the site (and `effbench flash simulate --seeds N`
prints): the mean compute saving over the item orders with its range, the share of replays within
the resolution of both the reported and the true tier, the replays that used every item, the largest
rank error and the interval coverage, with wall-clock and CPU seconds. `--smoke` runs a tiny
synthetic board with one order, for the tests.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from effbench import flash, pipeline, store
from effbench.examples import EXAMPLES
from effbench.stats import ResultsMatrix


def smoke_results() -> ResultsMatrix:
    """Eight models, three scenarios of 120 items: a board small enough to replay in a second."""
    rng = np.random.default_rng(0)
    accuracy = np.linspace(0.2, 0.9, 8)
    items = tuple((rng.random((120, accuracy.size)) < accuracy).astype(float) for _ in range(3))
    return ResultsMatrix(tuple(f"model-{i}" for i in range(accuracy.size)), ("a", "b", "c"), items, (True,) * 3)


def example_results(name: str) -> ResultsMatrix:
    with tempfile.TemporaryDirectory() as folder, store.open_store(Path(folder) / "e.duckdb") as con:
        store.ingest(con, pipeline.example_sources(EXAMPLES[name]))
        return flash.item_level(store.results_matrix(con))


def main(argv: list[str] | None = None) -> list[flash.FlashSummary]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--example", default="mmlu-pro", choices=sorted(EXAMPLES))
    parser.add_argument("--seeds", type=int, default=flash.FlashConfig().seeds)
    parser.add_argument("--smoke", action="store_true", help="a tiny synthetic board, one item order")
    args = parser.parse_args(argv)
    results = smoke_results() if args.smoke else example_results(args.example)
    seeds = 1 if args.smoke else args.seeds
    label = "smoke" if args.smoke else args.example
    print(f"example: {label} ({len(results.models)} models, leave-one-out, {seeds} item orders)")
    summaries = []
    total_wall = total_cpu = 0.0
    for config in flash.comparison_configs(flash.FlashConfig(seeds=seeds)):
        wall, cpu = time.perf_counter(), time.process_time()
        s = flash.simulate(results, config=config).summary
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        total_wall, total_cpu = total_wall + wall, total_cpu + cpu
        summaries.append(s)
        print(f"{s.variant:<26} {wall:6.2f} s wall {cpu:6.2f} s CPU   saving x{s.saving:.1f} "
              f"(x{s.saving_lo:.1f}-x{s.saving_hi:.1f}), {s.within_resolution:.1%} within resolution "
              f"({s.n_every_item} of {s.n_replays} used every item), largest error {s.largest_error}, "
              f"interval coverage {s.coverage:.1%}")
    print(f"{'all variants':<26} {total_wall:6.2f} s wall {total_cpu:6.2f} s CPU")
    return summaries


if __name__ == "__main__":
    main()
