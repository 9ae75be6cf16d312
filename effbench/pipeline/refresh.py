"""Each stored analysis (ranking, DIoR, Flash replay) of a board, recomputed only when it is stale;
and `dior`, the analysis the `effbench dior` command asks for."""

from __future__ import annotations

from pathlib import Path

import duckdb

from effbench import analysis_tables, flash, reliability, stats, store
from effbench.analysis_tables import AnalysisParameters, DiorParameters
from effbench.boards import Board
from effbench.errors import EffbenchError
from effbench.pipeline.common import (
    MIN_MODELS,
    ResultsReader,
    board_flash_config,
    board_reader,
    pick_board,
    require_database,
    require_models,
)


def refresh_ranking(con: duckdb.DuckDBPyConnection, parameters: AnalysisParameters, board: Board, *,
                    reader: ResultsReader | None = None,
                    rankings: dict[Board, stats.RankIntervals] | None = None) -> bool:
    """Recompute and store `board`'s rank intervals unless the stored ones are current; return whether it did
    (and keep the ranking in `rankings`, for the compare view of the same build).

    Skipping an unchanged analysis leaves the database file untouched, so rebuilding the same
    data gives byte-identical downloads.
    """
    if store.analysis_is_current(con, store.RANKING_ANALYSIS, parameters, board):
        return False
    results = (reader or board_reader(board))(con)
    result = stats.rank_intervals(
        results,
        n_resamples=parameters.n_resamples,
        confidence_level=parameters.confidence_level,
        rank_method=parameters.rank_method,
        rng=parameters.seed,
    )
    analysis_tables.save_ranking(con, result, reliability.disagreements(result, results), parameters, board)
    if rankings is not None:
        rankings[board] = result
    return True


def compute_dior(con: duckdb.DuckDBPyConnection, parameters: DiorParameters, board: Board, *,
                 reader: ResultsReader | None = None) -> reliability.ReliabilityResult:
    """Return the reliability analysis of `board` with `parameters` (not stored)."""
    results = (reader or board_reader(board))(con)
    prompts = analysis_tables.prompt_matrix(con, results.models, results.scenarios)
    try:
        return reliability.dior(
            results, decisions=parameters.decisions, metrics=parameters.metrics,
            prompt_scores=prompts[1] if prompts else None, n_draws=parameters.n_draws,
            confidence_level=parameters.confidence_level, target=parameters.target, rng=parameters.seed,
        )
    except ValueError as error:
        raise EffbenchError(str(error).replace("`", "")) from None


def refresh_dior(con: duckdb.DuckDBPyConnection, parameters: DiorParameters, board: Board, *,
                 reader: ResultsReader | None = None) -> bool:
    """Recompute and store `board`'s reliability analysis unless it is current; return whether it did."""
    if len(board.ranked) < MIN_MODELS:
        return store.drop_analysis(con, store.DIOR_ANALYSIS, board)
    if store.analysis_is_current(con, store.DIOR_ANALYSIS, parameters, board):
        return False
    analysis_tables.save_dior(con, compute_dior(con, parameters, board, reader=reader), parameters, board)
    return True


def dior(db: Path, parameters: DiorParameters, board_name: str | None = None) -> reliability.ReliabilityResult:
    """Return the reliability analysis of a board (`board_name`, or the only one) of the database at `db`
    with `parameters`; store it when it is the full analysis (every decision and the default meta-metrics),
    which the site shows."""
    require_database(db)
    full = DiorParameters(n_draws=parameters.n_draws, confidence_level=parameters.confidence_level,
                          seed=parameters.seed, target=parameters.target)
    with store.open_store(db, read_only=True) as con:
        if not store.has_results(con):
            raise EffbenchError(f"{db}: no results loaded yet; run `effbench build` or `effbench ingest` first")
        board = pick_board(con, board_name)
        require_models(board, "the reliability of its ranking (DIoR)")
        if (set(parameters.decisions) <= set(full.decisions) and set(parameters.metrics) <= set(full.metrics)
                and store.analysis_is_current(con, store.DIOR_ANALYSIS, full, board)):
            # what `effbench build` stored: no need to draw again
            return analysis_tables.stored_dior(con, parameters, board)
    with store.open_store(db) as con:
        result = compute_dior(con, parameters, board)
        if parameters == full and not store.analysis_is_current(con, store.DIOR_ANALYSIS, parameters, board):
            analysis_tables.save_dior(con, result, parameters, board)
    return result


def refresh_flash(con: duckdb.DuckDBPyConnection, config: flash.FlashConfig, board: Board, *,
                  reader: ResultsReader | None = None) -> bool:
    """Recompute and store `board`'s leave-one-out Flash simulation unless it is current; return whether it did."""
    if len(board.ranked) < MIN_MODELS:
        return store.drop_analysis(con, store.FLASH_ANALYSIS, board)
    # The board's results hold its ranked models: the configuration is resolved, and a current analysis
    # found, without reading them (seconds on a board of 100 million results, for a rebuild that changes nothing).
    config = board_flash_config(con, config, board, len(board.ranked))
    if store.analysis_is_current(con, store.FLASH_ANALYSIS, config, board):
        return False
    item_results = flash.item_level((reader or board_reader(board))(con))
    if not item_results.scenarios:  # nothing to sample: per-scenario results only
        return store.drop_analysis(con, store.FLASH_ANALYSIS, board)
    simulations = flash.simulate_variants(item_results, config=config)
    analysis_tables.save_flash(con, simulations, config, simulations[0].variant, board)
    return True
