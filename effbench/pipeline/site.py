"""The site: every page's analyses, the build that writes it (skipped when its inputs are unchanged), and
the export of a board's leaderboard."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from effbench import (
    compare,
    contamination,
    export,
    flash,
    history,
    multilingual,
    progress,
    queries,
    render,
    scaling,
    stats,
    store,
)
from effbench.analysis_tables import AnalysisParameters, DiorParameters
from effbench.boards import BoardSettings
from effbench.config import SiteConfig
from effbench.database_copy import public_path, source_date_epoch
from effbench.errors import EffbenchError, is_disk_full
from effbench.examples import EXAMPLES
from effbench.load import Source
from effbench.pipeline.common import (
    DEFAULT_DIOR,
    DEFAULT_FLASH,
    DEFAULT_PARAMETERS,
    ResultsOnce,
    ResultsReader,
    first_line,
    loaded_hashes,
    pick_board,
    require_database,
)
from effbench.pipeline.ingest import UpdateReport, update
from effbench.render import trend_data
from effbench.writer import check_replaceable


@dataclass(frozen=True)
class BuildReport:
    update: UpdateReport
    out: Path
    files: tuple[str, ...]
    warnings: tuple[str, ...] = ()  # about the site, for the user
    site_unchanged: bool = False  # the site in `out` was built from the same inputs, so nothing was written
    notes: tuple[str, ...] = ()  # what was done beside the site, for the user (e.g. history carried on)


def model_comparisons(con: duckdb.DuckDBPyConnection, analysis: dict, *, reader: ResultsReader,
                      ranking: stats.RankIntervals | None = None) -> compare.Comparisons:
    """Return every pair of models compared, from the same paired resamples as the stored ranking
    (its seed, resamples and confidence level on the same results give the same draws): those of
    `ranking`, the ranking computed in this build, when it is that one, else drawn again."""
    results = reader(con)
    options = json.loads(analysis.get("options") or "{}")
    parameters = (int(analysis["n_resamples"]), float(analysis["confidence_level"]),
                  options.get("rank_method", "marginal"), int(analysis["seed"]))
    if ranking is None or (ranking.models, ranking.scenarios) != (results.models, results.scenarios) or (
            ranking.n_resamples, ranking.confidence_level, ranking.rank_method, ranking.seed) != parameters:
        n_resamples, confidence_level, rank_method, seed = parameters
        ranking = stats.rank_intervals(results, n_resamples=n_resamples, confidence_level=confidence_level,
                                       rank_method=rank_method, rng=seed,
                                       with_rank_intervals=False)  # pairs need the resamples, not rank intervals
    return compare.compare_models(ranking, results)


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
        params = sizes.reindex(models).to_numpy(float, na_value=np.nan)
        z = float(scipy_stats.norm.ppf(0.5 + options["confidence_level"] / 2))
        wide = per_scenario.pivot(index="scenario", columns="model")
        scores = np.vstack([board["score"].to_numpy(float)[None, :],
                            wide["score"].reindex(index=scenarios, columns=models).to_numpy(float)])
        spread = np.vstack([(board["score_hi"] - board["score_lo"]).to_numpy(float)[None, :],
                            (wide["score_hi"] - wide["score_lo"]).reindex(index=scenarios, columns=models)
                            .to_numpy(float)])
        scaling_result = scaling.scaling_trends(params, scores, models=models,
                                                scenarios=(trend_data.OVERALL, *scenarios),
                                                score_se=np.nan_to_num(spread / (2 * z)), **options)
        tokens = _training_tokens_b(data.models, models)
        if tokens is not None:  # the overall score against training compute, 6 N D in FLOPs
            compute_result = scaling.scaling_trends(6e18 * params * tokens, scores[:1], models=models,
                                                    scenarios=(trend_data.OVERALL,),
                                                    score_se=np.nan_to_num(spread[:1] / (2 * z)), **options)
    contamination_result, timeline, dates = None, None, None
    items, model_dates = queries.dated_items(con, data.board), queries.model_dates(con)
    if items is not None and model_dates is not None:
        matrix = items[1].pivot(index="item", columns="model", values="score")
        item_days = items[1].groupby("item")["day"].min().reindex(matrix.index).to_numpy(float, na_value=np.nan)
        days = model_dates[1].reindex(matrix.columns).to_numpy(float, na_value=np.nan)
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
            return tokens.reindex(models).to_numpy(float, na_value=np.nan)
    return None


def _monthly_timeline(result: contamination.ContaminationResult, matrix: pd.DataFrame, item_days: np.ndarray
                      ) -> trend_data.Timeline:
    """Return the controls' and each tested model's mean score per calendar month of the items' dates."""
    dated = np.isfinite(item_days)
    months = np.arange(np.datetime64(int(result.first_item_date), "D").astype("datetime64[M]"),
                       np.datetime64(int(result.last_item_date), "D").astype("datetime64[M]") + 2)
    edges = months.astype("datetime64[D]").astype(float)
    board, _ = contamination.binned_means(result.control_scores, result.item_dates, edges)
    by_model = {t.model: contamination.binned_means(matrix[t.model].to_numpy(float)[dated], item_days[dated],
                                                     edges)[0] for t in result.tested}
    cutoff = {t.model: float(np.interp(t.date, edges, np.arange(len(edges)))) for t in result.tested}
    return trend_data.Timeline(tuple(str(m) for m in months[:-1]), board, by_model, cutoff)


TITLE_KEY = "site_title"  # effbench_meta's key for the last title a build was given


def site_title(con: duckdb.DuckDBPyConnection) -> str:
    """Return the default title: the bundled example's name where the data is one, else a plain one."""
    loaded = loaded_hashes(con)
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
    history_from: str | None = None,
) -> BuildReport:
    """Load, analyse and write the site into `out`; with nothing loaded, use the MMLU-Pro example.
    `history_from` (a published site's URL or folder, or its history file) carries an earlier history on:
    a deploy that builds in a fresh database keeps the changes page (see `effbench.history`).
    `site` holds the site's settings from effbench.toml (citation, scenario descriptions). A site of one
    board is its leaderboard; a site of several has an overview page and each board under boards/<slug>/."""
    check_replaceable(out.resolve())  # before any work: a folder we may not replace stops the build now
    _refuse_inputs_inside(out, db, sources)
    # A history that cannot be read stops the build before anything is loaded.
    text, origin = history.read_published(history_from) if history_from else (None, "")
    published = history.parse_published(text, origin) if text is not None else None
    history_warnings = (origin,) if history_from and published is None else ()  # none published yet (404)
    notes: tuple[str, ...] = ()
    results = ResultsOnce()  # the analyses and the pages share one read of the results
    report = update(db, sources, example=example, parameters=parameters, dior_parameters=dior_parameters,
                    flash_config=flash_config, default_example=True, lower_is_better=lower_is_better,
                    results=results, board_settings=board_settings)
    settings = site or SiteConfig()
    with store.open_store(db) as con:
        if title or settings.title:  # remembered, so that a plain rebuild (and `init`) keeps it
            store.set_meta(con, TITLE_KEY, title or settings.title)
        if published is not None:
            added = history.import_published(con, published)
            notes = (f"{published.origin}: {added} earlier snapshot(s) of the leaderboard added to the history",)
        history.record(con)  # the leaderboard this build publishes, when it is not the last one recorded
    with store.open_store(db, read_only=True) as con:
        title = title or settings.title or store.get_meta(con, TITLE_KEY)
        stamp = _site_stamp(con, db, title, settings)
        unchanged = _unchanged_site(out, stamp)
        if unchanged is not None:  # the same inputs give the same site byte for byte: nothing to write
            files, warnings = unchanged
            return BuildReport(report, out, files, history_warnings + tuple(warnings), site_unchanged=True,
                               notes=notes)
        with progress.stage("site pages"):
            plan = site_plan(con, results, title=title or settings.title or site_title(con), settings=settings,
                             database_bytes=db.stat().st_size)
            plan = dataclasses.replace(plan, extra_files={**plan.extra_files,
                                                          history.HISTORY_FILE: history.export_json(con)})
    try:
        with progress.stage("write site"):
            files = render.write_site(plan, out, db)
    except (OSError, duckdb.Error) as error:
        if not is_disk_full(error):
            raise
        previous = "the previous site is intact" if out.exists() else "there was no site before"
        raise EffbenchError(f"{out}: no space left on the device ({first_line(error)}); the results in {db} are "
                            f"loaded and analysed; the site was not written and {previous}") from None
    warnings = history_warnings + tuple(f"{db}: {warning}" for warning in plan.warnings)
    try:
        _write_stamp(out, stamp, files, warnings)
    except OSError as error:
        if not is_disk_full(error):
            raise
        (out / SITE_STAMP).unlink(missing_ok=True)  # half a record would be worse than none
        raise EffbenchError(f"{out}: no space left on the device ({first_line(error)}); the site was written, "
                            "but not its record of what it was built from, so the next build writes it again") from None
    return BuildReport(report, out, tuple(files), warnings, notes=notes)


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
            comparisons=model_comparisons(con, data.analysis, reader=reader, ranking=results.rankings.get(board)),
            trends=trend_analyses(con, data, {s: t for s, t in tags.items() if s in board.scenarios}, reader=reader),
            board=render.BoardNav.of(board, stored, ranks) if several else None,
            updates=history.timeline(con, board.name)))
    return plans[0] if not several else render.overview_site(plans, title=title, database_bytes=database_bytes)


def export_board(db: Path, to: str, *, board_name: str | None = None, out: Path | None = None,
                 title: str | None = None) -> tuple[str, list[Path]]:
    """Export a board's leaderboard (`board_name`, or the only one) as `to` (see `effbench.export`): return
    the text (Markdown, LaTeX, CSV; written to `out` when given) and the files written."""
    require_database(db)
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
              os.environ.get("SOURCE_DATE_EPOCH", ""), history.export_json(con)]
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
