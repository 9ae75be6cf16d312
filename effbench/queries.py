"""What the site reads from the database: each board's results and analyses through named queries
(`SiteData`), and the item and model dates the trend pages plot."""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import pandas as pd

from effbench import store
from effbench.boards import Board
from effbench.errors import EffbenchError
from effbench.sql import quote_ident


@dataclass(frozen=True)
class SiteData:
    """Everything the site shows, read from the database in one go (named queries below)."""

    leaderboard: pd.DataFrame
    scenario_intervals: pd.DataFrame
    rank_distribution: pd.DataFrame
    models: pd.DataFrame
    scenarios: pd.DataFrame
    sources: pd.DataFrame
    disagreements: pd.DataFrame
    dior: pd.DataFrame
    rank_resolution: pd.DataFrame
    scenario_agreement: pd.DataFrame
    mwr_instability: pd.DataFrame
    recommendations: pd.DataFrame
    flash: pd.DataFrame
    flash_stages: pd.DataFrame
    flash_summary: pd.DataFrame
    analysis: dict
    dior_analysis: dict | None
    flash_analysis: dict | None
    # One row per scenario: items, macro and micro weights, share of the score's variance, tiny or not.
    scenario_weights: pd.DataFrame = field(default_factory=pd.DataFrame)
    # Every model's rank with every item weighing the same (micro), next to its leaderboard rank.
    micro_ranking: pd.DataFrame = field(default_factory=pd.DataFrame)
    # Models with results rows whose every score is blank (not evaluated): listed on the site, not ranked.
    unscored_models: pd.DataFrame = field(default_factory=lambda: pd.DataFrame({"model": []}))
    # Models with results on the board that its `missing` policy does not rank, with the scenarios they lack.
    unranked_models: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame({"model": [], "no_results_in": []}))
    # Pairs of models with identical scores on every item (`identical_model_pairs`): noted on the board.
    identical_models: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame({"model_a": [], "model_b": [], "n_items": []}))
    board: Board | None = None  # the board these data are of


# The site's queries, each of one board ($board); the analysis tables' `board` column is left out, since
# every frame is of one board. {scenarios} narrows a query to the board's scenarios on a site of several.
_BOARD_SCENARIOS = "SELECT scenario FROM boards WHERE board = $board"
SITE_QUERIES = {
    "leaderboard": "SELECT * EXCLUDE (board) FROM leaderboard WHERE board = $board ORDER BY rank, model",
    "scenario_intervals": "SELECT * EXCLUDE (analysis, board) FROM scenario_intervals WHERE board = $board"
                          " ORDER BY scenario, rank, model",
    "rank_distribution": "SELECT * EXCLUDE (analysis, board) FROM rank_distribution WHERE board = $board"
                         " ORDER BY model, rank",
    "models": "SELECT * FROM models{models} ORDER BY model",
    "scenarios": "SELECT * FROM scenarios{scenarios} ORDER BY scenario",
    "sources": "SELECT * FROM sources{sources} ORDER BY source_id",
    "disagreements": "SELECT * EXCLUDE (analysis, board) FROM disagreements WHERE board = $board"
                     " ORDER BY model_a, model_b",
    "dior": "SELECT * EXCLUDE (board) FROM dior WHERE board = $board"
            " ORDER BY decision, aggregation, level_order, meta_metric",
    "rank_resolution": "SELECT * EXCLUDE (board) FROM rank_resolution WHERE board = $board ORDER BY level_order",
    "scenario_agreement": "SELECT * EXCLUDE (board) FROM scenario_agreement WHERE board = $board"
                          " ORDER BY scenario_a, scenario_b",
    "mwr_instability": "SELECT * EXCLUDE (board) FROM mwr_instability WHERE board = $board ORDER BY removed_model",
    "recommendations": "SELECT * EXCLUDE (board) FROM recommendations WHERE board = $board ORDER BY position",
    "flash": "SELECT * EXCLUDE (board) FROM flash WHERE board = $board ORDER BY variant, full_rank, model",
    "flash_stages": "SELECT * EXCLUDE (board) FROM flash_stages WHERE board = $board"
                    " ORDER BY variant, model, items_used",
    "flash_summary": "SELECT * EXCLUDE (board) FROM flash_summary WHERE board = $board"
                     " ORDER BY is_default DESC, variant",
    "unscored_models": "SELECT model FROM scores{scores} GROUP BY model HAVING count(score) = 0 ORDER BY model",
    "scenario_weights": "SELECT * EXCLUDE (board) FROM scenario_weights WHERE board = $board ORDER BY scenario",
    "micro_ranking": "SELECT model, rank, micro_rank, micro_rank_lo, micro_rank_hi, micro_score FROM rank_intervals"
                     " WHERE board = $board ORDER BY micro_rank, model",
    "unranked_models": "SELECT model, no_results_in FROM board_models WHERE board = $board AND NOT ranked"
                       " ORDER BY model",
}
# On a site of several boards, the tables that are not analyses are narrowed to the board.
_NARROWED = {
    "models": " WHERE model IN (SELECT model FROM board_models WHERE board = $board)",
    "scenarios": f" WHERE scenario IN ({_BOARD_SCENARIOS})",
    "sources": f" WHERE kind = 'models' OR source_id IN (SELECT DISTINCT source_id FROM scores"
               f" WHERE scenario IN ({_BOARD_SCENARIOS}))",
    "scores": f" WHERE scenario IN ({_BOARD_SCENARIOS})",
}


def site_data(con: duckdb.DuckDBPyConnection, board: Board, *, several: bool = False,
              identical: pd.DataFrame | None = None) -> SiteData:
    """Return the stored results and analyses of `board` that its pages are rendered from; with
    `several` boards on the site, the models, scenarios and sources are narrowed to the board's own.
    `identical` is `identical_model_pairs` of the database, where the caller has it already."""
    narrowed = _NARROWED if several else dict.fromkeys(_NARROWED, "")
    frames = {}
    for name, sql in SITE_QUERIES.items():
        query = sql.format(**narrowed)
        frames[name] = con.execute(query, {"board": board.name} if "$board" in query else {}).df()
    pairs = store.identical_model_pairs(con) if identical is None else identical
    frames["identical_models"] = pairs[pairs["model_a"].isin(board.ranked) & pairs["model_b"].isin(board.ranked)]
    if frames["leaderboard"].empty:
        raise EffbenchError(f"the database has no ranking of board {board.name!r} yet; run `effbench build`")
    analyses = {name: con.execute("SELECT * EXCLUDE (board) FROM analyses WHERE analysis = ? AND board = ?",
                                  [name, board.name]).df()
                for name in (store.RANKING_ANALYSIS, store.DIOR_ANALYSIS, store.FLASH_ANALYSIS)}
    optional = {name: None if frame.empty else frame.iloc[0].to_dict() for name, frame in analyses.items()}
    return SiteData(**frames, analysis=optional[store.RANKING_ANALYSIS], dior_analysis=optional[store.DIOR_ANALYSIS],
                    flash_analysis=optional[store.FLASH_ANALYSIS], board=board)


# Columns the trend pages read, first match wins: an item's publication date in `scores`, a model's
# training cutoff or release date in `models`.
ITEM_DATE_COLUMNS = ("contest_date_ms", "item_date", "publication_date", "published", "contest_date", "date")
MODEL_DATE_COLUMNS = ("cutoff_date", "training_cutoff", "knowledge_cutoff", "release_date")


def _as_days(value: str, name: str, type_: str) -> str | None:
    """Return SQL that turns the SQL expression `value` (named `name`, of DuckDB type `type_`) into days
    since 1970, or None for a type we cannot read as a date (a bare number has no unit)."""
    numeric = type_ in ("BIGINT", "INTEGER", "DOUBLE", "HUGEINT", "UBIGINT", "FLOAT", "DECIMAL")
    if type_.startswith(("DATE", "TIMESTAMP")):
        return f"epoch({value}) / 86400.0"
    if name.endswith("_ms") and numeric:
        return f"CAST({value} AS DOUBLE) / 86400000.0"
    if type_ == "VARCHAR":
        return f"epoch(TRY_CAST({value} AS DATE)) / 86400.0"
    return None


def _item_date_candidates(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """Return (name, SQL in days since 1970) of each readable item date, as a column of `scores` or a key of
    its `extra` JSON (where loaders keep the files' other columns), in the order of ITEM_DATE_COLUMNS."""
    types = store.column_types(con, "scores")
    found = []
    for name in ITEM_DATE_COLUMNS:
        days = _as_days(quote_ident(name), name, types[name]) if name in types else None
        if days is None and types.get("extra") == "JSON":
            row = con.execute("SELECT any_value(json_type(extra -> ?)) FROM scores WHERE extra ->> ? IS NOT NULL",
                              [name, name]).fetchone()
            if row and row[0]:
                kind = "VARCHAR" if row[0] == "VARCHAR" else "DOUBLE" if row[0] in (
                    "UBIGINT", "BIGINT", "DOUBLE", "INTEGER") else ""
                key = name.replace("'", "''")
                days = _as_days(f"(extra ->> '{key}')", name, kind)
        if days is not None:
            found.append((name, days))
    return found


def dated_items(con: duckdb.DuckDBPyConnection, board: Board | None = None) -> tuple[str, pd.DataFrame] | None:
    """Return (date column, frame of `model, item, score, day`) for per-item results whose items carry a
    date (days since 1970; several rows of one item count as their mean), or None without such a column;
    with a `board`, only its scenarios and ranked models."""
    where, bound = "", []
    if board is not None:
        where = (" AND scenario IN (SELECT scenario FROM boards WHERE board = ?)"
                 " AND model IN (SELECT model FROM board_models WHERE board = ? AND ranked)")
        bound = [board.name, board.name]
    for column, days in _item_date_candidates(con):
        frame = con.execute(
            f"SELECT model, scenario || ' / ' || item_id AS item, avg(score) AS score, min({days}) AS day"
            f" FROM scores WHERE score IS NOT NULL AND item_id IS NOT NULL{where} GROUP BY model, scenario, item_id"
            " ORDER BY item, model", bound
        ).df()
        if frame["day"].notna().any():
            return column, frame
    return None


def model_dates(con: duckdb.DuckDBPyConnection) -> tuple[str, pd.Series] | None:
    """Return (date column, each model's cutoff or release date in days since 1970) from the model metadata,
    or None without such a column."""
    types = store.column_types(con, "models")
    for column in MODEL_DATE_COLUMNS:
        days = _as_days(quote_ident(column), column, types[column]) if column in types else None
        if days is not None:
            frame = con.execute(f"SELECT model, {days} AS day FROM models ORDER BY model").df()
            if frame["day"].notna().any():
                return column, frame.set_index("model")["day"]
    return None
