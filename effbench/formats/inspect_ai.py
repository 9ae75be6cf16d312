"""Placeholder: the inspect adapter is being written; it recognises nothing yet."""

from __future__ import annotations

from pathlib import Path

from effbench.errors import EffbenchError

NAME = "inspect"
DESCRIPTION = "inspect (not yet supported)"


def find(root: Path, files: list[Path]) -> list[Path]:
    return []


def read(unit: Path, options) -> None:
    raise EffbenchError(f"{unit}: the {NAME} format is not supported yet")
