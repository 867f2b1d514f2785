"""Move a model onto a new tokenizer without training: checkpoint I/O, vocabulary alignment, estimators
(OMP, TokenAdapt heuristic, baselines) and bits-per-byte evaluation.

Layers: ``omp``/``estimators``/``vocab`` are pure numpy (+Numba); ``checkpoint``/``gguf_io`` read and write
files; ``run`` ties them together; ``evaluate`` needs torch + transformers (the ``model`` extra).
"""

from tokbench.transplant.config import METHODS, TransplantConfig

__all__ = ["METHODS", "TransplantConfig"]
