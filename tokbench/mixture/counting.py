"""Count a category's pre-tokens from its stream, with the bootstrap's replicate counts on the way.

A category is read a block of :data:`BLOCK` documents at a time (a :class:`~tokbench.corpora.CorpusStream`
capped exactly at the sample size); each document is pre-tokenized as the tokenizer does it and its
pre-tokens are added to one count per distinct pre-token. Memory holds the distinct pre-tokens and their
counts, never the text: a 1 GB sample per category (the paper's) costs what its vocabulary of pre-tokens
costs.

The bootstrap over documents needs to know which document held which pre-tokens. Instead of keeping that
(it grows with the text), each replicate is a *Poisson bootstrap*: document d gets an independent weight
w_r(d) ~ Poisson(1) in replicate r, and replicate r's count of pre-token x is sum_d w_r(d) * n_d(x). The
weights are drawn while streaming and the B replicate count vectors are accumulated beside the full
counts, so memory is (B + 1) x distinct pre-tokens. A Poisson(1) weight is the large-sample limit of a
multinomial draw of n documents out of n (the classic bootstrap): each document is present 0, 1, 2 ...
times with the same probabilities, but the replicate's size varies around n instead of being exactly n,
which is why a replicate also carries its own byte count.

The weights of block b of category c are drawn from their own generator (seed, c, b): they do not depend
on how the stream is cut into batches or which worker counts the block, so local and Ray counts agree bit
for bit, and a slow reference can redraw them (:func:`replicate_weights`).

Pre-tokens are numbered in order of first occurrence in the stream (document order, then order within the
document): the same order :func:`~tokbench.mixture.words.build_words` gives, so streamed and in-memory
counting give identical :class:`~tokbench.mixture.words.Words`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

import numpy as np

from tokbench.corpora.stream import ContentHash, CorpusStream, utf8_len
from tokbench.mixture.words import SymbolTable, Words, _WORD_START, initial_symbol_ids

#: Documents per block of bootstrap weights (and the unit a Ray worker counts); the same as the Ray
#: engine's block so its shards are whole blocks.
BLOCK = 1024

#: Salt of the bootstrap generators (kept from the multinomial bootstrap it replaces).
_SALT = 0xB007


def replicate_weights(seed: int, category: int, block: int, n_docs: int, replicates: int) -> np.ndarray:
    """(n_docs, replicates) int64 Poisson(1) weights of the documents of ``block`` of ``category``.

    Drawn row by row from a generator of its own, so the first k rows do not depend on ``n_docs``.

    >>> a = replicate_weights(0, 1, 2, 5, 3); b = replicate_weights(0, 1, 2, 3, 3)
    >>> bool((a[:3] == b).all()), a.shape
    (True, (5, 3))
    """
    rng = np.random.default_rng([seed, _SALT, category, block])
    return rng.poisson(1.0, size=(n_docs, replicates)).astype(np.int64)


@dataclass
class CategoryCounts:
    """One category's distinct pre-tokens with their counts, and the bootstrap's replicate counts.

    words:       the distinct pre-tokens (symbol ids) and their counts over the whole sample.
    rep_counts:  (W, B) int64: column r is replicate r's count of each pre-token (B = 0: no bootstrap).
    rep_bytes:   (B,) int64 bytes of replicate r (sum of w_r(d) * bytes of document d).
    provenance:  spec, label, segments, bytes and sha256 of the text read (as a TextSource's).
    """

    words: Words
    rep_counts: np.ndarray
    rep_bytes: np.ndarray
    n_docs: int
    provenance: dict = field(default_factory=dict)

    @property
    def replicates(self) -> int:
        return int(self.rep_counts.shape[1])

    def resample(self, r: int) -> Words:
        """Replicate ``r``'s pre-token counts as :class:`Words` (pre-tokens it lost are dropped)."""
        return subset_words(self.words, self.rep_counts[:, r], int(self.rep_bytes[r]))


def subset_words(words: Words, counts: np.ndarray, n_bytes: int) -> Words:
    """``words`` with new ``counts``, keeping only the words counted at least once.

    >>> w = Words.from_lists([[1, 2], [3], [4, 5, 6]], [1, 1, 1])
    >>> s = subset_words(w, np.array([2, 0, 5]), 7)
    >>> s.symbols.tolist(), s.offsets.tolist(), s.counts.tolist(), s.n_bytes
    ([1, 2, 4, 5, 6], [0, 2, 5], [2, 5], 7)
    """
    keep = np.flatnonzero(counts > 0)
    lens = np.diff(words.offsets)[keep]
    offsets = np.zeros(len(keep) + 1, dtype=np.int64)
    np.cumsum(lens, out=offsets[1:])
    idx = np.repeat(words.offsets[keep], lens) + (np.arange(int(offsets[-1])) - np.repeat(offsets[:-1], lens))
    return Words(words.symbols[idx], offsets, np.asarray(counts)[keep].astype(np.int64), n_bytes)


class PretokenCounter:
    """Counts of one category's pre-tokens (and B replicate counts), fed a block of documents at a time.

    The partial counts of several workers (each fed other blocks) are combined with :meth:`merge`; pre-tokens
    keep the number of their first occurrence (block, document in the block, position in the document), so
    the merged numbering is the one a single pass gives.
    """

    def __init__(self, pretokenize: Callable[[str], list[str]], replicates: int = 0, seed: int = 0,
                 category: int = 0, cut_markers: bool = False):
        self.pretokenize = pretokenize
        self.cut_markers = cut_markers
        self.replicates = replicates
        self.seed = seed
        self.category = category
        self.index: dict[str, int] = {}
        # Where each pre-token first occurred: its block, and (document in the block << 32) | position
        # among the document's distinct pre-tokens. 16 bytes per pre-token, no Python objects.
        self.first_block = np.zeros(1024, dtype=np.int64)
        self.first_pos = np.zeros(1024, dtype=np.int64)
        self.counts = np.zeros(1024, dtype=np.int64)
        self.rep = np.zeros((1024, replicates), dtype=np.int64)
        self.rep_bytes = np.zeros(replicates, dtype=np.int64)
        self.n_docs = 0
        self.n_bytes = 0

    def _pieces(self, text: str) -> list[str]:
        pieces = self.pretokenize(text)
        if self.cut_markers:
            pieces = [p for piece in pieces for p in _WORD_START.split(piece)]
        return pieces

    @property
    def n_words(self) -> int:
        return len(self.index)

    def _grow(self, n: int) -> None:
        if n > len(self.counts):
            cap = max(n, 2 * len(self.counts))
            for name in ("counts", "first_block", "first_pos", "rep"):
                old = getattr(self, name)
                new = np.zeros((cap, *old.shape[1:]), dtype=np.int64)
                new[: len(old)] = old
                setattr(self, name, new)

    def add_block(self, block: int, texts: Sequence[str]) -> None:
        """Count the documents of block number ``block`` (at most :data:`BLOCK` of them, in stream order)."""
        index = self.index
        n0 = len(index)
        new_pos: list[int] = []
        word_idx: list[int] = []
        word_cnt: list[int] = []
        doc_len: list[int] = []
        doc_bytes = np.empty(len(texts), dtype=np.int64)
        for d, text in enumerate(texts):
            c = Counter(self._pieces(text))
            for pos, (piece, k) in enumerate(c.items()):
                i = index.get(piece)
                if i is None:
                    i = index[piece] = len(index)
                    new_pos.append((d << 32) | pos)
                word_idx.append(i)
                word_cnt.append(k)
            doc_len.append(len(c))
            doc_bytes[d] = utf8_len(text)
        self.n_docs += len(texts)
        self.n_bytes += int(doc_bytes.sum())
        self._grow(len(index))
        self.first_block[n0 : len(index)] = block
        self.first_pos[n0 : len(index)] = new_pos
        weights = None
        if self.replicates:
            weights = replicate_weights(self.seed, self.category, block, len(texts), self.replicates)
            self.rep_bytes += doc_bytes @ weights
        if not word_idx:
            return
        w = np.asarray(word_idx, dtype=np.int64)
        k = np.asarray(word_cnt, dtype=np.int64)
        # A pre-token is listed once per document holding it: the indices within a document are distinct,
        # but not across documents, hence add.at.
        np.add.at(self.counts, w, k)
        if weights is not None:
            per_entry = np.repeat(weights, np.asarray(doc_len, dtype=np.int64), axis=0) * k[:, None]
            order = np.argsort(w, kind="stable")
            ws = w[order]
            starts = np.flatnonzero(np.r_[True, ws[1:] != ws[:-1]])
            self.rep[ws[starts]] += np.add.reduceat(per_entry[order], starts, axis=0)

    def merge(self, other: "PretokenCounter") -> None:
        """Add the counts of ``other`` (another worker's blocks of the same category)."""
        n = other.n_words
        remap = np.empty(n, dtype=np.int64)
        index = self.index
        for piece, j in other.index.items():
            i = index.get(piece)
            if i is None:
                i = index[piece] = len(index)
            remap[j] = i
        self._grow(self.n_words)
        # First occurrence: the earlier of the two (a pre-token new here has count 0 so far: other's).
        ob, op = other.first_block[:n], other.first_pos[:n]
        sb, sp = self.first_block[remap], self.first_pos[remap]
        earlier = (self.counts[remap] == 0) | (ob < sb) | ((ob == sb) & (op < sp))
        self.first_block[remap] = np.where(earlier, ob, sb)
        self.first_pos[remap] = np.where(earlier, op, sp)
        self.counts[remap] += other.counts[:n]  # remap is one-to-one
        if self.replicates:
            self.rep[remap] += other.rep[:n]  # remap is one-to-one
            self.rep_bytes += other.rep_bytes
        self.n_docs += other.n_docs
        self.n_bytes += other.n_bytes

    def finish(self, tok, table: SymbolTable, provenance: dict | None = None) -> CategoryCounts:
        """The counts as :class:`CategoryCounts` over ``table`` (new starting symbols are added to it).

        Pre-tokens are put in order of first occurrence; a pre-token with no starting symbol (none of its
        characters is known to the model) has no pairs and is dropped.
        """
        n = self.n_words
        pieces = list(self.index)  # in index order: pieces[i] has index i
        order = np.lexsort((self.first_pos[:n], self.first_block[:n]))
        per_char = initial_symbol_ids(tok, {ch for piece in pieces for ch in piece}, table)
        words, keep = [], []
        for j in order.tolist():
            syms = [s for ch in pieces[j] for s in per_char[ch]]
            if syms:
                words.append(syms)
                keep.append(j)
        keep_a = np.asarray(keep, dtype=np.int64)
        w = Words.from_lists(words, self.counts[keep_a], self.n_bytes)
        return CategoryCounts(w, self.rep[keep_a].copy(), self.rep_bytes.copy(), self.n_docs, dict(provenance or {}))


    def __getstate__(self) -> dict:
        # Sent between Ray workers and the driver: the counts without the tokenizer or spare capacity.
        state = dict(self.__dict__)
        n = self.n_words
        state["pretokenize"] = None
        for name in ("counts", "first_block", "first_pos", "rep"):
            state[name] = state[name][:n].copy()
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)


def _walk(counter: PretokenCounter, stream: CorpusStream, max_bytes: int | None, k: int = 0, n: int = 1,
          hashed: ContentHash | None = None, advance: Callable[[int], None] | None = None) -> None:
    """Read one pass of ``stream`` (exact cap ``max_bytes``) and count blocks ``k, k + n, ...`` into
    ``counter``, hashing every record into ``hashed``."""
    for b, batch in enumerate(stream.batches(max_bytes, BLOCK)):
        if hashed is not None:
            for rid, text in batch:
                hashed.update(rid, text)
        if b % n == k:
            counter.add_block(b, [t for _, t in batch])
            if advance is not None:
                advance(len(batch))


def _provenance(stream: CorpusStream, counter: PretokenCounter, sha256: str) -> dict:
    return {"spec": stream.spec, "label": stream.label, "segments": counter.n_docs, "bytes": counter.n_bytes,
            "sha256": sha256}


def count_category(tok, stream: CorpusStream, table: SymbolTable, *, max_bytes: int | None = None,
                   replicates: int = 0, seed: int = 0, category: int = 0, cut_markers: bool = False,
                   advance: Callable[[int], None] | None = None) -> CategoryCounts:
    """Stream ``stream`` (at most ``max_bytes`` bytes, exactly) into :class:`CategoryCounts`; the
    provenance (segments, bytes, sha256) is computed on the way. ``category`` is the category's number
    (it seeds its bootstrap weights)."""
    counter = PretokenCounter(tok.model_pretokenize, replicates, seed, category, cut_markers)
    h = ContentHash()
    _walk(counter, stream, max_bytes, hashed=h, advance=advance)
    return counter.finish(tok, table, _provenance(stream, counter, h.hexdigest()))


class CountShard:
    """A Ray job (see :func:`tokbench.engines.ray_counts.map_shards`): shard ``k`` of ``n`` counts blocks
    ``k, k + n, ...`` of every category; shard 0 also hashes every category's whole pass."""

    def __init__(self, tok, sources: Sequence[tuple[CorpusStream, int | None]], replicates: int, seed: int,
                 cut_markers: bool):
        self.tok, self.sources = tok, list(sources)
        self.replicates, self.seed, self.cut_markers = replicates, seed, cut_markers

    def __call__(self, k: int, n: int) -> list[tuple[PretokenCounter, str | None]]:
        out = []
        for c, (stream, max_bytes) in enumerate(self.sources):
            counter = PretokenCounter(self.tok.model_pretokenize, self.replicates, self.seed, c, self.cut_markers)
            h = ContentHash() if k == 0 else None
            _walk(counter, stream, max_bytes, k, n, hashed=h)
            out.append((counter, h.hexdigest() if h is not None else None))
        return out


def count_categories(tok, sources: Sequence[tuple[CorpusStream, int | None]], table: SymbolTable, *,
                     replicates: int = 0, seed: int = 0, cut_markers: bool = False, engine: str = "local",
                     ray_address: str | None = None, workers: int | None = None,
                     advance: Callable[[int], None] | None = None) -> list[CategoryCounts]:
    """:func:`count_category` of every (stream, cap) in ``sources``, category i seeded by i; with
    ``engine='ray'`` the counting runs in Ray actors and the driver sums (the same counts, bit for bit)."""
    if engine == "local":
        return [count_category(tok, stream, table, max_bytes=cap, replicates=replicates, seed=seed, category=i,
                               cut_markers=cut_markers, advance=advance) for i, (stream, cap) in enumerate(sources)]
    from tokbench.engines.ray_counts import map_shards

    shards = map_shards(CountShard(tok, sources, replicates, seed, cut_markers), address=ray_address, workers=workers)
    out = []
    for i, (stream, _) in enumerate(sources):
        total, sha = shards[0][i]
        total.pretokenize = tok.model_pretokenize
        for other, _ in (s[i] for s in shards[1:]):
            total.merge(other)
        out.append(total.finish(tok, table, _provenance(stream, total, sha)))
    return out


__all__ = ["BLOCK", "CategoryCounts", "CountShard", "PretokenCounter", "count_categories", "count_category",
           "replicate_weights", "subset_words"]
