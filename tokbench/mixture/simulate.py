"""The paper's controlled experiment on the bundled corpora: tokenizers trained on known random mixtures.

For each trial: draw n languages of the corpus and proportions uniform on the simplex, train a byte-level
BPE tokenizer (the `tokenizers` library's trainer) on ``p_i * train_bytes`` bytes from the front of each
language's shuffled pool of documents (all splits), infer the mixture from the rest of each pool (text the
tokenizer never saw, from the same distribution), and score the method, the TC baseline and a uniform random
guess by log10 MSE against the truth.
"""

from __future__ import annotations

import tempfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from tokbench.mixture.baselines import log10_mse, random_guess
from tokbench.mixture.config import MixtureConfig, SimulationConfig

#: The paper's log10 MSE on code (programming languages, 100 trials): its code experiment.
PAPER_CODE = {5: {"method": -6.46}, 10: {"method": -6.30}, 30: {"method": -5.98}}

#: The paper's log10 MSE on languages (100 trials), for the report.
PAPER = {5: {"method": -7.30, "tc": -2.12, "random": -1.39}, 10: {"method": -7.66, "random": -1.84},
         30: {"method": -7.73}, 112: {"method": -7.69}}


def take_bytes(texts: Sequence[str], budget: int) -> list[str]:
    """The first texts holding ``budget`` UTF-8 bytes (the last one cut at a character boundary).

    >>> take_bytes(["abc", "déf"], 6)
    ['abc', 'dé']
    """
    out, left = [], budget
    for t in texts:
        if left <= 0:
            break
        b = t.encode("utf-8")
        if len(b) <= left:
            out.append(t)
            left -= len(b)
        else:
            out.append(b[:left].decode("utf-8", "ignore"))
            left = 0
    return out


def train_bytelevel_bpe(texts: Sequence[str], merges: int, workdir: Path):
    """A byte-level BPE tokenizer (GPT-2 style pre-tokenization) trained with the `tokenizers` library,
    loaded through tokbench's HF adapter."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    from tokbench.tokenizer import load_tokenizer

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=256 + merges, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False, special_tokens=[])
    tok.train_from_iterator(texts, trainer=trainer)
    path = workdir / "tokenizer.json"
    tok.save(str(path))
    return load_tokenizer(str(path))


def covered(truth: np.ndarray, intervals: np.ndarray) -> np.ndarray:
    """(n,) bool: truth[i] lies in [intervals[i, 0], intervals[i, 1]] (ends included, 1e-12 of float slack).

    >>> covered(np.array([0.1, 0.5, 0.9]), np.array([[0.0, 0.1], [0.6, 0.7], [0.8, 1.0]])).tolist()
    [True, False, True]
    """
    return (truth >= intervals[:, 0] - 1e-12) & (truth <= intervals[:, 1] + 1e-12)


@dataclass
class Trial:
    languages: list[str]
    truth: np.ndarray
    inferred: np.ndarray
    tc: np.ndarray
    random: np.ndarray
    merges: int
    train_bytes: int
    seconds: float
    solver: dict
    sample_bytes: list[int] = field(default_factory=list)
    intervals: np.ndarray | None = None  # (n, 2) bootstrap interval of every share, in the order of `languages`
    replicates: np.ndarray | None = None  # (R, n) the bootstrap replicates' shares behind `intervals`
    distractors: int = 0  # the last `distractors` languages were absent from training (truth 0)

    def covered(self, method: str | None = None, level: float = 0.9, scale: float = 1.0) -> np.ndarray | None:
        """(n,) bool: the true share lies inside its interval (``method``: recompute the interval from the
        replicates by that construction and ``scale`` instead of using the one the run reported)."""
        if self.intervals is None:
            return None
        iv = self.intervals
        if method is not None:
            from tokbench.mixture.bootstrap import interval

            iv = interval(self.inferred, self.replicates, level, method, scale)
        return covered(self.truth, iv)

    def scores(self) -> dict[str, float]:
        return {"method": log10_mse(self.inferred, self.truth), "tc": log10_mse(self.tc, self.truth),
                "random": log10_mse(self.random, self.truth)}


@dataclass
class Simulation:
    config: SimulationConfig
    trials: list[Trial] = field(default_factory=list)

    def trial_rows(self) -> list[dict]:
        rows = []
        for k, t in enumerate(self.trials):
            s = t.scores()
            rows.append({"trial": k + 1, "languages": " ".join(t.languages), "merges": t.merges,
                         "train_bytes": t.train_bytes, "sample_kb": round(sum(t.sample_bytes) / len(t.sample_bytes) / 1e3) if t.sample_bytes else None,
                         "converged": bool(t.solver.get("converged")), "gap": t.solver.get("gap"),
                         "method": s["method"], "tc": s["tc"], "random": s["random"],
                         "covered": None if t.intervals is None else f"{int(t.covered().sum())}/{len(t.truth)}",
                         "seconds": round(t.seconds, 1)})
        return rows

    def paper(self) -> dict[str, float]:
        """The paper's figures for this setting: its language or code experiment at this n; none for settings
        it did not run (mixed corpora, distractors, domain shift, capped samples)."""
        c = self.config
        if c.distractors or c.train_corpus or c.sample_bytes or "+" in c.corpus:
            return {}
        return (PAPER_CODE if c.corpus == "code" else PAPER).get(c.n, {})

    def summary(self) -> dict[str, dict[str, float]]:
        out = {}
        for key in ("method", "tc", "random"):
            v = np.array([t.scores()[key] for t in self.trials])
            out[key] = {"mean": float(v.mean()), "std": float(v.std(ddof=1)) if len(v) > 1 else 0.0,
                        "paper": self.paper().get(key)}
        return out

    def distractor_share(self) -> float | None:
        """Mean inferred share of a category absent from the mixture (over trials and such categories)."""
        v = [t.inferred[len(t.truth) - t.distractors:] for t in self.trials if t.distractors]
        return float(np.concatenate(v).mean()) if v else None

    def coverage(self, method: str | None = None) -> float | None:
        """Share of (trial, category) pairs whose true share lies inside its bootstrap interval."""
        c = self.coverage_counts(method)
        return c["rate"] if c else None

    def coverage_counts(self, method: str | None = None, *, converged_only: bool = False, scale: float = 1.0) -> dict | None:
        """Calibration of the intervals over (trial, category) pairs: hits, pairs, their rate and the 95%
        Wilson interval of that rate (``method``: intervals recomputed from the replicates by that
        construction; ``converged_only``: only trials whose LP was proven optimal)."""
        from tokbench.mixture.bootstrap import binomial_interval

        c = [t.covered(method, scale=scale) for t in self.trials if t.intervals is not None
             and (t.replicates is not None or method is None) and (t.solver.get("converged") or not converged_only)]
        if not c:
            return None
        hits = np.concatenate(c)
        k, n = int(hits.sum()), int(hits.size)
        low, high = binomial_interval(k, n, 0.95)
        return {"hits": k, "pairs": n, "rate": k / n, "rate_95_low": low, "rate_95_high": high}

    def calibration_rows(self) -> list[dict]:
        """One row per interval construction (and for the converged trials alone) for the report."""
        from tokbench.mixture.bootstrap import INTERVALS

        rows = []
        for method in INTERVALS:
            for scale in sorted({1.0, self.config.interval_scale}):
                for conv in (False, True):
                    c = self.coverage_counts(method, converged_only=conv, scale=scale)
                    if c:
                        reported = method == self.config.interval_method and scale == self.config.interval_scale
                        rows.append({"interval": method + (" (reported)" if reported else ""), "scale": scale,
                                     "trials": "LP converged" if conv else "all", "inside": f"{c['hits']}/{c['pairs']}",
                                     "coverage_%": 100 * c["rate"],
                                     "95%_range_of_coverage": f"{100 * c['rate_95_low']:.0f}-{100 * c['rate_95_high']:.0f}"})
        return rows

    def summary_rows(self) -> list[dict]:
        return [{"estimator": k, "n": self.config.n, "trials": len(self.trials), "mean": v["mean"], "std": v["std"],
                 "paper_mean": v["paper"]} for k, v in self.summary().items()]

    def to_json(self) -> dict:
        return {
            "config": dict(self.config.__dict__),
            "summary": self.summary(),
            "interval_coverage": self.coverage(),
            "calibration": self.calibration_rows(),
            "distractor_mean_share": self.distractor_share(),
            "trials": [dict(r, truth=t.truth.tolist(), inferred=t.inferred.tolist(), tc_estimate=t.tc.tolist(),
                            solver=t.solver, intervals=None if t.intervals is None else t.intervals.tolist(),
                            replicates=None if t.replicates is None else t.replicates.tolist())
                       for r, t in zip(self.trial_rows(), self.trials)],
        }


def eligible_languages(config: SimulationConfig) -> list[str]:
    """The categories a trial may draw: preferred variants with enough pooled text. With several corpora
    (``libreoffice+code``) they are named ``corpus:language``; with a training corpus of its own
    (``train_corpus``, domain shift) only languages both corpora have, with enough text in both."""
    from tokbench.corpora import corpus_info

    corpora = config.corpus.split("+")
    out = []
    for corpus in corpora:
        for lang, meta in sorted(corpus_info(corpus)["languages"].items()):
            splits = meta.get("splits", {})
            pooled = sum(splits[s]["bytes"] for s in config.splits if s in splits)
            # The bundled code languages (~1.1 MB each) are all eligible: the floor is for natural languages.
            if meta.get("preferred", True) and (pooled >= config.min_language_bytes or corpus == "code"):
                out.append(f"{corpus}:{lang}" if len(corpora) > 1 else lang)
    if config.train_corpus:
        info = corpus_info(config.train_corpus)["languages"]
        out = [l for l in out if l in info and info[l].get("preferred", True)
               and sum(v["bytes"] for v in info[l].get("splits", {}).values()) >= config.min_train_language_bytes]
    return out


def _spec(corpus: str, key: str, split: str) -> str:
    """Corpus spec of a category key ('de' in ``corpus``, or 'code:python')."""
    return f"{key}@{split}" if ":" in key else f"{corpus}:{key}@{split}"


def shuffled_pool(docs: Sequence[str], seed: int, lang: str) -> list[str]:
    """``docs`` in an order fixed by (seed, language): the same on every machine and Python run."""
    rng = np.random.default_rng([seed, zlib.crc32(lang.encode("utf-8"))])
    return [docs[i] for i in rng.permutation(len(docs))]


def split_pool(pool: Sequence[str], n_bytes: int) -> tuple[list[str], list[str]]:
    """(training prefix of ``n_bytes``, everything after it): disjoint, together the whole pool.

    >>> split_pool(["ab", "cd", "ef"], 3)
    (['ab', 'c'], ['ef'])
    """
    train = take_bytes(pool, n_bytes)
    return train, list(pool[len(train):])


def run_simulation(config: SimulationConfig = SimulationConfig(), advance: Callable[[int], None] | None = None) -> Simulation:
    """Run ``config.trials`` trials; deterministic for a given seed (the trainer is deterministic)."""
    from tokbench.corpora import load_source
    from tokbench.errors import ConfigError
    from tokbench.mixture.infer import Category, infer_mixture

    langs = eligible_languages(config)
    if not 2 <= config.n <= len(langs) - config.distractors:
        raise ConfigError(f"--n must be between 2 and {len(langs) - config.distractors} (with {config.distractors} distractors; the languages of '{config.corpus}' with at least "
                          f"{config.min_language_bytes:,} bytes of text), got {config.n}")
    rng = np.random.default_rng(config.seed)
    sim = Simulation(config)
    cache: dict[str, list[str]] = {}

    def pool(lang: str, corpus: str | None = None) -> list[str]:
        """The shuffled documents of a category ('de', or 'code:python' with joined corpora) in ``corpus``."""
        from tokbench.corpora import corpus_info

        corpus = corpus or config.corpus
        key = f"{corpus}|{lang}"
        if key not in cache:
            home = lang.split(":")[0] if ":" in lang else corpus
            have = corpus_info(home).get("splits", list(config.splits))
            splits = [s for s in config.splits if s in have] or have
            docs = [t for split in splits for t in load_source(_spec(corpus, lang, split)).texts]
            cache[key] = shuffled_pool(docs, config.seed, lang)
        return cache[key]

    def nbytes(texts: Sequence[str]) -> int:
        return sum(len(t.encode("utf-8")) for t in texts)

    for _ in range(config.trials):
        started = time.perf_counter()
        drawn = rng.choice(langs, size=config.n + config.distractors, replace=False).tolist()
        chosen, absent = sorted(drawn[: config.n]), sorted(drawn[config.n:])
        truth = rng.dirichlet(np.ones(config.n))
        guess = random_guess(config.n + config.distractors, rng)
        # Domain shift: training text from train_corpus (all of it may be used), inference text from corpus.
        shift = bool(config.train_corpus)
        share = 1.0 if shift else config.train_share
        train_pool = (lambda l: pool(l, config.train_corpus)) if shift else pool
        avail = share * np.array([nbytes(train_pool(l)) for l in chosen], dtype=np.float64)
        # Language i gives p_i * B bytes: B is capped by the scarcest language relative to its share.
        budget = int(min(config.train_bytes, np.min(avail / truth)))
        train, samples, got = [], [], []
        for lang, p in zip(chosen, truth):
            tr, rest = split_pool(train_pool(lang), int(round(p * budget)))
            train.extend(tr)
            samples.append(pool(lang) if shift else rest)
            got.append(nbytes(tr))
        # Distractors: categories absent from the training mixture, inferred from their whole pool.
        samples += [pool(l) for l in absent]
        got += [0] * len(absent)
        if config.sample_bytes:
            samples = [take_bytes(x, config.sample_bytes) for x in samples]
        order = rng.permutation(len(train))
        with tempfile.TemporaryDirectory(prefix="tokbench-sim-") as tmp:
            tok = train_bytelevel_bpe([train[i] for i in order], config.merges, Path(tmp))
            n_merges = len(tok.model_merges() or [])
            cats = [Category(l, rest) for l, rest in zip(chosen + absent, samples)]
            res = infer_mixture(tok, cats, MixtureConfig(merges=n_merges, time_limit=config.time_limit,
                                                         bootstrap=config.bootstrap, seed=config.seed,
                                                         bootstrap_time_limit=config.bootstrap_time_limit,
                                                         bootstrap_over=config.bootstrap_over,
                                                         bootstrap_block=config.bootstrap_block,
                                                         merge_draw=config.merge_draw,
                                                         interval_method=config.interval_method,
                                                         interval_scale=config.interval_scale))
        # The truth is the share of training bytes actually taken (rounding and character cuts aside).
        got = np.array(got, dtype=np.float64)
        sim.trials.append(Trial(chosen + absent, got / got.sum(), res.proportions, res.tc, guess, n_merges, budget,
                                time.perf_counter() - started, res.lp.stats(), [int(b) for b in res.n_bytes],
                                res.intervals, None if res.intervals is None else np.array(res.bootstrap["replicate_proportions"]),
                                len(absent)))
        if advance is not None:
            advance(1)
    return sim


def write_simulation(sim: Simulation, out_dir: str | Path, manifest: dict) -> None:
    """trials.csv/json, summary.csv/json, result.json, report.md, manifest.json."""
    from tokbench.files import write_json_atomic, write_text_atomic
    from tokbench.report import markdown_table, write_table

    out_dir = Path(out_dir)
    write_table(out_dir, "trials", sim.trial_rows())
    write_table(out_dir, "summary", sim.summary_rows())
    write_json_atomic(out_dir / "result.json", sim.to_json())
    write_json_atomic(out_dir / "manifest.json", manifest)
    c = sim.config
    md = [
        f"# Controlled experiment: n = {c.n} languages of '{c.corpus}', {len(sim.trials)} trials (seed {c.seed})",
        "",
        f"Tokenizers: byte-level BPE (`tokenizers` trainer), up to {c.merges:,} merges, trained on up to "
        f"{c.train_bytes:,} bytes mixed by proportions uniform on the simplex. Each language's documents "
        f"({'+'.join(c.splits)} splits) are pooled and shuffled; a trial trains on a prefix (at most "
        f"{c.train_share:.0%} of the pool) and infers from the rest, so inference text is never training text. "
        f"Languages: the preferred variant of each, with at least {c.min_language_bytes:,} bytes pooled. "
        f"LP limit {c.time_limit:.0f} s per trial. log10 MSE of the proportions:",
        "",
        markdown_table(sim.summary_rows(), floatfmt="{:.2f}"),
        "",
        (f"Bootstrap intervals ({c.bootstrap} replicates per trial over {c.bootstrap_over}"
         + (f", {'half of the' if c.merge_draw == 'half' else 'with replacement,'} windows of {c.bootstrap_block} merges"
            if c.bootstrap_over != "documents" else "")
         + f", {c.bootstrap_time_limit:.0f} s of LP each, {c.interval_method} intervals, spread x {c.interval_scale:g}): the true share lies inside "
         f"its 90% interval in {sim.coverage_counts()['hits']} of {sim.coverage_counts()['pairs']} (trial, category) "
         f"pairs ({100 * sim.coverage():.0f}%; 95% Wilson range {100 * sim.coverage_counts()['rate_95_low']:.0f}-"
         f"{100 * sim.coverage_counts()['rate_95_high']:.0f}%). Both constructions, scaled and not, from the same replicates:"
         if sim.coverage() is not None else "No bootstrap intervals (--bootstrap 0)."),
        "",
        markdown_table(sim.calibration_rows(), floatfmt="{:.1f}") if sim.coverage() is not None else "",
        "",
        (f"Distractors: {c.distractors} categories per trial absent from the training mixture got "
         f"{100 * sim.distractor_share():.2f}% on average (truth 0)." if c.distractors else ""),
        (f"Domain shift: tokenizers trained on '{c.train_corpus}', categories inferred from '{c.corpus}'."
         if c.train_corpus else ""),
        (f"Inference samples capped at {c.sample_bytes:,} bytes per category." if c.sample_bytes else ""),
        "",
        markdown_table(sim.trial_rows(), floatfmt="{:.2f}"),
        "",
    ]
    write_text_atomic(out_dir / "report.md", "\n".join(md))
