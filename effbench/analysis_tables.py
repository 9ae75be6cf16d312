"""Each analysis's rows and tables: the parameters stored with it, the results matrix it reads, the frames
it writes and, for DIoR, how its stored rows become a result again.

`store` knows DuckDB (schema, loading, the generic `analyses` record); this module knows what each
analysis (`stats`, `reliability`, `flash`) returns, so a new analysis changes this module and not the
storage layer.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import duckdb
import numpy as np
import pandas as pd

from effbench import store
from effbench.boards import Board
from effbench.errors import EffbenchError
from effbench.flash import FlashConfig, FlashSimulation
from effbench.reliability import (
    DECISIONS,
    DEFAULT_METRICS,
    DiorRow,
    Disagreement,
    RankResolution,
    ReliabilityResult,
    recommend,
)
from effbench.sql import quote_ident
from effbench.stats import RankIntervals, ResultsMatrix


@dataclass(frozen=True)
class DiorParameters:
    """Parameters of the reliability (DIoR) analysis, stored with its results."""

    n_draws: int = 1000
    confidence_level: float = 0.95
    seed: int = 0
    target: float = 0.9
    decisions: tuple[str, ...] = DECISIONS
    metrics: tuple[str, ...] = DEFAULT_METRICS


@dataclass(frozen=True)
class AnalysisParameters:
    """Parameters of the ranking analysis, stored with its results in the `analyses` table."""

    n_resamples: int = 1000
    confidence_level: float = 0.95
    seed: int = 0
    aggregation: str = "macro mean of scenario means; a missing scenario counts at the board's lowest score there"
    method: str = ("paired Bayesian bootstrap over items within scenarios with Jeffreys pseudo-items; "
                   "rank intervals from paired differences")
    rank_method: str = "marginal"  # or "simultaneous": every model's rank interval at once


def results_matrix(con: duckdb.DuckDBPyConnection) -> ResultsMatrix:
    """Return the scored results as one matrix per scenario, models with at least one score only.

    Several rows for one model x item (prompts, seeds) count as their mean. The rows are read as
    (scenario index, model index, item index, score) in a few queries, each over consecutive scenarios
    holding at most `_BATCH_ROWS` rows, and sliced into the matrices in numpy: a board of thousands of
    small scenarios takes a few queries, not one each, and memory beyond the matrices themselves is one
    batch's rows.
    """
    models = tuple(r[0] for r in con.execute(
        "SELECT DISTINCT model FROM scores WHERE score IS NOT NULL ORDER BY model").fetchall())
    if not models:
        raise EffbenchError("the database holds no scored results yet; load some with `effbench ingest`")
    shape = con.execute(
        "SELECT c.scenario, any_value(s.level), bool_or(s.higher_is_better IS FALSE), count(*)"
        " FROM scores AS c JOIN scenarios AS s USING (scenario) WHERE c.score IS NOT NULL"
        " GROUP BY c.scenario ORDER BY c.scenario"
    ).fetchall()
    model_index = pd.DataFrame({"model": list(models), "m": np.arange(len(models), dtype=np.int32)})
    scenario_index = pd.DataFrame({"scenario": [row[0] for row in shape],
                                   "s": np.arange(len(shape), dtype=np.int32),
                                   "negated": [bool(row[2]) for row in shape]})
    con.register("_effbench_model_index", model_index)
    con.register("_effbench_scenario_index", scenario_index)
    try:
        matrices, ids = [], []
        for first, last in _scenario_batches([row[3] for row in shape]):
            for items, matrix in _batch_matrices(con, first, last, len(models)):
                matrices.append(matrix)
                ids.append(tuple(str(i) for i in items if i is not None))
    finally:
        con.unregister("_effbench_model_index")
        con.unregister("_effbench_scenario_index")
    return ResultsMatrix(
        models=models,
        scenarios=tuple(row[0] for row in shape),
        scores=tuple(matrices),
        resampled=tuple(row[1] == "item" for row in shape),
        item_ids=tuple(ids),
        lower_is_better=tuple(bool(row[2]) for row in shape),
    )


def model_sets(con: duckdb.DuckDBPyConnection) -> dict[str, frozenset[str]]:
    """Return, per scenario in `results_matrix`'s order, the models with at least one score there: what boards are
    formed from (`boards.model_sets` of the results matrix), in one query instead of reading every result."""
    rows = con.execute("SELECT scenario, list(DISTINCT model) FROM scores WHERE score IS NOT NULL"
                       " GROUP BY scenario ORDER BY scenario").fetchall()
    return {scenario: frozenset(models) for scenario, models in rows}


def board_item_count(con: duckdb.DuckDBPyConnection, board: Board) -> int:
    """Return the items of `board`'s per-item scenarios that one of its ranked models has a score for: the rows of
    those scenarios in its results matrix (`boards.board_results`), counted in SQL (a missing item id is one item,
    as there)."""
    return int(con.execute(
        "SELECT coalesce(sum(n), 0) FROM (SELECT count(DISTINCT c.item_id) + max((c.item_id IS NULL)::INTEGER) AS n"
        " FROM scores AS c JOIN scenarios AS s USING (scenario)"
        " WHERE c.score IS NOT NULL AND s.level = 'item' AND list_contains($scenarios, c.scenario)"
        " AND list_contains($models, c.model) GROUP BY c.scenario)",
        {"scenarios": list(board.scenarios), "models": list(board.ranked)}).fetchone()[0])


# Scored rows read per query: bounds the memory of reading a large board.
_BATCH_ROWS = 1 << 23


def _scenario_batches(rows: Sequence[int]) -> list[tuple[int, int]]:
    """Return (first, last) scenario indices of consecutive runs of scenarios holding at most `_BATCH_ROWS`
    scored rows together (a larger scenario alone)."""
    batches, first, held = [], 0, 0
    for s, count in enumerate(rows):
        if s > first and held + count > _BATCH_ROWS:
            batches.append((first, s - 1))
            first, held = s, 0
        held += count
    if rows:
        batches.append((first, len(rows) - 1))
    return batches


# The scored rows of scenarios $first..$last (by index) as (scenario, model, item index, score); items are
# numbered in item_id order within their scenario, and a lower-is-better scenario's scores are negated.
_BATCH_CELLS = (
    "WITH cells AS (SELECT x.s, scores.model, scores.item_id,"
    " CASE WHEN x.negated THEN 0 - scores.score ELSE scores.score END AS score"
    " FROM scores JOIN _effbench_scenario_index AS x USING (scenario)"
    " WHERE x.s BETWEEN $first AND $last AND scores.score IS NOT NULL),"
    " items AS (SELECT s, item_id, (row_number() OVER (PARTITION BY s ORDER BY item_id) - 1)::INTEGER AS i"
    " FROM (SELECT DISTINCT s, item_id FROM cells))"
    " {select} FROM cells JOIN _effbench_model_index AS x USING (model)"
    " JOIN items ON items.s = cells.s AND items.item_id IS NOT DISTINCT FROM cells.item_id{group}"
)
_BATCH_ITEMS = (
    "SELECT s, item_id FROM (SELECT DISTINCT x.s, scores.item_id FROM scores"
    " JOIN _effbench_scenario_index AS x USING (scenario)"
    " WHERE x.s BETWEEN $first AND $last AND scores.score IS NOT NULL) ORDER BY s, item_id"
)


def _batch_matrices(con: duckdb.DuckDBPyConnection, first: int, last: int, n_models: int
                    ) -> list[tuple[list, np.ndarray]]:
    """Return, for each scenario from index `first` to `last`, its item ids in order (NULL last: a
    scenario-level result) and its ``(n_items, n_models)`` matrix (NaN = no score); a lower-is-better
    scenario enters with its scores negated, so that higher is better everywhere."""
    bounds = {"first": first, "last": last}
    items = con.execute(_BATCH_ITEMS, bounds).fetchall()
    # each scenario's first row in the batch's items, and its number of items
    starts = np.searchsorted(np.array([s for s, _ in items], dtype=np.int64), np.arange(first, last + 2))
    sizes = np.diff(starts)
    cells = con.execute(_BATCH_CELLS.format(select="SELECT cells.s, x.m, items.i, cells.score", group=""),
                        bounds).fetchnumpy()
    cell = (starts[cells["s"] - first] + cells["i"]) * n_models + cells["m"]
    if np.bincount(cell, minlength=starts[-1] * n_models).max(initial=0) > 1:  # repeated rows: their mean
        del cell, cells
        cells = con.execute(_BATCH_CELLS.format(select="SELECT cells.s, x.m, items.i, avg(cells.score) AS score",
                                                group=" GROUP BY cells.s, x.m, items.i"), bounds).fetchnumpy()
        cell = (starts[cells["s"] - first] + cells["i"]) * n_models + cells["m"]
    values = np.full(starts[-1] * n_models, np.nan)
    values[cell] = np.asarray(cells["score"], dtype=np.float64)
    ids = [item for _, item in items]
    return [(ids[starts[k]:starts[k + 1]],
             values[starts[k] * n_models:starts[k + 1] * n_models].reshape(sizes[k], n_models))
            for k in range(last - first + 1)]


def prompt_matrix(con: duckdb.DuckDBPyConnection, models: Sequence[str], scenarios: Sequence[str]
                  ) -> tuple[str, tuple[np.ndarray, ...]] | None:
    """Return (key column, per scenario ``(n_items, n_prompts, n_models)`` scores) for data loaded with a
    --key column (prompts, seeds), in the order of `models` and `scenarios`; None without such data."""
    keys = [k for (options,) in con.execute("SELECT CAST(options AS VARCHAR) FROM sources WHERE kind = 'long'")
            .fetchall() for k in json.loads(options).get("keys", [])]
    if not keys:
        return None
    # The prompts decision is about prompts: prefer a key named so over seeds, epochs or trials.
    chosen = next((k for k in keys if "prompt" in k.lower()), keys[0])
    key = quote_ident(chosen)
    frame = con.execute(
        f"SELECT model, scenario, item_id, CAST({key} AS VARCHAR) AS variant, avg(score) AS score FROM scores"
        f" WHERE score IS NOT NULL AND item_id IS NOT NULL AND {key} IS NOT NULL GROUP BY ALL"
    ).df()
    if frame.empty or frame["variant"].nunique() < 2:
        return None
    model_index = {m: i for i, m in enumerate(models)}
    variants = sorted(frame["variant"].unique())
    variant_index = {v: i for i, v in enumerate(variants)}
    matrices = []
    for scenario in scenarios:
        part = frame[(frame["scenario"] == scenario) & frame["model"].isin(model_index)]
        items = sorted(part["item_id"].unique())
        matrix = np.full((max(len(items), 1), len(variants), len(models)), np.nan)
        item_index = {item: i for i, item in enumerate(items)}
        if not part.empty:  # a scenario without this key (or per-scenario only) stays all missing
            matrix[part["item_id"].map(item_index).to_numpy(), part["variant"].map(variant_index).to_numpy(),
                   part["model"].map(model_index).to_numpy()] = part["score"].to_numpy()
        matrices.append(matrix)
    return chosen, tuple(matrices)


def save_ranking(
    con: duckdb.DuckDBPyConnection,
    result: RankIntervals,
    disagreements: Sequence[Disagreement],
    parameters: AnalysisParameters,
    board: Board,
) -> None:
    """Replace `board`'s stored ranking analysis with `result` and its `disagreements`, recording parameters."""
    models = list(result.models)
    overall = pd.DataFrame({
        "model": models, "rank": result.rank, "rank_lo": _int_or_null(result.rank_lo),
        "rank_hi": _int_or_null(result.rank_hi), "score": result.score, "score_lo": result.score_lo,
        "score_hi": result.score_hi, "analysis": store.RANKING_ANALYSIS,
        "partial": result.partial, "missing_scenarios": result.missing_scenarios,
        "micro_score": result.micro_score, "micro_score_lo": result.micro_score_lo,
        "micro_score_hi": result.micro_score_hi, "micro_rank": result.micro_rank,
        "micro_rank_lo": _int_or_null(result.micro_rank_lo), "micro_rank_hi": _int_or_null(result.micro_rank_hi),
        "rank_method": result.rank_method,
    })
    weights = pd.DataFrame({
        "scenario": list(result.scenarios), "n_items": result.scenario_items,
        "macro_weight": 1 / len(result.scenarios), "micro_weight": result.scenario_items / result.scenario_items.sum(),
        "variance_share": result.scenario_variance_share, "tiny": result.tiny_scenarios,
    })
    n_scenarios = len(result.scenarios)
    per_scenario = pd.DataFrame({
        "model": np.tile(models, n_scenarios),
        "scenario": np.repeat(result.scenarios, len(models)),
        "n_items": result.items_scored.ravel(),
        "score": result.scenario_score.ravel(),
        "score_lo": result.scenario_score_lo.ravel(),
        "score_hi": result.scenario_score_hi.ravel(),
        "rank": _int_or_null(result.scenario_rank.ravel()),
        "rank_lo": _int_or_null(result.scenario_rank_lo.ravel()),
        "rank_hi": _int_or_null(result.scenario_rank_hi.ravel()),
        "analysis": store.RANKING_ANALYSIS,
    })
    model_index, first, last, share = result.rank_histogram()
    distribution = pd.DataFrame({
        "model": np.asarray(models)[model_index], "rank": first, "rank_last": last,
        "share": share, "analysis": store.RANKING_ANALYSIS,
    })
    pairs = pd.DataFrame({
        "model_a": [d.model_a for d in disagreements], "model_b": [d.model_b for d in disagreements],
        "a_better_in": [list(d.a_better_in) for d in disagreements],
        "b_better_in": [list(d.b_better_in) for d in disagreements],
        "analysis": store.RANKING_ANALYSIS,
    }).astype({"model_a": object, "model_b": object, "a_better_in": object, "b_better_in": object})
    frames = {"rank_intervals": overall, "scenario_intervals": per_scenario[per_scenario["score"].notna()],
              "rank_distribution": distribution, "disagreements": pairs, "scenario_weights": weights}
    store.replace_analysis(con, store.RANKING_ANALYSIS, frames, {
        "method": parameters.method, "seed": parameters.seed, "n_resamples": parameters.n_resamples,
        "confidence_level": parameters.confidence_level, "aggregation": parameters.aggregation,
    }, parameters, board)


def save_dior(con: duckdb.DuckDBPyConnection, result: ReliabilityResult, parameters: DiorParameters,
              board: Board) -> None:
    """Replace `board`'s stored reliability analysis with `result`, recording its parameters."""
    rows = pd.DataFrame([
        {"decision": r.decision, "level": r.level, "meta_metric": r.meta_metric, "mean": r.mean, "lo": r.lo,
         "hi": r.hi, "dior": r.dior, "compute_fraction": r.compute_fraction, "n_draws": r.n_draws, "seed": r.seed,
         "metric_range": r.metric_range, "aggregation": r.aggregation, "level_order": r.order,
         "confidence_level": result.confidence_level}
        for r in result.rows
    ])
    resolution = pd.DataFrame([
        {"examples_per_scenario": r.examples_per_scenario, "half_width": r.half_width,
         "compute_fraction": r.compute_fraction, "compute_saved": 1 / r.compute_fraction, "level_order": i}
        for i, r in enumerate(result.rank_resolution)
    ], columns=["examples_per_scenario", "half_width", "compute_fraction", "compute_saved", "level_order"])
    n = len(result.scenarios)
    agreement = pd.DataFrame({
        "scenario_a": np.repeat(result.scenarios, n), "scenario_b": np.tile(result.scenarios, n),
        "kendall_tau": result.scenario_agreement.ravel(),
    })
    instability = pd.DataFrame({
        "removed_model": [m.removed_model for m in result.mwr_instability],
        "changed_models": [list(m.changed_models) for m in result.mwr_instability],
        "top_pair_swapped": [m.top_pair_swapped for m in result.mwr_instability],
    }).astype({"removed_model": object, "changed_models": object, "top_pair_swapped": bool})
    advice = pd.DataFrame({"position": range(len(result.recommendations)), "text": list(result.recommendations)})
    frames = {"dior": rows, "rank_resolution": resolution, "scenario_agreement": agreement,
              "mwr_instability": instability, "recommendations": advice}
    store.replace_analysis(con, store.DIOR_ANALYSIS, frames, {
        "method": "random instantiations of each design decision", "seed": parameters.seed,
        "n_resamples": parameters.n_draws, "confidence_level": parameters.confidence_level,
        "aggregation": "macro mean of scenario means",
    }, parameters, board)


def save_flash(con: duckdb.DuckDBPyConnection, simulations: Sequence[FlashSimulation], config: FlashConfig,
               default_variant: str, board: Board) -> None:
    """Replace `board`'s stored Flash simulation with `simulations`, recording the configuration."""
    per_model, stages, summaries = [], [], []
    for simulation in simulations:
        tiers = simulation.config.tiers
        for outcome in simulation.outcomes:
            final = outcome.final
            per_model.append({
                "variant": simulation.variant, "model": outcome.model, "stop_stage": final.stage,
                "items_used": final.items_used, "items_full": outcome.items_full, "saving": outcome.saving,
                "flash_rank": final.rank, "rank_lo": final.rank_lo, "rank_hi": final.rank_hi,
                "tier": tiers[final.tier].label, "full_rank": outcome.full_rank,
                "abs_error": None if outcome.full_rank is None else abs(final.rank - outcome.full_rank),
                "within_resolution": outcome.within_resolution, "covered": outcome.covered,
            })
            stages.extend({"variant": simulation.variant, "model": outcome.model, "stage": st.stage,
                           "items_used": st.items_used, "rank": st.rank, "rank_lo": st.rank_lo,
                           "rank_hi": st.rank_hi, "resolution_met": st.resolution_met} for st in outcome.stages)
        summaries.append({**asdict(simulation.summary), "is_default": simulation.summary.variant == default_variant})
    frames = {"flash": pd.DataFrame(per_model), "flash_stages": pd.DataFrame(stages),
              "flash_summary": pd.DataFrame(summaries)}
    store.replace_analysis(con, store.FLASH_ANALYSIS, frames, {
        "method": "leave-one-out replay of Flash rankings", "seed": config.seed, "n_resamples": config.n_resamples,
        "confidence_level": config.confidence_level, "aggregation": "macro mean of scenario means",
    }, config, board)


def stored_dior(con: duckdb.DuckDBPyConnection, parameters: DiorParameters, board: Board
                ) -> ReliabilityResult:
    """Return `board`'s stored reliability analysis, narrowed to the decisions and meta-metrics of `parameters`
    (whose draws, seed and confidence level must be the stored ones: see `effbench.store.analysis_is_current`)."""
    decision_order = {d: i for i, d in enumerate(parameters.decisions)}
    metric_order = {m: i for i, m in enumerate(parameters.metrics)}
    frame = con.execute("SELECT * EXCLUDE (board) FROM dior WHERE board = ?", [board.name]).df()
    frame = frame[frame["decision"].isin(decision_order) & frame["meta_metric"].isin(metric_order)]
    frame = frame.assign(_d=frame["decision"].map(decision_order), _m=frame["meta_metric"].map(metric_order))
    frame = frame.sort_values(["_d", "aggregation", "level_order", "_m"], kind="stable")
    rows = tuple(
        DiorRow(r.decision, r.level, r.meta_metric, float(r.mean), float(r.lo), float(r.hi), float(r.dior),
                            float(r.compute_fraction), int(r.n_draws), None if r.seed is None else int(r.seed),
                            r.metric_range, r.aggregation, int(r.level_order))
        for r in frame.itertuples(index=False)
    )
    resolution = tuple(
        RankResolution(r[0], int(r[1]), float(r[2])) for r in con.execute(
            "SELECT examples_per_scenario, half_width, compute_fraction FROM rank_resolution WHERE board = ?"
            " ORDER BY level_order", [board.name]
        ).fetchall()
    )
    scenarios = board.scenarios
    return ReliabilityResult(
        rows=rows, rank_resolution=resolution, mwr_instability=(), scenario_agreement=np.full((0, 0), np.nan),
        scenarios=scenarios, recommendations=recommend(rows, resolution, parameters.target,
                                                                  len(board.ranked), parameters.confidence_level),
        n_draws=parameters.n_draws, confidence_level=parameters.confidence_level, seed=parameters.seed,
        target=parameters.target,
    )


def _int_or_null(values: np.ndarray) -> pd.Series:
    """Return `values` as a nullable integer column: NaN becomes NULL."""
    return pd.Series(values, dtype="Float64").round().astype("Int64")
