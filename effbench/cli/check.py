"""`effbench check`: what proposed results would do to the leaderboard, for a pull request's job summary."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from effbench.cli.common import (
    ConfigOption,
    DbOption,
    FormatOption,
    ItemCol,
    KeyCol,
    LowerIsBetterOption,
    MetricOption,
    ModelCol,
    ModelsOption,
    RunsOption,
    ScenarioCol,
    ScoreCol,
    WideOption,
    board_settings,
    fail,
    lazy_import,
    lower_scenarios,
    print_loads,
    print_warnings,
    say,
    sources_of,
)
from effbench.errors import EffbenchError
from effbench.load import ColumnMap

submission = lazy_import("effbench.submission")
configuration = lazy_import("effbench.config")


def check(
    sources: Annotated[
        list[Path] | None,
        typer.Argument(help="The proposed result files or folders (files already in the database are skipped, so "
                       "the sources of a whole build may be given)."),
    ] = None,
    db: DbOption = Path("effbench.duckdb"),
    models: ModelsOption = None,
    wide: WideOption = None,
    model_col: ModelCol = "model",
    scenario_col: ScenarioCol = "scenario",
    item_col: ItemCol = "item_id",
    score_col: ScoreCol = "score",
    key: KeyCol = None,
    format_name: FormatOption = None,
    metric: MetricOption = None,
    runs: RunsOption = "latest",
    config: ConfigOption = None,
    lower_is_better: LowerIsBetterOption = None,
    summary: Annotated[Path | None, typer.Option(
        "--summary", help="Also append the report, as Markdown, to this file (in GitHub Actions: "
        "\"$GITHUB_STEP_SUMMARY\"); a refused file is reported there too.")] = None,
) -> None:
    """Check proposed results against the leaderboard, without changing it.

    Loads the files into a scratch copy of the database: a file effbench cannot read ends in one line
    (exit 1). Prints, as Markdown, each model the files bring results for with its rank and score
    intervals and its Flash status (resolved, or how many items it still needs), and what changes on the
    leaderboard. `effbench init` writes a pull-request workflow that runs it.

    Examples:

      effbench check results/new-model.csv

      effbench check results/ --models models.csv --db base.duckdb --summary "$GITHUB_STEP_SUMMARY"
    """
    columns = ColumnMap(model_col, scenario_col, item_col, score_col, tuple(key or ()))
    try:
        settings = configuration.load_config(config)
        loaded = sources_of(list(sources or ()), models, wide, columns, format_name, metric, False, False, runs, [])
        result = submission.check(db, loaded, flash_config=settings.flash, board_settings=board_settings(settings),
                                  lower_is_better=lower_scenarios(settings, lower_is_better))
    except EffbenchError as error:
        if summary is not None:
            _append(summary, f"## effbench: submission check\n\nThe proposed results cannot be loaded: "
                             f"{submission.escape(str(error))}\n")
        raise fail(error) from None
    text = submission.summary_markdown(result)
    if summary is not None:
        _append(summary, text)
    print_loads(result.loads)
    print_warnings(result.warnings)
    for line in text.splitlines():  # one line at a time: `say` escapes control characters, newlines included
        say(line)


def _append(path: Path, text: str) -> None:
    try:
        with path.open("a", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as error:
        raise fail(EffbenchError(f"{path}: cannot write the summary ({error.strerror})")) from None
