"""The interval reformulation of the mixture LP (tokbench.mixture.lp.solve_intervals) against plain references:
segments against a dense recount, the reformulated LP at fixed weights against every (step, pair) row, the
solver against solve_full, and its answers against the independent certificate."""

from __future__ import annotations

import numpy as np
import pytest

from tests.test_mixture import mixture_instance, solve_full_at
from tokbench.mixture.lp import (_TreeModel, all_rows, certify, solve, solve_full, solve_intervals, solve_lazy)


def _instance(seed):
    return mixture_instance(500 + seed, n=int(2 + seed % 4), noise=0.6 + 0.3 * (seed % 3), n_merges=20 + 6 * seed)[0]


@pytest.mark.parametrize("seed", range(6))
def test_segments_are_the_trajectories_in_constant_pieces(seed):
    # Every (constrained step, pair) with a non-zero count lies in exactly one segment, whose counts are
    # the counts at that step; nothing else is in a segment.
    problem = _instance(seed)
    m = _TreeModel(problem)
    ts, ps = all_rows(problem)
    own = np.flatnonzero(problem.merge_pid >= 0)  # the merged pair at its own step is present too
    ts, ps = np.concatenate([ts, own]), np.concatenate([ps, problem.merge_pid[own]])
    dense = problem.counts_at(ts, ps)
    seen = set()
    for s in range(len(m.s_pair)):
        counts = np.zeros(problem.n)
        a, b = m.s_off[s], m.s_off[s + 1]
        counts[m.s_cat[a:b]] = m.s_cnt[a:b] * problem.scale[m.s_cat[a:b]]
        for k in range(m.s_lo[s], m.s_hi[s]):
            key = (int(m.steps[k]), int(m.s_pair[s]))
            assert key not in seen
            seen.add(key)
            row = np.flatnonzero((ts == key[0]) & (ps == key[1]))
            assert len(row), key  # a present pair at a constrained step
            np.testing.assert_allclose(dense[row[0]], counts, rtol=1e-12)
    present = {(int(t), int(p)) for t, p, d in zip(ts, ps, dense) if d.any()}
    assert seen == present


@pytest.mark.parametrize("seed", range(8))
def test_interval_lp_at_fixed_weights_equals_every_row(seed):
    # The exact inner problem: with alpha fixed, the reformulated LP (all its rows) has the optimum of the
    # (step, pair) LP with every row built explicitly.
    problem = _instance(seed)
    alpha = np.random.default_rng(seed).dirichlet(np.ones(problem.n))
    m = _TreeModel(problem)
    for i, a in enumerate(alpha):
        m.h.changeColBounds(i, float(a) - 1e-12, float(a) + 1e-12)
    m.add_rows(np.arange(len(m.r_seg)))
    _, obj = m.solve()
    assert obj == pytest.approx(solve_full_at(problem, alpha), rel=1e-7, abs=1e-6)


@pytest.mark.parametrize("seed", range(6))
def test_pricing_equals_brute_force(seed):
    # Row violations and the cover bound of the pricing pass against every (step, pair) row and certify().
    problem = _instance(seed)
    rng = np.random.default_rng(seed)
    m = _TreeModel(problem)
    alpha = rng.dirichlet(np.ones(problem.n))
    vt = rng.exponential(100.0, size=m.Tc) * (rng.random(m.Tc) < 0.5)
    vp = rng.exponential(200.0, size=problem.P) * (rng.random(problem.P) < 0.5)
    viol, upper = m.price(alpha, vt, vp)
    assert upper == pytest.approx(certify(problem, alpha, vp)[0], rel=1e-9, abs=1e-6)
    ts, ps = all_rows(problem)
    # plus the merged pair's own row at its step (0 >= -v(t) - v_p: never violated, but it is in the segment)
    own = np.flatnonzero(problem.merge_pid >= 0)
    ts, ps = np.concatenate([ts, own]), np.concatenate([ps, problem.merge_pid[own]])
    k = np.searchsorted(m.steps, ts)
    lhs = problem.counts_at(ts, ps) @ alpha - vp[ps] - problem.merge_w[:, ts].T @ alpha - vt[k]
    # the worst violation of each segment's rows = the worst over its (step, pair) rows
    for s in range(len(m.s_pair)):
        mine = viol[m.r_seg == s].max()
        inside = (ps == m.s_pair[s]) & (k >= m.s_lo[s]) & (k < m.s_hi[s])
        assert mine == pytest.approx(lhs[inside].max(), rel=1e-9, abs=1e-6)


@pytest.mark.parametrize("seed", range(10))
def test_intervals_equal_full_lp_and_are_certified(seed):
    problem = _instance(seed)
    full = solve_full(problem)
    res = solve_intervals(problem, max_rows=3 + seed)
    assert res.converged and res.gap <= 1e-5
    # objective: certified upper bound (independent dense sweep) equal to the full LP within 1e-6 relative
    assert res.objective == pytest.approx(full.objective, rel=1e-6, abs=1e-6)
    assert res.lower_bound <= full.objective * (1 + 1e-7) + 1e-6
    assert certify(problem, res.alpha, np.zeros(problem.P))[0] >= full.objective * (1 - 1e-7) - 1e-6
    # the weights are optimal for the full LP (unique optimum or not)
    assert solve_full_at(problem, res.alpha) == pytest.approx(full.objective, rel=1e-6, abs=1e-6)
    for h in res.history:
        assert h["objective"] <= full.objective * (1 + 1e-6) + 1e-6
        assert h["upper_bound"] >= full.objective * (1 - 1e-6) - 1e-6


@pytest.mark.parametrize("seed", range(4))
def test_time_limited_intervals_say_so_and_seeds_help(seed):
    problem = _instance(20 + seed)
    full = solve_full(problem)
    cut = solve_intervals(problem, max_rows=2, max_rounds=2)
    assert cut.objective >= full.objective * (1 - 1e-9) - 1e-9
    assert cut.lower_bound <= full.objective * (1 + 1e-9) + 1e-9
    assert cut.converged == (cut.objective - cut.lower_bound <= 1e-5 * cut.objective + 1e-6)
    first = solve_intervals(problem, max_rows=4)
    again = solve_intervals(problem, seed_rows=(first.row_steps, first.row_pairs))
    assert again.converged and again.objective == pytest.approx(first.objective, rel=1e-5, abs=1e-5)
    assert again.rounds <= first.rounds


def test_dispatch_by_method():
    problem = _instance(3)
    a = solve(problem, method="intervals", rows_per_step=2, purge_after=1)  # options of the other method are ignored
    b = solve(problem, method="steps", max_rows=5)
    assert a.converged and b.converged and a.objective == pytest.approx(b.objective, rel=1e-5, abs=1e-5)
    assert solve_lazy(problem).objective == pytest.approx(b.objective, rel=1e-9)
    with pytest.raises(ValueError):
        solve(problem, method="simplex")


def test_time_limit_holds_inside_a_re_solve():
    # A limit shorter than one re-solve: HiGHS stops itself, the answer says it is not proven, bounds still hold.
    problem = _instance(9)
    full = solve_full(problem)
    res = solve_intervals(problem, time_limit=1e-9)
    assert res.lower_bound <= full.objective * (1 + 1e-9) + 1e-9 <= res.objective * (1 + 2e-9) + 2e-9
    assert res.converged == (res.objective - res.lower_bound <= 1e-5 * res.objective + 1e-6)


@pytest.mark.parametrize("seed", range(5))
def test_csc_arrays_equal_a_dense_reference(seed):
    # The LP's matrix is handed to HiGHS column-wise; the reference is the obvious dense matrix.
    from tokbench.mixture.lp import csc_arrays

    rng = np.random.default_rng(seed)
    n_rows, n_cols, k = int(rng.integers(1, 30)), int(rng.integers(1, 30)), int(rng.integers(0, 200))
    rows, cols = rng.integers(0, n_rows, k), rng.integers(0, n_cols, k)
    vals = rng.normal(size=k) * (rng.random(k) < 0.8)  # some explicit zeros, many repeated entries
    dense = np.zeros((n_rows, n_cols))
    np.add.at(dense, (rows, cols), vals)
    start, index, value = csc_arrays(rows, cols, vals, n_cols)
    assert start[0] == 0 and start[-1] == len(index) == len(value) and np.all(np.diff(start) >= 0)
    back = np.zeros((n_rows, n_cols))
    for j in range(n_cols):
        rs = index[start[j]:start[j + 1]]
        assert np.all(np.diff(rs) > 0)  # rows sorted and distinct within a column
        back[rs, j] = value[start[j]:start[j + 1]]
    np.testing.assert_allclose(back, dense, rtol=0, atol=1e-12)
    assert len(index) == len(set(zip(rows.tolist(), cols.tolist())))  # every entry given is kept, zeros included
