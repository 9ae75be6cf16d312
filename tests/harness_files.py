"""Real harness files from tests/data/formats, copied with one field changed: the bad inputs each format
adapter must refuse with one line naming the file, the entry and the field.

A change sets the value at a path of keys and list positions in one JSON file (or in one line of a
JSON-lines file). Three values stand for what `json.dumps` cannot write: `DEEP` becomes a list nested
100,000 deep, `NOT_UTF8` a string holding bytes that are not UTF-8, and `HUGE` is an integer no float
holds (JSON itself has no limit on integers).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

FORMATS = Path(__file__).parent / "data" / "formats"
DEEP = "@@nested-100000-deep@@"
NOT_UTF8 = "@@not-utf-8@@"
HUGE = 10**400
_DEPTH = 100_000


def _dump(value: object) -> bytes:
    text = json.dumps(value).replace(json.dumps(DEEP), "[" * _DEPTH + "]" * _DEPTH)
    return text.encode().replace(NOT_UTF8.encode(), b"caf\xe9 \xff")


def set_at(data: object, path: tuple, value: object) -> None:
    """Set the value at `path` (keys and list positions) inside `data`."""
    for step in path[:-1]:
        data = data[step]
    data[path[-1]] = value


def change_json(path: Path, at: tuple, value: object, *, line: int | None = None) -> None:
    """Set the value at `at` in the JSON file `path`, or in its line `line` (1-based) of JSON lines."""
    if line is None:
        data = json.loads(path.read_text(encoding="utf-8"))
        set_at(data, at, value)
        path.write_bytes(_dump(data))
        return
    lines = path.read_bytes().splitlines()
    record = json.loads(lines[line - 1])
    set_at(record, at, value)
    lines[line - 1] = _dump(record)
    path.write_bytes(b"\n".join(lines) + b"\n")


def copy_fixture(source: str, tmp: Path) -> Path:
    """Copy the file or folder `source` (relative to tests/data/formats) into `tmp`; return the copy."""
    origin = FORMATS / source
    target = tmp / "input" / origin.name
    target.parent.mkdir(parents=True, exist_ok=True)
    if origin.is_dir():
        shutil.copytree(origin, target)
    else:
        shutil.copy2(origin, target)
    return target


def changed(source: str, file: str | None, at: tuple, value: object, *, line: int | None = None,
            given: str | None = None) -> Callable[[Path], tuple[Path, Path]]:
    """A bad input: the fixture `source` copied with the value at `at` in `file` (inside it; None: the
    fixture is the file) set to `value`. Returns a function of the test's folder giving (the path to
    load: `given` inside the copy, else the copy; the file that was changed)."""
    def make(tmp: Path) -> tuple[Path, Path]:
        copy = copy_fixture(source, tmp)
        target = copy / file if file else copy
        change_json(target, at, value, line=line)
        return (copy / given if given else copy), target
    return make


def openeval_items(tmp: Path) -> Path:
    """An OpenEval item file (JSON lines) of two items, each answered by two models."""
    path = tmp / "input" / "items.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    items = [{"item_id": f"q{i}", "item_metadata": {"source": {"benchmark_name": "bench"}},
              "responses": [{"response_id": f"q{i}_{model}_0", "model": {"name": model},
                             "scores": [{"metric": {"name": "acc"}, "value": (i + m) % 2}]}
                            for m, model in enumerate(("alpha", "beta"))]} for i in range(2)]
    path.write_text("".join(json.dumps(item) + "\n" for item in items))
    return path


def changed_openeval(at: tuple, value: object) -> Callable[[Path], tuple[Path, Path]]:
    """A bad input: the OpenEval item file of `openeval_items` with the value at `at` of its first line changed."""
    def make(tmp: Path) -> tuple[Path, Path]:
        path = openeval_items(tmp)
        change_json(path, at, value, line=1)
        return path, path
    return make
