"""Independent, deliberately plain implementations that effbench's statistics are checked against.

Written from the method's definition, sharing no code with `effbench.stats`: the data is pivoted
with pandas straight from the results file, and the bootstrap is a loop over resamples.
Run as a script to print the reference rank intervals and examples-DIoR of the bundled MMLU-Pro example.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd


def pivot_by_scenario(results: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Return {scenario: items x models frame of scores} from a long frame; NaN = not evaluated."""
    return {
        scenario: group.pivot_table(index="item_id", columns="model", values="score", aggfunc="mean", dropna=False)
        for scenario, group in results.groupby("scenario", sort=True)
    }


def overall_scores(matrices: dict[str, pd.DataFrame]) -> pd.Series:
    """Mean over scenarios of each model's mean over its scored items."""
    return pd.concat({s: m.mean(axis=0) for s, m in matrices.items()}, axis=1).mean(axis=1)


def ranks_of(scores: pd.Series) -> pd.Series:
    """1 = best; ties share the best rank."""
    return scores.rank(ascending=False, method="min").astype(int)


def bootstrap_rank_intervals(
    results: pd.DataFrame, n_resamples: int = 1000, confidence_level: float = 0.95, seed: int = 12345,
    simultaneous: bool = False,
) -> pd.DataFrame:
    """Loop over resamples: give each scenario's items Dirichlet(1, ..., 1) weights plus pseudo-items
    scoring 1 and 0 with Gamma(1/2) weights (the same weights for every model), recompute the overall
    scores; then, pair by pair, call model k clearly better than j when their score difference exceeds
    the critical value times the bootstrap standard deviation of the difference. The critical value
    is the `confidence_level` quantile of the largest studentised deviation over j's comparisons (or
    over all pairs when `simultaneous`). Return each model's rank and interval: 1 + the models
    clearly better, and the number of models not clearly worse."""
    rng = np.random.default_rng(seed)
    matrices = pivot_by_scenario(results)
    models = sorted(results["model"].unique())
    point = overall_scores(matrices).reindex(models)
    arrays = [matrix.reindex(columns=models).to_numpy(dtype=float) for matrix in matrices.values()]
    draws = []
    for _ in range(n_resamples):
        scenario_means = []
        for matrix in arrays:
            weights = rng.standard_exponential(len(matrix))
            pseudo_one, pseudo_zero = rng.standard_gamma(0.5, size=2)
            scored = ~np.isnan(matrix)
            sums = (np.where(scored, matrix, 0) * weights[:, None]).sum(axis=0) + pseudo_one
            scenario_means.append(sums / ((scored * weights[:, None]).sum(axis=0) + pseudo_one + pseudo_zero))
        draws.append(np.mean(scenario_means, axis=0))
    draws = np.array(draws)
    n = len(models)
    se = np.zeros((n, n))
    deviation = np.zeros((n_resamples, n, n))
    for j in range(n):
        for k in range(n):
            if j != k:
                difference = draws[:, j] - draws[:, k]
                se[j, k] = difference.std()
                if se[j, k] > 0:
                    deviation[:, j, k] = np.abs(difference - (point.iloc[j] - point.iloc[k])) / se[j, k]
    if simultaneous:
        critical = np.full(n, np.quantile(deviation.max(axis=(1, 2)), confidence_level))
    else:
        critical = np.array([np.quantile(deviation[:, j, :].max(axis=1), confidence_level) for j in range(n)])
    lo, hi = [], []
    for j in range(n):
        better = sum(point.iloc[k] - point.iloc[j] > critical[j] * se[j, k] for k in range(n) if k != j)
        worse = sum(point.iloc[j] - point.iloc[k] > critical[j] * se[j, k] for k in range(n) if k != j)
        lo.append(1 + better)
        hi.append(n - worse)
    return pd.DataFrame({"rank": ranks_of(point).to_numpy(), "rank_lo": lo, "rank_hi": hi}, index=models)


def exact_mean_win_rates(scenario_scores: list[list[Fraction]], present: list[bool] | None = None
                         ) -> list[Fraction | None]:
    """HELM's mean win rate with fractions: `scenario_scores[s][m]`, every model scored everywhere."""
    n_models = len(scenario_scores[0])
    present = present or [True] * n_models
    rates = []
    for m in range(n_models):
        if not present[m]:
            rates.append(None)
            continue
        others = [k for k in range(n_models) if present[k] and k != m]
        per_scenario = [Fraction(sum(row[m] > row[k] for k in others), len(others)) for row in scenario_scores]
        rates.append(sum(per_scenario) / len(per_scenario))
    return rates


def exact_scenario_scores(results: pd.DataFrame) -> tuple[list[str], list[list[Fraction]]]:
    """Return (models, [scenario][model] mean scores as fractions) for 0/1 scores, every model complete."""
    models = sorted(results["model"].unique())
    table = []
    for _, group in results.groupby("scenario", sort=True):
        sums = group.groupby("model")["score"].agg(["sum", "count"]).reindex(models)
        table.append([Fraction(int(a), int(b)) for a, b in zip(sums["sum"], sums["count"], strict=True)])
    return models, table


def examples_dior(
    results: pd.DataFrame, n: int, n_draws: int = 1000, confidence_level: float = 0.95, seed: int = 7
) -> float:
    """Loop over draws: keep n random items per scenario (without replacement), recompute the scores,
    take scipy's Kendall tau with the full-data scores; return the lower percentile of the taus."""
    from scipy import stats

    rng = np.random.default_rng(seed)
    matrices = pivot_by_scenario(results)
    full = overall_scores(matrices)
    # Each scenario as a plain items x models array over every model (NaN = not evaluated): the same
    # means as `overall_scores` of the sampled frames, without pandas' cost on each of the draws.
    arrays = [m.reindex(columns=full.index).to_numpy(np.float64) for m in matrices.values()]
    taus = []
    for _ in range(n_draws):
        means = []
        for array in arrays:
            kept = array[rng.choice(len(array), size=min(n, len(array)), replace=False)]
            scored = ~np.isnan(kept)
            count = scored.sum(axis=0)
            total = np.where(scored, kept, 0.0).sum(axis=0)
            means.append(np.divide(total, count, out=np.full(total.shape, np.nan), where=count > 0))
        means = np.array(means)
        present = ~np.isnan(means)
        total, count = np.where(present, means, 0.0).sum(axis=0), present.sum(axis=0)
        scores = np.divide(total, count, out=np.full(total.shape, np.nan), where=count > 0)
        taus.append(stats.kendalltau(full.to_numpy(), scores).statistic)
    return float(np.quantile(taus, (1 - confidence_level) / 2))


if __name__ == "__main__":
    from effbench.examples import EXAMPLES

    frame = pd.read_csv(EXAMPLES["mmlu-pro"].results_path)
    print(bootstrap_rank_intervals(frame).sort_values("rank").to_string())
    for n in (10, 50, 200):
        print(f"examples DIoR (Kendall tau) at n = {n}: {examples_dior(frame, n):.3f}")
