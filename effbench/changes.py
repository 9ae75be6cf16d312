"""What changed between two leaderboards: new and removed models, ranks that moved, new scenarios.

Both the submission check (`effbench check`, the pull-request workflow's job summary) and a build's
record of what changed since the previous one read their differences from here, so the two say the
same thing. A leaderboard is the `leaderboard` view's rows (board, model, rank, rank_lo, rank_hi,
score, score_lo, score_hi); scenarios are (board, scenario) rows of the `boards` table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from effbench.formatting import format_rank

LEADERBOARD_COLUMNS = ("board", "model", "rank", "rank_lo", "rank_hi", "score", "score_lo", "score_hi")


@dataclass(frozen=True)
class Place:
    """A model's place on one board: its rank and score, each with its interval (NaN ends: none)."""

    rank: int
    rank_lo: float
    rank_hi: float
    score: float
    score_lo: float
    score_hi: float

    @property
    def rank_text(self) -> str:
        """The rank with its interval, as the site writes it ("3 (2–5)"; the rank alone without one)."""
        return format_rank(self.rank, self.rank_lo, self.rank_hi)

    @property
    def score_text(self) -> str:
        if math.isnan(self.score_lo) or math.isnan(self.score_hi):
            return f"{self.score:.3f}"
        return f"{self.score:.3f} ({self.score_lo:.3f}–{self.score_hi:.3f})"


@dataclass(frozen=True)
class Entry:
    """A model on a board and its place there."""

    board: str
    model: str
    place: Place


@dataclass(frozen=True)
class Moved:
    """A model whose rank or rank interval is not what it was."""

    board: str
    model: str
    before: Place
    after: Place


@dataclass(frozen=True)
class Changes:
    """The differences from one leaderboard to the next, each list in board and rank order."""

    new_models: tuple[Entry, ...]
    removed_models: tuple[Entry, ...]
    moved: tuple[Moved, ...]
    new_scenarios: tuple[tuple[str, str], ...]  # (board, scenario)
    removed_scenarios: tuple[tuple[str, str], ...]

    @property
    def empty(self) -> bool:
        return not (self.new_models or self.removed_models or self.moved or self.new_scenarios
                    or self.removed_scenarios)


def _places(board: pd.DataFrame) -> dict[tuple[str, str], Place]:
    rows = board.loc[:, list(LEADERBOARD_COLUMNS)].sort_values(["board", "rank", "model"])
    return {(r.board, r.model): Place(int(r.rank), float(r.rank_lo), float(r.rank_hi), float(r.score),
                                      float(r.score_lo), float(r.score_hi))
            for r in rows.itertuples(index=False)}


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def leaderboard_changes(before: pd.DataFrame, after: pd.DataFrame, scenarios_before: pd.DataFrame,
                        scenarios_after: pd.DataFrame) -> Changes:
    """Return what changed from the leaderboard `before` to `after` (see the module's docstring for the
    frames). A model has moved when its rank or either end of its rank interval differs; a score that
    changed with its rank unchanged is not a move (new models shift every score interval a little)."""
    old, new = _places(before), _places(after)
    moved = tuple(Moved(board, model, old[board, model], place) for (board, model), place in new.items()
                  if (board, model) in old and not (old[board, model].rank == place.rank
                                                     and _same(old[board, model].rank_lo, place.rank_lo)
                                                     and _same(old[board, model].rank_hi, place.rank_hi)))
    scenarios = {(r.board, r.scenario) for r in scenarios_before.itertuples(index=False)}
    scenarios_now = {(r.board, r.scenario) for r in scenarios_after.itertuples(index=False)}
    # A scenario that changed boards (boards are re-formed as results arrive) is new on its new board only.
    known = {scenario for _, scenario in scenarios}
    return Changes(
        new_models=tuple(Entry(b, m, p) for (b, m), p in new.items() if (b, m) not in old),
        removed_models=tuple(Entry(b, m, p) for (b, m), p in old.items() if (b, m) not in new),
        moved=moved,
        new_scenarios=tuple(sorted(s for s in scenarios_now - scenarios if s[1] not in known)),
        removed_scenarios=tuple(sorted(s for s in scenarios - scenarios_now
                                       if s[1] not in {name for _, name in scenarios_now})),
    )
