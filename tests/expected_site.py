"""Small sites built from made-up results, and the committed copies of them that the tests compare with:
a site of one board (`expected_site/`) and a site of two unrelated boards (`expected_site_boards/`).

Regenerate the copies after a deliberate change to the templates or the analyses (never in CI):

    python tests/expected_site.py

then review `git diff tests/expected_site/ tests/expected_site_boards/` like any other change.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from unittest import mock

HERE = Path(__file__).resolve().parent
EXPECTED = HERE / "expected_site"
EXPECTED_BOARDS = HERE / "expected_site_boards"
# Binary downloads whose bytes depend on the DuckDB version (the writer's name is in the file) or on
# a random file identifier: compared by content in the tests, not byte for byte. The build record
# (`pipeline.SITE_STAMP`) holds a digest that depends on where the site was built.
NOT_COMPARED = ("data/effbench.duckdb", ".effbench-site.json")
# Copied verbatim from templates/static: compared with their source, not kept twice in the repository.
STATIC = "static/"
BINARY_SUFFIXES = (".parquet",)

# Three models on two scenarios of eight items: a clear leader, two close followers.
RESULTS = {
    "alpha": {"reading": [1, 1, 1, 1, 1, 1, 0, 1], "maths": [1, 1, 1, 0, 1, 1, 1, 1]},
    "beta": {"reading": [1, 0, 1, 1, 0, 1, 0, 1], "maths": [0, 1, 1, 0, 1, 0, 1, 1]},
    "gamma": {"reading": [0, 1, 1, 0, 1, 1, 0, 0], "maths": [1, 0, 1, 1, 0, 1, 0, 1]},
}
# A second, unrelated benchmark: other models on one scenario of six items (one with a long name, which
# must wrap on a phone), and alpha, which is on both.
LONG_MODEL = "anthropic/claude-3-5-sonnet-20240620"
SECOND_BOARD = {
    "alpha": {"coding": [1, 0, 1, 1, 0, 1]},
    LONG_MODEL: {"coding": [1, 1, 1, 1, 0, 1]},
    "epsilon": {"coding": [0, 0, 1, 0, 0, 1]},
    "zeta": {"coding": [1, 0, 0, 1, 0, 0]},
}


def _write_results(path: Path, results: dict) -> Path:
    with open(path, "w") as handle:
        handle.write("model,scenario,item_id,score\n")
        for model, by_scenario in results.items():
            for scenario, scores in by_scenario.items():
                for i, score in enumerate(scores):
                    handle.write(f"{model},{scenario},{scenario}-{i},{score}\n")
    return path


def build_two_board_site(folder: Path) -> Path:
    """Build the small site with a second, unrelated board into `folder`/site and return that path."""
    return build_small_site(folder, extra=_write_results(folder / "coding.csv", SECOND_BOARD))


def build_small_site(folder: Path, extra: Path | None = None) -> Path:
    """Build the small site (with the results in `extra` too) into `folder`/site and return that path."""
    sys.path.insert(0, str(HERE.parent))
    from effbench import pipeline
    from effbench.analysis_tables import AnalysisParameters, DiorParameters
    from effbench.load import Source

    results = _write_results(folder / "results.csv", RESULTS)
    models = folder / "models.csv"
    models.write_text("model,organization,params_b,open_weights\nalpha,Lab A,70,true\nbeta,Lab B,8,false\n"
                      "gamma,Lab A,7,true\n")
    # Load and build times appear on the provenance page: pinned, so that two builds give the same bytes.
    with mock.patch.dict(os.environ, {"SOURCE_DATE_EPOCH": "0"}):
        sources = [Source(results), *([Source(extra)] if extra else []), Source(models, "models")]
        pipeline.build(folder / "small.duckdb", folder / "site", sources,
                       parameters=AnalysisParameters(n_resamples=200), dior_parameters=DiorParameters(n_draws=100),
                       title="Small benchmark")
    return folder / "site"


def site_files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


SITES = {EXPECTED: build_small_site, EXPECTED_BOARDS: build_two_board_site}


def main() -> None:
    for expected, build in SITES.items():
        with tempfile.TemporaryDirectory() as folder:
            site = build(Path(folder))
            shutil.rmtree(expected, ignore_errors=True)
            shutil.copytree(site, expected, ignore=shutil.ignore_patterns("effbench.duckdb", "*.parquet", "static",
                                                                             ".effbench-site.json"))
        print(f"wrote {expected} ({len(site_files(expected))} files)")


if __name__ == "__main__":
    main()
