"""Flash rankings: evaluate a new model on a few items first, more only while its rank is too uncertain.

After Flash-HELM (Perlitz et al., 2024), with a design-based estimator and error control that holds
on every board. A new model is ranked against the reference models (the board's models with full
results; `Reference`) after each stage of a nested schedule of items per scenario, and stops at the
first stage where some rank can be reported within the resolution of its tier (rank 1 exact, 2-4 +-1,
...; `effbench.tiers`). Pure
numpy: arrays in, frozen results out. The default (``estimator="greg"``):

- **One item order** per model and scenario, over all the scenario's items and independent of the
  model's results: items sorted by reference difficulty (the reference's mean score on the item) and visited
  so that every prefix spreads evenly over the difficulty range. Each stage takes the next items of
  the order; an item the model has no result for (its harness skipped it) is skipped, and the stage
  does not fill it from later items. Samples are nested, so no evaluation is wasted.
- **Stages** grow geometrically, x1.5 from 10 items per scenario (10, 15, 23, 34, ...), ending with
  all items.
- **Estimator**: per scenario, the design-based regression (GREG) estimator of the model's mean on
  the reference difficulty, ybar + b (X_U - xbar), with its analytic variance (1 - n/N) s_e^2 / n, where
  (1 - n/N) is the finite population correction (the items are drawn without replacement from a known
  pool). The residual variance s_e^2 is floored at rho * p (1 - p), with rho the reference's residual-to-raw
  variance ratio in that scenario and p the least favourable proportion of the sample: the point nearest 0.5
  of the exact (Clopper-Pearson) interval of its successes at the look's own level (2 (1 - Phi(c)), c the
  critical value). Any proportion the sample cannot rule out has a variance at most p (1 - p), so items all
  right or all wrong never narrow the interval below what those proportions give (the Agresti-Coull
  proportion used before went to 0 with the sample: 23 wrong answers placed a model at 0.2 last).
- **Error control**: the looks are nested samples, so their estimates are correlated (correlation
  sqrt(V_k / V_j) under their joint normal law); the repeated confidence intervals of a group-sequential
  design keep P(some look's |Z_k| > c_k) = alpha, the looks' critical values c_k computed once per
  reference by Monte Carlo. By default (``spending="board"``, `effbench.flash.spending`) the error is
  spent where the reference's models are expected to stop, so those looks get smaller critical values;
  ``spending="flat"`` gives every look the same c. ``"bonferroni"`` uses z at alpha / (2 K) instead.
  Since the looks' intervals hold together, a look's rank interval comes from the intersection of its
  score interval with the earlier looks' (``intersect``).
- **Stop rule**: stop when some reported rank Q has |Q - t| <= min(r(Q), r(t)) for every rank t in the
  interval, and report Q (the candidate nearest the point estimate). Whenever the interval covers the
  true rank T, |Q - T| <= min(r(Q), r(T)): the report is within the resolution of both its own tier and
  the truth's.

The earlier variant (``estimator="bootstrap"``: a Poisson bootstrap of the sample, Bonferroni over the
stages 10, 20, 50, 200, 1000, all, and the rule "the interval lies within r of the point estimate",
``stop_rule="estimate"``) stays for comparison, as does the paper's uncorrected rule (random order,
plain mean, no correction). Everything that is fitted (difficulty, rho, the critical value, the
order) comes from the reference only: in a replay the held-out model never influences it.
"""

# The modules, one per concern; every name stays importable from `effbench.flash`.
from effbench.flash.config import (  # noqa: F401
    CORRECTIONS,
    CRITICAL_VALUE_DRAWS,
    DEFAULT_CONFIG,
    ESTIMATORS,
    ORDERS,
    PAPER_STAGES,
    SPENDINGS,
    STOP_RULES,
    FlashConfig,
    stage_label,
)
from effbench.flash.design import (  # noqa: F401
    StageSample,
    item_order,
    model_seed,
    orders_for,
    stage_samples,
)
from effbench.flash.estimators import (  # noqa: F401
    greg_estimate,
    greg_estimates,
    least_favourable_proportion,
    rank_against,
    rank_bootstrap,
    rank_greg,
)
from effbench.flash.planning import (  # noqa: F401
    Plan,
    item_level,
    plan,
    plans,
    reference_of,
)
from effbench.flash.reference import (  # noqa: F401
    EXACT_DIFFICULTY_CELLS,
    REPLAY_BLOCK,
    LeaveOneOut,
    Reference,
    ReferenceFit,
    group_sequential_critical_value,
    look_paths,
    look_variances,
)
from effbench.flash.replay import (  # noqa: F401
    comparison_configs,
    replay_sample,
    run_model,
    simulate,
    simulate_variants,
    summarise,
)
from effbench.flash.results import (  # noqa: F401
    FlashOutcome,
    FlashSimulation,
    FlashSummary,
    StageResult,
)
from effbench.flash.spending import (  # noqa: F401
    EVEN_SHARE,
    board_shares,
    expected_stop_looks,
    spent_critical_values,
)
from effbench.flash.stop_rule import (  # noqa: F401
    reported_rank,
    resolution_met,
    within_resolution,
)
