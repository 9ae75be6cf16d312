"""A strict writer for the site: files go to a fresh temporary folder that replaces the output at the end."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath

from effbench.errors import EffbenchError

# A build leaves this file in its output folder; only a folder that has it (or an empty one) is replaced.
SITE_MARKER = ".effbench-site"


class SiteWriter:
    """Collects the site's files in a temporary folder next to `out`, then swaps it in with `commit`.

    Refuses to write one path twice and any path that would leave the site. Nothing in `out` is
    touched until `commit`, so a failed build leaves the previous site as it was.
    """

    def __init__(self, out: Path) -> None:
        self.out = out.resolve()
        check_replaceable(self.out)
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self._root = Path(tempfile.mkdtemp(prefix=f".{self.out.name}-", dir=self.out.parent))
        self._written: set[str] = set()

    @property
    def written(self) -> list[str]:
        return sorted(self._written)

    def _target(self, site_path: str) -> Path:
        pure = PurePosixPath(site_path)
        if pure.is_absolute() or ".." in pure.parts or not pure.parts:
            raise ValueError(f"site path must stay inside the site: {site_path!r}")
        if site_path in self._written:
            raise ValueError(f"site path written twice: {site_path!r}")
        self._written.add(site_path)
        target = self._root.joinpath(*pure.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def write_text(self, site_path: str, text: str) -> None:
        self._target(site_path).write_text(text, encoding="utf-8", newline="\n")

    def write_bytes(self, site_path: str, data: bytes) -> None:
        self._target(site_path).write_bytes(data)

    def copy_file(self, site_path: str, source: Path) -> None:
        shutil.copyfile(source, self._target(site_path))

    def commit(self) -> None:
        """Replace `out` with the written files."""
        (self._root / SITE_MARKER).write_text("Built by effbench; the next build replaces this folder.\n")
        self._root.chmod(0o755)  # mkdtemp makes it private; a site is for everyone to read
        old = None
        if self.out.exists():
            old = self.out.with_name(f".{self.out.name}-old-{os.getpid()}")
            self.out.rename(old)
        self._root.rename(self.out)
        if old is not None:
            shutil.rmtree(old)

    def discard(self) -> None:
        shutil.rmtree(self._root, ignore_errors=True)


def check_replaceable(out: Path) -> None:
    """Raise EffbenchError unless `out` is absent, empty, or a folder an earlier build wrote."""
    if out.exists() and not out.is_dir():
        raise EffbenchError(f"{out}: exists and is not a folder; choose another --out")
    if out.is_dir() and any(out.iterdir()) and not (out / SITE_MARKER).exists():
        raise EffbenchError(
            f"{out}: folder is not empty and was not built by effbench; choose another --out "
            "(effbench replaces its output folder whole)"
        )
