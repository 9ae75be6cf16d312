"""What changed between leaderboards: the rule (`effbench.changes`), the recorded history of builds
(`effbench.history`) and the changes page's lines and Atom feed (`effbench.render.changes`)."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd

from effbench import changes, history, pipeline, store
from effbench.analysis_tables import AnalysisParameters, DiorParameters
from effbench.render.changes import atom_feed, update_views
from effbench.render.values import Link

from conftest import long_rows, write_csv


def scores(p: float, n: int, seed: int) -> list[float]:
    return (np.random.default_rng(seed).random(n) < p).astype(float).tolist()


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


def updates() -> tuple[history.Update, ...]:
    nan = float("nan")
    first = changes.leaderboard_changes(
        frame([]), frame([("b", "x", 1, 1, 2, 0.9, 0.8, 1.0), ("b", "y", 2, 1, 2, 0.8, 0.7, 0.9)]),
        pd.DataFrame(columns=["board", "scenario"]), pd.DataFrame({"board": ["b"], "scenario": ["s1"]}))
    second = changes.leaderboard_changes(
        frame([("b", "x", 1, 1, 2, 0.9, 0.8, 1.0), ("b", "y", 2, 1, 2, 0.8, 0.7, 0.9)]),
        frame([("b", "<new & bold>", 1, 1, 1, 0.99, nan, nan), ("b", "x", 2, 2, 3, 0.9, 0.8, 1.0),
               ("b", "y", 3, 2, 3, 0.8, 0.7, 0.9)]),
        pd.DataFrame({"board": ["b"], "scenario": ["s1"]}),
        pd.DataFrame({"board": ["b"] * 2, "scenario": ["s1", "s2"]}))
    at = dt.datetime(2026, 12, 5, 9, 30, tzinfo=dt.UTC)
    return (history.Update(at + dt.timedelta(days=1), second), history.Update(at, first))


def test_update_lines_link_to_pages_that_exist_and_name_the_rest():
    views = update_views(updates(), lambda m: None if m.startswith("<") else Link(f"models/{m}.html", m),
                         lambda s: Link(f"scenarios/{s}.html", s))
    newest, oldest = views
    assert newest.summary == "1 new model, 2 moved, 1 new scenario" and oldest.summary == "2 new models, 1 new scenario"
    texts = [line.text for line in newest.lines]
    assert texts == ["New: <new & bold>, rank 1 (1–1)", "x: rank 1 (1–2) → 2 (2–3)", "y: rank 2 (1–2) → 3 (2–3)",
                     "New scenario: s2"]
    assert newest.lines[0].link is None and newest.lines[1].link.href == "models/x.html"
    assert newest.anchor == "update-20261206T093000" and newest.iso == "2026-12-06T09:30:00Z"


def test_the_atom_feed_is_well_formed_with_one_entry_per_update_and_stable_ids():
    views = update_views(updates(), lambda m: Link(f"models/{m}.html", m), lambda s: Link(f"scenarios/{s}.html", s))
    text = atom_feed(views, title="Bench & co", board="b", page_href="changes.html")
    root = ET.fromstring(text.encode("utf-8"))  # escaped names parse
    ns = {"a": "http://www.w3.org/2005/Atom"}
    entries = root.findall("a:entry", ns)
    assert [e.find("a:updated", ns).text for e in entries] == ["2026-12-06T09:30:00Z", "2026-12-05T09:30:00Z"]
    assert root.find("a:updated", ns).text == "2026-12-06T09:30:00Z"
    assert "<new & bold>" in entries[0].find("a:summary", ns).text
    assert entries[0].find("a:link", ns).get("href") == "changes.html#update-20261206T093000"
    ids = {e.find("a:id", ns).text for e in entries} | {root.find("a:id", ns).text}
    assert len(ids) == 3 and all(i.startswith("urn:uuid:") for i in ids)
    assert text == atom_feed(views, title="Bench & co", board="b", page_href="changes.html")
    assert atom_feed(views, title="Other", board="b", page_href="changes.html") != text


def test_a_build_records_its_leaderboard_and_the_site_says_what_changed(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764900000")
    first = write_csv(tmp_path / "a.csv", long_rows({m: {"qa": scores(p, 60, i), "math": scores(p, 60, 9 + i)}
                                                     for i, (m, p) in enumerate([("x", 0.8), ("y", 0.4)])}))
    db, out = tmp_path / "e.duckdb", tmp_path / "site"
    parameters = AnalysisParameters(n_resamples=50)
    dior = DiorParameters(n_draws=10)
    pipeline.build(db, out, pipeline.result_sources([first]), parameters=parameters, dior_parameters=dior)
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "Last updated 2025-12-05" in index and 'href="changes.xml"' in index
    assert "2 new models, 2 new scenarios" in (out / "changes.html").read_text(encoding="utf-8")
    assert 'href="../changes.html"' in (out / "models" / "x.html").read_text(encoding="utf-8")
    pipeline.build(db, out, parameters=parameters, dior_parameters=dior)  # nothing new: nothing recorded
    with store.open_store(db, read_only=True) as con:
        assert con.execute("SELECT count(DISTINCT built_at) FROM leaderboard_history").fetchone()[0] == 1
    second = write_csv(tmp_path / "b.csv", long_rows({"z": {"qa": scores(0.95, 60, 5), "math": scores(0.9, 60, 6)}}))
    pipeline.build(db, out, pipeline.result_sources([second]), parameters=parameters, dior_parameters=dior)
    page = (out / "changes.html").read_text(encoding="utf-8")
    assert page.index("1 new model") < page.index("2 new models")  # newest first
    assert '<a href="models/z.html">z</a>, rank 1' in page
    feed = ET.fromstring((out / "changes.xml").read_bytes())
    assert len(feed.findall("{http://www.w3.org/2005/Atom}entry")) == 2
