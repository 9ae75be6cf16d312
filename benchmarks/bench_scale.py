"""Run the whole first `effbench build` at leaderboard sizes; print each stage's time and the peak memory.

Usage: python benchmarks/bench_scale.py [--size NAME ...] [--smoke] [--smoke-scenarios]

Sizes (the targets of a 2-core, 24 GB machine in brackets):
  mmlu-pro   the bundled example, 29 models x 12,032 items           [first build < 15 s, rebuild < 2 s]
  4k-250     4,000 models x 250 items, one scenario, from `effbench synth`          [build < 2 min]
  120m       4,000 models x 30,000 items in 6 scenarios: 120 million results   [< 10 min, < 8 GB]
  3k-scen    20 models x 3,000 scenarios of 10 items: per-scenario work              [build < 2 min]
Each size runs in a fresh Python process, so its peak memory (max RSS) is its own. Each stage shows its
wall time and the processor time the process spent in it (a machine busy with other work lengthens the
first only). The synthetic boards are written first in that process (not timed with the build; writing
peaks lower than building, 2.9 GB at 120m). The rebuild is timed inside the process, without starting Python.
`--smoke` builds a 40 x 120 board only, to check that the script runs; `--smoke-scenarios` a board of 5
models x 120 scenarios of 2 items (more scenarios than the reliability page shows the agreement of).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# The checkout this script is in, not an installed effbench, is what it measures (its subprocesses too).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SIZES = {
    "mmlu-pro": None,
    "4k-250": {"n_models": 4000, "n_items": 250, "n_scenarios": 1},
    "120m": {"n_models": 4000, "n_items": 30000, "n_scenarios": 6},
    "3k-scen": {"n_models": 20, "n_items": 30000, "n_scenarios": 3000},
    "smoke": {"n_models": 40, "n_items": 120, "n_scenarios": 2},
    "smoke-scenarios": {"n_models": 5, "n_items": 240, "n_scenarios": 120},
}
DEFAULT_SIZES = ["mmlu-pro", "4k-250", "120m", "3k-scen"]


def run_size(name: str, folder: Path) -> dict:
    """Build size `name` in `folder` (this process) and return its measurements."""
    from effbench import pipeline, progress, synth

    shape = SIZES[name]
    sources, written = [], 0.0
    if shape is not None:
        board = folder / "board.parquet"
        started = time.perf_counter()
        rows = synth.write(synth.SynthSpec(**shape, seed=0), board)
        written = time.perf_counter() - started
        sources = pipeline.result_sources([board])
    db, out = folder / "e.duckdb", folder / "site"
    with progress.reporting(show=False) as times:
        started = time.perf_counter()
        report = pipeline.build(db, out, sources, example="mmlu-pro" if shape is None else None)
        first = time.perf_counter() - started
    started = time.perf_counter()
    pipeline.build(db, out, sources, example="mmlu-pro" if shape is None else None)
    rebuild = time.perf_counter() - started
    files = [p for p in out.rglob("*") if p.is_file()]
    return {
        "size": name, "models": report.update.n_models,
        "rows": rows if shape is not None else sum(load.rows for load in report.update.loads),
        "synth_seconds": written, "stages": times.stages, "cpu_stages": times.cpu, "first_build_seconds": first,
        "rebuild_seconds": rebuild, "files": len(files), "site_mb": sum(p.stat().st_size for p in files) / 1e6,
        "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", action="append", choices=sorted(SIZES), help="Repeatable; default all four.")
    parser.add_argument("--smoke", action="store_true", help="A 40 x 120 board only.")
    parser.add_argument("--smoke-scenarios", action="store_true", help="A board of 120 small scenarios only.")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: run one size in this process
    args = parser.parse_args(argv)
    if args.one:
        with tempfile.TemporaryDirectory() as folder:
            print(json.dumps(run_size(args.one, Path(folder))))
        return []
    sizes = ["smoke"] if args.smoke else ["smoke-scenarios"] if args.smoke_scenarios else (args.size or DEFAULT_SIZES)
    results = []
    for name in sizes:
        done = subprocess.run([sys.executable, __file__, "--one", name], capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"{name}: failed\n{done.stderr}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        results.append(result)
        print(f"{name}: {result['models']:,} models, {result['rows']:,} results"
              + (f" (board written in {result['synth_seconds']:.1f} s)" if result["synth_seconds"] else ""))
        for (stage, seconds), (_, cpu) in zip(result["stages"], result["cpu_stages"], strict=True):
            print(f"  {stage:<20} {seconds:8.1f} s   cpu {cpu:6.1f} s")
        print(f"  {'first build':<20} {result['first_build_seconds']:8.1f} s   "
              f"rebuild of unchanged data {result['rebuild_seconds']:.2f} s")
        print(f"  {'peak memory':<20} {result['peak_memory_mb']:8.0f} MB   "
              f"site: {result['files']:,} files, {result['site_mb']:.1f} MB")
    return results


if __name__ == "__main__":
    main()
