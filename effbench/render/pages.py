"""`site_pages`, which computes every page of the site before anything is written, and the pages of
models and scenarios, the guide and the links to the analysis pages (the leaderboard itself is
`leaderboard`'s)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from markupsafe import Markup
from scipy import stats as scipy_stats

from effbench import __version__
from effbench.compare import Comparisons
from effbench.config import SiteConfig
from effbench.examples import EXAMPLES, data_path
from effbench.formatting import format_interval, format_rank, format_score, missing
from effbench.history import Update
from effbench.plots import IntervalPoint, bar_chart, interval_plot
from effbench.queries import SiteData
from effbench.render.analyses import flash_page, flash_text, reliability_page
from effbench.render.boards import BoardNav, relocate
from effbench.render.changes import CHANGES_FEED, CHANGES_PAGE, atom_feed, update_views
from effbench.render.compare import compare_page, comparison_table
from effbench.render.contexts import (
    BoardCard,
    ChangesPage,
    ComparePage,
    Credit,
    GuidePage,
    IndexPage,
    ModelPage,
    ModelResultRow,
    ProvenancePage,
    ScenarioPage,
    ScenarioResultRow,
    SitePlan,
    TopModel,
)
from effbench.render.embed import embed_page
from effbench.render.leaderboard import INDEX_ROWS, index_page, lower_is_better, metadata_cell, model_notes_of, plural
from effbench.render.names import URL_COLUMNS
from effbench.render.provenance import clamp_time, provenance_page
from effbench.render.site_index import SiteIndex
from effbench.render.trend_data import TrendAnalyses
from effbench.render.trends import model_notes, trend_pages
from effbench.render.values import (
    COMPARE_PAGE,
    FLASH_PAGE,
    PROVENANCE_PAGE,
    RELIABILITY_PAGE,
    Cell,
    Download,
    Link,
    Table,
    as_float,
    frame_table,
    plain,
    table_downloads,
)
from effbench.urls import relative_url


def site_pages(data: SiteData, *, title: str, comparisons: Comparisons | None = None,
               settings: SiteConfig | None = None, trends: TrendAnalyses | None = None,
               database_bytes: int = 0, board: BoardNav | None = None, updates: Sequence[Update] = ()) -> SitePlan:
    """Return every page of the site, its downloads and the licence files to ship, from `data`; the
    compare view needs `comparisons`; `settings` add the citation and scenario descriptions. A database
    of more than `MAX_SITE_FILE_BYTES` (`database_bytes`) is left out, and the pages say so. With a
    `board`, the pages are those of one board of several, in its folder, with its card for the overview."""
    credits_and_licenses = _credits(data)
    site = SiteIndex.of(data, title, tuple(credit for credit, _ in credits_and_licenses), comparisons, settings,
                        trends, database_bytes, board, tuple(updates))
    pages: list[Any] = []
    downloads: list[Download] = []
    for build in (index_page, _model_pages, _scenario_pages, _reliability_pages, _flash_pages, _compare_pages,
                  _provenance_pages, _trend_pages, _guide_page, _changes_pages):
        built_pages, built_downloads = build(site)
        pages += built_pages
        downloads += built_downloads
    pages.append(embed_page(site, pages[0]))  # the index's first rows, as it shows them
    extra_files = {".nojekyll": ""}
    for page in pages:
        if isinstance(page, ComparePage):
            extra_files.update(page.pair_files)
        if isinstance(page, ChangesPage):
            extra_files[page.feed_path] = page.feed_text
    warnings = site.names.unused + (() if site.ships_database else (
        f"the database ({database_bytes / 1e6:,.0f} MB) is left out of the site, since GitHub Pages takes files of "
        "at most 100 MB; its tables are there one by one",))
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
        scenarios=", ".join(site.names.scenario(s) for s in site.scenarios[:5])
        + (f" and {len(site.scenarios) - 5} more" if len(site.scenarios) > 5 else ""),
        top=tuple(TopModel(dataclasses.replace(row.model, href=prefix + row.model.href), row.rank_text,
                           row.score.text)
                  for row in rows),
        headline=index.summary[0] if index.summary else "",
    )


MODEL_PARQUET_UP_TO = 500  # larger boards give model pages CSV and JSON twins only (see _model_pages)


def _model_pages(site: SiteIndex) -> tuple[list[ModelPage], list[Download]]:
    data, per_scenario = site.data, site.data.scenario_intervals
    metadata = data.models.set_index("model")
    notes = model_notes_of(site)
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
        IntervalPoint(site.names.model(m), float(r), as_float(lo), as_float(hi))
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
                scenario=site.scenario_link(path, r["scenario"]),
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
            page=site.page(path, site.names.model(rec.model), "model.html", model_downloads),
            model=site.names.model(rec.model),
            model_id=rec.model,
            url=site.names.model_urls.get(rec.model, ""),
            rank_text=format_rank(int(rec.rank), rec.rank_lo, rec.rank_hi),
            score_text=format_score(rec.score) + (
                f" ({site.confidence} interval {format_interval(rec.score_lo, rec.score_hi)})"
                if not missing(rec.score_lo) else ""),
            coverage_text=(f"{plural(int(rec.n_scenarios), 'scenario')} (one aggregated score each, no items)"
                           if missing(rec.coverage) else
                           f"{plural(int(rec.n_items), 'item')} in {plural(int(rec.n_scenarios), 'scenario')} "
                           f"({rec.coverage:.1%} of all items)"),
            metadata=_metadata_items(metadata, rec.model, ("display_name", *(
                URL_COLUMNS if rec.model in site.names.model_urls else ()))),
            rows=result_rows,
            strongest=tuple(site.scenario_link(path, s) for s in strongest_weakest(by_rank)[0]),
            weakest=tuple(site.scenario_link(path, s) for s in strongest_weakest(by_rank)[1]),
            flash_text=flash_text(site.flash_rows.get(rec.model)),
            notes=tuple(notes.get(rec.model, ())) + trend_notes.get(rec.model, ()),
            compare_links=_compare_links(site, path, rec.model, board_order, place),
            distribution_chart=Markup("") if missing(rec.rank_lo) else bar_chart(
                shares_by_model.get(rec.model, []),
                title=f"How often {site.names.model(rec.model)} took each rank over the bootstrap resamples",
                x_label="rank", y_label="share of resamples", chart_id="distribution",
            ),
            scenario_chart=interval_plot(
                [IntervalPoint(site.names.scenario(r["scenario"]), as_float(r["score"]), as_float(r["score_lo"]),
                               as_float(r["score_hi"])) for r in mine],
                title=f"Score of {site.names.model(rec.model)} in each scenario with its {site.confidence} interval",
                x_label="score", domain=_domain_of([r[k] for r in mine for k in ("score", "score_lo", "score_hi")]),
                chart_id="scenario-scores",
            ),
            neighbourhood_chart=_neighbourhood_chart(site, rec.model, place[rec.model], board_points),
            places=tuple(dataclasses.replace(p, href=site.shared(path, p.href))
                         for p in (site.nav.places.get(rec.model, ()) if site.nav else ())),
        ))
    return pages, downloads


def _domain_of(values: list, empty: tuple[float, float] = (0.0, 1.0)) -> tuple[float, float]:
    """Return the axis of a chart of plain score values (None or NaN: missing), `empty` without any: [0, 1]
    for scores on it, else their range padded by 5% on each side."""
    known = [float(v) for v in values if not missing(v)]
    if not known:
        return empty
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
        around, title=f"Rank of the models around {site.names.model(model)} with their {site.confidence} intervals "
                      "(rank 1 = best)",
        x_label="rank", domain=(int(min(ends)), max(int(max(ends)), int(min(ends)) + 1)), integer_axis=True,
        chart_id="neighbourhood",
    )


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
    return tuple(Link(f"{page}#a={site.model_slug[model]}&b={site.model_slug[other]}",
                      f"Compare with {site.names.model(other)}")
                 for other in neighbours) + (Link(f"{page}#a={site.model_slug[model]}", "with any other model"),)


def _scenario_abouts(site: SiteIndex) -> dict[str, str]:
    """Return each scenario's description: effbench.toml's [scenarios] first, else what the loaded files
    say (the first row of the scenario's), else ""."""
    table = site.data.scenarios
    loaded: dict[str, str] = {}
    if "description" in table.columns:
        for scenario, value in zip(table["scenario"], table["description"], strict=True):
            if scenario not in loaded:
                loaded[scenario] = "" if missing(value) else str(value).strip()
    configured = site.settings.scenario_descriptions
    return {s: configured[s].strip() if configured.get(s) else loaded.get(s, "") for s in site.scenarios}


def _scenario_pages(site: SiteIndex) -> tuple[list[ScenarioPage], list[Download]]:
    per_scenario = site.data.scenario_intervals
    # Site-wide values and each scenario's rows are found once, not once per page (a board may have thousands):
    # one sort and one pass turn every row into plain values, as each scenario's frame would give them.
    columns = tuple(per_scenario.columns)
    by_scenario: dict[str, list[dict[str, Any]]] = {}
    for record in per_scenario.sort_values(["rank", "model"], kind="stable").to_dict("records"):
        by_scenario.setdefault(record["scenario"], []).append({k: plain(v) for k, v in record.items()})
    lower = set(lower_is_better(site.data))
    abouts = _scenario_abouts(site)
    pages, downloads = [], []
    for s in site.scenarios:
        path = site.scenario_paths[s]
        theirs = by_scenario.get(s, [])
        scenario_downloads = table_downloads(f"data/scenarios/{site.scenario_slug[s]}",
                                             Table(f"scenario {s}", columns, tuple(theirs)))
        downloads += scenario_downloads
        n_with_results = len(theirs)
        shown = theirs[:INDEX_ROWS]  # a large board's page shows the top; its CSV holds every model
        pages.append(ScenarioPage(
            page=site.page(path, site.names.scenario(s), "scenario.html", scenario_downloads),
            scenario=site.names.scenario(s),
            scenario_id=s,
            description=_scenario_description(site.levels[s], site.items_total[s], n_with_results)
            + (" Lower scores are better here: they are shown negated, so higher is still better."
               if s in lower else ""),
            about=abouts[s],
            agreement=_agreement_text(theirs, site.overall_rank),
            rows=tuple(
                ModelResultRow(
                    model=site.model_link(path, r["model"]),
                    rank_text=format_rank(int(r["rank"]), r["rank_lo"], r["rank_hi"]),
                    score=Cell(as_float(r["score"]), format_score(r["score"])),
                    score_interval=format_interval(r["score_lo"], r["score_hi"]),
                    overall_rank=int(site.overall_rank[r["model"]]),
                    items=_items_text(r["n_items"], site.items_total[s], site.levels[s]),
                )
                for r in shown
            ),
            chart=interval_plot(
                [IntervalPoint(site.names.model(r["model"]), as_float(r["score"]), as_float(r["score_lo"]),
                               as_float(r["score_hi"])) for r in shown],
                title=(f"Score of each model in {site.names.scenario(s)} with its {site.confidence} interval"
                       if len(shown) == n_with_results else
                       f"Score of the top {len(shown)} models in {site.names.scenario(s)} with their "
                       f"{site.confidence} intervals"),
                x_label="score", domain=_domain_of([r[k] for r in theirs for k in ("score", "score_lo", "score_hi")],
                                                   empty=(math.nan, math.nan)),
                chart_id="model-scores",
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
    page = reliability_page(data, site.page(RELIABILITY_PAGE, "Reliability", "reliability.html", downloads),
                            site.names)
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
                      lambda m: site.model_link(FLASH_PAGE, m))
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
        rank_order=site.models, rank_text=rank_text, names=site.names,
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
        example_model=site.names.model(example["model"]),
        example_rank=format_rank(int(example["rank"]), example["rank_lo"], example["rank_hi"]),
    )], []


def _changes_pages(site: SiteIndex) -> tuple[list[ChangesPage], list[Download]]:
    """The changes page and its Atom feed, once a build has been recorded."""
    if not site.updates:
        return [], []
    page = site.page(CHANGES_PAGE, "What changed", "changes.html", [])
    views = update_views(site.updates,
                         lambda m: site.model_link(CHANGES_PAGE, m) if m in site.model_paths else None,
                         lambda s: site.scenario_link(CHANGES_PAGE, s) if s in site.scenario_paths else None)
    board = site.nav.name if site.nav else ""
    title = f"{site.title} · {site.nav.title}" if site.nav else site.title
    return [ChangesPage(page=page, updates=views, feed=page.changes_feed, feed_path=CHANGES_FEED,
                        feed_text=atom_feed(views, title=title, board=board, page_href=CHANGES_PAGE))], []


def strongest_weakest(by_rank: list[str], most: int = 3) -> tuple[list[str], list[str]]:
    """Return the strongest and the weakest scenarios (weakest first) of a model's scenarios in rank
    order: at most `most` each and at most half of them each, so that no scenario is named both."""
    k = min(most, len(by_rank) // 2)
    return by_rank[:k], by_rank[::-1][:k]


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


def _items_text(n_items: int, total: int, level: str) -> str:
    if level == "scenario":
        return "one score (no items)"
    return f"{int(n_items):,} of {int(total):,}"


def _coverage_cell(n_items: int, total: int, level: str) -> Cell:
    if level == "scenario" or not total:
        return Cell(None, "")
    share = n_items / total
    return Cell(share, f"{share:.1%}")


def _scenario_description(level: str, n_items: int, n_models: int) -> str:
    if level == "scenario":
        return (f"{n_models} models, one score each (loaded from an aggregated table: no items, so no "
                "intervals).")
    return f"{int(n_items):,} items, {n_models} models with results."


def _agreement_text(rows: list[dict[str, Any]], overall_rank: dict[str, int]) -> str:
    """Return how a scenario's ranking agrees with the overall one, from its rows (plain values)."""
    if len(rows) < 3:
        return "Too few models to compare this scenario's ranking with the overall one."
    tau = scipy_stats.kendalltau([as_float(r["score"]) for r in rows],
                                 [-overall_rank[r["model"]] for r in rows]).statistic
    strength = "strongly" if tau >= 0.8 else "moderately" if tau >= 0.5 else "weakly" if tau >= 0.2 else "hardly"
    return (f"Kendall's tau between this scenario's scores and the overall ranking is {tau:.2f} (1 = same order, "
            f"0 = unrelated): this scenario {strength} agrees with the overall ranking.")


METADATA_LABELS = {"organization": "organisation", "org": "organisation", "params_b": "parameters (billions)",
                   "active_params_b": "active parameters (billions)", "license": "licence"}


def _metadata_items(metadata: pd.DataFrame, model: str, shown: Sequence[str] = ()) -> tuple[tuple[str, str], ...]:
    """Return the model's metadata as (label, text), but for the columns `shown` elsewhere on its page."""
    if model not in metadata.index:
        return ()
    items = []
    for column, value in metadata.loc[model].items():
        if missing(value) or column in shown:
            continue
        label = METADATA_LABELS.get(str(column), str(column).replace("_", " "))
        items.append((label, metadata_cell(value).text))
    return tuple(items)
