"""Error bars for inferred shares: the bootstrap over documents.

Each category's sample is a set of documents. A replicate weights every document of every category with an
independent Poisson(1) count (seeded; the streaming form of drawing n documents out of n with replacement,
see :mod:`tokbench.mixture.counting`, where the replicate counts are accumulated while the text is read),
recounts the pairs along the merge list from the re-weighted pre-token counts, and solves the LP again,
starting from the rows of the full sample's solve. The spread of a share over the replicates measures how
much it depends on which text the sample happens to hold; the interval printed beside a share is the point
estimate +- z * the replicates' standard deviation (z = 1.645 for 90%), cut to [0, 1]. With few replicates
a normal interval is steadier than percentiles of a handful of values.

What it does not measure: text of a kind no category covers, and the gap of an LP stopped before its
optimum (a replicate's LP has its own, shorter time limit; an unconverged replicate adds solver noise to
the spread, which widens the interval).
"""

from __future__ import annotations

import time
from typing import Callable, Sequence

import numpy as np

# The replicates' pre-token counts are made on the data side, while each category is streamed.
from tokbench.mixture.counting import CategoryCounts, subset_words  # noqa: F401  (subset_words: re-exported)

#: z of a two-sided normal interval per level.
_Z = {0.8: 1.2816, 0.9: 1.6449, 0.95: 1.9600, 0.99: 2.5758}


def normal_interval(point: np.ndarray, replicates: np.ndarray, level: float = 0.9) -> np.ndarray:
    """(n, 2) [low, high]: point +- z * std over the replicates (axis 0), cut to [0, 1].

    >>> normal_interval(np.array([0.5, 0.5]), np.array([[0.4, 0.6], [0.6, 0.4]])).round(3).tolist()
    [[0.267, 0.733], [0.267, 0.733]]
    """
    if level not in _Z:
        raise ValueError(f"level must be one of {sorted(_Z)}")
    sd = replicates.std(axis=0, ddof=1) if len(replicates) > 1 else np.zeros(len(point))
    return np.clip(np.stack([point - _Z[level] * sd, point + _Z[level] * sd], axis=1), 0.0, 1.0)


def run_bootstrap(doc_words: Sequence[CategoryCounts], merges: np.ndarray, n_symbols: int, index, skip: int, seed_rows,
                  replicates: int, seed: int, time_limit: float | None, solver_kwargs: dict,
                  advance: Callable[[int], None] | None = None) -> tuple[np.ndarray, dict]:
    """(replicates, n) byte proportions of ``replicates`` bootstrap draws, and what it took."""
    from tokbench.mixture.lp import Problem, byte_proportions, solve_lazy
    from tokbench.mixture.paircount import count_pairs

    # The draws were made while counting (seeded by ``seed``): replicate r of each category is read back.
    if any(dw.replicates < replicates for dw in doc_words):
        raise ValueError(f"the categories were counted with fewer than {replicates} bootstrap replicates")
    out = np.zeros((replicates, len(doc_words)))
    converged, started = 0, time.perf_counter()
    for r in range(replicates):
        words = [dw.resample(r) for dw in doc_words]
        trs = [count_pairs(w, merges, index, n_symbols) for w in words]
        problem = Problem.build(trs, merges, index)
        problem.merge_pid[:skip] = -1
        lp = solve_lazy(problem, time_limit=time_limit, seed_rows=seed_rows, certified=False, **solver_kwargs)
        converged += int(lp.converged)
        out[r] = byte_proportions(lp.alpha, [w.n_bytes for w in words], [t.total_pairs for t in trs])
        if advance is not None:
            advance(1)
    return out, {"replicates": replicates, "seed": seed, "converged_uncertified": converged,
                 "seconds": round(time.perf_counter() - started, 3)}
