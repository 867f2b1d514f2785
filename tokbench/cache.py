"""What is in tokbench's cache, and freeing it (``tokbench cache list|clear``).

The cache (:func:`tokbench.files.cache_root`) holds first-level parts such as ``tokenizers/`` (reference
tokenizer files) and ``encoding-stats/`` (evaluate's per-shard statistics). A part is tokbench's when it carries tokbench's
mark (written when tokbench creates it), when the cache root carries the mark (tokbench created the
root, so everything in it is tokbench's), or when the root is the default location, a folder named
``tokbench`` that only tokbench writes to. Anything else is listed as not tokbench's and never deleted,
so pointing TOKBENCH_CACHE at a folder that holds other things is safe. Symbolic links are never
followed.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from tokbench.files import CACHE_MARK, cache_root

#: What each part holds (parts not named here are listed as they are).
PARTS = {
    "tokenizers": "reference tokenizer files (tokbench fetch)",
    "models": "models for transplant (tokbench fetch smollm2 minilm)",
    "encoding-stats": "evaluate's per-shard statistics (token counts, totals), per tokenizer and text",
    "encodings": "encoded corpora (ids), per tokenizer and corpus (the in-memory evaluation)",
    "text-arrays": "characters and words of texts (the in-memory evaluation)",
    "tokenizer-info": "per-tokenizer facts (vocabulary scripts, decoded pieces)",
    "lexicon": "lexicon oracles' word lists and dictionaries",
    "plots": "plot images",
    "transplant": "transplant intermediates (embeddings)",
}


@dataclass(frozen=True)
class CachePart:
    name: str
    path: Path
    bytes: int
    files: int
    ours: bool
    what: str


def _is_default_root(root: Path) -> bool:
    return not os.environ.get("TOKBENCH_CACHE") and root.name == "tokbench"


def _size(path: Path) -> tuple[int, int]:
    """(bytes, files) under ``path``, not following links."""
    total = files = 0
    for dirpath, _dirs, names in os.walk(path, followlinks=False):
        for n in names:
            try:
                total += os.lstat(os.path.join(dirpath, n)).st_size
                files += 1
            except OSError:
                pass
    return total, files


def list_cache() -> list[CachePart]:
    """Every first-level entry of the cache, sorted by name (an absent cache is empty)."""
    root = cache_root()
    if not root.is_dir():
        return []
    root_ours = (root / CACHE_MARK).is_file() or _is_default_root(root)
    parts = []
    for entry in sorted(root.iterdir(), key=lambda p: p.name):
        if entry.name == CACHE_MARK or entry.name == "CACHEDIR.TAG":
            continue
        if entry.is_symlink() or not entry.is_dir():
            size = entry.lstat().st_size
            parts.append(CachePart(entry.name, entry, size, 1, False, "not a tokbench folder"))
            continue
        ours = root_ours or (entry / CACHE_MARK).is_file()
        size, files = _size(entry)
        parts.append(CachePart(entry.name, entry, size, files, ours, PARTS.get(entry.name, "") if ours else "not made by tokbench"))
    return parts


def clear_cache(names: list[str] | None = None) -> tuple[list[CachePart], list[CachePart]]:
    """Delete tokbench's parts (all of them, or those in ``names``); returns (deleted, left alone).

    Raises KeyError for a name that is not in the cache."""
    parts = {p.name: p for p in list_cache()}
    if names:
        missing = [n for n in names if n not in parts]
        if missing:
            raise KeyError(", ".join(missing))
        chosen = [parts[n] for n in names]
    else:
        chosen = list(parts.values())
    deleted, kept = [], []
    for part in chosen:
        if not part.ours or part.path.is_symlink():
            kept.append(part)
            continue
        shutil.rmtree(part.path)
        deleted.append(part)
    return deleted, kept
