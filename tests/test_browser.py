"""The example site in a real browser: Debian's Chromium driven by Playwright, served on 127.0.0.1.

Without Chromium or Playwright these tests are skipped, except in CI (CI=true), where `.ci/run`
installs both and a missing one is a failure.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from browser import CHROMIUM, FLAGS, require_browser, served, sync_playwright

OUTPUT = Path(os.environ.get("EFFBENCH_TEST_OUTPUT", Path(__file__).resolve().parent.parent / "test-output"))

require_browser()
from playwright.sync_api import Page  # noqa: E402 - only once the browser is known to be there


@pytest.fixture(scope="module")
def base_url(example_build) -> Iterator[str]:
    with served(example_build.out) as url:
        yield url


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
        self.open_requests = 0
        self.context.on("request", lambda request: self._count(1))
        self.context.on("requestfinished", lambda request: self._count(-1))
        self.context.on("requestfailed", lambda request: self._count(-1))

    def _count(self, change: int) -> None:
        self.open_requests += change

    def settle(self, timeout: float = 30.0) -> None:
        """Wait until the page has loaded and every request it made has ended: what a wait for network idle
        ensures for these pages (none starts a request from a timer), without its half-second of quiet."""
        self.page.wait_for_load_state("load")
        deadline = time.monotonic() + timeout
        while self.open_requests:
            assert time.monotonic() < deadline, f"{self.open_requests} request(s) still open after {timeout} s"
            self.page.wait_for_timeout(10)

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
                 "scenarios/law.html", "compare.html#a=yi-34b&b=qwen1.5-110b", "provenance.html"):
        page.goto(base_url + path)
        watched.settle()
        icon = page.eval_on_selector('link[rel="icon"]', "link => link.href")
        assert page.request.get(icon).status == 200, icon  # a favicon, so no 404 in the console
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



SCHEMES = ("light", "dark")
WIDTHS = (1400, 390)


def _open(browser, base_url: str, path: str, *, width: int = 1400, scheme: str = "light") -> Watched:
    watched = Watched(browser, viewport={"width": width, "height": 900}, color_scheme=scheme, is_mobile=width < 500)
    watched.page.goto(base_url + path)
    watched.settle()
    return watched


IN_VIEW = """() => {
  const box = el => el.getBoundingClientRect();
  const heads = ['rank', 'model', 'score'].map(k => document.querySelector(`#leaderboard th[data-key="${k}"]`));
  const row = document.querySelector('#leaderboard tr.model-row');
  const cells = [row.cells[0], row.querySelector('th'), row.cells[2]];
  return [...heads, ...cells].map(el => {
    const b = box(el);
    const hit = document.elementFromPoint(b.left + Math.min(8, b.width / 2), b.top + Math.min(8, b.height / 2));
    const label = el.querySelector('a') || el;
    return {left: b.left, right: b.right, width: b.width, visible: el.contains(hit),
            text: label.innerText.trim().split('\\n')[0]};
  });
}"""


@pytest.mark.parametrize("width", WIDTHS)
def test_rank_model_and_score_stay_in_view(browser, base_url, width):
    watched = _open(browser, base_url, "index.html", width=width)
    page = watched.page
    page.evaluate("document.querySelector('.table-scroll').scrollIntoView()")
    for stage in ("before", "after"):
        for cell in page.evaluate(IN_VIEW):
            assert cell["visible"] and cell["left"] >= 0 and cell["right"] <= width and cell["width"] > 20, (
                stage, cell)
        page.evaluate("document.querySelector('.table-scroll').scrollLeft = 10000")
    first = page.evaluate(IN_VIEW)
    assert [c["text"] for c in first[3:]] == ["1 (1–1)", "gemini-1.5-pro-002", "0.716"]
    if width < 500:  # a phone: no sideways scrolling at all, and the score's interval is shown
        assert page.evaluate("(() => { const s = document.querySelector('.table-scroll');"
                             " return s.scrollWidth <= s.clientWidth; })()")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert page.is_visible("#leaderboard tr.model-row .score-col .interval")
    watched.close()
    assert watched.errors == []


PHONE_PAGES = ("index.html", "flash.html", "reliability.html", "compare.html", "how-to-read.html", "changes.html",
               "provenance.html", "models/gemini-1.5-pro-002.html", "scenarios/biology.html")


def test_every_kind_of_page_fits_a_320_pixel_phone_without_sideways_scrolling(browser, base_url):
    """The narrowest phones in use are 320 CSS pixels wide: wide tables scroll inside their own box, long commands
    (the downloads' duckdb line) wrap, and nothing else may push the page wider than the screen."""
    watched = Watched(browser, viewport={"width": 320, "height": 700}, is_mobile=True)
    page = watched.page
    for path in PHONE_PAGES:
        page.goto(base_url + path)
        watched.settle()
        assert page.evaluate("document.documentElement.scrollWidth") <= 320, path
    watched.close()
    assert watched.errors == []


def test_the_column_chooser_hides_and_restores_columns_and_keeps_them_in_the_link(watched, base_url):
    page = watched.page
    page.goto(base_url + "index.html")
    assert page.is_visible('th[data-col="scenario-0"]')
    page.click(".column-chooser summary")
    page.uncheck('input[data-group="scenario"]')
    assert not page.is_visible('th[data-col="scenario-0"]') and page.is_visible('th[data-col="coverage"]')
    assert "cols=" in page.url
    page.reload()
    assert not page.is_visible('th[data-col="scenario-0"]')
    page.click(".column-chooser summary")
    page.check('input[value="scenario-3"]')
    assert page.is_visible('th[data-col="scenario-3"]') and not page.is_visible('th[data-col="scenario-2"]')
    spans = page.eval_on_selector_all("tr.tier-band th", "ths => ths.map(th => th.colSpan)")
    assert set(spans) == {page.eval_on_selector_all("#leaderboard thead th:not([hidden])", "t => t.length")}


def test_an_invalid_hash_gives_the_default_order(watched, base_url):
    page = watched.page
    page.goto(base_url + "index.html")
    default = model_names(page)
    for bad in ("#sort=bogus&dir=desc", "#sort=score&dir=sideways", "#dir=desc", "#sort=&tier=99"):
        page.goto(base_url + "index.html" + bad)
        page.wait_for_load_state()
        names = model_names(page)
        if "tier=99" in bad:
            assert names == [] and page.is_visible("#no-match")
        elif "score" in bad:
            assert names == default  # score's own first direction: best first, the rank order here
        else:
            assert names == default, bad
            assert page.get_attribute('th[data-key="rank"]', "aria-sort") == "ascending"


def test_no_models_match_says_so_and_clears(watched, base_url):
    page = watched.page
    page.goto(base_url + "index.html")
    assert page.is_hidden("#no-match")
    page.fill('input[name="q"]', "no such model anywhere")
    assert page.is_visible("#no-match") and "No models match" in page.inner_text("#no-match")
    page.click("#clear-filters")
    assert page.is_hidden("#no-match") and len(model_names(page)) == 29


def test_parameter_and_release_date_filters(watched, base_url):
    page = watched.page
    page.goto(base_url + "index.html")
    data = page.eval_on_selector_all("#leaderboard tr.model-row", "rows => rows.map(r => [r.dataset.model, "
                                     "r.dataset.params, r.dataset.released])")
    page.fill('input[name="params-min"]', "30")
    page.fill('input[name="params-max"]', "80")
    expected = [m for m, p, _ in data if p and 30 <= float(p) <= 80]
    assert expected and model_names(page) == expected
    page.fill('input[name="released-min"]', "2024-06-01")
    expected = [m for m, p, r in data if p and 30 <= float(p) <= 80 and r and r >= "2024-06-01"]
    assert model_names(page) == expected and len(expected) < len(data)
    assert "params-min=30" in page.url and "released-min=2024-06-01" in page.url


def test_a_note_opens_on_focus(watched, base_url):
    page = watched.page
    page.goto(base_url + "index.html")
    markers = page.locator("#leaderboard .note-marker")
    assert markers.count() >= 2
    for index in range(markers.count()):
        marker = markers.nth(index)
        tip = page.locator("#" + marker.get_attribute("aria-describedby"))
        assert tip.is_hidden()
        marker.focus()
        assert tip.is_visible() and tip.inner_text().strip()
        marker.blur()


FIRST_ROWS = {1400: 5, 390: 3}  # models whose rank, name and score show on the first screen


@pytest.mark.parametrize("width", WIDTHS)
def test_the_table_comes_first(browser, base_url, width):
    watched = Watched(browser, viewport={"width": width, "height": 900 if width == 1400 else 844},
                      is_mobile=width < 500)
    page = watched.page
    page.goto(base_url + "index.html")
    watched.settle()
    bottoms = page.eval_on_selector_all("#leaderboard tr.model-row", """rows => rows.map(r =>
      [...r.querySelectorAll('.rank-col, .model-col, .score-col')].map(c => c.getBoundingClientRect().bottom))""")
    height = page.viewport_size["height"]
    assert all(bottom <= height for bottom in bottoms[FIRST_ROWS[width] - 1]), (width, bottoms[:5], height)
    watched.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_an_open_note_is_on_top_of_the_table_and_in_view(browser, base_url, width):
    watched = _open(browser, base_url, "index.html", width=width)
    page = watched.page
    markers = page.locator("#leaderboard .note-marker")
    for index in range(markers.count()):
        marker = markers.nth(index)
        marker.scroll_into_view_if_needed()
        marker.focus()
        tip = page.locator("#" + marker.get_attribute("aria-describedby"))
        tip.scroll_into_view_if_needed()  # a note of the last row on screen opens below the fold
        box = tip.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, (width, box)
        for fx, fy in ((0.5, 0.5), (0.9, 0.5), (0.5, 0.9)):  # what shows there is the note, not a cell over it
            on_top = page.evaluate("([x, y, id]) => { const e = document.elementFromPoint(x, y);"
                                   " return !!e && !!e.closest('#' + CSS.escape(id)); }",
                                   [box["x"] + fx * box["width"], box["y"] + fy * box["height"],
                                    marker.get_attribute("aria-describedby")])
            assert on_top, (width, index, fx, fy)
        marker.blur()
    watched.close()


def test_the_skip_link_jumps_to_the_table(watched, base_url):
    page = watched.page
    page.goto(base_url + "index.html")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    page.wait_for_url("**/index.html#leaderboard", timeout=10_000)  # the jump lands after the key press returns
    assert page.url.endswith("#leaderboard")
    assert len(model_names(page)) == 29  # the hash is the table's anchor, not a broken view


@pytest.mark.parametrize("width", WIDTHS)
def test_the_compare_view_shows_each_scenarios_interval(browser, base_url, width):
    watched = _open(browser, base_url, "models/yi-34b.html", width=width)
    page = watched.page
    page.click(".compare-links a >> nth=0")
    page.wait_for_load_state()
    assert "compare.html#a=yi-34b&b=" in page.url
    rows = page.eval_on_selector_all("#compare-table tbody tr", """rows => rows.map(r => {
      const cell = r.querySelector('.interval-cell'); const b = cell.getBoundingClientRect();
      return [r.querySelector('th').innerText, cell.innerText, r.cells[r.cells.length - 1].innerText,
              b.right <= window.innerWidth && b.width > 0]; })""")
    assert len(rows) == 14
    for scenario, interval, verdict, in_view in rows:
        assert re.fullmatch(r"[+−]?\d\.\d{3} \([+−]?\d\.\d{3} to [+−]?\d\.\d{3}\)", interval), interval
        assert in_view, (scenario, width)
        assert verdict.startswith("no clear difference") or verdict.endswith(" better"), verdict
    assert "overall" in page.inner_text("#overall") and "Yi-34B" in page.inner_text("#overall")
    assert page.eval_on_selector_all("#items-table tbody tr", "r => r.length") >= 2
    page.click("#swap")
    assert "#a=" in page.url and not page.url.endswith("a=yi-34b")
    watched.close()
    assert watched.errors == []


def test_the_compare_view_falls_back_to_the_top_two(watched, base_url):
    page = watched.page
    page.goto(base_url + "compare.html#a=nobody&b=")
    assert page.input_value('select[name="a"]') == "gemini-1.5-pro-002"
    assert page.input_value('select[name="b"]') == "gemini-1.5-flash-002"


CONTRAST = """() => {
  const rgb = text => { const c = document.createElement('canvas').getContext('2d'); c.fillStyle = text;
    const hex = c.fillStyle;
    if (hex.startsWith('#')) { return [1, 3, 5].map(i => parseInt(hex.slice(i, i + 2), 16)); }
    return hex.match(/[\\d.]+/g).slice(0, 3).map(Number); };
  const lum = c => { const [r, g, b] = c.map(v => {
      v /= 255; return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const ratio = (a, b) => { const [x, y] = [lum(rgb(a)), lum(rgb(b))].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05); };
  const out = [];
  document.querySelectorAll('td[class*="h"]').forEach(td => { const s = getComputedStyle(td);
    if (/\\bh\\d\\b/.test(td.className)) { out.push([td.className, ratio(s.backgroundColor, s.color)]); } });
  document.querySelectorAll('svg rect[fill]').forEach(rect => { const text = rect.nextElementSibling;
    if (text && text.tagName === 'text' && text.getAttribute('fill')) {
      out.push([text.textContent, ratio(rect.getAttribute('fill'), text.getAttribute('fill'))]); } });
  return out;
}"""


@pytest.mark.parametrize("scheme", SCHEMES)
def test_every_coloured_cell_has_enough_contrast(browser, base_url, scheme):
    checked = 0
    for path in ("index.html", "reliability.html"):
        watched = _open(browser, base_url, path, scheme=scheme)
        cells = watched.page.evaluate(CONTRAST)
        watched.close()
        low = [(name, round(value, 2)) for name, value in cells if value < 4.5]
        assert low == [], (path, scheme, low[:5])
        checked += len(cells)
    assert checked >= 29 * 14 + 14 * 14  # every heat-map cell of the board and of the agreement matrix


SCREENSHOTS = {"index": "index.html", "model": "models/yi-34b.html",
               "compare": "compare.html#a=gemini-1.5-flash-002&b=Meta-Llama-3_1-70B-Instruct"}


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("width", WIDTHS)
def test_screenshots(browser, base_url, scheme, width):
    OUTPUT.mkdir(parents=True, exist_ok=True)
    for name, path in SCREENSHOTS.items():
        watched = _open(browser, base_url, path, width=width, scheme=scheme)
        target = OUTPUT / (f"{name}-{scheme}.png" if width == 1400 else f"{name}-{scheme}-{width}.png")
        watched.page.screenshot(path=str(target), full_page=True)
        background = watched.page.evaluate("getComputedStyle(document.body).backgroundColor")
        watched.close()
        assert target.stat().st_size > 10_000
        assert background == ("rgb(255, 255, 255)" if scheme == "light" else "rgb(13, 17, 23)")
        assert watched.errors == []


TEXT_SIZES = """() => [...document.querySelectorAll('svg.plot')].filter(svg => svg.getBoundingClientRect().width > 0)
  .flatMap(svg => {
    const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    return [...svg.querySelectorAll('text')].map(text =>
      [svg.getAttribute('aria-labelledby'), text.textContent, scale * parseFloat(getComputedStyle(text).fontSize)]);
  })"""


@pytest.mark.parametrize("width", WIDTHS)
def test_chart_text_is_at_least_12_px_as_shown(browser, base_url, width):
    shown = 0
    for path in ("index.html", "reliability.html", "flash.html", "models/yi-34b.html", "scenarios/law.html"):
        watched = _open(browser, base_url, path, width=width)
        sizes = watched.page.evaluate(TEXT_SIZES)
        watched.close()
        small = [(chart, text, round(size, 1)) for chart, text, size in sizes if size < 11.95]
        assert small == [], (path, width, small[:5])
        shown += len(sizes)
    assert shown > 100


@pytest.fixture(scope="module")
def scale_site(tmp_path_factory) -> Path:
    from test_site_scale import build_scale_site

    return build_scale_site(tmp_path_factory.mktemp("scale-browser"))


def test_a_large_board_from_file_loads_its_other_rows_so_search_and_sort_reach_every_model(watched, scale_site):
    import csv

    from effbench.render.leaderboard import INDEX_ROWS

    with open(scale_site / "data" / "leaderboard.csv", newline="", encoding="utf-8") as handle:
        board = [row["model"] for row in csv.DictReader(handle)]
    page = watched.page
    page.goto((scale_site / "index.html").as_uri())  # file://: the rows file comes by a script element
    page.wait_for_function(f"document.querySelectorAll('#leaderboard tr.model-row').length === {len(board)}")
    assert model_names(page) == board[:INDEX_ROWS]  # one page of rows shown at a time
    assert page.is_hidden("#more-rows")  # the no-script note gives way to the status line
    page.click("#show-more")
    assert model_names(page) == board[:2 * INDEX_ROWS]
    last = board[-1]
    page.fill('input[name="q"]', last)
    assert last in model_names(page) and all(last in name for name in model_names(page))
    page.fill('input[name="q"]', "")
    page.click('th[data-key="model"] button')
    page.click('th[data-key="model"] button')
    assert model_names(page) == sorted(board, key=str.lower, reverse=True)[:INDEX_ROWS]
    assert page.text_content("#leaderboard-status").startswith(f"The first {INDEX_ROWS} of {len(board)} matching")
    page.goto((scale_site / "compare.html").as_uri() + f"#a={board[0]}&b={board[-1]}")  # a pair not computed
    page.wait_for_function("document.getElementById('overall').textContent.length > 0")
    assert "without an interval" in page.text_content("#overall")
    assert watched.errors == []


@pytest.mark.parametrize("scheme", SCHEMES)
def test_the_embedded_table_fits_a_600_by_400_frame_in_either_scheme(browser, base_url, scheme):
    OUTPUT.mkdir(parents=True, exist_ok=True)
    watched = _open(browser, base_url, "embed.html", width=600, scheme=scheme)
    page = watched.page
    page.set_viewport_size({"width": 600, "height": 400})
    assert page.eval_on_selector_all("tbody tr", "rows => rows.length") == 10
    assert page.evaluate("document.documentElement.scrollWidth") <= 600  # long ids wrap
    assert page.evaluate("document.documentElement.scrollHeight") <= 400
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == ("rgb(255, 255, 255)" if scheme == "light" else "rgb(13, 17, 23)")
    page.screenshot(path=str(OUTPUT / f"embed-{scheme}.png"))
    watched.close()
    assert watched.errors == [] and watched.foreign == []
