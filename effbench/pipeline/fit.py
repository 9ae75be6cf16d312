"""Fitting multilingual scaling laws to a table of training runs."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np

from effbench import multilingual
from effbench.errors import EffbenchError
from effbench.load import duckdb_path

MULTILINGUAL_COLUMNS = ("family", "params", "tokens", "sampling_ratio", "loss")


def fit_multilingual(path: Path, *, confidence_level: float = 0.95) -> multilingual.MultilingualFit:
    """Fit the per-family multilingual scaling law to the training runs in `path` (CSV, TSV, Parquet or
    JSON lines with columns family, params, tokens, sampling_ratio, loss; one row per run and family)."""
    if not path.is_file():
        raise EffbenchError(f"{path}: no such file")
    reader = {".parquet": "read_parquet", ".jsonl": "read_json_auto", ".ndjson": "read_json_auto"}.get(
        path.suffix.lower(), "read_csv_auto")
    con = duckdb.connect()
    try:
        try:
            frame = con.execute(f"SELECT * FROM {reader}(?)", [duckdb_path(path)]).df()
        except duckdb.Error as error:
            raise EffbenchError(f"{path}: cannot read: {str(error).splitlines()[0]}") from None
    finally:
        con.close()
    missing_columns = [c for c in MULTILINGUAL_COLUMNS if c not in frame.columns]
    if missing_columns:
        raise EffbenchError(f"{path}: missing column(s) {', '.join(missing_columns)}; "
                            f"needs {', '.join(MULTILINGUAL_COLUMNS)}")
    numbers = {}
    for column in MULTILINGUAL_COLUMNS[1:]:
        values = frame[column]
        converted = values.astype(str).str.strip().map(_positive_number)
        bad = converted.isna()
        if bad.any():
            row = int(bad.idxmax())
            raise EffbenchError(f"{path}: row {row + 2}, column {column}: {values.iloc[row]!r} is not a positive "
                                "number")
        numbers[column] = converted.to_numpy(float, na_value=np.nan)
    if (numbers["sampling_ratio"] > 1).any():
        row = int(np.argmax(numbers["sampling_ratio"] > 1))
        raise EffbenchError(f"{path}: row {row + 2}, column sampling_ratio: a share of the mixture must be at most 1")
    try:
        return multilingual.fit_multilingual(frame["family"].astype(str).tolist(), numbers["params"],
                                             numbers["tokens"], numbers["sampling_ratio"], numbers["loss"],
                                             confidence_level=confidence_level)
    except ValueError as error:
        raise EffbenchError(f"{path}: {str(error).replace('`', '')}") from None


def _positive_number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if np.isfinite(value) and value > 0 else None
