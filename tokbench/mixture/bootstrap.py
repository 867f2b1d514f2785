"""Error bars for inferred shares: the bootstrap over documents.

Each category's sample is a set of documents. A replicate draws, for every category, as many documents as it
has, with replacement (seeded), recounts the pairs along the merge list from the resampled pre-token counts
(each document is pre-tokenized once; a replicate only re-weights its pre-tokens), and solves the LP again,
starting from the rows of the full sample's solve. The spread of a share over the replicates measures how
much it depends on which text the sample happens to hold; the interval printed beside a share is the point
estimate +- z * the replicates' standard deviation (z = 1.645 for 90%), cut to [0, 1]. With few replicates
a normal interval is steadier than percentiles of a handful of values.

What it does not measure: text of a kind no category covers, and the gap of an LP stopped before its
optimum (a replicate's LP has its own, shorter time limit; an unconverged replicate adds solver noise to
the spread, which widens the interval).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from tokbench.mixture.words import SymbolTable, Words, count_pretokens, initial_symbol_ids

#: z of a two-sided normal interval per level.
_Z = {0.8: 1.2816, 0.9: 1.6449, 0.95: 1.9600, 0.99: 2.5758}


@dataclass
class DocWords:
    """A category's distinct pre-tokens (``words``, counts over all its documents) and how many times each
    document holds each of them (CSR: document d holds ``doc_word[doc_off[d]:doc_off[d+1]]`` that often)."""

    words: Words
    doc_off: np.ndarray
    doc_word: np.ndarray
    doc_count: np.ndarray
    doc_bytes: np.ndarray

    @property
    def n_docs(self) -> int:
        return len(self.doc_bytes)

    def resample(self, rng: np.random.Generator) -> Words:
        """The pre-token counts of one bootstrap draw of the documents (words it lost are dropped)."""
        k = rng.multinomial(self.n_docs, np.full(self.n_docs, 1.0 / self.n_docs)) if self.n_docs else np.zeros(0, np.int64)
        per_entry = np.repeat(k, np.diff(self.doc_off))
        counts = np.bincount(self.doc_word, weights=self.doc_count * per_entry, minlength=self.words.n_words)
        counts = np.rint(counts).astype(np.int64)
        return subset_words(self.words, counts, int(k @ self.doc_bytes))


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
    return Words(words.symbols[idx], offsets, counts[keep].astype(np.int64), n_bytes)


def build_doc_words(tok, texts: Sequence[str], table: SymbolTable, *, cut_markers: bool = False,
                    advance: Callable[[int], None] | None = None) -> DocWords:
    """Like :func:`~tokbench.mixture.words.build_words`, keeping each document's pre-token counts."""
    index: dict[str, int] = {}
    doc_off, doc_word, doc_count, doc_bytes = [0], [], [], []
    total: Counter = Counter()
    for text in texts:
        c = count_pretokens(tok, [text], cut_markers=cut_markers)
        for piece, k in c.items():
            doc_word.append(index.setdefault(piece, len(index)))
            doc_count.append(k)
        total.update(c)
        doc_off.append(len(doc_word))
        doc_bytes.append(len(text.encode("utf-8")))
        if advance is not None:
            advance(1)
    per_char = initial_symbol_ids(tok, {ch for piece in index for ch in piece}, table)
    pieces = list(index)
    ids = [[s for ch in piece for s in per_char[ch]] for piece in pieces]
    # A piece with no starting symbol (none is known to the model) is kept with an empty symbol list: it has
    # no pairs, like build_words dropping it.
    words = Words.from_lists(ids, [total[p] for p in pieces], int(sum(doc_bytes)))
    return DocWords(words, np.array(doc_off, dtype=np.int64), np.array(doc_word, dtype=np.int64),
                    np.array(doc_count, dtype=np.int64), np.array(doc_bytes, dtype=np.int64))


def normal_interval(point: np.ndarray, replicates: np.ndarray, level: float = 0.9) -> np.ndarray:
    """(n, 2) [low, high]: point +- z * std over the replicates (axis 0), cut to [0, 1].

    >>> normal_interval(np.array([0.5, 0.5]), np.array([[0.4, 0.6], [0.6, 0.4]])).round(3).tolist()
    [[0.267, 0.733], [0.267, 0.733]]
    """
    if level not in _Z:
        raise ValueError(f"level must be one of {sorted(_Z)}")
    sd = replicates.std(axis=0, ddof=1) if len(replicates) > 1 else np.zeros(len(point))
    return np.clip(np.stack([point - _Z[level] * sd, point + _Z[level] * sd], axis=1), 0.0, 1.0)


def run_bootstrap(doc_words: Sequence[DocWords], merges: np.ndarray, n_symbols: int, index, skip: int, seed_rows,
                  replicates: int, seed: int, time_limit: float | None, solver_kwargs: dict,
                  advance: Callable[[int], None] | None = None) -> tuple[np.ndarray, dict]:
    """(replicates, n) byte proportions of ``replicates`` bootstrap draws, and what it took."""
    from tokbench.mixture.lp import Problem, byte_proportions, solve_lazy
    from tokbench.mixture.paircount import count_pairs

    rng = np.random.default_rng([seed, 0xB007])
    out = np.zeros((replicates, len(doc_words)))
    converged, started = 0, time.perf_counter()
    for r in range(replicates):
        words = [dw.resample(rng) for dw in doc_words]
        trs = [count_pairs(w, merges, index, n_symbols) for w in words]
        problem = Problem.build(trs, merges, index)
        problem.merge_pid[:skip] = -1
        lp = solve_lazy(problem, time_limit=time_limit, seed_rows=seed_rows, certified=False, **solver_kwargs)
        converged += int(lp.converged)
        out[r] = byte_proportions(lp.alpha, [w.n_bytes for w in words], [t.total_pairs for t in trs])
        if advance is not None:
            advance(1)
    return out, {"replicates": replicates, "seed": seed, "converged_uncertified": converged,
                 "seconds": round(time.perf_counter() - started, 3)}
