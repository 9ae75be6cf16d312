"""Independent, deliberately plain implementations that effbench's statistics are checked against.

Written from the method's definition, sharing no code with `effbench.stats`: the data is pivoted
with pandas straight from the results file, and the bootstrap is a loop over resamples.
Run as a script to print the reference rank intervals and examples-DIoR of the bundled MMLU-Pro example.
"""

from __future__ import annotations

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
    results: pd.DataFrame, n_resamples: int = 1000, confidence_level: float = 0.95, seed: int = 12345
) -> pd.DataFrame:
    """Loop over resamples: draw each scenario's items with replacement (the same draw for every
    model), recompute overall scores and ranks; return each model's rank and percentile interval."""
    rng = np.random.default_rng(seed)
    matrices = pivot_by_scenario(results)
    models = sorted(results["model"].unique())
    point = ranks_of(overall_scores(matrices)).reindex(models)
    draws = []
    for _ in range(n_resamples):
        resampled = {}
        for scenario, matrix in matrices.items():
            rows = rng.integers(0, len(matrix), size=len(matrix))
            resampled[scenario] = matrix.iloc[rows]
        draws.append(ranks_of(overall_scores(resampled)).reindex(models).to_numpy())
    draws = np.array(draws)
    tail = (1 - confidence_level) / 2
    return pd.DataFrame({
        "rank": point.to_numpy(),
        "rank_lo": np.quantile(draws, tail, axis=0, method="inverted_cdf"),
        "rank_hi": np.quantile(draws, 1 - tail, axis=0, method="inverted_cdf"),
    }, index=models)


def examples_dior(
    results: pd.DataFrame, n: int, n_draws: int = 1000, confidence_level: float = 0.95, seed: int = 7
) -> float:
    """Loop over draws: keep n random items per scenario (without replacement), recompute the scores,
    take scipy's Kendall tau with the full-data scores; return the lower percentile of the taus."""
    from scipy import stats

    rng = np.random.default_rng(seed)
    matrices = pivot_by_scenario(results)
    full = overall_scores(matrices)
    taus = []
    for _ in range(n_draws):
        sampled = {s: m.iloc[rng.choice(len(m), size=min(n, len(m)), replace=False)] for s, m in matrices.items()}
        scores = overall_scores(sampled).reindex(full.index)
        taus.append(stats.kendalltau(full.to_numpy(), scores.to_numpy()).statistic)
    return float(np.quantile(taus, (1 - confidence_level) / 2))


if __name__ == "__main__":
    from effbench.examples import EXAMPLES

    frame = pd.read_csv(EXAMPLES["mmlu-pro"].results_path)
    print(bootstrap_rank_intervals(frame).sort_values("rank").to_string())
    for n in (10, 50, 200):
        print(f"examples DIoR (Kendall tau) at n = {n}: {examples_dior(frame, n):.3f}")
