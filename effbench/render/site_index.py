"""What every page builder looks up (`SiteIndex`): where each page lives, the shared figures and
parameters, and the shared part of each page's context."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from effbench import __version__
from effbench.compare import Comparisons
from effbench.config import SiteConfig
from effbench.history import Update
from effbench.queries import SiteData
from effbench.render.boards import OVERVIEW_PAGE, BoardNav
from effbench.render.changes import CHANGES_FEED, CHANGES_PAGE
from effbench.render.contexts import Credit, Page
from effbench.render.names import Names
from effbench.render.trend_data import TrendAnalyses
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
    Download,
    Link,
    query_snippet,
)
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
    updates: tuple[Update, ...] = ()  # the board's recorded changes, newest first (`effbench.history`)
    names: Names = Names({}, {}, {})  # display names and titles; ids where there are none

    @classmethod
    def of(cls, data: SiteData, title: str, credits: tuple[Credit, ...], comparisons: Comparisons | None = None,
           settings: SiteConfig | None = None, trends: TrendAnalyses | None = None,
           database_bytes: int = 0, nav: BoardNav | None = None, updates: tuple[Update, ...] = ()) -> SiteIndex:
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
                        f"score = {analysis['aggregation']}; {rank_method_text(analysis, confidence)}."),
            credits=credits,
            items_total=dict(zip(data.scenarios["scenario"], data.scenarios["n_items"], strict=True)),
            levels=dict(zip(data.scenarios["scenario"], data.scenarios["level"], strict=True)),
            overall_rank=dict(zip(board["model"], board["rank"], strict=True)),
            flash_rows={r.model: r for r in default_flash.itertuples(index=False)},
            has_flash_page=data.flash_analysis is not None and not data.flash.empty,
            comparisons=comparisons if len(models) > 1 else None,  # one model: nothing to compare
            settings=settings or SiteConfig(), trends=trends, database_bytes=database_bytes, nav=nav,
            updates=updates,
            names=Names.of(models + tuple(data.unranked_models["model"]), scenarios, data.models, data.scenarios,
                           (settings or SiteConfig()).scenario_titles),
        )

    def model_link(self, path: str, model: str) -> Link:
        """Return the link from page `path` to `model`'s page, by its display name, its id as tooltip (no
        link for a model without a page on this board)."""
        name = self.names.model(model)
        href = relative_url(path, self.model_paths[model]) if model in self.model_paths else ""
        return Link(href, name, model if name != model else "")

    def scenario_link(self, path: str, scenario: str) -> Link:
        """Return the link from page `path` to `scenario`'s page, by its title, its id as tooltip."""
        name = self.names.scenario(scenario)
        href = relative_url(path, self.scenario_paths[scenario]) if scenario in self.scenario_paths else ""
        return Link(href, name, scenario if name != scenario else "")

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
            changes=relative_url(path, CHANGES_PAGE) if self.updates else "",
            changes_feed=relative_url(path, CHANGES_FEED) if self.updates else "",
            updated=self.updates[0].at.strftime("%Y-%m-%d") if self.updates else "",
            overview=self.shared(path, OVERVIEW_PAGE) if self.nav else "",
            board_title=self.nav.title if self.nav else "",
            leaderboard_query="from leaderboard" + (
                " where board = '{}'".format(self.nav.name.replace("'", "''")) if self.nav else ""),
        )


def rank_method_text(analysis: dict, confidence: str) -> str:
    """Say which rank intervals are shown: each model's own (marginal) or all at once (simultaneous)."""
    method = json.loads(analysis.get("options") or "{}").get("rank_method", "marginal")
    if method == "simultaneous":
        return (f"rank intervals from paired differences to every other model, simultaneous: all of them hold "
                f"the models' ranks at once with {confidence} confidence")
    return (f"rank intervals from paired differences to every other model, marginal: each holds its model's rank "
            f"with {confidence} confidence (effbench build --simultaneous shows intervals that hold all at once)")
