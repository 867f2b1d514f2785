"""The top-level Python API: ``from tokbench import load_tokenizer, train, evaluate, infer_mixture,
transplant, check``.

Each function is a thin door onto the library (configs, corpora, tokenizers) with the CLI's defaults,
and imports what it needs when called: ``import tokbench`` stays cheap (no numpy kernels, no numba).

>>> import tokbench                                                          # doctest: +SKIP
>>> tok = tokbench.train(["some text", "more text"] * 100, kind="bpe", vocab_size=300)   # doctest: +SKIP
>>> res = tokbench.evaluate([tok.tokenizer, "gpt2"], metrics=["compression"])          # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

if TYPE_CHECKING:  # pragma: no cover
    from tokbench.check.compare import CheckReport
    from tokbench.corpora import TextSource
    from tokbench.metrics.evaluation import EvalResults
    from tokbench.mixture.infer import MixtureResult
    from tokbench.tokenizer.base import Tokenizer
    from tokbench.train.api import TrainResult

from tokbench.train.config import TrainConfig as _TrainConfig  # noqa: E402 (stdlib-only, no kernels)

_TRAIN = _TrainConfig()

__all__ = ["load_tokenizer", "train", "evaluate", "infer_mixture", "transplant", "check"]


def load_tokenizer(spec: Any, name: str | None = None) -> "Tokenizer":
    """A tokenizer from a spec (``tokenizer.json``, a folder, ``.model``, ``.tiktoken``, a reference name
    such as ``"cl100k"``, a hub id such as ``"Qwen/Qwen3-0.6B"``) or from an object of another library
    (``tokenizers.Tokenizer``, a transformers fast tokenizer, a tiktoken ``Encoding``)."""
    from tokbench.tokenizer.load import as_tokenizer

    return as_tokenizer(spec, name)


def _texts_source(texts: Iterable[str], budget: int | None, label: str = "<texts>") -> "TextSource":
    """An in-memory source from an iterable of strings, read up to ``budget`` bytes (the training budget:
    a generator over a huge file is not read past what training uses)."""
    from tokbench.corpora import TextSource
    from tokbench.errors import ConfigError

    kept: list[str] = []
    used = 0
    for n, t in enumerate(texts):
        if not isinstance(t, str):
            raise ConfigError(f"training text item {n} is a {type(t).__name__}, not a str")
        if not t:
            continue
        kept.append(t)
        used += len(t.encode("utf-8"))
        if budget is not None and used >= budget:
            break
    if not kept:
        raise ConfigError("no training text: the iterable of strings is empty")
    return TextSource(label, "texts", None, None, [str(i) for i in range(len(kept))], kept)


def _sources(data: Any, budget: int | None) -> tuple[list, list[float]]:
    """What train() accepts, as (sources, weights)."""
    from tokbench.corpora import TextSource, load_sources, parse_weighted

    if isinstance(data, str):  # one corpus spec (with an optional =WEIGHT)
        data = [data]
    elif isinstance(data, TextSource):
        data = [data]
    items = list(data) if isinstance(data, (list, tuple)) else None
    if items is not None and items and all(isinstance(i, (TextSource,)) or _is_spec(i) for i in items):
        sources, weights = [], []
        for item in items:
            if isinstance(item, TextSource):
                sources.append(item)
                weights.append(1.0)
                continue
            spec, w = parse_weighted(item)
            srcs = load_sources(spec, max_bytes=budget)
            sources.extend(srcs)
            weights.extend([w / len(srcs)] * len(srcs))
        return sources, weights
    return [_texts_source(items if items is not None else data, budget)], [1.0]


def _is_spec(item: Any) -> bool:
    # A list of strings is text unless every item reads as a corpus spec ('libreoffice:de@train=0.6', a
    # path that exists): training text is rarely a list of existing file names.
    from tokbench.corpora.spec import _looks_bundled, parse_weighted, split_local

    if not isinstance(item, str) or not item.strip() or "\n" in item:
        return False
    spec, _ = parse_weighted(item) if "=" in item else (item.strip(), 1.0)
    return spec.startswith("hf:") or _looks_bundled(spec) is not None or split_local(spec)[0] is not None


def train(data: Any, kind: str = _TRAIN.kind, vocab_size: int = _TRAIN.vocab_size, *, out: str | Path | None = None,
          force: bool = False, weights: Sequence[float] | None = None, **options) -> "TrainResult":
    """Train a tokenizer of ``kind`` (bpe, superbpe, char, char-bpe, unigram, wordpiece, sp-bpe,
    sp-unigram) and, with ``out``, write it as a folder that ``tokenizers``/``transformers`` load.

    ``data`` is any iterable of strings (the training text itself: a list, a generator over your files),
    one corpus spec or a list of specs (``"libreoffice@train"``, ``["libreoffice:en@train=0.6",
    "code:python@train=0.4"]``), or TextSource objects. ``options`` are :class:`TrainConfig` fields
    (``max_bytes`` = the text budget for the whole mixture, default 50 MB; ``seed``, ``pretokenizer``...).
    The result's ``.tokenizer`` is a ``tokenizers.Tokenizer``; ``evaluate`` takes it as it is.
    """
    from tokbench.train.api import train as _train
    from tokbench.train.api import train_to_dir
    from tokbench.train.config import TrainConfig

    config = TrainConfig(kind=kind, vocab_size=vocab_size, **options)
    if out is not None:
        from tokbench.files import check_output_dir

        check_output_dir(out, force)  # before reading any text
    sources, mixed_weights = _sources(data, config.max_bytes)
    w = list(weights) if weights is not None else mixed_weights
    if out is not None:
        return train_to_dir(config, sources, out, weights=w, force=force)
    return _train(config, sources, w)


def evaluate(tokenizers: Any, *, metrics: Sequence[str] | str | None = None, sources: Any = None,
             premium_sources: Any = None, tr_sources: Any = None, **options) -> "EvalResults":
    """Evaluate one tokenizer or a list of them (specs, tokbench tokenizers, ``tokenizers.Tokenizer``,
    tiktoken ``Encoding`` objects) with the metric families of :class:`EvalConfig`.

    ``sources`` / ``premium_sources`` / ``tr_sources`` replace the default corpora: corpus specs
    (``"my_turkish.txt:tr"``, ``"flores200/dev"``, ``"pairs.tsv"``) or TextSource objects. ``options`` are
    EvalConfig fields (``reference_lang``, ``max_bytes``, ``use_cache``...). Returns :class:`EvalResults`:
    ``.tables["compression"]``, ``.tables["premium"]``, ``.to_json()``.
    """
    from tokbench.metrics.config import EvalConfig, parse_metrics
    from tokbench.metrics.evaluation import evaluate as _evaluate

    if isinstance(tokenizers, (str, Path)) or not isinstance(tokenizers, (list, tuple)):
        tokenizers = [tokenizers]
    if metrics is not None:
        options["metrics"] = parse_metrics(metrics) if isinstance(metrics, str) else tuple(metrics)
    for key in ("corpora", "tr_corpora"):
        if isinstance(options.get(key), (list, str)):
            options[key] = (options[key],) if isinstance(options[key], str) else tuple(options[key])
    return _evaluate(list(tokenizers), EvalConfig(**options), sources=sources, premium_sources=premium_sources,
                     tr_sources=tr_sources)


def infer_mixture(tokenizer: Any, categories: Mapping[str, Any] | None = None, **options) -> "MixtureResult":
    """Infer the training mixture of a BPE tokenizer from its merge list (Hayase et al. 2024).

    ``categories`` maps a name to a corpus spec, a TextSource or an iterable of strings
    (``{"en": "libreoffice:en@train", "py": my_python_texts}``); default: every bundled libreoffice and
    code language. ``options`` are :class:`MixtureConfig` fields (``merges``, ``sample_bytes``...).
    """
    from tokbench.corpora import TextSource
    from tokbench.mixture.config import MixtureConfig
    from tokbench.mixture.infer import Category, default_category_specs, load_categories
    from tokbench.mixture.infer import infer_mixture as _infer

    config = MixtureConfig(**options)
    tok = load_tokenizer(tokenizer)
    if categories is None:
        cats = load_categories(default_category_specs(config.split), config.sample_bytes)
    else:
        cats = []
        for name, value in categories.items():
            if isinstance(value, str):
                cats.extend(load_categories([(name, value)], config.sample_bytes))
                continue
            src = value if isinstance(value, TextSource) else _texts_source(value, config.sample_bytes, f"<{name}>")
            cats.append(Category(name, list(src.texts), src.kind, src.provenance()))
    return _infer(tok, cats, config)


def transplant(model: str | Path, tokenizer: str | Path, out: str | Path, *, force: bool = False,
               donor: str | None = None, old_tokenizer: str | None = None, **options) -> dict:
    """Move ``model`` (an HF folder or a .gguf) onto ``tokenizer`` (a spec) without training and write an
    HF model folder to ``out``; ``options`` are :class:`TransplantConfig` fields (``method``, ``k``...).
    Returns the run manifest (counts of shared and new tokens, timings)."""
    from tokbench.transplant.config import TransplantConfig
    from tokbench.transplant.run import transplant as _transplant
    from tokbench.transplant.run import validate

    config = TransplantConfig(**options)
    validate(config)
    return _transplant(model, tokenizer, out, config, donor=donor, old_tokenizer=old_tokenizer, force=force)


def check(tokenizer: Any, baseline: str | Path, *, write: bool = False, **options) -> "CheckReport | dict":
    """The CI regression gate: compare ``tokenizer`` with a baseline file (returns a CheckReport:
    ``.passed``, ``.failures``), or with ``write=True`` measure it and write the baseline (returns it).
    ``options`` are :class:`CheckConfig` fields (``corpora``, ``max_bytes``, ``tolerances``...)."""
    from tokbench.check import build_baseline, run_check, write_baseline
    from tokbench.check.config import CheckConfig

    if isinstance(options.get("corpora"), (list, str)):
        options["corpora"] = (options["corpora"],) if isinstance(options["corpora"], str) else tuple(options["corpora"])
    config = CheckConfig(**options)
    tok = load_tokenizer(tokenizer)
    if write:
        data = build_baseline(tok, config)
        write_baseline(baseline, data)
        return data
    return run_check(tok, baseline, config)
