"""Adapters that read result files with DuckDB's own readers into a checked staging table.

Each adapter turns one format into rows of a temporary table with effbench's column names and
raises `EffbenchError` (one line, naming the file) on anything it cannot take as it is. Nothing here
writes to the user's tables: `store.ingest` moves staged rows in, inside one transaction.

Formats, chosen by the file's name: ``.csv``, ``.tsv``, ``.txt`` (optionally ``.gz`` or ``.zst``),
``.parquet``/``.pq`` and ``.jsonl``/``.ndjson`` (optionally ``.gz``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import duckdb

from effbench.errors import EffbenchError
from effbench.sql import quote_ident, quote_literal

SourceKind = Literal["long", "wide", "models"]

# Cells that mean "not evaluated" in CSV files: blank, and the dashes and NAs of published tables.
MISSING_MARKERS = ("", "-", "NA", "N/A", "NaN", "nan", "null", "NULL")

# Columns of wide tables that summarise the other columns rather than being a scenario of their own.
AGGREGATE_COLUMNS = frozenset({"mean win rate", "average", "avg", "mean", "overall", "rank", "score"})

# Names under which wide tables and metadata files commonly hold the model's name.
MODEL_COLUMN_NAMES = ("model", "model/adapter", "model_name", "name")

STAGED_TABLE = "_effbench_staged"
_RAW_TABLE = "_effbench_raw"

NUMERIC_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                 "UBIGINT", "FLOAT", "DOUBLE", "BOOLEAN")


@dataclass(frozen=True)
class ColumnMap:
    """Which columns of a file hold effbench's fields; `keys` are extra columns (prompt, seed) that,
    with model, scenario and item, identify a row."""

    model: str = "model"
    scenario: str = "scenario"
    item_id: str = "item_id"
    score: str = "score"
    keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class Source:
    """A file to load and how to read it.

    `kind` is ``long`` (one row per model x scenario x item), ``wide`` (one row per model, one
    column per scenario, no items) or ``models`` (model metadata, joined on the model's name).
    """

    path: Path
    kind: SourceKind = "long"
    columns: ColumnMap = ColumnMap()
    credit: str | None = None
    license: str | None = None
    # A harness format (`effbench.formats`) read by its adapter; None for the tables above, which
    # DuckDB's own readers stage. `read_options` is the `formats.ReadOptions` given to the adapter.
    format: str | None = None
    read_options: object = None


@dataclass(frozen=True)
class Staged:
    """What an adapter left in the staging table, and what the user should be told about it."""

    source: Source
    rows: int
    extra_columns: tuple[tuple[str, str], ...]  # (name, DuckDB type) kept besides the standard ones
    notes: tuple[str, ...] = field(default=())


def file_sha256(path: Path) -> str:
    """Return the hex sha256 of a file's bytes, read in blocks so large files need little memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def stage(con: duckdb.DuckDBPyConnection, source: Source) -> Staged:
    """Read `source` into the temporary table `STAGED_TABLE`, checked; return what was staged."""
    path = source.path
    if not path.is_file():
        raise EffbenchError(f"{path}: no such file")
    # CSV readers guess types from a sample; identifiers and scores are read as text instead, so
    # item "007" stays "007" and a stray word in the score column is reported rather than guessed at.
    sniffed = _describe(con, path)
    names = source.columns
    wanted = (names.model, names.scenario, names.item_id, names.score, *names.keys)
    if source.kind != "long":
        wanted = (names.model, *MODEL_COLUMN_NAMES)
    text_columns = {_find_column(sniffed, name) for name in wanted} - {None}
    _read_raw(con, path, sorted(text_columns))
    columns = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {_RAW_TABLE})").fetchall())
    if con.execute(f"SELECT count(*) FROM {_RAW_TABLE}").fetchone()[0] == 0:
        raise EffbenchError(f"{path}: the file holds no rows")
    adapters = {"long": _stage_long, "wide": _stage_wide, "models": _stage_models}
    return adapters[source.kind](con, source, columns)


def _reader_sql(path: Path, text_columns: Sequence[str] = ()) -> tuple[str, str]:
    """Return (DuckDB table function call, format name) for the file at `path`; in CSV files the
    `text_columns` are read as VARCHAR rather than as the type the reader would guess."""
    name = path.name.lower()
    for suffix in (".gz", ".zst"):
        name = name.removesuffix(suffix)
    literal = quote_literal(str(path))
    if name.endswith((".parquet", ".pq")):
        return f"read_parquet({literal})", "Parquet"
    if name.endswith((".jsonl", ".ndjson")):
        return f"read_json({literal}, format = 'newline_delimited')", "JSON lines"
    if name.endswith((".csv", ".tsv", ".txt")):
        markers = ", ".join(quote_literal(m) for m in MISSING_MARKERS)
        types = ", ".join(f"{quote_literal(name)}: 'VARCHAR'" for name in text_columns)
        typed = f", types = {{{types}}}" if text_columns else ""
        return f"read_csv({literal}, header = true, nullstr = [{markers}]{typed})", "CSV"
    raise EffbenchError(
        f"{path}: unknown file type; use .csv, .tsv, .parquet or .jsonl (optionally .gz)"
    )


def _describe(con: duckdb.DuckDBPyConnection, path: Path) -> dict[str, str]:
    """Return {column: type} as the reader sees the file, without reading it all."""
    reader, format_name = _reader_sql(path)
    try:
        return dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM {reader})").fetchall())
    except duckdb.Error as error:
        raise EffbenchError(f"{path}: cannot be read as {format_name}: {_first_line(error)}") from None


def _read_raw(con: duckdb.DuckDBPyConnection, path: Path, text_columns: Sequence[str]) -> None:
    reader, format_name = _reader_sql(path, text_columns)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {_RAW_TABLE} AS SELECT * FROM {reader}")
    except duckdb.Error as error:
        raise EffbenchError(f"{path}: cannot be read as {format_name}: {_first_line(error)}") from None


def _first_line(error: Exception) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def _find_column(columns: dict[str, str], wanted: str) -> str | None:
    """Return the file's spelling of column `wanted`, matched exactly first, then ignoring case."""
    if wanted in columns:
        return wanted
    folded = [name for name in columns if name.lower() == wanted.lower()]
    return folded[0] if len(folded) == 1 else None


def _require_column(columns: dict[str, str], wanted: str, path: Path, flag: str) -> str:
    found = _find_column(columns, wanted)
    if found is None:
        listing = ", ".join(columns)
        raise EffbenchError(
            f"{path}: no column {wanted!r} (the file has: {listing}); name the right one with {flag}"
        )
    return found


def _model_column(columns: dict[str, str], source: Source) -> str:
    if source.columns.model != "model":  # the user named it
        return _require_column(columns, source.columns.model, source.path, "--model-col")
    for candidate in MODEL_COLUMN_NAMES:
        found = _find_column(columns, candidate)
        if found is not None:
            return found
    return _require_column(columns, "model", source.path, "--model-col")


def _score_expression(con: duckdb.DuckDBPyConnection, column: str, column_type: str, path: Path) -> str:
    """Return SQL that turns `column` into DOUBLE scores, NULL where not evaluated; refuse text that is
    neither a number nor a missing marker, and infinities."""
    quoted = quote_ident(column)
    if column_type.upper() in NUMERIC_TYPES:
        as_double = f"CAST({quoted} AS DOUBLE)"
    elif column_type.upper() == "VARCHAR":
        markers = ", ".join(quote_literal(m) for m in MISSING_MARKERS)
        # Numbers, and true/false as 1/0 (pandas writes booleans so); anything else is refused.
        as_double = (f"CASE lower(trim({quoted})) WHEN 'true' THEN 1.0 WHEN 'false' THEN 0.0"
                     f" ELSE TRY_CAST(trim({quoted}) AS DOUBLE) END")
        bad = con.execute(
            f"SELECT count(*), any_value({quoted}) FROM {_RAW_TABLE} WHERE {quoted} IS NOT NULL"
            f" AND trim({quoted}) NOT IN ({markers}) AND {as_double} IS NULL"
        ).fetchone()
        if bad[0]:
            raise EffbenchError(
                f"{path}: column {column!r} has {bad[0]} value(s) that are not numbers, e.g. {bad[1]!r}"
            )
    else:
        raise EffbenchError(f"{path}: column {column!r} holds {column_type}, not numbers")
    infinite = con.execute(f"SELECT count(*) FROM {_RAW_TABLE} WHERE isinf({as_double})").fetchone()[0]
    if infinite:
        raise EffbenchError(f"{path}: column {column!r} has {infinite} infinite value(s)")
    # NaN is how some writers spell "not evaluated"; store it as NULL like a blank cell.
    return f"CASE WHEN isnan({as_double}) THEN NULL ELSE {as_double} END"


def _refuse_nulls(con: duckdb.DuckDBPyConnection, columns: dict[str, str], path: Path) -> None:
    for label, column in columns.items():
        count = con.execute(f"SELECT count(*) FROM {_RAW_TABLE} WHERE {quote_ident(column)} IS NULL")
        missing = count.fetchone()[0]
        if missing:
            raise EffbenchError(f"{path}: {missing} row(s) have no {label} (column {column!r} is blank)")


def _refuse_duplicates(con: duckdb.DuckDBPyConnection, keys: list[str], path: Path, hint: str) -> None:
    key_sql = ", ".join(quote_ident(key) for key in keys)
    row = con.execute(
        f"SELECT count(*), any_value(example) FROM (SELECT ({key_sql}) AS example FROM {STAGED_TABLE}"
        f" GROUP BY ALL HAVING count(*) > 1)"
    ).fetchone()
    if row[0]:
        raise EffbenchError(f"{path}: {row[0]} ({', '.join(keys)}) value(s) appear more than once, "
                            f"e.g. {row[1]}; {hint}")


def _stage_long(con: duckdb.DuckDBPyConnection, source: Source, columns: dict[str, str]) -> Staged:
    path, names = source.path, source.columns
    model = _require_column(columns, names.model, path, "--model-col")
    scenario = _require_column(columns, names.scenario, path, "--scenario-col")
    item = _require_column(columns, names.item_id, path, "--item-col")
    score = _require_column(columns, names.score, path, "--score-col")
    keys = [_require_column(columns, key, path, "--key") for key in names.keys]
    _refuse_nulls(con, {"model": model, "scenario": scenario, "item id": item}, path)
    score_sql = _score_expression(con, score, columns[score], path)

    standard = {model, scenario, item, score}
    extras = [(name, type_) for name, type_ in columns.items() if name not in standard]
    reserved = {"model", "scenario", "item_id", "score", "source_id"}
    clashing = [name for name, _ in extras if name.lower() in reserved]
    if clashing:
        raise EffbenchError(f"{path}: extra column(s) {', '.join(clashing)} clash with effbench's own names; "
                            "rename them or map them with --model-col/--scenario-col/--item-col/--score-col")
    extra_sql = "".join(f", {quote_ident(name)}" for name, _ in extras)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {STAGED_TABLE} AS SELECT"
        f" CAST({quote_ident(model)} AS VARCHAR) AS model, CAST({quote_ident(scenario)} AS VARCHAR) AS scenario,"
        f" CAST({quote_ident(item)} AS VARCHAR) AS item_id, {score_sql} AS score{extra_sql} FROM {_RAW_TABLE}"
    )
    _refuse_duplicates(
        con, ["model", "scenario", "item_id", *keys], path,
        "if rows differ by prompt or seed, name that column with --key",
    )
    rows = con.execute(f"SELECT count(*) FROM {STAGED_TABLE}").fetchone()[0]
    return Staged(source=source, rows=rows, extra_columns=tuple(extras))


def _stage_wide(con: duckdb.DuckDBPyConnection, source: Source, columns: dict[str, str]) -> Staged:
    path = source.path
    model = _model_column(columns, source)
    _refuse_nulls(con, {"model": model}, path)
    scenarios, notes = [], []
    for name, type_ in columns.items():
        if name == model:
            continue
        if name.strip().lower() in AGGREGATE_COLUMNS:
            notes.append(f"skipped column {name!r}: it aggregates the others (effbench computes its own)")
        elif type_.upper() not in NUMERIC_TYPES:
            notes.append(f"skipped column {name!r}: it holds {type_}, not scores")
        else:
            scenarios.append(name)
    if not scenarios:
        raise EffbenchError(f"{path}: no numeric scenario columns besides {model!r}")
    casts = ", ".join(f"CAST({quote_ident(name)} AS DOUBLE) AS {quote_ident(name)}" for name in scenarios)
    listed = ", ".join(quote_ident(name) for name in scenarios)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {STAGED_TABLE} AS"
        f" SELECT model, scenario, CAST(NULL AS VARCHAR) AS item_id,"
        f" CASE WHEN isnan(score) THEN NULL ELSE score END AS score"
        f" FROM (SELECT CAST({quote_ident(model)} AS VARCHAR) AS model, {casts} FROM {_RAW_TABLE})"
        f" UNPIVOT INCLUDE NULLS (score FOR scenario IN ({listed}))"
    )
    _refuse_duplicates(con, ["model", "scenario"], path, "a wide table has one row per model")
    rows = con.execute(f"SELECT count(*) FROM {STAGED_TABLE}").fetchone()[0]
    return Staged(source=source, rows=rows, extra_columns=(), notes=tuple(notes))


def _stage_models(con: duckdb.DuckDBPyConnection, source: Source, columns: dict[str, str]) -> Staged:
    path = source.path
    model = _model_column(columns, source)
    _refuse_nulls(con, {"model": model}, path)
    extras = [(name, type_) for name, type_ in columns.items() if name != model]
    if any(name.lower() == "model" for name, _ in extras):
        raise EffbenchError(f"{path}: a second column named like 'model' besides {model!r}")
    extra_sql = "".join(f", {quote_ident(name)}" for name, _ in extras)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {STAGED_TABLE} AS"
        f" SELECT CAST({quote_ident(model)} AS VARCHAR) AS model{extra_sql} FROM {_RAW_TABLE}"
    )
    _refuse_duplicates(con, ["model"], path, "a metadata file has one row per model")
    rows = con.execute(f"SELECT count(*) FROM {STAGED_TABLE}").fetchone()[0]
    return Staged(source=source, rows=rows, extra_columns=tuple(extras))


def drop_staging(con: duckdb.DuckDBPyConnection) -> None:
    """Remove the temporary tables an adapter made."""
    con.execute(f"DROP TABLE IF EXISTS {STAGED_TABLE}")
    con.execute(f"DROP TABLE IF EXISTS {_RAW_TABLE}")


def stage_frame(con: duckdb.DuckDBPyConnection, frame, source: Source, *, level: str,
                keys: Sequence[str] = ()) -> Staged:
    """Stage rows an adapter read (a pandas frame) with the same checks as a file of that shape.

    `level` is ``item`` (columns model, scenario, item_id, score, the `keys` and extras),
    ``scenario`` (model, scenario, score and extras: one aggregate result per model x scenario) or
    ``models`` (model and metadata columns).
    """
    adapter_rows = frame  # noqa: F841 - read by DuckDB's scan of Python variables by name
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_RAW_TABLE} AS SELECT * FROM adapter_rows")
    columns = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {_RAW_TABLE})").fetchall())
    if level == "models":
        return _stage_models(con, source, columns)
    if level == "item":
        return _stage_long(con, Source(source.path, "long", ColumnMap(keys=tuple(keys))), columns)
    return _stage_scenario_scores(con, source, columns)


def _stage_scenario_scores(con: duckdb.DuckDBPyConnection, source: Source, columns: dict[str, str]) -> Staged:
    path = source.path
    _refuse_nulls(con, {"model": "model", "scenario": "scenario"}, path)
    score_sql = _score_expression(con, "score", columns["score"], path)
    extras = [(name, type_) for name, type_ in columns.items() if name not in {"model", "scenario", "score"}]
    extra_sql = "".join(f", {quote_ident(name)}" for name, _ in extras)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {STAGED_TABLE} AS SELECT CAST(model AS VARCHAR) AS model,"
        f" CAST(scenario AS VARCHAR) AS scenario, CAST(NULL AS VARCHAR) AS item_id, {score_sql} AS score{extra_sql}"
        f" FROM {_RAW_TABLE}"
    )
    _refuse_duplicates(con, ["model", "scenario"], path, "an aggregate result is one per model and scenario")
    rows = con.execute(f"SELECT count(*) FROM {STAGED_TABLE}").fetchone()[0]
    return Staged(source=source, rows=rows, extra_columns=tuple(extras))
