"""Progress bars for long work, on stderr. Library code takes plain callbacks; the CLI supplies these."""

from __future__ import annotations

import contextlib
from typing import Callable, Iterator

from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from tokbench.cli.common import err_console


@contextlib.contextmanager
def progress_bar() -> Iterator[Progress]:
    """A rich Progress on stderr (quiet when stderr is not a terminal, e.g. in CI logs)."""
    with Progress(
        SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), TimeRemainingColumn(), console=err_console, transient=False,
        disable=not err_console.is_terminal,
    ) as p:
        yield p


@contextlib.contextmanager
def stage(progress: Progress, description: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
    """A task on ``progress``; yields ``advance(n)`` to pass into library code as its callback."""
    task = progress.add_task(description, total=total)
    yield lambda n=1: progress.advance(task, n)
    progress.update(task, completed=total if total is not None else 1, total=total if total is not None else 1)
