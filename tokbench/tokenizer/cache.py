"""Encodings cached on disk per (tokenizer fingerprint, corpus content hash).

Encoding is the slow part of every evaluation; the arrays of :class:`~tokbench.tokenizer.Encoded` are
saved as an uncompressed ``.npz`` under ``<cache>/encodings/`` (written atomically), so evaluating one
more metric or one more tokenizer never re-encodes what was encoded before. Shared by evaluate, check
and demo.

>>> enc = encode(tok, source)              # doctest: +SKIP
>>> enc = encode(tok, source, use_cache=False)   # doctest: +SKIP
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
from tokbench.tokenizer.load import tokenizer_files as folder_files

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


def encode_texts(tok: "Tokenizer | TokenizerView", texts: Sequence[str], corpus_sha256: str, *, spans: bool = True,
                 use_cache: bool = True) -> tuple[Encoded, bool]:
    """Encode ``texts`` (whose content hash is ``corpus_sha256``) or load the cached encoding.

    Returns (encoding, True when it came from the cache).
    """
    path = cache_path(tok.fingerprint(), corpus_sha256)
    if use_cache and path.exists():
        enc = _load(path, spans)
        if enc is not None:
            return enc, True
    from tokbench.tokenizer.spans import encode_with_spans  # Numba: only when something is encoded

    # Cached entries always carry spans, so one file serves callers with and without them.
    texts = list(texts)
    enc = encode_with_spans(tok, texts) if (spans or use_cache) else tok.encode_batch(texts, spans=False)
    if use_cache:
        _save(path, enc)
    if not spans:
        enc = Encoded(enc.ids, enc.doc_offsets, enc.doc_bytes)
    return enc, False


def encode(tok: Tokenizer, source, *, spans: bool = True, use_cache: bool = True) -> Encoded:
    """Encoding of a :class:`~tokbench.corpora.TextSource` (cached by its ``sha256``)."""
    return encode_texts(tok, source.texts, source.sha256, spans=spans, use_cache=use_cache)[0]


# --- tokenizers without loading them ---------------------------------------------------------------
# Loading a large tokenizer (Gemma 3: 262k entries, ~7 s) and fingerprinting it can cost more than
# measuring it from cached encodings. A warm run therefore keys a tokenizer by the content of the files
# its spec names, and reads what the metrics need about its vocabulary from the cache; the real
# tokenizer is loaded only if something must be encoded.

def tokenizer_files(spec: str) -> list[Path] | None:
    """The files a tokenizer spec loads from, or None when the spec does not name existing files."""
    from tokbench.tokenizer.references import REFERENCES, reference_path

    path_str = spec.partition("?")[0] if "?" in spec and not Path(spec).exists() else spec
    path = Path(path_str).expanduser()
    if not path.exists() and path_str in REFERENCES:
        path = reference_path(path_str)
    elif not path.exists():
        from tokbench.tokenizer.hub import local_snapshot, parse_hub_id

        hub = parse_hub_id(path_str)  # only the local HF cache: a cache key never goes online
        path = (local_snapshot(*hub) if hub else None) or path
    if path.is_file():
        return [path]
    if path.is_dir():
        return folder_files(path) or None
    return None


#: Bump when the cached vocabulary facts change shape.
INFO_VERSION = 2


def describe(tok) -> dict:
    """``tok.describe()`` plus, for tokenizers tokbench trained, what they were trained on."""
    info = tok.describe()
    man = getattr(tok, "tokbench_manifest", None)
    if man and "trained" not in info:
        specs = sorted({i.get("spec", "?") for i in man.get("inputs", [])})
        info["trained"] = f"tokbench {man.get('kind', '?')} on {', '.join(specs)}"
    return info


def tokenizer_key(spec: str) -> str | None:
    """sha256 of the spec string and the bytes of the files it names (None: not a file-backed spec)."""
    from tokbench.files import sha256_file

    files = tokenizer_files(spec)
    if not files:
        return None
    h = hashlib.sha256(f"v{CACHE_VERSION}.{INFO_VERSION}\0{spec}".encode())
    for f in files:
        h.update(f"\0{f.name}\0{sha256_file(f)}".encode())
    return h.hexdigest()[:40]


class TokenizerView:
    """What metrics need of a tokenizer (vocabulary facts, fingerprint), read from the cache; the real
    tokenizer is loaded on the first call to :meth:`encode_batch`."""

    def __init__(self, spec: str, meta: dict, arrays: dict[str, np.ndarray]):
        self.spec = spec
        self.name = meta["name"]
        self.source = meta["source"]
        self.format = meta["format"]
        self.model_kind = meta["model_kind"]
        self._meta = meta
        self.byte_token_mask = arrays["byte_mask"]
        self._token_byte_arrays = (arrays["tb_flat"], arrays["tb_offsets"], arrays["tb_none"])
        self._real: Tokenizer | None = None

    vocab_size = property(lambda self: self._meta["vocab_size"])
    unk_id = property(lambda self: self._meta["unk_id"])
    lossless = property(lambda self: bool(self._meta["describe"].get("lossless")))

    def fingerprint(self) -> str:
        return self._meta["fingerprint"]

    def describe(self) -> dict:
        return dict(self._meta["describe"], name=self.name)

    def token_byte_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self._token_byte_arrays

    def token_bytes(self) -> list[bytes | None]:
        flat, offsets, none = self._token_byte_arrays
        flat, o = flat.tobytes(), offsets.tolist()
        return [None if n else flat[o[i] : o[i + 1]] for i, n in enumerate(none.tolist())]

    def real(self) -> Tokenizer:
        if self._real is None:
            from tokbench.tokenizer import load_tokenizer

            self._real = load_tokenizer(self.spec)
            self._real.name = self.name
        return self._real

    def encode_batch(self, texts: Sequence[str], *, spans: bool = True) -> Encoded:
        return self.real().encode_batch(texts, spans=spans)

    def __repr__(self) -> str:
        return f"<TokenizerView {self.name!r} V={self.vocab_size} (from cache)>"


def _info_path(key: str) -> Path:
    return cache_dir("tokenizer-info") / f"{key}.npz"


def _save_info(key: str, tok: Tokenizer) -> None:
    import json

    flat, offsets, none = tok.token_byte_arrays()
    meta = {"name": tok.name, "source": tok.source, "format": tok.format, "model_kind": tok.model_kind,
            "vocab_size": tok.vocab_size, "unk_id": tok.unk_id, "fingerprint": tok.fingerprint(), "describe": describe(tok)}
    buf = io.BytesIO()
    np.savez(buf, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
             byte_mask=np.asarray(tok.byte_token_mask, dtype=np.bool_),
             tb_flat=flat, tb_offsets=offsets, tb_none=none)
    write_bytes_atomic(_info_path(key), buf.getvalue())


def load_tokenizer_cached(spec: str, *, use_cache: bool = True):
    """A :class:`TokenizerView` when this spec's files were seen before, else the loaded tokenizer
    (whose vocabulary facts are then cached for next time)."""
    import json

    from tokbench.tokenizer import load_tokenizer

    key = tokenizer_key(spec) if use_cache else None
    if key is not None:
        p = _info_path(key)
        if p.exists():
            try:
                with np.load(p) as z:
                    meta = json.loads(z["meta"].tobytes())
                    return TokenizerView(spec, meta, {k: z[k] for k in ("byte_mask", "tb_flat", "tb_offsets", "tb_none")})
            except (OSError, ValueError, KeyError, zipfile.BadZipFile):
                pass
    tok = load_tokenizer(spec)
    if key is not None:
        _save_info(key, tok)
    return tok
