"""Fertility and proportion of continued words (Rust et al. 2021).

fertility = tokens per word (a word split into n tokens contributes n, at least 1); PCW = share of words
split into two or more tokens. Words and the token-to-word alignment are defined in
:mod:`tokbench.metrics.text` (runs of letters/marks/digits; alignment by UTF-8 byte-span overlap).
"""

from __future__ import annotations

import numpy as np

from tokbench.metrics import kernels
from tokbench.metrics.text import TextArrays, is_spaced_language
from tokbench.tokenizer.base import Encoded

NOT_APPLICABLE = "n/a: written without spaces"


def word_token_counts(enc: Encoded, text: TextArrays) -> np.ndarray:
    """(W,) int64 tokens per word, each at least 1."""
    if enc.starts is None:
        raise ValueError("fertility needs token byte spans: encode with spans=True")
    per_word = kernels.tokens_per_word(enc.starts, enc.ends, enc.doc_offsets, text.word_starts, text.word_ends,
                                       text.word_doc_offsets)
    return np.maximum(per_word, 1)


def fertility_row(enc: Encoded, text: TextArrays, lang: str | None) -> dict:
    """fertility, PCW and word count of one encoded text; not applicable for unspaced scripts.

    Tokens per character is always given (it needs no word definition).
    """
    if not is_spaced_language(lang) or text.n_words == 0:
        return fertility_totals_row(text.n_words, 0, 0, enc.n_tokens, text.n_chars, lang)
    per_word = word_token_counts(enc, text)
    return fertility_totals_row(text.n_words, int(per_word.sum()), int((per_word >= 2).sum()), enc.n_tokens,
                                text.n_chars, lang)


def fertility_totals_row(n_words: int, word_tokens: int, continued_words: int, n_tokens: int, n_chars: int,
                         lang: str | None) -> dict:
    """The same row from sums (what the streamed evaluation keeps): tokens over words, each word counted at
    least once, and words split into 2+ tokens. fertility = word_tokens / n_words (a mean of integers:
    exactly what numpy's mean of the per-word counts gives)."""
    row = {
        "words": int(n_words),
        "tokens_per_char": n_tokens / n_chars if n_chars else float("nan"),
    }
    if not is_spaced_language(lang):
        return {**row, "word_unit": NOT_APPLICABLE, "words": None, "fertility": None, "pcw": None}
    if n_words == 0:
        return {**row, "word_unit": "no words", "fertility": None, "pcw": None}
    return {
        **row,
        "word_unit": "letter/digit run",
        "fertility": word_tokens / n_words,
        "pcw": continued_words / n_words,
    }
