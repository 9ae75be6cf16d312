"""OpenCompass: an outputs run folder (``outputs/<config>/<timestamp>/``) or one results file.

OpenCompass's evaluation task (``opencompass/tasks/openicl_eval.py``) writes one file per model and
dataset, ``results/<model_abbr>/<dataset_abbr>.json``: the evaluator's metrics (``accuracy``,
``score``, ...) and, when details are dumped (``--dump-eval-details``, the default since 0.4), the
per-item ``details``. Their shape changed over the versions:

- up to 0.4.1 a mapping ``{"0": {..., "correct": true}, "1": ..., ["type": "GEN"]}`` keyed by the
  item's index in the dataset's test split (``format_details``); from 0.4.0 each value is a list, one
  entry per replica when the dataset is repeated (``n`` > 1);
- from 0.4.2 a list of ``{"example_abbr": "<dataset>_<index>", "pred": [...], "correct": [...], ...}``,
  one entry per item with one value per replica (``BaseEvaluator.evaluate``).

In effbench's terms: model = the results folder's name (the model abbr); scenario = the dataset abbr;
item = the index in the test split (the same in both shapes); score = the first per-item field of
`SCORE_FIELDS` that holds numbers or true/false (``correct`` -> 1/0; ``--metric DATASET=FIELD``
chooses another); replicas are the key column ``replica``. OpenCompass reports percentages, effbench
the per-item scores (0-1), and a note says when their mean does not reproduce the reported figure.
``predictions/<model>/<dataset>.json`` files (what the inference step writes: prompts and outputs,
no scores) are recognised too, so that a folder holding only them gets a clear error rather than
silence.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from pathlib import Path

import pandas as pd

import effbench.formats.shapes as shapes
from effbench.errors import EffbenchError
from effbench.formats.common import FormatRead, ReadOptions, list_files

NAME = "opencompass"
DESCRIPTION = "OpenCompass outputs: results/<model>/<dataset>.json with per-item details (--dump-eval-details)"

# Per-item fields that say how an item went, in the order they are taken. The first three are the
# correctness flags OpenCompass itself counts (BaseEvaluator.evaluate); the others are per-item
# scores some evaluators write.
CORRECTNESS_FIELDS = ("correct", "is_correct", "cascade_correct")
SCORE_FIELDS = (*CORRECTNESS_FIELDS, "score", "pass", "acc")
# How OpenCompass's summary picks a dataset's headline metric (summarizers/default.py).
METRIC_WHITELIST = ("score", "auc_score", "accuracy", "humaneval_pass@1", "rouge1", "avg_toxicity_score",
                    "bleurt_diff", "matthews_correlation", "truth", "f1", "exact_match", "extract_rate")
METRIC_BLACKLIST = ("bp", "sys_len", "ref_len", "type")
RERUN_HINT = ("run OpenCompass's evaluation with eval details kept (`opencompass CONFIG -m eval -r TIMESTAMP "
              "--dump-eval-details`) to write results/<model>/<dataset>.json with per-item details")

_HEAD_BYTES = 4096
_FIRST_KEY = re.compile(r'\A\s*\{\s*"((?:[^"\\]|\\.)*)"\s*:\s*(\S)')
_PREDICTION_HEAD = re.compile(r'\A\s*\{\s*"\d+"\s*:\s*\{')
_INDEX_SUFFIX = re.compile(r"_(\d+)\Z")
# First keys of other harnesses' JSON that may sit in a folder called results/ (Inspect logs,
# lighteval and lm-eval results, Every Eval Ever records).
_OTHER_FIRST_KEYS = frozenset({"version", "schema_version", "config_general", "results", "config"})


def find(root: Path, files: list[Path]) -> list[Path]:
    """Return the OpenCompass units under `root`: each outputs run folder holding ``results/``, or each
    results file when `root` is inside one; folders of predictions without results are units too
    (reading them says there is nothing to load)."""
    units: list[Path] = []
    runs_with_results = set()
    for path in files:
        if is_results_file(path):
            run = path.parents[2]
            runs_with_results.add(run)
            unit = run if _within(run, root) else path
            if unit not in units:
                units.append(unit)
    for path in files:
        if not is_predictions_file(path):
            continue
        run = path.parents[2] if len(path.parents) > 2 and path.parents[1].name == "predictions" else None
        if run in runs_with_results:
            continue
        unit = path.parent if _within(path.parent, root) else path
        if unit not in units:
            units.append(unit)
    return units


def _within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _head(path: Path) -> str:
    try:
        with open(path, "rb") as handle:
            return handle.read(_HEAD_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return ""


def _unread_results(predictions: list[Path]) -> list[Path]:
    """Return the JSON files in the results/ folder of the runs that wrote `predictions` (outputs/<config>/
    <timestamp>/predictions/<model>/...), which effbench did not recognise as results files."""
    runs = {path.parents[2] for path in predictions if len(path.parents) > 2 and path.parents[1].name == "predictions"}
    return sorted(path for run in runs for path in (run / "results").rglob("*.json") if not is_results_file(path))


def is_results_file(path: Path) -> bool:
    """Return whether `path` is named and begins like an OpenCompass results file."""
    if path.suffix != ".json" or len(path.parents) < 3 or path.parents[1].name != "results" \
            or path.name.startswith("results_"):
        return False
    head = _head(path)
    match = _FIRST_KEY.match(head)
    if match is None or match.group(1) in _OTHER_FIRST_KEYS:
        return False
    key, value = match.groups()
    return key in ("details", "error", "type") or value in "-0123456789NI" or '"details":' in head


def is_predictions_file(path: Path) -> bool:
    """Return whether `path` begins like an OpenCompass predictions file (``{"0": {"origin_prompt": ...``)."""
    if path.suffix != ".json":
        return False
    head = _head(path)
    return bool(_PREDICTION_HEAD.match(head)) and ('"origin_prompt"' in head or '"prediction"' in head)


def read(unit: Path, options: ReadOptions) -> FormatRead:
    """Return the per-item scores of every results file in `unit` (a run folder or one results file)."""
    unit = Path(unit)
    files = list_files(unit)
    results = [path for path in files if is_results_file(path)]
    predictions = [path for path in files if is_predictions_file(path)]
    if not results:
        unread = _unread_results(predictions)
        if unread:
            raise EffbenchError(f"{unit}: the run's results/ holds {len(unread)} file(s) (e.g. {unread[0].parent.name}/"
                                f"{unread[0].name}) but none is an OpenCompass results file with metrics or per-item "
                                "details; a subjective evaluation (a judge model comparing or scoring answers) "
                                "writes its results so, and effbench has no per-item scores to load from it")
        if predictions:
            raise EffbenchError(f"{unit}: OpenCompass predictions only ({len(predictions)} file(s), no scores to "
                                f"load); {RERUN_HINT}")
        raise EffbenchError(f"{unit}: no OpenCompass results file (results/<model>/<dataset>.json) in it")
    notes: list[str] = []
    evaluated = {(path.parent.name, path.stem) for path in results}
    pending = sorted({f"{p.parent.name}/{p.stem}" for p in predictions if not _evaluated(p, evaluated)})
    if pending:
        shown = ", ".join(pending[:3]) + (", ..." if len(pending) > 3 else "")
        notes.append(f"{len(pending)} model/dataset pair(s) have predictions but no results (evaluation not run "
                     f"or failed): {shown}")

    by_dataset: dict[str, list[_Result]] = defaultdict(list)
    fields = tuple(dict.fromkeys((*SCORE_FIELDS, *options.metrics.values())))
    for path in results:
        result = _read_result(path, unit, fields)
        if result.error is not None:
            notes.append(f"{result.file}: OpenCompass recorded an error, nothing to load ({result.error})")
        elif result.values is None:
            headline = f" (its {result.headline[0]} = {result.headline[1]:g} is not loaded)" if result.headline \
                else ""
            notes.append(f"{result.file}: no per-item details{headline}; {RERUN_HINT}")
        else:
            by_dataset[result.dataset].append(result)

    frames, scenario_rows, chosen = [], [], {}
    for dataset, dataset_results in sorted(by_dataset.items()):
        field = _choose_field(dataset, dataset_results, options, notes)
        if field is None:
            continue
        chosen[dataset] = field
        modes = sorted({r.mode for r in dataset_results if r.mode})
        scenario_rows.append((dataset, field, True if field in CORRECTNESS_FIELDS else None,
                              ", ".join(modes) or None, None))
        for result in dataset_results:
            frame = _item_frame(result, field)
            if frame.empty:
                notes.append(f"{result.file}: its details have no per-item {field}; {result.model} has no results "
                             f"in {dataset}")
                continue
            _compare_with_headline(result, field, frame, notes)
            frames.append(frame)
    items = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["model", "scenario", "item_id", "score", "replica", "run", "metric", "file"])
    keys = ("replica",) if not items.empty and items.groupby(["model", "scenario", "item_id"]).size().max() > 1 \
        else ()
    if not keys:
        items = items.drop(columns="replica")
    return FormatRead(
        format=NAME, unit=unit, files=tuple(results), items=items, keys=keys,
        scenarios=pd.DataFrame(scenario_rows, columns=["scenario", "metric", "higher_is_better", "tags",
                                                      "description"]),
        runs=len(results), notes=tuple(notes),
        options={"score_fields": list(SCORE_FIELDS), "field_per_dataset": chosen,
                 "item_id": "index in the dataset's test split"},
    )


def _evaluated(path: Path, evaluated: set[tuple[str, str]]) -> bool:
    """Return whether a predictions file has results; partitions are written as ``<dataset>_<k>.json``."""
    model, stem = path.parent.name, path.stem
    return (model, stem) in evaluated or (model, _INDEX_SUFFIX.sub("", stem)) in evaluated


class _Result:
    """One results file: its headline metric and the candidate per-item fields' values."""

    def __init__(self, path: Path, unit: Path, data: dict) -> None:
        self.path = path
        self.file = path.relative_to(unit).as_posix() if unit.is_dir() else path.name
        self.model = path.parent.name
        self.dataset = path.stem
        self.run = path.parents[2].name
        self.error = data.get("error")
        self.mode = data.get("type") if isinstance(data.get("type"), str) else None
        self.headline = _headline(data)
        self.values: dict[str, list[tuple[str, object]]] | None = None


def _headline(data: dict) -> tuple[str, float] | None:
    """Return OpenCompass's headline metric of a results file, picked as its summary picks it."""
    metrics = [k for k, v in data.items() if k not in METRIC_BLACKLIST and isinstance(v, int | float)
               and not isinstance(v, bool)]
    if not metrics:
        return None
    rank = {name: i for i, name in enumerate(METRIC_WHITELIST)}
    best = sorted(metrics, key=lambda name: rank.get(name, len(METRIC_WHITELIST)))[0]
    return best, float(data[best])


def _read_result(path: Path, unit: Path, fields: tuple[str, ...]) -> _Result:
    """Return a results file's headline metric and the values of the per-item `fields` it holds."""
    data = shapes.load_json(path)
    if not isinstance(data, dict):
        raise EffbenchError(f"{path}: not an OpenCompass results file (expected a JSON object)")
    for key in data:
        if key != "details":  # the metrics: no integer there may be too large for a float
            shapes.loose(data, key, str(path))
    result = _Result(path, unit, data)
    details = data.get("details")
    if details is None or result.error is not None:
        return result
    if isinstance(details, dict):
        result.mode = result.mode or (details.get("type") if isinstance(details.get("type"), str) else None)
        entries = [(str(key), f"{path}: details entry {key!r}", entry) for key, entry in details.items()
                   if key != "type"]
    elif isinstance(details, list):
        entries = [(_item_id(entry, position), f"{path}: details entry {position}", entry)
                   for position, entry in enumerate(details)]
    else:
        raise EffbenchError(f"{path}: field details is neither a mapping nor a list")
    values: dict[str, list[tuple[str, object]]] = defaultdict(list)
    for item_id, where, entry in entries:
        shapes.entry(entry, where)
        for name in fields:
            if name in entry:
                values[name].append((item_id, shapes.loose(entry, name, where)))
    result.values = dict(values)
    return result


def _item_id(entry: object, position: int) -> str:
    """Return the item's index in the test split: the number ending ``example_abbr``, else the position."""
    abbr = entry.get("example_abbr") if isinstance(entry, dict) else None
    if isinstance(abbr, str):
        match = _INDEX_SUFFIX.search(abbr)
        return match.group(1) if match else abbr
    return str(position)


def _numbers(value: object) -> list[float] | None:
    """Return a per-item value as numbers (one per replica): true/false -> 1/0, None -> NaN; None if not numeric."""
    if isinstance(value, list):
        parsed = [_numbers(v) for v in value]
        if any(p is None or len(p) != 1 for p in parsed):
            return None
        return [p[0] for p in parsed]
    if value is None:
        return [math.nan]
    if isinstance(value, bool | int | float):
        return [float(value)]
    return None


def _choose_field(dataset: str, results: list[_Result], options: ReadOptions, notes: list[str]) -> str | None:
    chosen = options.metric_for(dataset)
    if chosen is not None:
        for result in results:
            for item_id, value in (result.values or {}).get(chosen, ()):
                if _numbers(value) is None:
                    raise EffbenchError(f"{result.path}: details[{item_id}].{chosen} is not a number or true/false")
        if not any(chosen in (r.values or {}) for r in results):
            notes.append(f"{dataset}: no per-item field {chosen!r} (chosen with --metric) in its details; skipped")
            return None
        return chosen
    for name in SCORE_FIELDS:
        if any(name in (r.values or {}) for r in results) and all(
                _numbers(value) is not None for r in results for _, value in (r.values or {}).get(name, ())):
            return name
    notes.append(f"{dataset}: its details hold none of {', '.join(SCORE_FIELDS)} as numbers or true/false; skipped "
                 "(name a per-item field with --metric)")
    return None


def _item_frame(result: _Result, field: str) -> pd.DataFrame:
    rows = []
    for item_id, value in (result.values or {}).get(field, ()):
        for replica, number in enumerate(_numbers(value) or ()):
            rows.append((item_id, replica, number))
    frame = pd.DataFrame(rows, columns=["item_id", "replica", "score"])
    frame = frame.drop_duplicates(["item_id", "replica"])
    frame.insert(0, "scenario", result.dataset)
    frame.insert(0, "model", result.model)
    frame["score"] = frame["score"].astype(float)
    frame["replica"] = frame["replica"].astype("int64")
    frame["run"] = result.run
    frame["metric"] = field
    frame["file"] = result.file
    return frame[["model", "scenario", "item_id", "score", "replica", "run", "metric", "file"]]


def _compare_with_headline(result: _Result, field: str, frame: pd.DataFrame, notes: list[str]) -> None:
    """Say when the per-item correctness does not reproduce OpenCompass's reported percentage."""
    if field not in CORRECTNESS_FIELDS or result.headline is None or frame["score"].isna().all():
        return
    mean = 100 * frame.groupby("item_id")["score"].mean().mean()
    name, reported = result.headline
    if not math.isclose(mean, reported, abs_tol=0.01):
        notes.append(f"{result.file}: the mean of per-item {field} is {mean:.2f}%, OpenCompass reports "
                     f"{name} = {reported:g}")
