"""A strict writer for the site: files go to a fresh temporary folder that replaces the output at the end."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path, PurePosixPath

from effbench.errors import EffbenchError

# A build leaves this file in its output folder; only a folder that has it (or an empty one) is replaced.
SITE_MARKER = ".effbench-site"
# A folder being written holds this file until it is swapped in; with the writer's process id in the
# folder's name, it tells a killed build's leftovers from a running build's work.
PARTIAL_MARKER = ".effbench-partial"
_ACTIVE: set[Path] = set()  # the temporary folders this process is writing now


class SiteWriter:
    """Collects the site's files in a temporary folder next to `out`, then swaps it in with `commit`.

    Refuses to write one path twice and any path that would leave the site. Nothing in `out` is
    touched until `commit`, so a failed build leaves the previous site as it was.
    """

    def __init__(self, out: Path) -> None:
        self.out = out.resolve()
        check_replaceable(self.out)
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self._root = Path(tempfile.mkdtemp(prefix=f".{self.out.name}-{os.getpid()}-", dir=self.out.parent))
        _ACTIVE.add(self._root)
        (self._root / PARTIAL_MARKER).write_text("effbench is writing this folder\n")
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

    def new_file(self, site_path: str) -> Path:
        """Return where the file `site_path` is to be written, for a writer of its own (its folder exists)."""
        return self._target(site_path)

    def copy_file(self, site_path: str, source: Path) -> None:
        shutil.copyfile(source, self._target(site_path))

    def commit(self) -> None:
        """Replace `out` with the written files.

        The old site is renamed aside, the new one renamed in, then the old one removed. A crash
        between the two renames leaves the old site beside `out`, and the next build puts it back
        (`recover_output`) before anything else, so the output is never lost.
        """
        (self._root / SITE_MARKER).write_text("Built by effbench; the next build replaces this folder.\n")
        (self._root / PARTIAL_MARKER).unlink()
        self._root.chmod(0o755)  # mkdtemp makes it private; a site is for everyone to read
        old = None
        if self.out.exists():
            old = self.out.with_name(f".{self.out.name}-old-{os.getpid()}")
            self.out.rename(old)
        self._root.rename(self.out)
        _ACTIVE.discard(self._root)
        if old is not None:
            shutil.rmtree(old)

    def discard(self) -> None:
        _ACTIVE.discard(self._root)
        shutil.rmtree(self._root, ignore_errors=True)


def _pid_alive(pid: int, since: float | None = None) -> bool:
    """Return whether process `pid` runs and may be the one that wrote a folder at time `since`: a killed
    process its parent has not reaped yet (a zombie) is gone, and so is a process that started after
    `since` under a reused id."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    started = _linux_process_start(pid)
    if started is None:  # not Linux, or the process ended meanwhile: trust kill()
        return True
    state, start_time = started
    return state != "Z" and (since is None or start_time <= since + 1)


def _linux_process_start(pid: int) -> tuple[str, float] | None:
    """Return (state letter, start time in seconds since the epoch) of `pid` from /proc, or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = next(float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                    if line.startswith("btime "))
        fields = stat[stat.rindex(")") + 2:].split()  # after the command name, which may hold spaces
        return fields[0], boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def _leftovers(out: Path) -> list[tuple[Path, bool]]:
    """Return (folder, is an old site) for each folder a killed build left beside `out`: named as the
    writer names them, with a marker inside, by a process that is gone (or by this one, not in use)."""
    if not out.parent.is_dir():
        return []
    pattern = re.compile(rf"\.{re.escape(out.name)}-(old-)?(\d+)(-[A-Za-z0-9_]+)?")
    found = []
    for folder in sorted(out.parent.iterdir()):
        match = pattern.fullmatch(folder.name)
        if match is None or folder.is_symlink() or not folder.is_dir() or folder in _ACTIVE:
            continue
        if bool(match.group(1)) == bool(match.group(3)):  # an old site has no random part, a new one has
            continue
        markers = [folder / SITE_MARKER, folder / PARTIAL_MARKER]
        # A build killed between creating its folder and marking it leaves the folder empty.
        if not (any(marker.exists() for marker in markers) or not any(folder.iterdir())):
            continue
        pid, is_old = int(match.group(2)), bool(match.group(1))
        # A new folder's markers are written by its writer, so a process younger than them is another one
        # under a reused id; an old site's marker is as old as that site, so it tells nothing of the swapper.
        written = None if is_old else min((m.stat().st_mtime for m in markers if m.exists()),
                                          default=folder.stat().st_mtime)
        if pid != os.getpid() and _pid_alive(pid, since=written):
            continue
        found.append((folder, is_old))
    return found


def recover_output(out: Path) -> None:
    """Undo what an interrupted build left: put the old site back where a crash between the two
    renames of the swap left no `out`, and remove the temporary folders of killed builds."""
    leftovers = _leftovers(out)
    if not out.exists():
        old_sites = [folder for folder, is_old in leftovers if is_old and (folder / SITE_MARKER).exists()]
        if old_sites:
            newest = max(old_sites, key=lambda folder: folder.stat().st_mtime)
            newest.rename(out)
            leftovers = [(folder, is_old) for folder, is_old in leftovers if folder != newest]
    for folder, _ in leftovers:
        shutil.rmtree(folder, ignore_errors=True)


def check_replaceable(out: Path) -> None:
    """Raise EffbenchError unless `out` is absent, empty, or a folder an earlier build wrote; first
    recover from an interrupted earlier build (`recover_output`)."""
    recover_output(out)
    if out.exists() and not out.is_dir():
        raise EffbenchError(f"{out}: exists and is not a folder; choose another --out")
    if out.is_dir() and any(out.iterdir()) and not (out / SITE_MARKER).exists():
        raise EffbenchError(
            f"{out}: folder is not empty and was not built by effbench; choose another --out "
            "(effbench replaces its output folder whole)"
        )
