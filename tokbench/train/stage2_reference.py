"""The slow, obviously-correct reference of SuperBPE's stage 2 (continue BPE from given merges).

It recounts every pair from scratch at every step; the Numba kernel (:mod:`tokbench.train.stage2_kernel`)
keeps incremental counts and a lazy heap. Tests require both to produce the same merges in the same order.

The algorithm, shared by both:

1. Replay ``forced`` merges ``(a, b, new)`` in order: in every word, left to right, each adjacent
   ``a b`` becomes ``new`` (an occurrence consumed by a merge is not reused: ``a a a`` -> ``aa a``).
2. Then repeat until the vocabulary has ``target_vocab`` tokens: count adjacent pairs weighted by word
   counts; among the pairs that are *allowed* take the one with the highest count, ties broken by the
   smallest left id, then the smallest right id (the stock `tokenizers` trainer's rule); stop when that
   count is below ``max(1, min_frequency)``. Merge it everywhere as in step 1 into a new id.
   A pair is allowed when its token (the parts' bytes joined) is not already in the vocabulary
   (so every token has one merge and encoding replays training exactly) and, with ``caps``, has at most
   ``max_words`` words and no ``b": "`` (:mod:`tokbench.train.caps`).
"""

from __future__ import annotations

from collections import Counter
from typing import Sequence

from tokbench.tokenizer.merges import merge_word
from tokbench.train.caps import allowed


def count_pairs(words: Sequence[tuple[list[int], int]]) -> Counter:
    """Adjacent pair counts weighted by word counts.

    >>> sorted(count_pairs([([1, 2, 1, 2], 3)]).items())
    [((1, 2), 6), ((2, 1), 3)]
    """
    c: Counter = Counter()
    for w, n in words:
        for x, y in zip(w, w[1:]):
            c[(x, y)] += n
    return c


def continue_bpe_reference(words: Sequence[tuple[Sequence[int], int]], vocab_bytes: Sequence[bytes | None],
                           forced: Sequence[tuple[int, int, int]], target_vocab: int, *, min_frequency: int = 0,
                           caps: bool = True, max_words: int = 4) -> tuple[list[tuple[int, int, int]], list[bytes]]:
    """Stage 2 by recounting: returns (new merges ``(a, b, new_id)`` in order, the new tokens' bytes).

    ``vocab_bytes[i]`` is token ``i``'s bytes (None for special tokens); new ids continue after it.
    """
    ws = [(list(w), int(n)) for w, n in words]
    for a, b, new in forced:
        ws = [(merge_word(w, a, b, new), n) for w, n in ws]
    vocab = list(vocab_bytes)
    existing = {v for v in vocab if v is not None}
    merges: list[tuple[int, int, int]] = []
    new_bytes: list[bytes] = []
    floor = max(1, min_frequency)
    while len(vocab) < target_vocab:
        best = None
        for (a, b), c in count_pairs(ws).items():
            if c < floor:
                continue
            tok = vocab[a] + vocab[b]
            if tok in existing or (caps and not allowed(tok, max_words)):
                continue
            key = (c, -a, -b)
            if best is None or key > best[0]:
                best = (key, a, b, tok)
        if best is None:
            break
        _, a, b, tok = best
        new = len(vocab)
        vocab.append(tok)
        existing.add(tok)
        new_bytes.append(tok)
        merges.append((a, b, new))
        ws = [(merge_word(w, a, b, new), n) for w, n in ws]
    return merges, new_bytes
