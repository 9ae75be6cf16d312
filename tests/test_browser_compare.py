"""The compare view fits its screen, measured in a real browser: no sideways scrolling at 1400 px with every
column in view, and on a phone one block per scenario with both scores, the difference with its interval
and the verdict. Checked on the MMLU-Pro example (14 scenarios) and on a board of long model ids and
scenario names.

Skipped without Chromium or Playwright, except in CI (see tests/browser.py). Screenshots land in
`test-output/` (or `EFFBENCH_TEST_OUTPUT`), named compare-fit-SITE-WIDTH.png.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pytest

from browser import launched, require_browser, served
from conftest import long_rows, write_csv

OUTPUT = Path(os.environ.get("EFFBENCH_TEST_OUTPUT", Path(__file__).resolve().parent.parent / "test-output"))
VIEWPORTS = {1400: 900, 390: 844}

require_browser()

# Model ids of 60 to 90 characters, and a scenario name with no space to break at.
LONG_IDS = ("organization-name/very-long-model-name-instruct-2025-01-01-preview",
            "another-research-laboratory/extraordinarily-long-model-identifier-chat-v2-0924",
            "megacorp-ai-research-division/mixture-of-experts-reasoning-model-8x22b-instruct-v0.3",
            "small/m")
LONG_SCENARIOS = ("abstract_algebra_and_number_theory_with_a_long_name", "law", "math", "biology", "history",
                  "physics", "chemistry", "computer_science", "economics", "engineering", "philosophy",
                  "psychology")


@pytest.fixture(scope="module")
def long_id_site(tmp_path_factory) -> Path:
    """A board of four models, three with long ids, on twelve scenarios of twenty items."""
    from effbench import pipeline
    from effbench.analysis_tables import AnalysisParameters, DiorParameters
    from effbench.load import Source

    folder = tmp_path_factory.mktemp("long-ids")
    # Models far apart, so that verdicts name a long id; scenarios of different difficulty.
    rng = np.random.default_rng(20)
    scores = {model: {scenario: [int(rng.random() < share - 0.02 * s) for _ in range(20)]
                      for s, scenario in enumerate(LONG_SCENARIOS)}
              for model, share in zip(LONG_IDS, (0.6, 0.35, 0.95, 0.7), strict=True)}
    results = write_csv(folder / "results.csv", long_rows(scores))
    pipeline.build(folder / "long.duckdb", folder / "site", [Source(results)],
                   parameters=AnalysisParameters(n_resamples=200), dior_parameters=DiorParameters(n_draws=100))
    return folder / "site"


@pytest.fixture(scope="module")
def sites(example_build, long_id_site) -> Iterator[dict[str, str]]:
    with served(example_build.out) as mmlu, served(long_id_site) as long:
        yield {"mmlu-pro": mmlu, "long-ids": long}


@pytest.fixture(scope="module")
def browser():
    with launched() as instance:
        yield instance


# The pairs with the longest names: on MMLU-Pro, the one whose Verdict column was cut at 1400 px.
PAIRS = {"mmlu-pro": ("Meta-Llama-3_1-8B-Instruct", "Mixtral-8x7B-Instruct-v0.1"),
         "long-ids": (LONG_IDS[2], LONG_IDS[1])}

# Every cell of the compare table, with where it is and whether its text fits inside it.
GEOMETRY = """() => {
  const place = el => { const b = el.getBoundingClientRect();
    return {left: b.left, right: b.right, top: b.top, bottom: b.bottom, width: b.width,
            spills: el.scrollWidth > el.clientWidth + 1, text: el.innerText.trim(),
            label: getComputedStyle(el, '::before').content}; };
  const scroller = document.querySelector('#compare-table').closest('.table-scroll');
  const page = document.scrollingElement;
  const main = document.querySelector('main');
  return {
    viewport: window.innerWidth,
    page: [page.scrollWidth, page.clientWidth],
    scroller: [scroller.scrollWidth, scroller.clientWidth],
    box: place(scroller),
    heads: [...document.querySelectorAll('#compare-table thead th')].map(place),
    rows: [...document.querySelectorAll('#compare-table tbody tr')].map(row => ({
      scenario: place(row.querySelector('th')), a: place(row.cells[1]), b: place(row.cells[2]),
      difference: place(row.querySelector('.interval-cell')), verdict: place(row.cells[row.cells.length - 1])})),
    wide: [...main.querySelectorAll('*')].filter(el => el.getBoundingClientRect().right > window.innerWidth + 1)
      .map(el => el.tagName + (el.id ? '#' + el.id : '')),
  };
}"""

INTERVAL = re.compile(r"[+−]?\d\.\d{3} \([+−]?\d\.\d{3} to [+−]?\d\.\d{3}\)")


def _measured(browser, base_url: str, site: str, width: int) -> dict:
    """Open the compare view of the site's long-named pair at `width`, save a screenshot and return GEOMETRY,
    once it is known that neither the page nor the table scrolls sideways."""
    context = browser.new_context(viewport={"width": width, "height": VIEWPORTS[width]}, is_mobile=width < 500)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    a, b = PAIRS[site]
    page.goto(base_url + f"compare.html#a={quote(a)}&b={quote(b)}")  # the view takes a model's name too
    # The table's rows come from the pair file the view loads after the page: once they show, it has loaded.
    page.wait_for_function("document.querySelectorAll('#compare-table tbody tr').length > 0")
    OUTPUT.mkdir(parents=True, exist_ok=True)
    target = OUTPUT / f"compare-fit-{site}-{width}.png"
    page.screenshot(path=str(target), full_page=True)
    print(f"screenshot: {target}")
    shown = page.evaluate(GEOMETRY)
    title = page.inner_text("#overall-title")
    context.close()
    assert title == f"{a} vs {b}" and errors == []
    assert shown["page"][0] <= shown["page"][1], shown["page"]
    assert shown["scroller"][0] <= shown["scroller"][1], shown["scroller"]
    assert shown["wide"] == []  # long ids wrap: no heading, chooser or table wider than the screen
    assert len(shown["rows"]) == (14 if site == "mmlu-pro" else len(LONG_SCENARIOS))
    return shown


def _inside(cell: dict, box: dict, viewport: int) -> bool:
    return cell["width"] > 0 and cell["left"] >= max(box["left"], 0) - 0.5 and (
        cell["right"] <= min(box["right"], viewport) + 0.5)


@pytest.mark.parametrize("site", PAIRS)
def test_at_1400_px_every_column_shows_without_sideways_scrolling(browser, sites, site):
    shown = _measured(browser, sites[site], site, 1400)
    assert [head["text"] for head in shown["heads"]][-1] == "Verdict"
    for head in shown["heads"]:
        assert _inside(head, shown["box"], 1400) and not head["spills"], head
    for row in shown["rows"]:
        for cell in row.values():
            assert _inside(cell, shown["box"], 1400) and not cell["spills"], (site, cell)
        assert INTERVAL.fullmatch(row["difference"]["text"]), row["difference"]


@pytest.mark.parametrize("site", PAIRS)
def test_on_a_phone_each_scenario_is_a_block_with_both_scores_the_difference_and_the_verdict(browser, sites, site):
    shown = _measured(browser, sites[site], site, 390)
    a, b = PAIRS[site]
    for row in shown["rows"]:
        cells = [row["scenario"], row["a"], row["b"], row["difference"], row["verdict"]]
        for cell in cells:
            assert _inside(cell, shown["box"], 390) and not cell["spills"] and cell["text"], (site, cell)
        for upper, lower in zip(cells, cells[1:], strict=False):  # stacked: each below the one before
            assert lower["top"] >= upper["bottom"] - 1, (site, upper, lower)
        assert a in row["a"]["label"] and b in row["b"]["label"], (row["a"]["label"], row["b"]["label"])
        assert re.fullmatch(r"\d\.\d{3}", row["a"]["text"]) and re.fullmatch(r"\d\.\d{3}", row["b"]["text"])
        assert INTERVAL.fullmatch(row["difference"]["text"]), row["difference"]
        assert row["verdict"]["text"].startswith("no clear difference") or row["verdict"]["text"].endswith(" better")
    assert any(row["verdict"]["text"] == f"{a} better" for row in shown["rows"])  # a long id in a verdict too
