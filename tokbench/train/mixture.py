"""Mix training sources by bytes.

Every source gets ``weight / sum(weights)`` of the byte budget. Its segments are shuffled with the run's
seed and taken in that order until the share is filled (the last segment may overshoot by its own length).
Text is never repeated. A source smaller than its share gives all it has and the rest of its share stays
unused (the manifest records target and bytes used), unless ``exact=True``: then the budget shrinks to
the largest one every source can fill, so the proportions hold exactly. No budget means all text of
every source (or, with ``exact``, the largest budget every source can fill).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from tokbench.errors import CorpusError


@dataclass
class MixedText:
    """The texts of a training run and what each source contributed.

    texts:  the segments in training order (source by source).
    usage:  one dict per source: its provenance plus ``weight``, ``bytes_used``, ``segments_used``, ``passes``.
    """

    texts: list[str]
    usage: list[dict]

    @property
    def n_bytes(self) -> int:
        return sum(u["bytes_used"] for u in self.usage)


def _source_seed(seed: int, label: str) -> int:
    digest = hashlib.sha256(f"{seed}\0{label}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "little")


def mix_by_bytes(sources: Sequence, weights: Sequence[float], budget: int | None, seed: int = 0,
                 exact: bool = False) -> MixedText:
    """Take ``weights[i] / sum(weights) * budget`` bytes of text from ``sources[i]``.

    ``sources`` are :class:`~tokbench.corpora.TextSource`-like (``.texts``, ``.label``, ``.provenance()``).
    With ``exact`` the budget is ``min(budget, the largest one every source can fill)``.

    >>> from types import SimpleNamespace as S
    >>> a = S(texts=["aaaa"] * 10, label="a", provenance=lambda: {"spec": "a"})
    >>> b = S(texts=["bb"] * 10, label="b", provenance=lambda: {"spec": "b"})
    >>> m = mix_by_bytes([a, b], [0.5, 0.5], budget=16)
    >>> [u["bytes_used"] for u in m.usage]
    [8, 8]
    """
    if not sources:
        raise CorpusError("no training text: give at least one --corpus")
    if len(weights) != len(sources):
        raise ValueError("one weight per source")
    total_w = float(sum(weights))
    shares = [w / total_w for w in weights]
    sizes = [[len(t.encode("utf-8")) for t in s.texts] for s in sources]
    avail = [sum(x) for x in sizes]
    if sum(avail) == 0:
        raise CorpusError("the training corpus is empty: it has no text to train on")
    if exact:
        fillable = int(min(a / sh for a, sh in zip(avail, shares) if sh > 0))
        budget = fillable if budget is None else min(int(budget), fillable)
    texts: list[str] = []
    usage: list[dict] = []
    for src, share, w, sz, av in zip(sources, shares, weights, sizes, avail):
        target = av if budget is None else int(round(share * budget))
        rng = np.random.default_rng(_source_seed(seed, src.label))
        used = 0
        count = 0
        for i in rng.permutation(len(src.texts)):
            if used >= target:
                break
            if sz[i] == 0:
                continue
            texts.append(src.texts[i])
            used += sz[i]
            count += 1
        rec = dict(src.provenance())
        rec.update({"weight": round(share, 6), "bytes_target": target, "bytes_used": used, "segments_used": count,
                    "budget": budget})
        usage.append(rec)
    if not texts:
        raise CorpusError("the training corpus is empty after mixing: every source has zero bytes or zero weight")
    return MixedText(texts, usage)
