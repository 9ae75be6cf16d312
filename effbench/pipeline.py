"""The stages in order: load sources, bring the analyses up to date, render the site.

Each function here is what one CLI command does, so the commands stay thin and the same work is
available from Python.
"""

from __future__ import annotations

import csv
import difflib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np

from effbench import flash, formats, progress, reliability, render, stats, store
from effbench.errors import EffbenchError
from effbench.examples import DEFAULT_EXAMPLE, EXAMPLES, Example, get_example
from effbench.load import ColumnMap, Source
from effbench.store import AnalysisParameters, DiorParameters, LoadReport
from effbench.writer import check_replaceable

DEFAULT_PARAMETERS = AnalysisParameters()
DEFAULT_DIOR = DiorParameters()
DEFAULT_FLASH = flash.FlashConfig()


@dataclass(frozen=True)
class UpdateReport:
    """What `update` did: the loads, and whether the ranking had to be recomputed."""

    loads: tuple[LoadReport, ...]
    recomputed: bool
    n_models: int
    warnings: tuple[str, ...] = ()  # about the loaded data as a whole (scenarios that mix scales)


@dataclass(frozen=True)
class BuildReport:
    update: UpdateReport
    out: Path
    files: tuple[str, ...]


def result_sources(paths: Sequence[Path], columns: ColumnMap = ColumnMap(), *, format_name: str | None = None,
                   read_options: formats.ReadOptions | None = None) -> list[Source]:
    """Return what to load from `paths` (files and folders): every unit a format recognises, plain
    result tables read with `columns`, harness files (HELM, lm-eval, ...) with `read_options`."""
    options = read_options or formats.ReadOptions()
    return [Source(unit.path, "long", columns) if unit.format == "table"
            else Source(unit.path, "long", format=unit.format, read_options=options)
            for unit in formats.discover(paths, format_name)]


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
) -> UpdateReport:
    """Load `sources` (or a bundled example) into the database at `db` and refresh the analyses.

    With `default_example`, an empty database gets the MMLU-Pro example. A database that did not
    exist before and could not be loaded is removed again, so a failed first call leaves nothing.
    Without `all_analyses` only the ranking (the `leaderboard` view) is refreshed, which takes a
    second; the reliability analysis and the Flash simulation wait for `effbench build`.
    `lower_is_better` names scenarios whose scores are better when lower (recorded in the database).
    """
    if sources and example:
        raise EffbenchError("give either result files or --example, not both")
    existed = db.exists()
    try:
        with store.open_store(db) as con:
            with progress.stage("load"):
                reports = store.ingest(con, _sources_to_load(con, sources, example, default_example))
            if not store.has_results(con):
                raise EffbenchError(f"{db}: no results loaded yet; give result files or --example")
            if lower_is_better:
                store.declare_lower_is_better(con, lower_is_better)
            warnings = tuple(store.scale_warnings(con))
            with progress.stage("ranking"):
                recomputed = refresh_ranking(con, parameters)
            if all_analyses:
                with progress.stage("reliability (DIoR)"):
                    recomputed = refresh_dior(con, dior_parameters) or recomputed
                with progress.stage("Flash replay"):
                    recomputed = refresh_flash(con, flash_config) or recomputed
            n_models = con.execute("SELECT count(*) FROM rank_intervals").fetchone()[0]
    except BaseException:
        if not existed:
            for leftover in (db, db.with_name(db.name + ".wal")):
                leftover.unlink(missing_ok=True)
        raise
    return UpdateReport(tuple(reports), recomputed, n_models, warnings)


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


def refresh_ranking(con: duckdb.DuckDBPyConnection, parameters: AnalysisParameters) -> bool:
    """Recompute and store the rank intervals unless the stored ones are current; return whether it did.

    Skipping an unchanged analysis leaves the database file untouched, so rebuilding the same
    data gives byte-identical downloads.
    """
    if store.analysis_is_current(con, store.RANKING_ANALYSIS, parameters):
        return False
    result = stats.rank_intervals(
        store.results_matrix(con),
        n_resamples=parameters.n_resamples,
        confidence_level=parameters.confidence_level,
        rank_method=parameters.rank_method,
        rng=parameters.seed,
    )
    store.save_ranking(con, result, reliability.disagreements(result), parameters)
    return True


def compute_dior(con: duckdb.DuckDBPyConnection, parameters: DiorParameters) -> reliability.ReliabilityResult:
    """Return the reliability analysis of the loaded data with `parameters` (not stored)."""
    results = store.results_matrix(con)
    prompts = store.prompt_matrix(con, results.models, results.scenarios)
    try:
        return reliability.dior(
            results, decisions=parameters.decisions, metrics=parameters.metrics,
            prompt_scores=prompts[1] if prompts else None, n_draws=parameters.n_draws,
            confidence_level=parameters.confidence_level, target=parameters.target, rng=parameters.seed,
        )
    except ValueError as error:
        raise EffbenchError(str(error).replace("`", "")) from None


def refresh_dior(con: duckdb.DuckDBPyConnection, parameters: DiorParameters) -> bool:
    """Recompute and store the reliability analysis unless it is current; return whether it did."""
    if store.analysis_is_current(con, store.DIOR_ANALYSIS, parameters):
        return False
    store.save_dior(con, compute_dior(con, parameters), parameters)
    return True


def dior(db: Path, parameters: DiorParameters) -> reliability.ReliabilityResult:
    """Return the reliability analysis of the database at `db` with `parameters`; store it when it is
    the full analysis (every decision and the default meta-metrics), which the site shows."""
    _require_database(db)
    with store.open_store(db) as con:
        if not store.has_results(con):
            raise EffbenchError(f"{db}: no results loaded yet; run `effbench build` or `effbench ingest` first")
        result = compute_dior(con, parameters)
        full = DiorParameters(n_draws=parameters.n_draws, confidence_level=parameters.confidence_level,
                              seed=parameters.seed, target=parameters.target)
        if parameters == full and not store.analysis_is_current(con, store.DIOR_ANALYSIS, parameters):
            store.save_dior(con, result, parameters)
    return result


def _require_database(db: Path) -> None:
    """Refuse to analyse a database that does not exist (rather than create an empty one)."""
    if not db.exists():
        raise EffbenchError(f"{db}: no such database; run `effbench build` or `effbench ingest` first")


def _flash_results(con: duckdb.DuckDBPyConnection) -> stats.ResultsMatrix:
    results = flash.item_level(store.results_matrix(con))
    if not results.scenarios:
        raise EffbenchError("Flash needs per-item results; these results are per scenario only")
    return results


def simulate_flash(con: duckdb.DuckDBPyConnection, config: flash.FlashConfig,
                   holdout: Sequence[str] | None = None, seeds: int | None = None) -> tuple[flash.FlashSimulation, ...]:
    """Return the Flash replay of the configured variant and the comparison variants over `seeds` item
    orders (default: the configured number)."""
    return flash.simulate_variants(_flash_results(con), holdout=holdout, config=config, seeds=seeds)


def refresh_flash(con: duckdb.DuckDBPyConnection, config: flash.FlashConfig) -> bool:
    """Recompute and store the leave-one-out Flash simulation unless it is current; return whether it did."""
    if store.analysis_is_current(con, store.FLASH_ANALYSIS, config):
        return False
    results = flash.item_level(store.results_matrix(con))
    if not results.scenarios:
        return False  # nothing to sample: per-scenario results only
    simulations = flash.simulate_variants(results, config=config)
    store.save_flash(con, simulations, config, simulations[0].variant)
    return True


def newest_models(con: duckdb.DuckDBPyConnection, count: int) -> list[str]:
    """Return the `count` most recently released models with results (release_date in the metadata)."""
    columns = {r[0] for r in con.execute("SELECT column_name FROM (DESCRIBE models)").fetchall()}
    if "release_date" not in columns:
        raise EffbenchError("--newest needs a release_date column in the model metadata (load it with --models)")
    rows = con.execute(
        "SELECT model FROM models WHERE release_date IS NOT NULL AND model IN (SELECT model FROM rank_intervals)"
        " ORDER BY release_date DESC, model LIMIT ?", [count]
    ).fetchall()
    return [r[0] for r in rows]


def flash_simulate(db: Path, config: flash.FlashConfig, *, holdout: Sequence[str] = (),
                   newest: int | None = None, seeds: int | None = None) -> tuple[flash.FlashSimulation, ...]:
    """Replay Flash on complete data: the held-out models (default every model, leave-one-out) or the
    `newest` released ones are treated as new, over `seeds` item orders (default: the configured number).
    The full leave-one-out run with the configured seeds is stored for the site."""
    _require_database(db)
    with store.open_store(db) as con:
        chosen = list(holdout) or (newest_models(con, newest) if newest else None)
        try:
            simulations = simulate_flash(con, config, chosen, seeds)
        except ValueError as error:
            raise EffbenchError(str(error).replace("`", "")) from None
        if (chosen is None and seeds in (None, config.seeds)
                and not store.analysis_is_current(con, store.FLASH_ANALYSIS, config)):
            store.save_flash(con, simulations, config, simulations[0].variant)
    return simulations


@dataclass(frozen=True)
class PlannedItem:
    scenario: str
    item_id: str


def flash_plan(db: Path, model: str, config: flash.FlashConfig, *, new: bool = False
               ) -> tuple[flash.Plan, tuple[PlannedItem, ...]]:
    """Return `model`'s Flash plan against the other models, and the items of its next stage.

    A model with no results yet must be named with `new`, so that a mistyped name does not silently
    start a new model; the error suggests the nearest names on the board.
    """
    with store.open_store(db, read_only=True) as con:
        results = _flash_results(con)
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
    others = results.without(model)
    if not others.models:
        raise EffbenchError("Flash ranks a model against others; the database holds no other model")
    if model in results.models:
        index = results.models.index(model)
        have = [m[:, index] for m in results.scores]
    else:
        have = [np.full(m.shape[0], np.nan) for m in results.scores]
    result = flash.plan(model, have, flash.board_of(others), config)
    items = tuple(PlannedItem(results.scenarios[s], results.item_ids[s][i]) for s, i in result.next_items)
    return result, items


def flash_status(db: Path, config: flash.FlashConfig) -> list[flash.Plan]:
    """Return the Flash plan of every model with results."""
    with store.open_store(db, read_only=True) as con:
        results = _flash_results(con)
    return [_plan_one(results, model, config)[0] for model in results.models]


def write_plan(items: Sequence[PlannedItem], model: str, out: Path) -> None:
    """Write the planned items as CSV (or JSON lines for .jsonl): model, scenario, item_id."""
    if out.suffix == ".jsonl":
        out.write_text("".join(json.dumps({"model": model, "scenario": i.scenario, "item_id": i.item_id}) + "\n"
                               for i in items), encoding="utf-8")
        return
    with open(out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["model", "scenario", "item_id"])
        writer.writerows([model, i.scenario, i.item_id] for i in items)


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
    lower_is_better: Sequence[str] = (),
) -> BuildReport:
    """Load, analyse and write the site into `out`; with nothing loaded, use the MMLU-Pro example."""
    check_replaceable(out.resolve())  # before any work: a folder we may not replace stops the build now
    _refuse_inputs_inside(out, db, sources)
    report = update(db, sources, example=example, parameters=parameters, dior_parameters=dior_parameters,
                    flash_config=flash_config, default_example=True, lower_is_better=lower_is_better)
    with store.open_store(db, read_only=True) as con, progress.stage("site pages"):
        data = store.site_data(con)
        plan = render.site_pages(data, title=title or site_title(con))
    with progress.stage("write site"):
        files = render.write_site(plan, out, db)
    return BuildReport(report, out, tuple(files))
