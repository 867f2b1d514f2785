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

:func:`solve_intervals` (the default, through :func:`solve`) solves the same LP in an equivalent form with
one row per (constant piece of a pair's trajectory, segment-tree node over the steps) -- see the comment
before :func:`_segments` -- whose rows are priced exactly in one cheap pass and each cover a whole range of
steps; it converges in a handful of re-solves where :func:`solve_lazy` needs hundreds. It departs from the
method described in METRICS.md (a priority queue over (step, pair) rows) in how the rows are written and
found, not in the LP: same variables alpha, v(t), v_p (plus auxiliary z_u), same optimum, checked against
:func:`solve_full` in the tests. Both certify their answer with :func:`certify`.
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


# ---------------------------------------------------------------------------------------------------------
# The interval reformulation: one row per (pair segment, segment-tree node) instead of per (step, pair)
# ---------------------------------------------------------------------------------------------------------
#
# A pair's combined count W_p(t) = sum_i alpha_i c_{i,p}(t) is piecewise constant in t: it changes only at the
# merges that touch the pair (a few per pair on real tokenizers). On a *segment* s = (p, [t0, t1), c_s) the
# rows of the (step, pair) LP for the steps of [t0, t1) read
#     v_p + (v(t) + alpha . c_{m(t)}(t)) >= alpha . c_s        for every t in [t0, t1),
# i.e. v_p + min_{t in [t0, t1)} (v(t) + alpha . c_{m(t)}(t)) >= alpha . c_s. The minimum over a range is
# expressed exactly with a segment tree over the constrained steps: a variable z_u per tree node with
#     z_leaf(t) <= v(t) + alpha . c_{m(t)}(t),    z_u <= z_left(u),  z_u <= z_right(u)
# (any feasible point can take z_u = the minimum over u's leaves, which is >= 0), and one row
#     v_p + z_u >= alpha . c_s
# per canonical node u of [t0, t1) (at most 2 log2 T of them). The LP over (alpha, v, z) is the same LP as the
# (step, pair) one -- the same optimum, the same alpha and slacks -- with ~10 rows per segment instead of one
# per (step, pair): on GPT-2 with 10 categories 1.8 M rows instead of ~10^9. Those rows are still generated
# lazily, but pricing is exact and cheap (a pass over the tree and the segments, no heap), and one row
# covers a whole range of steps, so few rounds are needed.


@njit(cache=True)
def _segments(n, T, init_off, init_pairs, init_counts, ev_off, ev_pairs, ev_deltas):
    """Every pair's trajectory as constant pieces: (pair, t0, t1, CSR offsets, categories, counts) of each
    maximal step range [t0, t1) on which the pair's count vector is constant and not all zero."""
    E = init_pairs.shape[0] + ev_pairs.shape[0]
    ep = np.empty(E, np.int64)
    et = np.empty(E, np.int64)
    ei = np.empty(E, np.int64)
    ed = np.empty(E, np.int64)
    k = 0
    for i in range(n):
        for j in range(init_off[i], init_off[i + 1]):
            ep[k] = init_pairs[j]
            et[k] = 0
            ei[k] = i
            ed[k] = init_counts[j]
            k += 1
        for t in range(T):
            for e in range(ev_off[i, t], ev_off[i, t + 1]):
                # merge t's events give the counts of step t + 1
                ep[k] = ev_pairs[e]
                et[k] = t + 1
                ei[k] = i
                ed[k] = ev_deltas[e]
                k += 1
    order = np.argsort(ep * (T + 2) + et, kind="mergesort")
    s_pair = np.empty(E + 1, np.int64)
    s_t0 = np.empty(E + 1, np.int64)
    s_t1 = np.empty(E + 1, np.int64)
    s_off = np.zeros(E + 2, np.int64)
    s_cat = np.empty(max(E, 1), np.int64)
    s_cnt = np.empty(max(E, 1), np.int64)
    cnt = np.zeros(n, np.int64)
    ns = 0
    nnz = 0
    j = 0
    while j < E:
        p = ep[order[j]]
        cnt[:] = 0
        prev = -1
        while True:
            at_end = j >= E or ep[order[j]] != p
            t = T if at_end else et[order[j]]
            if t >= T:
                t = T
            if prev >= 0 and t > prev:
                nz = 0
                for i in range(n):
                    if cnt[i] > 0:
                        nz += 1
                if nz:
                    if nnz + nz > s_cat.shape[0]:
                        m = max(2 * s_cat.shape[0], nnz + nz)
                        c2 = np.empty(m, np.int64)
                        v2 = np.empty(m, np.int64)
                        c2[:nnz] = s_cat[:nnz]
                        v2[:nnz] = s_cnt[:nnz]
                        s_cat, s_cnt = c2, v2
                    s_pair[ns] = p
                    s_t0[ns] = prev
                    s_t1[ns] = t
                    for i in range(n):
                        if cnt[i] > 0:
                            s_cat[nnz] = i
                            s_cnt[nnz] = cnt[i]
                            nnz += 1
                    ns += 1
                    s_off[ns] = nnz
            if at_end or t >= T:
                while j < E and ep[order[j]] == p:
                    j += 1
                break
            while j < E and ep[order[j]] == p and et[order[j]] == t:
                o = order[j]
                cnt[ei[o]] += ed[o]
                j += 1
            prev = t
    return (s_pair[:ns].copy(), s_t0[:ns].copy(), s_t1[:ns].copy(), s_off[:ns + 1].copy(), s_cat[:nnz].copy(),
            s_cnt[:nnz].copy())


@njit(cache=True)
def _canonical(lo, hi, N):
    """(segment, node) of every canonical node of every range [lo, hi) in a segment tree with N leaves
    (nodes 1..2N-1, leaf k is node N + k)."""
    total = 0
    for s in range(lo.shape[0]):
        a, b = lo[s] + N, hi[s] + N
        while a < b:
            if a & 1:
                total += 1
                a += 1
            if b & 1:
                b -= 1
                total += 1
            a >>= 1
            b >>= 1
    seg = np.empty(total, np.int32)
    node = np.empty(total, np.int32)
    k = 0
    for s in range(lo.shape[0]):
        a, b = lo[s] + N, hi[s] + N
        while a < b:
            if a & 1:
                seg[k] = s
                node[k] = a
                k += 1
                a += 1
            if b & 1:
                b -= 1
                seg[k] = s
                node[k] = b
                k += 1
            a >>= 1
            b >>= 1
    return seg, node


@njit(cache=True)
def _price_tree(w, leaf, vp, N, Tc, s_pair, s_off, s_cat, s_cnt, r_seg, r_node):
    """At weights ``w`` (alpha_i * scale_i), leaf values v(t) + alpha . c_{m(t)}(t) and pair slacks ``vp``:
    the violation alpha . c_s - v_p - min_{leaves of u} leaf of every row (s, u), and for every constrained
    step the largest alpha . c_p(t) - v_p over the pairs present at t (from which the cheapest v(t) follows)."""
    zmin = np.full(2 * N, np.inf)
    for k in range(Tc):
        zmin[N + k] = leaf[k]
    for u in range(N - 1, 0, -1):
        zmin[u] = min(zmin[2 * u], zmin[2 * u + 1])
    S = s_pair.shape[0]
    ws = np.empty(S)
    for s in range(S):
        acc = 0.0
        for j in range(s_off[s], s_off[s + 1]):
            acc += w[s_cat[j]] * s_cnt[j]
        ws[s] = acc - vp[s_pair[s]]
    R = r_seg.shape[0]
    viol = np.empty(R)
    best = np.full(2 * N, -np.inf)
    for r in range(R):
        s = r_seg[r]
        u = r_node[r]
        viol[r] = ws[s] - zmin[u]
        if ws[s] > best[u]:
            best[u] = ws[s]
    for u in range(2, 2 * N):
        if best[u >> 1] > best[u]:
            best[u] = best[u >> 1]
    return viol, best[N:N + Tc].copy()


def csc_arrays(rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, n_cols: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Column-wise (start, index, value) arrays of the matrix with entries (rows[k], cols[k]) = vals[k], as HiGHS
    takes them: columns in order, rows sorted within a column, repeated (row, column) entries summed, explicit
    zeros kept. (numpy only: scipy is not a dependency of tokbench.)

    >>> start, index, value = csc_arrays(np.array([1, 0, 1, 1]), np.array([2, 0, 0, 2]), np.array([1.0, 2.0, 3.0, 4.0]), 3)
    >>> start.tolist(), index.tolist(), value.tolist()
    ([0, 2, 2, 3], [0, 1, 1], [2.0, 3.0, 5.0])
    """
    rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
    n_rows = int(rows.max()) + 1 if len(rows) else 0
    keys, inverse = np.unique(cols * max(n_rows, 1) + rows, return_inverse=True)
    value = np.bincount(inverse.ravel(), weights=np.asarray(vals, dtype=np.float64), minlength=len(keys))
    index = keys % max(n_rows, 1)
    start = np.zeros(n_cols + 1, dtype=np.int64)
    np.cumsum(np.bincount(keys // max(n_rows, 1), minlength=n_cols), out=start[1:])
    return start, index, value


class _TreeModel:
    """The interval LP: alpha, v(t) per constrained step, z_u per tree node (with the tree's rows) from the
    start; v_p columns and (segment, node) rows added on demand."""

    def __init__(self, problem: Problem):
        self.problem = problem
        n = problem.n
        sp, t0, t1, off, cat, cnt = _segments(n, problem.T, problem.init_off, problem.init_pairs, problem.init_counts,
                                              problem.ev_off, problem.ev_pairs, problem.ev_deltas)
        # Steps whose merged pair no category holds constrain nothing (as in the (step, pair) LP): the tree
        # is built over the constrained steps only.
        self.steps = np.flatnonzero(problem.merge_pid >= 0)
        Tc = len(self.steps)
        lo, hi = np.searchsorted(self.steps, t0), np.searchsorted(self.steps, t1)
        keep = lo < hi
        nnz = np.diff(off)
        self.s_pair, self.s_lo, self.s_hi = sp[keep], lo[keep], hi[keep]
        self.s_off = np.concatenate([[0], np.cumsum(nnz[keep])]).astype(np.int64)
        self.s_cat = cat[np.repeat(keep, nnz)]
        self.s_cnt = cnt[np.repeat(keep, nnz)].astype(np.float64)
        N = 1
        while N < max(Tc, 1):
            N *= 2
        self.N, self.Tc = N, Tc
        self.r_seg, self.r_node = _canonical(self.s_lo, self.s_hi, N)
        self.in_model = np.zeros(len(self.r_seg), dtype=np.bool_)
        self.mw = np.ascontiguousarray(problem.merge_w[:, self.steps])
        self._build_base()
        self.pair_col = np.full(problem.P, -1, dtype=np.int64)
        self.model_rows = np.zeros(0, dtype=np.int64)
        self.n_rows = 0
        self.iterations = 0
        self.solves = 0

    def _build_base(self):
        n, N, Tc = self.problem.n, self.N, self.Tc
        self.highspy, self.h = _highs()
        highspy = self.highspy
        nodes = np.arange(1, 2 * N)
        depth = np.floor(np.log2(nodes)).astype(np.int64)
        leftmost = (nodes << (int(np.log2(N)) - depth)) - N
        exists = leftmost < Tc  # nodes entirely beyond the last step are left out
        self.c_vt = n
        c_z = n + Tc
        self.z_col = np.full(2 * N, -1, dtype=np.int64)
        self.z_col[nodes[exists]] = c_z + np.arange(int(exists.sum()))
        self.n_cols = c_z + int(exists.sum())
        cost = np.zeros(self.n_cols)
        cost[n:c_z] = 1.0
        upper = np.full(self.n_cols, np.inf)
        upper[:n] = 1.0
        I, J, V, lo, hi = [np.zeros(n, np.int64)], [np.arange(n)], [np.ones(n)], [np.ones(1)], [np.ones(1)]
        r = 1
        k = np.arange(Tc)
        R = r + k
        I += [R, R, np.repeat(R, n)]
        J += [self.z_col[N + k], self.c_vt + k, np.tile(np.arange(n), Tc)]
        V += [np.ones(Tc), -np.ones(Tc), -self.mw.T.ravel()]
        lo.append(np.full(Tc, -np.inf))
        hi.append(np.zeros(Tc))
        r += Tc
        internal = nodes[(nodes < N) & exists]
        for child in (2 * internal, 2 * internal + 1):
            ch = child[self.z_col[child] >= 0]
            R = r + np.arange(len(ch))
            I += [R, R]
            J += [self.z_col[ch >> 1], self.z_col[ch]]
            V += [np.ones(len(ch)), -np.ones(len(ch))]
            lo.append(np.full(len(ch), -np.inf))
            hi.append(np.zeros(len(ch)))
            r += len(ch)
        start, index, value = csc_arrays(np.concatenate(I), np.concatenate(J), np.concatenate(V), self.n_cols)
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = self.n_cols, r
        lp.col_cost_, lp.col_lower_, lp.col_upper_ = cost, np.zeros(self.n_cols), upper
        lp.row_lower_, lp.row_upper_ = np.concatenate(lo), np.concatenate(hi)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = start.astype(np.int32)
        lp.a_matrix_.index_ = index.astype(np.int32)
        lp.a_matrix_.value_ = value
        if self.h.passModel(lp) != highspy.HighsStatus.kOk:
            raise TokbenchError("could not build the mixture LP; report this with the tokenizer and categories used")

    def add_rows(self, rows: np.ndarray) -> int:
        """Rows v_p + z_u - alpha . c_s >= 0 for the given (segment, node) row ids not yet in the model."""
        rows = np.unique(rows[~self.in_model[rows]])
        if not len(rows):
            return 0
        seg, node = self.r_seg[rows].astype(np.int64), self.r_node[rows].astype(np.int64)
        pair = self.s_pair[seg]
        fresh = np.unique(pair[self.pair_col[pair] < 0])
        if len(fresh):
            self.pair_col[fresh] = self.n_cols + np.arange(len(fresh))
            self.n_cols += len(fresh)
            k = len(fresh)
            self.h.addCols(k, np.ones(k), np.zeros(k), np.full(k, np.inf), 0, np.array([], np.int32),
                           np.array([], np.int32), np.array([]))
        nnz = self.s_off[seg + 1] - self.s_off[seg]
        per = nnz + 2
        starts = np.zeros(len(rows), dtype=np.int64)
        np.cumsum(per[:-1], out=starts[1:])
        idx = np.empty(int(per.sum()), dtype=np.int32)
        val = np.empty(len(idx), dtype=np.float64)
        idx[starts], val[starts] = self.pair_col[pair], 1.0
        idx[starts + 1], val[starts + 1] = self.z_col[node], 1.0
        within = np.arange(int(nnz.sum())) - np.repeat(np.cumsum(nnz) - nnz, nnz)
        src = np.repeat(self.s_off[seg], nnz) + within
        pos = np.repeat(starts + 2, nnz) + within
        idx[pos] = self.s_cat[src]
        val[pos] = -self.s_cnt[src] * self.problem.scale[self.s_cat[src]]
        M = len(rows)
        self.h.addRows(M, np.zeros(M), np.full(M, np.inf), len(idx), starts.astype(np.int32), idx, val)
        self.in_model[rows] = True
        self.model_rows = np.concatenate([self.model_rows, rows])
        self.n_rows += M
        return M

    def solve(self, seconds: float | None = None) -> tuple[np.ndarray, float] | None:
        """Re-solve; None when ``seconds`` ran out first (HiGHS stops itself, so a time limit is kept even
        inside one long re-solve)."""
        if seconds is not None:
            # HiGHS compares its limit with the run time of this object so far.
            self.h.setOptionValue("time_limit", float(self.h.getRunTime()) + max(seconds, 0.01))
        # The first solve starts from nothing with tens of thousands of violated rows: the interior point
        # method (with crossover to a basis) takes a third of the dual simplex's time there (GPT-2, 10
        # categories, 50,000 rows: 41 s vs 133 s on the loaded machine); every later re-solve only adds rows
        # to an optimal basis, which the dual simplex repairs warm.
        # Small first solves (tests, bootstrap replicates from a few seed rows) stay with the simplex.
        self.h.setOptionValue("solver", "ipm" if self.solves == 0 and self.n_rows >= 20_000 else "simplex")
        self.solves += 1
        self.h.run()
        self.iterations += max(int(self.h.getInfo().simplex_iteration_count), 0)
        status = self.h.getModelStatus()
        if status == self.highspy.HighsModelStatus.kTimeLimit and seconds is not None:
            return None
        if status != self.highspy.HighsModelStatus.kOptimal:
            raise TokbenchError(f"the mixture LP did not solve ({self.h.modelStatusToString(status)}); report this with the tokenizer and categories used")
        return np.asarray(self.h.getSolution().col_value), float(self.h.getInfo().objective_function_value)

    def price(self, alpha: np.ndarray, vt: np.ndarray, vp: np.ndarray) -> tuple[np.ndarray, float]:
        """Violation of every (segment, node) row at (alpha, v(t), v_p), and the objective of the cheapest cover
        with these weights and pair slacks (an upper bound on the LP's optimum)."""
        a = alpha @ self.mw
        viol, top = _price_tree(alpha * self.problem.scale, vt + a, vp, self.N, self.Tc, self.s_pair, self.s_off,
                                self.s_cat, self.s_cnt, self.r_seg, self.r_node)
        return viol, float(vp.sum() + np.maximum(top - a, 0.0).sum())

    def rows_of(self, ts: np.ndarray, ps: np.ndarray) -> np.ndarray:
        """The row ids (segment, node) that hold the (step, pair) constraints given (for seeding)."""
        k = np.searchsorted(self.steps, ts)
        ok = (k < self.Tc) & (self.steps[np.minimum(k, self.Tc - 1)] == ts)
        k, ps = k[ok], ps[ok]
        # segment of pair p holding compressed step k: segments are sorted by (pair, lo)
        key_s = self.s_pair * (self.Tc + 1) + self.s_lo
        j = np.searchsorted(key_s, ps * (self.Tc + 1) + k, side="right") - 1
        ok = (j >= 0) & (self.s_pair[np.maximum(j, 0)] == ps) & (self.s_hi[np.maximum(j, 0)] > k)
        seg_j, leaf = j[ok], self.N + k[ok]
        # canonical node of that segment containing the leaf: the row whose node is an ancestor of the leaf
        order = np.argsort(self.r_seg, kind="stable")
        first = np.searchsorted(self.r_seg[order], seg_j, side="left")
        last = np.searchsorted(self.r_seg[order], seg_j, side="right")
        out = []
        for f, l, lf in zip(first, last, leaf):
            for r in order[f:l]:
                u = int(self.r_node[r])
                if (lf >> (int(lf).bit_length() - u.bit_length())) == u:
                    out.append(r)
                    break
        return np.array(out, dtype=np.int64)

    def row_keys(self) -> tuple[np.ndarray, np.ndarray]:
        """(step, pair) stand-ins of the rows in the model (first step the row covers), for seeding a later
        solve of a similar problem (a bootstrap replicate)."""
        rows = self.model_rows
        seg, node = self.r_seg[rows].astype(np.int64), self.r_node[rows].astype(np.int64)
        depth = np.floor(np.log2(node)).astype(np.int64)
        leftmost = (node << (int(np.log2(self.N)) - depth)) - self.N
        k = np.clip(np.maximum(leftmost, self.s_lo[seg]), 0, max(self.Tc - 1, 0))
        return self.steps[k] if self.Tc else k, self.s_pair[seg]


def solve_intervals(problem: Problem, *, max_rows: int = _D.max_rows, max_rounds: int = _D.max_rounds,
                    tolerance: float = _D.tolerance, gap: float = _D.gap, time_limit: float | None = None,
                    advance: Callable[[int], None] | None = None, seed_rows: tuple[np.ndarray, np.ndarray] | None = None,
                    certified: bool = True) -> LPResult:
    """Optimal alpha by lazy row generation over the interval reformulation (see the comment above
    :func:`_segments`).

    Each round prices every (segment, node) row exactly at the LP's point, adds the most violated row of each
    violated segment (at most ``max_rows``, most violated first), and re-solves warm. The LP's objective is a
    lower bound; the cheapest cover for the LP's weights and pair slacks (computed by the pricing pass) an upper
    bound. Stops when nothing is violated (optimal), the relative gap is at most ``gap``, or after
    ``max_rounds`` / ``time_limit``. The answer is then certified by :func:`certify` as in :func:`solve_lazy`.
    ``seed_rows`` (steps, pairs): (step, pair) constraints whose rows to start from (e.g. ``row_steps`` /
    ``row_pairs`` of a solve of a similar problem).
    """
    started = time.perf_counter()
    model = _TreeModel(problem)
    n = problem.n
    if seed_rows is not None and len(seed_rows[0]):
        ts0, ps0 = (np.asarray(a, dtype=np.int64) for a in seed_rows)
        ok = (ts0 >= 0) & (ts0 < problem.T) & (ps0 >= 0) & (ps0 < problem.P)
        model.add_rows(model.rows_of(ts0[ok], ps0[ok]))
    res = LPResult(alpha=np.full(n, 1.0 / n), objective=0.0, converged=False)
    t_solve = t_sweep = 0.0
    lower = 0.0
    best_upper, best_alpha, best_vp = np.inf, res.alpha, np.zeros(problem.P)
    solved = None
    if model.n_rows:
        t0 = time.perf_counter()
        solved = model.solve(None if time_limit is None else time_limit - (t0 - started))
        t_solve += time.perf_counter() - t0
    if solved is not None:
        x, obj = solved
        alpha = np.clip(x[:n], 0, None)
        alpha /= alpha.sum()
        vt = x[model.c_vt:model.c_vt + model.Tc]
        vp = np.where(model.pair_col >= 0, x[np.maximum(model.pair_col, 0)], 0.0)
        lower = obj
    else:
        # No row: any alpha is optimal for the empty LP; price first at the centre of the simplex, so the
        # first rows come from every category.
        alpha, obj = res.alpha, 0.0
        vt, vp = np.zeros(model.Tc), np.zeros(problem.P)
    rnd = 0
    for rnd in range(max_rounds):
        t0 = time.perf_counter()
        viol, upper = model.price(alpha, vt, vp)
        if upper < best_upper:
            best_upper, best_alpha, best_vp = upper, alpha, vp
        violated = np.flatnonzero(viol > tolerance)
        fresh = violated[~model.in_model[violated]]
        if len(fresh):
            # the most violated row of each violated segment, then the most violated of those
            o = fresh[np.lexsort((-viol[fresh], model.r_seg[fresh]))]
            first = np.ones(len(o), dtype=np.bool_)
            first[1:] = model.r_seg[o[1:]] != model.r_seg[o[:-1]]
            fresh = o[first]
            if len(fresh) > max_rows:
                fresh = fresh[np.argpartition(-viol[fresh], max_rows)[:max_rows]]
        t_sweep += time.perf_counter() - t0
        rel_gap = max(best_upper - lower, 0.0) / max(best_upper, 1e-12)
        res.history.append({"round": rnd + 1, "objective": lower, "upper_bound": upper, "gap": rel_gap,
                            "violated": int(len(violated)), "max_violation": float(viol.max()) if len(viol) else 0.0,
                            "rows": model.n_rows})
        if advance is not None:
            advance(1)
        if not len(violated):
            # Nothing violated: the LP's point is feasible for every row, hence optimal.
            res.converged = True
            best_alpha, best_vp, best_upper = alpha, vp, min(best_upper, upper)
            break
        if not len(fresh):
            # Only rows already in the model look violated: HiGHS' tolerances, not a missing constraint.
            res.converged = bool(viol.max() < 1e3 * tolerance)
            break
        if lower > 0 and rel_gap <= gap:
            res.converged = True
            break
        if time_limit is not None and time.perf_counter() - started > time_limit:
            break
        model.add_rows(fresh)
        t0 = time.perf_counter()
        solved = model.solve(None if time_limit is None else time_limit - (t0 - started))
        t_solve += time.perf_counter() - t0
        if solved is None:
            break  # out of time inside the re-solve: the bounds so far stand
        x, obj = solved
        lower = max(lower, obj)
        alpha = np.clip(x[:n], 0, None)
        alpha /= alpha.sum()
        vt = x[model.c_vt:model.c_vt + model.Tc]
        vp = np.where(model.pair_col >= 0, x[np.maximum(model.pair_col, 0)], 0.0)
    res.rounds = rnd + 1
    res.alpha = best_alpha
    if certified:
        t0 = time.perf_counter()
        upper, _ = certify(problem, best_alpha, best_vp)
        res.certify_seconds = time.perf_counter() - t0
        res.objective = upper
    else:
        res.objective = best_upper
    res.lower_bound = lower
    res.gap = max(res.objective - lower, 0.0) / max(res.objective, 1e-12)
    if certified or not res.converged:
        # 'converged' is what the bounds prove (with certify: the independent sweep), not what the loop believed.
        res.converged = res.objective - lower <= max(CERTIFY_RTOL, gap) * max(res.objective, 0.0) + CERTIFY_ATOL
    res.row_steps, res.row_pairs = model.row_keys()
    res.rows, res.columns = model.n_rows, int((model.pair_col >= 0).sum())
    res.solve_seconds, res.sweep_seconds = t_solve, t_sweep
    res.simplex_iterations = model.iterations
    return res


def solve(problem: Problem, *, method: str = _D.solver, **kwargs) -> LPResult:
    """The mixture LP by ``method``: 'intervals' (:func:`solve_intervals`, the default) or 'steps'
    (:func:`solve_lazy`, one row per (step, pair)). Options the chosen method does not have are ignored, so
    callers can pass one set of settings."""
    import inspect

    fn = {"intervals": solve_intervals, "steps": solve_lazy}.get(method)
    if fn is None:
        raise ValueError(f"unknown LP method {method!r} (intervals or steps)")
    allowed = inspect.signature(fn).parameters
    return fn(problem, **{k: v for k, v in kwargs.items() if k in allowed})


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
