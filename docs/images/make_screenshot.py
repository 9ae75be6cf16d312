"""Make docs/images/leaderboard.png: the bundled MMLU-Pro example's leaderboard, as the README shows it.

Builds the example (`effbench build` with no arguments) into a temporary folder, serves it on 127.0.0.1
and photographs the top of its index page with Debian's Chromium through Playwright. Run from the root
of a checkout, after a change that alters how the leaderboard looks:

    python docs/images/make_screenshot.py

Needs Playwright (installed with `.[test]`) and Chromium at /usr/bin/chromium (or EFFBENCH_CHROMIUM).
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from effbench import pipeline  # noqa: E402
from effbench.publish import preview_server  # noqa: E402

CHROMIUM = os.environ.get("EFFBENCH_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run"]
OUT = Path(__file__).resolve().parent / "leaderboard.png"
WIDTH, HEIGHT = 1200, 960


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        pipeline.build(Path(tmp) / "effbench.duckdb", site)
        server = preview_server(site, port=0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
                page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT},
                                        color_scheme="light", device_scale_factor=1)
                page.goto(f"http://127.0.0.1:{server.server_address[1]}/index.html")
                page.wait_for_load_state("networkidle")
                page.screenshot(path=str(OUT))
                browser.close()
        finally:
            server.shutdown()
            server.server_close()
    print(f"wrote {OUT.relative_to(ROOT)} ({OUT.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
