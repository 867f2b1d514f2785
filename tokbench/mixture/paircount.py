"""Replay a merge list on a category's pre-tokens and record every pair count as it changes (Numba).

c_{i,p}(t) is the count of pair p in category i after merges 1..t-1. Recounting after every merge would
cost T full passes over the sample; instead each merge visits only the pre-tokens that hold its pair
(an inverted index pair -> pre-tokens, kept up to date as merges create new pairs) and changes only the
counts of the pairs around each occurrence. What one merge changes is stored as a small block of
(pair, delta) *events*, so the whole trajectory of T steps is the step-1 counts plus T blocks of events.

Pair ids are global across categories (one :class:`PairIndex`), so the LP can add up categories.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
from numba import njit, types
from numba.typed import Dict

from tokbench.mixture.words import Words

_KEY_SHIFT = 32


@dataclass
class Trajectory:
    """All pair counts of one category along the merge list.

    init_pairs, init_counts: (K,) int64 pair ids and counts before the first merge (step 1).
    merge_counts:            (T,) int64 count of merge t's own pair just before merge t is applied,
                             i.e. c_{i,m(t)}(t).
    ev_offsets:              (T+1,) int64; merge t changes counts by the events
                             ``ev_pairs[ev_offsets[t]:ev_offsets[t+1]]`` / ``ev_deltas[...]`` (one event per
                             changed pair, deltas of one merge already summed). These give step t+1.
    ev_pairs, ev_deltas:     (E,) int64.
    token_counts:            (S,) int64 occurrences of every symbol after all T merges (for TC).
    total_pairs:             pairs at step 1, the category's normaliser.
    n_bytes:                 UTF-8 bytes of the sample.
    """

    init_pairs: np.ndarray
    init_counts: np.ndarray
    merge_counts: np.ndarray
    ev_offsets: np.ndarray
    ev_pairs: np.ndarray
    ev_deltas: np.ndarray
    token_counts: np.ndarray
    total_pairs: int
    n_bytes: int

    @property
    def n_events(self) -> int:
        return int(self.ev_offsets[-1])

    @property
    def nbytes(self) -> int:
        """Memory held by the arrays."""
        return sum(a.nbytes for a in (self.init_pairs, self.init_counts, self.merge_counts, self.ev_offsets,
                                      self.ev_pairs, self.ev_deltas, self.token_counts))

    def counts_at(self, t: int, n_pairs: int) -> np.ndarray:
        """(n_pairs,) int64 dense counts before merge t (0-based: t=0 is the start). For tests/inspection."""
        c = np.zeros(n_pairs, dtype=np.int64)
        c[self.init_pairs] = self.init_counts
        hi = self.ev_offsets[t]
        np.add.at(c, self.ev_pairs[:hi], self.ev_deltas[:hi])
        return c


class PairIndex:
    """Global pair ids: (left symbol, right symbol) -> dense id, shared by every category."""

    def __init__(self):
        self.ids = Dict.empty(key_type=types.int64, value_type=types.int64)
        self._next = np.zeros(1, dtype=np.int64)

    def __len__(self) -> int:
        return int(self._next[0])

    def get(self, left: int, right: int) -> int:
        """Id of the pair or -1 when no category ever held it."""
        return int(self.ids.get((int(left) << _KEY_SHIFT) | int(right), -1))

    def pairs(self) -> np.ndarray:
        """(P, 2) int64: id -> (left, right)."""
        out = np.zeros((len(self), 2), dtype=np.int64)
        for key, i in self.ids.items():
            out[i] = (key >> _KEY_SHIFT, key & ((1 << _KEY_SHIFT) - 1))
        return out


# ---------------------------------------------------------------------------------------------------------
# Numba kernel
# ---------------------------------------------------------------------------------------------------------


@njit(cache=True)
def _grow(a, need, fill):
    """``a`` itself when it has ``need`` slots, else a copy at least twice as long padded with ``fill``."""
    if need <= a.shape[0]:
        return a
    n = max(need, 2 * a.shape[0], 16)
    b = np.full(n, fill, dtype=a.dtype)
    b[: a.shape[0]] = a
    return b


@njit(cache=True)
def _pair_id(ids, next_id, left, right):
    key = (np.int64(left) << 32) | np.int64(right)
    if key in ids:
        return ids[key]
    v = next_id[0]
    ids[key] = v
    next_id[0] += 1
    return v


@njit(cache=True)
def _count_category(symbols, offsets, counts, merges, ids, next_id, n_symbols):
    n_words = counts.shape[0]
    T = merges.shape[0]
    sym = symbols.copy()
    wlen = np.empty(n_words, dtype=np.int64)
    for w in range(n_words):
        wlen[w] = offsets[w + 1] - offsets[w]

    cap = max(next_id[0], 1024)
    cnt = np.zeros(cap, dtype=np.int64)
    delta = np.zeros(cap, dtype=np.int64)
    touched = np.zeros(cap, dtype=np.bool_)
    head = np.full(cap, -1, dtype=np.int64)
    node_word = np.empty(1024, dtype=np.int64)
    node_next = np.empty(1024, dtype=np.int64)
    n_nodes = 0
    tlist = np.empty(1024, dtype=np.int64)
    n_t = 0

    # --- step 1: count every adjacent pair, index pre-tokens by the pairs they hold -------------------
    for w in range(n_words):
        s = offsets[w]
        k = counts[w]
        for j in range(s, s + wlen[w] - 1):
            p = _pair_id(ids, next_id, sym[j], sym[j + 1])
            if p >= cap:
                cap = max(p + 1, 2 * cap)
                cnt = _grow(cnt, cap, 0)
                delta = _grow(delta, cap, 0)
                touched = _grow(touched, cap, False)
                head = _grow(head, cap, -1)
            if not touched[p]:
                touched[p] = True
                tlist = _grow(tlist, n_t + 1, 0)
                tlist[n_t] = p
                n_t += 1
            cnt[p] += k
            if head[p] == -1 or node_word[head[p]] != w:
                node_word = _grow(node_word, n_nodes + 1, 0)
                node_next = _grow(node_next, n_nodes + 1, 0)
                node_word[n_nodes] = w
                node_next[n_nodes] = head[p]
                head[p] = n_nodes
                n_nodes += 1
    init_pairs = tlist[:n_t].copy()
    init_counts = np.empty(n_t, dtype=np.int64)
    for j in range(n_t):
        init_pairs[j] = tlist[j]
        init_counts[j] = cnt[tlist[j]]
        touched[tlist[j]] = False
    n_t = 0

    merge_counts = np.zeros(T, dtype=np.int64)
    ev_offsets = np.zeros(T + 1, dtype=np.int64)
    ev_pairs = np.empty(1024, dtype=np.int64)
    ev_deltas = np.empty(1024, dtype=np.int64)
    n_ev = 0
    visited = np.full(n_words, -1, dtype=np.int64)

    # --- merges in order: only pre-tokens holding the pair are visited --------------------------------
    for t in range(T):
        a = merges[t, 0]
        b = merges[t, 1]
        c = merges[t, 2]
        key = (np.int64(a) << 32) | np.int64(b)
        pm = np.int64(-1)
        if key in ids:
            pm = ids[key]
        if pm < 0 or pm >= cap or cnt[pm] == 0:
            ev_offsets[t + 1] = n_ev
            continue
        merge_counts[t] = cnt[pm]
        node = head[pm]
        while node != -1:
            w = node_word[node]
            node = node_next[node]
            if visited[w] == t:
                continue
            visited[w] = t
            s = offsets[w]
            end = s + wlen[w]
            k = counts[w]
            i = s
            o = s
            while i < end:
                if i + 1 < end and sym[i] == a and sym[i + 1] == b:
                    # Changes around one occurrence: (prev, a) -> (prev, c) with prev the symbol already
                    # written (it may be a c from an occurrence just before), (b, next) -> (c, next) with
                    # next read ahead, and the pair itself disappears.
                    for side in range(3):
                        if side == 0:
                            if o == s:
                                continue
                            x_old0 = sym[o - 1]
                            x_old1 = a
                            x_new0 = sym[o - 1]
                            x_new1 = c
                        elif side == 1:
                            if i + 2 >= end:
                                continue
                            x_old0 = b
                            x_old1 = sym[i + 2]
                            x_new0 = c
                            x_new1 = sym[i + 2]
                        else:
                            x_old0 = a
                            x_old1 = b
                            x_new0 = np.int32(-1)
                            x_new1 = np.int32(-1)
                        for part in range(2):
                            p = np.int64(0)
                            d = np.int64(0)
                            if part == 0:
                                p = _pair_id(ids, next_id, x_old0, x_old1)
                                d = -k
                            else:
                                if x_new0 < 0:
                                    continue
                                p = _pair_id(ids, next_id, x_new0, x_new1)
                                d = k
                            if p >= cap:
                                cap = max(p + 1, 2 * cap)
                                cnt = _grow(cnt, cap, 0)
                                delta = _grow(delta, cap, 0)
                                touched = _grow(touched, cap, False)
                                head = _grow(head, cap, -1)
                            if not touched[p]:
                                touched[p] = True
                                tlist = _grow(tlist, n_t + 1, 0)
                                tlist[n_t] = p
                                n_t += 1
                            delta[p] += d
                            if part == 1 and (head[p] == -1 or node_word[head[p]] != w):
                                node_word = _grow(node_word, n_nodes + 1, 0)
                                node_next = _grow(node_next, n_nodes + 1, 0)
                                node_word[n_nodes] = w
                                node_next[n_nodes] = head[p]
                                head[p] = n_nodes
                                n_nodes += 1
                    sym[o] = c
                    o += 1
                    i += 2
                else:
                    sym[o] = sym[i]
                    o += 1
                    i += 1
            wlen[w] = o - s
        for j in range(n_t):
            p = tlist[j]
            touched[p] = False
            if delta[p] != 0:
                ev_pairs = _grow(ev_pairs, n_ev + 1, 0)
                ev_deltas = _grow(ev_deltas, n_ev + 1, 0)
                ev_pairs[n_ev] = p
                ev_deltas[n_ev] = delta[p]
                n_ev += 1
                cnt[p] += delta[p]
                delta[p] = 0
        n_t = 0
        ev_offsets[t + 1] = n_ev

    token_counts = np.zeros(n_symbols, dtype=np.int64)
    for w in range(n_words):
        s = offsets[w]
        for j in range(s, s + wlen[w]):
            token_counts[sym[j]] += counts[w]
    return init_pairs, init_counts, merge_counts, ev_offsets, ev_pairs[:n_ev].copy(), ev_deltas[:n_ev].copy(), token_counts


def count_pairs(words: Words, merges: np.ndarray, index: PairIndex, n_symbols: int) -> Trajectory:
    """The pair-count trajectory of one category.

    words:     the category's distinct pre-tokens (symbol ids < ``n_symbols``).
    merges:    (T, 3) int32 ``(left, right, result)`` rows, in merge order.
    index:     the global pair ids (updated in place with the pairs this category creates).

    >>> from tokbench.mixture.words import Words
    >>> w = Words.from_lists([[0, 1, 0, 1]], [3])            # 'abab' seen 3 times
    >>> tr = count_pairs(w, np.array([[0, 1, 2]], np.int32), PairIndex(), 3)
    >>> tr.merge_counts.tolist(), tr.total_pairs, tr.token_counts.tolist()
    ([6], 9, [0, 0, 6])
    """
    merges = np.ascontiguousarray(merges, dtype=np.int32)
    if words.n_words == 0:
        T = merges.shape[0]
        z = np.zeros(0, dtype=np.int64)
        return Trajectory(z, z, np.zeros(T, np.int64), np.zeros(T + 1, np.int64), z, z,
                          np.zeros(n_symbols, np.int64), 0, words.n_bytes)
    out = _count_category(np.ascontiguousarray(words.symbols, dtype=np.int32), words.offsets, words.counts,
                          merges, index.ids, index._next, n_symbols)
    init_pairs, init_counts = out[0], out[1]
    return Trajectory(init_pairs, init_counts, out[2], out[3], out[4], out[5], out[6],
                      int(init_counts.sum()), words.n_bytes)


def count_all(words: Sequence[Words], merges: np.ndarray, n_symbols: int,
              advance: Callable[[int], None] | None = None) -> tuple[list[Trajectory], PairIndex]:
    """Trajectories of every category over one shared :class:`PairIndex`."""
    index = PairIndex()
    out = []
    for w in words:
        out.append(count_pairs(w, merges, index, n_symbols))
        if advance is not None:
            advance(1)
    return out, index


# ---------------------------------------------------------------------------------------------------------
# Categories counted apart (in parallel), then put on one shared index
# ---------------------------------------------------------------------------------------------------------


@njit(cache=True)
def _assign(ids, next_id, left, right):
    out = np.empty(left.shape[0], dtype=np.int64)
    for j in range(left.shape[0]):
        out[j] = _pair_id(ids, next_id, left[j], right[j])
    return out


def count_pairs_alone(words: Words, merges: np.ndarray, n_symbols: int) -> tuple[Trajectory, np.ndarray]:
    """The trajectory of one category over an index of its own, and that index's pairs ((P, 2), by id).

    The kernel numbers pairs in the order it first meets them and nothing else depends on the numbers, so
    :func:`shared_index` can renumber categories counted apart (on several workers) into exactly the
    trajectories and index :func:`count_all` gives when it counts them one after another.
    """
    index = PairIndex()
    tr = count_pairs(words, merges, index, n_symbols)
    return tr, index.pairs()


def shared_index(parts: Sequence[tuple[Trajectory, np.ndarray]]) -> tuple[list[Trajectory], PairIndex]:
    """Put trajectories counted apart (:func:`count_pairs_alone`, in category order) on one index: category
    i's pairs not seen in categories 0..i-1 get the next ids in the order category i met them, as in
    :func:`count_all`."""
    index = PairIndex()
    out = []
    for tr, pairs in parts:
        remap = _assign(index.ids, index._next, np.ascontiguousarray(pairs[:, 0]), np.ascontiguousarray(pairs[:, 1]))
        out.append(Trajectory(remap[tr.init_pairs], tr.init_counts, tr.merge_counts, tr.ev_offsets,
                              remap[tr.ev_pairs], tr.ev_deltas, tr.token_counts, tr.total_pairs, tr.n_bytes))
    return out, index


class PairsShard:
    """A Ray job (:func:`tokbench.engines.ray_counts.map_shards`): shard k of n counts the trajectories of
    categories k, k + n, ... each over its own index."""

    def __init__(self, words: Sequence[Words], merges: np.ndarray, n_symbols: int):
        self.words, self.merges, self.n_symbols = list(words), merges, n_symbols

    def __call__(self, k: int, n: int) -> list[tuple[int, Trajectory, np.ndarray]]:
        return [(i, *count_pairs_alone(self.words[i], self.merges, self.n_symbols)) for i in range(k, len(self.words), n)]


def count_all_on_ray(words: Sequence[Words], merges: np.ndarray, n_symbols: int, *, address: str | None = None,
                     workers: int | None = None) -> tuple[list[Trajectory], PairIndex]:
    """:func:`count_all` with the categories counted in parallel on Ray actors (the same arrays, bit for bit)."""
    from tokbench.engines.ray_counts import map_shards

    n = min(workers or len(words), len(words)) if workers else None
    done = {}
    for shard in map_shards(PairsShard(words, merges, n_symbols), address=address, workers=n):
        for i, tr, pairs in shard:
            done[i] = (tr, pairs)
    return shared_index([done[i] for i in range(len(words))])
