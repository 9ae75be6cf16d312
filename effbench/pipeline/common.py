"""What the stages share: default parameters, the results reader of a build, and the choice of board."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb

from effbench import analysis_tables, boards, flash, stats, store
from effbench.analysis_tables import AnalysisParameters, DiorParameters
from effbench.boards import Board, BoardSettings
from effbench.errors import EffbenchError

DEFAULT_PARAMETERS = AnalysisParameters()
DEFAULT_DIOR = DiorParameters()
DEFAULT_FLASH = flash.FlashConfig()
DEFAULT_BOARDS = BoardSettings()
# The fewest ranked models a board needs for its ranking to be drawn again (DIoR) or a model replayed
# against the others (Flash): with one, there is no order to measure.
MIN_MODELS = 2


ResultsReader = Callable[[duckdb.DuckDBPyConnection], stats.ResultsMatrix]


class ResultsOnce:
    """A `ResultsReader` that reads the results matrix from the database once and then hands out that
    copy: a build's analyses and pages all need it, and at scale each read costs seconds. Use one per
    build, created after nothing more will be loaded. `board(b)` reads board `b`'s part of it; `rankings`
    keeps each board's ranking computed in this build, whose resamples the compare view reuses."""

    def __init__(self) -> None:
        self._matrix: stats.ResultsMatrix | None = None
        self._boards: dict[Board, stats.ResultsMatrix] = {}
        self.rankings: dict[Board, stats.RankIntervals] = {}

    def __call__(self, con: duckdb.DuckDBPyConnection) -> stats.ResultsMatrix:
        if self._matrix is None:
            self._matrix = analysis_tables.results_matrix(con)
        return self._matrix

    def board(self, board: Board) -> ResultsReader:
        """Return a reader of `board`'s results: its scenarios and ranked models."""
        def read(con: duckdb.DuckDBPyConnection) -> stats.ResultsMatrix:
            if board not in self._boards:
                self._boards[board] = boards.board_results(self(con), board)
            return self._boards[board]
        return read


def board_reader(board: Board) -> ResultsReader:
    """Return a reader of `board`'s results straight from the database (for commands outside a build)."""
    return ResultsOnce().board(board)


def pick_board(con: duckdb.DuckDBPyConnection, name: str | None, model: str | None = None) -> Board:
    """Return the stored board called `name`; without a name, the only board, or the only one `model` is
    ranked on; else an error that lists the boards to choose from with --board."""
    stored = store.stored_boards(con)
    if not stored:
        raise EffbenchError("the database has no boards yet; run `effbench build` or `effbench ingest` first")
    if name is not None:
        for board in stored:
            if board.name == name:
                return board
        raise EffbenchError(f"no board named {name!r}; the boards are {', '.join(b.name for b in stored)}")
    if len(stored) == 1:
        return stored[0]
    names = ", ".join(b.name for b in stored)
    if model is None:
        raise EffbenchError(f"the database holds {len(stored)} boards: {names}; choose one with --board")
    ranked_on = [b for b in stored if model in b.ranked]
    if len(ranked_on) == 1:
        return ranked_on[0]
    if ranked_on:
        raise EffbenchError(f"{model} is ranked on {len(ranked_on)} boards: {', '.join(b.name for b in ranked_on)}; "
                            "choose one with --board")
    listed = [b.name for b in stored if model in dict(b.unranked)]
    if listed:
        raise EffbenchError(f"{model} has results on {', '.join(listed)} but is not ranked there (see the board's "
                            "'Not ranked here'); choose a board with --board")
    raise EffbenchError(f"{model} has no results on any board; to start it as a new model, add --new and "
                        f"--board (one of {names})")


def require_models(board: Board, what: str) -> None:
    """Refuse `what` on a board of fewer than MIN_MODELS ranked models."""
    if len(board.ranked) < MIN_MODELS:
        raise EffbenchError(f"board {board.name!r} ranks {len(board.ranked)} model"
                            f"{'' if len(board.ranked) == 1 else 's'}: {what} needs at least {MIN_MODELS}")


def require_database(db: Path) -> None:
    """Refuse to analyse a database that does not exist (rather than create an empty one)."""
    if not db.exists():
        raise EffbenchError(f"{db}: no such database; run `effbench build` or `effbench ingest` first")


def first_line(error: BaseException) -> str:
    """Return the first line of `error`'s message (its type's name when it has none), for a one-line report."""
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def loaded_hashes(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Return the SHA-256 of every source loaded into the database."""
    return {row[0] for row in con.execute("SELECT sha256 FROM sources").fetchall()}


def board_flash_config(con: duckdb.DuckDBPyConnection, config: flash.FlashConfig, board: Board,
                       n_models: int) -> flash.FlashConfig:
    """Return `config` resolved for `board` ranking `n_models` (`FlashConfig.for_board`): its tier rule at that
    size and the full run's floor from the board's stored rank intervals (none stored yet: no floor)."""
    rows = con.execute("SELECT rank_lo, rank_hi FROM rank_intervals WHERE board = ? AND rank_lo IS NOT NULL "
                       "AND rank_hi IS NOT NULL ORDER BY rank, model", [board.name]).fetchall()
    return config.for_board(n_models, [r[0] for r in rows], [r[1] for r in rows])
