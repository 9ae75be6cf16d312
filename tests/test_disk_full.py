"""A full disk ends in one line that says what failed and what state the database and the site are in,
never in an internal error; the previous site and the database stay usable."""

from __future__ import annotations

import errno
import hashlib
import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from effbench import stats, store
from effbench.cli import app
from effbench.writer import SiteWriter

from conftest import long_rows, write_csv

runner = CliRunner()
FAST = ["--resamples", "30"]


def disk_full(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A database and the site built from it."""
    root = tmp_path_factory.mktemp("built")
    results = write_csv(root / "r.csv", long_rows({m: {"qa": [(i * k) % 2 for i in range(8)]}
                                                   for k, m in enumerate(("a", "b", "c"), 1)}))
    result = runner.invoke(app, ["build", str(results), "--db", str(root / "e.duckdb"), "--out", str(root / "site"),
                                 *FAST])
    assert result.exit_code == 0, result.output
    return root


def copy_of(built: Path, tmp_path: Path) -> tuple[Path, Path]:
    shutil.copytree(built / "site", tmp_path / "site")
    shutil.copyfile(built / "e.duckdb", tmp_path / "e.duckdb")
    return tmp_path / "e.duckdb", tmp_path / "site"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def one_error_line(result) -> str:
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("effbench: error: "), result.stderr
    return lines[0]


def test_disk_full_while_writing_the_site_keeps_the_previous_site(built, tmp_path, monkeypatch):
    db, site = copy_of(built, tmp_path)
    index = digest(site / "index.html")
    monkeypatch.setattr(SiteWriter, "write_text", disk_full)
    line = one_error_line(runner.invoke(app, ["build", "--title", "New", "--db", str(db), "--out", str(site), *FAST]))
    assert "no space left" in line and "the site was not written and the previous site is intact" in line
    assert digest(site / "index.html") == index
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e.duckdb", "site"]  # no temporary folder left


def test_disk_full_while_copying_the_database_into_the_site(built, tmp_path, monkeypatch):
    db, site = copy_of(built, tmp_path)

    def detach_fails(*_args, **_kwargs):
        raise duckdb.IOException("IO Error: Could not write file \"x\": No space left on device")
    monkeypatch.setattr("effbench.render.write.write_public_copy", detach_fails)
    line = one_error_line(runner.invoke(app, ["build", "--title", "New", "--db", str(db), "--out", str(site), *FAST]))
    assert "the results in" in line and "previous site is intact" in line


def test_disk_full_while_loading_leaves_the_database_as_it_was(built, tmp_path, monkeypatch):
    db, _ = copy_of(built, tmp_path)
    before = digest(db)
    more = write_csv(tmp_path / "more.csv", long_rows({"d": {"qa": [1, 0]}}))

    def ingest_fails(*_args, **_kwargs):
        raise duckdb.IOException("IO Error: Could not write file \"e.duckdb.wal\": No space left on device")
    monkeypatch.setattr(store, "ingest", ingest_fails)
    line = one_error_line(runner.invoke(app, ["ingest", str(more), "--db", str(db)]))
    assert str(db) in line and "nothing was loaded" in line
    assert digest(db) == before


def test_disk_full_after_the_load_says_the_results_were_loaded(built, tmp_path, monkeypatch):
    db, site = copy_of(built, tmp_path)
    more = write_csv(tmp_path / "more.csv", long_rows({"d": {"qa": [1, 0, 1, 1, 0, 0, 1, 0]}}))
    monkeypatch.setattr(stats, "rank_intervals", disk_full)
    line = one_error_line(runner.invoke(app, ["ingest", str(more), "--db", str(db)]))
    assert "the results were loaded" in line
    monkeypatch.undo()
    rebuilt = runner.invoke(app, ["build", "--db", str(db), "--out", str(site), *FAST])
    assert rebuilt.exit_code == 0 and "ranked 4 models" in rebuilt.stderr
