"""Ranking statistics on results matrices: scores, ranks and paired-bootstrap intervals.

Pure numpy/scipy (and pandas.unique) on arrays; nothing here reads files or the database.

Conventions
-----------
- A model's score in a scenario is the mean of its item scores, over the items it was evaluated on
  (missing results are left out, never counted as 0).
- A model's overall score is the mean of its scenario scores ("macro" mean: every scenario weighs the
  same, however many items it has). A model without a result in some scenario ("partial") counts that
  scenario at the lowest score any model has there, so a skipped scenario never raises a score: a
  partial model never outranks a model that is at least as good on every scenario they share.
- Point scores and ranks are computed in exact rational arithmetic over the item scores, so equal
  sums of discrete scores (0/1 accuracy, pass@1 in tenths) are exact ties, never split by rounding.
- Rank 1 is best. Tied models share the best rank of their group (competition ranking: 1, 2, 2, 4).
  A model with no score ranks below every model with one.
- Rank intervals come from the intervals of the paired differences to every other model: a model's
  best rank is 1 + the number of models clearly better than it, its worst rank the number of models
  not clearly worse than it (itself included). Exact or near ties therefore widen the interval.

The statistics are a package of two modules, and every name stays importable from here: `scores` (the
results matrix, exact point scores and ranks) and `intervals` (the paired bootstrap and its intervals).
"""

from __future__ import annotations

from effbench.stats.intervals import (  # noqa: F401
    RANK_BINS,
    RANK_METHODS,
    TINY_SCENARIO_SHARE,
    RankIntervals,
    _resampled_means,
    difference_rank_intervals,
    percentile_interval,
    rank_intervals,
    scale_ends,
)
from effbench.stats.scores import (  # noqa: F401
    ResultsMatrix,
    aggregate,
    competition_ranks,
    exact_competition_ranks,
    exact_overall_scores,
    fill_missing_scenarios,
    mean_of_ratios,
    nanmean,
    overall_scores,
    score_unit,
)
