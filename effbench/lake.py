"""Results lakes into the database: Parquet files read in place in one scan (`effbench.load.stage_lake`),
each recorded as a sources row of its own, and the file a refused lake is refused for, named."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path

import duckdb

from effbench.errors import EffbenchError
from effbench.insert import LoadReport, check_results, insert_models, record_source
from effbench.load import STAGED_TABLE, Source, Staged, file_sha256, stage_lake
from effbench.readers import partition_values, reader_failure, unreadable_file


def ingest_lake(con: duckdb.DuckDBPyConnection, source: Source) -> LoadReport:
    """Load a results lake (`source.files`, Parquet) read in one scan, recording each file as a sources
    row of its own with its sha256 and its rows, as if it had been loaded alone.

    Provenance stays per file because it costs one read of each file's bytes for its digest (a scan
    reads them anyway) and keeps what a lake gives exactly what its files give one by one: a file
    added to the lake later loads alone on the next call, the others being "already loaded", and
    `scores.source_id` names the file every result came from. A file the load refuses is named by
    `_blame_file`.
    """
    # A file's rows are its bytes and its partition folders' values: equal bytes under model=a/ and
    # model=b/ are two models' results, so both make a file's identity.
    loaded = set(con.execute("SELECT sha256, coalesce(json_extract_string(options, '$.partitions'), '') FROM sources"
                             " WHERE kind = ?", [source.kind]).fetchall())
    new: dict[tuple[str, str], Path] = {}
    for path in source.files:
        if not path.is_file():
            raise EffbenchError(f"{path}: not a regular file (a pipe, socket or device)" if path.exists()
                                else f"{path}: no such file")
        values = partition_values(path)
        new.setdefault((file_sha256(path), json.dumps(values, sort_keys=True) if values else ""), path)
    identities = [identity for identity in new if identity not in loaded]
    skipped = len(source.files) - len(identities)
    if not identities:
        return LoadReport(source.path, source.kind, 0, already_loaded=True)
    files = tuple(new[identity] for identity in identities)
    first_id = con.execute("SELECT coalesce(max(source_id), 0) + 1 FROM sources").fetchone()[0]
    ids = range(first_id, first_id + len(files))
    lake = replace(source, files=files)
    try:
        staged = _stage_lake_checked(con, lake, ids)
    except EffbenchError:
        raise _blame_file(con, lake, ids) from None
    except duckdb.Error as error:
        unreadable = unreadable_file(files)
        if unreadable is None:
            raise EffbenchError(f"{source.path}: cannot be read as one table: {reader_failure(error)}") from None
        raise EffbenchError(f"{unreadable[0]}: cannot be read as Parquet: {unreadable[1]}") from None
    con.execute(f"INSERT INTO scores BY NAME SELECT * FROM {STAGED_TABLE}")
    insert_models(con)
    rows = dict(con.execute(f"SELECT source_id, count(*) FROM {STAGED_TABLE} GROUP BY ALL").fetchall())
    for source_id, (sha256, partitions), path in zip(ids, identities, files, strict=True):
        options = json.dumps({**asdict(source.columns), "lake": str(source.path),
                              **({"partitions": partitions} if partitions else {})}, sort_keys=True)
        record_source(con, source_id, replace(source, path=path), sha256, rows.get(source_id, 0), options, "table")
    notes = (*staged.notes, *([f"{skipped:,} file(s) already loaded, skipped"] if skipped else []))
    return LoadReport(source.path, source.kind, staged.rows, already_loaded=False, notes=notes)


def _stage_lake_checked(con: duckdb.DuckDBPyConnection, lake: Source, ids: Sequence[int]) -> Staged:
    """Stage `lake` and make every check its insert makes, without inserting."""
    staged = stage_lake(con, lake, ids)
    check_results(con, staged, "item", lake.columns.keys)
    return staged


def _blame_file(con: duckdb.DuckDBPyConnection, lake: Source, ids: Sequence[int]) -> EffbenchError:
    """Return the error of the first file of `lake` whose rows, with those of the files before it, the
    load refuses, in its own name: the same message a file loaded alone after the earlier ones gets.

    Called only once the whole lake was refused: the shortest refused run of files is found by halving
    (a few scans of the lake), so that a repeated row across two files names the later one."""
    def refused_as(part: Source) -> EffbenchError | None:
        try:
            _stage_lake_checked(con, part, ids[:len(part.files)])
        except EffbenchError as error:
            return error
        return None

    def refused(count: int) -> bool:
        return refused_as(replace(lake, files=lake.files[:count])) is not None

    passed, failed = 0, len(lake.files)
    while failed - passed > 1:
        middle = (passed + failed) // 2
        passed, failed = (passed, middle) if refused(middle) else (middle, failed)
    named = replace(lake, path=lake.files[failed - 1], files=lake.files[:failed])
    return refused_as(named) or EffbenchError(f"{lake.path}: refused, though no run of its files is refused")
