"""Sites of several boards: each board's pages in a folder of its own, and an overview in front.

A board's pages are computed as a site of their own (`site_pages` with a `BoardNav`), with links
relative to the board's folder, then moved under ``boards/<slug>/``; what all boards share (style,
scripts, the database) stays at the site's root, linked from every page through the board's prefix.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from effbench import __version__
from effbench.boards import Board
from effbench.formatting import format_rank, format_score, missing
from effbench.render.contexts import Credit, ModelPlace, OverviewPage, Page, SitePlan
from effbench.render.values import (
    COMPARE_SCRIPT,
    DATABASE_DOWNLOAD,
    FAVICON,
    MAX_SITE_FILE_BYTES,
    SCRIPT,
    STYLESHEET,
    Download,
    Link,
)
from effbench.urls import relative_url, unique_slugs

BOARDS_FOLDER = "boards"
OVERVIEW_PAGE = "index.html"


@dataclass(frozen=True)
class BoardNav:
    """Where one board's pages sit on a site of several boards, and every model's place on each board
    (`places`: the hrefs are site paths from the site's root)."""

    name: str
    title: str
    prefix: str  # the board's folder, "boards/<slug>/"
    places: Mapping[str, tuple[ModelPlace, ...]]

    @classmethod
    def of(cls, board: Board, boards: Sequence[Board], ranks: pd.DataFrame) -> BoardNav:
        """Return the navigation of `board` among `boards`, with each model's place from `ranks` (the
        `rank_intervals` rows of every board: board, model, rank, rank_lo, rank_hi, score)."""
        places: dict[str, list[ModelPlace]] = {}
        for other in boards:
            slugs = unique_slugs(other.ranked)  # as `SiteIndex.of` names the model pages of that board
            for rec in ranks[ranks["board"] == other.name].itertuples(index=False):
                places.setdefault(rec.model, []).append(ModelPlace(
                    other.title, f"{board_prefix(other)}models/{slugs[rec.model]}.html",
                    format_rank(int(rec.rank), rec.rank_lo, rec.rank_hi), format_score(rec.score),
                    current=other.name == board.name))
        return cls(board.name, board.title, board_prefix(board), {m: tuple(p) for m, p in places.items()})


def board_prefix(board: Board) -> str:
    return f"{BOARDS_FOLDER}/{board.slug}/"


def relocate(plan: SitePlan, prefix: str) -> SitePlan:
    """Return `plan` with every file moved under `prefix`; the database and `.nojekyll`, which the
    whole site shares, are left to the overview."""
    pages = tuple(dataclasses.replace(p, page=dataclasses.replace(p.page, path=prefix + p.page.path))
                  for p in plan.pages)
    downloads = tuple(dataclasses.replace(d, path=prefix + d.path) for d in plan.downloads if d.table is not None)
    return dataclasses.replace(
        plan, pages=pages, downloads=downloads,
        licenses=tuple((prefix + path, source) for path, source in plan.licenses),
        extra_files={prefix + path: text for path, text in plan.extra_files.items() if path != ".nojekyll"})


def overview_site(plans: Sequence[SitePlan], *, title: str, database_bytes: int = 0) -> SitePlan:
    """Return the site of several boards: an overview page with one card per board (`plans`, each from
    `site_pages` with a `BoardNav`, already under its folder), the boards' pages, and the shared database."""
    cards = tuple(plan.card for plan in plans if plan.card is not None)
    ships_database = database_bytes <= MAX_SITE_FILE_BYTES
    database = [Download(DATABASE_DOWNLOAD, "DuckDB database (all boards' results and analyses)")
                ] if ships_database else []
    credits: dict[tuple[str, str], Credit] = {}
    for plan in plans:
        board_index = plan.pages[0].page
        prefix = board_index.path.rsplit("/", 1)[0] + "/"
        for credit in board_index.credits:  # relative to the board's index: its folder is the prefix
            credits.setdefault((credit.text, credit.license_name), Credit(
                credit.text, credit.license_name, relative_url(OVERVIEW_PAGE, prefix + credit.license_href),
                credit.homepage))
    first = plans[0].pages[0].page
    page = Page(
        path=OVERVIEW_PAGE, title=title, site_title=title, template="overview.html",
        stylesheet=relative_url(OVERVIEW_PAGE, STYLESHEET), script=relative_url(OVERVIEW_PAGE, SCRIPT),
        home=OVERVIEW_PAGE, guide=_from_board_index(first, first.guide), reliability="", flash="",
        credits=tuple(credits.values()),
        downloads=tuple(Link(relative_url(OVERVIEW_PAGE, d.path), d.label) for d in database),
        query="", database=relative_url(OVERVIEW_PAGE, DATABASE_DOWNLOAD) if ships_database else "",
        database_note="" if ships_database else (
            f"The DuckDB database of all results and analyses ({database_bytes / 1e6:,.0f} MB) is not on this "
            "site: GitHub Pages takes files of at most 100 MB. Each board's tables are on its pages."),
        parameters=first.parameters, confidence=first.confidence, version=__version__, compare="",
        provenance="", favicon=relative_url(OVERVIEW_PAGE, FAVICON), skip_target="boards",
        compare_script=relative_url(OVERVIEW_PAGE, COMPARE_SCRIPT), trend_links=(),
        overview=OVERVIEW_PAGE, board_links=tuple(Link(c.href, c.title) for c in cards),
    )
    models = {p.model for plan in plans for p in plan.pages if p.page.template == "model.html"}
    overview = OverviewPage(page=page, cards=cards, n_models=len(models))
    warnings = tuple(dict.fromkeys(w for plan in plans for w in plan.warnings))
    return SitePlan(
        pages=(overview, *(p for plan in plans for p in plan.pages)),
        downloads=(*database, *(d for plan in plans for d in plan.downloads)),
        licenses=tuple(dict.fromkeys(item for plan in plans for item in plan.licenses)),
        extra_files={".nojekyll": "", **{k: v for plan in plans for k, v in plan.extra_files.items()}},
        warnings=warnings,
    )


def _from_board_index(board_index: Page, link: str) -> str:
    """Return `link`, relative to a board's index page, as a link from the overview."""
    prefix = board_index.path.rsplit("/", 1)[0] + "/"
    return relative_url(OVERVIEW_PAGE, prefix + link) if not missing(link) and link else ""
