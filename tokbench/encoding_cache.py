"""Encodings cached on disk per (tokenizer fingerprint, corpus content hash).

Encoding is the slow part of every evaluation; the arrays of :class:`~tokbench.tokenizer.Encoded` are
saved as an uncompressed ``.npz`` under ``<cache>/encodings/`` (written atomically), so evaluating one
more metric or one more tokenizer never re-encodes what was encoded before. Shared by evaluate, check
and demo.

>>> enc = encode(tok, source)              # doctest: +SKIP
>>> enc = encode(tok, source, use_cache=False)   # always re-encode, never write
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path
from typing import Sequence

import numpy as np

from tokbench.files import cache_dir, write_bytes_atomic
from tokbench.tokenizer.base import Encoded, Tokenizer

#: Bump when the stored layout or the meaning of the arrays changes.
CACHE_VERSION = 1


def cache_key(fingerprint: str, corpus_sha256: str) -> str:
    """Stable file stem for one (tokenizer, corpus) pair."""
    h = hashlib.sha256(f"v{CACHE_VERSION}\0{fingerprint}\0{corpus_sha256}".encode()).hexdigest()
    return h[:40]


def cache_path(fingerprint: str, corpus_sha256: str) -> Path:
    return cache_dir("encodings") / f"{cache_key(fingerprint, corpus_sha256)}.npz"


def _save(path: Path, enc: Encoded) -> None:
    buf = io.BytesIO()
    # int32 halves the files; ids and in-document byte offsets fit comfortably.
    arrays = {"ids": enc.ids.astype(np.int32), "doc_offsets": enc.doc_offsets, "doc_bytes": enc.doc_bytes}
    if enc.starts is not None:
        arrays["starts"] = enc.starts.astype(np.int32)
        arrays["ends"] = enc.ends.astype(np.int32)
    np.savez(buf, **arrays)
    write_bytes_atomic(path, buf.getvalue())


def _load(path: Path, spans: bool) -> Encoded | None:
    try:
        with np.load(path) as z:
            if spans and "starts" not in z.files:
                return None
            return Encoded(
                z["ids"].astype(np.int64),
                z["doc_offsets"].astype(np.int64),
                z["doc_bytes"].astype(np.int64),
                z["starts"].astype(np.int64) if spans else None,
                z["ends"].astype(np.int64) if spans else None,
            )
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return None  # a damaged cache entry is simply recomputed


def encode_texts(tok: Tokenizer, texts: Sequence[str], corpus_sha256: str, *, spans: bool = True,
                 use_cache: bool = True) -> tuple[Encoded, bool]:
    """Encode ``texts`` (whose content hash is ``corpus_sha256``) or load the cached encoding.

    Returns (encoding, True when it came from the cache).
    """
    path = cache_path(tok.fingerprint(), corpus_sha256)
    if use_cache and path.exists():
        enc = _load(path, spans)
        if enc is not None:
            return enc, True
    # Cached entries always carry spans, so one file serves callers with and without them.
    enc = tok.encode_batch(list(texts), spans=spans or use_cache)
    if use_cache:
        _save(path, enc)
    if not spans:
        enc = Encoded(enc.ids, enc.doc_offsets, enc.doc_bytes)
    return enc, False


def encode(tok: Tokenizer, source, *, spans: bool = True, use_cache: bool = True) -> Encoded:
    """Encoding of a :class:`~tokbench.corpora.TextSource` (cached by its ``sha256``)."""
    return encode_texts(tok, source.texts, source.sha256, spans=spans, use_cache=use_cache)[0]
