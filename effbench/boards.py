"""Boards: the sets of scenarios ranked together, and which models each one ranks.

A site may hold results that have nothing to do with each other (a HELM suite, AlpacaEval judgements,
an lm-eval run of another model family). Ranking them on one table would fill each model's missing
scenarios from other models' results, so effbench ranks each set of comparable scenarios on a board of
its own.

Boards are declared in effbench.toml (``[[boards]]``) or formed from the data by one rule: two scenarios
are on one board when more than half of the models evaluated on either were evaluated on both (their
model sets' Jaccard index is above 1/2), and boards are the groups this links together. One HELM suite,
one lm-eval run of a model family and one AlpacaEval annotator each share their models across all their
scenarios, so each is one board; a scenario that one model of a suite lacks still shares the others.
A scenario with a single model joins only scenarios with that same single model.

On a board, a model with results in every scenario is ranked. A model that lacks some follows the
board's `missing` policy:

- ``lowest-if-half`` (the default): ranked, its missing scenarios counted at the lowest score any model
  has there, when it has results in at least half of the board's scenarios; otherwise listed as "not
  ranked here" with the scenarios it has no results in;
- ``lowest``: always ranked so;
- ``exclude``: never ranked.

Under every policy, a missing score is never filled from a scenario with fewer than 2 models: a model
missing such a scenario is not ranked on that board.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from effbench.stats import ResultsMatrix
from effbench.urls import slugify

MISSING_POLICIES = ("lowest-if-half", "lowest", "exclude")
DEFAULT_MISSING = "lowest-if-half"
# Names of the formats as their users know them, for the titles of boards formed from the data.
FORMAT_TITLES = {"helm": "HELM", "lm-eval": "lm-evaluation-harness", "inspect": "Inspect",
                 "every-eval-ever": "Every Eval Ever", "lighteval": "lighteval", "opencompass": "OpenCompass",
                 "openeval": "OpenEval", "alpaca-eval": "AlpacaEval", "table": "Results"}
TITLE_SCENARIOS = 3  # scenarios named in a formed board's title before "and N more"


@dataclass(frozen=True)
class BoardSpec:
    """A board as declared in effbench.toml: `scenarios` are names, globs (``mmlu:*``) or tags (a HELM
    run group); `missing` None takes the `[ranking]` policy."""

    name: str
    title: str | None = None
    description: str | None = None
    scenarios: tuple[str, ...] = ()
    missing: str | None = None


@dataclass(frozen=True)
class BoardSettings:
    """How the boards are made: the `[[boards]]` of effbench.toml and the `[ranking] missing` policy."""

    declared: tuple[BoardSpec, ...] = ()
    missing: str = DEFAULT_MISSING


@dataclass(frozen=True)
class Board:
    """A set of scenarios ranked together: the models ranked on it (`ranked`; `partial`: those of them without
    results in some scenarios, and which) and the models with some results on it that are not (`unranked`:
    model and the board's scenarios it has no results in)."""

    name: str
    title: str
    description: str
    scenarios: tuple[str, ...]
    missing: str
    declared: bool
    ranked: tuple[str, ...]
    unranked: tuple[tuple[str, tuple[str, ...]], ...] = ()
    partial: tuple[tuple[str, tuple[str, ...]], ...] = ()  # ranked models without results in some scenarios

    @property
    def slug(self) -> str:
        return slugify(self.name)

    def fingerprint(self) -> dict:
        """What an analysis of this board depends on besides the data: its name, policy, and a hash of its
        scenarios and ranked models."""
        members = json.dumps([self.scenarios, self.ranked]).encode("utf-8", "surrogatepass")
        return {"board": self.name, "missing": self.missing, "members": hashlib.sha256(members).hexdigest()[:16]}


def form_boards(model_sets: Mapping[str, frozenset[str]], *, declared: Sequence[BoardSpec] = (),
                tags: Mapping[str, Sequence[str]] | None = None, origin_of: Callable[[str], str] | None = None,
                origin_titles: Mapping[str, str] | None = None, missing: str = DEFAULT_MISSING) -> tuple[Board, ...]:
    """Return the boards of scenarios whose models are `model_sets` (scenario -> models with a score).

    `declared` boards come first, in their order; the scenarios none of them takes form boards by the
    rule in this module's docstring, the largest first. `tags` match declared scenario patterns besides
    names and globs; a formed board is named and titled after the origin of its first scenario (`origin_of`:
    its format, or a bundled example's name, titled in `origin_titles`). Raises ValueError for a declared
    board that matches no scenario or ranks no model.
    """
    tags = tags or {}
    origin_of = origin_of or (lambda scenario: "table")
    titles = {**FORMAT_TITLES, **(origin_titles or {})}
    boards: list[Board] = []
    taken: set[str] = set()
    for spec in declared:
        for pattern in spec.scenarios:  # a mistyped name must not drop a scenario from the board unseen
            if not any(_matches(s, (pattern,), tags.get(s, ())) for s in model_sets):
                raise ValueError(f"board {spec.name!r}: no scenario matches {pattern!r}")
        matched = tuple(s for s in sorted(model_sets) if _matches(s, spec.scenarios, tags.get(s, ())))
        policy = spec.missing or missing
        scenarios, ranked, unranked, partial = _settle(matched, model_sets, policy)
        if not ranked:
            raise ValueError(f"board {spec.name!r}: no model has results in enough of its scenarios to be "
                             f"ranked (missing = {policy!r})")
        boards.append(Board(spec.name, spec.title or spec.name, spec.description or "", scenarios, policy, True,
                            ranked, unranked, partial))
        taken.update(scenarios)
    formed = []
    pending = [tuple(s for s in sorted(model_sets) if s not in taken)]
    while pending:
        for linked in _linked_groups(pending.pop(), model_sets):
            group, ranked, unranked, partial = _settle(linked, model_sets, missing)
            if not ranked:  # every model lacks too much: each scenario ranks its own models
                pending.extend((s,) for s in linked)
                continue
            origin = origin_of(group[0])
            formed.append(Board(_formed_name(group, origin), _formed_title(group, origin, titles),
                                "", group, missing, False, ranked, unranked, partial))
            if len(group) < len(linked):  # scenarios none of the ranked models has: a board of their own
                pending.append(tuple(s for s in linked if s not in group))
    formed.sort(key=lambda b: (-len(b.ranked) * len(b.scenarios), b.name))
    names = {b.name for b in boards}
    for board in formed:
        name, n = board.name, 1
        while name in names:
            n += 1
            name = f"{board.name}-{n}"
        names.add(name)
        boards.append(dataclasses.replace(board, name=name))
    return tuple(boards)


def board_results(results: ResultsMatrix, board: Board) -> ResultsMatrix:
    """Return `results` restricted to the board's scenarios and ranked models, without the items none of
    those models was scored on; the results themselves when the board holds all of them."""
    if results.models == board.ranked and results.scenarios == board.scenarios:
        return results
    model_index = {m: i for i, m in enumerate(results.models)}
    scenario_index = {s: i for i, s in enumerate(results.scenarios)}
    columns = [model_index[m] for m in board.ranked]
    chosen = results.scenario_subset([scenario_index[s] for s in board.scenarios])
    scores, item_ids = [], []
    for s, matrix in enumerate(chosen.scores):
        matrix = matrix[:, columns]
        rows = ~np.isnan(matrix).all(axis=1)
        scores.append(matrix[rows])
        if chosen.item_ids:
            ids = chosen.item_ids[s]
            item_ids.append(tuple(ids[i] for i in np.flatnonzero(rows)) if len(ids) == len(rows) else ids)
    return ResultsMatrix(board.ranked, chosen.scenarios, tuple(scores), chosen.resampled, tuple(item_ids),
                         chosen.lower_is_better)


def model_sets(results: ResultsMatrix) -> dict[str, frozenset[str]]:
    """Return, for each scenario, the models with at least one score there."""
    models = np.asarray(results.models, dtype=object)
    return {scenario: frozenset(models[~np.isnan(matrix).all(axis=0)])
            for scenario, matrix in zip(results.scenarios, results.scores, strict=True)}


def members(scenarios: Sequence[str], model_sets: Mapping[str, frozenset[str]], missing: str
            ) -> tuple[tuple[str, ...], tuple[tuple[str, tuple[str, ...]], ...]]:
    """Return the models ranked on a board of `scenarios` under the `missing` policy, and the others with
    the scenarios they have no results in."""
    ranked, unranked, _ = _members(scenarios, model_sets, missing)
    return ranked, unranked


def _members(scenarios: Sequence[str], model_sets: Mapping[str, frozenset[str]], missing: str):
    """Return `members` and the ranked models that lack some scenarios, with those scenarios."""
    if missing not in MISSING_POLICIES:
        raise ValueError(f"missing must be one of {', '.join(MISSING_POLICIES)}, got {missing!r}")
    models = sorted(set().union(*(model_sets[s] for s in scenarios)))
    ranked, unranked, partial = [], [], []
    for model in models:
        lacking = tuple(s for s in scenarios if model not in model_sets[s])
        fillable = all(len(model_sets[s]) >= 2 for s in lacking)
        if not lacking or (fillable and (missing == "lowest"
                                         or (missing == DEFAULT_MISSING and 2 * len(lacking) <= len(scenarios)))):
            ranked.append(model)
            if lacking:
                partial.append((model, lacking))
        else:
            unranked.append((model, lacking))
    return tuple(ranked), tuple(unranked), tuple(partial)


def _settle(scenarios: Sequence[str], model_sets: Mapping[str, frozenset[str]], missing: str):
    """Return the board's scenarios, ranked, unranked and partial models, leaving out scenarios in which no
    ranked model has a result (their only models lack too much of the rest), until none is left to leave out."""
    scenarios = tuple(scenarios)
    while True:
        ranked, unranked, partial = _members(scenarios, model_sets, missing)
        kept = tuple(s for s in scenarios if model_sets[s] & set(ranked))
        if kept == scenarios or not kept:
            return scenarios, ranked, unranked, partial
        scenarios = kept


def _matches(scenario: str, patterns: Sequence[str], scenario_tags: Sequence[str]) -> bool:
    return any(scenario == p or fnmatch.fnmatchcase(scenario, p) or p in scenario_tags for p in patterns)


def _linked_groups(scenarios: Sequence[str], model_sets: Mapping[str, frozenset[str]]) -> list[tuple[str, ...]]:
    """Return the groups of `scenarios` linked by model sets overlapping by more than half (Jaccard > 1/2).

    Scenarios with the same model set are linked at once; the distinct sets are compared pairwise as bit
    masks, so thousands of scenarios with few distinct model sets cost little.
    """
    by_set: dict[frozenset[str], list[str]] = {}
    for scenario in scenarios:
        by_set.setdefault(model_sets[scenario], []).append(scenario)
    sets = list(by_set)
    index = {m: i for i, m in enumerate(sorted(set().union(*sets)))} if sets else {}
    masks = [sum(1 << index[m] for m in s) for s in sets]
    parent = list(range(len(sets)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(sets)):
        for j in range(i + 1, len(sets)):
            if 2 * (masks[i] & masks[j]).bit_count() > (masks[i] | masks[j]).bit_count():
                parent[root(i)] = root(j)
    groups: dict[int, list[str]] = {}
    for i, model_set in enumerate(sets):
        groups.setdefault(root(i), []).extend(by_set[model_set])
    return [tuple(sorted(g)) for g in groups.values()]


def _formed_name(group: Sequence[str], origin: str) -> str:
    if origin not in FORMAT_TITLES:  # a bundled example: its own name
        return origin
    return slugify(f"{origin}-{_short(group[0])}")


def _formed_title(group: Sequence[str], origin: str, titles: Mapping[str, str]) -> str:
    if origin not in FORMAT_TITLES:  # a bundled example: its own title
        return titles.get(origin, origin)
    named = ", ".join(dict.fromkeys(_short(s) for s in group[:TITLE_SCENARIOS]))
    more = len(group) - TITLE_SCENARIOS
    return f"{titles[origin]}: {named}" + (f" and {more} more" if more > 0 else "")


def _short(scenario: str) -> str:
    """Return a scenario name without its arguments (HELM's ``bbq:subject=all`` -> ``bbq``)."""
    return re.split(r"[:,]", scenario, maxsplit=1)[0] or scenario


def similar_model_names(models: Sequence[str]) -> list[tuple[str, ...]]:
    """Return groups of model names that differ only by spacing or an organisation prefix, and perhaps case
    (``openai/gpt-4o``, ``gpt-4o``, ``GPT 4o``): likely one model loaded under several names. Names that differ
    by case alone are left out: loading already warns about them."""
    groups: dict[str, list[str]] = {}
    for model in sorted(set(models)):
        key = re.sub(r"[\s_-]+", "", model.rsplit("/", 1)[-1].lower())
        groups.setdefault(key, []).append(model)
    return [tuple(g) for g in groups.values() if len({m.lower() for m in g}) > 1]
