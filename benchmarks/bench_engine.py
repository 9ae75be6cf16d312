"""Time effbench's two resampling engines against a sensible per-resample numpy loop and the BLAS floor.

Usage: python benchmarks/bench_engine.py [--example mmlu-pro|livecodebench] [--resamples 1000] [--repeat 3]
       [--smoke]

For each engine three timings of the same work, best of `--repeat` runs:
- effbench: the vectorised engine as the library runs it;
- loop: what one would write by hand with numpy, one resample (or draw) at a time, drawing the same
  kind of weights and taking the same means (not the deliberately plain pandas code of tests/reference.py);
- BLAS floor: the matrix products alone, with every weight drawn beforehand: no engine that forms these
  weighted sums can be faster than this.
Engines: the bootstrap of `rank_intervals` (Bayesian bootstrap weights times the items x models scores,
per scenario; the whole `rank_intervals` is timed too) and the examples curve of the DIoR analysis
(9 levels x draws of n items per scenario, Kendall tau against the full data). Also printed: the time
to draw the weights the old way (multinomial), with integers plus bincount, and as exponentials.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy import stats as scipy_stats

from effbench import analysis_tables, pipeline, reliability, stats, store
from effbench.examples import EXAMPLES


def best_time(function: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - started)
    return best


def bootstrap_loop(results: stats.ResultsMatrix, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Per resample and scenario: draw the Dirichlet and Jeffreys weights, take every model's weighted mean."""
    prepared = [(np.nan_to_num(m), (~np.isnan(m)).astype(float)) for m in results.scores]
    out = np.empty((n_resamples, len(results.scores), len(results.models)))
    for b in range(n_resamples):
        for s, (values, scored) in enumerate(prepared):
            weights = rng.standard_exponential(values.shape[0])
            one, zero = rng.standard_gamma(0.5, size=2)
            out[b, s] = (weights @ values + one) / (weights @ scored + one + zero)
    return out


def bootstrap_floor(results: stats.ResultsMatrix, n_resamples: int, rng: np.random.Generator
                    ) -> Callable[[], object]:
    """Return a function doing only the products of the bootstrap, with weights drawn beforehand."""
    data = []
    for m in results.scores:
        values = np.nan_to_num(m)
        weights = rng.standard_exponential((n_resamples, m.shape[0]))
        data.append((weights, values, None if not np.isnan(m).any() else (~np.isnan(m)).astype(float)))
    return lambda: [(w @ v, None if s is None else w @ s) for w, v, s in data]


def examples_loop(results: stats.ResultsMatrix, levels: list[int | None], n_draws: int,
                  rng: np.random.Generator) -> list[float]:
    """Per level and draw: shuffle each scenario, keep the first n items, macro mean, scipy's Kendall tau."""
    full = np.nanmean(results.scenario_means(), axis=0)
    warnings.simplefilter("ignore", RuntimeWarning)  # a model with none of the drawn items: NaN, as in effbench
    out = []
    for n in levels:
        taus = []
        for _ in range(n_draws):
            means = [np.nanmean(m[rng.permutation(m.shape[0])[:n]], axis=0) for m in results.scores]
            taus.append(scipy_stats.kendalltau(full, np.nanmean(means, axis=0)).statistic)
        out.append(float(np.quantile(taus, 0.025)))
    return out


def examples_floor(results: stats.ResultsMatrix, levels: list[int | None], n_draws: int,
                   rng: np.random.Generator) -> Callable[[], object]:
    """Return a function doing only the products of the examples curve, with the 0/1 selections built beforehand."""
    data = []
    for m in results.scores:
        position = rng.permuted(np.broadcast_to(np.arange(m.shape[0]), (n_draws, m.shape[0])), axis=1)
        data.append(([(position < (n or m.shape[0])).astype(float) for n in levels], np.nan_to_num(m)))
    return lambda: [w @ values for selections, values in data for w in selections]


def draw_times(results: stats.ResultsMatrix, n_resamples: int, repeat: int) -> dict[str, float]:
    rng = np.random.default_rng(0)
    sizes = [m.shape[0] for m in results.scores]

    def multinomial() -> None:
        for n in sizes:
            rng.multinomial(n, np.full(n, 1 / n), size=n_resamples)

    def bincount() -> None:
        for n in sizes:
            idx = rng.integers(0, n, size=(n_resamples, n)) + (np.arange(n_resamples) * n)[:, None]
            np.bincount(idx.ravel(), minlength=n_resamples * n).reshape(n_resamples, n)

    def exponential() -> None:
        for n in sizes:
            rng.standard_exponential((n_resamples, n))

    return {name: best_time(f, repeat) for name, f in
            (("multinomial", multinomial), ("integers + bincount", bincount), ("exponential", exponential))}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--example", default="mmlu-pro", choices=sorted(EXAMPLES))
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="a few resamples, to check that the script runs")
    args = parser.parse_args(argv)
    if args.smoke:
        args.resamples, args.repeat = 20, 1
    with tempfile.TemporaryDirectory() as folder, store.open_store(Path(folder) / "e.duckdb") as con:
        store.ingest(con, pipeline.example_sources(EXAMPLES[args.example]))
        results = analysis_tables.results_matrix(con)
    n_items = sum(m.shape[0] for m in results.scores)
    rng = np.random.default_rng(1)
    b = args.resamples
    print(f"example: {args.example} ({len(results.models)} models, {len(results.scenarios)} scenarios, "
          f"{n_items:,} items); {b:,} resamples or draws; best of {args.repeat}")

    engine = best_time(lambda: [stats._resampled_means(m, b, rng) for m in results.scores], args.repeat)
    whole = best_time(lambda: stats.rank_intervals(results, n_resamples=b), args.repeat)
    loop = best_time(lambda: bootstrap_loop(results, b, rng), args.repeat)
    floor = best_time(bootstrap_floor(results, b, rng), args.repeat)
    print("bootstrap of the scenario means (rank_intervals):")
    print(f"  effbench (vectorised):  {engine:7.3f} s   (whole rank_intervals: {whole:.3f} s)")
    print(f"  per-resample loop:      {loop:7.3f} s   x{loop / engine:.1f} the engine's time")
    print(f"  BLAS floor (products):  {floor:7.3f} s   the engine takes x{engine / floor:.1f} the floor")
    for name, seconds in draw_times(results, b, args.repeat).items():
        print(f"  drawing weights, {name + ':':<21} {seconds:.3f} s")

    full = reliability.dior(results, decisions=["examples"], metrics=["kendall_tau"], n_draws=max(b, 2))
    levels = [None if r.level == "all" else int(r.level) for r in full.rows]
    engine = best_time(lambda: reliability.dior(results, decisions=["examples"], metrics=["kendall_tau"],
                                                n_draws=max(b, 2)), args.repeat)
    loop = best_time(lambda: examples_loop(results, levels, max(b, 2), rng), args.repeat)
    floor = best_time(examples_floor(results, levels, max(b, 2), rng), args.repeat)
    print(f"DIoR examples curve ({len(levels)} levels x {max(b, 2):,} draws, Kendall tau):")
    print(f"  effbench (vectorised):  {engine:7.3f} s")
    print(f"  per-draw loop:          {loop:7.3f} s   x{loop / engine:.1f} the engine's time")
    print(f"  BLAS floor (products):  {floor:7.3f} s   the engine takes x{engine / floor:.1f} the floor")


if __name__ == "__main__":
    main()
