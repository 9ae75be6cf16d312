"""The real results bundled with effbench, so that `effbench build` works with no arguments."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from effbench.errors import EffbenchError
from effbench.load import file_sha256


@dataclass(frozen=True)
class Example:
    """One bundled benchmark: its per-item results, model metadata and the credit owed to its authors."""

    name: str
    title: str
    results_file: str
    models_file: str
    credit: str
    license_name: str
    license_file: str
    homepage: str

    @property
    def results_path(self) -> Path:
        return data_path(self.results_file)

    @property
    def models_path(self) -> Path:
        return data_path(self.models_file)

    @property
    def license_path(self) -> Path:
        return data_path(self.license_file)

    @functools.cached_property
    def results_sha256(self) -> str:
        """The sha256 of the results file, as `sources` records it: read once per process."""
        return file_sha256(self.results_path)


EXAMPLES: dict[str, Example] = {
    "mmlu-pro": Example(
        name="mmlu-pro",
        title="MMLU-Pro",
        results_file="mmlu_pro_29models.csv.gz",
        models_file="mmlu_pro_models.csv",
        credit="MMLU-Pro results by TIGER-AI-Lab (Wang et al., 2024), 5-shot chain-of-thought outputs",
        license_name="Apache-2.0",
        license_file="MMLU-Pro-Apache-2.0.txt",
        homepage="https://github.com/TIGER-AI-Lab/MMLU-Pro",
    ),
    "livecodebench": Example(
        name="livecodebench",
        title="LiveCodeBench (code generation, 2024-04-17)",
        results_file="livecodebench_codegen_2024-04-17.csv.gz",
        models_file="livecodebench_models_2024-04-17.csv",
        credit="LiveCodeBench results by the LiveCodeBench team (Jain et al., 2024), snapshot of 2024-04-17",
        license_name="CC BY-SA 4.0",
        license_file="LiveCodeBench-CC-BY-SA-4.0.txt",
        homepage="https://livecodebench.github.io",
    ),
}

DEFAULT_EXAMPLE = "mmlu-pro"


def data_path(name: str) -> Path:
    """Return the path of a file bundled in `effbench/data`."""
    return Path(str(resources.files("effbench") / "data" / name))


def get_example(name: str) -> Example:
    """Return the bundled example called `name`, or raise a one-line error listing the choices."""
    try:
        return EXAMPLES[name]
    except KeyError:
        choices = ", ".join(sorted(EXAMPLES))
        raise EffbenchError(f"unknown example {name!r}; choose one of: {choices}") from None
