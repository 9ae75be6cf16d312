"""The DuckDB file: schema, loading with provenance, boards, and the record of each stored analysis.

The file is an interface that users query directly; `schema.sql` documents its tables and views
(also stored with COMMENT ON, so ``duckdb effbench.duckdb "select * from duckdb_tables()"`` shows it).
Every change is made inside one transaction, so a failed load leaves the database as it was.
What each analysis stores is in `analysis_tables`; what the site reads is in `queries`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from importlib import resources
from pathlib import Path

import duckdb
import pandas as pd

from effbench import __version__, formats
from effbench.boards import Board
from effbench.errors import EffbenchError
from effbench.insert import (  # noqa: F401 (LoadReport: what `ingest` returns, importable from here)
    LoadReport,
    insert_metadata,
    insert_results,
    record_source,
)
from effbench.lake import ingest_lake
from effbench.load import Source, drop_staging, file_sha256, stage, stage_frame

SCHEMA_VERSION = "12"  # schema.sql is idempotent: older files are brought up to date by running it
# Files are written in a format DuckDB 1.4 and later can open, so users of older clients can query them.
STORAGE_VERSION = "v1.4.0"
RANKING_ANALYSIS = "rank_intervals"
DIOR_ANALYSIS = "dior"
FLASH_ANALYSIS = "flash"
DEFAULT_MEMORY_LIMIT_MB = 4096  # see `memory_limit`


def set_meta(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    """Record `value` under `key` in effbench_meta (effbench's bookkeeping), replacing what was there."""
    if get_meta(con, key) == value:
        return  # an unchanged database file stays unwritten
    with transaction(con):
        con.execute("DELETE FROM effbench_meta WHERE key = ?", [key])
        con.execute("INSERT INTO effbench_meta VALUES (?, ?)", [key, value])


def get_meta(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    """Return the value recorded under `key` in effbench_meta, or None."""
    row = con.execute("SELECT value FROM effbench_meta WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


@contextmanager
def open_store(path: Path, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open (creating if needed) the database at `path` with effbench's schema; close it on exit."""
    if read_only and not path.exists():
        raise EffbenchError(f"{path}: no such database; run `effbench build` or `effbench ingest` first")
    # Extension autoloading off: a file of another format (SQLite, ...) must be refused, not make DuckDB
    # download the extension that reads it.
    config = {"storage_compatibility_version": STORAGE_VERSION, "autoload_known_extensions": False,
              "autoinstall_known_extensions": False, "memory_limit": memory_limit()}
    try:
        con = duckdb.connect(str(path), read_only=read_only, config=config)
    except duckdb.Error as error:
        reason = str(error).splitlines()[0]
        if path.is_file():
            with path.open("rb") as handle:
                if handle.read(16) == b"SQLite format 3\0":
                    reason = "it is a SQLite database"
        raise EffbenchError(f"{path}: cannot open as a DuckDB database: {reason}") from None
    try:
        if not read_only:
            try:
                _ensure_schema(con)
            except EffbenchError as error:
                raise EffbenchError(f"{path}: {error}") from None
        yield con
    finally:
        con.close()


def memory_limit() -> str:
    """Return the memory DuckDB may use before it spills to disk (next to the database, in
    ``<db>.tmp``): ``EFFBENCH_MEMORY_LIMIT`` if set (DuckDB's syntax, e.g. ``8GB``), else the smaller
    of `DEFAULT_MEMORY_LIMIT_MB` and half the machine's memory.

    DuckDB's own default, 80% of the machine, leaves too little to numpy's matrices at a hundred
    million results; loads and joins that do not fit spill instead, which costs seconds, not failure.
    """
    chosen = os.environ.get("EFFBENCH_MEMORY_LIMIT", "").strip()
    if chosen:
        if not re.fullmatch(r"\d+(\.\d+)?\s*([KMGT]i?B|B)", chosen, flags=re.IGNORECASE):
            raise EffbenchError(f"EFFBENCH_MEMORY_LIMIT={chosen!r}: give an amount such as 8GB or 512MB")
        return chosen
    try:
        machine_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    except (ValueError, OSError, AttributeError):  # not every platform says
        machine_mb = 2 * DEFAULT_MEMORY_LIMIT_MB
    return f"{min(DEFAULT_MEMORY_LIMIT_MB, machine_mb // 2)}MiB"


def _ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the schema unless this version of it is there; a file that is up to date is not written."""
    has_meta = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database()"
        " AND table_name = 'effbench_meta'"
    ).fetchone()[0]
    if has_meta:
        version = con.execute("SELECT value FROM effbench_meta WHERE key = 'schema_version'").fetchone()
        if version and version[0] == SCHEMA_VERSION:
            return
        if version and int(version[0]) > int(SCHEMA_VERSION):
            raise EffbenchError(
                f"the database has effbench schema version {version[0]}, newer than this effbench's "
                f"{SCHEMA_VERSION}; upgrade effbench"
            )
    elif con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database()"
    ).fetchone()[0]:
        raise EffbenchError("the database already holds tables that are not effbench's; use another --db")
    script = (resources.files("effbench") / "schema.sql").read_text(encoding="utf-8")
    with transaction(con):
        con.execute(script)
        con.execute("DELETE FROM effbench_meta WHERE key = 'schema_version'")
        con.execute("INSERT INTO effbench_meta VALUES ('schema_version', ?)", [SCHEMA_VERSION])


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Run the block in one transaction: committed if it finishes, rolled back if it raises."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def has_results(con: duckdb.DuckDBPyConnection) -> bool:
    """Return whether any per-item or per-scenario result is loaded."""
    return con.execute("SELECT count(*) FROM (SELECT 1 FROM scores LIMIT 1)").fetchone()[0] > 0


def ingest(con: duckdb.DuckDBPyConnection, sources: Sequence[Source]) -> list[LoadReport]:
    """Load `sources` in one transaction and return a report for each.

    A file whose bytes were loaded before (same sha256 and kind) is skipped. Any error rolls back
    the whole call: either every source is loaded or none is.
    """
    reports = []
    where = ""  # the file being loaded, for an error DuckDB raises without naming it
    try:
        with transaction(con):
            for source in sources:
                where = f"{source.path}: "
                reports.append(_ingest_one(con, source))
            where = ""
            _check_metric_choices(con, sources)
            if any(not report.already_loaded for report in reports):
                _refresh_scenarios(con)
    except duckdb.Error as error:
        raise EffbenchError(f"{where}loading failed, nothing was changed: {str(error).splitlines()[0]}") from None
    finally:
        drop_staging(con)
    return reports


def _check_metric_choices(con: duckdb.DuckDBPyConnection, sources: Sequence[Source]) -> None:
    """Refuse a ``--metric SCENARIO=NAME`` whose SCENARIO names no scenario, run group or task of the files
    loaded: it would otherwise be ignored, and the default metric taken without a word."""
    chosen = {name: (source.path, metric) for source in sources if source.read_options is not None
              for name, metric in source.read_options.metrics.items() if name != "*"}
    if not chosen:
        return
    known = {row[0] for row in con.execute("SELECT DISTINCT scenario FROM scores").fetchall()}
    for scenario, tags in con.execute("SELECT scenario, tags FROM scenario_metadata").fetchall():
        known.add(scenario)
        known.update(tag.strip() for tag in (tags or "").split(","))
    for name, (path, metric) in chosen.items():
        if name not in known:
            raise EffbenchError(f"{path}: --metric {name}={metric}: no scenario, run group or task named {name!r} "
                                "in the files loaded; nothing was loaded")


def identical_model_pairs(con: duckdb.DuckDBPyConnection, minimum: int = 20) -> pd.DataFrame:
    """Return ``(model_a, model_b, n_items)``: each pair of models with identical scores on every item (at
    least `minimum` of them), as two names for one run loaded twice look; both would be ranked. Models
    are grouped by an order-free hash of their (scenario, item, score) rows, so the check is one pass
    over the scores; a shared hash is confirmed row by row."""
    groups = con.execute(
        "SELECT list(model ORDER BY model), any_value(n) FROM (SELECT model, count(*) AS n,"
        " sum(hash(scenario, item_id, score)::HUGEINT) AS fingerprint FROM scores"
        " WHERE score IS NOT NULL AND item_id IS NOT NULL GROUP BY model)"
        " GROUP BY fingerprint, n HAVING count(*) > 1 AND any_value(n) >= ? ORDER BY 1", [minimum]).fetchall()
    rows = ("SELECT scenario, item_id, score FROM scores WHERE model = ? AND score IS NOT NULL AND item_id IS NOT NULL")
    pairs = [(first, other, n) for models, n in groups for first in models[:1] for other in models[1:]
             if not con.execute(f"SELECT count(*) FROM ({rows} EXCEPT ALL {rows})", [first, other]).fetchone()[0]]
    return pd.DataFrame(pairs, columns=["model_a", "model_b", "n_items"])


def identical_model_warnings(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Return the load report's warning for each pair of `identical_model_pairs`."""
    return [f"models {a!r} and {b!r} have identical scores on every one of their {n:,} items; "
            "check that they are not one run loaded under two names (both are ranked)"
            for a, b, n in identical_model_pairs(con).itertuples(index=False)]


def _ingest_one(con: duckdb.DuckDBPyConnection, source: Source) -> LoadReport:
    if source.format is not None:
        return _ingest_format(con, source)
    if source.files:
        return ingest_lake(con, source)
    if not source.path.is_file():
        raise EffbenchError(f"{source.path}: not a regular file (a pipe, socket or device)" if source.path.exists()
                            else f"{source.path}: no such file")
    sha256 = file_sha256(source.path)
    seen = con.execute("SELECT count(*) FROM sources WHERE sha256 = ? AND kind = ?", [sha256, source.kind])
    if seen.fetchone()[0]:
        return LoadReport(source.path, source.kind, 0, already_loaded=True)
    staged = stage(con, source)
    source_id = con.execute("SELECT coalesce(max(source_id), 0) + 1 FROM sources").fetchone()[0]
    if source.kind == "models":
        insert_metadata(con, staged)
    else:
        insert_results(con, staged, source_id)
    options = json.dumps(asdict(source.columns), sort_keys=True)
    record_source(con, source_id, source, sha256, staged.rows, options, "table")
    return LoadReport(source.path, source.kind, staged.rows, already_loaded=False, notes=staged.notes)


def _ingest_format(con: duckdb.DuckDBPyConnection, source: Source) -> LoadReport:
    """Load one unit of a harness format: its item rows, aggregate rows, model and scenario metadata."""
    read = formats.read(formats.Unit(source.format, source.path), source.read_options or formats.ReadOptions())
    sha256 = read.sha256()
    seen = con.execute("SELECT count(*) FROM sources WHERE sha256 = ? AND kind = ?", [sha256, source.kind])
    if seen.fetchone()[0]:
        return LoadReport(source.path, source.kind, 0, already_loaded=True, format=read.format)
    if read.items.empty and read.scenario_scores.empty:
        # One log without scores (a task that failed before scoring) must not stop a folder of good ones.
        return LoadReport(source.path, source.kind, 0, already_loaded=False, format=read.format,
                          notes=(*read.notes, "no scores in these files: nothing loaded from them"))
    source_id = con.execute("SELECT coalesce(max(source_id), 0) + 1 FROM sources").fetchone()[0]
    item_rows = scenario_rows = 0
    if not read.items.empty:
        staged = stage_frame(con, read.items, source, level="item", keys=read.keys)
        insert_results(con, staged, source_id, level="item", keys=read.keys)
        item_rows = staged.rows
    if not read.scenario_scores.empty:
        staged = stage_frame(con, read.scenario_scores, source, level="scenario")
        insert_results(con, staged, source_id, level="scenario")
        scenario_rows = staged.rows
    if not read.models.empty:
        insert_metadata(con, stage_frame(con, read.models, source, level="models"), replace=False)
    metrics = _insert_scenario_metadata(con, read.scenarios, source_id)
    options = json.dumps({"keys": list(read.keys), "read_options": _jsonable(asdict(source.read_options))
                          if source.read_options is not None else {}, "format_options": _jsonable(read.options)},
                         sort_keys=True)
    record_source(con, source_id, source, sha256, item_rows + scenario_rows, options, read.format)
    models = set(read.items.get("model", ())) | set(read.scenario_scores.get("model", ()))
    scenarios = set(read.items.get("scenario", ())) | set(read.scenario_scores.get("scenario", ()))
    return LoadReport(source.path, source.kind, item_rows + scenario_rows, already_loaded=False, notes=read.notes,
                      format=read.format, runs=read.runs, models=tuple(sorted(models)),
                      scenarios=tuple(sorted(scenarios)), item_rows=item_rows, scenario_rows=scenario_rows,
                      metrics=metrics)


def _jsonable(value: object) -> object:
    """Return `value` with mappings, sequences and paths turned into JSON's types."""
    if isinstance(value, dict) or hasattr(value, "items"):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def _insert_scenario_metadata(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, source_id: int
                              ) -> tuple[tuple[str, str], ...]:
    """Store what an adapter says about each scenario (metric, direction, tags, description, title); return
    the (scenario, metric) pairs for the load report."""
    if frame.empty:
        return ()
    columns = ("scenario", "metric", "higher_is_better", "tags", "description", "title")
    rows = frame.reindex(columns=list(columns)).astype(object).where(frame.reindex(columns=list(columns)).notna(), None)
    for record in rows.itertuples(index=False):
        tags = record.tags
        if isinstance(tags, list | tuple | set):
            tags = ", ".join(str(t) for t in tags)
        con.execute("INSERT INTO scenario_metadata (scenario, metric, higher_is_better, tags, description, source_id,"
                    " title) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [str(record.scenario), record.metric, None if record.higher_is_better is None
                     else bool(record.higher_is_better), tags, record.description, source_id, record.title])
    return tuple((str(r.scenario), str(r.metric)) for r in rows.itertuples(index=False) if r.metric is not None)


def _refresh_scenarios(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("DELETE FROM scenarios")
    # What the formats said about a scenario: the latest loaded source's word, value by value.
    con.execute(
        "INSERT INTO scenarios BY NAME SELECT s.*, m.metric, m.higher_is_better, m.tags, m.description, m.title FROM ("
        " SELECT scenario, CASE WHEN bool_and(item_id IS NULL) THEN 'scenario' ELSE 'item' END AS level,"
        " count(DISTINCT item_id) AS n_items, count(DISTINCT model) FILTER (WHERE score IS NOT NULL) AS n_models"
        " FROM scores GROUP BY scenario) AS s LEFT JOIN ("
        " SELECT scenario, arg_max(metric, source_id) FILTER (WHERE metric IS NOT NULL) AS metric,"
        " arg_max(higher_is_better, source_id) FILTER (WHERE higher_is_better IS NOT NULL) AS higher_is_better,"
        " arg_max(tags, source_id) FILTER (WHERE tags IS NOT NULL) AS tags,"
        " arg_max(description, source_id) FILTER (WHERE description IS NOT NULL) AS description,"
        " arg_max(title, source_id) FILTER (WHERE title IS NOT NULL) AS title"
        " FROM scenario_metadata GROUP BY scenario) AS m USING (scenario) ORDER BY s.scenario"
    )
    _apply_directions(con)


def _apply_directions(con: duckdb.DuckDBPyConnection) -> None:
    """Let the directions the user declared override what the files said."""
    con.execute("UPDATE scenarios SET higher_is_better = d.higher_is_better FROM scenario_directions AS d"
                " WHERE scenarios.scenario = d.scenario"
                " AND scenarios.higher_is_better IS DISTINCT FROM d.higher_is_better")


def declare_lower_is_better(con: duckdb.DuckDBPyConnection, scenarios: Sequence[str]) -> None:
    """Record that `scenarios` are better when their scores are lower (error rates, latency); a no-op,
    leaving the file untouched, when that is already recorded. Unknown scenario names are refused."""
    known = {row[0] for row in con.execute("SELECT scenario FROM scenarios").fetchall()}
    unknown = sorted(set(scenarios) - known)
    if unknown:
        listing = ", ".join(sorted(known)[:20]) + (", ..." if len(known) > 20 else "")
        raise EffbenchError(f"lower is better (--lower-is-better or [ranking] lower_is_better in effbench.toml): "
                            f"no scenario named {unknown[0]!r} is loaded (scenarios: {listing})")
    declared = {row[0] for row in con.execute(
        "SELECT scenario FROM scenario_directions WHERE NOT higher_is_better").fetchall()}
    if set(scenarios) <= declared:
        return
    with transaction(con):
        con.execute("DELETE FROM scenario_directions WHERE scenario IN (SELECT unnest(?))", [list(scenarios)])
        con.execute("INSERT INTO scenario_directions SELECT unnest(?), false", [sorted(set(scenarios))])
        _apply_directions(con)


def scale_warnings(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Return a warning for each scenario whose models report on different scales: one model's scores all
    within [0, 1] (not all 0), another's above 1, as when one file holds fractions and another percent."""
    rows = con.execute(
        "SELECT scenario, arg_max(model, hi) FILTER (WHERE hi <= 1 AND hi > 0), max(hi) FILTER (WHERE hi <= 1),"
        " arg_max(model, hi), max(hi) FROM (SELECT scenario, model, max(abs(score)) AS hi FROM scores"
        " WHERE score IS NOT NULL GROUP BY ALL) GROUP BY scenario"
        " HAVING count(*) FILTER (WHERE hi <= 1 AND hi > 0) > 0 AND max(hi) > 1 ORDER BY scenario"
    ).fetchall()
    return [f"scenario {scenario!r} mixes scales: {small!r}'s scores lie within [0, 1] (at most {small_hi:g}), "
            f"{large!r}'s reach {large_hi:g}; check that every file reports this scenario on the same scale"
            for scenario, small, small_hi, large, large_hi in rows]


def data_fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    """Return a hash of every loaded source (bytes, kind and options): equal fingerprints, equal data.

    Computed by the `data_fingerprint` view, so that the `analysis_status` view can tell in SQL alone
    whether a stored analysis is still current.
    """
    return con.execute("SELECT fingerprint FROM data_fingerprint").fetchone()[0]


# The code that computes what the analyses store: a module, or every module of a package.
ANALYSIS_CODE = ("stats", "reliability", "flash", "tiers", "boards", "store", "analysis_tables", "pipeline")


@functools.cache
def analysis_version() -> str:
    """Return effbench's version with a hash of the code that computes the analyses, so that stored
    analyses are recomputed after any change to that code, released or not."""
    digest = hashlib.sha256()
    package = resources.files("effbench")
    for name in ANALYSIS_CODE:
        module = package / f"{name}.py"
        files = [module] if module.is_file() else sorted(
            (f for f in (package / name).iterdir() if f.name.endswith(".py")), key=lambda f: f.name)
        for file in files:
            digest.update(file.read_bytes())
    return f"{__version__}+{digest.hexdigest()[:12]}"


def analysis_is_current(con: duckdb.DuckDBPyConnection, name: str, parameters: object, board: Board) -> bool:
    """Return whether analysis `name` of `board` was stored from the loaded data with `parameters` (a
    dataclass), on the same scenarios and models."""
    row = con.execute(
        "SELECT CAST(options AS VARCHAR), data_fingerprint, effbench_version FROM analyses"
        " WHERE analysis = ? AND board = ?", [name, board.name],
    ).fetchone()
    return row == (_options_json(parameters, board), data_fingerprint(con), analysis_version())


def _options_json(parameters: object, board: Board) -> str:
    return json.dumps({**asdict(parameters), **board.fingerprint()}, sort_keys=True)


# The tables each analysis writes, one set of rows per board.
ANALYSIS_TABLES = {
    RANKING_ANALYSIS: ("rank_intervals", "scenario_intervals", "rank_distribution", "disagreements",
                       "scenario_weights"),
    DIOR_ANALYSIS: ("dior", "rank_resolution", "scenario_agreement", "mwr_instability", "recommendations"),
    FLASH_ANALYSIS: ("flash", "flash_stages", "flash_summary"),
}


def save_boards(con: duckdb.DuckDBPyConnection, boards: Sequence[Board]) -> None:
    """Replace the stored boards with `boards`, and drop the analyses of boards that are gone; a database
    whose boards are already these is not written."""
    if boards == stored_boards(con):
        return
    names = [b.name for b in boards]
    membership = pd.DataFrame({"board": [b.name for b in boards for _ in b.scenarios],
                               "scenario": [s for b in boards for s in b.scenarios]})
    info = pd.DataFrame({"board": names, "position": range(len(boards)), "title": [b.title for b in boards],
                         "description": [b.description for b in boards], "missing": [b.missing for b in boards],
                         "declared": [b.declared for b in boards]})
    rows = [(b.name, m, True, list(dict(b.partial).get(m, ()))) for b in boards for m in b.ranked]
    rows += [(b.name, m, False, list(lacking)) for b in boards for m, lacking in b.unranked]
    models = pd.DataFrame({"board": [r[0] for r in rows], "model": [r[1] for r in rows],
                           "ranked": [r[2] for r in rows], "no_results_in": [r[3] for r in rows]},
                          ).astype({"board": object, "model": object, "no_results_in": object})
    with transaction(con):
        for table, frame in (("boards", membership), ("board_info", info), ("board_models", models)):
            con.execute(f"DELETE FROM {table}")
            con.register("_effbench_frame", frame)
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _effbench_frame")
            con.unregister("_effbench_frame")
        con.register("_effbench_boards", pd.DataFrame({"board": names}, dtype=object))
        for table in ("analyses", *(t for tables in ANALYSIS_TABLES.values() for t in tables)):
            con.execute(f"DELETE FROM {table} WHERE board IS NULL OR board NOT IN (SELECT board FROM _effbench_boards)")
        con.unregister("_effbench_boards")


def stored_boards(con: duckdb.DuckDBPyConnection) -> tuple[Board, ...]:
    """Return the boards stored by the last `save_boards`, in their order."""
    scenarios: dict[str, list[str]] = {}
    for board, scenario in con.execute("SELECT board, scenario FROM boards ORDER BY board, scenario").fetchall():
        scenarios.setdefault(board, []).append(scenario)
    ranked: dict[str, list[str]] = {}
    unranked: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    partial: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    for board, model, is_ranked, lacking in con.execute(
            "SELECT board, model, ranked, no_results_in FROM board_models ORDER BY board, model").fetchall():
        if is_ranked:
            ranked.setdefault(board, []).append(model)
            if lacking:
                partial.setdefault(board, []).append((model, tuple(lacking)))
        else:
            unranked.setdefault(board, []).append((model, tuple(lacking)))
    return tuple(
        Board(name, title, description, tuple(scenarios.get(name, ())), missing, declared,
              tuple(ranked.get(name, ())), tuple(unranked.get(name, ())), tuple(partial.get(name, ())))
        for name, title, description, missing, declared in con.execute(
            "SELECT board, title, description, missing, declared FROM board_info ORDER BY position").fetchall()
    )


def drop_analysis(con: duckdb.DuckDBPyConnection, name: str, board: Board) -> bool:
    """Delete `board`'s rows of analysis `name` (a board it cannot be computed on, such as one of a single
    model, must not keep what an earlier build stored); return whether there were any."""
    if con.execute("SELECT count(*) FROM analyses WHERE analysis = ? AND board = ?",
                   [name, board.name]).fetchone()[0] == 0:
        return False
    with transaction(con):
        for table in ANALYSIS_TABLES[name]:
            con.execute(f"DELETE FROM {table} WHERE board = ?", [board.name])
        con.execute("DELETE FROM analyses WHERE analysis = ? AND board = ?", [name, board.name])
    return True


def replace_analysis(con: duckdb.DuckDBPyConnection, name: str, frames: dict[str, pd.DataFrame], record: dict,
                     parameters: object, board: Board) -> None:
    """In one transaction, replace `board`'s rows of `frames`' tables and its `analyses` row of `name`,
    which records `record` (method, seed, n_resamples, confidence_level, aggregation) and `parameters`
    (a dataclass), so that `analysis_is_current` can tell when to compute it again."""
    with transaction(con):
        for table, frame in frames.items():
            con.execute(f"DELETE FROM {table} WHERE board = ?", [board.name])
            con.register("_effbench_frame", frame.assign(board=board.name))
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _effbench_frame")
            con.unregister("_effbench_frame")
        con.execute("DELETE FROM analyses WHERE analysis = ? AND board = ?", [name, board.name])
        con.execute(
            "INSERT INTO analyses BY NAME SELECT ? AS analysis, ? AS method, ? AS seed, ? AS n_resamples,"
            " ? AS confidence_level, ? AS aggregation, ? AS data_fingerprint, ? AS effbench_version,"
            " CAST(? AS JSON) AS options, ? AS board",
            [name, record["method"], record["seed"], record["n_resamples"], record["confidence_level"],
             record["aggregation"], data_fingerprint(con), analysis_version(), _options_json(parameters, board),
             board.name],
        )
    con.execute("CHECKPOINT")


def column_types(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    """Return each column of `table` with its DuckDB type."""
    return {r[0]: r[1] for r in con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {table})").fetchall()}


def scenario_tags(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, ...]]:
    """Return each scenario's tags from the `tags` column of `scenarios` (comma-separated), where there is one."""
    if "tags" not in column_types(con, "scenarios"):
        return {}
    rows = con.execute("SELECT scenario, CAST(tags AS VARCHAR) FROM scenarios WHERE tags IS NOT NULL").fetchall()
    return {scenario: tuple(t.strip() for t in tags.strip("[]").split(",") if t.strip()) for scenario, tags in rows}
