"""The leaderboard's own pages (index, models, scenarios, how to read) and `site_pages`, which
computes every page of the site before anything is written."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from markupsafe import Markup
from scipy import stats as scipy_stats

from effbench import __version__
from effbench.boards import Board
from effbench.compare import Comparisons
from effbench.config import SiteConfig
from effbench.examples import EXAMPLES, data_path
from effbench.plots import DENSE_POINTS, IntervalPoint, bar_chart, interval_plot, scatter_chart
from effbench.queries import SiteData
from effbench.render.analyses import (
    disagreement_notes,
    flash_cost,
    flash_page,
    flash_text,
    reliability_page,
    replay_is_sampled,
    tiers_of,
)
from effbench.render.boards import OVERVIEW_PAGE, BoardNav, relocate
from effbench.render.compare import compare_page, comparison_table
from effbench.render.contexts import (
    BoardCard,
    ComparePage,
    Credit,
    GuidePage,
    IndexPage,
    LeaderboardRow,
    LeaderboardRowsPage,
    ModelPage,
    ModelResultRow,
    Page,
    ProvenancePage,
    RangeFilter,
    ScenarioPage,
    ScenarioResultRow,
    SitePlan,
    TierGroup,
    TopModel,
)
from effbench.render.provenance import clamp_time, provenance_page
from effbench.render.trends import TrendAnalyses, model_notes, trend_pages
from effbench.render.values import (
    COMPARE_PAGE,
    COMPARE_SCRIPT,
    DATABASE_DOWNLOAD,
    FAVICON,
    FLASH_PAGE,
    MAX_SITE_FILE_BYTES,
    PROVENANCE_PAGE,
    RELIABILITY_PAGE,
    SCRIPT,
    STYLESHEET,
    Cell,
    Column,
    Download,
    HeatCell,
    Link,
    Table,
    as_float,
    format_interval,
    format_rank,
    format_score,
    frame_table,
    missing,
    plain,
    query_snippet,
    table_downloads,
)
from effbench.tiers import tier_index
from effbench.urls import relative_url, unique_slugs


@dataclass(frozen=True)
class SiteIndex:
    """What every page builder looks up: where each page lives, the shared figures and parameters."""

    data: SiteData
    title: str
    models: tuple[str, ...]
    scenarios: tuple[str, ...]
    model_slug: dict[str, str]
    scenario_slug: dict[str, str]
    model_paths: dict[str, str]
    scenario_paths: dict[str, str]
    confidence: str
    parameters: str
    credits: tuple[Credit, ...]
    items_total: dict[str, int]
    levels: dict[str, str]
    overall_rank: dict[str, int]
    flash_rows: dict[str, Any]  # the configured Flash variant's row of each model
    has_flash_page: bool
    comparisons: Comparisons | None
    settings: SiteConfig
    trends: TrendAnalyses | None  # scaling, contamination and group analyses, where the data has them
    database_bytes: int  # size of the database the site ships (0: unknown, shipped)
    nav: BoardNav | None = None  # on a site of several boards, where this board's pages sit

    @classmethod
    def of(cls, data: SiteData, title: str, credits: tuple[Credit, ...], comparisons: Comparisons | None = None,
           settings: SiteConfig | None = None, trends: TrendAnalyses | None = None,
           database_bytes: int = 0, nav: BoardNav | None = None) -> SiteIndex:
        board = data.leaderboard
        models = tuple(board["model"])
        scenarios = tuple(data.scenarios["scenario"])
        model_slug, scenario_slug = unique_slugs(models), unique_slugs(scenarios)
        analysis = data.analysis
        confidence = f"{analysis['confidence_level']:.0%}"
        default_flash = data.flash[data.flash["variant"].isin(
            data.flash_summary.loc[data.flash_summary["is_default"], "variant"])]
        return cls(
            data=data, title=title, models=models, scenarios=scenarios, model_slug=model_slug,
            scenario_slug=scenario_slug,
            model_paths={m: f"models/{model_slug[m]}.html" for m in models},
            scenario_paths={s: f"scenarios/{scenario_slug[s]}.html" for s in scenarios},
            confidence=confidence,
            parameters=(f"{confidence} intervals from a paired Bayesian bootstrap over items: "
                        f"{int(analysis['n_resamples']):,} resamples, seed {int(analysis['seed'])}; "
                        f"score = {analysis['aggregation']}; {_rank_method_text(analysis, confidence)}."),
            credits=credits,
            items_total=dict(zip(data.scenarios["scenario"], data.scenarios["n_items"], strict=True)),
            levels=dict(zip(data.scenarios["scenario"], data.scenarios["level"], strict=True)),
            overall_rank=dict(zip(board["model"], board["rank"], strict=True)),
            flash_rows={r.model: r for r in default_flash.itertuples(index=False)},
            has_flash_page=data.flash_analysis is not None and not data.flash.empty,
            comparisons=comparisons if len(models) > 1 else None,  # one model: nothing to compare
            settings=settings or SiteConfig(), trends=trends, database_bytes=database_bytes, nav=nav,
        )

    @property
    def ships_database(self) -> bool:
        return self.database_bytes <= MAX_SITE_FILE_BYTES

    def shared(self, path: str, target: str) -> str:
        """Return the link from the board's page `path` to `target`, a file every board shares at the
        site's root (style, scripts, the database): on a site of several boards, out of the board's folder."""
        prefix = self.nav.prefix if self.nav else ""
        return relative_url(prefix + path, target)

    def page(self, path: str, page_title: str, template: str, downloads: Sequence[Download],
             skip_target: str = "main") -> Page:
        """Return the shared part of the page at site path `path`, its links relative to it."""
        return Page(
            path=path, title=page_title, site_title=self.title, template=template,
            stylesheet=self.shared(path, STYLESHEET), script=self.shared(path, SCRIPT),
            home=relative_url(path, "index.html"),
            guide=relative_url(path, "how-to-read.html"),
            reliability=relative_url(path, RELIABILITY_PAGE) if self.data.dior_analysis is not None else "",
            flash=relative_url(path, FLASH_PAGE) if self.has_flash_page else "",
            credits=tuple(
                Credit(c.text, c.license_name, relative_url(path, c.license_href), c.homepage) for c in self.credits
            ),
            downloads=tuple(Link(relative_url(path, d.path) if d.table is not None else self.shared(path, d.path),
                                 d.label) for d in downloads),
            query=query_snippet(downloads),
            database=self.shared(path, DATABASE_DOWNLOAD) if self.ships_database else "",
            database_note="" if self.ships_database or not downloads else (
                f"The DuckDB database of all results and analyses ({self.database_bytes / 1e6:,.0f} MB) is not on "
                f"this site: GitHub Pages takes files of at most 100 MB. Each table above is here; the database is "
                "rebuilt from the sources on the provenance page with effbench build."),
            parameters=self.parameters, confidence=self.confidence, version=__version__,
            compare=relative_url(path, COMPARE_PAGE) if self.comparisons else "",
            provenance=relative_url(path, PROVENANCE_PAGE), favicon=self.shared(path, FAVICON),
            skip_target=skip_target, compare_script=self.shared(path, COMPARE_SCRIPT),
            trend_links=tuple(Link(relative_url(path, target), label)
                              for target, label in (self.trends.pages() if self.trends else ())),
            overview=self.shared(path, OVERVIEW_PAGE) if self.nav else "",
            board_title=self.nav.title if self.nav else "",
            leaderboard_query="from leaderboard" + (
                " where board = '{}'".format(self.nav.name.replace("'", "''")) if self.nav else ""),
        )


def site_pages(data: SiteData, *, title: str, comparisons: Comparisons | None = None,
               settings: SiteConfig | None = None, trends: TrendAnalyses | None = None,
               database_bytes: int = 0, board: BoardNav | None = None) -> SitePlan:
    """Return every page of the site, its downloads and the licence files to ship, from `data`; the
    compare view needs `comparisons`; `settings` add the citation and scenario descriptions. A database
    of more than `MAX_SITE_FILE_BYTES` (`database_bytes`) is left out, and the pages say so. With a
    `board`, the pages are those of one board of several, in its folder, with its card for the overview."""
    credits_and_licenses = _credits(data)
    site = SiteIndex.of(data, title, tuple(credit for credit, _ in credits_and_licenses), comparisons, settings,
                        trends, database_bytes, board)
    pages: list[Any] = []
    downloads: list[Download] = []
    for build in (_index_page, _model_pages, _scenario_pages, _reliability_pages, _flash_pages, _compare_pages,
                  _provenance_pages, _trend_pages, _guide_page):
        built_pages, built_downloads = build(site)
        pages += built_pages
        downloads += built_downloads
    extra_files = {".nojekyll": ""}
    for page in pages:
        if isinstance(page, ComparePage):
            extra_files.update(page.pair_files)
    warnings = () if site.ships_database else (
        f"the database ({database_bytes / 1e6:,.0f} MB) is left out of the site, since GitHub Pages takes files of "
        "at most 100 MB; its tables are there one by one",)
    plan = SitePlan(pages=tuple(pages), downloads=tuple(downloads),
                    licenses=tuple((credit.license_href, path) for credit, path in credits_and_licenses),
                    extra_files=extra_files, warnings=warnings)
    if board is None:
        return plan
    return dataclasses.replace(relocate(plan, board.prefix), card=_board_card(site, pages[0]))


TOP_MODELS = 3  # models on each board's card of the overview


def _board_card(site: SiteIndex, index: IndexPage) -> BoardCard:
    """Return the board's card on the overview: counts, its first models and its first reliability line."""
    prefix = site.nav.prefix if site.nav else ""
    rows = [row for group in index.groups for row in group.rows][:TOP_MODELS]
    return BoardCard(
        title=site.nav.title if site.nav else site.title, href=prefix + "index.html",
        description=site.data.board.description if site.data.board else "",
        n_models=len(site.models), n_scenarios=len(site.scenarios), n_unranked=len(site.data.unranked_models),
        scenarios=", ".join(site.scenarios[:5]) + (f" and {len(site.scenarios) - 5} more"
                                                    if len(site.scenarios) > 5 else ""),
        top=tuple(TopModel(Link(prefix + row.model.href, row.model.text), row.rank_text, row.score.text)
                  for row in rows),
        headline=index.summary[0] if index.summary else "",
    )


INDEX_ROWS = 100  # rows of index.html; a larger board ships the rest in LEADERBOARD_ROWS, loaded by the script
LEADERBOARD_ROWS = "data/leaderboard-rows.js"


def _index_page(site: SiteIndex) -> tuple[list[IndexPage | LeaderboardRowsPage], list[Download]]:
    data, board, scenarios = site.data, site.data.leaderboard, site.scenarios
    per_scenario = data.scenario_intervals
    database = [Download(DATABASE_DOWNLOAD, "DuckDB database (all results and analyses)")
                ] if site.ships_database else []
    board_downloads = [*table_downloads("data/leaderboard", frame_table("leaderboard", board)), *database]
    cells = {(r.model, r.scenario): r for r in per_scenario.itertuples(index=False)}
    column_scores = {s: np.sort(g["score"].dropna().to_numpy(dtype=float)) for s, g in per_scenario.groupby("scenario")}
    column_scores.update({s: np.zeros(0) for s in scenarios if s not in column_scores})
    tiers = tiers_of(data)
    meta = {m: {k: v for k, v in row.items() if not missing(v)}
            for m, row in data.models.set_index("model").to_dict("index").items()}
    organisation_column = next((c for c in ("organization", "organisation", "org") if c in data.models.columns), "")
    metadata_columns = tuple(
        Column(f"meta-{name}", label, first)
        for name, label, first in ((organisation_column, "Organisation", "asc"), ("params_b", "Parameters (B)", "desc"),
                                   ("open_weights", "Open weights", "desc"), ("release_date", "Released", "desc"))
        if name and name in data.models.columns and any(name in v for m, v in meta.items() if m in set(site.models))
    )
    notes_of = _model_notes(site)
    rows = []
    for rec in board.itertuples(index=False):
        scenario_cells = tuple(
            _heat_cell(as_float(cells[(rec.model, s)].score), column_scores[s])
            if (rec.model, s) in cells else HeatCell(None, "–", "")
            for s in scenarios
        )
        notes = notes_of.get(rec.model, ())
        rows.append(LeaderboardRow(
            model=Link(relative_url("index.html", site.model_paths[rec.model]), rec.model),
            rank=int(rec.rank),
            rank_text=format_rank(int(rec.rank), rec.rank_lo, rec.rank_hi),
            score=Cell(round(float(rec.score), 6), format_score(rec.score)),
            score_interval=format_interval(rec.score_lo, rec.score_hi),
            scenario_cells=scenario_cells,
            coverage=Cell(round(as_float(rec.coverage), 6), "" if missing(rec.coverage) else f"{rec.coverage:.1%}"),
            flash_cost=flash_cost(site.flash_rows.get(rec.model)),
            notes=tuple(notes),
            metadata_cells=tuple(_metadata_cell(meta.get(rec.model, {}).get(c.key[5:])) for c in metadata_columns),
            tier=str(int(tier_index(np.array([int(rec.rank)]), tiers)[0]) + 1),
            organisation=str(meta.get(rec.model, {}).get(organisation_column) or ""),
            open_weights=_yes_no(meta.get(rec.model, {}).get("open_weights")),
            params=_plain_number(meta.get(rec.model, {}).get("params_b")),
            released=_plain_date(meta.get(rec.model, {}).get("release_date")),
            rank_interval="" if missing(rec.rank_lo) else f"{int(rec.rank_lo)}–{int(rec.rank_hi)}",
        ))
    tier_of = tier_index(np.array([row.rank for row in rows]), tiers) if rows else np.zeros(0, int)
    intervals = {r.model: (as_float(r.rank_lo), as_float(r.rank_hi)) for r in board.itertuples(index=False)}
    groups = _first_rows(tuple(
        _tier_group(tiers[t], tuple(row for row, k in zip(rows, tier_of, strict=True) if k == t), intervals)
        for t in sorted(set(tier_of.tolist()))
    ), INDEX_ROWS)
    more = len(rows) > INDEX_ROWS
    page = IndexPage(
        page=site.page("index.html", site.nav.title if site.nav else site.title, "index.html", board_downloads,
                       skip_target="leaderboard"),
        scenario_columns=tuple(Column(f"scenario-{i}", s, "desc", relative_url("index.html", site.scenario_paths[s]))
                               for i, s in enumerate(scenarios)),
        metadata_columns=metadata_columns,
        groups=groups,
        n_columns=4 + len(scenarios) + len(metadata_columns) + (1 if site.flash_rows else 0),
        has_flash=bool(site.flash_rows),
        tier_options=tuple((str(t + 1), tiers[t].label) for t in sorted(set(tier_of.tolist()))),
        organisations=tuple(sorted({row.organisation for row in rows if row.organisation})),
        has_open_weights=any(row.open_weights for row in rows),
        params_chart=_params_chart(board, meta, site.confidence),
        summary=_summary(board, site.confidence) + tuple(data.recommendations["text"][:1]),
        coverage_policy=_coverage_policy(board, data.board) + _unranked_and_direction(site.data),
        chart=interval_plot(
            [IntervalPoint(m, float(r), as_float(lo), as_float(hi))
             for m, r, lo, hi in zip(board["model"][:INDEX_ROWS], board["rank"][:INDEX_ROWS],
                                     board["rank_lo"][:INDEX_ROWS], board["rank_hi"][:INDEX_ROWS], strict=True)],
            title=(f"Rank of each model with its {site.confidence} interval (rank 1 = best)" if not more else
                   f"Rank of the top {INDEX_ROWS} models with their {site.confidence} intervals (rank 1 = best)"),
            x_label="rank", domain=(1, max(_rank_axis_end(board, INDEX_ROWS) if more else len(site.models), 2)),
            integer_axis=True, chart_id="ranks",
        ),
        range_filters=_range_filters(rows),
        legend=_legend(site, bool(site.flash_rows)),
        n_models=len(rows), shown_rows=min(len(rows), INDEX_ROWS),
        rows_file=relative_url("index.html", LEADERBOARD_ROWS) if more else "",
        full_table=relative_url("index.html", "data/leaderboard.csv"),
        unranked=tuple(f"{m}: no results in {', '.join(lacking)}" for m, lacking in
                       zip(data.unranked_models["model"], data.unranked_models["no_results_in"], strict=True)),
        unranked_reason=_unranked_reason(data.board),
        board_description=data.board.description if site.nav and data.board else "",
    )
    if not more:
        return [page], board_downloads
    rows_page = LeaderboardRowsPage(page=site.page(LEADERBOARD_ROWS, site.title, "leaderboard-rows.js", []),
                                    groups=groups, has_flash=page.has_flash)
    return [page, rows_page], board_downloads


def _first_rows(groups: tuple[TierGroup, ...], limit: int) -> tuple[TierGroup, ...]:
    """Return the tiers with their first `limit` rows in all in `rows` and the others in `later`."""
    split, left = [], limit
    for group in groups:
        shown = group.rows[:left]
        split.append(TierGroup(group.description, group.reached, shown, group.rows[len(shown):]))
        left -= len(shown)
    return tuple(split)


def _rank_axis_end(board: pd.DataFrame, limit: int) -> int:
    """Return the last rank the index's rank chart must show: every interval of its first `limit` models."""
    top = board.iloc[:limit]
    ends = pd.concat([top["rank"], top["rank_hi"]]).dropna()
    return int(ends.max()) if len(ends) else limit


def _tier_group(tier, rows: tuple[LeaderboardRow, ...], intervals: dict[str, tuple[float, float]]) -> TierGroup:
    """Return a tier's rows under a heading that says its resolution and whether the data reaches it:
    a model's ranks are resolved to ±r when its whole rank interval lies within r places of its rank."""
    resolution = "exact" if tier.resolution == 0 else f"±{tier.resolution} rank{'s' if tier.resolution > 1 else ''}"
    description = f"{tier.label[0].upper()}{tier.label[1:]}: target resolution {resolution}"
    known = [(row, intervals[row.model.text]) for row in rows if not math.isnan(intervals[row.model.text][0])]
    if not known:
        return TierGroup(description, "no intervals: the data cannot say", rows)
    within = [row for row, (lo, hi) in known
              if row.rank - lo <= tier.resolution and hi - row.rank <= tier.resolution]
    if len(within) == len(known):
        reached = ("reached: the rank interval is a single place" if len(known) == 1 and tier.resolution == 0
                   else "reached by every model here" if len(known) > 1 else "reached")
    elif not within:
        widest = max(known, key=lambda pair: pair[1][1] - pair[1][0])
        reached = ("not reached: the rank interval is " if len(known) == 1 else
                   "not reached by any model here (widest interval ") + f"{int(widest[1][0])}–{int(widest[1][1])}" + (
                       "" if len(known) == 1 else ")")
    else:
        reached = f"reached by {len(within)} of {len(known)} models here"
    return TierGroup(description, reached, rows)


def _plain_number(value: Any) -> str:
    raw = None if value is None or missing(value) else plain(value)
    return f"{float(raw):g}" if isinstance(raw, int | float) and not isinstance(raw, bool) else ""


def _plain_date(value: Any) -> str:
    raw = None if value is None or missing(value) else plain(value)
    text = str(raw or "")[:10]
    return text if len(text) == 10 and text[4] == "-" and text[7] == "-" else ""


def _range_filters(rows: list[LeaderboardRow]) -> tuple[RangeFilter, ...]:
    """Return the parameter-range and release-date filters, where the metadata has the values."""
    filters = []
    params = sorted(float(row.params) for row in rows if row.params)
    if len(params) >= 2:
        filters.append(RangeFilter("params", "Parameters (billions)", "number", f"{params[0]:g}", f"{params[-1]:g}"))
    dates = sorted(row.released for row in rows if row.released)
    if len(dates) >= 2:
        filters.append(RangeFilter("released", "Released", "date", dates[0], dates[-1]))
    return tuple(filters)


def _legend(site: SiteIndex, has_flash: bool) -> tuple[str, ...]:
    lines = [
        f"Rank: the rank on all items, then its {site.confidence} interval over bootstrap resamples of the items: "
        "\"3 (2–4)\" means the data cannot tell this model from those at places 2 to 4.",
        f"Score: the mean over scenarios of the model's mean item score, with its {site.confidence} interval below.",
        "Scenario columns: the shade shows a model's place within that column, from the lightest (lowest score in "
        "the scenario) to the darkest (highest); the score is printed in every cell, so the shade is only a guide.",
        "i (in a circle): a note on the model (evaluated on part of the items, or tied overall with a model that "
        "is clearly better or worse in some scenarios); focus or point at it to read it, or open the model's page.",
    ]
    if has_flash:
        lines.append("Flash: the evaluations the model would have needed had it been ranked as a new model with "
                     "Flash (stopping once its rank is resolved to its tier's resolution), and the saving against a "
                     "full run" + ("; blank for a model the replay did not draw (on a board this large the replay "
                                   "covers a stratified draw of models: see the Flash page)."
                                   if replay_is_sampled(site.data.flash_summary) else "."))
    return tuple(lines)


MODEL_PARQUET_UP_TO = 500  # larger boards give model pages CSV and JSON twins only (see _model_pages)


def _model_pages(site: SiteIndex) -> tuple[list[ModelPage], list[Download]]:
    data, per_scenario = site.data, site.data.scenario_intervals
    metadata = data.models.set_index("model")
    notes = _model_notes(site)
    trend_notes = model_notes(site.trends)  # contamination and scaling lines, on the model's own page only
    board_order = list(data.leaderboard["model"])
    place = {model: at for at, model in enumerate(board_order)}
    # Each table is read once and grouped by model: filtering it for every model would take time
    # quadratic in the number of models, and pandas' per-call overhead dominates at thousands of pages.
    columns = tuple(per_scenario.columns)
    by_model: dict[str, list[dict[str, Any]]] = {}
    for record in per_scenario.sort_values("scenario", kind="stable").to_dict("records"):
        by_model.setdefault(record["model"], []).append({k: plain(v) for k, v in record.items()})
    shares_by_model: dict[str, list[tuple[str, float]]] = {}
    distribution = data.rank_distribution
    for model, rank, last, share in zip(distribution["model"], distribution["rank"].tolist(),
                                        distribution["rank_last"].tolist(), distribution["share"].tolist(),
                                        strict=True):  # a bin of ranks on a wide board: "120–129"
        shares_by_model.setdefault(model, []).append((str(rank) if rank == last else f"{rank}–{last}", share))
    # A Parquet file per model costs more time than the rest of a large site; every model's rows are in
    # the scenarios' Parquet files and in the database.
    kinds = ("csv", "json", "parquet") if len(board_order) <= MODEL_PARQUET_UP_TO else ("csv", "json")
    board = data.leaderboard
    board_points = [] if board["rank_lo"].isna().all() else [  # no intervals: no neighbourhood chart
        IntervalPoint(m, float(r), as_float(lo), as_float(hi))
        for m, r, lo, hi in zip(board["model"], board["rank"], board["rank_lo"], board["rank_hi"], strict=True)]
    pages, downloads = [], []
    for rec in data.leaderboard.itertuples(index=False):
        path = site.model_paths[rec.model]
        mine = by_model.get(rec.model, [])
        model_downloads = [d for d in table_downloads(f"data/models/{site.model_slug[rec.model]}",
                                                      Table(f"model {rec.model}", columns, tuple(mine)))
                           if d.path.rsplit(".", 1)[1] in kinds]
        downloads += model_downloads
        result_rows = tuple(
            ScenarioResultRow(
                scenario=Link(relative_url(path, site.scenario_paths[r["scenario"]]), r["scenario"]),
                score=Cell(as_float(r["score"]), format_score(r["score"])),
                score_interval=format_interval(r["score_lo"], r["score_hi"]),
                rank_text=format_rank(int(r["rank"]), r["rank_lo"], r["rank_hi"]),
                items=_items_text(r["n_items"], site.items_total[r["scenario"]], site.levels[r["scenario"]]),
                coverage=_coverage_cell(r["n_items"], site.items_total[r["scenario"]], site.levels[r["scenario"]]),
            )
            for r in mine
        )
        # Best rank first; among equal ranks the higher score, a missing score last (as pandas sorts).
        by_rank = [r["scenario"] for r in sorted(mine, key=lambda r: (r["rank"], missing(r["score"]),
                                                                     0.0 if missing(r["score"]) else -r["score"]))]
        pages.append(ModelPage(
            page=site.page(path, rec.model, "model.html", model_downloads),
            model=rec.model,
            rank_text=format_rank(int(rec.rank), rec.rank_lo, rec.rank_hi),
            score_text=format_score(rec.score) + (
                f" ({site.confidence} interval {format_interval(rec.score_lo, rec.score_hi)})"
                if not missing(rec.score_lo) else ""),
            coverage_text=(f"{_plural(int(rec.n_scenarios), 'scenario')} (one aggregated score each, no items)"
                           if missing(rec.coverage) else
                           f"{_plural(int(rec.n_items), 'item')} in {_plural(int(rec.n_scenarios), 'scenario')} "
                           f"({rec.coverage:.1%} of all items)"),
            metadata=_metadata_items(metadata, rec.model),
            rows=result_rows,
            strongest=tuple(Link(relative_url(path, site.scenario_paths[s]), s) for s in strongest_weakest(by_rank)[0]),
            weakest=tuple(Link(relative_url(path, site.scenario_paths[s]), s) for s in strongest_weakest(by_rank)[1]),
            flash_text=flash_text(site.flash_rows.get(rec.model)),
            notes=tuple(notes.get(rec.model, ())) + trend_notes.get(rec.model, ()),
            compare_links=_compare_links(site, path, rec.model, board_order, place),
            distribution_chart=Markup("") if missing(rec.rank_lo) else bar_chart(
                shares_by_model.get(rec.model, []),
                title=f"How often {rec.model} took each rank over the bootstrap resamples",
                x_label="rank", y_label="share of resamples", chart_id="distribution",
            ),
            scenario_chart=interval_plot(
                [IntervalPoint(r["scenario"], as_float(r["score"]), as_float(r["score_lo"]), as_float(r["score_hi"]))
                 for r in mine],
                title=f"Score of {rec.model} in each scenario with its {site.confidence} interval",
                x_label="score", domain=_domain_of([r[k] for r in mine for k in ("score", "score_lo", "score_hi")]),
                chart_id="scenario-scores",
            ),
            neighbourhood_chart=_neighbourhood_chart(site, rec.model, place[rec.model], board_points),
            places=tuple(dataclasses.replace(p, href=site.shared(path, p.href))
                         for p in (site.nav.places.get(rec.model, ()) if site.nav else ())),
        ))
    return pages, downloads


def _domain_of(values: list) -> tuple[float, float]:
    """Return `_score_domain` of plain values (None or NaN: missing)."""
    known = [float(v) for v in values if not missing(v)]
    if not known:
        return (0.0, 1.0)
    low, high = min(known), max(known)
    if low >= 0 and high <= 1:
        return (0.0, 1.0)
    pad = (high - low) * 0.05 or 1.0
    return (low - pad, high + pad)


NEIGHBOURHOOD = 7  # models shown above and below a model on its page's rank chart (large boards)


def _neighbourhood_chart(site: SiteIndex, model: str, at: int, board: list[IntervalPoint]) -> Markup:
    """Return the rank intervals of the models around `model` (at place `at` of `board`, the leaderboard's
    points in rank order) on a board too large for the index's chart to show them all ("" on a smaller
    board, whose index shows every model's interval, or without intervals)."""
    if len(board) <= INDEX_ROWS:
        return Markup("")
    around = board[max(0, at - NEIGHBOURHOOD):at + NEIGHBOURHOOD + 1]
    ends = [v for point in around for v in (point.value, point.lo, point.hi) if not math.isnan(v)]
    return interval_plot(
        around, title=f"Rank of the models around {model} with their {site.confidence} intervals (rank 1 = best)",
        x_label="rank", domain=(int(min(ends)), max(int(max(ends)), int(min(ends)) + 1)), integer_axis=True,
        chart_id="neighbourhood",
    )


def _rank_method_text(analysis: dict, confidence: str) -> str:
    """Say which rank intervals are shown: each model's own (marginal) or all at once (simultaneous)."""
    method = json.loads(analysis.get("options") or "{}").get("rank_method", "marginal")
    if method == "simultaneous":
        return (f"rank intervals from paired differences to every other model, simultaneous: all of them hold "
                f"the models' ranks at once with {confidence} confidence")
    return (f"rank intervals from paired differences to every other model, marginal: each holds its model's rank "
            f"with {confidence} confidence (effbench build --simultaneous shows intervals that hold all at once)")


def _model_notes(site: SiteIndex) -> dict[str, list[str]]:
    """Return the leaderboard's notes of each model: partial coverage and ties that hide a disagreement."""
    n_scenarios = len(site.scenarios)
    notes: dict[str, list[str]] = {}
    for rec in site.data.leaderboard.itertuples(index=False):
        mine = notes.setdefault(rec.model, [])
        if not missing(rec.coverage) and rec.coverage < 1:
            mine.append(f"evaluated on {rec.coverage:.1%} of the items")
        if rec.n_scenarios < n_scenarios:
            mine.append(f"partial: no results in {n_scenarios - rec.n_scenarios} of {n_scenarios} scenarios, "
                        "each counted at the lowest score any model has there")
    for model, extra in disagreement_notes(site.data.disagreements).items():
        notes.setdefault(model, []).extend(extra)
    for a, b, n in site.data.identical_models.itertuples(index=False):
        for model, other in ((a, b), (b, a)):
            notes.setdefault(model, []).append(f"identical scores to {other} on every one of its {int(n):,} items: "
                                               "possibly one run loaded under two names")
    return notes


def _trend_pages(site: SiteIndex) -> tuple[list, list[Download]]:
    return trend_pages(site, site.trends)


def _compare_links(site: SiteIndex, path: str, model: str, board_order: list[str],
                   place: dict[str, int]) -> tuple[Link, ...]:
    """Return links to the compare view with `model` and its neighbours on the board (above, below)."""
    if site.comparisons is None or len(board_order) < 2:
        return ()
    at = place[model]
    neighbours = [board_order[i] for i in (at - 1, at + 1) if 0 <= i < len(board_order)]
    page = relative_url(path, COMPARE_PAGE)
    return tuple(Link(f"{page}#a={site.model_slug[model]}&b={site.model_slug[other]}", f"Compare with {other}")
                 for other in neighbours) + (Link(f"{page}#a={site.model_slug[model]}", "with any other model"),)


def _scenario_about(site: SiteIndex, scenario: str) -> str:
    """Return a scenario's description: effbench.toml's [scenarios] first, else what the loaded files say."""
    configured = site.settings.scenario_descriptions.get(scenario)
    if configured:
        return configured.strip()
    table = site.data.scenarios
    if "description" not in table.columns:
        return ""
    values = table.loc[table["scenario"] == scenario, "description"]
    return "" if values.empty or missing(values.iloc[0]) else str(values.iloc[0]).strip()


def _scenario_pages(site: SiteIndex) -> tuple[list[ScenarioPage], list[Download]]:
    per_scenario = site.data.scenario_intervals
    pages, downloads = [], []
    for s in site.scenarios:
        path = site.scenario_paths[s]
        theirs = per_scenario[per_scenario["scenario"] == s].sort_values(["rank", "model"])
        scenario_downloads = table_downloads(f"data/scenarios/{site.scenario_slug[s]}",
                                             frame_table(f"scenario {s}", theirs))
        downloads += scenario_downloads
        n_with_results = len(theirs)
        shown = theirs.iloc[:INDEX_ROWS]  # a large board's page shows the top; its CSV holds every model
        pages.append(ScenarioPage(
            page=site.page(path, s, "scenario.html", scenario_downloads),
            scenario=s,
            description=_scenario_description(site.levels[s], site.items_total[s], n_with_results)
            + (" Lower scores are better here: they are shown negated, so higher is still better."
               if s in _lower_is_better(site.data) else ""),
            about=_scenario_about(site, s),
            agreement=_agreement_text(theirs, site.overall_rank),
            rows=tuple(
                ModelResultRow(
                    model=Link(relative_url(path, site.model_paths[r.model]), r.model),
                    rank_text=format_rank(int(r.rank), r.rank_lo, r.rank_hi),
                    score=Cell(as_float(r.score), format_score(r.score)),
                    score_interval=format_interval(r.score_lo, r.score_hi),
                    overall_rank=int(site.overall_rank[r.model]),
                    items=_items_text(r.n_items, site.items_total[s], site.levels[s]),
                )
                for r in shown.itertuples(index=False)
            ),
            chart=interval_plot(
                [IntervalPoint(r.model, as_float(r.score), as_float(r.score_lo), as_float(r.score_hi))
                 for r in shown.itertuples(index=False)],
                title=(f"Score of each model in {s} with its {site.confidence} interval"
                       if len(shown) == n_with_results else
                       f"Score of the top {len(shown)} models in {s} with their {site.confidence} intervals"),
                x_label="score", domain=_score_domain(theirs), chart_id="model-scores",
            ),
            rows_note="" if len(shown) == n_with_results else
            f"The top {len(shown)} of the {n_with_results:,} models with results here are shown.",
            full_table=relative_url(path, f"data/scenarios/{site.scenario_slug[s]}.csv"),
        ))
    return pages, downloads


def _reliability_pages(site: SiteIndex) -> tuple[list, list[Download]]:
    data = site.data
    if data.dior_analysis is None:
        return [], []
    downloads = [
        *table_downloads("data/dior", frame_table("dior", data.dior)),
        *table_downloads("data/rank_resolution", frame_table("rank_resolution", data.rank_resolution)),
        *table_downloads("data/scenario_agreement", frame_table("scenario_agreement", data.scenario_agreement)),
    ]
    page = reliability_page(data, site.page(RELIABILITY_PAGE, "Reliability", "reliability.html", downloads))
    return [page], downloads


def _flash_pages(site: SiteIndex) -> tuple[list, list[Download]]:
    data = site.data
    if not site.has_flash_page:
        return [], []
    downloads = [
        *table_downloads("data/flash", frame_table("flash", data.flash)),
        *table_downloads("data/flash_summary", frame_table("flash_summary", data.flash_summary)),
    ]
    page = flash_page(data, site.page(FLASH_PAGE, "Flash rankings", "flash.html", downloads),
                      {m: relative_url(FLASH_PAGE, p) for m, p in site.model_paths.items()})
    return [page], downloads


def _compare_pages(site: SiteIndex) -> tuple[list[ComparePage], list[Download]]:
    if site.comparisons is None or len(site.comparisons.models) < 2:
        return [], []
    downloads = table_downloads("data/compare", comparison_table(site.comparisons))
    board = site.data.leaderboard
    rank_text = {r.model: format_rank(int(r.rank), r.rank_lo, r.rank_hi) for r in board.itertuples(index=False)}
    page = compare_page(
        site.comparisons, site.page(COMPARE_PAGE, "Compare two models", "compare.html", downloads),
        slugs=site.model_slug,
        model_paths={m: relative_url(COMPARE_PAGE, p) for m, p in site.model_paths.items()},
        scenario_paths={s: relative_url(COMPARE_PAGE, p) for s, p in site.scenario_paths.items()},
        rank_order=site.models, rank_text=rank_text,
    )
    return [page], downloads


def _provenance_pages(site: SiteIndex) -> tuple[list[ProvenancePage], list[Download]]:
    data = site.data
    sources = data.sources
    public = sources.drop(columns=["path"])  # the loading machine's paths are not the reader's business
    public.insert(1, "file", [Path(str(p)).name for p in sources["path"]])
    public["loaded_at"] = [clamp_time(value) for value in sources["loaded_at"]]
    downloads = table_downloads("data/sources", frame_table("sources", public))
    stored = (("Ranking", data.analysis), ("Reliability (DIoR)", data.dior_analysis),
              ("Flash simulation", data.flash_analysis))
    analyses = [(name, record) for name, record in stored if record]
    lines = tuple(
        f"{name}: {record['method']}, {int(record['n_resamples']):,} resamples or draws, seed {int(record['seed'])}, "
        f"confidence {float(record['confidence_level']):.0%}; computed by effbench {record['effbench_version']}."
        for name, record in analyses
    )
    page = provenance_page(sources, lines, site.page(PROVENANCE_PAGE, "Sources and citation", "provenance.html",
                                                     downloads), version=__version__, citation=site.settings.citation)
    return [page], downloads


def _guide_page(site: SiteIndex) -> tuple[list[GuidePage], list[Download]]:
    board, analysis = site.data.leaderboard, site.data.analysis
    example = board.iloc[min(2, len(board) - 1)]
    return [GuidePage(
        page=site.page("how-to-read.html", "How to read this leaderboard", "how-to-read.html", []),
        n_resamples=int(analysis["n_resamples"]), confidence=site.confidence, seed=int(analysis["seed"]),
        example_model=example["model"],
        example_rank=format_rank(int(example["rank"]), example["rank_lo"], example["rank_hi"]),
    )], []


def strongest_weakest(by_rank: list[str], most: int = 3) -> tuple[list[str], list[str]]:
    """Return the strongest and the weakest scenarios (weakest first) of a model's scenarios in rank
    order: at most `most` each and at most half of them each, so that no scenario is named both."""
    k = min(most, len(by_rank) // 2)
    return by_rank[:k], by_rank[::-1][:k]


HEAT_STEPS = 9  # classes h0 (lowest in its column) .. h8 (highest); colours in style.css


def _heat_cell(value: float, column: np.ndarray) -> HeatCell:
    """Return a cell shaded by its place in its column (`column`: the column's scores, sorted): class h0
    (lowest) to h8 (highest), light to dark blue (ColorBrewer Blues, safe for colour-vision
    deficiencies); style.css gives each step a text colour with at least 4.5:1 contrast. The place is
    the share of the column's other scores below it (ties counting half), so one outlier does not
    give every other row the same shade, as a scale from the minimum to the maximum would."""
    if math.isnan(value):
        return HeatCell(None, "–", "")
    below = int(np.searchsorted(column, value, side="left"))
    equal = int(np.searchsorted(column, value, side="right")) - below
    others = column.size - 1
    share = 0.5 if others < 1 else (below + (equal - 1) / 2) / others
    return HeatCell(round(value, 6), format_score(value), f"h{min(int(share * HEAT_STEPS), HEAT_STEPS - 1)}")


def _metadata_cell(value: Any) -> Cell:
    if value is None or missing(value):
        return Cell(None, "")
    raw = plain(value)
    if isinstance(raw, bool):
        return Cell(1.0 if raw else 0.0, "yes" if raw else "no")
    if isinstance(raw, int | float):
        return Cell(float(raw), f"{raw:g}")
    return Cell(None, str(raw))


def _yes_no(value: Any) -> str:
    if value is None or missing(value):
        return ""
    return "yes" if bool(value) else "no"


def _params_chart(board: pd.DataFrame, meta: dict[str, dict], confidence: str) -> Markup:
    points = [(float(meta[m]["params_b"]), float(score), float(lo) if not missing(lo) else math.nan,
               float(hi) if not missing(hi) else math.nan, m)
              for m, score, lo, hi in zip(board["model"], board["score"], board["score_lo"], board["score_hi"],
                                          strict=True)
              if "params_b" in meta.get(m, {}) and float(meta[m]["params_b"]) > 0]
    if len(points) < 3:
        return Markup("")
    title = (f"Score against parameters (billions, log scale), with {confidence} intervals"
             if len(points) <= DENSE_POINTS else
             f"Score against parameters (billions, log scale) of {len(points):,} models, one dot each")
    return scatter_chart(points, title=title, x_label="parameters (billions, log scale)", y_label="score",
                         chart_id="params")


def _credits(data: SiteData) -> list[tuple[Credit, Path]]:
    """Return the credit and licence file of each bundled example the data came from."""
    loaded = set(data.sources["sha256"])
    found = []
    for example in EXAMPLES.values():
        if example.results_sha256 in loaded:
            credit = Credit(example.credit, example.license_name, f"licenses/{example.license_file}",
                            example.homepage)
            found.append((credit, data_path(example.license_file)))
    return found


def _summary(board: pd.DataFrame, confidence: str) -> tuple[str, ...]:
    if len(board) == 1:
        return ("With one model there is nothing to rank: its rank is 1 by definition, and the reliability of a "
                "ranking (DIoR) and Flash's savings cannot be measured until a second model is loaded.",)
    few = ("With two models, Flash replays each as new against the other alone, and the compare view sets the two "
           "side by side, scenario by scenario.",) if len(board) == 2 else ()
    if board["rank_lo"].isna().all():
        return ("These results have no per-item data, so the ranks come without intervals: "
                "effbench cannot tell how much they would move on other items.",)
    width = (board["rank_hi"] - board["rank_lo"] + 1).astype(int)
    exact = int((width == 1).sum())
    lines = [
        f"{exact} of {len(board)} models {'has' if exact == 1 else 'have'} an exact rank: "
        f"{'its' if exact == 1 else 'their'} {confidence} rank interval is a single place.",
        f"The median rank interval spans {_plural(int(np.median(width)), 'place')}; the widest spans "
        f"{_plural(int(width.max()), 'place')}.",
    ]
    overlaps = sum(
        1 for a, b in zip(board.itertuples(index=False), board.iloc[1:].itertuples(index=False), strict=False)
        if not missing(a.rank_hi) and a.rank_hi >= b.rank_lo
    )
    if overlaps:
        lines.append(f"{_plural(overlaps, 'pair')} of neighbouring models "
                     f"{'has an overlapping rank interval' if overlaps == 1 else 'have overlapping rank intervals'}: "
                     "their order could change on other items of the same kind.")
    return (*lines, *few)


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


# What each `missing` policy of a board means, said under its table.
MISSING_POLICY_TEXT = {
    "lowest-if-half": ("A model with results in at least half of the scenarios is ranked; a scenario it has no "
                       "results in counts at the lowest score any model has there, so skipping a scenario never "
                       "raises a model (it is marked partial)."),
    "lowest": ("A scenario a model has no results in counts at the lowest score any model has there, so skipping "
               "a scenario never raises a model (it is marked partial)."),
    "exclude": "Only models with results in every scenario are ranked here.",
}


def _coverage_policy(board: pd.DataFrame, of: Board | None = None) -> str:
    partial = board[board["coverage"].fillna(1) < 1]
    policy = ("A model's score in a scenario is its mean over the items it was evaluated on; items it was not "
              "evaluated on are left out, never counted as wrong. "
              + MISSING_POLICY_TEXT[of.missing if of else "lowest"])
    if partial.empty:
        return policy + " Every model here was evaluated on every item."
    names = ", ".join(f"{m} ({c:.1%})" for m, c in zip(partial["model"], partial["coverage"], strict=True))
    return policy + f" Models evaluated on part of the items: {names}."


def _unranked_reason(board: Board | None) -> str:
    """Return why the models under "Not ranked here" are not ranked, by the board's `missing` policy."""
    if board is not None and board.missing == "exclude":
        return ("These models have results on this board but not in every one of its scenarios, which it asks of a "
                "ranked model.")
    return ("These models have results on this board, but in fewer than half of its scenarios, or lack a "
            "scenario that fewer than two models were evaluated on: a rank would rest on scores they did not earn.")


def _unranked_and_direction(data: SiteData) -> str:
    """Return sentences naming the models left unranked because every score of theirs is blank, and the
    scenarios in which lower scores are better."""
    text = ""
    unscored = list(data.unscored_models["model"])
    if unscored:
        text += (f" Not ranked, because every one of their scores is blank (not evaluated): {', '.join(unscored)}.")
    lower = _lower_is_better(data)
    if lower:
        text += (f" Lower scores are better in {', '.join(lower)}; these scenarios enter the overall score "
                 "and every rank with their scores negated.")
    return text


def _lower_is_better(data: SiteData) -> list[str]:
    """Return the scenarios ranked lower-is-better (`scenarios.higher_is_better` false)."""
    if "higher_is_better" not in data.scenarios.columns:
        return []
    return [s for s, h in zip(data.scenarios["scenario"], data.scenarios["higher_is_better"], strict=True)
            if h is False or h is np.False_]


def _items_text(n_items: int, total: int, level: str) -> str:
    if level == "scenario":
        return "one score (no items)"
    return f"{int(n_items):,} of {int(total):,}"


def _coverage_cell(n_items: int, total: int, level: str) -> Cell:
    if level == "scenario" or not total:
        return Cell(None, "")
    share = n_items / total
    return Cell(share, f"{share:.1%}")


def _score_domain(frame: pd.DataFrame) -> tuple[float, float]:
    values = pd.concat([frame["score"], frame["score_lo"], frame["score_hi"]]).dropna()
    low, high = float(values.min()), float(values.max())
    if low >= 0 and high <= 1:
        return (0.0, 1.0)
    pad = (high - low) * 0.05 or 1.0
    return (low - pad, high + pad)


def _scenario_description(level: str, n_items: int, n_models: int) -> str:
    if level == "scenario":
        return (f"{n_models} models, one score each (loaded from an aggregated table: no items, so no "
                "intervals).")
    return f"{int(n_items):,} items, {n_models} models with results."


def _agreement_text(frame: pd.DataFrame, overall_rank: dict[str, int]) -> str:
    if len(frame) < 3:
        return "Too few models to compare this scenario's ranking with the overall one."
    tau = scipy_stats.kendalltau(frame["score"], [-overall_rank[m] for m in frame["model"]]).statistic
    strength = "strongly" if tau >= 0.8 else "moderately" if tau >= 0.5 else "weakly" if tau >= 0.2 else "hardly"
    return (f"Kendall's tau between this scenario's scores and the overall ranking is {tau:.2f} (1 = same order, "
            f"0 = unrelated): this scenario {strength} agrees with the overall ranking.")


METADATA_LABELS = {"organization": "organisation", "org": "organisation", "params_b": "parameters (billions)",
                   "active_params_b": "active parameters (billions)"}


def _metadata_items(metadata: pd.DataFrame, model: str) -> tuple[tuple[str, str], ...]:
    if model not in metadata.index:
        return ()
    items = []
    for column, value in metadata.loc[model].items():
        if missing(value):
            continue
        label = METADATA_LABELS.get(str(column), str(column).replace("_", " "))
        items.append((label, _metadata_cell(value).text))
    return tuple(items)
