"""Byte-level BPE from counted pre-tokens: the stock trainer's result without handing it the text.

Stock `tokenizers` trains only from text, so counts made elsewhere (by many workers, over shards, on a
cluster) cannot reach it. This trainer takes ``{pre-token: count}`` (pre-tokens in the byte-level
alphabet, as the stage-1 pre-tokenizer yields them) and runs tokbench's Numba merge loop
(:func:`tokbench.train.stage2_kernel.continue_bpe`, the one SuperBPE's stage 2 runs) with the stock
trainer's rules:

* ids: the special tokens, then the 256 byte symbols sorted by code point (the stock trainer's sorted
  alphabet), then one id per merge;
* each step merges the pair with the highest count (adjacent positions weighted by word counts), ties to
  the smallest (left id, right id); it stops below ``min_frequency`` or at ``vocab_size`` tokens;
* no caps; a merge whose token already exists is skipped (the stock trainer would record it as a second
  merge for the same token; tests on random corpora check the two agree merge for merge, so either this
  does not arise in byte-level BPE or both skip it).

:func:`count_pretokens` counts a stream of texts a batch at a time (memory: the distinct pre-tokens);
counts from several workers are summed with :func:`merge_counts` before training.
"""

from __future__ import annotations

from collections import Counter
from typing import Iterable, Mapping, Sequence

import numpy as np

from tokbench.errors import ConfigError
from tokbench.train.bpe import N_BYTES, check_vocab_size
from tokbench.train.pretokenizers import stage1_pretokenizer


def count_pretokens(texts: Iterable[str], pretokenizer: str = "gpt2", batch: int = 1024,
                    counts: Counter | None = None, advance=None) -> Counter:
    """Stage-1 pre-tokens (byte-level alphabet) of ``texts`` with their counts.

    Uses the very pre-tokenizer the trained tokenizer gets, so the counts are the ones the stock trainer
    would make from the same text.
    """
    from tokenizers import Tokenizer, models

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = stage1_pretokenizer(pretokenizer)
    pre = tok.pre_tokenizer
    counts = Counter() if counts is None else counts
    buf: list[str] = []

    def flush():
        for seg, n in Counter(buf).items():
            for piece, _ in pre.pre_tokenize_str(seg):
                counts[piece] += n
        if advance is not None:
            advance(len(buf))
        buf.clear()

    for t in texts:
        buf.append(t)
        if len(buf) >= batch:
            flush()
    flush()
    return counts


def merge_counts(parts: Iterable[Mapping[str, int]]) -> Counter:
    """The sum of several workers' counts."""
    total: Counter = Counter()
    for p in parts:
        total.update(p)
    return total


def alphabet_order() -> list[str]:
    """The 256 byte-level symbols in the stock trainer's id order (sorted by code point)."""
    from tokenizers import pre_tokenizers

    return sorted(pre_tokenizers.ByteLevel.alphabet(), key=ord)


def train_bpe_from_counts(counts: Mapping[str, int], vocab_size: int, *, pretokenizer: str = "gpt2",
                          special_tokens: Sequence[str] = (), min_frequency: int = 2, advance=None):
    """A byte-level BPE ``tokenizers.Tokenizer`` trained on counted pre-tokens (see module doc)."""
    from tokenizers import Tokenizer, decoders, models

    from tokbench.tokenizer.bytelevel import symbols_to_bytes
    from tokbench.train.stage2_kernel import continue_bpe, flatten_words

    check_vocab_size(vocab_size, len(special_tokens), N_BYTES, "byte-level BPE")
    alphabet = alphabet_order()
    specials = list(dict.fromkeys(special_tokens))
    strings = specials + [c for c in alphabet if c not in specials]
    ids = {s: i for i, s in enumerate(strings)}
    vocab_bytes: list[bytes | None] = [None] * len(specials) + [symbols_to_bytes(c) for c in strings[len(specials):]]
    words = []
    for w, n in counts.items():
        if n <= 0 or not w:
            continue
        if n >= 2**31:
            raise ConfigError("a pre-token occurs more than 2**31 times; BPE from counts holds counts as int32")
        try:
            words.append(([ids[c] for c in w], int(n)))
        except KeyError:
            raise ConfigError(f"pre-token {w!r} is not in the byte-level alphabet; count with count_pretokens") from None
    words.sort(key=lambda wn: wn[0])  # a fixed layout, whatever order the counts came in
    sym, wcnt = flatten_words(words)
    merges, new_bytes = continue_bpe(sym, wcnt, vocab_bytes, np.zeros((0, 3), np.int64), vocab_size,
                                     min_frequency=min_frequency, caps=False, advance=advance)
    from tokbench.tokenizer.bytelevel import bytes_to_symbols

    for (a, b, new), tb in zip(merges.tolist(), new_bytes):
        s = bytes_to_symbols(tb)
        strings.append(s)
    merge_pairs = [(strings[a], strings[b]) for a, b, _ in merges.tolist()]
    vocab = {s: i for i, s in enumerate(strings)}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merge_pairs))
    tok.pre_tokenizer = stage1_pretokenizer(pretokenizer)
    tok.decoder = decoders.ByteLevel()
    if specials:
        tok.add_special_tokens(specials)
    return tok
