"""What effbench's format adapters share: the columns of what they read (`FormatRead`), the options of a
read (`ReadOptions`), a unit to read (`Unit`), and small readers every adapter uses. The adapters import
these from here, not from the package, whose registry imports the adapters: so no module imports one
that imports it back.
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

import effbench.formats.shapes as shapes
from effbench.errors import EffbenchError
from effbench.load import duckdb_path, file_sha256

# Columns of `FormatRead.items`, in this order; adapters may add the key columns they declare and
# the provenance columns below. `score` is a float, NaN = not evaluated (never 0).
ITEM_COLUMNS = ("model", "scenario", "item_id", "score")
# Columns of `FormatRead.scenario_scores`: one aggregate result per model x scenario, no items.
SCENARIO_SCORE_COLUMNS = ("model", "scenario", "score")
# Where each row came from, kept in the `scores` table: the run (HELM run name, lm-eval task,
# Inspect task ...), the metric the score is, and the file it was read from.
PROVENANCE_COLUMNS = ("run", "metric", "file")
# Model metadata columns with the names the site knows; adapters add others as they find them.
MODEL_COLUMNS = ("model", "display_name", "organization", "params_b", "release_date")
# Scenario metadata: the metric taken, whether higher is better (NA = unknown), tags (e.g. HELM
# run groups, languages; a comma-separated string) and a short description.
SCENARIO_COLUMNS = ("scenario", "metric", "higher_is_better", "tags", "description", "title")


@dataclass(frozen=True)
class ReadOptions:
    """What the user told the adapters.

    `metrics` maps a scenario (or a run group, a task, ``*`` for every scenario) to the metric to
    take there (``--metric SCENARIO=NAME``); `perturbations` keeps perturbed instances (HELM) as
    extra key values instead of the unperturbed ones only; `prompts_as_key` loads tasks that differ
    only in their prompt (lm-eval ``..._prompt_1``) as prompts of one scenario (key column
    ``prompt``), so the DIoR prompts decision works on them; `runs` is the ``--runs`` rule for
    repeated runs (`effbench.formats.repeats`).
    """

    metrics: Mapping[str, str] = field(default_factory=dict)
    perturbations: bool = False
    prompts_as_key: bool = True
    runs: str = "latest"  # what to do with repeated runs of one model x scenario (`repeats.RUN_RULES`)
    # Set by `repeats.plan` for one unit: the model x scenario pairs to leave out, those to key as
    # repeats, and what to say about it.
    set_aside: frozenset[tuple[str, str]] = frozenset()
    repeats: frozenset[tuple[str, str]] = frozenset()
    run_notes: tuple[str, ...] = ()

    def metric_for(self, *names: str) -> str | None:
        """Return the metric the user chose for the first of `names` that has one, else for ``*``."""
        for name in (*names, "*"):
            if name in self.metrics:
                return self.metrics[name]
        return None


def _empty(columns: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype=object) for name in columns})


@dataclass(frozen=True)
class FormatRead:
    """What an adapter read from one unit.

    - `items`: one row per model x scenario x item (x key), columns `ITEM_COLUMNS`, the `keys`,
      and any of `PROVENANCE_COLUMNS`; item ids are strings.
    - `scenario_scores`: aggregate results with no items (e.g. an lm-eval results file without
      samples), columns `SCENARIO_SCORE_COLUMNS` plus provenance. A scenario is in one of the two,
      never both.
    - `models`: metadata, one row per model, column ``model`` plus any of `MODEL_COLUMNS` and more.
    - `scenarios`: one row per scenario, column ``scenario`` plus any of `SCENARIO_COLUMNS`.
    - `files`: every file the unit was read from (their bytes identify the unit in `sources`).
    - `runs`: how many runs (run folders, logs, results files) the unit held.
    - `notes`: what the user should be told: fallbacks taken, metrics skipped and why.
    """

    format: str
    unit: Path
    files: tuple[Path, ...]
    items: pd.DataFrame = field(default_factory=lambda: _empty(ITEM_COLUMNS))
    keys: tuple[str, ...] = ()
    scenario_scores: pd.DataFrame = field(default_factory=lambda: _empty(SCENARIO_SCORE_COLUMNS))
    models: pd.DataFrame = field(default_factory=lambda: _empty(("model",)))
    scenarios: pd.DataFrame = field(default_factory=lambda: _empty(("scenario",)))
    runs: int = 1
    notes: tuple[str, ...] = ()
    options: Mapping[str, object] = field(default_factory=dict)  # format-specific choices, stored in `sources`

    def sha256(self) -> str:
        """Return one hash of every file's name (relative to the unit) and bytes, in a fixed order."""
        digest = hashlib.sha256(self.format.encode())
        base = self.unit if self.unit.is_dir() else self.unit.parent
        for path in sorted(self.files):
            digest.update(os.fsencode(os.path.relpath(path, base)) + b"\0")
            digest.update(file_sha256(path).encode())
        return digest.hexdigest()


def as_number(value: object) -> float:
    """Return `value` as a float: numbers and booleans as such, numeric strings parsed, else NaN (never 0)."""
    if isinstance(value, bool | int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return math.nan
    return math.nan


def read_json_object(path: Path, expected: str) -> dict:
    """Return the JSON object in `path`, or a one-line error naming the file (`expected` says what it
    should hold, e.g. "a JSON object with field 'results'")."""
    data = shapes.load_json(path)
    if not isinstance(data, dict):
        raise EffbenchError(f"{path}: expected {expected}")
    return data


@dataclass(frozen=True)
class Unit:
    """One thing to read: a path and the format that claimed it."""

    format: str
    path: Path


def list_files(root: Path, special: list[Path] | None = None) -> list[Path]:
    """Return every regular file under `root` (or `root` itself), sorted, skipping hidden files and folders.

    FIFOs, sockets and devices are left out, since reading one can block for ever or never end; they
    are added to `special` when it is given, so that the load can say so. One `scandir` per folder, and
    a sort on each path's parts rather than on `Path` objects, keep a folder of 100,000 files quick.
    """
    if root.is_file():
        return [root]
    found: list[str] = []
    pending = [os.fspath(root)]
    while pending:
        with os.scandir(pending.pop()) as entries:
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                if entry.is_dir(follow_symlinks=False):
                    pending.append(entry.path)
                elif entry.is_file():
                    found.append(entry.path)
                elif entry.is_dir():  # a link to a folder is not followed, as os.walk does not
                    continue
                elif special is not None and os.path.exists(entry.path):  # not a dangling symlink
                    special.append(Path(entry.path))
    found.sort(key=lambda path: path.split(os.sep))
    if special is not None:
        special.sort()
    return [Path(path) for path in found]


@functools.cache
def _probe_connection() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


def parquet_columns(path: Path) -> list[str] | None:
    """Return the column names in a Parquet file's footer, None if it cannot be read as Parquet.

    Every probe goes through one in-memory DuckDB connection: opening one costs some 50 ms and a probe
    about 1 ms, and detection probes every Parquet file of a folder, which may hold thousands."""
    try:
        described = _probe_connection().execute("DESCRIBE SELECT * FROM read_parquet(?, hive_partitioning = false)",
                                                [duckdb_path(path)])
        return [row[0] for row in described.fetchall()]
    except duckdb.Error:
        return None
