"""`effbench build`: load, analyse and write the site in one command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from effbench import progress
from effbench.cli.common import (
    ConfigOption,
    DbOption,
    FormatOption,
    GlobOption,
    ItemCol,
    KeyCol,
    LowerIsBetterOption,
    MetricOption,
    ModelCol,
    ModelsOption,
    PerturbationsOption,
    PromptScenariosOption,
    QuietOption,
    RunsOption,
    ScenarioCol,
    ScoreCol,
    WideOption,
    board_settings,
    check_seed,
    fail,
    lazy_import,
    lower_scenarios,
    plural,
    print_boards,
    print_loads,
    print_matches,
    print_times,
    print_warnings,
    say,
    sources_of,
)
from effbench.errors import EffbenchError
from effbench.examples import EXAMPLES
from effbench.load import ColumnMap

pipeline = lazy_import("effbench.pipeline")
analysis_tables = lazy_import("effbench.analysis_tables")
configuration = lazy_import("effbench.config")


def build(
    sources: Annotated[
        list[Path] | None,
        typer.Argument(help="Result files or folders: tables (CSV, TSV, Parquet, JSON lines; .gz ok) or what "
                       "HELM, lm-evaluation-harness, Inspect, Every Eval Ever, lighteval, OpenCompass, OpenEval "
                       "or AlpacaEval wrote. A folder's Parquet files are read in one scan, its key=value folders "
                       "giving columns (a Hive-partitioned results lake)."),
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
    history_from: Annotated[str | None, typer.Option(
        "--history-from", metavar="URL|PATH",
        help="Carry on the history of a published site (its URL or folder, or its data/history.json), so that "
             "a build in a fresh database keeps the changes page; a site with none yet starts it.")] = None,
) -> None:
    """Load results, compute rank intervals and write the static leaderboard site.

    With no arguments on an empty database it builds the bundled MMLU-Pro example.

    Examples:

      effbench build

      effbench build --example livecodebench --db lcb.duckdb --out lcb-site

      effbench build results.parquet --models models.csv --title "My benchmark"
    """
    check_seed(seed)
    columns = ColumnMap(model_col, scenario_col, item_col, score_col, tuple(key or ()))
    parameters = analysis_tables.AnalysisParameters(n_resamples=resamples, confidence_level=confidence, seed=seed,
                                    rank_method="simultaneous" if simultaneous else "marginal")
    try:
        settings = configuration.load_config(config)
        lower = lower_scenarios(settings, lower_is_better)
        matched = pipeline.expand_globs(glob or ())
        special: list[Path] = []
        loaded = sources_of(sources, models, wide, columns, format_name, metric, perturbations, prompts_as_scenarios,
                            runs, special, matched)
        with progress.reporting(show=progress.should_show(quiet)) as times:
            report = pipeline.build(db, out, loaded, example=example,
                                    parameters=parameters, flash_config=settings.flash, title=title or settings.title,
                                    site=settings.site, lower_is_better=lower,
                                    board_settings=board_settings(settings), history_from=history_from)
    except EffbenchError as error:
        raise fail(error) from None
    print_matches(matched, special)
    print_loads(report.update.loads)
    print_boards(report.update.boards, report.update.board_items)
    print_warnings((*report.update.warnings, *report.warnings))
    for note in report.notes:
        say(note, err=True)
    print_times(times, quiet)
    if report.site_unchanged:
        say(f"ranked {plural(report.update.n_models, 'model')}; the site in {out}/ was built from the same "
             "data, analyses and settings: left as it is", err=True)
    else:
        say(f"ranked {plural(report.update.n_models, 'model')}; wrote {len(report.files):,} files to {out}/",
             err=True)
