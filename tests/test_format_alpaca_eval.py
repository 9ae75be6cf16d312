"""The AlpacaEval adapter: AlpacaEval 1.0's judgements of alpaca-7b reproduce its published win rate."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from effbench.cli import app
from effbench.errors import EffbenchError
from effbench.formats import ReadOptions, alpaca_eval, list_files

FIXTURES = Path(__file__).parent / "data" / "formats" / "alpaca_eval"
ANNOTATIONS = FIXTURES / "alpaca-7b" / "alpaca_eval_gpt4" / "annotations.json"
OTHER_FIXTURES = [p for p in (FIXTURES.parent.iterdir() if FIXTURES.parent.is_dir() else [])
                  if p.name != "alpaca_eval"]


def find(root: Path) -> list[Path]:
    return alpaca_eval.find(root, list_files(root))


def record(instruction: str, preference, model: str = "my-model", **extra) -> dict:
    return {"instruction": instruction, "output_1": "base", "generator_1": "gpt4_1106_preview", "dataset": "oasst",
            "output_2": "mine", "generator_2": model, "annotator": "weighted_alpaca_eval_gpt4_turbo",
            "preference": preference, **extra}


def test_find_from_the_unit_folder_and_parents():
    assert find(ANNOTATIONS.parent) == [ANNOTATIONS]
    assert find(ANNOTATIONS) == [ANNOTATIONS]
    assert find(FIXTURES.parent) == [ANNOTATIONS]


@pytest.mark.parametrize("folder", OTHER_FIXTURES,
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_find_claims_no_other_format(folder: Path):
    assert find(folder) == []


def test_reproduces_the_published_win_rate_of_alpaca_7b():
    read = alpaca_eval.read(ANNOTATIONS, ReadOptions())
    # The file holds 805 judgements: preference 2 (alpaca-7b wins) 205 times, 1 (the baseline wins) 584
    # times and 0 (AlpacaEval's old code for a draw) 16 times. AlpacaEval's win rate counts a draw as
    # half a win: (205 + 16 / 2) / 805 = 26.459...%, published as 26.46 on the AlpacaEval 1.0 board.
    assert len(read.items) == 805 and read.items["item_id"].nunique() == 805
    assert (read.items["score"] == 1).sum() == 205
    assert (read.items["score"] == 0).sum() == 584
    assert (read.items["score"] == 0.5).sum() == 16
    assert read.items["score"].mean() == pytest.approx((205 + 16 / 2) / 805)
    assert round(100 * read.items["score"].mean(), 2) == 26.46
    assert set(read.items["model"]) == {"alpaca-7b"}
    assert set(read.items["scenario"]) == {"alpaca_eval"}
    assert read.options["baseline"] == ["text_davinci_003"]
    assert any("text_davinci_003" in note and "not ranked" in note for note in read.notes)
    assert set(read.items["dataset"]) == {"helpful_base", "koala", "oasst", "selfinstruct", "vicuna"}


def test_continuous_preferences_and_missing_judgements(tmp_path: Path):
    path = tmp_path / "annotations.json"
    path.write_text(json.dumps([record("a", 1.9), record("b", 1.25), record("c", None), record("d", 1.5),
                                record("e", 0), record("f", 2.0)]))
    read = alpaca_eval.read(path, ReadOptions())
    # preference - 1: 0.9, 0.25, missing, 0.5, 0.5 (0 is a draw), 1.0 -> mean over the five judged 3.15 / 5.
    scores = read.items["score"].tolist()
    assert scores[:2] == pytest.approx([0.9, 0.25]) and scores[3:] == [0.5, 0.5, 1.0]
    assert read.items["score"].isna().tolist() == [False, False, True, False, False, False]
    assert read.items["score"].mean() == pytest.approx(3.15 / 5)
    assert any("1 instruction(s) without a preference" in note for note in read.notes)


def test_item_id_is_stable_and_an_own_id_wins(tmp_path: Path):
    first, second = tmp_path / "one.json", tmp_path / "two.json"
    first.write_text(json.dumps([record("same question", 2, model="x")]))
    second.write_text(json.dumps([record("same question", 1, model="y"), record("other", 1, model="y", id=17)]))
    one = alpaca_eval.read(first, ReadOptions()).items
    two = alpaca_eval.read(second, ReadOptions()).items
    assert one["item_id"][0] == two["item_id"][0]  # the same instruction is the same item for every model
    assert two["item_id"][1] == "17"


def test_broken_files_give_one_clear_error(tmp_path: Path):
    path = tmp_path / "annotations.json"
    path.write_text(json.dumps([record("a", 2), {"instruction": "b", "output_1": "x", "generator_1": "base",
                                                 "output_2": "y", "preference": 1}]))
    with pytest.raises(EffbenchError, match=r"annotations\.json: annotation 2: no field 'generator_2'"):
        alpaca_eval.read(path, ReadOptions())
    path.write_text(json.dumps([record("a", "B")]))
    with pytest.raises(EffbenchError, match=r"annotations\.json: annotation 1: field 'preference' is a string \('B'\)"):
        alpaca_eval.read(path, ReadOptions())
    path.write_text(json.dumps([record("a", 2)])[:-20])
    with pytest.raises(EffbenchError, match=r"annotations\.json: not valid JSON"):
        alpaca_eval.read(path, ReadOptions())


def test_cli_ingest_folder(tmp_path: Path):
    db = tmp_path / "ae.duckdb"
    result = CliRunner().invoke(app, ["ingest", str(FIXTURES), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "alpaca-eval" in result.output and "text_davinci_003" in result.output
    con = duckdb.connect(str(db), read_only=True)
    try:
        means = con.execute("SELECT model, avg(score) FROM scores GROUP BY model").fetchall()
        board = con.execute("SELECT model, score FROM leaderboard").fetchall()
        sources = con.execute("SELECT format, rows FROM sources").fetchall()
    finally:
        con.close()
    # (205 + 16 / 2) / 805, as above; the baseline has no rows and is not on the board.
    assert means == [("alpaca-7b", pytest.approx(213 / 805))]
    assert [(m, round(100 * s, 2)) for m, s in board] == [("alpaca-7b", 26.46)]
    assert sources == [("alpaca-eval", 805)]
