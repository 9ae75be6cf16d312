"""Weigh the pages a reader downloads: the index with its assets and the compare view, as boards grow.

Usage: python benchmarks/bench_site_weight.py [--models 100] [--scenarios 12] [--smoke]
Builds a made-up board (the one tests/test_pages.py holds under 300 KB) and prints, in bytes, the
index with its stylesheet, script and favicon, the rows file a large board's index loads after its first
rows, the compare page, the largest file of pairs the compare page loads for one comparison, all pair
files together (they grow linearly with the number of models), and the site's number of files.
"""

from __future__ import annotations

import argparse
import csv
import tempfile
from pathlib import Path

from effbench import pipeline
from effbench.analysis_tables import AnalysisParameters, DiorParameters
from effbench.load import Source

ASSETS = ("index.html", "static/style.css", "static/leaderboard.js", "static/favicon.svg")


def board(folder: Path, n_models: int, n_scenarios: int) -> list[Source]:
    """Write the results and metadata of a made-up board (the same as tests/test_pages.py's)."""
    name = [f"organisation-{m % 9}/model-{m:03d}-instruct" for m in range(n_models)]
    with open(folder / "r.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["model", "scenario", "item_id", "score"])
        writer.writerows([name[m], f"scenario {s}", f"{s}-{i}", int((m * 7 + i * 13 + s) % 100 < 30 + m // 2)]
                         for m in range(n_models) for s in range(n_scenarios) for i in range(20))
    with open(folder / "m.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["model", "organization", "params_b", "open_weights", "release_date"])
        writer.writerows([name[m], f"Org {m % 9}", 1 + m, m % 2 == 0, "2024-01-01"] for m in range(n_models))
    return [Source(folder / "r.csv"), Source(folder / "m.csv", "models")]


def main(argv: list[str] | None = None) -> dict[str, int]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--scenarios", type=int, default=12)
    parser.add_argument("--smoke", action="store_true", help="8 models, few resamples: checks the script runs")
    args = parser.parse_args(argv)
    n_models = 8 if args.smoke else args.models
    options = {"parameters": AnalysisParameters(n_resamples=50), "dior_parameters": DiorParameters(n_draws=20)} \
        if args.smoke else {}
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        pipeline.build(root / "e.duckdb", root / "site", board(root, n_models, args.scenarios), **options)
        site = root / "site"
        sizes = {
            "index with its assets": sum((site / name).stat().st_size for name in ASSETS),
            "rows file loaded after the index's first rows": sum(
                p.stat().st_size for p in (site / "data").glob("leaderboard-rows.js")),
            "compare page": (site / "compare.html").stat().st_size,
            "largest pairs file": max(p.stat().st_size for p in (site / "data" / "compare").glob("*.js")),
            "all pair files": sum(p.stat().st_size for p in (site / "data" / "compare").glob("*.js")),
            "files in the site": sum(1 for p in site.rglob("*") if p.is_file()),
        }
    for what, size in sizes.items():
        print(f"{n_models} models x {args.scenarios} scenarios: {what}: {size:,}"
              f"{'' if what.startswith('files') else ' bytes'}")
    return sizes


if __name__ == "__main__":
    main()
