"""Estimate embedding rows for tokens the base model has never seen (pure numpy over flat arrays).

Every estimator takes the base matrix ``E`` (V_old, D) and returns (B, D) rows for the B new tokens.
Pieces (a new token's string re-tokenized by the OLD tokenizer) come as a ragged pair ``flat`` (P,) int64
old ids and ``offsets`` (B+1,) int64, so no Python loop runs per token.

Definitions follow the project's literature notes (METRICS.md, "Embedding transplantation"):

* ``fvt``: mean of the pieces' rows (Fast Vocabulary Transfer);
* ``mean`` / ``zero`` / ``random`` (N(mean, std) per dimension);
* ``heuristic``: TokenAdapt's hybrid — local (pieces weighted by similarity and length) mixed with global
  (top-k most similar old tokens), in an auxiliary string-embedding space ``phi``;
* ``omp``: coefficients found in a donor/auxiliary space applied to the anchors' base rows (``omp.py``).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from tokbench.transplant import config


def segment_sum(values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """(B, ...) sums of ``values[offsets[i]:offsets[i+1]]``; empty segments give 0.

    >>> segment_sum(np.array([1., 2., 3.]), np.array([0, 2, 2, 3])).tolist()
    [3.0, 0.0, 3.0]
    """
    B = len(offsets) - 1
    out = np.zeros((B,) + values.shape[1:], dtype=values.dtype if values.dtype.kind == "f" else np.float64)
    nonempty = offsets[1:] > offsets[:-1]
    if values.shape[0] and nonempty.any():
        starts = offsets[:-1][nonempty]
        out[nonempty] = np.add.reduceat(values, starts, axis=0)
    return out


def segment_softmax(scores: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """(P,) softmax of ``scores`` within each segment (numerically stable).

    >>> np.round(segment_softmax(np.array([0., 0., 5.]), np.array([0, 2, 3])), 3).tolist()
    [0.5, 0.5, 1.0]
    """
    lengths = np.diff(offsets)
    seg = np.repeat(np.arange(len(lengths)), lengths)
    mx = np.full(len(lengths), -np.inf)
    np.maximum.at(mx, seg, scores)
    ex = np.exp(scores - mx[seg])
    den = np.bincount(seg, weights=ex, minlength=len(lengths))
    return ex / den[seg]


def fvt(E: np.ndarray, flat: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """(B, D) mean of each token's old pieces' rows; tokens with no piece get the mean row."""
    sums = segment_sum(E[flat].astype(np.float64), offsets)
    n = np.diff(offsets)
    out = np.where(n[:, None] > 0, sums / np.maximum(n, 1)[:, None], E.mean(axis=0, dtype=np.float64))
    return out.astype(np.float32)


def mean_rows(E: np.ndarray, B: int) -> np.ndarray:
    return np.broadcast_to(E.mean(axis=0, dtype=np.float64).astype(np.float32), (B, E.shape[1])).copy()


def zero_rows(E: np.ndarray, B: int) -> np.ndarray:
    return np.zeros((B, E.shape[1]), dtype=np.float32)


def random_rows(E: np.ndarray, B: int, seed: int = 0) -> np.ndarray:
    """(B, D) draws from N(mean, std) of E's columns."""
    rng = np.random.default_rng(seed)
    mu = E.mean(axis=0, dtype=np.float64)
    sd = E.std(axis=0, dtype=np.float64)
    return (mu + sd * rng.standard_normal((B, E.shape[1]))).astype(np.float32)


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def top_k_similar(queries: np.ndarray, keys: np.ndarray, k: int, *, allowed: np.ndarray | None = None,
                  block: int = 2048, advance: Callable[[int], None] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Cosine top-k: (B, k) indices into ``keys`` and (B, k) similarities, best first.

    ``allowed``: (V,) bool, keys that may be returned.
    """
    q = _unit(queries)
    kk = _unit(keys)
    kT = np.ascontiguousarray(kk.T)
    B = q.shape[0]
    idx = np.zeros((B, k), dtype=np.int64)
    sim = np.zeros((B, k), dtype=np.float32)
    for lo in range(0, B, block):
        s = q[lo : lo + block] @ kT
        if allowed is not None:
            s[:, ~allowed] = -np.inf
        part = np.argpartition(-s, k - 1, axis=1)[:, :k]
        ps = np.take_along_axis(s, part, axis=1)
        order = np.argsort(-ps, axis=1)
        idx[lo : lo + block] = np.take_along_axis(part, order, axis=1)
        sim[lo : lo + block] = np.take_along_axis(ps, order, axis=1)
        if advance:
            advance(s.shape[0])
    return idx, sim


def heuristic(E: np.ndarray, flat: np.ndarray, offsets: np.ndarray, piece_chars: np.ndarray, token_chars: np.ndarray,
              phi_new: np.ndarray, phi_old: np.ndarray, *, tau: float = 0.3, w_global: float = 0.3, top_k: int = 3,
              threshold: float = 0.6, allowed: np.ndarray | None = None,
              advance: Callable[[int], None] | None = None) -> np.ndarray:
    """TokenAdapt hybrid estimate, (B, D).

    E:            (V, D) base rows.  flat/offsets: old pieces of each new token (ragged, P pieces).
    piece_chars:  (P,) characters of each piece's string; token_chars: (B,) characters of each new token.
    phi_new:      (B, Da) auxiliary embedding of each new token's string.
    phi_old:      (V, Da) auxiliary embedding of each old token's string.

    local:  a_j = softmax_j cos(phi(s), phi(s_j)); l_j = len(s_j)/len(s); w_j = softmax_j(((a_j+l_j)/2)/tau).
    global: the top_k old tokens by cos(phi(s), phi(t)) with similarity >= ``threshold`` (TokenAdapt: 0.6),
            weighted by softmax(sim/tau). Tokens with no local piece use global only, and vice versa.
    """
    B = len(offsets) - 1
    un = _unit(phi_new)
    uo = _unit(phi_old)
    lengths = np.diff(offsets)
    seg = np.repeat(np.arange(B), lengths)
    cos = np.einsum("pd,pd->p", un[seg], uo[flat]) if len(flat) else np.zeros(0, dtype=np.float32)
    a = segment_softmax(cos.astype(np.float64), offsets)
    l = piece_chars / np.maximum(token_chars[seg], 1)
    w = segment_softmax(((a + l) / 2.0) / tau, offsets)
    local = segment_sum((w[:, None] * E[flat]).astype(np.float32), offsets).astype(np.float64)
    has_local = lengths > 0

    gidx, gsim = top_k_similar(phi_new, phi_old, top_k, allowed=allowed, advance=advance)
    keep = gsim >= threshold
    logits = np.where(keep, gsim / tau, -np.inf).astype(np.float64)
    mx = logits.max(axis=1, keepdims=True)
    has_global = np.isfinite(mx[:, 0])
    ex = np.where(keep, np.exp(logits - np.where(np.isfinite(mx), mx, 0.0)), 0.0)
    gw = ex / np.maximum(ex.sum(axis=1, keepdims=True), 1e-300)
    glob = sum(gw[:, j, None] * E[gidx[:, j]].astype(np.float64) for j in range(gidx.shape[1]))

    wg = np.where(has_local & has_global, w_global, np.where(has_global, 1.0, 0.0))[:, None]
    out = (1.0 - wg) * local + wg * glob
    neither = ~(has_local | has_global)
    if neither.any():
        out[neither] = E.mean(axis=0, dtype=np.float64)
    return out.astype(np.float32)


def apply_coefficients(base_anchor_rows: np.ndarray, idx: np.ndarray, coef: np.ndarray, *, block: int = 2048) -> np.ndarray:
    """(B, D) = sum_j coef[b, j] * base_anchor_rows[idx[b, j]] — OMP's step from donor to base space.

    Blocked: the gathered (block, k, D) rows stay small (all at once is B*k*D, e.g. 88k x 64 x 576 = 3.3e9).
    """
    B = idx.shape[0]
    dtype = np.float64 if base_anchor_rows.dtype == np.float64 else np.float32
    out = np.empty((B, base_anchor_rows.shape[1]), dtype=dtype)
    for lo in range(0, B, block):
        rows = base_anchor_rows[idx[lo : lo + block]].astype(dtype, copy=False)
        out[lo : lo + block] = np.einsum("bk,bkd->bd", coef[lo : lo + block].astype(dtype), rows)
    return out.astype(np.float32) if dtype == np.float32 else out


def prior_targets(E: np.ndarray, flat: np.ndarray, offsets: np.ndarray, hbar: np.ndarray, delta: float) -> np.ndarray:
    """(B,) target prior logits: min over a token's pieces of hbar.E[piece] - delta * (pieces - 1); NaN: no piece."""
    prior = E.astype(np.float64) @ np.asarray(hbar, np.float64)
    n = np.diff(offsets)
    seg = np.repeat(np.arange(len(n)), n)
    mn = np.full(len(n), np.inf)
    np.minimum.at(mn, seg, prior[flat])
    return np.where(n > 0, mn - delta * np.maximum(n - 1, 0), np.nan)


def calibrate_prior(rows: np.ndarray, target: np.ndarray, hbar: np.ndarray) -> np.ndarray:
    """(B, D) ``rows`` moved along ``hbar`` only so that hbar.row = target (rows with a NaN target are kept).

    A deviation from the published estimators (config.py: TransplantConfig.calibrate).
    """
    h = np.asarray(hbar, np.float64)
    r = rows.astype(np.float64)
    cur = r @ h
    shift = np.where(np.isnan(target), 0.0, target - cur) / (h @ h)
    return (r + shift[:, None] * h[None]).astype(np.float32)


def row_scales(new_ids: np.ndarray, scale: float, decay: float) -> np.ndarray:
    """(B,) float64 factor of each estimated row by its new id r (a frequency rank for BPE):
    ``scale * clip(1 - decay * ln(max(r + 1, O) / O), F, 1)``, O = ``config.RANK_ORIGIN``, F = ``config.MIN_ROW_SCALE``.

    >>> row_scales(np.array([0, 99, 999]), 1.0, 0.1).round(3).tolist()
    [1.0, 1.0, 0.77]
    """
    r = np.maximum(np.asarray(new_ids, dtype=np.float64) + 1.0, config.RANK_ORIGIN)
    return scale * np.clip(1.0 - decay * np.log(r / config.RANK_ORIGIN), config.MIN_ROW_SCALE, 1.0)
