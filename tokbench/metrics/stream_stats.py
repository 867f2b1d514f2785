"""Encode a stream and keep sufficient statistics, not ids: the compression family at any corpus size.

Compression needs per-token counts (Rényi efficiency) and the totals of bytes, characters and tokens.
:func:`count_stream` encodes a :class:`~tokbench.corpora.CorpusStream` a batch at a time with the
tokenizer's own batch encoder and adds each batch's ``bincount`` to one vector of ``vocab_size`` counts;
memory holds a batch and that vector, never the ids of the corpus.

The statistics of each shard (consecutive records up to ``SHARD_BYTES`` of text) go to the verified
cache (:class:`tokbench.verified_cache.ArrayCache`, under ``encoding-stats/``) keyed by the tokenizer's
fingerprint and the shard's content hash, so a re-run reads the text (to hash it) but encodes nothing,
and a 10 GB corpus caches a few counts per shard instead of 20 GB of ids. The numbers equal the in-memory
evaluation's (tests compare them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tokbench.corpora.stream import ContentHash, CorpusStream, utf8_len
from tokbench.verified_cache import ArrayCache, best_effort

STATS = ArrayCache("encoding-stats")
#: Text per cached shard: big enough that a shard's counts are small beside its text, small enough that a
#: shard's texts in memory stay modest.
SHARD_BYTES = 16_000_000
#: Documents per call to the tokenizer's batch encoder.
BATCH = 1024


@dataclass
class StreamStats:
    """Sufficient statistics of one encoded stream."""

    counts: np.ndarray
    n_bytes: int = 0
    n_chars: int = 0
    n_tokens: int = 0
    n_docs: int = 0
    sha256: str = ""
    cache: dict = field(default_factory=lambda: {"hits": 0, "misses": 0})

    def provenance(self, stream: CorpusStream) -> dict:
        return {"spec": stream.spec, "label": stream.label, "segments": self.n_docs, "bytes": self.n_bytes,
                "sha256": self.sha256}


def _shards(stream: CorpusStream, max_bytes: int | None, shard_bytes: int):
    shard: list[tuple[str, str]] = []
    size = 0
    for rid, text in stream.records(max_bytes):
        shard.append((rid, text))
        size += utf8_len(text)
        if size >= shard_bytes:
            yield shard
            shard, size = [], 0
    if shard:
        yield shard


def _encode_shard(tok, texts: list[str], V: int) -> tuple[np.ndarray, int]:
    counts = np.zeros(V, np.int64)
    n = 0
    for i in range(0, len(texts), BATCH):
        enc = tok.encode_batch(texts[i : i + BATCH], spans=False)
        ids = np.asarray(enc.ids, dtype=np.int64)
        if ids.size:
            counts += np.bincount(ids, minlength=V)[:V]
        n += int(ids.shape[0])
    return counts, n


def count_stream(tok, stream: CorpusStream, *, max_bytes: int | None = None, use_cache: bool = True,
                 shard_bytes: int = SHARD_BYTES, advance=None) -> StreamStats:
    """Per-token counts and byte/char/token/document totals of ``stream`` encoded by ``tok``."""
    V = tok.vocab_size
    whole = ContentHash()
    st = StreamStats(np.zeros(V, np.int64))
    fingerprint = tok.fingerprint() if use_cache else ""
    for shard in _shards(stream, max_bytes, shard_bytes):
        h = ContentHash()
        for rid, text in shard:
            h.update(rid, text)
            whole.update(rid, text)
        texts = [t for _, t in shard]
        key = f"stats:{fingerprint}:{h.hexdigest()}"
        got = STATS.get(key, lambda a, m: a["counts"].shape == (V,)) if use_cache else None
        if got is not None:
            counts, n_tokens = got[0]["counts"], int(got[1]["tokens"])
            st.cache["hits"] += 1
        else:
            counts, n_tokens = _encode_shard(tok, texts, V)
            st.cache["misses"] += 1
            if use_cache:
                best_effort("encoding statistics", STATS.put, key, {"counts": counts}, {"tokens": n_tokens})
        st.counts += counts
        st.n_tokens += n_tokens
        st.n_bytes += sum(utf8_len(t) for t in texts)
        st.n_chars += sum(len(t) for t in texts)
        st.n_docs += len(texts)
        if advance is not None:
            advance(len(texts))
    st.sha256 = whole.hexdigest()
    return st
