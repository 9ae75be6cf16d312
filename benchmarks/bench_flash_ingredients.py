"""What each ingredient of Flash's design-based variant adds, measured on a bundled example.

Usage: python benchmarks/bench_flash_ingredients.py [--example mmlu-pro|livecodebench] [--seeds 5] [--smoke]

Two tables. **Replays**: the leave-one-out simulation (every model treated as new in turn, `--seeds` item
orders, the board's own tiers and full-run floor, as `effbench build` resolves them) of the design before
the error-control ingredients, then with each added in turn, then of the default with one thing changed:
the saving (mean over the orders, range), the share of replays within resolution, the coverage of the final
rank interval, and the coverage of every look's score interval (the group-sequential claim, nominal 95%) over
all paths and in the worst of the three position bands (`bench_flash.py --coverage`).

**Bounds**: what a better auxiliary or sampling design could give the GREG estimator at most. For each
held-out model and scenario, the variance of its estimate relative to the default (simple random sampling,
regression on the board difficulty), from its results on every item: the best the ingredient could do,
since a real run fits it on a sample. An auxiliary's ratio is its residual variance over the difficulty
regression's; a design's is its variance over simple random sampling's at the same number of items. At
equal precision the items needed scale with the ratio (0.9: a tenth fewer items).
`--smoke` runs a tiny synthetic board with one order, for the tests.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
from scipy.special import expit, logit

from effbench import flash
from effbench.stats import ResultsMatrix


def _sibling(name: str):
    """A benchmark script beside this one, imported by its path (the tests load these scripts by path too)."""
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # its dataclasses look their module up by name
        spec.loader.exec_module(module)
    return sys.modules[name]


bench_flash = _sibling("bench_flash")
bench_efficient = _sibling("bench_efficient")

BEFORE = {"spending": "flat", "intersect": False}
LADDER = (("one critical value for every look, each look's own interval", BEFORE),
          ("+ the error spent where the board's models stop", {"intersect": False}),
          ("+ rank intervals from the intersection of the looks' (the default)", {}))
CHANGES = (("the default, with items in random order", {"order": "random"}),
           ("the default, with Bonferroni over the looks", {"correction": "bonferroni"}),
           ("the default, with stages x1.2 instead of x1.5", {"growth": 1.2}),
           ("the default, without the variance floor", {"variance_floor": False}))


def replay_rows(results: ResultsMatrix, config: flash.FlashConfig) -> list[tuple[str, flash.FlashSummary, dict]]:
    """The replay of each variant of the table: its label, summary and every-look coverage by band."""
    rows = []
    for label, change in (*LADDER, *CHANGES):
        variant = replace(config, **change)
        summary = flash.simulate(results, config=variant).summary
        rows.append((label, summary, bench_flash.look_coverage(results, variant)))
    return rows


def print_replays(rows: list[tuple[str, flash.FlashSummary, dict]]) -> None:
    print("| design | saving | within resolution | rank-interval coverage | every look covered: all / worst band |")
    print("|---|---|---|---|---|")
    for label, s, tally in rows:
        total = sum(tally.values())
        worst = min((v[1] / v[0], band) for band, v in tally.items() if v[0])
        print(f"| {label} | x{s.saving:.1f} (x{s.saving_lo:.1f}-x{s.saving_hi:.1f}) | {s.within_resolution:.1%} | "
              f"{s.coverage:.1%} | {total[1] / total[0]:.1%} / {worst[0]:.1%} ({worst[1]}) |")


def _residual_variance(y: np.ndarray, *columns: np.ndarray) -> float:
    """The mean squared residual of `y` regressed (least squares, with an intercept) on `columns`."""
    design = np.column_stack([np.ones_like(y), *columns])
    coefficients, *_ = np.linalg.lstsq(design, y, rcond=None)
    return float(np.mean((y - design @ coefficients) ** 2))


def _logistic_curve(y: np.ndarray, difficulty: np.ndarray, iterations: int = 25) -> np.ndarray:
    """The model's P(right) as sigmoid(a + b logit(difficulty)), fitted on `y` by Newton's method."""
    z = logit(np.clip(difficulty, 0.02, 0.98))
    design = np.column_stack([np.ones_like(z), z])
    beta = np.array([0.0, 1.0])
    for _ in range(iterations):
        p = expit(design @ beta)
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + 1e-6 * np.eye(2)
        beta = beta + np.linalg.solve(hessian, design.T @ (y - p))
    return expit(design @ beta)


def _pps_ratio(e: np.ndarray, size: np.ndarray) -> float:
    """Variance of the Hansen-Hurwitz estimator with probabilities proportional to `size`, over simple random
    sampling's, at the same number of draws, for residuals `e`."""
    size = np.maximum(size, 1e-12)
    return float(size.mean() * np.mean(e * e / size) / np.mean(e * e))


BOUNDS = ("a logistic curve in the difficulty, per model",
          "a 2PL model fitted on the board (ability from all the model's items)",
          "the board's first 5 principal components of item scores",
          "the 3 board models most correlated with it (chosen on all items)",
          "items drawn with probability proportional to the board's residual SD",
          "items drawn proportional to the model's own predicted SD",
          "items allocated across scenarios by Neyman's rule")


def bound_ratios(results: ResultsMatrix) -> dict[str, float]:
    """The mean over held-out models and scenarios of each ingredient's variance ratio (`BOUNDS`)."""
    ratios: dict[str, list[float]] = {name: [] for name in BOUNDS}
    n_models = len(results.models)
    for m in range(n_models):
        residual_sd = []
        for matrix in results.scores:
            have = np.isfinite(matrix[:, m])
            board = np.nan_to_num(np.delete(matrix[have], m, axis=1))
            y = np.clip(matrix[have, m], 0, 1)
            x = board.mean(axis=1)
            if y.size < 10 or np.var(y) == 0 or np.var(x) == 0:
                continue
            slope = np.cov(x, y, bias=True)[0, 1] / np.var(x)
            e = y - y.mean() - slope * (x - x.mean())
            base = float(np.mean(e * e))
            residual_sd.append(np.sqrt(base))
            curve = _logistic_curve(y, x)
            irt = bench_efficient.fit_irt(board, iterations=20)
            ability = bench_efficient.irt_ability(y, irt.slope, irt.intercept)
            centred = board - board.mean(axis=1, keepdims=True)
            components = np.linalg.svd(centred, full_matrices=False)[2][:5].T
            scores = centred @ components  # the items' scores on the components
            others = board.T
            correlation = np.array([np.corrcoef(y, o)[0, 1] if np.var(o) > 0 else -1.0 for o in others])
            nearest = others[np.argsort(correlation)[::-1][:3]].T
            predicted = expit(irt.slope * ability + irt.intercept)
            fitted = [_residual_variance(y, x, curve), _residual_variance(y, x, predicted),
                      _residual_variance(y, x, scores), _residual_variance(y, x, nearest)]
            for name, value in zip(BOUNDS[:4], fitted, strict=True):
                ratios[name].append(value / base)
            board_slopes = ((x - x.mean()) @ (board - board.mean(axis=0))) / (x.size * np.var(x))
            board_residuals = board - board.mean(axis=0) - np.outer(x - x.mean(), board_slopes)
            # per item, the board's residual SD, at least sqrt(0.02): no item is left out of the draw
            board_sd = np.sqrt(np.maximum(np.mean(board_residuals**2, axis=1), 0.02))
            ratios[BOUNDS[4]].append(_pps_ratio(e, board_sd))
            ratios[BOUNDS[5]].append(_pps_ratio(e, np.sqrt(np.maximum(curve * (1 - curve), 0.01))))
        if residual_sd:
            sd = np.array(residual_sd)
            ratios[BOUNDS[6]].append(float(sd.mean() ** 2 / np.mean(sd * sd)))
    return {name: float(np.mean(values)) if values else float("nan") for name, values in ratios.items()}


def print_bounds(ratios: dict[str, float]) -> None:
    print("| ingredient (fitted on the model's own results: a bound) | variance ratio |")
    print("|---|---|")
    for name, value in ratios.items():
        print(f"| {name} | {value:.3f} |")


def main(argv: list[str] | None = None) -> tuple[list, dict[str, float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--example", default="mmlu-pro", choices=("mmlu-pro", "livecodebench"))
    parser.add_argument("--seeds", type=int, default=flash.FlashConfig().seeds)
    parser.add_argument("--smoke", action="store_true", help="a tiny synthetic board, one item order")
    args = parser.parse_args(argv)
    if args.smoke:
        results = bench_flash.smoke_results()
        config = replace(flash.FlashConfig(seeds=1).at_size(len(results.models)))
    else:
        results = bench_flash.example_results(args.example)
        config = replace(bench_flash.with_floor(results, flash.FlashConfig()), seeds=args.seeds)
    label = "smoke board" if args.smoke else args.example
    print(f"{label}: {len(results.models)} models, {len(results.scenarios)} scenarios, {config.seeds} item orders")
    rows = replay_rows(results, config)
    print_replays(rows)
    ratios = bound_ratios(results)
    print_bounds(ratios)
    return rows, ratios


if __name__ == "__main__":
    main()
