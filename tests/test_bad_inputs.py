"""Bad and hostile inputs, one table: each must exit non-zero with one line that names the file (and the
column or line where one is to blame), print no traceback, and leave the database byte for byte and
row for row as it was."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from harness_files import DEEP, HUGE, NOT_UTF8, changed, changed_openeval
from typer.testing import CliRunner

from effbench.cli import app
from effbench.writer import SITE_MARKER

from conftest import long_rows, write_csv

runner = CliRunner()
HEADER = "model,scenario,item_id,score\n"


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> Path:
    """A database holding three models' results and their metadata (params_b is a number)."""
    root = tmp_path_factory.mktemp("baseline")
    results = write_csv(root / "results.csv", long_rows({
        "alpha": {"qa": [1, 1, 0], "math": [1, 0, 1]},
        "beta": {"qa": [0, 1, 0], "math": [0, 0, 1]},
        "gamma": {"qa": [0, 0, 0], "math": [1, 0, 0]},
    }))
    meta = write_csv(root / "models.csv", [{"model": m, "params_b": p} for m, p in (("alpha", 7), ("beta", 70))])
    db = root / "base.duckdb"
    result = runner.invoke(app, ["ingest", str(results), "--models", str(meta), "--db", str(db)])
    assert result.exit_code == 0, result.output
    return db


def text_file(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def jsonl(path: Path, rows: list[dict]) -> Path:
    return text_file(path, "".join(json.dumps(row) + "\n" for row in rows))


def good_rows(**changes) -> list[dict]:
    rows = long_rows({"delta": {"qa": [1, 0, 1]}})
    return [{**row, **changes} for row in rows]


def truncated_gzip(path: Path) -> Path:
    data = gzip.compress((HEADER + "delta,qa,qa-0,1\n" * 2000).encode())
    path.write_bytes(data[: len(data) // 2])
    return path


def sqlite_file(path: Path) -> Path:
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    return path


def foreign_duckdb(path: Path) -> Path:
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE invoices (id INTEGER)")
    con.close()
    return path


def built_site_with_db(tmp: Path, db: Path) -> tuple[Path, Path]:
    """An output folder an earlier build wrote, with the database moved into it."""
    out = tmp / "site"
    out.mkdir()
    (out / SITE_MARKER).write_text("Built by effbench; the next build replaces this folder.\n")
    inside = out / "my.duckdb"
    shutil.move(db, inside)
    return out, inside


@dataclass(frozen=True)
class Case:
    """A bad input: `make(tmp, db)` writes it and returns (command line, database it must leave alone,
    texts the error line must hold)."""

    name: str
    make: Callable[[Path, Path], tuple[list[str], Path, list[str]]]


def ingest(path_of: Callable[[Path], Path], *needles: str, option: str | None = None) -> Callable:
    """A case that ingests the file `path_of(tmp)` writes; the error names it and holds `needles`."""
    def make(tmp: Path, db: Path) -> tuple[list[str], Path, list[str]]:
        path = path_of(tmp)
        args = ["ingest", *([option] if option else []), str(path), "--db", str(db)]
        return args, db, [str(path), *needles]
    return make


def with_db(db_of: Callable[[Path], Path], *needles: str) -> Callable:
    """A case whose --db is the bad input; the error names it."""
    def make(tmp: Path, _db: Path) -> tuple[list[str], Path, list[str]]:
        results = write_csv(tmp / "ok.csv", good_rows())
        db = db_of(tmp)
        return ["ingest", str(results), "--db", str(db)], db, [str(db), *needles]
    return make


def build(args_of: Callable[[Path, Path], list[str]], *needles: str) -> Callable:
    def make(tmp: Path, db: Path) -> tuple[list[str], Path, list[str]]:
        args = args_of(tmp, db)
        return ["build", *args], db, list(needles)
    return make


def locked(tmp: Path, db: Path) -> tuple[list[str], Path, list[str]]:
    results = write_csv(tmp / "ok.csv", good_rows())
    return ["ingest", str(results), "--db", str(db)], db, [str(db), "lock"]


def db_inside_out(tmp: Path, db: Path) -> tuple[list[str], Path, list[str]]:
    out, inside = built_site_with_db(tmp, db)
    return ["build", "--db", str(inside), "--out", str(out)], inside, [str(inside), "inside the output folder"]


def input_inside_out(tmp: Path, db: Path) -> tuple[list[str], Path, list[str]]:
    out = tmp / "site"
    out.mkdir()
    (out / SITE_MARKER).write_text("Built by effbench; the next build replaces this folder.\n")
    results = write_csv(out / "new.csv", good_rows())
    return ["build", str(results), "--db", str(db), "--out", str(out)], db, [str(results), "inside the output folder"]


def key_type_differs(tmp: Path, db: Path) -> tuple[list[str], Path, list[str]]:
    """A --key column loaded as numbers (from Parquet), then a file whose key column holds words."""
    first = tmp / "seeds.parquet"
    duckdb.execute(f"COPY (SELECT 'delta' AS model, 'qa' AS scenario, CAST(i AS VARCHAR) AS item_id,"
                   f" CAST(1 AS DOUBLE) AS score, 7 AS seed FROM range(3) AS t(i)) TO '{first}' (FORMAT parquet)")
    assert runner.invoke(app, ["ingest", str(first), "--key", "seed", "--db", str(db)]).exit_code == 0
    second = write_csv(tmp / "words.csv", [{**row, "model": "epsilon", "seed": "hello"} for row in good_rows()])
    return ["ingest", str(second), "--key", "seed", "--db", str(db)], db, [str(second), "'seed'", "'hello'"]


def parquet(path: Path, select_sql: str) -> Path:
    duckdb.execute(f"COPY ({select_sql}) TO '{path}' (FORMAT parquet)")
    return path


def harness(make_input: Callable[[Path], tuple[Path, Path]], *needles: str) -> Callable:
    """A case that ingests a harness file with one field changed; the error names the changed file and
    holds `needles` (the entry and the field)."""
    def make(tmp: Path, db: Path) -> tuple[list[str], Path, list[str]]:
        given, changed_file = make_input(tmp)
        return ["ingest", str(given), "--db", str(db)], db, [str(changed_file), *needles]
    return make


HELM_SUITE = "helm/runs/v4"
HELM_RUN = "bbq:subject=all,method=multiple_choice_joint,model=anthropic_claude-3-5-sonnet-20240620"
HELM_INSTANCES = f"{HELM_RUN}/per_instance_stats.json"
HELM_STATS = f"{HELM_RUN}/stats.json"  # entry 19: the unperturbed exact_match, a metric HELM's fallback reads
LM_EVAL_RUN = "lm_eval/current/rerun/local__dummy"
LM_EVAL_RESULTS = "results_2026-12-04T16-51-55.131250.json"
LM_EVAL_SAMPLES = "samples_tiny_qa_2026-12-04T16-51-55.131250.jsonl"
INSPECT_LOG = "inspect/current/toy.json"
EEE_PAIR = "every_eval_ever/pair_v0.3.0"
EEE_RECORD = "f3a1c0de-4b2e-4c1a-9f6d-1b7e5a2c8d40.json"
EEE_SAMPLES = "f3a1c0de-4b2e-4c1a-9f6d-1b7e5a2c8d40_samples.jsonl"
LIGHTEVAL_RUN = "lighteval/smoke"
LIGHTEVAL_RESULTS = "results/results_2026-08-10T17-22-11.385681.json"
OPENCOMPASS_RUN = "opencompass/outputs/default/20250310_142233"
OPENCOMPASS_RESULTS = "results/qwen2.5-7b-instruct-hf/ARC-c.json"
ALPACA = "alpaca_eval/alpaca-7b/alpaca_eval_gpt4/annotations.json"

# Harness files of the wrong shape, at least one per adapter for each kind: a required field of the
# wrong type, a null where a value is needed, JSON nested 100,000 deep, text that is not UTF-8 and an
# integer too large for a float.
HARNESS_CASES = [
    Case("HELM stat count is a word", harness(
        changed(HELM_SUITE, HELM_STATS, (19, "count"), "one"), "entry 19", "'count'", "a string")),
    Case("HELM stat name is a list", harness(
        changed(HELM_SUITE, HELM_INSTANCES, (0, "stats", 1, "name", "name"), ["exact_match"]),
        "entry 0", "stats entry 1", "'name'", "a list")),
    Case("HELM schema run_groups is a number", harness(
        changed(HELM_SUITE, "schema.json", ("run_groups",), 5), "'run_groups'", "a number")),
    Case("HELM schema environment is a string", harness(
        changed(HELM_SUITE, "schema.json", ("run_groups", 0, "environment"), "test"),
        "run_groups entry 0", "'environment'", "a string")),
    Case("HELM train_trial_index is null", harness(
        changed(HELM_SUITE, HELM_INSTANCES, (0, "train_trial_index"), None), "entry 0", "'train_trial_index'",
        "null")),
    Case("HELM JSON nested 100,000 deep", harness(
        changed(HELM_SUITE, HELM_INSTANCES, (0, "stats"), DEEP), "entry 0", "nested")),
    Case("HELM run spec not UTF-8", harness(
        changed(HELM_SUITE, f"{HELM_RUN}/run_spec.json", ("name",), NOT_UTF8), "UTF-8")),
    Case("HELM stat sum too large for a float", harness(
        changed(HELM_SUITE, HELM_STATS, (19, "sum"), HUGE), "entry 19", "'sum'", "too large")),
    Case("lm-eval doc_id is a list", harness(
        changed(LM_EVAL_RUN, LM_EVAL_SAMPLES, ("doc_id",), [0], line=1, given=LM_EVAL_RESULTS),
        "line 1", "'doc_id'", "a list")),
    Case("lm-eval task config is a string", harness(
        changed(LM_EVAL_RUN, LM_EVAL_RESULTS, ("configs", "tiny_qa"), "tiny", given=LM_EVAL_RESULTS),
        "configs", "'tiny_qa'", "a string")),
    Case("lm-eval doc_id is null", harness(
        changed(LM_EVAL_RUN, LM_EVAL_SAMPLES, ("doc_id",), None, line=1, given=LM_EVAL_RESULTS),
        "line 1", "'doc_id'", "null")),
    Case("lm-eval JSON nested 100,000 deep", harness(
        changed(LM_EVAL_RUN, LM_EVAL_SAMPLES, ("doc",), DEEP, line=1, given=LM_EVAL_RESULTS), "line 1", "nested")),
    Case("lm-eval samples not UTF-8", harness(
        changed(LM_EVAL_RUN, LM_EVAL_SAMPLES, ("target",), NOT_UTF8, line=1, given=LM_EVAL_RESULTS),
        "line 1", "UTF-8")),
    Case("lm-eval value too large for a float", harness(
        changed(LM_EVAL_RUN, LM_EVAL_SAMPLES, ("exact_match",), HUGE, line=1, given=LM_EVAL_RESULTS),
        "line 1", "'exact_match'", "too large")),
    Case("Inspect config is a string", harness(
        changed(INSPECT_LOG, None, ("eval", "config"), "fast"), "'config'", "a string")),
    Case("Inspect sample id is null", harness(
        changed(INSPECT_LOG, None, ("samples", 0, "id"), None), "sample 0", "'id'", "null")),
    Case("Inspect JSON nested 100,000 deep", harness(
        changed(INSPECT_LOG, None, ("samples", 0, "input"), DEEP), "nested")),
    Case("Inspect log not UTF-8", harness(changed(INSPECT_LOG, None, ("eval", "task"), NOT_UTF8), "UTF-8")),
    Case("Inspect score too large for a float", harness(
        changed(INSPECT_LOG, None, ("samples", 0, "scores", "includes", "value"), HUGE), "sample 0", "'value'",
        "too large")),
    Case("Every Eval Ever metric_config is a string", harness(
        changed(EEE_PAIR, EEE_RECORD, ("evaluation_results", 0, "metric_config"), "accuracy", given=EEE_RECORD),
        "evaluation_results entry 0", "'metric_config'", "a string")),
    Case("Every Eval Ever score_details is null", harness(
        changed(EEE_PAIR, EEE_RECORD, ("evaluation_results", 0, "score_details"), None, given=EEE_RECORD),
        "evaluation_results entry 0", "'score_details'", "null")),
    Case("Every Eval Ever JSON nested 100,000 deep", harness(
        changed(EEE_PAIR, EEE_RECORD, ("evaluation_results", 0, "source_data"), DEEP, given=EEE_RECORD), "nested")),
    Case("Every Eval Ever instance line not UTF-8", harness(
        changed(EEE_PAIR, EEE_SAMPLES, ("sample_id",), NOT_UTF8, line=1, given=EEE_RECORD), "line 1", "UTF-8")),
    Case("Every Eval Ever score too large for a float", harness(
        changed(EEE_PAIR, EEE_SAMPLES, ("evaluation", "score"), HUGE, line=1, given=EEE_RECORD),
        "line 1", "'score'", "too large")),
    Case("lighteval task metrics is a number", harness(
        changed(LIGHTEVAL_RUN, LIGHTEVAL_RESULTS, ("config_tasks", "anli:r1|0", "metrics"), 5),
        "'anli:r1|0'", "'metrics'", "a number")),
    Case("lighteval model name is null", harness(
        changed(LIGHTEVAL_RUN, LIGHTEVAL_RESULTS, ("config_general", "model_config", "model_name"), None),
        "'model_name'", "null")),
    Case("lighteval JSON nested 100,000 deep", harness(
        changed(LIGHTEVAL_RUN, LIGHTEVAL_RESULTS, ("config_tasks", "squad_v2|0", "hf_repo"), DEEP), "nested")),
    Case("lighteval results not UTF-8", harness(
        changed(LIGHTEVAL_RUN, LIGHTEVAL_RESULTS, ("config_tasks", "squad_v2|0", "hf_repo"), NOT_UTF8), "UTF-8")),
    Case("lighteval aggregate too large for a float", harness(
        changed(f"{LIGHTEVAL_RUN}/results", LIGHTEVAL_RESULTS.removeprefix("results/"),
                ("results", "anli:r1|0", "acc"), HUGE), "'anli:r1|0'", "'acc'", "too large")),
    Case("OpenCompass details entry is a string", harness(
        changed(OPENCOMPASS_RUN, OPENCOMPASS_RESULTS, ("details", "0"), "right"), "details", "'0'", "a string")),
    Case("OpenCompass details entry is null", harness(
        changed(OPENCOMPASS_RUN, OPENCOMPASS_RESULTS, ("details", "0"), None), "details", "'0'", "null")),
    Case("OpenCompass JSON nested 100,000 deep", harness(
        changed(OPENCOMPASS_RUN, OPENCOMPASS_RESULTS, ("details", "0", "predictions"), DEEP), "nested")),
    Case("OpenCompass results not UTF-8", harness(
        changed(OPENCOMPASS_RUN, OPENCOMPASS_RESULTS, ("details", "0", "predictions"), NOT_UTF8), "UTF-8")),
    Case("OpenCompass accuracy too large for a float", harness(
        changed(OPENCOMPASS_RUN, OPENCOMPASS_RESULTS, ("accuracy",), HUGE), "'accuracy'", "too large")),
    Case("OpenEval scores is a number", harness(
        changed_openeval(("responses", 0, "scores"), 5), "line 1", "responses entry 0", "'scores'", "a number")),
    Case("OpenEval item_id is null", harness(changed_openeval(("item_id",), None), "line 1", "'item_id'", "null")),
    Case("OpenEval JSON nested 100,000 deep", harness(changed_openeval(("item_content",), DEEP), "line 1", "nested")),
    Case("OpenEval item not UTF-8", harness(
        changed_openeval(("responses", 0, "model", "name"), NOT_UTF8), "line 1", "UTF-8")),
    Case("OpenEval score too large for a float", harness(
        changed_openeval(("responses", 0, "scores", 0, "value"), HUGE), "line 1", "'value'", "too large")),
    Case("AlpacaEval model is an object", harness(
        changed(ALPACA, None, (0, "generator_2"), {"name": "alpaca-7b"}), "annotation 1", "'generator_2'",
        "an object")),
    Case("AlpacaEval model is null", harness(
        changed(ALPACA, None, (0, "generator_2"), None), "annotation 1", "'generator_2'", "null")),
    Case("AlpacaEval JSON nested 100,000 deep", harness(changed(ALPACA, None, (1, "output_1"), DEEP), "nested")),
    Case("AlpacaEval instruction not UTF-8", harness(
        changed(ALPACA, None, (1, "instruction"), NOT_UTF8), "UTF-8")),
    Case("AlpacaEval preference too large for a float", harness(
        changed(ALPACA, None, (0, "preference"), HUGE), "annotation 1", "'preference'", "too large")),
]

LONG_NAME = "m" * 1001
CASES = [
    # Files that are not result tables at all.
    Case("empty file", ingest(lambda t: text_file(t / "empty.csv", ""))),
    Case("header only", ingest(lambda t: text_file(t / "header.csv", HEADER), "no rows")),
    Case("missing column", ingest(lambda t: text_file(t / "nocol.csv", "model,scenario,item_id\ndelta,qa,1\n"),
                                  "'score'")),
    Case("score not a number", ingest(lambda t: write_csv(t / "word.csv", good_rows(score="hello")),
                                      "'score'", "'hello'")),
    Case("infinite score", ingest(lambda t: write_csv(t / "inf.csv", good_rows(score="inf")), "'score'", "infinite")),
    Case("score near the float limit", ingest(lambda t: write_csv(t / "huge.csv", good_rows(score="1e200")),
                                              "'score'", "beyond")),
    Case("score at minus the float limit", ingest(lambda t: write_csv(t / "low.csv", good_rows(score="-1.7e308")),
                                                  "'score'", "beyond")),
    Case("infinite score in a wide Parquet table", ingest(lambda t: parquet(
        t / "wide.parquet", "SELECT 'delta' AS model, 'inf'::DOUBLE AS reading, 0.5 AS coding"),
        "'reading'", "infinite", option="--wide")),
    Case("huge score in a wide table", ingest(lambda t: text_file(t / "wide.csv", "model,reading\ndelta,1e300\n"),
                                              "'reading'", "beyond", option="--wide")),
    Case("infinite training tokens", ingest(
        lambda t: text_file(t / "inf.csv", "model,training_tokens_b\ngamma,inf\nalpha,1.5\n"),
        "'training_tokens_b'", "infinite", option="--models")),
    Case("repeated row", ingest(lambda t: write_csv(t / "dup.csv", good_rows(item_id="same")), "more than once")),
    Case("blank model", ingest(lambda t: write_csv(t / "blank.csv", good_rows(model="")), "model")),
    Case("truncated gzip", ingest(lambda t: truncated_gzip(t / "cut.csv.gz"))),
    Case("corrupt gzip", ingest(lambda t: text_file(t / "junk.csv.gz", "this is not gzip at all\n" * 10))),
    Case("unknown file type", ingest(lambda t: text_file(t / "results.xlsx", "PK\x03\x04"))),
    Case("corrupt parquet", ingest(lambda t: text_file(t / "bad.parquet", "not parquet"))),
    Case("missing path", ingest(lambda t: t / "nowhere.csv", "no such file")),
    Case("empty folder", ingest(lambda t: (t / "folder").mkdir() or (t / "folder"))),
    Case("Latin-1 text", ingest(lambda t: text_file(t / "latin1.csv", HEADER + "mod\xe8le,qa,1,1\n", "latin-1"),
                                "line 2", "UTF-8")),
    Case("UTF-16 text", ingest(lambda t: text_file(t / "utf16.csv", HEADER + "delta,qa,1,1\n", "utf-16"),
                               "line 1", "UTF-8")),
    Case("line of 3 MB", ingest(lambda t: text_file(t / "long.csv", HEADER + "delta,qa,1," + "9" * 3_000_000 + "\n"),
                                "Maximum line size")),
    Case("repeated header", ingest(lambda t: text_file(t / "xx.csv", "model,x,x\ndelta,1,2\n"), "line 1", "'x'",
                                   option="--wide")),
    Case("no numeric wide column", ingest(lambda t: text_file(t / "words.csv", "model,x\ndelta,good\n"),
                                          option="--wide")),
    # Names: the policy every adapter applies.
    Case("NUL byte in a name", ingest(lambda t: write_csv(t / "nul.csv", good_rows(model="Yi\x00-6B")),
                                      "'model'", "control characters")),
    Case("escape sequence in a name", ingest(lambda t: write_csv(t / "esc.csv", good_rows(scenario="qa\x1b[31m")),
                                             "'scenario'", "control characters")),
    Case("all-space name", ingest(lambda t: write_csv(t / "space.csv", good_rows(model="   ")), "'model'", "empty")),
    Case("name too long", ingest(lambda t: write_csv(t / "longname.csv", good_rows(model=LONG_NAME)),
                                 "'model'", "longer than")),
    Case("JSON object as a model", ingest(lambda t: jsonl(t / "obj.jsonl", good_rows(model={"n": "Yi-6B"})),
                                          "'model'", "STRUCT")),
    Case("JSON list as a scenario", ingest(lambda t: jsonl(t / "list.jsonl", good_rows(scenario=["qa"])),
                                           "'scenario'", "[]")),
    Case("spaces make a repeated item", ingest(lambda t: write_csv(t / "tr1.csv", [
        {"model": "delta", "scenario": "qa", "item_id": "tr1", "score": 1},
        {"model": "delta", "scenario": "qa", "item_id": "tr1 ", "score": 0}]), "more than once")),
    # Conflicts with what the database holds.
    Case("results already loaded", ingest(lambda t: write_csv(t / "again.csv", long_rows({"alpha": {"qa": [1]}})),
                                          "already loaded")),
    Case("metadata type differs", ingest(
        lambda t: write_csv(t / "meta.csv", [{"model": "gamma", "params_b": "hello"}]), "'params_b'", "'hello'",
        option="--models")),
    Case("key column type differs", key_type_differs),
    Case("malformed JSON lines", ingest(lambda t: text_file(t / "broken.jsonl", '{"model": "delta", "scenario": \n'))),
    Case("too many metadata columns", ingest(
        lambda t: write_csv(t / "metawide.csv", [{"model": "gamma", **{f"c{i}": i for i in range(250)}}]),
        "at most", option="--models")),
    Case("scenario holds per-item and per-scenario results", ingest(
        lambda t: text_file(t / "table.csv", "model,qa\ndelta,0.5\n"), "'qa'", option="--wide")),
    # Databases that are not effbench's.
    Case("database is text", with_db(lambda t: text_file(t / "junk.duckdb", "hello"), "DuckDB")),
    Case("database is SQLite", with_db(lambda t: sqlite_file(t / "lite.db"), "SQLite")),
    Case("database is another DuckDB", with_db(lambda t: foreign_duckdb(t / "other.duckdb"), "not effbench's")),
    Case("database is locked", locked),
    # Options and settings, refused before any work.
    Case("negative seed", build(lambda t, db: ["--seed", "-1", "--db", str(db), "--out", str(t / "s")], "--seed")),
    Case("seed beyond 64 bits", build(lambda t, db: ["--seed", str(2**70), "--db", str(db), "--out", str(t / "s")],
                                      "--seed")),
    Case("settings not UTF-8", build(lambda t, db: [
        "--config", str(text_file(t / "latin.toml", '[site]\ntitle = "caf\xe9"\n', "latin-1")),
        "--db", str(db), "--out", str(t / "s")], "latin.toml", "UTF-8")),
    Case("title is a table", build(lambda t, db: [
        "--config", str(text_file(t / "table.toml", '[site.title]\nn = 1\n')),
        "--db", str(db), "--out", str(t / "s")], "table.toml", "title")),
    Case("unknown scenario declared lower-is-better", build(lambda t, db: [
        "--lower-is-better", "latency", "--db", str(db), "--out", str(t / "s")], "--lower-is-better", "'latency'")),
    Case("database inside the output folder", db_inside_out),
    Case("input inside the output folder", input_inside_out),
    *HARNESS_CASES,
]


def fingerprint(db: Path) -> tuple[str, dict[str, str]]:
    """Return the file's sha256 and, for a DuckDB file effbench can read, a hash of every table's rows."""
    digest = hashlib.sha256(db.read_bytes()).hexdigest()
    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error:
        return digest, {}
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()]
        content = {t: hashlib.sha256(repr(con.execute(f'SELECT * FROM "{t}" ORDER BY ALL').fetchall()).encode())
                   .hexdigest() for t in tables}
    finally:
        con.close()
    return digest, content


def test_the_table_covers_at_least_30_bad_inputs():
    assert len(CASES) >= 30 and len({case.name for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input_exits_with_one_line_and_changes_nothing(tmp_path, baseline, case):
    db = tmp_path / "e.duckdb"
    shutil.copyfile(baseline, db)
    args, watched, needles = case.make(tmp_path, db)
    before = fingerprint(watched)
    holder = None
    if case.name == "database is locked":
        holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]);"
                                   " print('open', flush=True); time.sleep(60)", str(db)],
                                  stdout=subprocess.PIPE, text=True)
        assert holder.stdout.readline().strip() == "open"
    try:
        result = runner.invoke(app, args)
    finally:
        if holder is not None:
            holder.kill()
            holder.wait()
    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit), f"unhandled: {result.exception!r}"  # else a traceback
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("effbench: error: ") and "Traceback" not in result.output
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    assert watched.exists(), "the database was removed"
    assert fingerprint(watched) == before


def test_debug_shows_the_traceback(tmp_path, baseline):
    db = tmp_path / "e.duckdb"
    shutil.copyfile(baseline, db)
    result = subprocess.run([sys.executable, "-m", "effbench", "--debug", "build", "--seed", "-1", "--db", str(db)],
                            capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode != 0
    assert "Traceback" in result.stderr and "EffbenchError" in result.stderr
    plain = subprocess.run([sys.executable, "-m", "effbench", "build", "--seed", "-1", "--db", str(db)],
                           capture_output=True, text=True, cwd=tmp_path)
    assert plain.returncode == 1 and plain.stderr.count("\n") == 1 and "Traceback" not in plain.stderr


EXTREME_VALUES = [case for case in CASES if case.name in (
    "score near the float limit", "score at minus the float limit", "infinite score in a wide Parquet table",
    "huge score in a wide table", "infinite training tokens")]


# One harness case per adapter: the refusal is the same for every kind of bad field.
ONE_PER_ADAPTER = [case for case in HARNESS_CASES if case.name in (
    "HELM train_trial_index is null", "lm-eval doc_id is a list", "Inspect score too large for a float",
    "Every Eval Ever score_details is null", "lighteval JSON nested 100,000 deep",
    "OpenCompass accuracy too large for a float", "OpenEval scores is a number", "AlpacaEval model is null")]


@pytest.mark.parametrize("case", EXTREME_VALUES + ONE_PER_ADAPTER, ids=[case.name for case in EXTREME_VALUES
                                                                        + ONE_PER_ADAPTER])
def test_after_a_refused_input_the_next_build_succeeds(tmp_path, baseline, case):
    db = tmp_path / "e.duckdb"
    shutil.copyfile(baseline, db)
    args, _, _ = case.make(tmp_path, db)
    assert runner.invoke(app, args).exit_code == 1
    result = runner.invoke(app, ["build", "--db", str(db), "--out", str(tmp_path / "site"), "--resamples", "50"])
    assert result.exit_code == 0, result.output


def test_the_largest_accepted_scores_and_a_nan_size_build(tmp_path, baseline):
    """Scores at plus and minus the largest magnitude a load accepts, and a size of NaN (unknown), go
    through every stage."""
    db = tmp_path / "e.duckdb"
    shutil.copyfile(baseline, db)
    rows = [{**row, "score": (1e15, -1e15, 0)[i % 3]} for i, row in enumerate(good_rows())]
    results = write_csv(tmp_path / "extreme.csv", rows + [{**row, "model": "omega"} for row in good_rows()])
    sizes = parquet(tmp_path / "sizes.parquet", "SELECT * FROM (VALUES ('delta', 'nan'::DOUBLE), "
                    "('omega', 3.0)) AS t(model, params_b)")
    loaded = runner.invoke(app, ["ingest", str(results), "--models", str(sizes), "--db", str(db)])
    assert loaded.exit_code == 0, loaded.output
    built = runner.invoke(app, ["build", "--db", str(db), "--out", str(tmp_path / "site"), "--resamples", "50"])
    assert built.exit_code == 0, built.output
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT params_b FROM models WHERE model = 'delta'").fetchone() == (None,)
        assert con.execute("SELECT max(score), min(score) FROM scores").fetchone() == (1e15, -1e15)
