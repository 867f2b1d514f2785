"""Slow, obviously-correct twin of :func:`tokbench.tokenizer.spans.spans_from_token_bytes` (same
signature, plain Python), to be read and to test the kernel against; nothing on a hot path calls it."""

from __future__ import annotations

import numpy as np


def spans_from_token_bytes(ids, doc_offsets, tb_flat, tb_offsets, tb_none, text, doc_byte_offsets):
    flat, data = bytes(tb_flat), bytes(text)
    starts, ends, ok = [], [], []
    for d in range(len(doc_offsets) - 1):
        doc = data[doc_byte_offsets[d] : doc_byte_offsets[d + 1]]
        pieces = []
        for t in ids[doc_offsets[d] : doc_offsets[d + 1]].tolist():
            known = 0 <= t < len(tb_none) and not tb_none[t]
            piece = flat[tb_offsets[t] : tb_offsets[t + 1]] if known else None
            start = sum(len(p) for p in pieces if p is not None)
            pieces.append(piece)
            starts.append(start)
            ends.append(start + (len(piece) if piece is not None else 0))
        ok.append(all(p is not None for p in pieces) and b"".join(p for p in pieces if p is not None) == doc)
    return np.array(starts, np.int64), np.array(ends, np.int64), np.array(ok, dtype=np.bool_)
