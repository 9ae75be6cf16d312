"""The site of a board larger than one screenful: the index shows its first rows and ships the rest as
data, scenario pages show their top, model pages show their neighbourhood, and the compare view's pairs
grow linearly with the number of models (a generated 300-model board; only the ranking is computed)."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest

from effbench import analysis_tables, pipeline, queries, render, store, synth
from effbench.analysis_tables import AnalysisParameters
from effbench.compare import compared_pairs
from effbench.render.leaderboard import INDEX_ROWS, LEADERBOARD_ROWS

N_MODELS = 300


def build_scale_site(folder: Path, n_models: int = N_MODELS) -> Path:
    """Write a generated board of `n_models` models, rank it (no DIoR or Flash) and write its site;
    return the site's folder."""
    board = folder / "board.parquet"
    synth.write(synth.SynthSpec(n_models=n_models, n_items=40, n_scenarios=2, seed=0), board)
    db = folder / "board.duckdb"
    pipeline.update(db, pipeline.result_sources([board]), parameters=AnalysisParameters(n_resamples=100),
                    all_analyses=False)
    with store.open_store(db, read_only=True) as con:
        board = pipeline.pick_board(con, None)
        data = queries.site_data(con, board)
        plan = render.site_pages(data, title="Generated board",
                                 comparisons=pipeline.model_comparisons(con, data.analysis,
                                                                        reader=pipeline.board_reader(board)))
    render.write_site(plan, folder / "site", db)
    return folder / "site"


@pytest.fixture(scope="module")
def scale_site(tmp_path_factory) -> Path:
    return build_scale_site(tmp_path_factory.mktemp("scale"))


def _leaderboard(site: Path) -> list[dict[str, str]]:
    with open(site / "data" / "leaderboard.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_index_shows_the_first_rows_and_ships_every_other_model_as_data(scale_site):
    index = (scale_site / "index.html").read_text()
    rows_file = (scale_site / LEADERBOARD_ROWS).read_text()
    board = _leaderboard(scale_site)
    assert len(board) == N_MODELS
    in_page = re.findall(r'<tr class="model-row" data-model="([^"]+)"', index)
    assert in_page == [row["model"] for row in board[:INDEX_ROWS]]  # the top of the board, in rank order
    later = json.loads(rows_file[rows_file.index("effbenchLeaderboardRows(") + 24:rows_file.rindex(");")])
    assert len(later) == index.count("<tbody")  # one string per tier, in the table's order
    shipped = [name for html in later for name in re.findall(r'<tr class="model-row" data-model="([^"]+)"', html)]
    assert shipped == [row["model"] for row in board[INDEX_ROWS:]]
    # The page names the rows file and, for readers without JavaScript, the full table.
    assert f'data-rows="{LEADERBOARD_ROWS}"' in index
    assert f"The top {INDEX_ROWS} of {N_MODELS} models are shown" in index
    assert 'href="data/leaderboard.csv"' in index
    # A tier whose rows all come from the file stays hidden until then (no heading without rows).
    bodies = index.split("<tbody")[1:]
    assert all(body.startswith(" hidden>") != ('class="model-row"' in body) for body in bodies)


def test_index_weight_stays_that_of_its_first_rows(scale_site, tmp_path):
    small = build_scale_site(tmp_path, n_models=INDEX_ROWS + 20)
    big, smaller = (scale_site / "index.html").stat().st_size, (small / "index.html").stat().st_size
    assert abs(big - smaller) < 0.05 * smaller  # 300 models weigh what 120 do


def test_every_model_keeps_its_page_with_the_ranks_around_it(scale_site):
    board = _leaderboard(scale_site)
    pages = sorted((scale_site / "models").glob("*.html"))
    assert len(pages) == N_MODELS
    last = (scale_site / "models" / f"{board[-1]['model']}.html").read_text()
    assert 'aria-labelledby="around-title"' in last and 'aria-labelledby="neighbourhood-title"' in last
    chart = last[last.index('aria-labelledby="neighbourhood-title"'):]
    assert f">{board[-2]['model']}</text>" in chart and f">{board[-8]['model']}</text>" in chart
    assert f">{board[-9]['model']}</text>" not in chart  # seven places either side
    top = (scale_site / "models" / f"{board[0]['model']}.html").read_text()
    assert 'aria-labelledby="around-title"' in top


def test_scenario_pages_show_their_top_and_link_the_full_table(scale_site):
    page = next((scale_site / "scenarios").glob("*.html"))
    text = page.read_text()
    assert text.count('<th scope="row" class="model-col">') == INDEX_ROWS
    assert f"The top {INDEX_ROWS} of the {N_MODELS} models with results here are shown." in text
    link = re.search(r'<a href="([^"]+\.csv)">The full table', text).group(1)
    with open((page.parent / link).resolve(), newline="", encoding="utf-8") as handle:
        assert len(list(csv.DictReader(handle))) == N_MODELS


def test_charts_show_the_top_of_the_board_not_every_model(scale_site):
    index = (scale_site / "index.html").read_text()
    chart = index[index.index('id="ranks'):]
    assert chart.count('class="plot-dot"') <= 2 * INDEX_ROWS  # a wide and a narrow drawing of the top rows


@pytest.mark.parametrize("n_models", [300, 3000])
def test_compared_pairs_grow_linearly_and_cover_rank_neighbours_and_the_top(n_models):
    rank = np.random.default_rng(0).permutation(n_models) + 1
    later = compared_pairs(rank, neighbours=5, top=20)
    pairs = {(a, int(b)) for a, bs in later.items() for b in bs}
    assert len(pairs) <= 5 * n_models + 20 * 19 // 2
    order = np.argsort(rank)
    for place in (0, n_models // 2, n_models - 6):
        for step in range(1, 6):
            a, b = sorted((int(order[place]), int(order[place + step])))
            assert (a, b) in pairs
    top = sorted(int(m) for m in order[:20])
    assert all((a, b) in pairs for i, a in enumerate(top) for b in top[i + 1:])
    assert all(list(bs) == sorted(bs) and all(b > a for b in bs) for a, bs in later.items())


def test_compare_data_on_disk_grows_linearly_with_the_models(scale_site):
    files = list((scale_site / "data" / "compare").glob("*.js"))
    calls = [line for f in files for line in f.read_text().splitlines()]
    assert all(f.name.startswith("block-") for f in files) and len(files) <= N_MODELS // 50 + 1
    pairs = sum(len(json.loads(call.split(", ", 1)[1].rsplit(");", 1)[0])) for call in calls)
    assert 5 * (N_MODELS - 5) <= pairs <= 5 * N_MODELS + 190
    with open(scale_site / "data" / "compare.csv", newline="", encoding="utf-8") as handle:
        assert len(list(csv.DictReader(handle))) == pairs * 3  # overall and two scenarios per pair
    compare = (scale_site / "compare.html").read_text()
    payload = json.loads(compare.split('<script type="application/json" id="compare-data">', 1)[1]
                         .split("</script>", 1)[0])
    assert payload["selection"].startswith(f"With {N_MODELS} models, paired intervals")
    assert compare.count("<option ") == N_MODELS  # chooser B gets chooser A's options from the script
    assert sorted(int(call[len("effbenchComparePairs("):].split(",", 1)[0]) for call in calls) == payload["files"]


def test_a_scatter_of_thousands_of_models_stays_small_and_labels_the_notable_ones():
    from effbench.plots import DENSE_POINTS, scatter_chart

    rng = np.random.default_rng(0)
    sizes = 10 ** rng.uniform(-1, 3, 4000)
    scores = 0.2 + 0.1 * np.log10(sizes) + rng.normal(0, 0.05, 4000)
    points = [(float(x), float(y), float(y) - 0.02, float(y) + 0.02, f"model-{i}")
              for i, (x, y) in enumerate(zip(sizes, scores, strict=True))]
    chart = str(scatter_chart(points, title="t", x_label="x", y_label="y", chart_id="params"))
    assert len(chart) < 100_000  # both drawings; one dot per 3-unit cell in one path, no bars or tooltips
    assert "plot-bar" not in chart and "<title>model-" not in chart
    assert chart.count("plot-point-label") >= 4  # the notable points keep their labels
    few = str(scatter_chart(points[:DENSE_POINTS], title="t", x_label="x", y_label="y", chart_id="params"))
    assert few.count("plot-bar") == 2 * DENSE_POINTS and few.count("<title>model-") == DENSE_POINTS


def test_a_database_too_large_for_github_pages_is_left_out_and_the_pages_say_so(tmp_path, monkeypatch):
    """GitHub refuses files over 100 MB: a larger database stays out of the site, the build warns and
    every page with downloads says why; the tables stay downloadable."""
    from effbench.render import site_index

    db, out = tmp_path / "e.duckdb", tmp_path / "site"
    board = tmp_path / "board.parquet"
    synth.write(synth.SynthSpec(n_models=12, n_items=40, n_scenarios=2), board)
    monkeypatch.setattr(site_index, "MAX_SITE_FILE_BYTES", 1000)
    report = pipeline.build(db, out, pipeline.result_sources([board]),
                            parameters=AnalysisParameters(n_resamples=30),
                            dior_parameters=analysis_tables.DiorParameters(n_draws=10))
    assert not (out / "data" / "effbench.duckdb").exists()
    assert (out / "data" / "leaderboard.parquet").exists()
    assert len(report.warnings) == 1 and "is left out of the site" in report.warnings[0]
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "effbench.duckdb" not in index
    assert "is not on this site: GitHub Pages takes files of at most 100 MB" in index
