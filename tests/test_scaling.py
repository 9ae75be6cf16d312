"""Scaling trends: the sigmoid fit in log-parameters, its bands, the leave-one-out deviations and flags."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special
from scipy import stats as scipy_stats

from effbench.scaling import scaling_trends

PARAMS = np.array([0.5, 1, 2, 3, 7, 8, 13, 14, 34, 35, 70, 72, 110, 180, 400])
MODELS = tuple(f"m{i:02d}" for i in range(PARAMS.size))


def board(*, slope: float = 0.9, intercept: float = -1.2, noise: float = 0.05, seed: int = 0,
          shift: dict[int, float] | None = None) -> np.ndarray:
    """One scenario's scores on a known sigmoid in log10 N, with noise on the logit and optional shifts."""
    rng = np.random.default_rng(seed)
    logits = intercept + slope * np.log10(PARAMS) + rng.normal(0, noise, PARAMS.size)
    scores = special.expit(logits)
    for i, delta in (shift or {}).items():
        scores[i] += delta
    return scores[None, :]


def test_flags_nobody_on_a_clean_trend_and_the_band_holds_the_curve():
    result = scaling_trends(PARAMS, board(), models=MODELS, scenarios=("s",), n_resamples=400)
    fit = result.fits[0]
    assert fit.link == "logit"
    assert fit.slope == pytest.approx(0.9, abs=0.1)
    assert not fit.flagged.any()
    assert np.all(fit.curve_lo <= fit.curve + 1e-12) and np.all(fit.curve <= fit.curve_hi + 1e-12)


def test_slope_interval_covers_the_true_slope_about_as_often_as_it_says():
    # A bootstrap over 15 models under-covers a little (about 88% for a nominal 95% in a longer run).
    covered = [fit.slope_lo <= 0.9 <= fit.slope_hi for fit in (
        scaling_trends(PARAMS, board(seed=seed), models=MODELS, scenarios=("s",), n_resamples=200, rng=seed).fits[0]
        for seed in range(40))]
    assert 0.75 <= np.mean(covered) <= 1.0


def test_a_model_far_above_its_size_is_flagged_with_the_size_of_the_deviation():
    result = scaling_trends(PARAMS, board(shift={4: 0.2}), models=MODELS, scenarios=("s",), n_resamples=400)
    fit = result.fits[0]
    assert fit.flagged.tolist() == [i == 4 for i in range(PARAMS.size)]
    assert 0.15 < fit.deviation[4] < 0.25
    assert fit.deviation_lo[4] > fit.margin and fit.deviation_hi[4] >= fit.deviation[4]
    assert fit.z[4] > 3


def test_leave_one_out_trend_matches_a_plain_regression_of_the_other_models():
    scores = board(shift={9: -0.15})
    fit = scaling_trends(PARAMS, scores, models=MODELS, scenarios=("s",), n_resamples=50).fits[0]
    others = np.arange(PARAMS.size) != 9
    line = scipy_stats.linregress(np.log10(PARAMS[others]), special.logit(np.clip(scores[0, others], 0.01, 0.99)))
    expected = special.expit(line.intercept + line.slope * np.log10(PARAMS[9]))
    assert fit.expected[9] == pytest.approx(expected, rel=1e-10)
    assert fit.deviation[9] == pytest.approx(scores[0, 9] - expected, rel=1e-10)


def test_model_order_does_not_change_point_estimates():
    scores = board(shift={2: 0.2})
    order = np.random.default_rng(3).permutation(PARAMS.size)
    a = scaling_trends(PARAMS, scores, models=MODELS, scenarios=("s",), n_resamples=50).fits[0]
    b = scaling_trends(PARAMS[order], scores[:, order], models=tuple(MODELS[i] for i in order),
                       scenarios=("s",), n_resamples=50).fits[0]
    by_model = dict(zip(b.models, b.deviation, strict=True))
    assert [by_model[m] for m in a.models] == pytest.approx(list(a.deviation), rel=1e-10)
    assert a.slope == pytest.approx(b.slope, rel=1e-12)


def test_seeded_results_repeat():
    first = scaling_trends(PARAMS, board(), models=MODELS, scenarios=("s",), n_resamples=100, rng=7).fits[0]
    again = scaling_trends(PARAMS, board(), models=MODELS, scenarios=("s",), n_resamples=100, rng=7).fits[0]
    assert np.array_equal(first.curve_lo, again.curve_lo) and np.array_equal(first.deviation_hi, again.deviation_hi)


def test_models_without_size_are_listed_and_small_scenarios_left_unfitted():
    params = PARAMS.copy()
    params[[0, 5]] = np.nan
    scores = np.vstack([board()[0], np.where(np.arange(PARAMS.size) < 3, 0.5, np.nan)])
    result = scaling_trends(params, scores, models=MODELS, scenarios=("big", "small"), n_resamples=20)
    assert result.no_params == ("m00", "m05")
    assert [f.scenario for f in result.fits] == ["big"] and result.unfitted == ("small",)
    assert "m00" not in result.fits[0].models


def test_scores_outside_zero_one_get_a_straight_line():
    scores = (10 + 5 * np.log10(PARAMS))[None, :]
    fit = scaling_trends(PARAMS, scores, models=MODELS, scenarios=("elo",), n_resamples=20).fits[0]
    assert fit.link == "identity" and fit.slope == pytest.approx(5)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"params": PARAMS[:3]}, "`params` must have one entry per model"),
    ({"scores": np.zeros((2, 3))}, "`scores` must be"),
    ({"n_resamples": 0}, "`n_resamples`"),
    ({"confidence_level": 1.0}, "`confidence_level`"),
    ({"min_models": 2}, "`min_models`"),
    ({"margin": -0.1}, "`margin`"),
    ({"score_se": -np.ones((1, PARAMS.size))}, "`score_se`"),
])
def test_bad_arguments_name_the_parameter(kwargs, message):
    arguments = {"params": PARAMS, "scores": board(), "models": MODELS, "scenarios": ("s",), **kwargs}
    with pytest.raises(ValueError, match=message):
        scaling_trends(arguments.pop("params"), arguments.pop("scores"), **arguments)
