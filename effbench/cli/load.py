"""`effbench ingest` and `effbench synth`: results into the database, or a synthetic board to load."""

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
from effbench.load import ColumnMap

pipeline = lazy_import("effbench.pipeline")
configuration = lazy_import("effbench.config")
synth_board = lazy_import("effbench.synth")


def ingest(
    sources: Annotated[
        list[Path] | None,
        typer.Argument(help="Result files or folders: tables (CSV, TSV, Parquet, JSON lines; .gz ok) or what "
                       "HELM, lm-evaluation-harness, Inspect, Every Eval Ever, lighteval, OpenCompass, OpenEval "
                       "or AlpacaEval wrote. A folder's Parquet files are read in one scan, its key=value folders "
                       "giving columns (a Hive-partitioned results lake)."),
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

      effbench ingest --glob 'lake/**/*.parquet'

      effbench ingest --wide helm_lite.tsv --models models.csv
    """
    columns = ColumnMap(model_col, scenario_col, item_col, score_col, tuple(key or ()))
    try:
        settings = configuration.load_config(config)
        lower = lower_scenarios(settings, lower_is_better)
        matched = pipeline.expand_globs(glob or ())
        special: list[Path] = []
        loaded = sources_of(sources, models, wide, columns, format_name, metric, perturbations, prompts_as_scenarios,
                            runs, special, matched)
        if not loaded:
            raise EffbenchError("nothing to load; give result files or folders, --wide or --models")
        with progress.reporting(show=progress.should_show(quiet)) as times:
            report = pipeline.update(db, loaded, all_analyses=False, lower_is_better=lower,
                                     board_settings=board_settings(settings))
    except EffbenchError as error:
        raise fail(error) from None
    print_matches(matched, special)
    print_loads(report.loads)
    print_boards(report.boards, report.board_items)
    print_warnings(report.warnings)
    print_times(times, quiet)
    say(f"{db}: {plural(report.n_models, 'model')} ranked", err=True)


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
        raise fail(error) from None
    scenarios = f"{n_scenarios:,} scenario" + ("s" if n_scenarios != 1 else "")
    say(f"wrote {rows:,} rows ({n_models:,} models x {n_items:,} items, {scenarios}) to {out}", err=True)


