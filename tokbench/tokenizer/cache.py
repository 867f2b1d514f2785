"""Encodings cached on disk per (tokenizer fingerprint, corpus content hash).

Encoding is the slow part of every evaluation; the arrays of :class:`~tokbench.tokenizer.Encoded` are
saved through :class:`tokbench.verified_cache.ArrayCache` under ``<cache>/encodings/`` (atomic writes, a
checksum over the arrays and the key they were written for, bounds checked before any kernel uses them;
any damage is a miss), so evaluating one more metric or one more tokenizer never re-encodes what was
encoded before. Shared by evaluate, check
and demo.

>>> enc = encode(tok, source)              # doctest: +SKIP
>>> enc = encode(tok, source, use_cache=False)   # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Sequence

import numpy as np

from tokbench.tokenizer.base import Encoded, Tokenizer
from tokbench.tokenizer.folder import tokenizer_files as folder_files
from tokbench.verified_cache import ArrayCache

#: Bump when the stored layout or the meaning of the arrays changes.
CACHE_VERSION = 1


#: The verified stores (tokbench.verified_cache): any damaged, swapped or out-of-bounds entry is a miss.
ENCODINGS = ArrayCache("encodings")
TOKENIZER_INFO = ArrayCache("tokenizer-info")


def _encoding_check(n_docs: int, vocab_size: int, spans: bool):
    """Bounds of a cached encoding, checked before any Numba kernel indexes with it: ids inside the
    vocabulary, document offsets running from 0 to the number of tokens, spans inside their document."""

    def check(z: dict[str, np.ndarray], meta: dict) -> bool:
        ids, off, db = z["ids"], z["doc_offsets"], z["doc_bytes"]
        if ids.ndim != 1 or off.shape != (n_docs + 1,) or db.shape != (n_docs,):
            return False
        if not (np.issubdtype(ids.dtype, np.integer) and np.issubdtype(off.dtype, np.integer) and np.issubdtype(db.dtype, np.integer)):
            return False
        if off[0] != 0 or off[-1] != ids.size or (np.diff(off) < 0).any() or (db < 0).any():
            return False
        if ids.size and (ids.min() < 0 or ids.max() >= vocab_size):
            return False
        if spans:
            st, en = z.get("starts"), z.get("ends")
            if st is None or en is None or st.shape != ids.shape or en.shape != ids.shape:
                return False
            if ids.size:
                limit = np.repeat(db, np.diff(off))
                if (st < 0).any() or (en < st).any() or (en > limit).any():
                    return False
        return True

    return check


def encoding_key(fingerprint: str, corpus_sha256: str) -> str:
    return f"encoding v{CACHE_VERSION}\0{fingerprint}\0{corpus_sha256}"


def encode_texts(tok: "Tokenizer | TokenizerView", texts: Sequence[str], corpus_sha256: str, *, spans: bool = True,
                 use_cache: bool = True) -> tuple[Encoded, bool]:
    """Encode ``texts`` (whose content hash is ``corpus_sha256``) or load the cached encoding.

    Returns (encoding, True when it came from the cache).
    """
    texts = texts if isinstance(texts, list) else list(texts)
    key = encoding_key(tok.fingerprint(), corpus_sha256)
    if use_cache:
        hit = ENCODINGS.get(key, _encoding_check(len(texts), int(tok.vocab_size), spans))
        if hit is not None:
            z, _ = hit
            return Encoded(z["ids"].astype(np.int64), z["doc_offsets"].astype(np.int64), z["doc_bytes"].astype(np.int64),
                           z["starts"].astype(np.int64) if spans else None, z["ends"].astype(np.int64) if spans else None), True
    from tokbench.tokenizer.spans import encode_with_spans  # Numba: only when something is encoded

    # Cached entries always carry spans, so one file serves callers with and without them.
    enc = encode_with_spans(tok, texts) if (spans or use_cache) else tok.encode_batch(texts, spans=False)
    if use_cache:
        # int32 halves the files; ids and in-document byte offsets fit comfortably.
        arrays = {"ids": enc.ids.astype(np.int32), "doc_offsets": enc.doc_offsets, "doc_bytes": enc.doc_bytes}
        if enc.starts is not None:
            arrays["starts"] = enc.starts.astype(np.int32)
            arrays["ends"] = enc.ends.astype(np.int32)
        ENCODINGS.put(key, arrays)
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


_INFO_META = {"name": str, "source": str, "format": str, "model_kind": str, "vocab_size": int, "fingerprint": str, "describe": dict}


def _info_check(z: dict[str, np.ndarray], meta: dict) -> bool:
    """A cached vocabulary's arrays agree with each other and with its size."""
    from tokbench.tokenizer.validate import MAX_ID

    if any(not isinstance(meta.get(k), t) for k, t in _INFO_META.items()) or not 0 < meta["vocab_size"] < MAX_ID:
        return False
    if meta.get("unk_id") is not None and not (type(meta["unk_id"]) is int and 0 <= meta["unk_id"] < meta["vocab_size"]):
        return False
    V = meta["vocab_size"]
    mask, flat, off, none = z["byte_mask"], z["tb_flat"], z["tb_offsets"], z["tb_none"]
    return (mask.dtype == np.bool_ and none.dtype == np.bool_ and flat.dtype == np.uint8 and np.issubdtype(off.dtype, np.integer)
            and mask.ndim == 1 and none.shape == (V,) and off.shape == (V + 1,) and flat.ndim == 1
            and off[0] == 0 and off[-1] == flat.size and not (np.diff(off) < 0).any())


def _save_info(key: str, tok: Tokenizer) -> None:
    flat, offsets, none = tok.token_byte_arrays()
    meta = {"name": tok.name, "source": tok.source, "format": tok.format, "model_kind": tok.model_kind,
            "vocab_size": tok.vocab_size, "unk_id": tok.unk_id, "fingerprint": tok.fingerprint(), "describe": describe(tok)}
    TOKENIZER_INFO.put(f"tokenizer-info {key}", {"byte_mask": np.asarray(tok.byte_token_mask, dtype=np.bool_),
                                                "tb_flat": flat, "tb_offsets": offsets, "tb_none": none}, meta)


def load_tokenizer_cached(spec: str, *, use_cache: bool = True):
    """A :class:`TokenizerView` when this spec's files were seen before, else the loaded tokenizer
    (whose vocabulary facts are then cached for next time)."""
    from tokbench.tokenizer import load_tokenizer

    key = tokenizer_key(spec) if use_cache else None
    if key is not None:
        hit = TOKENIZER_INFO.get(f"tokenizer-info {key}", _info_check)
        if hit is not None:
            return TokenizerView(spec, hit[1], hit[0])
    tok = load_tokenizer(spec)
    if key is not None:
        _save_info(key, tok)
    return tok
