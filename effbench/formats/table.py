"""Plain result tables: one row per model x scenario x item with a score, as CSV, TSV, Parquet or JSON lines.

The long format effbench has always read. Its files are read by DuckDB's own readers straight into
the staging table (`effbench.load.stage`), not through pandas, so a table of any size loads in
bounded memory; `read` is therefore not used for it: `store.ingest` stages table units directly.
In a folder, a file is taken as a table only when it has the columns effbench needs (``model``,
``scenario``, ``item_id``, ``score``, matched ignoring case); a file named on the command line is
always taken (its columns may be mapped with ``--model-col`` and the like).
"""

from __future__ import annotations

import gzip
from pathlib import Path

import effbench.formats.shapes as shapes
from effbench.errors import EffbenchError
from effbench.formats.common import parquet_columns
from effbench.load import is_parquet, partition_values

NAME = "table"
DESCRIPTION = "long result tables (CSV, TSV, Parquet, JSON lines; .gz ok): model, scenario, item_id, score"

SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq", ".jsonl", ".ndjson")
REQUIRED = frozenset({"model", "scenario", "item_id", "score"})


def is_table_file(path: Path) -> bool:
    """Return whether `path` is named like a file DuckDB's readers take."""
    name = path.name.lower()
    for suffix in (".gz", ".zst"):
        name = name.removesuffix(suffix)
    return name.endswith(SUFFIXES)


def find(root: Path, files: list[Path]) -> list[Path]:
    """Return the files under `root` named like tables that hold effbench's four columns.

    A file given directly (`root` is that file) is always a table when it is named like one, so
    that its columns can be mapped; inside a folder only files with the standard columns are taken,
    and every Parquet file in a folder named ``key=value``: a file of a Hive-partitioned lake has some
    of its columns in its folders' names, and one that cannot be read must stop the load, not go
    missing from it.
    """
    if root.is_file():
        return [root] if is_table_file(root) else []
    # An empty file has no columns: its size, one stat, spares opening it (a folder may hold 100,000).
    return [path for path in files if is_table_file(path) and path.stat().st_size
            and ((is_parquet(path) and partition_values(path)) or _columns(path) >= REQUIRED)]


def _columns(path: Path) -> set[str]:
    """Return the lower-cased column names of a table file, reading only its first line (or schema)."""
    name = path.name.lower()
    try:
        if name.endswith((".parquet", ".pq")):
            return {column.lower() for column in parquet_columns(path) or ()}
        opener = gzip.open if name.endswith(".gz") else open
        if name.endswith(".zst"):
            return set()
        with opener(path, "rt", encoding="utf-8", errors="replace") as handle:
            first = handle.readline(1 << 16)
    except Exception:  # a file that cannot be opened or decoded is simply not a table
        return set()
    if ".jsonl" in name or ".ndjson" in name:
        record = shapes.probe_json(first)
        return {str(key).lower() for key in record} if isinstance(record, dict) else set()
    separator = "\t" if ".tsv" in name else ","
    return {cell.strip().strip('"').lower() for cell in first.rstrip("\r\n").split(separator)}


def read(unit: Path, options) -> None:
    raise EffbenchError(f"{unit}: tables are staged by DuckDB's readers, not read by an adapter")
