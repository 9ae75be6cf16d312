"""The design: each model's item order per scenario and the nested stages taken from it."""

from __future__ import annotations

import functools
import math
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from effbench.flash.config import FlashConfig
from effbench.flash.reference import Reference


def model_seed(seed: int, model: str) -> int:
    """Return a seed for `model` that is stable across runs and platforms."""
    return (seed * 1_000_003 + zlib.crc32(model.encode())) % (2**32)


def item_order(difficulty: np.ndarray, available: np.ndarray, kind: str, rng: np.random.Generator) -> np.ndarray:
    """Return the indices of the `available` items of one scenario in the order they are evaluated.

    ``random``: a random permutation. ``informed``: the items sorted by difficulty (ties broken at
    random), then visited in bit-reversed order of their position, so that every prefix of the
    order spreads evenly over the whole difficulty range (a nested, difficulty-stratified sample).
    """
    items = np.flatnonzero(available)
    return _visit_order(items, _difficulty_level(difficulty[items]) if kind != "random" else None, kind, rng)


def _difficulty_level(difficulty: np.ndarray) -> np.ndarray:
    """Return the items' difficulty with the unknown ones at the mean of the known (0 when none is)."""
    return np.where(np.isnan(difficulty), np.nanmean(difficulty) if np.isfinite(difficulty).any() else 0.0,
                    difficulty)


def _visit_order(items: np.ndarray, level: np.ndarray | None, kind: str, rng: np.random.Generator) -> np.ndarray:
    """Return `item_order` of `items` given their difficulty `level` (unused by the random order)."""
    if kind == "random" or items.size < 3:
        return rng.permutation(items)
    by_difficulty = items[np.lexsort((rng.random(items.size), level))]
    return by_difficulty[_spread_order(items.size, rng)]


def _spread_order(n: int, rng: np.random.Generator) -> np.ndarray:
    """Return a permutation of range(n) whose every prefix is spread evenly over 0..n-1: positions
    are visited by the van der Corput sequence of a random offset."""
    bits = max(1, math.ceil(math.log2(n)))
    order, missing = _spread_positions(n, int(rng.integers(0, 1 << bits)))
    return np.concatenate([order, rng.permutation(missing)])


@functools.lru_cache(maxsize=1 << 12)
def _spread_positions(n: int, offset: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the positions of range(n) that the van der Corput sequence from `offset` visits, in the order
    it first visits them, and the positions it never visits. Boards of many small scenarios ask for the same
    few (n, offset) again and again: each is computed once (the caller only reads them)."""
    bits = max(1, math.ceil(math.log2(n)))
    codes = np.arange(1 << bits)
    reversed_codes = np.zeros_like(codes)
    for b in range(bits):
        reversed_codes |= ((codes >> b) & 1) << (bits - 1 - b)
    positions = ((reversed_codes + offset) % (1 << bits)) * n // (1 << bits)
    _, first = np.unique(positions, return_index=True)
    order = positions[np.sort(first)]
    missing = np.setdiff1d(np.arange(n), order)
    return order, missing


def orders_for(model: str, reference: Reference, config: FlashConfig, seed: int | None = None) -> list[np.ndarray]:
    """Return, per scenario, the order in which `model` is evaluated: every item of the scenario, from
    the reference's difficulty and the seed only (never from the model's results). Plan and simulation
    both use this order."""
    seed = config.seed if seed is None else seed
    key = (model, seed, config.order)  # the variants of a replay share their references, hence their orders
    if key not in reference._orders:
        if "levels" not in reference._orders:  # every model's order sorts the same levels: computed once
            reference._orders["levels"] = [(np.arange(d.size), _difficulty_level(d)) for d in reference.difficulty]
        rng = np.random.default_rng(model_seed(seed, model))
        reference._orders[key] = [_visit_order(items, level, config.order, rng)
                                  for items, level in reference._orders["levels"]]
    return list(reference._orders[key])


@dataclass(frozen=True)
class StageSample:
    """The items of one stage: per scenario, those with results (the sample) and those skipped."""

    index: int
    size: int | None
    sampled: tuple[np.ndarray, ...]
    skipped: tuple[np.ndarray, ...]
    population: tuple[int, ...]  # per scenario, the items not skipped so far
    pending: tuple[np.ndarray, ...] = ()  # plan only: the stage's items still to evaluate

    @property
    def complete(self) -> bool:
        """Whether every item not skipped is in the sample (the estimate is then exact)."""
        return all(len(s) == n for s, n in zip(self.sampled, self.population, strict=True))

    @property
    def items_used(self) -> int:
        return int(sum(len(s) for s in self.sampled))


def stage_samples(orders: Sequence[np.ndarray], evaluated: Sequence[np.ndarray], sizes: Sequence[int | None], *,
                  availability_known: bool) -> Iterator[StageSample]:
    """Yield the sample of each stage in turn, the same way for a replay and for a plan.

    Stage k takes, in every scenario, the next items of the order until the sample would hold
    `sizes[k]` items (all remaining items for None). An item without a result is skipped: with
    `availability_known` (a replay) at once; otherwise (a plan) once the stage has been run, that is
    once the model has a result for any item of the stage. A stage not yet run ends the walk with
    `pending` set to its items.
    """
    if availability_known and all(e.all() for e in evaluated):
        yield from _complete_stage_samples(orders, sizes)
        return
    taken: list[list[np.ndarray]] = [[] for _ in orders]
    skipped: list[list[np.ndarray]] = [[] for _ in orders]
    position = [0] * len(orders)
    counts = [0] * len(orders)
    for index, size in enumerate(sizes):
        blocks = []
        for s, order in enumerate(orders):
            need = len(order) - position[s] if size is None else max(size - counts[s], 0)
            blocks.append(order[position[s]: position[s] + need])
        if not availability_known:
            ran = any(evaluated[s][block].any() for s, block in enumerate(blocks) if len(block))
            if not ran and any(len(block) for block in blocks):
                yield StageSample(index, size, tuple(np.concatenate(t) if t else np.zeros(0, int) for t in taken),
                                  tuple(np.concatenate(k) if k else np.zeros(0, int) for k in skipped),
                                  tuple(len(o) - sum(len(k) for k in sk) for o, sk in zip(orders, skipped,
                                                                                          strict=True)),
                                  pending=tuple(blocks))
                return
        for s, block in enumerate(blocks):
            have = evaluated[s][block]
            taken[s].append(block[have])
            skipped[s].append(block[~have])
            position[s] += len(block)
            counts[s] += int(have.sum())
        yield StageSample(index, size, tuple(np.concatenate(t) for t in taken),
                          tuple(np.concatenate(k) for k in skipped),
                          tuple(len(o) - sum(len(k) for k in sk) for o, sk in zip(orders, skipped, strict=True)))


def _complete_stage_samples(orders: Sequence[np.ndarray], sizes: Sequence[int | None]) -> Iterator[StageSample]:
    """Yield `stage_samples` of a replay in which the model has every item: each stage's sample is a prefix
    of each scenario's order, and nothing is skipped (one slice per scenario, not a concatenation)."""
    taken = [0] * len(orders)
    nothing = tuple(order[:0] for order in orders)
    population = tuple(len(order) for order in orders)
    for index, size in enumerate(sizes):
        taken = [len(order) if size is None else max(n, min(size, len(order))) for n, order in zip(taken, orders,
                                                                                                     strict=True)]
        yield StageSample(index, size, tuple(order[:n] for n, order in zip(taken, orders, strict=True)), nothing,
                          population)
