"""The CLI's one adapter of :mod:`tokbench.progress`: every command and the demo open it once.

On a terminal each stage is a rich bar on stderr. Elsewhere (CI logs, pipes, ``2> file``) bars would
be invisible or garbled, so each stage prints plain lines instead: when it starts, at most every
:data:`PLAIN_EVERY_S` seconds while it runs, and when it ends.
"""

from __future__ import annotations

import contextlib
import time
from typing import Iterator

from tokbench.cli.common import err_console
from tokbench.progress import Advance, Progress

#: Seconds between two plain progress lines of one running stage.
PLAIN_EVERY_S = 10.0


@contextlib.contextmanager
def cli_progress() -> Iterator[Progress]:
    """A :data:`~tokbench.progress.Progress` for the library: bars on a terminal, plain lines elsewhere."""
    if not err_console.is_terminal:
        yield plain_stage
        return
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress as Bars, SpinnerColumn, TextColumn,
                               TimeElapsedColumn, TimeRemainingColumn)

    with Bars(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
              TimeElapsedColumn(), TimeRemainingColumn(), console=err_console, transient=False) as bars:

        @contextlib.contextmanager
        def bar_stage(description: str, total: int | None = None) -> Iterator[Advance]:
            task = bars.add_task(description, total=total)
            yield lambda n=1: bars.advance(task, n)
            done = total if total is not None else 1
            bars.update(task, completed=done, total=done)

        yield bar_stage


def _count(done: int, total: int | None) -> str:
    return f"{done:,}/{total:,}" if total is not None else f"{done:,}"


@contextlib.contextmanager
def plain_stage(description: str, total: int | None = None) -> Iterator[Advance]:
    """One stage as plain lines on stderr: ``progress: description ...``, ``progress: description: 40/100
    (12 s)``, ``progress: description: done (100/100, 31.0 s)``."""
    started = last = time.monotonic()
    done = 0
    _line(f"{description} ...")

    def advance(n: int = 1) -> None:
        nonlocal done, last
        done += n
        now = time.monotonic()
        if now - last >= PLAIN_EVERY_S:
            last = now
            _line(f"{description}: {_count(done, total)} ({now - started:.0f} s)")

    yield advance  # an exception skips the 'done' line: the error line says what happened
    count = f"{_count(done, total)}, " if done else ""
    _line(f"{description}: done ({count}{time.monotonic() - started:.1f} s)")


#: Starts every plain progress line, so logs can be searched (and tests can tell them from errors).
PLAIN_PREFIX = "progress: "


def _line(text: str) -> None:
    err_console.print(PLAIN_PREFIX + text, markup=False, highlight=False, soft_wrap=True)
