"""Turn a tokenizer's merge list and a category's text into integer arrays for pair counting.

A category's sample is pre-tokenized exactly as the tokenizer does it (``model_pretokenize``), the
pre-tokens are deduplicated with their counts, and each distinct pre-token becomes the model's starting
symbols (``model_initial_symbols``) written as integer ids of one :class:`SymbolTable` shared by every
category, so pair ids mean the same thing across categories.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

import numpy as np

from tokbench.errors import ConfigError, TokenizerError


@dataclass
class SymbolTable:
    """Symbols (model-alphabet strings) <-> ids, and the merges as id triples.

    merges: (T, 3) int32 rows ``(left, right, result)``: merge t turns the pair (left, right) into result.

    >>> t = SymbolTable.from_merges([("a", "b"), ("ab", "c")])
    >>> t.merges.tolist(), t.strings
    ([[0, 1, 2], [2, 3, 4]], ['a', 'b', 'ab', 'c', 'abc'])
    """

    strings: list[str] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)
    merges: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), dtype=np.int32))

    def id(self, s: str) -> int:
        i = self.index.get(s)
        if i is None:
            i = self.index[s] = len(self.strings)
            self.strings.append(s)
        return i

    @staticmethod
    def from_merges(merges: Sequence[tuple[str, str]]) -> "SymbolTable":
        table = SymbolTable()
        rows = np.empty((len(merges), 3), dtype=np.int32)
        for t, (a, b) in enumerate(merges):
            rows[t] = (table.id(a), table.id(b), table.id(a + b))
        table.merges = rows
        return table

    def __len__(self) -> int:
        return len(self.strings)


@dataclass
class Words:
    """A category's sample as distinct pre-tokens with counts.

    symbols: (S,) int32 starting symbols of every distinct pre-token, concatenated.
    offsets: (W+1,) int64, pre-token w owns ``symbols[offsets[w]:offsets[w+1]]``.
    counts:  (W,) int64 occurrences of each pre-token in the sample.
    n_bytes: UTF-8 bytes of the sample (for converting proportions to bytes).
    """

    symbols: np.ndarray
    offsets: np.ndarray
    counts: np.ndarray
    n_bytes: int

    @property
    def n_words(self) -> int:
        return len(self.counts)

    @staticmethod
    def from_lists(words: Sequence[Sequence[int]], counts: Sequence[int], n_bytes: int = 0) -> "Words":
        offsets = np.zeros(len(words) + 1, dtype=np.int64)
        np.cumsum([len(w) for w in words], out=offsets[1:])
        symbols = np.fromiter((s for w in words for s in w), dtype=np.int32, count=int(offsets[-1]))
        return Words(symbols, offsets, np.asarray(counts, dtype=np.int64), n_bytes)


def merge_list(tok, n_merges: int | None) -> list[tuple[str, str]]:
    """The first ``n_merges`` merges of ``tok`` (all when None), or a clear error when it has none."""
    if getattr(tok, "model_kind", None) != "bpe":
        raise TokenizerError(
            f"{tok.name} is a {tok.model_kind or 'non-BPE'} tokenizer; data-mixture inference needs a BPE tokenizer with an ordered merge list"
        )
    merges = tok.model_merges()
    if not merges:
        raise TokenizerError(f"{tok.name} has no merges: data-mixture inference needs a BPE tokenizer with an ordered merge list")
    if n_merges is not None:
        if n_merges < 1:
            raise ConfigError(f"--merges must be at least 1 (got {n_merges})")
        if n_merges > len(merges):
            raise ConfigError(f"--merges {n_merges:,} is beyond the merge list of {tok.name}, which has {len(merges):,} merges; pass --merges {len(merges)} or fewer")
        merges = merges[:n_merges]
    return list(merges)


def boundary_safe_split(merges: Sequence[tuple[str, str]], marker: str = "▁") -> bool:
    """True when no merge result has ``marker`` after another character, so a text may be cut before each
    marker that follows a non-marker without changing what the merges do.

    SentencePiece-style tokenizers in HF format often have no pre-tokenizer (the whole text is one
    'word'); cutting at word starts makes the pre-tokens short and deduplicable, and is exact under this
    condition because no merge can produce a token that spans such a cut.

    >>> boundary_safe_split([("▁", "a"), ("▁▁", "▁")]), boundary_safe_split([("a", "▁")])
    (True, False)
    """
    for a, b in merges:
        s = a + b
        stripped = s.lstrip(marker)
        if marker in stripped:
            return False
    return True


_WORD_START = re.compile("(?<=[^▁])(?=▁)")


def initial_symbol_ids(tok, chars, table: SymbolTable) -> dict[str, list[int]]:
    """character -> ids of its starting symbols (itself, or its byte pieces when not in the vocabulary).

    Every adapter maps a pre-token to starting symbols character by character, so one call on all the
    distinct characters (some adapters copy the whole vocabulary per call) is cut back into characters:
    a character gives either itself or one piece per UTF-8 byte.
    """
    chars = sorted(chars)
    out_syms = tok.model_initial_symbols("".join(chars))
    result, pos = {}, 0
    for ch in chars:
        n = 1 if pos < len(out_syms) and out_syms[pos] == ch else len(ch.encode("utf-8"))
        result[ch] = [table.id(s) for s in out_syms[pos : pos + n]]
        pos += n
    if pos != len(out_syms):  # an adapter that does not work character by character: ask per character
        result = {ch: [table.id(s) for s in tok.model_initial_symbols(ch)] for ch in chars}
    return result


def count_pretokens(tok, texts: Iterable[str], *, cut_markers: bool = False,
                    advance: Callable[[int], None] | None = None) -> Counter:
    """Distinct pre-tokens of ``texts`` (in the model alphabet) with their counts."""
    counter: Counter = Counter()
    for text in texts:
        pieces = tok.model_pretokenize(text)
        if cut_markers:
            pieces = [p for piece in pieces for p in _WORD_START.split(piece)]
        counter.update(pieces)
        if advance is not None:
            advance(1)
    return counter


def build_words(tok, texts: Sequence[str], table: SymbolTable, *, cut_markers: bool = False,
                advance: Callable[[int], None] | None = None) -> Words:
    """One category's sample as :class:`Words` over ``table`` (new starting symbols are added to it)."""
    counter = count_pretokens(tok, texts, cut_markers=cut_markers, advance=advance)
    n_bytes = sum(len(t.encode("utf-8")) for t in texts)
    per_char = initial_symbol_ids(tok, {ch for piece in counter for ch in piece}, table)
    words, counts = [], []
    for piece, c in counter.items():
        ids = [s for ch in piece for s in per_char[ch]]
        if ids:
            words.append(ids)
            counts.append(c)
    return Words.from_lists(words, counts, n_bytes)
