"""Baselines and the error measure of the paper's controlled experiments."""

from __future__ import annotations

from typing import Sequence

import numpy as np


def token_classification(token_counts: Sequence[np.ndarray], vocab: np.ndarray) -> np.ndarray:
    """The TC baseline: each vocabulary token goes to the category where it is most frequent (relative to
    that category's token total); a category's share is the share of tokens it got.

    token_counts: n arrays (S,) int64, occurrences of each symbol in each category's encoded sample.
    vocab:        (V,) int64 symbol ids that count as the vocabulary (tokbench uses the merge results:
                  the base alphabet says nothing about the mixture). Tokens no sample holds are skipped.
    Returns (n,) float64 proportions.

    >>> tc = token_classification([np.array([5, 0, 1]), np.array([1, 4, 0])], np.array([0, 1, 2]))
    >>> tc.round(3).tolist()
    [0.667, 0.333]
    """
    n = len(token_counts)
    freq = np.stack([np.asarray(c, dtype=np.float64)[vocab] / max(float(np.sum(c)), 1.0) for c in token_counts])
    seen = freq.max(axis=0) > 0
    winners = np.argmax(freq[:, seen], axis=0)
    counts = np.bincount(winners, minlength=n).astype(np.float64)
    return counts / counts.sum() if counts.sum() else np.full(n, 1.0 / n)


def random_guess(n: int, rng: np.random.Generator) -> np.ndarray:
    """A guess drawn uniformly from the simplex (the paper's random baseline)."""
    return rng.dirichlet(np.ones(n))


def log10_mse(estimate: Sequence[float], truth: Sequence[float]) -> float:
    """log10 of the mean squared error between two proportion vectors.

    >>> round(log10_mse([0.5, 0.5], [0.6, 0.4]), 3)
    -2.0
    """
    e = np.asarray(estimate, dtype=np.float64) - np.asarray(truth, dtype=np.float64)
    return float(np.log10(max(np.mean(e * e), 1e-30)))
