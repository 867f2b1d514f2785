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
    # Cached entries always carry spans, so one file serves callers with and without them.
    texts = list(texts)
    enc = encode_with_spans(tok, texts) if (spans or use_cache) else tok.encode_batch(texts, spans=False)
    if use_cache:
        _save(path, enc)
    if not spans:
        enc = Encoded(enc.ids, enc.doc_offsets, enc.doc_bytes)
    return enc, False


def token_byte_arrays(tok) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(flat (T,) uint8, offsets (V+1,) int64, none (V,) bool): every id's bytes as flat arrays (memoised)."""
    memo = tok.__dict__.get("_token_byte_arrays")
    if memo is None:
        if isinstance(tok, TokenizerView):
            memo = (np.frombuffer(tok._tb_flat, dtype=np.uint8), tok._tb_offsets, tok._tb_none)
        else:
            tb = tok.token_bytes()
            lengths = np.fromiter((len(b) if b is not None else 0 for b in tb), dtype=np.int64, count=len(tb))
            offsets = np.zeros(len(tb) + 1, dtype=np.int64)
            np.cumsum(lengths, out=offsets[1:])
            flat = np.frombuffer(b"".join(b for b in tb if b is not None), dtype=np.uint8)
            memo = (flat, offsets, np.array([b is None for b in tb], dtype=np.bool_))
        tok.__dict__["_token_byte_arrays"] = memo
    return memo


def encode_with_spans(tok, texts: list[str]) -> Encoded:
    """Encode with UTF-8 byte spans, cheaply when the tokens' own bytes reassemble each document.

    Offset tracking makes `tokenizers` ~1.5x slower than its fast batch encoder, and offsets must then be
    converted from characters to bytes. For lossless tokenizers the tokens' bytes concatenate to the
    document, so spans are running sums of token lengths (checked byte for byte by a Numba kernel);
    only documents where that fails are re-encoded with the tokenizer's own offsets. Spans are then
    byte-exact: a token standing for part of a character spans only its own bytes (as tiktoken's do).
    """
    from tokbench.metrics.kernels import spans_from_token_bytes

    lossless = tok.lossless if not isinstance(tok, TokenizerView) else bool(tok._meta["describe"].get("lossless"))
    if not lossless:
        return tok.encode_batch(texts, spans=True)
    enc = tok.encode_batch(texts, spans=False)
    flat, offsets, none = token_byte_arrays(tok)
    data = np.frombuffer("".join(texts).encode("utf-8"), dtype=np.uint8)
    doc_byte_offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(enc.doc_bytes, out=doc_byte_offsets[1:])
    starts, ends, ok = spans_from_token_bytes(enc.ids, enc.doc_offsets, flat, offsets, none, data, doc_byte_offsets)
    if ok.all():
        return Encoded(enc.ids, enc.doc_offsets, enc.doc_bytes, starts, ends)
    bad = np.flatnonzero(~ok)
    if len(bad) > len(texts) // 2:
        return tok.encode_batch(texts, spans=True)
    sub = tok.encode_batch([texts[i] for i in bad.tolist()], spans=True)
    idx = np.concatenate([np.arange(enc.doc_offsets[i], enc.doc_offsets[i + 1]) for i in bad.tolist()])
    if len(idx) != sub.n_tokens or not np.array_equal(enc.ids[idx], sub.ids):
        return tok.encode_batch(texts, spans=True)  # the two encoders disagree: trust the offset path
    starts[idx] = sub.starts
    ends[idx] = sub.ends
    return Encoded(enc.ids, enc.doc_offsets, enc.doc_bytes, starts, ends)


def encode(tok: Tokenizer, source, *, spans: bool = True, use_cache: bool = True) -> Encoded:
    """Encoding of a :class:`~tokbench.corpora.TextSource` (cached by its ``sha256``)."""
    return encode_texts(tok, source.texts, source.sha256, spans=spans, use_cache=use_cache)[0]


# --- tokenizers without loading them ---------------------------------------------------------------
# Loading a large tokenizer (Gemma 3: 262k entries, ~7 s) and fingerprinting it can cost more than
# measuring it from cached encodings. A warm run therefore keys a tokenizer by the content of the files
# its spec names, and reads what the metrics need about its vocabulary from the cache; the real
# tokenizer is loaded only if something must be encoded.

#: Files inside a tokenizer folder that decide its behaviour (weights are never hashed).
TOKENIZER_FILES = ("tokenizer.json", "tekken.json", "tokenizer.model", "spm.model", "tokbench.json", "tokenizer_config.json")


def tokenizer_files(spec: str) -> list[Path] | None:
    """The files a tokenizer spec loads from, or None when the spec does not name existing files."""
    from tokbench.tokenizer.references import REFERENCES, reference_path

    path_str = spec.partition("?")[0] if "?" in spec and not Path(spec).exists() else spec
    path = Path(path_str).expanduser()
    if not path.exists() and path_str in REFERENCES:
        path = reference_path(path_str)
    if path.is_file():
        return [path]
    if path.is_dir():
        files = [path / n for n in TOKENIZER_FILES if (path / n).is_file()] + sorted(path.glob("*.tiktoken"))
        return files or None
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
        self._tb_flat = arrays["tb_flat"].tobytes()
        self._tb_offsets = arrays["tb_offsets"]
        self._tb_none = arrays["tb_none"]
        self._real: Tokenizer | None = None

    vocab_size = property(lambda self: self._meta["vocab_size"])
    unk_id = property(lambda self: self._meta["unk_id"])

    def fingerprint(self) -> str:
        return self._meta["fingerprint"]

    def describe(self) -> dict:
        return dict(self._meta["describe"], name=self.name)

    def token_bytes(self) -> list[bytes | None]:
        o, flat = self._tb_offsets.tolist(), self._tb_flat
        return [None if none else flat[o[i] : o[i + 1]] for i, none in enumerate(self._tb_none.tolist())]

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

    tb = tok.token_bytes()
    lengths = np.fromiter((len(b) if b is not None else 0 for b in tb), dtype=np.int64, count=len(tb))
    offsets = np.zeros(len(tb) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    meta = {"name": tok.name, "source": tok.source, "format": tok.format, "model_kind": tok.model_kind,
            "vocab_size": tok.vocab_size, "unk_id": tok.unk_id, "fingerprint": tok.fingerprint(), "describe": describe(tok)}
    buf = io.BytesIO()
    np.savez(buf, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
             byte_mask=np.asarray(tok.byte_token_mask, dtype=np.bool_),
             tb_flat=np.frombuffer(b"".join(b for b in tb if b is not None), dtype=np.uint8),
             tb_offsets=offsets, tb_none=np.array([b is None for b in tb], dtype=np.bool_))
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
