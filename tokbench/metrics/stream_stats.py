"""Encode a stream and keep sufficient statistics, not ids: every metric family at any corpus size.

What each family needs of an encoded text (see METRICS.md and the family modules), all of it sums:

* compression: per-token counts (Rényi efficiency) and the totals of bytes, characters and tokens;
* fertility: words, tokens over words (each word at least 1) and words split into 2+ tokens, per batch
  from the words of the batch's documents and the tokens' byte spans (:mod:`tokbench.metrics.text`);
* coverage: UNK and byte-token counts (from the per-token counts) and characters whose bytes a UNK or
  byte token covers (per batch, documents never straddle a batch);
* %TR / %Pure: the per-token counts of the language's text;
* token premium: the join of two languages by alignment id needs one row per segment: 8-byte hashes of
  the segment's id and text (to drop untranslated segments) and its token and UNK-token counts, 32 bytes
  per segment of a parallel text (its text is never kept). Parallel corpora are small by nature
  (FLORES-200: 2,009 segments); this is the one statistic that grows, with segments and not bytes.

:func:`count_stream` encodes a :class:`~tokbench.corpora.CorpusStream` a batch at a time with the
tokenizer's own batch encoder (with byte spans only when fertility or coverage need them) and sums each
batch's statistics; memory holds a shard of text and the sums, never the ids of the corpus.

The statistics of each shard (consecutive records up to ``SHARD_BYTES`` of text) go to the verified
cache (:class:`tokbench.verified_cache.ArrayCache`, under ``encoding-stats/``) keyed by the tokenizer's
fingerprint, the shard's content hash and what was collected, so a re-run reads the text (to hash it)
but encodes nothing, and a 10 GB corpus caches a few counts per shard instead of 20 GB of ids. A damaged
or swapped entry is a miss. The numbers equal the in-memory evaluation's (tests compare them).

Shards are also the unit of the Ray engine (:func:`count_streams_on_ray`, on
:func:`tokbench.engines.ray_counts.map_shards`): worker ``k`` of ``n`` encodes the shards whose number is
``k`` modulo ``n``, the driver adds the integer sums, so the figures equal the local ones bit for bit.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from tokbench.corpora.stream import ContentHash, CorpusStream, utf8_len
from tokbench.metrics.config import EvalConfig
from tokbench.verified_cache import ArrayCache, best_effort

STATS = ArrayCache("encoding-stats")
#: Bump when what a cached shard holds changes; older entries are then misses.
STATS_VERSION = 2
#: Text per cached shard (the evaluation's default, EvalConfig.shard_bytes).
SHARD_BYTES = EvalConfig.shard_bytes
#: Documents per call to the tokenizer's batch encoder.
BATCH = 1024

#: Integer totals every shard carries (sums over its documents).
TOTALS = ("n_bytes", "n_chars", "n_tokens", "n_docs", "n_words", "word_tokens", "continued_words", "flagged_chars")
#: Per-segment columns kept when ``lines`` is asked (the token premium's join).
LINES = ("key_hash", "text_hash", "tokens", "unk")


@dataclass(frozen=True)
class Needs:
    """What to collect besides per-token counts and byte/char/token totals."""

    #: fertility: per-word token counts (needs byte spans)
    words: bool = False
    #: coverage: characters whose bytes a UNK or byte token covers (needs byte spans)
    chars: bool = False
    #: token premium: one row per segment (id/text hashes, tokens, UNK tokens)
    lines: bool = False

    @property
    def spans(self) -> bool:
        return self.words or self.chars

    def tag(self) -> str:
        return "".join(c for c, on in (("w", self.words), ("c", self.chars), ("l", self.lines)) if on) or "-"


@dataclass
class StreamStats:
    """Sufficient statistics of one encoded stream."""

    counts: np.ndarray
    n_bytes: int = 0
    n_chars: int = 0
    n_tokens: int = 0
    n_docs: int = 0
    n_words: int = 0
    #: tokens over words, each word counted at least once (fertility = word_tokens / n_words)
    word_tokens: int = 0
    #: words split into two or more tokens (PCW = continued_words / n_words)
    continued_words: int = 0
    #: characters whose bytes a UNK or byte token covers
    flagged_chars: int = 0
    #: with Needs.lines: (D,) columns of :data:`LINES`, in stream order
    lines: dict | None = None
    #: shards the pass cut the stream into (encoded here or, on Ray, by another worker)
    n_shards: int = 0
    sha256: str = ""
    cache: dict = field(default_factory=lambda: {"hits": 0, "misses": 0})
    _parts: list = field(default_factory=list, repr=False)

    def provenance(self, stream: CorpusStream) -> dict:
        return {"spec": stream.spec, "label": stream.label, "segments": self.n_docs, "bytes": self.n_bytes,
                "sha256": self.sha256}

    def add(self, arrays: dict, totals: dict, shard: int = 0) -> None:
        """Add the statistics of shard number ``shard`` (as :func:`shard_stats` returns them)."""
        self.counts += arrays["counts"]
        for k in TOTALS:
            setattr(self, k, getattr(self, k) + int(totals[k]))
        if "tokens" in arrays:
            self._parts.append((shard, {k: arrays[k] for k in LINES}))

    def merge(self, other: "StreamStats") -> None:
        """Add another part of the same stream (another worker's shards)."""
        self.counts += other.counts
        for k in TOTALS:
            setattr(self, k, getattr(self, k) + getattr(other, k))
        self._parts.extend(other._parts)
        self.n_shards = max(self.n_shards, other.n_shards)  # every worker walks the whole stream
        for k in self.cache:
            self.cache[k] += other.cache[k]

    def close(self) -> None:
        """Put the per-shard segment columns together, in stream order (once every part is added)."""
        if self._parts:
            parts = [p for _, p in sorted(self._parts, key=lambda x: x[0])]
            self.lines = {k: np.concatenate([p[k] for p in parts]) for k in LINES}
        self._parts = []


def _hash64(data: str) -> int:
    return int.from_bytes(hashlib.blake2b(data.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


def token_masks(tok) -> tuple[np.ndarray, np.ndarray]:
    """(V,) bool masks of ``tok``: (UNK, UNK or byte token), as the coverage family defines them."""
    from tokbench.metrics.coverage import flag_mask

    V = tok.vocab_size
    byte_mask = np.asarray(tok.byte_token_mask, dtype=np.bool_)
    byte_only = np.zeros(V, dtype=np.bool_)
    byte_only[: min(V, len(byte_mask))] = byte_mask[:V]
    unk, _ = flag_mask(V, tok.unk_id, byte_mask)
    return unk, unk | byte_only


def shard_stats(tok, records: list[tuple[str, str]], needs: Needs, masks=None, n_bytes: int | None = None) -> tuple[dict, dict]:
    """Statistics of one shard of ``(id, text)`` records: (arrays, integer totals).

    Arrays: ``counts`` (V,) int64, and with ``needs.lines`` the (D,) columns of :data:`LINES`.
    """
    from tokbench.metrics import kernels

    unk_mask, flagged_mask = masks if masks is not None else token_masks(tok)
    V = len(unk_mask)  # (a tokenizer's vocab_size can cost a scan of its vocabulary per call)
    texts = [t for _, t in records]
    counts = np.zeros(V, np.int64)
    totals = dict.fromkeys(TOTALS, 0)
    totals["n_docs"] = len(texts)
    totals["n_bytes"] = sum(utf8_len(t) for t in texts) if n_bytes is None else n_bytes
    totals["n_chars"] = sum(len(t) for t in texts)
    per_doc_tokens, per_doc_unk = [], []
    for i in range(0, len(texts), BATCH):
        batch = texts[i : i + BATCH]
        if needs.spans:
            from tokbench.tokenizer.spans import encode_with_spans  # Numba: only when spans are needed

            enc = encode_with_spans(tok, batch)
        else:
            enc = tok.encode_batch(batch, spans=False)
        ids = np.asarray(enc.ids, dtype=np.int64)
        if ids.size:
            counts += np.bincount(ids[(ids >= 0) & (ids < V)], minlength=V)[:V]
        totals["n_tokens"] += int(ids.shape[0])
        doc_offsets = np.asarray(enc.doc_offsets, dtype=np.int64)
        if needs.lines:
            per_doc_tokens.append(np.diff(doc_offsets))
            per_doc_unk.append(kernels.count_masked_per_doc(ids, doc_offsets, unk_mask))
        if needs.spans:
            from tokbench.metrics.text import text_arrays

            ta = text_arrays(batch)
            if needs.words and ta.n_words:
                per_word = np.maximum(kernels.tokens_per_word(enc.starts, enc.ends, doc_offsets, ta.word_starts,
                                                              ta.word_ends, ta.word_doc_offsets), 1)
                totals["n_words"] += ta.n_words
                totals["word_tokens"] += int(per_word.sum())
                totals["continued_words"] += int((per_word >= 2).sum())
            if needs.chars and enc.starts is not None:
                tok_flag = flagged_mask[np.clip(ids, 0, V - 1)]
                flagged, _ = kernels.flagged_chars(enc.starts, enc.ends, doc_offsets, tok_flag, ta.lead,
                                                   ta.doc_byte_offsets)
                totals["flagged_chars"] += int(flagged)
    arrays = {"counts": counts}
    if needs.lines:
        arrays["tokens"] = np.concatenate(per_doc_tokens) if per_doc_tokens else np.zeros(0, np.int64)
        arrays["unk"] = np.concatenate(per_doc_unk) if per_doc_unk else np.zeros(0, np.int64)
        arrays["key_hash"] = np.fromiter((_hash64(r) for r, _ in records), dtype=np.uint64, count=len(records))
        arrays["text_hash"] = np.fromiter((_hash64(t) for t in texts), dtype=np.uint64, count=len(records))
    return arrays, totals


def shards(stream: CorpusStream, max_bytes: int | None, shard_bytes: int = SHARD_BYTES, keep=None):
    """Consecutive records of one pass, in lists of about ``shard_bytes`` of text: (records, their bytes).

    ``keep(i)`` False: shard ``i`` is only measured (its records None), as a Ray worker skips the shards of
    the others without holding them."""
    shard: list[tuple[str, str]] | None = [] if keep is None or keep(0) else None
    size, i, held = 0, 0, 0
    for rid, text in stream.records(max_bytes):
        if shard is not None:
            shard.append((rid, text))
        held += 1
        size += utf8_len(text)
        if size >= shard_bytes:
            yield shard, size
            i += 1
            shard, size, held = ([] if keep is None or keep(i) else None), 0, 0
    if held:
        yield shard, size


def _prefetched(items, depth: int = 1, more=lambda first: True):
    """``items`` produced by a thread ``depth`` ahead of the consumer: reading and hashing the next shard
    overlap with encoding this one (the batch encoders release the GIL). At most ``depth + 1`` shards are
    in memory."""
    import queue
    import threading

    items = iter(items)
    first = next(items, None)
    if first is None:
        return
    yield first
    if not more(first):  # a one-shard stream (most languages of a corpus) needs no thread
        yield from items
        return
    q: queue.Queue = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def produce():
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        q.put(("item", item), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(("end", done))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            q.put(("error", exc))

    t = threading.Thread(target=produce, daemon=True)
    t.start()
    try:
        while True:
            kind, item = q.get()
            if kind == "end":
                return
            if kind == "error":
                raise item
            yield item
    finally:
        stop.set()
        t.join()


def _check(V: int, n_docs: int, needs: Needs):
    """A cached entry must have this tokenizer's shape, this shard's documents, and sane totals."""

    def check(arrays: dict, meta: dict) -> bool:
        if arrays["counts"].shape != (V,) or not all(isinstance(meta.get(k), int) and meta[k] >= 0 for k in TOTALS):
            return False
        if meta["n_docs"] != n_docs or int(arrays["counts"].sum()) > meta["n_tokens"]:
            return False
        if needs.lines:
            cols = [arrays.get(k) for k in LINES]
            if any(c is None or c.shape != (n_docs,) for c in cols) or int(arrays["tokens"].sum()) != meta["n_tokens"]:
                return False
        return True

    return check


def _supersets(needs: Needs) -> list[Needs]:
    """``needs`` first, then every richer collection (a cached entry with more statistics serves too)."""
    out = [needs]
    for w in (needs.words, True):
        for c in (needs.chars, True):
            for ln in (needs.lines, True):
                n = Needs(w, c, ln)
                if n not in out:
                    out.append(n)
    return out


def cached_shard_stats(tok, shard: list[tuple[str, str]], needs: Needs, *, fingerprint: str, use_cache: bool,
                       masks=None, digest: str | None = None, n_bytes: int | None = None) -> tuple[dict, dict, bool]:
    """:func:`shard_stats` from the verified cache when this shard was seen (arrays, totals, hit).
    ``digest``: the shard's content hash when the caller has it."""
    if use_cache and digest is None:
        h = ContentHash()
        h.update_many(shard)
        digest = h.hexdigest()
    key = f"stats v{STATS_VERSION} {needs.tag()} {fingerprint} {digest}"
    if use_cache:
        for have in _supersets(needs):
            got = STATS.get(f"stats v{STATS_VERSION} {have.tag()} {fingerprint} {digest}",
                            _check(len(masks[0]) if masks is not None else tok.vocab_size, len(shard), have))
            if got is not None:
                arrays, meta = got
                keep = ("counts", *LINES) if needs.lines else ("counts",)
                return ({k: (arrays[k].astype(np.int64) if k in ("counts", "tokens", "unk") else arrays[k]) for k in keep},
                        meta, True)
    arrays, totals = shard_stats(tok, shard, needs, masks, n_bytes)
    if use_cache:
        best_effort("encoding statistics", STATS.put, key, arrays, totals)
    return arrays, totals, False


def count_stream(tok, stream: CorpusStream, *, max_bytes: int | None = None, use_cache: bool = True,
                 needs: Needs = Needs(), shard_bytes: int = SHARD_BYTES, advance=None,
                 part: tuple[int, int, int] = (0, 1, 0), content_hash: bool = True, finish: bool = True,
                 masks=None, fingerprint: str | None = None) -> StreamStats:
    """Statistics of ``stream`` encoded by ``tok`` (see the module docstring).

    ``part = (k, n, offset)`` encodes only the shards whose number plus ``offset`` is ``k`` modulo ``n`` (one
    Ray worker's share; ``n_shards`` tells how many the stream had);
    ``content_hash`` computes the whole stream's sha256 on the way (for the provenance); ``finish=False``
    leaves the per-shard segment columns apart (:meth:`StreamStats.close` joins them). ``masks``
    (:func:`token_masks`) and ``fingerprint``: the tokenizer's, when the caller has them already.
    """
    masks = masks if masks is not None else token_masks(tok)
    V = len(masks[0])
    whole = ContentHash() if content_hash else None
    st = StreamStats(np.zeros(V, np.int64))
    fingerprint = (fingerprint if fingerprint is not None else tok.fingerprint()) if use_cache else ""
    k, n, offset = part

    def read():
        mine_only = None if whole is not None else (lambda i: (i + offset) % n == k)  # the hash needs every record
        for i, (shard, size) in enumerate(shards(stream, max_bytes, shard_bytes, keep=mine_only)):
            mine = (i + offset) % n == k
            digest = None
            if whole is not None or (mine and use_cache):
                # one encoding of the records serves the stream's hash and the shard's cache key
                blob = (whole or ContentHash()).update_many(shard)
                digest = hashlib.sha256(blob).hexdigest() if mine and use_cache else None
                del blob
            yield i, (shard if mine else None), size, digest

    for i, shard, size, digest in _prefetched(read(), more=lambda first: first[2] >= shard_bytes):
        st.n_shards += 1
        if shard is None:
            continue
        arrays, totals, hit = cached_shard_stats(tok, shard, needs, fingerprint=fingerprint, use_cache=use_cache,
                                                 masks=masks, digest=digest, n_bytes=size)
        st.cache["hits" if hit else "misses"] += 1
        st.add(arrays, totals, i)
        if advance is not None:
            advance(len(shard))
    if finish:
        st.close()
    st.sha256 = whole.hexdigest() if whole is not None else ""
    return st


def premium_from_lines(ref: dict, tgt: dict, drop_identical: bool) -> tuple[int, int, int, int, int, int]:
    """The token premium's join of two languages' segment columns (:data:`LINES`), as
    :func:`tokbench.metrics.premium.align` pairs their segments: every reference segment in order, with the
    LAST target segment of the same id; identical texts dropped when ``drop_identical``.

    Returns (pairs, reference tokens, target tokens, target UNK tokens, identical pairs dropped, target
    segments paired).
    """
    t_keys = tgt["key_hash"]
    # the last occurrence of each target id (align's dict keeps the last)
    rev = t_keys[::-1]
    uniq, first_in_rev = np.unique(rev, return_index=True)
    last = len(t_keys) - 1 - first_in_rev
    r_keys = ref["key_hash"]
    pos = np.searchsorted(uniq, r_keys)
    found = (pos < len(uniq)) & (uniq[np.minimum(pos, max(len(uniq) - 1, 0))] == r_keys) if len(uniq) else np.zeros(len(r_keys), bool)
    r_idx = np.flatnonzero(found)
    t_idx = last[pos[r_idx]]
    identical = 0
    if drop_identical:
        same = ref["text_hash"][r_idx] == tgt["text_hash"][t_idx]
        identical = int(same.sum())
        r_idx, t_idx = r_idx[~same], t_idx[~same]
    return (len(r_idx), int(ref["tokens"][r_idx].sum()), int(tgt["tokens"][t_idx].sum()),
            int(tgt["unk"][t_idx].sum()), identical, len(t_idx))


@dataclass
class StatsJob:
    """One text to encode for one tokenizer: a stream, its byte cap and what to collect."""

    stream: CorpusStream
    cap: int | None
    needs: Needs


class _RayStats:
    """The Ray engine's job (:func:`tokbench.engines.ray_counts.map_shards`): worker ``k`` of ``n`` walks
    every job's stream and encodes the shards whose number, counted across all jobs in order, is ``k``
    modulo ``n`` (many one-shard languages spread over the workers too). Returns one open
    :class:`StreamStats` per job; the tokenizer is loaded once per actor."""

    def __init__(self, tok, jobs: list[StatsJob], use_cache: bool, shard_bytes: int):
        self.tok, self.jobs, self.use_cache, self.shard_bytes = tok, jobs, use_cache, shard_bytes
        self._real = None

    def __call__(self, k: int, n: int) -> list[StreamStats]:
        import os

        if self._real is None:
            # An actor holds one CPU: batch encoders that spread over every core of the node (Rayon in
            # `tokenizers`) would fight the node's other actors; the pool reads this on first use.
            os.environ["RAYON_NUM_THREADS"] = "1"
            self._real = self.tok.real() if hasattr(self.tok, "real") else self.tok  # a cached view: load once
        out, offset = [], 0
        masks = token_masks(self._real)
        fingerprint = self._real.fingerprint() if self.use_cache else ""
        for job in self.jobs:
            # left open: the driver puts the segment columns of all parts in stream order
            st = count_stream(self._real, job.stream, max_bytes=job.cap, use_cache=self.use_cache, needs=job.needs,
                              shard_bytes=self.shard_bytes, part=(k, n, offset), content_hash=False, finish=False,
                              masks=masks, fingerprint=fingerprint)
            offset += st.n_shards
            out.append(st)
        return out


def count_streams_on_ray(tok, jobs: list[StatsJob], *, use_cache: bool = True, address: str | None = None,
                         workers: int | None = None, shard_bytes: int = SHARD_BYTES, advance=None) -> list[StreamStats]:
    """:func:`count_stream` of every job, the shards encoded on Ray actors, summed on the driver.

    The driver reads each stream once more for its content hash (the provenance), in a thread beside the
    actors' work; it holds the sums, never ids or a shard's text.
    """
    import threading

    from tokbench.engines.ray_counts import map_shards

    hashes: list[str] = [""] * len(jobs)
    errors: list[BaseException] = []

    def hash_all():
        try:
            for j, job in enumerate(jobs):
                h = ContentHash()
                for batch in job.stream.batches(job.cap):
                    h.update_many(batch)
                hashes[j] = h.hexdigest()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the driver's thread
            errors.append(exc)

    hasher = threading.Thread(target=hash_all, daemon=True)
    hasher.start()
    V = tok.vocab_size
    out = [StreamStats(np.zeros(V, np.int64)) for _ in jobs]
    for parts in map_shards(_RayStats(tok, jobs, use_cache, shard_bytes), address=address, workers=workers):
        for st, part in zip(out, parts):
            st.merge(part)
    hasher.join()
    if errors:
        raise errors[0]
    for st, h in zip(out, hashes):
        st.close()
        st.sha256 = h
        if advance is not None:
            advance(1)
    return out
