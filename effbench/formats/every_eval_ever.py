"""Every Eval Ever records: aggregate records (``*.json``) and instance-level files (``*.jsonl``).

An aggregate record (``eval.schema.json``, schema 0.2.x and 0.3.0) holds one model
(`model_info`) and its `evaluation_results[]`, one score each. An instance-level file
(``instance_level_eval.schema.json``) holds one JSON line per sample: `model_id`,
`evaluation_name`, `sample_id`, `evaluation.score` (0.3.0 adds `evaluation_result_id`, the key of
the aggregate result the line belongs to). A record and its instance file (named
``<record>_samples.jsonl``, or as its `detailed_evaluation_results.file_path` says) are one unit;
an instance file alone is a unit too.

Scenario = `evaluation_name` (the schema asks it to be unique; its `source_data.dataset_name` is
kept as the scenario's tag); model = `model_info.id` (instance lines: `model_id`). Results with instance lines load as
items, the others as scenario-level results. Where several results share a scenario (several
metrics), the first is taken and ``--metric SCENARIO=METRIC_ID`` chooses another. Results that
aggregate the others (``Mean win rate``, ``Average``) are skipped, as for wide tables. `evaluation_id`
is not used: the 0.2.1 converters wrote ``None_samples`` there.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd

import effbench.formats.shapes as shapes
from effbench.errors import EffbenchError
from effbench.formats.common import ITEM_COLUMNS, SCENARIO_SCORE_COLUMNS, FormatRead, ReadOptions, as_number
from effbench.formats.shapes import BOOL, LIST, OBJECT, SCALAR, TEXT
from effbench.load import AGGREGATE_COLUMNS

NAME = "every-eval-ever"
DESCRIPTION = "Every Eval Ever aggregate records (.json) and instance-level files (.jsonl), schema 0.2-0.3"

_RECORD_KEYS = ('"model_info"', '"evaluation_results"')  # required; one is near the top in any key order
_INSTANCE_KEYS = {"schema_version", "model_id", "evaluation_name", "sample_id", "evaluation"}
_HEAD_CHARS = 16384
# Where `model_info.additional_details` gives the model's size (billions, or a count of parameters).
_PARAMETER_FIELDS = ("params_billions", "param_count", "model_num_parameters")


def find(root: Path, files: list[Path]) -> list[Path]:
    """Return the aggregate records among `files`, and the instance files no record among them claims."""
    records = [path for path in files if path.suffix == ".json" and _is_record(path)]
    companions = {companion for record in records for companion in _companions(record)}
    instances = [path for path in files
                 if path.suffix == ".jsonl" and path not in companions and _is_instance_file(path)]
    # An instance file given on its own whose record lies next to it is read with that record.
    for position, path in enumerate(instances):
        record = path.with_name(path.name.removesuffix("_samples.jsonl") + ".json")
        if path.name.endswith("_samples.jsonl") and record.is_file() and _is_record(record):
            instances[position] = record
    return sorted(set(records + instances))


def _head(path: Path) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read(_HEAD_CHARS)
    except OSError:
        return ""


def _is_record(path: Path) -> bool:
    head = _head(path).lstrip()
    return (head.startswith("{") and re.search(r'"schema_version"\s*:\s*"', head) is not None
            and any(key in head for key in _RECORD_KEYS))


def _is_instance_file(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            row = shapes.probe_json(shapes.first_line(handle).decode("utf-8", errors="replace"))
    except OSError:
        return False
    return isinstance(row, dict) and row.keys() >= _INSTANCE_KEYS


def _companions(record: Path) -> list[Path]:
    """Return the instance file(s) next to `record` that belong to it."""
    names = {record.stem + "_samples.jsonl"}
    try:  # a record too large to read whole names no companion here; reading it says why
        data = shapes.probe_json(record.read_bytes().decode("utf-8", errors="replace")) if (
            record.stat().st_size <= shapes.MAX_JSON_BYTES) else None
    except OSError:
        data = None
    detailed = data.get("detailed_evaluation_results") if isinstance(data, dict) else None
    if isinstance(detailed, dict) and isinstance(detailed.get("file_path"), str):
        names.add(Path(detailed["file_path"]).name)
    return [record.with_name(name) for name in sorted(names) if record.with_name(name).is_file()]


def run_started(unit: Path) -> tuple[bool, float | None]:
    """Return (True, when the evaluation ran: `evaluation_timestamp`, else when the record was retrieved:
    `retrieved_timestamp`, in seconds since the epoch; None for an instance file alone)."""
    if unit.suffix == ".jsonl":
        return True, None
    record = _load_record(unit)
    for stamp in (record.get("evaluation_timestamp"), record.get("retrieved_timestamp")):
        try:
            return True, float(stamp)
        except (TypeError, ValueError, OverflowError):  # no time, or none a float holds: the next
            continue
    return True, None


def read(unit: Path, options: ReadOptions) -> FormatRead:
    """Read an aggregate record (with its instance file, if any) or an instance file alone."""
    if unit.suffix == ".jsonl":
        return _read_instances_alone(unit, options)
    return _read_record(unit, options)


def _load_record(unit: Path) -> dict:
    """Return the aggregate record in `unit`, every field the load uses checked for its declared type."""
    where = str(unit)
    record = shapes.entry(shapes.load_json(unit), f"{unit}: the Every Eval Ever record")
    for field in ("model_info", "evaluation_results"):
        if field not in record:
            raise EffbenchError(f"{unit}: the Every Eval Ever record lacks '{field}'")
    info = shapes.field(record, "model_info", OBJECT, where)
    for name in ("id", "name", "developer"):
        shapes.field(info, name, SCALAR, f"{unit}: model_info", default=None, nullable=True)
    if not (info.get("id") or info.get("name")):
        raise EffbenchError(f"{unit}: 'model_info' has no 'id' or 'name'")
    details = shapes.field(info, "additional_details", OBJECT, f"{unit}: model_info", default={}, nullable=True)
    for name in _PARAMETER_FIELDS:
        shapes.loose(details, name, f"{unit}: model_info: additional_details")
    for position, result in enumerate(shapes.field(record, "evaluation_results", LIST, where)):
        _check_result(result, f"{unit}: evaluation_results entry {position}")
    return record


def _check_result(result: object, where: str) -> None:
    """Refuse a result whose fields are not of the types the schema declares (those the load reads)."""
    optional = {"default": None, "nullable": True}
    result = shapes.entry(result, where)
    shapes.field(result, "evaluation_name", TEXT, where)
    shapes.field(result, "evaluation_result_id", SCALAR, where, **optional)
    config = shapes.field(result, "metric_config", OBJECT, where, default={}, nullable=True)
    for name in ("metric_id", "metric_name"):
        shapes.field(config, name, SCALAR, f"{where}: metric_config", **optional)
    shapes.field(config, "lower_is_better", BOOL, f"{where}: metric_config", **optional)
    shapes.field(config, "evaluation_description", TEXT, f"{where}: metric_config", **optional)
    details = shapes.field(result, "score_details", OBJECT, where, default={})
    shapes.loose(details, "score", f"{where}: score_details")
    shapes.field(details, "uncertainty", OBJECT, f"{where}: score_details", **optional)
    source = shapes.field(result, "source_data", OBJECT, where, **optional)
    if source is not None:
        shapes.field(source, "dataset_name", TEXT, f"{where}: source_data", **optional)


def _aggregates_others(name: str) -> bool:
    # HELM leaderboards converted to Every Eval Ever carry a "Mean win rate" result per model.
    lowered = name.strip().lower()
    return lowered in AGGREGATE_COLUMNS or lowered.startswith("mean win rate")


def _metric_id(result: dict) -> str:
    config = result.get("metric_config") or {}
    return str(config.get("metric_id") or config.get("metric_name") or result.get("evaluation_result_id") or "score")


def _read_record(unit: Path, options: ReadOptions) -> FormatRead:
    record = _load_record(unit)
    info = record["model_info"]
    model = str(info.get("id") or info.get("name"))
    notes: list[str] = []
    results = []
    for result in record["evaluation_results"]:
        if _aggregates_others(result["evaluation_name"]):
            notes.append(f"skipped result {result['evaluation_name']!r}: it aggregates the others "
                         "(effbench computes its own)")
            continue
        results.append({"result": result, "metric": _metric_id(result), "scenario": result["evaluation_name"]})
    chosen = _choose_metrics(unit, results, options, notes)

    # Instance lines join their result by evaluation_result_id (0.3.0) or, failing that, by name.
    by_id = {str(r["result"]["evaluation_result_id"]): r for r in results if r["result"].get("evaluation_result_id")}
    by_name: dict[str, dict] = {}
    for r in results:
        by_name.setdefault(r["result"]["evaluation_name"], r)
    companions = _companions(unit)
    frames = []
    for companion in companions:
        rows = _instance_rows(companion)
        if rows.attrs.get("from_is_correct"):
            notes.append(f"{companion.name}: {rows.attrs['from_is_correct']} line(s) have no 'evaluation.score'; "
                         "took 'evaluation.is_correct' (1 or 0)")
        resolved = [by_id.get(rid) or by_name.get(name) for rid, name in zip(rows["result_id"], rows["name"],
                                                                                 strict=True)]
        rows["scenario"] = [r["scenario"] if r else name for r, name in zip(resolved, rows["name"], strict=True)]
        rows["metric"] = [r["metric"] if r else (rid or "score")
                          for r, rid in zip(resolved, rows["result_id"], strict=True)]
        frames.append(rows)
    items = pd.concat(frames, ignore_index=True) if frames else None
    if items is not None:
        items = _one_metric_per_scenario(items, chosen, options, notes, unit)

    item_scenarios = set(items["scenario"]) if items is not None else set()
    aggregate, taken = [], set()
    for r in results:
        if r["scenario"] in item_scenarios or chosen.get(r["scenario"]) != r["metric"]:
            continue
        if r["scenario"] in taken:  # the same name and metric twice: one result per model and scenario
            notes.append(f"{unit.name}: {r['scenario']!r} has more than one {r['metric']!r} result; took the first")
            continue
        taken.add(r["scenario"])
        aggregate.append(r)
    scenario_scores = pd.DataFrame({
        "model": model, "scenario": [r["scenario"] for r in aggregate],
        "score": [as_number((r["result"].get("score_details") or {}).get("score")) for r in aggregate],
        "run": unit.stem, "metric": [r["metric"] for r in aggregate], "file": unit.name,
    }, columns=[*SCENARIO_SCORE_COLUMNS, "run", "metric", "file"])
    described: dict[str, dict] = {}
    for r in results:
        if chosen.get(r["scenario"]) == r["metric"]:
            described.setdefault(r["scenario"], r)
    scenarios = _scenarios_frame(list(described.values()))
    read_kwargs = {}
    if items is not None and not items.empty:
        _note_disagreements(unit, items, described, notes)
        items, keys = _finish_items(items, unit.stem, notes)
        read_kwargs.update(items=items, keys=keys)
    return FormatRead(format=NAME, unit=unit, files=(unit, *companions), scenario_scores=scenario_scores,
                      scenarios=scenarios, models=_models_frame(model, info), runs=1, notes=tuple(notes),
                      options={"schema_version": record.get("schema_version"),
                               "instance_files": [c.name for c in companions]}, **read_kwargs)


def _note_disagreements(unit: Path, items: pd.DataFrame, described: dict[str, dict], notes: list[str]) -> None:
    """Note each scenario whose instance lines give another mean than the record's own score (the lines
    are what loads), and how many lines there are against the samples the record counted."""
    for scenario, rows in items.groupby("scenario", sort=True):
        result = described.get(scenario, {}).get("result") or {}
        details = result.get("score_details") or {}
        recorded = as_number(details.get("score"))
        per_item = rows.groupby("item_id")["score"].mean().dropna()
        if math.isnan(recorded) or per_item.empty or math.isclose(per_item.mean(), recorded, rel_tol=1e-6,
                                                                 abs_tol=1e-9):
            continue
        counted = (details.get("uncertainty") or {}).get("num_samples")
        of = f" (the record counts {counted} samples)" if isinstance(counted, int) and counted != len(per_item) else ""
        notes.append(f"{unit.name}: {scenario!r}: the record's score is {recorded:.4g}, its {len(per_item)} instance "
                     f"line(s){of} give {per_item.mean():.4g}; loaded the instance lines")


def _choose_metrics(unit: Path, results: list[dict], options: ReadOptions, notes: list[str]) -> dict[str, str]:
    """Return the metric taken per scenario: the user's choice, else the first result's."""
    metrics: dict[str, list[str]] = {}
    for r in results:
        metrics.setdefault(r["scenario"], []).append(r["metric"])
    chosen = {}
    for scenario, names in metrics.items():
        wanted = options.metric_for(scenario)
        if wanted is not None and wanted in names:
            chosen[scenario] = wanted
        else:
            chosen[scenario] = names[0]
            if wanted is not None and scenario in options.metrics:
                raise EffbenchError(f"{unit}: scenario {scenario!r} has no metric {wanted!r} "
                                    f"(it has: {', '.join(names)})")
        others = [name for name in dict.fromkeys(names) if name != chosen[scenario]]
        if others:
            notes.append(f"{scenario}: took metric {chosen[scenario]!r}; also present: {', '.join(others)} "
                         f"(choose with --metric {scenario}=METRIC)")
    return chosen


def _one_metric_per_scenario(items: pd.DataFrame, chosen: dict[str, str], options: ReadOptions,
                             notes: list[str], unit: Path) -> pd.DataFrame:
    """Keep, per scenario, the rows of one metric (the chosen one, else the first seen)."""
    keep = []
    for scenario, metrics in items.groupby("scenario", sort=False)["metric"]:
        present = list(dict.fromkeys(metrics))
        wanted = chosen.get(scenario) or options.metric_for(scenario)
        metric = wanted if wanted in present else present[0]
        if scenario not in chosen and len(present) > 1:
            notes.append(f"{scenario}: took metric {metric!r}; also present: "
                         f"{', '.join(m for m in present if m != metric)} (choose with --metric {scenario}=METRIC)")
        keep.append((scenario, metric))
        chosen.setdefault(scenario, metric)
    pairs = pd.MultiIndex.from_tuples(keep, names=["scenario", "metric"])
    mask = pd.MultiIndex.from_frame(items[["scenario", "metric"]]).isin(pairs)
    return items[mask].reset_index(drop=True)


def _instance_rows(path: Path) -> pd.DataFrame:
    """Stream an instance-level file into columns (one row per line; only what effbench keeps)."""
    columns: dict[str, list] = {name: [] for name in ("model", "name", "result_id", "item_id", "score")}
    from_is_correct, schema_version = 0, None
    for number, raw in shapes.json_lines(path):
        where = f"{path}: line {number}"
        row = shapes.entry(raw, where)
        for field in ("model_id", "evaluation_name", "sample_id"):
            shapes.field(row, field, SCALAR, where)
        evaluation = shapes.field(row, "evaluation", OBJECT, where)
        result_id = shapes.field(row, "evaluation_result_id", SCALAR, where, default=None, nullable=True)
        score = as_number(shapes.loose(evaluation, "score", f"{where}: evaluation"))
        schema_version = schema_version or row.get("schema_version")
        if math.isnan(score) and isinstance(evaluation.get("is_correct"), bool):
            score = float(evaluation["is_correct"])
            from_is_correct += 1
        columns["model"].append(str(row["model_id"]))
        columns["name"].append(str(row["evaluation_name"]))
        columns["result_id"].append(None if result_id is None else str(result_id))
        columns["item_id"].append(str(row["sample_id"]))
        columns["score"].append(score)
    frame = pd.DataFrame(columns)
    frame.attrs["file"] = path.name
    frame["file"] = path.name
    frame.attrs["from_is_correct"] = from_is_correct
    frame.attrs["schema_version"] = schema_version
    return frame


def _finish_items(items: pd.DataFrame, run: str, notes: list[str]) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Return the item frame in effbench's columns, with a key column where a sample repeats."""
    keys: tuple[str, ...] = ()
    frame = pd.DataFrame({"model": items["model"], "scenario": items["scenario"], "item_id": items["item_id"],
                          "score": items["score"].astype(float), "run": run, "metric": items["metric"],
                          "file": items["file"]})
    repeats = frame.groupby(["model", "scenario", "item_id"]).cumcount()
    if repeats.any():
        frame.insert(4, "repeat", repeats.astype("int64"))
        keys = ("repeat",)
        notes.append(f"{run}: {int((repeats > 0).sum())} sample(s) appear more than once for a model and "
                     "scenario; each occurrence is a row (key column 'repeat') and the item's score is their mean")
    missing = int(frame["score"].isna().sum())
    if missing:
        notes.append(f"{run}: {missing} sample(s) have no score and count as not evaluated")
    return frame[[*ITEM_COLUMNS, *keys, "run", "metric", "file"]], keys


def _read_instances_alone(unit: Path, options: ReadOptions) -> FormatRead:
    notes: list[str] = []
    rows = _instance_rows(unit)
    version = rows.attrs["schema_version"]
    if rows.empty:
        raise EffbenchError(f"{unit}: the instance-level file holds no lines")
    rows["scenario"] = rows["name"]
    rows["metric"] = [rid or "score" for rid in rows["result_id"]]
    if rows.attrs.get("from_is_correct"):
        notes.append(f"{unit.name}: {rows.attrs['from_is_correct']} line(s) have no 'evaluation.score'; "
                     "took 'evaluation.is_correct' (1 or 0)")
    chosen: dict[str, str] = {}
    rows = _one_metric_per_scenario(rows, chosen, options, notes, unit)
    items, keys = _finish_items(rows, unit.stem, notes)
    scenarios = pd.DataFrame({"scenario": list(chosen), "metric": list(chosen.values())})
    return FormatRead(format=NAME, unit=unit, files=(unit,), items=items, keys=keys, scenarios=scenarios,
                      models=pd.DataFrame({"model": sorted(set(items["model"]))}), runs=1, notes=tuple(notes),
                      options={"schema_version": version, "instance_files": [unit.name]})


def _scenarios_frame(results: list[dict]) -> pd.DataFrame:
    rows = []
    for r in results:
        result = r["result"]
        config = result.get("metric_config") or {}
        lower = config.get("lower_is_better")
        source = result.get("source_data") if isinstance(result.get("source_data"), dict) else {}
        rows.append({"scenario": r["scenario"], "metric": r["metric"],
                     "higher_is_better": (not lower) if isinstance(lower, bool) else pd.NA,
                     "tags": source.get("dataset_name") or None,
                     "description": config.get("evaluation_description") or None})
    return pd.DataFrame(rows, columns=["scenario", "metric", "higher_is_better", "tags", "description"])


def _models_frame(model: str, info: dict) -> pd.DataFrame:
    details = info.get("additional_details") if isinstance(info.get("additional_details"), dict) else {}
    params = next((details[k] for k in _PARAMETER_FIELDS if k in details), None)
    params_b = as_number(params)
    if not math.isnan(params_b) and "params_billions" not in details and params_b > 1e5:
        params_b /= 1e9  # a count of parameters, not billions
    return pd.DataFrame({
        "model": [model],
        "display_name": [details.get("display_name") or info.get("name") or None],
        "organization": [info.get("developer") or None],
        "params_b": [None if math.isnan(params_b) else params_b],
        "release_date": [details.get("release_date") or None],
    })
