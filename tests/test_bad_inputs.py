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


@pytest.mark.parametrize("case", EXTREME_VALUES, ids=[case.name for case in EXTREME_VALUES])
def test_after_a_refused_extreme_value_the_next_build_succeeds(tmp_path, baseline, case):
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
