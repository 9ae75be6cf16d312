"""Publishing the built site: a gh-pages branch (like ghp-import), a Pages workflow, a local preview."""

from __future__ import annotations

import functools
import http.server
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from effbench import __version__
from effbench.errors import EffbenchError
from effbench.writer import SITE_MARKER


@dataclass(frozen=True)
class PublishReport:
    branch: str
    commit: str
    pushed_to: str | None


def _git(*args: str, cwd: Path, env: dict | None = None) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise EffbenchError("git is not installed; publishing needs it") from None
    if done.returncode != 0:
        detail = (done.stderr.strip() or done.stdout.strip()).splitlines()
        raise EffbenchError(f"git {args[0]} failed: {detail[-1] if detail else 'exit ' + str(done.returncode)}")
    return done.stdout.strip()


def publish(site: Path, *, repo: Path = Path("."), remote: str | None = "origin", branch: str = "gh-pages",
            message: str | None = None) -> PublishReport:
    """Commit the contents of `site` as the next commit of `branch` in the git repository at `repo`
    (history kept; the branch holds the site alone) and push it to `remote` (None: do not push).

    The commit is made with git's plumbing and a separate index, so the working tree, the current
    branch and the staged changes of `repo` are left alone.
    """
    if not (site / "index.html").is_file():
        raise EffbenchError(f"{site}: no built site here; run `effbench build` first")
    git_dir = Path(_git("rev-parse", "--absolute-git-dir", cwd=repo))
    ref = f"refs/heads/{branch}"
    if remote:
        remote_has = _git("ls-remote", "--heads", remote, branch, cwd=repo)
        if remote_has:
            _git("fetch", "-q", remote, f"+{ref}:{ref}", cwd=repo)
    parent = subprocess.run(["git", "rev-parse", "--verify", "-q", ref], cwd=repo, capture_output=True,
                            text=True, check=False).stdout.strip()
    env = {**os.environ}
    env.setdefault("GIT_AUTHOR_NAME", "effbench")
    env.setdefault("GIT_AUTHOR_EMAIL", "effbench@localhost")
    env.setdefault("GIT_COMMITTER_NAME", env["GIT_AUTHOR_NAME"])
    env.setdefault("GIT_COMMITTER_EMAIL", env["GIT_AUTHOR_EMAIL"])
    with tempfile.TemporaryDirectory() as folder:
        env["GIT_INDEX_FILE"] = str(Path(folder) / "index")
        common = [f"--git-dir={git_dir}", f"--work-tree={site.resolve()}"]
        _git(*common, "add", "-A", "--force", "--", ".", f":(exclude){SITE_MARKER}", cwd=repo, env=env)
        tree = _git(*common, "write-tree", cwd=repo, env=env)
    source = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=repo, capture_output=True, text=True,
                            check=False).stdout.strip()
    text = message or f"Publish the leaderboard site (effbench {__version__}{', from ' + source if source else ''})"
    commit = _git("commit-tree", tree, *(["-p", parent] if parent else []), "-m", text, cwd=repo, env=env)
    _git("update-ref", ref, commit, *([parent] if parent else []), cwd=repo)
    if remote:
        _git("push", "-q", remote, f"{ref}:{ref}", cwd=repo)
    return PublishReport(branch, commit, remote)


PAGES_WORKFLOW = """\
# Builds the leaderboard with effbench and publishes it with GitHub Pages.
# In the repository's settings, set Pages > Build and deployment > Source to "GitHub Actions".
name: Leaderboard

on:
  push:
    branches: [main]
  workflow_dispatch:

permissions:
  contents: read
  pages: write
  id-token: write

concurrency:
  group: pages
  cancel-in-progress: false

jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      - name: Install effbench
        run: python -m pip install {install}
      - name: Build the site
        run: effbench build {sources}
      - uses: actions/configure-pages@v5
      - uses: actions/upload-pages-artifact@v3
        with:
          path: site

  deploy:
    needs: build
    runs-on: ubuntu-latest
    environment:
      name: github-pages
      url: ${{{{ steps.deployment.outputs.page_url }}}}
    steps:
      - id: deployment
        uses: actions/deploy-pages@v4
"""

SETTINGS = """\
# effbench settings; every key is optional and shows its default.

[site]
# title = "My benchmark leaderboard"

[flash]
stages = [10, 20, 50, 200, 1000, "all"]   # items per scenario at each stage; nested
order = "informed"                         # or "random"
correction = "bonferroni"                  # or "none" (no correction for looking after every stage)
confidence = 0.95
resamples = 1000
seed = 0

[[flash.tiers]]
first = 1
last = 1
resolution = 0

[[flash.tiers]]
first = 2
last = 4
resolution = 1

[[flash.tiers]]
first = 5
last = 9
resolution = 2

[[flash.tiers]]
first = 10
last = 19
resolution = 3

[[flash.tiers]]
first = 20
resolution = 4
"""


def init(folder: Path, *, install: str = "effbench", sources: str = "", force: bool = False) -> list[Path]:
    """Write `effbench.toml` and `.github/workflows/pages.yml` into `folder`; return the paths written.

    Refuses to replace an existing file unless `force`.
    """
    files = {
        folder / "effbench.toml": SETTINGS,
        folder / ".github" / "workflows" / "pages.yml": PAGES_WORKFLOW.format(install=install, sources=sources).replace(
            "effbench build \n", "effbench build\n"),
    }
    existing = [str(path) for path in files if path.exists()]
    if existing and not force:
        raise EffbenchError(f"{', '.join(existing)} already exist(s); use --force to replace")
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return list(files)


def preview_server(site: Path, *, port: int = 8000, host: str = "127.0.0.1") -> http.server.ThreadingHTTPServer:
    """Return a (not yet started) HTTP server for `site` on host:port; port 0 picks a free one."""
    if not (site / "index.html").is_file():
        raise EffbenchError(f"{site}: no built site here; run `effbench build` first")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base class's name)
            pass

    handler = functools.partial(Quiet, directory=str(site))
    try:
        return http.server.ThreadingHTTPServer((host, port), handler)
    except OSError as error:
        raise EffbenchError(f"cannot serve on {host}:{port}: {error.strerror}") from None
