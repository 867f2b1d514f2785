"""Defaults of data mixture inference and of its simulation: the one source of truth the CLI reads."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MixtureConfig:
    """How `tokbench infer-mixture` runs.

    merges:         use the first T merges of the tokenizer (the paper: T = 30,000); None: min(30,000, the merges the
                    tokenizer has after skip_merges), so a 32k-vocabulary BPE (~31,700 merges) or a 30k one
                    (29,744) works with the defaults.
    skip_merges:    replay the first K merges without constraints and infer from the next `merges` ones: the
                    paper's reading of the merges a tokenizer added to an earlier one (Llama 3 after
                    cl100k's first 100k tokens). 0: infer from the start.
    sample_bytes:   cap on each category's sample in UTF-8 bytes (None: all the text the spec names).
    min_bytes:      a category with less text than this is refused: with fewer bytes the pair counts of
                    the later merges are mostly zeros and ones and say nothing about the mixture.
    split:          the bundled split used for the default categories ('train' is the largest, ~1 MB per
                    language; 'all' pools train, dev and test, ~1.7 MB; the reference tokenizers were never
                    trained on any of it).
    rows_per_step:  lazy LP: at most this many of the most violated constraints per merge step per round
                    (4: fewer, larger rounds; measured 2-4x faster than 1 on simulated mixtures).
    purge_after:    lazy LP: drop a competitor row once it has been slack for this many re-solves (it is
                    added back if it is ever violated again); 0 keeps every row. Keeps the LP small, so each
                    warm re-solve stays fast (5-10x less HiGHS time on simulated mixtures).
    max_rounds:     lazy LP: give up (and say so) after this many re-solves.
    tolerance:      a constraint counts as violated when it is off by more than this, in pairs per million
                    (the unit the counts are scaled to before they reach HiGHS).
    gap:            stop early when the relative gap between the LP's lower bound and the best upper bound
                    is at most this (0: only a sweep with no violation stops the solver).
    time_limit:     stop the constraint generation after this many seconds (the result then says it did not
                    converge and gives its gap); None for no limit.
    bootstrap:      bootstrap replicates behind the interval beside every share (0: no intervals). What the default
                    costs: 10 LP solves on half of the merge windows each, started from the full solve's rows, no
                    recounting: measured 0.2-0.4x the full solve each at 3,000 merges (steps and intervals
                    solvers), i.e. intervals add 2-4x the solve time, each replicate capped at
                    bootstrap_time_limit seconds.
    bootstrap_over: what a replicate redraws: 'merges' (windows of consecutive merge steps, drawn with
                    replacement: the steps' weights in the objective; no recounting, one warm LP re-solve from
                    the full solve's rows), 'documents' (each category's documents; recounts the pairs of every
                    category, then re-solves) or 'both'. See tokbench.mixture.bootstrap.
    bootstrap_block: merge steps per window of the merge-window draw.
    merge_draw:     how windows are drawn: 'half' (a random half of them without replacement, the delete-half
                    jackknife: each replicate's LP has half the constraints, and its spread needs no rescaling)
                    or 'replace' (as many windows as there are, with replacement; a window drawn k times
                    weighs k in the objective).
    bootstrap_time_limit: seconds of LP constraint generation per replicate.
    interval_level: coverage of the intervals (0.9).
    interval_method: 'normal' (point +- interval_scale * z standard deviations of the replicates, cut to
                    [0, 1]) or 'percentile' (the replicates' (1-level)/2 and (1+level)/2 quantiles, their
                    distances from the point times interval_scale).
    interval_scale: the replicates' spread is multiplied by this. Measured, not derived: in simulate (n = 5
                    languages, 3,000 merges, seed 0, 50 (trial, language) pairs) the merge-window replicates'
                    standard deviation was about half the actual error (normal 90% intervals held the truth in
                    66% of pairs unscaled, 88% with 2.0); the training text, which no replicate can redraw,
                    accounts for the rest. Validated on other trials: reports/mixture/README.md.
    seed:           seed of the bootstrap draws (the same seed gives the same intervals).
    stabilise:      lazy LP: weight of the best weights so far in the point where violations are sought
                    (0: plain cutting planes at the LP's solution).
    solver:         'intervals' (default): lazy rows over the interval reformulation, one row per (pair
                    segment, segment-tree node), see tokbench/mixture/lp.py; 'steps': the older lazy LP with
                    one row per (step, pair) (rows_per_step, purge_after, stabilise apply to it only).
    max_rows:       intervals: at most this many new rows per round (the most violated); fewer rows make each
                    warm re-solve cheaper, more make fewer rounds.
    engine:         where pre-tokens are counted: 'local' (this process, streaming each category) or 'ray'
                    (actors on a Ray cluster count blocks of every category, the driver sums: same counts).
    ray_address:    Ray cluster address (None: the running session, or a local one of ``workers`` CPUs).
    workers:        Ray counting actors (None: one per CPU of the cluster).
    """

    merges: int | None = None
    skip_merges: int = 0
    sample_bytes: int | None = None
    min_bytes: int = 10_000
    split: str = "train"
    rows_per_step: int = 4
    purge_after: int = 3
    max_rounds: int = 1000
    tolerance: float = 1e-6
    gap: float = 0.0
    time_limit: float | None = 600.0
    bootstrap: int = 10
    bootstrap_over: str = "merges"
    bootstrap_block: int = 100
    merge_draw: str = "half"
    bootstrap_time_limit: float | None = 30.0
    interval_level: float = 0.9
    interval_method: str = "normal"
    interval_scale: float = 2.0
    seed: int = 0
    stabilise: float = 0.5
    solver: str = "intervals"
    max_rows: int = 50_000
    engine: str = "local"
    ray_address: str | None = None
    workers: int | None = None

    def __post_init__(self):
        from tokbench.errors import ConfigError

        if self.engine not in ("local", "ray"):
            raise ConfigError(f"unknown --engine '{self.engine}'; choose local or ray")
        if self.workers is not None and self.workers < 1:
            raise ConfigError(f"--workers must be at least 1 (got {self.workers})")
        if self.engine != "ray" and (self.workers is not None or self.ray_address is not None):
            raise ConfigError("--workers and --ray-address go with --engine ray")


#: The paper's number of merges, and the default cap when --merges is not given.
DEFAULT_MERGES = 30_000

#: Counts enter the LP as pairs per million pairs of their category (c / total_pairs * SCALE): normalised as
#: the paper says, but large enough that HiGHS' absolute tolerances (1e-7) do not swamp them.
SCALE = 1e6


@dataclass(frozen=True)
class SimulationConfig:
    """How `tokbench infer-mixture simulate` runs (the paper's controlled experiment, scaled to the
    bundled data).

    n, trials:        categories per mixture and number of random mixtures (proportions uniform on the
                      simplex, i.e. Dirichlet(1, ..., 1)).
    corpus:           the bundled corpus whose languages are the categories. Only one variant per language
                      (the manifest's preferred one: en-us, not en-gb; pt, not pt-br; zh-cn, not zh-tw):
                      two translations of the same help pages are not distinguishable categories.
    splits:           each language's documents from these splits are pooled and shuffled (seeded per
                      language), so training and inference text come from one distribution ...
    train_share:      ... a trial trains on a prefix of each language's shuffled pool (at most this share of
                      it) and infers from all the rest: the two never overlap (the paper's code drew its
                      inference sample from the same files it trained on; tokbench keeps them disjoint).
    min_language_bytes: languages with less pooled text than this are not drawn (LibreOffice's Hindi help
                      has 0.3 MB): a scarce language caps the training budget of every mixture it is in.
    train_bytes:      bytes of training text per tokenizer; language i contributes p_i * train_bytes. Capped
                      by what the scarcest chosen language can give divided by its proportion.
    merges:           merges to train (and to use); the trainer stops earlier when the text runs out of pairs.
                      10,000 by default, not the paper's 30,000: trained on 1 MB (the paper: 10 GB), merges
                      past ~10k are counts of a few occurrences, and the LP at 30,000 does not converge within
                      minutes on 2 cores (see reports/mixture/README.md).
    time_limit:       seconds of constraint generation per trial (see MixtureConfig.time_limit).
    bootstrap:        bootstrap replicates per trial (0: none); with them the report gives the share of
                      (trial, language) pairs whose true share lies inside its 90% interval (calibration).
    bootstrap_time_limit: seconds of constraint generation per replicate.
    bootstrap_over, bootstrap_block, merge_draw, interval_method, interval_scale: as in MixtureConfig (the report also gives the
                      coverage of the other interval construction, computed from the same replicates).
    distractors:      extra categories per trial that are absent from the training mixture (truth 0), inferred
                      beside the n present ones; the report gives their mean inferred share.
    train_corpus:     domain shift: train the tokenizers on this corpus's text of the chosen languages (all
                      of it may be used) and infer from ``corpus`` (None: the same corpus, disjoint documents).
                      ``corpus`` may join corpora with '+' (``libreoffice+code``: natural and code categories).
    min_train_language_bytes: with ``train_corpus``, languages with less text there are not drawn.
    sample_bytes:     cap on each category's inference sample (the front of the rest of its pool); None: all of
                      the rest (error against sample size).
    """

    n: int = 5
    trials: int = 10
    seed: int = 0
    corpus: str = "libreoffice"
    splits: tuple[str, ...] = ("train", "dev", "test")
    train_share: float = 0.6
    min_language_bytes: int = 750_000
    train_bytes: int = 1_000_000
    merges: int = 10_000
    time_limit: float = 300.0
    bootstrap: int = 0
    bootstrap_time_limit: float = 30.0
    bootstrap_over: str = MixtureConfig.bootstrap_over
    bootstrap_block: int = MixtureConfig.bootstrap_block
    merge_draw: str = MixtureConfig.merge_draw
    interval_method: str = MixtureConfig.interval_method
    interval_scale: float = MixtureConfig.interval_scale
    distractors: int = 0
    train_corpus: str | None = None
    min_train_language_bytes: int = 90_000
    sample_bytes: int | None = None
