"""`effbench dior`: how much each design decision of the benchmark moves its ranking."""

from __future__ import annotations

import json
from dataclasses import asdict
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from effbench.cli.common import BoardOption, DbOption, check_seed, fail, lazy_import, say
from effbench.errors import EffbenchError

pipeline = lazy_import("effbench.pipeline")
analysis_tables = lazy_import("effbench.analysis_tables")


class Decision(StrEnum):
    examples = "examples"
    scenarios = "scenarios"
    aggregation = "aggregation"
    models = "models"
    prompts = "prompts"
    allocation = "allocation"


class MetaMetric(StrEnum):
    kendall_tau = "kendall_tau"
    weighted_tau = "weighted_tau"
    top1 = "top1"
    tier_agreement = "tier_agreement"
    score_change = "score_change"


def dior(
    decision: Annotated[
        list[Decision] | None, typer.Option("--decision", help="Design decision to analyse. Repeatable; default all.")
    ] = None,
    metric: Annotated[
        list[MetaMetric] | None, typer.Option("--metric", help="Meta-metric. Repeatable; default all.")
    ] = None,
    draws: Annotated[int, typer.Option("--draws", min=2, help="Random instantiations per level.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    confidence: Annotated[
        float, typer.Option("--confidence", min=0.5, max=0.999, help="DIoR = lower end of this central interval.")
    ] = 0.95,
    target: Annotated[float, typer.Option("--target", help="DIoR the recommendations call reliable.")] = 0.9,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list of rows instead of a table.")] = False,
    db: DbOption = Path("effbench.duckdb"),
    board: BoardOption = None,
) -> None:
    """Measure how much each benchmark design decision changes the ranking (DIoR).

    For each decision (examples per scenario, which scenarios, aggregation, which models, prompts,
    budget allocation) and level, the ranking under many random instantiations is compared with
    the full-data ranking. DIoR is the lower end of the 95% interval of that similarity: near 1,
    the decision barely matters. The full analysis (no --decision/--metric) is stored in the
    `dior` table, which `effbench build` shows on the Reliability page.

    Examples:

      effbench dior

      effbench dior --decision examples --metric kendall_tau --json

      effbench dior --decision scenarios --draws 5000 --seed 1
    """
    check_seed(seed)
    defaults = analysis_tables.DiorParameters()
    parameters = analysis_tables.DiorParameters(
        n_draws=draws, confidence_level=confidence, seed=seed, target=target,
        decisions=tuple(d.value for d in decision) if decision else defaults.decisions,
        metrics=tuple(m.value for m in metric) if metric else defaults.metrics,
    )
    try:
        result = pipeline.dior(db, parameters, board)
    except EffbenchError as error:
        raise fail(error) from None
    rows = [asdict(row) for row in result.rows]
    if as_json:
        typer.echo(json.dumps([{k: v for k, v in row.items() if k != "order"} for row in rows], indent=1))
        return
    levels = [row["level"] + (f" ({row['aggregation']})" if row["decision"] != "aggregation"
                               and row["aggregation"] != "macro mean" else "") for row in rows]
    widths = [max([len(header), *(len(str(value)) for value in values)]) for header, values in
              (("decision", [r["decision"] for r in rows]), ("level", levels),
               ("meta_metric", [r["meta_metric"] for r in rows]))]
    say(f"{'decision':<{widths[0]}} {'level':<{widths[1]}} {'meta_metric':<{widths[2]}} {'mean':>6} "
               f"{'lo':>6} {'hi':>6} {'dior':>6} {'compute':>8}")
    for row, level in zip(rows, levels, strict=True):
        say(f"{row['decision']:<{widths[0]}} {level:<{widths[1]}} {row['meta_metric']:<{widths[2]}} "
                   f"{row['mean']:6.3f} {row['lo']:6.3f} {row['hi']:6.3f} {row['dior']:6.3f} "
                   f"{row['compute_fraction']:8.2%}")
    for line in result.recommendations:
        say(f"- {line}")
