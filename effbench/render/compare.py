"""The compare view: two models side by side, from the pairs computed at build time.

The page holds the models and scenarios as JSON (a `<script type="application/json">`); the pairs of
model i with every later model j > i are JSON in `data/compare/i.js`, wrapped in one function call so
that the page can load them with a script element, which works from `file://` too (a fetch does not).
The page loads one such file per comparison, so its weight grows with the number of models, not with
the number of pairs. A large board computes some pairs only (`compare.compared_pairs`: rank neighbours and
the top of the board), so the files on disk grow linearly with the number of models too, and puts the
pairs of 50 models in each file, so that a site of thousands of models is not tens of thousands of files."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence

import numpy as np

from effbench.compare import Comparisons, PairComparison
from effbench.render.contexts import ComparePage, Page
from effbench.render.names import Names
from effbench.render.values import Table


def _number(value: float, digits: int = 4) -> float | None:
    return None if not math.isfinite(value) else round(value, digits)


def _numbers(values: Sequence[float], digits: int = 4) -> list[float | None]:
    """Return `_number` of each float of `values`, the same floats, a whole array at a time (a pair has one per
    scenario: 570,000 on a board of 20 models and 3,000 scenarios, where Python's `round` took seconds).

    `round` rounds the exact value to the nearest multiple of 10**-digits, then returns the float nearest to
    it: ``rint(value * 10**digits) / 10**digits`` when the product's rounding cannot have moved it across a
    half. The few values within rounding error of a half (or too large, or not finite) take `_number`."""
    array = np.asarray(values, dtype=float)
    scale = 10.0**digits
    with np.errstate(invalid="ignore", over="ignore"):
        scaled = array * scale
        rounded = np.rint(scaled) / scale
        safe = (np.abs(scaled - np.floor(scaled) - 0.5) > 1e-6) & (np.abs(scaled) < 1e9)
    out = rounded.tolist()
    for i in np.flatnonzero(~safe).tolist():
        out[i] = _number(float(array[i]), digits)
    return out


def _scenario_numbers(pair: PairComparison) -> Iterator[tuple[float | None, ...]]:
    """Return the pair's rows of (difference, lo, hi, p-value) per scenario, rounded as the downloads show them."""
    ends = np.array(pair.by_scenario, dtype=float).reshape(-1, 3)
    return zip(*(_numbers(column) for column in ends.T), _numbers(_p(pair), 6), strict=True)


def comparison_table(comparisons: Comparisons) -> Table:
    """Return the machine-readable twin of the compare view: one row per pair and scenario ("" = overall)."""
    records = []
    for pair in comparisons.pairs:
        a, b = comparisons.models[pair.a], comparisons.models[pair.b]
        difference, lo, hi = pair.overall
        records.append({"model_a": a, "model_b": b, "scenario": None, "difference": _number(difference),
                        "difference_lo": _number(lo), "difference_hi": _number(hi),
                        "p_value": _number(pair.overall_p, 6)})
        records.extend({"model_a": a, "model_b": b, "scenario": scenario or None, "difference": difference,
                        "difference_lo": lo, "difference_hi": hi, "p_value": p}
                       for scenario, (difference, lo, hi, p) in zip(comparisons.scenarios, _scenario_numbers(pair),
                                                                      strict=True))
    return Table("paired differences (model_a - model_b; scenario empty = overall; p_value: sign-flip test, "
                 "Holm-adjusted over the pair's scenarios)",
                 ("model_a", "model_b", "scenario", "difference", "difference_lo", "difference_hi", "p_value"),
                 tuple(records))


def _p(pair: PairComparison) -> tuple[float, ...]:
    """Return the pair's per-scenario p-values (NaN for each scenario when none were computed)."""
    return pair.scenario_p or (float("nan"),) * len(pair.by_scenario)


PAIRS_FOLDER = "data/compare"
MODELS_PER_FILE = 50  # on a large board, the pairs of models 50k to 50k + 49 share data/compare/block-k.js


def compare_page(comparisons: Comparisons, page: Page, *, slugs: dict[str, str], model_paths: dict[str, str],
                 scenario_paths: dict[str, str], rank_order: tuple[str, ...], rank_text: dict[str, str],
                 names: Names | None = None) -> ComparePage:
    """Return the compare view's context and its pair files; links in the JSON are relative to the compare
    page (at the site's root)."""
    index = {model: i for i, model in enumerate(comparisons.models)}
    # The names the view shows, in its choosers, headings and verdicts: display names where the metadata has
    # them (`effbench.render.names`), else the ids.
    shown = {m: names.model(m) if names else m for m in comparisons.models}
    payload = {
        "confidence": f"{comparisons.confidence_level:.0%}",
        "alpha": round(1 - comparisons.confidence_level, 6),
        "resamples": comparisons.n_resamples,
        "models": [{"name": shown[m], "slug": slugs[m], "href": model_paths[m], "rank": rank_text[m],
                    "score": _number(float(comparisons.scores[i])),
                    "scenarios": [_number(float(v)) for v in comparisons.scenario_scores[:, i]]}
                   for i, m in enumerate(comparisons.models)],
        "scenarios": [{"name": names.scenario(s) if names else s, "href": scenario_paths[s]}
                      for s in comparisons.scenarios],
        "pairs": PAIRS_FOLDER,  # model i's pairs with every later model: PAIRS_FOLDER/i.js
    }
    by_first: dict[int, dict[str, dict]] = {}
    for pair in comparisons.pairs:  # model a minus model b, a < b
        by_first.setdefault(pair.a, {})[str(pair.b)] = {
            "overall": [*(_number(v) for v in pair.overall), _number(pair.overall_p, 6)],
            "scenarios": [list(row) for row in _scenario_numbers(pair)],
            "counts": [pair.a_better, pair.b_better, pair.same],
            "items": [[item.scenario, item.item_id, _number(item.score_a, 3), _number(item.score_b, 3),
                       _number(item.board_mean, 3)] for item in pair.items],
        }
    if comparisons.selection:  # a large board: some pairs only, and the models that have a pair file
        payload["selection"] = comparisons.selection
        payload["files"] = sorted(by_first)
        payload["per_file"] = MODELS_PER_FILE
    # ASCII only: the files are scripts, where JSON's raw U+2028 would be a risk in older browsers.
    calls = {a: f"effbenchComparePairs({a}, "
             f"{json.dumps(pairs, separators=(',', ':'), ensure_ascii=True, allow_nan=False)});\n"
             for a, pairs in sorted(by_first.items())}
    pair_files: dict[str, str] = {}
    for a, call in calls.items():  # one file per model; a large board's files hold MODELS_PER_FILE models each
        name = f"block-{a // MODELS_PER_FILE}" if comparisons.selection else str(a)
        pair_files[f"{PAIRS_FOLDER}/{name}.js"] = pair_files.get(f"{PAIRS_FOLDER}/{name}.js", "") + call
    ordered = [m for m in rank_order if m in index]
    first = slugs[ordered[0]] if ordered else ""
    second = slugs[ordered[1]] if len(ordered) > 1 else first
    return ComparePage(page=page, models=tuple((slugs[m], shown[m]) for m in ordered), data=payload, first=first,
                       second=second, pair_files=pair_files, options_once=bool(comparisons.selection))
