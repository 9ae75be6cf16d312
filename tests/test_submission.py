"""The submission check: proposed results are placed, with their intervals and Flash status, in a scratch copy;
the leaderboard's own database is never changed."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from effbench import changes, pipeline, submission
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


def frame(rows):
    return pd.DataFrame(rows, columns=list(changes.LEADERBOARD_COLUMNS))


def test_changes_name_new_removed_and_moved_models_and_new_scenarios():
    nan = float("nan")
    before = frame([("b", "x", 1, 1, 2, 0.9, 0.8, 1.0), ("b", "y", 2, 1, 2, 0.8, 0.7, 0.9),
                    ("b", "gone", 3, 3, 3, 0.1, 0.0, 0.2), ("c", "solo", 1, nan, nan, 0.5, nan, nan)])
    after = frame([("b", "new", 1, 1, 1, 0.99, 0.95, 1.0), ("b", "x", 2, 2, 3, 0.9, 0.8, 1.0),
                   ("b", "y", 3, 2, 3, 0.8, 0.7, 0.9), ("c", "solo", 1, nan, nan, 0.4, nan, nan)])
    scenarios_before = pd.DataFrame({"board": ["b", "c"], "scenario": ["s1", "s2"]})
    scenarios_after = pd.DataFrame({"board": ["b", "c", "b"], "scenario": ["s1", "s2", "s3"]})
    found = changes.leaderboard_changes(before, after, scenarios_before, scenarios_after)
    assert [e.model for e in found.new_models] == ["new"] and found.new_models[0].place.rank_text == "1 (1–1)"
    assert [e.model for e in found.removed_models] == ["gone"]
    assert [(m.model, m.before.rank_text, m.after.rank_text) for m in found.moved] == [
        ("x", "1 (1–2)", "2 (2–3)"), ("y", "2 (1–2)", "3 (2–3)")]  # solo's score moved, its rank did not
    assert found.new_scenarios == (("b", "s3"),) and found.removed_scenarios == ()
    assert not found.empty and changes.leaderboard_changes(before, before, scenarios_before, scenarios_before).empty


def test_each_build_that_changes_the_board_is_recorded_once_and_told_newest_first(tmp_path, monkeypatch):
    import datetime as dt

    from effbench import history, store

    first = write_csv(tmp_path / "a.csv", long_rows({m: {"qa": scores(p, 60, i)} for i, (m, p) in
                                                     enumerate([("x", 0.8), ("y", 0.4)])}))
    db = tmp_path / "e.duckdb"
    pipeline.update(db, pipeline.result_sources([first]), all_analyses=False)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    with store.open_store(db) as con:
        assert history.record(con) and not history.record(con)  # the same leaderboard is recorded once
    pipeline.update(db, pipeline.result_sources([write_csv(tmp_path / "b.csv", long_rows(
        {"z": {"qa": scores(0.95, 60, 5)}}))]), all_analyses=False)
    with store.open_store(db) as con:
        assert history.record(con)  # the same SOURCE_DATE_EPOCH: moved just after the snapshot before
        (board,) = store.stored_boards(con)
        latest, first_update = history.timeline(con, board.name)
    epoch = dt.datetime.fromtimestamp(1700000000, dt.UTC)
    assert first_update.at == epoch and latest.at == epoch + dt.timedelta(seconds=1)
    assert [e.model for e in first_update.changes.new_models] == ["x", "y"]
    assert [e.model for e in latest.changes.new_models] == ["z"]
    assert [(m.model, m.before.rank, m.after.rank) for m in latest.changes.moved] == [("x", 1, 2), ("y", 2, 3)]
