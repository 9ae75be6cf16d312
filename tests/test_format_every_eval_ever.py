"""Every Eval Ever: detection, per-model means computed by hand from the real fixture, errors, the CLI."""

import json
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from effbench.cli import app
from effbench.errors import EffbenchError
from effbench.formats import ReadOptions, every_eval_ever, list_files

FIXTURE = Path(__file__).parent / "data" / "formats" / "every_eval_ever"
SHARED = Path(__file__).parent / "data" / "formats"  # every harness's fixtures, this one's among them
RECORD = FIXTURE / "global-mmlu-lite__anthropic__claude-3-5-haiku-20241022__402c8833.json"
INSTANCES = FIXTURE / "gpt2_mmlu_samples.jsonl"
PAIR = FIXTURE / "pair_v0.3.0" / "f3a1c0de-4b2e-4c1a-9f6d-1b7e5a2c8d40.json"
PAIR_SAMPLES = PAIR.with_name("f3a1c0de-4b2e-4c1a-9f6d-1b7e5a2c8d40_samples.jsonl")
# The 19 evaluation_results scores of the Claude 3.5 Haiku record, copied from the file.
HAIKU = [0.6114, 0.5834, 0.6394, 0.695, 0.485, 0.675, 0.565, 0.61, 0.6575, 0.5475, 0.48, 0.655, 0.6575, 0.5225,
         0.485, 0.69, 0.6675, 0.69, 0.7]
# gpt2: 1 of its 10 mmlu lines has evaluation.score 1 (id222), the others 0; the 0.3.0 pair: 1 line, score 1.
EXPECTED = {"anthropic/claude-3-5-haiku-20241022": sum(HAIKU) / 19, "openai/gpt2": 0.1, "demo-org/demo-model": 1.0}


# Records converted with every-eval-ever 0.3.0 from an lm-eval re-run (current/README.md): two of tiny_qa.
CURRENT = FIXTURE / "current" / "records"
CURRENT_RECORDS = sorted(CURRENT.rglob("*-*-*-*-*[0-9a-f].json"))


def test_find_detects_records_and_lone_instance_files():
    expected = sorted([RECORD, INSTANCES, PAIR, *CURRENT_RECORDS])
    assert every_eval_ever.find(FIXTURE, list_files(FIXTURE)) == expected
    parent = FIXTURE.parent
    assert every_eval_ever.find(parent, list_files(parent)) == expected
    # the 0.3.0 samples file belongs to its record, even when given alone; without it, it is a unit of its own
    assert every_eval_ever.find(PAIR_SAMPLES, [PAIR_SAMPLES]) == [PAIR]


def test_lone_samples_file_without_its_record(tmp_path):
    alone = tmp_path / PAIR_SAMPLES.name
    alone.write_bytes(PAIR_SAMPLES.read_bytes())
    assert every_eval_ever.find(alone, [alone]) == [alone]
    read = every_eval_ever.read(alone, ReadOptions())
    assert read.items[["model", "scenario", "item_id", "score", "metric"]].values.tolist() == [
        ["demo-org/demo-model", "demo-source.demo_bench", "demo_0001", 1.0, "demo-source.demo_bench"]]


def test_find_claims_no_other_format():
    others = [p for p in list_files(SHARED) if "every_eval_ever" not in p.parts]
    assert every_eval_ever.find(SHARED, others) == []


def test_read_gives_hand_computed_means():
    record = every_eval_ever.read(RECORD, ReadOptions())
    assert record.items.empty and len(record.scenario_scores) == 19
    assert record.scenario_scores["score"].mean() == pytest.approx(EXPECTED["anthropic/claude-3-5-haiku-20241022"])
    assert {"Global MMLU Lite", "Arabic"} <= set(record.scenario_scores["scenario"])
    assert set(record.scenarios["tags"]) == {"global-mmlu-lite"}
    model = record.models.iloc[0]
    assert (model["display_name"], model["organization"]) == ("Claude 3.5 Haiku", "anthropic")

    lone = every_eval_ever.read(INSTANCES, ReadOptions())
    assert lone.items.groupby("model")["score"].mean().to_dict() == {"openai/gpt2": pytest.approx(0.1)}
    assert set(lone.items["scenario"]) == {"mmlu"} and len(lone.items) == 10

    pair = every_eval_ever.read(PAIR, ReadOptions())
    assert pair.files == (PAIR, PAIR_SAMPLES)
    assert pair.scenario_scores.empty  # the result with instance lines loads as items only
    assert pair.items[["model", "scenario", "item_id", "score", "metric"]].values.tolist() == [
        ["demo-org/demo-model", "demo-source.demo_bench", "demo_0001", 1.0, "accuracy"]]
    assert pair.scenarios["higher_is_better"].tolist() == [True]


def test_several_metrics_per_scenario_take_one(tmp_path):
    record = json.loads(PAIR.read_text())
    second = json.loads(json.dumps(record["evaluation_results"][0]))
    second["evaluation_result_id"] = "demo-source.demo_bench.f1"
    second["metric_config"]["metric_id"] = "f1"
    second["score_details"]["score"] = 0.5
    record["evaluation_results"].append(second)
    del record["detailed_evaluation_results"]
    path = tmp_path / "record.json"
    path.write_text(json.dumps(record))
    default = every_eval_ever.read(path, ReadOptions())
    assert default.scenario_scores[["scenario", "score", "metric"]].values.tolist() == [
        ["demo-source.demo_bench", 0.75, "accuracy"]]
    assert any("also present: f1" in note for note in default.notes)
    chosen = every_eval_ever.read(path, ReadOptions(metrics={"demo-source.demo_bench": "f1"}))
    assert chosen.scenario_scores["score"].tolist() == [0.5]


def test_results_that_aggregate_the_others_are_skipped(tmp_path):
    record = json.loads(PAIR.read_text())
    mean = json.loads(json.dumps(record["evaluation_results"][0]))
    mean.update(evaluation_name="Mean win rate", evaluation_result_id="mean")
    record["evaluation_results"].append(mean)
    del record["detailed_evaluation_results"]
    path = tmp_path / "record.json"
    path.write_text(json.dumps(record))
    read = every_eval_ever.read(path, ReadOptions())
    assert read.scenario_scores["scenario"].tolist() == ["demo-source.demo_bench"]
    assert any("'Mean win rate'" in note for note in read.notes)


def test_broken_files_are_one_clear_error(tmp_path):
    record = tmp_path / "record.json"
    record.write_text('{"schema_version": "0.3.0", "model_info": {"id": "m"}}')
    assert every_eval_ever.find(tmp_path, [record]) == [record]
    with pytest.raises(EffbenchError, match="record.json: the Every Eval Ever record lacks 'evaluation_results'"):
        every_eval_ever.read(record, ReadOptions())
    lines = INSTANCES.read_text().splitlines()
    row = json.loads(lines[1])
    del row["evaluation"]
    broken = tmp_path / "broken.jsonl"
    broken.write_text("\n".join([lines[0], json.dumps(row)]) + "\n")
    with pytest.raises(EffbenchError, match="broken.jsonl: line 2: no field 'evaluation'"):
        every_eval_ever.read(broken, ReadOptions())


def test_cli_ingest_loads_the_folder(tmp_path):
    db = tmp_path / "t.duckdb"
    result = CliRunner().invoke(app, ["ingest", str(FIXTURE), "--db", str(db)])
    assert result.exit_code == 0, result.output
    con = duckdb.connect(str(db), read_only=True)
    means = dict(con.execute("select model, avg(score) from scores group by model").fetchall())
    # local/dummy (current/): tiny_qa's latest record, 2 of 4, and tiny_choice, 3 of 4
    assert means == pytest.approx({**EXPECTED, "local/dummy": 5 / 8})
    sources = con.execute("select format, rows from sources where path not like '%current%' order by path").fetchall()
    assert sources == [("every-eval-ever", 19), ("every-eval-ever", 10), ("every-eval-ever", 1)]


def test_several_records_of_one_model_and_task_keep_the_latest(tmp_path):
    qa_first, qa_second = sorted((CURRENT / "tiny_qa" / "local" / "dummy").glob("*.json"),
                                 key=lambda p: json.loads(p.read_text())["evaluation_timestamp"])
    db = tmp_path / "t.duckdb"
    result = CliRunner().invoke(app, ["ingest", str(CURRENT), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert f"set aside {qa_first.name}" in result.output and f"a repeat of {qa_second.name}" in result.output
    with duckdb.connect(str(db), read_only=True) as con:
        means = dict(con.execute("select scenario, avg(score) from scores group by scenario").fetchall())
        query = "select distinct file from scores where scenario = 'tiny_qa'"
        files = {row[0] for row in con.execute(query).fetchall()}
    assert files == {qa_second.with_name(qa_second.stem + "_samples.jsonl").name}
    records = {json.loads(p.read_text())["evaluation_results"][0]["evaluation_name"]:
               json.loads(p.read_text())["evaluation_results"][0]["score_details"]["score"] for p in CURRENT_RECORDS}
    assert means == pytest.approx(records)  # the records' own scores: tiny_qa 0.5, tiny_choice 0.75


def test_a_record_whose_instance_lines_disagree_says_which_loaded():
    """The 0.3.0 pair's record says accuracy 0.75; its one instance line scores 1. The lines load, with a
    note giving both; records whose lines agree (the converted lm-eval runs) have no such note."""
    read = every_eval_ever.read(PAIR, ReadOptions())
    assert read.items["score"].tolist() == [1.0]
    assert f"{PAIR.name}: 'demo-source.demo_bench': the record's score is 0.75, its 1 instance line(s) give 1; " \
           "loaded the instance lines" in read.notes
    for record in CURRENT_RECORDS:
        assert not any("the record's score" in note for note in every_eval_ever.read(record, ReadOptions()).notes)
