"""The submission check: what proposed results would do to the leaderboard, without touching it.

`check` copies the leaderboard's database into a scratch folder, loads the proposed files there (a bad
file ends in effbench's one-line error, and the real database is never opened for writing), ranks the
boards again and reports, for each model the files bring results for, its place with its interval and
its Flash status (resolved, or how many items it still needs), and what changes on the leaderboard.
`summary_markdown` writes that report as a GitHub job summary; `effbench init` writes the pull-request
workflow that runs it.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from effbench import flash, pipeline, store
from effbench.boards import BoardSettings
from effbench.changes import Changes, Place, leaderboard_changes
from effbench.errors import EffbenchError, printable
from effbench.load import Source
from effbench.store import LoadReport


@dataclass(frozen=True)
class FlashStatus:
    """Where Flash stands for a submitted model: resolved to its tier's resolution, or the items of its
    next stage (None: the board has no per-item results, or no other model to rank against)."""

    resolution_met: bool
    items_evaluated: int
    next_stage: str | None
    next_items: int
    skipped: int  # items of the stages run that the model has no result for


@dataclass(frozen=True)
class Submitted:
    """A model the proposed files bring results for, on one board it is ranked on."""

    board: str
    model: str
    new: bool  # not on this board before
    place: Place
    flash: FlashStatus | None


@dataclass(frozen=True)
class SubmissionCheck:
    loads: tuple[LoadReport, ...]
    submitted: tuple[Submitted, ...]
    unranked: tuple[tuple[str, str, tuple[str, ...]], ...]  # (board, model, scenarios it lacks)
    changes: Changes
    warnings: tuple[str, ...]


def _leaderboard(con) -> tuple[pd.DataFrame, pd.DataFrame]:
    board = con.execute("SELECT * FROM leaderboard").df()
    scenarios = con.execute("SELECT board, scenario FROM boards").df()
    return board, scenarios


def check(db: Path, sources: Sequence[Source], *, flash_config: flash.FlashConfig = pipeline.DEFAULT_FLASH,
          board_settings: BoardSettings | None = None, lower_is_better: Sequence[str] = ()) -> SubmissionCheck:
    """Return what loading `sources` into the database at `db` would change (see the module docstring).
    `db` may not exist yet: the proposed files are then the whole leaderboard. Files whose content the
    database already holds are skipped, as `effbench build` skips them, so the sources of a whole build
    can be given and only what is new is checked."""
    if not sources:
        raise EffbenchError("give the proposed result files to check")
    with tempfile.TemporaryDirectory(prefix="effbench-check-") as scratch:
        copy = Path(scratch) / "check.duckdb"
        if db.exists():
            if not db.is_file():
                raise EffbenchError(f"{db}: not a database file")
            shutil.copyfile(db, copy)
            with store.open_store(copy) as con:  # opening migrates an older file, as a build would
                before, scenarios_before = _leaderboard(con)
                first_new = con.execute("SELECT coalesce(max(source_id), 0) + 1 FROM sources").fetchone()[0]
        else:
            before = pd.DataFrame(columns=["board", "model", "rank", "rank_lo", "rank_hi", "score", "score_lo",
                                           "score_hi"])
            scenarios_before, first_new = pd.DataFrame(columns=["board", "scenario"]), 1
        report = pipeline.update(copy, sources, all_analyses=False, board_settings=board_settings,
                                 lower_is_better=lower_is_better)
        with store.open_store(copy, read_only=True) as con:
            after, scenarios_after = _leaderboard(con)
            models = [r[0] for r in con.execute("SELECT DISTINCT model FROM scores WHERE source_id >= ? ORDER BY model",
                                                [first_new]).fetchall()]
        known = set(zip(before["board"], before["model"], strict=True))
        submitted, unranked = [], []
        for board in report.boards:
            lacking = dict(board.unranked)
            for model in models:
                if model in lacking:
                    unranked.append((board.name, model, tuple(lacking[model])))
                if model not in board.ranked:
                    continue
                row = after[(after["board"] == board.name) & (after["model"] == model)].iloc[0]
                place = Place(int(row["rank"]), float(row["rank_lo"]), float(row["rank_hi"]), float(row["score"]),
                              float(row["score_lo"]), float(row["score_hi"]))
                submitted.append(Submitted(board.name, model, (board.name, model) not in known, place,
                                           _flash_status(copy, model, board.name, flash_config)))
    changes = leaderboard_changes(before, after, scenarios_before, scenarios_after)
    return SubmissionCheck(tuple(report.loads), tuple(submitted), tuple(unranked), changes, tuple(report.warnings))


def _flash_status(db: Path, model: str, board: str, config: flash.FlashConfig) -> FlashStatus | None:
    """Return `model`'s Flash status on `board`, or None where Flash cannot place it (no per-item results,
    or no other model)."""
    try:
        plan, items = pipeline.flash_plan(db, model, config, board_name=board)
    except EffbenchError:
        return None
    return FlashStatus(plan.resolution_met, plan.items_evaluated, plan.next_stage, len(items), plan.skipped)


def escape(text: str) -> str:
    """Escape what Markdown would read as markup in a model or file name (a table's `|` included) in the middle
    of a line (no name starts a line of the summary, so a leading `-` or `1.` cannot make a list); control
    characters, a line break among them, are written as escapes."""
    return "".join("\\" + c if c in "\\`*_{}[]<>#|~" else c for c in printable(text))


def code(text: str) -> str:
    """Return `text` as a Markdown code span: backslashes do not escape inside one, so the span's fence is
    made longer than any run of backticks in the text instead."""
    text = printable(text)
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def summary_markdown(result: SubmissionCheck) -> str:
    """Return the check as Markdown for a GitHub job summary (or a pull-request comment)."""
    lines = ["## effbench: submission check", ""]
    loaded = [r for r in result.loads if not r.already_loaded]
    if loaded:
        lines.append("Loaded: " + ", ".join(f"{code(Path(r.path).name)} ({r.rows:,} rows)" for r in loaded)
                     + ".")
    else:
        lines.append("Every proposed file was already loaded: nothing new to check.")
    for warning in result.warnings:
        lines.append(f"- Warning: {escape(warning)}")
    if result.submitted:
        lines += ["", "| Board | Model | Rank (interval) | Score (interval) | Flash |", "|---|---|---|---|---|"]
        for s in result.submitted:
            lines.append(f"| {escape(s.board)} | {escape(s.model)}{' (new)' if s.new else ''} | {s.place.rank_text} "
                         f"| {s.place.score_text} | {_flash_text(s.flash)} |")
    for board, model, lacking in result.unranked:
        lines.append(f"\nNot ranked on board {escape(board)}: {escape(model)}, with no results in "
                     f"{', '.join(escape(s) for s in lacking)}.")
    lines += ["", "### What changes on the leaderboard", ""]
    lines += _changes_lines(result.changes) or ["Nothing: ranks and intervals stay as they are."]
    return "\n".join(lines) + "\n"


def _flash_text(status: FlashStatus | None) -> str:
    if status is None:
        return "not applicable (no per-item results or no other model)"
    skipped = (f" ({status.skipped:,} items of its stages have no result: taken as items its harness cannot "
               "evaluate)") if status.skipped else ""
    if status.resolution_met or not status.next_items:
        return f"resolved with {status.items_evaluated:,} items{skipped}"
    return (f"not resolved: {status.next_items:,} more items (stage {status.next_stage}){skipped}; "
            "`effbench flash plan MODEL` lists them")


def _changes_lines(changes: Changes) -> list[str]:
    lines = [f"- New on {escape(e.board)}: {escape(e.model)} at rank {e.place.rank_text}"
             for e in changes.new_models]
    lines += [f"- No longer on {escape(e.board)}: {escape(e.model)} (was rank {e.place.rank_text})"
              for e in changes.removed_models]
    lines += [f"- {escape(m.model)} on {escape(m.board)}: rank {m.before.rank_text} -> {m.after.rank_text}"
              for m in changes.moved]
    lines += [f"- New scenario on {escape(board)}: {escape(scenario)}" for board, scenario in changes.new_scenarios]
    lines += [f"- Scenario no longer on {escape(board)}: {escape(scenario)}"
              for board, scenario in changes.removed_scenarios]
    return lines
