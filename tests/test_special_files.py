"""Pipes, sockets and devices are never read: in a folder they are skipped with a note, named on their
own they are refused with one line; the walk of a folder lists what `os.walk` would, in the same order."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from effbench.formats import list_files

from conftest import long_rows, write_csv


def effbench(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run the command in a process of its own, so that a read that blocks fails the test instead of hanging it."""
    return subprocess.run([sys.executable, "-m", "effbench", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120)


@pytest.fixture
def folder_with_specials(tmp_path) -> Path:
    runs = tmp_path / "runs"
    runs.mkdir()
    write_csv(runs / "ok.csv", long_rows({"a": {"qa": [1, 0, 1]}, "b": {"qa": [0, 0, 1]}}))
    os.mkfifo(runs / "pipe.csv")
    (runs / "zero.csv").symlink_to("/dev/zero")
    return runs


def test_a_folder_with_a_pipe_and_a_device_loads_the_rest_with_a_note(folder_with_specials, tmp_path):
    result = effbench("ingest", str(folder_with_specials), "--db", "e.duckdb", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "runs/ok.csv: loaded 6 rows" in result.stderr
    for name in ("pipe.csv", "zero.csv"):
        assert f"runs/{name}: skipped: not a regular file" in result.stderr


@pytest.mark.parametrize("name", ["pipe.csv", "zero.csv"])
@pytest.mark.parametrize("option", [None, "--wide", "--models"])
def test_a_pipe_or_device_named_on_its_own_is_refused(folder_with_specials, tmp_path, name, option):
    path = str(folder_with_specials / name)
    result = effbench("ingest", *([option] if option else []), path, "--db", "e.duckdb", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith(f"effbench: error: {path}: not a regular file")
    assert result.stderr.count("\n") == 1 and not (tmp_path / "e.duckdb").exists()


def test_the_walk_matches_os_walk_and_skips_what_it_must(tmp_path):
    for name in ("b/x.csv", "a-b/y.csv", "a/z.csv", "a.csv", ".hidden/h.csv", "c/.h.csv", "c/d/e.csv"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    (tmp_path / "linked").symlink_to(tmp_path / "c", target_is_directory=True)  # not followed
    (tmp_path / "loop").symlink_to(tmp_path, target_is_directory=True)
    os.mkfifo(tmp_path / "c" / "fifo")
    special: list[Path] = []
    expected = sorted(Path(folder) / name for folder, dirs, names in os.walk(tmp_path)
                      if not any(part.startswith(".") for part in Path(folder).relative_to(tmp_path).parts)
                      for name in names if not name.startswith(".") and (Path(folder) / name).is_file())
    assert list_files(tmp_path, special) == expected
    assert special == [tmp_path / "c" / "fifo"]
