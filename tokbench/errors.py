"""The exception family of tokbench.

Every error a user can cause is a :class:`TokbenchError` whose message says what is wrong *and* how to fix
it. The CLI prints it as one red line and exits with :attr:`TokbenchError.exit_code` (2 for bad input),
never with a traceback.
"""

from __future__ import annotations


class TokbenchError(Exception):
    """Base class: a problem the user can fix. The message is one line ending in the fix."""

    exit_code = 2


class InputNotFoundError(TokbenchError):
    """A file, directory or named resource does not exist."""


class UnknownFormatError(TokbenchError):
    """A file exists but tokbench cannot tell (or does not support) its format."""


class CorruptFileError(TokbenchError):
    """A file has the right name but unreadable content (bad JSON, not text, truncated...)."""


class CorpusError(TokbenchError):
    """A corpus spec is malformed, names an unknown corpus/language/split, or yields no text."""


class TokenizerError(TokbenchError):
    """A tokenizer cannot do what was asked (e.g. it has no merges)."""


class ConfigError(TokbenchError):
    """Parameters are inconsistent (vocab size too small, transition >= vocab size, ...)."""


class OutputExistsError(TokbenchError):
    """An output path exists and --force was not given."""


class MissingDependencyError(TokbenchError):
    """An optional package is needed; the message names the pip command."""


class CheckFailed(TokbenchError):
    """A regression check found differences (exit code 1, like a failing test)."""

    exit_code = 1


def require(module: str, extra: str | None = None, pip_name: str | None = None):
    """Import an optional module or raise :class:`MissingDependencyError` with the install hint."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        hint = f"pip install 'tokbench[{extra}]'" if extra else f"pip install {pip_name or module}"
        raise MissingDependencyError(f"this needs the '{module}' package ({exc}); install it with: {hint}") from exc
