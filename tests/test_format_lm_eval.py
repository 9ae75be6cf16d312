"""The lm-evaluation-harness adapter on real outputs (and one written from the harness's 0.4.0 code)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from effbench.cli import app
from effbench.errors import EffbenchError
from effbench.formats import ReadOptions, list_files, lm_eval

FIXTURES = Path(__file__).parent / "data" / "formats" / "lm_eval"
QWEN = FIXTURES / "qwen3-93m" / "results_2026-01-21T03-44-18.458309.json"
QWEN_MODEL = "RylanSchaeffer/mem_Qwen3-93M_minerva_math_rep_0_sbst_1.0000_epch_1_ot_1"
GEMMA = FIXTURES / "google__gemma-2b"
OLD = FIXTURES / "pythia-14m-v0.4.0" / "results.json"
# Written by running lm-eval 0.4.13 with its dummy model (current/README.md): a folder with a re-run of
# tiny_qa (first run: tiny_qa and tiny_choice; second run: tiny_qa), and a task with an infinite metric.
CURRENT = FIXTURES / "current"
RERUN = sorted((CURRENT / "rerun" / "local__dummy").glob("results_*.json"))
INFINITE = CURRENT / "infinite" / "local__dummy"
OTHER_FIXTURES = [p for p in (FIXTURES.parent.iterdir() if FIXTURES.parent.is_dir() else []) if p.name != "lm_eval"]


def find(root: Path) -> list[Path]:
    return lm_eval.find(root, list_files(root))


def test_find_from_the_unit_folder_a_parent_and_a_samples_file():
    assert find(QWEN.parent) == [QWEN]
    assert find(QWEN) == [QWEN]
    everything = find(FIXTURES)
    assert sorted(p.name for p in everything if "current" not in p.parts) == [
        "results.json", "results_2026-01-16T15-23-47.285735.json", "results_2026-01-16T17-17-53.199351.json",
        "results_2026-01-21T03-44-18.458309.json"]
    assert sorted(p for p in everything if "current" in p.parts) == [*sorted(INFINITE.glob("results_*.json")),
                                                                    *RERUN]
    assert find(FIXTURES.parent) == everything  # tests/data/formats, where the other formats' fixtures are
    samples = next(QWEN.parent.glob("samples_*.jsonl"))
    assert find(samples) == [QWEN]


@pytest.mark.parametrize("folder", OTHER_FIXTURES,
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_find_claims_no_other_format(folder: Path):
    assert find(folder) == []


def test_old_layout_filters_groups_and_prompts_by_hand():
    read = lm_eval.read(OLD, ReadOptions())
    # Hand computation from the fixture files: gsm8k_tiny under the first filter (strict-match) is
    # exact_match 1, 0, 0, 1 (2 of 4); arc_tiny prompt_1 acc 1, 0, 1 and prompt_2 acc 0, 0, 1 (3 of 6 rows).
    assert read.keys == ("prompt",)
    items = read.items
    assert set(items["model"]) == {"EleutherAI/pythia-14m"}  # from config.model_args pretrained=...
    assert set(items["scenario"]) == {"arc_tiny", "gsm8k_tiny"}  # the group "tiny" is not a scenario
    by_scenario = items.groupby("scenario")["score"].agg(["mean", "count"])
    assert by_scenario.loc["gsm8k_tiny"].tolist() == [0.5, 4]
    assert by_scenario.loc["arc_tiny"].tolist() == [0.5, 6]
    prompts = items[items["scenario"] == "arc_tiny"].groupby("prompt")["score"].sum()
    assert prompts.to_dict() == {"prompt_1": 2.0, "prompt_2": 1.0}
    assert items["score"].mean() == 5 / 10
    assert read.options["metrics"] == {"arc_tiny_prompt_1": "acc,none", "arc_tiny_prompt_2": "acc,none",
                                       "gsm8k_tiny": "exact_match,strict-match"}
    assert set(items["run"]) == {"arc_tiny_prompt_1", "arc_tiny_prompt_2", "gsm8k_tiny"}
    assert read.scenario_scores.empty
    assert any("group aggregate" in note and "tiny" in note for note in read.notes)
    assert any("strict-match, flexible-extract; took strict-match" in note for note in read.notes)
    higher = dict(zip(read.scenarios["scenario"], read.scenarios["higher_is_better"], strict=True))
    assert higher == {"arc_tiny": True, "gsm8k_tiny": True}  # from the tasks' metric_list


def test_metric_option_chooses_metric_and_filter_and_prompts_can_be_scenarios():
    read = lm_eval.read(OLD, ReadOptions(metrics={"gsm8k_tiny": "exact_match,flexible-extract", "*": "acc_norm"},
                                         prompts_as_key=False))
    assert read.keys == ()
    means = read.items.groupby("scenario")["score"].mean().to_dict()
    # flexible-extract: 1, 1, 0, 1; acc_norm prompt_1: 1, 1, 0; prompt_2: 0, 1, 1.
    assert means == {"gsm8k_tiny": 0.75, "arc_tiny_prompt_1": 2 / 3, "arc_tiny_prompt_2": 2 / 3}
    with pytest.raises(EffbenchError, match="no metric 'bleu'"):
        lm_eval.read(OLD, ReadOptions(metrics={"gsm8k_tiny": "bleu"}))


def test_real_sample_items_and_a_task_without_samples():
    read = lm_eval.read(QWEN, ReadOptions())
    # The samples file holds 10 documents of math_perturbed_full, exact_match 0.0 on every line (0 of 10).
    assert len(read.items) == 10 and read.items["score"].tolist() == [0.0] * 10
    assert set(read.items["model"]) == {QWEN_MODEL}
    assert read.items["doc_hash"].str.len().eq(64).all()
    assert read.items["item_id"].tolist() == [str(i) for i in range(10)]
    # math_rephrased_full has no samples file: its aggregate 0.0004 loads as a scenario-level result.
    assert read.scenario_scores[["scenario", "score"]].values.tolist() == [["math_rephrased_full", 0.0004]]
    assert any("5000" in note for note in read.notes)  # the trimmed samples file is reported
    assert read.models.loc[0, "params_b"] == pytest.approx(0.09306928)


def test_corpus_level_metric_loads_the_aggregate():
    units = find(GEMMA)
    reads = [lm_eval.read(unit, ReadOptions()) for unit in units]
    # f1 is stored per sample as [gold, [pred]]: no per-item score, so the results files' f1 loads.
    assert all(read.items.empty for read in reads)
    scores = {row.scenario: row.score for read in reads for row in read.scenario_scores.itertuples()}
    assert scores == {"masakhaner_luo_prompt_1": 0.0656270305392884, "masakhaner_luo_prompt_3": 0.035071942446013374}
    assert all(any("f1,flexible-extract" in note and "corpus-level" in note for note in read.notes) for read in reads)


def test_new_layout_with_nested_groups_and_two_filters_per_line_file(tmp_path: Path):
    # The 0.4.2+ shape: group_subtasks nests groups; a samples line per document and filter.
    date = "2024-06-25T10-51-02.111516"
    folder = tmp_path / "EleutherAI__pythia-160m"
    folder.mkdir()
    results = {
        "results": {"suite": {"alias": "suite", "exact_match,strict-match": 0.5},
                    "suite_math": {"alias": " - suite_math", "exact_match,strict-match": 0.5},
                    "gsm8k": {"alias": "  - gsm8k", "exact_match,strict-match": 0.5,
                              "exact_match_stderr,strict-match": "N/A", "exact_match,flexible-extract": 1.0}},
        "group_subtasks": {"suite": ["suite_math"], "suite_math": ["gsm8k"], "gsm8k": []},
        "configs": {"gsm8k": {"task": "gsm8k",
                              "filter_list": [{"name": "strict-match"}, {"name": "flexible-extract"}]}},
        "higher_is_better": {"gsm8k": {"exact_match": True}},
        "n-samples": {"gsm8k": {"original": 2, "effective": 2}},
        "config": {"model": "hf", "model_args": {"pretrained": "EleutherAI/pythia-160m"}},
        "model_name": "EleutherAI/pythia-160m",
    }
    (folder / f"results_{date}.json").write_text(json.dumps(results, indent=2))
    lines = [{"doc_id": doc, "doc_hash": f"h{doc}", "filter": name, "metrics": ["exact_match"], "exact_match": value}
             for name, values in (("strict-match", [1.0, 0.0]), ("flexible-extract", [1.0, 1.0]))
             for doc, value in enumerate(values)]
    (folder / f"samples_gsm8k_{date}.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    [unit] = find(tmp_path)
    read = lm_eval.read(unit, ReadOptions())
    # strict-match (the task's first filter): 1, 0; the groups suite and suite_math are not scenarios.
    assert read.items[["scenario", "item_id", "score", "doc_hash"]].values.tolist() == [
        ["gsm8k", "0", 1.0, "h0"], ["gsm8k", "1", 0.0, "h1"]]
    assert any("suite, suite_math" in note for note in read.notes)
    flexible = lm_eval.read(unit, ReadOptions(metrics={"gsm8k": "exact_match,flexible-extract"}))
    assert flexible.items["score"].tolist() == [1.0, 1.0]


def test_v03_results_without_samples_load_as_scenario_results(tmp_path: Path):
    # The shape lm-eval 0.3 wrote with --output_path: values named without a filter, no samples.
    path = tmp_path / "results.json"
    path.write_text(json.dumps({
        "results": {"hellaswag": {"acc": 0.25, "acc_stderr": 0.01, "acc_norm": 0.3, "acc_norm_stderr": 0.01},
                    "lambada_openai": {"ppl": 12.5, "ppl_stderr": 0.4, "acc": 0.5, "acc_stderr": 0.007}},
        "versions": {"hellaswag": 0, "lambada_openai": 0},
        "config": {"model": "hf-causal", "model_args": "pretrained=EleutherAI/pythia-70m,revision=step3000",
                   "num_fewshot": 0, "batch_size": None, "limit": None}}, indent=1))
    assert find(tmp_path) == [path]
    read = lm_eval.read(path, ReadOptions(metrics={"lambada_openai": "acc"}))
    assert read.items.empty
    assert read.scenario_scores[["model", "scenario", "score", "metric"]].values.tolist() == [
        ["EleutherAI/pythia-70m", "hellaswag", 0.25, "acc"], ["EleutherAI/pythia-70m", "lambada_openai", 0.5, "acc"]]


def test_broken_samples_line_is_one_clear_error(tmp_path: Path):
    folder = tmp_path / "run"
    shutil.copytree(QWEN.parent, folder)
    samples = next(folder.glob("samples_*.jsonl"))
    lines = samples.read_text().splitlines()
    lines[3] = lines[3][:40]
    samples.write_text("\n".join(lines) + "\n")
    with pytest.raises(EffbenchError, match=r"samples_math_perturbed_full_.*\.jsonl: line 4: not valid JSON"):
        lm_eval.read(folder / QWEN.name, ReadOptions())
    broken = tmp_path / "results_2026-01-01T00-00-00.000000.json"
    broken.write_text(json.dumps({"results": [], "versions": {}}))
    with pytest.raises(EffbenchError, match=r"results_2026-01-01T00-00-00\.000000\.json: field 'results'"):
        lm_eval.read(broken, ReadOptions())


def test_cli_ingest_folder(tmp_path: Path):
    db = tmp_path / "lm.duckdb"
    result = CliRunner().invoke(app, ["ingest", str(FIXTURES), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "lm-eval" in result.output
    con = duckdb.connect(str(db), read_only=True)
    try:
        means = dict(con.execute("SELECT model, avg(score) FROM scores GROUP BY model").fetchall())
        sources = con.execute("SELECT format, count(*) FROM sources GROUP BY format").fetchall()
        options = json.loads(con.execute("SELECT options FROM sources WHERE path LIKE '%results.json'").fetchone()[0])
    finally:
        con.close()
    # pythia: 5 of 10 item rows (above); qwen: 10 rows of 0.0 plus the aggregate row 0.0004 -> 0.0004 / 11;
    # gemma: two aggregate rows, f1 0.0656270305392884 and 0.035071942446013374.
    assert means["EleutherAI/pythia-14m"] == pytest.approx(0.5)
    assert means[QWEN_MODEL] == pytest.approx(0.0004 / 11)
    assert means["google/gemma-2b"] == pytest.approx((0.0656270305392884 + 0.035071942446013374) / 2)
    assert sources == [("lm-eval", 4 + 3)]  # and the three runs under current/
    assert options["format_options"]["metrics"]["gsm8k_tiny"] == "exact_match,strict-match"


def test_a_re_run_in_one_folder_keeps_the_latest_run_and_says_so(tmp_path):
    db = tmp_path / "t.duckdb"
    folder = CURRENT / "rerun"
    result = CliRunner().invoke(app, ["ingest", str(folder), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "local/dummy on tiny_qa: kept this run" in result.output and f"set aside {RERUN[0].name}" in result.output
    with duckdb.connect(str(db), read_only=True) as con:
        files = dict(con.execute("select scenario, string_agg(distinct file) from scores group by scenario").fetchall())
        means = dict(con.execute("select scenario, avg(score) from scores group by scenario").fetchall())
    # tiny_qa from the second (latest) run, tiny_choice from the first, which alone has it
    assert set(files) == {"tiny_qa", "tiny_choice"}
    assert RERUN[1].name.removeprefix("results_") in files["tiny_qa"]
    assert RERUN[0].name.removeprefix("results_") in files["tiny_choice"]
    # the harness's own aggregates: exact_match 0.5 (both runs), acc 0.75 (first run)
    for path in RERUN:
        for task, entry in json.loads(path.read_text())["results"].items():
            metric = "exact_match,none" if task == "tiny_qa" else "acc,none"
            assert means[task] == pytest.approx(entry[metric])
    refused = CliRunner().invoke(app, ["ingest", str(folder), "--db", str(tmp_path / "u.duckdb"), "--runs", "error"])
    assert refused.exit_code == 1
    assert "'local/dummy' on 'tiny_qa' is also in" in refused.output and "--runs latest" in refused.output


def test_an_infinite_metric_names_the_samples_file_and_what_loads_instead(tmp_path):
    """tiny_ratio's length_ratio is infinite for document 3 (lm-eval itself reports Infinity)."""
    samples = next(INFINITE.glob("samples_*.jsonl"))
    db = tmp_path / "t.duckdb"
    refused = CliRunner().invoke(app, ["ingest", str(CURRENT / "infinite"), "--db", str(db),
                                       "--metric", "tiny_ratio=length_ratio"])
    assert refused.exit_code == 1
    assert f"{samples.name}: metric 'length_ratio,none' of task 'tiny_ratio' is infinite for 1 document(s) " \
           "(doc_id 3); the task loads without it with --metric tiny_ratio=exact_match,none" in refused.output
    assert not db.exists()
    loaded = CliRunner().invoke(app, ["ingest", str(CURRENT / "infinite"), "--db", str(db)])
    assert loaded.exit_code == 0, loaded.output
    with duckdb.connect(str(db), read_only=True) as con:
        mean = con.execute("select avg(score) from scores").fetchone()[0]
    results = json.loads(next(INFINITE.glob("results_*.json")).read_text())["results"]["tiny_ratio"]
    assert mean == pytest.approx(results["exact_match,none"])


def test_a_folder_of_samples_files_without_results_loads_them_with_a_note(tmp_path):
    """Samples files whose results file is not beside them (copied alone) load per document: the task from
    the file's name, the model from lm-eval's folder name (local__dummy), the first numeric metric."""
    folder = tmp_path / "out" / "local__dummy"
    folder.mkdir(parents=True)
    samples = sorted(RERUN[0].parent.glob(f"samples_*{RERUN[0].stem.removeprefix('results_')}.jsonl"))
    for path in samples:
        shutil.copy(path, folder / path.name)
    assert find(tmp_path) == sorted(folder / path.name for path in samples)
    db = tmp_path / "t.duckdb"
    result = CliRunner().invoke(app, ["ingest", str(tmp_path / "out"), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "no results file beside it" in result.output and "model 'local/dummy'" in result.output
    with duckdb.connect(str(db), read_only=True) as con:
        means = dict(con.execute("select scenario, avg(score) from scores group by scenario").fetchall())
        assert {row[0] for row in con.execute("select distinct model from scores").fetchall()} == {"local/dummy"}
    results = json.loads(RERUN[0].read_text())["results"]
    assert means == pytest.approx({"tiny_qa": results["tiny_qa"]["exact_match,none"],
                                   "tiny_choice": results["tiny_choice"]["acc,none"]})


def test_repeated_aggregate_results_keep_the_latest_and_cannot_be_repeats(tmp_path):
    """Results files copied without their samples hold one aggregate per task: --runs latest keeps the
    later run's; --runs all refuses, since one number per run is no per-item repeat."""
    folder = tmp_path / "local__dummy"
    folder.mkdir()
    for path in RERUN:
        shutil.copy(path, folder / path.name)
    db = tmp_path / "t.duckdb"
    result = CliRunner().invoke(app, ["ingest", str(folder), "--db", str(db)])
    assert result.exit_code == 0, result.output
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("select scenario, file from scores order by scenario").fetchall()
    assert rows == [("tiny_choice", RERUN[0].name), ("tiny_qa", RERUN[1].name)]
    refused = CliRunner().invoke(app, ["ingest", str(folder), "--db", str(tmp_path / "u.duckdb"), "--runs", "all"])
    assert refused.exit_code == 1 and "as one aggregate result, which cannot be a repeat" in refused.output
