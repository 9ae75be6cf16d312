"""The leaderboard (index.html): tiers of models with their intervals, filters, the heat map of
scenario scores, and the rows a large board loads by script; with the helpers model and scenario pages share."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from markupsafe import Markup

from effbench.boards import Board
from effbench.formatting import format_interval, format_rank, format_score, missing
from effbench.plots import DENSE_POINTS, IntervalPoint, interval_plot, scatter_chart
from effbench.queries import SiteData
from effbench.render.analyses import disagreement_notes, flash_cost, replay_is_sampled, tiers_of
from effbench.render.contexts import IndexPage, LeaderboardRow, LeaderboardRowsPage, RangeFilter, TierGroup
from effbench.render.embed import EMBED_PAGE, iframe_snippet
from effbench.render.site_index import SiteIndex
from effbench.render.values import (
    DATABASE_DOWNLOAD,
    Cell,
    Column,
    Download,
    HeatCell,
    as_float,
    frame_table,
    plain,
    table_downloads,
)
from effbench.tiers import tier_index
from effbench.urls import relative_url

INDEX_ROWS = 100  # rows of index.html; a larger board ships the rest in LEADERBOARD_ROWS, loaded by the script


LEADERBOARD_ROWS = "data/leaderboard-rows.js"


def index_page(site: SiteIndex) -> tuple[list[IndexPage | LeaderboardRowsPage], list[Download]]:
    data, board, scenarios = site.data, site.data.leaderboard, site.scenarios
    per_scenario = data.scenario_intervals
    database = [Download(DATABASE_DOWNLOAD, "DuckDB database (all results and analyses)")
                ] if site.ships_database else []
    board_downloads = [*table_downloads("data/leaderboard", frame_table("leaderboard", leaderboard_frame(site))),
                       *database]
    cells = {(r.model, r.scenario): r for r in per_scenario.itertuples(index=False)}
    column_scores = {s: np.sort(g["score"].dropna().to_numpy(dtype=float)) for s, g in per_scenario.groupby("scenario")}
    column_scores.update({s: np.zeros(0) for s in scenarios if s not in column_scores})
    tiers = tiers_of(data)
    meta = {m: {k: v for k, v in row.items() if not missing(v)}
            for m, row in data.models.set_index("model").to_dict("index").items()}
    organisation_column = _first_column(data.models, ("organization", "organisation", "org"))
    licence_column = _first_column(data.models, ("license", "licence"))
    metadata_columns = tuple(
        Column(f"meta-{name}", label, first)
        for name, label, first in ((organisation_column, "Organisation", "asc"), ("params_b", "Parameters (B)", "desc"),
                                   ("open_weights", "Open weights", "desc"), ("release_date", "Released", "desc"),
                                   (licence_column, "Licence", "asc"))
        if name and name in data.models.columns and any(name in v for m, v in meta.items() if m in set(site.models))
    )
    notes_of = model_notes_of(site)
    rows = []
    for rec in board.itertuples(index=False):
        scenario_cells = tuple(
            heat_cell(as_float(cells[(rec.model, s)].score), column_scores[s])
            if (rec.model, s) in cells else HeatCell(None, "–", "")
            for s in scenarios
        )
        notes = notes_of.get(rec.model, ())
        rows.append(LeaderboardRow(
            model=site.model_link("index.html", rec.model),
            rank=int(rec.rank),
            rank_text=format_rank(int(rec.rank), rec.rank_lo, rec.rank_hi),
            score=Cell(round(float(rec.score), 6), format_score(rec.score)),
            score_interval=format_interval(rec.score_lo, rec.score_hi),
            scenario_cells=scenario_cells,
            coverage=Cell(round(as_float(rec.coverage), 6), "" if missing(rec.coverage) else f"{rec.coverage:.1%}"),
            flash_cost=flash_cost(site.flash_rows.get(rec.model)),
            notes=tuple(notes),
            metadata_cells=tuple(metadata_cell(meta.get(rec.model, {}).get(c.key[5:])) for c in metadata_columns),
            tier=str(int(tier_index(np.array([int(rec.rank)]), tiers)[0]) + 1),
            organisation=str(meta.get(rec.model, {}).get(organisation_column) or ""),
            open_weights=_yes_no(meta.get(rec.model, {}).get("open_weights")),
            params=_plain_number(meta.get(rec.model, {}).get("params_b")),
            released=_plain_date(meta.get(rec.model, {}).get("release_date")),
            rank_interval="" if missing(rec.rank_lo) else f"{int(rec.rank_lo)}–{int(rec.rank_hi)}",
            model_id=rec.model,
            licence=str(meta.get(rec.model, {}).get(licence_column) or ""),
            complete="yes" if _complete(rec, len(scenarios)) else "no",
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
        scenario_columns=tuple(Column(f"scenario-{i}", link.text, "desc", link.href, link.title)
                               for i, link in enumerate(site.scenario_link("index.html", s) for s in scenarios)),
        metadata_columns=metadata_columns,
        groups=groups,
        n_columns=4 + len(scenarios) + len(metadata_columns) + (1 if site.flash_rows else 0),
        has_flash=bool(site.flash_rows),
        tier_options=tuple((str(t + 1), tiers[t].label) for t in sorted(set(tier_of.tolist()))),
        organisations=tuple(sorted({row.organisation for row in rows if row.organisation})),
        licences=tuple(sorted({row.licence for row in rows if row.licence})),
        has_partial=any(row.complete == "no" for row in rows),
        has_open_weights=any(row.open_weights for row in rows),
        params_chart=_params_chart(board, meta, site.confidence, site.names.model),
        summary=summary(board, site.confidence) + tuple(data.recommendations["text"][:1]),
        coverage_policy=_coverage_policy(board, data.board) + _unranked_and_direction(site.data),
        chart=interval_plot(
            [IntervalPoint(site.names.model(m), float(r), as_float(lo), as_float(hi))
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
        unranked=tuple(f"{site.names.model(m)}: no results in {', '.join(map(site.names.scenario, lacking))}"
                       for m, lacking in
                       zip(data.unranked_models["model"], data.unranked_models["no_results_in"], strict=True)),
        unranked_reason=_unranked_reason(data.board),
        board_description=data.board.description if site.nav and data.board else "",
        embed=relative_url("index.html", EMBED_PAGE), embed_snippet=iframe_snippet(site),
    )
    if not more:
        return [page], board_downloads
    rows_page = LeaderboardRowsPage(page=site.page(LEADERBOARD_ROWS, site.title, "leaderboard-rows.js", []),
                                    groups=groups, has_flash=page.has_flash)
    return [page, rows_page], board_downloads


def _first_column(frame: pd.DataFrame, names: tuple[str, ...]) -> str:
    """Return the first of `names` that `frame` has as a column, or ""."""
    return next((name for name in names if name in frame.columns), "")


def _complete(rec, n_scenarios: int) -> bool:
    """Whether a leaderboard row has results in every scenario of the board and on every item."""
    return int(rec.n_scenarios) >= n_scenarios and (missing(rec.coverage) or rec.coverage >= 1)


def leaderboard_frame(site: SiteIndex) -> pd.DataFrame:
    """Return the leaderboard as the index shows it, one row per ranked model, for the downloads: the
    `leaderboard` table's columns; whether the model has complete results; each scenario's score with its
    interval (``score:SCENARIO``, ``score_lo:SCENARIO``, ``score_hi:SCENARIO``); the Flash evaluations
    where Flash ran; and every metadata column of the ``models`` table (``meta:NAME`` where a name is
    taken by a column before it)."""
    data = site.data
    frame = data.leaderboard.reset_index(drop=True).copy()
    n_scenarios = len(site.scenarios)
    frame["complete"] = [_complete(rec, n_scenarios) for rec in frame.itertuples(index=False)]
    wide = data.scenario_intervals.pivot(index="model", columns="scenario",
                                         values=["score", "score_lo", "score_hi"]).reindex(frame["model"])
    columns: dict[str, object] = {}
    for scenario in site.scenarios:
        for value in ("score", "score_lo", "score_hi"):
            column = wide[(value, scenario)] if (value, scenario) in wide.columns else np.nan
            columns[f"{value}:{scenario}"] = np.asarray(column, dtype=float)
    if site.flash_rows:
        columns["flash_evaluations"] = frame["model"].map(
            {m: int(r.items_used) for m, r in site.flash_rows.items()}).astype("Int64").to_numpy()
        columns["flash_evaluations_full"] = frame["model"].map(
            {m: int(r.items_full) for m, r in site.flash_rows.items()}).astype("Int64").to_numpy()
    metadata = data.models.set_index("model")
    for name in metadata.columns:
        label = name if name not in frame.columns and name not in columns else f"meta:{name}"
        # Values as the metadata holds them, a whole number as one: whether an integer column with gaps
        # arrives as floats depends on the DuckDB and pandas versions, the download should not.
        values = [plain(v) for v in frame["model"].map(metadata[name])]
        columns[label] = np.array([int(v) if isinstance(v, float) and v.is_integer() else v for v in values],
                                  dtype=object)
    return pd.concat([frame, pd.DataFrame(columns, index=frame.index)], axis=1)


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
    known = [(row, intervals[row.model_id]) for row in rows if not math.isnan(intervals[row.model_id][0])]
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


def model_notes_of(site: SiteIndex) -> dict[str, list[str]]:
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
    for model, extra in disagreement_notes(site.data.disagreements, site.names.model).items():
        notes.setdefault(model, []).extend(extra)
    for a, b, n in site.data.identical_models.itertuples(index=False):
        for model, other in ((a, b), (b, a)):
            notes.setdefault(model, []).append(f"identical scores to {site.names.model(other)} on every one of its "
                                               f"{int(n):,} items: "
                                               "possibly one run loaded under two names")
    return notes


HEAT_STEPS = 9  # classes h0 (lowest in its column) .. h8 (highest); colours in style.css


def heat_cell(value: float, column: np.ndarray) -> HeatCell:
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


def metadata_cell(value: Any) -> Cell:
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


def _params_chart(board: pd.DataFrame, meta: dict[str, dict], confidence: str, name: Callable[[str], str]
                  ) -> Markup:
    points = [(float(meta[m]["params_b"]), float(score), float(lo) if not missing(lo) else math.nan,
               float(hi) if not missing(hi) else math.nan, name(m))
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


def summary(board: pd.DataFrame, confidence: str) -> tuple[str, ...]:
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
        f"The median rank interval spans {plural(int(np.median(width)), 'place')}; the widest spans "
        f"{plural(int(width.max()), 'place')}.",
    ]
    overlaps = sum(
        1 for a, b in zip(board.itertuples(index=False), board.iloc[1:].itertuples(index=False), strict=False)
        if not missing(a.rank_hi) and a.rank_hi >= b.rank_lo
    )
    if overlaps:
        lines.append(f"{plural(overlaps, 'pair')} of neighbouring models "
                     f"{'has an overlapping rank interval' if overlaps == 1 else 'have overlapping rank intervals'}: "
                     "their order could change on other items of the same kind.")
    return (*lines, *few)


def plural(count: int, noun: str) -> str:
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
    lower = lower_is_better(data)
    if lower:
        text += (f" Lower scores are better in {', '.join(lower)}; these scenarios enter the overall score "
                 "and every rank with their scores negated.")
    return text


def lower_is_better(data: SiteData) -> list[str]:
    """Return the scenarios ranked lower-is-better (`scenarios.higher_is_better` false)."""
    if "higher_is_better" not in data.scenarios.columns:
        return []
    return [s for s, h in zip(data.scenarios["scenario"], data.scenarios["higher_is_better"], strict=True)
            if h is False or h is np.False_]
