"""Per-token UTF-8 byte spans, cheaply: for lossless tokenizers they are running sums of token lengths.

:func:`spans_from_token_bytes` is the Numba kernel; its slow twin is
:func:`tokbench.tokenizer.spans_reference.spans_from_token_bytes`, and the tests compare them on random
inputs.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tokbench.tokenizer.base import Encoded, Tokenizer


@njit(cache=True)
def spans_from_token_bytes(ids, doc_offsets, tb_flat, tb_offsets, tb_none, text, doc_byte_offsets):
    """Byte spans of tokens whose bytes concatenate to their document, and which documents they do.

    tb_flat (T,) uint8 with tb_offsets (V+1,) int64: every id's bytes; tb_none (V,) bool: ids standing
    for no text. text (B,) uint8: all documents' UTF-8 concatenated, doc_byte_offsets (D+1,) int64.
    Returns (starts (N,), ends (N,), ok (D,) bool); spans of documents with ok False are meaningless.

    >>> flat, off = np.frombuffer(b"abc", np.uint8), np.array([0, 1, 3])
    >>> s, e, ok = spans_from_token_bytes(np.array([1, 0, 0]), np.array([0, 2, 3]), flat, off, np.zeros(2, bool),
    ...                                   np.frombuffer(b"bcab", np.uint8), np.array([0, 3, 4]))
    >>> s.tolist(), e.tolist(), ok.tolist()
    ([0, 2, 0], [2, 3, 1], [True, False])
    """
    n_docs = doc_offsets.shape[0] - 1
    v = tb_offsets.shape[0] - 1
    starts = np.empty(ids.shape[0], dtype=np.int64)
    ends = np.empty(ids.shape[0], dtype=np.int64)
    ok = np.ones(n_docs, dtype=np.bool_)
    for d in range(n_docs):
        base = doc_byte_offsets[d]
        size = doc_byte_offsets[d + 1] - base
        pos = 0
        good = True
        for k in range(doc_offsets[d], doc_offsets[d + 1]):
            t = ids[k]
            starts[k] = pos
            if t < 0 or t >= v or tb_none[t]:
                good = False
                ends[k] = pos
                continue
            lo = tb_offsets[t]
            n = tb_offsets[t + 1] - lo
            if good:
                if pos + n > size:
                    good = False
                else:
                    for b in range(n):
                        if tb_flat[lo + b] != text[base + pos + b]:
                            good = False
                            break
            pos += n
            ends[k] = pos
        ok[d] = good and pos == size
    return starts, ends, ok


def encode_with_spans(tok: Tokenizer, texts: list[str]) -> Encoded:
    """Encode with UTF-8 byte spans, cheaply when the tokens' own bytes reassemble each document.

    Offset tracking makes `tokenizers` ~1.5x slower than its fast batch encoder, and offsets must then be
    converted from characters to bytes. For lossless tokenizers the tokens' bytes concatenate to the
    document, so spans are running sums of token lengths (checked byte for byte by a Numba kernel);
    only documents where that fails are re-encoded with the tokenizer's own offsets. Spans are then
    byte-exact: a token standing for part of a character spans only its own bytes (as tiktoken's do).
    """
    if not tok.lossless:
        return tok.encode_batch(texts, spans=True)
    enc = tok.encode_batch(texts, spans=False)
    flat, offsets, none = tok.token_byte_arrays()
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
