"""Infer the training mixture of a BPE tokenizer: the library entry point.

    >>> from tokbench.tokenizer import load_tokenizer                          # doctest: +SKIP
    >>> cats = load_categories([("en", "libreoffice:en-us@train"), ("py", "code:python@train")])  # doctest: +SKIP
    >>> res = infer_mixture(load_tokenizer("gpt2"), cats)                                      # doctest: +SKIP
    >>> res.rows()[0]                                                                          # doctest: +SKIP
    {'category': 'en', 'proportion': 0.97, ...}
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from tokbench.corpora.stream import CorpusStream, as_stream
from tokbench.errors import ConfigError, CorpusError
from tokbench.mixture.baselines import token_classification
from tokbench.mixture.bootstrap import MERGE_DRAWS, OVER, interval, run_bootstrap
from tokbench.mixture.config import DEFAULT_MERGES, MixtureConfig
from tokbench.mixture.counting import count_categories
from tokbench.mixture.lp import LPResult, Problem, byte_proportions, solve
from tokbench.mixture.paircount import count_all, count_all_on_ray
from tokbench.mixture.words import SymbolTable, boundary_safe_split, merge_list
from tokbench.progress import Progress, no_progress

@dataclass
class Category:
    """One category's sample: a name, its text and where it came from.

    The text is either ``texts`` (in memory: simulations, small samples from Python) or ``stream`` (a
    :class:`~tokbench.corpora.CorpusStream` read a batch at a time when the pre-tokens are counted, at most
    ``max_bytes`` bytes of it, exactly). ``provenance`` gets the bytes, segments and sha256 of the text
    read once it has been counted.
    """

    name: str
    texts: Sequence[str] | None = None
    kind: str = "natural"
    provenance: dict = field(default_factory=dict)
    stream: CorpusStream | None = None
    max_bytes: int | None = None

    def as_stream(self) -> CorpusStream:
        """The sample as a stream (an in-memory one over ``texts`` when there is no ``stream``)."""
        if self.stream is not None:
            return self.stream
        from types import SimpleNamespace

        return as_stream(SimpleNamespace(texts=list(self.texts or []), spec=self.name))

    def read_texts(self) -> list[str]:
        """The sample's texts in memory (small samples only: scripts and tests)."""
        return list(self.as_stream().texts(self.max_bytes))

    @property
    def n_bytes(self) -> int:
        """Bytes of the sample (reads the stream once when it has not been counted yet)."""
        if "bytes" in self.provenance:
            return int(self.provenance["bytes"])
        if self.stream is None:
            return sum(len(t.encode("utf-8")) for t in self.texts or [])
        return self.stream.stats(self.max_bytes).bytes


def parse_category(text: str) -> tuple[str, str]:
    """'NAME=SPEC' -> (name, spec); a bare spec names itself.

    >>> parse_category("en=libreoffice:en-us@train"), parse_category("notes.txt")
    (('en', 'libreoffice:en-us@train'), ('notes.txt', 'notes.txt'))
    """
    name, sep, spec = text.partition("=")
    if not sep:
        return text.strip(), text.strip()
    if not name.strip() or not spec.strip():
        raise ConfigError(f"cannot read category '{text}'; write NAME=SPEC, e.g. en=libreoffice:en-us@train")
    return name.strip(), spec.strip()


def default_category_specs(split: str = "train") -> list[tuple[str, str]]:
    """Every bundled language of the libreoffice corpus and every bundled code language, one category each;
    ``split='all'`` pools every split (a tokenizer that was never trained on the bundled text can be measured
    on all of it).

    >>> default_category_specs("all")[0], default_category_specs("dev")[-1]
    (('ca', 'libreoffice:ca'), ('rust', 'code:rust@dev'))
    """
    from tokbench.corpora import corpus_info

    out = []
    for corpus in ("libreoffice", "code"):
        info = corpus_info(corpus)
        if split == "all":
            suffix = ""
        else:
            suffix = "@" + (split if split in info.get("splits", []) else info["splits"][0])
        for lang in sorted(info["languages"]):
            out.append((lang, f"{corpus}:{lang}{suffix}"))
    return out


def load_categories(pairs: Sequence[tuple[str, str]], sample_bytes: int | None = None,
                    advance: Callable[[int], None] | None = None) -> list[Category]:
    """Open each (name, corpus spec) as a streamed :class:`Category` of at most ``sample_bytes`` bytes
    (nothing is read here: the text is read once, a batch at a time, while its pre-tokens are counted);
    duplicate names and specs that name nothing are errors."""
    from tokbench.corpora import open_stream

    seen: set[str] = set()
    for name, _ in pairs:
        if name in seen:
            raise ConfigError(f"category name '{name}' is given twice; give every --category a different NAME (NAME=SPEC)")
        seen.add(name)
    out = []
    for name, spec in pairs:
        stream = open_stream(spec)
        out.append(Category(name, None, stream.kind, {"spec": stream.spec, "label": stream.label}, stream, sample_bytes))
        if advance is not None:
            advance(1)
    return out


@dataclass
class MixtureResult:
    """What :func:`infer_mixture` found.

    proportions: (n,) inferred shares of training *bytes* per category (sum 1).
    alpha:       (n,) the LP's weights on normalised pair counts.
    tc:          (n,) the TC baseline's shares.
    """

    tokenizer: dict
    names: list[str]
    kinds: list[str]
    proportions: np.ndarray
    alpha: np.ndarray
    tc: np.ndarray
    n_bytes: list[int]
    total_pairs: list[int]
    merges: int
    lp: LPResult
    timings: dict
    sizes: dict
    skipped: int = 0
    merges_in_list: int = 0
    intervals: np.ndarray | None = None
    bootstrap: dict = field(default_factory=dict)

    def merges_phrase(self) -> str:
        """Which merges were used, in words (the default --merges is min(30,000, the list): say which one it was).

        >>> r = MixtureResult({}, [], [], np.zeros(0), np.zeros(0), np.zeros(0), [], [], 29_744, None, {}, {}, 0, 29_744)
        >>> r.merges_phrase()
        'all 29,744 merges'
        >>> r.merges, r.merges_in_list = 30_000, 50_000
        >>> r.merges_phrase()
        'the first 30,000 of 50,000 merges'
        """
        if self.skipped:
            return f"merges {self.skipped + 1:,}-{self.skipped + self.merges:,} of {self.merges_in_list:,}"
        if self.merges >= self.merges_in_list:
            return f"all {self.merges:,} merges"
        return f"the first {self.merges:,} of {self.merges_in_list:,} merges"

    def solver_line(self) -> str:
        """One line saying whether the LP was solved to proven optimality, with its gap."""
        s = self.lp
        if s.converged:
            return (f"LP optimal (certified: every step x pair constraint checked; objective {s.objective:.6g}, "
                    f"lower bound {s.lower_bound:.6g}, relative gap {s.gap:.1e})")
        return (f"LP NOT converged (stopped at its time or round limit): relative gap {s.gap:.3f} between the "
                f"certified objective {s.objective:.6g} of these weights and the lower bound {s.lower_bound:.6g}; "
                f"the shares are the best weights found, not an optimum")

    def rows(self) -> list[dict]:
        order = np.argsort(-self.proportions, kind="stable")
        return [
            {"category": self.names[i], "kind": self.kinds[i], "proportion": float(self.proportions[i]),
             "tc": float(self.tc[i]), "alpha": float(self.alpha[i]), "sample_bytes": int(self.n_bytes[i]),
             "sample_pairs": int(self.total_pairs[i]),
             "low": None if self.intervals is None else float(self.intervals[i, 0]),
             "high": None if self.intervals is None else float(self.intervals[i, 1])}
            for i in order
        ]

    def groups(self) -> dict[str, float]:
        """Shares summed by kind ('code', 'natural') and English (any category named en*)."""
        g: dict[str, float] = {}
        for name, kind, p in zip(self.names, self.kinds, self.proportions):
            g[kind] = g.get(kind, 0.0) + float(p)
            if name.lower().startswith("en"):
                g["english"] = g.get("english", 0.0) + float(p)
        return g

    def to_json(self) -> dict:
        return {
            "tokenizer": self.tokenizer,
            "merges": self.merges,
            "merges_in_list": self.merges_in_list,
            "skipped_merges": self.skipped,
            "categories": self.rows(),
            "groups": self.groups(),
            "solver": self.lp.stats(),
            "bootstrap": self.bootstrap,
            "timings_s": {k: round(v, 3) for k, v in self.timings.items()},
            "sizes": self.sizes,
        }


def infer_mixture(tok, categories: Sequence[Category], config: MixtureConfig = MixtureConfig(), *,
                  progress: Progress = no_progress) -> MixtureResult:
    """Proportions of ``categories`` in the training data of the BPE tokenizer ``tok``."""
    if len(categories) < 2:
        raise ConfigError(f"data-mixture inference needs at least 2 categories (got {len(categories)}); add --category NAME=SPEC")
    names = [c.name for c in categories]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise ConfigError(f"category name '{dup}' is given twice; give every category a different name")
    if config.bootstrap_over not in OVER:
        raise ConfigError(f"--bootstrap-over must be one of {', '.join(OVER)} (got '{config.bootstrap_over}')")
    if config.merge_draw not in MERGE_DRAWS:
        raise ConfigError(f"--merge-draw must be one of {', '.join(MERGE_DRAWS)} (got '{config.merge_draw}')")
    if config.interval_method not in ("percentile", "normal"):
        raise ConfigError(f"--interval must be 'percentile' or 'normal' (got '{config.interval_method}')")
    if not config.interval_scale > 0:
        raise ConfigError(f"--interval-scale must be positive (got {config.interval_scale})")
    if config.bootstrap_block < 1:
        raise ConfigError(f"--bootstrap-block must be at least 1 merge (got {config.bootstrap_block})")
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    skip = config.skip_merges
    merges = merge_list(tok, None)
    n_list = len(merges)
    if skip < 0 or skip >= len(merges):
        raise ConfigError(f"--skip-merges must be between 0 and {len(merges) - 1:,} (the merge list of {tok.name} has {len(merges):,} merges), got {skip:,}")
    n_use = config.merges
    if n_use is None:
        # The paper's 30,000, or every merge the tokenizer has when it has fewer (the result says which).
        n_use = min(DEFAULT_MERGES, len(merges) - skip)
    elif n_use < 1:
        raise ConfigError(f"--merges must be at least 1 (got {n_use})")
    elif skip + n_use > len(merges):
        if skip:
            raise ConfigError(f"--skip-merges {skip:,} plus --merges {n_use:,} goes beyond the merge list of {tok.name}, "
                              f"which has {len(merges):,} merges; pass --merges {len(merges) - skip:,} or fewer")
        raise ConfigError(f"--merges {n_use:,} is beyond the merge list of {tok.name}, which has {len(merges):,} merges; "
                          f"pass --merges {len(merges):,} or fewer (or leave --merges out: it defaults to min(30,000, the merge list))")
    merges = merges[: skip + n_use]
    table = SymbolTable.from_merges(merges)
    # SentencePiece-style models often pre-tokenize nothing (the whole text is one 'word'); cut it before
    # each word-start marker when no merge can cross such a cut, which changes nothing but the speed.
    cut = boundary_safe_split(merges)
    timings["merges"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    # Each category is streamed once into its distinct pre-tokens, with the bootstrap's replicate counts
    # (Poisson weights per document, see tokbench.mixture.counting) accumulated on the way.
    where = f" on Ray ({config.workers or 'all'} workers)" if config.engine == "ray" else ""
    with progress(f"pre-tokenizing (documents){where}", None) as advance:
        counted = count_categories(
            tok, [(c.as_stream(), c.max_bytes) for c in categories], table,
            # Document draws are only needed when replicates redraw documents (they cost (B+1) x the counts).
            replicates=config.bootstrap if config.bootstrap_over != "merges" else 0,
            seed=config.seed, cut_markers=cut, engine=config.engine, ray_address=config.ray_address,
            workers=config.workers, advance=advance)
    words = [cc.words for cc in counted]
    for c, cc in zip(categories, counted):
        c.provenance.update(cc.provenance)
        if cc.words.n_bytes < config.min_bytes:
            raise CorpusError(
                f"category '{c.name}' has only {cc.words.n_bytes:,} bytes of text; inference needs at least {config.min_bytes:,} "
                f"bytes per category (1 MB or more gives stable answers; the paper used 1 GB)"
            )
    timings["pretokenize"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    if config.engine == "ray":
        with progress("counting pairs (one category per Ray task)", None):
            trajectories, index = count_all_on_ray(words, table.merges, len(table), address=config.ray_address,
                                                   workers=config.workers)
    else:
        with progress("counting pairs", len(categories)) as advance:
            trajectories, index = count_all(words, table.merges, len(table), advance=advance)
    timings["count_pairs"] = time.perf_counter() - t0
    for c, tr in zip(categories, trajectories):
        if tr.total_pairs == 0:
            raise CorpusError(f"category '{c.name}' has no pair of symbols to count (every pre-token is one symbol); give it real text")

    t0 = time.perf_counter()
    problem = Problem.build(trajectories, table.merges, index)
    # Skipped merges are replayed (they shape the counts of everything after them) but constrain nothing.
    problem.merge_pid[:skip] = -1
    with progress("solving the LP (re-solves)", None) as advance:
        lp = solve(problem, method=config.solver, rows_per_step=config.rows_per_step, max_rows=config.max_rows,
                   max_rounds=config.max_rounds, tolerance=config.tolerance, gap=config.gap,
                   time_limit=config.time_limit, purge_after=config.purge_after, stabilise=config.stabilise,
                   advance=advance)
    timings["solve"] = time.perf_counter() - t0

    n_bytes = [w.n_bytes for w in words]
    totals = [tr.total_pairs for tr in trajectories]
    props = byte_proportions(lp.alpha, n_bytes, totals)
    intervals, boot = None, {}
    if config.bootstrap:
        t0 = time.perf_counter()
        with progress(f"bootstrap over {config.bootstrap_over} ({config.bootstrap} replicates)", config.bootstrap) as advance:
            reps, boot = run_bootstrap(
                problem, counted if config.bootstrap_over != "merges" else None, table.merges, len(table), index, skip, (lp.row_steps, lp.row_pairs),
                config.bootstrap, config.seed, config.bootstrap_time_limit,
                dict(method=config.solver, rows_per_step=config.rows_per_step, max_rows=config.max_rows,
                     max_rounds=config.max_rounds, tolerance=config.tolerance, gap=config.gap,
                     purge_after=config.purge_after),
                over=config.bootstrap_over, block=config.bootstrap_block, merge_draw=config.merge_draw, n_bytes=n_bytes, total_pairs=totals,
                advance=advance)
        timings["bootstrap"] = time.perf_counter() - t0
        intervals = interval(props, reps, config.interval_level, config.interval_method, config.interval_scale)
        boot.update(level=config.interval_level, method=config.interval_method, scale=config.interval_scale,
                    std=reps.std(axis=0, ddof=1).tolist() if len(reps) > 1 else [0.0] * len(props),
                    # Every replicate's shares (rows: replicates, columns: categories in input order), so any
                    # other interval can be computed from the result without re-running it.
                    replicate_proportions=np.round(reps, 8).tolist(),
                    calibrated_when="the full LP converged" if lp.converged else "NOT: the full LP did not converge")
    vocab = np.unique(table.merges[skip:, 2]).astype(np.int64)
    tc = token_classification([tr.token_counts for tr in trajectories], vocab)
    sizes = {
        "pairs": problem.P,
        "events": int(problem.ev_pairs.shape[0]),
        "distinct_pretokens": int(sum(w.n_words for w in words)),
        "trajectory_mb": round(sum(tr.nbytes for tr in trajectories) / 1e6, 2),
    }
    from tokbench.files import portable_path

    described = tok.describe()
    # Reports are committed: no machine-specific absolute paths.
    described["source"] = portable_path(str(described.get("source", "")))
    return MixtureResult(
        described, names, [c.kind for c in categories], props, lp.alpha, tc, n_bytes, totals,
        len(merges) - skip, lp, timings, sizes, skip, n_list, intervals, boot,
    )
