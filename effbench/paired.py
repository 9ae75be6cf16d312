"""Paired tests of two models on the same items: exact sign and sign-flip tests, and Holm's procedure.

A paired bootstrap interval of a difference excludes 0 whenever every item on which two models differ
goes one way, however few such items there are; a verdict needs a test whose level holds with few
differing items. Under "the two models are exchangeable on each item" every paired difference is as
likely positive as negative, so the sign-flip (Fisher-Pitman) permutation test is exact: with 0/1
scores it is the sign test on the discordant items (McNemar 1947), which cannot reach p < 0.05 with
fewer than 6 of them. Across scenarios, Holm (1979) keeps the chance of any false verdict for a pair
at most alpha. Pure numpy/scipy; nothing here reads files or the database.
"""

from __future__ import annotations

import functools

import numpy as np
from scipy import signal
from scipy import stats as scipy_stats

from effbench.stats import ResultsMatrix, score_unit

# Largest sum of integer magnitudes whose null distribution is computed exactly (one convolution).
_EXACT_GRID = 1_000_000
# Below this, Hoeffding's bound (an upper bound on the exact p-value) already decides any test Holm
# makes over up to 500 scenarios at the 0.05 level, so no permutation is drawn.
_DECISIVE = 1e-4
N_FLIPS = 9999  # random sign flips when the exact distribution is too large to compute
_FLIP_BLOCK = 1 << 22  # random signs drawn at once (32 MB as floats)
# With this many differing items, none weighing over 1% of the variance, the signed sum's null
# distribution is normal to well within the Monte Carlo error of the flips (a large board has
# thousands of such pairs, and flips cost items x flips each).
_NORMAL_ITEMS, _NORMAL_SHARE = 200, 0.01


def sign_flip_p_value(differences: np.ndarray, weights: np.ndarray | None = None, *, n_flips: int = N_FLIPS,
                      rng: int | np.random.Generator = 0) -> float:
    """Return the two-sided p-value of the sign-flip test that the paired `differences` (weighted by
    `weights`) are symmetric about 0; NaN differences are left out, and no differing item gives 1.

    Exact when every differing item differs by the same amount (the sign test); otherwise Hoeffding's
    bound when it is already below 1e-4, the normal approximation with the exact null variance when
    at least 200 items differ and none dominates (`_quick_p_values`), the exact distribution when the
    weighted differences are whole multiples of one unit (halves, tenths: a convolution of binomials),
    else ``(1 + hits) / (1 + n_flips)`` over random sign flips, which is a valid p-value however many
    flips are drawn.
    """
    return _flip_p_value(_signed(differences, weights), n_flips=n_flips, rng=rng)


def _signed(differences: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    """Return the weighted differences a sign-flip test flips: those neither NaN, 0 nor of weight 0."""
    d = np.asarray(differences, dtype=float).ravel()
    w = np.ones_like(d) if weights is None else np.broadcast_to(np.asarray(weights, dtype=float), d.shape)
    keep = ~np.isnan(d) & (d != 0) & (w > 0)
    return d[keep] * w[keep]


class _SharedFlips:
    """The random sign flips of one seed, drawn once for the many tests a comparison makes with that seed.

    A test of n items alone draws ``n_flips x n`` signs in one go (when they fit in one block) and the
    generator fills them in order, so they are the first ``n_flips * n`` of any longer draw from the same
    seed: a test handed a longer draw's first signs flips exactly as it would alone (drawing the signs
    costs several times the test itself, and a board's pairs share a handful of seeds).
    """

    def __init__(self, seed: int, n_flips: int = N_FLIPS) -> None:
        self.seed, self.n_flips, self.signs = seed, n_flips, np.empty(0)

    def matrix(self, n_items: int) -> np.ndarray | None:
        """Return the ``(n_flips, n_items)`` +-1 flips a test of `n_items` items draws alone (a view of
        the shared draw), or None when it draws them in several blocks."""
        need = self.n_flips * n_items
        if need > _FLIP_BLOCK:
            return None
        if self.signs.size < need:  # at least twice the items drawn before: few draws as tests grow
            items = min(_FLIP_BLOCK // self.n_flips, max(n_items, 2 * self.signs.size // self.n_flips))
            self.signs = _random_signs(np.random.default_rng(self.seed), self.n_flips * items)
        return self.signs[:need].reshape(self.n_flips, n_items)

    def p_value(self, signed: np.ndarray | None) -> float:
        """Return `sign_flip_p_value` of the weighted differences `signed` with this seed and number of flips."""
        return _flip_p_value(signed, n_flips=self.n_flips, rng=self.seed, shared=self)


def _random_signs(generator: np.random.Generator, size: int | tuple[int, int]) -> np.ndarray:
    """Return `size` random +-1 as floats, drawn from `generator`."""
    signs = generator.integers(0, 2, size=size).astype(float)
    signs *= 2.0  # in place: the same +-1 as `* 2.0 - 1.0`, without two more copies of the draws
    signs -= 1.0
    return signs


def _flip_p_value(signed: np.ndarray | None, *, n_flips: int = N_FLIPS, rng: int | np.random.Generator = 0,
                  shared: _SharedFlips | None = None) -> float:
    """Return `sign_flip_p_value` of the weighted differences `signed` (none 0 or NaN; None: nothing to
    test, NaN); `shared` holds the flips of the seed `rng` when many tests use it."""
    if signed is None:
        return float("nan")
    if signed.size == 0:
        return 1.0
    size = np.abs(signed)
    statistic = abs(float(signed.sum()))
    quick = _quick_p_values(np.array([float(signed.sum())]), np.array([float(np.sum(size**2))]),
                            np.array([size.size]), np.array([int((signed > 0).sum())]),
                            np.array([float(size.min())]), np.array([float(size.max())]))[0]
    if not np.isnan(quick):
        return float(quick)
    unit = score_unit(size[:, None] / size.min())
    if unit is not None:
        steps = np.rint(size / size.min() * unit).astype(np.int64)
        if steps.sum() <= _EXACT_GRID:
            return _exact_p_value(steps, int(steps[signed > 0].sum()))
    flips = shared.matrix(size.size) if shared is not None else None
    if flips is not None:
        hits = int(np.sum(np.abs(flips @ size) >= statistic * (1 - 1e-12)))
        return (1 + hits) / (1 + n_flips)
    generator = np.random.default_rng(rng)
    hits, block = 0, max(1, _FLIP_BLOCK // size.size)
    for start in range(0, n_flips, block):
        signs = _random_signs(generator, (min(block, n_flips - start), size.size))
        hits += int(np.sum(np.abs(signs @ size) >= statistic * (1 - 1e-12)))
    return (1 + hits) / (1 + n_flips)


def _quick_p_values(total: np.ndarray, squares: np.ndarray, n: np.ndarray, positive: np.ndarray,
                    smallest: np.ndarray, largest: np.ndarray) -> np.ndarray:
    """Return the sign-flip p-values that need no distribution, from each test's signed sum, sum of
    squares, number of differing items, how many are positive and the smallest and largest magnitude:
    1 with nothing differing, the sign test with one magnitude, Hoeffding's bound below 1e-4, the normal
    approximation with many comparable items; NaN where none applies."""
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        hoeffding = np.minimum(1.0, 2 * np.exp(-total**2 / (2 * squares)))
        normal = 2 * scipy_stats.norm.sf(np.abs(total) / np.sqrt(squares))
    sign_test = np.minimum(1.0, 2 * scipy_stats.binom.cdf(np.minimum(positive, n - positive), n, 0.5))
    one_size = largest - smallest <= 1e-12 * largest
    many = (n >= _NORMAL_ITEMS) & (largest**2 <= _NORMAL_SHARE * squares)
    return np.select([n == 0, one_size, hoeffding <= _DECISIVE, many], [1.0, sign_test, hoeffding, normal], np.nan)


def _exact_p_value(steps: np.ndarray, observed: int) -> float:
    """Return P(|2U - M| >= |2 observed - M|) for U the sum of `steps` each kept with probability 1/2 and
    M their total: the signed sum's null distribution, one binomial per distinct step size."""
    pmf = np.ones(1)
    values, counts = np.unique(steps, return_counts=True)
    for value, count in zip(values.tolist(), counts.tolist(), strict=True):
        term = np.zeros(value * count + 1)
        term[::value] = _half_binomial(count)
        pmf = signal.fftconvolve(pmf, term) if min(pmf.size, term.size) > 64 else np.convolve(pmf, term)
    pmf = np.clip(pmf, 0.0, None)
    total = int(steps.sum())
    distance = np.abs(2 * np.arange(pmf.size) - total)
    return float(min(1.0, pmf[distance >= abs(2 * observed - total)].sum()))


@functools.lru_cache(maxsize=1 << 12)
def _half_binomial(count: int) -> np.ndarray:
    """Return the Binomial(`count`, 1/2) probabilities of 0..count (read-only): the compare view's thousands
    of exact tests ask for the same few counts again and again, and scipy's pmf costs far more than a copy."""
    pmf = scipy_stats.binom.pmf(np.arange(count + 1), count, 0.5)
    pmf.flags.writeable = False
    return pmf


def holm(p_values: np.ndarray) -> np.ndarray:
    """Return Holm's adjusted p-values along the last axis (NaN = no test, left out of the family)."""
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    for index in np.ndindex(p.shape[:-1]):
        row = p[index]
        tested = np.flatnonzero(~np.isnan(row))
        order = tested[np.argsort(row[tested], kind="stable")]
        m = order.size
        adjusted = np.maximum.accumulate(np.minimum(1.0, (m - np.arange(m)) * row[order]))
        out[index + (order,)] = adjusted
    return out


def scenarios_by_size(results: ResultsMatrix) -> list[tuple[np.ndarray, np.ndarray]]:
    """Return the resampled scenarios grouped by their number of items, each group as (scenario indices,
    their ``(n_scenarios, n_items, n_models)`` stacked scores): a board of thousands of small scenarios
    is tested in a few array operations instead of thousands."""
    groups: dict[int, list[int]] = {}
    for s, (matrix, resampled) in enumerate(zip(results.scores, results.resampled, strict=True)):
        if resampled:
            groups.setdefault(matrix.shape[0], []).append(s)
    return [(np.array(group), np.stack([results.scores[s] for s in group])) for group in groups.values()]


def scenario_p_values(results: ResultsMatrix, a: int, others: np.ndarray,
                      groups: list[tuple[np.ndarray, np.ndarray]] | None = None) -> np.ndarray:
    """Return the ``(n_scenarios, len(others))`` sign-flip p-values of model `a` against each of `others`
    in each scenario, on the items both were scored on; NaN where either has no item or the scenario is
    known by one score per model (nothing to test). `groups` is `scenarios_by_size(results)`, computed
    once for many calls.

    Scenarios whose differing items all differ by the same amount (0/1 scores) are tested for every
    pair at once by the sign test, every scenario of one size together (each sum runs over one scenario's
    items in order, as it would alone); other scenarios pair by pair, a scenario's pairs drawing their
    random flips once."""
    others = np.asarray(others, dtype=int)
    out = np.full((len(results.scenarios), others.size), np.nan)
    for scenarios, stacked in scenarios_by_size(results) if groups is None else groups:
        diff = stacked[:, :, [a]] - stacked[:, :, others]  # (scenarios, items, k); NaN where either has no score
        both = ~np.isnan(diff)
        d = np.where(both, diff, 0.0)
        size = np.abs(d)
        differing = size > 0
        quick = _quick_p_values(d.sum(axis=1), (d**2).sum(axis=1), differing.sum(axis=1), (d > 0).sum(axis=1),
                                np.where(differing, size, np.inf).min(axis=1), size.max(axis=1))
        tested = both.any(axis=1)
        out[scenarios] = np.where(tested, quick, np.nan)
        flips = None
        for g, j in zip(*np.nonzero(tested & np.isnan(quick)), strict=True):  # a scenario's pairs in a row
            if flips is None or flips.seed != int(scenarios[g]):
                flips = _SharedFlips(int(scenarios[g]))
            out[scenarios[g], j] = flips.p_value(_signed(diff[g, :, j], None))
    return out


def overall_p_values(results: ResultsMatrix, a: int, others: np.ndarray,
                     groups: list[tuple[np.ndarray, np.ndarray]] | None = None) -> np.ndarray:
    """Return the sign-flip p-values of the difference of model `a`'s macro mean and each of `others`
    over the scenarios both have: each item's difference weighs 1 / (its scenario's items scored by
    both), as in the mean; NaN when they share no scenario with items. The sums the quick tests need
    are gathered for all pairs at once, every scenario of one size together (`groups`, as in
    `scenario_p_values`) and then added up in the scenarios' order; only pairs those leave undecided are
    tested one by one (`sign_flip_p_value`, the same p-value), drawing their random flips once."""
    others = np.asarray(others, dtype=int)
    k = others.size
    n_scenarios = len(results.scenarios)
    # per scenario (one row each, zero for those not resampled), then summed in the scenarios' order
    total, squares = np.zeros((n_scenarios + 1, k)), np.zeros((n_scenarios + 1, k))
    n, positive = np.zeros(k, int), np.zeros(k, int)
    smallest, largest, shared_any = np.full(k, np.inf), np.zeros(k), np.zeros(k, bool)
    for scenarios, stacked in scenarios_by_size(results) if groups is None else groups:
        diff = stacked[:, :, [a]] - stacked[:, :, others]  # (scenarios, items, k)
        shared = np.sum(~np.isnan(diff), axis=1)
        weight = np.where(shared > 0, 1.0 / np.maximum(shared, 1), 0.0)
        d = np.nan_to_num(diff) * weight[:, None, :]
        size = np.abs(d)
        differing = size > 0
        total[scenarios + 1] = d.sum(axis=1)
        squares[scenarios + 1] = (d**2).sum(axis=1)
        n += differing.sum(axis=(0, 1))
        positive += (d > 0).sum(axis=(0, 1))
        smallest = np.minimum(smallest, np.where(differing, size, np.inf).min(axis=(0, 1)))
        largest = np.maximum(largest, size.max(axis=(0, 1)))
        shared_any |= (shared > 0).any(axis=0)
    # cumsum adds one row at a time, from 0, as adding each scenario's sums in turn would
    total, squares = np.cumsum(total, axis=0)[-1], np.cumsum(squares, axis=0)[-1]
    out = np.where(shared_any, _quick_p_values(total, squares, n, positive, smallest, largest), np.nan)
    flips = _SharedFlips(0)
    for j in np.flatnonzero(shared_any & np.isnan(out)):
        out[j] = flips.p_value(_overall_signed(results, a, int(others[j])))
    return out


def overall_p_value(results: ResultsMatrix, a: int, b: int) -> float:
    """Return the sign-flip p-value of the difference of two models' macro means over the scenarios
    both have: each item's difference weighs 1 / (its scenario's items scored by both), as in the mean;
    NaN when they share no scenario with items."""
    return _flip_p_value(_overall_signed(results, a, b))


def _overall_signed(results: ResultsMatrix, a: int, b: int) -> np.ndarray | None:
    """Return the weighted differences `overall_p_value` flips, or None when the two models share no
    scenario with items."""
    diffs, weights = [], []
    for matrix, resampled in zip(results.scores, results.resampled, strict=True):
        if not resampled:
            continue
        diff = matrix[:, a] - matrix[:, b]
        shared = int(np.sum(~np.isnan(diff)))
        if shared:
            diffs.append(diff)
            weights.append(np.full(diff.shape, 1.0 / shared))
    return _signed(np.concatenate(diffs), np.concatenate(weights)) if diffs else None
