"""lighteval: ``results/<model>/results_<date>.json`` with the ``details`` Parquet files of the same run.

lighteval (huggingface/lighteval, ``logging/evaluation_tracker.py``) writes, under its output folder,
``results/<model_name>/results_<date>.json`` (``config_general``, ``results`` per task and ``all``,
``config_tasks``) and ``details/<model_name>/<date>/details_<task>_<date>.parquet``, one row per
document; some versions also copy the results file to ``details/<model_name>/``. Task names are
``<task>|<few-shot>`` (0.10 and later: ``anli:r1|0``) or ``<suite>|<task>|<few-shot>`` (earlier:
``leaderboard|mmlu:anatomy|5``).

Details columns changed over time: lighteval 0.10 and later store struct columns ``doc`` (with
``id``), ``metric`` (one field per metric) and ``model_response``; earlier versions store
``example``, ``full_prompt``, ``metrics`` (one field per metric) and no document id, so the item is
then a hash of the ``example`` (the document's query, the same for every model).

A unit is one results file. Each task is a scenario named without its suite and few-shot count (kept
in the column ``fewshot``); ``all`` and ``..:_average`` entries aggregate the others and are skipped.
The metric is the user's ``--metric`` or the task's first one (``config_tasks``); a metric whose
per-document value is not a number has no per-item score and is skipped with a note. A task without
details, or without a numeric metric, loads its aggregate from the results file as a scenario-level
result. The model is ``config_general.model_config.model_name`` (or, earlier,
``config_general.model_name``).
"""

from __future__ import annotations

import ast
import math
import re
from pathlib import Path

import duckdb
import pandas as pd

import effbench.formats.shapes as shapes
from effbench.errors import EffbenchError
from effbench.formats.common import FormatRead, ReadOptions, read_json_object
from effbench.formats.shapes import LIST, OBJECT, TEXT
from effbench.load import duckdb_path
from effbench.sql import quote_ident

NAME = "lighteval"
DESCRIPTION = "lighteval results/<model>/results_*.json with details/<model>/<date>/details_*.parquet"

_RESULTS_HEAD = re.compile(rb'^\s*\{\s*"config_general"\s*:')
# The run's date id: isoformat with ":" made "-" (early files kept the ":").
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}[-:]\d{2}[-:]\d{2}(?:\.\d+)?")
_NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT",
            "FLOAT", "DOUBLE", "BOOLEAN", "REAL", "DECIMAL")
_MEAN_AGGREGATIONS = ("mean", "np.mean", "numpy.mean", "statistics.mean")


def find(root: Path, files: list[Path]) -> list[Path]:
    """Return the lighteval results files under `root`; a copy of one in ``details/`` is not a second unit."""
    found: dict[tuple[str, int], Path] = {}
    for path in files:
        if path.suffix.lower() != ".json" or not path.name.startswith("results") or not _is_results_file(path):
            continue
        key = (path.name, path.stat().st_size)
        kept = found.get(key)
        if kept is None or ("details" in kept.parts and "details" not in path.parts):
            found[key] = path
    return sorted(found.values())


def _is_results_file(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            head = handle.read(4096)
    except OSError:
        return False
    # `config_general` first, then lighteval's own keys: no other harness writes this.
    return bool(_RESULTS_HEAD.match(head)) and any(
        key in head for key in (b'"lighteval_sha"', b'"model_config"', b'"model_name"', b'"num_fewshot_seeds"'))


def read(unit: Path, options: ReadOptions) -> FormatRead:
    """Return the per-document scores of every task with details, and aggregates for the others."""
    data = read_json_object(unit, "a JSON object with fields 'config_general' and 'results'")
    results = data.get("results")
    if not isinstance(results, dict):
        raise EffbenchError(f"{unit}: field 'results' is missing or not an object")
    model = _model_name(data, unit)
    tasks = [task for task in results if _is_task(task)]
    skipped = [task for task in results if not _is_task(task)]
    notes = [f"{unit.name}: skipped {', '.join(skipped)}: aggregate(s) of the tasks"] if skipped else []
    date = _date(unit)
    details = _details_files(unit, date, model)
    scenario_of = _scenarios(tasks)
    configs = shapes.field(data, "config_tasks", OBJECT, str(unit), default={}, nullable=True)

    frames, aggregates, scenario_rows, chosen, used = [], [], [], {}, []
    for task in tasks:
        scenario = scenario_of[task]
        # Older versions key config_tasks without the few-shot count ("lighteval|mmlu:anatomy").
        key = task if configs.get(task) else task.rsplit("|", 1)[0]
        config_at = f"{unit}: config_tasks {key!r}"
        config = shapes.field(configs, key, OBJECT, f"{unit}: config_tasks", default={}, nullable=True)
        declared = _declared_metrics(config, config_at)
        wanted = options.metric_for(scenario, task, _task_part(task))
        explicit = any(name in options.metrics for name in (scenario, task, _task_part(task)))
        path = details.get(task) or details.get(task.replace(":", "_"))
        if path is not None:
            frame, metric, task_notes = _read_details(path, task, declared, wanted, explicit)
            notes.extend(task_notes)
            if frame is not None:
                frame.insert(0, "model", model)
                frame.insert(1, "scenario", scenario)
                frame["fewshot"] = _fewshot(task)
                frame["run"] = task
                frame["metric"] = metric
                frame["file"] = path.name
                frames.append(frame)
                used.append(path)
                chosen[task] = metric
                scenario_rows.append(_scenario_row(scenario, metric, declared, config, config_at))
                continue
        entry = results[task] if isinstance(results[task], dict) else {}
        metric = _aggregate_metric(entry, declared, wanted)
        if metric is None:
            notes.append(f"{unit.name}: task {task!r} has no metric to load" + (f" named {wanted!r}" if wanted else ""))
            continue
        if path is None:
            notes.append(f"{unit.name}: task {task!r} has no details file; its aggregate {metric} loads as a "
                         "scenario-level result")
        value = shapes.loose(entry, metric, f"{unit}: results {task!r}")
        aggregates.append({"model": model, "scenario": scenario, "score": float(value) if _is_number(value)
                           else math.nan, "run": task, "metric": metric, "file": unit.name})
        chosen[task] = metric
        scenario_rows.append(_scenario_row(scenario, metric, declared, config, config_at))

    extra = {}
    if frames:
        extra["items"] = pd.concat(frames, ignore_index=True)
        if "fewshot_seed" in extra["items"]:
            extra["keys"] = ("fewshot_seed",)
    if aggregates:
        extra["scenario_scores"] = pd.DataFrame(aggregates)
    if scenario_rows:
        extra["scenarios"] = pd.DataFrame(scenario_rows).drop_duplicates("scenario")
    return FormatRead(
        format=NAME, unit=unit, files=(unit, *sorted(used)), models=_models(data, model), runs=1,
        notes=tuple(notes), options={"metrics": chosen}, **extra,
    )


def _model_name(data: dict, unit: Path) -> str:
    general = data.get("config_general")
    if not isinstance(general, dict):
        raise EffbenchError(f"{unit}: field 'config_general' is missing or not an object")
    where = f"{unit}: config_general"
    config = shapes.field(general, "model_config", OBJECT, where, default={}, nullable=True)
    for name in (shapes.field(config, "model_name", TEXT, f"{where}: model_config", default=None),
                 shapes.field(general, "model_name", TEXT, where, default=None)):
        if name:
            return name
    raise EffbenchError(f"{unit}: field 'config_general.model_config.model_name' is missing")


def _is_task(name: str) -> bool:
    return name != "all" and ":_average" not in name and "|_average" not in name


def _task_part(task: str) -> str:
    """Return the task's name without suite and few-shot count: ``leaderboard|mmlu:anatomy|5`` -> ``mmlu:anatomy``."""
    parts = task.split("|")
    if len(parts) >= 3:
        return "|".join(parts[1:-1])
    if len(parts) == 2 and parts[1].isdigit():
        return parts[0]
    return task


def _fewshot(task: str) -> int | None:
    last = task.rsplit("|", 1)[-1]
    return int(last) if "|" in task and last.isdigit() else None


def _scenarios(tasks: list[str]) -> dict[str, str]:
    """Return each task's scenario: its short name, or the full name where two tasks would share one."""
    short = {task: _task_part(task) for task in tasks}
    counts: dict[str, int] = {}
    for name in short.values():
        counts[name] = counts.get(name, 0) + 1
    return {task: name if counts[name] == 1 else task for task, name in short.items()}


def _date(unit: Path) -> str | None:
    match = _DATE.search(unit.stem)
    return match.group(0) if match else None


def _details_files(unit: Path, date: str | None, model: str) -> dict[str, Path]:
    """Return the details files of the run that wrote `unit`, by task: same date id, under ``details/``."""
    if date is None:
        return {}
    # results/<model>/results_<date>.json: the output folder is the parent of the nearest "results".
    output = next((p.parent for p in unit.parents if p.name == "results"), unit.parent.parent)
    folders = [output / "details", unit.parent]
    if "details" in unit.parts:  # the copy lighteval keeps in details/<model>/
        folders.insert(0, unit.parent)
    found: dict[str, Path] = {}
    suffix = f"_{date}.parquet"
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob(f"details_*{suffix}")):
            task = path.name[len("details_"):-len(suffix)]
            kept = found.get(task)
            # Two models run in the same microsecond are unlikely; still, prefer the one under the model's folder.
            if kept is None or (model in str(path.parent) and model not in str(kept.parent)):
                found[task] = path
    return found


def _declared_metrics(config: dict, where: str) -> list[dict]:
    """Return the task's metrics as {name, higher_is_better, aggregation}, flattening grouped metric names."""
    declared = []
    listed = shapes.field(config, "metrics", LIST, where, default=None, nullable=True)
    for metric in listed or shapes.field(config, "metric", LIST, where, default=[], nullable=True):
        if isinstance(metric, str):
            declared.append({"name": metric})
            continue
        if not isinstance(metric, dict):
            continue
        names = metric.get("metric_name") or metric.get("metric")
        names = names if isinstance(names, list) else [names]
        higher = metric.get("higher_is_better")
        aggregation = metric.get("corpus_level_fn")
        for index, name in enumerate(n for n in names if isinstance(n, str)):
            hib = higher.get(name) if isinstance(higher, dict) else higher
            agg = aggregation.get(name) if isinstance(aggregation, dict) else aggregation
            declared.append({"name": name, "higher_is_better": hib, "aggregation": agg, "order": index})
    return declared


def _read_details(path: Path, task: str, declared: list[dict], wanted: str | None, explicit: bool
                  ) -> tuple[pd.DataFrame | None, str, list[str]]:
    """Return a task's per-document scores for one metric, the metric taken and notes."""
    notes: list[str] = []
    try:
        with duckdb.connect() as con:
            columns = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM "
                                       "read_parquet(?))", [duckdb_path(path)]).fetchall())
            metric_column = "metric" if "metric" in columns else "metrics" if "metrics" in columns else None
            if metric_column is None:
                raise EffbenchError(f"{path}: no column 'metric' (or 'metrics', before lighteval 0.10)")
            fields = _struct_fields(con, path, metric_column)
            if fields is None and columns[metric_column].upper() == "VARCHAR":
                # lighteval writes every column as text when a nested value defeats its Parquet writer.
                frame, fields = _text_metrics(con, path, _item_expression(columns, path), metric_column)
            elif fields is None:
                raise EffbenchError(f"{path}: column {metric_column!r} is not a struct of metric values")
            else:
                frame = None
            names = [d["name"] for d in declared if d["name"] in fields] + [f for f in fields if f not in
                                                                            {d["name"] for d in declared}]
            if wanted is not None and wanted not in fields:
                if explicit:
                    raise EffbenchError(f"{path}: task {task!r} has no metric {wanted!r} "
                                        f"(it has {', '.join(fields) or 'none'})")
                notes.append(f"{path.name}: task {task!r} has no metric {wanted!r}; took its first one")
            elif wanted is not None:
                names = [wanted]
            numeric = [n for n in names if fields[n].upper().startswith(_NUMERIC)]
            skipped = [n for n in names if n not in numeric]
            if not numeric:
                notes.append(f"{path.name}: skipped metric(s) {', '.join(skipped) or 'none'} of task {task!r}: no "
                             "numeric per-document value; its aggregate from the results file loads as a "
                             "scenario-level result")
                return None, "", notes
            metric = numeric[0]
            if skipped and names.index(skipped[0]) < names.index(metric):
                notes.append(f"{path.name}: skipped metric(s) {', '.join(skipped)} of task {task!r}: the "
                             f"per-document value is not a number (a corpus-level metric); took {metric}")
            if frame is not None:
                frame = pd.DataFrame({"item_id": frame["item_id"], "score": frame[metric]})
            else:
                item_sql = _item_expression(columns, path)
                frame = con.execute(
                    f"SELECT {item_sql} AS item_id, CAST({quote_ident(metric_column)}.{quote_ident(metric)} AS DOUBLE)"
                    " AS score FROM read_parquet(?)", [duckdb_path(path)]).df()
    except duckdb.Error as exc:
        raise EffbenchError(f"{path}: not a readable Parquet file ({str(exc).splitlines()[0]})") from None
    if frame["item_id"].isna().any():
        raise EffbenchError(f"{path}: a row has no document id (doc.id)")
    if "doc" not in columns:
        # Old details have no id: the item is the hash of the query, numbered where a query repeats.
        frame["item_id"] = frame["item_id"] + frame.groupby("item_id").cumcount().map(
            lambda n: "" if n == 0 else f"#{n}")
    elif frame["item_id"].duplicated().any():
        # A document evaluated several times (num_fewshot_seeds > 1): the occurrences become a key.
        frame["fewshot_seed"] = frame.groupby("item_id").cumcount()
        notes.append(f"{path.name}: documents of task {task!r} appear {frame['fewshot_seed'].max() + 1} times "
                     "(few-shot seeds); they load as key column 'fewshot_seed'")
    aggregation = next((d.get("aggregation") for d in declared if d["name"] == metric), None)
    if isinstance(aggregation, str) and aggregation not in _MEAN_AGGREGATIONS:
        notes.append(f"{path.name}: lighteval aggregates {metric} of task {task!r} with {aggregation}, not a mean;"
                     " effbench's scenario score is the mean of the per-document values")
    frame["score"] = frame["score"].astype(float)
    return frame, metric, notes


def _text_metrics(con: duckdb.DuckDBPyConnection, path: Path, item_sql: str, column: str
                  ) -> tuple[pd.DataFrame, dict[str, str]]:
    """Return (item_id and one column per metric, {metric: type}) from a metrics column written as text
    (a Python dict's repr); a metric with any value that is not a number gets the type ``TEXT``."""
    rows = con.execute(f"SELECT {item_sql} AS item_id, {quote_ident(column)} AS metrics FROM read_parquet(?)",
                       [duckdb_path(path)]).fetchall()
    parsed = []
    for number, (item_id, text) in enumerate(rows, start=1):
        try:
            value = ast.literal_eval(text) if text else {}
        except (ValueError, SyntaxError):
            value = None
        if not isinstance(value, dict):
            raise EffbenchError(f"{path}: row {number}: column {column!r} is not a dict of metric values")
        parsed.append((item_id, value))
    names = list(dict.fromkeys(name for _, value in parsed for name in value))
    frame = pd.DataFrame({"item_id": [item_id for item_id, _ in parsed]})
    types = {}
    for name in names:
        values = [value.get(name) for _, value in parsed]
        numeric = all(v is None or _is_number(v) for v in values)
        types[name] = "DOUBLE" if numeric else "TEXT"
        frame[name] = [float(v) if numeric and v is not None else math.nan for v in values]
    return frame, types


def _struct_fields(con: duckdb.DuckDBPyConnection, path: Path, column: str) -> dict[str, str] | None:
    """Return the fields of a struct column with their types, or None when the column is not a struct."""
    described = con.execute(
        f"SELECT column_type FROM (DESCRIBE SELECT {quote_ident(column)} FROM read_parquet(?))", [duckdb_path(path)]
    ).fetchone()[0]
    if not described.upper().startswith("STRUCT("):
        return None
    return _parse_struct(described)


def _parse_struct(type_text: str) -> dict[str, str]:
    """Return {field: type} of a DuckDB STRUCT type string, splitting only at top-level commas."""
    body = type_text[type_text.index("(") + 1:type_text.rindex(")")]
    fields, depth, start, quoted = {}, 0, 0, False
    for index, char in enumerate(body + ","):
        if char == '"':
            quoted = not quoted
        elif not quoted and char in "([":
            depth += 1
        elif not quoted and char in ")]":
            depth -= 1
        elif not quoted and char == "," and depth == 0:
            part = body[start:index].strip()
            start = index + 1
            if not part:
                continue
            if part.startswith('"'):
                end = part.index('"', 1)
                name, type_ = part[1:end], part[end + 1:].strip()
            else:
                name, _, type_ = part.partition(" ")
            fields[name] = type_.strip()
    return fields


def _item_expression(columns: dict[str, str], path: Path) -> str:
    """Return the SQL of a document's id: ``doc.id``, else (blank ids, old columns) a hash of its query."""
    doc = _parse_struct(columns["doc"]) if columns.get("doc", "").upper().startswith("STRUCT(") else {}
    if "id" in doc:
        if "query" in doc:
            return "coalesce(nullif(CAST(doc.id AS VARCHAR), ''), substr(sha256(CAST(doc.query AS VARCHAR)), 1, 16))"
        return "CAST(doc.id AS VARCHAR)"
    for name in ("example", "full_prompt"):
        if name in columns:
            return f"substr(sha256(CAST({quote_ident(name)} AS VARCHAR)), 1, 16)"
    raise EffbenchError(f"{path}: no column 'doc' (with 'id') or 'example' to identify the documents")


def _aggregate_metric(entry: dict, declared: list[dict], wanted: str | None) -> str | None:
    metrics = [key for key in entry if not key.endswith("_stderr")]
    if wanted is not None:
        return wanted if wanted in metrics else None
    for metric in [d["name"] for d in declared] + metrics:
        if metric in metrics and _is_number(entry[metric]):
            return metric
    return None


def _scenario_row(scenario: str, metric: str, declared: list[dict], config: dict, where: str) -> dict:
    higher = next((d.get("higher_is_better") for d in declared if d["name"] == metric), None)
    description = shapes.field(config, "hf_repo", TEXT, where, default=None, nullable=True)
    subset = shapes.field(config, "hf_subset", TEXT, where, default=None, nullable=True)
    if description and subset and subset != "default":
        description = f"{description} ({subset})"
    suite = config.get("suite")
    tags = ", ".join(map(str, suite)) if isinstance(suite, list) else shapes.field(
        config, "suite", TEXT, where, default=None, nullable=True)
    return {"scenario": scenario, "metric": metric,
            "higher_is_better": higher if isinstance(higher, bool) else pd.NA,
            "tags": tags or None, "description": description}


def _is_number(value: object) -> bool:
    return isinstance(value, bool | int | float) and not (isinstance(value, float) and math.isnan(value))


def _models(data: dict, model: str) -> pd.DataFrame:
    general = data.get("config_general") or {}
    row: dict[str, object] = {"model": model}
    for key in ("model_sha", "model_dtype"):
        if isinstance(general.get(key), str) and general[key]:
            row[key] = general[key]
    return pd.DataFrame([row])
