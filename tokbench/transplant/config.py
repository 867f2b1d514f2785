"""The one source of truth for transplant defaults (the CLI reads them from here)."""

from __future__ import annotations

from dataclasses import dataclass

#: Estimators for tokens the base model has no row for.
METHODS = ("omp", "heuristic", "fvt", "mean", "zero", "random")
#: Auxiliary string-embedding spaces for omp/heuristic when no donor model is given.
AUX_SPACES = ("self", "minilm")


@dataclass(frozen=True)
class TransplantConfig:
    """Parameters of one transplant.

    method:  one of :data:`METHODS`.
    k:       OMP sparsity (anchors per new token); tokensurgeon's default is 64.
    aux:     'self' (mean of the base model's rows of the string's old-tokenizer pieces) or 'minilm'
             (all-MiniLM-L6-v2 sentence embedding of the token string); ignored with a donor. Default
             'self', chosen by measurement (SmolLM2 -> 32k BPE): OMP in MiniLM space gives huge
             coefficients (short strings' MiniLM vectors are nearly collinear) and a useless model, while
             the heuristic is best with 'minilm' (1.61 vs 1.69 bits/byte on English) — use
             ``--method heuristic --aux minilm`` when torch is installed.
    ridge:   OMP only: Tikhonov weight, relative to the chosen anchors' mean squared norm, of the final
             coefficient fit (the selection stays plain OMP). 0 = tokensurgeon's least squares. A deviation
             from the published method, needed for a usable MiniLM space (see ``omp.py``).
    max_candidates: OMP pre-screens each target's anchors to the ``max_candidates`` most correlated ones
             when the exact search would be too large for a CPU (0 = always exact). See ``omp.py``.
    tau, w_global, top_k: TokenAdapt's temperature, global-estimate weight and global neighbours.
    threshold: global neighbours count only with cosine similarity >= this (TokenAdapt's default 0.6).
    seed:    for 'random' (and nothing else).
    """

    method: str = "omp"
    k: int = 64
    aux: str = "self"  # measured: OMP in MiniLM space blows up; see reports/transplant/README.md
    ridge: float = 0.0
    max_candidates: int = 256
    tau: float = 0.3
    w_global: float = 0.3
    top_k: int = 3
    threshold: float = 0.6
    seed: int = 0
