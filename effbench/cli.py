"""The `effbench` command: a thin face over `effbench.pipeline`."""

from __future__ import annotations

import json
from dataclasses import asdict
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from effbench import __version__, formats, pipeline, progress
from effbench import synth as synth_board
from effbench.analysis_tables import AnalysisParameters, DiorParameters
from effbench.boards import BoardSettings
from effbench.config import load_config
from effbench.errors import EffbenchError, printable
from effbench.examples import EXAMPLES
from effbench.load import ColumnMap, Source
from effbench.multilingual import PARAMETERS
from effbench.publish import init as init_project
from effbench.publish import preview_server
from effbench.publish import publish as publish_site
from effbench.store import LoadReport

app = typer.Typer(
    name="effbench",
    help="Honest, efficient language-model leaderboards: rank intervals and a static site from raw results.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

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
                 "folders); the load lists the files it matched. A path given without --glob is read as that one "
                 "file, whatever its name. Repeatable."),
]


def _sources(
    paths: list[Path] | None, models: list[Path] | None, wide: list[Path] | None, columns: ColumnMap,
    format_name: str | None = None, metric: list[str] | None = None, perturbations: bool = False,
    prompts_as_scenarios: bool = False, runs: str = "latest", special: list[Path] | None = None,
) -> list[Source]:
    read_options = formats.ReadOptions(metrics=formats.parse_metric_flags(metric or ()), perturbations=perturbations,
                                       prompts_as_key=not prompts_as_scenarios, runs=runs)
    results = pipeline.result_sources(paths, columns, format_name=format_name, read_options=read_options,
                                      special=special) if paths else []
    return (
        results
        + [Source(path, "wide", ColumnMap(model=columns.model)) for path in wide or []]
        + [Source(path, "models", ColumnMap(model=columns.model)) for path in models or []]
    )


def _say(text: str, err: bool = False) -> None:
    """Print `text` with its control characters escaped: paths and names may hold escape sequences."""
    typer.echo(printable(text), err=err)


def _print_matches(matched: list[tuple[str, tuple[Path, ...]]], special: list[Path]) -> None:
    """Say which files each --glob pattern matched, and which special files in folders were skipped."""
    for pattern, paths in matched:
        _say(f"--glob {pattern}: matched {len(paths):,} file(s): {', '.join(str(p) for p in paths)}", err=True)
    for path in special:
        _say(f"{path}: skipped: not a regular file (a pipe, socket or device)", err=True)


def _print_loads(loads: tuple[LoadReport, ...]) -> None:
    """Say what was loaded: per harness format the runs, models, scenarios, rows and metrics; per table its rows."""
    by_format: dict[str, list[LoadReport]] = {}
    for load in loads:
        if load.already_loaded:
            _say(f"{load.path}: already loaded, skipped", err=True)
        elif load.format == "table":
            _say(f"{load.path}: loaded {load.rows:,} rows ({load.kind})", err=True)
        else:
            by_format.setdefault(load.format, []).append(load)
        for note in load.notes:
            _say(f"  {note}", err=True)
    for name, group in by_format.items():
        metrics = sorted({pair for load in group for pair in load.metrics})
        _say(
            f"{name}: {len(group):,} unit(s), {sum(g.runs for g in group):,} run(s), "
            f"{len({m for g in group for m in g.models}):,} model(s), "
            f"{len({c for g in group for c in g.scenarios}):,} scenario(s), "
            f"{sum(g.item_rows for g in group):,} item rows, {sum(g.scenario_rows for g in group):,} aggregate rows",
            err=True,
        )
        if metrics:
            _say("  metric per scenario: " + "; ".join(f"{s} = {m}" for s, m in metrics), err=True)


def _print_times(times: progress.StageTimes, quiet: bool) -> None:
    """On a terminal, end with one line per stage and its time."""
    if progress.should_show(quiet):
        for line in times.summary():
            _say(line, err=True)


def _fail(error: EffbenchError) -> typer.Exit:
    if _debug.on:
        raise error  # --debug: the whole traceback
    _say(f"effbench: error: {error}", err=True)
    return typer.Exit(code=1)


class _debug:
    """Whether --debug was given: errors then show their traceback."""

    on = False


# Seeds are stored as BIGINT and fed to numpy, which takes non-negative integers.
MAX_SEED = 2**63 - 1
LowerIsBetterOption = Annotated[
    list[str] | None,
    typer.Option("--lower-is-better", help="Scenario whose scores are better when lower (error rate, latency); "
                 "ranked on its negated scores. Repeatable; also [ranking] lower_is_better in effbench.toml."),
]


def _check_seed(seed: int, option: str = "--seed") -> None:
    """Refuse a seed numpy cannot take or the database cannot store, before any work."""
    if not 0 <= seed <= MAX_SEED:
        raise _fail(EffbenchError(f"{option} must be a whole number from 0 to 2**63 - 1, got {seed}"))


def _print_warnings(warnings: tuple[str, ...]) -> None:
    for warning in warnings:
        _say(f"effbench: warning: {warning}", err=True)


ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="Settings file (default: ./effbench.toml when it exists).")
]
BoardOption = Annotated[
    str | None, typer.Option("--board", help="The board to work on, where the database holds several "
                             "(see `effbench build`'s report or the boards table).")
]


def _board_settings(settings) -> BoardSettings:
    return BoardSettings(settings.boards, settings.missing)


def _print_boards(boards: tuple, sizes: tuple[int, ...]) -> None:
    """Print the boards the results form: what each ranks."""
    if not boards:
        return
    _say("1 board:" if len(boards) == 1 else f"{len(boards)} boards, each ranked on its own:", err=True)
    for board, items in zip(boards, sizes, strict=True):
        unranked = f", {len(board.unranked):,} not ranked" if board.unranked else ""
        _say(f"  {board.name} ({board.title}): {_plural(len(board.scenarios), 'scenario')}, "
                   f"{_plural(len(board.ranked), 'model')} ranked{unranked}, {_plural(items, 'item')}", err=True)


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


@app.command()
def build(
    sources: Annotated[
        list[Path] | None,
        typer.Argument(help="Result files or folders: tables (CSV, TSV, Parquet, JSON lines; .gz ok) or what "
                       "HELM, lm-evaluation-harness, Inspect, Every Eval Ever, lighteval, OpenCompass, OpenEval "
                       "or AlpacaEval wrote."),
    ] = None,
    db: DbOption = Path("effbench.duckdb"),
    out: Annotated[Path, typer.Option("--out", help="Folder to write the site into (replaced whole).")] = Path("site"),
    example: Annotated[
        str | None,
        typer.Option("--example", help=f"Build a bundled example: {', '.join(EXAMPLES)}."),
    ] = None,
    models: ModelsOption = None,
    wide: WideOption = None,
    model_col: ModelCol = "model",
    scenario_col: ScenarioCol = "scenario",
    item_col: ItemCol = "item_id",
    score_col: ScoreCol = "score",
    key: KeyCol = None,
    glob: GlobOption = None,
    format_name: FormatOption = None,
    metric: MetricOption = None,
    perturbations: PerturbationsOption = False,
    prompts_as_scenarios: PromptScenariosOption = False,
    runs: RunsOption = "latest",
    quiet: QuietOption = False,
    title: Annotated[str | None, typer.Option("--title", help="Site title.")] = None,
    resamples: Annotated[int, typer.Option("--resamples", min=1, help="Bootstrap resamples.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the bootstrap.")] = 0,
    confidence: Annotated[
        float, typer.Option("--confidence", min=0.5, max=0.999, help="Confidence level of the intervals.")
    ] = 0.95,
    simultaneous: Annotated[bool, typer.Option(
        "--simultaneous", help="Rank intervals that hold for every model at once (default: each model's own).")
    ] = False,
    config: ConfigOption = None,
    lower_is_better: LowerIsBetterOption = None,
) -> None:
    """Load results, compute rank intervals and write the static leaderboard site.

    With no arguments on an empty database it builds the bundled MMLU-Pro example.

    Examples:

      effbench build

      effbench build --example livecodebench --db lcb.duckdb --out lcb-site

      effbench build results.parquet --models models.csv --title "My benchmark"
    """
    _check_seed(seed)
    columns = ColumnMap(model_col, scenario_col, item_col, score_col, tuple(key or ()))
    parameters = AnalysisParameters(n_resamples=resamples, confidence_level=confidence, seed=seed,
                                    rank_method="simultaneous" if simultaneous else "marginal")
    try:
        settings = load_config(config)
        lower = _lower_is_better(settings, lower_is_better)
        matched = pipeline.expand_globs(glob or ())
        special: list[Path] = []
        loaded = _sources([*(sources or ()), *(p for _, paths in matched for p in paths)], models, wide, columns,
                          format_name, metric, perturbations, prompts_as_scenarios, runs, special)
        with progress.reporting(show=progress.should_show(quiet)) as times:
            report = pipeline.build(db, out, loaded, example=example,
                                    parameters=parameters, flash_config=settings.flash, title=title or settings.title,
                                    site=settings.site, lower_is_better=lower,
                                    board_settings=_board_settings(settings))
    except EffbenchError as error:
        raise _fail(error) from None
    _print_matches(matched, special)
    _print_loads(report.update.loads)
    _print_boards(report.update.boards, report.update.board_items)
    _print_warnings((*report.update.warnings, *report.warnings))
    _print_times(times, quiet)
    if report.site_unchanged:
        _say(f"ranked {_plural(report.update.n_models, 'model')}; the site in {out}/ was built from the same "
             "data, analyses and settings: left as it is", err=True)
    else:
        _say(f"ranked {_plural(report.update.n_models, 'model')}; wrote {len(report.files):,} files to {out}/",
             err=True)


def _lower_is_better(settings, option: list[str] | None) -> tuple[str, ...]:
    """Return the lower-is-better scenarios of effbench.toml's [ranking] and the command line, once each."""
    return tuple(dict.fromkeys((*settings.lower_is_better, *(option or ()))))


@app.command()
def ingest(
    sources: Annotated[
        list[Path] | None,
        typer.Argument(help="Result files or folders: tables (CSV, TSV, Parquet, JSON lines; .gz ok) or what "
                       "HELM, lm-evaluation-harness, Inspect, Every Eval Ever, lighteval, OpenCompass, OpenEval "
                       "or AlpacaEval wrote."),
    ] = None,
    db: DbOption = Path("effbench.duckdb"),
    models: ModelsOption = None,
    wide: WideOption = None,
    model_col: ModelCol = "model",
    scenario_col: ScenarioCol = "scenario",
    item_col: ItemCol = "item_id",
    score_col: ScoreCol = "score",
    key: KeyCol = None,
    glob: GlobOption = None,
    format_name: FormatOption = None,
    metric: MetricOption = None,
    perturbations: PerturbationsOption = False,
    prompts_as_scenarios: PromptScenariosOption = False,
    runs: RunsOption = "latest",
    quiet: QuietOption = False,
    config: ConfigOption = None,
    lower_is_better: LowerIsBetterOption = None,
) -> None:
    """Load result and metadata files into the database and refresh the ranking.

    The reliability analysis and the Flash simulation are refreshed by `effbench build` (or
    `effbench dior`, `effbench flash simulate`). Loading a file whose bytes are already loaded does
    nothing. A file that cannot be loaded
    as it is stops the whole call with one line saying why, and the database is left as it was.

    Examples:

      effbench ingest results.csv.gz

      effbench ingest benchmark_output/runs/v1.0 lm_eval_output/

      effbench ingest logs/ --format inspect --metric "arc_easy=choice"

      effbench ingest runs.parquet --model-col model_name --score-col acc --key prompt_id

      effbench ingest --wide helm_lite.tsv --models models.csv
    """
    columns = ColumnMap(model_col, scenario_col, item_col, score_col, tuple(key or ()))
    try:
        settings = load_config(config)
        lower = _lower_is_better(settings, lower_is_better)
        matched = pipeline.expand_globs(glob or ())
        special: list[Path] = []
        loaded = _sources([*(sources or ()), *(p for _, paths in matched for p in paths)], models, wide, columns,
                          format_name, metric, perturbations, prompts_as_scenarios, runs, special)
        if not loaded:
            raise EffbenchError("nothing to load; give result files or folders, --wide or --models")
        with progress.reporting(show=progress.should_show(quiet)) as times:
            report = pipeline.update(db, loaded, all_analyses=False, lower_is_better=lower,
                                     board_settings=_board_settings(settings))
    except EffbenchError as error:
        raise _fail(error) from None
    _print_matches(matched, special)
    _print_loads(report.loads)
    _print_boards(report.boards, report.board_items)
    _print_warnings(report.warnings)
    _print_times(times, quiet)
    _say(f"{db}: {_plural(report.n_models, 'model')} ranked", err=True)


@app.command()
def synth(
    out: Annotated[Path, typer.Option("--out", help="File to write: .parquet, .csv or .jsonl.")],
    n_models: Annotated[int, typer.Option("--models", min=1, help="Number of models.")] = 100,
    n_items: Annotated[int, typer.Option("--items", min=1, help="Number of items in all, spread over the scenarios.")
                       ] = 1000,
    n_scenarios: Annotated[int, typer.Option("--scenarios", min=1, help="Number of scenarios.")] = 4,
    missing: Annotated[float, typer.Option("--missing", min=0.0, max=0.99,
                                           help="Share of results left out at random (not evaluated).")] = 0.0,
    seed: Annotated[int, typer.Option("--seed", min=0, max=2**63 - 1, help="Random seed.")] = 0,
) -> None:
    """Write a synthetic board drawn from a logistic (2PL IRT) model, for tests, benchmarks and planning.

    Model abilities and item difficulties are normal; scenarios shift difficulty and models have
    scenario-specific skills, so rankings, DIoR and Flash behave as on real data.

    Examples:

      effbench synth --models 4000 --items 30000 --scenarios 6 --seed 0 --out data.parquet

      effbench synth --models 50 --items 2000 --missing 0.05 --out small.csv
    """
    try:
        rows = synth_board.write(synth_board.SynthSpec(n_models, n_items, n_scenarios, missing, seed), out)
    except EffbenchError as error:
        raise _fail(error) from None
    scenarios = f"{n_scenarios:,} scenario" + ("s" if n_scenarios != 1 else "")
    _say(f"wrote {rows:,} rows ({n_models:,} models x {n_items:,} items, {scenarios}) to {out}", err=True)


class Decision(StrEnum):
    examples = "examples"
    scenarios = "scenarios"
    aggregation = "aggregation"
    models = "models"
    prompts = "prompts"
    allocation = "allocation"


class MetaMetric(StrEnum):
    kendall_tau = "kendall_tau"
    weighted_tau = "weighted_tau"
    top1 = "top1"
    tier_agreement = "tier_agreement"
    score_change = "score_change"


@app.command()
def dior(
    decision: Annotated[
        list[Decision] | None, typer.Option("--decision", help="Design decision to analyse. Repeatable; default all.")
    ] = None,
    metric: Annotated[
        list[MetaMetric] | None, typer.Option("--metric", help="Meta-metric. Repeatable; default all.")
    ] = None,
    draws: Annotated[int, typer.Option("--draws", min=2, help="Random instantiations per level.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    confidence: Annotated[
        float, typer.Option("--confidence", min=0.5, max=0.999, help="DIoR = lower end of this central interval.")
    ] = 0.95,
    target: Annotated[float, typer.Option("--target", help="DIoR the recommendations call reliable.")] = 0.9,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list of rows instead of a table.")] = False,
    db: DbOption = Path("effbench.duckdb"),
    board: BoardOption = None,
) -> None:
    """Measure how much each benchmark design decision changes the ranking (DIoR).

    For each decision (examples per scenario, which scenarios, aggregation, which models, prompts,
    budget allocation) and level, the ranking under many random instantiations is compared with
    the full-data ranking. DIoR is the lower end of the 95% interval of that similarity: near 1,
    the decision barely matters. The full analysis (no --decision/--metric) is stored in the
    `dior` table, which `effbench build` shows on the Reliability page.

    Examples:

      effbench dior

      effbench dior --decision examples --metric kendall_tau --json

      effbench dior --decision scenarios --draws 5000 --seed 1
    """
    _check_seed(seed)
    defaults = DiorParameters()
    parameters = DiorParameters(
        n_draws=draws, confidence_level=confidence, seed=seed, target=target,
        decisions=tuple(d.value for d in decision) if decision else defaults.decisions,
        metrics=tuple(m.value for m in metric) if metric else defaults.metrics,
    )
    try:
        result = pipeline.dior(db, parameters, board)
    except EffbenchError as error:
        raise _fail(error) from None
    rows = [asdict(row) for row in result.rows]
    if as_json:
        typer.echo(json.dumps([{k: v for k, v in row.items() if k != "order"} for row in rows], indent=1))
        return
    levels = [row["level"] + (f" ({row['aggregation']})" if row["decision"] != "aggregation"
                               and row["aggregation"] != "macro mean" else "") for row in rows]
    widths = [max([len(header), *(len(str(value)) for value in values)]) for header, values in
              (("decision", [r["decision"] for r in rows]), ("level", levels),
               ("meta_metric", [r["meta_metric"] for r in rows]))]
    _say(f"{'decision':<{widths[0]}} {'level':<{widths[1]}} {'meta_metric':<{widths[2]}} {'mean':>6} "
               f"{'lo':>6} {'hi':>6} {'dior':>6} {'compute':>8}")
    for row, level in zip(rows, levels, strict=True):
        _say(f"{row['decision']:<{widths[0]}} {level:<{widths[1]}} {row['meta_metric']:<{widths[2]}} "
                   f"{row['mean']:6.3f} {row['lo']:6.3f} {row['hi']:6.3f} {row['dior']:6.3f} "
                   f"{row['compute_fraction']:8.2%}")
    for line in result.recommendations:
        _say(f"- {line}")


class ExportFormat(StrEnum):
    markdown = "markdown"
    latex = "latex"
    csv = "csv"
    eee = "eee"


@app.command()
def export(
    to: Annotated[ExportFormat, typer.Option("--to", help="markdown, latex (booktabs), csv, or eee (Every Eval "
                                             "Ever records, one per model).")],
    out: Annotated[Path | None, typer.Option("--out", help="File to write (eee: a folder); default: print.")] = None,
    title: Annotated[str | None, typer.Option("--title", help="Title for the caption and records.")] = None,
    db: DbOption = Path("effbench.duckdb"),
    board: BoardOption = None,
) -> None:
    """Write a board's leaderboard with its rank and score intervals, for a paper or another tool.

    Markdown and LaTeX carry a caption that says what the intervals are; CSV has one row per model with
    every scenario's score and interval; eee writes Every Eval Ever aggregate records (schema 0.3.0) with
    each score's bootstrap interval.

    Examples:

      effbench export --to markdown

      effbench export --to latex --out leaderboard.tex --title "My benchmark"

      effbench export --to eee --out records/ --board helm-bbq
    """
    try:
        text, written = pipeline.export_board(db, to.value, board_name=board, out=out, title=title)
    except EffbenchError as error:
        raise _fail(error) from None
    if written:
        _say(f"wrote {len(written):,} file{'s' if len(written) != 1 else ''} to {out}", err=True)
    else:
        typer.echo(text, nl=False)


flash_app = typer.Typer(help="Flash rankings: rank new models with a fraction of the evaluations.",
                        no_args_is_help=True, rich_markup_mode=None)
app.add_typer(flash_app, name="flash")


def _flash_config(config: Path | None):
    return load_config(config).flash


@flash_app.command("simulate")
def flash_simulate(
    holdout: Annotated[
        list[str] | None, typer.Option(
            "--holdout", help="Model to treat as new. Repeatable; default every model (a stratified draw of 100 on "
            "larger boards).")
    ] = None,
    newest: Annotated[
        int | None, typer.Option("--newest", min=1, help="Treat the K most recently released models as new.")
    ] = None,
    seeds: Annotated[
        int | None, typer.Option("--seeds", min=1, help="Item orders to replay (default: [flash] seeds, 5).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print per-model rows and the summary as JSON.")] = False,
    db: DbOption = Path("effbench.duckdb"),
    config: ConfigOption = None,
    board: BoardOption = None,
) -> None:
    """Replay Flash on complete results to show what it would have cost.

    Each held-out model is treated as new and ranked stage by stage (10, 15, 23, ... items per
    scenario, then all) against the others' full results, stopping once a rank can be reported within
    its tier's resolution; this is replayed over several item orders (--seeds) and summarised as the
    mean saving with its range. Reported side by side: the configured variant (design-based), the
    earlier rule (bootstrap, Bonferroni) and the paper's uncorrected rule. The per-model rows are
    those of the first seed. A report counts as within resolution only if it is within the
    resolution of both its own tier and the true rank's tier.

    Examples:

      effbench flash simulate --seeds 5

      effbench flash simulate --newest 5 --json

      effbench flash simulate --holdout gemini-1.5-pro-002
    """
    if holdout and newest:
        raise _fail(EffbenchError("give either --holdout or --newest, not both"))
    try:
        simulations = pipeline.flash_simulate(db, _flash_config(config), holdout=holdout or (), newest=newest,
                                              seeds=seeds, board_name=board)
    except EffbenchError as error:
        raise _fail(error) from None
    main = simulations[0]
    outcomes = sorted(main.outcomes, key=lambda o: (o.model.casefold(), o.model))
    if as_json:
        rows = [{"model": o.model, "stop_stage": o.final.stage, "items_used": o.final.items_used,
                 "items_full": o.items_full, "saving": o.saving, "flash_rank": o.final.rank,
                 "rank_lo": o.final.rank_lo, "rank_hi": o.final.rank_hi, "full_rank": o.full_rank,
                 "abs_error": abs(o.final.rank - o.full_rank), "within_resolution": o.within_resolution,
                 "covered": o.covered, "used_every_item": o.used_every_item} for o in outcomes]
        def summary(s):  # NaN (no replay stopped early) is null in JSON
            return {k: None if isinstance(v, float) and v != v else v for k, v in asdict(s).items()}
        typer.echo(json.dumps({"variant": main.variant, "seeds": main.summary.n_seeds, "rows": rows,
                               "summary": summary(main.summary),
                               "comparison": [summary(s.summary) for s in simulations]}, indent=1, default=int))
        return
    _say(f"{'model':<32} {'stop':>5} {'items':>7} {'saving':>7} {'flash rank':>12} {'full':>5} {'ok':>3}")
    for o in outcomes:
        interval = f"{o.final.rank} ({o.final.rank_lo}-{o.final.rank_hi})"
        _say(f"{o.model:<32} {o.final.stage:>5} {o.final.items_used:>7,} {'x' + format(o.saving, '.1f'):>7} "
                   f"{interval:>12} {o.full_rank:>5} {'yes' if o.within_resolution else 'NO':>3}")
    _say(f"(rows: {main.variant}, first of {main.summary.n_seeds} item orders)")
    for simulation in simulations:
        s = simulation.summary
        _say(f"{s.variant}: saving x{s.saving:.1f} (x{s.saving_lo:.1f}-x{s.saving_hi:.1f} over {s.n_seeds} "
                   f"order{'s' if s.n_seeds != 1 else ''}), {s.within_resolution:.1%} within resolution, largest "
                   f"error {s.largest_error}, "
                   f"interval coverage {s.coverage:.1%}, {s.n_every_item} of {s.n_replays} replays used every item")


@flash_app.command("plan")
def flash_plan(
    model: Annotated[str, typer.Argument(help="The model being evaluated (need not have results yet).")],
    out: Annotated[
        Path, typer.Option("--out", help="Where to write the next items: .csv or .jsonl (model, scenario, item_id).")
    ] = Path("next.csv"),
    new: Annotated[bool, typer.Option("--new", help="MODEL has no results yet: start it.")] = False,
    db: DbOption = Path("effbench.duckdb"),
    config: ConfigOption = None,
    board: BoardOption = None,
) -> None:
    """Say where MODEL stands and write the items it should be evaluated on next.

    Run your evaluation harness on exactly the written items, load its results with
    `effbench ingest`, and plan again. A planned item that still has no result once the stage has
    results is taken as one your harness cannot evaluate and skipped. Once a rank can be reported
    within the tier's resolution the plan says so and writes a file with the header only.

    Examples:

      effbench flash plan my-new-model --new --out next.csv

      effbench ingest my-new-model-results.csv && effbench flash plan my-new-model
    """
    try:
        plan, items = pipeline.flash_plan(db, model, _flash_config(config), new=new, board_name=board)
        pipeline.write_plan(items, model, out, db=db)
    except EffbenchError as error:
        raise _fail(error) from None
    tiers = _flash_config(config).tiers
    if plan.rank is None:
        _say(f"{model}: no stage completed yet")
    else:
        _say(f"{model}: after stage {plan.completed_stage} ({plan.items_evaluated:,} items): rank "
                   f"{plan.rank} ({plan.rank_lo}-{plan.rank_hi}); {tiers[plan.tier].describe()}")
    if plan.skipped:
        _say(f"skipped {plan.skipped:,} planned items without a result (taken as items the harness cannot "
                   "evaluate)")
    if plan.resolution_met:
        _say(f"resolution met: nothing more to evaluate; wrote an empty plan to {out}")
    else:
        _say(f"next: stage {plan.next_stage}, {len(items):,} items written to {out}")


@flash_app.command("status")
def flash_status(db: DbOption = Path("effbench.duckdb"), config: ConfigOption = None,
                 board: BoardOption = None) -> None:
    """Show every model's Flash stage, rank interval and whether its tier's resolution is met.

    Examples:

      effbench flash status
    """
    try:
        plans = pipeline.flash_status(db, _flash_config(config), board)
    except EffbenchError as error:
        raise _fail(error) from None
    _say(f"{'model':<32} {'stage':>6} {'items':>7} {'skipped':>7} {'rank':>12} {'met':>4} {'next':>6}")
    for plan in sorted(plans, key=lambda p: (p.model.casefold(), p.model)):
        rank = "-" if plan.rank is None else f"{plan.rank} ({plan.rank_lo}-{plan.rank_hi})"
        _say(f"{plan.model:<32} {plan.completed_stage or '-':>6} {plan.items_evaluated:>7,} {plan.skipped:>7,} "
                   f"{rank:>12} {'yes' if plan.resolution_met else 'no':>4} {plan.next_stage or '-':>6}")


fit_app = typer.Typer(help="Fit scaling laws to training runs.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(fit_app, name="fit")


@fit_app.command("multilingual")
def fit_multilingual(
    data: Annotated[Path, typer.Argument(help="Training runs: columns family, params, tokens, sampling_ratio, "
                                              "loss (CSV, TSV, Parquet or JSON lines).")],
    confidence: Annotated[float, typer.Option("--confidence", min=0.5, max=0.999,
                                              help="Coverage of the intervals.")] = 0.95,
    as_json: Annotated[bool, typer.Option("--json", help="Print the fit as JSON.")] = False,
) -> None:
    """Fit L_i(N, D, p_i) = (E_i + A_i/N^alpha_i + B_i/D^beta_i) * p_i^(-gamma_i) per language family.

    Prints each family's parameters with intervals and the sampling ratios that minimise the summed
    normalised loss (arXiv 2410.12883).

    Examples:

      effbench fit multilingual runs.csv

      effbench fit multilingual runs.parquet --confidence 0.9 --json
    """
    try:
        fit = pipeline.fit_multilingual(data, confidence_level=confidence)
    except EffbenchError as error:
        raise _fail(error) from None
    families = [{"family": f.family, "n_runs": f.n_runs, "rmse_log": f.rmse_log, "optimal_ratio": ratio,
                 "optimal_ratio_lo": lo, "optimal_ratio_hi": hi,
                 **{name: {"estimate": e, "lo": low, "hi": high}
                    for name, e, low, high in zip(PARAMETERS, f.estimate, f.lo, f.hi, strict=True)}}
                for f, ratio, lo, hi in zip(fit.fits, fit.ratios, fit.ratios_lo, fit.ratios_hi, strict=True)]
    if as_json:
        typer.echo(json.dumps({"confidence_level": fit.confidence_level, "families": families}, indent=1))
        return
    for row in families:
        _say(f"{row['family']} ({row['n_runs']} runs, rms log residual {row['rmse_log']:.4f}):")
        for name in PARAMETERS:
            p = row[name]
            _say(f"  {name:<6} {p['estimate']:>12.4g}  ({p['lo']:.4g} to {p['hi']:.4g})")
    _say(f"Sampling ratios minimising the summed normalised loss ({fit.confidence_level:.0%} intervals):")
    for row in families:
        _say(f"  {row['family']:<20} {row['optimal_ratio']:.3f}  "
                   f"({row['optimal_ratio_lo']:.3f} to {row['optimal_ratio_hi']:.3f})")


@app.command()
def publish(
    out: Annotated[Path, typer.Option("--out", help="The built site folder.")] = Path("site"),
    remote: Annotated[str, typer.Option("--remote", help="Git remote to push to.")] = "origin",
    branch: Annotated[str, typer.Option("--branch", help="Branch that holds the site.")] = "gh-pages",
    no_push: Annotated[bool, typer.Option("--no-push", help="Commit to the branch but do not push.")] = False,
    message: Annotated[str | None, typer.Option("--message", help="Commit message.")] = None,
) -> None:
    """Commit the built site to a branch of this git repository (history kept) and push it.

    GitHub Pages then serves the branch (Settings > Pages > Deploy from a branch: gh-pages, / (root)).
    Your working tree, current branch and staged changes are not touched.

    Examples:

      effbench build && effbench publish

      effbench publish --remote upstream --branch gh-pages
    """
    try:
        report = publish_site(out, remote=None if no_push else remote, branch=branch, message=message)
    except EffbenchError as error:
        raise _fail(error) from None
    where = f", pushed to {report.pushed_to}" if report.pushed_to else ""
    if not report.changed:
        _say(f"{out}/ is unchanged since {report.branch}'s last commit {report.commit[:12]}: nothing to "
                   f"commit{where}")
        return
    _say(f"{out}/ committed to {report.branch} as {report.commit[:12]}{where}")


@app.command()
def init(
    folder: Annotated[Path, typer.Argument(help="The repository's folder.")] = Path("."),
    install: Annotated[
        str | None,
        typer.Option("--install", help="What the workflow installs with pip (default: the effbench running now, "
                     "pinned: its git commit, or its version from the package index)."),
    ] = None,
    sources: Annotated[
        str | None,
        typer.Option("--sources", help="Arguments of `effbench build` in the workflow (default: the files "
                     "./effbench.duckdb was built from)."),
    ] = None,
    branch: Annotated[
        str | None, typer.Option("--branch", help="Branch whose pushes rebuild the site (default: the default one).")
    ] = None,
    db: DbOption = Path("effbench.duckdb"),
    force: Annotated[bool, typer.Option("--force", help="Replace files that exist.")] = False,
) -> None:
    """Write effbench.toml and a GitHub Actions workflow that builds the site and deploys it to Pages.

    The workflow installs the effbench you run now, builds from your data (the files your
    effbench.duckdb was built from, or --sources), runs on pushes to the repository's default branch,
    and the built site and database are added to .gitignore.

    Examples:

      effbench init

      effbench init --sources "results/*.parquet --models models.csv"

      effbench init --install "git+https://github.com/OWNER/effbench@v0.1.0"
    """
    try:
        report = init_project(folder, install=install, sources=sources, branch=branch,
                              db=db if db.is_absolute() or db.exists() else folder / db, force=force)
    except EffbenchError as error:
        raise _fail(error) from None
    for path in report.written:
        _say(f"wrote {path}")
    _say(f"the workflow installs {report.install} ({report.install_reason})")
    _say(f"it runs `effbench build {report.build}` ({report.build_reason}) on pushes to {report.branch}")
    if report.gitignore_added:
        _say(f"added to {folder / '.gitignore'}: {', '.join(report.gitignore_added)}")
    _say("next: commit these files and your data, push, and set Settings > Pages > Source to "
               '"GitHub Actions"')


@app.command()
def serve(
    out: Annotated[Path, typer.Option("--out", help="The built site folder.")] = Path("site"),
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port on 127.0.0.1.")] = 8000,
) -> None:
    """Preview the built site at http://127.0.0.1:PORT/ (Ctrl-C stops it).

    Examples:

      effbench serve

      effbench serve --port 8080
    """
    try:
        server = preview_server(out, port=port)
    except EffbenchError as error:
        raise _fail(error) from None
    _say(f"serving {out}/ at http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def _version(value: bool) -> None:
    if value:
        _say(f"effbench {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show the full traceback of any error.")] = False,
) -> None:
    """effbench: rank intervals, reliability and a static leaderboard from raw evaluation results."""
    _debug.on = debug


def main() -> None:
    """Run the command line; an unexpected error is one line (its traceback with --debug)."""
    try:
        app()
    except Exception as error:  # noqa: BLE001 - the last line of defence of the command line
        if _debug.on:
            raise
        reason = str(error).splitlines()[0] if str(error) else ""
        _say(f"effbench: internal error: {type(error).__name__}: {reason} (run with --debug to see where)",
                   err=True)
        raise SystemExit(2) from None
