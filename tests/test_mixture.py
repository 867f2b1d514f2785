"""Data mixture inference: pair-count trajectories vs a slow reference, lazy vs full LP, known mixtures."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from tokbench.mixture.baselines import log10_mse, token_classification
from tokbench.mixture.lp import Problem, byte_proportions, solve_full, solve_lazy
from tokbench.mixture.paircount import PairIndex, count_all, count_pairs
from tokbench.mixture.reference import apply_merge, pair_trajectory, train_bpe
from tokbench.mixture.words import SymbolTable, Words, boundary_safe_split


def random_corpus(rng, n_symbols, n_words, max_len, skew=1.0):
    probs = rng.dirichlet(np.full(n_symbols, skew))
    words = Counter(tuple(rng.choice(n_symbols, size=int(rng.integers(1, max_len + 1)), p=probs)) for _ in range(n_words))
    return [list(map(int, w)) for w in words], list(words.values())


# --- pair counting ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(12))
def test_trajectories_equal_slow_recount(seed):
    rng = np.random.default_rng(seed)
    S = int(rng.integers(2, 6))
    words, counts = random_corpus(rng, S, int(rng.integers(1, 40)), 12)
    counts = [int(c) * int(rng.integers(1, 4)) for c in counts]
    # merges: greedy BPE on the corpus for half, random pairs (often absent) for the rest
    merges = train_bpe(words, counts, 8, S)
    nsym = S + len(merges)
    for _ in range(6):
        a, b = (int(x) for x in rng.integers(0, nsym, size=2))
        merges.append((a, b, nsym))
        nsym += 1
    merges = np.array(merges, dtype=np.int32).reshape(-1, 3)
    index = PairIndex()
    tr = count_pairs(Words.from_lists(words, counts), merges, index, nsym)
    steps, tokens = pair_trajectory(words, counts, merges)
    pairs = index.pairs()
    for t in range(len(merges)):
        dense = tr.counts_at(t, len(index))
        got = {(int(pairs[p, 0]), int(pairs[p, 1])): int(v) for p, v in enumerate(dense) if v}
        assert got == dict(steps[t]), f"step {t}"
        a, b, _ = merges[t]
        assert tr.merge_counts[t] == steps[t].get((int(a), int(b)), 0)
        # one event per changed pair per merge, never a zero delta
        lo, hi = tr.ev_offsets[t], tr.ev_offsets[t + 1]
        assert len(set(tr.ev_pairs[lo:hi].tolist())) == hi - lo and np.all(tr.ev_deltas[lo:hi] != 0)
    assert {i: int(v) for i, v in enumerate(tr.token_counts) if v} == dict(tokens)
    assert tr.total_pairs == sum(steps[0].values()) if len(merges) else True


def test_pair_counting_golden():
    # 'aaaa' x2 and 'ab' x1 with merges a+a -> c, c+c -> d: by hand, (a,a) is 6 then gone, (c,c) is 2.
    w = Words.from_lists([[0, 0, 0, 0], [0, 1]], [2, 1])
    tr = count_pairs(w, np.array([[0, 0, 2], [2, 2, 3]], np.int32), PairIndex(), 4)
    assert tr.merge_counts.tolist() == [6, 2]
    assert tr.total_pairs == 7
    assert tr.token_counts.tolist() == [1, 1, 0, 2]


def test_apply_merge_reference_examples():
    assert apply_merge([1, 1, 1, 1], 1, 1, 9) == [9, 9]
    assert apply_merge([1, 2, 1, 2, 1], 1, 2, 9) == [9, 9, 1]


def test_symbol_table_and_boundary_rule():
    t = SymbolTable.from_merges([("▁", "t"), ("▁t", "he")])
    assert t.strings[:3] == ["▁", "t", "▁t"] and t.merges.shape == (2, 3)
    assert boundary_safe_split([("▁", "t"), ("▁▁", "▁")])
    assert not boundary_safe_split([("t", "▁")])


# --- the LP -------------------------------------------------------------------------------------------------


def mixture_instance(seed, n=3, S=6, noise=0.0, n_merges=30):
    """Categories with different symbol distributions; merges trained on a known integer mixture of them
    (plus, with ``noise``, an unseen extra category so the LP needs slack)."""
    rng = np.random.default_rng(seed)
    cats = [random_corpus(rng, S, 150, 7, skew=0.4) for _ in range(n)]
    k = rng.integers(1, 5, size=n)
    all_w, all_c = [], []
    for (ws, cs), ki in zip(cats, k):
        all_w += ws
        all_c += [c * int(ki) for c in cs]
    if noise:
        ws, cs = random_corpus(rng, S, int(150 * noise), 7, skew=0.4)
        all_w += ws
        all_c += cs
    merges = np.array(train_bpe(all_w, all_c, n_merges, S), dtype=np.int32)
    words = [Words.from_lists(ws, cs, n_bytes=sum(len(w) * c for w, c in zip(ws, cs))) for ws, cs in cats]
    trs, index = count_all(words, merges, S + len(merges))
    truth = k * np.array([w.n_bytes for w in words], dtype=np.float64)
    return Problem.build(trs, merges, index), words, trs, truth / truth.sum()


HAND_BUILT = {
    "english": ["The cat sat on the mat and the dog sat on the log.", "A quick brown fox jumps over the lazy dog again."],
    "german": ["Der Hund schläft unter dem Tisch und die Katze auch.", "Wir lesen heute Abend ein sehr schönes Buch."],
    "python": ["def add(a, b):\n    return a + b\n", "for i in range(10):\n    print(i * i)\n"],
}


def test_hand_built_three_categories_recover_their_proportions(tmp_path):
    # A byte-level BPE trained (to exhaustion) on 1x english + 2x german + 3x python; inferring from the
    # same three samples must give back those shares of training bytes: 1*b_en : 2*b_de : 3*b_py.
    from tests.tokenizer_builders import train_bytelevel_bpe
    from tokbench.mixture.infer import Category, infer_mixture
    from tokbench.mixture.config import MixtureConfig
    from tokbench.tokenizer import load_tokenizer

    mult = {"english": 1, "german": 2, "python": 3}
    train = [t for name, texts in HAND_BUILT.items() for t in texts * mult[name]]
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(train, trainers.BpeTrainer(vocab_size=2000, show_progress=False,
                                                       initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tok.save(str(tmp_path / "tokenizer.json"))
    tb = load_tokenizer(str(tmp_path / "tokenizer.json"))
    cats = [Category(name, texts) for name, texts in HAND_BUILT.items()]
    res = infer_mixture(tb, cats, MixtureConfig(merges=len(tb.model_merges()), min_bytes=10))
    truth = np.array([mult[c.name] * c.n_bytes for c in cats], dtype=np.float64)
    assert res.lp.converged and res.lp.objective == pytest.approx(0, abs=1e-6)
    np.testing.assert_allclose(res.proportions, truth / truth.sum(), atol=0.02)
    assert log10_mse(res.proportions, truth / truth.sum()) < log10_mse(res.tc, truth / truth.sum())


@pytest.mark.parametrize("seed", range(4))
def test_lazy_recovers_known_mixture(seed):
    problem, words, trs, truth = mixture_instance(seed)
    res = solve_lazy(problem)
    props = byte_proportions(res.alpha, [w.n_bytes for w in words], [t.total_pairs for t in trs])
    assert res.converged
    assert log10_mse(props, truth) < -5


@pytest.mark.parametrize("purge_after", [0, 1, 3])
@pytest.mark.parametrize("seed", range(8))
def test_lazy_equals_full_lp(seed, purge_after):
    problem, words, trs, _ = mixture_instance(100 + seed, n=int(2 + seed % 3), noise=0.8 + 0.2 * (seed % 4), n_merges=25 + 5 * seed)
    lazy = solve_lazy(problem, rows_per_step=1 + seed % 3, purge_after=purge_after)
    full = solve_full(problem)
    assert lazy.converged
    assert lazy.objective == pytest.approx(full.objective, rel=1e-6, abs=1e-6)
    assert lazy.rows < full.rows  # the point of lazy generation
    # Every round's bounds bracket the optimum: the relaxed objective from below, the separation point with
    # its slacks raised by the worst violation found per step from above (an upper bound that was once
    # underestimated, by keying the heap on W_p instead of W_p - v_p, stopped the solver early).
    for h in lazy.history:
        assert h["objective"] <= full.objective * (1 + 1e-6) + 1e-6
        assert h["upper_bound"] >= full.objective * (1 - 1e-6) - 1e-6
    # With a unique optimum the weights agree; in general the lazy alpha must be optimal for the full LP.
    check = solve_full_at(problem, lazy.alpha)
    assert check == pytest.approx(full.objective, rel=1e-6, abs=1e-6)


def solve_full_at(problem, alpha):
    """Objective of the full LP with alpha fixed (the slacks re-optimised)."""
    import highspy

    from tokbench.mixture.lp import _Model, _row_coefficients, all_rows

    model = _Model(problem.n, problem.T, problem.P)
    for i, a in enumerate(alpha):
        model.h.changeColBounds(i, float(a) - 1e-12, float(a) + 1e-12)
    ts, ps = all_rows(problem)
    model.add_rows(ts, ps, _row_coefficients(problem, ts, ps))
    _, obj = model.solve()
    return obj


def test_byte_proportions_and_scores():
    assert byte_proportions(np.array([1.0, 0.0]), [10, 10], [5, 5]).tolist() == [1.0, 0.0]
    assert log10_mse([0.2, 0.8], [0.2, 0.8]) <= -29
    tc = token_classification([np.array([0, 0, 9, 1]), np.array([0, 0, 1, 9])], np.array([2, 3]))
    assert tc.tolist() == [0.5, 0.5]


def test_simulation_pools_are_disjoint_and_reproducible():
    from tokbench.mixture.config import SimulationConfig
    from tokbench.mixture.simulate import eligible_languages, shuffled_pool, split_pool

    langs = eligible_languages(SimulationConfig())
    # one variant per language, and no language too small to train on
    assert "en-us" in langs and "en-gb" not in langs and "pt-br" not in langs and "zh-tw" not in langs
    assert "hi" not in langs and len(langs) >= 25
    docs = [f"document {i} " * (i % 7 + 1) for i in range(200)]
    a, b = shuffled_pool(docs, 3, "de"), shuffled_pool(docs, 3, "de")
    assert a == b and a != docs and sorted(a) == sorted(docs)
    assert shuffled_pool(docs, 3, "fr") != a
    train, rest = split_pool(a, 1000)
    assert sum(len(t.encode()) for t in train) == 1000
    # every document is in exactly one side (the cut one: its head trains, the rest of the pool infers)
    assert train[:-1] == a[: len(train) - 1] and rest == a[len(train):]


def test_simulation_end_to_end_small():
    from tokbench.mixture.config import SimulationConfig
    from tokbench.mixture.simulate import run_simulation

    cfg = SimulationConfig(n=2, trials=1, seed=1, merges=300, train_bytes=60_000, time_limit=60, bootstrap=3)
    sim = run_simulation(cfg)
    (t,) = sim.trials
    assert t.solver["converged"] and t.merges == 300
    assert min(t.sample_bytes) > 300_000  # inference uses the rest of each pool, not a small dev split
    s = t.scores()
    assert s["method"] < s["random"] and s["method"] < -3
    # intervals for both languages, and the calibration figure counts them
    assert t.intervals.shape == (2, 2) and sim.coverage() in (0.0, 0.5, 1.0)
    assert sim.to_json()["trials"][0]["intervals"] == t.intervals.tolist()


@pytest.mark.parametrize("seed", range(6))
def test_certify_equals_brute_force_over_every_row(seed):
    # The certificate's dense sweep against the plainest possible check: every (t, p) row built explicitly.
    from tokbench.mixture.lp import all_rows, certify

    problem, *_ = mixture_instance(200 + seed, n=int(2 + seed % 3), noise=0.5 + 0.3 * (seed % 3), n_merges=20 + 4 * seed)
    rng = np.random.default_rng(seed)
    alpha = rng.dirichlet(np.ones(problem.n))
    vp = rng.exponential(200.0, size=problem.P) * (rng.random(problem.P) < 0.5)
    obj, vt = certify(problem, alpha, vp)
    ts, ps = all_rows(problem)
    lhs = problem.counts_at(ts, ps) @ alpha - vp[ps] - (problem.merge_w[:, ts].T @ alpha)
    need = np.zeros(problem.T)
    np.maximum.at(need, ts, lhs)
    np.testing.assert_allclose(vt, need, rtol=1e-9, atol=1e-6)
    assert obj == pytest.approx(need.sum() + vp.sum(), rel=1e-9, abs=1e-6)


@pytest.mark.parametrize("seed", range(4))
def test_lazy_answer_is_certified_and_time_limited_runs_say_so(seed):
    problem, *_ = mixture_instance(300 + seed, n=3, noise=1.0, n_merges=40)
    full = solve_full(problem)
    done = solve_lazy(problem)
    assert done.converged and done.lower_bound <= done.objective * (1 + 1e-9) + 1e-9
    assert done.objective == pytest.approx(full.objective, rel=1e-5, abs=1e-5)
    # One round only: the answer is still certified (an upper bound checked on every row), with its gap.
    cut = solve_lazy(problem, max_rounds=2)
    assert cut.objective >= full.objective * (1 - 1e-9) - 1e-9 and cut.lower_bound <= full.objective * (1 + 1e-9) + 1e-9
    assert cut.converged == (cut.gap <= 1e-5 + 1e-9)


def test_seed_rows_start_from_a_previous_solve():
    problem, *_ = mixture_instance(77, n=3, noise=1.0, n_merges=40)
    first = solve_lazy(problem)
    again = solve_lazy(problem, seed_rows=(first.row_steps, first.row_pairs))
    assert again.converged and again.objective == pytest.approx(first.objective, rel=1e-5, abs=1e-5)
    assert again.rounds <= first.rounds


# --- bootstrap ----------------------------------------------------------------------------------------------


def _word_multiset(w):
    return sorted((tuple(w.symbols[w.offsets[i]:w.offsets[i + 1]].tolist()), int(w.counts[i]))
                  for i in range(w.n_words) if w.offsets[i + 1] > w.offsets[i])


@pytest.mark.parametrize("over,draw", [("merges", "half"), ("merges", "replace"), ("documents", "half"), ("both", "half")])
def test_bootstrap_intervals_are_reproducible_for_a_seed(tmp_path, over, draw):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    from tokbench.mixture.config import MixtureConfig
    from tokbench.mixture.infer import Category, infer_mixture
    from tokbench.tokenizer import load_tokenizer

    rng = np.random.default_rng(0)
    texts = {name: [" ".join(rng.choice(" ".join(ts).split(), size=12)) for _ in range(30)] for name, ts in HAND_BUILT.items()}
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    # Trained on other draws of the same words than the samples hold (as real training text differs from a
    # sample): the LP then needs slack, its optimum is unique, and redrawn merges or documents move it.
    train = [" ".join(rng.choice(" ".join(ts).split(), size=12)) for ts in HAND_BUILT.values() for _ in range(30)]
    tok.train_from_iterator(train, trainers.BpeTrainer(
        vocab_size=400, show_progress=False, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tok.save(str(tmp_path / "tokenizer.json"))
    tb = load_tokenizer(str(tmp_path / "tokenizer.json"))
    cats = [Category(name, ts) for name, ts in texts.items()]
    # No wall-clock limits: a limit that bites under a loaded machine would make the replicates depend on load.
    cfg = dict(min_bytes=10, bootstrap=5, bootstrap_over=over, bootstrap_block=5, merge_draw=draw,
               time_limit=None, bootstrap_time_limit=None)
    runs = [infer_mixture(tb, cats, MixtureConfig(seed=s, **cfg)) for s in (3, 3, 4)]
    a, b, c = (r.intervals for r in runs)
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-9)
    assert not np.allclose(a, c)
    for r in runs:
        assert np.all(r.intervals[:, 0] <= r.proportions + 1e-12) and np.all(r.proportions <= r.intervals[:, 1] + 1e-12)
        assert r.bootstrap["replicates"] == 5 and 0 <= r.bootstrap["converged_uncertified"] <= 5
        assert r.bootstrap["over"] == over and np.array(r.bootstrap["replicate_proportions"]).shape == (5, 3)
        rows = r.rows()
        assert all(row["low"] is not None and row["high"] is not None for row in rows)
    assert infer_mixture(tb, cats, MixtureConfig(min_bytes=10, bootstrap=0)).intervals is None


def test_simulation_with_distractors_mixed_corpora_and_domain_shift():
    from tokbench.mixture.config import SimulationConfig
    from tokbench.mixture.simulate import eligible_languages, run_simulation

    assert "code:python" in eligible_languages(SimulationConfig(corpus="libreoffice+code"))
    shift = SimulationConfig(n=2, trials=1, seed=2, merges=300, train_bytes=60_000, time_limit=30, distractors=1,
                             train_corpus="gnome-help", sample_bytes=200_000)
    assert set(eligible_languages(shift)) <= set(eligible_languages(SimulationConfig()))
    sim = run_simulation(shift)
    (t,) = sim.trials
    assert max(t.sample_bytes) <= 200_000
    assert len(t.languages) == 3 and t.truth[-1] == 0 and t.truth[:2].sum() == pytest.approx(1)
    assert sim.distractor_share() == pytest.approx(t.inferred[-1]) and 0 <= sim.distractor_share() < 0.5


# --- calibrated intervals: the merge-window bootstrap ----------------------------------------------------------


def weighted_lp_reference(problem, weights, alpha=None):
    """The LP with objective sum_t weights[t] v(t) + sum_p v_p written out in full with scipy (every row of
    every step of weight > 0; nothing from tokbench.mixture.lp's model): (objective, alpha). ``alpha``: fixed
    weights (the slacks re-optimised)."""
    from scipy.optimize import linprog
    from scipy.sparse import coo_matrix

    from tokbench.mixture.lp import all_rows

    n, T, P = problem.n, problem.T, problem.P
    ts, ps = all_rows(problem)
    keep = weights[ts] > 0
    ts, ps = ts[keep], ps[keep]
    coef = problem.merge_w[:, ts].T - problem.counts_at(ts, ps)  # (R, n): c_m - c_p
    R = len(ts)
    # -(sum_i alpha_i coef_i + v(t) + v_p) <= 0
    rows = np.repeat(np.arange(R), n + 2)
    cols = np.concatenate([np.arange(n)[None, :].repeat(R, 0), (n + ts)[:, None], (n + T + ps)[:, None]], axis=1).ravel()
    vals = -np.concatenate([coef, np.ones((R, 2))], axis=1).ravel()
    A = coo_matrix((vals, (rows, cols)), shape=(R, n + T + P))
    c = np.concatenate([np.zeros(n), weights.astype(np.float64), np.ones(P)])
    bounds = [(0, None)] * (n + T + P) if alpha is None else [(a, a) for a in alpha] + [(0, None)] * (T + P)
    res = linprog(c, A_ub=A, b_ub=np.zeros(R), A_eq=np.concatenate([np.ones(n), np.zeros(T + P)])[None, :],
                  b_eq=[1.0], bounds=bounds, method="highs")
    assert res.status == 0, res.message
    return res.fun, res.x[:n]


@pytest.mark.parametrize("seed", range(6))
def test_merge_window_resampling_equals_the_weighted_lp(seed):
    # A replicate's LP (steps repeated by weight_steps, solved lazily from the full solve's rows mapped onto
    # the copies) equals the LP with weights on v(t) written out in full by a slow reference.
    from tokbench.mixture.bootstrap import block_weights, half_windows, keep_steps, weight_steps, weighted_rows
    from tokbench.mixture.lp import solve

    problem, *_ = mixture_instance(300 + seed, n=int(2 + seed % 3), noise=1.0, n_merges=30 + 4 * seed)
    full = solve_lazy(problem)
    rng = np.random.default_rng(seed)
    for block in (1, 4, 9):
        w = block_weights(problem.T, seed % 3, block, rng)
        assert w.sum() >= problem.T - seed % 3 - block and (w[: seed % 3] == 0).all()
        prob, first = weight_steps(problem, w)
        lazy = solve_lazy(prob, seed_rows=weighted_rows((full.row_steps, full.row_pairs), w, first), certified=True)
        ref_obj, _ = weighted_lp_reference(problem, w)
        assert lazy.converged
        assert lazy.objective == pytest.approx(ref_obj, rel=1e-6, abs=1e-6)
        # the lazy weights are optimal for the reference LP too (the optimum need not be unique)
        assert weighted_lp_reference(problem, w, lazy.alpha)[0] == pytest.approx(ref_obj, rel=1e-5, abs=1e-5)
        # the default solver (whatever `solve` dispatches to) on the same transformed problem
        default = solve(prob, seed_rows=weighted_rows((full.row_steps, full.row_pairs), w, first))
        assert default.converged and default.objective == pytest.approx(ref_obj, rel=1e-6, abs=1e-6)
        # a half-sample: only the kept windows' steps get rows (weights 0/1)
        keep = half_windows(problem.T, seed % 3, block, rng)
        assert keep.sum() >= (problem.T - seed % 3) // 2 - block and not keep[: seed % 3].any()
        sel = keep[full.row_steps]
        half = solve_lazy(keep_steps(problem, keep), seed_rows=(full.row_steps[sel], full.row_pairs[sel]))
        ref_obj, _ = weighted_lp_reference(problem, keep.astype(np.int64))
        assert half.converged and half.objective == pytest.approx(ref_obj, rel=1e-6, abs=1e-6)
        assert weighted_lp_reference(problem, keep.astype(np.int64), half.alpha)[0] == pytest.approx(ref_obj, rel=1e-5, abs=1e-5)


def test_weight_steps_with_unit_weights_is_the_same_problem():
    from tokbench.mixture.bootstrap import weight_steps, weighted_rows

    problem, *_ = mixture_instance(7, n=3, noise=1.0)
    same, first = weight_steps(problem, np.ones(problem.T, dtype=np.int64))
    assert first.tolist() == list(range(problem.T))
    for name in ("merge_pid", "merge_w", "ev_off"):
        np.testing.assert_array_equal(getattr(same, name), getattr(problem, name))
    w = np.array([2, 0, 3] + [1] * (problem.T - 3))
    prob, first = weight_steps(problem, w)
    assert prob.T == problem.T + 3 and first[:4].tolist() == [0, 2, 3, 6]
    assert prob.merge_pid[2] == -1 and (prob.merge_pid[3:6] == problem.merge_pid[2]).all()
    # every copy sees step t's counts
    ps = np.arange(problem.P)
    for t in range(problem.T):
        for k in range(max(w[t], 1)):
            np.testing.assert_array_equal(prob.counts_at(np.full(problem.P, first[t] + k), ps),
                                          problem.counts_at(np.full(problem.P, t), ps))
    ts, rp = weighted_rows((np.array([0, 1, 2]), np.array([5, 6, 7])), w, first)
    assert ts.tolist() == [0, 1, 3, 4, 5] and rp.tolist() == [5, 5, 7, 7, 7]


def test_interval_constructions_and_coverage_statistic():
    from tokbench.mixture.bootstrap import binomial_interval, interval
    from tokbench.mixture.config import SimulationConfig
    from tokbench.mixture.simulate import Simulation, Trial

    reps = np.array([[0.1, 0.9], [0.2, 0.8], [0.3, 0.7], [0.4, 0.6], [0.5, 0.5]])
    point = np.array([0.3, 0.7])
    np.testing.assert_allclose(interval(point, reps, 0.9, "percentile"), [[0.12, 0.48], [0.52, 0.88]])
    sd = np.std([0.1, 0.2, 0.3, 0.4, 0.5], ddof=1)
    np.testing.assert_allclose(interval(point, reps, 0.9, "normal"), [[0.3 - 1.6449 * sd, 0.3 + 1.6449 * sd],
                                                                      [0.7 - 1.6449 * sd, 0.7 + 1.6449 * sd]])
    # a point outside its replicates' range is still inside its own interval
    assert interval(np.array([0.0, 1.0]), reps, 0.9, "percentile").tolist() == [[0.0, 0.48], [0.52, 1.0]]
    with pytest.raises(ValueError):
        interval(point, reps, 0.9, "bca")
    # A constructed simulation: 3 trials x 2 categories, truth inside 4 of 6 intervals (one trial unconverged).
    truth = np.array([0.25, 0.75])
    ivs = [np.array([[0.2, 0.3], [0.7, 0.8]]), np.array([[0.26, 0.3], [0.7, 0.8]]), np.array([[0.0, 0.1], [0.75, 0.9]])]
    sim = Simulation(SimulationConfig(n=2))
    for k, iv in enumerate(ivs):
        sim.trials.append(Trial(["a", "b"], truth, (iv[:, 0] + iv[:, 1]) / 2, truth, truth, 10, 100, 1.0,
                                {"converged": k != 2}, [], iv, np.stack([iv[:, 0], iv[:, 1]])))
    c = sim.coverage_counts()
    assert (c["hits"], c["pairs"]) == (4, 6) and c["rate"] == pytest.approx(4 / 6)
    # Wilson 95%: p=2/3, n=6, z=1.96 -> centre (p + z^2/12) / (1 + z^2/6), by hand
    z = 1.96
    centre = (4 / 6 + z * z / 12) / (1 + z * z / 6)
    half = z * np.sqrt((4 / 6) * (2 / 6) / 6 + z * z / 144) / (1 + z * z / 6)
    assert (c["rate_95_low"], c["rate_95_high"]) == pytest.approx((centre - half, centre + half), abs=1e-4)
    assert binomial_interval(6, 6)[1] == pytest.approx(1.0) and binomial_interval(0, 6)[0] == pytest.approx(0.0)
    conv = sim.coverage_counts(converged_only=True)
    assert (conv["hits"], conv["pairs"]) == (3, 4)
    # recomputed from the replicates (each trial's two replicates are its interval's ends, so the 5-95%
    # percentile interval is a little shorter: trial 3's [0.75, 0.9] becomes [0.7575, 0.8925], losing 0.75)
    assert sim.coverage_counts("percentile")["hits"] == 3
    rows = sim.calibration_rows()
    # SimulationConfig's defaults: normal intervals x 2.0 reported; both constructions at scales 1 and 2
    assert {(r["interval"], r["scale"]) for r in rows} == {("percentile", 1.0), ("percentile", 2.0), ("normal", 1.0),
                                                           ("normal (reported)", 2.0)}
    assert rows[0]["inside"] == "3/6"
    # scaled: normal half-width 2 x 1.645 x sd; by hand for trial 2's first share: point 0.28, sd 0.0283 -> 0.0931
    iv = interval(np.array([0.28]), np.array([[0.26], [0.3]]), 0.9, "normal", 2.0)
    assert iv[0, 1] - 0.28 == pytest.approx(2 * 1.6449 * np.std([0.26, 0.3], ddof=1))
    assert interval(np.array([0.3]), np.array([[0.1], [0.5]]), 0.9, "percentile", 2.0)[0].tolist() == pytest.approx([0.0, 0.66])
