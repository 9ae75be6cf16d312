"""The typed context of every page type: templates use these names and no others.

Each page gets one frozen dataclass; the shared parts of every page live in `Page`. A template that
asks for a name a context does not have fails the build (the environment is strict).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from markupsafe import Markup

from effbench.render.values import Cell, Column, Download, HeatCell, Link

# ---------------------------------------------------------------------------------------------
# Page contexts


@dataclass(frozen=True)
class Credit:
    text: str
    license_name: str
    license_href: str
    homepage: str


@dataclass(frozen=True)
class Page:
    """What every page has. `links` are relative to this page."""

    path: str
    title: str
    site_title: str
    template: str
    stylesheet: str
    script: str
    home: str
    guide: str
    reliability: str
    flash: str  # "" when there is no Flash page
    credits: tuple[Credit, ...]
    downloads: tuple[Link, ...]
    query: str  # a "query it yourself" command for this page's first table, or ""
    database: str  # the database download, or "" when it is too large for the site (then `database_note`)
    database_note: str
    parameters: str
    confidence: str
    version: str
    compare: str  # the compare view
    provenance: str  # the sources and citation page
    favicon: str
    skip_target: str  # id of the element the skip link jumps to
    compare_script: str
    trend_links: tuple[Link, ...]  # Scaling, Contamination, Groups: the ones this data has
    changes: str = ""  # the changes page ("" before any build was recorded)
    changes_feed: str = ""  # its Atom feed
    updated: str = ""  # when the leaderboard last changed, "2026-12-05" ("" before any build was recorded)
    overview: str = ""  # on a site of several boards, the overview of them all ("" on a site of one board)
    board_title: str = ""  # on a site of several boards, the title of the board this page is of
    board_links: tuple[Link, ...] = ()  # the overview page's navigation: every board
    leaderboard_query: str = "from leaderboard"  # DuckDB's query of this page's leaderboard in the database


@dataclass(frozen=True)
class LeaderboardRow:
    model: Link
    rank: int
    rank_text: str
    score: Cell
    score_interval: str
    scenario_cells: tuple[HeatCell, ...]
    metadata_cells: tuple[Cell, ...]
    coverage: Cell
    flash_cost: Cell
    notes: tuple[str, ...]
    tier: str  # 1-based tier number, for the tier filter
    organisation: str
    open_weights: str  # "yes", "no" or "" (unknown)
    params: str  # parameters in billions as a plain number, "" when unknown (for the range filter)
    released: str  # release date as YYYY-MM-DD, "" when unknown (for the date filter)
    rank_interval: str  # "2–4" or "" (shown under the score on a phone)
    model_id: str = ""  # the model's id (`model` shows its display name)
    licence: str = ""  # from the metadata, for the licence filter ("" when unknown)
    complete: str = "yes"  # "yes" with results in every scenario on every item, else "no" (for the filter)


@dataclass(frozen=True)
class TierGroup:
    """The rows of one tier: its rank resolution in words and whether the data resolves its ranks that
    finely (`reached`, in words)."""

    description: str
    reached: str
    rows: tuple[LeaderboardRow, ...]  # the rows shown in index.html
    later: tuple[LeaderboardRow, ...] = ()  # the tier's rows beyond the index's first ones (in the rows file)


@dataclass(frozen=True)
class RangeFilter:
    """A numeric or date range filter of the leaderboard: the row attribute it reads and its bounds."""

    name: str  # the form field prefix and the row's data attribute
    label: str
    kind: str  # "number" or "date"
    low: str
    high: str


@dataclass(frozen=True)
class IndexPage:
    page: Page
    scenario_columns: tuple[Column, ...]
    metadata_columns: tuple[Column, ...]
    groups: tuple[TierGroup, ...]
    n_columns: int
    has_flash: bool
    tier_options: tuple[tuple[str, str], ...]  # (value, label)
    organisations: tuple[str, ...]
    has_open_weights: bool
    licences: tuple[str, ...]  # the licences the metadata names, for the filter (none: no filter)
    has_partial: bool  # some model lacks results: the "complete results only" filter is offered
    params_chart: Markup
    summary: tuple[str, ...]
    coverage_policy: str
    chart: Markup
    range_filters: tuple[RangeFilter, ...]
    legend: tuple[str, ...]  # what the shading, the rank interval and the Flash column mean
    n_models: int = 0
    shown_rows: int = 0  # rows in index.html; the others are in `rows_file`
    rows_file: str = ""  # the rest of the rows (a script), relative to the index; "" when all are shown
    full_table: str = ""  # the leaderboard's CSV, for readers without JavaScript
    unranked: tuple[str, ...] = ()  # "model: no results in a, b": models on the board its policy does not rank
    unranked_reason: str = ""  # why, by the board's policy
    board_description: str = ""  # on a site of several boards, what the board is (from its declaration)
    embed: str = ""  # the board's embed.html, relative to the index
    embed_snippet: str = ""  # the <iframe> element that shows it on another page, as text to copy


@dataclass(frozen=True)
class EmbedRow:
    """One model of the embeddable table: its label and page are those of its leaderboard row."""

    model: Link
    rank: int
    rank_interval: str  # "2–4", "" without intervals
    score: str
    score_interval: str  # "0.701–0.731", "" without intervals
    tier: str  # the tier's label, "ranks 2-4"


@dataclass(frozen=True)
class EmbedPage:
    """A board's top models as a compact table to show in an <iframe> on another page: no navigation,
    no script, its style inline (`page.updated` and `page.confidence` come from the board's pages)."""

    page: Page
    heading: str  # the site's title, and on a site of several boards the board's
    rows: tuple[EmbedRow, ...]
    caption: str  # what the rows are and what their intervals are
    n_models: int
    leaderboard: str  # the board's index, relative to this page


@dataclass(frozen=True)
class LeaderboardRowsPage:
    """The leaderboard rows beyond the index's first ones, as a script the index loads (it works from
    file:// where a fetch does not): each tier's `later` rows, rendered by the same macro as the index."""

    page: Page
    groups: tuple[TierGroup, ...]
    has_flash: bool


@dataclass(frozen=True)
class ScenarioResultRow:
    """One scenario as seen from a model's page."""

    scenario: Link
    score: Cell
    score_interval: str
    rank_text: str
    items: str
    coverage: Cell


@dataclass(frozen=True)
class ModelPage:
    page: Page
    model: str  # the name shown: its display name, else its id
    model_id: str
    url: str  # the model's own web page, from its metadata ("" when it has none)
    rank_text: str
    score_text: str
    coverage_text: str
    metadata: tuple[tuple[str, str], ...]
    rows: tuple[ScenarioResultRow, ...]
    strongest: tuple[Link, ...]
    weakest: tuple[Link, ...]
    distribution_chart: Markup
    scenario_chart: Markup
    flash_text: str
    notes: tuple[str, ...]
    compare_links: tuple[Link, ...]  # to the compare view, with this model and its neighbours
    neighbourhood_chart: Markup = Markup("")  # large boards: the rank intervals of the models around it
    places: tuple[ModelPlace, ...] = ()  # on a site of several boards, the model's place on each board it is on


@dataclass(frozen=True)
class ModelPlace:
    """A model's place on one board: the board's title, the model's page there, its rank and score."""

    board: str
    href: str
    rank_text: str
    score_text: str
    current: bool = False  # the board of the page that shows it


@dataclass(frozen=True)
class ModelResultRow:
    """One model as seen from a scenario's page."""

    model: Link
    rank_text: str
    score: Cell
    score_interval: str
    overall_rank: int
    items: str


@dataclass(frozen=True)
class ScenarioPage:
    page: Page
    scenario: str  # the title shown, else the id
    scenario_id: str
    description: str
    about: str  # what the scenario is: from effbench.toml [scenarios], else the loaded files, else ""
    agreement: str
    rows: tuple[ModelResultRow, ...]
    chart: Markup
    rows_note: str = ""  # on a large board: how many of the models `rows` shows ("" when all)
    full_table: str = ""  # the scenario's CSV, named by `rows_note`


@dataclass(frozen=True)
class DiorTableRow:
    level: str
    cells: tuple[str, ...]


@dataclass(frozen=True)
class DiorTable:
    """The DIoR of one decision at each of its levels, one column per meta-metric."""

    decision: str
    title: str
    explanation: str
    columns: tuple[str, ...]
    rows: tuple[DiorTableRow, ...]


@dataclass(frozen=True)
class ResolutionRow:
    examples: str
    half_width: str
    compute: str
    saved: str


@dataclass(frozen=True)
class MicroRankRow:
    """One model ranked with every item weighing the same, next to its rank with every scenario the same."""

    model: str
    macro_rank: str
    micro_rank: str  # "3 (2–4)"
    micro_score: str
    moved: str  # "up 2", "down 1", "" when unchanged


@dataclass(frozen=True)
class ReliabilityPage:
    page: Page
    parameters_text: str
    target_text: str  # the one reliability target the site uses, and why
    recommendations: tuple[str, ...]
    examples_chart: Markup
    scenarios_chart: Markup
    allocation_chart: Markup
    agreement_chart: Markup
    resolution: tuple[ResolutionRow, ...]
    tables: tuple[DiorTable, ...]
    mwr_changes: tuple[str, ...]
    disagreements: tuple[str, ...]
    # Scenarios too small to weigh like the others, in words (empty when none is).
    tiny_scenarios: tuple[str, ...] = ()
    # The ranking with every item weighing the same (micro) next to the ranked one (macro).
    weighting_text: str = ""
    micro_rows: tuple[MicroRankRow, ...] = ()
    micro_note: str = ""  # on a large board: how many of the models `micro_rows` shows ("" when all)


@dataclass(frozen=True)
class FlashVariantRow:
    """One Flash variant replayed over several item orders."""

    variant: str
    is_default: bool
    saving: str  # mean over the seeds, "x25.6"
    saving_range: str  # "x24.9–x26.5"
    within_resolution: str  # strict: within the resolution of the reported and the true tier
    within_early: str  # the same among replays that stopped before using every item
    every_item: str  # replays that used every item, "3 of 145"
    largest_error: int
    coverage: str
    seeds: int


@dataclass(frozen=True)
class FlashModelRow:
    model: Link
    full_rank: str
    flash_rank: str
    stop_stage: str
    items: str
    saving: str
    within: str


@dataclass(frozen=True)
class FlashPage:
    page: Page
    variant: str
    method: tuple[str, ...]
    stop_rule: tuple[str, ...]  # the stop rule and why it keeps the guarantee, in plain words
    variants: tuple[FlashVariantRow, ...]
    tiers: tuple[str, ...]
    tier_rule: tuple[str, str]  # which rule sets the tiers (before the list); where the full run widens them
    chart: Markup
    stops: tuple[tuple[str, int], ...]  # stage, models that stopped there
    rows: tuple[FlashModelRow, ...]
    rows_note: str = ""  # on a large board: how many of the replayed models `rows` shows ("" when all)


@dataclass(frozen=True)
class ComparePage:
    """Two models side by side; the page's script reads every pair from `data` (JSON)."""

    page: Page
    models: tuple[tuple[str, str], ...]  # (slug, name) in rank order, for the choosers
    data: dict  # the models and scenarios; the template writes it with Jinja's `tojson`
    first: str  # slugs of the pair shown without a hash: the top two
    second: str
    pair_files: dict[str, str]  # site path -> script with the pairs the page loads (not used by the template)
    options_once: bool = False  # a large board: chooser B gets chooser A's options from the script (half the weight)


@dataclass(frozen=True)
class SourceRow:
    name: str
    sha256: str
    kind: str
    format: str
    rows: str
    loaded_at: str
    license: str
    credit: str


@dataclass(frozen=True)
class ProvenancePage:
    page: Page
    built: str
    version: str
    analyses: tuple[str, ...]
    sources: tuple[SourceRow, ...]
    citation: str  # BibTeX of this leaderboard, "" when not configured
    method_citation: str  # BibTeX of the paper the method follows


@dataclass(frozen=True)
class ChangesPage:
    page: Page
    updates: tuple  # render.changes.UpdateView, newest first
    feed: str  # the Atom feed's link from the page
    feed_path: str  # the feed's site path, and its text (not used by the template)
    feed_text: str


@dataclass(frozen=True)
class GuidePage:
    page: Page
    n_resamples: int
    confidence: str
    seed: int
    example_model: str
    example_rank: str


@dataclass(frozen=True)
class TopModel:
    model: Link
    rank_text: str
    score_text: str


@dataclass(frozen=True)
class BoardCard:
    """One board on the overview page: what it ranks, its first models and how certain its ranking is."""

    title: str
    href: str
    description: str
    n_models: int
    n_scenarios: int
    n_unranked: int
    scenarios: str  # the first scenario names, for the reader
    top: tuple[TopModel, ...]
    headline: str


@dataclass(frozen=True)
class OverviewPage:
    """The front page of a site of several boards: one card per board."""

    page: Page
    cards: tuple[BoardCard, ...]
    n_models: int  # distinct models over all boards


@dataclass(frozen=True)
class SitePlan:
    """Every page of the site, computed before any file is written."""

    pages: tuple[IndexPage | LeaderboardRowsPage | EmbedPage | ModelPage | ScenarioPage | ReliabilityPage
                 | FlashPage | GuidePage | ComparePage | ProvenancePage | OverviewPage, ...]
    downloads: tuple[Download, ...]
    licenses: tuple[tuple[str, Path], ...]  # (site path, bundled file)
    extra_files: dict[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()  # for whoever builds the site (e.g. what was left out of it, and why)
    card: BoardCard | None = None  # on a site of several boards, this board's card on the overview
