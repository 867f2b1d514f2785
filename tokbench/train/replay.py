"""Replay stage-1 merges on SuperBPE's stage-2 pre-tokens quickly, and exactly.

Replaying BPE merges on a pre-token gives the same symbols as encoding it with the stage-1 BPE model
(lowest-ranked applicable merge first): a merge can only enable merges ranked after it, because it makes
a token no earlier merge knows. Stage-2 pre-tokens are long (whole clauses), but a merge can only join
two symbols across a byte boundary ``x|y`` when some stage-1 token contains the byte pair ``xy``; where no
token does (typically a letter followed by a space), the pre-token splits into pieces that are encoded
independently. Pieces repeat a lot (they are mostly words), so each distinct piece is encoded once by
stock `tokenizers` and the pre-tokens are reassembled from them.

Pieces are cut only before the first byte of a character, so every piece is valid UTF-8 text.
"""

from __future__ import annotations

import json
from typing import Sequence

import numpy as np
from numba import njit

from tokbench.train.stage2_kernel import SEP


def crossable_pairs(vocab_bytes: Sequence[bytes | None]) -> np.ndarray:
    """(256, 256) bool: byte pairs that occur inside some token (a merge may join across them)."""
    t = np.zeros((256, 256), dtype=np.bool_)
    for b in vocab_bytes:
        if b and len(b) > 1:
            a = np.frombuffer(b, dtype=np.uint8)
            t[a[:-1], a[1:]] = True
    return t


@njit(cache=True)
def piece_starts(buf, word_off, crossable):
    """Start offsets of the pieces of every word (words are ``buf[word_off[w]:word_off[w+1]]``).

    A piece starts at each word start and before each character start whose byte pair with the previous
    byte is not crossable. Returns (starts (P,) int64, first piece of each word (W+1,) int64).
    """
    n_words = word_off.shape[0] - 1
    starts = np.empty(buf.shape[0] + 1, np.int64)
    first = np.empty(n_words + 1, np.int64)
    k = 0
    for w in range(n_words):
        first[w] = k
        lo = word_off[w]
        hi = word_off[w + 1]
        starts[k] = lo
        k += 1
        for i in range(lo + 1, hi):
            c = buf[i]
            if (c < 0x80 or c >= 0xC0) and not crossable[buf[i - 1], c]:
                starts[k] = i
                k += 1
    first[n_words] = k
    return starts[:k].copy(), first


@njit(cache=True)
def piece_hashes(buf, starts, ends):
    """(P,) int64 polynomial hash of each piece (wrapping), mixed with its length."""
    out = np.empty(starts.shape[0], np.int64)
    for p in range(starts.shape[0]):
        h = np.int64(1469598103934665603)
        for i in range(starts[p], ends[p]):
            h = h * np.int64(1099511628211) + np.int64(buf[i]) + 1
        out[p] = h ^ (ends[p] - starts[p])
    return out


@njit(cache=True)
def same_as_representative(buf, starts, ends, inverse, rep):
    """Whether every piece has the same bytes as the representative of its hash (no collision)."""
    for p in range(starts.shape[0]):
        r = rep[inverse[p]]
        if r == p:
            continue
        n = ends[p] - starts[p]
        if n != ends[r] - starts[r]:
            return False
        for i in range(n):
            if buf[starts[p] + i] != buf[starts[r] + i]:
                return False
    return True


@njit(cache=True)
def assemble(first, inverse, uoff, uids):
    """Words as their pieces' ids, SEP around each: (N,) int32 plus each slot's word index (-1 at SEP)."""
    n_words = first.shape[0] - 1
    total = 1
    for w in range(n_words):
        for p in range(first[w], first[w + 1]):
            u = inverse[p]
            total += uoff[u + 1] - uoff[u]
        total += 1
    sym = np.empty(total, np.int32)
    word = np.full(total, -1, np.int64)
    sym[0] = SEP
    k = 1
    for w in range(n_words):
        for p in range(first[w], first[w + 1]):
            u = inverse[p]
            for j in range(uoff[u], uoff[u + 1]):
                sym[k] = uids[j]
                word[k] = w
                k += 1
        sym[k] = SEP
        k += 1
    return sym, word


def replay_pieces(words: Sequence[str], counts: np.ndarray, stage1_spec: dict, vocab_bytes: Sequence[bytes | None]):
    """Distinct stage-2 pre-tokens ``words`` (raw text, counts (W,)) -> kernel arrays (sym, wcnt) with the
    stage-1 merges already replayed (see the module docstring)."""
    from tokenizers import Tokenizer, pre_tokenizers

    encoded = [w.encode("utf-8") for w in words]
    word_off = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(e) for e in encoded], out=word_off[1:])
    buf = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    del encoded
    starts, first = piece_starts(buf, word_off, crossable_pairs(vocab_bytes))
    ends = np.empty_like(starts)
    ends[:-1] = starts[1:]
    if len(ends):
        ends[-1] = word_off[-1]
    # a piece ends where the next begins, except at word ends
    last_of_word = first[1:] - 1
    ends[last_of_word[last_of_word >= 0]] = word_off[1:][last_of_word >= 0]
    hashes = piece_hashes(buf, starts, ends)
    _, rep, inverse = np.unique(hashes, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1).astype(np.int64)
    if not same_as_representative(buf, starts, ends, inverse, rep):  # a 64-bit hash collision: use exact keys
        keys = [bytes(buf[s:e]) for s, e in zip(starts, ends)]
        index: dict[bytes, int] = {}
        inverse = np.fromiter((index.setdefault(k, len(index)) for k in keys), dtype=np.int64, count=len(keys))
        rep = np.zeros(len(index), dtype=np.int64)
        rep[inverse[::-1]] = np.arange(len(keys) - 1, -1, -1)
    data = buf.tobytes()
    texts = [data[starts[r] : ends[r]].decode("utf-8") for r in rep]
    spec = dict(stage1_spec)
    spec["added_tokens"] = []  # a literal '<|endoftext|>' in the text is text here, as in stage 1's counts
    for k in ("normalizer", "post_processor", "truncation", "padding"):
        spec[k] = None
    tok = Tokenizer.from_str(json.dumps(spec, ensure_ascii=False))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)  # map only, never split
    lengths = np.zeros(len(texts) + 1, dtype=np.int64)
    chunks = []
    for lo in range(0, len(texts), 65536):
        for i, enc in enumerate(tok.encode_batch_fast(texts[lo : lo + 65536], add_special_tokens=False)):
            lengths[lo + i + 1] = len(enc.ids)
            chunks.append(enc.ids)
    uoff = np.cumsum(lengths)
    uids = np.fromiter((i for ids in chunks for i in ids), dtype=np.int32, count=int(uoff[-1]))
    sym, word = assemble(first, inverse, uoff, uids)
    wcnt = np.zeros(len(sym), dtype=np.int32)
    inside = word >= 0
    wcnt[inside] = counts[word[inside]]
    return sym, wcnt
