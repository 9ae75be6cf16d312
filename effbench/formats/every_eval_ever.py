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

import json
import math
import re
from pathlib import Path

import pandas as pd

from effbench.errors import EffbenchError
from effbench.formats import ITEM_COLUMNS, SCENARIO_SCORE_COLUMNS, FormatRead, ReadOptions, as_number
from effbench.load import AGGREGATE_COLUMNS

NAME = "every-eval-ever"
DESCRIPTION = "Every Eval Ever aggregate records (.json) and instance-level files (.jsonl), schema 0.2-0.3"

_RECORD_KEYS = ('"model_info"', '"evaluation_results"')  # required; one is near the top in any key order
_INSTANCE_KEYS = {"schema_version", "model_id", "evaluation_name", "sample_id", "evaluation"}
_HEAD_CHARS = 16384


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
        with open(path, encoding="utf-8") as handle:
            first = handle.readline()
        row = json.loads(first)
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return isinstance(row, dict) and row.keys() >= _INSTANCE_KEYS


def _companions(record: Path) -> list[Path]:
    """Return the instance file(s) next to `record` that belong to it."""
    names = {record.stem + "_samples.jsonl"}
    try:
        detailed = json.loads(record.read_text(encoding="utf-8")).get("detailed_evaluation_results")
    except (OSError, UnicodeDecodeError, ValueError, AttributeError):
        detailed = None
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
        except (TypeError, ValueError):
            continue
    return True, None


def read(unit: Path, options: ReadOptions) -> FormatRead:
    """Read an aggregate record (with its instance file, if any) or an instance file alone."""
    if unit.suffix == ".jsonl":
        return _read_instances_alone(unit, options)
    return _read_record(unit, options)


def _load_record(unit: Path) -> dict:
    try:
        record = json.loads(unit.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise EffbenchError(f"{unit}: not valid JSON ({error})") from None
    if not isinstance(record, dict):
        raise EffbenchError(f"{unit}: an Every Eval Ever record is a JSON object")
    for field in ("model_info", "evaluation_results"):
        if field not in record:
            raise EffbenchError(f"{unit}: the Every Eval Ever record lacks '{field}'")
    if not isinstance(record["evaluation_results"], list):
        raise EffbenchError(f"{unit}: 'evaluation_results' is not a list")
    info = record["model_info"]
    if not isinstance(info, dict) or not (info.get("id") or info.get("name")):
        raise EffbenchError(f"{unit}: 'model_info' has no 'id' or 'name'")
    return record


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
    for position, result in enumerate(record["evaluation_results"]):
        if not isinstance(result, dict) or not isinstance(result.get("evaluation_name"), str):
            raise EffbenchError(f"{unit}: evaluation_results[{position}] has no 'evaluation_name'")
        if _aggregates_others(result["evaluation_name"]):
            notes.append(f"skipped result {result['evaluation_name']!r}: it aggregates the others "
                         "(effbench computes its own)")
            continue
        results.append({"result": result, "metric": _metric_id(result), "scenario": result["evaluation_name"]})
    chosen = _choose_metrics(unit, results, options, notes)

    # Instance lines join their result by evaluation_result_id (0.3.0) or, failing that, by name.
    by_id = {r["result"]["evaluation_result_id"]: r for r in results if r["result"].get("evaluation_result_id")}
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
        "score": [as_number(r["result"].get("score_details", {}).get("score")) for r in aggregate],
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
    from_is_correct = 0
    try:
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except ValueError as error:
                    raise EffbenchError(f"{path}: line {number} is not valid JSON ({error})") from None
                if not isinstance(row, dict):
                    raise EffbenchError(f"{path}: line {number} is not a JSON object")
                for field in ("model_id", "evaluation_name", "sample_id", "evaluation"):
                    if row.get(field) is None:
                        raise EffbenchError(f"{path}: line {number} lacks '{field}'")
                evaluation = row["evaluation"]
                if not isinstance(evaluation, dict):
                    raise EffbenchError(f"{path}: line {number}: 'evaluation' is not an object")
                score = as_number(evaluation.get("score"))
                if math.isnan(score) and isinstance(evaluation.get("is_correct"), bool):
                    score = float(evaluation["is_correct"])
                    from_is_correct += 1
                columns["model"].append(str(row["model_id"]))
                columns["name"].append(str(row["evaluation_name"]))
                columns["result_id"].append(row.get("evaluation_result_id"))
                columns["item_id"].append(str(row["sample_id"]))
                columns["score"].append(score)
    except UnicodeDecodeError as error:
        raise EffbenchError(f"{path}: not UTF-8 text ({error})") from None
    frame = pd.DataFrame(columns)
    frame.attrs["file"] = path.name
    frame["file"] = path.name
    frame.attrs["from_is_correct"] = from_is_correct
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
    with open(unit, encoding="utf-8") as handle:
        version = json.loads(handle.readline()).get("schema_version")
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
    params = next((details[k] for k in ("params_billions", "param_count", "model_num_parameters") if k in details),
                  None)
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
