"""`effbench dior`: the stored analysis is read while it is current, and the table stays aligned."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from effbench import pipeline, store
from effbench.analysis_tables import AnalysisParameters, DiorParameters
from effbench.cli import app
from effbench.load import Source
from effbench.pipeline import refresh

from conftest import long_rows, write_csv

runner = CliRunner()


@pytest.fixture
def built(tmp_path: Path) -> Path:
    results = write_csv(tmp_path / "r.csv", long_rows({
        model: {scenario: [int((i * (k + 3) + j) % 7 < 6 - k) for i in range(24)]
                for j, scenario in enumerate(["reading", "a scenario with a rather long name indeed", "maths"])}
        for k, model in enumerate(["alpha", "beta", "gamma", "delta", "epsilon"])
    }))
    db = tmp_path / "e.duckdb"
    pipeline.update(db, [Source(results)], parameters=AnalysisParameters(n_resamples=100),
                    dior_parameters=DiorParameters(n_draws=50))
    return db


def test_dior_reads_the_stored_analysis_while_it_is_current(built, monkeypatch):
    def no_drawing(*args, **kwargs):
        raise AssertionError("the stored analysis is current: nothing should be drawn again")

    monkeypatch.setattr(refresh, "compute_dior", no_drawing)
    stored = runner.invoke(app, ["dior", "--db", str(built), "--draws", "50", "--json"])
    assert stored.exit_code == 0, stored.output
    subset = runner.invoke(app, ["dior", "--db", str(built), "--draws", "50", "--decision", "examples",
                                 "--metric", "kendall_tau", "--json"])
    assert subset.exit_code == 0, subset.output
    assert '"decision": "scenarios"' in stored.output and '"decision": "scenarios"' not in subset.output
    monkeypatch.undo()
    # Other parameters than the stored ones draw again, and give the stored numbers for the same ones.
    again = pipeline.dior(built, DiorParameters(n_draws=50))
    with store.open_store(built) as con:
        recomputed = pipeline.compute_dior(con, DiorParameters(n_draws=50), pipeline.pick_board(con, None))
    key = [(r.decision, r.level, r.aggregation, r.meta_metric) for r in recomputed.rows]
    assert sorted(key) == sorted((r.decision, r.level, r.aggregation, r.meta_metric) for r in again.rows)
    by_key = {(r.decision, r.level, r.aggregation, r.meta_metric): r.dior for r in again.rows}
    assert all(by_key[k] == pytest.approx(r.dior) for k, r in zip(key, recomputed.rows, strict=True))
    assert again.recommendations == recomputed.recommendations


def test_the_dior_table_stays_aligned_with_long_level_names(built):
    result = runner.invoke(app, ["dior", "--db", str(built), "--draws", "50"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if not line.startswith("- ")]
    header = lines[0]
    assert len(lines) > 10
    ends = {len(line) for line in lines}
    assert ends == {len(header)}  # every row ends where the header does
    dior_at = header.index("  dior") + len("  dior")
    for line in lines[1:]:
        assert line[dior_at - 6:dior_at].strip().replace(".", "").replace("-", "").isdigit(), line
