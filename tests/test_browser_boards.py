"""A site of two boards in a real browser: overview -> board -> model -> compare, on a desktop and a phone.

Skipped without Chromium or Playwright, except in CI (see tests/browser.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from browser import launched, require_browser, served
from expected_site import LONG_MODEL, build_two_board_site

OUTPUT = Path(os.environ.get("EFFBENCH_TEST_OUTPUT", Path(__file__).resolve().parent.parent / "test-output"))
WIDTHS = (1400, 390)

require_browser()


@pytest.fixture(scope="module")
def base_url(tmp_path_factory) -> Iterator[str]:
    with served(build_two_board_site(tmp_path_factory.mktemp("boards"))) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with launched() as instance:
        yield instance


NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= window.innerWidth + 1"


@pytest.mark.parametrize("width", WIDTHS)
def test_overview_board_model_compare(browser, base_url, width):
    context = browser.new_context(viewport={"width": width, "height": 900}, is_mobile=width < 500)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    OUTPUT.mkdir(parents=True, exist_ok=True)
    suffix = "" if width == 1400 else f"-{width}"

    page.goto(base_url + "index.html")
    cards = page.locator(".board-card")
    assert cards.count() == 2 and page.evaluate(NO_SIDEWAYS_SCROLL)
    assert "alpha" in cards.nth(0).inner_text() and LONG_MODEL in cards.nth(1).inner_text()
    page.screenshot(path=str(OUTPUT / f"boards-overview{suffix}.png"), full_page=True)

    cards.nth(1).locator("h2 a").click()  # the coding board
    page.wait_for_load_state()
    assert page.url.endswith("boards/table-coding/index.html")
    assert "Results: coding" in page.inner_text(".board-bar")
    ranked = page.eval_on_selector_all("#leaderboard tr.model-row", "rows => rows.map(r => r.dataset.model)")
    assert sorted(ranked) == sorted(["alpha", LONG_MODEL, "epsilon", "zeta"])  # beta and gamma have none here
    assert page.evaluate(NO_SIDEWAYS_SCROLL)  # a wide table scrolls in its own box, not the page
    page.screenshot(path=str(OUTPUT / f"boards-board{suffix}.png"), full_page=False)

    page.locator('#leaderboard tr.model-row[data-model="alpha"] .model-col a').click()
    page.wait_for_load_state()
    assert page.url.endswith("boards/table-coding/models/alpha.html")
    places = page.inner_text(".places")
    assert "Results: coding (this page)" in places and "Results: maths, reading" in places
    assert page.inner_text(".breadcrumb").startswith("All boards")
    page.screenshot(path=str(OUTPUT / f"boards-model{suffix}.png"), full_page=True)

    page.locator(".compare-links a").first.click()
    page.wait_for_load_state("networkidle")
    assert "boards/table-coding/compare.html#a=alpha&b=" in page.url
    rows = page.eval_on_selector_all("#compare-table tbody tr th", "cells => cells.map(c => c.innerText)")
    assert rows == ["coding"]  # this board's scenario only
    page.screenshot(path=str(OUTPUT / f"boards-compare{suffix}.png"), full_page=True)

    page.locator(".breadcrumb a").first.click()  # back to the overview
    page.wait_for_load_state()
    assert page.url == base_url + "index.html"
    context.close()
    assert errors == []
