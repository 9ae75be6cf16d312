"""The submission check: proposed results are placed, with their intervals and Flash status, in a scratch copy;
the leaderboard's own database is never changed."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from effbench import pipeline, submission
from effbench.errors import EffbenchError

from conftest import long_rows, write_csv


def scores(p: float, n: int, seed: int) -> list[float]:
    return (np.random.default_rng(seed).random(n) < p).astype(float).tolist()


@pytest.fixture(scope="module")
def board(tmp_path_factory):
    """A database of four models on two scenarios of 200 items, and the folder it was built in."""
    folder = tmp_path_factory.mktemp("board")
    results = {f"m{i}": {"qa": scores(p, 200, i), "math": scores(p - 0.1, 200, 10 + i)}
               for i, p in enumerate([0.8, 0.65, 0.5, 0.35])}
    path = write_csv(folder / "results.csv", long_rows(results))
    db = folder / "effbench.duckdb"
    pipeline.update(db, pipeline.result_sources([path]), all_analyses=False)
    return folder, db


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_new_model_is_placed_with_its_interval_and_flash_status_and_the_database_is_untouched(board, tmp_path):
    folder, db = board
    before = digest(db)
    new = write_csv(tmp_path / "new.csv", long_rows({"newcomer": {"qa": scores(0.72, 200, 99),
                                                                  "math": scores(0.62, 200, 98)}}))
    result = submission.check(db, pipeline.result_sources([folder / "results.csv", new]))
    assert digest(db) == before
    (placed,) = result.submitted
    assert placed.model == "newcomer" and placed.new
    assert 1 <= placed.place.rank_lo <= placed.place.rank <= placed.place.rank_hi <= 5
    assert placed.place.score_lo < placed.place.score < placed.place.score_hi
    assert placed.flash is not None and placed.flash.items_evaluated == 400
    # The base file was loaded before: skipped by its content, only the new file is reported as loaded.
    assert [r.already_loaded for r in result.loads] == [True, False]
    assert [e.model for e in result.changes.new_models] == ["newcomer"]
    # The models it overtook moved down: each moved model's rank grew by one or its interval changed.
    assert all(m.after.rank >= m.before.rank for m in result.changes.moved)
    summary = submission.summary_markdown(result)
    assert "| newcomer (new) |" in summary and placed.place.rank_text in summary
    assert "resolved with 400 items" in summary or "more items" in summary
    assert "New on " in summary and "newcomer at rank" in summary


def test_a_model_with_few_items_is_told_what_flash_still_needs(board, tmp_path):
    folder, db = board
    # The model ran the first stage Flash planned for it (10 items per scenario), as the workflow asks.
    _, items = pipeline.flash_plan(db, "quick", pipeline.DEFAULT_FLASH, new=True)
    rng = np.random.default_rng(7)
    rows = [{"model": "quick", "scenario": i.scenario, "item_id": i.item_id, "score": float(rng.random() < 0.5)}
            for i in items]
    result = submission.check(db, pipeline.result_sources([write_csv(tmp_path / "quick.csv", rows)]))
    (placed,) = result.submitted
    assert placed.flash is not None and not placed.flash.resolution_met and placed.flash.next_items > 0
    assert f"{placed.flash.next_items:,} more items" in submission.summary_markdown(result)


def test_a_bad_file_is_one_line_and_leaves_the_database_as_it_was(board, tmp_path):
    folder, db = board
    before = digest(db)
    bad = tmp_path / "bad.csv"
    bad.write_text("model,scenario,item_id,score\nx,qa,qa-0,not-a-number\n", encoding="utf-8")
    with pytest.raises(EffbenchError) as error:
        submission.check(db, pipeline.result_sources([bad]))
    assert "\n" not in str(error.value) and "bad.csv" in str(error.value)
    assert digest(db) == before


def test_nothing_new_says_so(board):
    folder, db = board
    result = submission.check(db, pipeline.result_sources([folder / "results.csv"]))
    assert result.submitted == () and result.changes.empty
    text = submission.summary_markdown(result)
    assert "already loaded" in text and "Nothing: ranks and intervals stay as they are." in text


def test_names_cannot_inject_markdown(board, tmp_path):
    folder, db = board
    name = "evil | [link](http://x) <b>"
    rows = long_rows({name: {"qa": scores(0.5, 200, 3), "math": scores(0.4, 200, 4)}})
    text = submission.summary_markdown(submission.check(db, pipeline.result_sources(
        [write_csv(tmp_path / "evil.csv", rows)])))
    assert name not in text and "[link](" not in text and "<b>" not in text
