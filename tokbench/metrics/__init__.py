"""Tokenizer metrics from the literature, computed by Numba kernels over flat token arrays.

Families (one module each): :mod:`compression` (bytes/chars per token, Rényi efficiency),
:mod:`fertility` (tokens per word, continued words), :mod:`premium` (token premium on parallel text),
:mod:`purity` (%TR / %Pure with the lexicon oracles of :mod:`lexicon`), :mod:`coverage` (UNK, byte
fallback, vocabulary utilisation and scripts). :mod:`kernels` holds the Numba code and
:mod:`reference` its slow twins; :func:`evaluate` runs everything over tokenizers and corpora.
"""

from tokbench.metrics.evaluation import METRICS, EvalConfig, EvalResults, evaluate, parse_metrics

__all__ = ["METRICS", "EvalConfig", "EvalResults", "evaluate", "parse_metrics"]
