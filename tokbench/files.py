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
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterator

from tokbench.errors import CorruptFileError, InputNotFoundError, OutputExistsError

CHUNK = 1 << 20


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def require_regular_file(path: str | os.PathLike, what: str = "input") -> Path:
    """Refuse FIFOs, sockets and devices before opening them (reading a FIFO blocks forever)."""
    import stat

    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise InputNotFoundError(f"no {what} at '{path}'") from None
    if not stat.S_ISREG(mode):
        kind = "a folder" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode) else "not a regular file"
        raise CorruptFileError(f"{what} '{path}' is {kind}; give a regular file")
    return path


def check_output_file(path: str | os.PathLike) -> Path:
    """Fail early when a single output file cannot be written at ``path``: it names a folder, a special
    file, or lies under a file."""
    path = Path(path)
    if not path.name or path.is_dir():
        raise OutputExistsError(f"'{path}' is a folder; give a file name to write")
    if path.exists() and not path.is_file():
        raise OutputExistsError(f"'{path}' is not a regular file (a FIFO or device?); give a file name to write")
    verify_parent(path)
    return path


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` via a temporary file in the same directory and an atomic rename.

    The file gets the permissions a plain ``open()`` would give (0666 less the umask), not mkstemp's 0600,
    so a shared report folder stays readable by the team.
    """
    path = check_output_file(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_partials(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), 0o666 & ~current_umask())
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


#: Files whose presence (as a JSON object with ``"tool": "tokbench"``) marks a folder as tokbench's own
#: output: train's tokenizer manifest, the report manifest of evaluate / infer-mixture / demo, transplant's.
OUTPUT_MANIFESTS = ("tokbench.json", "manifest.json", "tokbench_transplant.json")


def current_umask() -> int:
    """The process umask, read without changing it where the OS allows (Linux), else by the set-and-restore
    dance (not thread-safe, hence the /proc read first)."""
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def is_tokbench_output(path: str | os.PathLike) -> bool:
    """True when ``path`` is a real folder (not a symlink) carrying one of tokbench's run manifests."""
    path = Path(path)
    if path.is_symlink() or not path.is_dir():
        return False
    for name in OUTPUT_MANIFESTS:
        m = path / name
        if m.is_file() and not m.is_symlink() and m.stat().st_size < 50_000_000:
            try:
                info = json.loads(m.read_text("utf-8"))
            except (OSError, ValueError, RecursionError):
                continue
            if isinstance(info, dict) and info.get("tool") == "tokbench":
                return True
    return False


def verify_parent(path: Path) -> None:
    """One clear error when a file stands where one of ``path``'s folders must be (nothing is created)."""
    for p in (path.parent, *path.parent.parents):
        if p.exists() or p.is_symlink():
            if not p.is_dir():
                raise OutputExistsError(f"cannot write '{path}': '{p}' is a file, not a folder; choose another --out")
            break


def ensure_parent(path: Path) -> None:
    """Create ``path``'s parent folders, with one clear error when a file stands where a folder must be."""
    verify_parent(path)
    path.parent.mkdir(parents=True, exist_ok=True)


def check_output_dir(out: str | os.PathLike, force: bool) -> Path:
    """Fail early (before any work) when ``out`` cannot be written.

    An existing ``out`` is refused without ``force``; with ``force`` only a folder tokbench wrote itself
    (it carries a tokbench manifest) may be replaced: never a file, a symlink, the current folder or one
    of its parents, or a folder of the user's own.
    """
    out = Path(out)
    if out.exists() or out.is_symlink():
        if not force:
            raise OutputExistsError(f"output '{out}' already exists; choose another --out or pass --force to replace it")
        here = Path.cwd().resolve()
        if out.resolve() == here or out.resolve() in here.parents or out.resolve() == Path(out.anchor or "/").resolve():
            raise OutputExistsError(f"--force cannot replace '{out}': it is the current folder or one of its parents; choose a new --out")
        if not is_tokbench_output(out):
            what = "a symlink" if out.is_symlink() else "a file" if not out.is_dir() else "a folder tokbench did not write (no tokbench manifest in it)"
            raise OutputExistsError(f"--force replaces only an earlier tokbench output, and '{out}' is {what}; choose another --out or move it away yourself")
    else:
        verify_parent(out)
    return out


_PARTIAL = re.compile(r"^\.(?P<name>.+)\.(?P<pid>[0-9]+)\.[A-Za-z0-9_]+\.(partial|tmp)$")


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def clean_stale_partials(out: Path) -> list[Path]:
    """Remove the hidden ``.NAME.PID.XXXX.partial`` folders / ``.tmp`` files a killed run left beside ``out``.

    Only names of exactly the form tokbench makes are touched, and only when the process that made them
    (its pid is in the name) is gone, so a concurrent run's work in progress is left alone.
    """
    removed: list[Path] = []
    parent = out.parent
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return removed
    for e in entries:
        m = _PARTIAL.match(e.name)
        if not m or m.group("name") != out.name or _alive(int(m.group("pid"))):
            continue
        p = Path(e.path)
        try:
            if e.is_dir(follow_symlinks=False):
                shutil.rmtree(p)
            else:
                p.unlink()
            removed.append(p)
        except OSError:
            pass
    return removed


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2 RENAME_EXCHANGE). False where the OS cannot."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    AT_FDCWD, RENAME_EXCHANGE = -100, 2
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if fn(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE) == 0:
        return True
    return False  # e.g. a file system without RENAME_EXCHANGE: the caller falls back


@contextlib.contextmanager
def atomic_dir(out: str | os.PathLike, force: bool = False) -> Iterator[Path]:
    """Build a directory under a temporary name and move it to ``out`` only if the block succeeds.

    With ``force`` an earlier tokbench output at ``out`` is swapped for the new one in one atomic step
    (renameat2 RENAME_EXCHANGE), so ``out`` is never absent and the old output stays until the new one is
    in place; the old one is then deleted. Folders of a killed earlier run are cleaned first.

    >>> with atomic_dir("runs/bpe") as tmp:   # doctest: +SKIP
    ...     (tmp / "tokenizer.json").write_text("...")
    """
    out = check_output_dir(out, force)
    out.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_partials(out)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.{os.getpid()}.", suffix=".partial", dir=out.parent))
    try:
        os.chmod(tmp, 0o777 & ~current_umask())
        yield tmp
        check_output_dir(out, force)  # the world may have changed while we worked
        if out.exists() or out.is_symlink():
            if _exchange(tmp, out):
                pass  # tmp now holds the old output; removed below
            else:
                # No atomic swap here: move the old output aside under a partial name (cleaned by the
                # next run if we are killed in between), then move the new one in.
                aside = Path(tempfile.mkdtemp(prefix=f".{out.name}.{os.getpid()}.", suffix=".partial", dir=out.parent))
                os.replace(out, aside / "old")
                os.replace(tmp, out)
                shutil.rmtree(aside, ignore_errors=True)
                return
        else:
            os.replace(tmp, out)
            return
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(tmp, ignore_errors=True)


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


def portable_path(text: str) -> str:
    """A path as reports may show it: relative to the working folder or the tokbench cache, '~' for home,
    else its last two parts, so committed reports carry no machine-specific absolute paths.

    >>> portable_path("/somewhere/else/runs/bpe/tokenizer.json")
    '.../bpe/tokenizer.json'
    """
    if not os.path.isabs(text):
        return text
    p = Path(text)
    for base, label in ((Path.cwd(), None), (cache_root(), "<cache>"), (Path.home(), "~")):
        try:
            rel = p.relative_to(base)
        except ValueError:
            continue
        return str(rel) if label is None else f"{label}/{rel}"
    return ".../" + "/".join(p.parts[-2:])
