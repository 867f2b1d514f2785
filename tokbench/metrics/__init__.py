"""Tokenizer metrics from the literature, computed by Numba kernels over flat token arrays.

Families (one module each): :mod:`compression` (bytes/chars per token, Rényi efficiency),
:mod:`fertility` (tokens per word, continued words), :mod:`premium` (token premium on parallel text),
:mod:`purity` (%TR / %Pure with the lexicon oracles of :mod:`lexicon`), :mod:`coverage` (UNK, byte
fallback, vocabulary utilisation and scripts). :mod:`kernels` holds the Numba code and
:mod:`reference` its slow twins; :func:`evaluate` runs everything over tokenizers and corpora.
"""

from tokbench.lazy import lazy_attributes
from tokbench.metrics.config import METRICS, EvalConfig, parse_metrics

# The evaluation (and its Numba kernels) loads on first use: the CLI reads the config without it.
__getattr__, __dir__ = lazy_attributes(__name__, {"EvalResults": "evaluation", "evaluate": "evaluation"})

__all__ = ["METRICS", "EvalConfig", "EvalResults", "evaluate", "parse_metrics"]
