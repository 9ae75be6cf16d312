"""The site's copy of the database: file names relative to the build folder (no local absolute paths in
any file of the site), load times clamped to SOURCE_DATE_EPOCH, and two builds of the same inputs in two
folders byte for byte the same."""

from __future__ import annotations

import filecmp
from pathlib import Path

import duckdb
import pytest

from effbench import analysis_tables, pipeline
from effbench.flash import FlashConfig
from effbench.load import Source

from conftest import DUCKDB_WRITES_REPRODUCIBLY, long_rows, same_database, write_csv

FAST = dict(parameters=analysis_tables.AnalysisParameters(n_resamples=30),
            dior_parameters=analysis_tables.DiorParameters(n_draws=10), flash_config=FlashConfig(n_resamples=30))
EPOCH = 1_700_000_000  # 2023-11-14 22:13:20 UTC


def build_in(folder: Path, outside: Path) -> Path:
    """Build, from `folder` as the current folder, a site of one file inside it and one outside it."""
    (folder / "data").mkdir(parents=True)
    inside = write_csv(folder / "data" / "results.csv", long_rows({m: {"qa": [(i * k) % 2 for i in range(8)]}
                                                                   for k, m in enumerate(("a", "b", "c"), 1)}))
    meta = write_csv(outside / "models.csv", [{"model": "a", "params_b": 7}])
    pipeline.build(Path("e.duckdb"), Path("site"), [Source(inside.relative_to(folder)), Source(meta, "models")],
                   **FAST)
    return folder / "site"


@pytest.fixture
def two_builds(tmp_path, monkeypatch) -> tuple[Path, Path]:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(EPOCH))
    sites = []
    for name in ("first", "second"):
        folder, outside = tmp_path / name / "project", tmp_path / name / "elsewhere"
        outside.mkdir(parents=True)
        folder.mkdir()
        monkeypatch.chdir(folder)
        sites.append(build_in(folder, outside))
    return sites[0], sites[1]


def test_the_site_holds_no_absolute_local_path(two_builds, tmp_path):
    site = two_builds[0]
    with duckdb.connect(str(site / "data" / "effbench.duckdb"), read_only=True) as con:
        assert sorted(r[0] for r in con.execute("SELECT path FROM sources").fetchall()) == [
            "data/results.csv", "models.csv"]
        assert con.execute("SELECT count(*) FROM leaderboard").fetchone() == (3,)
        assert {r[0] for r in con.execute("SELECT epoch(loaded_at) FROM sources").fetchall()} == {EPOCH}
    leaked = [p for p in site.rglob("*") if p.is_file() and str(tmp_path).encode() in p.read_bytes()]
    assert leaked == []


def test_two_builds_of_the_same_inputs_are_byte_identical(two_builds):
    first, second = two_builds
    files = sorted(str(p.relative_to(first)) for p in first.rglob("*") if p.is_file())
    assert ".effbench-site.json" in files and "data/effbench.duckdb" in files
    match, mismatch, errors = filecmp.cmpfiles(first, second, files, shallow=False)
    if not DUCKDB_WRITES_REPRODUCIBLY and "data/effbench.duckdb" in mismatch:
        mismatch.remove("data/effbench.duckdb")
        assert same_database(first / "data/effbench.duckdb", second / "data/effbench.duckdb")
    assert mismatch == [] and errors == []
    assert sorted(str(p.relative_to(second)) for p in second.rglob("*") if p.is_file()) == files


def test_the_copy_keeps_every_table_view_and_comment(two_builds):
    site = two_builds[0]
    original = site.parent / "e.duckdb"
    query = ("SELECT table_name, comment, estimated_size FROM duckdb_tables() UNION ALL "
             "SELECT view_name, comment, 0 FROM duckdb_views() WHERE NOT internal ORDER BY 1")
    with duckdb.connect(str(original), read_only=True) as con:
        expected = con.execute(query).fetchall()
    with duckdb.connect(str(site / "data" / "effbench.duckdb"), read_only=True) as con:
        assert con.execute(query).fetchall() == expected
