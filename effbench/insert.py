"""Moving staged rows into the database's tables: the checks every insert makes, the rows, and the
sources row that records where they came from. `store.ingest` calls these inside its transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from effbench.errors import EffbenchError
from effbench.load import STAGED_TABLE, Source, Staged, check_fits
from effbench.sql import quote_ident


@dataclass(frozen=True)
class LoadReport:
    """What loading one source did; for a harness format also what it found (runs, models, scenarios,
    item rows, and the metric taken in each scenario)."""

    path: Path
    kind: str
    rows: int
    already_loaded: bool
    notes: tuple[str, ...] = ()
    format: str = "table"
    runs: int = 0
    models: tuple[str, ...] = ()
    scenarios: tuple[str, ...] = ()
    item_rows: int = 0
    scenario_rows: int = 0
    metrics: tuple[tuple[str, str], ...] = ()  # (scenario, metric)


def record_source(con: duckdb.DuckDBPyConnection, source_id: int, source: Source, sha256: str, rows: int,
                  options: str, format_name: str) -> None:
    con.execute(
        "INSERT INTO sources BY NAME SELECT ? AS source_id, ? AS path, ? AS sha256, ? AS kind, ? AS rows,"
        " now() AS loaded_at, CAST(? AS JSON) AS options, ? AS credit, ? AS license, ? AS format",
        [source_id, str(source.path), sha256, source.kind, rows, options, source.credit, source.license, format_name],
    )


def add_columns(con: duckdb.DuckDBPyConnection, table: str, columns: Sequence[tuple[str, str]]) -> None:
    existing = {row[0] for row in con.execute(f"SELECT column_name FROM (DESCRIBE {table})").fetchall()}
    for name, type_ in columns:
        if name not in existing:
            con.execute(f"ALTER TABLE {table} ADD COLUMN {quote_ident(name)} {type_}")


def insert_results(con: duckdb.DuckDBPyConnection, staged: Staged, source_id: int, *, level: str | None = None,
                   keys: Sequence[str] | None = None) -> None:
    level = level or ("scenario" if staged.source.kind == "wide" else "item")
    check_results(con, staged, level, staged.source.columns.keys if keys is None else keys)
    con.execute(f"INSERT INTO scores BY NAME SELECT *, ? AS source_id FROM {STAGED_TABLE}", [source_id])
    insert_models(con)


def check_results(con: duckdb.DuckDBPyConnection, staged: Staged, level: str, keys: Sequence[str]) -> None:
    """Refuse staged results the database cannot take: a scenario's other level, a column of another
    type, results already loaded (effbench never overwrites one); add the extra columns they need."""
    path = staged.source.path
    clash = con.execute(
        f"SELECT count(*), any_value(scenario) FROM (SELECT DISTINCT scenario FROM {STAGED_TABLE})"
        " JOIN scenarios USING (scenario) WHERE level <> ?",
        [level],
    ).fetchone()
    if clash[0]:
        have = "per-scenario" if level == "item" else "per-item"
        raise EffbenchError(f"{path}: scenario {clash[1]!r} already has {have} results; "
                            "a scenario holds either per-item or per-scenario results, not both")
    check_fits(con, "scores", staged)
    add_columns(con, "scores", staged.extra_columns)
    keys = ["model", "scenario", "item_id", *keys]
    on = " AND ".join(f"s.{quote_ident(k)} IS NOT DISTINCT FROM t.{quote_ident(k)}" for k in keys)
    overlap = con.execute(
        f"SELECT count(*), any_value((t.model, t.scenario, t.item_id)), any_value(src.path)"
        f" FROM {STAGED_TABLE} AS s JOIN scores AS t ON {on} JOIN sources AS src ON t.source_id = src.source_id"
    ).fetchone()
    if overlap[0]:
        raise EffbenchError(
            f"{path}: {overlap[0]} result(s) are already loaded (from {overlap[2]}), e.g. {overlap[1]}; "
            "effbench never overwrites results: load only new ones, or use a new --db"
        )


def insert_models(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        f"INSERT INTO models (model) SELECT DISTINCT model FROM {STAGED_TABLE}"
        " WHERE model NOT IN (SELECT model FROM models) ORDER BY model"
    )


def insert_metadata(con: duckdb.DuckDBPyConnection, staged: Staged, *, replace: bool = True) -> None:
    """Add the file's columns to `models`. A metadata file's value replaces an earlier one's; what a
    harness format says about a model (`replace` false) only fills values that are missing, so the
    user's own metadata file always wins."""
    check_fits(con, "models", staged)
    add_columns(con, "models", staged.extra_columns)
    if staged.extra_columns:
        assignments = ", ".join(
            f"{quote_ident(name)} = s.{quote_ident(name)}" if replace
            else f"{quote_ident(name)} = coalesce(models.{quote_ident(name)}, s.{quote_ident(name)})"
            for name, _ in staged.extra_columns)
        con.execute(f"UPDATE models SET {assignments} FROM {STAGED_TABLE} AS s WHERE models.model = s.model")
    con.execute(
        f"INSERT INTO models BY NAME SELECT * FROM {STAGED_TABLE}"
        " WHERE model NOT IN (SELECT model FROM models) ORDER BY model"
    )
