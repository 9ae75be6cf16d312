"""Progress of long stages on stderr: a status line while a stage runs, one summary line per stage at the end.

The library marks its stages with `stage("ranking")`; nothing is shown unless the caller opened a
`reporting()` block (the CLI does, on a terminal and without ``--quiet``), so library users and
pipes see nothing. Stage timings are collected either way and returned by `reporting()`.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass
class StageTimes:
    """The stages that ran inside one `reporting()` block, in order, with their seconds, and the processor
    seconds this process spent in each (`cpu`: a machine busy with other work lengthens the first only)."""

    stages: list[tuple[str, float]] = field(default_factory=list)
    cpu: list[tuple[str, float]] = field(default_factory=list)

    def summary(self) -> list[str]:
        """Return one line per stage, its name and how long it took, then their total."""
        width = max((len(name) for name, _ in self.stages), default=0)
        lines = [f"  {name:<{width}}  {seconds:7.1f} s" for name, seconds in self.stages]
        if len(self.stages) > 1:
            lines.append(f"  {'total':<{width}}  {sum(seconds for _, seconds in self.stages):7.1f} s")
        return lines


@dataclass
class _Reporter:
    times: StageTimes
    console: object | None  # a rich Console on stderr, or None when quiet


_current: ContextVar[_Reporter | None] = ContextVar("effbench_progress", default=None)


def should_show(quiet: bool) -> bool:
    """Return whether progress should be shown: on a terminal, unless the user asked for quiet."""
    return not quiet and sys.stderr.isatty()


@contextmanager
def reporting(*, show: bool) -> Iterator[StageTimes]:
    """Collect the timings of the stages run inside the block; with `show`, display them as they run."""
    console = None
    if show:
        from rich.console import Console

        console = Console(stderr=True)
    reporter = _Reporter(StageTimes(), console)
    token = _current.set(reporter)
    try:
        yield reporter.times
    finally:
        _current.reset(token)


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Mark a stage: show "name ..." while it runs (when reporting is shown) and record its time."""
    reporter = _current.get()
    start, cpu_start = time.perf_counter(), time.process_time()
    if reporter is None:
        yield
        return
    if reporter.console is None:
        yield
    else:
        with reporter.console.status(f"{name} ...", spinner="dots"):
            yield
    reporter.times.stages.append((name, time.perf_counter() - start))
    reporter.times.cpu.append((name, time.process_time() - cpu_start))
