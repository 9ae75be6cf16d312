"""Publishing: a gh-pages branch in a bare repository, the Pages workflow, the preview server."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from effbench.cli import app
from effbench.config import load_config
from effbench.errors import EffbenchError
from effbench.publish import (
    default_branch,
    init,
    preview_server,
    publish,
    running_install_spec,
    sources_from_database,
    update_gitignore,
)

from browser import served

runner = CliRunner()
REPO = Path(__file__).resolve().parent.parent


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()


def new_repository(path: Path, branch: str = "trunk") -> Path:
    """A git repository with its own identity (the site is committed under the user's name)."""
    git("init", "-q", "-b", branch, str(path), cwd=path.parent)
    git("config", "user.name", "Ada Maintainer", cwd=path)
    git("config", "user.email", "ada@example.org", cwd=path)
    return path


@pytest.fixture
def project(tmp_path: Path, example_build) -> tuple[Path, Path]:
    """A git repository with the built example site and a fresh bare repository as its `origin`."""
    bare, work = tmp_path / "remote.git", tmp_path / "work"
    git("init", "-q", "--bare", str(bare), cwd=tmp_path)
    new_repository(work)
    git("remote", "add", "origin", str(bare), cwd=work)
    (work / "README.md").write_text("my benchmark\n")
    git("add", "README.md", cwd=work)
    git("commit", "-q", "-m", "start", cwd=work)
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
    # The commit is the user's own, not a made-up identity.
    assert git("log", "-1", "--format=%an <%ae> / %cn <%ce>", "gh-pages", cwd=bare) == (
        "Ada Maintainer <ada@example.org> / Ada Maintainer <ada@example.org>")
    (work / "site" / "index.html").write_text((work / "site" / "index.html").read_text() + "<!-- changed -->\n")
    second = runner.invoke(app, ["publish"])
    assert second.exit_code == 0, second.output
    assert git("rev-list", "--count", "gh-pages", cwd=bare) == "2"
    # The user's own branch, index and working tree are untouched.
    assert git("rev-parse", "--abbrev-ref", "HEAD", cwd=work) == "trunk"
    assert git("status", "--porcelain", cwd=work) == "?? site/"


def test_publishing_an_unchanged_site_makes_no_empty_commit(project, monkeypatch):
    work, bare = project
    monkeypatch.chdir(work)
    assert runner.invoke(app, ["publish"]).exit_code == 0
    again = runner.invoke(app, ["publish"])
    assert again.exit_code == 0, again.output
    assert "unchanged" in again.output and "nothing to commit" in again.output
    assert git("rev-list", "--count", "gh-pages", cwd=bare) == "1"
    assert git("rev-list", "--count", "gh-pages", cwd=work) == "1"


def test_publish_without_the_remote_says_so_in_one_whole_line(project, monkeypatch):
    work, _ = project
    git("remote", "remove", "origin", cwd=work)
    monkeypatch.chdir(work)
    result = runner.invoke(app, ["publish"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "effbench: error: no git remote named 'origin' (this repository has none); add one with "
        "`git remote add origin URL`, choose another with --remote, or commit without pushing with --no-push"]
    assert runner.invoke(app, ["publish", "--no-push"]).exit_code == 0
    assert git("rev-list", "--count", "gh-pages", cwd=work) == "1"


def test_publish_without_a_git_identity_asks_for_one(project, monkeypatch):
    work, _ = project
    git("config", "--unset", "user.name", cwd=work)
    for variable in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("HOME", str(work.parent))  # no global identity either
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    with pytest.raises(EffbenchError, match="git does not know your name"):
        publish(work / "site", repo=work, remote=None)


def test_history_on_the_remote_is_kept_when_the_local_branch_is_new(project, tmp_path):
    work, bare = project
    publish(work / "site", repo=work)
    clone = tmp_path / "clone"
    git("clone", "-q", str(bare), str(clone), cwd=tmp_path)
    git("config", "user.name", "Ada Maintainer", cwd=clone)
    git("config", "user.email", "ada@example.org", cwd=clone)
    subprocess.run(["cp", "-r", str(work / "site"), str(clone / "site")], check=True)
    (clone / "site" / "extra.txt").write_text("new\n")
    publish(clone / "site", repo=clone)
    assert git("rev-list", "--count", "gh-pages", cwd=bare) == "2"


def test_publish_needs_a_built_site_and_a_repository(tmp_path):
    with pytest.raises(EffbenchError, match="no built site"):
        publish(tmp_path / "site", repo=tmp_path)
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("x")
    with pytest.raises(EffbenchError, match="git rev-parse failed: not a git repository"):
        publish(tmp_path / "site", repo=tmp_path)


# ---------------------------------------------------------------------------------------------
# effbench init


@pytest.mark.parametrize(("direct_url", "expected"), [
    (None, "effbench==0.1.0"),
    ({"url": "https://github.com/o/effbench", "vcs_info": {"vcs": "git", "commit_id": "a" * 40}},
     f"git+https://github.com/o/effbench@{'a' * 40}"),
    ({"url": "https://files.example.org/effbench-0.1.0.tar.gz", "archive_info": {}},
     "https://files.example.org/effbench-0.1.0.tar.gz"),
])
def test_the_workflow_installs_the_effbench_that_runs(tmp_path, direct_url, expected):
    assert running_install_spec(tmp_path, direct_url, "0.1.0")[0] == expected


def test_a_local_checkout_is_installed_from_its_remote_at_its_commit_or_by_path_inside(tmp_path):
    checkout = new_repository(tmp_path / "effbench-src")
    (checkout / "x").write_text("x")
    git("add", "x", cwd=checkout)
    git("commit", "-q", "-m", "x", cwd=checkout)
    url = {"url": checkout.as_uri(), "dir_info": {"editable": True}}
    project = tmp_path / "bench"
    project.mkdir()
    with pytest.raises(EffbenchError, match="cannot install from .*--install"):
        running_install_spec(project, url)
    git("remote", "add", "origin", str(tmp_path / "elsewhere"), cwd=checkout)  # a clone of a local folder
    with pytest.raises(EffbenchError, match=r"cannot install from \(its git remote is .*elsewhere, on this machine\)"):
        running_install_spec(project, url)
    git("remote", "set-url", "origin", "git@github.com:ada/effbench.git", cwd=checkout)
    commit = git("rev-parse", "HEAD", cwd=checkout)
    spec, reason = running_install_spec(project, url)
    assert spec == f"git+https://github.com/ada/effbench.git@{commit}" and "uncommitted" not in reason
    (checkout / "x").write_text("changed")
    assert "uncommitted changes" in running_install_spec(project, url)[1]
    assert running_install_spec(tmp_path, url)[0] == "./effbench-src"  # a copy inside the repository


def test_the_workflow_runs_on_the_default_branch(tmp_path):
    repo = new_repository(tmp_path / "repo", branch="trunk")
    assert default_branch(repo) == "trunk"
    assert default_branch(tmp_path / "not-a-repo-at-all")  # git's configured default, else main


def test_gitignore_gains_the_site_and_database_once(tmp_path):
    (tmp_path / ".gitignore").write_text("__pycache__/\nsite\n")
    assert update_gitignore(tmp_path) == ("effbench.duckdb", "effbench.duckdb.wal")
    assert update_gitignore(tmp_path) == ()
    assert (tmp_path / ".gitignore").read_text().startswith("__pycache__/\nsite\n")


def test_init_refuses_to_guess_the_data_and_to_replace_files(tmp_path):
    with pytest.raises(EffbenchError, match="say what the workflow builds"):
        init(tmp_path, install="effbench==0.1.0")
    init(tmp_path, install="effbench==0.1.0", sources="results.csv")
    with pytest.raises(EffbenchError, match="already exist; use --force"):
        init(tmp_path, install="effbench==0.1.0", sources="results.csv")
    assert init(tmp_path, install="effbench==0.1.0", sources="results.csv", force=True).written
    assert load_config(tmp_path / "effbench.toml").site.citation is None  # every setting commented out


def _step(workflow: str, name: str, pages_url: str = "") -> str:
    """Return the command of the workflow's step `name`, with the Pages URL `configure-pages` gives."""
    match = re.search(rf"- name: {re.escape(name)}\n\s+run: (.+)\n", workflow)
    assert match, f"no step {name!r} in the workflow"
    return match.group(1).replace("${{ steps.pages.outputs.base_url }}", pages_url)


def test_each_deployment_builds_afresh_yet_keeps_the_changes_page(tmp_path):
    """The deploy workflow builds in an empty database every time; its history comes from the published
    site, so the second deployment's changes page lists the first one's models and the new one."""
    repo = new_repository(tmp_path / "bench")
    results = repo / "results"
    results.mkdir()
    rows = ["model,scenario,item_id,score"] + [
        f"{model},{scenario},{scenario}-{i},{int((i * (3 + k) + j) % 5 < 4 - k)}"
        for k, model in enumerate(["alpha", "beta", "gamma"]) for j, scenario in enumerate(["reading", "maths"])
        for i in range(12)]
    (results / "first.csv").write_text("\n".join(rows) + "\n")
    built = runner.invoke(app, ["build", str(results), "--db", str(repo / "effbench.duckdb"), "--out",
                                str(repo / "site"), "-q", "--resamples", "200"])
    assert built.exit_code == 0, built.output
    result = runner.invoke(app, ["init", str(repo), "--install", "effbench", "--sources", "results/ --resamples 200",
                                 "--db", str(repo / "effbench.duckdb")])
    assert result.exit_code == 0, result.output
    command = _step((repo / ".github" / "workflows" / "pages.yml").read_text(), "Build the site", "{url}")
    assert command == 'effbench build results/ --resamples 200 --out site --history-from "{url}"'

    def deploy(published: Path, into: Path) -> str:
        """Run the workflow's build in a clean checkout with an empty database; return what it said."""
        shutil.rmtree(into, ignore_errors=True)
        git("clone", "-q", str(repo), str(into), cwd=tmp_path)
        with served(published) as url:
            args = shlex.split(command.format(url=url))[1:]
            cwd = os.getcwd()
            os.chdir(into)
            try:
                outcome = runner.invoke(app, args)
            finally:
                os.chdir(cwd)
        assert outcome.exit_code == 0, outcome.output
        return outcome.output

    git("add", "results", cwd=repo)
    git("commit", "-q", "-m", "three models", cwd=repo)
    nothing = tmp_path / "nothing"
    nothing.mkdir()
    (nothing / "index.html").write_text("not yet deployed")
    assert "no published history yet" in deploy(nothing, tmp_path / "first")
    (results / "delta.csv").write_text("model,scenario,item_id,score\n" + "".join(
        f"delta,{scenario},{scenario}-{i},{i % 2}\n" for scenario in ("reading", "maths") for i in range(12)))
    git("add", "results", cwd=repo)
    git("commit", "-q", "-m", "delta", cwd=repo)
    said = deploy(tmp_path / "first" / "site", tmp_path / "second")
    assert "1 earlier snapshot(s) of the leaderboard added" in said and "warning" not in said
    changes = (tmp_path / "second" / "site" / "changes.html").read_text(encoding="utf-8")
    updates = re.findall(r"<h2 id=\"update-[^\"]+\">.*?</h2>", changes)
    assert len(updates) == 2 and "1 new model" in updates[0] and "3 new models" in updates[1]  # newest first
    assert 'New: <a href="models/delta.html">delta</a>' in changes
    # A history that is not one is refused in one line, and the database is left without it.
    (tmp_path / "bad.json").write_text('{"effbench_history": 1, "leaderboard": {"columns": ["x"], "rows": []}}')
    refused = runner.invoke(app, ["build", str(results), "--db", str(tmp_path / "b.duckdb"), "--out",
                                  str(tmp_path / "b-site"), "-q", "--history-from", str(tmp_path / "bad.json")])
    assert refused.exit_code == 1 and "bad.json: leaderboard: expected columns" in refused.output
    assert not (tmp_path / "b.duckdb").exists()  # refused before anything was loaded


def fresh_environment(venv: Path) -> Path:
    """Make a virtual environment at `venv` that sees the packages of the one running the tests, after its
    own: what `venv --system-site-packages` gives outside a virtual environment. Inside one, that flag
    would show the base interpreter's packages instead, which lack effbench's dependencies."""
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    own = subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                         capture_output=True, text=True, check=True).stdout.strip()
    running = [path for path in sys.path if path.endswith("site-packages") and Path(path).is_dir()]
    (Path(own) / "_running_environment.pth").write_text(
        "".join(f"import site; site.addsitedir({path!r})\n" for path in running))
    return venv


def test_the_written_workflow_installs_and_builds_in_a_fresh_checkout(tmp_path):
    """The maintainer's repository: results and metadata committed, effbench.duckdb built locally. The
    workflow `effbench init` writes is then run, step by step (install, build; not the deploy action),
    in a fresh clone, as the runner would."""
    repo = new_repository(tmp_path / "bench", branch="trunk")
    data = repo / "data"
    data.mkdir()
    rows = ["model,scenario,item,correct"] + [
        f"{model},{scenario},{scenario}-{i},{int((i * (k + 2) + j) % 5 < 4 - k)}"
        for k, model in enumerate(["alpha", "beta", "gamma", "delta"])
        for j, scenario in enumerate(["reading", "maths"]) for i in range(12)]
    (data / "results.csv").write_text("\n".join(rows) + "\n")
    (data / "models.csv").write_text("model,params_b\nalpha,70\nbeta,8\ngamma,3\ndelta,1\n")
    built = runner.invoke(app, ["ingest", str(data / "results.csv"), "--models", str(data / "models.csv"),
                                "--item-col", "item",
                                "--score-col", "correct", "--db", str(repo / "effbench.duckdb")])
    assert built.exit_code == 0, built.output
    assert sources_from_database(repo, repo / "effbench.duckdb") == (
        "data/results.csv --item-col item --score-col correct --models data/models.csv")

    result = runner.invoke(app, ["init", str(repo), "--install", str(REPO), "--db", str(repo / "effbench.duckdb")])
    assert result.exit_code == 0, result.output
    assert "on pushes to trunk" in result.output and "added to" in result.output
    workflow = (repo / ".github" / "workflows" / "pages.yml").read_text()
    assert "branches: [trunk]" in workflow and "path: site" in workflow
    for needle in ("actions/upload-pages-artifact", "actions/deploy-pages", "pages: write", "id-token: write"):
        assert needle in workflow
    ignored = (repo / ".gitignore").read_text().splitlines()
    assert {"site/", "effbench.duckdb"} <= set(ignored)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "leaderboard", cwd=repo)
    assert "effbench.duckdb" not in git("ls-files", cwd=repo)

    checkout = tmp_path / "runner"
    git("clone", "-q", str(repo), str(checkout), cwd=tmp_path)
    venv = fresh_environment(tmp_path / "venv")
    # Without PYTHONPATH, which would put the checkout running the tests before the workflow's own install.
    env = {**{k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
           "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}", "VIRTUAL_ENV": str(venv),
           "PIP_NO_BUILD_ISOLATION": "0", "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INDEX": "1"}
    empty = tmp_path / "nothing-published"  # a first deployment: the Pages URL has no history yet
    empty.mkdir()
    (empty / "index.html").write_text("not yet deployed")
    with served(empty) as url:
        for name in ("Install effbench", "Build the site"):
            step = subprocess.run(["bash", "-e", "-c", _step(workflow, name, url)], cwd=checkout, env=env,
                                  capture_output=True, text=True, check=False)
            assert step.returncode == 0, f"{name}: {step.stdout}\n{step.stderr}"
    assert "no published history yet" in step.stderr
    installed = subprocess.run([str(venv / "bin" / "python"), "-c", "import effbench; print(effbench.__file__)"],
                               cwd=checkout, env=env, capture_output=True, text=True, check=True).stdout
    assert str(venv) in installed  # the workflow's own install, not the editable copy running the tests
    index = (checkout / "site" / "index.html").read_text()
    assert "alpha" in index and "delta" in index
    shutil.rmtree(venv)


def test_init_on_the_command_line_reports_what_it_chose(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    new_repository(tmp_path, branch="main")
    result = runner.invoke(app, ["init", "--install", "effbench==0.1.0", "--sources", "results.parquet"])
    assert result.exit_code == 0, result.output
    assert "the workflow installs effbench==0.1.0 (as given with --install)" in result.output
    assert "`effbench build results.parquet --out site` (as given with --sources) on pushes to main" in result.output


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


def test_a_title_given_once_is_kept_by_a_plain_rebuild_and_by_init(tmp_path):
    """The title is remembered in the database: a later `effbench build` without --title keeps it, and
    the effbench.toml `init` writes sets it, so the deployed site has the local one's title."""
    repo = new_repository(tmp_path / "bench")
    rows = ["model,scenario,item_id,score"] + [f"{m},s,{i},{int((i * (k + 3)) % 7 < 4 - k)}"
                                               for k, m in enumerate(["a", "b", "c"]) for i in range(30)]
    (repo / "results.csv").write_text("\n".join(rows) + "\n")
    runner = CliRunner()
    title = 'Ünïcode "quoted" bench'
    db, out = str(repo / "effbench.duckdb"), str(repo / "site")
    built = runner.invoke(app, ["build", str(repo / "results.csv"), "--db", db, "--out", out, "--title", title,
                                "--resamples", "50"])
    assert built.exit_code == 0, built.output
    rebuilt = runner.invoke(app, ["build", "--db", db, "--out", out, "--resamples", "50"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "<title>Ünïcode &#34;quoted&#34; bench</title>" in (repo / "site" / "index.html").read_text()
    result = runner.invoke(app, ["init", str(repo), "--install", "effbench", "--db", db])
    assert result.exit_code == 0, result.output
    assert load_config(repo / "effbench.toml").title == title
