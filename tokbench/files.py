"""Atomic, provenance-carrying file output.

Every artifact tokbench writes goes through here so that an interrupted run never leaves a half-written
file (write to a temporary sibling, fsync, rename) and a half-built output directory never appears under
its final name (build in a temporary sibling directory, rename at the end).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterator

from tokbench.errors import OutputExistsError

CHUNK = 1 << 20


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` via a temporary file in the same directory and an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: str | os.PathLike, obj: Any, *, indent: int = 2) -> Path:
    """Write JSON with sorted keys (diff-friendly, reproducible) atomically."""
    text = json.dumps(obj, indent=indent, sort_keys=True, ensure_ascii=False, default=_json_default)
    return write_text_atomic(path, text + "\n")


def _json_default(o: Any):
    import numpy as np

    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def check_output_dir(out: str | os.PathLike, force: bool) -> Path:
    """Fail early (before any work) when ``out`` exists and ``force`` is false."""
    out = Path(out)
    if out.exists() and not force:
        raise OutputExistsError(f"output '{out}' already exists; choose another --out or pass --force to replace it")
    return out


@contextlib.contextmanager
def atomic_dir(out: str | os.PathLike, force: bool = False) -> Iterator[Path]:
    """Build a directory under a temporary name and move it to ``out`` only if the block succeeds.

    >>> with atomic_dir("runs/bpe") as tmp:   # doctest: +SKIP
    ...     (tmp / "tokenizer.json").write_text("...")
    """
    out = check_output_dir(out, force)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if out.exists():
        backup = out.with_name(f".{out.name}.old")
        shutil.rmtree(backup, ignore_errors=True)
        os.replace(out, backup)
        os.replace(tmp, out)
        shutil.rmtree(backup, ignore_errors=True)
    else:
        os.replace(tmp, out)


#: Written into every cache folder tokbench creates (the root and each first-level part), so that
#: `tokbench cache clear` deletes only what tokbench made, even when TOKBENCH_CACHE points at a folder
#: that holds other things too.
CACHE_MARK = ".tokbench-cache"


def cache_root() -> Path:
    """Where the cache lives, without creating it: $TOKBENCH_CACHE, else $XDG_CACHE_HOME/tokbench, else
    ~/.cache/tokbench."""
    root = os.environ.get("TOKBENCH_CACHE")
    if root:
        return Path(root)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tokbench"


def _mark(folder: Path) -> None:
    with contextlib.suppress(OSError):
        (folder / CACHE_MARK).write_text("made by tokbench; `tokbench cache clear` may delete this folder\n")


def cache_dir(sub: str = "") -> Path:
    """A folder of tokbench's cache (see :func:`cache_root`), created on first use and marked as tokbench's."""
    base = cache_root()
    if not base.is_dir():
        base.mkdir(parents=True, exist_ok=True)
        _mark(base)
    if not sub:
        return base
    top = base / Path(sub).parts[0]
    if not top.is_dir():
        top.mkdir(exist_ok=True)
        _mark(top)
    path = base / sub
    path.mkdir(parents=True, exist_ok=True)
    return path
