"""The leaderboard's history: what each build that changed it looked like, and what changed each time.

Every `effbench build` records the leaderboard it publishes (tables `leaderboard_history` and
`scenario_history`) when it differs from the last one recorded, so the database keeps one snapshot per
change, not one per build. The changes page, its Atom feed and the "Last updated" date on every page
are read from these snapshots (`timeline`), through `effbench.changes`, the rule the submission check
uses too. A snapshot's time is the build's, no later than SOURCE_DATE_EPOCH when that is set, so that a
reproducible build records a reproducible time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import pandas as pd

from effbench.changes import LEADERBOARD_COLUMNS, Changes, leaderboard_changes
from effbench.database_copy import source_date_epoch
from effbench.store import transaction


@dataclass(frozen=True)
class Update:
    """One recorded change of a board: when, and what changed since the snapshot before it (for the first
    snapshot, every model and scenario is new)."""

    at: dt.datetime
    changes: Changes


def build_time() -> dt.datetime:
    """Return the time to record a build at: now, or SOURCE_DATE_EPOCH when set and earlier."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    epoch = source_date_epoch()
    return min(now, dt.datetime.fromtimestamp(epoch, dt.UTC)) if epoch is not None else now


def _current(con: duckdb.DuckDBPyConnection) -> tuple[pd.DataFrame, pd.DataFrame]:
    board = con.execute(f"SELECT {', '.join(LEADERBOARD_COLUMNS)} FROM leaderboard").df()
    return board, con.execute("SELECT board, scenario FROM boards").df()


def _snapshot(con: duckdb.DuckDBPyConnection, at: dt.datetime) -> tuple[pd.DataFrame, pd.DataFrame]:
    board = con.execute(f"SELECT {', '.join(LEADERBOARD_COLUMNS)} FROM leaderboard_history WHERE built_at = ?",
                        [at]).df()
    return board, con.execute("SELECT board, scenario FROM scenario_history WHERE built_at = ?", [at]).df()


def _times(con: duckdb.DuckDBPyConnection) -> list[dt.datetime]:
    return [r[0] for r in con.execute("SELECT DISTINCT built_at FROM scenario_history ORDER BY built_at").fetchall()]


def record(con: duckdb.DuckDBPyConnection, at: dt.datetime | None = None) -> bool:
    """Record the current leaderboard as a snapshot at `at` (default `build_time()`) unless it is what the
    last snapshot holds; return whether it recorded one. A time not after the last snapshot's (a clock set
    back, or a fixed SOURCE_DATE_EPOCH with new data) is moved just after it, so snapshots stay in order."""
    board, scenarios = _current(con)
    times = _times(con)
    if times:
        last_board, last_scenarios = _snapshot(con, times[-1])
        if leaderboard_changes(last_board, board, last_scenarios, scenarios).empty:
            return False
    at = at or build_time()
    if times and at <= times[-1]:
        at = times[-1] + dt.timedelta(seconds=1)
    con.register("_effbench_board", board)
    con.register("_effbench_scenarios", scenarios)
    try:
        with transaction(con):
            con.execute("INSERT INTO leaderboard_history BY NAME SELECT ? AS built_at, * FROM _effbench_board", [at])
            con.execute("INSERT INTO scenario_history BY NAME SELECT ? AS built_at, * FROM _effbench_scenarios", [at])
    finally:
        con.unregister("_effbench_board")
        con.unregister("_effbench_scenarios")
    return True


def timeline(con: duckdb.DuckDBPyConnection, board: str) -> tuple[Update, ...]:
    """Return `board`'s recorded changes, newest first; snapshots in which the board did not change are
    left out."""
    updates = []
    before = (pd.DataFrame(columns=list(LEADERBOARD_COLUMNS)), pd.DataFrame(columns=["board", "scenario"]))
    for at in _times(con):
        snapshot = _snapshot(con, at)
        mine = tuple(frame[frame["board"] == board] for frame in snapshot)
        changes = leaderboard_changes(before[0], mine[0], before[1], mine[1])
        if not changes.empty:
            updates.append(Update(at, changes))
        before = mine
    return tuple(reversed(updates))
