"""Settings of `tokbench check`: the measured metrics, their direction and default tolerance, and the
corpora a new baseline measures. One source of truth: the CLI reads its defaults from here.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType
from typing import Mapping

from tokbench.errors import ConfigError

#: Version of the baseline file layout; a baseline of another version is refused (exit 2).
BASELINE_FORMAT_VERSION = 1


class Better(str, Enum):
    """Which way a metric improves."""

    HIGHER = "higher"
    LOWER = "lower"


@dataclass(frozen=True)
class Tolerance:
    """How much worse than the baseline a metric may get: ``value`` relative (a fraction of the baseline
    value) or absolute (in the metric's own unit).

    >>> Tolerance(0.01, relative=True).allowed(4.0)
    0.04
    """

    value: float
    relative: bool = True

    def allowed(self, baseline: float) -> float:
        return abs(baseline) * self.value if self.relative else self.value

    def __str__(self) -> str:
        return f"{self.value * 100:g}%" if self.relative else f"{self.value:g}"


@dataclass(frozen=True)
class MetricSpec:
    name: str
    better: Better
    tolerance: Tolerance
    description: str


# The defaults: a retrained tokenizer that compresses 1% worse, or whose token premium rises 2%, is a
# regression worth a look; UNK and byte-fallback rates are shares (0..1) compared in absolute terms.
METRICS: Mapping[str, MetricSpec] = MappingProxyType({
    m.name: m
    for m in [
        MetricSpec("bytes_per_token", Better.HIGHER, Tolerance(0.01), "UTF-8 bytes / tokens (no special tokens)"),
        MetricSpec("fertility", Better.LOWER, Tolerance(0.01), "tokens per word (letter/digit runs; not for scripts without spaces)"),
        MetricSpec("premium", Better.LOWER, Tolerance(0.02), "tokens(L) / tokens(reference language) on aligned segments"),
        MetricSpec("unk_rate", Better.LOWER, Tolerance(0.001, relative=False), "share of tokens that are the unknown token"),
        MetricSpec("byte_fallback_rate", Better.LOWER, Tolerance(0.005, relative=False), "share of byte / partial-character tokens"),
    ]
})

#: Default text a new baseline measures, each source capped at max_bytes: 8 languages of the LibreOffice
#: help test split, the test split of the five code languages (whitespace-heavy round trips), and the same
#: 8 languages in the UDHR (token premium on a second parallel corpus). A check takes 2-5 s (measured).
DEFAULT_CORPORA = (
    "libreoffice:en-us,de,fr,tr,ru,hi,ja,zh-cn@test",
    "code@test",
    "udhr:en,de,fr,tr,ru,hi,ja,zh",
)


@dataclass(frozen=True)
class CheckConfig:
    """What `tokbench check --write-baseline` measures (a check re-measures what its baseline recorded).

    corpora:        corpus specs (bundled or files); empty -> probes only.
    max_bytes:      cap per source, so a check runs in seconds.
    premium_ref:    language that token premium is measured against, per parallel corpus.
    tolerances:     metric -> Tolerance, overriding :data:`METRICS` defaults.
    """

    corpora: tuple[str, ...] = DEFAULT_CORPORA
    max_bytes: int = 60_000
    premium_ref: str = "en"
    tolerances: Mapping[str, Tolerance] = field(default_factory=dict)

    def tolerance(self, metric: str) -> Tolerance:
        return self.tolerances.get(metric) or METRICS[metric].tolerance


_TOL = re.compile(r"^\s*([a-z_]+)\s*=\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(%?)\s*$")


def parse_tolerance(text: str) -> tuple[str, Tolerance]:
    """'bytes_per_token=1%' -> relative 0.01; 'unk_rate=0.002' -> absolute 0.002.

    >>> parse_tolerance("bytes_per_token=1%")
    ('bytes_per_token', Tolerance(value=0.01, relative=True))
    """
    m = _TOL.match(text)
    if not m:
        raise ConfigError(f"cannot read tolerance '{text}'; write METRIC=VALUE, e.g. bytes_per_token=1% (relative) or unk_rate=0.002 (absolute)")
    name, value, pct = m.group(1), float(m.group(2)), m.group(3)
    if name not in METRICS:
        raise ConfigError(f"unknown metric '{name}' in tolerance '{text}'; metrics are: {', '.join(METRICS)}")
    if not math.isfinite(value):
        raise ConfigError(f"tolerance '{text}' must be a finite number")
    return name, Tolerance(value / 100.0, relative=True) if pct else Tolerance(value, relative=False)


def parse_tolerances(items: list[str] | tuple[str, ...] | None) -> dict[str, Tolerance]:
    return dict(parse_tolerance(t) for t in items or ())
