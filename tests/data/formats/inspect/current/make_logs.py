"""Write the Inspect logs in this folder by running inspect_ai itself with its stand-in model.

Run with the inspect-ai release named in README.md, in a virtual environment of its own:

    python -m venv /tmp/tools && /tmp/tools/bin/pip install inspect-ai==0.3.285
    /tmp/tools/bin/python tests/data/formats/inspect/current/make_logs.py

The tasks are tiny and local (no data set is downloaded, no model called: `mockllm/model` answers
"Default output from mockllm/model" to every prompt). Each log is renamed to a fixed name, so that
the tests can name it; the names say what each log shows.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import inspect_ai.model._model
from inspect_ai import Epochs, Task, eval, eval_set, task
from inspect_ai.dataset import Sample
from inspect_ai.scorer import CORRECT, INCORRECT, Score, Target, accuracy, includes, mean, scorer
from inspect_ai.solver import Generate, TaskState, generate, solver

# The stand-in model counts its tokens with tiktoken, which downloads its encoding on first use; count
# words instead, so that the runs need no network (the counts land only in the logs' usage fields).
inspect_ai.model._model.count_text_tokens = lambda text: max(1, len(text.split()))

HERE = Path(__file__).parent
MODEL = "mockllm/model"
# "mockllm" is in the stand-in model's answer, "paris" is not: samples 1 and 3 are correct.
TARGETS = ["mockllm", "paris", "mockllm", "paris"]


def _samples(count: int = 4) -> list[Sample]:
    return [Sample(id=i + 1, input=f"question {i + 1}", target=TARGETS[i % len(TARGETS)]) for i in range(count)]


@task
def toy():
    """Four samples, scored by Inspect's `includes`: two correct."""
    return Task(dataset=_samples(), solver=generate(), scorer=includes())


@scorer(metrics=[accuracy()])
def correct_in_epoch():
    """Correct in the epochs listed for each sample, so that reducers give different numbers."""
    correct_epochs = {1: {1, 2, 3}, 2: {2}, 3: {3}, 4: set()}

    async def score(state: TaskState, target: Target) -> Score:
        return Score(value=CORRECT if state.epoch in correct_epochs[int(state.sample_id)] else INCORRECT)

    return score


@task
def epochs_max():
    """Three epochs reduced by "max": per sample 1, 1, 1, 0 (0.75) where the mean of the rows is 5/12."""
    return Task(dataset=_samples(), solver=generate(), scorer=correct_in_epoch(), epochs=Epochs(3, "max"))


@task
def epochs_two_reducers():
    """Three epochs reduced by "mode" and "max": Inspect reports one result per reducer."""
    return Task(dataset=_samples(), solver=generate(), scorer=correct_in_epoch(), epochs=Epochs(3, ["mode", "max"]))


@solver
def fail_after_first_epoch():
    async def solve(state: TaskState, generate: Generate) -> TaskState:
        if state.epoch > 1:
            raise RuntimeError("the stand-in model is gone")
        return await generate(state)

    return solve


@task
def epochs_cut_short():
    """Four epochs declared; samples fail from the second epoch on, and one sample at a time (run with
    max_samples=1) the run stops at the first failure, holding the first epoch only."""
    return Task(dataset=_samples(2), solver=fail_after_first_epoch(), scorer=includes(), epochs=Epochs(4))


@scorer(metrics={"*": [mean()]})
def two_part_grade():
    """A scorer whose value is a dict, as model-graded scorers with several criteria give."""

    async def score(state: TaskState, target: Target) -> Score:
        return Score(value={"fluency": 1.0, "accuracy": 1.0 if target.text in state.output.completion else 0.0})

    return score


@task
def dict_scores():
    return Task(dataset=_samples(), solver=generate(), scorer=two_part_grade())


FLAKY_MARK = Path(tempfile.gettempdir()) / "effbench-flaky-failed-once"


@solver
def fails_on_first_attempt():
    async def solve(state: TaskState, generate: Generate) -> TaskState:
        if not FLAKY_MARK.exists():
            FLAKY_MARK.touch()
            raise RuntimeError("connection reset (first attempt)")
        return await generate(state)

    return solve


@task
def flaky():
    """Fails on the first attempt and succeeds when the eval set retries it."""
    return Task(dataset=_samples(), solver=fails_on_first_attempt(), scorer=includes())


def _run(tasks, name: str, log_format: str = "eval", **options) -> None:
    with tempfile.TemporaryDirectory() as folder:
        logs = eval(tasks, model=MODEL, log_dir=folder, log_format=log_format, display="none", **options)
        for log in logs:
            shutil.copy(log.location, HERE / f"{name}.{log_format}")


def main() -> None:
    _run(toy(), "toy_zstd")
    _run(toy(), "toy", log_format="json")
    _run(epochs_max(), "epochs_max")
    _run(epochs_two_reducers(), "epochs_two_reducers")
    _run(epochs_cut_short(), "epochs_cut_short", max_samples=1)
    _run(dict_scores(), "dict_scores")
    FLAKY_MARK.unlink(missing_ok=True)
    retry = HERE / "eval_set_retry"
    shutil.rmtree(retry, ignore_errors=True)
    eval_set(flaky(), model=MODEL, log_dir=str(retry), retry_attempts=2, retry_wait=0.1,
             retry_cleanup=False, display="none")
    FLAKY_MARK.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
