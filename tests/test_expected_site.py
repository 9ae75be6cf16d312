"""The small site, built afresh, is the committed copy: missing, unexpected and changed files are listed.

After a deliberate change, regenerate the copy with `python tests/expected_site.py` and review the diff.
"""

from __future__ import annotations

import duckdb
import pytest

from expected_site import BINARY_SUFFIXES, NOT_COMPARED, SITES, STATIC, site_files


@pytest.mark.parametrize("expected", SITES, ids=lambda path: path.name)
def test_small_site_matches_the_committed_copy(tmp_path, expected):
    site = SITES[expected](tmp_path)
    built = site_files(site) - set(NOT_COMPARED)
    static = {f for f in built if f.startswith(STATIC)}
    for name in static:
        assert (site / name).read_bytes() == (expected.parent.parent / "templates" / name).read_bytes(), name
    compared = {f for f in built - static if not f.endswith(BINARY_SUFFIXES)}
    committed = site_files(expected)
    missing = sorted(committed - compared)
    unexpected = sorted(compared - committed)
    changed = sorted(f for f in compared & committed if (site / f).read_bytes() != (expected / f).read_bytes())
    assert (missing, unexpected, changed) == ([], [], []), (
        f"missing: {missing}\nunexpected: {unexpected}\nchanged: {changed}\n"
        "if the change is deliberate, run: python tests/expected_site.py")
    for name in sorted(built - compared - static):  # Parquet twins: the same rows as the committed CSV
        csv_twin = expected / name.replace(".parquet", ".csv")
        got = duckdb.execute(f"SELECT count(*) FROM '{site / name}'").fetchone()[0]
        want = duckdb.execute(f"SELECT count(*) FROM read_csv('{csv_twin}')").fetchone()[0]
        assert got == want, name
