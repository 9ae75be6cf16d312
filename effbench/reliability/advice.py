"""The advice of the reliability analysis (`effbench.reliability`): plain words from the DIoR curves,
for the report and the site. Text only: it reads the rows and computes nothing new."""

from __future__ import annotations

from collections.abc import Sequence

from effbench.reliability.metrics import AGGREGATIONS
from effbench.reliability.results import DiorRow, RankResolution


def below(value: float, target: float) -> str:
    """Return `value` (below `target`) with two decimals, or as many more as it takes (up to six) for the
    printed figure to be below the target too: 0.8994 against 0.90 prints 0.899, not 0.90."""
    digits = 2
    while digits < 6 and round(value, digits) >= target:
        digits += 1
    return f"{value:.{digits}f}"


def recommend(rows: Sequence[DiorRow], resolution: Sequence[RankResolution], target: float,
              n_models: int, confidence_level: float) -> tuple[str, ...]:
    """Return plain-words advice from the curves: how few examples suffice, what is unreliable now,
    and whether scenarios or items buy more reliability per evaluation. Two models are one comparison,
    told in shares of draws that keep their order (see `_recommend_pair`)."""
    if n_models == 2:
        return _recommend_pair(rows, confidence_level)
    advice = []
    tau = {(r.decision, r.level, r.aggregation): r for r in rows if r.meta_metric == "kendall_tau"}
    examples = [r for r in rows if r.decision == "examples" and r.meta_metric == "kendall_tau"]
    reaching = [r for r in examples if r.dior >= target and r.level != "all"]
    if reaching:
        best = min(reaching, key=lambda r: r.compute_fraction)
        advice.append(
            f"{best.level} examples per scenario keep the ranking at Kendall-tau DIoR {best.dior:.2f} "
            f"(target {target:.2f}) with {best.compute_fraction:.1%} of the evaluations: "
            f"x{1 / best.compute_fraction:.0f} less compute."
        )
    elif examples:
        advice.append(f"No reduced number of examples per scenario reaches Kendall-tau DIoR {target:.2f}: "
                      "every example counts for this ranking; adding examples would make it more reliable.")
    tops = [r for r in rows if r.decision == "examples" and r.meta_metric == "top1" and r.level != "all"]
    reliable_top = [r for r in tops if r.mean >= 0.95]
    if reliable_top:
        best = min(reliable_top, key=lambda r: r.compute_fraction)
        advice.append(f"The leader is the same in {best.mean:.0%} of draws from {best.level} examples per scenario.")
    unreliable = []
    scenarios = [r for r in rows if r.decision == "scenarios" and r.meta_metric == "kendall_tau"]
    if scenarios:
        full = max(scenarios, key=lambda r: int(r.level))
        if full.dior < target:
            unreliable.append(f"the choice of scenarios (DIoR {below(full.dior, target)} when the {full.level} "
                              "scenarios are drawn again with replacement)")
    aggregations = [f"{how} gives Kendall tau {below(row.dior, target)}" for how in AGGREGATIONS
                    if (row := tau.get(("aggregation", how, how))) is not None and row.dior < target]
    if aggregations:
        unreliable.append(f"the aggregation ({'; '.join(aggregations)}, against the macro mean)")
    mwr = tau.get(("models", "1", "mean win rate"))
    if mwr is not None and mwr.dior < target:
        unreliable.append(f"the set of models under mean win rate (dropping one model: DIoR "
                          f"{below(mwr.dior, target)}); the macro mean does not depend on the other models")
    if unreliable:
        advice.append("Unreliable at the current design: " + "; ".join(unreliable) + ".")
    elif scenarios or tau:
        advice.append(f"At the current design no analysed decision (scenarios drawn again, another aggregation, "
                      f"other models on the board) brings the Kendall-tau DIoR below {target:.2f}.")
    allocation = [r for r in rows if r.decision == "allocation" and r.meta_metric == "kendall_tau"]
    budgets = sorted({r.level.split(":")[0] for r in allocation}, key=lambda b: int(b.split()[0]))
    for budget in budgets:
        options = [r for r in allocation if r.level.startswith(budget + ":")]
        best = max(options, key=lambda r: (r.mean, -r.order))
        many = max(options, key=lambda r: r.order)
        verdict = ("spreading it over more scenarios buys more reliability than more items per scenario"
                   if best is many else "the best split is " + best.level.split(": ")[1])
        advice.append(f"At {budget} per model, {verdict} (mean Kendall tau {best.mean:.2f}).")
    return tuple(advice)


def _recommend_pair(rows: Sequence[DiorRow], confidence_level: float) -> tuple[str, ...]:
    """Return the advice for a board of two models. Their ranking is one comparison: Kendall's tau of a
    draw is 1 or -1, so a mean tau reads as nothing, and a Kendall-tau DIoR above -1 (any target) says
    that the order is kept in all but the lower tail of the draws. The share of draws in which the
    leader stays the leader (`top1`, ties counted as a coin flip) is the number to give, against that
    same bar: 1 - (1 - confidence_level) / 2 of the draws."""
    keep = 1 - (1 - confidence_level) / 2
    share = {(r.decision, r.level, r.aggregation): r for r in rows if r.meta_metric == "top1"}
    bar = (f"at least {keep:.1%} is reliable: for one pair, that is what a Kendall-tau DIoR above -1 at the "
           f"{confidence_level:.0%} level means")
    examples = sorted((r for r in share.values() if r.decision == "examples" and r.level != "all"),
                      key=lambda r: r.compute_fraction)
    reaching = [r for r in examples if r.mean >= keep]
    if reaching:
        best = reaching[0]
        advice = [f"With two models the ranking is one comparison: {best.level} examples per scenario keep its order "
                  f"in {best.mean:.1%} of draws ({bar}), with {best.compute_fraction:.1%} of the evaluations: "
                  f"x{1 / best.compute_fraction:.0f} less compute."]
    elif examples:
        advice = [f"With two models the ranking is one comparison: even {examples[-1].level} examples per scenario "
                  f"keep its order in only {examples[-1].mean:.1%} of draws ({bar}): every example counts for it."]
    else:
        advice = [f"With two models the ranking is one comparison, told here as the share of draws that keep its "
                  f"order ({bar})."]
    unreliable = []
    scenarios = [r for r in share.values() if r.decision == "scenarios"]
    if scenarios:
        full = max(scenarios, key=lambda r: int(r.level))
        if full.mean < keep:
            unreliable.append(f"the choice of scenarios (drawn again with replacement, the {full.level} scenarios "
                              f"keep the order in {full.mean:.1%} of draws)")
    flips = [how for how in AGGREGATIONS if (r := share.get(("aggregation", how, how))) is not None and r.mean < keep]
    if flips:
        unreliable.append(f"the aggregation: under {' and '.join(flips)} the same model no longer leads alone")
    if unreliable:
        advice.append("Unreliable at the current design: " + "; ".join(unreliable) + ".")
    elif scenarios:
        advice.append("At the current design neither drawing the scenarios again nor another aggregation changes "
                      f"the order in more than {1 - keep:.1%} of draws.")
    return tuple(advice)
