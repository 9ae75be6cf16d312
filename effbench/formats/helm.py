"""HELM: a suite folder (``benchmark_output/runs/<suite>/``) or a single run folder.

A run folder holds ``run_spec.json`` (the run's name, ``adapter_spec.model``, its run ``groups``),
``per_instance_stats.json`` (a list of ``{instance_id, train_trial_index, [perturbation], stats}``,
each stat named by ``{name, split, [sub_split], [perturbation]}``) and ``stats.json`` (the run's
aggregates, from which HELM's published tables are made). ``helm-summarize`` writes the suite's
``schema.json`` next to the runs (``--suite``) or into ``releases/<release>/`` (``--release``): it
names each run group's main metric (``run_groups[].environment.main_name`` and ``main_split``),
says which metrics are lower-is-better and carries the models' metadata.

In effbench's terms: model = ``adapter_spec.model``; scenario = the run name without the model's
own arguments (`MODEL_ARGUMENTS`), so that every model's run of one scenario meets in one scenario;
item = ``instance_id``; ``train_trial_index`` (and, with ``perturbations``, the perturbation) are key
columns when an item has several rows. The score is the run group's main metric where it exists per
instance; where it exists only as an aggregate (BBQ's ``bbq_accuracy``), the first of
`FALLBACK_METRICS` that does exist per instance is taken, preferring one whose mean reproduces the
aggregate in ``stats.json``, and a note says which and whether it does. ``--metric`` overrides. A
suite without any schema.json (HELM Classic) takes each run group's main metric from HELM Classic's
packaged schema (`helm_schema.CLASSIC_MAIN_METRICS`). A run without ``per_instance_stats.json`` gives its
``stats.json`` aggregate as a scenario-level result.
"""

from __future__ import annotations

import math
import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

import effbench.formats.shapes as shapes
from effbench.errors import EffbenchError
from effbench.formats.common import FormatRead, ReadOptions
from effbench.formats.helm_schema import SCHEMA, Schema, models_frame, read_schema, schema_path
from effbench.formats.shapes import LIST, OBJECT, SCALAR, TEXT, WHOLE

NAME = "helm"
DESCRIPTION = "HELM suites (runs/<suite>/ with schema.json) and run folders (run_spec.json, per_instance_stats.json)"

RUN_SPEC = "run_spec.json"
PER_INSTANCE = "per_instance_stats.json"
STATS = "stats.json"
SCENARIO = "scenario.json"

# Run-name arguments that name the model rather than the scenario: the model and its deployment, and
# what HELM's run_spec_factory adds for some models only (`stop=hash` for models that strip newlines,
# `stop=none` for MedLM, `global_prefix=nlg` for NLG-prefix models). None = any value.
MODEL_ARGUMENTS: dict[str, frozenset[str] | None] = {
    "model": None,
    "model_deployment": None,
    "stop": frozenset({"hash", "none"}),
    "global_prefix": frozenset({"nlg"}),
}
# Taken, in this order, when the main metric is not recorded per instance (or the suite has no schema).
FALLBACK_METRICS = ("exact_match", "quasi_exact_match", "prefix_exact_match", "quasi_prefix_exact_match",
                    "f1_score", "rouge_l")
UNPERTURBED = "none"  # key value of unperturbed instances when perturbations are kept
_HEAD_BYTES = 4096


def find(root: Path, files: list[Path]) -> list[Path]:
    """Return the HELM units under `root`: suite folders (the folder holding run folders), or the run
    folder itself when `root` is a run folder or a file inside one."""
    if root.is_file():
        return [root.parent] if root.name in (RUN_SPEC, PER_INSTANCE, STATS) and _is_run(root.parent) else []
    listed = set(files)
    units: list[Path] = []
    for path in files:
        if path.name != RUN_SPEC:
            continue
        run = path.parent
        if (run / PER_INSTANCE not in listed and run / STATS not in listed) or not _looks_like_run_spec(path):
            continue
        unit = run if run == root else run.parent
        if unit not in units:
            units.append(unit)
    return units


def _is_run(folder: Path) -> bool:
    spec = folder / RUN_SPEC
    return spec.is_file() and ((folder / PER_INSTANCE).is_file() or (folder / STATS).is_file()) \
        and _looks_like_run_spec(spec)


def _looks_like_run_spec(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            head = handle.read(_HEAD_BYTES)
    except OSError:
        return False
    return head.lstrip().startswith(b"{") and (b'"adapter_spec"' in head or b'"scenario_spec"' in head)


@dataclass
class _Run:
    folder: Path
    name: str
    model: str
    deployment: str | None
    groups: tuple[str, ...]
    scenario: str
    description: str | None


def read(unit: Path, options: ReadOptions) -> FormatRead:
    """Return the items, aggregates, model and scenario metadata of a HELM suite or run folder."""
    unit = Path(unit)
    if (unit / RUN_SPEC).is_file():
        folders, suite = [unit], unit.parent
    else:
        folders = sorted(p for p in unit.iterdir() if p.is_dir() and (p / RUN_SPEC).is_file())
        suite = unit
    if not folders:
        raise EffbenchError(f"{unit}: no HELM run folder (one with {RUN_SPEC}) in it")
    notes: list[str] = []
    schema = read_schema(schema_path(suite))
    if schema.path is None:
        notes.append(f"{unit.name}: no {SCHEMA} found (helm-summarize writes it): took each run group's main metric "
                     "from HELM Classic's schema_classic.yaml, and for groups it does not name the first per-instance "
                     f"metric of {', '.join(FALLBACK_METRICS)}")
    runs, files = [], [] if schema.path is None else [schema.path]
    for folder in folders:
        if not (folder / PER_INSTANCE).is_file() and not (folder / STATS).is_file():
            notes.append(f"{folder.name}: skipped, it has neither {PER_INSTANCE} nor {STATS}")
            continue
        runs.append(_read_run_spec(folder))
        files.extend(folder / name for name in (RUN_SPEC, PER_INSTANCE, STATS, SCENARIO) if (folder / name).is_file())
    _disambiguate_models(runs, notes)

    by_scenario: dict[str, list[_Run]] = defaultdict(list)
    for run in runs:
        by_scenario[run.scenario].append(run)
    item_frames, aggregate_rows, scenario_rows = [], [], []
    for scenario, scenario_runs in sorted(by_scenario.items()):
        choice = _read_scenario(unit, scenario, scenario_runs, schema, options, notes)
        if choice is None:
            continue
        if choice.items is not None:
            item_frames.append(choice.items)
        aggregate_rows.extend(choice.aggregates)
        scenario_rows.append(choice.metadata)

    items = pd.concat(item_frames, ignore_index=True) if item_frames else None
    keys = _keys(items, options)
    if items is not None and "perturbation" not in keys:
        items = items.drop(columns="perturbation")
    aggregates = pd.DataFrame(aggregate_rows, columns=["model", "scenario", "score", "run", "metric", "file"])
    if items is not None and not aggregates.empty:
        clash = aggregates["scenario"].isin(set(items["scenario"]))
        for scenario in sorted(set(aggregates.loc[clash, "scenario"])):
            notes.append(f"{scenario}: some runs have no {PER_INSTANCE}; only the runs with per-instance results "
                         "are loaded (a scenario holds either per-item or per-scenario results)")
        aggregates = aggregates[~clash]
    read_result = FormatRead(
        format=NAME, unit=unit, files=tuple(files), keys=keys,
        models=models_frame([run.model for run in runs], schema),
        scenarios=pd.DataFrame(scenario_rows, columns=["scenario", "metric", "higher_is_better", "tags",
                                                      "description", "title"]),
        runs=len(runs), notes=tuple(notes),
        options={"schema": "schema_classic.yaml (HELM Classic)" if schema.path is None
                 else _relative(schema.path, unit),
                 "perturbations": options.perturbations, "fallback_metrics": list(FALLBACK_METRICS),
                 "model_arguments": sorted(MODEL_ARGUMENTS)},
        **({"items": items} if items is not None else {}),
        **({"scenario_scores": aggregates.reset_index(drop=True)} if not aggregates.empty else {}),
    )
    return read_result


# --- runs -----------------------------------------------------------------------------------------

def scenario_name(run_name: str) -> tuple[str, tuple[str, ...]]:
    """Return (the run name without the model's own arguments, the arguments removed).

    ``bbq:subject=all,method=multiple_choice_joint,model=openai_gpt-4o-2024-05-13`` ->
    ``bbq:subject=all,method=multiple_choice_joint``. Run names are ``group:key=value,key=value``;
    a piece without ``=`` belongs to the previous value (values may hold commas).
    """
    head, colon, arguments = run_name.partition(":")
    if not colon:
        return run_name, ()
    pieces: list[str] = []
    for piece in arguments.split(","):
        if "=" in piece or not pieces:
            pieces.append(piece)
        else:
            pieces[-1] += "," + piece
    kept, removed = [], []
    for piece in pieces:
        key, _, value = piece.partition("=")
        values = MODEL_ARGUMENTS.get(key, frozenset())
        (removed if key in MODEL_ARGUMENTS and (values is None or value in values) else kept).append(piece)
    return (f"{head}:{','.join(kept)}" if kept else head), tuple(removed)


def _read_run_spec(folder: Path) -> _Run:
    path = folder / RUN_SPEC
    where = f"{path}: the run spec"
    spec = shapes.entry(shapes.load_json(path), where)
    adapter = shapes.field(spec, "adapter_spec", OBJECT, where)
    adapter_at = f"{path}: adapter_spec"
    deployment = shapes.field(adapter, "model_deployment", TEXT, adapter_at, default=None, nullable=True)
    model = shapes.field(adapter, "model", TEXT, adapter_at, default=None, nullable=True) or deployment
    if not model:
        raise EffbenchError(f"{adapter_at}: no field 'model'")
    name = shapes.field(spec, "name", TEXT, where, default=None, nullable=True) or folder.name
    groups = shapes.field(spec, "groups", LIST, where, default=[], nullable=True)
    for position, group in enumerate(groups):
        shapes.element(group, SCALAR, f"{path}: groups entry {position}")
    scenario_file = folder / SCENARIO
    description = None
    if scenario_file.is_file():
        described = shapes.load_json(scenario_file)
        if isinstance(described, dict):
            description = shapes.field(described, "description", TEXT, f"{scenario_file}", default=None,
                                       nullable=True)
    return _Run(folder, name, model, deployment, tuple(str(g) for g in groups), scenario_name(name)[0],
                description)


def _disambiguate_models(runs: list[_Run], notes: list[str]) -> None:
    """Two runs of one model in one scenario (through two deployments) become two models, named by deployment."""
    seen: dict[tuple[str, str], list[_Run]] = defaultdict(list)
    for run in runs:
        seen[(run.scenario, run.model)].append(run)
    for (scenario, model), clashing in seen.items():
        if len(clashing) < 2:
            continue
        deployments = [run.deployment for run in clashing]
        if None in deployments or len(set(deployments)) < len(deployments):
            raise EffbenchError(f"{clashing[1].folder / RUN_SPEC}: run {clashing[1].name!r} repeats model {model!r} "
                                f"in scenario {scenario!r} (also run {clashing[0].name!r})")
        for run in clashing:
            run.model = str(run.deployment)
        notes.append(f"{scenario}: {model} was run through {len(clashing)} deployments; each is loaded as its own "
                     f"model ({', '.join(sorted(str(d) for d in deployments))})")


# --- per-instance stats ---------------------------------------------------------------------------

@dataclass
class _RunValues:
    """One run's per-instance values of the candidate metrics, and what else it records per instance."""

    rows: dict[str, list[tuple]] = field(default_factory=lambda: defaultdict(list))
    names: set[str] = field(default_factory=set)
    aggregates: dict[tuple[str, str | None], float] = field(default_factory=dict)
    has_instances: bool = True


def _perturbation_key(description: dict | None) -> str:
    if description is None:
        return UNPERTURBED
    extra = {k: v for k, v in description.items() if k not in ("name", "robustness", "fairness", "computed_on")}
    name = str(description.get("name", "perturbation"))
    return name + (f"({', '.join(f'{k}={extra[k]}' for k in sorted(extra))})" if extra else "")


@dataclass(frozen=True)
class _Stat:
    """One stat as HELM writes it: ``{name: {name, split, sub_split, perturbation}, count, sum, mean}``."""

    metric: str
    split: str | None
    sub_split: str | None
    perturbed: bool
    count: float
    total: float | None
    mean: float | None

    def value(self) -> float:
        """Return the stat's mean (its sum over its count where no mean is written), NaN when it counts none."""
        if not self.count:
            return math.nan
        if self.mean is not None:
            return self.mean
        return self.total / self.count if self.total is not None else math.nan


def _read_stat(raw: object, where: str) -> _Stat:
    stat = shapes.entry(raw, where)
    name = shapes.field(stat, "name", OBJECT, where)
    name_at = f"{where}: name"
    optional = {"default": None, "nullable": True}
    return _Stat(shapes.field(name, "name", TEXT, name_at),
                 shapes.field(name, "split", TEXT, name_at, **optional),
                 shapes.field(name, "sub_split", TEXT, name_at, **optional),
                 shapes.field(name, "perturbation", OBJECT, name_at, **optional) is not None,
                 shapes.number(stat, "count", where, default=0.0, nullable=True),
                 shapes.number(stat, "sum", where, **optional),
                 shapes.number(stat, "mean", where, **optional))


def _read_values(run: _Run, candidates: set[str]) -> _RunValues:
    values = _RunValues()
    per_instance = run.folder / PER_INSTANCE
    if per_instance.is_file():
        for index, raw in enumerate(shapes.iter_json_array(per_instance)):
            where = f"{per_instance}: entry {index}"
            entry = shapes.entry(raw, where)
            instance_id = str(shapes.field(entry, "instance_id", SCALAR, where))
            stats = shapes.field(entry, "stats", LIST, where)
            perturbation = _perturbation_key(shapes.field(entry, "perturbation", OBJECT, where, default=None,
                                                          nullable=True))
            trial = shapes.field(entry, "train_trial_index", WHOLE, where, default=0)
            for position, raw_stat in enumerate(stats):
                stat = _read_stat(raw_stat, f"{where}: stats entry {position}")
                if perturbation == UNPERTURBED:
                    values.names.add(stat.metric)
                if stat.metric in candidates:
                    values.rows[stat.metric].append((instance_id, trial, perturbation, stat.split, stat.sub_split,
                                                     stat.value()))
    else:
        values.has_instances = False
    stats_path = run.folder / STATS
    if stats_path.is_file():
        sums: dict[tuple[str, str | None], list[float]] = defaultdict(lambda: [0.0, 0.0])
        stats = shapes.load_json(stats_path)
        if not isinstance(stats, list):
            raise EffbenchError(f"{stats_path}: is {shapes.describe(stats)}, expected a list of stats")
        for position, raw_stat in enumerate(stats):
            stat = _read_stat(raw_stat, f"{stats_path}: entry {position}")
            if stat.perturbed or stat.metric not in candidates or not stat.count:
                continue
            # HELM's tables merge the sub-splits of a metric (summarize.get_unique_stat_by_matcher).
            total = sums[(stat.metric, stat.split)]
            total[0] += stat.total or 0.0
            total[1] += stat.count
        values.aggregates = {key: total / count for key, (total, count) in sums.items() if count}
    return values


@dataclass
class _ScenarioRead:
    items: pd.DataFrame | None
    aggregates: list[tuple]
    metadata: tuple


def _read_scenario(unit: Path, scenario: str, runs: list[_Run], schema: Schema, options: ReadOptions,
                   notes: list[str]) -> _ScenarioRead | None:
    groups = tuple(dict.fromkeys(g for run in runs for g in run.groups))
    described = [schema.groups[g] for g in groups if g in schema.groups and schema.groups[g].main_name]
    main = described[0] if described else None
    chosen = options.metric_for(scenario, *groups)
    candidates = set(FALLBACK_METRICS) | set(options.metrics.values())
    if main is not None:
        candidates.add(main.main_name)
    values = {run.name: _read_values(run, candidates) for run in runs}
    split = main.main_split if main is not None else None
    tags = ", ".join(groups) or None
    description = (main.description if main is not None else None) or next(
        (run.description for run in runs if run.description), None)
    titled = [group for group in [main, *(schema.groups.get(g) for g in groups)]
              if group is not None and group.display_name]
    title = titled[0].display_name if titled else None  # the main run group's display name first

    def present(metric: str) -> bool:
        return any(_split_rows(values[run.name].rows.get(metric, ()), split) for run in runs)

    reason = None
    if chosen is not None:
        metric = chosen
        if not present(metric) and any(v.has_instances for v in values.values()):
            available = sorted(set().union(*(v.names for v in values.values())))
            raise EffbenchError(f"{unit}: --metric: metric {metric!r} is not recorded per instance in scenario "
                                f"{scenario!r}; per-instance metrics there: {', '.join(available) or 'none'}")
    elif main is not None and present(main.main_name):
        metric = main.main_name
    elif main is not None and main.main_name == "quasi_exact_match" and present("exact_match"):
        metric, reason = "exact_match", "HELM's own summary does the same"
    else:
        metric = _fallback(runs, values, split, main.main_name if main is not None else None, present)
        if metric is None:
            if any(v.has_instances for v in values.values()):
                available = sorted(set().union(*(v.names for v in values.values())))
                notes.append(f"{scenario}: none of {', '.join(FALLBACK_METRICS)} is recorded per instance; scenario "
                             f"skipped (choose one with --metric). Per-instance metrics: {', '.join(available)}")
                return None
            # Only aggregates (runs without per_instance_stats.json): the main metric, else the first fallback.
            named = [main.main_name] if main is not None else list(FALLBACK_METRICS)
            metric = next((m for m in named if any(_aggregate(values[r.name], m, split) is not None for r in runs)),
                          None)
            if metric is None:
                notes.append(f"{scenario}: no per-instance results and no aggregate of {', '.join(named)}; skipped")
                return None
        elif main is not None and metric != main.main_name:
            reason = _agreement(runs, values, split, main.main_name, metric)
    if reason is not None:
        main_name = main.main_name if main is not None else None
        notes.append(f"{scenario}: run group {groups[0] if groups else '?'}'s main metric {main_name} is not "
                     f"recorded per instance; took {metric} ({reason})")

    frames, aggregates = [], []
    for run in runs:
        run_values = values[run.name]
        if run_values.has_instances:
            rows = _split_rows(run_values.rows.get(metric, ()), split)
            if not rows:
                notes.append(f"{run.name}: no per-instance {metric}; {run.model} has no results in {scenario}")
                continue
            frames.append(_item_frame(unit, run, scenario, metric, rows, options, notes))
        else:
            aggregate = _aggregate(run_values, metric, split)
            if aggregate is None:
                notes.append(f"{run.name}: no {PER_INSTANCE} and no aggregate {metric} in {STATS}; skipped")
                continue
            aggregates.append((run.model, scenario, aggregate, run.name, metric,
                               _relative(run.folder / STATS, unit)))
            notes.append(f"{run.name}: no {PER_INSTANCE}; loaded its aggregate {metric} as a scenario-level result")
    items = pd.concat(frames, ignore_index=True) if frames else None
    if items is not None and items["sub_split"].notna().any():
        sub_splits = ", ".join(sorted(str(s) for s in items["sub_split"].dropna().unique()))
        notes.append(f"{scenario}: instances fall into sub-splits ({sub_splits}); HELM's tables average the "
                     "sub-split means, effbench the items")
    elif items is not None:
        items = items.drop(columns="sub_split")
    higher = schema.lower_is_better.get(metric)
    return _ScenarioRead(items, aggregates, (scenario, metric, None if higher is None else not higher, tags,
                                             description, title))


def _split_rows(rows, split: str | None) -> list[tuple]:
    """Return the rows of the main split: `split` (``__all__`` = every split), else ``test`` if any, else all."""
    if split == "__all__":
        return list(rows)
    if split is None:
        splits = {row[3] for row in rows}
        if len(splits) <= 1:
            return list(rows)
        split = "test" if "test" in splits else None
        if split is None:
            return list(rows)
    return [row for row in rows if row[3] == split]


def _run_mean(rows: list[tuple]) -> float | None:
    """Return the run's mean as HELM computes it: per train trial over unperturbed instances, then over trials."""
    by_trial: dict[int, list[float]] = defaultdict(list)
    for _, trial, perturbation, _, _, value in rows:
        if perturbation == UNPERTURBED and not math.isnan(value):
            by_trial[trial].append(value)
    means = [sum(v) / len(v) for v in by_trial.values() if v]
    return sum(means) / len(means) if means else None


def _aggregate(values: _RunValues, metric: str, split: str | None) -> float | None:
    found = {s: v for (m, s), v in values.aggregates.items() if m == metric}
    if split in found:
        return found[split]
    if split is None and len(found) == 1:
        return next(iter(found.values()))
    return found.get("test") if split is None else None


def _fallback(runs, values, split, main_name, present) -> str | None:
    """Return the first fallback metric recorded per instance whose mean equals the main metric's aggregate in
    every run, else the first recorded per instance at all."""
    recorded = [metric for metric in FALLBACK_METRICS if present(metric)]
    if main_name is not None:
        for metric in recorded:
            if _matches_everywhere(runs, values, split, main_name, metric):
                return metric
    return recorded[0] if recorded else None


def _matches_everywhere(runs, values, split, main_name, metric) -> bool:
    checked = 0
    for run in runs:
        aggregate = _aggregate(values[run.name], main_name, split)
        mean = _run_mean(_split_rows(values[run.name].rows.get(metric, ()), split))
        if aggregate is None or mean is None:
            continue
        if not math.isclose(aggregate, mean, rel_tol=1e-9, abs_tol=1e-9):
            return False
        checked += 1
    return checked > 0


def _agreement(runs, values, split, main_name, metric) -> str:
    matched = total = 0
    for run in runs:
        aggregate = _aggregate(values[run.name], main_name, split)
        mean = _run_mean(_split_rows(values[run.name].rows.get(metric, ()), split))
        if aggregate is None or mean is None:
            continue
        total += 1
        matched += math.isclose(aggregate, mean, rel_tol=1e-9, abs_tol=1e-9)
    if total == 0:
        return f"the fallback; {main_name} has no aggregate in {STATS} to compare with"
    return f"the fallback; its mean equals the aggregate {main_name} in {matched} of {total} runs"


def _item_frame(unit: Path, run: _Run, scenario: str, metric: str, rows: list[tuple], options: ReadOptions,
                notes: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["item_id", "train_trial_index", "perturbation", "split", "sub_split",
                                        "score"])
    perturbed = frame["perturbation"] != UNPERTURBED
    if perturbed.any() and not options.perturbations:
        notes.append(f"{run.name}: left out {int(perturbed.sum())} rows of perturbed instances "
                     "(--perturbations loads them as key values)")
        frame = frame[~perturbed]
    duplicated = frame.duplicated(["item_id", "train_trial_index", "perturbation"])
    if duplicated.any():
        notes.append(f"{run.name}: {int(duplicated.sum())} repeated per-instance {metric} entries; kept the first")
        frame = frame[~duplicated]
    frame.insert(0, "scenario", scenario)
    frame.insert(0, "model", run.model)
    frame["score"] = frame["score"].astype(float)
    frame["train_trial_index"] = frame["train_trial_index"].astype("int64")
    frame["run"] = run.name
    frame["metric"] = metric
    frame["file"] = _relative(run.folder / PER_INSTANCE, unit)
    return frame.drop(columns="split")


def _keys(items: pd.DataFrame | None, options: ReadOptions) -> tuple[str, ...]:
    """Return the key columns: train trials when an item has several, perturbations when they are kept."""
    if items is None:
        return ()
    keys = []
    if items.groupby(["model", "scenario", "item_id"])["train_trial_index"].nunique().max() > 1:
        keys.append("train_trial_index")
    if options.perturbations and (items["perturbation"] != UNPERTURBED).any():
        keys.append("perturbation")
    return tuple(keys)


# --- provenance ------------------------------------------------------------------------------------

def _relative(path: Path, unit: Path) -> str:
    """Return `path` relative to the unit's folder (``../..`` for a release's schema), as stored in `scores.file`."""
    return Path(os.path.relpath(path, unit if unit.is_dir() else unit.parent)).as_posix()
