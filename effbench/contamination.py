"""Contamination signals: does a model score lower on items published after its cutoff or release date?

Pure numpy/scipy on arrays; nothing here reads files or the database.

Method
------
- A model is tested when it has a date inside the range of the item dates and at least
  `min_items` scored items on each side of it. Items dated on or after the model's date count as
  "after" (unseen); the others as "before" (possibly seen in training).
- Raw difference = mean score after - mean score before. It is confounded: later items may simply be
  harder. So the same difference is taken for the *controls* on the same items, the models whose date
  lies before every item or after every item (their exposure is the same for every item, so their
  change over the dates measures the change in difficulty alone), and subtracted:
  adjusted difference = (after - before of the model) - (after - before of the controls' mean).
  Without controls, the mean of all the other models stands in for them (`adjustment` says which);
  it is a weaker adjustment, since models dated inside the range may share the model's exposure.
- Intervals: a paired bootstrap over items (the same drawn items for the model and the controls),
  percentile intervals at `confidence_level`.
- A model is flagged when its adjusted difference is significantly below 0 after a Bonferroni
  correction over the models tested: ``adjusted + z * sd < 0`` with z the normal quantile of
  ``1 - (1 - confidence_level) / (2 * n_tested)`` and sd the bootstrap standard deviation (a normal
  interval, since 1,000 draws cannot resolve the far tails a percentile interval would need).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats as scipy_stats

# Cap on the entries of one block of resample weights (resamples x items), as in `effbench.stats`.
_MAX_WEIGHT_ENTRIES = 1 << 24


@dataclass(frozen=True)
class ModelContamination:
    """One tested model: its scores before and after its date, raw and adjusted for difficulty.

    Scores are means over the items the model has a score on; the controls' means are over the same
    items. ``*_lo``/``*_hi`` are percentile bootstrap intervals; `resampled_adjusted` holds the raw
    bootstrap draws of the adjusted difference (NaN where a draw left one side empty).
    """

    model: str
    date: float
    n_before: int
    n_after: int
    before: float
    after: float
    raw_difference: float
    raw_lo: float
    raw_hi: float
    control_before: float
    control_after: float
    adjusted_difference: float
    adjusted_lo: float
    adjusted_hi: float
    flagged: bool
    resampled_adjusted: np.ndarray


@dataclass(frozen=True)
class ContaminationResult:
    """Result of `contamination_signals`.

    `controls` are the models whose date lies outside the items' dates; `untested` maps every other
    model that was not tested to the reason. `item_dates` are the dated items' dates and
    `control_scores` the controls' mean score on each of them (NaN where no control has one).
    """

    tested: tuple[ModelContamination, ...]
    controls: tuple[str, ...]
    untested: tuple[tuple[str, str], ...]
    item_dates: np.ndarray
    control_scores: np.ndarray
    adjustment: str  # "controls" or "other models"
    first_item_date: float
    last_item_date: float
    n_resamples: int
    confidence_level: float
    seed: int | None

    @property
    def flagged(self) -> tuple[ModelContamination, ...]:
        return tuple(t for t in self.tested if t.flagged)


def contamination_signals(
    scores: np.ndarray,
    item_dates: np.ndarray,
    model_dates: np.ndarray,
    *,
    models: tuple[str, ...],
    n_resamples: int = 1000,
    confidence_level: float = 0.95,
    min_items: int = 20,
    rng: int | np.random.Generator = 0,
) -> ContaminationResult:
    """Return each dated model's score difference after - before its date, raw and adjusted.

    Parameters
    ----------
    scores : array_like, shape (n_items, n_models)
        Per-item scores; NaN = not evaluated.
    item_dates : array_like, shape (n_items,)
        When each item was published, in any unit that orders (e.g. days since 1970); NaN = unknown,
        and the item is left out.
    model_dates : array_like, shape (n_models,)
        Each model's training cutoff or release date, in the unit of `item_dates`; NaN = unknown.
    models : tuple of str
        Names of the columns of `scores`.
    n_resamples : int, default 1000
        Bootstrap draws of the items.
    confidence_level : float, default 0.95
        Coverage of the intervals; 1 - the family-wise error of the flags.
    min_items : int, default 20
        Fewest scored items a model needs on each side of its date to be tested.
    rng : int or numpy.random.Generator, default 0
        Seed or generator.

    Returns
    -------
    ContaminationResult
    """
    scores, item_dates, model_dates = _validate(scores, item_dates, model_dates, models, n_resamples,
                                                confidence_level, min_items, rng)
    seed = int(rng) if isinstance(rng, int | np.integer) else None
    generator = np.random.default_rng(rng)
    dated = np.isfinite(item_dates)
    scores, item_dates = scores[dated], item_dates[dated]
    if not item_dates.size:
        raise ValueError("`item_dates` holds no date")
    first, last = float(item_dates.min()), float(item_dates.max())
    scored = ~np.isnan(scores)
    known = np.isfinite(model_dates)
    control = known & ((model_dates <= first) | (model_dates > last)) & scored.any(axis=0)
    untested: list[tuple[str, str]] = []
    candidates = []
    for m, name in enumerate(models):
        if not known[m]:
            untested.append((name, "no date"))
        elif control[m]:
            continue
        else:
            after = item_dates >= model_dates[m]
            n_before, n_after = int((scored[:, m] & ~after).sum()), int((scored[:, m] & after).sum())
            if min(n_before, n_after) < min_items:
                untested.append((name, f"{n_before} scored items before its date and {n_after} after; "
                                       f"{min_items} needed on each side"))
            else:
                candidates.append(m)
    # without a model of constant exposure, the other models' mean stands in (a weaker adjustment)
    board = _nanmean(scores[:, control] if control.any() else scores, axis=1)
    filled, counts = np.where(scored, scores, 0.0).sum(axis=1), scored.sum(axis=1)

    n_items = len(item_dates)
    tail = (1 - confidence_level) / 2
    critical = scipy_stats.norm.ppf(1 - tail / max(len(candidates), 1))
    prepared = []  # per tested model: its items after its date, its scored items, its board, both
    for m in candidates:
        own = scored[:, m]
        if control.any():
            board_m = board
        else:  # leave the model itself out of the others' mean
            with np.errstate(invalid="ignore", divide="ignore"):
                board_m = (filled - np.where(own, scores[:, m], 0.0)) / (counts - own)
        prepared.append((item_dates >= model_dates[m], own, board_m, own & np.isfinite(board_m)))
    raw_draws = np.empty((len(candidates), n_resamples))
    gap_draws = np.empty((len(candidates), n_resamples))
    block = max(1, _MAX_WEIGHT_ENTRIES // n_items)  # bounded memory; the draws depend only on the shape
    for first_draw in range(0, n_resamples, block):
        size = min(block, n_resamples - first_draw)
        weights = generator.multinomial(n_items, np.full(n_items, 1.0 / n_items), size=size).astype(np.float64)
        for k, (m, (after, own, board_m, with_board)) in enumerate(zip(candidates, prepared, strict=True)):
            raw_draws[k, first_draw:first_draw + size] = _difference(scores[:, m], own, after, weights)
            gap_draws[k, first_draw:first_draw + size] = _difference(scores[:, m] - board_m, with_board, after,
                                                                     weights)
    tested = []
    everything = np.ones((1, n_items))
    for k, (m, (after, own, board_m, with_board)) in enumerate(zip(candidates, prepared, strict=True)):
        raw, gap = raw_draws[k], gap_draws[k]
        point_raw = _difference(scores[:, m], own, after, everything)[0]
        point_gap = _difference(scores[:, m] - board_m, with_board, after, everything)[0]
        raw_lo, raw_hi = _quantiles(raw, tail)
        adjusted_lo, adjusted_hi = _quantiles(gap, tail)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            spread = float(np.nanstd(gap, ddof=1)) if np.isfinite(gap).sum() > 1 else np.nan
        tested.append(ModelContamination(
            model=models[m], date=float(model_dates[m]),
            n_before=int((own & ~after).sum()), n_after=int((own & after).sum()),
            before=float(np.mean(scores[own & ~after, m])), after=float(np.mean(scores[own & after, m])),
            raw_difference=float(point_raw), raw_lo=raw_lo, raw_hi=raw_hi,
            control_before=_mean_or_nan(board_m[with_board & ~after]),
            control_after=_mean_or_nan(board_m[with_board & after]),
            adjusted_difference=float(point_gap), adjusted_lo=adjusted_lo, adjusted_hi=adjusted_hi,
            flagged=bool(np.isfinite(point_gap) and point_gap + critical * spread < 0),
            resampled_adjusted=gap,
        ))
    return ContaminationResult(
        tested=tuple(tested), controls=tuple(models[m] for m in np.flatnonzero(control)), untested=tuple(untested),
        item_dates=item_dates, control_scores=board, adjustment="controls" if control.any() else "other models",
        first_item_date=first, last_item_date=last, n_resamples=n_resamples,
        confidence_level=confidence_level, seed=seed,
    )


def binned_means(scores: np.ndarray, item_dates: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the mean of `scores` (NaN = none) over the items in each bin ``[edges[k], edges[k+1])``, the
    last bin closed, and the number of scored items in each; NaN where a bin has none."""
    scores, item_dates, edges = (np.asarray(a, dtype=np.float64) for a in (scores, item_dates, edges))
    which = np.clip(np.searchsorted(edges, item_dates, side="right") - 1, 0, len(edges) - 2)
    inside = np.isfinite(scores) & (item_dates >= edges[0]) & (item_dates <= edges[-1])
    counts = np.bincount(which[inside], minlength=len(edges) - 1).astype(np.float64)
    sums = np.bincount(which[inside], weights=scores[inside], minlength=len(edges) - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.where(counts > 0, counts, 1), np.nan), counts


def _difference(values: np.ndarray, usable: np.ndarray, after: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Return mean(after) - mean(before) of `values` over the `usable` items, once per row of item `weights`."""
    filled = np.where(usable, values, 0.0)
    late, early = (usable & after).astype(np.float64), (usable & ~after).astype(np.float64)
    n_late, n_early = weights @ late, weights @ early
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_late = np.where(n_late > 0, (weights @ (filled * late)) / n_late, np.nan)
        mean_early = np.where(n_early > 0, (weights @ (filled * early)) / n_early, np.nan)
    return mean_late - mean_early


def _quantiles(samples: np.ndarray, tail: float) -> tuple[float, float]:
    finite = samples[np.isfinite(samples)]
    if not finite.size:
        return np.nan, np.nan
    lo, hi = np.quantile(finite, [tail, 1 - tail])
    return float(lo), float(hi)


def _nanmean(values: np.ndarray, axis: int) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an item no control answered has no board value
        return np.nanmean(values, axis=axis)


def _mean_or_nan(values: np.ndarray) -> float:
    return float(np.mean(values)) if values.size else np.nan


def _validate(scores, item_dates, model_dates, models, n_resamples, confidence_level, min_items, rng):
    scores = np.asarray(scores, dtype=np.float64)
    item_dates = np.asarray(item_dates, dtype=np.float64)
    model_dates = np.asarray(model_dates, dtype=np.float64)
    if scores.ndim != 2 or scores.shape[1] != len(models) or scores.shape[0] == 0:
        raise ValueError(f"`scores` must be (n_items >= 1, n_models = {len(models)}), got {scores.shape}")
    if item_dates.shape != (scores.shape[0],):
        raise ValueError(f"`item_dates` must have one entry per item ({scores.shape[0]}), got {item_dates.shape}")
    if model_dates.shape != (len(models),):
        raise ValueError(f"`model_dates` must have one entry per model ({len(models)}), got {model_dates.shape}")
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, int | np.integer) or n_resamples < 2:
        raise ValueError(f"`n_resamples` must be an integer of at least 2, got {n_resamples!r}")
    if not 0 < confidence_level < 1:
        raise ValueError(f"`confidence_level` must be in (0, 1), got {confidence_level!r}")
    if isinstance(min_items, bool) or not isinstance(min_items, int | np.integer) or min_items < 1:
        raise ValueError(f"`min_items` must be a positive integer, got {min_items!r}")
    if not isinstance(rng, int | np.integer | np.random.Generator) or isinstance(rng, bool):
        raise TypeError(f"`rng` must be an int seed or a numpy Generator, got {type(rng).__name__}")
    return scores, item_dates, model_dates
