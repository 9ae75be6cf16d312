"""The small site, built afresh, is the committed copy: missing, unexpected and changed files are listed.

After a deliberate change, regenerate the copy with `python tests/expected_site.py` and review the diff.
"""

from __future__ import annotations

import duckdb

from expected_site import BINARY_SUFFIXES, EXPECTED, NOT_COMPARED, STATIC, build_small_site, site_files


def test_small_site_matches_the_committed_copy(tmp_path):
    site = build_small_site(tmp_path)
    built = site_files(site) - set(NOT_COMPARED)
    static = {f for f in built if f.startswith(STATIC)}
    for name in static:
        assert (site / name).read_bytes() == (EXPECTED.parent.parent / "templates" / name).read_bytes(), name
    compared = {f for f in built - static if not f.endswith(BINARY_SUFFIXES)}
    expected = site_files(EXPECTED)
    missing = sorted(expected - compared)
    unexpected = sorted(compared - expected)
    changed = sorted(f for f in compared & expected if (site / f).read_bytes() != (EXPECTED / f).read_bytes())
    assert (missing, unexpected, changed) == ([], [], []), (
        f"missing: {missing}\nunexpected: {unexpected}\nchanged: {changed}\n"
        "if the change is deliberate, run: python tests/expected_site.py")
    for name in sorted(built - compared - static):  # Parquet twins: the same rows as the committed CSV
        csv_twin = EXPECTED / name.replace(".parquet", ".csv")
        got = duckdb.execute(f"SELECT count(*) FROM '{site / name}'").fetchone()[0]
        want = duckdb.execute(f"SELECT count(*) FROM read_csv('{csv_twin}')").fetchone()[0]
        assert got == want, name
