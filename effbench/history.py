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
import json
import math
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from effbench.changes import LEADERBOARD_COLUMNS, Changes, leaderboard_changes
from effbench.database_copy import source_date_epoch
from effbench.errors import EffbenchError
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
    # The `leaderboard` view's rows in its order, from the table its columns come from: the view would also count
    # every model's items over all results, which DuckDB does even when no count is asked for (15 s at 120 million).
    board = con.execute(f"SELECT {', '.join(LEADERBOARD_COLUMNS)} FROM rank_intervals ORDER BY board, rank, model").df()
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


# The published history: every snapshot, in the site, so that a build on a fresh machine (a deploy
# workflow, whose database starts empty) carries the changes page on with `--history-from`.
HISTORY_FILE = "data/history.json"
HISTORY_FORMAT = 1
MAX_HISTORY_BYTES = 256 * 1024 * 1024
_SNAPSHOT_COLUMNS = ("built_at", *LEADERBOARD_COLUMNS)


def export_json(con: duckdb.DuckDBPyConnection) -> str:
    """Return every recorded snapshot as the JSON the site publishes at `HISTORY_FILE`: columns and rows
    (times in ISO 8601, UTC), compact enough for thousands of models times hundreds of snapshots."""
    board = con.execute(f"SELECT strftime(built_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ'), "
                        f"{', '.join(LEADERBOARD_COLUMNS)} FROM leaderboard_history "
                        "ORDER BY built_at, board, rank, model").fetchall()
    scenarios = con.execute("SELECT strftime(built_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ'), board, scenario "
                            "FROM scenario_history ORDER BY built_at, board, scenario").fetchall()
    return json.dumps({"effbench_history": HISTORY_FORMAT,
                       "leaderboard": {"columns": list(_SNAPSHOT_COLUMNS), "rows": [list(r) for r in board]},
                       "scenarios": {"columns": ["built_at", "board", "scenario"],
                                     "rows": [list(r) for r in scenarios]}},
                      separators=(",", ":"), allow_nan=False)


def read_published(where: str) -> tuple[str | None, str]:
    """Return the text of a published history and a note for the user: `where` is a site's URL (its
    `HISTORY_FILE` is fetched), a site folder, or the file itself. A site that has none yet (HTTP 404, a
    first deployment) gives None; any other failure is an error, so that history is never dropped silently."""
    if re.match(r"https?://", where, re.IGNORECASE):
        url = where if where.endswith(".json") else where.rstrip("/") + "/" + HISTORY_FILE
        try:
            with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 (http(s) only, checked above)
                raw = response.read(MAX_HISTORY_BYTES + 1)
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return None, f"{url}: no published history yet (HTTP 404); the history starts with this build"
            raise EffbenchError(f"{url}: cannot read the published history (HTTP {error.code}); build without "
                                "--history-from to start a new history") from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise EffbenchError(f"{url}: cannot read the published history ({reason}); build without "
                                "--history-from to start a new history") from None
        origin = url
    else:
        path = Path(where)
        path = path / HISTORY_FILE if path.is_dir() else path
        if not path.is_file():
            raise EffbenchError(f"{path}: no such history file (--history-from takes a site's URL, a site folder "
                                f"or its {HISTORY_FILE})")
        with path.open("rb") as handle:
            raw = handle.read(MAX_HISTORY_BYTES + 1)
        origin = str(path)
    if len(raw) > MAX_HISTORY_BYTES:
        raise EffbenchError(f"{origin}: the history is over {MAX_HISTORY_BYTES // 2**20} MiB; not read")
    try:
        return raw.decode("utf-8"), origin
    except UnicodeDecodeError:
        raise EffbenchError(f"{origin}: the history is not UTF-8 text") from None


@dataclass(frozen=True)
class Published:
    """A published history, read and checked (`parse_published`), ready to add to a database."""

    origin: str
    board: pd.DataFrame
    scenarios: pd.DataFrame


def parse_published(text: str, origin: str) -> Published:
    """Return the snapshots of a published history (`export_json`'s text, from `origin`), every value checked:
    a malformed file is one error, raised before anything is loaded or changed."""
    try:
        raw = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as error:
        raise EffbenchError(f"{origin}: not an effbench history ({error.__class__.__name__})") from None
    if not isinstance(raw, dict) or raw.get("effbench_history") != HISTORY_FORMAT:
        raise EffbenchError(f"{origin}: not an effbench history of format {HISTORY_FORMAT}")
    return Published(origin, _table(raw, "leaderboard", _SNAPSHOT_COLUMNS, origin),
                     _table(raw, "scenarios", ("built_at", "board", "scenario"), origin))


def import_published(con: duckdb.DuckDBPyConnection, published: Published) -> int:
    """Add the snapshots of `published` that the database does not hold (by time); return how many."""
    origin, board, scenarios = published.origin, published.board, published.scenarios
    known = {at.astimezone(dt.UTC) for at in _times(con)}
    new = sorted(set(scenarios["built_at"]) - known)
    if not new:
        return 0
    con.register("_effbench_board", board[board["built_at"].isin(new)])
    con.register("_effbench_scenarios", scenarios[scenarios["built_at"].isin(new)])
    try:
        with transaction(con):
            con.execute("INSERT INTO leaderboard_history BY NAME SELECT * FROM _effbench_board")
            con.execute("INSERT INTO scenario_history BY NAME SELECT * FROM _effbench_scenarios")
    except duckdb.Error as error:
        raise EffbenchError(f"{origin}: the history does not fit the database ({str(error).splitlines()[0]})") from None
    finally:
        con.unregister("_effbench_board")
        con.unregister("_effbench_scenarios")
    return len(new)


_KINDS = {"built_at": "time", "board": str, "model": str, "scenario": str, "rank": int}


def _table(raw: dict, name: str, columns: tuple[str, ...], origin: str) -> pd.DataFrame:
    """Return the history's table `name`, every value checked against its column's type."""
    table = raw.get(name)
    if not isinstance(table, dict) or table.get("columns") != list(columns) or not isinstance(table.get("rows"), list):
        raise EffbenchError(f"{origin}: {name}: expected columns {', '.join(columns)} and a list of rows")
    for number, row in enumerate(table["rows"], start=1):
        where = f"{origin}: {name} row {number}"
        if not isinstance(row, list) or len(row) != len(columns):
            raise EffbenchError(f"{where}: expected {len(columns)} values")
        for column, value in zip(columns, row, strict=True):
            kind = _KINDS.get(column, float)
            ok = (isinstance(value, str) and bool(_ISO_TIME.fullmatch(value)) if kind == "time"
                  else isinstance(value, str) if kind is str
                  else isinstance(value, int) and not isinstance(value, bool) if kind is int
                  else value is None or isinstance(value, int | float) and not isinstance(value, bool)
                  and math.isfinite(value))
            if not ok:
                raise EffbenchError(f"{where}: {column} {value!r} is not {_KIND_WORDS[kind]}")
    frame = pd.DataFrame(table["rows"], columns=list(columns))
    frame["built_at"] = pd.to_datetime(frame["built_at"], utc=True)
    return frame


_ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_KIND_WORDS = {"time": "a time such as 2026-12-05T09:30:00Z", str: "text", int: "a whole number",
               float: "a finite number or null"}
