"""Debian's Chromium for the browser tests: where it is, how it is launched, and when the tests are skipped."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from effbench.publish import preview_server

CHROMIUM = os.environ.get("EFFBENCH_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run"]

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None


def require_browser() -> None:
    """Skip the calling test module without Playwright or Chromium, except in CI (CI=true), where
    `.ci/run` installs both and a missing one is a failure."""
    if sync_playwright is None or not shutil.which(CHROMIUM):
        reason = f"needs Playwright and Chromium at {CHROMIUM}"
        if os.environ.get("CI"):
            raise RuntimeError(f"browser tests {reason}; .ci/run installs them")
        pytest.skip(reason, allow_module_level=True)


@contextmanager
def served(site: Path) -> Iterator[str]:
    """Serve the folder `site` on 127.0.0.1 while the block runs; yield its base URL."""
    server = preview_server(site, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def launched() -> Iterator:
    """Launch Debian's Chromium through Playwright while the block runs; yield the browser."""
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield instance
        finally:
            instance.close()
