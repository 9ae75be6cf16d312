"""The pages and notes drawn from the analyses: Reliability (DIoR) and Flash, the tiers, the Flash
cost of each model and the disagreement notes of the leaderboard."""

from __future__ import annotations

import json
import math
from collections.abc import Callable

import pandas as pd
from markupsafe import Markup

from effbench.plots import Series, line_chart, matrix_chart
from effbench.queries import SiteData
from effbench.render.contexts import (
    DiorTable,
    DiorTableRow,
    FlashModelRow,
    FlashPage,
    FlashVariantRow,
    MicroRankRow,
    Page,
    ReliabilityPage,
    ResolutionRow,
)
from effbench.render.names import Names
from effbench.render.values import Cell, Link
from effbench.tiers import DEFAULT_TIERS, Tier, resolutions


def flash_page(data: SiteData, page: Page, model_link: Callable[[str], Link]) -> FlashPage:
    summary = data.flash_summary
    default = summary[summary["is_default"]].iloc[0]
    mine = data.flash[data.flash["variant"] == default["variant"]].sort_values(["full_rank", "model"])
    options = json.loads((data.flash_analysis or {}).get("options") or "{}")
    widened = widened_tiers(options)
    method = (*flash_method(options), replayed_models(default))
    stages = sorted(set(mine["stop_stage"]), key=lambda s: (s == "all", int(s) if s.isdigit() else 0))
    stop_rule = (
        "A model stops at the first stage where some rank Q can be reported such that, for every rank t inside its "
        "interval, Q and t are no further apart than the resolution of Q's tier and of t's tier "
        "(|Q − t| ≤ min(r(Q), r(t))). The leaderboard then shows Q.",
        "Why this is enough: whenever the interval holds the model's true rank T, Q is within the resolution of both "
        "the tier it is reported in and the tier it truly belongs to. The interval need not be centred on the point "
        "estimate, which is what lets a model at the edge of a cluster stop early.",
        "A report counts as within resolution below only under that strict reading (both tiers); the models that "
        "used every item are counted separately, since they are right by construction.",
    )
    variants = tuple(
        FlashVariantRow(
            r.variant, bool(r.is_default), f"x{r.saving:.1f}", _saving_range(r),
            f"{r.within_resolution:.1%}", _share(getattr(r, "within_resolution_early", math.nan)),
            f"{_int(getattr(r, 'n_every_item', 0))} of {_int(getattr(r, 'n_replays', r.n_models))}",
            int(r.largest_error), f"{r.coverage:.1%}", _int(getattr(r, "n_seeds", 1)) or 1)
        for r in summary.itertuples(index=False)
    )
    resolution = data.rank_resolution
    chart = line_chart(
        [Series("95% of ranks within ±", tuple((float(r.compute_fraction), float(r.half_width),
                                                  f"{r.examples_per_scenario} examples per scenario")
                                                 for r in resolution.itertuples(index=False)))],
        title="Rank resolution against compute: how far ranks move with n examples per scenario",
        x_label="share of all evaluations (log scale)", y_label="rank resolution (± ranks)", chart_id="flash-curve",
        log_x=True, y_domain=(0.0, max(1.0, float(resolution["half_width"].max()) if len(resolution) else 1.0)),
    ) if len(resolution) else Markup("")
    counts = mine["stop_stage"].value_counts()
    stops = tuple((stage, int(counts.get(stage, 0))) for stage in stages)
    rows = tuple(
        FlashModelRow(model_link(r.model), str(r.full_rank),
                      f"{r.flash_rank} ({r.rank_lo}–{r.rank_hi})", r.stop_stage, f"{int(r.items_used):,}",
                      f"x{r.saving:.1f}", "yes" if r.within_resolution else "no")
        for r in mine.iloc[:TABLE_ROWS].itertuples(index=False)  # a large board: the top; the twin has all
    )
    return FlashPage(page=page, variant=str(default["variant"]), method=method, stop_rule=stop_rule,
                     variants=variants,
                     tiers=tier_lines(tiers_of(data), widened), tier_rule=tier_rule_lines(options, widened),
                     chart=chart, stops=stops, rows=rows,
                     rows_note=_rows_note(len(rows), len(mine), "data/flash.csv"))


def replay_is_sampled(summary: pd.DataFrame) -> bool:
    """Whether the stored Flash replay covers a draw of the models rather than every one of them."""
    if summary.empty or "n_candidates" not in summary:
        return False
    row = summary[summary["is_default"]].iloc[0] if summary["is_default"].any() else summary.iloc[0]
    return _int(row.get("n_candidates")) > _int(row.get("n_models"))


def replayed_models(summary_row) -> str:
    """Which models the replay below covers: all of them, or on a large board a stratified draw."""
    replayed = _int(summary_row.get("n_models"))
    candidates = _int(summary_row.get("n_candidates")) or replayed
    if replayed >= candidates:
        return f"Replayed: every one of the {candidates:,} models with per-item results."
    return (f"Replayed: {replayed:,} of the {candidates:,} models with per-item results, to bound the cost on a "
            f"board this large: one model drawn at random (seeded) from each of {replayed:,} strata of consecutive "
            "ranks on all items, so that the figures cover the whole board. A model's replay is the same whether "
            "or not other models are replayed.")


def flash_method(options: dict) -> tuple[str, ...]:
    """How the configured Flash variant runs, in plain words, from its stored options."""
    stages = options.get("stages")
    if stages is None:
        schedule = (f"{options.get('first_stage', 10)} items per scenario, then x{options.get('growth', 1.5):g} "
                    "at each stage (rounded up), then all items")
    else:
        schedule = ", ".join("all" if s is None else str(s) for s in stages) + " items per scenario"
    level = float(options.get("confidence_level", 0.95))
    correction = options.get("correction")
    greg = options.get("estimator", "bootstrap") == "greg"
    lines = [
        f"Each model is treated as new in turn and ranked against the others' full results after {schedule}; "
        "the items of each stage contain the previous stage's. The item order comes from the other models' "
        "difficulty and a seed only, never from the model's own results: effbench flash plan gives a new "
        "model the same order. Items a model has no result for are skipped.",
        ("Order: items spread evenly over difficulty (the other models' mean score on the item)."
         if options.get("order") == "informed" else "Order: a random permutation of each scenario's items."),
    ]
    if greg:
        lines.append(
            "Estimator: in every scenario, a regression (GREG) estimate of the model's mean on the item difficulty, "
            "with its analytic variance and the finite population correction (1 − n/N): with every item the "
            "interval closes. The residual variance is floored at ρ·p(1 − p), with p the proportion nearest 0.5 in "
            "the exact (Clopper-Pearson) interval of the model's right answers at the look's level and ρ the other "
            "models' residual-to-raw variance ratio, so that items all right or all wrong never narrow the interval "
            "below what the proportions they cannot rule out would give.")
    else:
        lines.append("Estimator: a Poisson bootstrap of the sampled items (with the informed order, the mean is "
                     "corrected by a regression on difficulty).")
    if correction == "group-sequential" and options.get("spending", "flat") == "board":
        lines.append(
            f"Error control: the stages are nested looks at one sample, so their estimates are correlated; the "
            f"looks' critical values (repeated confidence intervals of a group-sequential design, fitted on the "
            f"board) keep all the intervals right together with probability {level:.0%} (in the normal "
            "approximation). The error is spent where the board's models are expected to stop: four fifths of it "
            "in proportion to the places of the board whose resolution an interval of the expected width meets "
            "first at each look, one fifth evenly over all looks, so looks where models stop have smaller "
            "critical values and late looks larger ones.")
    elif correction == "group-sequential":
        lines.append(
            f"Error control: the stages are nested looks at one sample, so their estimates are correlated; one "
            f"critical value for every look (repeated confidence intervals of a group-sequential design, computed "
            f"once per board) keeps all the intervals right together with probability {level:.0%} (in the normal "
            "approximation). It is smaller than Bonferroni's over the same looks.")
    elif correction == "bonferroni":
        lines.append(f"Error control: Bonferroni over the stages that can stop early, so the whole procedure keeps "
                     f"{level:.0%}.")
    else:
        lines.append(f"No correction: each stage uses a {level:.0%} interval, so looking after every stage inflates "
                     "the error.")
    if correction in ("group-sequential", "bonferroni") and greg and options.get("intersect", False):
        lines.append(
            "Rank intervals: since the looks' intervals hold together, each look's rank interval comes from the "
            "intersection of its score interval with the earlier looks' (from this look's alone if they do not "
            "meet, which only happens when some look has missed).")
    return tuple(lines)


def _saving_range(row) -> str:
    lo, hi = getattr(row, "saving_lo", math.nan), getattr(row, "saving_hi", math.nan)
    if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)):
        return ""
    return f"x{lo:.1f}–x{hi:.1f}"


def _share(value) -> str:
    return "–" if value is None or not math.isfinite(float(value)) else f"{float(value):.1%}"


def _int(value) -> int:
    return 0 if value is None or (isinstance(value, float) and math.isnan(value)) else int(value)


def tier_rule_lines(options: dict, widened: dict[Tier, str]) -> tuple[str, str]:
    """Which tier rule the stored Flash configuration applies, and where the full run's own precision widens
    it (`widened`, from `widened_tiers`), in plain words (before and after the list of tiers)."""
    n = _int(options.get("board_models"))
    size = f" for this board of {n:,} models" if n else ""
    rule = options.get("tier_rule", "paper")
    if rule == "board-size":
        first = (f"The tiers scale with the board: each rank's resolution is the paper's or a share of the board, "
                 f"whichever is wider (rank 1 exact; up to 1% of the board within ±0.25% of it, up to 10% within "
                 f"±0.5%, the rest within ±1%). Below 500 models these are the paper's tiers. The tiers{size}:")
    elif rule == "declared":
        first = f"The tiers declared in effbench.toml ([[flash.tiers]]){size}:"
    else:
        first = "The paper's tiers (Perlitz et al., 2024), at any board size:"
    if not options.get("floor") or not n:
        return first, ("" if options.get("floor_rule", "none") == "none" else
                       "The board has no rank intervals on all items, so no tier is widened to the full run's "
                       "precision.")
    if options.get("floor_rule") == "half-width":
        rule_text = ("reach further either way than a tier's resolution, how far they reach (their half-width) is the "
                     "resolution instead")
    else:
        rule_text = ("are wider than a tier's resolution, their width is the resolution instead: models that many "
                     "places apart have overlapping intervals, so the leaderboard itself does not order them")
    if not widened:
        return first, ("No tier asks for more precision than the full run has: the leaderboard's own rank intervals "
                       "on all items are nowhere coarser than the tier's resolution.")
    ranges = "; ".join(f"{tier.label} {span} instead of ±{tier.resolution}" for tier, span in widened.items())
    return first, ("The full run sets a floor. Where the leaderboard's own rank intervals on all items (the median "
                   f"over neighbouring places) {rule_text}. Here: {ranges}.")


def widened_tiers(options: dict) -> dict[Tier, str]:
    """The tiers of the stored Flash configuration that the full run's floor widens, with the resolutions
    Flash asks there instead ("±6 to ±8")."""
    n = _int(options.get("board_models"))
    tiers, floor = _stored_tiers(options, "tiers") or DEFAULT_TIERS, _stored_tiers(options, "floor")
    if not floor or not n:
        return {}
    asked, floors = resolutions(tiers, n), resolutions(floor, n)
    widened = {}
    for tier in tiers:
        ranks = slice(tier.first - 1, n if tier.last is None else min(tier.last, n))
        wider = floors[ranks][floors[ranks] > asked[ranks]]
        if wider.size:
            widened[tier] = f"±{wider.min()}" if wider.min() == wider.max() else f"±{wider.min()} to ±{wider.max()}"
    return widened


def tier_lines(tiers: tuple[Tier, ...], widened: dict[Tier, str]) -> tuple[str, ...]:
    """Each tier in plain words, and where the full run's floor widens it (`widened_tiers`), what Flash asks
    there instead."""
    return tuple(t.describe() + (f"; on this board {widened[t]} (the full run's floor, below)"
                                 if t in widened else "") for t in tiers)


def tiers_of(data: SiteData) -> tuple[Tier, ...]:
    """The tiers of the stored Flash configuration, else the defaults."""
    options = json.loads((data.flash_analysis or {}).get("options") or "{}")
    return _stored_tiers(options, "tiers") or DEFAULT_TIERS


def _stored_tiers(options: dict, key: str) -> tuple[Tier, ...]:
    """The tiers stored under `key` ("tiers" or "floor") in a Flash configuration's options, () if none."""
    return tuple(Tier(t["first"], t["last"], t["resolution"]) for t in options.get(key) or ())


def flash_text(row) -> str:
    if row is None:
        return ""
    # Flash's interval is about the rank a full run on this board's own items would give (the finite
    # population correction closes it at the full pool); the leaderboard's is about other items of the
    # same kind. Both are right, about different questions: say so, never print them as one.
    return (f"Ranked as a new model with Flash, it would have stopped after {row.stop_stage} items per scenario: "
            f"{int(row.items_used):,} of {int(row.items_full):,} evaluations (x{row.saving:.1f} less), at rank "
            f"{row.flash_rank} against {row.full_rank} on all items. Flash's range, ranks {row.rank_lo}–{row.rank_hi}, "
            "is where a full run on these same items would place it (it closes to one rank once every item is "
            "used); the leaderboard's rank interval answers another question, the rank on other items of the "
            "same kind, and is the one to quote.")


def flash_cost(row) -> Cell:
    if row is None:
        return Cell(None, "")
    used, full = int(row.items_used), int(row.items_full)
    if used >= full:
        return Cell(float(used), f"{used:,} (all)")
    return Cell(float(used), f"{used:,} (x{row.saving:.0f} less)" if row.saving >= 1.5 else f"{used:,} of {full:,}")


def disagreement_notes(pairs: pd.DataFrame, name: Callable[[str], str] = str) -> dict[str, list[str]]:
    """One note per model: the models it is tied with overall although they differ scenario by scenario
    (each called by `name`)."""
    tied: dict[str, list[str]] = {}
    for pair in pairs.itertuples(index=False):
        tied.setdefault(pair.model_a, []).append(name(pair.model_b))
        tied.setdefault(pair.model_b, []).append(name(pair.model_a))
    return {model: [f"within noise of {' and '.join(others)} overall, yet each is clearly better in different "
                    "scenarios"] for model, others in tied.items()}


METRIC_NAMES = {"kendall_tau": "Kendall tau", "weighted_tau": "top-weighted tau", "top1": "same leader",
                "tier_agreement": "within tier", "score_change": "1 - score change"}

DECISION_TEXT = {
    "examples": ("Examples per scenario",
                 "Each scenario keeps a random sample of this many items (without replacement), the same "
                 "sample for every model."),
    "scenarios": ("Which scenarios",
                  "This many scenarios are drawn with replacement from the benchmark's, as in the paper; the "
                  "score is the mean over the drawn ones."),
    "aggregation": ("How scores are combined",
                    "Each alternative to the mean of scenario means, on all the data: the mean over all items "
                    "(micro), HELM's mean win rate, and the mean rank within scenarios."),
    "models": ("Which other models are on the board",
               "This many random models are removed and the others' order compared. The mean score of a model "
               "does not depend on the others; mean win rate does."),
    "prompts": ("Prompts or seeds",
                "At the same number of evaluations: every prompt on fewer items (cross-product), or item and "
                "prompt pairs drawn uniformly."),
    "allocation": ("Budget allocation",
                   "A fixed number of evaluations per model spread over few scenarios with many items, or many "
                   "scenarios with few items."),
}


def _dior_value(row) -> str:
    if row.meta_metric == "top1" or row.lo == row.hi:
        return f"{row.dior:.2f}"
    return f"{row.dior:.2f} (mean {row.mean:.2f})"


def reliability_page(data: SiteData, page: Page, names: Names | None = None) -> ReliabilityPage:
    """Return the Reliability page's context; models and scenarios called by `names` (else by their ids)."""
    model, scenario = (names.model, names.scenario) if names else (str, str)
    dior = data.dior
    analysis = data.dior_analysis or {}
    options = json.loads(analysis.get("options") or "{}")
    target = float(options.get("target", 0.9))
    confidence = f"{analysis.get('confidence_level', 0.95):.0%}"
    tables = []
    for decision, (title, explanation) in DECISION_TEXT.items():
        part = dior[dior["decision"] == decision]
        if part.empty:
            continue
        metrics = [m for m in METRIC_NAMES if m in set(part["meta_metric"])]
        rows = []
        for (aggregation, _, level), group in part.groupby(["aggregation", "level_order", "level"], sort=True):
            by_metric = {r.meta_metric: r for r in group.itertuples(index=False)}
            label = level if decision == "aggregation" or aggregation == "macro mean" else f"{level} ({aggregation})"
            compute = next(iter(by_metric.values())).compute_fraction
            rows.append(DiorTableRow(label, (f"{compute:.1%}",) + tuple(
                _dior_value(by_metric[m]) if m in by_metric else "" for m in metrics)))
        tables.append(DiorTable(decision, title, explanation,
                                ("compute",) + tuple(METRIC_NAMES[m] for m in metrics), tuple(rows)))

    def curve(decision: str, x_of) -> list[Series]:
        part = dior[(dior["decision"] == decision) & (dior["aggregation"] == "macro mean")]
        return [Series(METRIC_NAMES[m], tuple((x_of(r), r.dior, r.level) for r in
                                              part[part["meta_metric"] == m].itertuples(index=False)))
                for m in METRIC_NAMES if m in set(part["meta_metric"]) and m != "score_change"]

    examples_chart = line_chart(
        curve("examples", lambda r: r.compute_fraction),
        title=f"DIoR against the share of evaluations kept, by examples per scenario (target {target:g})",
        x_label="share of all evaluations (log scale); points: 5, 10, 20, ... examples per scenario, all",
        y_label="DIoR", chart_id="examples-curve", log_x=True, target=target,
        y_domain=(_y_floor(dior[dior["decision"] == "examples"], target), 1.0),
    )
    scenarios_chart = line_chart(
        curve("scenarios", lambda r: float(r.level)),
        title="DIoR against the number of scenarios drawn (with replacement)",
        x_label="scenarios drawn", y_label="DIoR", chart_id="scenarios-curve",
        y_domain=(_y_floor(dior[dior["decision"] == "scenarios"], target), 1.0), target=target,
    )
    allocation = dior[(dior["decision"] == "allocation") & (dior["meta_metric"] == "kendall_tau")]
    budgets: dict[str, list] = {}
    for r in allocation.itertuples(index=False):
        budget, split = r.level.split(": ")
        budgets.setdefault(budget, []).append((float(split.split(" scenario")[0]), r.dior, split))
    allocation_chart = line_chart(
        [Series(f"{budget} per model", tuple(points)) for budget, points in budgets.items()],
        title="Kendall-tau DIoR at a fixed number of evaluations, spread over more or fewer scenarios",
        x_label="scenarios the budget is spread over", y_label="DIoR (Kendall tau)", chart_id="allocation-curve",
        y_domain=(_y_floor(allocation, target), 1.0), target=target,
    ) if budgets else Markup("")
    # A board of many scenarios stores the agreement of some of them (`reliability.agreement_scenarios`).
    shown = set(data.scenario_agreement["scenario_a"])
    scenarios = [s for s in data.scenarios["scenario"] if s in shown]
    matrix = data.scenario_agreement.pivot(index="scenario_a", columns="scenario_b", values="kendall_tau")
    matrix = matrix.reindex(index=scenarios, columns=scenarios)
    agreement_chart = matrix_chart([scenario(s) for s in scenarios], matrix.to_numpy(dtype=float),
                                   title="Kendall tau between the model rankings of every two scenarios"
                                   + (f" (the {len(scenarios)} of {len(data.scenarios)} with the most items)"
                                      if len(scenarios) < len(data.scenarios) else ""),
                                   chart_id="agreement")
    resolution = tuple(
        ResolutionRow(r.examples_per_scenario, f"±{int(r.half_width)}", f"{r.compute_fraction:.1%}",
                      f"x{r.compute_saved:.0f}" if r.compute_saved >= 1.5 else "–")
        for r in data.rank_resolution.itertuples(index=False)
    )
    mwr_changes = tuple(
        f"Removing {model(r.removed_model)} changes the order of {', '.join(map(model, r.changed_models))}"
        + (" (and swaps the top two)" if r.top_pair_swapped else "") + "."
        for r in data.mwr_instability.itertuples(index=False) if len(r.changed_models)
    )
    disagreements = tuple(
        f"{model(p.model_a)} and {model(p.model_b)}: tied overall; {model(p.model_a)} is clearly better in "
        f"{', '.join(map(scenario, p.a_better_in))}; {model(p.model_b)} in {', '.join(map(scenario, p.b_better_in))}."
        for p in data.disagreements.itertuples(index=False)
    )
    parameters_text = (f"{int(analysis.get('n_resamples', 0)):,} random draws per level, seed "
                       f"{int(analysis.get('seed', 0))}; DIoR = the lower end of the central {confidence} interval "
                       "of the meta-metric over the draws (for 'same leader': the share of draws with the same "
                       "leader). Kendall and top-weighted tau are on their own range, -1 to 1.")
    return ReliabilityPage(
        page=page, parameters_text=parameters_text, target_text=target_text(target),
        recommendations=tuple(data.recommendations["text"]),
        examples_chart=examples_chart, scenarios_chart=scenarios_chart, allocation_chart=allocation_chart,
        agreement_chart=agreement_chart, resolution=resolution, tables=tuple(tables), mwr_changes=mwr_changes,
        disagreements=disagreements, tiny_scenarios=tiny_scenario_warnings(data.scenario_weights, scenario),
        weighting_text=_weighting_text(data), micro_rows=_micro_rows(data.micro_ranking.iloc[:TABLE_ROWS], model),
        micro_note=_rows_note(min(len(data.micro_ranking), TABLE_ROWS), len(data.micro_ranking), ""),
    )


def tiny_scenario_warnings(weights: pd.DataFrame, name: Callable[[str], str] = str) -> tuple[str, ...]:
    """Return one warning per scenario too small to weigh like the others (see `effbench.stats`)."""
    if weights.empty:
        return ()
    median = float(weights["n_items"].median())
    return tuple(
        f"{name(r.scenario)} has {_plural_items(int(r.n_items))} (the median scenario has {median:,.0f}), yet it "
        f"weighs {r.macro_weight:.0%} of the score like every scenario, so each of its items counts "
        f"{median / r.n_items:,.0f} times as much as a typical scenario's, and it carries "
        f"{r.variance_share:.0%} of the score's bootstrap variance (median over models)."
        for r in weights.itertuples(index=False) if r.tiny
    )


def _plural_items(count: int) -> str:
    return f"{count:,} item{'' if count == 1 else 's'}"


def _weighting_text(data: SiteData) -> str:
    micro = data.micro_ranking
    if micro.empty:
        return ""
    moved = int((micro["rank"] != micro["micro_rank"]).sum())
    return (f"The leaderboard weighs every scenario the same (macro mean). Weighing every item the same (micro "
            f"mean: scenario means weighted by their numbers of items) moves {moved} of {len(micro)} models; the "
            "intervals come from the same bootstrap resamples.")


TABLE_ROWS = 100  # rows of a per-model table on the Flash and Reliability pages; the downloads hold them all


def _rows_note(shown: int, total: int, full_table: str) -> str:
    """Return the note under a per-model table cut to its first rows ("" when it shows them all)."""
    if shown >= total:
        return ""
    where = f"the download {full_table} lists" if full_table else "the database lists"
    return f"The first {shown} of {total:,} models are shown; {where} them all, and each model's page has its own."


def _micro_rows(micro: pd.DataFrame, name: Callable[[str], str]) -> tuple[MicroRankRow, ...]:
    rows = []
    for r in micro.itertuples(index=False):
        interval = "" if pd.isna(r.micro_rank_lo) else f" ({int(r.micro_rank_lo)}–{int(r.micro_rank_hi)})"
        shift = int(r.rank) - int(r.micro_rank)
        moved = "" if shift == 0 else (f"up {shift}" if shift > 0 else f"down {-shift}")
        rows.append(MicroRankRow(name(r.model), str(int(r.rank)), f"{int(r.micro_rank)}{interval}",
                                 f"{r.micro_score:.3f}", moved))
    return tuple(rows)


def target_text(target: float) -> str:
    """Return the site's one reliability target in words, with what it means for pairs of models."""
    swapped = (1 - target) / 2
    return (f"This site calls a ranking reliable when its Kendall-tau DIoR is at least {target:.2f}: then, in "
            f"97.5% of the random draws, at most about {swapped:.1%} of the pairs of models swap order (without ties, "
            f"Kendall's tau is 1 minus twice the share of pairs that swap). The paper fixes no threshold; "
            f"{target:.2f} is effbench's choice (effbench dior --target sets another), and the charts draw it "
            "as a dashed line.")


def _y_floor(frame: pd.DataFrame, target: float) -> float:
    """Return the bottom of a DIoR axis: just below the lowest value and the target, in steps of 0.1."""
    values = frame["dior"].dropna()
    lowest = min(float(values.min()) if len(values) else 0.0, target)
    return math.floor(lowest * 10 - 1e-9) / 10
