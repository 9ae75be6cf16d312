"""The static site: typed page contexts from the stored analyses, rendered by Jinja templates.

`site_pages` computes every page (context, template, downloads) before anything is written;
`write_site` renders and writes them with the strict `SiteWriter`. Templates only display what a
context holds: every number arrives formatted, every link arrives relative.
"""

from __future__ import annotations

import csv
import io
import json
import math
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import jinja2
import numpy as np
import pandas as pd
from markupsafe import Markup
from scipy import stats as scipy_stats

from effbench import __version__
from effbench.examples import EXAMPLES, data_path
from effbench.load import file_sha256
from effbench.plots import (
    IntervalPoint,
    Series,
    bar_chart,
    interval_plot,
    line_chart,
    matrix_chart,
    rank_bar,
    scatter_chart,
)
from effbench.sql import quote_literal
from effbench.store import SiteData
from effbench.tiers import DEFAULT_TIERS, Tier, tier_index
from effbench.urls import relative_url, unique_slugs
from effbench.writer import SiteWriter

DATABASE_DOWNLOAD = "data/effbench.duckdb"
RELIABILITY_PAGE = "reliability.html"
FLASH_PAGE = "flash.html"
STYLESHEET = "static/style.css"
SCRIPT = "static/leaderboard.js"


# ---------------------------------------------------------------------------------------------
# Values and tables


@dataclass(frozen=True)
class Cell:
    """A table value: the raw number for sorting and machine-readable twins, and its display text."""

    value: float | None
    text: str


@dataclass(frozen=True)
class HeatCell:
    """A score cell coloured by its place in its column (colour-blind-safe blues), value printed in it."""

    value: float | None
    text: str
    style: str  # the CSS class of its colour step


@dataclass(frozen=True)
class Column:
    """A sortable leaderboard column: `key` names it in the page (and the URL hash), `first` is the
    direction of the first click (desc for scores, where higher is better)."""

    key: str
    label: str
    first: str = "asc"
    href: str = ""


@dataclass(frozen=True)
class Link:
    href: str
    text: str


@dataclass(frozen=True)
class Table:
    """A table's machine-readable twin: column names and one record per row, raw values only."""

    name: str
    columns: tuple[str, ...]
    records: tuple[dict[str, Any], ...]

    def to_csv(self) -> str:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=self.columns, lineterminator="\n")
        writer.writeheader()
        for record in self.records:
            writer.writerow({key: "" if _missing(value) else value for key, value in record.items()})
        return buffer.getvalue()

    def to_parquet(self) -> bytes:
        """Return the table as Parquet bytes, written by DuckDB (the same bytes for the same rows)."""
        frame = pd.DataFrame.from_records(
            [{key: None if _missing(value) else value for key, value in record.items()} for record in self.records],
            columns=list(self.columns))
        with tempfile.TemporaryDirectory() as folder:
            target = Path(folder) / "table.parquet"
            con = duckdb.connect()
            try:
                con.register("table_rows", frame)
                con.execute(f"COPY table_rows TO {quote_literal(str(target))} (FORMAT parquet)")
            finally:
                con.close()
            return target.read_bytes()

    def to_json(self) -> str:
        clean = [{key: None if _missing(value) else value for key, value in record.items()}
                 for record in self.records]
        return json.dumps(clean, indent=1, ensure_ascii=False, allow_nan=False) + "\n"


@dataclass(frozen=True)
class Download:
    """A file of the site offered for download, with the table it came from (None for the database)."""

    path: str
    label: str
    table: Table | None = None


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
    parameters: str
    confidence: str
    version: str


@dataclass(frozen=True)
class LeaderboardRow:
    model: Link
    rank: int
    rank_text: str
    rank_bar: Markup
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


@dataclass(frozen=True)
class TierGroup:
    """The rows of one tier, with its rank resolution in words."""

    description: str
    rows: tuple[LeaderboardRow, ...]


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
    params_chart: Markup
    summary: tuple[str, ...]
    coverage_policy: str
    chart: Markup


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
    model: str
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
    scenario: str
    description: str
    agreement: str
    rows: tuple[ModelResultRow, ...]
    chart: Markup


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
class ReliabilityPage:
    page: Page
    parameters_text: str
    recommendations: tuple[str, ...]
    examples_chart: Markup
    scenarios_chart: Markup
    allocation_chart: Markup
    agreement_chart: Markup
    resolution: tuple[ResolutionRow, ...]
    tables: tuple[DiorTable, ...]
    mwr_changes: tuple[str, ...]
    disagreements: tuple[str, ...]


@dataclass(frozen=True)
class FlashVariantRow:
    variant: str
    saving: str
    within_resolution: str
    largest_error: int
    coverage: str


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
    variants: tuple[FlashVariantRow, ...]
    tiers: tuple[str, ...]
    chart: Markup
    stops: tuple[tuple[str, int], ...]  # stage, models that stopped there
    rows: tuple[FlashModelRow, ...]


@dataclass(frozen=True)
class GuidePage:
    page: Page
    n_resamples: int
    confidence: str
    seed: int
    example_model: str
    example_rank: str


@dataclass(frozen=True)
class SitePlan:
    """Every page of the site, computed before any file is written."""

    pages: tuple[IndexPage | ModelPage | ScenarioPage | ReliabilityPage | FlashPage | GuidePage, ...]
    downloads: tuple[Download, ...]
    licenses: tuple[tuple[str, Path], ...]  # (site path, bundled file)
    extra_files: dict[str, str] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# Formatting


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def format_score(value: float | None) -> str:
    """Return a score as text: three decimals (scores on [0, 1]) or three significant figures."""
    if _missing(value):
        return "–"
    if abs(value) < 10:
        return f"{value:.3f}"
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def format_interval(lo: float | None, hi: float | None, formatter=format_score) -> str:
    if _missing(lo) or _missing(hi):
        return ""
    return f"{formatter(lo)}–{formatter(hi)}"


def format_rank(rank: int, lo: float | None, hi: float | None) -> str:
    """Return ``3 (2–4)``: the rank and its interval, or the rank alone where there is none."""
    if _missing(lo) or _missing(hi):
        return str(rank)
    return f"{rank} ({int(lo)}–{int(hi)})"


def _float(value: Any) -> float:
    return math.nan if _missing(value) else float(value)


def _plain(value: Any) -> Any:
    """Return a JSON-friendly Python value for a cell of a pandas frame."""
    if _missing(value):
        return None
    if isinstance(value, np.integer | np.bool_):
        return value.item()
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, pd.Timestamp):  # DuckDB DATE columns arrive as midnight timestamps
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


# ---------------------------------------------------------------------------------------------
# Building the plan


def site_pages(data: SiteData, *, title: str) -> SitePlan:
    """Return every page of the site, its downloads and the licence files to ship, from `data`."""
    board = data.leaderboard
    models = list(board["model"])
    scenarios = list(data.scenarios["scenario"])
    model_slug = unique_slugs(models)
    scenario_slug = unique_slugs(scenarios)
    model_paths = {m: f"models/{model_slug[m]}.html" for m in models}
    scenario_paths = {s: f"scenarios/{scenario_slug[s]}.html" for s in scenarios}
    analysis = data.analysis
    confidence = f"{analysis['confidence_level']:.0%}"
    parameters = (f"{confidence} intervals from a paired bootstrap over items: {int(analysis['n_resamples']):,} "
                  f"resamples, seed {int(analysis['seed'])}; score = {analysis['aggregation']}.")
    credits_and_licenses = _credits(data)
    licenses = tuple((credit.license_href, path) for credit, path in credits_and_licenses)
    credits = tuple(credit for credit, _ in credits_and_licenses)
    per_scenario = data.scenario_intervals
    items_total = dict(zip(data.scenarios["scenario"], data.scenarios["n_items"], strict=True))
    levels = dict(zip(data.scenarios["scenario"], data.scenarios["level"], strict=True))
    n_models = len(models)
    overall_rank = dict(zip(board["model"], board["rank"], strict=True))

    has_flash_page = data.flash_analysis is not None and not data.flash.empty

    def page(path: str, page_title: str, template: str, downloads: Sequence[Download]) -> Page:
        return Page(
            path=path, title=page_title, site_title=title, template=template,
            stylesheet=relative_url(path, STYLESHEET), script=relative_url(path, SCRIPT),
            home=relative_url(path, "index.html"),
            guide=relative_url(path, "how-to-read.html"),
            reliability=relative_url(path, RELIABILITY_PAGE),
            flash=relative_url(path, FLASH_PAGE) if has_flash_page else "",
            credits=tuple(
                Credit(c.text, c.license_name, relative_url(path, c.license_href), c.homepage) for c in credits
            ),
            downloads=tuple(Link(relative_url(path, d.path), d.label) for d in downloads),
            query=_query_snippet(downloads),
            parameters=parameters, confidence=confidence, version=__version__,
        )

    pages: list[Any] = []

    # Leaderboard
    database = Download(DATABASE_DOWNLOAD, "DuckDB database (all results and analyses)")
    board_downloads = [*_table_downloads("data/leaderboard", _frame_table("leaderboard", board)), database]
    downloads: list[Download] = list(board_downloads)
    cells = {(r.model, r.scenario): r for r in per_scenario.itertuples(index=False)}
    column_range = {s: (float(g["score"].min()), float(g["score"].max()))
                    for s, g in per_scenario.groupby("scenario")}
    column_range.update({s: (math.nan, math.nan) for s in scenarios if s not in column_range})
    tiers = _tiers(data)
    meta = {m: {k: v for k, v in row.items() if not _missing(v)}
            for m, row in data.models.set_index("model").to_dict("index").items()}
    organisation_column = next((c for c in ("organization", "organisation", "org") if c in data.models.columns), "")
    metadata_columns = tuple(
        Column(f"meta-{name}", label, first)
        for name, label, first in ((organisation_column, "Organisation", "asc"), ("params_b", "Parameters (B)", "desc"),
                                   ("open_weights", "Open weights", "desc"), ("release_date", "Released", "desc"))
        if name and name in data.models.columns and any(name in v for m, v in meta.items() if m in set(models))
    )
    disagreement_notes = _disagreement_notes(data.disagreements)
    default_flash = data.flash[data.flash["variant"].isin(
        data.flash_summary.loc[data.flash_summary["is_default"], "variant"])]
    flash_rows = {r.model: r for r in default_flash.itertuples(index=False)}
    rows = []
    for rec in board.itertuples(index=False):
        scenario_cells = tuple(
            _heat_cell(_float(cells[(rec.model, s)].score), column_range[s])
            if (rec.model, s) in cells else HeatCell(None, "–", "")
            for s in scenarios
        )
        notes = []
        if not _missing(rec.coverage) and rec.coverage < 1:
            notes.append(f"evaluated on {rec.coverage:.1%} of the items")
        if rec.n_scenarios < len(scenarios):
            notes.append(f"no results in {len(scenarios) - rec.n_scenarios} of {len(scenarios)} scenarios")
        notes.extend(disagreement_notes.get(rec.model, ()))
        rows.append(LeaderboardRow(
            model=Link(relative_url("index.html", model_paths[rec.model]), rec.model),
            rank=int(rec.rank),
            rank_text=format_rank(int(rec.rank), rec.rank_lo, rec.rank_hi),
            rank_bar=rank_bar(int(rec.rank), _float(rec.rank_lo), _float(rec.rank_hi), n_models),
            score=Cell(round(float(rec.score), 6), format_score(rec.score)),
            score_interval=format_interval(rec.score_lo, rec.score_hi),
            scenario_cells=scenario_cells,
            coverage=Cell(round(_float(rec.coverage), 6), "" if _missing(rec.coverage) else f"{rec.coverage:.1%}"),
            flash_cost=_flash_cost(flash_rows.get(rec.model)),
            notes=tuple(notes),
            metadata_cells=tuple(_metadata_cell(meta.get(rec.model, {}).get(c.key[5:])) for c in metadata_columns),
            tier=str(int(tier_index(np.array([int(rec.rank)]), tiers)[0]) + 1),
            organisation=str(meta.get(rec.model, {}).get(organisation_column) or ""),
            open_weights=_yes_no(meta.get(rec.model, {}).get("open_weights")),
        ))
    tier_of = tier_index(np.array([row.rank for row in rows]), tiers) if rows else np.zeros(0, int)
    groups = tuple(
        TierGroup(tiers[t].describe(), tuple(row for row, k in zip(rows, tier_of, strict=True) if k == t))
        for t in sorted(set(tier_of.tolist()))
    )
    pages.append(IndexPage(
        page=page("index.html", title, "index.html", board_downloads),
        scenario_columns=tuple(Column(f"scenario-{i}", s, "desc", relative_url("index.html", scenario_paths[s]))
                               for i, s in enumerate(scenarios)),
        metadata_columns=metadata_columns,
        groups=groups,
        n_columns=5 + len(scenarios) + len(metadata_columns) + (1 if flash_rows else 0),
        has_flash=bool(flash_rows),
        tier_options=tuple((str(t + 1), tiers[t].label) for t in sorted(set(tier_of.tolist()))),
        organisations=tuple(sorted({row.organisation for row in rows if row.organisation})),
        has_open_weights=any(row.open_weights for row in rows),
        params_chart=_params_chart(board, meta, confidence),
        summary=_summary(board, confidence) + tuple(data.recommendations["text"][:1]),
        coverage_policy=_coverage_policy(board),
        chart=interval_plot(
            [IntervalPoint(m, float(r), _float(lo), _float(hi))
             for m, r, lo, hi in zip(board["model"], board["rank"], board["rank_lo"], board["rank_hi"], strict=True)],
            title=f"Rank of each model with its {confidence} interval (rank 1 = best)",
            x_label="rank", domain=(1, max(n_models, 2)), integer_axis=True, chart_id="ranks",
        ),
    ))

    # Model pages
    distribution = data.rank_distribution
    metadata = data.models.set_index("model")
    for rec in board.itertuples(index=False):
        path = model_paths[rec.model]
        mine = per_scenario[per_scenario["model"] == rec.model].sort_values("scenario")
        table = _frame_table(f"model {rec.model}", mine)
        model_downloads = _table_downloads(f"data/models/{model_slug[rec.model]}", table)
        downloads += model_downloads
        result_rows = tuple(
            ScenarioResultRow(
                scenario=Link(relative_url(path, scenario_paths[r.scenario]), r.scenario),
                score=Cell(_float(r.score), format_score(r.score)),
                score_interval=format_interval(r.score_lo, r.score_hi),
                rank_text=format_rank(int(r.rank), r.rank_lo, r.rank_hi),
                items=_items_text(r.n_items, items_total[r.scenario], levels[r.scenario]),
                coverage=_coverage_cell(r.n_items, items_total[r.scenario], levels[r.scenario]),
            )
            for r in mine.itertuples(index=False)
        )
        by_rank = mine.sort_values(["rank", "score"], ascending=[True, False])
        shares = distribution[distribution["model"] == rec.model]
        pages.append(ModelPage(
            page=page(path, rec.model, "model.html", model_downloads),
            model=rec.model,
            rank_text=format_rank(int(rec.rank), rec.rank_lo, rec.rank_hi),
            score_text=format_score(rec.score) + (
                f" ({confidence} interval {format_interval(rec.score_lo, rec.score_hi)})"
                if not _missing(rec.score_lo) else ""),
            coverage_text=(f"{int(rec.n_scenarios)} scenarios (one aggregated score each, no items)"
                           if _missing(rec.coverage) else
                           f"{int(rec.n_items):,} items in {int(rec.n_scenarios)} scenarios "
                           f"({rec.coverage:.1%} of all items)"),
            metadata=_metadata_items(metadata, rec.model),
            rows=result_rows,
            strongest=tuple(Link(relative_url(path, scenario_paths[s]), s) for s in by_rank["scenario"][:3]),
            weakest=tuple(Link(relative_url(path, scenario_paths[s]), s)
                          for s in reversed(list(by_rank["scenario"][-3:]))),
            flash_text=_flash_text(flash_rows.get(rec.model)),
            distribution_chart=Markup("") if _missing(rec.rank_lo) else bar_chart(
                [(str(r), s) for r, s in zip(shares["rank"], shares["share"], strict=True)],
                title=f"How often {rec.model} took each rank over the bootstrap resamples",
                x_label="rank", y_label="share of resamples",
            ),
            scenario_chart=interval_plot(
                [IntervalPoint(r.scenario, _float(r.score), _float(r.score_lo), _float(r.score_hi))
                 for r in mine.itertuples(index=False)],
                title=f"Score of {rec.model} in each scenario with its {confidence} interval",
                x_label="score", domain=_score_domain(mine), chart_id="scenario-scores",
            ),
        ))

    # Scenario pages
    for s in scenarios:
        path = scenario_paths[s]
        theirs = per_scenario[per_scenario["scenario"] == s].sort_values(["rank", "model"])
        table = _frame_table(f"scenario {s}", theirs)
        scenario_downloads = _table_downloads(f"data/scenarios/{scenario_slug[s]}", table)
        downloads += scenario_downloads
        pages.append(ScenarioPage(
            page=page(path, s, "scenario.html", scenario_downloads),
            scenario=s,
            description=_scenario_description(levels[s], items_total[s], len(theirs)),
            agreement=_agreement_text(theirs, overall_rank),
            rows=tuple(
                ModelResultRow(
                    model=Link(relative_url(path, model_paths[r.model]), r.model),
                    rank_text=format_rank(int(r.rank), r.rank_lo, r.rank_hi),
                    score=Cell(_float(r.score), format_score(r.score)),
                    score_interval=format_interval(r.score_lo, r.score_hi),
                    overall_rank=int(overall_rank[r.model]),
                    items=_items_text(r.n_items, items_total[s], levels[s]),
                )
                for r in theirs.itertuples(index=False)
            ),
            chart=interval_plot(
                [IntervalPoint(r.model, _float(r.score), _float(r.score_lo), _float(r.score_hi))
                 for r in theirs.itertuples(index=False)],
                title=f"Score of each model in {s} with its {confidence} interval",
                x_label="score", domain=_score_domain(theirs), chart_id="model-scores",
            ),
        ))

    # Reliability
    if data.dior_analysis is not None:
        reliability_downloads = [
            *_table_downloads("data/dior", _frame_table("dior", data.dior)),
            *_table_downloads("data/rank_resolution", _frame_table("rank_resolution", data.rank_resolution)),
            *_table_downloads("data/scenario_agreement", _frame_table("scenario_agreement", data.scenario_agreement)),
        ]
        downloads += reliability_downloads
        pages.append(_reliability_page(data, page(RELIABILITY_PAGE, "Reliability", "reliability.html",
                                                  reliability_downloads)))

    # Flash
    if has_flash_page:
        flash_downloads = [
            *_table_downloads("data/flash", _frame_table("flash", data.flash)),
            *_table_downloads("data/flash_summary", _frame_table("flash_summary", data.flash_summary)),
        ]
        downloads += flash_downloads
        pages.append(_flash_page(data, page(FLASH_PAGE, "Flash rankings", "flash.html", flash_downloads),
                                 {m: relative_url(FLASH_PAGE, p) for m, p in model_paths.items()}))

    # How to read this
    first = board.iloc[min(2, len(board) - 1)]
    pages.append(GuidePage(
        page=page("how-to-read.html", "How to read this leaderboard", "how-to-read.html", []),
        n_resamples=int(analysis["n_resamples"]), confidence=confidence, seed=int(analysis["seed"]),
        example_model=first["model"],
        example_rank=format_rank(int(first["rank"]), first["rank_lo"], first["rank_hi"]),
    ))
    return SitePlan(pages=tuple(pages), downloads=tuple(downloads), licenses=licenses,
                    extra_files={".nojekyll": ""})


def _table_downloads(stem: str, table: Table) -> list[Download]:
    return [Download(f"{stem}.{kind}", f"{table.name} ({label})", table)
            for kind, label in (("csv", "CSV"), ("json", "JSON"), ("parquet", "Parquet"))]


def _query_snippet(downloads: Sequence[Download]) -> str:
    parquet = next((d for d in downloads if d.path.endswith(".parquet")), None)
    if parquet is None:
        return ""
    name = parquet.path.rsplit("/", 1)[-1]
    return f"duckdb -c \"SELECT * FROM '{name}' LIMIT 10\""


def _frame_table(name: str, frame: pd.DataFrame) -> Table:
    return Table(name, tuple(frame.columns),
                 tuple({k: _plain(v) for k, v in rec.items()} for rec in frame.to_dict("records")))


def _credits(data: SiteData) -> list[tuple[Credit, Path]]:
    """Return the credit and licence file of each bundled example the data came from."""
    loaded = set(data.sources["sha256"])
    found = []
    for example in EXAMPLES.values():
        if file_sha256(example.results_path) in loaded:
            credit = Credit(example.credit, example.license_name, f"licenses/{example.license_file}",
                            example.homepage)
            found.append((credit, data_path(example.license_file)))
    return found


def _summary(board: pd.DataFrame, confidence: str) -> tuple[str, ...]:
    if board["rank_lo"].isna().all():
        return ("These results have no per-item data, so the ranks come without intervals: "
                "effbench cannot tell how much they would move on other items.",)
    width = (board["rank_hi"] - board["rank_lo"] + 1).astype(int)
    exact = int((width == 1).sum())
    lines = [
        f"{exact} of {len(board)} models have an exact rank: their {confidence} rank interval is a single place.",
        f"The median rank interval spans {int(np.median(width))} place(s); the widest spans {int(width.max())}.",
    ]
    overlaps = sum(
        1 for a, b in zip(board.itertuples(index=False), board.iloc[1:].itertuples(index=False), strict=False)
        if not _missing(a.rank_hi) and a.rank_hi >= b.rank_lo
    )
    if overlaps:
        lines.append(f"{overlaps} pair(s) of neighbouring models have overlapping rank intervals: "
                     "their order could change on other items of the same kind.")
    return tuple(lines)


def _coverage_policy(board: pd.DataFrame) -> str:
    partial = board[board["coverage"].fillna(1) < 1]
    policy = ("A model's score in a scenario is its mean over the items it was evaluated on; items it was not "
              "evaluated on are left out, never counted as wrong.")
    if partial.empty:
        return policy + " Every model here was evaluated on every item."
    names = ", ".join(f"{m} ({c:.1%})" for m, c in zip(partial["model"], partial["coverage"], strict=True))
    return policy + f" Models evaluated on part of the items: {names}."


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


def _metadata_items(metadata: pd.DataFrame, model: str) -> tuple[tuple[str, str], ...]:
    if model not in metadata.index:
        return ()
    items = []
    for column, value in metadata.loc[model].items():
        if _missing(value):
            continue
        text = _plain(value)
        if isinstance(text, bool):
            text = "yes" if text else "no"
        items.append((str(column).replace("_", " "), str(text)))
    return tuple(items)


def _flash_page(data: SiteData, page: Page, model_links: dict[str, str]) -> FlashPage:
    summary = data.flash_summary
    default = summary[summary["is_default"]].iloc[0]
    mine = data.flash[data.flash["variant"] == default["variant"]].sort_values(["full_rank", "model"])
    options = json.loads((data.flash_analysis or {}).get("options") or "{}")
    stages = ["all" if s is None else str(s) for s in options.get("stages", [])]
    level = float(options.get("confidence_level", 0.95))
    early = max(len(stages) - 1, 1)
    corrected = options.get("correction") != "none"
    method = (
        f"Each model is treated as new in turn and ranked against the others' full results after "
        f"{', '.join(stages)} items per scenario; the items of each stage contain the previous stage's.",
        ("Order: items spread evenly over difficulty (the other models' mean score on the item), and a regression "
         "estimator that uses that difficulty to correct the model's sampled mean."
         if options.get("order") == "informed" else "Order: a random permutation of each scenario's items."),
        (f"Error control: each of the {early} stages that can stop early uses a {1 - (1 - level) / early:.1%} "
         f"interval (Bonferroni), so the whole procedure keeps {level:.0%}." if corrected else
         f"No correction: each stage uses a {level:.0%} interval, so looking after every stage inflates the error."),
        "A model stops at the first stage where its rank interval lies within its tier's resolution of its "
        "estimated rank; the tier is that of the interval's most optimistic rank, so no model is under-examined.",
    )
    variants = tuple(
        FlashVariantRow(r.variant, f"x{r.saving:.1f}", f"{r.within_resolution:.0%}", int(r.largest_error),
                        f"{r.coverage:.0%}")
        for r in summary.itertuples(index=False)
    )
    resolution = data.rank_resolution
    chart = line_chart(
        [Series("95% of ranks within ±", tuple((float(r.compute_fraction), float(r.half_width),
                                                  f"{r.examples_per_scenario} examples per scenario")
                                                 for r in resolution.itertuples(index=False)))],
        title="Rank resolution against compute: how far ranks move with n examples per scenario",
        x_label="share of all evaluations (log scale)", y_label="rank resolution (± ranks)", chart_id="flash-curve",
        log_x=True, y_domain=(0.0, max(1.0, float(resolution["half_width"].max()) if len(resolution) else 1.0)),
    ) if len(resolution) else Markup("")
    counts = mine["stop_stage"].value_counts()
    stops = tuple((stage, int(counts.get(stage, 0))) for stage in stages)
    rows = tuple(
        FlashModelRow(Link(model_links.get(r.model, ""), r.model), str(r.full_rank),
                      f"{r.flash_rank} ({r.rank_lo}–{r.rank_hi})", r.stop_stage, f"{int(r.items_used):,}",
                      f"x{r.saving:.1f}", "yes" if r.within_resolution else "no")
        for r in mine.itertuples(index=False)
    )
    return FlashPage(page=page, variant=str(default["variant"]), method=method, variants=variants,
                     tiers=tuple(t.describe() for t in _tiers(data)), chart=chart, stops=stops, rows=rows)


def _tiers(data: SiteData) -> tuple[Tier, ...]:
    """The tiers of the stored Flash configuration, else the defaults."""
    options = json.loads((data.flash_analysis or {}).get("options") or "{}")
    if "tiers" not in options:
        return DEFAULT_TIERS
    return tuple(Tier(t["first"], t["last"], t["resolution"]) for t in options["tiers"])


HEAT_STEPS = 9  # classes h0 (lowest in its column) .. h8 (highest); colours in style.css


def _heat_cell(value: float, column: tuple[float, float]) -> HeatCell:
    """Return a cell shaded by its place in its column: class h0 (lowest) to h8 (highest), light to dark
    blue (ColorBrewer Blues, safe for colour-vision deficiencies); style.css gives each step a text
    colour with at least 4.5:1 contrast."""
    if math.isnan(value):
        return HeatCell(None, "–", "")
    low, high = column
    share = 0.5 if not high > low else (value - low) / (high - low)
    return HeatCell(round(value, 6), format_score(value), f"h{min(int(share * HEAT_STEPS), HEAT_STEPS - 1)}")


def _metadata_cell(value: Any) -> Cell:
    if value is None or _missing(value):
        return Cell(None, "")
    plain = _plain(value)
    if isinstance(plain, bool):
        return Cell(1.0 if plain else 0.0, "yes" if plain else "no")
    if isinstance(plain, int | float):
        return Cell(float(plain), f"{plain:g}")
    return Cell(None, str(plain)) if not isinstance(plain, str) else Cell(None, plain)


def _yes_no(value: Any) -> str:
    if value is None or _missing(value):
        return ""
    return "yes" if bool(value) else "no"


def _params_chart(board: pd.DataFrame, meta: dict[str, dict], confidence: str) -> Markup:
    points = [(float(meta[m]["params_b"]), float(score), float(lo) if not _missing(lo) else math.nan,
               float(hi) if not _missing(hi) else math.nan, m)
              for m, score, lo, hi in zip(board["model"], board["score"], board["score_lo"], board["score_hi"],
                                          strict=True)
              if "params_b" in meta.get(m, {}) and float(meta[m]["params_b"]) > 0]
    if len(points) < 3:
        return Markup("")
    return scatter_chart(points, title=f"Score against parameters (billions, log scale), with {confidence} intervals",
                         x_label="parameters (billions, log scale)", y_label="score", chart_id="params")


def _flash_text(row) -> str:
    if row is None:
        return ""
    return (f"Ranked as a new model with Flash, it would have stopped after {row.stop_stage} items per scenario: "
            f"{int(row.items_used):,} of {int(row.items_full):,} evaluations (x{row.saving:.1f} less), at rank "
            f"{row.flash_rank} ({row.rank_lo}–{row.rank_hi}) against {row.full_rank} on all items.")


def _flash_cost(row) -> Cell:
    if row is None:
        return Cell(None, "")
    return Cell(float(row.items_used), f"{int(row.items_used):,} (x{row.saving:.0f} less)" if row.saving >= 1.5
                else f"{int(row.items_used):,} (all)")


def _disagreement_notes(pairs: pd.DataFrame) -> dict[str, list[str]]:
    """One note per model: the models it is tied with overall although they differ scenario by scenario."""
    tied: dict[str, list[str]] = {}
    for pair in pairs.itertuples(index=False):
        tied.setdefault(pair.model_a, []).append(pair.model_b)
        tied.setdefault(pair.model_b, []).append(pair.model_a)
    return {model: [f"within noise of {' and '.join(others)} overall, yet each is clearly better in different "
                    "scenarios"] for model, others in tied.items()}


METRIC_NAMES = {"kendall_tau": "Kendall tau", "weighted_tau": "top-weighted tau", "top1": "same leader",
                "tier_agreement": "within tier", "score_change": "1 - score change"}

DECISION_TEXT = {
    "examples": ("Examples per scenario",
                 "Each scenario keeps a random sample of this many items (without replacement), the same "
                 "sample for every model."),
    "scenarios": ("Which scenarios",
                  "This many scenarios are drawn with replacement from the benchmark's, as in the paper; the "
                  "score is the mean over the drawn ones."),
    "aggregation": ("How scores are combined",
                    "Each alternative to the mean of scenario means, on all the data: the mean over all items "
                    "(micro), HELM's mean win rate, and the mean rank within scenarios."),
    "models": ("Which other models are on the board",
               "This many random models are removed and the others' order compared. The mean score of a model "
               "does not depend on the others; mean win rate does."),
    "prompts": ("Prompts or seeds",
                "At the same number of evaluations: every prompt on fewer items (cross-product), or item and "
                "prompt pairs drawn uniformly."),
    "allocation": ("Budget allocation",
                   "A fixed number of evaluations per model spread over few scenarios with many items, or many "
                   "scenarios with few items."),
}


def _dior_value(row) -> str:
    if row.meta_metric == "top1" or row.lo == row.hi:
        return f"{row.dior:.2f}"
    return f"{row.dior:.2f} (mean {row.mean:.2f})"


def _reliability_page(data: SiteData, page: Page) -> ReliabilityPage:
    dior = data.dior
    analysis = data.dior_analysis or {}
    options = json.loads(analysis.get("options") or "{}")
    target = float(options.get("target", 0.9))
    confidence = f"{analysis.get('confidence_level', 0.95):.0%}"
    tables = []
    for decision, (title, explanation) in DECISION_TEXT.items():
        part = dior[dior["decision"] == decision]
        if part.empty:
            continue
        metrics = [m for m in METRIC_NAMES if m in set(part["meta_metric"])]
        rows = []
        for (aggregation, _, level), group in part.groupby(["aggregation", "level_order", "level"], sort=True):
            by_metric = {r.meta_metric: r for r in group.itertuples(index=False)}
            label = level if decision == "aggregation" or aggregation == "macro mean" else f"{level} ({aggregation})"
            compute = next(iter(by_metric.values())).compute_fraction
            rows.append(DiorTableRow(label, (f"{compute:.1%}",) + tuple(
                _dior_value(by_metric[m]) if m in by_metric else "" for m in metrics)))
        tables.append(DiorTable(decision, title, explanation,
                                ("compute",) + tuple(METRIC_NAMES[m] for m in metrics), tuple(rows)))

    def curve(decision: str, x_of) -> list[Series]:
        part = dior[(dior["decision"] == decision) & (dior["aggregation"] == "macro mean")]
        return [Series(METRIC_NAMES[m], tuple((x_of(r), r.dior, r.level) for r in
                                              part[part["meta_metric"] == m].itertuples(index=False)))
                for m in METRIC_NAMES if m in set(part["meta_metric"]) and m != "score_change"]

    examples_chart = line_chart(
        curve("examples", lambda r: r.compute_fraction),
        title=f"DIoR against the share of evaluations kept, by examples per scenario (target {target:g})",
        x_label="share of all evaluations (log scale); points: 5, 10, 20, ... examples per scenario, all",
        y_label="DIoR", chart_id="examples-curve", log_x=True, target=target,
        y_domain=(_y_floor(dior[dior["decision"] == "examples"], target), 1.0),
    )
    scenarios_chart = line_chart(
        curve("scenarios", lambda r: float(r.level)),
        title="DIoR against the number of scenarios drawn (with replacement)",
        x_label="scenarios drawn", y_label="DIoR", chart_id="scenarios-curve",
        y_domain=(_y_floor(dior[dior["decision"] == "scenarios"], target), 1.0), target=target,
    )
    allocation = dior[(dior["decision"] == "allocation") & (dior["meta_metric"] == "kendall_tau")]
    budgets: dict[str, list] = {}
    for r in allocation.itertuples(index=False):
        budget, split = r.level.split(": ")
        budgets.setdefault(budget, []).append((float(split.split(" scenario")[0]), r.dior, split))
    allocation_chart = line_chart(
        [Series(f"{budget} per model", tuple(points)) for budget, points in budgets.items()],
        title="Kendall-tau DIoR at a fixed number of evaluations, spread over more or fewer scenarios",
        x_label="scenarios the budget is spread over", y_label="DIoR (Kendall tau)", chart_id="allocation-curve",
        y_domain=(_y_floor(allocation, target), 1.0), target=target,
    ) if budgets else Markup("")
    scenarios = list(data.scenarios["scenario"])
    matrix = data.scenario_agreement.pivot(index="scenario_a", columns="scenario_b", values="kendall_tau")
    matrix = matrix.reindex(index=scenarios, columns=scenarios)
    agreement_chart = matrix_chart(scenarios, matrix.to_numpy(dtype=float),
                                   title="Kendall tau between the model rankings of every two scenarios",
                                   chart_id="agreement")
    resolution = tuple(
        ResolutionRow(r.examples_per_scenario, f"±{int(r.half_width)}", f"{r.compute_fraction:.1%}",
                      f"x{r.compute_saved:.0f}" if r.compute_saved >= 1.5 else "–")
        for r in data.rank_resolution.itertuples(index=False)
    )
    mwr_changes = tuple(
        f"Removing {r.removed_model} changes the order of {', '.join(r.changed_models)}"
        + (" (and swaps the top two)" if r.top_pair_swapped else "") + "."
        for r in data.mwr_instability.itertuples(index=False) if len(r.changed_models)
    )
    disagreements = tuple(
        f"{p.model_a} and {p.model_b}: tied overall; {p.model_a} is clearly better in {', '.join(p.a_better_in)}; "
        f"{p.model_b} in {', '.join(p.b_better_in)}."
        for p in data.disagreements.itertuples(index=False)
    )
    parameters_text = (f"{int(analysis.get('n_resamples', 0)):,} random draws per level, seed "
                       f"{int(analysis.get('seed', 0))}; DIoR = the lower end of the central {confidence} interval "
                       "of the meta-metric over the draws (for 'same leader': the share of draws with the same "
                       "leader). Kendall and top-weighted tau are on their own range, -1 to 1.")
    return ReliabilityPage(
        page=page, parameters_text=parameters_text, recommendations=tuple(data.recommendations["text"]),
        examples_chart=examples_chart, scenarios_chart=scenarios_chart, allocation_chart=allocation_chart,
        agreement_chart=agreement_chart, resolution=resolution, tables=tuple(tables), mwr_changes=mwr_changes,
        disagreements=disagreements,
    )


def _y_floor(frame: pd.DataFrame, target: float) -> float:
    """Return the bottom of a DIoR axis: just below the lowest value and the target, in steps of 0.1."""
    values = frame["dior"].dropna()
    lowest = min(float(values.min()) if len(values) else 0.0, target)
    return math.floor(lowest * 10 - 1e-9) / 10


# ---------------------------------------------------------------------------------------------
# Writing


def templates_dir() -> Path:
    """Return the folder of the Jinja templates: inside the installed package, else the source tree's."""
    packaged = Path(str(resources.files("effbench") / "templates"))
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "templates"


def template_environment() -> jinja2.Environment:
    """Return the Jinja environment: autoescaping on, and an error for any undefined name."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir()),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def write_site(plan: SitePlan, out: Path, database: Path) -> list[str]:
    """Render and write `plan` into `out` (replacing a previous build), with a copy of `database`;
    return the site paths written."""
    environment = template_environment()
    writer = SiteWriter(out)
    try:
        for page in plan.pages:
            html = environment.get_template(page.page.template).render(ctx=page)
            writer.write_text(page.page.path, html)
        for download in plan.downloads:
            if download.table is None:
                writer.copy_file(download.path, database)
            elif download.path.endswith(".csv"):
                writer.write_text(download.path, download.table.to_csv())
            elif download.path.endswith(".parquet"):
                writer.write_bytes(download.path, download.table.to_parquet())
            else:
                writer.write_text(download.path, download.table.to_json())
        for site_path, source in plan.licenses:
            writer.copy_file(site_path, source)
        for site_path, text in plan.extra_files.items():
            writer.write_text(site_path, text)
        static = templates_dir() / "static"
        for asset in sorted(static.iterdir()):
            writer.copy_file(f"static/{asset.name}", asset)
        written = writer.written
        writer.commit()
    except BaseException:
        writer.discard()
        raise
    return written
