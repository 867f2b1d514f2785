"""The mixture LP of Hayase et al. (2024), solved by lazy row and column generation with HiGHS.

Variables: alpha_i >= 0 with sum alpha_i = 1 (one per category), a slack v(t) >= 0 per merge step and a
slack v_p >= 0 per pair. For every step t and every pair p other than the merged pair m(t)::

    v(t) + v_p + sum_i alpha_i c_{i,m(t)}(t) >= sum_i alpha_i c_{i,p}(t)

("with these weights the merged pair was the most frequent one, up to slack"); minimise
sum_t v(t) + sum_p v_p. Steps whose merged pair occurs in no category's sample get no constraint, as in
the authors' code (they say nothing about the relative weights of the categories at hand). Counts are
normalised per category by its pairs at step 1 (and scaled to pairs per million,
:data:`~tokbench.mixture.config.SCALE`, so HiGHS' absolute tolerances fit them).

There is a constraint for every (step, pair) -- billions for real tokenizers -- but few are ever tight.
:func:`solve_lazy` starts with none, then repeatedly sweeps the trajectories with the current solution,
keeps W_p(t) - v_p, with W_p(t) = sum_i alpha_i c_{i,p}(t), of every pair in a max-heap updated only for
the pairs a merge changed, pops the pairs above W_{m(t)}(t) + v(t) (the violated ones, most violated
first, a few per step), adds them as rows (and their v_p / v(t) as new columns), and re-solves warm. Rows
that stay slack for a few re-solves are deleted again (each at most once), which keeps every re-solve
small. When a sweep finds nothing violated the solution is optimal for the whole (truncated) LP.
:func:`solve_full` builds every row at once, for tests on small instances.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
from numba import njit

from tokbench.errors import TokbenchError, require
from tokbench.mixture.config import SCALE, MixtureConfig
from tokbench.mixture.paircount import PairIndex, Trajectory


#: The returned weights count as optimal when the certified objective (every constraint checked) is within
#: this relative distance of the best lower bound (HiGHS solves each LP to ~1e-7 relative; the certified
#: cover sums per-step maxima over 30,000 steps), plus CERTIFY_ATOL pairs per million in absolute terms.
CERTIFY_RTOL = 1e-5
CERTIFY_ATOL = 1e-6

_D = MixtureConfig()  # solver defaults: the one source of truth the CLI reads too


@dataclass
class Problem:
    """Everything the LP needs, as flat arrays.

    n categories, T merge steps, P pairs (global ids).
    scale:       (n,) float64, SCALE / pairs of category i at step 1 (its normaliser).
    merge_pid:   (T,) int64, pair id of merge t, -1 when no category ever holds it.
    merge_w:     (n, T) float64, scaled c_{i,m(t)}(t).
    init_off:    (n+1,) int64 into init_pairs/init_counts.
    ev_off:      (n, T+1) int64 absolute offsets into ev_pairs/ev_deltas (merge t of category i changes
                 counts by events ev_off[i, t]:ev_off[i, t+1]).
    """

    n: int
    T: int
    P: int
    scale: np.ndarray
    merge_pid: np.ndarray
    merge_w: np.ndarray
    init_off: np.ndarray
    init_pairs: np.ndarray
    init_counts: np.ndarray
    ev_off: np.ndarray
    ev_pairs: np.ndarray
    ev_deltas: np.ndarray

    @staticmethod
    def build(trajectories: Sequence[Trajectory], merges: np.ndarray, index: PairIndex) -> "Problem":
        n, T = len(trajectories), merges.shape[0]
        totals = np.array([max(tr.total_pairs, 1) for tr in trajectories], dtype=np.float64)
        scale = SCALE / totals
        merge_pid = np.array([index.get(a, b) for a, b, _ in merges], dtype=np.int64)
        merge_w = np.stack([tr.merge_counts for tr in trajectories]).astype(np.float64) * scale[:, None]
        init_off = np.zeros(n + 1, dtype=np.int64)
        np.cumsum([len(tr.init_pairs) for tr in trajectories], out=init_off[1:])
        ev_off = np.zeros((n, T + 1), dtype=np.int64)
        base = 0
        for i, tr in enumerate(trajectories):
            ev_off[i] = tr.ev_offsets + base
            base += tr.n_events
        return Problem(
            n, T, len(index), scale, merge_pid, merge_w, init_off,
            np.concatenate([tr.init_pairs for tr in trajectories]).astype(np.int64),
            np.concatenate([tr.init_counts for tr in trajectories]).astype(np.int64),
            ev_off,
            np.concatenate([tr.ev_pairs for tr in trajectories]).astype(np.int64),
            np.concatenate([tr.ev_deltas for tr in trajectories]).astype(np.int64),
        )

    def counts_at(self, ts: np.ndarray, ps: np.ndarray) -> np.ndarray:
        """(R, n) float64 scaled c_{i,p}(t) for the requested (t, p) rows."""
        return _counts_at(ts.astype(np.int64), ps.astype(np.int64), self.P, self.init_off, self.init_pairs,
                          self.init_counts, self.ev_off, self.ev_pairs, self.ev_deltas) * self.scale[None, :]


@dataclass
class LPResult:
    """alpha: (n,) weights on normalised pair counts (sum 1); the byte proportions follow from them."""

    alpha: np.ndarray
    objective: float
    rounds: int = 0
    rows: int = 0
    columns: int = 0
    converged: bool = True
    solve_seconds: float = 0.0
    sweep_seconds: float = 0.0
    simplex_iterations: int = 0
    gap: float = 0.0
    purged: int = 0
    lower_bound: float = 0.0
    certify_seconds: float = 0.0
    row_steps: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    row_pairs: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    history: list = field(default_factory=list)

    def stats(self) -> dict:
        return {
            "objective": self.objective,
            "lower_bound": self.lower_bound,
            "lp_resolves": self.rounds,
            "constraints_added": self.rows,
            "constraints_purged": self.purged,
            "slack_columns_added": self.columns,
            "converged": self.converged,
            "gap": self.gap,
            "simplex_iterations": self.simplex_iterations,
            "solve_seconds": round(self.solve_seconds, 3),
            "sweep_seconds": round(self.sweep_seconds, 3),
            "certify_seconds": round(self.certify_seconds, 3),
        }


# ---------------------------------------------------------------------------------------------------------
# Numba: sweeps over the trajectories
# ---------------------------------------------------------------------------------------------------------


@njit(cache=True)
def _heap_push(hv, hp, hq, n, v, p, q):
    if n >= hv.shape[0]:
        m = max(2 * hv.shape[0], 64)
        hv2 = np.empty(m, dtype=hv.dtype)
        hp2 = np.empty(m, dtype=hp.dtype)
        hq2 = np.empty(m, dtype=hq.dtype)
        hv2[:n] = hv[:n]
        hp2[:n] = hp[:n]
        hq2[:n] = hq[:n]
        hv, hp, hq = hv2, hp2, hq2
    i = n
    while i > 0:
        parent = (i - 1) >> 1
        if hv[parent] >= v:
            break
        hv[i] = hv[parent]
        hp[i] = hp[parent]
        hq[i] = hq[parent]
        i = parent
    hv[i] = v
    hp[i] = p
    hq[i] = q
    return hv, hp, hq, n + 1


@njit(cache=True)
def _heap_pop(hv, hp, hq, n):
    """Remove the top entry (the caller has read it); returns the new size."""
    n -= 1
    if n == 0:
        return 0
    v = hv[n]
    p = hp[n]
    q = hq[n]
    i = 0
    while True:
        c = 2 * i + 1
        if c >= n:
            break
        if c + 1 < n and hv[c + 1] > hv[c]:
            c += 1
        if hv[c] <= v:
            break
        hv[i] = hv[c]
        hp[i] = hp[c]
        hq[i] = hq[c]
        i = c
    hv[i] = v
    hp[i] = p
    hq[i] = q
    return n


@njit(cache=True)
def _violations(w, wm, vt, vp, merge_pid, P, init_off, init_pairs, init_counts, ev_off, ev_pairs, ev_deltas,
                per_step, eps):
    """Sweep all steps with weights ``w`` (alpha_i * scale_i) and return the violated (t, p) rows, at most
    ``per_step`` per step, most violated first, with their violation."""
    n = w.shape[0]
    T = wm.shape[0]
    W = np.zeros(P, dtype=np.float64)
    ver = np.zeros(P, dtype=np.int64)
    for i in range(n):
        for j in range(init_off[i], init_off[i + 1]):
            W[init_pairs[j]] += w[i] * init_counts[j]
    hv = np.empty(max(P, 64), dtype=np.float64)
    hp = np.empty(max(P, 64), dtype=np.int64)
    hq = np.empty(max(P, 64), dtype=np.int64)
    hn = 0
    # The heap is keyed by W_p - v_p, the left side a row of pair p would have, so that pairs come out most
    # violated first whatever their slack (keying by W_p alone would let a pair with a large v_p hide a
    # more violated one, and the per-step worst violation, hence the upper bound, would be underestimated).
    for p in range(P):
        if W[p] - vp[p] > 1e-12:
            hv, hp, hq, hn = _heap_push(hv, hp, hq, hn, W[p] - vp[p], p, 0)
    out_t = np.empty(1024, dtype=np.int64)
    out_p = np.empty(1024, dtype=np.int64)
    out_v = np.empty(1024, dtype=np.float64)
    n_out = 0
    back_p = np.empty(64, dtype=np.int64)
    for t in range(T):
        if t > 0:
            for i in range(n):
                wi = w[i]
                for e in range(ev_off[i, t - 1], ev_off[i, t]):
                    p = ev_pairs[e]
                    W[p] += wi * ev_deltas[e]
                    ver[p] += 1
                    if W[p] - vp[p] > 1e-12:
                        hv, hp, hq, hn = _heap_push(hv, hp, hq, hn, W[p] - vp[p], p, ver[p])
            if hn > 4 * P + 4096:
                # Too many stale entries: rebuild from the live counts.
                hn = 0
                for p in range(P):
                    if W[p] - vp[p] > 1e-12:
                        hv, hp, hq, hn = _heap_push(hv, hp, hq, hn, W[p] - vp[p], p, ver[p])
        m = merge_pid[t]
        if m < 0:
            # No category ever holds this merge's pair: the authors' code adds no constraint for such a
            # step (it says nothing about the categories' relative weights), and neither does tokbench.
            continue
        thr = wm[t] + vt[t] + eps
        found = 0
        n_back = 0
        while hn > 0 and found < per_step:
            v = hv[0]
            p = hp[0]
            q = hq[0]
            if q != ver[p]:
                hn = _heap_pop(hv, hp, hq, hn)
                continue
            if v <= thr:
                break
            hn = _heap_pop(hv, hp, hq, hn)
            if n_back >= back_p.shape[0]:
                b2 = np.empty(2 * back_p.shape[0], dtype=np.int64)
                b2[:n_back] = back_p[:n_back]
                back_p = b2
            back_p[n_back] = p
            n_back += 1
            viol = v - wm[t] - vt[t]
            if p != m and viol > eps:
                if n_out >= out_t.shape[0]:
                    m2 = 2 * out_t.shape[0]
                    a1 = np.empty(m2, dtype=np.int64)
                    a2 = np.empty(m2, dtype=np.int64)
                    a3 = np.empty(m2, dtype=np.float64)
                    a1[:n_out] = out_t[:n_out]
                    a2[:n_out] = out_p[:n_out]
                    a3[:n_out] = out_v[:n_out]
                    out_t, out_p, out_v = a1, a2, a3
                out_t[n_out] = t
                out_p[n_out] = p
                out_v[n_out] = viol
                n_out += 1
                found += 1
        for j in range(n_back):
            p = back_p[j]
            hv, hp, hq, hn = _heap_push(hv, hp, hq, hn, W[p] - vp[p], p, ver[p])
    return out_t[:n_out].copy(), out_p[:n_out].copy(), out_v[:n_out].copy()


@njit(cache=True)
def _dense_need(w, wm, vp, merge_pid, P, init_off, init_pairs, init_counts, ev_off, ev_pairs, ev_deltas):
    """The certificate's sweep, independent of the heap and of the LP's rows: for every step t the smallest
    v(t) that satisfies all of its constraints given ``vp``, max(0, max over pairs p != m(t) present at t of
    W_p(t) - v_p - W_{m(t)}(t)), by looking at EVERY pair at every step (O(T P); counts kept as integers per
    category, so W_p carries no rounding drift from the event deltas)."""
    n = w.shape[0]
    T = wm.shape[0]
    cnt = np.zeros((n, P), dtype=np.int64)
    for i in range(n):
        for j in range(init_off[i], init_off[i + 1]):
            cnt[i, init_pairs[j]] += init_counts[j]
    W = np.zeros(P, dtype=np.float64)
    present = np.zeros(P, dtype=np.bool_)
    for p in range(P):
        s = 0.0
        any_ = False
        for i in range(n):
            s += w[i] * cnt[i, p]
            any_ = any_ or cnt[i, p] > 0
        W[p] = s
        present[p] = any_
    need = np.zeros(T, dtype=np.float64)
    for t in range(T):
        if t > 0:
            for i in range(n):
                for e in range(ev_off[i, t - 1], ev_off[i, t]):
                    cnt[i, ev_pairs[e]] += ev_deltas[e]
            for i in range(n):
                for e in range(ev_off[i, t - 1], ev_off[i, t]):
                    p = ev_pairs[e]
                    s = 0.0
                    any_ = False
                    for k in range(n):
                        s += w[k] * cnt[k, p]
                        any_ = any_ or cnt[k, p] > 0
                    W[p] = s
                    present[p] = any_
        m = merge_pid[t]
        if m < 0:
            continue
        best = 0.0
        for p in range(P):
            if present[p] and p != m:
                v = W[p] - vp[p] - wm[t]
                if v > best:
                    best = v
        need[t] = best
    return need


@njit(cache=True)
def _counts_at(ts, ps, P, init_off, init_pairs, init_counts, ev_off, ev_pairs, ev_deltas):
    """(R, n) raw counts c_{i,p}(t) for requested rows (any order)."""
    R = ts.shape[0]
    n = init_off.shape[0] - 1
    out = np.zeros((R, n), dtype=np.float64)
    order = np.argsort(ts, kind="mergesort")
    cnt = np.zeros(P, dtype=np.int64)
    for i in range(n):
        cnt[:] = 0
        for j in range(init_off[i], init_off[i + 1]):
            cnt[init_pairs[j]] += init_counts[j]
        step = 0
        for r in order:
            t = ts[r]
            while step < t:
                for e in range(ev_off[i, step], ev_off[i, step + 1]):
                    cnt[ev_pairs[e]] += ev_deltas[e]
                step += 1
            out[r, i] = cnt[ps[r]]
    return out


# ---------------------------------------------------------------------------------------------------------
# HiGHS
# ---------------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _stdout_to_stderr():
    """Point file descriptor 1 at stderr for the duration: HiGHS prints its banner from C++ when a solver is
    constructed, before any option can silence it, and `--json` must print nothing but JSON on stdout."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no usable stdout at all: nothing to protect
        yield
        return
    try:
        os.dup2(2, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _highs():
    highspy = require("highspy", pip_name="highspy")
    with _stdout_to_stderr():
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
    return highspy, h


class _Model:
    """The growing LP: alpha columns first, slack columns created on first use."""

    def __init__(self, n: int, T: int, P: int):
        self.highspy, self.h = _highs()
        self.n = n
        h = self.h
        h.addCols(n, np.zeros(n), np.zeros(n), np.ones(n), 0, np.array([], np.int32), np.array([], np.int32), np.array([]))
        h.addRows(1, np.array([1.0]), np.array([1.0]), n, np.array([0], np.int32), np.arange(n, dtype=np.int32), np.ones(n))
        self.step_col = np.full(T, -1, dtype=np.int64)
        self.pair_col = np.full(P, -1, dtype=np.int64)
        self.n_cols = n
        self.n_rows = 0
        self.P = P
        # Key and rounds-without-being-tight of every competitor row in the model, in HiGHS' row order
        # (after the simplex row 0), so that long-idle rows can be purged.
        self.row_keys = np.zeros(0, dtype=np.int64)
        self.row_idle = np.zeros(0, dtype=np.int64)
        self.purged = 0
        self.once = np.zeros(0, dtype=np.int64)
        self.iterations = 0

    def _new_cols(self, table: np.ndarray, keys: np.ndarray) -> int:
        fresh = np.unique(keys[table[keys] < 0])
        table[fresh] = self.n_cols + np.arange(len(fresh))
        self.n_cols += len(fresh)
        return len(fresh)

    def add_rows(self, ts: np.ndarray, ps: np.ndarray, coef: np.ndarray) -> int:
        """Rows v(t) + v_p + sum_i alpha_i coef[r, i] >= 0 (those not yet in the model); returns how many."""
        keys = ts.astype(np.int64) * self.P + ps
        keep = ~np.isin(keys, self.row_keys)
        if not keep.any():
            return 0
        ts, ps, coef, keys = ts[keep], ps[keep], coef[keep], keys[keep]
        k = self._new_cols(self.step_col, ts) + self._new_cols(self.pair_col, ps)
        if k:
            self.h.addCols(k, np.ones(k), np.zeros(k), np.full(k, np.inf), 0, np.array([], np.int32),
                           np.array([], np.int32), np.array([]))
        R, n = coef.shape
        # CSR rows: the nonzero alpha coefficients, then v(t) and v_p with coefficient 1.
        nz = coef != 0
        per_row = nz.sum(axis=1) + 2
        starts = np.zeros(R, dtype=np.int64)
        np.cumsum(per_row[:-1], out=starts[1:])
        cols = np.broadcast_to(np.arange(n), (R, n))
        idx = np.empty(int(per_row.sum()), dtype=np.int32)
        val = np.empty(len(idx), dtype=np.float64)
        # position of each alpha nonzero inside its row
        r_of, c_of = np.nonzero(nz)
        pos = starts[r_of] + (np.cumsum(nz, axis=1)[r_of, c_of] - 1)
        idx[pos] = cols[r_of, c_of]
        val[pos] = coef[r_of, c_of]
        last = starts + per_row
        idx[last - 2] = self.step_col[ts]
        idx[last - 1] = self.pair_col[ps]
        val[last - 2] = 1.0
        val[last - 1] = 1.0
        self.h.addRows(R, np.zeros(R), np.full(R, np.inf), len(idx), starts.astype(np.int32), idx, val)
        self.n_rows += R
        self.row_keys = np.concatenate([self.row_keys, keys])
        self.row_idle = np.concatenate([self.row_idle, np.zeros(R, dtype=np.int64)])
        return R

    def purge(self, after: int, tol: float = 1e-9) -> int:
        """Delete the competitor rows that have been slack (activity > 0 and no dual) for ``after`` solves.

        Rows found by cutting planes at one alpha are often never tight again once alpha has moved on; kept
        in the model they only slow every later re-solve. A purged row is forgotten and may be added again
        by a later sweep if it becomes violated (and is then never purged again), so the final answer is
        unchanged (still optimal for the whole LP when a sweep finds nothing violated).
        """
        if after <= 0 or not len(self.row_keys):
            return 0
        sol = self.h.getSolution()
        act = np.asarray(sol.row_value)[1:]
        dual = np.asarray(sol.row_dual)[1:]
        slack = (act > tol) & (np.abs(dual) <= tol)
        self.row_idle = np.where(slack, self.row_idle + 1, 0)
        # A row is purged at most once: one that comes back stays, so purging cannot cycle and the method
        # keeps the finite convergence of plain row generation.
        drop = np.flatnonzero((self.row_idle >= after) & ~np.isin(self.row_keys, self.once))
        if not len(drop):
            return 0
        self.h.deleteRows(len(drop), (drop + 1).astype(np.int32))
        self.once = np.union1d(self.once, self.row_keys[drop])
        keep = np.ones(len(self.row_keys), dtype=np.bool_)
        keep[drop] = False
        self.row_keys, self.row_idle = self.row_keys[keep], self.row_idle[keep]
        self.purged += len(drop)
        return len(drop)

    def solve(self) -> tuple[np.ndarray, float]:
        self.h.run()
        # HiGHS counts iterations per run (and reports -1 after rows were deleted): sum the runs ourselves.
        self.iterations += max(int(self.h.getInfo().simplex_iteration_count), 0)
        status = self.h.getModelStatus()
        if status != self.highspy.HighsModelStatus.kOptimal:
            raise TokbenchError(f"the mixture LP did not solve ({self.h.modelStatusToString(status)}); report this with the tokenizer and categories used")
        x = np.asarray(self.h.getSolution().col_value)
        return x, float(self.h.getInfo().objective_function_value)

    def slacks(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(T,) v(t) and (P,) v_p of a solution (0 for slacks not in the model)."""
        vt = np.where(self.step_col >= 0, x[np.maximum(self.step_col, 0)], 0.0)
        vp = np.where(self.pair_col >= 0, x[np.maximum(self.pair_col, 0)], 0.0)
        return vt, vp


def _row_coefficients(problem: Problem, ts: np.ndarray, ps: np.ndarray) -> np.ndarray:
    """(R, n): c_{i,m(t)}(t) - c_{i,p}(t), scaled."""
    return problem.merge_w[:, ts].T - problem.counts_at(ts, ps)


def solve_lazy(problem: Problem, *, rows_per_step: int = _D.rows_per_step, max_rounds: int = _D.max_rounds,
               tolerance: float = _D.tolerance, gap: float = _D.gap, time_limit: float | None = None,
               stabilise: float = _D.stabilise, purge_after: int = _D.purge_after, advance: Callable[[int], None] | None = None,
               seed_rows: tuple[np.ndarray, np.ndarray] | None = None, certified: bool = True) -> LPResult:
    """Optimal alpha by simultaneous row and column generation (see the module docstring).

    Stops when a sweep finds no violated constraint (optimal for the whole LP), or when the relative gap
    between the relaxed objective (a lower bound) and the objective of the best weights seen so far with
    their slacks raised to cover every violation found (an upper bound) is at most ``gap``, or after
    ``max_rounds`` re-solves / ``time_limit`` seconds. Without convergence the weights with the best upper
    bound are returned and ``converged`` is False. ``stabilise`` is the weight of the best weights in the
    separation point (0: plain cutting planes at the LP's solution). ``purge_after`` > 0 deletes rows slack
    for that many re-solves (:meth:`_Model.purge`). ``seed_rows`` (steps, pairs): rows to start from, e.g. those
    of a solve of a similar problem (a bootstrap replicate starts from the full sample's rows).
    ``certified=False`` skips the certificate below (the loop's own bounds are reported).

    The answer is then certified by :func:`certify`, which checks the returned weights and pair slacks against
    every (step, pair) constraint independently of the lazy machinery: ``objective`` is that certified upper
    bound, ``lower_bound`` the best relaxed objective, and ``converged`` means they agree within
    :data:`CERTIFY_RTOL` (or within ``gap`` when that is larger).
    """
    model = _Model(problem.n, problem.T, problem.P)
    if seed_rows is not None and len(seed_rows[0]):
        ts0, ps0 = (np.asarray(a, dtype=np.int64) for a in seed_rows)
        ok = (ts0 < problem.T) & (ps0 < problem.P) & (ps0 != problem.merge_pid[np.minimum(ts0, problem.T - 1)])
        ok &= problem.merge_pid[np.minimum(ts0, problem.T - 1)] >= 0
        if ok.any():
            model.add_rows(ts0[ok], ps0[ok], _row_coefficients(problem, ts0[ok], ps0[ok]))
    res = LPResult(alpha=np.full(problem.n, 1.0 / problem.n), objective=0.0, converged=False)
    t_solve = t_sweep = 0.0
    started = time.perf_counter()
    best_upper, best_alpha, best_vp = np.inf, res.alpha, np.zeros(problem.P)
    lower = 0.0
    for rnd in range(max_rounds):
        if rnd == 0 and model.n_rows == 0:
            # The LP without competitor rows is solved by any alpha; sweep first at the centre of the
            # simplex so the first rows come from every category, not from one arbitrary vertex.
            alpha, obj = np.full(problem.n, 1.0 / problem.n), 0.0
            vt, vp = np.zeros(problem.T), np.zeros(problem.P)
        else:
            t0 = time.perf_counter()
            x, obj = model.solve()
            model.purge(purge_after)
            t_solve += time.perf_counter() - t0
            alpha = np.clip(x[: problem.n], 0, None)
            alpha /= alpha.sum()
            vt, vp = model.slacks(x)
            # Every restricted LP is a relaxation of the whole one (even after purging): its objective is a
            # lower bound on the optimum.
            lower = max(lower, obj)
        t0 = time.perf_counter()
        # In-out separation: look for violated rows at a point between the LP's weights and the best weights
        # seen so far (by upper bound). Cutting planes at the LP point alone make alpha jump between vertices
        # and converge slowly; any row found is valid, and a point with no violation is optimal outright
        # (the LP's slacks cover it, so its objective equals the lower bound).
        for point in ("mixed", "lp"):
            if point == "mixed":
                if rnd == 0 or not np.isfinite(best_upper) or stabilise <= 0:
                    continue
                sep = stabilise * best_alpha + (1 - stabilise) * alpha
            else:
                sep = alpha
            ts, ps, viol = _violations(sep * problem.scale, sep @ problem.merge_w, vt, vp, problem.merge_pid,
                                       problem.P, problem.init_off, problem.init_pairs, problem.init_counts,
                                       problem.ev_off, problem.ev_pairs, problem.ev_deltas, rows_per_step, tolerance)
            added = model.add_rows(ts, ps, _row_coefficients(problem, ts, ps)) if len(ts) else 0
            if added or not len(ts):
                break
        alpha = sep
        t_sweep += time.perf_counter() - t0
        # (alpha, v(t) + worst violation found at t, v_p) satisfies the rows found, so its objective is an
        # (estimated) upper bound on the optimum, while the relaxed objective is a lower bound.
        worst = np.zeros(problem.T)
        if len(ts):
            np.maximum.at(worst, ts, viol)
        upper = obj + float(worst.sum())
        if upper < best_upper:
            best_upper, best_alpha, best_vp = upper, alpha, vp
        rel_gap = (best_upper - obj) / max(best_upper, 1e-12) if np.isfinite(best_upper) else 1.0
        res.history.append({"round": rnd + 1, "objective": obj, "upper_bound": upper, "gap": rel_gap,
                            "violated": int(len(ts)), "max_violation": float(viol.max()) if len(viol) else 0.0,
                            "rows": model.n_rows})
        res.alpha, res.objective, res.rounds, res.gap = alpha, obj, rnd, max(rel_gap, 0.0)
        if advance is not None:
            advance(1)
        if len(ts) == 0:
            res.converged, res.gap = True, 0.0
            best_alpha, best_vp = alpha, vp
            break
        if added == 0:
            # Only rows already in the model look violated: HiGHS' tolerances, not a missing constraint.
            res.converged = bool(viol.max() < 1e3 * tolerance)
            break
        if rnd > 0 and rel_gap <= gap:
            res.converged, res.alpha = True, best_alpha
            break
        if time_limit is not None and time.perf_counter() - started > time_limit:
            break
    res.alpha = best_alpha if (rnd > 0 or res.converged) else res.alpha
    if certified:
        # O(T P): a few seconds at 30,000 merges; bootstrap replicates skip it (they need weights, not a proof).
        t0 = time.perf_counter()
        upper, _ = certify(problem, res.alpha, best_vp if res.alpha is best_alpha else vp)
        res.certify_seconds = time.perf_counter() - t0
        res.lower_bound, res.objective = lower, upper
        res.gap = max(upper - lower, 0.0) / max(upper, 1e-12)
        # 'converged' is what the independent sweep proves, not what the lazy loop believed.
        res.converged = upper - lower <= max(CERTIFY_RTOL, gap) * max(upper, 0.0) + CERTIFY_ATOL
    else:
        res.lower_bound = lower
        if np.isfinite(best_upper) and not res.converged:
            res.objective = best_upper
    res.row_steps, res.row_pairs = model.row_keys // problem.P, model.row_keys % problem.P
    res.rows, res.columns, res.purged = model.n_rows, model.n_cols - problem.n, model.purged
    res.solve_seconds, res.sweep_seconds = t_solve, t_sweep
    res.simplex_iterations = model.iterations
    return res


def certify(problem: Problem, alpha: np.ndarray, vp: np.ndarray) -> tuple[float, np.ndarray]:
    """An upper bound on the LP's optimum checked against every constraint: (objective, v(t)) of the cheapest
    cover for weights ``alpha`` and pair slacks ``vp``, found by :func:`_dense_need`'s sweep over all steps and
    pairs (nothing from the lazy machinery is trusted). With a lower bound from a relaxation equal to it, the
    weights are proven optimal."""
    alpha = np.asarray(alpha, dtype=np.float64)
    vp = np.maximum(np.asarray(vp, dtype=np.float64), 0.0)
    vt = _dense_need(alpha * problem.scale, alpha @ problem.merge_w, vp, problem.merge_pid, problem.P,
                     problem.init_off, problem.init_pairs, problem.init_counts, problem.ev_off, problem.ev_pairs,
                     problem.ev_deltas)
    return float(vt.sum() + vp.sum()), vt


def all_rows(problem: Problem) -> tuple[np.ndarray, np.ndarray]:
    """Every (t, p) with p != m(t) and some category holding p at step t (small instances only); steps whose
    merge no category ever holds are skipped, as in the lazy sweep."""
    ts, ps = [], []
    present = np.zeros((problem.T, problem.P), dtype=np.bool_)
    for i in range(problem.n):
        cnt = np.zeros(problem.P, dtype=np.int64)
        lo, hi = problem.init_off[i], problem.init_off[i + 1]
        np.add.at(cnt, problem.init_pairs[lo:hi], problem.init_counts[lo:hi])
        for t in range(problem.T):
            if t > 0:
                a, b = problem.ev_off[i, t - 1], problem.ev_off[i, t]
                np.add.at(cnt, problem.ev_pairs[a:b], problem.ev_deltas[a:b])
            present[t] |= cnt > 0
    for t in range(problem.T):
        if problem.merge_pid[t] < 0:
            continue
        for p in np.nonzero(present[t])[0]:
            if p != problem.merge_pid[t]:
                ts.append(t)
                ps.append(int(p))
    return np.array(ts, dtype=np.int64), np.array(ps, dtype=np.int64)


def solve_full(problem: Problem) -> LPResult:
    """The whole LP at once (every constraint), for checking :func:`solve_lazy` on small instances."""
    model = _Model(problem.n, problem.T, problem.P)
    ts, ps = all_rows(problem)
    if len(ts):
        model.add_rows(ts, ps, _row_coefficients(problem, ts, ps))
    t0 = time.perf_counter()
    x, obj = model.solve()
    alpha = np.clip(x[: problem.n], 0, None)
    alpha /= alpha.sum()
    return LPResult(alpha=alpha, objective=obj, rounds=1, rows=model.n_rows, columns=model.n_cols - problem.n,
                    solve_seconds=time.perf_counter() - t0)


def byte_proportions(alpha: np.ndarray, n_bytes: Sequence[int], total_pairs: Sequence[int]) -> np.ndarray:
    """Weights on normalised pair counts -> shares of training bytes: alpha_i * bytes_i / pairs_i, renormalised.

    >>> byte_proportions(np.array([0.5, 0.5]), [100, 100], [50, 100]).round(3).tolist()
    [0.667, 0.333]
    """
    w = np.asarray(alpha, dtype=np.float64) * np.asarray(n_bytes, dtype=np.float64) / np.maximum(np.asarray(total_pairs, dtype=np.float64), 1)
    s = w.sum()
    return w / s if s > 0 else np.full(len(w), 1.0 / len(w))
