"""Repeated runs: several units (logs, results files, records) holding one model on one scenario.

Harness folders hold them as a matter of course: an lm-eval output folder with a re-run, an Inspect
eval set with a failed run and its retry, Every Eval Ever records of one model retrieved twice.
What to do is the user's choice, ``--runs``:

- ``latest`` (the default): per model and scenario, keep the latest complete run (a finished run
  before an unfinished one, then the latest start time the files record, then the last file name)
  and set the others aside; the load says, on each unit, what was kept and what was set aside;
- ``all``: keep every run, as repeats told apart by the key column ``repeat`` (the file's name), so
  that an item's score is the mean over the runs, as over prompts or epochs (per-item results only);
- ``error``: refuse, naming two files that hold the same model and scenario.

Repeats inside one unit (one run) are never resolved here: the store refuses them as before.
Only formats whose module defines ``run_started(unit) -> (complete, started)`` take part (others'
repeats are refused by the store); their units are read once here to learn which model and
scenario pairs each holds, and once more when they are loaded.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from effbench.errors import EffbenchError

if TYPE_CHECKING:
    from types import ModuleType

    from effbench.formats.common import FormatRead, ReadOptions, Unit

RUN_RULES = ("latest", "all", "error")
REPEAT_KEY = "repeat"


def plan(units: Sequence[Unit], options: ReadOptions, formats: Mapping[str, ModuleType]) -> dict[Path, ReadOptions]:
    """Return the read options of each unit that repeats another's model x scenario, with what to set aside;
    `formats` are the registered adapters by name (given by the package, which imports this module)."""
    if options.runs not in RUN_RULES:
        raise EffbenchError(f"--runs {options.runs!r}: choose one of {', '.join(RUN_RULES)}")

    holders: dict[tuple[str, str, str], list[Path]] = {}
    aggregate: set[tuple[Path, str, str]] = set()  # (unit, model, scenario) held as scenario-level results
    started: dict[Path, tuple[bool, float | None]] = {}
    for unit in units:
        module = formats[unit.format]
        if not hasattr(module, "run_started"):
            continue
        read = module.read(unit.path, options)
        for pair in _pairs(read.items) | _pairs(read.scenario_scores):
            holders.setdefault((unit.format, *pair), []).append(unit.path)
        aggregate.update((unit.path, *pair) for pair in _pairs(read.scenario_scores))
        started[unit.path] = module.run_started(unit.path)
    set_aside: dict[Path, set[tuple[str, str]]] = {}
    repeats: dict[Path, set[tuple[str, str]]] = {}
    notes: dict[Path, list[str]] = {}
    for (_, model, scenario), paths in holders.items():
        if len(paths) < 2:
            continue
        if options.runs == "error":
            raise EffbenchError(f"{paths[1]}: model {model!r} on {scenario!r} is also in {paths[0]}; "
                                "keep the latest run with --runs latest, or all of them with --runs all")
        if options.runs == "all":
            summary = next((p for p in paths if (p, model, scenario) in aggregate), None)
            if summary is not None:
                raise EffbenchError(f"{summary}: holds {model!r} on {scenario!r} as one aggregate result, which "
                                    "cannot be a repeat; use --runs latest")
            for path in paths:
                repeats.setdefault(path, set()).add((model, scenario))
                notes.setdefault(path, []).append(f"{model} on {scenario}: one of {len(paths)} runs, all kept as "
                                                  f"repeats (key column '{REPEAT_KEY}' = the file's name; --runs all)")
            continue
        ordered = sorted(paths, key=lambda p: (started[p][0], started[p][1] or float("-inf"), str(p)))
        kept, others = ordered[-1], ordered[:-1]
        notes.setdefault(kept, []).append(
            f"{model} on {scenario}: kept this run ({_describe(started[kept])}), the latest complete one; set aside "
            + ", ".join(f"{p.name} ({_describe(started[p])})" for p in others) + " (--runs latest)")
        for path in others:
            set_aside.setdefault(path, set()).add((model, scenario))
            notes.setdefault(path, []).append(f"{model} on {scenario}: set aside, a repeat of {kept.name}, "
                                              "the latest complete run (--runs latest)")
    return {path: dataclasses.replace(options, set_aside=frozenset(set_aside.get(path, ())),
                                      repeats=frozenset(repeats.get(path, ())), run_notes=tuple(notes[path]))
            for path in notes}


def _pairs(frame: pd.DataFrame) -> set[tuple[str, str]]:
    if frame.empty:
        return set()
    return set(frame[["model", "scenario"]].drop_duplicates().astype(str).itertuples(index=False, name=None))


def _in(frame: pd.DataFrame, pairs: frozenset[tuple[str, str]]) -> pd.Series:
    """Return which rows of `frame` are of one of the model x scenario `pairs`."""
    return pd.Series(list(zip(frame["model"].astype(str), frame["scenario"].astype(str), strict=True)),
                     index=frame.index).isin(pairs)


def _describe(started: tuple[bool, float | None]) -> str:
    complete, when = started
    stamp = pd.Timestamp(when, unit="s").strftime("%Y-%m-%d %H:%M:%S UTC") if when is not None else "no start time"
    return stamp if complete else f"{stamp}, unfinished"


def apply_plan(read: FormatRead, options: ReadOptions) -> FormatRead:
    """Return `read` without the model x scenario pairs `options` sets aside, its repeated pairs keyed by
    ``repeat``, and the notes of the plan."""
    if not options.set_aside and not options.repeats and not options.run_notes:
        return read
    changes = {"notes": (*read.notes, *options.run_notes)}
    for name in ("items", "scenario_scores"):
        frame = getattr(read, name)
        if options.set_aside and not frame.empty:
            changes[name] = frame[~_in(frame, options.set_aside)].reset_index(drop=True)
    if options.repeats and not read.items.empty:
        items = changes.get("items", read.items).copy()
        items[REPEAT_KEY] = read.unit.name
        items.loc[~_in(items, options.repeats), REPEAT_KEY] = None
        changes["items"] = items
        changes["keys"] = (*read.keys, REPEAT_KEY)
    if options.set_aside and all(changes.get(name, getattr(read, name)).empty for name in ("items", "scenario_scores")):
        changes["notes"] = options.run_notes  # what the adapter said is about rows that were all set aside
    return dataclasses.replace(read, **changes)
