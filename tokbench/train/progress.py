"""The progress protocol of library code: no rich, no typer, just callbacks.

A *progress* is ``progress(description, total) -> context manager yielding advance(n)``; the CLI passes
one built on :func:`tokbench.cli.progress.stage`, Python users pass nothing.
"""

from __future__ import annotations

import contextlib
from typing import Callable, ContextManager, Iterator, Optional

Advance = Callable[[int], None]
Progress = Callable[[str, Optional[int]], ContextManager[Advance]]


@contextlib.contextmanager
def _silent() -> Iterator[Advance]:
    yield lambda n=1: None


def stage(progress: Progress | None, description: str, total: int | None = None) -> ContextManager[Advance]:
    """A stage of work: the caller's bar, or a silent no-op."""
    if progress is None:
        return _silent()
    return progress(description, total)
