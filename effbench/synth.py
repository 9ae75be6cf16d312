"""Synthetic evaluation results from a logistic item-response model, for tests, benchmarks and planning.

Each model has an ability theta ~ N(0, 1) and each item a difficulty b ~ N(0, 1) and a discrimination
a ~ LogNormal(0, 0.3) (a two-parameter logistic, 2PL, IRT model); scenarios shift their items'
difficulty by a scenario effect ~ N(0, 0.5), and each model has a small scenario-specific skill
~ N(0, 0.3), so scenarios disagree a little as real ones do. A model answers item i correctly with
probability sigmoid(a_i * (theta + skill - b_i)). A share `missing` of results is left out at random
(not evaluated, never 0). Everything is drawn from one seeded generator, block by block, so the
same arguments always give the same rows, whatever the size, in bounded memory.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from effbench.errors import EffbenchError

# Rows generated per block: bounds memory whatever the board's size.
_BLOCK_ROWS = 1 << 22


@dataclass(frozen=True)
class SynthSpec:
    """The shape of a synthetic board."""

    n_models: int = 100
    n_items: int = 1000  # in all, spread evenly over the scenarios
    n_scenarios: int = 4
    missing: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("n_models", "n_items", "n_scenarios"):
            if getattr(self, name) < 1:
                raise EffbenchError(f"{name.removeprefix('n_')} must be at least 1")
        if self.n_items < self.n_scenarios:
            raise EffbenchError("give at least one item per scenario (--items >= --scenarios)")
        if not 0 <= self.missing < 1:
            raise EffbenchError("--missing must be a share in [0, 1)")
        if not 0 <= self.seed < 2**63:
            raise EffbenchError("--seed must be a non-negative integer below 2**63")


@dataclass(frozen=True)
class SynthBoard:
    """The latent truth behind a synthetic board: what the rows were drawn from."""

    models: tuple[str, ...]
    scenarios: tuple[str, ...]
    ability: np.ndarray  # (n_models,)
    scenario_of_item: np.ndarray  # (n_items,) index into scenarios
    difficulty: np.ndarray  # (n_items,) including the scenario's shift
    discrimination: np.ndarray  # (n_items,)
    skill: np.ndarray  # (n_models, n_scenarios)

    def expected_scores(self) -> np.ndarray:
        """Return each model's expected score in each scenario over its items, (n_models, n_scenarios)."""
        out = np.empty((len(self.models), len(self.scenarios)))
        for s in range(len(self.scenarios)):
            items = self.scenario_of_item == s
            logits = self.discrimination[items] * (
                self.ability[:, None] + self.skill[:, s, None] - self.difficulty[items])
            out[:, s] = (1 / (1 + np.exp(-logits))).mean(axis=1)
        return out


def board(spec: SynthSpec) -> SynthBoard:
    """Return the latent parameters of the board `spec` describes."""
    rng = np.random.default_rng(spec.seed)
    width = len(str(spec.n_models - 1))
    models = tuple(f"model-{i:0{width}d}" for i in range(spec.n_models))
    scenarios = tuple(f"scenario-{s + 1}" for s in range(spec.n_scenarios))
    ability = rng.normal(0.0, 1.0, spec.n_models)
    shift = rng.normal(0.0, 0.5, spec.n_scenarios)
    scenario_of_item = np.arange(spec.n_items) * spec.n_scenarios // spec.n_items
    difficulty = rng.normal(0.0, 1.0, spec.n_items) + shift[scenario_of_item]
    discrimination = rng.lognormal(0.0, 0.3, spec.n_items)
    skill = rng.normal(0.0, 0.3, (spec.n_models, spec.n_scenarios))
    return SynthBoard(models, scenarios, ability, scenario_of_item, difficulty, discrimination, skill)


def blocks(spec: SynthSpec, truth: SynthBoard | None = None) -> Iterator[pd.DataFrame]:
    """Yield the board's rows (model, scenario, item_id, score) in blocks of whole models."""
    truth = truth or board(spec)
    rng = np.random.default_rng([spec.seed, 1])
    per_block = max(1, _BLOCK_ROWS // spec.n_items)
    item_ids = np.array([f"item-{i}" for i in range(spec.n_items)], dtype=object)
    scenario_names = np.array(truth.scenarios, dtype=object)[truth.scenario_of_item]
    for start in range(0, spec.n_models, per_block):
        chosen = np.arange(start, min(start + per_block, spec.n_models))
        logits = truth.discrimination * (
            truth.ability[chosen, None] + truth.skill[chosen][:, truth.scenario_of_item] - truth.difficulty)
        correct = rng.random(logits.shape, dtype=np.float32) < (1 / (1 + np.exp(-logits)))
        score = correct.astype(np.float32)
        if spec.missing:
            score[rng.random(score.shape, dtype=np.float32) < spec.missing] = np.nan
        yield pd.DataFrame({
            "model": pd.Categorical(np.repeat(np.array(truth.models, dtype=object)[chosen], spec.n_items)),
            "scenario": pd.Categorical(np.tile(scenario_names, len(chosen))),
            "item_id": np.tile(item_ids, len(chosen)),
            "score": score.ravel(),
        })


def write(spec: SynthSpec, out: Path) -> int:
    """Write the board's rows to `out` (Parquet, CSV or JSON lines, by its suffix); return the row count."""
    import duckdb

    suffix = out.name.lower().removesuffix(".gz")
    formats = {".parquet": "(FORMAT parquet, COMPRESSION zstd)", ".csv": "(FORMAT csv, HEADER)",
               ".jsonl": "(FORMAT json)"}
    chosen = next((options for ending, options in formats.items() if suffix.endswith(ending)), None)
    if chosen is None:
        raise EffbenchError(f"{out}: write .parquet, .csv or .jsonl")
    if out.exists():
        raise EffbenchError(f"{out}: already exists; choose another --out")
    # Each block goes to a Parquet part of its own, then one COPY joins the parts in order: memory
    # stays at one block whatever the board's size (an in-memory table of 120 million rows took 8 GB).
    rows = 0
    temporary = out.with_name(out.name + ".partial")
    with tempfile.TemporaryDirectory(prefix=".synth-", dir=out.parent) as parts, duckdb.connect() as con:
        for number, block in enumerate(blocks(spec)):
            con.execute(f"COPY (SELECT model, scenario, item_id, CAST(score AS FLOAT) AS score FROM block)"
                        f" TO '{_quoted(Path(parts) / f'{number:08d}.parquet')}' (FORMAT parquet)")
            rows += len(block)
        con.execute(f"COPY (SELECT * FROM read_parquet('{_quoted(Path(parts))}/*.parquet'))"
                    f" TO '{_quoted(temporary)}' {chosen}")
    temporary.replace(out)
    return rows


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")
