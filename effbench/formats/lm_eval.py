"""lm-evaluation-harness: a results file with the per-sample files ``--log_samples`` wrote next to it.

Layouts (EleutherAI/lm-evaluation-harness, ``loggers/evaluation_tracker.py`` and ``evaluator.py``):

- 0.4.2 and later: ``<output>/<model_sanitized>/results_<date>.json`` (or ``<stem>_<date>.json`` when
  ``--output_path`` names a ``.json`` file) and ``samples_<task>_<date>.jsonl`` beside it, one JSON
  line per document and filter with ``doc_id``, ``filter``, ``metrics``, ``doc_hash`` and one key per
  metric. The results file names its values ``"<metric>,<filter>"`` and lists groups in
  ``group_subtasks``/``groups``, higher-is-better in ``higher_is_better``, the model in
  ``model_name`` or ``config.model_args``.
- 0.4.0 and 0.4.1: ``results.json`` and ``<model_args>_<task>.jsonl`` (one JSON array), lines without
  ``filter`` or ``metrics``: a document appears once per filter, filters in the task's order.
- 0.3: ``results.json`` whose values are named ``acc``, ``acc_stderr`` (no filter), no samples.

A unit is one results file, or a samples file that no results file beside it claims (copied alone):
its task comes from its name, its model from the folder lm-eval names after it (``<org>__<name>``).
Each leaf task (group aggregates such as ``mmlu`` are skipped, so nothing
counts twice) becomes a scenario, items are ``doc_id`` (``doc_hash``, which identifies the document
across runs, is kept as a column). The metric is the user's ``--metric`` or the task's first one
(with its first filter); a metric whose per-sample value is not a number (a corpus-level metric such
as ``f1`` stored as ``[gold, [pred]]``) has no per-item score, so the next numeric one is taken, or,
when none is, the results file's aggregate loads as a scenario-level result; the load says so. Tasks
without samples load as scenario-level results too. Tasks that differ only in their prompt
(``..._prompt_1``, ``..._prompt_3``) load as prompts of one scenario (key column ``prompt``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

import effbench.formats.shapes as shapes
from effbench.errors import EffbenchError
from effbench.formats.common import FormatRead, ReadOptions, read_json_object
from effbench.formats.shapes import LIST, NUMBER, OBJECT, SCALAR, TEXT

NAME = "lm-eval"
DESCRIPTION = "lm-evaluation-harness results_*.json with samples_<task>_*.jsonl (--log_samples), or samples alone"

# The first bytes of every results file the harness wrote: `results` is the first key it dumps.
_RESULTS_HEAD = re.compile(rb'^\s*\{\s*"results"\s*:')
# The run's date id: isoformat with ":" made "-" (early files kept the ":").
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}[-:]\d{2}[-:]\d{2}(?:\.\d+)?")
_PROMPT = re.compile(r"(?P<base>.+?)_prompt_?(?P<prompt>\d+)(?P<rest>(?:_.+)?)")
# Keys of a results entry that are not metrics.
_NOT_METRICS = {"alias", "samples", "name", "sample_len", "sample_count"}
# Where the harness looks for the model in `model_args`, in its own order (peft before pretrained).
_MODEL_ARG_KEYS = ("peft", "delta", "pretrained", "model", "path", "engine")


def find(root: Path, files: list[Path]) -> list[Path]:
    """Return the lm-eval results files under `root` (a samples file given alone finds its results), and
    the samples files no results file beside them claims."""
    if root.is_file() and _is_samples_name(root.name):
        owners = [path for path in sorted(root.parent.glob("*.json")) if _is_results_file(path)
                  and root.resolve() in {p.resolve() for p in _samples_files(path, _results_date(path))}]
        return owners or ([root] if _is_lone_samples(root) else [])
    results = [path for path in files if _is_results_file(path)]
    claimed = {s for path in results for s in _samples_files(path, _results_date(path))}
    return [path for path in files
            if path in results or (path not in claimed and _is_samples_name(path.name) and _is_lone_samples(path))]


def _is_lone_samples(path: Path) -> bool:
    """Return whether `path` is a samples file as 0.4.2 and later write them (dated name, JSON lines
    with ``doc_id`` and ``metrics``)."""
    if path.suffix != ".jsonl" or _DATE.search(path.name) is None:
        return False
    try:
        with open(path, "rb") as handle:
            first = shapes.probe_json(shapes.first_line(handle).decode("utf-8", errors="replace"))
    except OSError:
        return False
    return isinstance(first, dict) and "doc_id" in first and isinstance(first.get("metrics"), list)


def _is_results_file(path: Path) -> bool:
    if path.suffix.lower() != ".json" or path.name.startswith("samples_"):
        return False
    try:
        with open(path, "rb") as handle:
            head = handle.read(4096)
    except OSError:
        return False
    if not _RESULTS_HEAD.match(head):
        return False
    # lighteval writes `config_general` first, so a file starting with `results` is the harness's;
    # the harness's later keys confirm it without parsing the whole file.
    return any(key in head for key in (b'"versions"', b'"config"', b'"configs"', b'"n-shot"', b'"alias"',
                                       b'"group_subtasks"', b'"groups"', b'_stderr'))


def _is_samples_name(name: str) -> bool:
    return name.startswith("samples_") and name.endswith((".jsonl", ".json"))


def _results_date(path: Path) -> str | None:
    """Return the date id in a results file's name (``results_<date>.json``), or None (``results.json``)."""
    match = _DATE.search(path.stem)
    return match.group(0) if match else None


def _samples_files(results: Path, date: str | None) -> list[Path]:
    """Return the samples files of the run that wrote `results`: same folder, same date id."""
    found = []
    for path in sorted(results.parent.iterdir()):
        name = path.name
        if not name.endswith((".jsonl", ".json")) or path == results or not path.is_file():
            continue
        if date is not None:
            if _is_samples_name(name) and _DATE.search(name) and _DATE.search(name).group(0) == date:
                found.append(path)
        elif name.endswith(".jsonl") and not _is_samples_name(name):
            found.append(path)  # 0.4.0/0.4.1: <model_args>_<task>.jsonl beside results.json
    return found


def _samples_task(path: Path, tasks: list[str], date: str | None) -> str | None:
    """Return the task of a samples file, matched against the results file's task names."""
    stem = path.name.removesuffix(".jsonl").removesuffix(".json")
    if date is not None:
        named = stem.removeprefix("samples_").removesuffix(f"_{date}")
        for task in tasks:
            if named in (task, re.sub(r"\W", "_", task)):
                return task
        return None
    matches = [task for task in tasks if stem.endswith(f"_{task}") or stem == task]
    return max(matches, key=len) if matches else None


def run_started(unit: Path) -> tuple[bool, float | None]:
    """Return (True: a results file is written when its run is done, the run's start time): the file's
    `date` (seconds since the epoch), else the date id in its name."""
    if not _is_samples_name(unit.name):
        data = read_json_object(unit, "a JSON object with field 'results'")
        if _is_number(data.get("date")):
            return True, float(shapes.field(data, "date", NUMBER, str(unit)))
    named = _results_date(unit)
    if named is None:
        return True, None
    day, _, time = named.partition("T")
    return True, pd.Timestamp(f"{day}T{time.replace('-', ':')}", tz="UTC").timestamp()


def read(unit: Path, options: ReadOptions) -> FormatRead:
    """Return the item rows of every leaf task with samples, and aggregates for the others."""
    if _is_samples_name(unit.name):
        return _read_samples_alone(unit, options)
    data = read_json_object(unit, "a JSON object with field 'results'")
    results = data.get("results")
    if not isinstance(results, dict):
        raise EffbenchError(f"{unit}: field 'results' is missing or not an object")
    model, model_note = _model_name(data, unit)
    notes = [model_note] if model_note else []
    leaves, groups = _leaf_tasks(data)
    if groups:
        notes.append(f"{unit.name}: skipped group aggregate(s) {', '.join(sorted(groups))}; their tasks load instead")
    date = _results_date(unit)
    samples = {}
    for path in _samples_files(unit, date):
        task = _samples_task(path, leaves, date)
        if task is not None:
            samples[task] = path
    scenario_of, prompt_of = _scenarios(leaves, options.prompts_as_key, samples)

    item_frames, aggregates, scenario_rows, chosen = [], [], [], {}
    for task in leaves:
        entry = results[task] if isinstance(results[task], dict) else {}
        scenario = scenario_of[task]
        metrics = _metric_keys(entry)
        wanted = options.metric_for(scenario, task)
        if wanted is not None and _aggregate_metric(metrics, wanted) is None:
            if scenario in options.metrics or task in options.metrics:
                raise EffbenchError(f"{unit}: task {task!r} has no metric {wanted!r} "
                                    f"(it has {', '.join(metrics) or 'none'})")
            notes.append(f"{unit.name}: task {task!r} has no metric {wanted!r}; took its first one")
            wanted = None
        higher = _higher_is_better(data, task, unit)
        if task in samples:
            frame, metric, task_notes = _read_samples(samples[task], task, metrics, wanted, data, unit)
            notes.extend(task_notes)
            if frame is not None:
                frame.insert(0, "model", model)
                frame.insert(1, "scenario", scenario)
                if prompt_of:
                    frame["prompt"] = prompt_of.get(task)
                frame["run"] = task
                frame["metric"] = metric
                frame["file"] = samples[task].name
                item_frames.append(frame)
                chosen[task] = metric
                scenario_rows.append(_scenario_row(scenario, metric, higher, data, task, unit))
                continue
        metric = _aggregate_metric(metrics, wanted)
        if metric is None:
            notes.append(f"{unit.name}: task {task!r} has no metric to load" +
                         (f" named {wanted!r}" if wanted else ""))
            continue
        value = _number(entry, metric, f"{unit}: results: {task}")
        if task not in samples:
            notes.append(f"{unit.name}: task {task!r} has no samples file; its aggregate {metric} loads as a "
                         "scenario-level result")
        aggregates.append({"model": model, "scenario": task, "score": value, "run": task, "metric": metric,
                           "file": unit.name})
        chosen[task] = metric
        scenario_rows.append(_scenario_row(task, metric, higher, data, task, unit))

    items = pd.concat(item_frames, ignore_index=True) if item_frames else FormatRead(NAME, unit, ()).items
    prompted = sorted(set(prompt_of) & set(items.get("run", ())))
    keys = ("prompt",) if prompted else ()
    if prompted:
        notes.append(f"{unit.name}: task(s) {', '.join(prompted)} load as prompts of scenario(s) "
                     f"{', '.join(sorted({scenario_of[t] for t in prompted}))} (key column 'prompt')")
    elif "prompt" in items:
        items = items.drop(columns="prompt")
    scenario_scores = (pd.DataFrame(aggregates) if aggregates
                       else FormatRead(NAME, unit, ()).scenario_scores)
    scenarios = pd.DataFrame(scenario_rows).drop_duplicates("scenario") if scenario_rows else None
    read_kwargs = {} if scenarios is None else {"scenarios": scenarios}
    return FormatRead(
        format=NAME, unit=unit, files=(unit, *sorted(samples[t] for t in samples if t in chosen)),
        items=items, keys=keys, scenario_scores=scenario_scores, models=_models(data, model, unit), runs=1,
        notes=tuple(notes), options={"metrics": chosen, "prompts_as_key": options.prompts_as_key,
                                     "lm_eval_version": data.get("lm_eval_version")},
        **read_kwargs,
    )


def _read_samples_alone(unit: Path, options: ReadOptions) -> FormatRead:
    """Return the per-document scores of a samples file without its results file: the task from the file's
    name, the model from its folder's (lm-eval's ``<org>__<name>``), the first numeric metric."""
    date = _DATE.search(unit.name)
    task = unit.name.removesuffix(".jsonl").removeprefix("samples_").removesuffix(f"_{date.group(0)}" if date else "")
    model = unit.parent.name.replace("__", "/")
    metrics: dict[str, None] = {}
    for _, record in _records(unit):
        if isinstance(record, dict) and isinstance(record.get("metrics"), list):
            metrics.update(dict.fromkeys(f"{name},{record.get('filter') or 'none'}" for name in record["metrics"]
                                         if isinstance(name, str)))
    wanted = options.metric_for(task)
    frame, metric, notes = _read_samples(unit, task, list(metrics), wanted, {}, unit)
    if frame is None:
        raise EffbenchError(f"{unit}: a samples file without its results file, and no metric with a number per "
                            "document to load")
    notes.insert(0, f"{unit.name}: no results file beside it; loaded its per-document {metric} as task {task!r} "
                    f"(from the file's name) of model {model!r} (from the folder's name, '__' read as '/')")
    frame.insert(0, "model", model)
    frame.insert(1, "scenario", task)
    frame["run"], frame["metric"], frame["file"] = task, metric, unit.name
    scenarios = pd.DataFrame([{"scenario": task, "metric": metric, "higher_is_better": pd.NA}])
    return FormatRead(format=NAME, unit=unit, files=(unit,), items=frame, scenarios=scenarios,
                      models=pd.DataFrame({"model": [model]}), runs=1, notes=tuple(notes),
                      options={"metrics": {task: metric}, "samples_only": True})


def _model_name(data: dict, unit: Path) -> tuple[str, str | None]:
    """Return the model's name and, when it had to be guessed, a note saying from what."""
    if isinstance(data.get("model_name"), str) and data["model_name"]:
        return data["model_name"], None
    config = data.get("config") if isinstance(data.get("config"), dict) else {}
    args = config.get("model_args")
    if isinstance(args, dict):
        for key in _MODEL_ARG_KEYS:
            if args.get(key):
                return str(args[key]), None
    elif isinstance(args, str) and args:
        for key in _MODEL_ARG_KEYS:
            match = re.search(rf"(?:^|,)\s*{key}=([^,]+)", args)
            if match:
                return match.group(1).strip(), None
    folder = unit.parent.name
    if folder:
        return folder, f"{unit}: no model_name or model_args pretrained=...; the model is named after its folder"
    raise EffbenchError(f"{unit}: field 'model_name' (or config.model_args pretrained=...) is missing")


def _leaf_tasks(data: dict) -> tuple[list[str], set[str]]:
    """Return the tasks that are not aggregates of others, in the results file's order, and the groups."""
    results = data["results"]
    groups = set(data.get("groups") or {}) if isinstance(data.get("groups"), dict) else set()
    subtasks = data.get("group_subtasks") if isinstance(data.get("group_subtasks"), dict) else {}
    groups |= {name for name, members in subtasks.items() if members}
    configs = data.get("configs") if isinstance(data.get("configs"), dict) else {}
    if configs:
        # Only real tasks have a config; a results entry without one is an aggregate.
        groups |= {name for name in results if name not in configs}
    leaves = [name for name in results if name not in groups]
    return leaves, groups & set(results)


def _scenarios(tasks: list[str], prompts_as_key: bool, samples: dict) -> tuple[dict[str, str], dict[str, str]]:
    """Return each task's scenario and, for tasks that are prompts of one scenario, their prompt."""
    scenario_of = {task: task for task in tasks}
    prompt_of: dict[str, str] = {}
    if not prompts_as_key:
        return scenario_of, prompt_of
    for task in tasks:
        match = _PROMPT.fullmatch(task)
        if match and task in samples:  # aggregates have no key column: they keep their own name
            scenario_of[task] = match.group("base") + match.group("rest")
            prompt_of[task] = f"prompt_{match.group('prompt')}"
    return scenario_of, prompt_of


def _metric_keys(entry: dict) -> list[str]:
    """Return the metric names of a results entry (``acc,none`` or, in 0.3, ``acc``), in order."""
    return [key for key in entry if key not in _NOT_METRICS and "_stderr" not in key.split(",")[0]]


def _split(metric: str) -> tuple[str, str | None]:
    name, _, filter_name = metric.partition(",")
    return name, (filter_name or None)


def _aggregate_metric(metrics: list[str], wanted: str | None) -> str | None:
    if wanted is None:
        return metrics[0] if metrics else None
    for metric in metrics:
        if metric == wanted or _split(metric)[0] == wanted:
            return metric
    return None


def _higher_is_better(data: dict, task: str, unit: Path) -> dict[str, bool]:
    """Return {metric: higher is better} from the results file (0.4.2+), else from the task's metric_list."""
    table = data.get("higher_is_better")
    if isinstance(table, dict) and isinstance(table.get(task), dict):
        return {str(k): bool(v) for k, v in table[task].items() if isinstance(v, bool)}
    config = _task_config(data, task, unit)
    return {str(m["metric"]): m["higher_is_better"] for m in _config_list(config, "metric_list", task, unit)
            if isinstance(m, dict) and isinstance(m.get("higher_is_better"), bool) and isinstance(m.get("metric"), str)}


def _task_config(data: dict, task: str, unit: Path) -> dict:
    """Return the task's config from the results file's `configs` (empty when it has none)."""
    configs = shapes.field(data, "configs", OBJECT, str(unit), default={}, nullable=True)
    return shapes.field(configs, task, OBJECT, f"{unit}: configs", default={}, nullable=True)


def _config_list(config: dict, name: str, task: str, unit: Path) -> list:
    """Return the list `name` of a task's config (``metric_list``, ``filter_list``), empty when absent."""
    return shapes.field(config, name, LIST, f"{unit}: configs: {task}", default=[], nullable=True)


def _scenario_row(scenario: str, metric: str, higher: dict[str, bool], data: dict, task: str, unit: Path) -> dict:
    config = _task_config(data, task, unit)
    tags = config.get("tag") or config.get("group") or []
    if not isinstance(tags, list):
        tags = [tags]
    description = config.get("dataset_path")
    if description and config.get("dataset_name"):
        description = f"{description} ({config['dataset_name']})"
    return {"scenario": scenario, "metric": metric, "higher_is_better": higher.get(_split(metric)[0], pd.NA),
            "tags": ", ".join(str(t) for t in tags) or None, "description": description}


def _filter_order(data: dict, task: str, metrics: list[str], unit: Path) -> list[str]:
    """Return the task's filters in the harness's order (its config's filter_list, else the results keys)."""
    config = _task_config(data, task, unit)
    names = [f.get("name") for f in _config_list(config, "filter_list", task, unit)
             if isinstance(f, dict) and f.get("name")]
    for metric in metrics:
        filter_name = _split(metric)[1]
        if filter_name and filter_name not in names:
            names.append(filter_name)
    return names or ["none"]


def _read_samples(path: Path, task: str, metrics: list[str], wanted: str | None, data: dict,
                  unit: Path) -> tuple[pd.DataFrame | None, str, list[str]]:
    """Return a task's per-document scores for one metric and filter, the metric taken and notes."""
    notes: list[str] = []
    filters = _filter_order(data, task, metrics, unit)
    # Candidates in order: the user's choice, else every metric of the results entry (first filter first).
    candidates = [m for m in metrics if _split(m)[1] in (None, filters[0])] + \
                 [m for m in metrics if _split(m)[1] not in (None, filters[0])]
    if wanted is not None:
        candidates = [m for m in metrics if m == wanted] or [m for m in metrics if _split(m)[0] == wanted]
    rows = list(_sample_values(path, task, filters))
    if not rows:
        raise EffbenchError(f"{path}: the samples file holds no documents")
    skipped = []
    for metric in candidates:
        name, filter_name = _split(metric)
        filter_name = filter_name or filters[0]
        values = [(doc_id, row.get(name), doc_hash) for doc_id, filt, row, doc_hash in rows if filt == filter_name]
        present = [v for _, v, _ in values if v is not None]
        if not values or not present:
            continue
        if not all(_is_number(v) for v in present):
            skipped.append(metric)
            continue
        if skipped:
            notes.append(f"{path.name}: skipped metric(s) {', '.join(skipped)} of task {task!r}: the per-sample value "
                         "is not a number (a corpus-level metric); took " + metric)
        _refuse_infinite(path, task, metric, values, rows, metrics, filters)
        frame = pd.DataFrame({
            "item_id": [str(doc_id) for doc_id, _, _ in values],
            "score": [math.nan if v is None else float(v) for _, v, _ in values],
        })
        if any(h is not None for _, _, h in values):
            frame["doc_hash"] = [h for _, _, h in values]
        if len(filters) > 1:
            notes.append(f"{path.name}: task {task!r} has filters {', '.join(filters)}; took {filter_name}")
        counts = data.get("n-samples") if isinstance(data.get("n-samples"), dict) else {}
        expected = counts[task].get("effective") if isinstance(counts.get(task), dict) else None
        if isinstance(expected, int) and expected != len(values):
            notes.append(f"{path.name}: holds {len(values)} document(s) of task {task!r}; the results file says "
                         f"{expected} were evaluated")
        return frame, (f"{name},{filter_name}" if "," in metric else metric), notes
    what = ", ".join(skipped or candidates)
    notes.append(f"{path.name}: skipped metric(s) {what} of task {task!r}: no numeric per-sample value "
                 "(a corpus-level metric); its aggregate from the results file loads as a scenario-level result")
    return None, "", notes


def _sample_values(path: Path, task: str, filters: list[str]) -> Iterator[tuple[object, str, dict, str | None]]:
    """Yield (doc_id, filter, metric values, doc_hash) per line of a samples file, streamed.

    Lines without ``filter`` (0.4.0/0.4.1) repeat a document once per filter, in the task's filter
    order, so the n-th line of a document belongs to the n-th filter.
    """
    seen: dict[str, int] = {}
    for where, raw in _records(path):
        record = shapes.entry(raw, where)
        doc_id = str(shapes.field(record, "doc_id", SCALAR, where))
        filter_name = shapes.field(record, "filter", TEXT, where, default=None, nullable=True)
        if filter_name is None:
            occurrence = seen.get(doc_id, 0)
            seen[doc_id] = occurrence + 1
            filter_name = filters[occurrence] if occurrence < len(filters) else f"filter_{occurrence}"
        names = shapes.field(record, "metrics", LIST, where, default=None, nullable=True)
        if names is None:
            names = [k for k in record if k not in _SAMPLE_FIELDS]
        # Keep numbers only: a corpus-level metric's per-sample value (texts) is marked, not held.
        values = {}
        for position, name in enumerate(names):
            shapes.element(name, TEXT, f"{where}: metrics entry {position}")
            values[name] = _compact(shapes.loose(record, name, where))
        yield doc_id, filter_name, values, shapes.field(record, "doc_hash", TEXT, where, default=None, nullable=True)


class _NotANumber:
    """Marks a per-sample metric value that is not a number (a corpus-level metric's inputs)."""


_NOT_A_NUMBER = _NotANumber()


def _compact(value: object) -> object:
    return value if value is None or _is_number(value) else _NOT_A_NUMBER


# Fields of a samples line that are not metric values.
_SAMPLE_FIELDS = {"doc_id", "doc", "target", "arguments", "resps", "filtered_resps", "filter", "metrics",
                  "doc_hash", "prompt_hash", "target_hash"}


def _records(path: Path) -> Iterator[tuple[str, object]]:
    """Yield (where, record) of a JSON-lines file (``line N``), or of a JSON array (0.4.0's samples files,
    ``entry N``); `where` names the file too."""
    with open(path, "rb") as handle:
        is_array = handle.read(1 << 12).lstrip().startswith(b"[")
    if is_array:
        records = shapes.load_json(path)
        yield from ((f"{path}: entry {number}", record) for number, record in enumerate(records, start=1))
        return
    yield from ((f"{path}: line {number}", record) for number, record in shapes.json_lines(path))


def _refuse_infinite(path: Path, task: str, metric: str, values: list, rows: list, metrics: list[str],
                     filters: list[str]) -> None:
    """Refuse a metric with infinite per-document values (no mean takes them), naming the samples file,
    the metric and the documents, and saying which of the task's other metrics would load instead."""
    infinite = [str(doc_id) for doc_id, value, _ in values if _is_number(value) and math.isinf(value)]
    if not infinite:
        return
    loadable = []
    for other in metrics:
        name, filter_name = _split(other)
        found = [row.get(name) for _, filt, row, _ in rows if filt == (filter_name or filters[0])]
        present = [v for v in found if v is not None]
        if other != metric and present and all(_is_number(v) and math.isfinite(v) for v in present):
            loadable.append(other)
    instead = (f"the task loads without it with --metric {task}={loadable[0]}" if loadable
               else "the task has no other per-document metric to load")
    raise EffbenchError(f"{path}: metric {metric!r} of task {task!r} is infinite for {len(infinite)} document(s) "
                        f"(doc_id {', '.join(infinite[:5])}); {instead}")


def _is_number(value: object) -> bool:
    return isinstance(value, bool | int | float)


def _number(entry: dict, metric: str, where: str) -> float:
    """Return an aggregate as a float; the harness writes "N/A" for what it could not compute."""
    return float(shapes.field(entry, metric, NUMBER, where)) if _is_number(entry.get(metric)) else math.nan


def _models(data: dict, model: str, unit: Path) -> pd.DataFrame:
    config = data.get("config") if isinstance(data.get("config"), dict) else {}
    row: dict[str, object] = {"model": model}
    parameters = config.get("model_num_parameters")
    if _is_number(parameters) and parameters > 0:
        row["params_b"] = shapes.field(config, "model_num_parameters", NUMBER, f"{unit}: config") / 1e9
    for key in ("model_revision", "model_sha", "model_dtype"):
        if isinstance(config.get(key), str) and config[key]:
            row[key] = config[key]
    return pd.DataFrame([row])
