"""Time the leave-one-out Flash simulation of every variant over several item orders and print its figures.

Usage: python benchmarks/bench_flash.py [--example mmlu-pro|livecodebench] [--seeds 5] [--smoke]
       python benchmarks/bench_flash.py --db board.duckdb [--status]
       python benchmarks/bench_flash.py --coverage [--example NAME | --db board.duckdb] [--seeds 5] [--smoke]

Each variant is what `effbench build` replays for the site (and `effbench flash simulate --seeds N`
prints): the mean compute saving over the item orders with its range, the share of replays within
the resolution of both the reported and the true tier, the replays that used every item, the largest
rank error and the interval coverage, with wall-clock and CPU seconds. `--smoke` runs a tiny
synthetic board with one order, for the tests.

`--db` times the Flash stage of `effbench build` on a loaded database (say a board from `effbench synth`):
reading the results, the replay of every variant (a stratified draw of models on a large board), the plan
of one model (`effbench flash plan`) and with `--status` the plan of every model (`effbench flash status`),
each with its wall-clock seconds, and the peak memory of the process.

`--coverage` checks the design-based variant's repeated confidence intervals: each replayed model (every
model, or the stratified draw of a large board) is walked through every look of its item order without
stopping, and a path counts as covered when every look's score interval holds the model's full-data score
(the group-sequential claim, nominally 95%); "until stop" counts only the looks up to where Flash stops.
Printed by the model's position on the board: top 10% of the full-data ranks, the middle, the bottom 10%.
"""

from __future__ import annotations

import argparse
import math
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

from effbench import analysis_tables, flash, pipeline, stats, store
from effbench.analysis_tables import AnalysisParameters
from effbench.examples import EXAMPLES
from effbench.pipeline.common import board_flash_config, pick_board
from effbench.pipeline.flash_plans import _flash_results
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
        return flash.item_level(analysis_tables.results_matrix(con))


def board_results(db: Path, config: flash.FlashConfig) -> tuple[ResultsMatrix, flash.FlashConfig]:
    """The per-item results of the only board in `db`, as the Flash stage reads them, and `config` resolved for
    the board as the build resolves it (its tier rule at the board's size, the floor from its rank intervals)."""
    with store.open_store(db, read_only=True) as con:
        board = pick_board(con, None)
        results = _flash_results(con, board)
        return results, board_flash_config(con, config, board, len(results.models))


def with_floor(results: ResultsMatrix, config: flash.FlashConfig) -> flash.FlashConfig:
    """`config` resolved for an example board as `effbench build` resolves it: the floor from the rank intervals
    the leaderboard computes (its default resampling), in rank order."""
    parameters = AnalysisParameters()
    ranking = stats.rank_intervals(results, n_resamples=parameters.n_resamples,
                                   confidence_level=parameters.confidence_level, rank_method=parameters.rank_method,
                                   rng=parameters.seed)
    order = sorted(range(len(results.models)), key=lambda i: (ranking.rank[i], results.models[i]))
    return config.for_board(len(results.models), ranking.rank_lo[order], ranking.rank_hi[order])


def peak_memory_gb() -> float:
    """The process's peak resident memory so far, in GB (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def board_stage(db: Path, *, status: bool = False) -> list[flash.FlashSummary]:
    """Time what the Flash stage does on the board in `db`, print it and return the replay's summaries."""
    wall, cpu = time.perf_counter(), time.process_time()
    results, config = board_results(db, flash.FlashConfig())
    cells = sum(m.size for m in results.scores)
    print(f"board: {db} ({len(results.models)} models, {cells:,} results in {len(results.scenarios)} scenarios)")
    print(f"{'read results':<26} {time.perf_counter() - wall:6.2f} s wall {time.process_time() - cpu:6.2f} s CPU")
    wall, cpu = time.perf_counter(), time.process_time()
    simulations = flash.simulate_variants(results, config=config)
    summaries = [s.summary for s in simulations]
    print(f"{'replay, all variants':<26} {time.perf_counter() - wall:6.2f} s wall "
          f"{time.process_time() - cpu:6.2f} s CPU   {summaries[0].n_models} of "
          f"{summaries[0].n_candidates} models x {summaries[0].n_seeds} orders")
    for s in summaries:
        print(f"  {s.variant:<24} saving x{s.saving:.1f}, {s.within_resolution:.1%} within resolution, "
              f"coverage {s.coverage:.1%}, largest error {s.largest_error}")
    wall, cpu = time.perf_counter(), time.process_time()
    model = results.models[len(results.models) // 2]
    next(flash.plans(results, [model], config))
    print(f"{'plan of one model':<26} {time.perf_counter() - wall:6.2f} s wall {time.process_time() - cpu:6.2f} s CPU")
    if status:
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in flash.plans(results, results.models, config):
            pass
        print(f"{'status of every model':<26} {time.perf_counter() - wall:6.2f} s wall "
              f"{time.process_time() - cpu:6.2f} s CPU")
    print(f"{'peak memory':<26} {peak_memory_gb():6.2f} GB")
    return summaries


BANDS = ("top 10%", "middle", "bottom 10%")


def band_of(rank: int, n_models: int) -> str:
    """The position band of a full-data rank on a board of `n_models` (a tenth rounded up: at least one rank)."""
    tenth = math.ceil(0.1 * n_models)
    if rank <= tenth:
        return BANDS[0]
    return BANDS[2] if rank > n_models - tenth else BANDS[1]


def look_coverage(results: ResultsMatrix, config: flash.FlashConfig) -> dict[str, np.ndarray]:
    """Return, per band, counts [paths, paths covered at every look, paths covered up to the stop, looks,
    looks covered] of the design-based variant's score intervals, over `config.seeds` item orders."""
    replay = flash.replay._prepare(results, None, config)
    n_models = len(results.models)
    tally = {band: np.zeros(5, dtype=int) for band in BANDS}
    for model, reference, new_items, truth in zip(replay.held, replay.references, replay.new_items, replay.truths,
                                                  strict=True):
        means = [float(np.nanmean(v)) for v in new_items if np.isfinite(v).any()]
        score = float(np.mean(means))  # the estimate with every item: the full-data score
        evaluated = [np.isfinite(v) for v in new_items]
        for seed in range(config.seed, config.seed + config.seeds):
            orders = flash.orders_for(model, reference, config, seed)
            every = until_stop = True
            stopped = False
            looks = covered_looks = 0
            for sample in flash.stage_samples(orders, evaluated, config.stage_sizes(reference.largest_scenario),
                                              availability_known=True):
                rank, lo, hi, estimate, half = flash.rank_greg(new_items, sample, orders, reference, config)
                held = abs(estimate - score) <= half + 1e-9
                looks, covered_looks = looks + 1, covered_looks + held
                every &= held
                if not stopped:
                    until_stop &= held
                    stopped = flash.resolution_met(rank, lo, hi, config.resolution_tiers, config.stop_rule)[1]
            tally[band_of(truth, n_models)] += [1, every, until_stop, looks, covered_looks]
    return tally


def print_coverage(label: str, tally: dict[str, np.ndarray], n_models: int, confidence_level: float) -> None:
    print(f"board: {label} ({n_models} models); design-based score intervals, nominal {confidence_level:.0%}")
    print("| band | paths | covered at every look | covered up to the stop | looks covered |")
    print("|---|---:|---:|---:|---:|")
    for band, (paths, every, until_stop, looks, covered) in [*tally.items(),
                                                            ("all", sum(tally.values()))]:
        shares = [f"{k / paths:.1%}" if paths else "-" for k in (every, until_stop)]
        print(f"| {band} | {paths} | {shares[0]} | {shares[1]} | {f'{covered / looks:.1%}' if looks else '-'} |")


def main(argv: list[str] | None = None) -> list[flash.FlashSummary] | dict[str, np.ndarray]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--example", default="mmlu-pro", choices=sorted(EXAMPLES))
    parser.add_argument("--seeds", type=int, default=flash.FlashConfig().seeds)
    parser.add_argument("--smoke", action="store_true", help="a tiny synthetic board, one item order")
    parser.add_argument("--db", type=Path, help="time the Flash stage on this database instead")
    parser.add_argument("--status", action="store_true", help="with --db: also every model's plan")
    parser.add_argument("--coverage", action="store_true",
                        help="coverage of the repeated intervals at every look, by position on the board")
    args = parser.parse_args(argv)
    if args.coverage:
        config = flash.FlashConfig(seeds=1 if args.smoke else args.seeds)
        if args.db:
            (results, config), label = board_results(args.db, config), str(args.db)
        else:
            results = smoke_results() if args.smoke else example_results(args.example)
            label = "smoke" if args.smoke else args.example
            config = with_floor(results, config)
        tally = look_coverage(results, config)
        print_coverage(label, tally, len(results.models), config.confidence_level)
        return tally
    if args.db:
        return board_stage(args.db, status=args.status)
    results = smoke_results() if args.smoke else example_results(args.example)
    seeds = 1 if args.smoke else args.seeds
    label = "smoke" if args.smoke else args.example
    print(f"example: {label} ({len(results.models)} models, leave-one-out, {seeds} item orders)")
    summaries = []
    total_wall = total_cpu = 0.0
    for config in flash.comparison_configs(with_floor(results, flash.FlashConfig(seeds=seeds))):
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
