"""Flash from the command line: replays of new models, the next items for a model, and each model's standing."""

from __future__ import annotations

import csv
import dataclasses
import difflib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from effbench import analysis_tables, flash, stats, store
from effbench.boards import Board
from effbench.errors import EffbenchError
from effbench.pipeline.common import board_flash_config, board_reader, pick_board, require_database, require_models
from effbench.render.values import csv_cell
from effbench.writer import SITE_MARKER


def _flash_results(con: duckdb.DuckDBPyConnection, board: Board) -> stats.ResultsMatrix:
    results = flash.item_level(board_reader(board)(con))
    if not results.scenarios:
        raise EffbenchError("Flash needs per-item results; these results are per scenario only")
    return results


def simulate_flash(con: duckdb.DuckDBPyConnection, config: flash.FlashConfig, board: Board,
                   holdout: Sequence[str] | None = None, seeds: int | None = None) -> tuple[flash.FlashSimulation, ...]:
    """Return the Flash replay on `board` of the configured variant and the comparison variants over `seeds`
    item orders (default: the configured number), with `config`'s tiers resolved for the board
    (`board_flash_config`)."""
    results = _flash_results(con, board)
    config = board_flash_config(con, config, board, len(results.models))
    return flash.simulate_variants(results, holdout=holdout, config=config, seeds=seeds)


def newest_models(con: duckdb.DuckDBPyConnection, count: int, board: Board) -> list[str]:
    """Return the `count` most recently released models ranked on `board` (release_date in the metadata)."""
    columns = {r[0] for r in con.execute("SELECT column_name FROM (DESCRIBE models)").fetchall()}
    if "release_date" not in columns:
        raise EffbenchError("--newest needs a release_date column in the model metadata (load it with --models)")
    rows = con.execute(
        "SELECT model FROM models WHERE release_date IS NOT NULL AND model IN (SELECT model FROM rank_intervals"
        " WHERE board = ?) ORDER BY release_date DESC, model LIMIT ?", [board.name, count]
    ).fetchall()
    return [r[0] for r in rows]


@dataclass(frozen=True)
class FlashReport:
    """What `effbench flash simulate` prints: the default variant's per-model rows (first item order) and every
    variant's summary, and whether they were read from the replay the last build stored."""

    variant: str
    rows: tuple[dict, ...]  # model, stop_stage, items_used, items_full, saving, flash_rank, rank_lo, rank_hi, ...
    summaries: tuple[flash.FlashSummary, ...]  # the default variant first
    stored: bool


ROW_FIELDS = ("model", "stop_stage", "items_used", "items_full", "saving", "flash_rank", "rank_lo", "rank_hi",
              "full_rank", "abs_error", "within_resolution", "covered")


def flash_report(db: Path, config: flash.FlashConfig, *, holdout: Sequence[str] = (), newest: int | None = None,
                 seeds: int | None = None, board_name: str | None = None) -> FlashReport:
    """Return the Flash replay of a board: read from the tables the last build stored when they answer the
    question (every model or the stratified draw, the configured item orders, the same data and settings),
    else replayed now (`flash_simulate`)."""
    if not holdout and newest is None and seeds in (None, config.seeds):
        require_database(db)
        with store.open_store(db, read_only=True) as con:
            board = pick_board(con, board_name)
            resolved = board_flash_config(con, config, board, len(board.ranked))
            if store.analysis_is_current(con, store.FLASH_ANALYSIS, resolved, board):
                return _stored_report(con, board)
    simulations = flash_simulate(db, config, holdout=holdout, newest=newest, seeds=seeds, board_name=board_name)
    rows = tuple({"model": o.model, "stop_stage": o.final.stage, "items_used": o.final.items_used,
                  "items_full": o.items_full, "saving": o.saving, "flash_rank": o.final.rank,
                  "rank_lo": o.final.rank_lo, "rank_hi": o.final.rank_hi, "full_rank": o.full_rank,
                  "abs_error": abs(o.final.rank - o.full_rank), "within_resolution": o.within_resolution,
                  "covered": o.covered} for o in simulations[0].outcomes)
    return FlashReport(simulations[0].variant, rows, tuple(s.summary for s in simulations), stored=False)


def _stored_report(con: duckdb.DuckDBPyConnection, board: Board) -> FlashReport:
    summary_fields = [f.name for f in dataclasses.fields(flash.FlashSummary)]
    summaries = con.execute(f"SELECT {', '.join(summary_fields)} FROM flash_summary WHERE board = ? "
                            "ORDER BY is_default DESC, rowid", [board.name]).fetchall()
    default = summaries[0][0]
    rows = con.execute(f"SELECT {', '.join(ROW_FIELDS)} FROM flash WHERE board = ? AND variant = ? ORDER BY model",
                       [board.name, default]).fetchall()
    return FlashReport(default, tuple(dict(zip(ROW_FIELDS, row, strict=True)) for row in rows),
                       tuple(flash.FlashSummary(**dict(zip(summary_fields, row, strict=True))) for row in summaries),
                       stored=True)


def flash_simulate(db: Path, config: flash.FlashConfig, *, holdout: Sequence[str] = (),
                   newest: int | None = None, seeds: int | None = None, board_name: str | None = None
                   ) -> tuple[flash.FlashSimulation, ...]:
    """Replay Flash on complete data of a board (`board_name`, or the only one): the held-out models
    (default every model, leave-one-out, or on a board of more than `config.max_replayed` models a
    stratified draw of that many) or the `newest` released ones are treated as new, over `seeds` item
    orders (default: the configured number). The default run with the configured seeds is stored for the site."""
    require_database(db)
    with store.open_store(db) as con:
        board = pick_board(con, board_name)
        require_models(board, "a Flash replay")
        chosen = list(holdout) or (newest_models(con, newest, board) if newest else None)
        try:
            simulations = simulate_flash(con, config, board, chosen, seeds)
        except ValueError as error:
            raise EffbenchError(str(error).replace("`", "")) from None
        resolved = simulations[0].config
        if (chosen is None and seeds in (None, config.seeds)
                and not store.analysis_is_current(con, store.FLASH_ANALYSIS, resolved, board)):
            analysis_tables.save_flash(con, simulations, resolved, simulations[0].variant, board)
    return simulations


@dataclass(frozen=True)
class PlannedItem:
    scenario: str
    item_id: str


def flash_plan(db: Path, model: str, config: flash.FlashConfig, *, new: bool = False,
               board_name: str | None = None) -> tuple[flash.Plan, tuple[PlannedItem, ...]]:
    """Return `model`'s Flash plan against the other models of its board, and the items of its next stage.

    A model with no results yet must be named with `new`, so that a mistyped name does not silently
    start a new model; the error suggests the nearest names on the board. With several boards, the board
    is `board_name`, or the only one the model is ranked on.
    """
    with store.open_store(db, read_only=True) as con:
        board = pick_board(con, board_name, None if new else model)
        results = _flash_results(con, board)
        config = board_flash_config(con, config, board, len(results.models) + (model not in results.models))
    lacking = dict(board.unranked).get(model)
    if lacking is not None and not new:
        raise EffbenchError(f"{model} has results on board {board.name} but is not ranked there (no results in "
                            f"{', '.join(lacking)}); Flash plans a ranked model's next items")
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


def flash_status(db: Path, config: flash.FlashConfig, board_name: str | None = None) -> list[flash.Plan]:
    """Return the Flash plan of every model ranked on a board (`board_name`, or the only one)."""
    with store.open_store(db, read_only=True) as con:
        board = pick_board(con, board_name)
        results = _flash_results(con, board)
        config = board_flash_config(con, config, board, len(results.models))
    if len(results.models) < 2:
        raise EffbenchError("Flash ranks a model against others; the database holds no other model")
    return list(flash.plans(results, results.models, config))


PLAN_COLUMNS = ("model", "scenario", "item_id")


def write_plan(items: Sequence[PlannedItem], model: str, out: Path, *, db: Path | None = None) -> None:
    """Write the planned items as CSV (or JSON lines for .jsonl): model, scenario, item_id.

    In CSV a name that starts like a spreadsheet formula gets a leading apostrophe, as in the site's
    downloads; the JSON lines keep every name exactly. `out` is refused when it is the database `db`,
    lies inside a site effbench wrote, or is a file that is not an earlier plan (`check_plan_out`).
    """
    check_plan_out(out, db)
    if out.suffix == ".jsonl":
        out.write_text("".join(json.dumps(dict(zip(PLAN_COLUMNS, (model, i.scenario, i.item_id), strict=True)))
                               + "\n" for i in items), encoding="utf-8")
        return
    with open(out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(PLAN_COLUMNS)
        writer.writerows([csv_cell(model), csv_cell(i.scenario), csv_cell(i.item_id)] for i in items)


def check_plan_out(out: Path, db: Path | None) -> None:
    """Refuse a plan file that would overwrite the database, a file of the user's, or part of a site."""
    target = out.resolve()
    if db is not None and (target == db.resolve() or (out.exists() and db.exists() and out.samefile(db))):
        raise EffbenchError(f"{out}: is the database (--db); write the plan to another file")
    site = next((folder for folder in target.parents if (folder / SITE_MARKER).is_file()), None)
    if site is not None:
        raise EffbenchError(f"{out}: is inside the site {site}, which every build replaces whole; "
                            "write the plan elsewhere")
    if out.is_dir():
        raise EffbenchError(f"{out}: is a folder; give a file name ending in .csv or .jsonl")
    # Only a regular file can be lost; a device or a pipe (/dev/null, /dev/stdout) is written through.
    if out.is_file() and not _is_plan(out):
        raise EffbenchError(f"{out}: exists and is not a plan effbench wrote; choose another --out")


def _is_plan(path: Path) -> bool:
    """Return whether `path` starts as a plan `write_plan` writes: the CSV header, or a JSON line with
    exactly the plan's fields (an empty file is an empty JSON lines plan)."""
    try:
        with open(path, encoding="utf-8") as handle:
            first = handle.readline(1 << 16).rstrip("\n")
    except (OSError, UnicodeDecodeError):
        return False
    if path.suffix == ".jsonl":
        if not first:
            return path.stat().st_size == 0
        try:
            record = json.loads(first)
        except ValueError:
            return False
        return isinstance(record, dict) and tuple(record) == PLAN_COLUMNS
    return first == ",".join(PLAN_COLUMNS)
