"""A small verified store of numpy arrays in tokbench's cache: what is read back is what was written, for
the key it was written for, or nothing.

Every entry is one uncompressed ``.npz`` (no pickles) holding the arrays and a JSON header with the key,
a format version, the caller's metadata and a BLAKE2b checksum over the key, the metadata and every
array's name, dtype, shape and bytes. :meth:`ArrayCache.get` returns ``None`` (a miss) for anything that
is not exactly that: a missing, empty, truncated, swapped, edited or unreadable file, or one that fails
the caller's own ``check`` (bounds of ids and offsets, which callers run before any kernel sees the
arrays). A cache folder that cannot be created, read or written turns the cache off for the rest of the
process with one warning on stderr: a broken cache slows a run down, it never fails it.

>>> cache = ArrayCache("encodings")                       # doctest: +SKIP
>>> cache.put(key, {"ids": ids}, meta={"n_docs": 3})     # doctest: +SKIP
>>> hit = cache.get(key)            # None, or (arrays, meta)   # doctest: +SKIP

The evaluate statistics of the ``scale`` work and the encoding cache both store through this class.
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from tokbench.errors import TokbenchError

#: Bump when the entry layout changes; older entries are then misses.
FORMAT = 1
_HEADER = "__tokbench_header__"
_warned: set[str] = set()
_broken: set[str] = set()  # cache roots found unusable in this process


def warn_once(message: str) -> None:
    """One ``warning:`` line on stderr per distinct message and process (and one for the unusable cache)."""
    if message.startswith("the cache is not") and any(w.startswith("the cache is not") for w in _warned):
        return
    if message not in _warned:
        _warned.add(message)
        print(f"warning: {message}", file=sys.stderr, flush=True)


def checksum(key: str, meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> str:
    """BLAKE2b over the key, the metadata (canonical JSON) and each array's name, dtype, shape and bytes."""
    h = hashlib.blake2b(digest_size=32)
    h.update(f"v{FORMAT}\0{key}\0".encode())
    h.update(json.dumps(meta, sort_keys=True, ensure_ascii=True).encode())
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"\0{name}\0{a.dtype.str}\0{a.shape}\0".encode())
        h.update(memoryview(a).cast("B") if a.size else b"")
    return h.hexdigest()


class ArrayCache:
    """Arrays by key under ``<cache>/<sub>/``; see the module docstring."""

    def __init__(self, sub: str, enabled: bool = True):
        self.sub = sub
        self.enabled = enabled

    def _folder(self) -> Path | None:
        # Resolved on every call (the cache location is an environment variable); a location that
        # failed once stays off for this process.
        from tokbench.files import cache_dir, cache_root

        if not self.enabled or str(cache_root()) in _broken:
            return None
        try:
            return cache_dir(self.sub)
        except (OSError, TokbenchError) as exc:
            self._disable(f"cannot create {getattr(exc, 'filename', None) or self.sub}: {getattr(exc, 'strerror', None) or exc}")
            return None

    def _disable(self, why: str) -> None:
        from tokbench.files import cache_root

        _broken.add(str(cache_root()))
        warn_once(f"the cache is not usable ({why}); continuing without it (results are the same, only slower)")

    def path(self, key: str) -> Path | None:
        """Where ``key``'s entry lives (None when the cache is off)."""
        folder = self._folder()
        if folder is None:
            return None
        return folder / f"{hashlib.sha256(key.encode()).hexdigest()[:40]}.npz"

    def get(self, key: str, check: Callable[[dict[str, np.ndarray], dict], bool] | None = None
            ) -> tuple[dict[str, np.ndarray], dict] | None:
        """(arrays, meta) stored for exactly ``key`` and passing ``check``, else None."""
        path = self.path(key)
        if path is None:
            return None
        try:
            if not path.is_file():
                return None
            with np.load(path, allow_pickle=False) as z:
                header = json.loads(z[_HEADER].tobytes().decode("utf-8"))
                if (not isinstance(header, dict) or header.get("format") != FORMAT or header.get("key") != key
                        or not isinstance(header.get("meta"), dict) or not isinstance(header.get("arrays"), list)):
                    return None
                names = header["arrays"]
                if sorted(names) != sorted(n for n in z.files if n != _HEADER):
                    return None
                arrays = {n: z[n] for n in names}
            if checksum(key, header["meta"], arrays) != header.get("checksum"):
                return None
            if check is not None and not check(arrays, header["meta"]):
                return None
            return arrays, header["meta"]
        except PermissionError as exc:
            self._disable(f"cannot read {exc.filename or path}: {exc.strerror}")
            return None
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException:  # noqa: BLE001 - any damage (zip, JSON, dtype, size) is a miss
            return None

    def put(self, key: str, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any] | None = None) -> bool:
        """Store ``arrays`` (plain numeric/bool dtypes) for ``key``; False when the cache is off or unwritable."""
        path = self.path(key)
        if path is None:
            return False
        from tokbench.files import write_bytes_atomic

        meta = dict(meta or {})
        arrays = {n: np.ascontiguousarray(a) for n, a in arrays.items()}
        if any(a.dtype.hasobject for a in arrays.values()) or _HEADER in arrays:
            raise ValueError("ArrayCache stores plain numeric arrays only")
        header = {"format": FORMAT, "key": key, "meta": meta, "arrays": sorted(arrays), "checksum": checksum(key, meta, arrays)}
        buf = io.BytesIO()
        np.savez(buf, **arrays, **{_HEADER: np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)})
        try:
            write_bytes_atomic(path, buf.getvalue())
        except OSError as exc:
            self._disable(f"cannot write {exc.filename or path}: {exc.strerror or exc}")
            return False
        except TokbenchError as exc:  # e.g. a file where the cache folder should be
            self._disable(str(exc))
            return False
        return True


def best_effort(what: str, fn: Callable[..., Any], *args, **kwargs) -> Any:
    """Run a cache write (or a cache folder's creation); when the cache is unwritable, warn once and
    return None instead of failing the run."""
    try:
        return fn(*args, **kwargs)
    except (OSError, TokbenchError) as exc:
        where = getattr(exc, "filename", None) or what
        warn_once(f"the cache is not writable ({where}: {getattr(exc, 'strerror', None) or exc}); continuing without caching {what}")
        return None
