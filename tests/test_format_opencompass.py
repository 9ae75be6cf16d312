"""The OpenCompass adapter: results with per-item details in both shapes, replicas, and predictions-only folders."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from effbench.cli import app
from effbench.errors import EffbenchError
from effbench.formats import ReadOptions, discover, list_files, opencompass

DATA = Path(__file__).parent / "data" / "formats" / "opencompass"
RUN = DATA / "outputs" / "default" / "20250310_142233"
PREDICTIONS = DATA / "lawbench_predictions"
SHARED = Path(__file__).parent / "data" / "formats"  # every harness's fixtures, this one's among them
INTERNLM, QWEN = "internlm2-chat-7b-hf", "qwen2.5-7b-instruct-hf"


def _find(root: Path) -> list[Path]:
    return opencompass.find(root, list_files(root))


def test_find_takes_the_run_folder_from_itself_or_a_parent_and_single_results_files() -> None:
    assert _find(RUN) == [RUN]
    assert _find(DATA / "outputs") == [RUN]
    results = sorted((RUN / "results").rglob("*.json"))
    assert len(results) == 4
    assert _find(RUN / "results") == results  # inside a run folder each results file is a unit
    assert _find(results[0]) == [results[0]]
    assert _find(RUN / "summary") == []  # the summary table is not OpenCompass's per-item output
    # Predictions without results are units too, so that reading them can say there is nothing to load.
    assert _find(PREDICTIONS) == [PREDICTIONS / "zero_shot" / "GPT4", PREDICTIONS / "zero_shot" / "qwen-7b-chat-hf"]


def test_find_claims_no_other_harness_output() -> None:
    for folder in sorted(SHARED.iterdir()):
        if folder.is_dir() and folder.name != "opencompass":
            assert _find(folder) == [], folder


def test_read_gives_per_item_correctness_with_replicas_as_the_key() -> None:
    read = opencompass.read(RUN, ReadOptions())
    items = read.items
    assert read.keys == ("replica",) and read.runs == 4
    assert set(items["metric"]) == {"correct"}
    assert set(items["item_id"]) == {"0", "1", "2", "3", "4"}  # gsm8k_test_<index> and ARC-c's "0".."3"
    means = items.groupby(["model", "scenario"])["score"].mean().to_dict()
    # From the fixture: internlm2 gets gsm8k items 0, 2, 3 of 5 and ARC-c 2 of 4; qwen2.5 (gsm8k run twice)
    # is right in 7 of 10 (item, replica) pairs of gsm8k and in 3 of 4 ARC-c items.
    assert means == pytest.approx({(INTERNLM, "ARC-c"): 2 / 4, (INTERNLM, "gsm8k"): 3 / 5,
                                   (QWEN, "ARC-c"): 3 / 4, (QWEN, "gsm8k"): 7 / 10})
    qwen_item_2 = items[(items["model"] == QWEN) & (items["scenario"] == "gsm8k") & (items["item_id"] == "2")]
    assert qwen_item_2.sort_values("replica")["score"].tolist() == [1.0, 0.0]  # "5" then "15" for gold 5
    scenarios = read.scenarios.set_index("scenario")
    assert scenarios.loc["ARC-c", "metric"] == "correct" and scenarios.loc["ARC-c", "tags"] == "PPL"
    assert bool(scenarios.loc["gsm8k", "higher_is_better"]) is True
    # The per-item means reproduce every reported figure, so the only note is about math's missing results.
    assert read.notes == ("1 model/dataset pair(s) have predictions but no results (evaluation not run or "
                          f"failed): {INTERNLM}/math",)
    assert set(items["file"]) == {f"results/{m}/{d}.json" for m in (INTERNLM, QWEN) for d in ("gsm8k", "ARC-c")}


def test_predictions_only_is_a_clear_error_pointing_to_eval_details(tmp_path: Path) -> None:
    with pytest.raises(EffbenchError, match=r"GPT4: OpenCompass predictions only .*no scores to load.*"
                                            r"--dump-eval-details"):
        opencompass.read(PREDICTIONS / "zero_shot" / "GPT4", ReadOptions())
    db = tmp_path / "e.duckdb"
    result = CliRunner().invoke(app, ["ingest", str(PREDICTIONS), "--db", str(db)])
    assert result.exit_code == 1
    assert "predictions only" in result.output and "--dump-eval-details" in result.output
    assert not db.exists()


def _write(path: Path, data: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=4))
    return path


def test_older_results_notes_and_field_choice(tmp_path: Path) -> None:
    # OpenCompass 0.3: details keyed by index, correct a boolean, "type" moved to the top level.
    old = {"accuracy": 50.0, "details": {"0": {"predictions": "A", "references": "A", "correct": True},
                                         "1": {"predictions": "B", "references": "A", "correct": False},
                                         "2": {"predictions": "C", "references": "C", "correct": True}},
           "type": "GEN"}
    run = tmp_path / "20240101_000000"
    _write(run / "results" / "m" / "siqa.json", old)
    _write(run / "results" / "m" / "bleu_task.json", {"score": 12.5})  # no details kept
    _write(run / "results" / "m" / "judged.json", {"score": 40.0, "details": [
        {"example_abbr": "judged_0", "pred": ["x"], "score": [0.5]}, {"example_abbr": "judged_1", "pred": ["y"],
                                                                     "score": [0.3]}]})
    # Another evaluator version names the flag is_correct: siqa takes "correct", and the load says m2 has none.
    _write(run / "results" / "m2" / "siqa.json", {"accuracy": 100.0, "details": {"0": {"is_correct": True}}})
    read = opencompass.read(run, ReadOptions())
    means = read.items.groupby("scenario")["score"].mean().to_dict()
    assert any("m2/siqa.json: its details have no per-item correct; m2 has no results in siqa" in note
               for note in read.notes)
    # siqa: 2 of 3 correct; judged: per-item scores 0.5 and 0.3.
    assert means == pytest.approx({"siqa": 2 / 3, "judged": 0.4})
    assert read.keys == () and "replica" not in read.items
    notes = " | ".join(read.notes)
    assert "bleu_task.json: no per-item details (its score = 12.5 is not loaded)" in notes
    # The reported 50.0 is not the mean of the per-item flags (66.67%): said, not hidden.
    assert "siqa.json: the mean of per-item correct is 66.67%, OpenCompass reports accuracy = 50" in notes
    # --metric names another per-item field: a number is taken, a missing field skips the dataset with a note.
    _write(run / "results" / "m" / "judged.json", {"score": 40.0, "details": [
        {"example_abbr": "judged_0", "score": [0.5], "judge_rating": [8]},
        {"example_abbr": "judged_1", "score": [0.3], "judge_rating": [6]}]})
    chosen = opencompass.read(run, ReadOptions(metrics={"judged": "judge_rating", "siqa": "rating"}))
    assert chosen.items.groupby("scenario")["score"].mean().to_dict() == pytest.approx({"judged": 7.0})
    assert any("siqa: no per-item field 'rating' (chosen with --metric)" in note for note in chosen.notes)
    with pytest.raises(EffbenchError, match=r"siqa\.json: details\[0\]\.predictions is not a number or true/false"):
        opencompass.read(run, ReadOptions(metrics={"siqa": "predictions"}))


def test_a_broken_file_is_one_error_naming_it(tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(RUN, run)
    target = run / "results" / QWEN / "gsm8k.json"
    target.write_text(target.read_text()[:-40])
    with pytest.raises(EffbenchError, match=r"gsm8k\.json: not valid JSON"):
        opencompass.read(run, ReadOptions())
    _write(target, {"accuracy": 1.0, "details": "all correct"})
    with pytest.raises(EffbenchError, match=r"gsm8k\.json: field details is neither a mapping nor a list"):
        opencompass.read(run, ReadOptions())
    _write(target, {"accuracy": 1.0, "details": [{"example_abbr": "gsm8k_test_0", "correct": ["yes"]}]})
    with pytest.raises(EffbenchError, match=r"gsm8k\.json: details\[0\]\.correct is not a number or true/false"):
        opencompass.read(run, ReadOptions(metrics={"gsm8k": "correct"}))


def test_ingest_loads_a_run_folder_and_records_the_source(tmp_path: Path) -> None:
    db = tmp_path / "e.duckdb"
    result = CliRunner().invoke(app, ["ingest", str(DATA / "outputs"), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "opencompass: 1 unit(s), 4 run(s), 2 model(s), 2 scenario(s), 23 item rows" in result.output
    assert [unit.format for unit in discover([DATA / "outputs"])] == ["opencompass"]
    with duckdb.connect(str(db), read_only=True) as con:
        means = dict(con.execute("SELECT model, avg(score) FROM scores GROUP BY model").fetchall())
        # Over rows: internlm2 3 + 2 right of 5 + 4 rows; qwen2.5 7 of 10 gsm8k rows (two replicas) + 3 of 4 ARC-c.
        assert means == pytest.approx({INTERNLM: 5 / 9, QWEN: 10 / 14})
        source = con.execute("SELECT path, format, rows, CAST(options AS VARCHAR) FROM sources").fetchone()
        assert source[:3] == (str(RUN), "opencompass", 23)
        options = json.loads(source[3])
        assert options["keys"] == ["replica"]
        assert options["format_options"]["field_per_dataset"] == {"ARC-c": "correct", "gsm8k": "correct"}


def test_a_run_whose_results_are_not_per_item_says_what_it_is(tmp_path: Path) -> None:
    """A run whose results/ holds files effbench does not read (a subjective run's judge results) is not
    called "predictions only"."""
    run = tmp_path / "20250310_142233"
    shutil.copytree(RUN / "predictions", run / "predictions")
    judged = run / "results" / "internlm2-chat-7b-hf_judged-by--gpt-4o"
    judged.mkdir(parents=True)
    (judged / "alignment_bench.json").write_text(json.dumps({"internlm2-chat-7b-hf": {"win_rate": 0.6}}))
    result = CliRunner().invoke(app, ["ingest", str(run), "--db", str(tmp_path / "e.duckdb")])
    assert result.exit_code == 1
    assert "predictions only" not in result.output
    assert "results/ holds 1 file(s) (e.g. internlm2-chat-7b-hf_judged-by--gpt-4o/alignment_bench.json)" \
        in result.output
    assert "subjective evaluation" in result.output
