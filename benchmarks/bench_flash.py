"""Time the leave-one-out Flash simulation and print its figures for every variant.

Usage: python benchmarks/bench_flash.py [--example mmlu-pro|livecodebench]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from effbench import flash, pipeline, store
from effbench.examples import EXAMPLES


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--example", default="mmlu-pro", choices=sorted(EXAMPLES))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, store.open_store(Path(folder) / "e.duckdb") as con:
        store.ingest(con, pipeline.example_sources(EXAMPLES[args.example]))
        results = flash.item_level(store.results_matrix(con))
    print(f"example: {args.example} ({len(results.models)} models, leave-one-out)")
    for name, order, correction in flash.VARIANTS:
        started = time.perf_counter()
        simulation = flash.simulate(results, config=flash.FlashConfig(order=order, correction=correction),
                                    variant=name)
        seconds = time.perf_counter() - started
        s = simulation.summary
        print(f"{name:<28} {seconds:5.2f} s   saving x{s.saving:.1f}, {s.within_resolution:.0%} within resolution, "
              f"largest error {s.largest_error}, interval coverage {s.coverage:.0%}")


if __name__ == "__main__":
    main()
