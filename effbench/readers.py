"""The file readers under `effbench.load`: which of DuckDB's readers a file takes, reading it into a raw
temporary table, and the temporary tables and views that staging goes through.

`effbench.load` checks the columns and builds the staged table through these; they know files and DuckDB,
not effbench's columns.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import unquote

import duckdb

from effbench.errors import EffbenchError
from effbench.sql import quote_ident, quote_literal

# Cells that mean "not evaluated" in CSV files: blank, and the dashes and NAs of published tables.
MISSING_MARKERS = ("", "-", "NA", "N/A", "NaN", "nan", "null", "NULL")

STAGED_TABLE = "_effbench_staged"
RAW_TABLE = "_effbench_raw"
# A results lake's files: each file's path as DuckDB reports it, the sources row it becomes, its partition values.
LAKE_FILES_TABLE = "_effbench_lake_files"
LAKE_FILE_COLUMN = "_effbench_file"
LAKE_SOURCE_COLUMN = "_effbench_source_id"
# A Hive partition folder: a plain name, "=", the value (percent-escaped as Hive writers escape it).
_PARTITION_FOLDER = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$")
_HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"


def file_sha256(path: Path) -> str:
    """Return the hex sha256 of a file's bytes, read in blocks so large files need little memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# DuckDB's readers take a path as a glob pattern; each of these characters is escaped as a one-character class.
_GLOB_ESCAPES = str.maketrans({"[": "[[]", "*": "[*]", "?": "[?]"})


def duckdb_path(path: Path) -> str:
    """Return `path` as DuckDB's file readers must be given it to read that one file: absolute (so that
    a leading ``~`` or ``s3:`` is a name, not a home folder or a protocol) and with the glob characters
    ``[``, ``*`` and ``?`` escaped, so that ``run[1].csv`` is not read as ``run1.csv``."""
    return os.path.abspath(path).translate(_GLOB_ESCAPES)


def reader_sql(path: Path, text_columns: Sequence[str] = (), *, header: bool = True) -> tuple[str, str]:
    """Return (DuckDB table function call, format name) for the file at `path`; in CSV files the
    `text_columns` are read as VARCHAR rather than as the type the reader would guess, and without
    `header` the first line is read as a row of text."""
    name = path.name.lower()
    for suffix in (".gz", ".zst"):
        name = name.removesuffix(suffix)
    # DuckDB would otherwise take every folder named key=value on the file's path as a column, replacing
    # a column of the file of that name: a file named alone is that file, whatever its folders are called.
    literal = f"{quote_literal(duckdb_path(path))}, hive_partitioning = false"
    if name.endswith((".parquet", ".pq")):
        return f"read_parquet({literal})", "Parquet"
    if name.endswith((".jsonl", ".ndjson")):
        return f"read_json({literal}, format = 'newline_delimited')", "JSON lines"
    if name.endswith((".csv", ".tsv", ".txt")):
        markers = ", ".join(quote_literal(m) for m in MISSING_MARKERS)
        types = ", ".join(f"{quote_literal(name)}: 'VARCHAR'" for name in text_columns)
        typed = f", types = {{{types}}}" if text_columns else ""
        if not header:
            return f"read_csv({literal}, header = false, all_varchar = true)", "CSV"
        return f"read_csv({literal}, header = true, nullstr = [{markers}]{typed})", "CSV"
    raise EffbenchError(
        f"{path}: unknown file type; use .csv, .tsv, .parquet or .jsonl (optionally .gz)"
    )


def is_parquet(path: Path) -> bool:
    return path.name.lower().endswith((".parquet", ".pq"))


def partition_values(path: Path) -> dict[str, str | None]:
    """Return {key: value} of the folders named ``key=value`` on `path` as it is spelled (relative stays
    relative), as Hive-partitioned writers name them; the value is text, ``__HIVE_DEFAULT_PARTITION__`` None."""
    values: dict[str, str | None] = {}
    for part in path.parent.parts:
        match = _PARTITION_FOLDER.match(part)
        if match:
            value = unquote(match.group(2))
            values[match.group(1)] = None if value == _HIVE_NULL else value
    return values


def read_lake(con: duckdb.DuckDBPyConnection, files: Sequence[Path], source_ids: Sequence[int]) -> tuple[str, ...]:
    """Make `RAW_TABLE` a view of the Parquet `files` read in one scan, columns matched by name (a
    column a file lacks is NULL in its rows), with each row's `LAKE_SOURCE_COLUMN` from `source_ids`
    and a column for each partition folder (`partition_values`); return the partition keys.

    The partition columns come from a small table joined on each row's file name, not from DuckDB's
    ``hive_partitioning``, which reads every ``key=value`` folder of the absolute path (so ``/data/exp=1/``
    above the lake would become a column) and silently replaces a file's own column with the folder's
    value; here a file's column and its folder must agree, or the file is refused."""
    partitions = [partition_values(path) for path in files]
    keys = tuple(dict.fromkeys(key for values in partitions for key in values))
    drop_staging(con)
    columns = "".join(f", {quote_ident(key)} VARCHAR" for key in keys)
    con.execute(f"CREATE TEMP TABLE {LAKE_FILES_TABLE} ({LAKE_FILE_COLUMN} VARCHAR, {LAKE_SOURCE_COLUMN} INTEGER"
                f"{columns})")
    con.executemany(f"INSERT INTO {LAKE_FILES_TABLE} VALUES ({', '.join('?' * (2 + len(keys)))})",
                    [[os.path.abspath(path), source_id, *(values.get(key) for key in keys)]
                     for path, source_id, values in zip(files, source_ids, partitions, strict=True)])
    listing = ", ".join(quote_literal(duckdb_path(path)) for path in files)
    scan = (f"read_parquet([{listing}], union_by_name = true, hive_partitioning = false,"
            f" filename = {quote_literal(LAKE_FILE_COLUMN)})")
    in_files = [row[0] for row in con.execute(f"SELECT column_name FROM (DESCRIBE SELECT * FROM {scan})").fetchall()]
    shared = [name for name in in_files if name.lower() in {key.lower() for key in keys}]
    hidden = ", ".join(quote_ident(name) for name in (LAKE_FILE_COLUMN, *shared))
    con.execute(f"CREATE TEMP VIEW {RAW_TABLE} AS SELECT f.* EXCLUDE ({hidden}), p.* EXCLUDE ({LAKE_FILE_COLUMN})"
                f" FROM {scan} AS f JOIN {LAKE_FILES_TABLE} AS p USING ({LAKE_FILE_COLUMN})")
    for name in shared:
        key = next(key for key in keys if key.lower() == name.lower())
        row = con.execute(
            f"SELECT any_value({LAKE_FILE_COLUMN}), any_value(f.{quote_ident(name)}) FROM {scan} AS f"
            f" JOIN {LAKE_FILES_TABLE} AS p USING ({LAKE_FILE_COLUMN})"
            f" WHERE CAST(f.{quote_ident(name)} AS VARCHAR) IS DISTINCT FROM p.{quote_ident(key)}").fetchone()
        if row[0] is not None:
            path = next((path for path in files if os.path.abspath(path) == row[0]), Path(row[0]))
            raise EffbenchError(f"{path}: column {name!r} holds {row[1]!r}, which differs from its folder "
                                f"{key}={partition_values(path).get(key)}; a column and a partition folder of "
                                "the same name must agree")
    return keys


def file_columns(con: duckdb.DuckDBPyConnection, files: Sequence[Path]) -> dict[Path, set[str]]:
    """Return {file: lower-cased column names} of Parquet `files`, from their footers alone."""
    listing = ", ".join(quote_literal(duckdb_path(path)) for path in files)
    rows = con.execute(f"SELECT file_name, list(lower(name)) FROM parquet_schema([{listing}]) GROUP BY ALL")
    found = {name: set(columns) for name, columns in rows.fetchall()}
    return {path: found.get(os.path.abspath(path), set()) for path in files}


def unreadable_file(files: Sequence[Path]) -> tuple[Path, str] | None:
    """Return the first of `files` DuckDB cannot read whole as Parquet with its reason, None if each reads
    alone; on a connection of its own, since a failed query ends the load's transaction."""
    with duckdb.connect() as con:
        for path in files:
            try:
                con.execute(f"SELECT max(hash(t)) FROM {reader_sql(path)[0]} AS t").fetchone()
            except duckdb.Error as error:
                return path, reader_failure(error)
    return None


def describe_file(con: duckdb.DuckDBPyConnection, path: Path) -> dict[str, str]:
    """Return {column: type} as the reader sees the file, without reading it all."""
    reader, format_name = reader_sql(path)
    try:
        described = con.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM {reader})")
        columns = dict(described.fetchall())
        if format_name == "CSV":
            refuse_repeated_header(con, path)
    except duckdb.Error as error:
        raise EffbenchError(f"{path}: cannot be read as {format_name}: {reader_failure(error)}") from None
    return columns


def refuse_repeated_header(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Refuse a CSV header that names a column twice, which DuckDB's reader would rename to `x_1`."""
    header = con.execute(f"SELECT * FROM {reader_sql(path, header=False)[0]} LIMIT 1").fetchone() or ()
    seen: dict[str, str] = {}
    for name in header:
        folded = (name or "").strip().lower()
        if folded in seen:
            raise EffbenchError(f"{path}: line 1: column {name!r} appears more than once in the header")
        seen[folded] = name


def read_raw(con: duckdb.DuckDBPyConnection, path: Path, text_columns: Sequence[str]) -> None:
    """Make `RAW_TABLE` the file's rows: a view over a Parquet file, which DuckDB scans column by column
    at little cost, so a file of a hundred million rows is never copied; a temporary table of any
    other file, so that it is parsed once and its errors surface here."""
    reader, format_name = reader_sql(path, text_columns)
    drop_staging(con)
    try:
        if format_name == "Parquet":
            con.execute(f"CREATE TEMP VIEW {RAW_TABLE} AS SELECT * FROM {reader}")
        else:
            con.execute(f"CREATE TEMP TABLE {RAW_TABLE} AS SELECT * FROM {reader}")
    except duckdb.Error as error:
        raise EffbenchError(f"{path}: cannot be read as {format_name}: {reader_failure(error)}") from None


def create_staged(con: duckdb.DuckDBPyConnection, select_sql: str) -> None:
    """Make `STAGED_TABLE` the view `select_sql` of the raw rows: checks and the final insert read
    through it, so the rows are not copied again (`materialise_staged` makes it a table if they
    must be changed)."""
    drop_temporary(con, STAGED_TABLE)
    con.execute(f"CREATE TEMP VIEW {STAGED_TABLE} AS {select_sql}")


def materialise_staged(con: duckdb.DuckDBPyConnection) -> None:
    """Turn the staged view into a temporary table, so that its rows can be updated."""
    if _object_type(con, STAGED_TABLE) != "VIEW":
        return
    con.execute(f"CREATE TEMP TABLE {STAGED_TABLE}_rows AS SELECT * FROM {STAGED_TABLE}")
    con.execute(f"DROP VIEW {STAGED_TABLE}")
    con.execute(f"ALTER TABLE {STAGED_TABLE}_rows RENAME TO {STAGED_TABLE}")


def _object_type(con: duckdb.DuckDBPyConnection, name: str) -> str | None:
    """Return "VIEW" or "TABLE" for the temporary object `name`, None if there is none."""
    row = con.execute(
        "SELECT 'VIEW' FROM duckdb_views() WHERE database_name = 'temp' AND view_name = ?"
        " UNION ALL SELECT 'TABLE' FROM duckdb_tables() WHERE database_name = 'temp' AND table_name = ?",
        [name, name]).fetchone()
    return row[0] if row else None


def drop_temporary(con: duckdb.DuckDBPyConnection, name: str) -> None:
    kind = _object_type(con, name)
    if kind is not None:
        con.execute(f"DROP {kind} {name}")


def reader_failure(error: Exception, limit: int = 200) -> str:
    """Return the reason a DuckDB reader gave, in one line of at most `limit` characters.

    DuckDB's CSV errors put the line number first, then the offending line, then the reason; the
    reason is the part worth reading ("CSV Error on Line: 2" alone says nothing), so it is kept.
    """
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    if not lines:
        return type(error).__name__
    text = lines[0]
    if "CSV Error on Line:" in text:
        number = text.rsplit(":", 1)[1].strip()
        reason = next((line for line in lines[1:] if not line.startswith(("Original Line:", "Possible Solution:"))),
                      "malformed line")
        text = f"line {number}: {reason}"
        if "not utf-8 encoded" in reason.lower():
            text += " (convert it to UTF-8, e.g. with iconv)"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def drop_staging(con: duckdb.DuckDBPyConnection) -> None:
    """Remove the temporary tables and views an adapter made."""
    drop_temporary(con, STAGED_TABLE)
    drop_temporary(con, RAW_TABLE)
    drop_temporary(con, LAKE_FILES_TABLE)
