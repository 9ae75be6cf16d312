"""`effbench flash simulate | plan | status`: Flash rankings from the command line."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from effbench.cli.common import BoardOption, ConfigOption, DbOption, fail, lazy_import, say
from effbench.errors import EffbenchError

pipeline = lazy_import("effbench.pipeline")
configuration = lazy_import("effbench.config")

app = typer.Typer(help="Flash rankings: rank new models with a fraction of the evaluations.",
                  no_args_is_help=True, rich_markup_mode=None)


def _flash_config(config: Path | None):
    return configuration.load_config(config).flash


@app.command("simulate")
def flash_simulate(
    holdout: Annotated[
        list[str] | None, typer.Option(
            "--holdout", help="Model to treat as new. Repeatable; default every model (a stratified draw of 100 on "
            "larger boards).")
    ] = None,
    newest: Annotated[
        int | None, typer.Option("--newest", min=1, help="Treat the K most recently released models as new.")
    ] = None,
    seeds: Annotated[
        int | None, typer.Option("--seeds", min=1, help="Item orders to replay (default: [flash] seeds, 5).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print per-model rows and the summary as JSON.")] = False,
    db: DbOption = Path("effbench.duckdb"),
    config: ConfigOption = None,
    board: BoardOption = None,
) -> None:
    """Replay Flash on complete results to show what it would have cost.

    Each held-out model is treated as new and ranked stage by stage (10, 15, 23, ... items per
    scenario, then all) against the others' full results, stopping once a rank can be reported within
    its tier's resolution; this is replayed over several item orders (--seeds) and summarised as the
    mean saving with its range. Reported side by side: the configured variant (design-based), the
    earlier rule (bootstrap, Bonferroni) and the paper's uncorrected rule. The per-model rows are
    those of the first seed. A report counts as within resolution only if it is within the
    resolution of both its own tier and the true rank's tier. With the build's settings, the replay the
    last build stored is printed, not run again.

    Examples:

      effbench flash simulate --seeds 5

      effbench flash simulate --newest 5 --json

      effbench flash simulate --holdout gemini-1.5-pro-002
    """
    if holdout and newest:
        raise fail(EffbenchError("give either --holdout or --newest, not both"))
    try:
        report = pipeline.flash_report(db, _flash_config(config), holdout=holdout or (), newest=newest,
                                       seeds=seeds, board_name=board)
    except EffbenchError as error:
        raise fail(error) from None
    rows = sorted(report.rows, key=lambda r: (r["model"].casefold(), r["model"]))
    main = report.summaries[0]
    if as_json:
        def summary(s):  # NaN (no replay stopped early) is null in JSON
            return {k: None if isinstance(v, float) and v != v else v for k, v in asdict(s).items()}
        typer.echo(json.dumps({"variant": report.variant, "seeds": main.n_seeds, "stored": report.stored,
                               "rows": rows, "summary": summary(main),
                               "comparison": [summary(s) for s in report.summaries]}, indent=1, default=int))
        return
    say(f"{'model':<32} {'stop':>5} {'items':>7} {'saving':>7} {'flash rank':>12} {'full':>5} {'ok':>3}")
    for r in rows:
        interval = f"{r['flash_rank']} ({r['rank_lo']}-{r['rank_hi']})"
        say(f"{r['model']:<32} {r['stop_stage']:>5} {r['items_used']:>7,} {'x' + format(r['saving'], '.1f'):>7} "
            f"{interval:>12} {r['full_rank']:>5} {'yes' if r['within_resolution'] else 'NO':>3}")
    say(f"(rows: {report.variant}, first of {main.n_seeds} item orders)")
    if main.n_candidates > main.n_models:
        say(f"replayed: a stratified draw of {main.n_models} of the {main.n_candidates:,} models with per-item "
            "results, one from each stratum of consecutive full-data ranks; the savings and shares below are "
            "over the draw")
    if report.stored:
        say("read from the replay the last build stored (same data and settings); --seeds or --holdout replays anew")
    for s in report.summaries:
        say(f"{s.variant}: saving x{s.saving:.1f} (x{s.saving_lo:.1f}-x{s.saving_hi:.1f} over {s.n_seeds} "
            f"order{'s' if s.n_seeds != 1 else ''}), {s.within_resolution:.1%} within resolution, largest "
            f"error {s.largest_error}, "
            f"interval coverage {s.coverage:.1%}, {s.n_every_item} of {s.n_replays} replays used every item")


@app.command("plan")
def flash_plan(
    model: Annotated[str, typer.Argument(help="The model being evaluated (need not have results yet).")],
    out: Annotated[
        Path, typer.Option("--out", help="Where to write the next items: .csv or .jsonl (model, scenario, item_id).")
    ] = Path("next.csv"),
    new: Annotated[bool, typer.Option("--new", help="MODEL has no results yet: start it.")] = False,
    db: DbOption = Path("effbench.duckdb"),
    config: ConfigOption = None,
    board: BoardOption = None,
) -> None:
    """Say where MODEL stands and write the items it should be evaluated on next.

    Run your evaluation harness on exactly the written items, load its results with
    `effbench ingest`, and plan again. A planned item that still has no result once the stage has
    results is taken as one your harness cannot evaluate and skipped. Once a rank can be reported
    within the tier's resolution the plan says so and writes a file with the header only.

    Examples:

      effbench flash plan my-new-model --new --out next.csv

      effbench ingest my-new-model-results.csv && effbench flash plan my-new-model
    """
    try:
        plan, items = pipeline.flash_plan(db, model, _flash_config(config), new=new, board_name=board)
        pipeline.write_plan(items, model, out, db=db)
    except EffbenchError as error:
        raise fail(error) from None
    if plan.rank is None:
        say(f"{model}: no stage completed yet")
    else:
        say(f"{model}: after stage {plan.completed_stage} ({plan.items_evaluated:,} items): rank "
            f"{plan.rank} ({plan.rank_lo}-{plan.rank_hi}); {plan.resolution}")
    if plan.skipped:
        say(f"skipped {plan.skipped:,} planned items without a result (taken as items the harness cannot "
                   "evaluate)")
    if plan.resolution_met:
        say(f"resolution met: nothing more to evaluate; wrote an empty plan to {out}")
    else:
        say(f"next: stage {plan.next_stage}, {len(items):,} items written to {out}")


@app.command("status")
def flash_status(db: DbOption = Path("effbench.duckdb"), config: ConfigOption = None,
                 board: BoardOption = None) -> None:
    """Show every model's Flash stage, rank interval and whether its tier's resolution is met.

    Examples:

      effbench flash status
    """
    try:
        plans = pipeline.flash_status(db, _flash_config(config), board)
    except EffbenchError as error:
        raise fail(error) from None
    say(f"{'model':<32} {'stage':>6} {'items':>7} {'skipped':>7} {'rank':>12} {'met':>4} {'next':>6}")
    for plan in sorted(plans, key=lambda p: (p.model.casefold(), p.model)):
        rank = "-" if plan.rank is None else f"{plan.rank} ({plan.rank_lo}-{plan.rank_hi})"
        say(f"{plan.model:<32} {plan.completed_stage or '-':>6} {plan.items_evaluated:>7,} {plan.skipped:>7,} "
                   f"{rank:>12} {'yes' if plan.resolution_met else 'no':>4} {plan.next_stage or '-':>6}")
