"""The lighteval adapter on a real output and on lighteval's nested layout (written from its code)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from effbench.cli import app
from effbench.errors import EffbenchError
from effbench.formats import ReadOptions, lighteval, list_files

FIXTURES = Path(__file__).parent / "data" / "formats" / "lighteval"
SMOKE = FIXTURES / "smoke" / "results" / "results_2026-08-10T17-22-11.385681.json"
NESTED = FIXTURES / "nested"
SMOL = NESTED / "results" / "HuggingFaceTB" / "SmolLM2-135M" / "results_2025-05-01T10-00-00.123456.json"
GPT2 = NESTED / "results" / "openai-community" / "gpt2" / "results_2024-03-01T09-00-00.654321.json"
OTHER_FIXTURES = [p for p in (FIXTURES.parent.iterdir() if FIXTURES.parent.is_dir() else []) if p.name != "lighteval"]


def find(root: Path) -> list[Path]:
    return lighteval.find(root, list_files(root))


def test_find_from_the_unit_folder_and_parents():
    assert find(SMOKE.parent.parent) == [SMOKE]
    assert find(SMOKE) == [SMOKE]
    # The copy of the results file lighteval keeps in details/<model>/ is not a second unit.
    assert find(NESTED) == [SMOL, GPT2]
    assert find(FIXTURES) == [SMOL, GPT2, SMOKE]
    assert find(FIXTURES.parent) == [SMOL, GPT2, SMOKE]


@pytest.mark.parametrize("folder", OTHER_FIXTURES,
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_find_claims_no_other_format(folder: Path):
    assert find(folder) == []


def test_real_sample():
    read = lighteval.read(SMOKE, ReadOptions())
    # Two documents per task, every score 0 (a dummy model): anli:r1 acc 0, 0; squad_v2 em 0, 0.
    assert set(read.items["model"]) == {"eee-smoke/dummy-model"}
    assert read.items.groupby("scenario")["score"].agg(["sum", "count"]).to_dict("index") == {
        "anli:r1": {"sum": 0.0, "count": 2}, "squad_v2": {"sum": 0.0, "count": 2}}
    assert sorted(read.items["item_id"]) == ["3506", "507", "5230", "776"]  # doc.id
    assert read.options["metrics"] == {"squad_v2|0": "em", "anli:r1|0": "acc"}
    assert len(read.files) == 3
    assert any("skipped all" in note for note in read.notes)


def test_new_columns_by_hand():
    read = lighteval.read(SMOL, ReadOptions())
    # arc:easy|0 acc 1, 0, 1, 1 (3 of 4); gsm8k|5 extractive_match 0, 1, 0 (1 of 3); ifeval|0 has no details
    # file, so its aggregate prompt_level_strict_acc 0.4 loads as a scenario-level result.
    means = read.items.groupby("scenario")["score"].mean().to_dict()
    assert means == {"arc:easy": 0.75, "gsm8k": 1 / 3}
    assert read.items.groupby("scenario")["fewshot"].first().to_dict() == {"arc:easy": 0, "gsm8k": 5}
    assert read.scenario_scores[["scenario", "score", "metric"]].values.tolist() == [
        ["ifeval", 0.4, "prompt_level_strict_acc"]]
    assert dict(zip(read.scenarios["scenario"], read.scenarios["metric"], strict=True)) == {
        "arc:easy": "acc", "gsm8k": "extractive_match", "ifeval": "prompt_level_strict_acc"}
    assert any("'ifeval|0' has no details file" in note for note in read.notes)


def test_old_columns_by_hand():
    read = lighteval.read(GPT2, ReadOptions())
    # lighteval|mmlu:anatomy|5 metrics.acc 0, 1, 0, 0, 1 (2 of 5); the _average entry and "all" are skipped.
    assert set(read.items["scenario"]) == {"mmlu:anatomy"}
    assert read.items["score"].tolist() == [0.0, 1.0, 0.0, 0.0, 1.0]
    assert read.items["item_id"].nunique() == 5  # hashes of the documents' queries
    assert any("mmlu:_average" in note for note in read.notes)
    assert read.models.loc[0, "model_sha"] == "607a30d7"


def _run_with_details(tmp_path: Path, task: str, select: str) -> Path:
    """Copy the real results file into a fresh output folder with one details file made by `select`."""
    date = "2026-08-10T17-22-11.385681"
    (tmp_path / "results").mkdir()
    (tmp_path / "details").mkdir()
    data = json.loads(SMOKE.read_text())
    data["results"] = {task: {"acc": 0.5}}
    (tmp_path / "results" / SMOKE.name).write_text(json.dumps(data))
    target = tmp_path / "details" / f"details_{task}_{date}.parquet"
    with duckdb.connect() as con:
        con.execute(f"COPY ({select}) TO '{target}' (FORMAT parquet)")
    return tmp_path / "results" / SMOKE.name


def test_metrics_written_as_text(tmp_path: Path):
    # lighteval falls back to writing every column as text; the metrics are then a dict's repr.
    unit = _run_with_details(tmp_path, "lighteval|piqa|0", "SELECT * FROM (VALUES ('Q1', '{''acc'': 1.0}'), "
                             "('Q2', '{''acc'': 0.0}'), ('Q3', '{''acc'': 1}')) AS t(example, metrics)")
    read = lighteval.read(unit, ReadOptions())
    assert read.items["score"].tolist() == [1.0, 0.0, 1.0]  # 2 of 3


def test_repeated_documents_become_a_key(tmp_path: Path):
    # Two few-shot seeds: each document twice; doc 0 scores 1 then 0, doc 1 scores 1 and 1.
    unit = _run_with_details(tmp_path, "anli:r1|0", "SELECT {'id': id} AS doc, {'acc': acc} AS metric FROM "
                             "(VALUES ('0', 1), ('1', 1), ('0', 0), ('1', 1)) AS t(id, acc)")
    read = lighteval.read(unit, ReadOptions())
    assert read.keys == ("fewshot_seed",)
    assert read.items[["item_id", "fewshot_seed", "score"]].values.tolist() == [
        ["0", 0, 1.0], ["1", 0, 1.0], ["0", 1, 0.0], ["1", 1, 1.0]]


def test_blank_document_ids_fall_back_to_the_query(tmp_path: Path):
    unit = _run_with_details(tmp_path, "anli:r1|0", "SELECT {'id': '', 'query': q} AS doc, {'acc': acc} AS metric "
                             "FROM (VALUES ('first?', 1), ('second?', 0)) AS t(q, acc)")
    items = lighteval.read(unit, ReadOptions()).items
    assert items["item_id"].nunique() == 2 and items["score"].tolist() == [1.0, 0.0]
    assert "fewshot_seed" not in items


def test_metric_option():
    read = lighteval.read(SMOL, ReadOptions(metrics={"arc:easy": "acc_norm"}))
    # acc_norm 1, 1, 1, 0 (3 of 4)
    assert read.items[read.items["scenario"] == "arc:easy"]["score"].tolist() == [1.0, 1.0, 1.0, 0.0]
    with pytest.raises(EffbenchError, match="no metric 'bleu'"):
        lighteval.read(SMOL, ReadOptions(metrics={"arc:easy": "bleu"}))


def test_broken_files_give_one_clear_error(tmp_path: Path):
    folder = tmp_path / "out"
    shutil.copytree(SMOKE.parent.parent, folder)
    details = next((folder / "details").glob("details_anli*"))
    details.write_bytes(b"PAR1 not really parquet")
    with pytest.raises(EffbenchError, match=r"details_anli:r1\|0_.*\.parquet: not a readable Parquet file"):
        lighteval.read(folder / "results" / SMOKE.name, ReadOptions())
    data = json.loads(SMOKE.read_text())
    del data["config_general"]["model_config"], data["config_general"]["model_name"]
    (folder / "results" / SMOKE.name).write_text(json.dumps(data))
    with pytest.raises(EffbenchError, match=r"results_2026.*\.json: field 'config_general.model_config.model_name'"):
        lighteval.read(folder / "results" / SMOKE.name, ReadOptions())


def test_cli_ingest_folder(tmp_path: Path):
    db = tmp_path / "le.duckdb"
    result = CliRunner().invoke(app, ["ingest", str(FIXTURES), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "lighteval" in result.output
    con = duckdb.connect(str(db), read_only=True)
    try:
        means = dict(con.execute("SELECT model, avg(score) FROM scores GROUP BY model").fetchall())
        sources = con.execute("SELECT format, count(*) FROM sources GROUP BY format").fetchall()
    finally:
        con.close()
    # SmolLM2: 3 of 4 + 1 of 3 item rows and the aggregate row 0.4 -> (3 + 1 + 0.4) / 8; gpt2: 2 of 5;
    # the dummy model: 0 of 4.
    assert means == pytest.approx({"HuggingFaceTB/SmolLM2-135M": 4.4 / 8, "openai-community/gpt2": 0.4,
                                   "eee-smoke/dummy-model": 0.0})
    assert sources == [("lighteval", 3)]


def test_a_details_file_named_like_a_glob_is_read_as_that_one_file(tmp_path: Path):
    """DuckDB reads ``[1]`` in a path as a pattern matching ``1``: a task named ``anli:r[1]|0`` has its
    details read from the file of that name, not from a file ``anli:r1|0`` beside it."""
    folder = tmp_path / "out"
    shutil.copytree(SMOKE.parent.parent, folder)
    results = folder / "results" / SMOKE.name
    results.write_text(results.read_text().replace('"anli:r1|0"', '"anli:r[1]|0"'))
    anli = next((folder / "details").glob("details_anli*"))
    squad = next((folder / "details").glob("details_squad*"))
    rows = duckdb.execute("SELECT count(*) FROM read_parquet(?)", [str(anli)]).fetchone()[0]
    anli.rename(anli.with_name(anli.name.replace("anli:r1|0", "anli:r[1]|0")))
    shutil.copyfile(squad, anli)  # what the name read as a pattern would find instead
    read = lighteval.read(results, ReadOptions())
    items = read.items[read.items["scenario"] == "anli:r[1]"]
    assert len(items) == rows > 0 and set(items["metric"]) == {"acc"}
