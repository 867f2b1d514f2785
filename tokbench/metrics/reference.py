"""Slow, obviously-correct twins of :mod:`tokbench.metrics.kernels` (same signatures, plain Python).

They exist to be read and to test the Numba kernels against on random inputs; nothing on a hot path
calls them.
"""

from __future__ import annotations

import numpy as np


def count_ids(ids, vocab_size):
    counts = [0] * vocab_size
    for t in ids.tolist():
        if 0 <= t < vocab_size:
            counts[t] += 1
    return np.array(counts, dtype=np.int64)


def count_masked_per_doc(ids, doc_offsets, mask):
    out = []
    for d in range(len(doc_offsets) - 1):
        doc = ids[doc_offsets[d] : doc_offsets[d + 1]].tolist()
        out.append(sum(1 for t in doc if 0 <= t < len(mask) and mask[t]))
    return np.array(out, dtype=np.int64)


def find_words(is_word, widths, doc_char_offsets):
    offsets, starts, ends = [0], [], []
    for d in range(len(doc_char_offsets) - 1):
        lo, hi = int(doc_char_offsets[d]), int(doc_char_offsets[d + 1])
        byte_pos = [0]
        for c in range(lo, hi):
            byte_pos.append(byte_pos[-1] + int(widths[c]))
        flags = [bool(is_word[c]) for c in range(lo, hi)]
        c = 0
        while c < len(flags):
            if flags[c]:
                e = c
                while e < len(flags) and flags[e]:
                    e += 1
                starts.append(byte_pos[c])
                ends.append(byte_pos[e])
                c = e
            else:
                c += 1
        offsets.append(len(starts))
    return np.array(offsets, np.int64), np.array(starts, np.int64), np.array(ends, np.int64)


def tokens_per_word(tok_starts, tok_ends, doc_offsets, word_starts, word_ends, word_doc_offsets):
    out = [0] * len(word_starts)
    for d in range(len(doc_offsets) - 1):
        for w in range(word_doc_offsets[d], word_doc_offsets[d + 1]):
            ws, we = word_starts[w], word_ends[w]
            for k in range(doc_offsets[d], doc_offsets[d + 1]):
                s, e = tok_starts[k], tok_ends[k]
                if s == e:
                    if ws <= s < we:
                        out[w] += 1
                elif s < we and e > ws:
                    out[w] += 1
    return np.array(out, dtype=np.int64)


def flagged_chars(tok_starts, tok_ends, doc_offsets, tok_flag, lead, doc_byte_offsets):
    flagged = total = 0
    for d in range(len(doc_offsets) - 1):
        base, size = int(doc_byte_offsets[d]), int(doc_byte_offsets[d + 1] - doc_byte_offsets[d])
        hit = set()
        for k in range(doc_offsets[d], doc_offsets[d + 1]):
            if tok_flag[k]:
                hit.update(range(max(0, min(tok_starts[k], size)), max(0, min(tok_ends[k], size))))
        # Characters of this document as byte ranges, from the lead-byte flags.
        char_starts = [b for b in range(size) if lead[base + b]]
        for i, cs in enumerate(char_starts):
            ce = char_starts[i + 1] if i + 1 < len(char_starts) else size
            total += 1
            if any(b in hit for b in range(cs, ce)):
                flagged += 1
    return flagged, total


def classify_tokens(cp_class, tok_cp_offsets, n_common, mixed, empty):
    out = []
    for t in range(len(tok_cp_offsets) - 1):
        classes = [int(x) for x in cp_class[tok_cp_offsets[t] : tok_cp_offsets[t + 1]]]
        if not classes:
            out.append(empty)
            continue
        strong = {x for x in classes if x >= n_common}
        if len(strong) > 1:
            out.append(mixed)
        elif strong:
            out.append(strong.pop())
        else:
            out.append(min(classes))
    return np.array(out, dtype=np.int64)
