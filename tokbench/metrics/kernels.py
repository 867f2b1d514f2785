"""Numba counting kernels over the flat arrays of :class:`tokbench.tokenizer.Encoded`.

Every metric reduces to a handful of passes over ``ids`` (N,), ``doc_offsets`` (D+1,) and the byte spans
``starts``/``ends`` (N,). Each kernel here has a slow, obviously-correct twin in
:mod:`tokbench.metrics.reference` with the same signature, and the tests compare them on random inputs.

Conventions: ids, offsets and spans are int64; masks are bool; spans are byte offsets *within* a document.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def count_ids(ids, vocab_size):
    """(V,) int64 occurrences of each id in ``ids`` (N,); ids outside [0, V) are ignored.

    >>> count_ids(np.array([2, 0, 2]), 3).tolist()
    [1, 0, 2]
    """
    out = np.zeros(vocab_size, dtype=np.int64)
    for i in range(ids.shape[0]):
        t = ids[i]
        if 0 <= t < vocab_size:
            out[t] += 1
    return out


@njit(cache=True)
def count_masked_per_doc(ids, doc_offsets, mask):
    """(D,) int64: per document, how many of its tokens have ``mask[id]`` true (e.g. UNK or byte tokens).

    ids (N,) int64, doc_offsets (D+1,) int64, mask (V,) bool.

    >>> count_masked_per_doc(np.array([1, 0, 1]), np.array([0, 2, 3]), np.array([False, True])).tolist()
    [1, 1]
    """
    n_docs = doc_offsets.shape[0] - 1
    out = np.zeros(n_docs, dtype=np.int64)
    v = mask.shape[0]
    for d in range(n_docs):
        c = 0
        for k in range(doc_offsets[d], doc_offsets[d + 1]):
            t = ids[k]
            if 0 <= t < v and mask[t]:
                c += 1
        out[d] = c
    return out


@njit(cache=True)
def find_words(is_word, widths, doc_char_offsets):
    """Words = maximal runs of word characters, as byte spans within each document.

    is_word (C,) bool and widths (C,) int64 (UTF-8 length) per character of all documents concatenated;
    doc_char_offsets (D+1,) int64. Returns (word_doc_offsets (D+1,), starts (W,), ends (W,)) int64, with
    starts/ends byte offsets within the word's document.

    >>> o, s, e = find_words(np.array([1, 1, 0, 1], bool), np.array([1, 2, 1, 1]), np.array([0, 4]))
    >>> s.tolist(), e.tolist()
    ([0, 4], [3, 5])
    """
    n_docs = doc_char_offsets.shape[0] - 1
    n = is_word.shape[0]
    starts = np.empty(n, dtype=np.int64)
    ends = np.empty(n, dtype=np.int64)
    word_doc_offsets = np.zeros(n_docs + 1, dtype=np.int64)
    w = 0
    for d in range(n_docs):
        pos = 0
        inside = False
        for c in range(doc_char_offsets[d], doc_char_offsets[d + 1]):
            if is_word[c]:
                if not inside:
                    starts[w] = pos
                    inside = True
            elif inside:
                ends[w] = pos
                w += 1
                inside = False
            pos += widths[c]
        if inside:
            ends[w] = pos
            w += 1
        word_doc_offsets[d + 1] = w
    return word_doc_offsets, starts[:w].copy(), ends[:w].copy()


@njit(cache=True)
def tokens_per_word(tok_starts, tok_ends, doc_offsets, word_starts, word_ends, word_doc_offsets):
    """(W,) int64: how many tokens overlap each word.

    A token counts toward every word its byte span overlaps (a superword token counts for each of its
    words); an empty span counts toward the word that contains its position. Token spans must be
    non-decreasing in start within a document (as every encoder returns them); words never overlap.

    >>> tokens_per_word(np.array([0, 2, 3]), np.array([2, 3, 7]), np.array([0, 3]),
    ...                 np.array([0, 4]), np.array([3, 7]), np.array([0, 2])).tolist()
    [2, 1]
    """
    n_docs = doc_offsets.shape[0] - 1
    out = np.zeros(word_starts.shape[0], dtype=np.int64)
    for d in range(n_docs):
        w0 = word_doc_offsets[d]
        w1 = word_doc_offsets[d + 1]
        j = w0
        for k in range(doc_offsets[d], doc_offsets[d + 1]):
            s = tok_starts[k]
            e = tok_ends[k]
            # Words that end at or before this token's start can never overlap a later token either.
            while j < w1 and word_ends[j] <= s:
                j += 1
            if s == e:
                if j < w1 and word_starts[j] <= s:
                    out[j] += 1
                continue
            m = j
            while m < w1 and word_starts[m] < e:
                out[m] += 1
                m += 1
    return out


@njit(cache=True)
def flagged_chars(tok_starts, tok_ends, doc_offsets, tok_flag, lead, doc_byte_offsets):
    """Characters whose bytes are (partly) covered by a flagged token (UNK or byte token).

    tok_flag (N,) bool; lead (B,) bool marks the first byte of each UTF-8 character of all documents
    concatenated; doc_byte_offsets (D+1,) int64 into ``lead``. Returns (flagged characters, all characters).

    >>> flagged_chars(np.array([0, 1, 2]), np.array([1, 2, 3]), np.array([0, 3]), np.array([False, True, True]),
    ...               np.array([True, True, False]), np.array([0, 3]))
    (1, 2)
    """
    n_docs = doc_offsets.shape[0] - 1
    hit = np.zeros(lead.shape[0], dtype=np.bool_)
    for d in range(n_docs):
        base = doc_byte_offsets[d]
        size = doc_byte_offsets[d + 1] - base
        for k in range(doc_offsets[d], doc_offsets[d + 1]):
            if tok_flag[k]:
                lo = min(max(tok_starts[k], 0), size)
                hi = min(max(tok_ends[k], 0), size)
                for b in range(lo, hi):
                    hit[base + b] = True
    flagged = 0
    total = 0
    inside = False
    for b in range(lead.shape[0]):
        if lead[b]:
            total += 1
            inside = False
        if hit[b] and not inside:
            flagged += 1
            inside = True
    return flagged, total


@njit(cache=True)
def classify_tokens(cp_class, tok_cp_offsets, n_common, mixed, empty):
    """(T,) int64: one class per token from the classes of its characters.

    cp_class (C,) int64 holds a class per character of all tokens' texts concatenated; classes below
    ``n_common`` are neutral (e.g. Common/Inherited scripts) and only decide when nothing else is there
    (the lowest neutral class present wins). A token with two different non-neutral classes gets ``mixed``;
    a token with no characters gets ``empty``.

    >>> classify_tokens(np.array([0, 3, 3, 4, 5]), np.array([0, 3, 5, 5]), 2, 9, 8).tolist()
    [3, 9, 8]
    """
    n = tok_cp_offsets.shape[0] - 1
    out = np.empty(n, dtype=np.int64)
    for t in range(n):
        lo = tok_cp_offsets[t]
        hi = tok_cp_offsets[t + 1]
        if lo == hi:
            out[t] = empty
            continue
        cls = -1
        neutral = n_common
        for c in range(lo, hi):
            x = cp_class[c]
            if x < n_common:
                if x < neutral:
                    neutral = x
            elif cls == -1:
                cls = x
            elif cls != x:
                cls = mixed
                break
        out[t] = cls if cls != -1 else neutral
    return out
