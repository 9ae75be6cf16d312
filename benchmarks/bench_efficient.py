"""Flash's estimator beside the published ways to score a model on a few items, at equal budgets.

Usage: python benchmarks/bench_efficient.py [--board mmlu-pro|livecodebench|synth] [--budgets 1,2,5,10]
       [--seeds 3] [--synth-models 200] [--synth-items 2000] [--holdout N] [--smoke]

Leave-one-model-out: each held-out model is scored as a new model against the others (the board). A method
chooses a budget of items from the board alone, sees the held-out model's results on those items only, and
estimates its leaderboard score: the macro mean over scenarios of its per-scenario mean
(`stats.overall_scores`). Every method gets the same items per scenario: the budget (a share of all items)
split equally over the scenarios, as Flash's stages do (the macro mean weighs every scenario the same), at
least one item per scenario and at most the scenario's items; so the smallest budgets of a board with many
small scenarios use a little more than their share (the table says how many items were used). The methods:

- **random + mean**: items drawn at random in each scenario; the macro mean of the per-scenario means. Its
  95% interval is normal, with the per-scenario variance (1 - n/N) v / n, v the sample variance floored at
  the Agresti-Coull p (1 - p) (p = (successes + 2) / (n + 4)), so an all-right sample is not exact.
- **stratified random**: in each scenario, items split into equal-size strata of the board's difficulty
  (the board's mean score on the item; min(n, 10) strata), the scenario's items allocated in proportion to
  the strata's sizes, the strata's means weighted by their sizes.
- **anchor points** (Vivek et al. 2024, "Anchor Points: Benchmarking Models with Much Fewer Examples"): in
  each scenario, k-medoids (k-medoids++ start, then alternate assignment and medoid updates) of the items,
  with distance 1 - the correlation of two items' results across the board's models; the estimate weighs
  the held-out model's result on each medoid by the size of its cluster.
- **IRT** and **p-IRT** (Polo et al. 2024, "tinyBenchmarks: evaluating LLMs with fewer examples"): a
  two-parameter logistic model P(right) = sigmoid(a_i theta_m + c_i) fitted on the board (all scenarios
  together, alternating Newton steps on the Bernoulli log-likelihood with the priors theta ~ N(0, 1),
  a ~ N(1, 1), c ~ N(0, 10); graded scores such as pass@1 of 10 enter as fractional outcomes of the same
  likelihood). The held-out model's ability is its MAP estimate from the random items above (the same items
  as random + mean, so the comparison is paired). IRT: the mean predicted score over every item of each
  scenario. p-IRT: the observed results on the seen items and the predictions on the unseen ones, each
  scenario's mean weighting the two by the share of items seen (the paper's lambda = n / N).
- **Flash (GREG)**: Flash's item order for the model (items sorted by the board's difficulty, visited so
  that every prefix spreads over it) and its design-based regression estimator with its analytic variance
  (`flash.rank_greg`), at the fixed budget (one look: the interval uses z, not the group-sequential value).

Printed per budget: mean items used, score MAE (points, +- its standard error over the held-out models),
mean |estimated rank - true rank| (the estimate ranked among the board's full scores), Kendall tau between
the held-out models' estimated and true scores, and for the methods with intervals their coverage of the
true score and mean half-width.
`--smoke` runs a small synthetic board at one budget, for the tests.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats as scipy_stats
from scipy.special import expit

from effbench import analysis_tables, flash, pipeline, stats, store, synth
from effbench.examples import EXAMPLES

METHODS = ("random + mean", "stratified random", "anchor points", "IRT", "p-IRT", "Flash (GREG)")
WITH_INTERVALS = ("random + mean", "Flash (GREG)")
Z_95 = float(scipy_stats.norm.ppf(0.975))
MAX_STRATA = 10


@dataclass(frozen=True)
class MethodSummary:
    """One method at one budget: its errors over every held-out model and seed."""

    board: str
    budget: float  # share of all items
    items: float  # mean items used per held-out model
    method: str
    mae: float  # mean |estimated - true score|, in score units
    mae_se: float  # its standard error over the held-out models (each model's errors averaged over seeds)
    rank_error: float  # mean |estimated rank - true rank|
    kendall_tau: float  # mean over seeds of tau(estimated scores, true scores) over the held-out models
    coverage: float  # share of 95% intervals holding the true score (NaN: the method gives none)
    half_width: float  # mean half-width of those intervals
    n_models: int
    n_seeds: int


# ---------------------------------------------------------------------------------------------
# Boards


def example_board(name: str) -> stats.ResultsMatrix:
    """Return the per-item results of a bundled example."""
    with tempfile.TemporaryDirectory() as folder, store.open_store(Path(folder) / "e.duckdb") as con:
        store.ingest(con, pipeline.example_sources(EXAMPLES[name]))
        return flash.item_level(analysis_tables.results_matrix(con))


def synth_board(spec: synth.SynthSpec) -> stats.ResultsMatrix:
    """Return the board `effbench synth` writes for `spec`, as a results matrix (same generator, same rows)."""
    truth = synth.board(spec)
    scores = np.empty((spec.n_items, spec.n_models))
    start = 0
    for block in synth.blocks(spec, truth):
        width = len(block) // spec.n_items
        scores[:, start: start + width] = block["score"].to_numpy(dtype=float).reshape(width, spec.n_items).T
        start += width
    matrices = tuple(scores[truth.scenario_of_item == s] for s in range(spec.n_scenarios))
    return stats.ResultsMatrix(truth.models, truth.scenarios, matrices, (True,) * spec.n_scenarios)


# ---------------------------------------------------------------------------------------------
# Budgets and samples


def items_per_scenario(sizes: list[int], budget: float) -> list[int]:
    """Return the items of each scenario for a budget (share of all items): the same n in every scenario
    (at most its size), the largest n whose total stays within the budget, at least 1."""
    target = budget * sum(sizes)
    n = 1
    while n < max(sizes) and sum(min(n + 1, size) for size in sizes) <= target + 1e-9:
        n += 1
    return [min(n, size) for size in sizes]


def random_items(available: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Return n items drawn without replacement from the `available` ones (all of them if fewer)."""
    items = np.flatnonzero(available)
    return rng.choice(items, size=min(n, items.size), replace=False)


def stratified_estimate(values: np.ndarray, difficulty: np.ndarray, n: int, rng: np.random.Generator) -> float:
    """Return the stratified estimate of the mean of `values` (NaN = no result) from n items: strata of
    equal size by difficulty, proportional allocation, the strata's means weighted by their sizes."""
    order = np.lexsort((rng.random(difficulty.size), np.nan_to_num(difficulty, nan=np.nanmean(difficulty))))
    strata = np.array_split(order, min(n, MAX_STRATA, difficulty.size))
    sizes = np.array([s.size for s in strata])
    share = n * sizes / sizes.sum()
    allocation = np.floor(share).astype(int)
    allocation[np.argsort(allocation - share)[: n - allocation.sum()]] += 1  # largest remainders
    total = weight = 0.0
    for stratum, count in zip(strata, allocation, strict=True):
        drawn = random_items(np.isin(np.arange(values.size), stratum) & np.isfinite(values), count, rng)
        if drawn.size:
            total += stratum.size * values[drawn].mean()
            weight += stratum.size
    return total / weight if weight else math.nan


def mean_with_interval(values: np.ndarray, population: int) -> tuple[float, float]:
    """Return (mean, variance) of a scenario mean from a sample without replacement of `population` items,
    the sample variance floored at the Agresti-Coull p (1 - p)."""
    n = values.size
    p = (float(np.clip(values, 0, 1).sum()) + 2) / (n + 4)
    variance = max(float(np.var(values, ddof=1)) if n > 1 else 0.0, p * (1 - p))
    return float(values.mean()), max(0.0, 1 - n / population) * variance / n


# ---------------------------------------------------------------------------------------------
# Anchor points (Vivek et al. 2024)


def item_correlations(matrix: np.ndarray) -> np.ndarray:
    """Return the correlation of every pair of items' results across the board's models (NaN results at the
    item's mean). Items every model got right (or wrong) correlate 1 with each other and 0 with the rest."""
    filled = np.where(np.isfinite(matrix), matrix, np.nanmean(matrix, axis=1, keepdims=True))
    filled = np.nan_to_num(filled)
    centred = filled - filled.mean(axis=1, keepdims=True)
    norm = np.linalg.norm(centred, axis=1, keepdims=True)
    constant = norm[:, 0] < 1e-12
    unit = np.where(constant[:, None], 0.0, centred / np.where(constant[:, None], 1.0, norm))
    levels = np.unique(np.round(filled[constant, 0], 9)) if constant.any() else np.zeros(0)
    extra = np.zeros((matrix.shape[0], levels.size))
    if levels.size:
        extra[np.flatnonzero(constant), np.searchsorted(levels, np.round(filled[constant, 0], 9))] = 1.0
    vectors = np.hstack([unit, extra])
    return np.clip(vectors @ vectors.T, -1.0, 1.0)


def k_medoids(distance: np.ndarray, k: int, rng: np.random.Generator, *, max_iter: int = 30
              ) -> tuple[np.ndarray, np.ndarray]:
    """Return (medoids, cluster size of each) of k-medoids on a distance matrix: a k-medoids++ start, then
    alternating assignment to the nearest medoid and each cluster's most central member."""
    n = distance.shape[0]
    if k >= n:
        return np.arange(n), np.ones(n, dtype=int)
    medoids = [int(rng.integers(n))]
    nearest = distance[medoids[0]].copy()
    for _ in range(1, k):
        # Rounding leaves a chosen item a distance of ~1e-16 from itself; once every item left is a copy of
        # a medoid (k above the distinct items), the next one is any item not chosen yet.
        weights = np.where(nearest > 1e-9, nearest, 0.0)
        weights[medoids] = 0.0
        chosen = int(rng.choice(n, p=weights / weights.sum())) if weights.sum() > 0 else int(
            rng.choice(np.setdiff1d(np.arange(n), medoids)))
        medoids.append(chosen)
        nearest = np.minimum(nearest, distance[chosen])
    medoids = np.array(medoids)
    for _ in range(max_iter):
        assignment = np.argmin(distance[:, medoids], axis=1)
        assignment[medoids] = np.arange(k)  # a medoid belongs to its own cluster, even among equal distances
        updated = medoids.copy()
        for c in range(k):
            members = np.flatnonzero(assignment == c)
            updated[c] = members[np.argmin(distance[np.ix_(members, members)].sum(axis=1))]
        if np.array_equal(updated, medoids):
            break
        medoids = updated
    assignment = np.argmin(distance[:, medoids], axis=1)
    assignment[medoids] = np.arange(k)
    return medoids, np.bincount(assignment, minlength=k)


def anchor_estimate(values: np.ndarray, medoids: np.ndarray, sizes: np.ndarray) -> float:
    """Return the cluster-size-weighted mean of the held-out model's results on the medoids (those it has)."""
    have = np.isfinite(values[medoids])
    return float(np.average(values[medoids][have], weights=sizes[have])) if have.any() else math.nan


# ---------------------------------------------------------------------------------------------
# IRT and p-IRT (Polo et al. 2024)


@dataclass(frozen=True)
class IrtFit:
    """A 2PL fit: P(item i right for a model of ability theta) = sigmoid(slope_i theta + intercept_i)."""

    slope: np.ndarray
    intercept: np.ndarray
    ability: np.ndarray  # of the board's models


def fit_irt(matrix: np.ndarray, *, iterations: int = 40, slope_prior: float = 1.0,
            intercept_prior: float = 0.1) -> IrtFit:
    """Return the MAP 2PL fit of an ``(n_items, n_models)`` matrix of scores in [0, 1] (NaN = none):
    alternating Newton steps, items (slope, intercept) given abilities, then abilities given items, with the
    priors ability ~ N(0, 1), slope ~ N(1, 1 / slope_prior), intercept ~ N(0, 1 / intercept_prior)."""
    have = np.isfinite(matrix)
    y = np.where(have, matrix, 0.0)
    m = have.astype(float)
    item_mean = np.clip((y.sum(axis=1) + 0.5) / (m.sum(axis=1) + 1), 0.01, 0.99)
    model_mean = np.clip((y.sum(axis=0) + 0.5) / (m.sum(axis=0) + 1), 0.01, 0.99)
    logit = np.log(model_mean / (1 - model_mean))
    theta = (logit - logit.mean()) / max(float(logit.std()), 1e-6)
    slope = np.ones(matrix.shape[0])
    intercept = np.log(item_mean / (1 - item_mean))
    for _ in range(iterations):
        p = expit(slope[:, None] * theta + intercept[:, None])
        r, w = m * (y - p), m * p * (1 - p)
        g_slope = r @ theta - slope_prior * (slope - 1)
        g_intercept = r.sum(axis=1) - intercept_prior * intercept
        h_ss = w @ (theta * theta) + slope_prior
        h_si = w @ theta
        h_ii = w.sum(axis=1) + intercept_prior
        det = h_ss * h_ii - h_si * h_si
        slope = slope + np.clip((h_ii * g_slope - h_si * g_intercept) / det, -1, 1)
        intercept = intercept + np.clip((h_ss * g_intercept - h_si * g_slope) / det, -1, 1)
        p = expit(slope[:, None] * theta + intercept[:, None])
        g_theta = (m * (y - p)).T @ slope - theta
        h_theta = (m * p * (1 - p)).T @ (slope * slope) + 1
        theta = theta + np.clip(g_theta / h_theta, -1, 1)
    return IrtFit(slope, intercept, theta)


def irt_ability(values: np.ndarray, slope: np.ndarray, intercept: np.ndarray, *, iterations: int = 25) -> float:
    """Return the MAP ability (prior N(0, 1)) of a model with scores `values` on items of these parameters."""
    theta = 0.0
    for _ in range(iterations):
        p = expit(slope * theta + intercept)
        step = float(((values - p) @ slope - theta) / ((p * (1 - p)) @ (slope * slope) + 1))
        theta += max(-1.0, min(1.0, step))
        if abs(step) < 1e-8:
            break
    return theta


# ---------------------------------------------------------------------------------------------
# The leave-one-out


@dataclass
class _Tally:
    """Per method: estimate and interval half-width of every (seed, held-out model)."""

    estimates: np.ndarray
    half_widths: np.ndarray
    items: np.ndarray


def evaluate(results: stats.ResultsMatrix, budgets: list[float], seeds: int, *, holdout: list[int] | None = None
             ) -> dict[float, dict[str, _Tally]]:
    """Run every method for every held-out model, budget and seed; return the tallies per budget and method."""
    sizes = [m.shape[0] for m in results.scores]
    held = list(range(len(results.models))) if holdout is None else holdout
    allocations = {b: items_per_scenario(sizes, b) for b in budgets}
    tallies = {b: {name: _Tally(np.full((seeds, len(held)), np.nan), np.full((seeds, len(held)), np.nan),
                                np.zeros((seeds, len(held)))) for name in METHODS} for b in budgets}
    config = flash.FlashConfig(correction="none")  # one look at a fixed budget: the interval uses z
    for column, model in enumerate(held):
        name = results.models[model]
        board = results.without(name)
        new_items = [m[:, model] for m in results.scores]
        reference = flash.reference_of(board)
        irt = fit_irt(np.vstack(board.scores))
        scenario_of = np.repeat(np.arange(len(sizes)), sizes)
        anchors: dict[tuple[float, int, int], tuple[np.ndarray, np.ndarray]] = {}
        for s, matrix in enumerate(board.scores):
            distance = 1.0 - item_correlations(matrix)
            for budget in budgets:
                for seed in range(seeds):
                    rng = np.random.default_rng([seed, model, s, int(budget * 1e6), 1])
                    anchors[budget, seed, s] = k_medoids(distance, allocations[budget][s], rng)
        for budget in budgets:
            allocation = allocations[budget]
            for seed in range(seeds):
                per_method: dict[str, list[float]] = {name: [] for name in METHODS}
                variances: list[float] = []
                seen = np.zeros(sum(sizes), dtype=bool)
                randoms = []
                for s, values in enumerate(new_items):
                    rng = np.random.default_rng([seed, model, s, int(budget * 1e6)])
                    drawn = random_items(np.isfinite(values), allocation[s], rng)
                    randoms.append(drawn)
                    seen[np.flatnonzero(scenario_of == s)[drawn]] = True
                    mean, variance = mean_with_interval(values[drawn], int(np.isfinite(values).sum()))
                    per_method["random + mean"].append(mean)
                    variances.append(variance)
                    per_method["stratified random"].append(
                        stratified_estimate(values, reference.difficulty[s], allocation[s], rng))
                    per_method["anchor points"].append(anchor_estimate(values, *anchors[budget, seed, s]))
                everything = np.concatenate(new_items)
                theta = irt_ability(everything[seen], irt.slope[seen], irt.intercept[seen])
                predicted = expit(irt.slope * theta + irt.intercept)
                for s, values in enumerate(new_items):
                    rows = np.flatnonzero(scenario_of == s)
                    have = np.isfinite(values)
                    per_method["IRT"].append(float(predicted[rows][have].mean()))
                    unseen = have.copy()
                    unseen[randoms[s]] = False
                    per_method["p-IRT"].append(
                        (float(values[randoms[s]].sum()) + float(predicted[rows][unseen].sum())) / have.sum())
                orders = flash.orders_for(name, reference, config, seed)
                sample = next(flash.stage_samples(orders, [np.isfinite(v) for v in new_items], (max(allocation), None),
                                                  availability_known=True))
                _, _, _, greg, greg_half = flash.rank_greg(new_items, sample, orders, reference, config)
                for method in METHODS:
                    tally = tallies[budget][method]
                    tally.items[seed, column] = sum(min(a, int(np.isfinite(v).sum()))
                                                    for a, v in zip(allocation, new_items, strict=True))
                    if method == "Flash (GREG)":
                        tally.estimates[seed, column], tally.half_widths[seed, column] = greg, greg_half
                        tally.items[seed, column] = sample.items_used
                    else:
                        tally.estimates[seed, column] = float(np.nanmean(per_method[method]))
                tallies[budget]["random + mean"].half_widths[seed, column] = (
                    Z_95 * math.sqrt(sum(variances)) / len(variances))
    return tallies


def summarise(board_name: str, results: stats.ResultsMatrix, tallies: dict[float, dict[str, _Tally]],
              held: list[int]) -> list[MethodSummary]:
    """Return each method's errors at each budget against the full-data scores."""
    scores = stats.overall_scores(results)
    truth = scores[held]
    true_rank = np.array([1 + int(np.sum(np.delete(scores, m) > scores[m])) for m in held])
    out = []
    for budget, by_method in tallies.items():
        for method, tally in by_method.items():
            estimated_rank = np.array([[1 + int(np.sum(np.delete(scores, m) > e)) for m, e in zip(held, row,
                                                                                                    strict=True)]
                                       for row in tally.estimates])
            taus = [scipy_stats.kendalltau(row, truth).statistic for row in tally.estimates]
            error = np.abs(tally.estimates - truth)
            covered = error <= tally.half_widths + 1e-12
            has_interval = method in WITH_INTERVALS
            out.append(MethodSummary(
                board_name, budget, float(tally.items.mean()), method, float(error.mean()),
                float(error.mean(axis=0).std(ddof=1) / math.sqrt(len(held))) if len(held) > 1 else math.nan,
                float(np.abs(estimated_rank - true_rank).mean()), float(np.nanmean(taus)),
                float(covered.mean()) if has_interval else math.nan,
                float(tally.half_widths.mean()) if has_interval else math.nan, len(held), tally.estimates.shape[0]))
    return out


def table(rows: list[MethodSummary]) -> str:
    """Return the rows as a Markdown table, one line per budget and method."""
    lines = ["| budget | items | method | score MAE (pts) +- SE | rank error | Kendall tau | coverage "
             "| half-width (pts) |", "|---:|---:|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        interval = (f"{r.coverage:.1%} | {100 * r.half_width:.2f}" if not math.isnan(r.coverage) else "- | -")
        lines.append(f"| {r.budget:.0%} | {r.items:.0f} | {r.method} | {100 * r.mae:.2f} +- {100 * r.mae_se:.2f} "
                     f"| {r.rank_error:.2f} | {r.kendall_tau:.3f} | {interval} |")
    return "\n".join(lines)


def holdout_sample(results: stats.ResultsMatrix, count: int | None) -> list[int]:
    """Return the held-out models: all, or `count` spread evenly over the full-data ranking."""
    n = len(results.models)
    if count is None or count >= n:
        return list(range(n))
    by_score = np.argsort(-stats.overall_scores(results), kind="stable")
    return sorted(int(by_score[i]) for i in np.linspace(0, n - 1, count).round().astype(int))


def main(argv: list[str] | None = None) -> list[MethodSummary]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--board", default="mmlu-pro", choices=[*sorted(EXAMPLES), "synth"])
    parser.add_argument("--budgets", help="shares of all items, in percent, comma-separated (default 1,2,5,10;"
                        " with --smoke 10)")
    parser.add_argument("--seeds", type=int, default=3, help="item draws per held-out model")
    parser.add_argument("--synth-models", type=int, default=200)
    parser.add_argument("--synth-items", type=int, default=2000)
    parser.add_argument("--synth-scenarios", type=int, default=4)
    parser.add_argument("--holdout", type=int, help="hold out this many models spread over the ranking (default all)")
    parser.add_argument("--smoke", action="store_true", help="a small synthetic board, one budget, one seed")
    args = parser.parse_args(argv)
    budgets = [float(b) / 100 for b in (args.budgets or ("10" if args.smoke else "1,2,5,10")).split(",")]
    if any(not 0 < b <= 1 for b in budgets):
        parser.error("--budgets are percentages in (0, 100]")
    if args.smoke:
        spec = synth.SynthSpec(n_models=12, n_items=240, n_scenarios=3, seed=0)
        seeds, label = 1, "smoke"
    else:
        spec = synth.SynthSpec(n_models=args.synth_models, n_items=args.synth_items,
                               n_scenarios=args.synth_scenarios, seed=0)
        seeds, label = args.seeds, args.board
    results = synth_board(spec) if args.smoke or args.board == "synth" else example_board(args.board)
    held = holdout_sample(results, args.holdout)
    shape = (f"{len(results.models)} models x {sum(m.shape[0] for m in results.scores):,} items in "
             f"{len(results.scenarios)} scenarios")
    print(f"board: {label} ({shape}), {len(held)} models held out in turn, {seeds} seeds")
    print("command: python benchmarks/bench_efficient.py " + " ".join(sys.argv[1:] if argv is None else argv))
    wall, cpu = time.perf_counter(), time.process_time()
    tallies = evaluate(results, budgets, seeds, holdout=held)
    rows = summarise(label, results, tallies, held)
    print(table(rows))
    print(f"{time.perf_counter() - wall:.1f} s wall, {time.process_time() - cpu:.1f} s CPU")
    return rows


if __name__ == "__main__":
    main()
