"""The README and docs/ as tests: every code block runs (or says why it cannot), and every link resolves.

Blocks, by the language of their fence:

- `console`: `$ ` lines are commands, the lines under one its output; the command must succeed and print
  every shown line, in order, spacing aside (a line `...` stands for lines left out, and a line ending
  in `...` for any line that begins as it does).
- `sh`: every line is a command (a trailing backslash continues it; `#` starts a comment).
- `toml`: read as `effbench.toml` by effbench's own settings reader.
- `text`: output or a formula; nothing to run.

`effbench` commands, alone or after `cd DIR &&`, run in this process through the CLI app (a process of
their own would import the pipeline again, a second or more each); other commands run in bash, with an
`effbench` on PATH that runs this checkout. A block preceded by `<!-- not-run: why -->` is not run, but
its `effbench` commands are still parsed against the CLI, so a renamed command or option fails here.
Every block is counted, so none is skipped silently.

Each page runs in a folder of its own: the README and getting started from an empty folder, every other
page from a copy of the folder getting started leaves (its results, database and site).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from effbench.cli import app
from effbench.config import load_config

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
PAGES = [REPO / "README.md", *sorted(DOCS.glob("*.md"))]
FIRST = DOCS / "01-getting-started.md"
RUN = {"console", "sh", "toml"}
NEVER_RUN = {"text"}
NOT_RUN = re.compile(r"^<!-- not-run: (.+\S) -->$")
FENCE = re.compile(r"^(```+)(\S*)\s*$")
SHELL_SYNTAX = {"|", "||", "&&", ";", ">", ">>", "<", "&"}
runner = CliRunner()


@dataclass(frozen=True)
class Block:
    page: Path
    line: int
    lang: str
    body: str
    not_run: str | None

    def __str__(self) -> str:
        return f"{self.page.relative_to(REPO)}:{self.line}"


@dataclass(frozen=True)
class Command:
    text: str
    output: tuple[str, ...] = ()


def blocks(page: Path) -> list[Block]:
    """The fenced code blocks of a Markdown page, each with the reason it is not run, if one is given."""
    found, lines, i = [], page.read_text().splitlines(), 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        fence, start = opening.group(1), i
        i += 1
        while i < len(lines) and lines[i].rstrip() != fence:
            i += 1
        assert i < len(lines), f"{page.relative_to(REPO)}:{start + 1}: a code block is never closed"
        marker = NOT_RUN.match(lines[start - 1].strip()) if start else None
        found.append(Block(page, start + 1, opening.group(2), "\n".join(lines[start + 1:i]),
                           marker.group(1) if marker else None))
        i += 1
    return found


def commands(block: Block) -> list[Command]:
    """The commands of an `sh` or `console` block, continuation lines joined, with their shown output."""
    result: list[Command] = []
    pending = ""
    for line in block.body.splitlines():
        if block.lang == "console" and not pending and not line.startswith("$ "):
            if result:
                result[-1] = Command(result[-1].text, (*result[-1].output, line))
            continue
        text = line[2:] if block.lang == "console" and not pending else line
        if text.endswith("\\"):
            pending += text[:-1] + " "
            continue
        text, pending = pending + text, ""
        if text.strip() and not text.lstrip().startswith("#"):
            result.append(Command(text.strip()))
    return result


def effbench_args(command: str) -> tuple[str, list[str]] | None:
    """The folder and arguments of an `effbench` command run on its own or after one `cd DIR &&` (no pipes,
    redirections or other `&&`; the folder is "." without `cd`), else None."""
    words = shlex.split(command, comments=True)
    where = "."
    if len(words) > 3 and words[0] == "cd" and words[2] == "&&":
        where, words = words[1], words[3:]
    if not words or words[0] != "effbench" or SHELL_SYNTAX & set(words):
        return None
    return where, words[1:]


def shown_lines_appear(shown: tuple[str, ...], printed: str) -> str | None:
    """None when every shown line is printed, in order (spacing aside), else the first missing line."""
    printed_lines = [" ".join(line.split()) for line in printed.splitlines()]
    at = 0
    for line in shown:
        want = " ".join(line.split())
        if not want or want == "...":
            continue
        prefix = want[:-3].rstrip() if want.endswith("...") else None
        while at < len(printed_lines) and not (printed_lines[at] == want if prefix is None
                                               else printed_lines[at].startswith(prefix)):
            at += 1
        if at == len(printed_lines):
            return line
        at += 1
    return None


@pytest.fixture(scope="session")
def shim(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment for bash commands: `effbench` on PATH runs this checkout."""
    folder = tmp_path_factory.mktemp("bin")
    script = folder / "effbench"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m effbench "$@"\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    env = dict(os.environ, PATH=f"{folder}{os.pathsep}{os.environ['PATH']}")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def run_block(block: Block, folder: Path, env: dict[str, str]) -> None:
    if block.lang == "toml":
        path = folder / "effbench.toml"
        path.write_text(block.body + "\n")
        try:
            load_config(path)
        finally:
            path.unlink()
        return
    for command in commands(block):
        found = effbench_args(command.text)
        if found is not None:
            where, args = found
            cwd = os.getcwd()
            os.chdir(folder / where)
            try:
                result = runner.invoke(app, args)
            finally:
                os.chdir(cwd)
            printed, ok = result.output, result.exit_code == 0
            if result.exception and not isinstance(result.exception, SystemExit):
                printed += f"\n{result.exception!r}"
        else:
            done = subprocess.run(["bash", "-c", command.text], cwd=folder, env=env, capture_output=True,
                                  text=True, timeout=300)
            printed, ok = done.stdout + done.stderr, done.returncode == 0
        assert ok, f"{block}: `{command.text}` failed:\n{printed}"
        missing = shown_lines_appear(command.output, printed)
        assert missing is None, f"{block}: `{command.text}` did not print {missing!r}; it printed:\n{printed}"


def run_page(page: Path, folder: Path, env: dict[str, str]) -> int:
    """Run every runnable block of `page` in `folder`, in order; return how many ran."""
    ran = 0
    for block in blocks(page):
        if block.not_run is None and block.lang in RUN:
            run_block(block, folder, env)
            ran += 1
    return ran


@pytest.fixture(scope="session")
def started(tmp_path_factory: pytest.TempPathFactory, shim: dict[str, str]) -> Path:
    """The folder getting started leaves behind, after running its blocks in an empty folder."""
    folder = tmp_path_factory.mktemp("getting-started")
    assert run_page(FIRST, folder, shim) > 0
    return folder


def test_every_block_is_run_or_says_why_not():
    """No block is skipped silently: each is runnable, `text`, or marked not-run with a reason."""
    counts = {"run": 0, "text": 0, "not-run": 0}
    for page in PAGES:
        for block in blocks(page):
            assert block.lang, f"{block}: a code block needs a language (console, sh, toml, text)"
            if block.not_run is not None:
                assert block.lang != "text", f"{block}: a text block is never run; drop its not-run marker"
                counts["not-run"] += 1
            elif block.lang in NEVER_RUN:
                counts["text"] += 1
            else:
                assert block.lang in RUN, (f"{block}: a `{block.lang}` block is not run by this test: "
                                           "use console, sh, toml or text, or mark it not-run")
                counts["run"] += 1
    print(f"code blocks: {counts}")
    assert counts["run"] >= 15 and counts["run"] > counts["not-run"]


def test_not_run_commands_still_parse():
    """The effbench commands of not-run blocks name commands and options the CLI has."""
    checked = 0
    for page in PAGES:
        for block in blocks(page):
            if block.not_run is None or block.lang not in {"sh", "console"}:
                continue
            for command in commands(block):
                for part in re.split(r"\s*(?:&&|\|\||;)\s*", command.text):
                    words = shlex.split(part, comments=True)
                    if not words or words[0] != "effbench":
                        continue
                    result = runner.invoke(app, [*words[1:], "--help"])
                    assert result.exit_code == 0, f"{block}: `{part}` does not parse:\n{result.output}"
                    checked += 1
    assert checked >= 10


def test_getting_started_runs_in_an_empty_folder(started):
    assert (started / "effbench.duckdb").is_file() and (started / "site" / "index.html").is_file()


def test_the_readme_runs_in_an_empty_folder(tmp_path, shim):
    assert run_page(REPO / "README.md", tmp_path, shim) > 0


@pytest.mark.parametrize("page", [p for p in PAGES if p.parent == DOCS and p != FIRST], ids=lambda p: p.name)
def test_page_runs_after_getting_started(page, started, tmp_path, shim):
    folder = tmp_path / "work"
    shutil.copytree(started, folder, symlinks=True)
    run_page(page, folder, shim)


def anchors(page: Path) -> set[str]:
    """GitHub's anchors for the headings of a page."""
    found = set()
    for line in page.read_text().splitlines():
        heading = re.match(r"^#{1,6}\s+(.*?)\s*$", line)
        if heading and not line.startswith("#!"):
            text = re.sub(r"[^\w\- ]", "", heading.group(1).lower().replace("`", ""))
            found.add(text.replace(" ", "-"))
    return found


def prose(page: Path) -> str:
    """A page without its code blocks (a `#` comment in a block is no heading, a link there no link)."""
    return re.sub(r"^(```+)[^\n]*\n.*?^\1\s*$", "", page.read_text(), flags=re.S | re.M)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_relative_links_lead_to_files_and_headings(page):
    text = prose(page)
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    assert links or page.name == "README.md"
    for link in links:
        if re.match(r"^[a-z]+:", link):
            continue
        target, _, anchor = link.partition("#")
        path = (page.parent / target).resolve() if target else page
        assert path.exists(), f"{page.relative_to(REPO)}: the link {link} leads to no file"
        if anchor:
            assert path.suffix == ".md", f"{page.relative_to(REPO)}: {link}: an anchor into a non-page"
            assert anchor in anchors(path), f"{page.relative_to(REPO)}: {link}: no such heading in {target}"


def test_every_docs_page_is_listed_in_the_index_and_the_readme():
    index = (DOCS / "index.md").read_text()
    readme = (REPO / "README.md").read_text()
    for page in DOCS.glob("*.md"):
        if page.name != "index.md":
            assert f"]({page.name})" in index, f"docs/index.md does not link {page.name}"
            assert f"](docs/{page.name})" in readme, f"README.md does not link docs/{page.name}"


def test_the_readme_is_a_front_door():
    readme = (REPO / "README.md").read_text()
    assert len(readme.splitlines()) < 200
    assert "](docs/images/leaderboard.png)" in readme and (DOCS / "images" / "leaderboard.png").stat().st_size < 300_000
