"""A board's embeddable table (embed.html): its top models, with their intervals and tiers, for an
<iframe> on another page; and the <iframe> element the index offers to copy."""

from __future__ import annotations

import html

from effbench.render.analyses import tiers_of
from effbench.render.contexts import EmbedPage, EmbedRow, IndexPage
from effbench.render.site_index import SiteIndex
from effbench.urls import relative_url

EMBED_PAGE = "embed.html"  # beside the board's index.html, so the index rows' links hold for it too
EMBED_ROWS = 10  # models in the table: the top of the board
# The frame the snippet asks for: ten rows of model ids as long as MMLU-Pro's fit in it unscrolled.
FRAME_WIDTH, FRAME_HEIGHT = 600, 400


def embed_page(site: SiteIndex, index: IndexPage) -> EmbedPage:
    """Return the board's embed.html: the first `EMBED_ROWS` rows of `index`, the board's leaderboard, with
    their labels, links, ranks, scores and intervals as the index shows them."""
    rows = [row for group in index.groups for row in (*group.rows, *group.later)][:EMBED_ROWS]
    tiers = tiers_of(site.data)
    return EmbedPage(
        page=site.page(EMBED_PAGE, index.page.title, "embed.html", []),
        heading=embed_heading(site),
        rows=tuple(EmbedRow(model=row.model, rank=row.rank, rank_interval=row.rank_interval, score=row.score.text,
                            score_interval=row.score_interval, tier=tiers[int(row.tier) - 1].label)
                   for row in rows),
        caption=_caption(len(rows), index.n_models, site.confidence, any(row.rank_interval for row in rows)),
        n_models=index.n_models,
        leaderboard=relative_url(EMBED_PAGE, "index.html"),
    )


def embed_heading(site: SiteIndex) -> str:
    """Return the embedded table's heading: the site's title, and the board's on a site of several."""
    return f"{site.title} · {site.nav.title}" if site.nav else site.title


def iframe_snippet(site: SiteIndex) -> str:
    """Return the <iframe> element that shows the board's embed.html, as text (its `src` relative to the
    board's index: the site does not know the address it is published at)."""
    title = html.escape(f"{embed_heading(site)}: top models", quote=True)
    return (f'<iframe src="{relative_url("index.html", EMBED_PAGE)}" title="{title}" width="{FRAME_WIDTH}" '
            f'height="{FRAME_HEIGHT}" style="border: 0" loading="lazy"></iframe>')


def _caption(shown: int, n_models: int, confidence: str, intervals: bool) -> str:
    which = (f"The top {shown} of {n_models:,} models" if shown < n_models
             else "The only model" if n_models == 1 else f"All {n_models} models")
    if not intervals:
        return f"{which} by rank (1 = best); no intervals: these results have no per-item data."
    return f"{which} by rank (1 = best), with their {confidence} bootstrap intervals over the items in brackets."
