"""Display names, licences and partial results in a real browser: the search finds a model by its name or
its id, and the licence and "complete results only" filters narrow the table.

Skipped without Chromium or Playwright, except in CI (see tests/browser.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from effbench.cli import app

from browser import CHROMIUM, FLAGS, require_browser, served, sync_playwright
from conftest import long_rows, write_csv

require_browser()

SHOWN = ("#leaderboard tr.model-row:not([hidden]) th.model-col a", "links => links.map(a => a.textContent)")


@pytest.fixture(scope="module")
def base_url(tmp_path_factory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("named")
    results = write_csv(folder / "results.csv", long_rows({
        "org/alpha-7b": {"qa": [1, 1, 1, 0, 1, 1], "math": [1, 1, 0, 1, 1, 1]},
        "org/beta-70b": {"qa": [1, 0, 1, 0, 1, 0], "math": [0, 1, 1, 0, 0, 1]},
        "gamma": {"qa": [0, 0, 1, 0, 0, 1], "math": [0, 0, 0, 1, None, 0]},
        "delta": {"qa": [0, 0, 0, 0, 1, 0]},
    }))
    models = write_csv(folder / "models.csv", [
        {"model": "org/alpha-7b", "display_name": "Alpha", "license": "apache-2.0"},
        {"model": "org/beta-70b", "display_name": "Beta", "license": "proprietary"},
        {"model": "gamma", "display_name": "", "license": "apache-2.0"},
    ])
    result = CliRunner().invoke(app, ["build", str(results), "--models", str(models), "--db",
                                      str(folder / "e.duckdb"), "--out", str(folder / "site"), "-q",
                                      "--resamples", "200"])
    assert result.exit_code == 0, result.output
    with served(folder / "site") as url:
        yield url


@pytest.fixture(scope="module")
def page(base_url):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        yield page
        browser.close()


def test_the_search_finds_a_model_by_its_display_name_or_its_id(page, base_url):
    page.goto(base_url + "index.html")
    page.fill('input[name="q"]', "beta-70b")
    assert page.eval_on_selector_all(*SHOWN) == ["Beta"]
    page.fill('input[name="q"]', "alph")
    assert page.eval_on_selector_all(*SHOWN) == ["Alpha"]
    assert page.get_attribute("#leaderboard th.model-col a", "title") == "org/alpha-7b"


def test_the_licence_and_complete_results_filters_narrow_the_table(page, base_url):
    page.goto(base_url + "index.html")
    everyone = page.eval_on_selector_all(*SHOWN)
    assert sorted(everyone) == ["Alpha", "Beta", "delta", "gamma"]
    page.select_option('select[name="licence"]', "apache-2.0")
    assert sorted(page.eval_on_selector_all(*SHOWN)) == ["Alpha", "gamma"]
    page.select_option('select[name="complete"]', "yes")
    assert page.eval_on_selector_all(*SHOWN) == ["Alpha"]
    assert "licence=apache-2.0" in page.url and "complete=yes" in page.url
    page.select_option('select[name="licence"]', "")
    assert sorted(page.eval_on_selector_all(*SHOWN)) == ["Alpha", "Beta"]
