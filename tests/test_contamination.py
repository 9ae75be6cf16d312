"""Contamination signals: before/after differences, the difficulty adjustment with controls, flags."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from effbench import pipeline
from effbench.config import SiteConfig
from effbench.contamination import binned_means, contamination_signals
from effbench.load import Source

N_ITEMS = 400
DAYS = np.linspace(0.0, 300.0, N_ITEMS)  # items published over 300 days


def board(seed: int = 0, *, drop: float = 0.25, harder_later: float = 0.3):
    """Six models on items that get harder over time; model "leaky" (date: day 150) saw the early items.

    Models: two controls dated before every item, one after every item, "leaky" and "honest" dated
    inside the range, "undated" without a date.
    """
    rng = np.random.default_rng(seed)
    base = np.array([0.6, 0.5, 0.7, 0.55, 0.55, 0.5])
    difficulty = harder_later * DAYS / DAYS.max()
    p = np.clip(base[None, :] - difficulty[:, None], 0.02, 0.98)
    p[DAYS < 150, 3] += drop  # the leaky model knows the early items
    scores = (rng.random((N_ITEMS, 6)) < np.clip(p, 0, 1)).astype(float)
    models = ("control-a", "control-b", "control-late", "leaky", "honest", "undated")
    dates = np.array([-30.0, -10.0, 400.0, 150.0, 150.0, np.nan])
    return scores, models, dates


def test_a_model_that_saw_the_early_items_is_flagged_and_an_honest_one_is_not():
    scores, models, dates = board()
    result = contamination_signals(scores, DAYS, dates, models=models, n_resamples=500)
    tested = {t.model: t for t in result.tested}
    assert set(tested) == {"leaky", "honest"}
    assert result.controls == ("control-a", "control-b", "control-late")
    assert result.untested == (("undated", "no date"),)
    assert tested["leaky"].flagged and not tested["honest"].flagged
    # the adjustment takes out the items getting harder: the honest model's raw drop mostly disappears
    assert tested["honest"].raw_difference < -0.05
    assert abs(tested["honest"].adjusted_difference) < abs(tested["honest"].raw_difference)
    assert tested["leaky"].adjusted_lo <= tested["leaky"].adjusted_difference <= tested["leaky"].adjusted_hi
    assert tested["leaky"].adjusted_hi < 0


def test_point_values_match_a_direct_computation():
    scores, models, dates = board(seed=1)
    result = contamination_signals(scores, DAYS, dates, models=models, n_resamples=20)
    leaky = next(t for t in result.tested if t.model == "leaky")
    after = DAYS >= 150
    controls = scores[:, :3].mean(axis=1)
    raw = scores[after, 3].mean() - scores[~after, 3].mean()
    adjusted = raw - (controls[after].mean() - controls[~after].mean())
    assert (leaky.n_before, leaky.n_after) == (int((~after).sum()), int(after.sum()))
    assert leaky.raw_difference == pytest.approx(raw, abs=1e-12)
    assert leaky.adjusted_difference == pytest.approx(adjusted, abs=1e-12)


def test_without_a_real_effect_flags_are_rare():
    flags = 0
    for seed in range(30):
        scores, models, dates = board(seed=seed, drop=0.0)
        result = contamination_signals(scores, DAYS, dates, models=models, n_resamples=200, rng=seed)
        flags += len(result.flagged)
    assert flags <= 3  # 60 tests at a family-wise 5% per board


def test_without_controls_the_other_models_stand_in():
    scores, models, dates = board(seed=2)
    inside = np.array([150.0, 150.0, 150.0, 150.0, 150.0, 150.0])
    result = contamination_signals(scores, DAYS, inside, models=models, n_resamples=100)
    assert result.controls == () and result.adjustment == "other models"
    assert {t.model for t in result.tested} == set(models)
    assert all(np.isfinite(t.adjusted_difference) for t in result.tested)


def test_models_with_too_few_items_on_one_side_are_not_tested():
    scores, models, dates = board()
    dates = dates.copy()
    dates[3] = 5.0  # only a handful of items before day 5
    result = contamination_signals(scores, DAYS, dates, models=models, n_resamples=20, min_items=20)
    assert "leaky" in dict(result.untested) and "needed on each side" in dict(result.untested)["leaky"]


def test_binned_means_by_hand():
    means, counts = binned_means(np.array([1.0, 0.0, np.nan, 1.0]), np.array([0.0, 1.0, 1.5, 2.0]),
                                 np.array([0.0, 1.0, 2.0]))
    assert counts.tolist() == [1, 2] and means.tolist() == [1.0, 0.5]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"item_dates": DAYS[:3]}, "`item_dates` must have one entry per item"),
    ({"model_dates": np.zeros(2)}, "`model_dates` must have one entry per model"),
    ({"n_resamples": 1}, "`n_resamples`"),
    ({"confidence_level": 0}, "`confidence_level`"),
    ({"min_items": 0}, "`min_items`"),
    ({"item_dates": np.full(N_ITEMS, np.nan)}, "`item_dates` holds no date"),
])
def test_bad_arguments_name_the_parameter(kwargs, message):
    scores, models, dates = board()
    arguments = {"item_dates": DAYS, "model_dates": dates, **kwargs}
    with pytest.raises(ValueError, match=message):
        contamination_signals(scores, arguments["item_dates"], arguments["model_dates"], models=models,
                              **{k: v for k, v in kwargs.items() if k not in ("item_dates", "model_dates")})


# ---------------------------------------------------------------------------------------------
# The trend pages of a small built site


def small_board(tmp_path, *, metadata: bool = True):
    """Eight models of known size on three scenarios of dated items: "leaky" (dated mid-year) saw the
    early items, "gifted" scores far above its size, "anglo" is strong in English and weak in Chinese."""
    from conftest import write_csv

    rng = np.random.default_rng(0)
    models = ("m1", "m2", "m4", "gifted", "m16", "m32", "leaky", "anglo")
    params = (1, 2, 4, 8, 16, 32, 64, 128)
    rows = []
    for scenario in ("en-qa", "en-math", "zh-qa"):
        for i in range(60):
            month = 1 + i % 12
            for model, size in zip(models, params, strict=True):
                p = 0.15 + 0.08 * np.log2(size)
                p += 0.35 if model == "gifted" else 0.0
                p += 0.4 if model == "leaky" and month < 7 else 0.0
                p += {"en-qa": 0.25, "en-math": 0.25, "zh-qa": -0.6}[scenario] if model == "anglo" else 0.0
                rows.append({"model": model, "scenario": scenario, "item_id": f"{scenario}-{i}",
                             "score": float(rng.random() < np.clip(p, 0.02, 0.98)),
                             "item_date": f"2024-{month:02d}-15"})
    results = write_csv(tmp_path / "results.csv", rows)
    meta = write_csv(tmp_path / "models.csv", [
        {"model": m, "params_b": size, "release_date": "2024-07-01" if m == "leaky" else "2023-06-01",
         "training_tokens_t": "" if m == "m1" else 20 * size / 1000}
        for m, size in zip(models, params, strict=True)])
    return [Source(results, "long"), *([Source(meta, "models")] if metadata else [])]


def test_small_site_has_scaling_contamination_and_group_pages(tmp_path):
    tags = {"en-qa": ("English",), "en-math": ("English",), "zh-qa": ("Chinese",)}
    report = pipeline.build(tmp_path / "db.duckdb", tmp_path / "site", small_board(tmp_path),
                            site=SiteConfig(scenario_tags=tags))
    site = tmp_path / "site"
    for page in ("scaling.html", "contamination.html", "groups.html"):
        assert page in report.files
    index = (site / "index.html").read_text()
    assert 'href="scaling.html">Scaling' in index and 'href="groups.html">Groups' in index
    contamination = (site / "contamination.html").read_text()
    assert "1 of 1 models tested score clearly lower" in contamination and "<svg" in contamination
    assert "possible contamination: on items published after" in (site / "models" / "leaky.html").read_text()
    assert "possible contamination: on items" not in (site / "models" / "gifted.html").read_text()
    scaling = (site / "scaling.html").read_text()
    assert "gifted" in scaling.split("Single scenarios")[0] and "above models of its size" in scaling
    compute = scaling.split("Against training compute")[1].split("</figure>")
    assert "FLOPs" in compute[0] and "gifted (+" in compute[0]
    assert "Models without training tokens, left out of this trend: m1." in compute[1]
    groups = (site / "groups.html").read_text()
    assert "anglo (overall rank" in groups and "is clearly better in English" in groups
    with open(site / "data" / "contamination.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["model"], r["flagged"]) for r in rows] == [("leaky", "True")]


def test_without_sizes_dates_or_tags_there_are_no_trend_pages(tmp_path):
    report = pipeline.build(tmp_path / "db.duckdb", tmp_path / "site", small_board(tmp_path, metadata=False))
    assert not {"scaling.html", "contamination.html", "groups.html"} & set(report.files)
    assert "Scaling" not in (tmp_path / "site" / "index.html").read_text()
