"""The HELM adapter: suites and run folders, main metrics and fallbacks, keys, and HELM's published figures."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from effbench.cli import app
from effbench.errors import EffbenchError
from effbench.formats import ReadOptions, discover, helm, list_files, shapes

DATA = Path(__file__).parent / "data" / "formats" / "helm"
SUITE = DATA / "runs" / "v4"
SYNTHETIC = DATA / "synthetic" / "runs" / "v0.2.2"
SHARED = Path(__file__).parent / "data" / "formats"  # every harness's fixtures, this one's among them
BBQ = "bbq:subject=all,method=multiple_choice_joint"
CLAUDE, GPT4O = "anthropic/claude-3-5-sonnet-20240620", "openai/gpt-4o-2024-05-13"
MMLU = "mmlu:subject=anatomy,method=multiple_choice_joint,data_augmentation=canonical"


def _find(root: Path) -> list[Path]:
    return helm.find(root, list_files(root))


def test_find_takes_the_suite_from_itself_or_a_parent_and_the_run_folder_alone() -> None:
    assert _find(SUITE) == [SUITE]
    assert _find(DATA / "runs") == [SUITE]
    assert _find(DATA) == [SUITE, SYNTHETIC]
    run = SUITE / f"{BBQ},model=openai_gpt-4o-2024-05-13"
    assert _find(run) == [run]
    assert _find(run / "per_instance_stats.json") == [run]
    assert _find(SUITE / "schema.json") == [] and _find(SUITE / "groups") == []


def test_find_claims_no_other_harness_output() -> None:
    for folder in sorted(SHARED.iterdir()):
        if folder.is_dir() and folder.name != "helm":
            assert _find(folder) == [], folder


def test_bbq_reproduces_helms_published_group_table() -> None:
    read = helm.read(SUITE, ReadOptions())
    means = read.items.groupby("model")["score"].mean().to_dict()
    # Counted in per_instance_stats.json: exact_match is 1 for 93 of Claude's 100 instances and 95 of GPT-4o's.
    assert means == pytest.approx({CLAUDE: 93 / 100, GPT4O: 95 / 100})
    # HELM's own BBQ table (groups/bbq.json): the row whose run is each model's run, column "BBQ accuracy".
    table = json.loads((SUITE / "groups" / "bbq.json").read_text())[0]
    column = [h["value"] for h in table["header"]].index("BBQ accuracy")
    published = {row[0]["run_spec_names"][0]: row[column]["value"] for row in table["rows"]}
    assert published[f"{BBQ},model=anthropic_claude-3-5-sonnet-20240620"] == 0.93
    assert published[f"{BBQ},model=openai_gpt-4o-2024-05-13"] == 0.95
    for run, value in published.items():
        if run in set(read.items["run"]):
            assert means[read.items.loc[read.items["run"] == run, "model"].iloc[0]] == pytest.approx(value)


def test_the_main_metric_falls_back_to_a_per_instance_metric_and_says_so() -> None:
    read = helm.read(SUITE, ReadOptions())
    assert set(read.items["scenario"]) == {BBQ}
    assert set(read.items["metric"]) == {"exact_match"} and read.keys == ()
    assert read.items["item_id"].nunique() == 100 and len(read.items) == 200
    scenario = read.scenarios.set_index("scenario").loc[BBQ]
    assert (scenario["metric"], scenario["tags"], scenario["higher_is_better"]) == ("exact_match", "bbq", True)
    assert any("bbq_accuracy is not recorded per instance; took exact_match" in note
               and "equals the aggregate bbq_accuracy in 2 of 2 runs" in note for note in read.notes)
    assert read.options["schema"] == "schema.json" and read.runs == 2
    models = read.models.set_index("model")
    assert models.loc[CLAUDE, "display_name"] == "Claude 3.5 Sonnet (20240620)"
    assert models.loc[GPT4O, "organization"] == "OpenAI" and models.loc[GPT4O, "release_date"] == "2024-04-09"
    chosen = helm.read(SUITE, ReadOptions(metrics={"bbq": "quasi_exact_match"}))
    assert set(chosen.items["metric"]) == {"quasi_exact_match"} and not any("fallback" in n for n in chosen.notes)
    with pytest.raises(EffbenchError, match="metric 'rouge_l' is not recorded per instance in scenario 'bbq:"):
        helm.read(SUITE, ReadOptions(metrics={"*": "rouge_l"}))


def test_a_release_schema_describes_its_suites(tmp_path: Path) -> None:
    output = tmp_path / "benchmark_output"
    shutil.copytree(SUITE, output / "runs" / "v4", ignore=shutil.ignore_patterns("schema.json"))
    release = output / "releases" / "v1.0.0"
    release.mkdir(parents=True)
    shutil.copy(SUITE / "schema.json", release / "schema.json")
    (release / "summary.json").write_text(json.dumps({"release": "v1.0.0", "suites": ["v4"], "date": "2024-07-19"}))
    assert _find(output) == [output / "runs" / "v4"]
    read = helm.read(output / "runs" / "v4", ReadOptions())
    assert read.options["schema"] == "../../releases/v1.0.0/schema.json"
    assert any("main metric bbq_accuracy" in note for note in read.notes)
    assert set(read.models["model"]) == {CLAUDE, GPT4O}


def test_run_names_lose_the_models_own_arguments() -> None:
    cases = {
        f"{BBQ},model=openai_gpt-4o-2024-05-13": (BBQ, ("model=openai_gpt-4o-2024-05-13",)),
        "mmlu:subject=anatomy,method=multiple_choice_joint,model=together_bloom,data_augmentation=canonical,stop=hash":
            (MMLU, ("model=together_bloom", "stop=hash")),
        "natural_qa:mode=closedbook,model=meta_llama-3-8b,model_deployment=together_llama-3-8b,stop=semicolon":
            ("natural_qa:mode=closedbook,stop=semicolon", ("model=meta_llama-3-8b",
                                                          "model_deployment=together_llama-3-8b")),
        "raft:subset=ade_corpus_v2,model=ai21_j1-jumbo,global_prefix=nlg":
            ("raft:subset=ade_corpus_v2", ("model=ai21_j1-jumbo", "global_prefix=nlg")),
        "wikifact:k=5,subject=plaintiff,model=openai_davinci": ("wikifact:k=5,subject=plaintiff",
                                                               ("model=openai_davinci",)),
        "instructions:text=a,b,model=x": ("instructions:text=a,b", ("model=x",)),
        "narrative_qa:model=openai_davinci": ("narrative_qa", ("model=openai_davinci",)),
        "plain_name": ("plain_name", ()),
    }
    for run, expected in cases.items():
        assert helm.scenario_name(run) == expected, run


def test_train_trials_are_a_key_and_perturbed_and_valid_instances_are_left_out_by_default() -> None:
    read = helm.read(SYNTHETIC, ReadOptions())
    items = read.items
    assert read.keys == ("train_trial_index",) and "perturbation" not in items
    # Both runs meet in one scenario although one name carries stop=hash (make_suite.py).
    assert set(items["scenario"]) == {MMLU}
    assert set(items["item_id"]) == {"id1", "id2", "id3"}  # id0 is in the valid split
    item_means = items.groupby(["model", "item_id"])["score"].mean()
    scenario_means = item_means.groupby("model").mean().to_dict()
    # make_suite.py: davinci's trials give id1 1,1  id2 0,1  id3 0,0 -> items 1, 0.5, 0 -> 0.5;
    # bloom's give id1 1,0  id2 1,1  id3 1,0 -> items 0.5, 1, 0.5 -> 2/3.
    assert scenario_means == pytest.approx({"openai/davinci": 0.5, "together/bloom": 2 / 3})
    assert any("no schema.json found" in note and "schema_classic.yaml" in note for note in read.notes)
    assert any("left out 6 rows of perturbed instances" in note for note in read.notes)
    # A run from before per_instance_stats.json: its aggregate of BoolQ's main metric in HELM Classic
    # (quasi_exact_match on the valid split) is a scenario-level result.
    assert read.scenario_scores[["model", "scenario", "score", "metric"]].values.tolist() == [
        ["openai/davinci", "boolq", 0.625, "quasi_exact_match"]]


def test_perturbations_can_be_kept_as_key_values() -> None:
    read = helm.read(SYNTHETIC, ReadOptions(perturbations=True))
    assert read.keys == ("train_trial_index", "perturbation")
    davinci = read.items[read.items["model"] == "openai/davinci"]
    assert set(davinci["perturbation"]) == {"none", "typos(prob=0.05)"}
    # Each davinci item adds two perturbed rows scored 0: id1 (1+1+0+0)/4, id2 (0+1+0+0)/4, id3 0 -> 0.25.
    assert davinci.groupby("item_id")["score"].mean().mean() == pytest.approx(0.25)


def test_the_json_list_is_streamed_in_chunks() -> None:
    path = next(SYNTHETIC.glob("mmlu*davinci*")) / "per_instance_stats.json"
    assert list(shapes.iter_json_array(path, chunk_size=7)) == json.loads(path.read_text())


def _copy_synthetic(tmp_path: Path) -> Path:
    suite = tmp_path / "v0.2.2"
    shutil.copytree(SYNTHETIC, suite)
    return suite


def test_a_broken_file_is_one_error_naming_it(tmp_path: Path) -> None:
    suite = _copy_synthetic(tmp_path)
    run = next(suite.glob("mmlu*bloom*"))
    stats = run / "per_instance_stats.json"
    stats.write_text(stats.read_text()[:-200])
    with pytest.raises(EffbenchError, match=r"per_instance_stats\.json: entry \d+: not valid JSON"):
        helm.read(suite, ReadOptions())
    suite = _copy_synthetic(tmp_path / "again")
    spec = next(suite.glob("mmlu*davinci*")) / "run_spec.json"
    broken = json.loads(spec.read_text())
    del broken["adapter_spec"]["model"]
    spec.write_text(json.dumps(broken))
    with pytest.raises(EffbenchError, match=r"run_spec\.json: adapter_spec: no field 'model'"):
        helm.read(suite, ReadOptions())


def test_ingest_loads_a_suite_with_its_models_and_records_the_source(tmp_path: Path) -> None:
    db = tmp_path / "e.duckdb"
    result = CliRunner().invoke(app, ["ingest", str(SUITE), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "helm: 1 unit(s), 2 run(s), 2 model(s), 1 scenario(s), 200 item rows" in result.output
    assert "took exact_match" in result.output
    assert [unit.format for unit in discover([SUITE])] == ["helm"]
    with duckdb.connect(str(db), read_only=True) as con:
        means = dict(con.execute("SELECT model, avg(score) FROM scores GROUP BY model").fetchall())
        # 93 of 100 and 95 of 100 instances right (see test_bbq_reproduces_helms_published_group_table).
        assert means == pytest.approx({CLAUDE: 0.93, GPT4O: 0.95})
        source = con.execute("SELECT path, format, rows, CAST(options AS VARCHAR) FROM sources").fetchone()
        assert source[:3] == (str(SUITE), "helm", 200)
        assert json.loads(source[3])["format_options"]["schema"] == "schema.json"
        assert con.execute("SELECT display_name FROM models WHERE model = ?", [CLAUDE]).fetchone() == (
            "Claude 3.5 Sonnet (20240620)",)
        assert _provenance(con, "metric") == {"exact_match"}
        assert _provenance(con, "run") == {f"{BBQ},model=anthropic_claude-3-5-sonnet-20240620",
                                           f"{BBQ},model=openai_gpt-4o-2024-05-13"}


def _provenance(con: duckdb.DuckDBPyConnection, name: str) -> set[str]:
    """Return the distinct values of a provenance column, kept in `scores` or in its JSON column `extra`."""
    columns = {row[0] for row in con.execute("SELECT column_name FROM (DESCRIBE scores)").fetchall()}
    expression = name if name in columns else f"extra->>'{name}'"
    return {row[0] for row in con.execute(f"SELECT DISTINCT {expression} FROM scores").fetchall()}


def test_a_run_folder_alone_uses_its_suites_schema_or_helm_classics_main_metric(tmp_path: Path) -> None:
    run = SUITE / f"{BBQ},model=openai_gpt-4o-2024-05-13"
    read = helm.read(run, ReadOptions())
    assert read.options["schema"] == "../schema.json" and set(read.items["model"]) == {GPT4O}
    # A Classic-era run without any schema.json: NarrativeQA's main metric there is f1_score, not exact_match.
    folder = tmp_path / "narrative_qa:model=openai_davinci"
    folder.mkdir()
    (folder / "run_spec.json").write_text(json.dumps({"name": folder.name, "groups": ["narrative_qa"],
                                                      "adapter_spec": {"model": "openai/davinci"}}))
    stats = [[{"name": {"name": "exact_match", "split": "test"}, "count": 1, "sum": e, "mean": e},
              {"name": {"name": "f1_score", "split": "test"}, "count": 1, "sum": f, "mean": f}]
             for e, f in ((0, 0.5), (1, 1.0), (0, 0.25))]
    (folder / "per_instance_stats.json").write_text(json.dumps(
        [{"instance_id": f"id{i}", "train_trial_index": 0, "stats": s} for i, s in enumerate(stats)]))
    assert _find(folder) == [folder]
    read = helm.read(folder, ReadOptions())
    assert set(read.items["metric"]) == {"f1_score"} and read.items["scenario"].iloc[0] == "narrative_qa"
    assert read.items["score"].mean() == pytest.approx((0.5 + 1.0 + 0.25) / 3)
