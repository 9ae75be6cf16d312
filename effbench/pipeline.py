"""The stages in order: load sources, bring the analyses up to date, render the site.

Each function here is what one CLI command does, so the commands stay thin and the same work is
available from Python.
"""

from __future__ import annotations

import csv
import difflib
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
    compare,
    contamination,
    flash,
    formats,
    multilingual,
    progress,
    reliability,
    render,
    scaling,
    stats,
    store,
)
from effbench.config import SiteConfig
from effbench.errors import EffbenchError
from effbench.examples import DEFAULT_EXAMPLE, EXAMPLES, Example, get_example
from effbench.load import ColumnMap, Source
from effbench.store import AnalysisParameters, DiorParameters, LoadReport
from effbench.writer import check_replaceable

DEFAULT_PARAMETERS = AnalysisParameters()
DEFAULT_DIOR = DiorParameters()
DEFAULT_FLASH = flash.FlashConfig()


ResultsReader = Callable[[duckdb.DuckDBPyConnection], stats.ResultsMatrix]


class ResultsOnce:
    """A `ResultsReader` that reads the results matrix from the database once and then hands out that
    copy: a build's analyses and pages all need it, and at scale each read costs seconds. Use one per
    build, created after nothing more will be loaded."""

    def __init__(self) -> None:
        self._matrix: stats.ResultsMatrix | None = None

    def __call__(self, con: duckdb.DuckDBPyConnection) -> stats.ResultsMatrix:
        if self._matrix is None:
            self._matrix = store.results_matrix(con)
        return self._matrix


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
    warnings: tuple[str, ...] = ()  # about the site, for the user
    site_unchanged: bool = False  # the site in `out` was built from the same inputs, so nothing was written


def result_sources(paths: Sequence[Path], columns: ColumnMap | None = None, *, format_name: str | None = None,
                   read_options: formats.ReadOptions | None = None) -> list[Source]:
    """Return what to load from `paths` (files and folders): every unit a format recognises, plain
    result tables read with `columns`, harness files (HELM, lm-eval, ...) with `read_options`."""
    options = read_options or formats.ReadOptions()
    columns = columns or ColumnMap()
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
    results: ResultsReader | None = None,
) -> UpdateReport:
    """Load `sources` (or a bundled example) into the database at `db` and refresh the analyses.

    With `default_example`, an empty database gets the MMLU-Pro example. A database that did not
    exist before and could not be loaded is removed again, so a failed first call leaves nothing.
    Without `all_analyses` only the ranking (the `leaderboard` view) is refreshed, which takes a
    second; the reliability analysis and the Flash simulation wait for `effbench build`.
    `lower_is_better` names scenarios whose scores are better when lower (recorded in the database).
    `results` reads the results matrix for the analyses (default: once for this call, after loading).
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
            warnings = (*store.scale_warnings(con), *store.identical_model_warnings(con))
            results = results or ResultsOnce()
            with progress.stage("ranking"):
                recomputed = refresh_ranking(con, parameters, reader=results)
            if all_analyses:
                with progress.stage("reliability (DIoR)"):
                    recomputed = refresh_dior(con, dior_parameters, reader=results) or recomputed
                with progress.stage("Flash replay"):
                    recomputed = refresh_flash(con, flash_config, reader=results) or recomputed
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


def refresh_ranking(con: duckdb.DuckDBPyConnection, parameters: AnalysisParameters, *,
                    reader: ResultsReader = store.results_matrix) -> bool:
    """Recompute and store the rank intervals unless the stored ones are current; return whether it did.

    Skipping an unchanged analysis leaves the database file untouched, so rebuilding the same
    data gives byte-identical downloads.
    """
    if store.analysis_is_current(con, store.RANKING_ANALYSIS, parameters):
        return False
    results = reader(con)
    result = stats.rank_intervals(
        results,
        n_resamples=parameters.n_resamples,
        confidence_level=parameters.confidence_level,
        rank_method=parameters.rank_method,
        rng=parameters.seed,
    )
    store.save_ranking(con, result, reliability.disagreements(result, results), parameters)
    return True


def compute_dior(con: duckdb.DuckDBPyConnection, parameters: DiorParameters, *,
                 reader: ResultsReader = store.results_matrix) -> reliability.ReliabilityResult:
    """Return the reliability analysis of the loaded data with `parameters` (not stored)."""
    results = reader(con)
    prompts = store.prompt_matrix(con, results.models, results.scenarios)
    try:
        return reliability.dior(
            results, decisions=parameters.decisions, metrics=parameters.metrics,
            prompt_scores=prompts[1] if prompts else None, n_draws=parameters.n_draws,
            confidence_level=parameters.confidence_level, target=parameters.target, rng=parameters.seed,
        )
    except ValueError as error:
        raise EffbenchError(str(error).replace("`", "")) from None


def refresh_dior(con: duckdb.DuckDBPyConnection, parameters: DiorParameters, *,
                 reader: ResultsReader = store.results_matrix) -> bool:
    """Recompute and store the reliability analysis unless it is current; return whether it did."""
    if store.analysis_is_current(con, store.DIOR_ANALYSIS, parameters):
        return False
    store.save_dior(con, compute_dior(con, parameters, reader=reader), parameters)
    return True


def dior(db: Path, parameters: DiorParameters) -> reliability.ReliabilityResult:
    """Return the reliability analysis of the database at `db` with `parameters`; store it when it is
    the full analysis (every decision and the default meta-metrics), which the site shows."""
    _require_database(db)
    full = DiorParameters(n_draws=parameters.n_draws, confidence_level=parameters.confidence_level,
                          seed=parameters.seed, target=parameters.target)
    with store.open_store(db, read_only=True) as con:
        if not store.has_results(con):
            raise EffbenchError(f"{db}: no results loaded yet; run `effbench build` or `effbench ingest` first")
        if (set(parameters.decisions) <= set(full.decisions) and set(parameters.metrics) <= set(full.metrics)
                and store.analysis_is_current(con, store.DIOR_ANALYSIS, full)):
            return stored_dior(con, parameters)  # what `effbench build` stored: no need to draw again
    with store.open_store(db) as con:
        result = compute_dior(con, parameters)
        if parameters == full and not store.analysis_is_current(con, store.DIOR_ANALYSIS, parameters):
            store.save_dior(con, result, parameters)
    return result


def stored_dior(con: duckdb.DuckDBPyConnection, parameters: DiorParameters) -> reliability.ReliabilityResult:
    """Return the stored reliability analysis, narrowed to the decisions and meta-metrics of `parameters`
    (whose draws, seed and confidence level must be the stored ones: see `store.analysis_is_current`)."""
    decision_order = {d: i for i, d in enumerate(parameters.decisions)}
    metric_order = {m: i for i, m in enumerate(parameters.metrics)}
    frame = con.execute("SELECT * FROM dior").df()
    frame = frame[frame["decision"].isin(decision_order) & frame["meta_metric"].isin(metric_order)]
    frame = frame.assign(_d=frame["decision"].map(decision_order), _m=frame["meta_metric"].map(metric_order))
    frame = frame.sort_values(["_d", "aggregation", "level_order", "_m"], kind="stable")
    rows = tuple(
        reliability.DiorRow(r.decision, r.level, r.meta_metric, float(r.mean), float(r.lo), float(r.hi), float(r.dior),
                            float(r.compute_fraction), int(r.n_draws), None if r.seed is None else int(r.seed),
                            r.metric_range, r.aggregation, int(r.level_order))
        for r in frame.itertuples(index=False)
    )
    resolution = tuple(
        reliability.RankResolution(r[0], int(r[1]), float(r[2])) for r in con.execute(
            "SELECT examples_per_scenario, half_width, compute_fraction FROM rank_resolution ORDER BY level_order"
        ).fetchall()
    )
    scenarios = tuple(r[0] for r in con.execute("SELECT scenario FROM scenarios ORDER BY scenario").fetchall())
    return reliability.ReliabilityResult(
        rows=rows, rank_resolution=resolution, mwr_instability=(), scenario_agreement=np.full((0, 0), np.nan),
        scenarios=scenarios, recommendations=reliability.recommend(rows, resolution, parameters.target),
        n_draws=parameters.n_draws, confidence_level=parameters.confidence_level, seed=parameters.seed,
        target=parameters.target,
    )


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


def refresh_flash(con: duckdb.DuckDBPyConnection, config: flash.FlashConfig, *,
                  reader: ResultsReader = store.results_matrix) -> bool:
    """Recompute and store the leave-one-out Flash simulation unless it is current; return whether it did."""
    if store.analysis_is_current(con, store.FLASH_ANALYSIS, config):
        return False
    item_results = flash.item_level(reader(con))
    if not item_results.scenarios:
        return False  # nothing to sample: per-scenario results only
    simulations = flash.simulate_variants(item_results, config=config)
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
    """Replay Flash on complete data: the held-out models (default every model, leave-one-out, or on a board
    of more than `config.max_replayed` models a stratified draw of that many) or the `newest` released ones
    are treated as new, over `seeds` item orders (default: the configured number). The default run with the
    configured seeds is stored for the site."""
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
    if not set(results.models) - {model}:
        raise EffbenchError("Flash ranks a model against others; the database holds no other model")
    result = next(flash.plans(results, [model], config))
    items = tuple(PlannedItem(results.scenarios[s], results.item_ids[s][i]) for s, i in result.next_items)
    return result, items


def flash_status(db: Path, config: flash.FlashConfig) -> list[flash.Plan]:
    """Return the Flash plan of every model with results."""
    with store.open_store(db, read_only=True) as con:
        results = _flash_results(con)
    if len(results.models) < 2:
        raise EffbenchError("Flash ranks a model against others; the database holds no other model")
    return list(flash.plans(results, results.models, config))


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


def model_comparisons(con: duckdb.DuckDBPyConnection, analysis: dict, *,
                      reader: ResultsReader = store.results_matrix) -> compare.Comparisons:
    """Return every pair of models compared, from the same paired resamples as the stored ranking
    (its seed, resamples and confidence level on the same results give the same draws)."""
    results = reader(con)
    options = json.loads(analysis.get("options") or "{}")
    intervals = stats.rank_intervals(results, n_resamples=int(analysis["n_resamples"]),
                                     confidence_level=float(analysis["confidence_level"]),
                                     rank_method=options.get("rank_method", "marginal"), rng=int(analysis["seed"]),
                                     with_rank_intervals=False)  # pairs need the resamples, not rank intervals
    return compare.compare_models(intervals, results)


def trend_analyses(con: duckdb.DuckDBPyConnection, data: store.SiteData,
                   scenario_tags: dict[str, tuple[str, ...]] | None = None, *,
                   reader: ResultsReader = store.results_matrix) -> render.TrendAnalyses:
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
    items, model_dates = store.dated_items(con), store.model_dates(con)
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
) -> BuildReport:
    """Load, analyse and write the site into `out`; with nothing loaded, use the MMLU-Pro example.
    `site` holds the site's settings from effbench.toml (citation, scenario descriptions)."""
    check_replaceable(out.resolve())  # before any work: a folder we may not replace stops the build now
    _refuse_inputs_inside(out, db, sources)
    results = ResultsOnce()  # the analyses and the pages share one read of the results
    report = update(db, sources, example=example, parameters=parameters, dior_parameters=dior_parameters,
                    flash_config=flash_config, default_example=True, lower_is_better=lower_is_better,
                    results=results)
    settings = site or SiteConfig()
    with store.open_store(db, read_only=True) as con:
        stamp = _site_stamp(con, db, title, settings)
        unchanged = _unchanged_site(out, stamp)
        if unchanged is not None:  # the same inputs give the same site byte for byte: nothing to write
            files, warnings = unchanged
            return BuildReport(report, out, files, warnings, site_unchanged=True)
        with progress.stage("site pages"):
            data = store.site_data(con)
            plan = render.site_pages(
                data, title=title or settings.title or site_title(con), database_bytes=db.stat().st_size,
                comparisons=model_comparisons(con, data.analysis, reader=results), settings=settings,
                trends=trend_analyses(con, data, {**store.scenario_tags(con), **settings.scenario_tags},
                                      reader=results))
    with progress.stage("write site"):
        files = render.write_site(plan, out, db)
    warnings = tuple(f"{db}: {warning}" for warning in plan.warnings)
    _write_stamp(out, stamp, files, warnings)
    return BuildReport(report, out, tuple(files), warnings)


# Beside the site, what it was built from: a rebuild whose inputs have the same digest and whose
# files are all still there, at their sizes, writes nothing (at 4,000 models, rendering took minutes).
SITE_STAMP = ".effbench-site.json"


def _site_stamp(con: duckdb.DuckDBPyConnection, db: Path, title: str | None, settings: SiteConfig) -> str:
    """Return a digest of everything a site is rendered from: effbench's code and templates, the database
    (its path, loaded data and stored analyses), the title and settings, and SOURCE_DATE_EPOCH."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent
    for path in sorted([*package.rglob("*.py"), *package.glob("*.sql"), *render.templates_dir().rglob("*")]):
        if path.is_file():
            digest.update(str(path.relative_to(path.parents[1])).encode() + b"\0" + path.read_bytes())
    analyses = con.execute("SELECT * FROM analyses ORDER BY analysis").fetchall()
    inputs = [str(db.resolve()), store.data_fingerprint(con), repr(analyses), repr(title), repr(settings),
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
            frame = con.execute(f"SELECT * FROM {reader}(?)", [str(path)]).df()
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
