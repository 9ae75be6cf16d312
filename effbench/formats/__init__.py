"""Adapters for the folders and files evaluation harnesses write, one small module per format.

Every adapter module defines the same three things and is registered in `FORMATS` below; adding a
format is adding a module and one line here:

- ``NAME``: the name users give to ``--format`` (``helm``, ``lm-eval``, ...), and ``DESCRIPTION``;
- ``find(root, files) -> list[Path]``: the units of this format under `root` (a file or folder; a
  unit is what one ``read`` call takes: a HELM suite folder, an lm-eval results file with its
  samples, one Inspect log, ...). `files` lists every file under `root`, sorted, so that the
  formats share one walk of the tree. Detection looks at structure (names, keys, columns), reads
  as little as it can, and returns ``[]`` for anything it does not recognise;
- ``read(unit, options) -> FormatRead``: the unit's rows in effbench's terms, or `EffbenchError`
  with one line naming the file and the field when the unit is not what it claims to be.

Adapters only read: they never touch the database. `store.ingest` checks and loads what they
return inside one transaction, so a failed read leaves the database as it was. `discover` turns the
paths a user gives into units, and refuses to guess when two formats claim the same file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from effbench.errors import EffbenchError
from effbench.formats.common import (  # noqa: F401 (the adapters' shared types, re-exported for the package's users)
    ITEM_COLUMNS,
    MODEL_COLUMNS,
    PROVENANCE_COLUMNS,
    SCENARIO_COLUMNS,
    SCENARIO_SCORE_COLUMNS,
    FormatRead,
    ReadOptions,
    Unit,
    as_number,
    list_files,
    read_json_object,
)


def _registry() -> dict[str, ModuleType]:
    # Imported here so that each adapter module can import this package's helpers.
    from effbench.formats import (
        alpaca_eval,
        every_eval_ever,
        helm,
        inspect_ai,
        lighteval,
        lm_eval,
        opencompass,
        openeval,
        table,
    )

    modules = (helm, lm_eval, inspect_ai, every_eval_ever, lighteval, opencompass, openeval, alpaca_eval, table)
    return {module.NAME: module for module in modules}


FORMATS: dict[str, ModuleType] = {}


def formats() -> dict[str, ModuleType]:
    """Return the registered formats by name, in the order detection tries them."""
    if not FORMATS:
        FORMATS.update(_registry())
    return FORMATS


def get_format(name: str) -> ModuleType:
    """Return the format called `name`, or a one-line error listing the known ones."""
    known = formats()
    if name not in known:
        raise EffbenchError(f"unknown format {name!r}; known formats: {', '.join(known)}")
    return known[name]


def discover(paths: Sequence[Path], format_name: str | None = None, special: list[Path] | None = None
             ) -> list[Unit]:
    """Return the units under `paths` (files or folders) with the format that recognised each; pipes,
    sockets and devices found in folders are skipped and added to `special`.

    With `format_name` only that format is asked, and a path it finds nothing in is an error.
    Without it every format is asked; a path no format recognises, or a file two formats claim, is
    an error that says so (detection never guesses).
    """
    units: list[Unit] = []
    for root in paths:
        if not root.exists():
            raise EffbenchError(f"{root}: no such file or folder")
        if not (root.is_file() or root.is_dir()):
            raise EffbenchError(f"{root}: not a regular file or a folder (a pipe, socket or device); "
                                "give the file it stands for")
        files = list_files(root, special)
        if not files:
            raise EffbenchError(f"{root}: the folder holds no files")
        asked = {format_name: get_format(format_name)} if format_name else formats()
        claims: list[Unit] = []
        for name, module in asked.items():
            claims.extend(Unit(name, Path(unit)) for unit in module.find(root, files))
        if not claims and format_name:  # the user named the format: say what it looks for, not to name one
            raise EffbenchError(f"{root}: nothing found that can be read as {format_name}, which reads "
                                f"{asked[format_name].DESCRIPTION}")
        if not claims:
            raise EffbenchError(f"{root}: nothing found that can be read as any known format "
                                f"(known formats: {', '.join(formats())}); name one with --format")
        claims = _prefer_harness_formats(claims, named_file=root.is_file())
        _refuse_overlaps(claims)
        units.extend(sorted(claims, key=lambda u: (str(u.path), u.format)))
    return units


def _prefer_harness_formats(claims: Sequence[Unit], *, named_file: bool) -> list[Unit]:
    """Drop plain-table claims on files a harness format recognised (an lm-eval samples file is also
    JSON lines, but it is read as part of its run, never as a table of its own). A file named on its
    own that a harness format recognised (as itself or as part of a run) is never also a table."""
    covered = {unit.path for unit in claims if unit.format != "table"}
    if named_file and covered:
        return [unit for unit in claims if unit.format != "table"]
    return [unit for unit in claims
            if unit.format != "table" or not any(path in covered for path in (unit.path, *unit.path.parents))]


def parse_metric_flags(flags: Sequence[str]) -> dict[str, str]:
    """Return {scenario: metric} from ``--metric SCENARIO=NAME`` flags; a bare ``NAME`` applies to every
    scenario (``*``)."""
    chosen = {}
    for flag in flags:
        scenario, equals, metric = flag.rpartition("=")
        if not equals:
            scenario, metric = "*", flag
        if not metric.strip() or (equals and not scenario.strip()):
            raise EffbenchError(f"--metric {flag!r}: give SCENARIO=METRIC, or METRIC for every scenario")
        chosen[scenario.strip()] = metric.strip()
    return chosen


def _refuse_overlaps(claims: Sequence[Unit]) -> None:
    claimed = {}
    for unit in claims:
        claimed.setdefault(unit.path, unit.format)
    for unit in claims:
        for path in (unit.path, *unit.path.parents):
            other = claimed.get(path)
            if other is not None and other != unit.format:
                raise EffbenchError(f"{unit.path}: recognised both as {unit.format} and as {other}; "
                                    "choose one with --format")


def read(unit: Unit, options: ReadOptions) -> FormatRead:
    """Read `unit` with its format's adapter, leaving out the repeated runs its options set aside and
    keying those it keeps as repeats."""
    from effbench.formats import repeats

    return repeats.apply_plan(get_format(unit.format).read(unit.path, options), options)


def plan_runs(units: Sequence[Unit], options: ReadOptions) -> dict[Path, ReadOptions]:
    """Return the read options of the units that repeat another unit's model x scenario (``--runs``)."""
    from effbench.formats import repeats

    return repeats.plan(units, options, formats())
