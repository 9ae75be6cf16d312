"""Every page type, parsed: landmarks, headings, labelled tables and controls, charts with titles,
colours with enough contrast, the size budget, and a download DuckDB 1.4 can open."""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

from effbench import pipeline
from effbench.analysis_tables import AnalysisParameters, DiorParameters
from effbench.flash import FlashConfig
from effbench.load import Source

from conftest import write_csv

PAGE_TYPES = ["index.html", "reliability.html", "flash.html", "how-to-read.html", "models/yi-34b.html",
              "scenarios/law.html", "compare.html", "provenance.html"]


class Structure(HTMLParser):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.headings: list[int] = []
        self.untitled_charts = 0
        self._svg_depth = 0
        self._svg_has_title: list[bool] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        if tag == "svg":
            self._svg_has_title.append(False)
        elif tag == "title" and self._svg_has_title:
            self._svg_has_title[-1] = True

    def handle_endtag(self, tag):
        if tag == "svg" and self._svg_has_title and not self._svg_has_title.pop():
            self.untitled_charts += 1

    def all(self, tag: str) -> list[dict]:
        return [attrs for name, attrs in self.tags if name == tag]


@pytest.mark.parametrize("path", PAGE_TYPES)
def test_every_page_type_has_landmarks_headings_and_labelled_parts(example_build, path):
    text = (example_build.out / path).read_text()
    page = Structure(text)
    for landmark in ("header", "nav", "main", "footer"):
        assert page.all(landmark), f"{path}: no <{landmark}>"
    assert page.all("html")[0].get("lang") == "en"
    assert page.headings.count(1) == 1, f"{path}: one h1"
    assert all(b - a <= 1 for a, b in zip(page.headings, page.headings[1:], strict=False)), f"{path}: heading skips"
    assert len(page.all("table")) == len(re.findall(r"<caption>", text)), f"{path}: a table without caption"
    assert all(attrs.get("scope") for attrs in page.all("th")), f"{path}: a header cell without scope"
    assert page.untitled_charts == 0, f"{path}: a chart without a title"
    for attrs in page.all("svg"):
        assert attrs.get("role") == "img"


def test_controls_are_labelled_and_the_sort_buttons_are_buttons(example_build):
    text = (example_build.out / "index.html").read_text()
    form = text.split('<form id="leaderboard-controls"', 1)[1].split("</form>", 1)[0]
    for control in re.findall(r"<(input|select)\b", form):
        assert control
    labels = re.findall(r"<label[^>]*>[^<]*<(input|select)", form)
    assert len(labels) == len(re.findall(r"<(?:input|select)\b", form))
    headers = re.findall(r'<th scope="col"[^>]*data-key="[^"]+"[^>]*aria-sort="[a-z]+"><button type="button">', text)
    assert len(headers) >= 5


def _hex(colour: str) -> tuple[float, float, float]:
    return tuple(int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5))


def _luminance(colour: str) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in _hex(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_text_colours_contrast_at_least_4_5_to_1_in_light_and_dark():
    css = (Path(__file__).resolve().parent.parent / "templates" / "static" / "style.css").read_text()
    light = dict(re.findall(r"--([a-z]+): (#[0-9a-f]{6})", css.split("@media (prefers-color-scheme: dark)")[0]))
    dark = {**light, **dict(re.findall(r"--([a-z]+): (#[0-9a-f]{6})",
                                       css.split("@media (prefers-color-scheme: dark)")[1].split("}")[1]))}
    for scheme in (light, dark):
        for text_colour in ("fg", "muted", "accent"):
            for background in ("bg", "stripe"):
                assert contrast(scheme[text_colour], scheme[background]) >= 4.5, (text_colour, background, scheme)


def test_heat_map_cells_keep_their_text_readable(example_build):
    css = (Path(__file__).resolve().parent.parent / "templates" / "static" / "style.css").read_text()
    steps = re.findall(r"td\.h(\d) \{ background: (#[0-9a-f]{6}); color: (#[0-9a-f]{6}); \}", css)
    assert len(steps) == 9
    assert min(contrast(bg, fg) for _, bg, fg in steps) >= 4.5
    text = (example_build.out / "index.html").read_text()
    used = re.findall(r'<td class="num h(\d)"', text)
    assert len(used) == 29 * 14 and {"0", "8"} <= set(used)


def test_index_for_100_models_stays_under_300_kb_with_its_assets(tmp_path):
    rows = []
    for m in range(100):
        for s in range(12):
            for i in range(20):
                rows.append({"model": f"organisation-{m % 9}/model-{m:03d}-instruct", "scenario": f"scenario {s}",
                             "item_id": f"{s}-{i}", "score": int((m * 7 + i * 13 + s) % 100 < 30 + m // 2)})
    results = write_csv(tmp_path / "r.csv", rows)
    meta = write_csv(tmp_path / "m.csv", [{"model": f"organisation-{m % 9}/model-{m:03d}-instruct",
                                           "organization": f"Org {m % 9}", "params_b": 1 + m,
                                           "open_weights": m % 2 == 0, "release_date": "2024-01-01"}
                                          for m in range(100)])
    # Fewer resamples, draws and replayed item orders than the defaults: the pages' weight depends on the
    # models, not on them (the Flash replay of five orders took more than half of the build).
    report = pipeline.build(tmp_path / "e.duckdb", tmp_path / "site", [Source(results), Source(meta, "models")],
                            parameters=AnalysisParameters(n_resamples=200), dior_parameters=DiorParameters(n_draws=50),
                            flash_config=FlashConfig(seeds=1, n_resamples=100))
    assert report.update.n_models == 100
    site = tmp_path / "site"
    size = sum((site / name).stat().st_size for name in ("index.html", "static/style.css", "static/leaderboard.js",
                                                         "static/favicon.svg"))
    assert size < 300_000, size


@pytest.fixture(scope="module")
def duckdb_14(tmp_path_factory) -> Path:
    """DuckDB 1.4 from PyPI, installed into a folder of its own (the tests' own DuckDB is newer)."""
    target = tmp_path_factory.mktemp("duckdb14")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target),
                    "duckdb==1.4.*"], check=True)
    return target


def test_the_downloaded_database_opens_in_duckdb_1_4(example_build, duckdb_14):
    database = example_build.out / "data" / "effbench.duckdb"
    script = ("import sys, duckdb; c = duckdb.connect(sys.argv[1], read_only=True); "
              "print(duckdb.__version__, c.execute('select count(*) from leaderboard').fetchone()[0])")
    done = subprocess.run([sys.executable, "-c", script, str(database)], env={"PYTHONPATH": str(duckdb_14)},
                          capture_output=True, text=True, check=True)
    version, count = done.stdout.split()
    assert version.startswith("1.4.") and count == "29"
    assert duckdb.__version__ != version  # the check means something only with a newer writer


def test_parquet_twins_hold_the_same_rows_as_csv(example_build):
    site = example_build.out / "data"
    for stem in ("leaderboard", "dior", "flash"):
        from_parquet = duckdb.execute(f"SELECT count(*) FROM '{site / (stem + '.parquet')}'").fetchone()[0]
        from_csv = duckdb.execute(f"SELECT count(*) FROM read_csv('{site / (stem + '.csv')}')").fetchone()[0]
        assert from_parquet == from_csv > 0


def test_site_weight_benchmark_runs(capsys):
    import importlib.util

    path = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_site_weight.py"
    spec = importlib.util.spec_from_file_location("bench_site_weight", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sizes = module.main(["--smoke"])
    assert set(sizes) == {"index with its assets", "rows file loaded after the index's first rows", "compare page",
                          "largest pairs file", "all pair files", "files in the site"}
    assert sizes["rows file loaded after the index's first rows"] == 0  # 8 models: every row is in the index
    assert sizes["all pair files"] >= sizes["largest pairs file"] > 1000
    assert all(sizes[what] > 1000 for what in ("index with its assets", "compare page"))
    assert "8 models x 12 scenarios: compare page:" in capsys.readouterr().out
