"""Measure a tokenizer into a baseline, and read/write baseline files.

A baseline is a small JSON file (sorted keys, one probe or corpus per entry, id lists on one line) that
holds everything a later check needs, including the probe texts and corpus specs it used::

    format_version, probe_set, tokbench_version, packages (versions of the encoding libraries)
    tokenizer   name, format, model, lossless, file fingerprint (informational)
    vocab       size, sha256 of the token strings, special tokens, unk id
    merges      count and sha256 of the stored merge list (Hugging Face BPE), else null
    pipeline    normalizer / pre_tokenizer / model / decoder as canonical one-line strings
    behaviour   sha256 over the encodings of the adversarial probes, and per probe: text, sha256,
                token count, round trip
    golden      per short probe: text, ids, token strings, readable pieces, round trip
    settings    corpora specs, max_bytes, premium reference language
    corpora     per source: spec, content sha256, metrics, round-trip failures, premium reference
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from tokbench.version import __version__
from tokbench.check import measure as M
from tokbench.check.config import BASELINE_FORMAT_VERSION, CheckConfig
from tokbench.check.pipeline import merges_hash, pipeline_summary, stored_merges, vocab_hash
from tokbench.check.probes import ADVERSARIAL, GOLDEN, PROBE_SET
from tokbench.errors import ConfigError, CorpusError, CorruptFileError, InputNotFoundError
from tokbench.files import write_text_atomic
from tokbench.progress import Advance
from tokbench.provenance import package_versions
from tokbench.tokenizer.base import Tokenizer


def _round(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), 6)


def ids_hash(ids: Sequence[int]) -> str:
    """sha256 of an id list written as decimal numbers separated by spaces."""
    return hashlib.sha256(" ".join(map(str, ids)).encode()).hexdigest()


# --- probes ---------------------------------------------------------------------------------------
def measure_probes(tok: Tokenizer, adversarial: dict[str, str], golden: dict[str, str]) -> tuple[dict, dict]:
    """(behaviour, golden) sections for ``tok`` on the given probe texts."""
    strings = tok.token_strings()

    def show(i: int) -> str:
        s = strings[i] if 0 <= i < len(strings) else None
        return s if s is not None else f"<id {i}>"

    probes = {}
    overall = hashlib.sha256()
    for name in sorted(adversarial):
        text = adversarial[name]
        ids = tok.encode(text)
        h = ids_hash(ids)
        overall.update(f"{name}\0{h}\n".encode())
        probes[name] = {"text": text, "sha256": h, "n_tokens": len(ids), "roundtrip": tok.decode(ids) == text}
    from tokbench.check.diff import readable

    token_bytes = tok.token_bytes()
    gold = {}
    for name in sorted(golden):
        text = golden[name]
        ids = tok.encode(text)
        # tokens: as the format spells them (exact); pieces: the text they stand for (for people)
        gold[name] = {"text": text, "ids": ids, "tokens": [show(i) for i in ids],
                      "pieces": readable(ids, token_bytes, strings), "roundtrip": tok.decode(ids) == text}
    return {"sha256": overall.hexdigest(), "probes": probes}, gold


# --- corpora --------------------------------------------------------------------------------------
def expand_corpora(specs: Sequence[str], max_bytes: int | None):
    """Every TextSource the specs name (one per language), each capped at ``max_bytes``."""
    from tokbench.corpora import load_sources

    out = []
    for spec in specs:
        try:
            out.extend(load_sources(spec, max_bytes))
        except InputNotFoundError as exc:
            if "manifest" in str(exc):
                raise InputNotFoundError(
                    f"the bundled corpora are not available ({exc}); pass --corpus FILE to measure your own text or --no-corpora for probes only"
                ) from None
            raise
    return out


def source_spec(src) -> str:
    """A spec that loads exactly this one source again ('libreoffice:de@test', or the file path)."""
    return src.label if src.corpus not in ("file",) and not src.corpus.startswith("hf:") else src.spec


def _premium_reference(src, premium_ref: str) -> str | None:
    """Spec of the reference-language source aligned with ``src``, or None (not parallel / is the ref)."""
    if not src.parallel or not src.lang or not premium_ref:
        return None
    from tokbench.corpora import resolve_language

    try:
        ref_lang = resolve_language(src.corpus, premium_ref)
    except (CorpusError, InputNotFoundError):
        return None
    if ref_lang == src.lang:
        return None
    return f"{src.corpus}:{ref_lang}" + (f"@{src.split}" if src.split else "")


def measure_sources(tok: Tokenizer, sources: Sequence, premium_ref: str, advance: Advance | None = None) -> dict[str, dict]:
    """spec -> corpus entry (metrics, round trips, content hashes) for every source."""
    from tokbench.corpora import load_source

    masks = M.Masks.of(tok)
    refs: dict[str, tuple[Any, np.ndarray]] = {}
    out: dict[str, dict] = {}
    for src in sources:
        enc = tok.encode_batch(src.texts, spans=True)
        metrics: dict[str, float | None] = {"premium": None}
        metrics.update(M.corpus_metrics(enc, src.texts, src.lang, src.kind, masks))
        entry: dict[str, Any] = {
            "spec": source_spec(src), "sha256": src.sha256, "segments": len(src), "bytes": src.n_bytes,
            "lang": src.lang, "kind": src.kind,
        }
        ref_spec = _premium_reference(src, premium_ref)
        if ref_spec is not None:
            if ref_spec not in refs:
                # The whole reference split (not capped): every capped target finds its segments in it.
                ref = load_source(ref_spec)
                refs[ref_spec] = (ref, tok.encode_batch(ref.texts, spans=False).tokens_per_doc())
            ref, ref_tpd = refs[ref_spec]
            value, used = M.premium(enc, src.ids, src.texts, ref_tpd, ref.ids, ref.texts, masks)
            metrics["premium"] = value
            entry["premium_ref"] = {"spec": ref_spec, "sha256": ref.sha256, "segments": used}
        entry["metrics"] = {k: _round(v) for k, v in metrics.items()}
        fails = M.roundtrip_failures(tok.decode, enc, src.texts)
        entry["roundtrip_failures"] = len(fails)
        if fails:
            entry["roundtrip_first_failure"] = src.ids[fails[0]]
        out[entry["spec"]] = entry
        if advance:
            advance(1)
    return out


# --- the whole baseline ---------------------------------------------------------------------------
def tokenizer_section(tok: Tokenizer) -> tuple[dict, dict, dict | None, dict]:
    """(tokenizer, vocab, merges, pipeline) sections."""
    merges = stored_merges(tok)
    return (
        {"name": tok.name, "format": tok.format, "model": tok.model_kind, "lossless": bool(tok.lossless),
         "fingerprint": tok.fingerprint()},
        {"size": tok.vocab_size, "sha256": vocab_hash(tok),
         "special_tokens": dict(sorted(tok.special_tokens.items())), "unk_id": tok.unk_id},
        None if merges is None else {"count": len(merges), "sha256": merges_hash(merges)},
        pipeline_summary(tok),
    )


def measure(tok: Tokenizer, *, adversarial: dict[str, str], golden: dict[str, str], sources: Sequence,
            settings: dict, advance: Advance | None = None) -> dict:
    """A baseline dict for ``tok``: probes, structure and corpus metrics of ``sources``."""
    tokenizer, vocab, merges, pipeline = tokenizer_section(tok)
    behaviour, gold = measure_probes(tok, adversarial, golden)
    return {
        "format_version": BASELINE_FORMAT_VERSION,
        "probe_set": settings.get("probe_set", PROBE_SET),
        "tokbench_version": __version__,
        # The encoding libraries: a changed version can explain a changed encoding (reported, not failed).
        "packages": package_versions(("tokenizers", "sentencepiece", "tiktoken")),
        "tokenizer": tokenizer,
        "vocab": vocab,
        "merges": merges,
        "pipeline": pipeline,
        "behaviour": behaviour,
        "golden": gold,
        "settings": settings,
        "corpora": measure_sources(tok, sources, settings.get("premium_ref") or "", advance),
    }


def build_baseline(tok: Tokenizer, config: CheckConfig = CheckConfig(), advance: Advance | None = None,
                   sources: Sequence | None = None) -> dict:
    """Measure ``tok`` with tokbench's current probes and ``config.corpora`` (or ready ``sources``)."""
    if sources is None:
        sources = expand_corpora(config.corpora, config.max_bytes)
    settings = {"corpora": list(config.corpora), "max_bytes": config.max_bytes, "premium_ref": config.premium_ref,
                "probe_set": PROBE_SET}
    return measure(tok, adversarial=ADVERSARIAL, golden=GOLDEN, sources=sources, settings=settings, advance=advance)


def remeasure(tok: Tokenizer, baseline: dict, advance: Advance | None = None) -> tuple[dict, dict[str, str]]:
    """Measure ``tok`` exactly as ``baseline`` was measured (its probe texts, its sources).

    Returns (current, load_errors): sources that can no longer be loaded map to their error message.
    """
    from tokbench.corpora import load_source
    from tokbench.errors import TokbenchError

    settings = baseline["settings"]
    sources, errors = [], {}
    for label, entry in baseline["corpora"].items():
        try:
            sources.append(load_source(entry["spec"], settings.get("max_bytes")))
        except (TokbenchError, OSError) as exc:
            errors[label] = str(exc)
    adversarial = {k: v["text"] for k, v in baseline["behaviour"]["probes"].items()}
    golden = {k: v["text"] for k, v in baseline["golden"].items()}
    current = measure(tok, adversarial=adversarial, golden=golden, sources=sources, settings=settings, advance=advance)
    return current, errors


# --- files ----------------------------------------------------------------------------------------
def dumps(obj: Any, indent: int = 2, _level: int = 0) -> str:
    """JSON with sorted keys, one key per line, and lists of plain values on one line (diff-friendly).

    >>> print(dumps({"b": [1, 2], "a": {"x": None}}))
    {
      "a": {
        "x": null
      },
      "b": [1, 2]
    }
    """
    pad, inner = " " * (indent * _level), " " * (indent * (_level + 1))
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f"{inner}{json.dumps(str(k), ensure_ascii=False)}: {dumps(v, indent, _level + 1)}" for k, v in sorted(obj.items())]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, (list, tuple)):
        if all(not isinstance(v, (dict, list, tuple)) for v in obj):
            return "[" + ", ".join(json.dumps(v, ensure_ascii=False) for v in obj) + "]"
        return "[\n" + ",\n".join(inner + dumps(v, indent, _level + 1) for v in obj) + "\n" + pad + "]"
    if isinstance(obj, np.generic):
        obj = obj.item()
    return json.dumps(obj, ensure_ascii=False)


def write_baseline(path: str | Path, baseline: dict) -> Path:
    return write_text_atomic(path, dumps(baseline) + "\n")


REQUIRED = ("format_version", "tokenizer", "vocab", "pipeline", "behaviour", "golden", "settings", "corpora")


def read_baseline(path: str | Path) -> dict:
    """Load and validate a baseline file; bad input raises a one-line TokbenchError (exit 2)."""
    path = Path(path)
    if not path.exists():
        raise InputNotFoundError(f"baseline file '{path}' does not exist; create it with: tokbench check TOKENIZER --write-baseline {path}")
    if path.is_dir():
        raise InputNotFoundError(f"baseline '{path}' is a folder; give the baseline JSON file")
    from tokbench.files import require_regular_file

    require_regular_file(path, "baseline file")
    try:
        data = json.loads(path.read_text("utf-8"))
    except RecursionError:
        raise CorruptFileError(f"baseline '{path}' is nested too deeply to be a baseline") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CorruptFileError(f"baseline '{path}' is not valid JSON ({str(exc)[:100]}); rewrite it with --write-baseline") from None
    if not isinstance(data, dict) or "format_version" not in data:
        raise CorruptFileError(f"'{path}' is not a tokbench baseline (no format_version); write one with --write-baseline")
    if data["format_version"] != BASELINE_FORMAT_VERSION:
        raise ConfigError(
            f"baseline '{path}' has format_version {data['format_version']!r} but this tokbench reads version "
            f"{BASELINE_FORMAT_VERSION}; rewrite it with: tokbench check TOKENIZER --write-baseline {path}"
        )
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        raise CorruptFileError(f"baseline '{path}' lacks {', '.join(missing)}; is the file complete? rewrite it with --write-baseline")
    wrong = [k for k in REQUIRED if k != "format_version" and not isinstance(data[k], dict)]
    wrong += [f"{k}.*" for k in ("golden", "corpora") if isinstance(data[k], dict) and not all(isinstance(v, dict) for v in data[k].values())]
    if isinstance(data["behaviour"], dict) and not isinstance(data["behaviour"].get("probes"), dict):
        wrong.append("behaviour.probes")
    if isinstance(data["settings"], dict) and not isinstance(data["settings"].get("corpora", []), list):
        wrong.append("settings.corpora")
    if wrong:
        raise CorruptFileError(f"baseline '{path}': {', '.join(wrong)} must be objects (lists for settings.corpora); "
                               "the file is damaged, rewrite it with --write-baseline")
    return data


def roundtrip_warnings(baseline: dict) -> list[str]:
    """One line per probe or corpus that does not decode back to its text (worth knowing before the
    baseline is committed: a check only fails when a round trip that worked is lost)."""
    out = []
    for section, probes in (("probe", baseline["behaviour"]["probes"]), ("golden probe", baseline["golden"])):
        for name, p in sorted(probes.items()):
            if not p.get("roundtrip"):
                out.append(f"{section} '{name}' does not round-trip (decode(encode(text)) != text)")
    for key, e in sorted(baseline["corpora"].items()):
        if e.get("roundtrip_failures"):
            out.append(f"{e['roundtrip_failures']} of {e['segments']} segments of {key} do not round-trip (first: {e.get('roundtrip_first_failure')})")
    return out
