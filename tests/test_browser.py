"""The example site in a real browser: Debian's Chromium driven by Playwright, served on 127.0.0.1.

Without Chromium or Playwright these tests are skipped, except in CI (CI=true), where `.ci/run`
installs both and a missing one is a failure.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from effbench.publish import preview_server

CHROMIUM = os.environ.get("EFFBENCH_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run"]
OUTPUT = Path(os.environ.get("EFFBENCH_TEST_OUTPUT", Path(__file__).resolve().parent.parent / "test-output"))

try:
    from playwright.sync_api import Page, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None

if sync_playwright is None or not shutil.which(CHROMIUM):
    reason = f"needs Playwright and Chromium at {CHROMIUM}"
    if os.environ.get("CI"):
        raise RuntimeError(f"browser tests {reason}; .ci/run installs them")
    pytest.skip(reason, allow_module_level=True)


@pytest.fixture(scope="module")
def base_url(example_build) -> Iterator[str]:
    server = preview_server(example_build.out, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        assert instance.version.split(".")[0] in _version_of(CHROMIUM)  # Debian's, not a downloaded one
        yield instance
        instance.close()


def _version_of(executable: str) -> str:
    import subprocess

    return subprocess.run([executable, "--version"], capture_output=True, text=True, check=True).stdout


class Watched:
    """A page that records console errors, page errors and every request that leaves 127.0.0.1."""

    def __init__(self, browser, **options) -> None:
        self.context = browser.new_context(**options)
        self.page: Page = self.context.new_page()
        self.errors: list[str] = []
        self.foreign: list[str] = []
        self.page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.context.route("**/*", self._route)

    def _route(self, route) -> None:
        host = urlparse(route.request.url).hostname
        if host not in ("127.0.0.1", None):
            self.foreign.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def watched(browser) -> Iterator[Watched]:
    page = Watched(browser)
    yield page
    page.close()


COLUMN_VALUES = """key => {
  const header = [...document.querySelector('#leaderboard thead tr').cells];
  const index = header.findIndex(th => th.dataset.key === key);
  return [...document.querySelectorAll('#leaderboard tr.model-row:not([hidden])')]
    .map(row => Number(row.cells[index].dataset.value));
}"""


def model_names(page: Page) -> list[str]:
    return page.eval_on_selector_all("#leaderboard tr.model-row:not([hidden])",
                                     "rows => rows.map(r => r.dataset.model)")


def test_pages_load_without_errors_or_requests_to_other_hosts(watched, base_url):
    page = watched.page
    for path in ("index.html", "reliability.html", "flash.html", "how-to-read.html", "models/yi-34b.html",
                 "scenarios/law.html"):
        page.goto(base_url + path)
        page.wait_for_load_state("networkidle")
    assert watched.errors == []
    assert watched.foreign == []


def test_sorting_a_column_reorders_the_rows_and_sets_aria_sort(watched, base_url):
    page = watched.page
    page.goto(base_url + "index.html")
    before = model_names(page)
    assert before[0] == "gemini-1.5-pro-002" and len(before) == 29
    page.click('th[data-key="model"] button')
    after = model_names(page)
    assert after == sorted(before, key=str.lower)
    assert page.get_attribute('th[data-key="model"]', "aria-sort") == "ascending"
    assert page.get_attribute('th[data-key="rank"]', "aria-sort") == "none"
    page.click('th[data-key="model"] button')
    assert model_names(page) == sorted(before, key=str.lower, reverse=True)
    page.click('th[data-key="scenario-9"] button')  # math, best first
    math_scores = page.evaluate(COLUMN_VALUES, "scenario-9")
    assert math_scores == sorted(math_scores, reverse=True)
    assert "sort=scenario-9" in page.url


def test_search_and_filters_narrow_the_table_and_survive_a_reload(watched, base_url):
    page = watched.page
    page.goto(base_url + "index.html")
    page.fill('input[name="q"]', "llama")
    narrowed = model_names(page)
    assert narrowed and all("llama" in name.lower() for name in narrowed) and len(narrowed) < 29
    page.select_option('select[name="org"]', "Meta")
    page.select_option('select[name="open"]', "yes")
    filtered = model_names(page)
    assert filtered and set(filtered) <= set(narrowed)
    assert "of 29 models shown" in page.inner_text("#leaderboard-status")
    page.reload()
    assert page.input_value('input[name="q"]') == "llama"
    assert model_names(page) == filtered
    page.select_option('select[name="tier"]', "1")
    assert model_names(page) == []  # the leader is Google's
    page.click('button[type="reset"]')
    page.wait_for_function("document.querySelectorAll('#leaderboard tr.model-row:not([hidden])').length == 29")


def test_keyboard_alone_reaches_the_controls_and_sorts(watched, base_url):
    page = watched.page
    page.goto(base_url + "index.html")
    reached = set()
    for _ in range(40):
        page.keyboard.press("Tab")
        reached.add(page.evaluate("document.activeElement.name || document.activeElement.textContent.trim()"))
        if page.evaluate("document.activeElement.closest('th[data-key=\"score\"]') !== null"):
            page.keyboard.press("Enter")
            break
    assert {"q", "tier"} <= reached
    assert page.get_attribute('th[data-key="score"]', "aria-sort") == "descending"


def test_a_model_page_opens_and_links_back(watched, base_url):
    page = watched.page
    page.goto(base_url + "index.html")
    page.click('#leaderboard a[href="models/yi-34b.html"]')
    page.wait_for_load_state()
    assert page.url.endswith("models/yi-34b.html")
    assert page.inner_text("h1") == "Yi-34B"
    page.click(".breadcrumb a")
    page.wait_for_load_state()
    assert page.url.endswith("index.html")


def test_without_javascript_the_full_table_shows_in_rank_order(browser, base_url):
    page = Watched(browser, java_script_enabled=False)
    page.page.goto(base_url + "index.html")
    ranks = page.page.evaluate(COLUMN_VALUES, "rank")
    assert len(ranks) == 29 and ranks == sorted(ranks)
    assert page.page.is_hidden("#leaderboard-controls")
    page.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_screenshots_of_the_index(browser, base_url, scheme):
    page = Watched(browser, color_scheme=scheme, viewport={"width": 1400, "height": 1000})
    page.page.goto(base_url + "index.html")
    OUTPUT.mkdir(parents=True, exist_ok=True)
    target = OUTPUT / f"index-{scheme}.png"
    page.page.screenshot(path=str(target), full_page=True)
    background = page.page.evaluate("getComputedStyle(document.body).backgroundColor")
    page.close()
    assert target.stat().st_size > 10_000
    assert background == ("rgb(255, 255, 255)" if scheme == "light" else "rgb(13, 17, 23)")


def test_on_a_phone_the_table_scrolls_and_the_model_column_stays(browser, base_url):
    page = Watched(browser, viewport={"width": 390, "height": 800}, is_mobile=True)
    page.page.goto(base_url + "index.html")
    scroller = page.page.query_selector(".table-scroll")
    assert page.page.evaluate("el => el.scrollWidth > el.clientWidth", scroller)
    page.page.evaluate("el => { el.scrollLeft = 400; }", scroller)
    edge = page.page.evaluate("el => el.getBoundingClientRect().left", scroller)
    model = page.page.evaluate("document.querySelector('tr.model-row th.model-col').getBoundingClientRect().left")
    rank = page.page.evaluate("document.querySelector('tr.model-row td').getBoundingClientRect().left")
    page.close()
    assert rank < edge - 100  # the other columns scrolled away...
    assert abs(model - edge) < 2  # ...while the model column stays at the left edge
