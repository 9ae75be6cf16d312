"""Publishing the built site: a gh-pages branch (like ghp-import), a Pages workflow, a local preview."""

from __future__ import annotations

import functools
import http.server
import importlib.metadata
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import urllib.parse
from collections.abc import Sequence
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
    changed: bool = True  # False: the site was the same as the branch's last commit, nothing new committed


def _git(*args: str, cwd: Path, env: dict | None = None) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise EffbenchError("git is not installed; publishing needs it") from None
    if done.returncode != 0:
        lines = [line.strip() for line in (done.stderr.strip() or done.stdout.strip()).splitlines() if line.strip()]
        detail = " ".join(line.removeprefix("fatal: ").removeprefix("error: ") for line in lines)
        raise EffbenchError(f"git {args[0]} failed: {detail or 'exit ' + str(done.returncode)}")
    return done.stdout.strip()


def _identity(repo: Path) -> None:
    """Raise unless git knows who the user is: the site is committed under the user's own name."""
    for key in ("user.name", "user.email"):
        variable = "GIT_AUTHOR_NAME" if key == "user.name" else "GIT_AUTHOR_EMAIL"
        if os.environ.get(variable):
            continue
        known = subprocess.run(["git", "config", key], cwd=repo, capture_output=True, text=True, check=False)
        if not known.stdout.strip():
            raise EffbenchError(f"git does not know your {key.split('.')[1]}; set it with "
                                f"`git config --global {key} ...` (the site is committed under your name)")


def publish(site: Path, *, repo: Path = Path("."), remote: str | None = "origin", branch: str = "gh-pages",
            message: str | None = None) -> PublishReport:
    """Commit the contents of `site` as the next commit of `branch` in the git repository at `repo`
    (history kept; the branch holds the site alone) and push it to `remote` (None: do not push).

    The commit is made with git's plumbing and a separate index, so the working tree, the current
    branch and the staged changes of `repo` are left alone; it is authored by the user's own git
    identity. A site identical to the branch's last commit makes no new commit (`changed` is False).
    """
    if not (site / "index.html").is_file():
        raise EffbenchError(f"{site}: no built site here; run `effbench build` first")
    git_dir = Path(_git("rev-parse", "--absolute-git-dir", cwd=repo))
    ref = f"refs/heads/{branch}"
    if remote:
        remotes = _git("remote", cwd=repo).split()
        if remote not in remotes:
            known = f" (this repository has: {', '.join(remotes)})" if remotes else " (this repository has none)"
            raise EffbenchError(f"no git remote named {remote!r}{known}; add one with `git remote add {remote} URL`, "
                                "choose another with --remote, or commit without pushing with --no-push")
        remote_has = _git("ls-remote", "--heads", remote, branch, cwd=repo)
        if remote_has:
            _git("fetch", "-q", remote, f"+{ref}:{ref}", cwd=repo)
    parent = subprocess.run(["git", "rev-parse", "--verify", "-q", ref], cwd=repo, capture_output=True,
                            text=True, check=False).stdout.strip()
    env = {**os.environ}
    with tempfile.TemporaryDirectory() as folder:
        env["GIT_INDEX_FILE"] = str(Path(folder) / "index")
        common = [f"--git-dir={git_dir}", f"--work-tree={site.resolve()}"]
        _git(*common, "add", "-A", "--force", "--", ".", f":(exclude){SITE_MARKER}", cwd=repo, env=env)
        tree = _git(*common, "write-tree", cwd=repo, env=env)
    if parent and _git("rev-parse", f"{parent}^{{tree}}", cwd=repo) == tree:
        if remote:  # the remote may still lack the branch's last commit
            _git("push", "-q", remote, f"{ref}:{ref}", cwd=repo)
        return PublishReport(branch, parent, remote, changed=False)
    _identity(repo)
    source = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=repo, capture_output=True, text=True,
                            check=False).stdout.strip()
    text = message or f"Publish the leaderboard site (effbench {__version__}{', from ' + source if source else ''})"
    commit = _git("commit-tree", tree, *(["-p", parent] if parent else []), "-m", text, cwd=repo, env=env)
    _git("update-ref", ref, commit, *([parent] if parent else []), cwd=repo)
    if remote:
        _git("push", "-q", remote, f"{ref}:{ref}", cwd=repo)
    return PublishReport(branch, commit, remote)


PAGES_WORKFLOW = """\
# Builds the leaderboard with effbench and publishes it with GitHub Pages (written by `effbench init`).
# In the repository's settings, set Pages > Build and deployment > Source to "GitHub Actions".
name: Leaderboard

on:
  push:
    branches: [{branch}]
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
          python-version: "{python}"
      - name: Install effbench
        run: python -m pip install {install}
      - id: pages
        uses: actions/configure-pages@v5
      # The database starts empty on every run: the history the published site holds carries the changes
      # page on (a first deployment has none, and starts it).
      - name: Build the site
        run: effbench build {build} --history-from "${{{{ steps.pages.outputs.base_url }}}}"
      - uses: actions/upload-pages-artifact@v3
        with:
          path: {out}

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

CHECK_WORKFLOW = """\
# Checks the results a pull request proposes (written by `effbench init`): loads them on top of the
# leaderboard as it stands on {branch}, in a scratch copy, and writes the job summary: each new model's place
# with its interval, its Flash status (resolved, or the items it still needs) and what changes on the
# leaderboard. A file effbench cannot read fails the check with effbench's one-line error. Propose results as
# new files in the folders the build reads: effbench never overwrites loaded results, so a change to a file
# already loaded is refused.
name: Check proposed results

on:
  pull_request:
    branches: [{branch}]

permissions:
  contents: read

jobs:
  check:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0
      - uses: actions/setup-python@v5
        with:
          python-version: "{python}"
      - name: Install effbench
        run: python -m pip install {install}
      - name: Rank the results as they stand on {branch}
        run: |
          git worktree add --detach "$RUNNER_TEMP/base" "${{{{ github.event.pull_request.base.sha }}}}"
          cd "$RUNNER_TEMP/base"
          effbench ingest {sources} --quiet \\
            || echo "No loadable results on the base branch: the proposed ones make the leaderboard."
      - name: Check the proposed results
        run: effbench check {sources} --db "$RUNNER_TEMP/base/effbench.duckdb" --summary "$GITHUB_STEP_SUMMARY"
"""

SETTINGS = """\
# effbench settings (read by `effbench build` from the folder it runs in). Every key is optional.

[site]
# title = "My benchmark leaderboard"
# citation = \"\"\"
# @misc{{my-leaderboard,
#   title = {{My benchmark leaderboard}},
#   year  = {{2025}},
#   url   = {{https://USER.github.io/REPO/}}
# }}\"\"\"

# [scenarios]
# "college math" = "Multiple-choice questions from college mathematics exams."

# [flash]: how new models are ranked with few evaluations; see docs/07-flash.md in effbench's repository.
"""

def stored_title(db: Path) -> str | None:
    """Return the title the last build into `db` was given, or None (no database, or no title given)."""
    if not db.is_file():
        return None
    import duckdb  # noqa: PLC0415 (a runtime dependency, needed only here)

    try:
        with duckdb.connect(str(db), read_only=True) as con:
            row = con.execute("SELECT value FROM effbench_meta WHERE key = 'site_title'").fetchone()
    except duckdb.Error:
        return None  # not an effbench database, or one written before titles were kept: the default title
    return row[0] if row else None


def settings_text(title: str | None) -> str:
    """Return the effbench.toml `init` writes: the commented template, with the local site's title set, so
    that the deployed site has the title the local one was built with."""
    text = SETTINGS.format()
    if title is None:
        return text
    return text.replace('# title = "My benchmark leaderboard"', f"title = {json.dumps(title, ensure_ascii=False)}", 1)


# Lines `effbench init` makes sure .gitignore has: build outputs and the local database, not sources.
GITIGNORE_LINES = ("site/", "effbench.duckdb", "effbench.duckdb.wal")


@dataclass(frozen=True)
class InitReport:
    """What `init` wrote and decided: files, the install spec, the branch and the build arguments."""

    written: tuple[Path, ...]
    install: str
    install_reason: str
    branch: str
    build: str
    build_reason: str
    gitignore_added: tuple[str, ...]


def _git_out(*args: str, cwd: Path) -> str:
    """Return git's output, or "" when git fails or is missing (for questions that may have no answer)."""
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    except (FileNotFoundError, NotADirectoryError):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def default_branch(folder: Path) -> str:
    """Return the branch a push to which should rebuild the site: the remote's default branch where git
    knows it, else the current branch, else git's configured default for new repositories, else main."""
    remote_head = _git_out("symbolic-ref", "--short", "refs/remotes/origin/HEAD", cwd=folder)
    if remote_head:
        return remote_head.split("/", 1)[-1]
    return (_git_out("symbolic-ref", "--short", "HEAD", cwd=folder)
            or _git_out("config", "init.defaultBranch", cwd=folder) or "main")


def _https(url: str) -> str:
    """Return a git remote URL in a form pip can fetch on a CI runner (scp-like ssh becomes https)."""
    match = re.fullmatch(r"git@([^:]+):(.+)", url)
    return f"https://{match.group(1)}/{match.group(2)}" if match else url


def running_install_spec(folder: Path, direct_url: dict | None = None, version: str = __version__) -> tuple[str, str]:
    """Return (pip requirement, reason): how a CI runner installs the effbench that runs now.

    `direct_url` is pip's record of where this copy came from (PEP 610; None = from a package index).
    A copy from a git URL is pinned to its commit; a local checkout is installed from its git remote at
    its commit, or by path when it lies inside `folder`; a copy from an index by its version.
    """
    if direct_url is None:
        return f"effbench=={version}", f"effbench {version} from the package index, as installed here"
    url = str(direct_url.get("url", ""))
    vcs = direct_url.get("vcs_info")
    if vcs:
        spec = f"{vcs.get('vcs', 'git')}+{url}@{vcs['commit_id']}"
        return shlex.quote(spec), f"the commit of effbench installed here ({vcs['commit_id'][:12]})"
    if not url.startswith("file://"):
        return shlex.quote(url), "the archive effbench was installed from here"
    path = Path(urllib.parse.unquote(urllib.parse.urlparse(url).path))
    try:
        inside = path.resolve().relative_to(folder.resolve())
        return shlex.quote(f"./{inside.as_posix()}"), f"the copy of effbench in this repository ({inside.as_posix()})"
    except ValueError:
        pass
    remote = _git_out("remote", "get-url", "origin", cwd=path) if path.is_dir() else ""
    reachable = re.match(r"(https?|ssh|git)://|git@", remote) is not None  # not a path on this machine
    commit = _git_out("rev-parse", "HEAD", cwd=path) if reachable else ""
    if not commit:
        why = f"its git remote is {remote}, on this machine" if remote else "no git remote"
        raise EffbenchError(
            f"effbench runs from {path}, which a GitHub runner cannot install from ({why}); "
            "give what the workflow should install with --install, e.g. --install 'git+https://github.com/OWNER/"
            f"effbench@COMMIT' or --install 'effbench=={version}'")
    reason = f"the commit of your effbench checkout ({commit[:12]}, from {_https(remote)})"
    if _git_out("status", "--porcelain", "--untracked-files=no", cwd=path):
        reason += "; it has uncommitted changes, which the runner will not have"
    return shlex.quote(f"git+{_https(remote)}@{commit}"), reason


def _installed_direct_url() -> dict | None:
    try:
        text = importlib.metadata.distribution("effbench").read_text("direct_url.json")
    except importlib.metadata.PackageNotFoundError:
        return None
    return json.loads(text) if text else None


def sources_from_database(folder: Path, db: Path) -> str:
    """Return the `effbench build` arguments that load what the database at `db` was built from: every
    recorded source, as a path relative to `folder`, with its column names and format."""
    import duckdb  # noqa: PLC0415 (a runtime dependency, needed only here)

    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error as error:
        raise EffbenchError(f"{db}: cannot open the database: {error}") from None
    try:
        columns = {r[0] for r in con.execute("SELECT column_name FROM (DESCRIBE sources)").fetchall()}
        format_column = "format" if "format" in columns else "NULL"
        rows = con.execute(f"SELECT path, kind, CAST(options AS VARCHAR), {format_column} FROM sources "
                           "ORDER BY source_id").fetchall()
    except duckdb.Error as error:
        raise EffbenchError(f"{db}: not an effbench database ({error})") from None
    finally:
        con.close()
    arguments: list[str] = []
    outside = []
    for path, kind, options, format_name in rows:
        try:
            relative = Path(path).resolve().relative_to(folder.resolve()).as_posix()
        except ValueError:
            outside.append(str(path))
            continue
        if kind == "models":
            arguments += ["--models", relative]
        elif kind == "wide":
            arguments += ["--wide", relative]
        else:
            arguments.append(relative)
        mapping = json.loads(options or "{}")
        for name in ("model", "scenario", "item_id", "score"):
            default = "item_id" if name == "item_id" else name
            if mapping.get(name, default) != default and f"--{name.replace('_id', '')}-col" not in arguments:
                arguments += [f"--{name.replace('_id', '')}-col", mapping[name]]
        for key in mapping.get("keys") or ():
            if key not in arguments:
                arguments += ["--key", key]
        if format_name and format_name != "table" and "--format" not in arguments:
            arguments += ["--format", format_name]
    if outside:
        raise EffbenchError(f"{db} was built from files outside {folder} ({', '.join(outside)}), which the "
                            "workflow cannot see; commit them to the repository and rebuild, or pass --sources")
    if not arguments:
        raise EffbenchError(f"{db} holds no loaded files; pass what to build with --sources")
    return " ".join(shlex.quote(a) for a in arguments)


def update_gitignore(folder: Path, lines: Sequence[str] = GITIGNORE_LINES) -> tuple[str, ...]:
    """Add the `lines` that .gitignore lacks; return those added."""
    path = folder / ".gitignore"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    present = {line.strip() for line in text.splitlines()}
    missing_lines = tuple(line for line in lines if line not in present and line.rstrip("/") not in present)
    if missing_lines:
        prefix = "" if not text or text.endswith("\n") else "\n"
        path.write_text(text + prefix + "# effbench: the built site and the local database\n"
                        + "".join(f"{line}\n" for line in missing_lines), encoding="utf-8")
    return missing_lines


def init(folder: Path, *, install: str | None = None, sources: str | None = None, db: Path | None = None,
         branch: str | None = None, out: str = "site", force: bool = False) -> InitReport:
    """Write `effbench.toml`, `.github/workflows/pages.yml` (build and publish on pushes) and
    `.github/workflows/check.yml` (the submission check on pull requests) into `folder`, and add the build
    outputs to its .gitignore; return what was written and decided.

    The workflow installs `install` (default: the effbench running now, see `running_install_spec`),
    builds from `sources` (default: the files the database `db`, default `folder`/effbench.duckdb, was
    built from) and runs on pushes to `branch` (default: `default_branch`). Refuses to replace an existing
    file unless `force`.
    """
    if not folder.is_dir():
        raise EffbenchError(f"{folder}: no such folder")
    if install:
        install_spec, install_reason = shlex.quote(install), "as given with --install"
    else:
        install_spec, install_reason = running_install_spec(folder, _installed_direct_url())
    if sources:
        build, build_reason = sources, "as given with --sources"
    else:
        database = db or folder / "effbench.duckdb"
        if not database.exists():
            raise EffbenchError(f"say what the workflow builds: pass --sources 'results.csv --models models.csv' "
                                f"(paths in the repository), or build once so that {database} records them")
        build, build_reason = sources_from_database(folder, database), f"the files {database.name} was built from"
        first = shlex.split(build)[0]
        if not first.startswith("--"):  # files named one by one: a submission's new file would not be built
            example = (Path(first).parent.as_posix() + "/") if Path(first).parent != Path(".") else "results/"
            build_reason += (f"; a file added later is built only once named, so to build every file a folder "
                             f"holds, pass --sources '{example}'")
    chosen_branch = branch or default_branch(folder)
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    build_line = f"{build} --out {shlex.quote(out)}".strip()
    files = {
        folder / "effbench.toml": settings_text(stored_title(db or folder / "effbench.duckdb")),
        folder / ".github" / "workflows" / "pages.yml": PAGES_WORKFLOW.format(
            install=install_spec, build=build_line, branch=chosen_branch, out=out, python=python),
        folder / ".github" / "workflows" / "check.yml": CHECK_WORKFLOW.format(
            install=install_spec, sources=build, branch=chosen_branch, python=python),
    }
    existing = [str(path) for path in files if path.exists()]
    if existing and not force:
        raise EffbenchError(f"{', '.join(existing)} already {'exists' if len(existing) == 1 else 'exist'}; "
                            "use --force to replace")
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    added = update_gitignore(folder, (f"{out.rstrip('/')}/", "effbench.duckdb", "effbench.duckdb.wal"))
    return InitReport(tuple(files), install_spec, install_reason, chosen_branch, build_line, build_reason, added)


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
