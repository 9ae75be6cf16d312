"""Values that pages show: cells that keep their raw number apart from its text, links, tables with
machine-readable twins, and the formatting of scores, intervals and ranks."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from effbench.formatting import missing
from effbench.sql import quote_literal

DATABASE_DOWNLOAD = "data/effbench.duckdb"
# GitHub refuses files larger than 100 MB, and GitHub Pages serves what GitHub holds: a larger
# database is left out of the site (its tables stay downloadable one by one), and the pages say so.
MAX_SITE_FILE_BYTES = 95 * 10**6
RELIABILITY_PAGE = "reliability.html"
FLASH_PAGE = "flash.html"
STYLESHEET = "static/style.css"
SCRIPT = "static/leaderboard.js"
COMPARE_SCRIPT = "static/compare.js"
FAVICON = "static/favicon.svg"
COMPARE_PAGE = "compare.html"
PROVENANCE_PAGE = "provenance.html"


# ---------------------------------------------------------------------------------------------
# Values and tables


@dataclass(frozen=True)
class Cell:
    """A table value: the raw number for sorting and machine-readable twins, and its display text."""

    value: float | None
    text: str


@dataclass(frozen=True)
class HeatCell:
    """A score cell coloured by its place in its column (colour-blind-safe blues), value printed in it."""

    value: float | None
    text: str
    style: str  # the CSS class of its colour step


@dataclass(frozen=True)
class Column:
    """A sortable leaderboard column: `key` names it in the page (and the URL hash), `first` is the
    direction of the first click (desc for scores, where higher is better)."""

    key: str
    label: str
    first: str = "asc"
    href: str = ""
    title: str = ""  # a tooltip: a scenario's id when its title is shown


@dataclass(frozen=True)
class Link:
    href: str
    text: str
    title: str = ""  # a tooltip: the id of a model or scenario shown by its display name


@dataclass(frozen=True)
class Table:
    """A table's machine-readable twin: column names and one record per row, raw values only."""

    name: str
    columns: tuple[str, ...]
    records: tuple[dict[str, Any], ...]

    def to_csv(self) -> str:
        """Return the table as CSV, text that a spreadsheet would run as a formula neutralised
        (`csv_cell`); the JSON and Parquet twins keep every value exactly."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        # The csv module quotes a field holding "\n" (the line terminator) but not a lone "\r", which
        # readers take for a line break; a row with one is written fully quoted.
        quoted = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL)
        header = [csv_cell(name) for name in self.columns]
        (quoted if any(isinstance(cell, str) and "\r" in cell for cell in header) else writer).writerow(header)
        # Column by column, so that a column of one kind of value is converted in one pass (a large table has
        # millions of values).
        cells = [_csv_column([record.get(name) for record in self.records]) for name in self.columns]
        returns = set()
        for column in cells:
            returns.update(i for i, cell in enumerate(column) if isinstance(cell, str) and "\r" in cell)
        rows = zip(*cells, strict=True) if cells else [()] * len(self.records)
        if not returns:
            writer.writerows(rows)
        else:
            for i, row in enumerate(rows):
                (quoted if i in returns else writer).writerow(row)
        return buffer.getvalue()

    def write_parquet(self, path: Path) -> None:
        """Write the table to `path` as Parquet, by DuckDB (the same bytes for the same rows), straight into
        the site: a board of thousands of scenarios has thousands of these files."""
        records = list(self.records)
        # Rows rebuilt with None for each missing value only when one of them is NaN or pd.NA (None is None).
        if any(value is pd.NA or (isinstance(value, float) and value != value)
               for record in records for value in record.values()):
            records = [{key: None if missing(value) else value for key, value in record.items()} for record in records]
        frame = pd.DataFrame.from_records(records, columns=list(self.columns))
        con = _parquet_writer()
        con.register("table_rows", frame)
        try:
            con.execute(f"COPY table_rows TO {quote_literal(str(path))} (FORMAT parquet)")
        finally:
            con.unregister("table_rows")

    def to_json(self) -> str:
        try:  # JSON refuses NaN and pd.NA, so records that encode hold no missing value other than None
            return records_json(list(self.records)) + "\n"
        except (ValueError, TypeError):
            pass
        clean = [{key: None if missing(value) else value for key, value in record.items()}
                 for record in self.records]
        return records_json(clean) + "\n"


_JSON_SCALARS = (str, int, float, bool, type(None))


def records_json(records: list[dict[str, Any]]) -> str:
    """Return ``json.dumps(records, indent=1, ensure_ascii=False, allow_nan=False)``, the same text.

    With indentation the json module encodes in Python, value by value; records of plain values (the
    downloads' rows) are encoded by its C encoder with the indentation as the item separator instead. A
    newline inside a string is escaped, so the only ``},<newline>`` pairs are those between records."""
    flat = all(record and all(type(value) in _JSON_SCALARS for value in record.values()) for record in records)
    if not records or not flat:
        return json.dumps(records, indent=1, ensure_ascii=False, allow_nan=False)
    compact = json.dumps(records, ensure_ascii=False, allow_nan=False, separators=(",\n  ", ": "))
    return "[\n {\n  " + compact[2:-2].replace("},\n  {", "\n },\n {\n  ") + "\n }\n]"


_PARQUET_WRITER: list = []  # one in-memory DuckDB for every table: a connection costs ~30 ms


def _parquet_writer() -> duckdb.DuckDBPyConnection:
    if not _PARQUET_WRITER:
        _PARQUET_WRITER.append(duckdb.connect())
    return _PARQUET_WRITER[0]


@dataclass(frozen=True)
class Download:
    """A file of the site offered for download, with the table it came from (None for the database)."""

    path: str
    label: str
    table: Table | None = None


# ---------------------------------------------------------------------------------------------
# Formatting


# Text starting with one of these is a formula to spreadsheets (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """Return `value` as a CSV download holds it: blank when missing, text that starts like a formula
    (``=cmd|' /C calc'!A0``, ``@SUM(1)``) behind an apostrophe, which spreadsheets show as text."""
    if missing(value):
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _csv_column(values: list[Any]) -> list[Any]:
    """Return `csv_cell` of each of `values`, a column of a table: numbers and text in one pass each."""
    kinds = set(map(type, values))
    if kinds <= {float, int, bool, type(None)}:
        return ["" if value is None or value != value else value for value in values]
    if kinds <= {str, type(None)}:
        return ["" if value is None else "'" + value if value.startswith(FORMULA_STARTS) else value
                for value in values]
    return [csv_cell(value) for value in values]


def as_float(value: Any) -> float:
    return math.nan if missing(value) else float(value)


def plain(value: Any) -> Any:
    """Return a JSON-friendly Python value for a cell of a pandas frame."""
    if missing(value):
        return None
    if isinstance(value, np.integer | np.bool_):
        return value.item()
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, pd.Timestamp):  # DuckDB DATE columns arrive as midnight timestamps
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def table_downloads(stem: str, table: Table) -> list[Download]:
    return [Download(f"{stem}.{kind}", f"{table.name} ({label})", table)
            for kind, label in (("csv", "CSV"), ("json", "JSON"), ("parquet", "Parquet"))]


def query_snippet(downloads: Sequence[Download]) -> str:
    parquet = next((d for d in downloads if d.path.endswith(".parquet")), None)
    if parquet is None:
        return ""
    name = parquet.path.rsplit("/", 1)[-1]
    return f"duckdb -c \"SELECT * FROM '{name}' LIMIT 10\""


def frame_table(name: str, frame: pd.DataFrame) -> Table:
    return Table(name, tuple(frame.columns),
                 tuple({k: plain(v) for k, v in rec.items()} for rec in frame.to_dict("records")))
