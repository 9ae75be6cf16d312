"""Coverage of effbench's score and rank intervals where the truth is known (not run in CI: minutes).

Usage: python benchmarks/bench_coverage.py [--example mmlu-pro|livecodebench|synthetic-ties] [--draws 600]
       [--items N] [--resamples 1000] [--smoke]

Each bundled example's full item pool is the population. A draw is a sub-benchmark of as many items
per scenario as the board has there (or `--items` items in every scenario) drawn from the pool with
replacement, the same items for every model; effbench
ranks it, and the truth is the pool itself (scenario means, macro score and rank on all items).
Printed: per model, how often its score interval and its rank interval (marginal, simultaneous, and
the percentile rank interval effbench showed before, from the same resamples) held the truth (for
ranks, the competition rank of the pool's scores: tied models share the better rank); per-scenario
intervals overall and for accuracies near 0 or 1; the share of draws in which every model's rank was
covered at once; and, for comparison, the classic percentile bootstrap (multinomial resampling, the
method effbench used before) on the same draws.

With `--check false-better`: two exchangeable models, made from a pair of models next to each other on
the board by swapping their two scores on each item with probability 1/2 (the board's own items and
scenario sizes), are compared as the compare view does; printed is the share of scenarios in which
one is called better (every such verdict is false), overall, in near-saturated scenarios (both
means <= 0.1 or >= 0.9) and in scenarios where at most 5 items differ, for the verdict effbench gives
(interval and Holm-adjusted sign-flip test) and for the interval alone (its verdict before).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from effbench import analysis_tables, pipeline, stats, store
from effbench.compare import compare_models, verdict
from effbench.examples import EXAMPLES


def load(example: str, source: str | None = None) -> stats.ResultsMatrix:
    """Return the results of a bundled example, or of the harness output at `source`."""
    with tempfile.TemporaryDirectory() as folder, store.open_store(Path(folder) / "e.duckdb") as con:
        store.ingest(con, pipeline.result_sources([Path(source)]) if source
                     else pipeline.example_sources(EXAMPLES[example]))
        return analysis_tables.results_matrix(con)


def false_better(pool: stats.ResultsMatrix, *, draws: int, resamples: int, seed: int = 0,
                 confidence_level: float = 0.95) -> dict:
    """Return how often two exchangeable models are called different, per scenario (see the module's
    docstring), over `draws` random pairs of neighbours on the board and random swaps."""
    rng = np.random.default_rng(seed)
    order = np.argsort(-np.nan_to_num(stats.aggregate(pool.canonical_scenario_means()), nan=-np.inf), kind="stable")
    alpha = 1 - confidence_level
    tally = {key: np.zeros(2, dtype=int) for key in ("all", "near", "few")}  # [new verdict, interval alone]
    counts = dict.fromkeys(tally, 0)
    for _ in range(draws):
        place = int(rng.integers(len(order) - 1))
        a, b = order[place], order[place + 1]
        matrices = []
        for matrix in pool.scores:
            swap = rng.random(matrix.shape[0]) < 0.5
            first, second = matrix[:, a], matrix[:, b]
            matrices.append(np.column_stack([np.where(swap, second, first), np.where(swap, first, second)]))
        pair_results = stats.ResultsMatrix(("a", "b"), pool.scenarios, tuple(matrices), pool.resampled,
                                           lower_is_better=pool.lower_is_better)
        intervals = stats.rank_intervals(pair_results, n_resamples=resamples, confidence_level=confidence_level,
                                         rng=int(rng.integers(1 << 31)))
        pair = compare_models(intervals, pair_results, items_per_side=0).pairs[0]
        for s, matrix in enumerate(matrices):
            if not pool.resampled[s] or np.isnan(pair.by_scenario[s][0]):
                continue
            _, lo, hi = pair.by_scenario[s]
            calls = np.array([verdict(pair.by_scenario[s], pair.scenario_p[s], alpha) != 0, lo > 0 or hi < 0])
            means = stats.nanmean(matrix, axis=0)
            differing = int(np.sum(np.abs(matrix[:, 0] - matrix[:, 1]) > 0))
            for key, holds in (("all", True), ("near", bool(np.all((means <= 0.1) | (means >= 0.9)))),
                               ("few", differing <= 5)):
                if holds:
                    tally[key] += calls
                    counts[key] += 1
    return {"draws": draws, "tally": tally, "counts": counts, "confidence_level": confidence_level}


def report_false_better(example: str, outcome: dict, seconds: float) -> None:
    print(f"board: {example}; {outcome['draws']} exchangeable pairs (neighbours on the board, scores swapped "
          f"per item at random), the board's own items; {seconds:.0f} s")
    nominal = 1 - outcome["confidence_level"]
    for key, label in (("all", "every scenario"), ("near", "near-saturated scenarios (both means <= 0.1 or >= 0.9)"),
                       ("few", "scenarios where at most 5 items differ")):
        n = outcome["counts"][key]
        new, old = outcome["tally"][key] / max(n, 1)
        print(f"called different in {label} ({n:,}): {new:.2%} (nominal at most {nominal:.0%}); "
              f"interval alone {old:.2%}")


def synthetic_pool(seed: int = 5, n_items: int = 5000, n_scenarios: int = 5) -> stats.ResultsMatrix:
    """A board built to test ties: 0/1 scores from a logistic item-response model with shared item
    difficulties. Four models at the top and four at the bottom differ by 0.01 in ability, and
    "tied-a" and "tied-b" are exactly tied: in every scenario tied-b answers a reshuffle of tied-a's
    answers, so their pool scores are equal."""
    rng = np.random.default_rng(seed)
    names = ("top-1", "top-2", "top-3", "top-4", "upper", "tied-a", "tied-b", "lower",
             "bottom-1", "bottom-2", "bottom-3", "bottom-4")
    ability = np.array([1.5, 1.49, 1.48, 1.47, 1.0, 0.5, 0.5, 0.0, -0.47, -0.48, -0.49, -0.5])
    matrices = []
    for _ in range(n_scenarios):
        difficulty = rng.normal(0, 1.5, n_items)[:, None]
        scores = (rng.random((n_items, len(names))) < 1 / (1 + np.exp(difficulty - ability))).astype(float)
        scores[:, 6] = rng.permutation(scores[:, 5])
        matrices.append(scores)
    return stats.ResultsMatrix(names, tuple(f"s{i}" for i in range(n_scenarios)), tuple(matrices),
                               (True,) * n_scenarios)


def classic_scenario_intervals(matrix: np.ndarray, n_resamples: int, rng: np.random.Generator,
                               confidence_level: float) -> tuple[np.ndarray, np.ndarray]:
    """The percentile interval of a plain multinomial bootstrap of each model's mean (the old method)."""
    n_items = matrix.shape[0]
    counts = np.stack([np.bincount(row, minlength=n_items) for row in rng.integers(0, n_items, (n_resamples, n_items))])
    tail = (1 - confidence_level) / 2
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # no drawn item scored: NaN, left out
        means = counts @ np.nan_to_num(matrix) / (counts @ (~np.isnan(matrix)))
        return np.nanquantile(means, tail, axis=0), np.nanquantile(means, 1 - tail, axis=0)


def simulate(pool: stats.ResultsMatrix, *, draws: int, items: int | None, resamples: int, seed: int = 0,
             confidence_level: float = 0.95, progress: bool = False) -> dict:
    """Return coverage counts over `draws` sub-benchmarks of `items` items per scenario (None: each
    scenario's own number of items, as on the board: small scenarios stay small)."""
    rng = np.random.default_rng(seed)
    truth_scenario = pool.canonical_scenario_means()
    truth_score = np.nanmean(stats.fill_missing_scenarios(truth_scenario), axis=0)
    truth_rank = stats.competition_ranks(truth_score)  # tied models share the better rank, as on the board
    n_models = len(pool.models)
    tally = {key: np.zeros(n_models) for key in ("score", "rank", "rank_simultaneous", "rank_percentile")}
    scenario_hits, scenario_total, near_hits, near_total, near_zero_width = 0, 0, 0, 0, 0
    classic_near_hits, classic_near_zero = 0, 0
    all_covered = all_covered_simultaneous = 0
    for draw in range(draws):
        if progress and draw and draw % 100 == 0:
            print(f"  {draw} of {draws} draws", file=sys.stderr, flush=True)
        matrices = tuple(m[rng.integers(0, m.shape[0], m.shape[0] if items is None else items)] for m in pool.scores)
        sample = stats.ResultsMatrix(pool.models, pool.scenarios, matrices, pool.resampled,
                                     lower_is_better=pool.lower_is_better)
        result = stats.rank_intervals(sample, n_resamples=resamples, confidence_level=confidence_level,
                                      rng=int(rng.integers(1 << 31)))
        tally["score"] += (result.score_lo <= truth_score) & (truth_score <= result.score_hi)
        covered = (result.rank_lo <= truth_rank) & (truth_rank <= result.rank_hi)
        tally["rank"] += covered
        all_covered += covered.all()
        lo, hi = stats.difference_rank_intervals(result.score, result.resampled_scores,
                                                 confidence_level=confidence_level, method="simultaneous")
        covered = (lo <= truth_rank) & (truth_rank <= hi)
        tally["rank_simultaneous"] += covered
        all_covered_simultaneous += covered.all()
        # The percentile rank interval effbench showed before, from the same resamples.
        tail = (1 - confidence_level) / 2
        lo, hi = np.quantile(result.resampled_ranks, [tail, 1 - tail], axis=0, method="inverted_cdf")
        tally["rank_percentile"] += (lo <= truth_rank) & (truth_rank <= hi)
        held = (result.scenario_score_lo <= truth_scenario) & (truth_scenario <= result.scenario_score_hi)
        known = ~np.isnan(truth_scenario) & ~np.isnan(result.scenario_score)
        scenario_hits += int((held & known).sum())
        scenario_total += int(known.sum())
        near = known & ((truth_scenario <= 0.1) | (truth_scenario >= 0.9))
        near_hits += int((held & near).sum())
        near_total += int(near.sum())
        near_zero_width += int((near & (result.scenario_score_hi - result.scenario_score_lo <= 0)).sum())
        for s, matrix in enumerate(matrices):
            if not near[s].any():
                continue
            lo, hi = classic_scenario_intervals(matrix, resamples, rng, confidence_level)
            truth = truth_scenario[s]
            classic_near_hits += int((near[s] & (lo <= truth) & (truth <= hi)).sum())
            classic_near_zero += int((near[s] & (hi - lo <= 0)).sum())
    return {
        "models": pool.models, "truth_rank": truth_rank, "draws": draws, "confidence_level": confidence_level,
        "score": tally["score"] / draws, "rank": tally["rank"] / draws,
        "rank_simultaneous": tally["rank_simultaneous"] / draws, "rank_percentile": tally["rank_percentile"] / draws,
        "scenario": scenario_hits / max(scenario_total, 1),
        "near": near_hits / max(near_total, 1), "near_n": near_total,
        "near_zero_width": near_zero_width / max(near_total, 1),
        "classic_near": classic_near_hits / max(near_total, 1),
        "classic_near_zero_width": classic_near_zero / max(near_total, 1),
        "all_covered": all_covered / draws, "all_covered_simultaneous": all_covered_simultaneous / draws,
    }


def report(example: str, outcome: dict, items: int | None, seconds: float) -> None:
    size = "the board's own number of items" if items is None else f"{items} items"
    print(f"example: {example}; {outcome['draws']} sub-benchmarks of {size} per scenario "
          f"(drawn with replacement from the full pool); {seconds:.0f} s")
    print(f"{'model':<32} {'true rank':>9} {'score':>7} {'rank':>7} {'rank (simult.)':>15} {'percentile rank':>16}")
    for i in np.argsort(outcome["truth_rank"], kind="stable"):
        print(f"{outcome['models'][i]:<32} {outcome['truth_rank'][i]:>9} {outcome['score'][i]:>7.1%} "
              f"{outcome['rank'][i]:>7.1%} {outcome['rank_simultaneous'][i]:>15.1%} "
              f"{outcome['rank_percentile'][i]:>16.1%}")
    print(f"score intervals, median over models:   {np.median(outcome['score']):.1%} "
          f"(range {outcome['score'].min():.1%}-{outcome['score'].max():.1%})")
    bottom = np.argsort(outcome["truth_rank"], kind="stable")[-10:]
    print(f"score intervals of the ten lowest models (nominal {outcome['confidence_level']:.0%}): "
          f"{outcome['score'][bottom].min():.1%}-{outcome['score'][bottom].max():.1%}")
    print(f"rank intervals, median over models:    {np.median(outcome['rank']):.1%} "
          f"(range {outcome['rank'].min():.1%}-{outcome['rank'].max():.1%})")
    print(f"every model's rank covered at once:    marginal {outcome['all_covered']:.1%}, "
          f"simultaneous {outcome['all_covered_simultaneous']:.1%}")
    print(f"per-scenario score intervals:          {outcome['scenario']:.1%}")
    print(f"  accuracies <= 0.1 or >= 0.9 ({outcome['near_n']:,} intervals): {outcome['near']:.1%} "
          f"(zero width {outcome['near_zero_width']:.1%}); classic percentile bootstrap "
          f"{outcome['classic_near']:.1%} (zero width {outcome['classic_near_zero_width']:.1%})")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--example", default="mmlu-pro", choices=[*sorted(EXAMPLES), "synthetic-ties"],
                        help="a bundled example, or synthetic-ties: a made-up board with near and exact ties")
    parser.add_argument("--draws", type=int, default=600)
    parser.add_argument("--items", type=int, default=None,
                        help="items drawn per scenario (default: each scenario's own number of items)")
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--source", help="a harness output folder or file to use as the board instead")
    parser.add_argument("--check", default="coverage", choices=["coverage", "false-better"],
                        help="coverage of the intervals, or how often exchangeable models are called different")
    parser.add_argument("--smoke", action="store_true", help="a few tiny draws, to check that the script runs")
    args = parser.parse_args(argv)
    if args.smoke:
        args.draws, args.items, args.resamples = 3, 10, 50
    pool = synthetic_pool() if args.example == "synthetic-ties" else load(args.example, args.source)
    started = time.perf_counter()
    if args.check == "false-better":
        outcome = false_better(pool, draws=args.draws, resamples=args.resamples)
        report_false_better(args.source or args.example, outcome, time.perf_counter() - started)
        return
    outcome = simulate(pool, draws=args.draws, items=args.items, resamples=args.resamples, progress=True)
    report(args.example, outcome, args.items, time.perf_counter() - started)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
