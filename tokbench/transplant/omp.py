"""Batched Orthogonal Matching Pursuit: approximate each target as a k-sparse combination of candidates.

Semantics follow mergekit's tokensurgeon (``batch_omp``): at each step pick the candidate with the largest
absolute inner product with the residual (candidates are *not* normalised), orthogonalise it against the
atoms chosen so far (Gram-Schmidt, so the residual is the exact least-squares residual), and at the end
solve the triangular system for the coefficients of the k chosen atoms.

Three implementations, tested against each other on random inputs:

* :func:`omp_reference`: one target at a time, least squares by ``np.linalg.lstsq`` — slow, obviously right;
* :func:`batch_omp`: exact, numpy, one (b, N) GEMM per step for a block of targets. Cost B*k*N*D: on a
  2-core CPU 100k targets x 30k anchors x 576 dims x k=64 is ~10^14 multiply-adds, i.e. most of an hour;
* :func:`batch_omp_screened`: first keeps, per target, the ``m`` candidates most correlated with the target
  itself (one GEMM), then runs OMP inside that set with a Numba kernel whose per-target working set stays
  in cache (cost B*k*m*D). With ``m >= N`` it is exact; with smaller ``m`` it is an approximation whose
  agreement with the exact search ``scripts/bench_transplant.py`` measures.

A deviation from tokensurgeon, off unless asked for (``ridge > 0``): :func:`ridge_refit` replaces the final
least-squares coefficients of the chosen atoms by Tikhonov-regularised ones. The *selection* stays plain OMP.
It exists because in an auxiliary space where several anchors have (nearly) the same vector — MiniLM is
uncased and strips whitespace, so "The", "the" and " the" coincide — the unregularised fit is ill-conditioned
and returns huge coefficients of opposite sign, which applied to the base rows give a useless model
(bits per byte ~1e10 measured); a small ridge keeps them bounded.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from numba import njit, prange

from tokbench.errors import ConfigError


def omp_reference(target: np.ndarray, candidates: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """OMP for one target (D,) over candidates (N, D): returns indices (k,) and coefficients (k,) float64.

    >>> A = np.eye(3); idx, c = omp_reference(np.array([0., 2., -1.]), A, 2)
    >>> idx.tolist(), np.round(c, 6).tolist()
    ([1, 2], [2.0, -1.0])
    """
    t = np.asarray(target, dtype=np.float64)
    A = np.asarray(candidates, dtype=np.float64)
    chosen: list[int] = []
    residual = t.copy()
    coef = np.zeros(0)
    for _ in range(k):
        scores = np.abs(A @ residual)
        scores[chosen] = -np.inf
        chosen.append(int(np.argmax(scores)))
        sub = A[chosen].T  # (D, t)
        coef = np.linalg.lstsq(sub, t, rcond=None)[0]
        residual = t - sub @ coef
    return np.asarray(chosen, dtype=np.int64), coef


def _check_k(k: int, n: int) -> None:
    if k < 1:
        raise ConfigError(f"--k must be at least 1 (got {k})")
    if k > n:
        raise ConfigError(f"--k {k} is larger than the {n} shared anchor tokens; choose --k {max(1, min(64, n))} or less")


def batch_omp(targets: np.ndarray, candidates: np.ndarray, k: int, *, eps: float = 1e-8, block: int = 1024,
              advance: Callable[[int], None] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Exact batched OMP.

    targets: (B, D) float, candidates: (N, D) float, k <= N.
    Returns indices (B, k) int64 and coefficients (B, k) float32 (float64 inputs give float64).
    """
    T = np.asarray(targets)
    A = np.asarray(candidates)
    dtype = np.float64 if (T.dtype == np.float64 or A.dtype == np.float64) else np.float32
    T = T.astype(dtype, copy=False)
    A = np.ascontiguousarray(A, dtype=dtype)
    B, D = T.shape
    N = A.shape[0]
    _check_k(k, N)
    AT = np.ascontiguousarray(A.T)
    idx_out = np.zeros((B, k), dtype=np.int64)
    coef_out = np.zeros((B, k), dtype=dtype)
    for lo in range(0, B, block):
        t = T[lo : lo + block]
        b = t.shape[0]
        rows = np.arange(b)
        Q = np.zeros((b, D, k), dtype=dtype)
        R = np.zeros((b, k, k), dtype=dtype)
        sel = np.zeros((b, k), dtype=np.int64)
        resid = t.copy()
        for step in range(k):
            scores = np.abs(resid @ AT)  # (b, N): the one GEMM per step
            if step:
                scores[rows[:, None], sel[:, :step]] = -np.inf
            new = np.argmax(scores, axis=1)
            sel[:, step] = new
            atom = A[new]  # (b, D)
            if step:
                proj = np.einsum("bdt,bd->bt", Q[:, :, :step], atom)
                w = atom - np.einsum("bdt,bt->bd", Q[:, :, :step], proj)
                R[:, :step, step] = proj
            else:
                w = atom
            norm = np.maximum(np.linalg.norm(w, axis=1), eps)
            R[:, step, step] = norm
            Q[:, :, step] = w / norm[:, None]
            z = np.einsum("bdt,bd->bt", Q[:, :, : step + 1], t)
            resid = t - np.einsum("bdt,bt->bd", Q[:, :, : step + 1], z)
        z = np.einsum("bdt,bd->bt", Q, t)
        coef_out[lo : lo + b] = _solve_upper(R, z)
        idx_out[lo : lo + b] = sel
        if advance:
            advance(b)
    return idx_out, coef_out


def _solve_upper(R: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Solve R c = z for a batch of upper-triangular (b, k, k) systems by back substitution."""
    b, k, _ = R.shape
    c = np.zeros((b, k), dtype=R.dtype)
    for i in range(k - 1, -1, -1):
        acc = z[:, i] - np.einsum("bj,bj->b", R[:, i, i + 1 :], c[:, i + 1 :])
        c[:, i] = acc / R[:, i, i]
    return c


@njit(parallel=True, cache=True, fastmath=True)
def _omp_kernel(T, A, cand, k, eps, idx_out, coef_out):  # pragma: no cover - compiled
    B, D = T.shape
    m = cand.shape[1]
    for bi in prange(B):
        t = T[bi]
        C = np.empty((m, D), dtype=T.dtype)
        used = np.zeros(m, dtype=np.bool_)
        for j in range(m):
            if cand[bi, j] < 0:
                used[j] = True  # an empty slot
                C[j] = 0.0
            else:
                C[j] = A[cand[bi, j]]
        r = t.copy()
        Q = np.zeros((k, D), dtype=T.dtype)
        Rm = np.zeros((k, k), dtype=T.dtype)
        local = np.empty(k, dtype=np.int64)
        for step in range(k):
            best = -1
            bestv = -1.0
            for j in range(m):
                if used[j]:
                    continue
                v = 0.0
                for d in range(D):
                    v += C[j, d] * r[d]
                v = abs(v)
                if v > bestv:
                    bestv = v
                    best = j
            used[best] = True
            local[step] = best
            w = C[best].copy()
            for i in range(step):
                p = 0.0
                for d in range(D):
                    p += Q[i, d] * C[best, d]
                Rm[i, step] = p
                for d in range(D):
                    w[d] -= p * Q[i, d]
            nrm = 0.0
            for d in range(D):
                nrm += w[d] * w[d]
            nrm = max(np.sqrt(nrm), eps)
            Rm[step, step] = nrm
            for d in range(D):
                Q[step, d] = w[d] / nrm
            # Q is orthonormal, so removing the new direction keeps r = t - Q Q^T t.
            z = 0.0
            for d in range(D):
                z += Q[step, d] * r[d]
            for d in range(D):
                r[d] -= z * Q[step, d]
        zf = np.empty(k, dtype=T.dtype)
        for i in range(k):
            z = 0.0
            for d in range(D):
                z += Q[i, d] * t[d]
            zf[i] = z
        c = np.zeros(k, dtype=T.dtype)
        for i in range(k - 1, -1, -1):
            acc = zf[i]
            for j in range(i + 1, k):
                acc -= Rm[i, j] * c[j]
            c[i] = acc / Rm[i, i]
        for i in range(k):
            idx_out[bi, i] = cand[bi, local[i]]
            coef_out[bi, i] = c[i]


def screen_candidates(targets: np.ndarray, candidates: np.ndarray, m: int, *, block: int = 2048) -> np.ndarray:
    """(B, m) int64: per target, the ``m`` candidates with the largest |<target, candidate>| (unordered)."""
    B = targets.shape[0]
    N = candidates.shape[0]
    if m >= N:
        return np.broadcast_to(np.arange(N, dtype=np.int64), (B, N)).copy()
    out = np.empty((B, m), dtype=np.int64)
    AT = np.ascontiguousarray(candidates.T)
    for lo in range(0, B, block):
        s = targets[lo : lo + block] @ AT
        np.abs(s, out=s)
        out[lo : lo + block] = np.argpartition(s, N - m, axis=1)[:, N - m :]
    return out


def batch_omp_screened(targets: np.ndarray, candidates: np.ndarray, k: int, m: int, *, refine: bool = True,
                       eps: float = 1e-8, block: int = 4096,
                       advance: Callable[[int], None] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """OMP restricted, per target, to a screened set of candidates (exact when ``m >= N``).

    Pass 1 keeps the ``m`` candidates most correlated with the target. With ``refine``, pass 2 computes
    the pass-1 residual, adds the ``m`` candidates most correlated with *it* to the k atoms pass 1 chose,
    and runs OMP again on that union: atoms that only become relevant once the obvious ones are explained
    (the ones a single screen misses) get their chance. targets: (B, D), candidates: (N, D).
    Returns indices (B, k) int64 into ``candidates`` and coefficients (B, k) in the inputs' float dtype.
    """
    dtype = np.float64 if (targets.dtype == np.float64 or candidates.dtype == np.float64) else np.float32
    T = np.ascontiguousarray(targets, dtype=dtype)
    A = np.ascontiguousarray(candidates, dtype=dtype)
    N = A.shape[0]
    _check_k(k, N)
    m = max(k, min(m, N))
    idx = np.zeros((T.shape[0], k), dtype=np.int64)
    coef = np.zeros((T.shape[0], k), dtype=dtype)
    for lo in range(0, T.shape[0], block):
        t = T[lo : lo + block]
        cand = screen_candidates(t, A, m)
        bi, bc = idx[lo : lo + block], coef[lo : lo + block]
        _omp_kernel(t, A, cand, k, eps, bi, bc)
        if refine and m < N:
            resid = t - np.einsum("bk,bkd->bd", bc, A[bi])
            extra = screen_candidates(resid, A, m)
            # union of pass-1 atoms and residual-screened candidates; duplicates are harmless (an atom
            # already chosen has no residual correlation left, so it is never picked twice usefully)
            cand2 = np.concatenate([bi, extra], axis=1)
            cand2 = _dedupe_rows(cand2)
            _omp_kernel(t, A, cand2, k, eps, bi, bc)
        if advance:
            advance(t.shape[0])
    return idx, coef


def _dedupe_rows(c: np.ndarray) -> np.ndarray:
    """(B, m) ids with repeats within a row replaced by -1 (the kernel skips negative ids).

    >>> _dedupe_rows(np.array([[3, 1, 3]])).tolist()
    [[1, 3, -1]]
    """
    c = np.sort(c, axis=1)
    dup = np.zeros(c.shape, dtype=bool)
    dup[:, 1:] = c[:, 1:] == c[:, :-1]
    c[dup] = -1
    return c


def ridge_refit(targets: np.ndarray, candidates: np.ndarray, idx: np.ndarray, ridge: float, *,
                block: int = 2048) -> np.ndarray:
    """Tikhonov-regularised coefficients for atoms already chosen: per target b,
    ``c = argmin ||t_b - sum_j c_j a_{idx[b, j]}||^2 + lam_b ||c||^2`` with ``lam_b = ridge * mean_j ||a_j||^2``
    (relative to the chosen atoms' mean squared norm, so ``ridge`` does not depend on the space's scale).
    Solved as the (k, k) normal equations ``(G + lam_b I) c = A_S t`` in float64, blocked over targets.
    ``ridge = 0`` is the ordinary least-squares fit of the same atoms. Returns (B, k) float32/float64 like
    the inputs.

    >>> A = np.eye(2); ridge_refit(np.array([[2., 0.]]), A, np.array([[0, 1]]), 1.0).tolist()
    [[1.0, 0.0]]
    """
    dtype = np.float64 if (targets.dtype == np.float64 or candidates.dtype == np.float64) else np.float32
    B, k = idx.shape
    out = np.empty((B, k), dtype=dtype)
    eye = np.eye(k)
    for lo in range(0, B, block):
        AS = candidates[idx[lo : lo + block]].astype(np.float64)  # (b, k, D)
        G = np.einsum("bkd,bjd->bkj", AS, AS)
        rhs = np.einsum("bkd,bd->bk", AS, targets[lo : lo + block].astype(np.float64))
        lam = ridge * np.einsum("bkk->b", G) / k
        out[lo : lo + block] = np.linalg.solve(G + lam[:, None, None] * eye, rhs[..., None])[..., 0]
    return out


def omp(targets: np.ndarray, candidates: np.ndarray, k: int, max_candidates: int = 256,
        advance: Callable[[int], None] | None = None, exact_budget: float = 2e11,
        ridge: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """OMP as the transplant uses it: exact when B*N*D*k is within ``exact_budget`` multiply-adds or
    ``max_candidates`` is 0, otherwise screened to ``max_candidates`` per target. With ``ridge > 0`` the
    chosen atoms' coefficients are refitted by :func:`ridge_refit` (a documented deviation, see above)."""
    B, D = targets.shape
    N = candidates.shape[0]
    _check_k(k, N)
    if max_candidates <= 0 or max_candidates >= N or float(B) * N * D * k <= exact_budget:
        idx, coef = batch_omp(targets, candidates, k, advance=advance)
    else:
        idx, coef = batch_omp_screened(targets, candidates, k, max_candidates, advance=advance)
    if ridge > 0:
        coef = ridge_refit(targets, candidates, idx, ridge)
    return idx, coef
