"""Publishing: a gh-pages branch in a bare repository, the Pages workflow, the preview server."""

from __future__ import annotations

import subprocess
import threading
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from effbench.cli import app
from effbench.config import load_config
from effbench.errors import EffbenchError
from effbench.publish import init, preview_server, publish

runner = CliRunner()


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture
def project(tmp_path: Path, example_build) -> tuple[Path, Path]:
    """A git repository with the built example site and a fresh bare repository as its `origin`."""
    bare, work = tmp_path / "remote.git", tmp_path / "work"
    git("init", "-q", "--bare", str(bare), cwd=tmp_path)
    git("init", "-q", str(work), cwd=tmp_path)
    git("remote", "add", "origin", str(bare), cwd=work)
    (work / "README.md").write_text("my benchmark\n")
    git("add", "README.md", cwd=work)
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "start", cwd=work)
    subprocess.run(["cp", "-r", str(example_build.out), str(work / "site")], check=True)
    return work, bare


def test_publish_to_a_fresh_bare_repository_then_again_adds_one_commit(project, monkeypatch):
    work, bare = project
    monkeypatch.chdir(work)
    first = runner.invoke(app, ["publish"])
    assert first.exit_code == 0, first.output
    tree = git("ls-tree", "--name-only", "gh-pages", cwd=bare).splitlines()
    assert "index.html" in tree and ".nojekyll" in tree and ".effbench-site" not in tree
    assert git("rev-list", "--count", "gh-pages", cwd=bare) == "1"
    second = runner.invoke(app, ["publish"])
    assert second.exit_code == 0, second.output
    assert git("rev-list", "--count", "gh-pages", cwd=bare) == "2"
    # The user's own branch, index and working tree are untouched.
    assert git("rev-parse", "--abbrev-ref", "HEAD", cwd=work) in ("master", "main")
    assert git("status", "--porcelain", cwd=work) == "?? site/"


def test_history_on_the_remote_is_kept_when_the_local_branch_is_new(project, tmp_path):
    work, bare = project
    publish(work / "site", repo=work)
    clone = tmp_path / "clone"
    git("clone", "-q", str(bare), str(clone), cwd=tmp_path)
    subprocess.run(["cp", "-r", str(work / "site"), str(clone / "site")], check=True)
    publish(clone / "site", repo=clone)
    assert git("rev-list", "--count", "gh-pages", cwd=bare) == "2"


def test_publish_needs_a_built_site_and_a_repository(tmp_path):
    with pytest.raises(EffbenchError, match="no built site"):
        publish(tmp_path / "site", repo=tmp_path)
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("x")
    with pytest.raises(EffbenchError, match="git rev-parse failed"):
        publish(tmp_path / "site", repo=tmp_path)


def test_init_writes_settings_and_a_pages_workflow(tmp_path):
    written = init(tmp_path, sources="results.parquet")
    assert [p.relative_to(tmp_path).as_posix() for p in written] == ["effbench.toml",
                                                                    ".github/workflows/pages.yml"]
    workflow = (tmp_path / ".github" / "workflows" / "pages.yml").read_text()
    for needle in ("actions/upload-pages-artifact", "actions/deploy-pages", "pages: write", "id-token: write",
                   "effbench build results.parquet", "path: site"):
        assert needle in workflow
    assert load_config(tmp_path / "effbench.toml").flash.stages == (10, 20, 50, 200, 1000, None)
    with pytest.raises(EffbenchError, match="already exist"):
        init(tmp_path)
    assert init(tmp_path, force=True)


def test_preview_server_serves_the_site(example_build):
    server = preview_server(example_build.out, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.server_address[1]}/index.html", timeout=10) as reply:
            assert b"gemini-1.5-pro-002" in reply.read()
    finally:
        server.shutdown()
        server.server_close()
