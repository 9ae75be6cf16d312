"""Planning the next stage for a model being evaluated."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from effbench.flash.config import FlashConfig, stage_label
from effbench.flash.reference import LeaveOneOut, Reference
from effbench.flash.replay import _walk
from effbench.stats import (
    ResultsMatrix,
    overall_scores,
)


@dataclass(frozen=True)
class Plan:
    """Where a model stands and which items it should be evaluated on next.

    `next_items` are (scenario index, item index) pairs; empty when the resolution is met (or the
    model has been evaluated on everything it can be). `skipped` counts the items of stages already
    run that the model has no result for: taken as items its harness cannot evaluate.
    """

    model: str
    completed_stage: str | None
    items_evaluated: int
    rank: int | None
    rank_lo: int | None
    rank_hi: int | None
    tier: int | None
    resolution_met: bool
    next_stage: str | None
    next_items: tuple[tuple[int, int], ...]
    skipped: int = 0
    resolution: str = ""  # the resolution asked of the rank, in words (`FlashConfig.describe_resolution`)


def item_level(results: ResultsMatrix) -> ResultsMatrix:
    """Return the scenarios with per-item results only: Flash samples items, so scenario-level
    results (wide tables) take no part in it."""
    return results.scenario_subset([i for i, r in enumerate(results.resampled) if r])


def reference_of(results: ResultsMatrix) -> Reference:
    """Return the reference made of every model in `results`, scored as on the leaderboard (`overall_scores`:
    the macro mean on all their items, a missing scenario at the lowest score there)."""
    scores = overall_scores(results) if results.models else np.zeros(0)
    return Reference(results.models, scores, results.scores)


def plan(model: str, new_items: Sequence[np.ndarray], reference: Reference, config: FlashConfig) -> Plan:
    """Return the Flash plan of `model` given the results it has so far (`new_items`, NaN = none).

    The stages are walked as in a replay (`stage_samples`, the same order): the model stops at the
    first stage that meets the stop rule. A stage counts as run once the model has a result for any of
    its items; its items without a result are then skipped (the harness could not evaluate them), so
    a model whose harness skips items still gets a rank and a plan that ends. The first stage not yet
    run is the next one: its items are the plan.
    """
    config = config.at_size(len(reference.models) + 1)
    stages, pending, skipped = _walk(model, new_items, reference, config, config.seed, availability_known=False)
    evaluated = int(sum(np.isfinite(items).sum() for items in new_items))
    final = stages[-1] if stages else None
    rank, lo, hi, tier = (None, None, None, None) if final is None else (final.rank, final.rank_lo, final.rank_hi,
                                                                         final.tier)
    resolution = "" if rank is None else config.describe_resolution(rank)
    if pending is None:
        return Plan(model, final.stage if final else None, evaluated, rank, lo, hi, tier, True, None, (), skipped,
                    resolution)
    missing = tuple((s, int(i)) for s, block in enumerate(pending.pending) for i in block)
    return Plan(model, final.stage if final else None, evaluated, rank, lo, hi, tier, False,
                stage_label(pending.size), missing, skipped, resolution)


def plans(results: ResultsMatrix, models: Sequence[str], config: FlashConfig) -> Iterator[Plan]:
    """Yield the plan of each of `models` against every other model of `results` (a model not in `results`
    starts new against all of them), as `plan` on `reference_of` the others would; the references are fitted a block
    of models at a time (`LeaveOneOut`), so a status of every model costs no copy of the results per model."""
    scores = overall_scores(results) if results.models else np.zeros(0)
    where = {m: i for i, m in enumerate(results.models)}
    # A model of `results` is ranked among them; a new one among them and itself.
    sized = {False: config.at_size(len(results.models)), True: config.at_size(len(results.models) + 1)}
    index = [where.get(m) for m in models]
    references = LeaveOneOut(results, scores).references(index)
    for model, i, reference in zip(models, index, references, strict=True):
        have = [s[:, i] if i is not None else np.full(s.shape[0], np.nan) for s in results.scores]
        yield plan(model, have, reference, sized[i is None])
