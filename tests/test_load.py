"""Loading: formats, provenance, missing values, column mapping, and refusing bad input cleanly."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from effbench import analysis_tables, pipeline, store
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
    pipeline.update(db, [Source(raw)], all_analyses=False)  # the ranking holds the means
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
    # The ranking only: what is checked is the load and the leaderboard; the reliability analysis and the
    # Flash replay of such results run in test_embed's build of the same table.
    report = pipeline.update(db, [Source(HELM_LITE, "wide")], all_analyses=False)
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
    pipeline.update(db, example="mmlu-pro", all_analyses=False)
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
                    parameters=analysis_tables.AnalysisParameters(n_resamples=200, seed=7, confidence_level=0.9))
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


# Hardening (issue 10): each test below failed on the code before it.


def columns_of(db: Path, table: str) -> list[str]:
    return [r[0] for r in query(db, f"SELECT column_name FROM duckdb_columns() WHERE table_name = '{table}'")]


def test_a_file_with_thousands_of_extra_columns_adds_one_json_column(tmp_path, small_results):
    """Case 1: extra columns no longer become columns of `scores` (memory grew with columns x rows)."""
    db = tmp_path / "e.duckdb"
    pipeline.update(db, [Source(small_results)], all_analyses=False)
    before = columns_of(db, "scores")
    wide = write_csv(tmp_path / "wide.csv", [{"model": "delta", "scenario": "qa", "item_id": "qa-0", "score": 1,
                                              **{f"x{i}": i for i in range(2000)}}])
    pipeline.update(db, [Source(wide)], all_analyses=False)
    assert columns_of(db, "scores") == [*before, "extra"]
    assert query(db, "SELECT extra->>'x1999', json_array_length(json_keys(extra)) FROM scores"
                     " WHERE model = 'delta'") == [("1999", 2000)]


def test_decimal_scores_load(tmp_path):
    """Case 5: Parquet DECIMAL scores are numbers."""
    path = tmp_path / "decimal.parquet"
    duckdb.execute(f"COPY (SELECT m AS model, 's' AS scenario, CAST(i AS VARCHAR) AS item_id,"
                   f" CAST((i + length(m)) % 2 AS DECIMAL(4, 2)) AS score FROM range(4) AS t(i),"
                   f" (VALUES ('a'), ('bb')) AS v(m)) TO '{path}' (FORMAT parquet)")
    db = tmp_path / "e.duckdb"
    pipeline.update(db, [Source(path)], all_analyses=False)
    assert query(db, "SELECT model, sum(score) FROM scores GROUP BY 1 ORDER BY 1") == [("a", 2.0), ("bb", 2.0)]


def test_names_are_stripped_and_names_equal_up_to_case_are_warned_about(tmp_path):
    """Case 8: ` Yi-6B` and `Yi-6B ` are Yi-6B; yi-6b stays apart, with a warning, also against the database."""
    rows = [{"model": name, "scenario": " qa", "item_id": f"{i} ", "score": 1}
            for i, name in enumerate(["Yi-6B", " Yi-6B", "Yi-6B ", "\u00a0Yi-6B\u3000", "yi-6b"])]
    db = tmp_path / "e.duckdb"
    report = pipeline.update(db, [Source(write_csv(tmp_path / "a.csv", rows))], all_analyses=False)
    assert query(db, "SELECT model, count(*) FROM scores GROUP BY 1 ORDER BY 1") == [("Yi-6B", 4), ("yi-6b", 1)]
    assert query(db, "SELECT DISTINCT scenario FROM scores") == [("qa",)]
    assert query(db, "SELECT item_id FROM scores ORDER BY 1")[0] == ("0",)
    notes = " ".join(report.loads[0].notes)
    assert "'Yi-6B', 'yi-6b' differ only in case" in notes and "stripped" in notes
    later = write_csv(tmp_path / "b.csv", [{"model": "YI-6B", "scenario": "QA", "item_id": "9", "score": 0}])
    notes = " ".join(pipeline.update(db, [Source(later)], all_analyses=False).loads[0].notes)
    assert "'YI-6B', 'Yi-6B', 'yi-6b'" in notes and "scenarios 'QA', 'qa'" in notes


def test_a_one_model_build_gives_no_runtime_warning(tmp_path):
    """Case 11: pytest turns RuntimeWarning into an error (pyproject.toml), so this fails on a warning."""
    path = write_csv(tmp_path / "one.csv", long_rows({"solo": {"qa": [1, 0, 1, 1], "math": [0, 1, 0, 0]}}))
    report = pipeline.update(tmp_path / "e.duckdb", [Source(path)],
                             dior_parameters=analysis_tables.DiorParameters(n_draws=20))
    assert report.n_models == 1


def test_scores_on_any_scale_load_and_a_scenario_mixing_scales_is_warned_about(tmp_path):
    """Case 12: any real number is a score; fractions and percent in one scenario get a warning."""
    path = write_csv(tmp_path / "x.csv", long_rows({"a": {"bleu": [0.5, 0.7], "elo": [-5, 1000]},
                                                    "b": {"bleu": [52.0, 61.5], "elo": [2.5, 990]}}))
    report = pipeline.update(tmp_path / "e.duckdb", [Source(path)], all_analyses=False)
    assert report.warnings == ("scenario 'bleu' mixes scales: 'a''s scores lie within [0, 1] (at most 0.7), 'b''s "
                               "reach 61.5; check that every file reports this scenario on the same scale",)


def test_lower_is_better_scenarios_are_ranked_on_negated_scores(tmp_path):
    """Case 12: a declared lower-is-better scenario reverses its order; the declaration is stored and
    makes the stored ranking stale, so it is recomputed."""
    path = write_csv(tmp_path / "x.csv", long_rows({"fast": {"latency": [1.0, 2.0, 1.5]},
                                                    "slow": {"latency": [9.0, 8.0, 7.5]}}))
    db = tmp_path / "e.duckdb"
    pipeline.update(db, [Source(path)], all_analyses=False)
    assert query(db, "SELECT model FROM leaderboard ORDER BY rank") == [("slow",), ("fast",)]
    report = pipeline.update(db, all_analyses=False, lower_is_better=["latency"])
    assert report.recomputed
    assert query(db, "SELECT model FROM leaderboard ORDER BY rank") == [("fast",), ("slow",)]
    assert query(db, "SELECT scenario, higher_is_better FROM scenarios") == [("latency", False)]
    scores = dict(query(db, "SELECT model, score FROM scenario_intervals"))
    assert scores == {"fast": pytest.approx(-1.5), "slow": pytest.approx(-24.5 / 3)}
    # Declared once, it stays: a later load keeps the direction.
    more = write_csv(tmp_path / "y.csv", long_rows({"new": {"latency": [5.0, 5.0, 5.0]}}))
    pipeline.update(db, [Source(more)], all_analyses=False)
    assert query(db, "SELECT model FROM leaderboard ORDER BY rank") == [("fast",), ("new",), ("slow",)]
    assert not pipeline.update(db, all_analyses=False, lower_is_better=["latency"]).recomputed


def test_wide_benchmark_smoke_adds_at_most_the_json_column():
    """benchmarks/bench_wide.py runs; 100 extra columns add at most one column (`extra`) to `scores`."""
    script = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_wide.py"
    result = subprocess.run([sys.executable, str(script), "--smoke"], capture_output=True, text=True, check=True)
    rows = [line.split() for line in result.stdout.splitlines()[2:]]
    assert [row[0] for row in rows] == ["0", "100"]
    assert int(rows[1][-1]) <= int(rows[0][-1]) + 1


def test_a_parquet_file_is_checked_through_views_and_its_duplicates_named(tmp_path, small_results):
    """Parquet rows are read in place (no temporary copy); the checks still see every row, and the
    duplicate check, which groups by a hash of the key, still names the repeated key."""
    db = tmp_path / "e.duckdb"
    pipeline.update(db, [Source(small_results)])
    before = table_counts(db)
    rows = [{"model": f"m{m}", "scenario": "s", "item_id": str(i), "score": float(i % 2)}
            for m in range(50) for i in range(200)]
    rows.append({"model": "m7", "scenario": "s", "item_id": "123", "score": 0.0})
    path = tmp_path / "dup.parquet"
    duckdb.from_df(pd.DataFrame(rows)).write_parquet(str(path))
    with pytest.raises(EffbenchError, match=r"dup.parquet: 1 \(model, scenario, item_id\) value\(s\) appear more "
                                            r"than once, e.g. \('m7', 's', '123'\)"):
        pipeline.update(db, [Source(path)])
    assert table_counts(db) == before
    path.unlink()
    duckdb.from_df(pd.DataFrame(rows[:-1])).write_parquet(str(path))
    pipeline.update(db, [Source(path)])
    assert query(db, "SELECT count(*), sum(score) FROM scores WHERE scenario = 's'") == [(10_000, 5_000.0)]
    with store.open_store(db) as con:
        store.ingest(con, [Source(path)])  # already loaded: nothing staged, nothing left behind
        assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = 'temp'").fetchone() == (0,)
        assert con.execute("SELECT count(*) FROM duckdb_views() WHERE database_name = 'temp'").fetchone() == (0,)


def test_duckdb_memory_is_limited_and_the_limit_can_be_set(tmp_path, monkeypatch):
    db = tmp_path / "e.duckdb"
    with store.open_store(db) as con:
        limit = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    assert limit.endswith("GiB") and float(limit.split()[0]) <= 4.0
    monkeypatch.setenv("EFFBENCH_MEMORY_LIMIT", "1GB")
    with store.open_store(db) as con:
        assert con.execute("SELECT current_setting('memory_limit')").fetchone() == ("953.6 MiB",)
    monkeypatch.setenv("EFFBENCH_MEMORY_LIMIT", "plenty")
    with pytest.raises(EffbenchError, match=r"^EFFBENCH_MEMORY_LIMIT='plenty': give an amount such as 8GB"), \
            store.open_store(db):
        pass
