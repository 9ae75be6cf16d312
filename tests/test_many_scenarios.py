"""Boards of many small scenarios: the work done per scenario is batched, so it does not grow into one
database query (or one statistical test) per scenario. Each batched form is checked against a plain
per-scenario reference on random inputs; nothing here is timed."""

from __future__ import annotations

import csv
import io
import json

import duckdb
import numpy as np
import pandas as pd
import pytest

from effbench import analysis_tables, compare, flash, paired, pipeline, queries, stats, store, synth
from effbench.analysis_tables import AnalysisParameters
from effbench.formatting import missing
from effbench.render import values


def scores_database(n_models: int, n_scenarios: int, seed: int = 0) -> duckdb.DuckDBPyConnection:
    """Return an in-memory database with the `scores` and `scenarios` tables `results_matrix` reads: small
    scenarios of varying sizes with missing and unscored results, repeated rows (prompts), a lower-is-better
    scenario, one scored per model only (item NULL) and models that skip scenarios."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_scenarios):
        scenario = f"s{s:04d}"
        if s == 3:  # one score per model, from a wide table
            rows += [(f"m{m:02d}", scenario, None, float(rng.random())) for m in range(n_models)]
            continue
        for item in rng.permutation(int(rng.integers(1, 8))):
            for m in range(n_models):
                if rng.random() < 0.1:
                    continue  # not evaluated
                score = None if rng.random() < 0.05 else float(rng.integers(0, 4)) / 3
                rows.append((f"m{m:02d}", scenario, f"item-{item}", score))
                if s % 5 == 0:  # a second prompt for the same item
                    rows.append((f"m{m:02d}", scenario, f"item-{item}", float(rng.random())))
    frame = pd.DataFrame(rows, columns=["model", "scenario", "item_id", "score"])
    scenarios = pd.DataFrame({"scenario": sorted(frame["scenario"].unique())})
    scenarios["level"] = np.where(scenarios["scenario"] == "s0003", "scenario", "item")
    scenarios["higher_is_better"] = scenarios["scenario"] != "s0002"
    con = duckdb.connect()
    con.execute("CREATE TABLE scores AS SELECT model, scenario, item_id, score FROM frame")
    con.execute("CREATE TABLE scenarios AS SELECT * FROM scenarios")
    return con


def per_scenario_matrices(con: duckdb.DuckDBPyConnection):
    """The results matrix as first written: one query per scenario, repeated rows averaged."""
    frame = con.execute("SELECT * FROM scores WHERE score IS NOT NULL").df()
    models = sorted(frame["model"].unique())
    scenarios = con.execute("SELECT * FROM scenarios ORDER BY scenario").df()
    matrices, ids = [], []
    for row in scenarios.itertuples():
        part = frame[frame["scenario"] == row.scenario]
        items = sorted(part["item_id"].dropna().unique())
        index = {item: i for i, item in enumerate(items)}
        matrix = np.full((max(len(items), 1), len(models)), np.nan)
        for (model, item), scores in part.groupby(["model", part["item_id"].fillna("")])["score"]:
            value = scores.iloc[0] if len(scores) == 1 else scores.mean()
            matrix[index.get(item, 0), models.index(model)] = value if row.higher_is_better else 0 - value
        matrices.append(matrix)
        ids.append(tuple(items))
    return tuple(models), tuple(scenarios["scenario"]), matrices, tuple(ids)


class CountingConnection:
    """A connection that counts the queries run through it."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con, self.queries = con, 0

    def execute(self, *args, **kwargs):
        self.queries += 1
        return self.con.execute(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.con, name)


@pytest.mark.parametrize("batch_rows", [1, 50, 1 << 23])
def test_results_matrix_equals_one_query_per_scenario(monkeypatch, batch_rows):
    monkeypatch.setattr(analysis_tables, "_BATCH_ROWS", batch_rows)
    con = scores_database(7, 40)
    models, scenarios, matrices, ids = per_scenario_matrices(con)
    results = analysis_tables.results_matrix(con)
    assert (results.models, results.scenarios, results.item_ids) == (models, scenarios, ids)
    assert results.resampled == tuple(s != "s0003" for s in scenarios)
    assert results.lower_is_better == tuple(s == "s0002" for s in scenarios)
    for got, expected in zip(results.scores, matrices, strict=True):
        # a mean of repeated rows may be summed in another order; single scores are the stored ones
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)


def test_results_matrix_queries_do_not_grow_with_the_scenarios():
    counts = []
    for n_scenarios in (10, 200):
        con = CountingConnection(scores_database(5, n_scenarios))
        analysis_tables.results_matrix(con)
        counts.append(con.queries)
    assert counts[0] == counts[1] <= 6


def score_unit_one_at_a_time(matrix: np.ndarray) -> int | None:
    """`score_unit` as first written: every unit from 1 to 1,000 tried in turn."""
    values = np.sort(pd.unique(matrix[~np.isnan(matrix)]))
    if values.size == 0 or np.abs(values).max() * 1000 * matrix.shape[0] > 2**52:
        return None
    for unit in range(1, 1001):
        scaled = values * unit
        if np.all(np.abs(scaled - np.rint(scaled)) <= 1e-9 * np.maximum(1.0, np.abs(scaled))):
            return unit
    return None


def test_score_unit_equals_trying_each_unit_in_turn():
    rng = np.random.default_rng(5)
    cases = [rng.random((20, 3)), np.array([[np.nan]]), np.array([[0.5, 1e-10]]),
             rng.integers(0, 3, (10, 2)) / 1000, rng.integers(0, 3, (10, 2)) / 1001]
    for _ in range(200):
        unit = int(rng.integers(1, 1200))
        cases.append(rng.integers(-50, 50, (int(rng.integers(1, 60)), 3)) / unit)
    for matrix in cases:
        assert stats.score_unit(matrix) == score_unit_one_at_a_time(matrix)


@pytest.mark.parametrize("records", [
    [], [{}], [{}, {"a": 1}], [{"a": [1, 2]}], [{"a": 1}], [{"a": 1, "b": "x"}, {"c": None}],
    [{"model": f"m{i}", "text": 'é"\\\n\u2028},\n  {', "value": i / 7, "n": i, "ok": i % 2 == 0, "none": None,
      "big": 1e22, "zero": -0.0} for i in range(50)],
])
def test_records_json_is_the_indented_json_of_the_records(records):
    assert values.records_json(records) == json.dumps(records, indent=1, ensure_ascii=False, allow_nan=False)


def csv_row_by_row(table: values.Table) -> str:
    """The CSV twin written a row at a time, each value through `csv_cell`: the plain form of `Table.to_csv`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    quoted = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL)
    for row in ([values.csv_cell(name) for name in table.columns],
                *([values.csv_cell(record.get(name)) for name in table.columns] for record in table.records)):
        (quoted if any(isinstance(cell, str) and "\r" in cell for cell in row) else writer).writerow(row)
    return buffer.getvalue()


def random_tables(seed: int = 3) -> list[values.Table]:
    """Tables whose columns hold one kind of value or a mix: numbers with NaN and None, text that looks like a
    formula or holds line breaks, numpy scalars, pd.NA, missing keys, no columns and one empty column."""
    rng = np.random.default_rng(seed)
    kinds = [
        lambda i: float(rng.random()) if rng.random() < 0.8 else None if rng.random() < 0.5 else float("nan"),
        lambda i: int(rng.integers(-5, 5)) if rng.random() < 0.9 else None,
        lambda i: bool(rng.random() < 0.5),
        lambda i: str(rng.choice(["a", "=1+1", "-3", "@x", "\tt", "x\ry", "x\ny", "", "é,\"q\""])),
        lambda i: None if rng.random() < 0.3 else f"m{i}",
        lambda i: [np.float64(0.5), np.int64(3), pd.NA, "+x", None, 1, 2.5, float("nan")][i % 8],
    ]
    tables = [values.Table("none", (), ({}, {})), values.Table("empty", ("a",), ({"a": None}, {"a": ""}, {}))]
    for t in range(40):
        chosen = [int(k) for k in rng.integers(0, len(kinds), int(rng.integers(1, 6)))]
        if t % 7 == 0:
            chosen = [3]  # text only, with carriage returns
        columns = tuple(f"c{j}" if t % 5 else f"=c{j}" for j in range(len(chosen)))
        records = tuple({name: kinds[k](i) for name, k in zip(columns, chosen, strict=True)
                         if rng.random() < 0.95} for i in range(int(rng.integers(0, 30))))
        tables.append(values.Table(f"t{t}", columns, records))
    return tables


def test_csv_and_json_twins_are_those_written_value_by_value():
    """The CSV twin converted column by column and the JSON twin encoded without a pass over its values are the
    text of the row-by-row CSV and of the JSON of the records with each missing value made None."""
    for table in random_tables():
        assert table.to_csv() == csv_row_by_row(table), table.name
        try:
            clean = [{k: None if missing(v) else v for k, v in record.items()} for record in table.records]
            expected = json.dumps(clean, indent=1, ensure_ascii=False, allow_nan=False) + "\n"
        except (ValueError, TypeError):
            continue  # numpy integers: JSON refuses them either way
        assert table.to_json() == expected, table.name


def test_records_json_refuses_what_json_refuses():
    with pytest.raises(ValueError):
        values.records_json([{"a": float("inf")}])


@pytest.mark.parametrize("n", [0, 1, 2, 3, 7, 8, 9, 10, 17, 130, 300])
def test_greg_estimates_equal_greg_estimate_scenario_by_scenario(n):
    rng = np.random.default_rng(n)
    k = 25
    values = rng.integers(0, 2, (k, n)).astype(float)
    values[::3] = rng.random((len(values[::3]), n))  # pass@k-like fractions too
    x = rng.random((k, n))
    x[1] = 0.5  # no spread in difficulty: no regression
    population_x = rng.random(k).tolist()
    population_x[2] = float("nan")
    population = rng.integers(n, 3 * n + 2, k).tolist()
    rho = rng.random(k).tolist()
    scale = [(0.0, 1.0)] * (k - 1) + [(-2.0, 3.5)]
    for floor in (True, False):
        estimates, variances = flash.greg_estimates(values, x, population_x, population, rho=rho, floor=floor,
                                                    scale=scale)
        expected = [flash.greg_estimate(values[i], x[i], population_x[i], population[i], rho=rho[i], floor=floor,
                                        scale=scale[i]) for i in range(k)]
        assert list(zip(estimates, variances, strict=True)) == expected  # the same floats, not nearly


@pytest.mark.parametrize("graded", ["thirds", "continuous"])
def test_p_values_of_scenarios_of_one_size_together_equal_scenario_by_scenario(graded):
    """Thirds take the exact distribution; continuous scores the random flips every pair of a scenario
    (and every overall test) shares, which must be the flips each test draws alone."""
    rng = np.random.default_rng(2)
    sizes = [9, 3, 9, 12, 9, 3, 1] + ([40, 40, 25] if graded == "continuous" else [])
    scores = []
    for n in sizes:
        # fractions: sums that depend on their order; continuous: no unit, so random flips
        matrix = rng.integers(0, 4, (n, 6)) / 3 if graded == "thirds" else rng.random((n, 6)).round(3)
        matrix[rng.random(matrix.shape) < 0.1] = np.nan
        scores.append(matrix)
    resampled = tuple(n != 1 for n in sizes)
    results = stats.ResultsMatrix(tuple(f"m{i}" for i in range(6)), tuple(f"s{s}" for s in range(len(sizes))),
                                  tuple(scores), resampled)
    for a in range(5):
        others = np.arange(a + 1, 6)
        expected = np.full((len(sizes), others.size), np.nan)
        for s, matrix in enumerate(scores):
            if not resampled[s]:
                continue
            diff = matrix[:, [a]] - matrix[:, others]
            for j in range(others.size):
                if (~np.isnan(diff[:, j])).any():
                    expected[s, j] = paired.sign_flip_p_value(diff[:, j], rng=s)
        np.testing.assert_array_equal(paired.scenario_p_values(results, a, others), expected)
        overall = [paired.overall_p_value(results, a, int(b)) for b in others]
        np.testing.assert_array_equal(paired.overall_p_values(results, a, others), overall)


@pytest.mark.parametrize("block_values", [1, 1000, 1 << 30])
def test_compared_pairs_are_the_same_whatever_the_block_of_scenarios(monkeypatch, block_values):
    results = analysis_tables.results_matrix(scores_database(6, 60, seed=3))
    intervals = stats.rank_intervals(results, n_resamples=40, rng=1, with_rank_intervals=False)
    expected = compare.compare_models(intervals, results)
    monkeypatch.setattr(compare, "_BLOCK_VALUES", block_values)  # one scenario per block .. all at once
    got = compare.compare_models(intervals, results)
    # The same floats, not nearly: NaN compares equal to NaN in repr, not with ==.
    assert repr(got.pairs) == repr(expected.pairs)


def test_the_compare_view_takes_the_builds_ranking_and_gets_the_pairs_drawn_again(tmp_path, monkeypatch):
    board_file, db = tmp_path / "board.parquet", tmp_path / "board.duckdb"
    synth.write(synth.SynthSpec(n_models=5, n_items=90, n_scenarios=30, seed=0), board_file)
    results = pipeline.ResultsOnce()
    pipeline.update(db, pipeline.result_sources([board_file]), parameters=AnalysisParameters(n_resamples=40),
                    all_analyses=False, results=results)
    with store.open_store(db, read_only=True) as con:
        board = pipeline.pick_board(con, None)
        data = queries.site_data(con, board)
        with monkeypatch.context() as patched:  # the kept ranking is taken, not drawn again
            patched.setattr(stats, "rank_intervals", None)
            kept = pipeline.model_comparisons(con, data.analysis, reader=results.board(board),
                                              ranking=results.rankings[board])
        drawn = pipeline.model_comparisons(con, data.analysis, reader=pipeline.board_reader(board))
    assert repr(kept.pairs) == repr(drawn.pairs)


@pytest.mark.parametrize("sizes", [(2, 5, None), (3, 3, 8, None), (6, 2, None), (None,)])
def test_stage_samples_of_a_model_with_every_item_take_each_order_block_by_block(sizes):
    rng = np.random.default_rng(len(sizes))
    orders = [rng.permutation(int(n)) for n in rng.integers(0, 12, 40)]
    evaluated = [np.ones(len(order), bool) for order in orders]
    samples = list(flash.stage_samples(orders, evaluated, sizes, availability_known=True))
    position = [0] * len(orders)
    taken: list[list[np.ndarray]] = [[] for _ in orders]
    for sample, size in zip(samples, sizes, strict=True):  # the walk as first written, block by block
        for s, order in enumerate(orders):
            need = len(order) - position[s] if size is None else max(size - position[s], 0)
            taken[s].append(order[position[s]:position[s] + need])
            position[s] += len(taken[s][-1])
        for s in range(len(orders)):
            expected = np.concatenate(taken[s])
            assert sample.sampled[s].dtype == expected.dtype and np.array_equal(sample.sampled[s], expected)
            assert sample.skipped[s].dtype == expected.dtype and sample.skipped[s].size == 0
        assert sample.population == tuple(len(order) for order in orders)


def test_the_bootstrap_estimator_gives_the_same_replay_with_one_warnings_context_per_scenario(monkeypatch):
    """Flash's bootstrap estimator enters numpy's warnings context once for all the scenarios of a stage and
    shares each sample size's point weights; with a context and fresh weights for every scenario, as before,
    the replays are the same."""
    from effbench.flash import estimators, replay

    results = analysis_tables.results_matrix(scores_database(5, 80, seed=2))
    configs = replay.comparison_configs(flash.FlashConfig(seeds=1, n_resamples=40))[1:]  # the bootstrap variants
    shared = [flash.simulate(results, config=config) for config in configs]
    plain = estimators._bootstrap_estimates

    def one_context_each(values, difficulty, population_difficulty, weights, regression):
        with np.errstate(invalid="ignore", divide="ignore"):
            return plain(values, difficulty, population_difficulty, weights.copy(), regression)

    monkeypatch.setattr(estimators, "_bootstrap_estimates", one_context_each)
    assert [flash.simulate(results, config=config) for config in configs] == shared


def test_parquet_twins_are_those_of_the_rows_with_each_missing_value_made_none(tmp_path):
    """A table is handed to DuckDB as it is unless it holds NaN or pd.NA: the same bytes as the rows cleaned
    value by value."""
    for i, table in enumerate(random_tables(seed=4)):
        clean = pd.DataFrame.from_records([{k: None if missing(v) else v for k, v in record.items()}
                                           for record in table.records], columns=list(table.columns))
        expected, ours = tmp_path / f"expected-{i}.parquet", tmp_path / f"ours-{i}.parquet"
        try:
            with duckdb.connect() as con:
                con.register("table_rows", clean)
                con.execute(f"COPY table_rows TO '{expected}' (FORMAT parquet)")
        except duckdb.Error:
            with pytest.raises(duckdb.Error):
                table.write_parquet(ours)
            continue
        table.write_parquet(ours)
        assert ours.read_bytes() == expected.read_bytes(), table.name
