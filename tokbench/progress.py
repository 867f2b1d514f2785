"""The one progress protocol of tokbench: plain callables, no rich, no typer.

A *stage* is one named piece of long work. ``progress(description, total)`` opens it: a context manager
that yields ``advance(n=1)``, called as work gets done (``total`` may be None when unknown). Functions
that run stages take ``progress: Progress = no_progress``; a function that does the work of one stage
takes the ``advance`` its caller got. The CLI passes :func:`tokbench.cli.progress.cli_progress`'s
progress; Python users pass nothing, or their own.

>>> with no_progress("encoding", 3) as advance:
...     advance(2)
>>> seen = []
>>> @contextlib.contextmanager
... def printing(description, total=None):
...     yield lambda n=1: seen.append(n)
>>> with printing("counting", 2) as advance:
...     advance(); advance()
>>> seen
[1, 1]
"""

from __future__ import annotations

import contextlib
from typing import Callable, ContextManager, Iterator, Optional

#: ``advance(n=1)``: n more units of the current stage are done.
Advance = Callable[..., None]
#: ``progress(description, total)``: a context manager for one stage, yielding its :data:`Advance`.
Progress = Callable[[str, Optional[int]], ContextManager[Advance]]


def ignore(n: int = 1) -> None:
    """An :data:`Advance` that does nothing."""


@contextlib.contextmanager
def no_progress(description: str, total: int | None = None) -> Iterator[Advance]:
    """The :data:`Progress` that reports nothing: the library's default."""
    yield ignore
