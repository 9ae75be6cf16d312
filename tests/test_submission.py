"""The submission check: proposed results are placed, with their intervals and Flash status, in a scratch copy;
the leaderboard's own database is never changed."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from effbench import pipeline, submission
from effbench.errors import EffbenchError

from conftest import long_rows, write_csv


def scores(p: float, n: int, seed: int) -> list[float]:
    return (np.random.default_rng(seed).random(n) < p).astype(float).tolist()


@pytest.fixture(scope="module")
def board(tmp_path_factory):
    """A database of four models on two scenarios of 200 items, and the folder it was built in."""
    folder = tmp_path_factory.mktemp("board")
    results = {f"m{i}": {"qa": scores(p, 200, i), "math": scores(p - 0.1, 200, 10 + i)}
               for i, p in enumerate([0.8, 0.65, 0.5, 0.35])}
    path = write_csv(folder / "results.csv", long_rows(results))
    db = folder / "effbench.duckdb"
    pipeline.update(db, pipeline.result_sources([path]), all_analyses=False)
    return folder, db


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_new_model_is_placed_with_its_interval_and_flash_status_and_the_database_is_untouched(board, tmp_path):
    folder, db = board
    before = digest(db)
    new = write_csv(tmp_path / "new.csv", long_rows({"newcomer": {"qa": scores(0.72, 200, 99),
                                                                  "math": scores(0.62, 200, 98)}}))
    result = submission.check(db, pipeline.result_sources([folder / "results.csv", new]))
    assert digest(db) == before
    (placed,) = result.submitted
    assert placed.model == "newcomer" and placed.new
    assert 1 <= placed.place.rank_lo <= placed.place.rank <= placed.place.rank_hi <= 5
    assert placed.place.score_lo < placed.place.score < placed.place.score_hi
    assert placed.flash is not None and placed.flash.items_evaluated == 400
    # The base file was loaded before: skipped by its content, only the new file is reported as loaded.
    assert [r.already_loaded for r in result.loads] == [True, False]
    assert [e.model for e in result.changes.new_models] == ["newcomer"]
    # The models it overtook moved down: each moved model's rank grew by one or its interval changed.
    assert all(m.after.rank >= m.before.rank for m in result.changes.moved)
    summary = submission.summary_markdown(result)
    assert "| newcomer (new) |" in summary and placed.place.rank_text in summary
    assert "resolved with 400 items" in summary or "more items" in summary
    assert "New on " in summary and "newcomer at rank" in summary


def test_a_model_with_few_items_is_told_what_flash_still_needs(board, tmp_path):
    folder, db = board
    # The model ran the first stage Flash planned for it (10 items per scenario), as the workflow asks.
    _, items = pipeline.flash_plan(db, "quick", pipeline.DEFAULT_FLASH, new=True)
    rng = np.random.default_rng(7)
    rows = [{"model": "quick", "scenario": i.scenario, "item_id": i.item_id, "score": float(rng.random() < 0.5)}
            for i in items]
    result = submission.check(db, pipeline.result_sources([write_csv(tmp_path / "quick.csv", rows)]))
    (placed,) = result.submitted
    assert placed.flash is not None and not placed.flash.resolution_met and placed.flash.next_items > 0
    assert f"{placed.flash.next_items:,} more items" in submission.summary_markdown(result)


def test_a_bad_file_is_one_line_and_leaves_the_database_as_it_was(board, tmp_path):
    folder, db = board
    before = digest(db)
    bad = tmp_path / "bad.csv"
    bad.write_text("model,scenario,item_id,score\nx,qa,qa-0,not-a-number\n", encoding="utf-8")
    with pytest.raises(EffbenchError) as error:
        submission.check(db, pipeline.result_sources([bad]))
    assert "\n" not in str(error.value) and "bad.csv" in str(error.value)
    assert digest(db) == before


def test_nothing_new_says_so(board):
    folder, db = board
    result = submission.check(db, pipeline.result_sources([folder / "results.csv"]))
    assert result.submitted == () and result.changes.empty
    text = submission.summary_markdown(result)
    assert "already loaded" in text and "Nothing: ranks and intervals stay as they are." in text


def test_names_cannot_inject_markdown(board, tmp_path):
    folder, db = board
    name = "evil | [link](http://x) <b>"
    rows = long_rows({name: {"qa": scores(0.5, 200, 3), "math": scores(0.4, 200, 4)}})
    text = submission.summary_markdown(submission.check(db, pipeline.result_sources(
        [write_csv(tmp_path / "evil.csv", rows)])))
    assert name not in text and "[link](" not in text and "<b>" not in text


def test_the_command_writes_the_job_summary_and_a_refused_file_fails_with_one_line(board, tmp_path):
    from typer.testing import CliRunner

    from effbench.cli import app

    folder, db = board
    before = digest(db)
    new = write_csv(tmp_path / "new.csv", long_rows({"newcomer": {"qa": scores(0.72, 200, 99),
                                                                  "math": scores(0.62, 200, 98)}}))
    summary = tmp_path / "summary.md"
    summary.write_text("earlier steps\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["check", str(folder / "results.csv"), str(new), "--db", str(db),
                                      "--summary", str(summary)])
    assert result.exit_code == 0, result.output
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("earlier steps\n## effbench: submission check") and "| newcomer (new) |" in text
    assert "| newcomer (new) |" in result.output and digest(db) == before
    assert "## effbench: submission check\n" in result.output and "\\n" not in result.output  # real lines
    bad = tmp_path / "bad.csv"
    bad.write_text("model,scenario,item_id,score\nx,qa,qa-0,not-a-number\n", encoding="utf-8")
    failed = CliRunner().invoke(app, ["check", str(bad), "--db", str(db), "--summary", str(summary)])
    assert failed.exit_code == 1 and failed.output.startswith("effbench: error:") and failed.output.count("\n") == 1
    assert "The proposed results cannot be loaded: " in summary.read_text(encoding="utf-8")
    assert digest(db) == before


def workflow_step(workflow: str, name: str) -> str:
    """The shell script of the step `name` of a workflow: a one-line `run:` or a `run: |` block."""
    lines = workflow.splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip() == f"- name: {name}")
    run = lines[at + 1]
    if not run.strip().startswith("run: |"):
        return run.split("run: ", 1)[1]
    indent = len(run) - len(run.lstrip())
    block = []
    for line in lines[at + 2:]:
        if line.strip() and len(line) - len(line.lstrip()) <= indent:
            break
        block.append(line.strip())
    return "\n".join(block)


def test_the_pull_request_workflow_init_writes_checks_a_proposed_file(tmp_path):
    """A maintainer's repository with results in a folder: `init` writes the check workflow; a pull request
    adds one model's file; the workflow's two steps, run as the runner would (base commit, RUNNER_TEMP,
    GITHUB_STEP_SUMMARY), rank the base and write the new model's place into the job summary."""
    import os
    import subprocess

    from effbench.publish import init

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout.strip()

    repo = tmp_path / "bench"
    (repo / "results").mkdir(parents=True)
    git("init", "-q", "-b", "main")
    git("config", "user.name", "Ada Maintainer")
    git("config", "user.email", "ada@example.org")
    for i, p in enumerate([0.8, 0.6, 0.4]):
        write_csv(repo / "results" / f"m{i}.csv", long_rows({f"m{i}": {"qa": scores(p, 100, i)}}))
    init(repo, install="effbench", sources="results/")
    git("add", "-A")
    git("commit", "-q", "-m", "leaderboard")
    base = git("rev-parse", "HEAD")
    write_csv(repo / "results" / "new.csv", long_rows({"newcomer": {"qa": scores(0.9, 100, 9)}}))
    git("add", "-A")
    git("commit", "-q", "-m", "newcomer's results")

    workflow = (repo / ".github" / "workflows" / "check.yml").read_text(encoding="utf-8")
    assert "pull_request:" in workflow and "branches: [main]" in workflow
    runner = tmp_path / "runner"
    runner.mkdir()
    env = {**os.environ, "RUNNER_TEMP": str(runner), "GITHUB_STEP_SUMMARY": str(runner / "summary.md")}
    for name in ("Rank the results as they stand on main", "Check the proposed results"):
        script = workflow_step(workflow, name).replace("${{ github.event.pull_request.base.sha }}", base)
        step = subprocess.run(["bash", "-e", "-c", script], cwd=repo, env=env, capture_output=True, text=True)
        assert step.returncode == 0, f"{name}: {step.stdout}\n{step.stderr}"
    summary = (runner / "summary.md").read_text(encoding="utf-8")
    assert "| newcomer (new) | 1 (" in summary and "New on " in summary


def test_file_names_are_code_spans_as_markdown_reads_them(board, tmp_path):
    """Backslashes do not escape inside a code span: a file name shows as it is, with a longer fence
    around a backtick, and a name that could start a list never starts a line."""
    assert submission.code("model-7.csv") == "`model-7.csv`"
    assert submission.code("a`b.csv") == "``a`b.csv``" and submission.code("`x") == "`` `x ``"
    assert submission.code("line\nbreak.csv") == "`line\\nbreak.csv`"
    folder, db = board
    rows = long_rows({"- listed": {"qa": scores(0.5, 200, 3)}})
    text = submission.summary_markdown(submission.check(db, pipeline.result_sources(
        [write_csv(tmp_path / "run-1.csv", rows)])))
    assert "Loaded: `run-1.csv`" in text
    assert not any(line.startswith("- listed") for line in text.splitlines())
