"""Error bars for inferred shares: a bootstrap over merge windows and/or over documents.

The LP's answer depends on two samples: the merge steps (each step is one noisy observation of which pair
the training text made most frequent; the tokenizer's training sample is finite, so late merges are
decided by a few occurrences) and the inference documents of each category. A replicate redraws either or
both and solves the LP again, starting from the rows of the full solve:

* merges (the default): the constrained steps are cut into consecutive windows of ``block`` steps
  (neighbouring merges share pairs and counts, so they are drawn together). By default a replicate keeps a
  random half of the windows (half-sampling, :func:`half_windows`: its spread around the full answer needs
  no rescaling, and its LP has half the constraints); ``merge_draw='replace'`` instead draws as many windows
  as there are with replacement (a block bootstrap), and a step drawn k times weighs k in the objective
  (k * v(t)), applied by :func:`weight_steps`, which repeats a drawn step (a copy with no count changes has
  the same constraints, so its slack equals the original's) instead of changing the solver. Either way a
  step not drawn constrains nothing, the pair counts do not change, and a replicate costs one LP solve
  started from the full solve's rows, no recounting.
* documents: every document of every category gets an independent Poisson(1) weight (seeded; the streaming
  form of drawing n documents out of n with replacement, made while the text is read, see
  :mod:`tokbench.mixture.counting`), the pairs are recounted from the re-weighted pre-token counts, and the
  LP is re-solved.
* both: each replicate does both draws.

The interval beside a share is by default point +- scale * z * sd of the replicates (z = 1.645 for 90%),
cut to [0, 1]; ``percentile`` uses the replicates' 5th and 95th percentiles instead (their distances from
the point times ``scale``). The scale (MixtureConfig.interval_scale, 2.0) is measured, not derived: in
``simulate`` (tokenizers trained on known mixtures, inferred from other text of the same languages) the
replicates' spread is about half the actual error, because what they redraw -- the merge steps -- is not
all that varies: the tokenizer's own training text (unknown to the user, smaller than the samples for a
rare category) and its differences from the samples are never resampled. How often the scaled intervals
hold the truth, on trials not used to choose the scale, is in reports/mixture/README.md.

What no replicate sees: text of a kind no category covers, and the gap of an LP stopped before its optimum
(a replicate's LP has its own time limit; an unconverged full solve is flagged in the output, and its
intervals are not calibrated).
"""

from __future__ import annotations

import time
from typing import Callable, Sequence

import numpy as np

# The replicates' pre-token counts are made on the data side, while each category is streamed.
from tokbench.mixture.counting import CategoryCounts, subset_words  # noqa: F401  (subset_words: re-exported)

#: z of a two-sided normal interval per level.
_Z = {0.8: 1.2816, 0.9: 1.6449, 0.95: 1.9600, 0.99: 2.5758}


def normal_interval(point: np.ndarray, replicates: np.ndarray, level: float = 0.9, scale: float = 1.0) -> np.ndarray:
    """(n, 2) [low, high]: point +- scale * z * std over the replicates (axis 0), cut to [0, 1].

    >>> normal_interval(np.array([0.5, 0.5]), np.array([[0.4, 0.6], [0.6, 0.4]])).round(3).tolist()
    [[0.267, 0.733], [0.267, 0.733]]
    """
    if level not in _Z:
        raise ValueError(f"level must be one of {sorted(_Z)}")
    sd = replicates.std(axis=0, ddof=1) if len(replicates) > 1 else np.zeros(len(point))
    half = scale * _Z[level] * sd
    return np.clip(np.stack([point - half, point + half], axis=1), 0.0, 1.0)


def percentile_interval(point: np.ndarray, replicates: np.ndarray, level: float = 0.9, scale: float = 1.0) -> np.ndarray:
    """(n, 2) [low, high]: the (1-level)/2 and (1+level)/2 quantiles of the replicates (axis 0), widened to
    hold the point estimate itself (with few replicates a skewed spread can otherwise exclude it); ``scale``
    stretches each end's distance from the point.

    >>> percentile_interval(np.array([0.5]), np.array([[0.4], [0.5], [0.6]]), 0.9).round(3).tolist()
    [[0.41, 0.59]]
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1 (got {level})")
    if len(replicates) < 2:
        return np.stack([point, point], axis=1)
    q = np.quantile(replicates, [(1 - level) / 2, (1 + level) / 2], axis=0).T
    low = point - scale * np.maximum(point - q[:, 0], 0.0)
    high = point + scale * np.maximum(q[:, 1] - point, 0.0)
    return np.clip(np.stack([low, high], axis=1), 0.0, 1.0)


#: Interval constructions by name (config ``interval_method``).
INTERVALS = {"percentile": percentile_interval, "normal": normal_interval}


def interval(point: np.ndarray, replicates: np.ndarray, level: float = 0.9, method: str = "normal",
             scale: float = 1.0) -> np.ndarray:
    """(n, 2) interval of every share from bootstrap ``replicates`` ((R, n)) by ``method``, its half-widths
    multiplied by ``scale`` (see MixtureConfig.interval_scale)."""
    if method not in INTERVALS:
        raise ValueError(f"interval method must be one of {sorted(INTERVALS)} (got {method!r})")
    if not scale > 0:
        raise ValueError(f"interval scale must be positive (got {scale})")
    return INTERVALS[method](np.asarray(point, dtype=np.float64), np.asarray(replicates, dtype=np.float64), level, scale)


def binomial_interval(hits: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion hits/n (the uncertainty of a measured coverage).

    >>> [round(x, 4) for x in binomial_interval(45, 50)]
    [0.7864, 0.9565]
    >>> binomial_interval(0, 0)
    (0.0, 1.0)
    """
    if n <= 0:
        return 0.0, 1.0
    z = _Z.get(level) or float(__import__("statistics").NormalDist().inv_cdf((1 + level) / 2))
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(max(centre - half, 0.0)), float(min(centre + half, 1.0))


def block_weights(T: int, skip: int, block: int, rng: np.random.Generator) -> np.ndarray:
    """(T,) int64 weight of every merge step in one block-bootstrap draw: steps skip..T-1 are cut into
    consecutive windows of ``block`` steps (the last one shorter), as many windows as there are are drawn
    with replacement, and a step weighs the number of times its window was drawn (0 before ``skip``).

    >>> block_weights(10, 2, 3, np.random.default_rng(1)).tolist()
    [0, 0, 1, 1, 1, 2, 2, 2, 0, 0]
    """
    if block < 1:
        raise ValueError(f"block must be at least 1 (got {block})")
    w = np.zeros(T, dtype=np.int64)
    n = T - skip
    if n <= 0:
        return w
    n_blocks = -(-n // block)
    drawn = rng.multinomial(n_blocks, np.full(n_blocks, 1.0 / n_blocks))
    w[skip:] = np.repeat(drawn, block)[:n]
    return w


def half_windows(T: int, skip: int, block: int, rng: np.random.Generator) -> np.ndarray:
    """(T,) bool: the steps of a random half of the windows of ``block`` consecutive steps in skip..T-1
    (floor(windows / 2) of them, drawn without replacement; False before ``skip``).

    Half-sampling (the delete-half jackknife): an estimate from half of N independent pieces, drawn without
    replacement, differs from the estimate from all N by as much as the latter differs from the truth
    (for a mean: var = sigma^2 / (N/2) * (1 - 1/2) = sigma^2 / N), so the spread of such replicates around the
    full answer needs no rescaling, and each replicate's LP has half the constraints of the full one.

    >>> half_windows(12, 2, 3, np.random.default_rng(0)).astype(int).tolist()  # 2 of the 4 windows
    [0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0]
    """
    if block < 1:
        raise ValueError(f"block must be at least 1 (got {block})")
    keep = np.zeros(T, dtype=np.bool_)
    n = T - skip
    if n <= 0:
        return keep
    n_blocks = -(-n // block)
    chosen = np.zeros(n_blocks, dtype=np.bool_)
    chosen[rng.permutation(n_blocks)[: max(n_blocks // 2, 1)]] = True
    keep[skip:] = np.repeat(chosen, block)[:n]
    return keep


def keep_steps(problem, keep: np.ndarray):
    """``problem`` in which only the steps with ``keep`` set get constraints (every merge still changes the
    counts): the LP of one half-sample."""
    import copy

    out = copy.copy(problem)
    out.merge_pid = np.where(keep, problem.merge_pid, -1)
    return out


def weight_steps(problem, weights: np.ndarray):
    """(problem', first) : ``problem`` whose objective weighs v(t) by ``weights[t]`` (an integer >= 0), written
    as an ordinary problem so any solver of it serves: step t is repeated ``weights[t]`` times (the copies
    before the last change no count, so every copy has step t's counts and constraints, and the optimum
    gives each copy the same slack), and a step of weight 0 is kept once without constraints (its merge
    still changes the counts of the steps after it). ``first[t]`` is the index in problem' of step t's
    first copy; its copies are first[t] .. first[t] + max(weights[t], 1) - 1."""
    from tokbench.mixture.lp import Problem

    weights = np.asarray(weights, dtype=np.int64)
    if weights.shape != (problem.T,) or (weights < 0).any():
        raise ValueError("weights must be one non-negative integer per merge step")
    reps = np.maximum(weights, 1)
    src = np.repeat(np.arange(problem.T), reps)
    first = np.zeros(problem.T, dtype=np.int64)
    np.cumsum(reps[:-1], out=first[1:])
    pid = problem.merge_pid[src].copy()
    pid[weights[src] == 0] = -1
    ev_off = np.concatenate([problem.ev_off[:, src], problem.ev_off[:, problem.T:]], axis=1)
    return Problem(problem.n, len(src), problem.P, problem.scale, pid, problem.merge_w[:, src], problem.init_off,
                   problem.init_pairs, problem.init_counts, ev_off, problem.ev_pairs, problem.ev_deltas), first


def weighted_rows(rows: tuple[np.ndarray, np.ndarray], weights: np.ndarray, first: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows (steps, pairs) of the original problem as rows of every copy in :func:`weight_steps`' problem
    (rows of steps of weight 0 are dropped)."""
    ts, ps = (np.asarray(a, dtype=np.int64) for a in rows)
    keep = (ts >= 0) & (ts < len(weights))
    ts, ps = ts[keep], ps[keep]
    k = weights[ts]
    ts, ps, k = ts[k > 0], ps[k > 0], k[k > 0]
    offs = np.arange(int(k.sum())) - np.repeat(np.cumsum(k) - k, k)
    return np.repeat(first[ts], k) + offs, np.repeat(ps, k)


#: What a replicate redraws (config ``bootstrap_over``) and how merge windows are drawn (``merge_draw``).
OVER = ("merges", "documents", "both")
MERGE_DRAWS = ("half", "replace")


def run_bootstrap(problem, doc_words: Sequence[CategoryCounts] | None, merges: np.ndarray, n_symbols: int, index, skip: int,
                  seed_rows, replicates: int, seed: int, time_limit: float | None, solver_kwargs: dict, *,
                  over: str = "merges", block: int = 100, merge_draw: str = "half", n_bytes: Sequence[int] = (),
                  total_pairs: Sequence[int] = (), advance: Callable[[int], None] | None = None) -> tuple[np.ndarray, dict]:
    """(replicates, n) byte proportions of ``replicates`` bootstrap draws, and what it took.

    ``problem`` is the full sample's LP (its pair counts serve the merge-window draws); ``doc_words`` (needed
    when documents are redrawn) each category's counts with its replicate draws (made while counting, seeded
    by ``seed``: replicate r is read back); ``n_bytes``/``total_pairs`` the full samples'
    sizes (the byte conversion of a replicate that keeps the documents). ``merge_draw``: 'half' (a random
    half of the windows, :func:`half_windows`) or 'replace' (as many windows as there are, with replacement,
    :func:`block_weights` / :func:`weight_steps`)."""
    from tokbench.mixture.lp import Problem, byte_proportions, solve
    from tokbench.mixture.paircount import count_pairs

    if over not in OVER:
        raise ValueError(f"bootstrap_over must be one of {', '.join(OVER)} (got {over!r})")
    if merge_draw not in MERGE_DRAWS:
        raise ValueError(f"merge_draw must be one of {', '.join(MERGE_DRAWS)} (got {merge_draw!r})")
    if over != "merges" and (doc_words is None or any(dw.replicates < replicates for dw in doc_words)):
        raise ValueError(f"a bootstrap over documents needs each category counted with {replicates} replicate draws")
    rng = np.random.default_rng([seed, 0xB007])
    out = np.zeros((replicates, problem.n))
    converged, started = 0, time.perf_counter()
    ts0, ps0 = (np.asarray(a, dtype=np.int64) for a in seed_rows)
    for r in range(replicates):
        if over == "merges":
            prob, nb, tp = problem, list(n_bytes), list(total_pairs)
        else:
            words = [dw.resample(r) for dw in doc_words]
            trs = [count_pairs(w, merges, index, n_symbols) for w in words]
            prob = Problem.build(trs, merges, index)
            prob.merge_pid[:skip] = -1
            nb, tp = [w.n_bytes for w in words], [t.total_pairs for t in trs]
        rows = (ts0, ps0)
        if over != "documents":
            if merge_draw == "half":
                keep = half_windows(prob.T, skip, block, rng)
                prob = keep_steps(prob, keep)
                rows = (ts0[keep[ts0]], ps0[keep[ts0]])
            else:
                weights = block_weights(prob.T, skip, block, rng)
                prob, first = weight_steps(prob, weights)
                rows = weighted_rows(rows, weights, first)
        lp = solve(prob, time_limit=time_limit, seed_rows=rows, certified=False, **solver_kwargs)
        converged += int(lp.converged)
        out[r] = byte_proportions(lp.alpha, nb, tp)
        if advance is not None:
            advance(1)
    return out, {"replicates": replicates, "seed": seed, "over": over,
                 "block": block if over != "documents" else None, "merge_draw": merge_draw if over != "documents" else None,
                 "converged_uncertified": converged, "seconds": round(time.perf_counter() - started, 3)}
