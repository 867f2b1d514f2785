"""The one source of truth for transplant defaults (the CLI reads them from here)."""

from __future__ import annotations

from dataclasses import dataclass

#: Estimators for tokens the base model has no row for.
METHODS = ("omp", "heuristic", "fvt", "mean", "zero", "random")
#: Auxiliary string-embedding spaces for omp/heuristic when no donor model is given.
AUX_SPACES = ("self", "minilm")
#: Default ridge of OMP's coefficient fit in the MiniLM space (measured: plain least squares gives ~1e10
#: bits per byte, 0.01 keeps every coefficient below 1 in magnitude; see reports/transplant/README.md).
MINILM_RIDGE = 0.01
#: Default rank decay of OMP's estimated rows (``TransplantConfig.rank_decay``), chosen on the dev splits for
#: one model (SmolLM2-135M onto Llama 3 and Qwen3): how, and the figures, in reports/transplant/README.md.
OMP_RANK_DECAY = 0.02
#: Ids below this keep their estimated rows whole (the most frequent merges of a BPE vocabulary).
RANK_ORIGIN = 100
#: No row is shrunk below this fraction, whatever the decay and vocabulary size.
MIN_ROW_SCALE = 0.05
#: Output calibrations of estimated rows (``TransplantConfig.calibrate``).
CALIBRATIONS = ("none", "prior")
#: Default ``delta`` of ``calibrate='prior'`` (logit units per extra piece), chosen on the en *dev* split.
PRIOR_DELTA = 0.5
#: English text whose mean final hidden state defines the prior direction (never the test split).
PRIOR_TEXT = "libreoffice:en-us@train"
PRIOR_BYTES = 20_000


@dataclass(frozen=True)
class TransplantConfig:
    """Parameters of one transplant. Every default below was measured; the measurements, and which of
    them are calibrations for one model, are in reports/transplant/README.md ("Defaults").

    method:  one of :data:`METHODS`.
    k:       OMP sparsity (anchors per new token); tokensurgeon's default is 64.
    aux:     'self' (mean of the base model's rows of the string's old-tokenizer pieces) or 'minilm'
             (all-MiniLM-L6-v2 sentence embedding of the token string); ignored with a donor. 'self' measured
             better for omp; the heuristic is better with 'minilm'.
    ridge:   OMP only: Tikhonov weight, relative to the chosen anchors' mean squared norm, of the final
             coefficient fit (the selection stays plain OMP; see ``omp.py``). None = 0 (tokensurgeon's plain
             least squares) in the 'self' and donor spaces, :data:`MINILM_RIDGE` in the 'minilm' space, where
             near-duplicate anchors make the plain fit blow up. A deviation from the published method.
    scale:   every estimated new row is multiplied by this (a global norm factor, not in the papers).
             None = 1.0. Combined with ``rank_decay`` (below) as ``scale * rank factor``.
    rank_decay: a shrink of estimated rows that grows with the new token's id (not in the papers; a
             documented deviation): token id r keeps ``min(1, 1 - rank_decay * ln(r / RANK_ORIGIN))`` of its
             row (never less than MIN_ROW_SCALE). None = :data:`OMP_RANK_DECAY` for ``omp`` in an auxiliary
             space, 0 (the published estimates) for every other method and for ``omp`` with a donor.
             ``rank_decay=0, scale=1`` is plain OMP. Why: in a tied model a new row is also an output row, and
             rows averaged from their pieces leak probability to rare new tokens; the id of a BPE token is a
             free frequency rank, so rare ones are shrunk most.
    max_candidates: OMP pre-screens each target's anchors to the ``max_candidates`` most correlated ones
             when the exact search would be too large for a CPU (0 = always exact). See ``omp.py``.
    tau, w_global, top_k: TokenAdapt's temperature, global-estimate weight and global neighbours.
    threshold: global neighbours count only with cosine similarity >= this (TokenAdapt's default 0.6).
    calibrate: 'none' (default) or 'prior' (not in the papers, a deviation; needs torch + transformers):
             each new row that produces logits is moved along hbar, the base model's mean final hidden state
             over :data:`PRIOR_TEXT`, so that hbar.e_new = min_j hbar.e_(piece j) - delta * (pieces - 1): a
             merged token is rarer than its rarest piece.
    delta:   see ``calibrate`` (:data:`PRIOR_DELTA`).
    seed:    for 'random' (and nothing else).
    """

    method: str = "omp"
    k: int = 64
    aux: str = "self"
    ridge: float | None = None
    scale: float | None = None
    rank_decay: float | None = None
    max_candidates: int = 256
    tau: float = 0.3
    w_global: float = 0.3
    top_k: int = 3
    threshold: float = 0.6
    calibrate: str = "none"
    delta: float = PRIOR_DELTA
    seed: int = 0

    def ridge_for(self, space: str) -> float:
        """The ridge used in ``space`` ('self', 'minilm' or 'donor')."""
        if self.ridge is not None:
            return float(self.ridge)
        return MINILM_RIDGE if space == "minilm" else 0.0

    def row_scale(self) -> float:
        """The global factor applied to every estimated new row (on top of the rank factor)."""
        return 1.0 if self.scale is None else float(self.scale)

    def decay_for(self, space: str | None = None) -> float:
        """The rank decay used in ``space`` ('self', 'minilm', 'donor' or None for the baselines)."""
        if self.rank_decay is not None:
            return float(self.rank_decay)
        return OMP_RANK_DECAY if self.method == "omp" and space != "donor" else 0.0


@dataclass(frozen=True)
class BitsPerByteConfig:
    """How a model is measured in bits per byte (``transplant --eval``, ``transplant eval``, the demo).

    max_bytes: text read from each source of the evaluation corpus.
    context:   window length in tokens, BOS included.
    """

    max_bytes: int = 50_000
    context: int = 1024
