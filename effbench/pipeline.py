"""The stages in order: load sources, bring the analyses up to date, render the site.

Each function here is what one CLI command does, so the commands stay thin and the same work is
available from Python.
"""

from __future__ import annotations

import csv
import difflib
import glob
import hashlib
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from effbench import (
    analysis_tables,
    boards,
    compare,
    contamination,
    export,
    flash,
    formats,
    multilingual,
    progress,
    queries,
    reliability,
    render,
    scaling,
    stats,
    store,
)
from effbench.analysis_tables import AnalysisParameters, DiorParameters
from effbench.boards import Board, BoardSettings
from effbench.config import SiteConfig
from effbench.database_copy import public_path, source_date_epoch
from effbench.errors import EffbenchError, is_disk_full
from effbench.examples import DEFAULT_EXAMPLE, EXAMPLES, Example, get_example
from effbench.load import ColumnMap, Source, duckdb_path
from effbench.render.values import csv_cell
from effbench.store import LoadReport
from effbench.writer import SITE_MARKER, check_replaceable

DEFAULT_PARAMETERS = AnalysisParameters()
DEFAULT_DIOR = DiorParameters()
DEFAULT_FLASH = flash.FlashConfig()
DEFAULT_BOARDS = BoardSettings()
# The fewest ranked models a board needs for its ranking to be drawn again (DIoR) or a model replayed
# against the others (Flash): with one, there is no order to measure.
MIN_MODELS = 2


ResultsReader = Callable[[duckdb.DuckDBPyConnection], stats.ResultsMatrix]


class ResultsOnce:
    """A `ResultsReader` that reads the results matrix from the database once and then hands out that
    copy: a build's analyses and pages all need it, and at scale each read costs seconds. Use one per
    build, created after nothing more will be loaded. `board(b)` reads board `b`'s part of it."""

    def __init__(self) -> None:
        self._matrix: stats.ResultsMatrix | None = None
        self._boards: dict[Board, stats.ResultsMatrix] = {}

    def __call__(self, con: duckdb.DuckDBPyConnection) -> stats.ResultsMatrix:
        if self._matrix is None:
            self._matrix = analysis_tables.results_matrix(con)
        return self._matrix

    def board(self, board: Board) -> ResultsReader:
        """Return a reader of `board`'s results: its scenarios and ranked models."""
        def read(con: duckdb.DuckDBPyConnection) -> stats.ResultsMatrix:
            if board not in self._boards:
                self._boards[board] = boards.board_results(self(con), board)
            return self._boards[board]
        return read


def board_reader(board: Board) -> ResultsReader:
    """Return a reader of `board`'s results straight from the database (for commands outside a build)."""
    return ResultsOnce().board(board)


@dataclass(frozen=True)
class UpdateReport:
    """What `update` did: the loads, and whether the ranking had to be recomputed."""

    loads: tuple[LoadReport, ...]
    recomputed: bool
    n_models: int
    warnings: tuple[str, ...] = ()  # about the loaded data as a whole (scenarios that mix scales, unrelated boards)
    boards: tuple[Board, ...] = ()
    board_items: tuple[int, ...] = ()  # items of each board's per-item scenarios


@dataclass(frozen=True)
class BuildReport:
    update: UpdateReport
    out: Path
    files: tuple[str, ...]
    warnings: tuple[str, ...] = ()  # about the site, for the user
    site_unchanged: bool = False  # the site in `out` was built from the same inputs, so nothing was written


def result_sources(paths: Sequence[Path], columns: ColumnMap | None = None, *, format_name: str | None = None,
                   read_options: formats.ReadOptions | None = None, special: list[Path] | None = None
                   ) -> list[Source]:
    """Return what to load from `paths` (files and folders): every unit a format recognises, plain
    result tables read with `columns`, harness files (HELM, lm-eval, ...) with `read_options`. Pipes,
    sockets and devices in the folders are skipped and added to `special`."""
    options = read_options or formats.ReadOptions()
    columns = columns or ColumnMap()
    units = formats.discover(paths, format_name, special)
    repeats = formats.plan_runs(units, options)
    return [Source(unit.path, "long", columns) if unit.format == "table"
            else Source(unit.path, "long", format=unit.format, read_options=repeats.get(unit.path, options))
            for unit in units]


def expand_globs(patterns: Sequence[str]) -> list[tuple[str, tuple[Path, ...]]]:
    """Return each pattern (``--glob``) with the files it matches, sorted; hidden files are matched only by
    a pattern that names them. A pattern that matches no file is an error."""
    matched = []
    for pattern in patterns:
        paths = tuple(sorted(Path(p) for p in glob.glob(pattern, recursive=True) if Path(p).is_file()))
        if not paths:
            raise EffbenchError(f"--glob {pattern!r}: matches no file")
        matched.append((pattern, paths))
    return matched


def example_sources(example: Example) -> list[Source]:
    """Return the sources of a bundled example: its results and its model metadata."""
    return [
        Source(example.results_path, "long", credit=example.credit, license=example.license_name),
        Source(example.models_path, "models", credit=example.credit, license=example.license_name),
    ]


def update(
    db: Path,
    sources: Sequence[Source] = (),
    *,
    example: str | None = None,
    parameters: AnalysisParameters = DEFAULT_PARAMETERS,
    dior_parameters: DiorParameters = DEFAULT_DIOR,
    flash_config: flash.FlashConfig = DEFAULT_FLASH,
    default_example: bool = False,
    all_analyses: bool = True,
    lower_is_better: Sequence[str] = (),
    results: ResultsOnce | None = None,
    board_settings: BoardSettings | None = None,
) -> UpdateReport:
    """Load `sources` (or a bundled example) into the database at `db` and refresh the analyses.

    With `default_example`, an empty database gets the MMLU-Pro example. A database that did not
    exist before and could not be loaded is removed again, so a failed first call leaves nothing.
    Without `all_analyses` only the ranking (the `leaderboard` view) is refreshed, which takes a
    second; the reliability analysis and the Flash simulation wait for `effbench build`.
    `lower_is_better` names scenarios whose scores are better when lower (recorded in the database).
    `results` reads the results matrix for the analyses (default: once for this call, after loading).
    The results are ranked on boards (`board_settings`: declared boards and the missing policy; see
    `effbench.boards`), each analysed on its own.
    """
    if sources and example:
        raise EffbenchError("give either result files or --example, not both")
    existed = db.exists()
    loaded = False  # whether the load committed, for the message if the disk fills up afterwards
    try:
        with store.open_store(db) as con:
            with progress.stage("load"):
                reports = store.ingest(con, _sources_to_load(con, sources, example, default_example))
            loaded = True
            if not store.has_results(con):
                raise EffbenchError(_why_nothing_loaded(reports) or f"{db}: no results loaded yet; give result files "
                                    "or --example")
            if lower_is_better:
                store.declare_lower_is_better(con, lower_is_better)
            warnings = [*store.scale_warnings(con), *store.identical_model_warnings(con)]
            results = results or ResultsOnce()
            formed = refresh_boards(con, results(con), board_settings or DEFAULT_BOARDS)
            warnings += board_warnings(formed, results(con).models)
            recomputed = False
            sizes = []
            for board in formed:
                reader = results.board(board)
                sizes.append(sum(m.shape[0] for m, r in zip(reader(con).scores, reader(con).resampled, strict=True)
                                 if r))
                with progress.stage("ranking"):
                    recomputed = refresh_ranking(con, parameters, board, reader=reader) or recomputed
                if all_analyses:
                    with progress.stage("reliability (DIoR)"):
                        recomputed = refresh_dior(con, dior_parameters, board, reader=reader) or recomputed
                    with progress.stage("Flash replay"):
                        recomputed = refresh_flash(con, flash_config, board, reader=reader) or recomputed
            n_models = con.execute("SELECT count(DISTINCT model) FROM rank_intervals").fetchone()[0]
    except BaseException as error:
        if not existed:
            # The file this call created: through a dangling symlink, its target; the link itself stays.
            created = db.resolve()
            for leftover in (created, created.with_name(created.name + ".wal"), db.with_name(db.name + ".wal")):
                if not leftover.is_symlink():
                    leftover.unlink(missing_ok=True)
        if is_disk_full(error):
            state = ("the database was not created" if not existed else
                     "the results were loaded; the analyses are brought up to date by the next build" if loaded
                     else "nothing was loaded; the database holds what it held before")
            raise EffbenchError(f"{db}: no space left on the device ({_first_line(error)}); {state}") from None
        raise
    return UpdateReport(tuple(reports), recomputed, n_models, tuple(warnings), formed, tuple(sizes))


def refresh_boards(con: duckdb.DuckDBPyConnection, results: stats.ResultsMatrix,
                   settings: BoardSettings = DEFAULT_BOARDS) -> tuple[Board, ...]:
    """Return the boards of the loaded results under `settings`, stored in the database (see `effbench.boards`)."""
    examples = {e.results_sha256: e for e in EXAMPLES.values()}

    def origin(scenario: str) -> str:
        format_name, sha256 = con.execute(
            "SELECT coalesce(s.format, 'table'), s.sha256 FROM (SELECT source_id FROM scores WHERE scenario = ?"
            " LIMIT 1) JOIN sources AS s USING (source_id)", [scenario]).fetchone()
        return examples[sha256].name if sha256 in examples else format_name

    try:
        formed = boards.form_boards(boards.model_sets(results), declared=settings.declared,
                                    tags=store.scenario_tags(con), origin_of=origin,
                                    origin_titles={e.name: e.title for e in EXAMPLES.values()},
                                    missing=settings.missing)
    except ValueError as error:
        raise EffbenchError(f"effbench.toml: {error}") from None
    store.save_boards(con, formed)
    return formed


def board_warnings(formed: Sequence[Board], models: Sequence[str]) -> list[str]:
    """Return what a user should know about the boards: results that share no scenario, and model names
    that differ only by case, spacing or an organisation prefix (one model under two names?)."""
    warnings = []
    from_data = [b.name for b in formed if not b.declared]
    if len(formed) > 1 and from_data:  # declared boards are the maintainer's choice: no surprise to warn of
        warnings.append(f"the results form {len(formed)} boards, ranked apart: {', '.join(b.name for b in formed)}"
                        + (f" (formed from the data, since their scenarios were evaluated on different models: "
                           f"{', '.join(from_data)})" if len(from_data) < len(formed) else
                           "; their scenarios were evaluated on different models"))
    for names in boards.similar_model_names(models):
        warnings.append(f"models {', '.join(repr(n) for n in names)} differ only by case, spacing or an "
                        "organisation prefix: if they are one model, load them under one name")
    return warnings


def pick_board(con: duckdb.DuckDBPyConnection, name: str | None, model: str | None = None) -> Board:
    """Return the stored board called `name`; without a name, the only board, or the only one `model` is
    ranked on; else an error that lists the boards to choose from with --board."""
    stored = store.stored_boards(con)
    if not stored:
        raise EffbenchError("the database has no boards yet; run `effbench build` or `effbench ingest` first")
    if name is not None:
        for board in stored:
            if board.name == name:
                return board
        raise EffbenchError(f"no board named {name!r}; the boards are {', '.join(b.name for b in stored)}")
    if len(stored) == 1:
        return stored[0]
    names = ", ".join(b.name for b in stored)
    if model is None:
        raise EffbenchError(f"the database holds {len(stored)} boards: {names}; choose one with --board")
    ranked_on = [b for b in stored if model in b.ranked]
    if len(ranked_on) == 1:
        return ranked_on[0]
    if ranked_on:
        raise EffbenchError(f"{model} is ranked on {len(ranked_on)} boards: {', '.join(b.name for b in ranked_on)}; "
                            "choose one with --board")
    listed = [b.name for b in stored if model in dict(b.unranked)]
    if listed:
        raise EffbenchError(f"{model} has results on {', '.join(listed)} but is not ranked there (see the board's "
                            "'Not ranked here'); choose a board with --board")
    raise EffbenchError(f"{model} has no results on any board; to start it as a new model, add --new and "
                        f"--board (one of {names})")


def _why_nothing_loaded(reports: Sequence[LoadReport]) -> str | None:
    """Return one line with what the loads said about why they held no results, if they said anything."""
    reasons = [f"{report.path}: {'; '.join(report.notes)}" for report in reports
               if not report.already_loaded and report.notes]
    return "nothing loaded: " + " | ".join(reasons) if reasons else None


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def _sources_to_load(
    con: duckdb.DuckDBPyConnection, sources: Sequence[Source], example: str | None, default_example: bool
) -> list[Source]:
    if sources:
        return list(sources)
    if example is None and default_example and not store.has_results(con):
        example = DEFAULT_EXAMPLE
    if example is None:
        return []
    chosen = get_example(example)
    if store.has_results(con) and chosen.results_sha256 not in _loaded_hashes(con):
        raise EffbenchError(
            f"the database already holds other results; build the {example} example into its own "
            "database with --db"
        )
    return example_sources(chosen)


def _loaded_hashes(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {row[0] for row in con.execute("SELECT sha256 FROM sources").fetchall()}


def refresh_ranking(con: duckdb.DuckDBPyConnection, parameters: AnalysisParameters, board: Board, *,
                    reader: ResultsReader | None = None) -> bool:
    """Recompute and store `board`'s rank intervals unless the stored ones are current; return whether it did.

    Skipping an unchanged analysis leaves the database file untouched, so rebuilding the same
    data gives byte-identical downloads.
    """
    if store.analysis_is_current(con, store.RANKING_ANALYSIS, parameters, board):
        return False
    results = (reader or board_reader(board))(con)
    result = stats.rank_intervals(
        results,
        n_resamples=parameters.n_resamples,
        confidence_level=parameters.confidence_level,
        rank_method=parameters.rank_method,
        rng=parameters.seed,
    )
    analysis_tables.save_ranking(con, result, reliability.disagreements(result, results), parameters, board)
    return True


def compute_dior(con: duckdb.DuckDBPyConnection, parameters: DiorParameters, board: Board, *,
                 reader: ResultsReader | None = None) -> reliability.ReliabilityResult:
    """Return the reliability analysis of `board` with `parameters` (not stored)."""
    results = (reader or board_reader(board))(con)
    prompts = analysis_tables.prompt_matrix(con, results.models, results.scenarios)
    try:
        return reliability.dior(
            results, decisions=parameters.decisions, metrics=parameters.metrics,
            prompt_scores=prompts[1] if prompts else None, n_draws=parameters.n_draws,
            confidence_level=parameters.confidence_level, target=parameters.target, rng=parameters.seed,
        )
    except ValueError as error:
        raise EffbenchError(str(error).replace("`", "")) from None


def refresh_dior(con: duckdb.DuckDBPyConnection, parameters: DiorParameters, board: Board, *,
                 reader: ResultsReader | None = None) -> bool:
    """Recompute and store `board`'s reliability analysis unless it is current; return whether it did."""
    if len(board.ranked) < MIN_MODELS:
        return store.drop_analysis(con, store.DIOR_ANALYSIS, board)
    if store.analysis_is_current(con, store.DIOR_ANALYSIS, parameters, board):
        return False
    analysis_tables.save_dior(con, compute_dior(con, parameters, board, reader=reader), parameters, board)
    return True


def dior(db: Path, parameters: DiorParameters, board_name: str | None = None) -> reliability.ReliabilityResult:
    """Return the reliability analysis of a board (`board_name`, or the only one) of the database at `db`
    with `parameters`; store it when it is the full analysis (every decision and the default meta-metrics),
    which the site shows."""
    _require_database(db)
    full = DiorParameters(n_draws=parameters.n_draws, confidence_level=parameters.confidence_level,
                          seed=parameters.seed, target=parameters.target)
    with store.open_store(db, read_only=True) as con:
        if not store.has_results(con):
            raise EffbenchError(f"{db}: no results loaded yet; run `effbench build` or `effbench ingest` first")
        board = pick_board(con, board_name)
        _require_models(board, "the reliability of its ranking (DIoR)")
        if (set(parameters.decisions) <= set(full.decisions) and set(parameters.metrics) <= set(full.metrics)
                and store.analysis_is_current(con, store.DIOR_ANALYSIS, full, board)):
            # what `effbench build` stored: no need to draw again
            return analysis_tables.stored_dior(con, parameters, board)
    with store.open_store(db) as con:
        result = compute_dior(con, parameters, board)
        if parameters == full and not store.analysis_is_current(con, store.DIOR_ANALYSIS, parameters, board):
            analysis_tables.save_dior(con, result, parameters, board)
    return result


def _require_models(board: Board, what: str) -> None:
    if len(board.ranked) < MIN_MODELS:
        raise EffbenchError(f"board {board.name!r} ranks {len(board.ranked)} model"
                            f"{'' if len(board.ranked) == 1 else 's'}: {what} needs at least {MIN_MODELS}")


def _require_database(db: Path) -> None:
    """Refuse to analyse a database that does not exist (rather than create an empty one)."""
    if not db.exists():
        raise EffbenchError(f"{db}: no such database; run `effbench build` or `effbench ingest` first")


def _flash_results(con: duckdb.DuckDBPyConnection, board: Board) -> stats.ResultsMatrix:
    results = flash.item_level(board_reader(board)(con))
    if not results.scenarios:
        raise EffbenchError("Flash needs per-item results; these results are per scenario only")
    return results


def simulate_flash(con: duckdb.DuckDBPyConnection, config: flash.FlashConfig, board: Board,
                   holdout: Sequence[str] | None = None, seeds: int | None = None) -> tuple[flash.FlashSimulation, ...]:
    """Return the Flash replay on `board` of the configured variant and the comparison variants over `seeds`
    item orders (default: the configured number)."""
    return flash.simulate_variants(_flash_results(con, board), holdout=holdout, config=config, seeds=seeds)


def refresh_flash(con: duckdb.DuckDBPyConnection, config: flash.FlashConfig, board: Board, *,
                  reader: ResultsReader | None = None) -> bool:
    """Recompute and store `board`'s leave-one-out Flash simulation unless it is current; return whether it did."""
    if len(board.ranked) < MIN_MODELS:
        return store.drop_analysis(con, store.FLASH_ANALYSIS, board)
    if store.analysis_is_current(con, store.FLASH_ANALYSIS, config, board):
        return False
    item_results = flash.item_level((reader or board_reader(board))(con))
    if not item_results.scenarios:  # nothing to sample: per-scenario results only
        return store.drop_analysis(con, store.FLASH_ANALYSIS, board)
    simulations = flash.simulate_variants(item_results, config=config)
    analysis_tables.save_flash(con, simulations, config, simulations[0].variant, board)
    return True


def newest_models(con: duckdb.DuckDBPyConnection, count: int, board: Board) -> list[str]:
    """Return the `count` most recently released models ranked on `board` (release_date in the metadata)."""
    columns = {r[0] for r in con.execute("SELECT column_name FROM (DESCRIBE models)").fetchall()}
    if "release_date" not in columns:
        raise EffbenchError("--newest needs a release_date column in the model metadata (load it with --models)")
    rows = con.execute(
        "SELECT model FROM models WHERE release_date IS NOT NULL AND model IN (SELECT model FROM rank_intervals"
        " WHERE board = ?) ORDER BY release_date DESC, model LIMIT ?", [board.name, count]
    ).fetchall()
    return [r[0] for r in rows]


def flash_simulate(db: Path, config: flash.FlashConfig, *, holdout: Sequence[str] = (),
                   newest: int | None = None, seeds: int | None = None, board_name: str | None = None
                   ) -> tuple[flash.FlashSimulation, ...]:
    """Replay Flash on complete data of a board (`board_name`, or the only one): the held-out models
    (default every model, leave-one-out, or on a board of more than `config.max_replayed` models a
    stratified draw of that many) or the `newest` released ones are treated as new, over `seeds` item
    orders (default: the configured number). The default run with the configured seeds is stored for the site."""
    _require_database(db)
    with store.open_store(db) as con:
        board = pick_board(con, board_name)
        _require_models(board, "a Flash replay")
        chosen = list(holdout) or (newest_models(con, newest, board) if newest else None)
        try:
            simulations = simulate_flash(con, config, board, chosen, seeds)
        except ValueError as error:
            raise EffbenchError(str(error).replace("`", "")) from None
        if (chosen is None and seeds in (None, config.seeds)
                and not store.analysis_is_current(con, store.FLASH_ANALYSIS, config, board)):
            analysis_tables.save_flash(con, simulations, config, simulations[0].variant, board)
    return simulations


@dataclass(frozen=True)
class PlannedItem:
    scenario: str
    item_id: str


def flash_plan(db: Path, model: str, config: flash.FlashConfig, *, new: bool = False,
               board_name: str | None = None) -> tuple[flash.Plan, tuple[PlannedItem, ...]]:
    """Return `model`'s Flash plan against the other models of its board, and the items of its next stage.

    A model with no results yet must be named with `new`, so that a mistyped name does not silently
    start a new model; the error suggests the nearest names on the board. With several boards, the board
    is `board_name`, or the only one the model is ranked on.
    """
    with store.open_store(db, read_only=True) as con:
        board = pick_board(con, board_name, None if new else model)
        results = _flash_results(con, board)
    lacking = dict(board.unranked).get(model)
    if lacking is not None and not new:
        raise EffbenchError(f"{model} has results on board {board.name} but is not ranked there (no results in "
                            f"{', '.join(lacking)}); Flash plans a ranked model's next items")
    if model not in results.models and not new:
        close = difflib.get_close_matches(model, results.models, n=3, cutoff=0.6)
        if not close:
            lowered = {m.lower(): m for m in results.models}
            close = [lowered[m] for m in difflib.get_close_matches(model.lower(), list(lowered), n=3, cutoff=0.6)]
        hint = f"did you mean {' or '.join(close)}? " if close else ""
        raise EffbenchError(f"{model}: no such model on the board; {hint}to start a new model, add --new")
    return _plan_one(results, model, config)


def _plan_one(results: stats.ResultsMatrix, model: str, config: flash.FlashConfig
              ) -> tuple[flash.Plan, tuple[PlannedItem, ...]]:
    if not set(results.models) - {model}:
        raise EffbenchError("Flash ranks a model against others; the database holds no other model")
    result = next(flash.plans(results, [model], config))
    items = tuple(PlannedItem(results.scenarios[s], results.item_ids[s][i]) for s, i in result.next_items)
    return result, items


def flash_status(db: Path, config: flash.FlashConfig, board_name: str | None = None) -> list[flash.Plan]:
    """Return the Flash plan of every model ranked on a board (`board_name`, or the only one)."""
    with store.open_store(db, read_only=True) as con:
        results = _flash_results(con, pick_board(con, board_name))
    if len(results.models) < 2:
        raise EffbenchError("Flash ranks a model against others; the database holds no other model")
    return list(flash.plans(results, results.models, config))


PLAN_COLUMNS = ("model", "scenario", "item_id")


def write_plan(items: Sequence[PlannedItem], model: str, out: Path, *, db: Path | None = None) -> None:
    """Write the planned items as CSV (or JSON lines for .jsonl): model, scenario, item_id.

    In CSV a name that starts like a spreadsheet formula gets a leading apostrophe, as in the site's
    downloads; the JSON lines keep every name exactly. `out` is refused when it is the database `db`,
    lies inside a site effbench wrote, or is a file that is not an earlier plan (`check_plan_out`).
    """
    check_plan_out(out, db)
    if out.suffix == ".jsonl":
        out.write_text("".join(json.dumps(dict(zip(PLAN_COLUMNS, (model, i.scenario, i.item_id), strict=True)))
                               + "\n" for i in items), encoding="utf-8")
        return
    with open(out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(PLAN_COLUMNS)
        writer.writerows([csv_cell(model), csv_cell(i.scenario), csv_cell(i.item_id)] for i in items)


def check_plan_out(out: Path, db: Path | None) -> None:
    """Refuse a plan file that would overwrite the database, a file of the user's, or part of a site."""
    target = out.resolve()
    if db is not None and (target == db.resolve() or (out.exists() and db.exists() and out.samefile(db))):
        raise EffbenchError(f"{out}: is the database (--db); write the plan to another file")
    site = next((folder for folder in target.parents if (folder / SITE_MARKER).is_file()), None)
    if site is not None:
        raise EffbenchError(f"{out}: is inside the site {site}, which every build replaces whole; "
                            "write the plan elsewhere")
    if out.is_dir():
        raise EffbenchError(f"{out}: is a folder; give a file name ending in .csv or .jsonl")
    # Only a regular file can be lost; a device or a pipe (/dev/null, /dev/stdout) is written through.
    if out.is_file() and not _is_plan(out):
        raise EffbenchError(f"{out}: exists and is not a plan effbench wrote; choose another --out")


def _is_plan(path: Path) -> bool:
    """Return whether `path` starts as a plan `write_plan` writes: the CSV header, or a JSON line with
    exactly the plan's fields (an empty file is an empty JSON lines plan)."""
    try:
        with open(path, encoding="utf-8") as handle:
            first = handle.readline(1 << 16).rstrip("\n")
    except (OSError, UnicodeDecodeError):
        return False
    if path.suffix == ".jsonl":
        if not first:
            return path.stat().st_size == 0
        try:
            record = json.loads(first)
        except ValueError:
            return False
        return isinstance(record, dict) and tuple(record) == PLAN_COLUMNS
    return first == ",".join(PLAN_COLUMNS)


def model_comparisons(con: duckdb.DuckDBPyConnection, analysis: dict, *, reader: ResultsReader) -> compare.Comparisons:
    """Return every pair of models compared, from the same paired resamples as the stored ranking
    (its seed, resamples and confidence level on the same results give the same draws)."""
    results = reader(con)
    options = json.loads(analysis.get("options") or "{}")
    intervals = stats.rank_intervals(results, n_resamples=int(analysis["n_resamples"]),
                                     confidence_level=float(analysis["confidence_level"]),
                                     rank_method=options.get("rank_method", "marginal"), rng=int(analysis["seed"]),
                                     with_rank_intervals=False)  # pairs need the resamples, not rank intervals
    return compare.compare_models(intervals, results)


def trend_analyses(con: duckdb.DuckDBPyConnection, data: queries.SiteData,
                   scenario_tags: dict[str, tuple[str, ...]] | None = None, *,
                   reader: ResultsReader) -> render.TrendAnalyses:
    """Return the scaling trends, contamination signals and group rankings the data allows (each None
    when the data lacks sizes, dates or tags), with the ranking's resamples, confidence and seed."""
    options = {"n_resamples": int(data.analysis["n_resamples"]), "rng": int(data.analysis["seed"]),
               "confidence_level": float(data.analysis["confidence_level"])}
    scaling_result = compute_result = None
    if "params_b" in data.models.columns:
        board, per_scenario = data.leaderboard, data.scenario_intervals
        models = tuple(board["model"])
        scenarios = tuple(data.scenarios["scenario"])
        sizes = pd.to_numeric(data.models.set_index("model")["params_b"], errors="coerce")  # "7B": unknown
        params = sizes.reindex(models).to_numpy(float)
        z = float(scipy_stats.norm.ppf(0.5 + options["confidence_level"] / 2))
        wide = per_scenario.pivot(index="scenario", columns="model")
        scores = np.vstack([board["score"].to_numpy(float)[None, :],
                            wide["score"].reindex(index=scenarios, columns=models).to_numpy(float)])
        spread = np.vstack([(board["score_hi"] - board["score_lo"]).to_numpy(float)[None, :],
                            (wide["score_hi"] - wide["score_lo"]).reindex(index=scenarios, columns=models)
                            .to_numpy(float)])
        scaling_result = scaling.scaling_trends(params, scores, models=models,
                                                scenarios=(render.trends.OVERALL, *scenarios),
                                                score_se=np.nan_to_num(spread / (2 * z)), **options)
        tokens = _training_tokens_b(data.models, models)
        if tokens is not None:  # the overall score against training compute, 6 N D in FLOPs
            compute_result = scaling.scaling_trends(6e18 * params * tokens, scores[:1], models=models,
                                                    scenarios=(render.trends.OVERALL,),
                                                    score_se=np.nan_to_num(spread[:1] / (2 * z)), **options)
    contamination_result, timeline, dates = None, None, None
    items, model_dates = queries.dated_items(con, data.board), queries.model_dates(con)
    if items is not None and model_dates is not None:
        matrix = items[1].pivot(index="item", columns="model", values="score")
        item_days = items[1].groupby("item")["day"].min().reindex(matrix.index).to_numpy(float)
        days = model_dates[1].reindex(matrix.columns).to_numpy(float)
        contamination_result = contamination.contamination_signals(
            matrix.to_numpy(float), item_days, days, models=tuple(matrix.columns), **options)
        timeline = _monthly_timeline(contamination_result, matrix, item_days)
        dates = {m: str(np.datetime64(int(d), "D")) for m, d in model_dates[1].items() if np.isfinite(d)}
    groups = None
    if scenario_tags:
        groups = multilingual.group_rankings(reader(con), scenario_tags, **options)
    return render.TrendAnalyses(
        scaling=scaling_result, compute_scaling=compute_result, contamination=contamination_result,
        timeline=timeline, groups=groups,
        item_date_column=items[0] if items else "", model_date_column=model_dates[0] if model_dates else "",
        date_text=dates or {},
    )


# Training tokens in the model metadata, with the factor that turns each into billions.
TOKEN_COLUMNS = {"training_tokens_b": 1.0, "tokens_b": 1.0, "training_tokens_t": 1e3, "tokens_t": 1e3}


def _training_tokens_b(metadata: pd.DataFrame, models: tuple[str, ...]) -> np.ndarray | None:
    """Return each model's training tokens in billions (NaN = unknown), or None without such a column."""
    for column, factor in TOKEN_COLUMNS.items():
        if column in metadata.columns:
            tokens = pd.to_numeric(metadata.set_index("model")[column], errors="coerce") * factor
            return tokens.reindex(models).to_numpy(float)
    return None


def _monthly_timeline(result: contamination.ContaminationResult, matrix: pd.DataFrame, item_days: np.ndarray
                      ) -> render.trends.Timeline:
    """Return the controls' and each tested model's mean score per calendar month of the items' dates."""
    dated = np.isfinite(item_days)
    months = np.arange(np.datetime64(int(result.first_item_date), "D").astype("datetime64[M]"),
                       np.datetime64(int(result.last_item_date), "D").astype("datetime64[M]") + 2)
    edges = months.astype("datetime64[D]").astype(float)
    board, _ = contamination.binned_means(result.control_scores, result.item_dates, edges)
    by_model = {t.model: contamination.binned_means(matrix[t.model].to_numpy(float)[dated], item_days[dated],
                                                     edges)[0] for t in result.tested}
    cutoff = {t.model: float(np.interp(t.date, edges, np.arange(len(edges)))) for t in result.tested}
    return render.trends.Timeline(tuple(str(m) for m in months[:-1]), board, by_model, cutoff)


def site_title(con: duckdb.DuckDBPyConnection) -> str:
    """Return the default title: the bundled example's name where the data is one, else a plain one."""
    loaded = _loaded_hashes(con)
    for example in EXAMPLES.values():
        if example.results_sha256 in loaded:
            return f"{example.title} leaderboard"
    return "Leaderboard"


def _refuse_inputs_inside(out: Path, db: Path, sources: Sequence[Source]) -> None:
    """Refuse a database or input file inside the output folder, which every build replaces whole."""
    site = out.resolve()
    for path, what in ((db, "the database (--db)"), *((s.path, "an input file") for s in sources)):
        if path.resolve().is_relative_to(site):
            raise EffbenchError(f"{path}: {what} is inside the output folder {out}, which every build "
                                "replaces whole; keep it outside")


def build(
    db: Path,
    out: Path,
    sources: Sequence[Source] = (),
    *,
    example: str | None = None,
    parameters: AnalysisParameters = DEFAULT_PARAMETERS,
    dior_parameters: DiorParameters = DEFAULT_DIOR,
    flash_config: flash.FlashConfig = DEFAULT_FLASH,
    title: str | None = None,
    site: SiteConfig | None = None,
    lower_is_better: Sequence[str] = (),
    board_settings: BoardSettings | None = None,
) -> BuildReport:
    """Load, analyse and write the site into `out`; with nothing loaded, use the MMLU-Pro example.
    `site` holds the site's settings from effbench.toml (citation, scenario descriptions). A site of one
    board is its leaderboard; a site of several has an overview page and each board under boards/<slug>/."""
    check_replaceable(out.resolve())  # before any work: a folder we may not replace stops the build now
    _refuse_inputs_inside(out, db, sources)
    results = ResultsOnce()  # the analyses and the pages share one read of the results
    report = update(db, sources, example=example, parameters=parameters, dior_parameters=dior_parameters,
                    flash_config=flash_config, default_example=True, lower_is_better=lower_is_better,
                    results=results, board_settings=board_settings)
    settings = site or SiteConfig()
    with store.open_store(db, read_only=True) as con:
        stamp = _site_stamp(con, db, title, settings)
        unchanged = _unchanged_site(out, stamp)
        if unchanged is not None:  # the same inputs give the same site byte for byte: nothing to write
            files, warnings = unchanged
            return BuildReport(report, out, files, warnings, site_unchanged=True)
        with progress.stage("site pages"):
            plan = site_plan(con, results, title=title or settings.title or site_title(con), settings=settings,
                             database_bytes=db.stat().st_size)
    try:
        with progress.stage("write site"):
            files = render.write_site(plan, out, db)
    except (OSError, duckdb.Error) as error:
        if not is_disk_full(error):
            raise
        previous = "the previous site is intact" if out.exists() else "there was no site before"
        raise EffbenchError(f"{out}: no space left on the device ({_first_line(error)}); the results in {db} are "
                            f"loaded and analysed; the site was not written and {previous}") from None
    warnings = tuple(f"{db}: {warning}" for warning in plan.warnings)
    try:
        _write_stamp(out, stamp, files, warnings)
    except OSError as error:
        if not is_disk_full(error):
            raise
        (out / SITE_STAMP).unlink(missing_ok=True)  # half a record would be worse than none
        raise EffbenchError(f"{out}: no space left on the device ({_first_line(error)}); the site was written, "
                            "but not its record of what it was built from, so the next build writes it again") from None
    return BuildReport(report, out, tuple(files), warnings)


def site_plan(con: duckdb.DuckDBPyConnection, results: ResultsOnce, *, title: str, settings: SiteConfig,
              database_bytes: int) -> render.SitePlan:
    """Return every page of the site: the one board's pages, or an overview and each board's pages."""
    stored = store.stored_boards(con)
    several = len(stored) > 1
    tags = {**store.scenario_tags(con), **settings.scenario_tags}
    ranks = con.execute("SELECT board, model, rank, rank_lo, rank_hi, score FROM rank_intervals"
                        " ORDER BY board, rank, model").df() if several else None
    identical = store.identical_model_pairs(con)  # one pass over the scores for every board
    plans = []
    for board in stored:
        data = queries.site_data(con, board, several=several, identical=identical)
        reader = results.board(board)
        plans.append(render.site_pages(
            data, title=title, database_bytes=database_bytes, settings=settings,
            comparisons=model_comparisons(con, data.analysis, reader=reader),
            trends=trend_analyses(con, data, {s: t for s, t in tags.items() if s in board.scenarios}, reader=reader),
            board=render.BoardNav.of(board, stored, ranks) if several else None))
    return plans[0] if not several else render.overview_site(plans, title=title, database_bytes=database_bytes)


def export_board(db: Path, to: str, *, board_name: str | None = None, out: Path | None = None,
                 title: str | None = None) -> tuple[str, list[Path]]:
    """Export a board's leaderboard (`board_name`, or the only one) as `to` (see `effbench.export`): return
    the text (Markdown, LaTeX, CSV; written to `out` when given) and the files written."""
    _require_database(db)
    with store.open_store(db, read_only=True) as con:
        board = pick_board(con, board_name)
        several = len(store.stored_boards(con)) > 1
        name = title or (board.title if several else site_title(con))
        table = export.board_table(con, board, name)
    if to == "eee":
        if out is None:
            raise EffbenchError("--to eee writes one record per model: give a folder with --out")
        return "", export.write_eee(table, out)
    text = export.export_text(table, to)
    if out is None:
        return text, []
    out.write_text(text, encoding="utf-8")
    return text, [out]


# Beside the site, what it was built from: a rebuild whose inputs have the same digest and whose
# files are all still there, at their sizes, writes nothing (at 4,000 models, rendering took minutes).
SITE_STAMP = ".effbench-site.json"


def _site_stamp(con: duckdb.DuckDBPyConnection, db: Path, title: str | None, settings: SiteConfig) -> str:
    """Return a digest of everything a site is rendered from: effbench's code and templates, the database
    (its sources as published, loaded data and stored analyses), the title and settings, and
    SOURCE_DATE_EPOCH."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent
    for path in sorted([*package.rglob("*.py"), *package.glob("*.sql"), *render.templates_dir().rglob("*")]):
        if path.is_file():
            digest.update(str(path.relative_to(path.parents[1])).encode() + b"\0" + path.read_bytes())
    analyses = con.execute("SELECT * FROM analyses ORDER BY analysis").fetchall()
    # The sources as the site shows them (paths relative to the build folder, load times clamped), not the
    # database's own path: two builds of the same inputs in two folders give the same site.
    epoch = source_date_epoch()
    sources = [(public_path(path, Path.cwd()), *rest) for path, *rest in con.execute(
        "SELECT path, CAST(CASE WHEN ? IS NULL THEN loaded_at ELSE least(loaded_at, to_timestamp(?)) END AS VARCHAR),"
        " credit, license FROM sources ORDER BY source_id", [epoch, epoch]).fetchall()]
    inputs = [repr(sources), store.data_fingerprint(con), repr(analyses), repr(title), repr(settings),
              os.environ.get("SOURCE_DATE_EPOCH", "")]
    digest.update(json.dumps(inputs, default=str).encode())
    return digest.hexdigest()


def _unchanged_site(out: Path, stamp: str) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """Return the site's files and the build's warnings if `out` holds a site built from `stamp` and every
    file is as written."""
    try:
        recorded = json.loads((out / SITE_STAMP).read_text(encoding="utf-8"))
        if recorded["stamp"] != stamp:
            return None
        for path, size in recorded["files"].items():
            if (out / path).stat().st_size != size:
                return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return tuple(recorded["files"]), tuple(recorded["warnings"])


def _write_stamp(out: Path, stamp: str, files: Sequence[str], warnings: Sequence[str]) -> None:
    sizes = {path: (out / path).stat().st_size for path in files}
    (out / SITE_STAMP).write_text(json.dumps({"stamp": stamp, "files": sizes, "warnings": list(warnings)}),
                                  encoding="utf-8")


MULTILINGUAL_COLUMNS = ("family", "params", "tokens", "sampling_ratio", "loss")


def fit_multilingual(path: Path, *, confidence_level: float = 0.95) -> multilingual.MultilingualFit:
    """Fit the per-family multilingual scaling law to the training runs in `path` (CSV, TSV, Parquet or
    JSON lines with columns family, params, tokens, sampling_ratio, loss; one row per run and family)."""
    if not path.is_file():
        raise EffbenchError(f"{path}: no such file")
    reader = {".parquet": "read_parquet", ".jsonl": "read_json_auto", ".ndjson": "read_json_auto"}.get(
        path.suffix.lower(), "read_csv_auto")
    con = duckdb.connect()
    try:
        try:
            frame = con.execute(f"SELECT * FROM {reader}(?)", [duckdb_path(path)]).df()
        except duckdb.Error as error:
            raise EffbenchError(f"{path}: cannot read: {str(error).splitlines()[0]}") from None
    finally:
        con.close()
    missing_columns = [c for c in MULTILINGUAL_COLUMNS if c not in frame.columns]
    if missing_columns:
        raise EffbenchError(f"{path}: missing column(s) {', '.join(missing_columns)}; "
                            f"needs {', '.join(MULTILINGUAL_COLUMNS)}")
    numbers = {}
    for column in MULTILINGUAL_COLUMNS[1:]:
        values = frame[column]
        converted = values.astype(str).str.strip().map(_positive_number)
        bad = converted.isna()
        if bad.any():
            row = int(bad.idxmax())
            raise EffbenchError(f"{path}: row {row + 2}, column {column}: {values.iloc[row]!r} is not a positive "
                                "number")
        numbers[column] = converted.to_numpy(float)
    if (numbers["sampling_ratio"] > 1).any():
        row = int(np.argmax(numbers["sampling_ratio"] > 1))
        raise EffbenchError(f"{path}: row {row + 2}, column sampling_ratio: a share of the mixture must be at most 1")
    try:
        return multilingual.fit_multilingual(frame["family"].astype(str).tolist(), numbers["params"],
                                             numbers["tokens"], numbers["sampling_ratio"], numbers["loss"],
                                             confidence_level=confidence_level)
    except ValueError as error:
        raise EffbenchError(f"{path}: {str(error).replace('`', '')}") from None


def _positive_number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if np.isfinite(value) and value > 0 else None
