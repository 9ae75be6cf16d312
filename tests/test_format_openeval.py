"""OpenEval: item files and Parquet tables, per-model means computed by hand, errors, ingest and build."""

import json
import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from effbench.cli import app
from effbench.errors import EffbenchError
from effbench.formats import ReadOptions, list_files, openeval

FIXTURE = Path(__file__).parent / "data" / "formats" / "openeval"
SHARED = Path(__file__).parent / "data" / "formats"  # every harness's fixtures, this one's among them
ITEMS = FIXTURE / "items" / "items.jsonl"
TABLES = FIXTURE / "hf"
# The same items with item_metadata.source as the benchmark's name (`make_fixture.py plain-source`).
PLAIN = FIXTURE / "plain_source"
# Hand computation from RESPONSES in make_fixture.py, metric exact_match for TruthfulQA (its first
# listed metric) and wildbench_score_rescaled for WildBench, one row per response:
# Model-A: TruthfulQA 1, 1 (True), 0; WildBench 0.75, 0.25 -> 3.0 / 5 rows = 0.6
# Model-B: TruthfulQA 0 and 1 (two responses to item 0), 0, not evaluated (no exact_match on item 2);
#          WildBench 0.5, 1.0 -> 2.5 / 5 scored rows = 0.5
EXPECTED = {"Model-A": 0.6, "Model-B": 0.5}
# Per model and benchmark, over items (an item's score is the mean over its responses):
# Model-B TruthfulQA: item 0 (0 + 1) / 2 = 0.5, item 1 0 -> 0.25 over the 2 evaluated items.
EXPECTED_SCENARIO = {("Model-A", "TruthfulQA"): 2 / 3, ("Model-A", "WildBench"): 0.5,
                     ("Model-B", "TruthfulQA"): 0.25, ("Model-B", "WildBench"): 0.75}


def test_find_detects_items_and_tables_from_folder_and_parent():
    everything = [TABLES, ITEMS, PLAIN / "hf", PLAIN / "items" / "items.jsonl"]
    assert openeval.find(FIXTURE, list_files(FIXTURE)) == everything
    parent = FIXTURE.parent
    assert openeval.find(parent, list_files(parent)) == everything
    assert openeval.find(TABLES, list_files(TABLES)) == [TABLES]
    assert openeval.find(ITEMS, [ITEMS]) == [ITEMS]


def test_find_claims_no_other_format():
    others = [p for p in list_files(SHARED) if "openeval" not in p.parts]
    assert others and openeval.find(SHARED, others) == []


@pytest.mark.parametrize("unit", [ITEMS, TABLES], ids=["items", "tables"])
def test_read_gives_hand_computed_means(unit):
    read = openeval.read(unit, ReadOptions())
    assert read.keys == ("response",)
    assert read.items.groupby("model")["score"].mean().to_dict() == pytest.approx(EXPECTED)
    per_item = read.items.groupby(["model", "scenario", "item_id"])["score"].mean()
    assert per_item.groupby(["model", "scenario"]).mean().to_dict() == pytest.approx(EXPECTED_SCENARIO)
    assert dict(zip(read.scenarios["scenario"], read.scenarios["metric"], strict=True)) == {
        "TruthfulQA": "exact_match", "WildBench": "wildbench_score_rescaled"}
    assert any("also present: bleu" in note for note in read.notes)
    assert read.models.set_index("model")["params_b"].to_dict()["Model-A"] == 7.0
    bleu = openeval.read(unit, ReadOptions(metrics={"TruthfulQA": "bleu"}))
    truthful = bleu.items[bleu.items["scenario"] == "TruthfulQA"]
    # bleu of every TruthfulQA response in make_fixture.py: 0.8 0.1 0.9 0.7 0.2 0.4 0.3
    assert truthful["score"].sum() == pytest.approx(3.4) and truthful["score"].notna().all()


def test_tables_with_scores_as_a_list_of_structs_and_no_item_table(tmp_path):
    """The other way Parquet can hold `scores`; without an item table the benchmark comes from the ids."""
    con = duckdb.connect()
    (tmp_path / "response").mkdir()
    shutil.copytree(TABLES / "bench", tmp_path / "bench")
    source = str(TABLES / "response" / "*.parquet")
    con.execute(
        "COPY (SELECT response_id, model, list_transform(list_zip(scores.metric, scores.value),"
        " lambda p: {'metric': p[1], 'value': p[2]}) AS scores FROM read_parquet(?))"
        f" TO '{tmp_path / 'response' / 'part.parquet'}' (FORMAT parquet)", [source])
    read = openeval.read(tmp_path, ReadOptions())
    assert read.items.groupby("model")["score"].mean().to_dict() == pytest.approx(EXPECTED)
    assert set(read.items["scenario"]) == {"TruthfulQA", "WildBench"}
    assert any("not in an item table" in note for note in read.notes)


@pytest.mark.parametrize("unit", [ITEMS, TABLES], ids=["items", "tables"])
def test_metric_for_every_benchmark_applies_where_it_exists(unit):
    read = openeval.read(unit, ReadOptions(metrics={"*": "bleu"}))
    assert dict(zip(read.scenarios["scenario"], read.scenarios["metric"], strict=True)) == {
        "TruthfulQA": "bleu", "WildBench": "wildbench_score_rescaled"}
    with pytest.raises(EffbenchError, match="benchmark 'WildBench' has no metric 'bleu'"):
        openeval.read(unit, ReadOptions(metrics={"WildBench": "bleu"}))


def test_broken_files_are_one_clear_error(tmp_path):
    lines = ITEMS.read_text().splitlines()
    item = json.loads(lines[0])
    del item["item_metadata"]["source"]["benchmark_name"]
    broken = tmp_path / "broken.jsonl"
    broken.write_text(json.dumps(item) + "\n")
    assert openeval.find(tmp_path, [broken]) == [broken]
    with pytest.raises(EffbenchError, match=r"broken.jsonl: line 1: item .* lacks 'item_metadata.source"):
        openeval.read(broken, ReadOptions())
    item = json.loads(lines[0])
    del item["responses"][0]["model"]["name"]
    broken.write_text(json.dumps(item) + "\n")
    with pytest.raises(EffbenchError, match=r"line 1: responses entry 0: model: no field 'name'"):
        openeval.read(broken, ReadOptions())


@pytest.mark.parametrize("unit", [ITEMS.parent, TABLES], ids=["items", "tables"])
def test_cli_ingest_loads_the_folder(tmp_path, unit):
    db = tmp_path / "t.duckdb"
    result = CliRunner().invoke(app, ["ingest", str(unit), "--db", str(db)])
    assert result.exit_code == 0, result.output
    con = duckdb.connect(str(db), read_only=True)
    means = dict(con.execute("select model, avg(score) from scores group by model").fetchall())
    assert means == pytest.approx(EXPECTED)
    assert con.execute("select format, rows from sources").fetchall() == [("openeval", 11)]


def test_cli_build_on_the_tables_folder(tmp_path):
    db, out = tmp_path / "t.duckdb", tmp_path / "site"
    result = CliRunner().invoke(app, ["build", str(TABLES), "--db", str(db), "--out", str(out), "--resamples", "100"])
    assert result.exit_code == 0, result.output
    assert (out / "index.html").is_file()
    con = duckdb.connect(str(db), read_only=True)
    ranks = dict(con.execute("select model, rank from leaderboard").fetchall())
    # macro mean over benchmarks: Model-A (2/3 + 0.5) / 2 = 0.583, Model-B (0.25 + 0.75) / 2 = 0.5
    assert ranks == {"Model-A": 1, "Model-B": 2}


@pytest.mark.parametrize("unit", [PLAIN / "items" / "items.jsonl", PLAIN / "hf"], ids=["items", "tables"])
def test_item_metadata_source_as_the_benchmark_name(unit):
    read = openeval.read(unit, ReadOptions())
    per_item = read.items.groupby(["model", "scenario", "item_id"])["score"].mean()
    assert per_item.groupby(["model", "scenario"]).mean().to_dict() == pytest.approx(EXPECTED_SCENARIO)


def test_item_metadata_as_json_text_in_both_shapes(tmp_path):
    """A table whose item_metadata column is JSON text (not a struct) names the benchmark either way."""
    folder = tmp_path / "tables"
    shutil.copytree(PLAIN / "hf", folder)
    item = folder / "item" / "train-00000-of-00001.parquet"
    with duckdb.connect() as con:
        con.execute(f"COPY (SELECT * REPLACE (CASE WHEN item_id LIKE 'wildbench%' THEN to_json(item_metadata)::VARCHAR"
                    f" ELSE '{{\"source\": {{\"benchmark_name\": \"TruthfulQA\"}}}}' END AS item_metadata)"
                    f" FROM read_parquet('{item}')) TO '{tmp_path / 'item.parquet'}' (FORMAT parquet)")
    item.unlink()
    (tmp_path / "item.parquet").rename(item)
    read = openeval.read(folder, ReadOptions())
    assert set(read.items["scenario"]) == {"TruthfulQA", "WildBench"}
    assert not any("not in an item table" in note for note in read.notes)


def test_tables_named_like_a_glob_are_read_as_those_files(tmp_path):
    """DuckDB reads ``[1]`` in a path as a pattern matching ``1``: a response table named ``train[1].parquet``
    is read from that file, not from ``train1.parquet`` beside it."""
    tables = tmp_path / "hf"
    shutil.copytree(TABLES, tables)
    for kind in ("bench", "item", "response"):
        (tables / kind / "train-00000-of-00001.parquet").rename(tables / kind / "train[1].parquet")
    decoy = tables / "response" / "train1.parquet"  # what the name read as a pattern would find instead
    duckdb.execute(f"COPY (SELECT 1 AS unrelated) TO '{decoy}' (FORMAT parquet)")
    read = openeval.read(tables, ReadOptions())
    expected = openeval.read(TABLES, ReadOptions())
    assert read.items.drop(columns="file").equals(expected.items.drop(columns="file"))
    assert set(read.items["file"]) == {"train[1].parquet"}
