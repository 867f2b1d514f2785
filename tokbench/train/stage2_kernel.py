"""SuperBPE stage 2 in Numba: continue BPE from given merges with incremental pair counts.

Same algorithm as :mod:`tokbench.train.stage2_reference` (read that for the rules: replay, tie-breaking,
caps, stopping); this module only makes it fast.

Data layout (all flat arrays):

* ``sym``  (N,) int32: every distinct pre-token's symbol ids, words separated (and bracketed) by ``SEP``
  (-2); a symbol absorbed by a merge becomes ``DEAD`` (-1) in place, so neighbours are found by skipping
  dead slots (at most the token's length).
* ``wcnt`` (N,) int32: the count of the word each slot belongs to.
* ``P`` (pairs, 6) int64: left, right, count, head of the occurrence list, state (live/merged/banned),
  touched flag. ``pmap`` maps ``left << 32 | right`` to a row.
* ``occ`` (cap, 2) int32: per-pair singly linked lists of left positions (may hold stale entries, which
  are checked against ``sym`` when used); lists of merged pairs go to a free list and are reused.
* a max-heap of (count, pair) with lazy invalidation: a popped entry whose count is stale is pushed back
  with the current count; a pair whose count grows in a step is pushed once at the end of the step.
  Order: highest count, then smallest left id, then smallest right id.
* token metadata (length, first/last byte, words, contains ': ', polynomial hash) decides the caps and
  whether a merge's token already exists without building strings.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
from numba import njit, types
from numba.typed import Dict

SEP = -2
DEAD = -1
LEFT, RIGHT, CNT, HEAD, STATE, TOUCHED = 0, 1, 2, 3, 4, 5
LIVE, MERGED, BANNED = 0, 1, 2
# ctr slots
N_PAIRS, N_OCC, FREE_HEAD, N_HEAP, N_TOK, N_POOL, N_TOUCHED, N_FREE, DONE, N_MERGES = range(10)
HASH_BASE = 1_000_003


@njit(cache=True)
def _grow2(a, need):
    if need <= a.shape[0]:
        return a
    n = max(need, a.shape[0] + a.shape[0] // 2 + 16)
    b = np.empty((n, a.shape[1]), a.dtype)
    b[: a.shape[0]] = a
    return b


@njit(cache=True)
def _grow1(a, need):
    if need <= a.shape[0]:
        return a
    n = max(need, a.shape[0] + a.shape[0] // 2 + 16)
    b = np.empty(n, a.dtype)
    b[: a.shape[0]] = a
    return b


@njit(cache=True)
def _key(a, b):
    return (np.int64(a) << 32) | np.int64(b)


@njit(cache=True)
def _pair_id(pmap, P, ctr, a, b):
    """Row of pair (a, b), created when new (capacity ensured by the caller)."""
    k = _key(a, b)
    if k in pmap:
        pid = pmap[k]
    else:
        pid = ctr[N_PAIRS]
        pmap[k] = pid
        P[pid, LEFT] = a
        P[pid, RIGHT] = b
        P[pid, CNT] = 0
        P[pid, HEAD] = -1
        P[pid, STATE] = LIVE
        P[pid, TOUCHED] = 0
        ctr[N_PAIRS] += 1
    return pid


@njit(cache=True)
def _add_occ(occ, ctr, P, pid, pos):
    f = ctr[FREE_HEAD]
    if f >= 0:
        idx = f
        ctr[FREE_HEAD] = occ[f, 1]
        ctr[N_FREE] -= 1
    else:
        idx = ctr[N_OCC]
        ctr[N_OCC] += 1
    occ[idx, 0] = pos
    occ[idx, 1] = P[pid, HEAD]
    P[pid, HEAD] = idx


@njit(cache=True)
def init_pairs(sym, wcnt):
    """Count every adjacent pair of ``sym`` (weighted by ``wcnt``) and record its positions."""
    n = sym.shape[0]
    pmap = Dict.empty(key_type=types.int64, value_type=types.int64)
    P = np.empty((4096, 6), np.int64)
    occ = np.empty((max(n, 16), 2), np.int32)
    ctr = np.zeros(16, np.int64)
    ctr[FREE_HEAD] = -1
    for p in range(n - 1):
        a = sym[p]
        b = sym[p + 1]
        if a < 0 or b < 0:
            continue
        if ctr[N_PAIRS] + 1 > P.shape[0]:
            P = _grow2(P, ctr[N_PAIRS] + 1)
        pid = _pair_id(pmap, P, ctr, a, b)
        P[pid, CNT] += wcnt[p]
        _add_occ(occ, ctr, P, pid, p)
    return pmap, P, occ, ctr


@njit(cache=True)
def _touch(P, touched, ctr, pid):
    if P[pid, TOUCHED] == 0:
        P[pid, TOUCHED] = 1
        touched[ctr[N_TOUCHED]] = pid
        ctr[N_TOUCHED] += 1


@njit(cache=True)
def _apply(pid, new, sym, wcnt, pmap, P, occ, ctr, touched):
    """Merge pair ``pid`` into token ``new`` at every valid position, left to right."""
    a = P[pid, LEFT]
    b = P[pid, RIGHT]
    k = 0
    i = P[pid, HEAD]
    while i != -1:
        k += 1
        i = occ[i, 1]
    pos = np.empty(k, np.int64)
    i = P[pid, HEAD]
    j = 0
    while i != -1:
        pos[j] = occ[i, 0]
        j += 1
        nxt = occ[i, 1]
        occ[i, 1] = ctr[FREE_HEAD]  # the list is consumed: recycle its entries
        ctr[FREE_HEAD] = i
        ctr[N_FREE] += 1
        i = nxt
    P[pid, HEAD] = -1
    pos.sort()
    P = _grow2(P, ctr[N_PAIRS] + 2 * k + 1)
    extra = 2 * k - ctr[N_FREE]
    if extra > 0:
        occ = _grow2(occ, ctr[N_OCC] + extra + 1)
    touched = _grow1(touched, ctr[N_TOUCHED] + 2 * k + 1)
    last = -1
    for t in range(k):
        p = pos[t]
        if p == last:
            continue
        last = p
        if sym[p] != a:
            continue
        q = p + 1
        while sym[q] == DEAD:
            q += 1
        if sym[q] != b:
            continue
        w = wcnt[p]
        L = p - 1
        while sym[L] == DEAD:
            L -= 1
        R = q + 1
        while sym[R] == DEAD:
            R += 1
        if sym[L] >= 0:
            x = sym[L]
            P[pmap[_key(x, a)], CNT] -= w
            nid = _pair_id(pmap, P, ctr, x, new)
            P[nid, CNT] += w
            _add_occ(occ, ctr, P, nid, L)
            _touch(P, touched, ctr, nid)
        if sym[R] >= 0:
            y = sym[R]
            P[pmap[_key(b, y)], CNT] -= w
            nid = _pair_id(pmap, P, ctr, new, y)
            P[nid, CNT] += w
            _add_occ(occ, ctr, P, nid, p)
            _touch(P, touched, ctr, nid)
        sym[p] = new
        sym[q] = DEAD
    P[pid, CNT] = 0
    return P, occ, touched


@njit(cache=True)
def replay(forced, start, stop, sym, wcnt, pmap, P, occ, ctr, touched):
    """Apply ``forced[start:stop]`` ((F, 3) int64 rows a, b, new) in order."""
    for i in range(start, stop):
        k = _key(forced[i, 0], forced[i, 1])
        if k in pmap and P[pmap[k], STATE] == LIVE:
            pid = pmap[k]
            P, occ, touched = _apply(pid, forced[i, 2], sym, wcnt, pmap, P, occ, ctr, touched)
            P[pid, STATE] = MERGED
        for j in range(ctr[N_TOUCHED]):
            P[touched[j], TOUCHED] = 0
        ctr[N_TOUCHED] = 0
    return P, occ, touched


@njit(cache=True)
def _before(c1, p1, c2, p2, P):
    if c1 != c2:
        return c1 > c2
    if P[p1, LEFT] != P[p2, LEFT]:
        return P[p1, LEFT] < P[p2, LEFT]
    return P[p1, RIGHT] < P[p2, RIGHT]


@njit(cache=True)
def _push(HC, HP, ctr, P, c, pid):
    i = ctr[N_HEAP]
    ctr[N_HEAP] += 1
    while i > 0:
        parent = (i - 1) // 2
        if _before(c, pid, HC[parent], HP[parent], P):
            HC[i] = HC[parent]
            HP[i] = HP[parent]
            i = parent
        else:
            break
    HC[i] = c
    HP[i] = pid


@njit(cache=True)
def _pop(HC, HP, ctr, P):
    c0 = HC[0]
    p0 = HP[0]
    n = ctr[N_HEAP] - 1
    ctr[N_HEAP] = n
    if n > 0:
        c = HC[n]
        pid = HP[n]
        i = 0
        while True:
            lc = 2 * i + 1
            if lc >= n:
                break
            best = lc
            rc = lc + 1
            if rc < n and _before(HC[rc], HP[rc], HC[lc], HP[lc], P):
                best = rc
            if _before(HC[best], HP[best], c, pid, P):
                HC[i] = HC[best]
                HP[i] = HP[best]
                i = best
            else:
                break
        HC[i] = c
        HP[i] = pid
    return c0, p0


@njit(cache=True)
def build_heap(P, ctr):
    n = ctr[N_PAIRS]
    HC = np.empty(n + 16, np.int64)
    HP = np.empty(n + 16, np.int64)
    ctr[N_HEAP] = 0
    for pid in range(n):
        if P[pid, STATE] == LIVE and P[pid, CNT] > 0:
            _push(HC, HP, ctr, P, P[pid, CNT], pid)
    return HC, HP


@njit(cache=True)
def token_meta(pool, offsets, lengths, space):
    """Per-token first/last byte, word count, ': ' flag and hash from the bytes in ``pool``.

    offsets/lengths: (V,) int64 (length -1 = special token, never merged). Returns (V, 6) int64 rows:
    length, first byte, last byte, words, has ': ', hash (wrapping int64 polynomial).
    """
    V = offsets.shape[0]
    T = np.zeros((V, 6), np.int64)
    for t in range(V):
        n = lengths[t]
        T[t, 0] = n
        if n <= 0:
            T[t, 1] = -1
            T[t, 2] = -1
            continue
        o = offsets[t]
        T[t, 1] = pool[o]
        T[t, 2] = pool[o + n - 1]
        words = 0
        prev_space = True
        cs = 0
        h = np.int64(0)
        for i in range(n):
            c = pool[o + i]
            sp = space[c]
            if not sp and prev_space:
                words += 1
            prev_space = sp
            if c == 58 and i + 1 < n and pool[o + i + 1] == 32:
                cs = 1
            h = h * HASH_BASE + np.int64(c) + 1
        T[t, 3] = words
        T[t, 4] = cs
        T[t, 5] = h
    return T


@njit(cache=True)
def token_map(T, lengths):
    """hash -> token id for every token with bytes (built in nopython: a typed Dict made from Python
    costs seconds of compilation per process)."""
    tmap = Dict.empty(key_type=types.int64, value_type=types.int64)
    for i in range(lengths.shape[0]):
        if lengths[i] > 0:
            tmap[T[i, 5]] = i
    return tmap


@njit(cache=True)
def _pow(n):
    r = np.int64(1)
    for _ in range(n):
        r = r * HASH_BASE
    return r


@njit(cache=True)
def _same_bytes(pool, T, offs, tid, l, r):
    """Whether token ``tid``'s bytes equal token l's bytes followed by token r's."""
    if T[tid, 0] != T[l, 0] + T[r, 0]:
        return False
    o = offs[tid]
    for i in range(T[l, 0]):
        if pool[o + i] != pool[offs[l] + i]:
            return False
    o += T[l, 0]
    for i in range(T[r, 0]):
        if pool[o + i] != pool[offs[r] + i]:
            return False
    return True


@njit(cache=True)
def greedy(max_steps, target_vocab, floor, caps, max_words, sym, wcnt, pmap, P, occ, ctr, touched,
           HC, HP, T, offs, pool, tmap, space, merges):
    """Run up to ``max_steps`` greedy merges; sets ctr[DONE] when training is over."""
    steps = 0
    while steps < max_steps:
        if ctr[N_TOK] >= target_vocab or ctr[N_HEAP] == 0:
            ctr[DONE] = 1
            break
        c, pid = _pop(HC, HP, ctr, P)
        if P[pid, STATE] != LIVE:
            continue
        cur = P[pid, CNT]
        if c != cur:
            if cur > 0:
                if ctr[N_HEAP] + 1 > HC.shape[0]:
                    HC = _grow1(HC, ctr[N_HEAP] + 1)
                    HP = _grow1(HP, ctr[N_HEAP] + 1)
                _push(HC, HP, ctr, P, cur, pid)
            continue
        if cur < floor:
            ctr[DONE] = 1
            break
        l = P[pid, LEFT]
        r = P[pid, RIGHT]
        ln = T[l, 0]
        rn = T[r, 0]
        words = T[l, 3] + T[r, 3]
        if ln > 0 and rn > 0 and not space[T[l, 2]] and not space[T[r, 1]]:
            words -= 1
        cs = T[l, 4] == 1 or T[r, 4] == 1 or (T[l, 2] == 58 and T[r, 1] == 32)
        if caps and (words > max_words or cs):
            P[pid, STATE] = BANNED
            continue
        h = T[l, 5] * _pow(rn) + T[r, 5]
        if h in tmap and _same_bytes(pool, T, offs, tmap[h], l, r):
            P[pid, STATE] = BANNED  # the token exists already (made by another pair)
            continue
        new = ctr[N_TOK]
        ctr[N_TOK] += 1
        n_pool = ctr[N_POOL]
        pool = _grow1(pool, n_pool + ln + rn)
        pool[n_pool : n_pool + ln] = pool[offs[l] : offs[l] + ln]
        pool[n_pool + ln : n_pool + ln + rn] = pool[offs[r] : offs[r] + rn]
        offs[new] = n_pool
        ctr[N_POOL] = n_pool + ln + rn
        T[new, 0] = ln + rn
        T[new, 1] = T[l, 1]
        T[new, 2] = T[r, 2]
        T[new, 3] = words
        T[new, 4] = 1 if cs else 0
        T[new, 5] = h
        tmap[h] = new
        P, occ, touched = _apply(pid, new, sym, wcnt, pmap, P, occ, ctr, touched)
        P[pid, STATE] = MERGED
        m = ctr[N_MERGES]
        merges[m, 0] = l
        merges[m, 1] = r
        merges[m, 2] = new
        ctr[N_MERGES] = m + 1
        need = ctr[N_HEAP] + ctr[N_TOUCHED] + 1
        if need > HC.shape[0]:
            HC = _grow1(HC, need)
            HP = _grow1(HP, need)
        for j in range(ctr[N_TOUCHED]):
            t = touched[j]
            P[t, TOUCHED] = 0
            if P[t, STATE] == LIVE and P[t, CNT] > 0:
                _push(HC, HP, ctr, P, P[t, CNT], t)
        ctr[N_TOUCHED] = 0
        steps += 1
    return P, occ, touched, HC, HP, pool


def flatten_words(words: Sequence[tuple[Sequence[int], int]]) -> tuple[np.ndarray, np.ndarray]:
    """[(symbols, count), ...] -> (sym, wcnt) with SEP around every word.

    >>> s, w = flatten_words([([5, 6], 3), ([7], 1)])
    >>> s.tolist(), w.tolist()
    ([-2, 5, 6, -2, 7, -2], [0, 3, 3, 0, 1, 0])
    """
    total = 1 + sum(len(w) + 1 for w, _ in words)
    sym = np.empty(total, np.int32)
    wcnt = np.zeros(total, np.int32)
    sym[0] = SEP
    p = 1
    for w, n in words:
        k = len(w)
        sym[p : p + k] = w
        wcnt[p : p + k] = n
        sym[p + k] = SEP
        p += k + 1
    return sym, wcnt


def continue_bpe(sym: np.ndarray, wcnt: np.ndarray, vocab_bytes: Sequence[bytes | None], forced: np.ndarray,
                 target_vocab: int, *, min_frequency: int = 0, caps: bool = True, max_words: int = 4,
                 advance: Callable[[int], None] | None = None, chunk: int = 256) -> tuple[np.ndarray, list[bytes]]:
    """Stage 2 over flat words (see :func:`flatten_words`); same contract as the reference.

    sym/wcnt: (N,) int32, consumed (modified in place). forced: (F, 3) int64 merges (a, b, new) to replay.
    Returns ((M, 3) int64 new merges in order, their tokens' bytes). ``advance(n)`` reports merges done
    (replayed and new).
    """
    from tokbench.errors import ConfigError
    from tokbench.train.caps import space_table

    if sym.shape[0] >= 2**31 - 1:
        raise ConfigError("SuperBPE stage 2 holds at most 2**31 symbols; lower --train-bytes")
    V0 = len(vocab_bytes)
    cap_tokens = max(target_vocab, V0)
    lengths = np.array([-1 if b is None else len(b) for b in vocab_bytes], dtype=np.int64)
    offs = np.zeros(cap_tokens, dtype=np.int64)
    pool_list = b"".join(b for b in vocab_bytes if b is not None)
    running = 0
    for i, b in enumerate(vocab_bytes):
        offs[i] = running
        if b is not None:
            running += len(b)
    pool = np.zeros(max(len(pool_list) * 2, 1024), dtype=np.uint8)
    pool[: len(pool_list)] = np.frombuffer(pool_list, dtype=np.uint8)
    space = space_table()
    T = np.zeros((cap_tokens, 6), np.int64)
    T[:V0] = token_meta(pool, offs[:V0].copy(), lengths, space)
    tmap = token_map(T, lengths)

    pmap, P, occ, ctr = init_pairs(sym, wcnt)
    ctr[N_TOK] = V0
    ctr[N_POOL] = len(pool_list)
    touched = np.empty(1024, np.int64)
    forced = np.ascontiguousarray(forced, dtype=np.int64).reshape(-1, 3)
    for start in range(0, forced.shape[0], chunk * 4):
        stop = min(start + chunk * 4, forced.shape[0])
        P, occ, touched = replay(forced, start, stop, sym, wcnt, pmap, P, occ, ctr, touched)
        if advance is not None:
            advance(stop - start)
    HC, HP = build_heap(P, ctr)
    merges = np.zeros((max(cap_tokens - V0, 0) + 1, 3), np.int64)
    floor = max(1, int(min_frequency))
    while not ctr[DONE]:
        before = int(ctr[N_MERGES])
        P, occ, touched, HC, HP, pool = greedy(chunk, target_vocab, floor, caps, max_words, sym, wcnt, pmap, P, occ,
                                               ctr, touched, HC, HP, T, offs, pool, tmap, space, merges)
        if advance is not None:
            advance(int(ctr[N_MERGES]) - before)
    n = int(ctr[N_MERGES])
    out = merges[:n].copy()
    new_bytes = [bytes(pool[offs[t] : offs[t] + T[t, 0]]) for t in out[:, 2]]
    return out, new_bytes
