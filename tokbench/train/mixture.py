"""Mix training sources by bytes, on streams.

Every source gets ``weight / sum(weights)`` of the byte budget, exactly: its share is filled to the byte,
the last segment taken is cut at a character boundary (so a share can fall short of its target by at
most 3 bytes, never exceed it). Text is never repeated. A source smaller than its share gives all it has
and the rest of its share stays unused (the manifest records target and bytes used), unless
``exact=True``: then the budget shrinks to the largest one every source can fill, so the proportions
hold exactly. No budget means all text of every source (or, with ``exact``, the largest budget every
source can fill).

Sources are read as streams (:class:`~tokbench.corpora.CorpusStream`), never held in memory. When a
source must give less than it has, one counting pass measures it (``A`` bytes for a target ``T``), then
each segment is kept with probability ``T / A`` by a uniform draw from a generator seeded with the run's
seed and the source's label, in stream order, until the share is full; if the draws leave the share short
(the sum of a random sample), a second sweep takes skipped segments from the start until it is full. The
choice is deterministic for a seed and does not depend on how the stream is batched; the segments reach
the trainer in their source's order, sources one after another.
"""

from __future__ import annotations

import hashlib
from typing import Iterator, Sequence

import numpy as np

from tokbench.corpora.stream import BATCH, ContentHash, as_stream, batched, cut_utf8, utf8_len
from tokbench.errors import CorpusError

_DRAWS = 4096  # uniforms are drawn in fixed blocks so that the choice never depends on read batching


def _source_seed(seed: int, label: str) -> int:
    digest = hashlib.sha256(f"{seed}\0{label}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "little")


def _uniforms(seed: int) -> Iterator[float]:
    rng = np.random.default_rng(seed)
    while True:
        yield from rng.random(_DRAWS).tolist()


class MixedText:
    """The texts of a training run, as a stream, and what each source contributed.

    Iterating yields the segments in training order (source by source); every pass yields the same
    segments. ``usage`` holds one dict per source (its provenance plus ``weight``, ``bytes_target``,
    ``bytes_used``, ``segments_used``, ``budget`` and ``sha256_used``, the hash of the text used), measured
    by a pass (the first read of ``usage`` makes one when training has not).
    """

    def __init__(self, streams, plans: list[dict], usage: list[dict]):
        self._streams = streams
        self._plans = plans
        self._usage = usage
        self.n_segments: int | None = None

    @property
    def usage(self) -> list[dict]:
        """Per-source usage; reads the mixture once if no pass has completed yet."""
        if any(u["bytes_used"] is None for u in self._usage):
            for _ in self:
                pass
        return self._usage

    def _take(self, i: int) -> Iterator[str]:
        stream, plan = self._streams[i], self._plans[i]
        target, p, seed = plan["target"], plan["p"], plan["seed"]
        h = ContentHash()
        hashing: list[tuple[str, str]] = []  # hashed a batch at a time: the same digest, a third of the cost
        used = count = 0
        if p >= 1.0:
            sweeps = [None]
        else:
            sweeps = [True, False]  # kept by the draw, then the skipped ones to fill a short share
        for keep in sweeps:
            draws = _uniforms(seed)
            for rid, text in stream.records():
                if keep is not None and (next(draws) < p) != keep:
                    continue
                if target is not None and used >= target:
                    break
                n = utf8_len(text)
                if n == 0:
                    continue
                if target is not None and used + n > target:
                    text = cut_utf8(text, target - used)
                    n = utf8_len(text)
                    if not text:
                        break
                hashing.append((rid, text))
                if len(hashing) >= BATCH:
                    h.update_many(hashing)
                    hashing.clear()
                used += n
                count += 1
                yield text
            if target is not None and used >= target:
                break
        h.update_many(hashing)
        u = self._usage[i]
        u.update({"bytes_used": used, "segments_used": count, "sha256_used": h.hexdigest()})
        if plan["scanned"] is None:  # no counting pass: the pass itself measured the whole source
            u.update({"segments": count, "bytes": used, "sha256": h.hexdigest()})

    def __iter__(self) -> Iterator[str]:
        n = 0
        for i in range(len(self._streams)):
            for text in self._take(i):
                n += 1
                yield text
        self.n_segments = n

    def batches(self, size: int = BATCH) -> Iterator[list[str]]:
        return batched(self, size)

    @property
    def texts(self) -> list[str]:
        """All segments in memory (small corpora and tests)."""
        return list(self)

    @property
    def n_bytes(self) -> int:
        return sum(u["bytes_used"] for u in self.usage)


def _quotas(shares: Sequence[float], budget: int) -> list[int]:
    """Integer byte quotas summing to ``budget`` exactly (largest remainders get the spare bytes).

    >>> _quotas([0.5, 0.5], 15), _quotas([0.75, 0.25], 4000)
    ([8, 7], [3000, 1000])
    """
    raw = [sh * budget for sh in shares]
    q = [int(r) for r in raw]
    for i in sorted(range(len(q)), key=lambda i: (-(raw[i] - q[i]), i))[: budget - sum(q)]:
        q[i] += 1
    return q


def mix_by_bytes(sources: Sequence, weights: Sequence[float], budget: int | None, seed: int = 0,
                 exact: bool = False) -> MixedText:
    """Take ``weights[i] / sum(weights) * budget`` bytes of text from ``sources[i]``.

    ``sources`` are :class:`~tokbench.corpora.CorpusStream` or :class:`~tokbench.corpora.TextSource`-like
    (``.texts``, ``.label``). With ``exact`` the budget is ``min(budget, the largest one every source can
    fill)``. Sources that must be sampled are counted first (one pass each); nothing is kept in memory.

    >>> from types import SimpleNamespace as S
    >>> a = S(texts=["aaaa"] * 10, label="a")
    >>> b = S(texts=["bb"] * 10, label="b")
    >>> m = mix_by_bytes([a, b], [0.5, 0.5], budget=15)
    >>> [u["bytes_used"] for u in m.usage]
    [8, 7]
    """
    if not sources:
        raise CorpusError("no training text: give at least one --corpus")
    if len(weights) != len(sources):
        raise ValueError("one weight per source")
    streams = [as_stream(s) for s in sources]
    total_w = float(sum(weights))
    shares = [w / total_w for w in weights]
    scan = budget is not None or exact
    stats = [s.stats() if scan else None for s in streams]
    if scan:
        avail = [st.bytes for st in stats]
        if sum(avail) == 0:
            raise CorpusError("the training corpus is empty: it has no text to train on")
        if exact:
            fillable = int(min(a / sh for a, sh in zip(avail, shares) if sh > 0))
            budget = fillable if budget is None else min(int(budget), fillable)
    plans, usage = [], []
    quotas = _quotas(shares, budget) if budget is not None else [None] * len(streams)
    for s, share, st, quota in zip(streams, shares, stats, quotas):
        if st is None:
            target, p = None, 1.0
        else:
            target = st.bytes if quota is None else min(st.bytes, quota)
            p = 1.0 if target >= st.bytes else target / st.bytes
        plans.append({"target": target, "p": p, "seed": _source_seed(seed, s.label), "scanned": st})
        rec = {"spec": s.spec, "label": s.label}
        if st is not None:
            rec.update({"segments": st.segments, "bytes": st.bytes, "sha256": st.sha256})
        rec.update({"weight": round(share, 6), "bytes_target": target, "bytes_used": None, "segments_used": None,
                    "budget": budget})
        usage.append(rec)
    if scan and budget == 0:
        raise CorpusError("the training corpus is empty after mixing: every source has zero bytes or zero weight")
    return MixedText(streams, plans, usage)


def check_nonempty(mixed: MixedText) -> None:
    """After a pass: an error when the mixture yielded no text."""
    if not mixed.n_bytes:
        raise CorpusError("the training corpus is empty after mixing: every source has zero bytes or zero weight")
