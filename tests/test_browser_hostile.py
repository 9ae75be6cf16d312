"""A site whose model and scenario names are scripts, markup and formulas, in Debian's Chromium: no
dialog opens, no script error happens and no request leaves 127.0.0.1 while every page is visited,
searched, sorted and linked with those names in the URL hash.

Skipped like tests/test_browser.py without Chromium or Playwright (a failure in CI).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlparse

import pytest
from test_safety import HOSTILE, build_hostile_site

from effbench.publish import preview_server

from browser import CHROMIUM, FLAGS, require_browser, sync_playwright

require_browser()


@pytest.fixture(scope="module")
def hostile_url(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    out = build_hostile_site(tmp_path_factory.mktemp("hostile-browser")).out
    server = preview_server(out, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", out
    server.shutdown()
    server.server_close()


def test_hostile_names_open_no_dialog_and_run_no_script(hostile_url):
    base, out = hostile_url
    dialogs: list[str] = []
    errors: list[str] = []
    foreign: list[str] = []
    pages = ["index.html", *sorted(str(p.relative_to(out)) for p in (out / "models").glob("*.html")),
             *sorted(str(p.relative_to(out)) for p in (out / "scenarios").glob("*.html")),
             *sorted(p.name for p in out.glob("*.html") if p.name != "index.html")]

    def route(request_route) -> None:
        if urlparse(request_route.request.url).hostname not in ("127.0.0.1", None):
            foreign.append(request_route.request.url)
            request_route.abort()
        else:
            request_route.continue_()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            context = browser.new_context()
            context.route("**/*", route)

            def watched_tab():
                tab = context.new_page()
                tab.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
                tab.on("pageerror", lambda error: errors.append(str(error)))
                tab.on("console", lambda message: message.type == "error" and errors.append(message.text))
                return tab

            # The pages in turn in a few tabs: before a tab moves on, its page has made no request for half a
            # second (so a script the page adds later has run and been caught), and the waits of the tabs
            # overlap instead of adding up to one per page.
            tabs = [watched_tab() for _ in range(6)]
            for i, path in enumerate(pages):
                tab = tabs[i % len(tabs)]
                if i >= len(tabs):  # the tab has shown a page before
                    tab.wait_for_load_state("networkidle")
                tab.goto(base + path)
            for tab in tabs:
                tab.wait_for_load_state("networkidle")
                tab.close()
            page = watched_tab()  # alone, so that its timers and frames run at a foreground tab's pace
            page.goto(base + "index.html")
            for name in HOSTILE:
                page.fill('input[name="q"]', name)
                shown = page.eval_on_selector_all("#leaderboard tr.model-row:not([hidden])",
                                                  "rows => rows.map(r => r.dataset.model)")
                assert name in shown, name  # the search matches the name as plain text
            for button in page.query_selector_all("#leaderboard thead th button"):
                button.click()
            for name in HOSTILE[:6]:
                page.goto(base + "index.html#q=" + quote(name))
                page.wait_for_load_state("networkidle")
            page.wait_for_timeout(300)
        finally:
            browser.close()
    assert len(pages) > 10
    assert dialogs == [] and errors == [] and foreign == []
