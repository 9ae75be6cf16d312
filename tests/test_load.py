"""Loading: formats, provenance, missing values, column mapping, and refusing bad input cleanly."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
import pytest

from effbench import pipeline, store
from effbench.errors import EffbenchError
from effbench.load import ColumnMap, Source

from conftest import long_rows, table_counts, write_csv

DATA = Path(__file__).resolve().parent.parent / "effbench" / "data"
HELM_LITE = Path(__file__).resolve().parent / "data" / "helm_lite_leaderboard.tsv"


def query(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_blank_scores_are_missing_not_zero(tmp_path, small_results):
    db = tmp_path / "e.duckdb"
    pipeline.update(db, [Source(small_results)])
    # beta's math scores are 0, 1, blank, 0: the mean of the non-blank ones is 1/3, not 1/4.
    rows = dict(query(db, "SELECT scenario, avg(score) FROM scores WHERE model = 'beta' GROUP BY 1"))
    assert rows == {"qa": 0.5, "math": pytest.approx(1 / 3)}
    assert query(db, "SELECT count(*) FROM scores WHERE score IS NULL") == [(1,)]
    intervals = dict(query(db, "SELECT scenario, score FROM scenario_intervals WHERE model = 'beta'"))
    assert intervals["math"] == pytest.approx(1 / 3)
    board = dict(query(db, "SELECT model, score FROM leaderboard"))
    assert board["beta"] == pytest.approx((0.5 + 1 / 3) / 2)


def test_blank_scores_in_the_real_example_give_means_of_non_blank(tmp_path, mmlu_pro_path):
    """Blank out a fifth of a real file's scores: per-model means must equal the non-blank means."""
    raw = tmp_path / "holes.csv"
    duckdb.execute(
        f"COPY (SELECT model, scenario, item_id, CASE WHEN hash(model, item_id) % 5 = 0 THEN NULL ELSE score END"
        f" AS score FROM read_csv('{mmlu_pro_path}')) TO '{raw}' (HEADER)"
    )
    db = tmp_path / "e.duckdb"
    pipeline.update(db, [Source(raw)])
    expected = dict(duckdb.execute(
        f"SELECT model || '|' || scenario, avg(score) FROM read_csv('{raw}') WHERE score IS NOT NULL GROUP BY 1"
    ).fetchall())
    got = dict(query(db, "SELECT model || '|' || scenario, score FROM scenario_intervals"))
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, abs=1e-12), key
    blank = duckdb.execute(f"SELECT count(*) FROM read_csv('{raw}') WHERE score IS NULL").fetchone()[0]
    assert query(db, "SELECT count(*) FROM scores WHERE score IS NULL") == [(blank,)]


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz", ".parquet", ".jsonl", ".tsv"])
def test_every_format_loads_the_same_rows(tmp_path, small_results, suffix):
    target = tmp_path / f"copy{suffix}"
    options = {".csv": "(HEADER)", ".csv.gz": "(HEADER, COMPRESSION gzip)", ".parquet": "(FORMAT parquet)",
               ".jsonl": "(FORMAT json)", ".tsv": "(HEADER, DELIMITER '\t')"}[suffix]
    duckdb.execute(f"COPY (SELECT * FROM read_csv('{small_results}')) TO '{target}' {options}")
    db = tmp_path / "e.duckdb"
    pipeline.update(db, [Source(target)])
    assert query(db, "SELECT count(*), count(score), sum(score) FROM scores") == [(24, 23, 10.0)]


def test_loading_twice_changes_nothing_and_records_provenance(tmp_path, small_results):
    db = tmp_path / "e.duckdb"
    first = pipeline.update(db, [Source(small_results)])
    before = table_counts(db)
    second = pipeline.update(db, [Source(small_results)])
    assert [r.already_loaded for r in first.loads] == [False]
    assert [r.already_loaded for r in second.loads] == [True]
    assert second.recomputed is False
    assert table_counts(db) == before
    (path, sha256, rows, kind, loaded_at), = query(db, "SELECT path, sha256, rows, kind, loaded_at FROM sources")
    assert path == str(small_results)
    assert sha256 == hashlib.sha256(small_results.read_bytes()).hexdigest()
    assert (rows, kind) == (24, "long")
    assert loaded_at is not None


def test_extra_columns_are_kept_and_item_ids_are_text(tmp_path):
    path = write_csv(tmp_path / "x.csv", long_rows({"a": {"s": [1, 0]}, "b": {"s": [0, 0]}}, difficulty="hard"))
    db = tmp_path / "e.duckdb"
    pipeline.update(db, [Source(path)])
    assert query(db, "SELECT DISTINCT extra->>'difficulty' FROM scores") == [("hard",)]
    assert query(db, "SELECT data_type FROM duckdb_columns() WHERE table_name = 'scores'"
                     " AND column_name = 'item_id'") == [("VARCHAR",)]


def test_column_flags_map_other_names(tmp_path):
    rows = [{"llm": r["model"], "task": r["scenario"], "q": r["item_id"], "acc": r["score"]}
            for r in long_rows({"a": {"s": [1, 0]}, "b": {"s": [0, 0]}})]
    path = write_csv(tmp_path / "x.csv", rows)
    db = tmp_path / "e.duckdb"
    pipeline.update(db, [Source(path, columns=ColumnMap(model="llm", scenario="task", item_id="q", score="acc"))])
    assert query(db, "SELECT model, sum(score) FROM scores GROUP BY 1 ORDER BY 1") == [("a", 1.0), ("b", 0.0)]


def test_key_column_allows_several_prompts_per_item_and_averages_them(tmp_path):
    rows = [{**r, "prompt": p, "score": s} for p, s in (("p1", 1), ("p2", 0))
            for r in long_rows({"a": {"s": [1, 1]}, "b": {"s": [1, 1]}})]
    path = write_csv(tmp_path / "x.csv", rows)
    db = tmp_path / "e.duckdb"
    with pytest.raises(EffbenchError, match="--key"):
        pipeline.update(db, [Source(path)])
    pipeline.update(db, [Source(path, columns=ColumnMap(keys=("prompt",)))])
    assert query(db, "SELECT count(*) FROM scores") == [(8,)]
    assert query(db, "SELECT DISTINCT score FROM scenario_intervals") == [(0.5,)]


def test_wide_table_loads_scenario_level_results(tmp_path):
    db = tmp_path / "e.duckdb"
    report = pipeline.update(db, [Source(HELM_LITE, "wide")])
    notes = " ".join(report.loads[0].notes)
    assert "Mean win rate" in notes
    assert query(db, "SELECT count(*), count(DISTINCT level) FROM scenarios WHERE level = 'scenario'") == [(10, 1)]
    assert query(db, "SELECT count(DISTINCT model) FROM scores") == [(91,)]
    assert query(db, "SELECT count(*) FROM scores WHERE item_id IS NOT NULL") == [(0,)]
    # '-' cells are "not evaluated".
    assert query(db, "SELECT count(*) FROM scores WHERE score IS NULL")[0][0] > 0
    # No items to resample: ranks come without intervals, never with made-up ones.
    assert query(db, "SELECT count(*) FROM leaderboard WHERE rank_lo IS NOT NULL") == [(0,)]


def test_model_metadata_joins_on_model(tmp_path, small_results):
    meta = write_csv(tmp_path / "m.csv", [{"model": "alpha", "organization": "A", "params_b": 7},
                                          {"model": "beta", "organization": "B", "params_b": ""}])
    db = tmp_path / "e.duckdb"
    pipeline.update(db, [Source(small_results), Source(meta, "models")])
    assert query(db, "SELECT model, organization, params_b FROM models ORDER BY model") == [
        ("alpha", "A", 7), ("beta", "B", None), ("gamma", None, None)]


def test_example_metadata_is_loaded(tmp_path):
    db = tmp_path / "e.duckdb"
    pipeline.update(db, example="mmlu-pro")
    assert query(db, "SELECT organization, open_weights FROM models WHERE model = 'Llama-2-7b-hf'") == [
        ("Meta", True)]


BAD_INPUTS = {
    "missing column": ([{"model": "a", "scenario": "s", "score": 1}], "no column 'item_id'.*--item-col"),
    "text score": ([{"model": "a", "scenario": "s", "item_id": 1, "score": "yes"}], "not numbers, e.g. 'yes'"),
    "duplicate item": ([{"model": "a", "scenario": "s", "item_id": 1, "score": 1}] * 2, "more than once"),
    "blank model": ([{"model": "", "scenario": "s", "item_id": 1, "score": 1}], "have no model"),
    "infinite score": ([{"model": "a", "scenario": "s", "item_id": 1, "score": "inf"}], "infinite"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_gives_one_line_and_leaves_the_database_as_it_was(tmp_path, small_results, case):
    rows, message = BAD_INPUTS[case]
    bad = write_csv(tmp_path / "bad.csv", rows)
    db = tmp_path / "e.duckdb"
    pipeline.update(db, [Source(small_results)])
    before = table_counts(db)
    with pytest.raises(EffbenchError, match=message) as caught:
        pipeline.update(db, [Source(bad)])
    assert "\n" not in str(caught.value)
    assert table_counts(db) == before


def test_a_failing_file_rolls_back_the_files_loaded_with_it(tmp_path, small_results):
    db = tmp_path / "e.duckdb"
    pipeline.update(db, [Source(small_results)])
    before = table_counts(db)
    good = write_csv(tmp_path / "new.csv", long_rows({"delta": {"qa": [1, 1, 1, 1]}}, note="x"))
    bad = write_csv(tmp_path / "bad.csv", [{"model": "a", "scenario": "s", "item_id": 1, "score": "oops"}])
    with pytest.raises(EffbenchError):
        pipeline.update(db, [Source(good), Source(bad)])
    assert table_counts(db) == before  # neither delta's rows nor the new 'note' column stayed


def test_a_failed_first_load_leaves_no_database(tmp_path):
    bad = write_csv(tmp_path / "bad.csv", [{"model": "a", "scenario": "s", "score": 1}])
    db = tmp_path / "new.duckdb"
    with pytest.raises(EffbenchError):
        pipeline.update(db, [Source(bad)])
    assert not db.exists()


def test_results_already_loaded_from_another_file_are_refused(tmp_path, small_results):
    db = tmp_path / "e.duckdb"
    pipeline.update(db, [Source(small_results)])
    again = write_csv(tmp_path / "again.csv", long_rows({"alpha": {"qa": [0]}}))
    with pytest.raises(EffbenchError, match=r"already loaded \(from .*small.csv\)"):
        pipeline.update(db, [Source(again)])


def test_a_scenario_cannot_mix_item_and_scenario_level_results(tmp_path):
    wide = write_csv(tmp_path / "w.csv", [{"model": "a", "qa": 0.5}, {"model": "b", "qa": 0.7}])
    items = write_csv(tmp_path / "l.csv", long_rows({"c": {"qa": [1, 0]}}))
    db = tmp_path / "e.duckdb"
    pipeline.update(db, [Source(wide, "wide")])
    with pytest.raises(EffbenchError, match="already has per-scenario results"):
        pipeline.update(db, [Source(items)])


def test_unknown_file_type_and_missing_file(tmp_path):
    odd = tmp_path / "results.xlsx"
    odd.write_text("x")
    with pytest.raises(EffbenchError, match="unknown file type"):
        pipeline.update(tmp_path / "e.duckdb", [Source(odd)])
    with pytest.raises(EffbenchError, match="no such file"):
        pipeline.update(tmp_path / "e.duckdb", [Source(tmp_path / "absent.csv")])


def test_malformed_parquet_is_a_clean_error(tmp_path):
    broken = tmp_path / "r.parquet"
    broken.write_bytes(b"not a parquet file")
    with pytest.raises(EffbenchError, match="cannot be read as Parquet"):
        pipeline.update(tmp_path / "e.duckdb", [Source(broken)])


def test_a_foreign_database_is_not_taken_over(tmp_path, small_results):
    db = tmp_path / "other.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE accounts (id INTEGER)")
    con.close()
    with pytest.raises(EffbenchError, match="not effbench's"):
        pipeline.update(db, [Source(small_results)])


def test_stored_analysis_records_its_parameters(tmp_path, small_results):
    db = tmp_path / "e.duckdb"
    pipeline.update(db, [Source(small_results)],
                    parameters=store.AnalysisParameters(n_resamples=200, seed=7, confidence_level=0.9))
    (seed, n, level, fingerprint), = query(
        db, "SELECT seed, n_resamples, confidence_level, data_fingerprint FROM analyses"
            " WHERE analysis = 'rank_intervals'")
    assert (seed, n, level) == (7, 200, 0.9)
    assert len(fingerprint) == 64
    options = json.loads(query(db, "SELECT options FROM sources")[0][0])
    assert options["score"] == "score"


def test_schema_is_documented_in_the_database(tmp_path, small_results):
    db = tmp_path / "e.duckdb"
    pipeline.update(db, [Source(small_results)])
    undocumented = query(db, "SELECT table_name FROM duckdb_tables() WHERE comment IS NULL"
                             " AND table_name <> 'effbench_meta'")
    assert undocumented == []
    assert query(db, "SELECT count(*) FROM duckdb_views() WHERE view_name = 'leaderboard'"
                     " AND comment IS NOT NULL") == [(1,)]


def test_item_ids_keep_leading_zeros_and_true_false_scores_count_as_one_and_zero(tmp_path):
    path = write_csv(tmp_path / "x.csv", [
        {"model": "a", "scenario": "s", "item_id": "007", "score": "True"},
        {"model": "a", "scenario": "s", "item_id": "010", "score": "False"},
        {"model": "b", "scenario": "s", "item_id": "007", "score": "false"},
    ])
    db = tmp_path / "e.duckdb"
    pipeline.update(db, [Source(path)])
    assert query(db, "SELECT model, item_id, score FROM scores ORDER BY ALL") == [
        ("a", "007", 1.0), ("a", "010", 0.0), ("b", "007", 0.0)]


def test_analysis_status_says_which_analyses_are_stale_after_an_ingest(tmp_path, small_results):
    db = tmp_path / "e.duckdb"
    pipeline.update(db, [Source(small_results)])
    assert set(query(db, "SELECT analysis, current FROM analysis_status")) == {
        ("rank_intervals", True), ("dior", True), ("flash", True)}
    more = write_csv(tmp_path / "more.csv", long_rows({"delta": {"qa": [1, 0, 1, 1]}}))
    pipeline.update(db, [Source(more)], all_analyses=False)  # what `effbench ingest` does
    assert set(query(db, "SELECT analysis, current FROM analysis_status")) == {
        ("rank_intervals", True), ("dior", False), ("flash", False)}
