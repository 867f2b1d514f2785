"""Slow, obviously-correct references for the tests: recount every pair after every merge.

Nothing here is fast or clever on purpose; :mod:`tokbench.mixture.paircount` must agree with it.
"""

from __future__ import annotations

from collections import Counter
from typing import Sequence

from tokbench.tokenizer.merges import merge_word as apply_merge


def count_all_pairs(words: Sequence[Sequence[int]], counts: Sequence[int]) -> Counter:
    """Every adjacent pair, weighted by the word's count: ``[[1, 2, 1, 2]], [3] -> {(1, 2): 6, (2, 1): 3}``."""
    c: Counter = Counter()
    for w, k in zip(words, counts):
        for x, y in zip(w, w[1:]):
            c[(x, y)] += k
    return c


def pair_trajectory(words: Sequence[Sequence[int]], counts: Sequence[int], merges) -> tuple[list[Counter], Counter]:
    """Counts of all pairs before each merge (T Counters) and the final symbol counts."""
    cur = [list(w) for w in words]
    steps = []
    for a, b, c in merges:
        steps.append(count_all_pairs(cur, counts))
        cur = [apply_merge(w, int(a), int(b), int(c)) for w in cur]
    tokens: Counter = Counter()
    for w, k in zip(cur, counts):
        for s in w:
            tokens[s] += k
    return steps, tokens


def train_bpe(words: Sequence[Sequence[int]], counts: Sequence[int], n_merges: int, first_id: int) -> list[tuple[int, int, int]]:
    """Greedy BPE on integer words: merge the most frequent pair (ties: smallest pair) ``n_merges`` times.

    >>> train_bpe([[0, 1, 0, 1]], [1], 2, 2)
    [(0, 1, 2), (2, 2, 3)]
    """
    cur = [list(w) for w in words]
    merges = []
    for k in range(n_merges):
        pairs = count_all_pairs(cur, counts)
        if not pairs:
            break
        best = max(pairs.items(), key=lambda kv: (kv[1], (-kv[0][0], -kv[0][1])))[0]
        c = first_id + k
        merges.append((best[0], best[1], c))
        cur = [apply_merge(w, best[0], best[1], c) for w in cur]
    return merges
