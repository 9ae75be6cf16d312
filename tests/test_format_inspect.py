"""Inspect AI logs: detection, per-model means computed by hand from the real fixture, errors, the CLI."""

import json
import math
import zipfile
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from effbench.cli import app
from effbench.errors import EffbenchError
from effbench.formats import ReadOptions, inspect_ai, list_files

FIXTURE = Path(__file__).parent / "data" / "formats" / "inspect"
SHARED = Path(__file__).parent / "data" / "formats"  # every harness's fixtures, this one's among them
JSON_LOG = FIXTURE / "data_arc_qwen.json"
EVAL_LOG = FIXTURE / "2025-02-11T15-18-04-05-00_popularity_mj7khqpMM4GBCfVQozKgzB.eval"
# Logs written by running inspect-ai 0.3.285 with its stand-in model (see current/README.md).
CURRENT = FIXTURE / "current"
CURRENT_LOGS = sorted(p for p in list_files(CURRENT) if p.suffix in (".eval", ".json") and p.name != "logs.json"
                      and p.name != "eval-set.json")
# Hand counts: data_arc_qwen.json's 3 samples score C, I, I (1 of 3 correct); the .eval's
# summaries.json scores 10 samples C except ids 3 and 7 (8 of 10 correct).
EXPECTED = {"ollama/qwen2.5:0.5b": 1 / 3, "openai/gpt-4o-mini": 8 / 10}


def test_find_detects_logs_from_folder_parent_and_file():
    assert inspect_ai.find(FIXTURE, list_files(FIXTURE)) == sorted([EVAL_LOG, *CURRENT_LOGS, JSON_LOG])
    parent = FIXTURE.parent
    assert sorted(inspect_ai.find(parent, list_files(parent))) == sorted([EVAL_LOG, *CURRENT_LOGS, JSON_LOG])
    assert inspect_ai.find(JSON_LOG, [JSON_LOG]) == [JSON_LOG]


def test_find_claims_no_other_format():
    others = [p for p in list_files(SHARED) if "inspect" not in p.parts]
    assert inspect_ai.find(SHARED, others) == []


def test_read_gives_hand_computed_means():
    for log in (JSON_LOG, EVAL_LOG):
        read = inspect_ai.read(log, ReadOptions())
        assert read.keys == ("epoch",)
        means = read.items.groupby("model")["score"].mean().to_dict()
        for model, mean in means.items():
            assert mean == pytest.approx(EXPECTED[model])
    json_read = inspect_ai.read(JSON_LOG, ReadOptions())
    assert set(json_read.items["scenario"]) == {"inspect_evals/arc_easy"}
    assert set(json_read.items["metric"]) == {"choice"}
    assert sorted(json_read.items["item_id"]) == ["1", "2", "3"]


def _write_log(path: Path, samples: list, status: str = "success", scorers=("match",)) -> Path:
    log = {"version": 2, "status": status,
           "eval": {"task": "toy", "model": "org/model", "scorers": [{"name": s} for s in scorers]},
           "samples": samples}
    path.write_text(json.dumps(log))
    return path


def test_epochs_dicts_letters_and_unfinished_logs(tmp_path):
    samples = [
        {"id": 1, "epoch": 1, "scores": {"match": {"value": "C"}, "grade": {"value": {"a": 1, "b": 0}}}},
        {"id": 1, "epoch": 2, "scores": {"match": {"value": "P"}, "grade": {"value": {"a": 0, "b": 0}}}},
        {"id": 2, "epoch": 1, "scores": {"match": {"value": "N"}, "grade": {"value": {"a": 1, "b": 1}}}},
        {"id": 2, "epoch": 2, "scores": {"match": {"value": "maybe"}, "grade": {"value": {"a": 1, "b": 1}}}},
        {"id": 3, "epoch": 1, "error": {"message": "timeout"}},
    ]
    log = _write_log(tmp_path / "toy.json", samples, status="cancelled", scorers=("grade", "match"))
    read = inspect_ai.read(log, ReadOptions())
    # "grade" has dict values, so the default skips it for "match": C=1, P=0.5, N=0, "maybe" and the
    # errored sample are not evaluated.
    assert set(read.items["metric"]) == {"match"}
    scores = read.items.set_index(["item_id", "epoch"])["score"]
    assert scores[("1", 1)] == 1.0 and scores[("1", 2)] == 0.5 and scores[("2", 1)] == 0.0
    assert math.isnan(scores[("2", 2)]) and math.isnan(scores[("3", 1)])
    assert any("cancelled" in note for note in read.notes)
    assert any("dicts" in note for note in read.notes)
    keyed = inspect_ai.read(log, ReadOptions(metrics={"toy": "grade/a"}))
    # key "a" of grade: item 1 scores 1 then 0, item 2 scores 1 and 1; item 3 errored (not evaluated)
    assert set(keyed.items["metric"]) == {"grade/a"}
    assert keyed.items.dropna().groupby("item_id")["score"].mean().to_dict() == {"1": 0.5, "2": 1.0}
    assert keyed.items.loc[keyed.items["item_id"] == "3", "score"].isna().all()
    with pytest.raises(EffbenchError, match="no scorer 'nope'"):
        inspect_ai.read(log, ReadOptions(metrics={"toy": "nope"}))


def test_eval_zip_while_running_reads_the_journal(tmp_path):
    path = tmp_path / "running.eval"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("_journal/start.json", json.dumps({"version": 2, "eval": {"task": "t", "model": "m"}}))
        archive.writestr("_journal/summaries/1.json", json.dumps([{"id": "a", "epoch": 1,
                                                                   "scores": {"s": {"value": 1}}}]))
        archive.writestr("_journal/summaries/2.json", json.dumps([{"id": "b", "epoch": 1,
                                                                   "scores": {"s": {"value": False}}}]))
    assert inspect_ai.find(tmp_path, [path]) == [path]
    read = inspect_ai.read(path, ReadOptions())
    assert read.items.set_index("item_id")["score"].to_dict() == {"a": 1.0, "b": 0.0}
    assert any("'started'" in note for note in read.notes)


def test_broken_log_is_one_clear_error(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"version": 2, "status": "success", "eval": {"task": "t", "model": "m"}, "samples": [{"id": 1,')
    assert inspect_ai.find(tmp_path, [broken]) == [broken]
    with pytest.raises(EffbenchError, match="broken.json: not valid JSON"):
        inspect_ai.read(broken, ReadOptions())
    no_model = _write_log(tmp_path / "no_model.json", [])
    no_model.write_text(no_model.read_text().replace('"model": "org/model"', '"other": 1'))
    with pytest.raises(EffbenchError, match="eval.model"):
        inspect_ai.read(no_model, ReadOptions())


def test_cli_ingest_loads_the_folder(tmp_path):
    db = tmp_path / "t.duckdb"
    result = CliRunner().invoke(app, ["ingest", str(EVAL_LOG), str(JSON_LOG), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "inspect" in result.output
    con = duckdb.connect(str(db), read_only=True)
    means = dict(con.execute("select model, avg(score) from scores group by model").fetchall())
    assert means == pytest.approx(EXPECTED)
    sources = con.execute("select format, rows from sources order by path").fetchall()
    assert sources == [("inspect", 10), ("inspect", 3)]


@pytest.mark.parametrize("block", [1, 7, 4096])
def test_json_log_streams_one_sample_at_a_time_whatever_the_block(block):
    """Values split across reads (numbers, strings, samples) decode as json.load reads them whole."""
    whole = json.loads(JSON_LOG.read_text())
    with open(JSON_LOG, encoding="utf-8") as handle:
        members = list(inspect_ai._top_level(handle, block))
    samples = [value for key, value in members if key is None]
    assert samples == whole["samples"]
    assert {key: value for key, value in members if key is not None} == {
        key: value for key, value in whole.items() if key != "samples"}


def test_first_eval_layout_and_samples_without_summaries(tmp_path):
    """The first .eval layout (start.json, results.json, summaries/N.json) and, failing summaries,
    the samples themselves, whole (samples/<id>_epoch_<n>.json) or chunked (.../sample.json)."""
    old = tmp_path / "old.eval"
    with zipfile.ZipFile(old, "w") as archive:
        archive.writestr("start.json", json.dumps({"version": 2, "eval": {"task": "t", "model": "m"}}))
        archive.writestr("results.json", json.dumps({"status": "success", "stats": {}}))
        archive.writestr("summaries/1.json", json.dumps([{"id": 1, "epoch": 1, "scores": {"s": {"value": "C"}}},
                                                         {"id": 2, "epoch": 1, "scores": {"s": {"value": "I"}}}]))
    read = inspect_ai.read(old, ReadOptions())
    assert read.items.set_index("item_id")["score"].to_dict() == {"1": 1.0, "2": 0.0} and not read.notes
    bare = tmp_path / "bare.eval"
    with zipfile.ZipFile(bare, "w") as archive:
        archive.writestr("header.json", json.dumps({"status": "success", "eval": {"task": "t", "model": "m"}}))
        archive.writestr("samples/1_epoch_1.json", json.dumps({"id": 1, "epoch": 1, "scores": {"s": {"value": 0.25}}}))
        archive.writestr("samples/2_epoch_1/sample.json", json.dumps({"id": 2, "epoch": 1,
                                                                      "scores": {"s": {"value": "yes"}}}))
        archive.writestr("samples/2_epoch_1/events/0.json", json.dumps([]))
    read = inspect_ai.read(bare, ReadOptions())
    assert read.items.set_index("item_id")["score"].to_dict() == {"1": 0.25, "2": 1.0}


def test_zstandard_eval_log_of_the_current_release():
    """inspect-ai 0.3.285 compresses .eval entries with Zstandard (zip method 93)."""
    log = CURRENT / "toy_zstd.eval"
    with zipfile.ZipFile(log) as archive:  # the standard library's zipfile lists a method-93 zip, but cannot read it
        assert {info.compress_type for info in archive.infolist()} == {93}
    read = inspect_ai.read(log, ReadOptions())
    # includes(): the stand-in model's answer holds "mockllm" (samples 1 and 3), not "paris"; Inspect says 0.5
    assert read.items.set_index("item_id")["score"].to_dict() == {"1": 1.0, "2": 0.0, "3": 1.0, "4": 0.0}
    json_read = inspect_ai.read(CURRENT / "toy.json", ReadOptions())
    assert json_read.items["score"].tolist() == read.items["score"].tolist()


def test_a_broken_log_beside_readable_ones_is_one_clear_line(tmp_path):
    """A .eval whose compressed scores are damaged stops the load with one line naming it (never an
    internal error), and nothing is loaded."""
    folder = tmp_path / "logs"
    folder.mkdir()
    (folder / "toy.json").write_bytes((CURRENT / "toy.json").read_bytes())
    source = CURRENT / "epochs_max.eval"
    with zipfile.ZipFile(source) as archive:
        entry = archive.getinfo("summaries.json")
    data = source.read_bytes()
    start = entry.header_offset + 30 + len(entry.filename) + len(entry.extra) + 20  # inside the compressed bytes
    (folder / "epochs_max.eval").write_bytes(data[:start] + bytes(b ^ 0xFF for b in data[start:start + 50])
                                             + data[start + 50:])
    db = tmp_path / "t.duckdb"
    result = CliRunner().invoke(app, ["ingest", str(folder), "--db", str(db)])
    assert result.exit_code == 1, result.output
    assert "internal error" not in result.output
    error = [line for line in result.output.splitlines() if line.startswith("effbench: error:")]
    assert len(error) == 1 and "epochs_max.eval: a damaged entry" in error[0], result.output
    assert not db.exists()


@pytest.mark.parametrize(("log", "reducer", "expected"), [
    # Per sample correct in epochs {1,2,3}, {2}, {3}, {}: max gives 1, 1, 1, 0 and Inspect reports accuracy
    # 0.75 (the mean of the 12 epoch rows would be 5/12); mode gives 1, 0, 0, 0 and Inspect's headline 0.25.
    ("epochs_max.eval", "max", {"1": 1.0, "2": 1.0, "3": 1.0, "4": 0.0}),
    ("epochs_two_reducers.eval", "mode", {"1": 1.0, "2": 0.0, "3": 0.0, "4": 0.0}),
])
def test_epochs_load_with_the_reducer_the_log_declares(tmp_path, log, reducer, expected):
    read = inspect_ai.read(CURRENT / log, ReadOptions())
    assert read.items.set_index("item_id")["score"].to_dict() == expected
    assert read.options["epoch_reducer"] == reducer
    assert any(f"reduced by {reducer!r}" in note for note in read.notes)
    db = tmp_path / "t.duckdb"
    result = CliRunner().invoke(app, ["ingest", str(CURRENT / log), "--db", str(db)])
    assert result.exit_code == 0, result.output
    with duckdb.connect(str(db), read_only=True) as con:
        aggregate = json.loads(_header(CURRENT / log))["results"]["scores"][0]["metrics"]["accuracy"]["value"]
        assert con.execute("select avg(score) from scores").fetchone()[0] == pytest.approx(aggregate)


def _header(log: Path) -> bytes:
    """Return the log's header.json, read with the zipfile that reads Zstandard (the adapter's)."""
    with inspect_ai.zipfile.ZipFile(log) as archive:
        return archive.read("header.json")


def test_a_log_that_declares_more_epochs_than_it_holds_says_so():
    read = inspect_ai.read(CURRENT / "epochs_cut_short.eval", ReadOptions())
    assert any("declares 4 epochs but its samples were scored in 1" in note for note in read.notes)
    assert any("'error'" in note for note in read.notes)
    # epoch 1: sample 1 ("mockllm" in the answer) correct, sample 2 not; the failed epoch-2 sample is not evaluated
    assert read.items.dropna()["score"].tolist() == [1.0, 0.0]


def test_a_single_log_with_nothing_loadable_says_why(tmp_path):
    """Alone on the command line, a log whose scorer gives dicts, or an errored log without samples,
    is refused with the reason (the same the load gives beside loadable logs), and no database is left."""
    db = tmp_path / "t.duckdb"
    result = CliRunner().invoke(app, ["ingest", str(CURRENT / "dict_scores.eval"), "--db", str(db)])
    assert result.exit_code == 1
    assert "values are dicts (fluency, accuracy)" in result.output
    assert "--metric dict_scores=two_part_grade/KEY" in result.output and "no results loaded yet" not in result.output
    assert not db.exists()
    errored = _write_log(tmp_path / "errored.json", [], status="error")
    result = CliRunner().invoke(app, ["ingest", str(errored), "--db", str(db)])
    assert result.exit_code == 1
    assert "errored.json" in result.output and "no samples and no aggregate score" in result.output
    # The dict scorer's key, named as the note says, loads it: accuracy/mean is 0.5 in the log's results.
    result = CliRunner().invoke(app, ["ingest", str(CURRENT / "dict_scores.eval"), "--db", str(db),
                                      "--metric", "dict_scores=two_part_grade/accuracy"])
    assert result.exit_code == 0, result.output
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select avg(score) from scores").fetchone()[0] == pytest.approx(0.5)


def test_an_eval_set_with_a_failed_run_and_its_retry_loads_the_retry(tmp_path):
    """inspect's eval_set keeps the failed log beside its retry (retry_cleanup=False): --runs latest (the
    default) loads the finished retry and says what it set aside; --runs error refuses."""
    failed, retry = sorted((CURRENT / "eval_set_retry").glob("*.eval"))
    db = tmp_path / "t.duckdb"
    result = CliRunner().invoke(app, ["ingest", str(CURRENT / "eval_set_retry"), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert f"set aside {failed.name}" in result.output and "unfinished" in result.output
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select distinct file from scores").fetchall() == [(retry.name,)]
        mean = con.execute("select avg(score) from scores").fetchone()[0]
    assert mean == pytest.approx(json.loads(_header(retry))["results"]["scores"][0]["metrics"]["accuracy"]["value"])
    refused = CliRunner().invoke(app, ["ingest", str(CURRENT / "eval_set_retry"), "--db", str(tmp_path / "u.duckdb"),
                                       "--runs", "error"])
    assert refused.exit_code == 1 and "also in" in refused.output


@pytest.mark.parametrize(("log", "metric"), [
    ("toy_zstd.eval", None), ("toy.json", None), ("epochs_max.eval", None), ("epochs_two_reducers.eval", None),
    ("dict_scores.eval", "dict_scores=two_part_grade/accuracy"),
])
def test_every_current_log_loads_to_inspects_own_headline(tmp_path, log, metric):
    """Per model, the mean effbench loads equals the headline aggregate Inspect wrote in the log (its first
    results entry: the first scorer, the first epoch reducer)."""
    path = CURRENT / log
    header = json.loads(_header(path)) if path.suffix == ".eval" else json.loads(path.read_text())
    entries = header["results"]["scores"]
    entry = next(e for e in entries if e["name"] == "accuracy") if metric else entries[0]
    expected = next(iter(entry["metrics"].values()))["value"]
    db = tmp_path / "t.duckdb"
    result = CliRunner().invoke(app, ["ingest", str(path), "--db", str(db), *(["--metric", metric] if metric else [])])
    assert result.exit_code == 0, result.output
    with duckdb.connect(str(db), read_only=True) as con:
        # an item's score is the mean over its rows (epochs), then the mean over items, as the leaderboard takes it
        mean = con.execute("select avg(s) from (select avg(score) as s from scores group by item_id)").fetchone()[0]
    assert mean == pytest.approx(expected)


def test_runs_all_keeps_both_runs_as_repeats(tmp_path):
    """--runs all: the failed run and the retry both load, told apart by the key column 'repeat'; an item's
    score is the mean over the runs that scored it (sample 1 failed in the first run)."""
    failed, retry = sorted((CURRENT / "eval_set_retry").glob("*.eval"))
    db = tmp_path / "t.duckdb"
    result = CliRunner().invoke(app, ["ingest", str(CURRENT / "eval_set_retry"), "--db", str(db), "--runs", "all"])
    assert result.exit_code == 0, result.output
    assert "one of 2 runs, all kept as repeats" in result.output
    with duckdb.connect(str(db), read_only=True) as con:
        assert {r[0] for r in con.execute("select distinct repeat from scores").fetchall()} == {failed.name, retry.name}
        per_item = dict(con.execute("select item_id, avg(score) from scores group by item_id").fetchall())
    # first run: 1 failed, 2 I, 3 C, 4 I; retry: 1 C, 2 I, 3 C, 4 I (includes: "mockllm" is in the answer)
    assert per_item == {"1": 1.0, "2": 0.0, "3": 1.0, "4": 0.0}
    bad = CliRunner().invoke(app, ["ingest", str(CURRENT / "eval_set_retry"), "--db", str(db), "--runs", "some"])
    assert bad.exit_code == 1 and "--runs 'some': choose one of latest, all, error" in bad.output


def test_an_entry_of_several_zstandard_frames_reads_whole(tmp_path, monkeypatch):
    """Inspect splits an entry into one Zstandard frame per 200 MiB of input (inspect_ai/_util/zipfile.py);
    zipfile's decompressor stops after the first frame. The tool's own toy log, rewritten with each entry
    split into two frames (a 200 MiB fixture would be needed otherwise), reads as the original does."""
    source = CURRENT / "toy_zstd.eval"
    split = tmp_path / "toy_frames.eval"
    zstd = inspect_ai.zstd

    class TwoFrames:
        def __init__(self):
            self.parts = []

        def compress(self, data):
            self.parts.append(data)
            return b""

        def flush(self):
            data = b"".join(self.parts)
            return zstd.compress(data[:len(data) // 2]) + zstd.compress(data[len(data) // 2:])

    zipfile_module = inspect_ai.zipfile
    with zipfile_module.ZipFile(source) as original:
        entries = [(info.filename, original.read(info)) for info in original.infolist()]
    standard = zipfile_module._get_compressor
    monkeypatch.setattr(zipfile_module, "_get_compressor",
                        lambda kind, level=None: TwoFrames() if kind == 93 else standard(kind, level))
    with zipfile_module.ZipFile(split, "w", compression=93) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    monkeypatch.setattr(zipfile_module, "_get_compressor", standard)
    with zipfile_module.ZipFile(split) as archive, pytest.raises(zipfile_module.BadZipFile, match="CRC"):
        archive.read("summaries.json")  # what zipfile alone does with it
    assert inspect_ai.read(split, ReadOptions()).items["score"].tolist() == \
        inspect_ai.read(source, ReadOptions()).items["score"].tolist()
