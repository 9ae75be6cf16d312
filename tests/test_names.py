"""Names people know: display names and titles on the site, ids in tooltips, addresses and downloads."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from effbench.cli import app
from effbench.render.names import Names, unique_labels, web_page

from conftest import long_rows, write_csv
from helm_suite import write_suite

FAST = ["--resamples", "200"]


def build(folder: Path, *args: str) -> Path:
    """Run `effbench build ARGS` into `folder`/site with its own database, and return the site."""
    result = CliRunner().invoke(app, ["build", *args, "--db", str(folder / "e.duckdb"), "--out", str(folder / "site"),
                                      "-q", *FAST])
    assert result.exit_code == 0, result.output
    return folder / "site"


def test_a_display_name_shared_by_two_models_or_equal_to_another_id_is_not_used():
    labels = unique_labels(["a", "b", "c", "d", "x"], {"a": "Alpha", "b": "Twin", "c": "Twin", "d": "x"})
    assert labels == {"a": "Alpha", "b": "b", "c": "c", "d": "d", "x": "x"}


def test_a_display_name_not_used_is_said_in_the_build(tmp_path: Path):
    results = write_csv(tmp_path / "r.csv", long_rows({m: {"qa": [1, 0, 1, 0]} for m in ("m1", "m2", "m3")}))
    models = write_csv(tmp_path / "m.csv", [{"model": "m1", "display_name": "Twin"},
                                            {"model": "m2", "display_name": "Twin"}])
    result = CliRunner().invoke(app, ["build", str(results), "--models", str(models), "--db",
                                      str(tmp_path / "e.duckdb"), "--out", str(tmp_path / "site"), "-q", *FAST])
    assert result.exit_code == 0, result.output
    assert "display name 'Twin' (model m1, m2) is not shown" in result.output


def test_scenario_titles_shared_by_several_scenarios_carry_the_arguments_that_tell_them_apart():
    ids = ["bbq:subject=a,method=mc", "bbq:subject=b,method=mc", "mmlu", "gsm"]
    names = Names.of([], ids, pd.DataFrame(), pd.DataFrame({"scenario": ids, "title": ["BBQ", "BBQ", "MMLU", None]}),
                     {"gsm": "GSM8K"})
    assert names.scenarios == {"bbq:subject=a,method=mc": "BBQ (subject=a, method=mc)",
                               "bbq:subject=b,method=mc": "BBQ (subject=b, method=mc)",
                               "mmlu": "MMLU", "gsm": "GSM8K"}
    # Without arguments to tell them apart, both keep their ids.
    assert unique_labels(["p", "q"], {"p": "Same", "q": "Same"}, qualify=lambda s: "") == {"p": "p", "q": "q"}


@pytest.mark.parametrize(("metadata", "page"), [
    ({"link": "https://example.org/m"}, "https://example.org/m"),
    ({"url": " http://example.org/x "}, "http://example.org/x"),
    ({"link": "javascript:alert(1)", "hf_repo": "org/model-7b"}, "https://huggingface.co/org/model-7b"),
    ({"link": "https://example.org/a b"}, ""),
    ({"hf_repo": "../../etc"}, ""),
    ({"homepage": "ftp://example.org"}, ""),
    ({"link": float("nan")}, ""),
])
def test_a_web_page_is_an_http_address_or_a_hugging_face_repository(metadata, page):
    assert web_page(metadata) == page


class _Links(HTMLParser):
    """Every <a> and element with a title: (tag, attributes, text)."""

    def __init__(self):
        super().__init__()
        self.found, self._open = [], []

    def handle_starttag(self, tag, attrs):
        self._open.append((tag, dict(attrs), []))

    def handle_data(self, data):
        for _, _, text in self._open:
            text.append(data)

    def handle_endtag(self, tag):
        while self._open:
            name, attrs, text = self._open.pop()
            self.found.append((name, attrs, "".join(text).strip()))
            if name == tag:
                break


def _elements(path: Path) -> list[tuple[str, dict, str]]:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.found


@pytest.fixture(scope="module")
def named_site(tmp_path_factory) -> Path:
    """Four models, two with display names (one <b>hostile</b>) and web pages, on two scenarios."""
    folder = tmp_path_factory.mktemp("names")
    results = write_csv(folder / "results.csv", long_rows({
        "org/alpha-7b-instruct": {"qa": [1, 1, 1, 0, 1, 1], "math": [1, 1, 0, 1, 1, 1]},
        "org/beta-13b": {"qa": [1, 0, 1, 0, 1, 0], "math": [0, 1, 1, 0, 0, 1]},
        "gamma": {"qa": [0, 0, 1, 0, 0, 1], "math": [0, 0, 0, 1, 0, 0]},
        "delta": {"qa": [0, 0, 0, 0, 1, 0], "math": [0, 0, 0, 0, 0, 1]},
    }))
    models = write_csv(folder / "models.csv", [
        {"model": "org/alpha-7b-instruct", "display_name": "Alpha 7B", "link": "https://example.org/alpha",
         "hf_repo": ""},
        {"model": "org/beta-13b", "display_name": "<b>Beta</b>", "link": "javascript:alert(1)",
         "hf_repo": "org/beta-13b"},
        {"model": "gamma", "display_name": "", "link": "", "hf_repo": ""},
    ])
    (folder / "effbench.toml").write_text('[scenarios.qa]\ntitle = "Question answering"\n', encoding="utf-8")
    build(folder, str(results), "--models", str(models), "--config", str(folder / "effbench.toml"))
    return folder


def test_the_index_shows_display_names_with_the_id_as_tooltip_and_search_finds_either(named_site: Path):
    index = named_site / "site" / "index.html"
    html = index.read_text(encoding="utf-8")
    links = {text: attrs for tag, attrs, text in _elements(index) if tag == "a" and "models/" in attrs.get("href", "")}
    assert links["Alpha 7B"]["title"] == "org/alpha-7b-instruct"
    assert links["<b>Beta</b>"]["title"] == "org/beta-13b"  # the name is text, escaped, never markup
    assert "<b>Beta</b>" not in html and "&lt;b&gt;Beta&lt;/b&gt;" in html
    assert "title" not in links["gamma"]  # no display name: the id, no tooltip
    rows = re.findall(r'data-model="([^"]*)"', html)
    assert "Alpha 7B org/alpha-7b-instruct" in rows and "gamma" in rows
    buttons = {text: attrs for tag, attrs, text in _elements(index) if tag == "button" and attrs.get("title")}
    assert buttons["Question answering"]["title"] == "qa"
    # The rank chart labels models by the names the table shows.
    assert 'text-anchor="end">Alpha 7B</text>' in html.split('id="ranks-title"')[1].split("</svg>")[0]


def test_the_model_page_is_headed_by_its_name_linked_to_its_web_page_with_its_id(named_site: Path):
    site = named_site / "site"
    pages = {p.name: p for p in (site / "models").glob("*.html")}
    alpha = next(p for p in pages.values() if "<code>org/alpha-7b-instruct</code>" in p.read_text(encoding="utf-8"))
    h1 = [(attrs, text) for tag, attrs, text in _elements(alpha) if tag == "a" and attrs.get("rel")]
    assert ({"href": "https://example.org/alpha", "rel": "external noopener"}, "Alpha 7B") in h1
    html = alpha.read_text(encoding="utf-8")
    assert "<code>org/alpha-7b-instruct</code>" in html and "<title>Alpha 7B" in html
    embed = (site / "embed.html").read_text(encoding="utf-8")
    assert 'title="org/alpha-7b-instruct">Alpha 7B</a>' in embed
    beta = next(p for p in pages.values() if "<code>org/beta-13b</code>" in p.read_text(encoding="utf-8")
                ).read_text(encoding="utf-8")
    assert "javascript:" not in beta and 'href="https://huggingface.co/org/beta-13b"' in beta


def test_addresses_and_downloads_keep_the_ids(named_site: Path):
    site = named_site / "site"
    board = pd.read_csv(site / "data" / "leaderboard.csv")
    assert set(board["model"]) == {"org/alpha-7b-instruct", "org/beta-13b", "gamma", "delta"}
    scenario_pages = sorted(p.name for p in (site / "scenarios").glob("*.html"))
    assert scenario_pages == ["math.html", "qa.html"]
    qa = (site / "scenarios" / "qa.html").read_text(encoding="utf-8")
    assert "<h1>Question answering</h1>" in qa and "<code>qa</code>" in qa


def test_helm_run_group_display_names_become_scenario_titles(tmp_path: Path):
    suite = write_suite(tmp_path, scenarios=("bbq", "xstest"), models=("a/one", "b/two", "c/three"))
    groups = [{"name": "bbq", "display_name": "BBQ", "description": "Bias benchmark",
               "environment": {"main_name": "exact_match", "main_split": "test"}},
              {"name": "xstest", "display_name": "XSTest",
               "environment": {"main_name": "exact_match", "main_split": "test"}}]
    models = [{"name": "a/one", "display_name": "One (A)"}]
    (suite / "schema.json").write_text(json.dumps({"run_groups": groups, "metrics": [], "models": models}))
    build(tmp_path, str(suite))
    with duckdb.connect(str(tmp_path / "e.duckdb"), read_only=True) as con:
        assert con.execute("SELECT scenario, title FROM scenarios ORDER BY 1").fetchall() == [
            ("bbq", "BBQ"), ("xstest", "XSTest")]
    index = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert 'title="bbq">BBQ</button>' in index and ">One (A)</a>" in index


def test_the_leaderboard_downloads_carry_every_column_of_the_index(tmp_path: Path):
    results = write_csv(tmp_path / "results.csv", long_rows({
        "a": {"qa": [1, 1, 1, 0, 1, 1], "math": [1, 1, 0, 1, 1, 1]},
        "b": {"qa": [1, 0, 1, 0, 1, 0], "math": [0, 1, 1, 0, 0, 1]},
        "c": {"qa": [0, 0, 1, 0, 0, 1], "math": [0, 0, 0, 1, None, 0]},
        "d": {"qa": [0, 0, 0, 0, 1, 0]},
    }))
    models = write_csv(tmp_path / "models.csv", [
        {"model": "a", "organization": "Org A", "license": "apache-2.0", "params_b": 7, "release_date": "2024-01-02",
         "rank": "not the rank"},
        {"model": "b", "organization": "Org B", "license": "proprietary", "params_b": 70, "release_date": "2024-03-04"},
    ])
    data = build(tmp_path, str(results), "--models", str(models)) / "data"
    csv = pd.read_csv(data / "leaderboard.csv")
    with duckdb.connect() as con:  # its own connection: the default one may hold another test's result
        parquet = con.execute(f"SELECT * FROM read_parquet('{data / 'leaderboard.parquet'}')").df()
    records = json.loads((data / "leaderboard.json").read_text(encoding="utf-8"))
    with duckdb.connect(str(tmp_path / "e.duckdb"), read_only=True) as con:
        board = con.execute("SELECT * FROM leaderboard ORDER BY rank, model").df()
        cells = con.execute("SELECT model, scenario, score, score_lo, score_hi FROM scenario_intervals").df()
    assert list(csv["model"]) == list(board["model"]) == list(parquet["model"]) == [r["model"] for r in records]
    for column in ("rank", "rank_lo", "rank_hi", "score", "score_lo", "score_hi"):
        assert csv[column].tolist() == pytest.approx(board[column].tolist(), nan_ok=True)
    for cell in cells.itertuples(index=False):
        row = parquet[parquet["model"] == cell.model].iloc[0]
        for value in ("score", "score_lo", "score_hi"):
            assert row[f"{value}:{cell.scenario}"] == pytest.approx(getattr(cell, value), nan_ok=True)
    assert parquet.loc[parquet["model"] == "d", "score:math"].isna().all()  # no result: empty, never 0
    by_model = parquet.set_index("model")
    assert by_model.loc["a", "license"] == "apache-2.0" and by_model.loc["b", "organization"] == "Org B"
    assert by_model.loc["a", "meta:rank"] == "not the rank"  # a metadata name taken by the board keeps both
    assert by_model["complete"].to_dict() == {"a": True, "b": True, "c": False, "d": False}
    index = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert '<select name="licence">' in index and '<option value="apache-2.0">' in index
    assert '<option value="yes">Complete results only</option>' in index
    assert re.search(r'data-model="c"[^>]*data-complete="no"', index)


def test_the_compare_view_calls_models_and_scenarios_by_their_names(named_site: Path):
    compare = (named_site / "site" / "compare.html").read_text(encoding="utf-8")
    options = {text for tag, attrs, text in _elements(named_site / "site" / "compare.html") if tag == "option"}
    assert {"Alpha 7B", "<b>Beta</b>", "gamma", "delta"} <= options
    data = json.loads(re.search(r'<script type="application/json"[^>]*>(.*?)</script>', compare, re.S).group(1))
    assert {m["name"] for m in data["models"]} == {"Alpha 7B", "<b>Beta</b>", "gamma", "delta"}
    assert {s["name"] for s in data["scenarios"]} == {"Question answering", "math"}
