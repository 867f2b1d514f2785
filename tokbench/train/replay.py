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


def pack_words(words: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Words as one UTF-8 buffer: (buf (B,) uint8, word_off (W+1,) int64)."""
    encoded = [w.encode("utf-8") for w in words]
    word_off = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(e) for e in encoded], out=word_off[1:])
    return np.frombuffer(b"".join(encoded), dtype=np.uint8), word_off


@njit(cache=True)
def _equal(buf, a, b, n):
    for i in range(n):
        if buf[a + i] != buf[b + i]:
            return False
    return True


@njit(cache=True)
def dedupe_pieces(buf, word_off, crossable):
    """Cut every word into pieces and number the distinct ones (exact: an open-addressing table on a
    64-bit hash, each hit checked byte by byte against the piece that created the entry).

    A piece starts at each word start and before each character start whose byte pair with the previous
    byte is not crossable. Returns (inverse (P,) int32 distinct id of each piece in order, first (W+1,)
    int64 first piece of each word, rep_start (U,) int64, rep_len (U,) int64).
    """
    n_words = word_off.shape[0] - 1
    inverse = np.empty(max(buf.shape[0], 1), np.int32)
    first = np.empty(n_words + 1, np.int64)
    cap = 1 << 16
    table = np.full(cap, -1, np.int64)
    rep_start = np.empty(cap // 2, np.int64)
    rep_len = np.empty(cap // 2, np.int64)
    rep_hash = np.empty(cap // 2, np.int64)
    n_unique = 0
    k = 0
    for w in range(n_words):
        first[w] = k
        lo = word_off[w]
        hi = word_off[w + 1]
        a = lo
        while a < hi:
            b = a + 1
            while b < hi:
                c = buf[b]
                if (c < 0x80 or c >= 0xC0) and not crossable[buf[b - 1], c]:
                    break
                b += 1
            n = b - a
            h = np.int64(1469598103934665603)
            for i in range(a, b):
                h = h * np.int64(1099511628211) + np.int64(buf[i]) + 1
            h = h ^ n
            slot = h & (cap - 1)
            found = -1
            while table[slot] != -1:
                u = table[slot]
                if rep_hash[u] == h and rep_len[u] == n and _equal(buf, rep_start[u], a, n):
                    found = u
                    break
                slot = (slot + 1) & (cap - 1)
            if found == -1:
                found = n_unique
                n_unique += 1
                table[slot] = found
                rep_start[found] = a
                rep_len[found] = n
                rep_hash[found] = h
                if 2 * n_unique >= cap:  # keep the load under 1/2: double and re-insert
                    cap *= 2
                    table = np.full(cap, -1, np.int64)
                    for u in range(n_unique):
                        sl = rep_hash[u] & (cap - 1)
                        while table[sl] != -1:
                            sl = (sl + 1) & (cap - 1)
                        table[sl] = u
                    grown = cap // 2
                    rs = np.empty(grown, np.int64)
                    rl = np.empty(grown, np.int64)
                    rh = np.empty(grown, np.int64)
                    rs[:n_unique] = rep_start[:n_unique]
                    rl[:n_unique] = rep_len[:n_unique]
                    rh[:n_unique] = rep_hash[:n_unique]
                    rep_start, rep_len, rep_hash = rs, rl, rh
            inverse[k] = found
            k += 1
            a = b
    first[n_words] = k
    return inverse[:k].copy(), first, rep_start[:n_unique].copy(), rep_len[:n_unique].copy()


@njit(cache=True)
def assemble(first, inverse, uoff, uids, counts):
    """Words as their pieces' ids with SEP around each (sym (N,) int32) and each slot's word count
    (wcnt (N,) int32, 0 at SEP)."""
    n_words = first.shape[0] - 1
    total = 1
    for w in range(n_words):
        for p in range(first[w], first[w + 1]):
            u = inverse[p]
            total += uoff[u + 1] - uoff[u]
        total += 1
    sym = np.empty(total, np.int32)
    wcnt = np.zeros(total, np.int32)
    sym[0] = SEP
    k = 1
    for w in range(n_words):
        for p in range(first[w], first[w + 1]):
            u = inverse[p]
            for j in range(uoff[u], uoff[u + 1]):
                sym[k] = uids[j]
                wcnt[k] = counts[w]
                k += 1
        sym[k] = SEP
        k += 1
    return sym, wcnt


def replay_pieces(buf: np.ndarray, word_off: np.ndarray, counts: np.ndarray, stage1_spec: dict,
                  vocab_bytes: Sequence[bytes | None], batch: int = 65536):
    """Distinct stage-2 pre-tokens packed by :func:`pack_words` (counts (W,) int32) -> kernel arrays
    (sym, wcnt) with the stage-1 merges already replayed (see the module docstring)."""
    from tokenizers import Tokenizer, pre_tokenizers

    inverse, first, rep_start, rep_len = dedupe_pieces(buf, word_off, crossable_pairs(vocab_bytes))
    spec = dict(stage1_spec)
    spec["added_tokens"] = []  # a literal '<|endoftext|>' in the text is text here, as in stage 1's counts
    for k in ("normalizer", "post_processor", "truncation", "padding"):
        spec[k] = None
    tok = Tokenizer.from_str(json.dumps(spec, ensure_ascii=False))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)  # map only, never split
    data = buf.tobytes()
    lengths = np.zeros(len(rep_start) + 1, dtype=np.int64)
    parts = []
    for lo in range(0, len(rep_start), batch):
        texts = [data[a : a + n].decode("utf-8") for a, n in zip(rep_start[lo : lo + batch].tolist(), rep_len[lo : lo + batch].tolist())]
        encs = tok.encode_batch_fast(texts, add_special_tokens=False)
        lengths[lo + 1 : lo + 1 + len(encs)] = [len(e.ids) for e in encs]
        parts.append(np.fromiter((i for e in encs for i in e.ids), dtype=np.int32))
    del data
    uoff = np.cumsum(lengths)
    uids = np.concatenate(parts) if parts else np.zeros(0, np.int32)
    return assemble(first, inverse, uoff, uids, counts.astype(np.int32))
