"""Compression: bytes and characters per token, and Rényi efficiency of the unigram token distribution.

Rényi efficiency (Zouhar et al. 2023): H_a(p) / log2(|V|) with H_a(p) = 1/(1-a) log2(sum_i p_i^a), p the
unigram distribution of tokens in the encoded text. tokbench uses a = 2.5 (the paper's value) and
|V| = the tokenizer's vocabulary size (the `tokenization-scorer` package defaults to a = 3 and to the
number of observed types; given ``power=2.5, vocab=|V|`` it returns the same number).
"""

from __future__ import annotations

import numpy as np

from tokbench.metrics.config import RENYI_POWER


def renyi_efficiency(counts: np.ndarray, vocab_size: int, power: float = RENYI_POWER) -> float:
    """Rényi efficiency of token ``counts`` (V,) (any int array of occurrences) for a vocabulary of size V.

    >>> round(renyi_efficiency(np.array([1, 1, 1, 1]), 4), 6)   # uniform over the whole vocabulary
    1.0
    >>> round(renyi_efficiency(np.array([2, 1, 1, 0]), 4, power=2.0), 4)   # -log2(3/8) / 2
    0.7075
    """
    total = counts.sum()
    if total == 0 or vocab_size < 2:
        return float("nan")
    p = counts[counts > 0] / total
    if power == 1.0:
        h = -float(np.sum(p * np.log2(p)))
    else:
        h = float(np.log2(np.sum(p**power)) / (1.0 - power))
    return h / float(np.log2(vocab_size))


def compression_row(n_bytes: int, n_chars: int, n_tokens: int, counts: np.ndarray, vocab_size: int,
                    power: float = RENYI_POWER) -> dict:
    """The compression figures of one encoded text."""
    return {
        "bytes": int(n_bytes),
        "chars": int(n_chars),
        "tokens": int(n_tokens),
        "bytes_per_token": n_bytes / n_tokens if n_tokens else float("nan"),
        "chars_per_token": n_chars / n_tokens if n_tokens else float("nan"),
        "renyi_efficiency": renyi_efficiency(counts, vocab_size, power),
    }
