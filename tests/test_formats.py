"""The harness-format interface: discovery of units in folders, and loading what adapters read."""

from __future__ import annotations

import json
import types
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from effbench import formats
from effbench.cli import app
from effbench.errors import EffbenchError


def _fake_format(name: str, suffix: str) -> types.ModuleType:
    """A format that claims files ending in `suffix`, each a JSON list of [model, scenario, item, score, epoch]."""
    module = types.ModuleType(name)
    module.NAME = name
    module.DESCRIPTION = "test format"

    def find(root: Path, files: list[Path]) -> list[Path]:
        return [path for path in files if path.name.endswith(suffix)]

    def read(unit: Path, options: formats.ReadOptions) -> formats.FormatRead:
        rows = json.loads(unit.read_text())
        items = pd.DataFrame(rows, columns=["model", "scenario", "item_id", "score", "epoch"])
        items["metric"] = options.metric_for("qa") or "accuracy"
        items["file"] = unit.name
        aggregate = pd.DataFrame({"model": ["m1", "m2"], "scenario": ["summary", "summary"], "score": [0.25, 0.5]})
        models = pd.DataFrame({"model": ["m1", "m2"], "organization": ["Org A", None], "params_b": [7.0, 70.0]})
        scenarios = pd.DataFrame({"scenario": ["qa", "summary"], "metric": ["accuracy", "rouge"],
                                  "higher_is_better": [True, True], "tags": [["reading", "en"], None],
                                  "description": ["Questions", None]})
        return formats.FormatRead(format=name, unit=unit, files=(unit,), items=items, keys=("epoch",),
                                  scenario_scores=aggregate, models=models, scenarios=scenarios, runs=2,
                                  notes=("took accuracy",))

    module.find, module.read = find, read
    return module


@pytest.fixture
def fake_formats(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = dict(formats.formats())
    registry["fake"] = _fake_format("fake", ".fake.json")
    registry["other"] = _fake_format("other", ".json")
    monkeypatch.setattr(formats, "FORMATS", registry)


ROWS = [["m1", "qa", "1", 1.0, 1], ["m1", "qa", "1", 0.0, 2], ["m1", "qa", "2", 1.0, 1],
        ["m2", "qa", "1", 0.0, 1], ["m2", "qa", "2", None, 1]]


def test_a_folder_is_walked_and_plain_tables_are_recognised_by_their_columns(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "results.csv").write_text("model,scenario,item_id,score\nm,s,1,1\n")
    (tmp_path / "summary.csv").write_text("task,model,score\nt,m,1\n")  # not a long table: ignored
    (tmp_path / ".hidden.csv").write_text("model,scenario,item_id,score\nm,s,1,1\n")
    units = formats.discover([tmp_path])
    assert units == [formats.Unit("table", tmp_path / "sub" / "results.csv")]
    # A file named directly is a table whatever its columns, so they can be mapped with --model-col.
    assert formats.discover([tmp_path / "summary.csv"]) == [formats.Unit("table", tmp_path / "summary.csv")]


def test_nothing_recognised_and_missing_paths_are_one_line_errors(tmp_path: Path) -> None:
    (tmp_path / "notes.txt.md").write_text("hello")
    with pytest.raises(EffbenchError, match="nothing found that can be read as any known format"):
        formats.discover([tmp_path])
    # With the format named, the error says what that format reads instead of asking to name one.
    for name in formats.formats():
        with pytest.raises(EffbenchError) as named:
            formats.discover([tmp_path], format_name=name)
        assert f"as {name}, which reads" in str(named.value) and "--format" not in str(named.value)
    with pytest.raises(EffbenchError, match="no such file or folder"):
        formats.discover([tmp_path / "missing"])
    with pytest.raises(EffbenchError, match="unknown format 'nope'"):
        formats.discover([tmp_path], "nope")


def test_two_formats_claiming_one_file_is_refused_until_one_is_chosen(tmp_path: Path, fake_formats: None) -> None:
    path = tmp_path / "run.fake.json"
    path.write_text(json.dumps(ROWS))
    with pytest.raises(EffbenchError, match="recognised both as"):
        formats.discover([tmp_path])
    assert formats.discover([tmp_path], "fake") == [formats.Unit("fake", path)]


def test_metric_flags() -> None:
    assert formats.parse_metric_flags(["bbq=exact_match", "f1"]) == {"bbq": "exact_match", "*": "f1"}
    assert formats.ReadOptions(metrics={"*": "f1"}).metric_for("qa") == "f1"
    with pytest.raises(EffbenchError, match="SCENARIO=METRIC"):
        formats.parse_metric_flags(["bbq="])


def test_an_adapter_read_loads_items_aggregates_metadata_and_provenance(tmp_path: Path, fake_formats: None) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "run.fake.json").write_text(json.dumps(ROWS))
    db = tmp_path / "e.duckdb"
    result = CliRunner().invoke(app, ["ingest", str(data), "--db", str(db), "--format", "fake",
                                      "--metric", "qa=accuracy"])
    assert result.exit_code == 0, result.output
    assert "fake: 1 unit(s), 2 run(s), 2 model(s), 2 scenario(s), 5 item rows, 2 aggregate rows" in result.output
    assert "qa = accuracy" in result.output and "took accuracy" in result.output
    with duckdb.connect(str(db), read_only=True) as con:
        # m1: item 1 is the mean of its two epochs (0.5), item 2 is 1 -> 0.75; m2: 0 (item 2 not evaluated).
        means = dict(con.execute("SELECT model, score FROM scenario_intervals WHERE scenario = 'qa'").fetchall())
        assert means == pytest.approx({"m1": 0.75, "m2": 0.0})
        aggregates = con.execute("SELECT count(*) FROM scores WHERE scenario = 'summary' AND item_id IS NULL")
        assert aggregates.fetchone()[0] == 2
        assert con.execute("SELECT DISTINCT metric, file FROM scores WHERE scenario = 'qa'").fetchall() == [
            ("accuracy", "run.fake.json")]
        assert con.execute("SELECT organization, params_b FROM models ORDER BY model").fetchall() == [
            ("Org A", 7.0), (None, 70.0)]
        assert con.execute("SELECT scenario, level, metric, tags, description FROM scenarios ORDER BY scenario"
                           ).fetchall() == [("qa", "item", "accuracy", "reading, en", "Questions"),
                                            ("summary", "scenario", "rouge", None, None)]
        source = con.execute("SELECT format, kind, rows, CAST(options AS VARCHAR) FROM sources").fetchone()
        assert source[:3] == ("fake", "long", 7)
        assert json.loads(source[3])["keys"] == ["epoch"]
        assert json.loads(source[3])["read_options"]["metrics"] == {"qa": "accuracy"}
    again = CliRunner().invoke(app, ["ingest", str(data), "--db", str(db), "--format", "fake"])
    assert again.exit_code == 0 and "already loaded" in again.output


def test_user_metadata_wins_over_what_a_format_says(tmp_path: Path, fake_formats: None) -> None:
    (tmp_path / "run.fake.json").write_text(json.dumps(ROWS))
    (tmp_path / "models.csv").write_text("model,organization\nm1,Mine\n")
    db = tmp_path / "e.duckdb"
    result = CliRunner().invoke(app, ["ingest", str(tmp_path / "models.csv"), "--db", str(db), "--format", "table"])
    assert result.exit_code != 0  # a metadata file is not a result table
    first = CliRunner().invoke(app, ["ingest", "--models", str(tmp_path / "models.csv"),
                                     str(tmp_path / "run.fake.json"), "--format", "fake", "--db", str(db)])
    assert first.exit_code == 0, first.output
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT organization FROM models WHERE model = 'm1'").fetchone() == ("Mine",)


def test_a_broken_unit_leaves_the_database_unchanged(tmp_path: Path, fake_formats: None) -> None:
    good, bad = tmp_path / "a.fake.json", tmp_path / "b.fake.json"
    good.write_text(json.dumps(ROWS))
    bad.write_text(json.dumps([["m3", "qa", None, 1.0, 1]]))  # no item id
    db = tmp_path / "e.duckdb"
    result = CliRunner().invoke(app, ["ingest", str(tmp_path), "--format", "fake", "--db", str(db)])
    assert result.exit_code == 1
    assert "b.fake.json" in result.output and "no item id" in result.output
    assert not db.exists()  # a failed first load leaves nothing behind


DATA = Path(__file__).parent / "data" / "formats"


def test_a_helm_suite_and_an_lm_eval_folder_make_one_site(tmp_path: Path) -> None:
    db, out = tmp_path / "mixed.duckdb", tmp_path / "site"
    result = CliRunner().invoke(app, ["build", str(DATA / "helm" / "runs" / "v4"),
                                      str(DATA / "lm_eval" / "google__gemma-2b"), "--db", str(db), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "helm: 1 unit(s), 2 run(s), 2 model(s)" in result.output
    assert "lm-eval: 2 unit(s), 2 run(s), 1 model(s)" in result.output
    with duckdb.connect(str(db), read_only=True) as con:
        assert dict(con.execute("SELECT format, count(*) FROM sources GROUP BY format").fetchall()) == {
            "helm": 1, "lm-eval": 2}
        ranked = {row[0] for row in con.execute("SELECT model FROM leaderboard").fetchall()}
    assert ranked == {"openai/gpt-4o-2024-05-13", "anthropic/claude-3-5-sonnet-20240620", "google/gemma-2b"}
    index = (out / "index.html").read_text(encoding="utf-8")
    assert all(name in index for name in ranked)
