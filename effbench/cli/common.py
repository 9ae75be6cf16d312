"""What the commands share: their options, how they read sources, report and fail."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Annotated

import typer

from effbench import progress
from effbench.errors import EffbenchError, printable
from effbench.load import ColumnMap, Source

if TYPE_CHECKING:
    from effbench.boards import BoardSettings
    from effbench.store import LoadReport


def lazy_import(name: str) -> ModuleType:
    """Return the module `name`, executed on its first attribute access, not now: the commands' modules
    name the analyses (numpy, scipy, pandas) without loading them, so `effbench --help` and a mistyped
    option answer at once."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module


formats = lazy_import("effbench.formats")
pipeline = lazy_import("effbench.pipeline")
boards = lazy_import("effbench.boards")

DbOption = Annotated[Path, typer.Option("--db", help="DuckDB file that holds the results and analyses.")]
ModelsOption = Annotated[
    list[Path] | None,
    typer.Option("--models", help="Model metadata file (one row per model), joined on the model name. Repeatable."),
]
WideOption = Annotated[
    list[Path] | None,
    typer.Option("--wide", help="Aggregated table: one row per model, one column per scenario, no items. Repeatable."),
]
ModelCol = Annotated[str, typer.Option("--model-col", help="Column holding the model name.")]
ScenarioCol = Annotated[str, typer.Option("--scenario-col", help="Column holding the scenario.")]
ItemCol = Annotated[str, typer.Option("--item-col", help="Column holding the item id.")]
ScoreCol = Annotated[str, typer.Option("--score-col", help="Column holding the score (blank = not evaluated).")]
KeyCol = Annotated[
    list[str] | None,
    typer.Option("--key", help="Extra column that tells rows of one item apart, e.g. a prompt or seed. Repeatable."),
]


QuietOption = Annotated[
    bool, typer.Option("--quiet", "-q", help="No progress display (it is shown only on a terminal anyway).")
]
FormatOption = Annotated[
    str | None,
    typer.Option("--format", help="Read every path as this format (default: recognised by structure): "
                 "table, helm, lm-eval, inspect, every-eval-ever, lighteval, opencompass, openeval, alpaca-eval."),
]
MetricOption = Annotated[
    list[str] | None,
    typer.Option("--metric", help="Metric to take from harness files: SCENARIO=NAME, or NAME for every scenario. "
                 "Repeatable."),
]
PerturbationsOption = Annotated[
    bool, typer.Option("--perturbations", help="HELM: also load perturbed instances (as key values).")
]
PromptScenariosOption = Annotated[
    bool,
    typer.Option("--prompts-as-scenarios",
                 help="lm-eval: load tasks that differ only in their prompt as separate scenarios, "
                      "not as prompts (key column 'prompt') of one scenario."),
]

RunsOption = Annotated[
    str,
    typer.Option("--runs", help="Repeated runs of one model on one scenario in several files (an lm-eval re-run, "
                 "an Inspect retry, Every Eval Ever records): 'latest' keeps the latest complete run and says what it "
                 "set aside; 'all' keeps every run as repeats (key column 'repeat'); 'error' refuses."),
]
GlobOption = Annotated[
    list[str] | None,
    typer.Option("--glob", help="Load every file that matches this pattern (quote it: 'runs/*.csv'; ** spans "
                 "folders); the load lists the files it matched, and reads its Parquet files in one scan, folders "
                 "named key=value giving columns. A path given without --glob is read as that one file, whatever "
                 "its name. Repeatable."),
]


def sources_of(
    paths: list[Path] | None, models: list[Path] | None, wide: list[Path] | None, columns: ColumnMap,
    format_name: str | None = None, metric: list[str] | None = None, perturbations: bool = False,
    prompts_as_scenarios: bool = False, runs: str = "latest", special: list[Path] | None = None,
    matched: list[tuple[str, tuple[Path, ...]]] = (),
) -> list[Source]:
    """Return what `build` and `ingest` load: the result files and folders with the options given, and the
    files each --glob pattern `matched`, then the --wide tables, then the --models files."""
    read_options = formats.ReadOptions(metrics=formats.parse_metric_flags(metric or ()), perturbations=perturbations,
                                       prompts_as_key=not prompts_as_scenarios, runs=runs)
    results = pipeline.result_sources(paths or (), columns, format_name=format_name, read_options=read_options,
                                      special=special, globs=matched) if paths or matched else []
    return (
        results
        + [Source(path, "wide", ColumnMap(model=columns.model)) for path in wide or []]
        + [Source(path, "models", ColumnMap(model=columns.model)) for path in models or []]
    )


def say(text: str, err: bool = False) -> None:
    """Print `text` with its control characters escaped: paths and names may hold escape sequences."""
    typer.echo(printable(text), err=err)


def print_matches(matched: list[tuple[str, tuple[Path, ...]]], special: list[Path]) -> None:
    """Say which files each --glob pattern matched, and which special files in folders were skipped."""
    for pattern, paths in matched:
        say(f"--glob {pattern}: matched {len(paths):,} file(s): {', '.join(str(p) for p in paths)}", err=True)
    for path in special:
        say(f"{path}: skipped: not a regular file (a pipe, socket or device)", err=True)


def print_loads(loads: tuple[LoadReport, ...]) -> None:
    """Say what was loaded: per harness format the runs, models, scenarios, rows and metrics; per table its rows."""
    by_format: dict[str, list[LoadReport]] = {}
    for load in loads:
        if load.already_loaded:
            say(f"{load.path}: already loaded, skipped", err=True)
        elif load.format == "table":
            say(f"{load.path}: loaded {load.rows:,} rows ({load.kind})", err=True)
        else:
            by_format.setdefault(load.format, []).append(load)
        for note in load.notes:
            say(f"  {note}", err=True)
    for name, group in by_format.items():
        metrics = sorted({pair for load in group for pair in load.metrics})
        say(
            f"{name}: {len(group):,} unit(s), {sum(g.runs for g in group):,} run(s), "
            f"{len({m for g in group for m in g.models}):,} model(s), "
            f"{len({c for g in group for c in g.scenarios}):,} scenario(s), "
            f"{sum(g.item_rows for g in group):,} item rows, {sum(g.scenario_rows for g in group):,} aggregate rows",
            err=True,
        )
        if metrics:
            say("  metric per scenario: " + "; ".join(f"{s} = {m}" for s, m in metrics), err=True)


def print_times(times: progress.StageTimes, quiet: bool) -> None:
    """On a terminal, end with one line per stage and its time."""
    if progress.should_show(quiet):
        for line in times.summary():
            say(line, err=True)


def fail(error: EffbenchError) -> typer.Exit:
    if Debug.on:
        raise error  # --debug: the whole traceback
    say(f"effbench: error: {error}", err=True)
    return typer.Exit(code=1)


class Debug:
    """Whether --debug was given: errors then show their traceback."""

    on = False


# Seeds are stored as BIGINT and fed to numpy, which takes non-negative integers.
MAX_SEED = 2**63 - 1
LowerIsBetterOption = Annotated[
    list[str] | None,
    typer.Option("--lower-is-better", help="Scenario whose scores are better when lower (error rate, latency); "
                 "ranked on its negated scores. Repeatable; also [ranking] lower_is_better in effbench.toml."),
]


def check_seed(seed: int, option: str = "--seed") -> None:
    """Refuse a seed numpy cannot take or the database cannot store, before any work."""
    if not 0 <= seed <= MAX_SEED:
        raise fail(EffbenchError(f"{option} must be a whole number from 0 to 2**63 - 1, got {seed}"))


def print_warnings(warnings: tuple[str, ...]) -> None:
    for warning in warnings:
        say(f"effbench: warning: {warning}", err=True)


ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="Settings file (default: ./effbench.toml when it exists).")
]
BoardOption = Annotated[
    str | None, typer.Option("--board", help="The board to work on, where the database holds several "
                             "(see `effbench build`'s report or the boards table).")
]


def board_settings(settings) -> BoardSettings:
    return boards.BoardSettings(settings.boards, settings.missing)


def print_boards(boards: tuple, sizes: tuple[int, ...]) -> None:
    """Print the boards the results form: what each ranks."""
    if not boards:
        return
    say("1 board:" if len(boards) == 1 else f"{len(boards)} boards, each ranked on its own:", err=True)
    for board, items in zip(boards, sizes, strict=True):
        unranked = f", {len(board.unranked):,} not ranked" if board.unranked else ""
        say(f"  {board.name} ({board.title}): {plural(len(board.scenarios), 'scenario')}, "
                   f"{plural(len(board.ranked), 'model')} ranked{unranked}, {plural(items, 'item')}", err=True)


def plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def lower_scenarios(settings, option: list[str] | None) -> tuple[str, ...]:
    """Return the lower-is-better scenarios of effbench.toml's [ranking] and the command line, once each."""
    return tuple(dict.fromkeys((*settings.lower_is_better, *(option or ()))))
