"""Adapters that read result files with DuckDB's own readers into a checked staging table.

Each adapter turns one format into rows of a temporary table with effbench's column names and
raises `EffbenchError` (one line, naming the file) on anything it cannot take as it is. Nothing here
writes to the user's tables: `store.ingest` moves staged rows in, inside one transaction.

Formats, chosen by the file's name: ``.csv``, ``.tsv``, ``.txt`` (optionally ``.gz`` or ``.zst``),
``.parquet``/``.pq`` and ``.jsonl``/``.ndjson`` (optionally ``.gz``). Reading a file and the temporary
tables it goes through are in `effbench.readers`; here are the column checks and the shapes (long, wide,
models) a staged table is made from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import duckdb

from effbench.errors import EffbenchError

# The file readers; the paths, digests and staging table stay importable from here too.
from effbench.readers import (  # noqa: F401
    LAKE_SOURCE_COLUMN,
    MISSING_MARKERS,
    RAW_TABLE,
    STAGED_TABLE,
    create_staged,
    describe_file,
    drop_staging,
    duckdb_path,
    file_columns,
    file_sha256,
    is_parquet,
    materialise_staged,
    partition_values,
    read_lake,
    read_raw,
    reader_failure,
)
from effbench.sql import quote_ident, quote_literal

SourceKind = Literal["long", "wide", "models"]

# Columns of wide tables that summarise the other columns rather than being a scenario of their own.
AGGREGATE_COLUMNS = frozenset({"mean win rate", "average", "avg", "mean", "overall", "rank", "score"})

# Names under which wide tables and metadata files commonly hold the model's name.
MODEL_COLUMN_NAMES = ("model", "model/adapter", "model_name", "name")

NUMERIC_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                 "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "BOOLEAN", "BIGNUM", "VARINT")

# The name policy (`apply_name_policy`): names longer than this are refused, as are names of these types.
MAX_NAME_LENGTH = 1000
_NON_SCALAR_TYPES = ("STRUCT", "MAP", "UNION", "[]", "JSON")
# Surrounding whitespace (ASCII and Unicode spaces) is stripped; control characters left inside are refused.
_SURROUNDING_SPACE = r"^[\s\p{Z}]+|[\s\p{Z}]+$"
_CONTROL_CHARACTER = r"\p{Cc}"

# Extra columns of result files are kept in one JSON column of `scores`, so that a file with many
# extra columns adds no column to a table of millions of rows; metadata files add real columns to
# the small `models` table, at most this many per file.
EXTRA_COLUMN = "extra"
# Provenance columns are columns of `scores` of their own (text), whoever gives them: an adapter, or a
# file with a column of that name.
PROVENANCE_COLUMNS = ("run", "metric", "file")
MAX_METADATA_COLUMNS = 200
# Scores beyond this magnitude are refused: the analyses square and sum them over millions of items
# (bootstrap variances, Flash's regression estimates), which overflows a double near 1e154, and
# beyond 2**53 a double no longer holds every whole number, which exact tie-breaking relies on.
MAX_SCORE_MAGNITUDE = 1e15


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
    # A results lake: Parquet files read together in one scan (`stage_lake`), each still a sources row
    # of its own; `path` is then the folder or --glob pattern they were found by.
    files: tuple[Path, ...] = ()


@dataclass(frozen=True)
class Staged:
    """What an adapter left in the staging table, and what the user should be told about it."""

    source: Source
    rows: int
    extra_columns: tuple[tuple[str, str], ...]  # (name, DuckDB type) kept besides the standard ones
    notes: tuple[str, ...] = field(default=())


def stage(con: duckdb.DuckDBPyConnection, source: Source) -> Staged:
    """Read `source` into the temporary table `STAGED_TABLE`, checked; return what was staged."""
    path = source.path
    if not path.is_file():
        raise EffbenchError(f"{path}: not a regular file (a pipe, socket or device)" if path.exists()
                            else f"{path}: no such file")
    # CSV readers guess types from a sample; identifiers and scores are read as text instead, so
    # item "007" stays "007" and a stray word in the score column is reported rather than guessed at.
    sniffed = describe_file(con, path)
    names = source.columns
    wanted = (names.model, names.scenario, names.item_id, names.score, *names.keys)
    if source.kind != "long":
        wanted = (names.model, *MODEL_COLUMN_NAMES)
    text_columns = {_find_column(sniffed, name) for name in wanted} - {None}
    read_raw(con, path, sorted(text_columns))
    return _stage_raw(con, source)


def stage_lake(con: duckdb.DuckDBPyConnection, source: Source, source_ids: Sequence[int]) -> Staged:
    """Stage the Parquet files of a results lake (`source.files`) as one long table read in one scan,
    each row carrying the id of the sources row of its file; folders named ``key=value`` on a file's
    path give it columns (`effbench.readers.read_lake`). Each file must have the columns effbench
    needs, in itself or in its folders' names."""
    keys = read_lake(con, source.files, source_ids)
    names = source.columns
    for file, columns in file_columns(con, source.files).items():
        have = columns | {key.lower() for key in partition_values(file)}
        for wanted, flag in ((names.model, "--model-col"), (names.scenario, "--scenario-col"),
                             (names.item_id, "--item-col"), (names.score, "--score-col"),
                             *((key, "--key") for key in names.keys)):
            if wanted.lower() not in have:
                raise EffbenchError(f"{file}: no column {wanted!r}, in the file or as a folder named "
                                    f"{wanted}=VALUE above it; name the right one with {flag}")
    staged = _stage_raw(con, source)
    partitioned = f"; partition columns from folder names: {', '.join(keys)}" if keys else ""
    return Staged(staged.source, staged.rows, staged.extra_columns,
                  (f"{len(source.files):,} Parquet file(s) read in one scan{partitioned}", *staged.notes))


def _stage_raw(con: duckdb.DuckDBPyConnection, source: Source) -> Staged:
    """Stage the rows of `RAW_TABLE` in the shape of `source.kind`."""
    columns = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {RAW_TABLE})").fetchall())
    if con.execute(f"SELECT count(*) FROM {RAW_TABLE}").fetchone()[0] == 0:
        raise EffbenchError(f"{source.path}: the file holds no rows" if not source.files
                            else f"{source.path}: the files hold no rows")
    adapters = {"long": _stage_long, "wide": _stage_wide, "models": _stage_models}
    return adapters[source.kind](con, source, columns)


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
    if is_numeric(column_type):
        as_double = f"CAST({quoted} AS DOUBLE)"
    elif column_type.upper() == "VARCHAR":
        markers = ", ".join(quote_literal(m) for m in MISSING_MARKERS)
        # Numbers, and true/false as 1/0 (pandas writes booleans so); anything else is refused.
        as_double = (f"CASE lower(trim({quoted})) WHEN 'true' THEN 1.0 WHEN 'false' THEN 0.0"
                     f" ELSE TRY_CAST(trim({quoted}) AS DOUBLE) END")
        bad = con.execute(
            f"SELECT count(*), any_value({quoted}) FROM {RAW_TABLE} WHERE {quoted} IS NOT NULL"
            f" AND trim({quoted}) NOT IN ({markers}) AND {as_double} IS NULL"
        ).fetchone()
        if bad[0]:
            raise EffbenchError(
                f"{path}: column {column!r} has {bad[0]} value(s) that are not numbers, e.g. {bad[1]!r}"
            )
    else:
        raise EffbenchError(f"{path}: column {column!r} holds {column_type}, not numbers")
    _refuse_unusable_scores(con, as_double, column, path)
    # NaN is how some writers spell "not evaluated"; store it as NULL like a blank cell.
    return f"CASE WHEN isnan({as_double}) THEN NULL ELSE {as_double} END"


def _refuse_unusable_scores(con: duckdb.DuckDBPyConnection, as_double: str, column: str, path: Path) -> None:
    """Refuse infinite scores and scores beyond `MAX_SCORE_MAGNITUDE`, which the analyses cannot use."""
    row = con.execute(
        f"SELECT count(*) FILTER (isinf(v)), count(*) FILTER (NOT isinf(v) AND abs(v) > {MAX_SCORE_MAGNITUDE}),"
        f" any_value(v) FILTER (NOT isinf(v) AND abs(v) > {MAX_SCORE_MAGNITUDE})"
        f" FROM (SELECT {as_double} AS v FROM {RAW_TABLE}) WHERE NOT isnan(v)"
    ).fetchone()
    if row[0]:
        raise EffbenchError(f"{path}: column {column!r} has {row[0]} infinite value(s)")
    if row[1]:
        raise EffbenchError(f"{path}: column {column!r} has {row[1]} value(s) beyond ±{MAX_SCORE_MAGNITUDE:.0e}, "
                            f"e.g. {row[2]!r}, which the analyses cannot square and sum; rescale the scores")


def _refuse_infinite_metadata(con: duckdb.DuckDBPyConnection, columns: dict[str, str], path: Path) -> None:
    """Refuse infinite values in a metadata file, as numbers or as text that reads as a number ("inf",
    "1e400"): a parameter count or a token count of infinity has no place on a plot or in a fit."""
    for name, type_ in columns.items():
        if type_.upper() not in ("FLOAT", "DOUBLE", "VARCHAR"):
            continue
        value = f"TRY_CAST(trim({quote_ident(name)}) AS DOUBLE)" if type_.upper() == "VARCHAR" else quote_ident(name)
        count = con.execute(f"SELECT count(*) FROM {RAW_TABLE} WHERE isinf({value})").fetchone()[0]
        if count:
            raise EffbenchError(f"{path}: column {name!r} has {count} infinite value(s); leave the cell blank "
                                "where the value is unknown")


def is_numeric(column_type: str) -> bool:
    """Return whether a DuckDB column type holds numbers (every integer, float and DECIMAL type)."""
    upper = column_type.upper()
    return upper in NUMERIC_TYPES or upper.startswith("DECIMAL")


def _show(value: object, limit: int = 60) -> str:
    """Return `value` for a message: its repr (control characters escaped), cut to `limit` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def apply_name_policy(con: duckdb.DuckDBPyConnection, path: Path, raw_types: dict[str, str],
                      fields: dict[str, str | None]) -> tuple[str, ...]:
    """Apply effbench's policy for names to the staged rows; return the warnings for the load report.

    `fields` maps each name column of `STAGED_TABLE` (model, scenario, item_id) to the column of the
    raw table it came from (None when it came from a header). Every staging path calls this, so every
    format gets the same policy: names are stripped of surrounding whitespace; names that are not
    scalar (a JSON object or list), empty, longer than `MAX_NAME_LENGTH` or holding control
    characters are refused; models and scenarios whose names differ only in case, among themselves
    or from names already in the database, are kept apart with a warning.
    """
    notes = []
    for field_name, raw in fields.items():
        label = field_name.replace("_id", "")
        if raw is not None and any(token in raw_types[raw].upper() for token in _NON_SCALAR_TYPES):
            raise EffbenchError(f"{path}: column {raw!r} holds {raw_types[raw]}, not {label} names; "
                                "a name must be text or a number")
        quoted = quote_ident(field_name)
        stripped = _stripped_sql("v")
        control = f"regexp_matches(s, {quote_literal(_CONTROL_CHARACTER)})"
        row = con.execute(
            f"SELECT count(*) FILTER ({control}), any_value(v) FILTER ({control}),"
            f" count(*) FILTER (s = ''), any_value(v) FILTER (s = ''),"
            f" count(*) FILTER (length(s) > {MAX_NAME_LENGTH}), any_value(s) FILTER (length(s) > {MAX_NAME_LENGTH}),"
            f" count(*) FILTER (s <> v)"
            f" FROM (SELECT v, {stripped} AS s FROM (SELECT DISTINCT {quoted} AS v FROM {STAGED_TABLE})"
            f" WHERE v IS NOT NULL)"
        ).fetchone()
        where = f"column {raw!r}" if raw is not None else "the header"
        if row[0]:
            raise EffbenchError(f"{path}: {where}: {row[0]} {label} name(s) hold control characters, e.g. "
                                f"{_show(row[1])}; names must be printable text")
        if row[2]:
            raise EffbenchError(f"{path}: {where}: {row[2]} {label} name(s) are empty or only spaces, "
                                f"e.g. {_show(row[3])}")
        if row[4]:
            raise EffbenchError(f"{path}: {where}: {row[4]} {label} name(s) are longer than {MAX_NAME_LENGTH:,} "
                                f"characters, e.g. {_show(row[5])}")
        if row[6]:
            materialise_staged(con)
            con.execute(f"UPDATE {STAGED_TABLE} SET {quoted} = {_stripped_sql(quoted)}"
                        f" WHERE {quoted} <> {_stripped_sql(quoted)}")
            notes.append(f"stripped the spaces around {row[6]} {label} name(s)")
        if field_name in ("model", "scenario"):
            notes.extend(_names_equal_up_to_case(con, field_name))
    return tuple(notes)


def _stripped_sql(expression: str) -> str:
    return f"regexp_replace({expression}, {quote_literal(_SURROUNDING_SPACE)}, '', 'g')"


def _names_equal_up_to_case(con: duckdb.DuckDBPyConnection, field_name: str) -> list[str]:
    """Return a warning for each group of staged (or staged and stored) names that differ only in case."""
    table = "models" if field_name == "model" else "scenarios"
    stored = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND table_name = ?", [table]
    ).fetchone()[0]
    union = f" UNION SELECT {quote_ident(field_name)} FROM {table}" if stored else ""
    groups = con.execute(
        f"SELECT list(v ORDER BY v) FROM (SELECT DISTINCT {quote_ident(field_name)} AS v FROM {STAGED_TABLE}{union})"
        f" WHERE v IS NOT NULL GROUP BY lower(v) HAVING count(*) > 1 ORDER BY lower(v)"
    ).fetchall()
    return [f"{field_name}s {', '.join(_show(name) for name in names)} differ only in case; "
            f"they are kept as {len(names)} {field_name}s" for (names,) in groups[:5]] + (
        [f"... and {len(groups) - 5} more such groups"] if len(groups) > 5 else [])


def _extra_json_sql(extras: Sequence[tuple[str, str]]) -> str:
    """Return SQL for the one JSON column (`EXTRA_COLUMN`) that holds a row's extra columns."""
    if not extras:
        return ""
    pairs = ", ".join(f"{quote_literal(name)}, {quote_ident(name)}" for name, _ in extras)
    return f", json_object({pairs}) AS {EXTRA_COLUMN}"


def _refuse_nulls(con: duckdb.DuckDBPyConnection, columns: dict[str, str], path: Path) -> None:
    for label, column in columns.items():
        count = con.execute(f"SELECT count(*) FROM {RAW_TABLE} WHERE {quote_ident(column)} IS NULL")
        missing = count.fetchone()[0]
        if missing:
            raise EffbenchError(f"{path}: {missing} row(s) have no {label} (column {column!r} is blank)")


def _refuse_duplicates(con: duckdb.DuckDBPyConnection, keys: list[str], path: Path, hint: str) -> None:
    # Rows are grouped by a 64-bit hash of their key, which is far cheaper than grouping by the key's
    # text at a hundred million rows; only rows whose hash repeats are then compared by their key.
    key_sql = ", ".join(quote_ident(key) for key in keys)
    row = con.execute(
        f"WITH repeated AS (SELECT hash({key_sql}) AS h FROM {STAGED_TABLE} GROUP BY h HAVING count(*) > 1)"
        f" SELECT count(*), any_value(example) FROM (SELECT ({key_sql}) AS example FROM {STAGED_TABLE}"
        f" WHERE hash({key_sql}) IN (SELECT h FROM repeated) GROUP BY ALL HAVING count(*) > 1)"
    ).fetchone()
    if row[0]:
        raise EffbenchError(f"{path}: {row[0]} ({', '.join(keys)}) value(s) appear more than once, "
                            f"e.g. {row[1]}; {hint}")


def _stage_long(con: duckdb.DuckDBPyConnection, source: Source, columns: dict[str, str]) -> Staged:
    path, names = source.path, source.columns
    # A lake's rows carry their file's sources row, which becomes `scores.source_id`.
    carried = f", {LAKE_SOURCE_COLUMN} AS source_id" if columns.pop(LAKE_SOURCE_COLUMN, None) else ""
    model = _require_column(columns, names.model, path, "--model-col")
    scenario = _require_column(columns, names.scenario, path, "--scenario-col")
    item = _require_column(columns, names.item_id, path, "--item-col")
    score = _require_column(columns, names.score, path, "--score-col")
    keys = [_require_column(columns, key, path, "--key") for key in names.keys]
    _refuse_nulls(con, {"model": model, "scenario": scenario, "item id": item}, path)
    score_sql = _score_expression(con, score, columns[score], path)

    standard = {model, scenario, item, score}
    reserved = {"model", "scenario", "item_id", "score", "source_id"}
    clashing = [name for name in columns if name not in standard and name.lower() in reserved]
    clashing += [key for key in keys if key.lower() == EXTRA_COLUMN]
    if clashing:
        raise EffbenchError(f"{path}: extra column(s) {', '.join(clashing)} clash with effbench's own names; "
                            "rename them or map them with --model-col/--scenario-col/--item-col/--score-col")
    # Key columns (prompt, seed) identify rows, so they are columns of `scores`; every other extra
    # column goes into the one JSON column, whatever their number.
    key_columns = [(key, columns[key]) for key in keys]
    provenance = [name for name in PROVENANCE_COLUMNS if name in columns and name not in standard and name not in keys]
    extras = [(name, type_) for name, type_ in columns.items()
              if name not in standard and name not in keys and name not in provenance]
    key_sql = "".join(f", {quote_ident(name)}" for name, _ in key_columns)
    provenance_sql = "".join(f", CAST({quote_ident(name)} AS VARCHAR) AS {quote_ident(name)}" for name in provenance)
    create_staged(
        con, f"SELECT CAST({quote_ident(model)} AS VARCHAR) AS model, CAST({quote_ident(scenario)} AS VARCHAR)"
        f" AS scenario, CAST({quote_ident(item)} AS VARCHAR) AS item_id, {score_sql} AS score{key_sql}"
        f"{provenance_sql}{_extra_json_sql(extras)}{carried} FROM {RAW_TABLE}"
    )
    notes = apply_name_policy(con, path, columns, {"model": model, "scenario": scenario, "item_id": item})
    _refuse_duplicates(
        con, ["model", "scenario", "item_id", *keys], path,
        "if rows differ by prompt or seed, name that column with --key",
    )
    rows = con.execute(f"SELECT count(*) FROM {STAGED_TABLE}").fetchone()[0]
    kept = key_columns + ([(EXTRA_COLUMN, "JSON")] if extras else [])
    return Staged(source=source, rows=rows, extra_columns=tuple(kept), notes=notes)


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
        elif not is_numeric(type_):
            notes.append(f"skipped column {name!r}: it holds {type_}, not scores")
        else:
            scenarios.append(name)
    if not scenarios:
        raise EffbenchError(f"{path}: no numeric scenario columns besides {model!r}")
    for name in scenarios:
        _refuse_unusable_scores(con, f"CAST({quote_ident(name)} AS DOUBLE)", name, path)
    casts = ", ".join(f"CAST({quote_ident(name)} AS DOUBLE) AS {quote_ident(name)}" for name in scenarios)
    listed = ", ".join(quote_ident(name) for name in scenarios)
    create_staged(
        con, "SELECT model, scenario, CAST(NULL AS VARCHAR) AS item_id,"
        " CASE WHEN isnan(score) THEN NULL ELSE score END AS score"
        f" FROM (SELECT CAST({quote_ident(model)} AS VARCHAR) AS model, {casts} FROM {RAW_TABLE})"
        f" UNPIVOT INCLUDE NULLS (score FOR scenario IN ({listed}))"
    )
    notes += apply_name_policy(con, path, columns, {"model": model, "scenario": None})
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
    if len(extras) > MAX_METADATA_COLUMNS:
        raise EffbenchError(f"{path}: {len(extras):,} metadata columns; a metadata file may have at most "
                            f"{MAX_METADATA_COLUMNS} besides the model's name")
    _refuse_infinite_metadata(con, dict(extras), path)
    # NaN, as in scores, means "not known": stored as NULL like a blank cell.
    extra_sql = "".join(f", CASE WHEN isnan({quote_ident(name)}) THEN NULL ELSE {quote_ident(name)} END"
                        f" AS {quote_ident(name)}" if type_.upper() in ("FLOAT", "DOUBLE") else f", {quote_ident(name)}"
                        for name, type_ in extras)
    create_staged(con, f"SELECT CAST({quote_ident(model)} AS VARCHAR) AS model{extra_sql} FROM {RAW_TABLE}")
    notes = apply_name_policy(con, path, columns, {"model": model})
    _refuse_duplicates(con, ["model"], path, "a metadata file has one row per model")
    rows = con.execute(f"SELECT count(*) FROM {STAGED_TABLE}").fetchone()[0]
    return Staged(source=source, rows=rows, extra_columns=tuple(extras), notes=notes)


def check_fits(con: duckdb.DuckDBPyConnection, table: str, staged: Staged) -> None:
    """Refuse staged columns whose values the column of the same name in `table` (made by an earlier
    load, with another type) cannot take, naming the file and the column."""
    existing = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {table})").fetchall())
    for name, type_ in staged.extra_columns:
        target = existing.get(name)
        if target is None or target == type_:
            continue
        quoted = quote_ident(name)
        row = con.execute(
            f"SELECT count(*), any_value({quoted}) FROM {STAGED_TABLE}"
            f" WHERE {quoted} IS NOT NULL AND TRY_CAST({quoted} AS {target}) IS NULL"
        ).fetchone()
        if row[0]:
            raise EffbenchError(
                f"{staged.source.path}: column {name!r} holds {type_} values such as {_show(row[1])}, which the "
                f"database's {table}.{name} column ({target}, from files loaded before) cannot take; "
                "rename the column or use a new --db")


def stage_frame(con: duckdb.DuckDBPyConnection, frame, source: Source, *, level: str,
                keys: Sequence[str] = ()) -> Staged:
    """Stage rows an adapter read (a pandas frame) with the same checks as a file of that shape.

    `level` is ``item`` (columns model, scenario, item_id, score, the `keys` and extras),
    ``scenario`` (model, scenario, score and extras: one aggregate result per model x scenario) or
    ``models`` (model and metadata columns).
    """
    adapter_rows = frame  # noqa: F841 - read by DuckDB's scan of Python variables by name
    drop_staging(con)
    con.execute(f"CREATE TEMP TABLE {RAW_TABLE} AS SELECT * FROM adapter_rows")
    columns = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {RAW_TABLE})").fetchall())
    if level == "models":
        return _stage_models(con, source, columns)
    if level == "item":
        return _stage_long(con, Source(source.path, "long", ColumnMap(keys=tuple(keys))), columns)
    return _stage_scenario_scores(con, source, columns)


def _stage_scenario_scores(con: duckdb.DuckDBPyConnection, source: Source, columns: dict[str, str]) -> Staged:
    path = source.path
    _refuse_nulls(con, {"model": "model", "scenario": "scenario"}, path)
    score_sql = _score_expression(con, "score", columns["score"], path)
    provenance = [name for name in PROVENANCE_COLUMNS if name in columns]
    extras = [(name, type_) for name, type_ in columns.items()
              if name not in {"model", "scenario", "score", *provenance}]
    provenance_sql = "".join(f", CAST({quote_ident(name)} AS VARCHAR) AS {quote_ident(name)}" for name in provenance)
    create_staged(
        con, f"SELECT CAST(model AS VARCHAR) AS model, CAST(scenario AS VARCHAR) AS scenario,"
        f" CAST(NULL AS VARCHAR) AS item_id, {score_sql} AS score{provenance_sql}{_extra_json_sql(extras)}"
        f" FROM {RAW_TABLE}"
    )
    notes = apply_name_policy(con, path, columns, {"model": "model", "scenario": "scenario"})
    _refuse_duplicates(con, ["model", "scenario"], path, "an aggregate result is one per model and scenario")
    rows = con.execute(f"SELECT count(*) FROM {STAGED_TABLE}").fetchone()[0]
    return Staged(source=source, rows=rows, extra_columns=((EXTRA_COLUMN, "JSON"),) if extras else (), notes=notes)
