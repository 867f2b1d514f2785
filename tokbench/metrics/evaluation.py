"""Evaluate tokenizers on corpora: the library behind ``tokbench evaluate``.

>>> from tokbench.metrics import EvalConfig, evaluate          # doctest: +SKIP
>>> res = evaluate(["gpt2", "cl100k"], EvalConfig(metrics=("compression", "premium")))   # doctest: +SKIP
>>> [r["premium"] for r in res.tables["premium"] if r["lang"] == "tur"]                  # doctest: +SKIP
[2.52..., 1.9...]

By default every corpus is read as a stream and each (tokenizer, text) pair is encoded once, a batch at a
time, into the sufficient statistics every requested family needs (:mod:`tokbench.metrics.stream_stats`,
cached per shard): memory does not grow with the text, and ``EvalConfig(engine="ray")`` encodes the
shards on Ray actors. ``EvalConfig(in_memory=True)`` is the older path, kept as the reference the tests
compare the streamed one against: corpora read into memory, encoded once into flat id arrays (or loaded
from :mod:`tokbench.tokenizer.cache`) that every family reads through the Numba kernels.
"""

from __future__ import annotations

import time
from pathlib import Path
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Sequence

import numpy as np

from tokbench.tokenizer import cache as encoding_cache
from tokbench.corpora import TextSource, load_sources
from tokbench.corpora.langs import short_code
from tokbench.corpora.parallel import pick_reference
from tokbench.corpora.spec import load_parallel
from tokbench.errors import ConfigError, CorpusError, TokbenchError, TokenizerError
from tokbench.metrics import kernels
from tokbench.metrics.compression import compression_row
from tokbench.metrics.config import EvalConfig
from tokbench.metrics.coverage import coverage_row, flag_mask, script_shares, token_scripts
from tokbench.metrics.fertility import fertility_row
from tokbench.metrics.lexicon import oracles_for
from tokbench.metrics.config import UNK_FLAG_THRESHOLD
from tokbench.metrics.premium import align, premium_row
from tokbench.metrics.purity import purity_row
from tokbench.files import portable_path
from tokbench.metrics.text import WORD_DEFINITION, TextArrays, text_arrays
from tokbench.progress import Progress, no_progress
from tokbench.tokenizer.base import Tokenizer
from tokbench.tokenizer.load import as_tokenizer
from tokbench.verified_cache import ArrayCache

@dataclass
class EvalResults:
    config: EvalConfig
    tokenizers: list[dict] = field(default_factory=list)
    failures: list[dict] = field(default_factory=list)
    #: problems that left a part out without failing the run (e.g. an oracle whose data cannot be fetched)
    warnings: list[str] = field(default_factory=list)
    tables: dict[str, list[dict]] = field(default_factory=dict)
    inputs: list[dict] = field(default_factory=list)
    timings: dict[str, dict[str, float]] = field(default_factory=dict)
    cache: dict[str, int] = field(default_factory=lambda: {"hits": 0, "misses": 0})
    oracles: dict[str, str] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    #: seconds spent on tokenizer-independent preparation (characters and words of the texts)
    prep_s: float = 0.0

    def to_json(self) -> dict:
        return {
            "config": asdict(self.config),
            "tokenizers": self.tokenizers,
            "failures": self.failures,
            "warnings": self.warnings,
            "tables": self.tables,
            "timings": self.timings,
            "prep_s": round(self.prep_s, 3),
            "cache": self.cache,
            "oracles": self.oracles,
            "notes": self.notes,
        }


def choices(config: EvalConfig) -> dict[str, str]:
    """The documented choices behind every number (printed in the report and the JSON)."""
    return {
        "compression": "bytes and characters of the UTF-8 text per token, no special tokens added; Rényi efficiency "
                       f"H_a/log2|V| of the unigram token distribution with a = {config.renyi_power:g} and |V| = the "
                       "tokenizer's vocabulary size (special tokens included), as in Zouhar et al. 2023",
        "fertility": f"tokens per word and proportion of continued words (PCW, words split into 2+ tokens); {WORD_DEFINITION}; "
                     "languages written without spaces (ja, zh, th, km, my, lo, dz, bo) get 'not applicable' and "
                     "only tokens per character",
        "premium": f"tokens(L) / tokens(reference) as a ratio of corpus totals over segments present in both (matched "
                   f"by alignment id; segments identical to the reference text are dropped as untranslated); UNK share "
                   f"of L reported and pairs above {UNK_FLAG_THRESHOLD:.0%} UNK flagged (and left out of plots and summaries)",
        "tr": "%TR = share of token strings that are valid words, %Pure = share that are a root or a morpheme; each used "
              "id decoded alone, whitespace stripped (word-start markers are spaces), tokens of only whitespace, "
              "punctuation or symbols skipped; a token spanning several words (SuperBPE) is judged as one string; "
              "'types' = over distinct token strings (as published), "
              "'occurrences' = weighted by how often each token occurs; the oracle column names who judged",
        "coverage": "UNK rate over tokens; byte-token rate = tokens that are <0xNN> fallback pieces or byte-level tokens "
                    "that are not a whole character; chars needing UNK/bytes = characters whose bytes a UNK or byte token "
                    "covers; vocabulary utilisation = distinct ids used / vocabulary size; script share = share of the "
                    "vocabulary per Unicode script of the token's letters (mixed when two scripts; byte and special "
                    "tokens apart)",
    }


#: Letters of several scripts, digits, punctuation, every kind of space, code and an emoji.
PROBE_TEXT = ("The quick brown fox, 1234567! Größe çà Ñ İstanbul'da ĞÜŞ Привет мир Γειά σου שלום مرحبا नमस्ते "
              "猫はマットの上 한국어 ไทย 🤖👍🏽\n\n\t  def f(x):\r\n    return x[0] + {'a': 1}\u00a0\u3000end")


def _load_tokenizers(specs: Sequence[Tokenizer | str | object], results: EvalResults, use_cache: bool) -> list[Tokenizer]:
    out = []
    for spec in specs:
        try:
            if not isinstance(spec, (str, Path)):  # a tokbench, tokenizers or tiktoken object
                tok = as_tokenizer(spec)
            else:
                # From the cache when its files are unchanged: a warm run never loads a large vocabulary.
                tok = encoding_cache.load_tokenizer_cached(str(spec), use_cache=use_cache)
            if not isinstance(tok, encoding_cache.TokenizerView):
                # A malformed file can load and still fail (or panic) on some text: find out now, on a
                # probe of every kind of character, so it becomes this tokenizer's failure row.
                tok.encode_batch([PROBE_TEXT], spans=True)
            out.append(tok)
        except TokbenchError as exc:
            results.failures.append({"tokenizer": _label(spec), "error": str(exc)})
        except (KeyboardInterrupt, SystemExit, MemoryError):
            raise
        except BaseException as exc:  # noqa: BLE001 - a broken file in a format library (a Rust panic is a BaseException)
            results.failures.append({"tokenizer": _label(spec), "error": f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"})
    names = [t.name for t in out]
    for i, t in enumerate(out):
        if names.count(t.name) > 1:
            t.name = f"{t.name}#{names[:i + 1].count(t.name)}"
    return out


def _label(spec) -> str:
    """How a failed tokenizer is named (an object's str() can be its whole vocabulary)."""
    return str(spec) if isinstance(spec, (str, Path)) else f"<{type(spec).__module__}.{type(spec).__qualname__}>"


class _Corpora:
    """Load each corpus spec once per evaluation (the premium or %TR corpus is often a main corpus too)."""

    def __init__(self, max_bytes: int | None):
        self.max_bytes = max_bytes
        self.loaded: dict[tuple[str, bool], list[TextSource]] = {}

    def __call__(self, spec: str, parallel: bool = False) -> list[TextSource]:
        if (spec, parallel) not in self.loaded:
            plain = self.loaded.get((spec, False))
            if parallel and plain and plain[0].parallel and all(s.texts for s in plain):
                # A bundled parallel corpus already read as a main corpus (libreoffice@test for both): the
                # same sources, aligned by id; reading it again cost a warm run a third of its time.
                self.loaded[spec, parallel] = plain
            else:
                self.loaded[spec, parallel] = (load_parallel(spec, self.max_bytes) if parallel
                                               else load_sources(spec, self.max_bytes))
        return self.loaded[spec, parallel]


def _load_premium(config: EvalConfig, load: _Corpora,
                  given: Sequence[TextSource | str] | None = None) -> tuple[list[TextSource], TextSource]:
    if given is None:
        sources, label = load(config.premium_corpus, parallel=True), config.premium_corpus
    else:
        sources = _as_sources(given, load, parallel=True)
        label = "premium_sources"
        if not sources:
            raise CorpusError("premium_sources is empty; give the languages of a parallel corpus")
    return sources, pick_reference(sources, config.reference_lang, label)


def _load_tr(config: EvalConfig, load: _Corpora,
             given: Sequence[TextSource | str] | None = None) -> list[tuple[TextSource, list]]:
    overrides = dict(config.oracles)
    out = []
    items = [(s, s if isinstance(s, str) else s.label) for s in given] if given is not None else [(s, s) for s in config.tr_corpora]
    for item, spec in items:
        for src in _as_sources([item], load):
            if not src.lang:
                raise ConfigError(f"%TR corpus '{spec}' has no language; attach one with ':LANG' (e.g. '{spec}:tr') "
                                  "or name a bundled corpus language such as 'turkish@test' or 'libreoffice:de@test'")
            lang = short_code(src.lang)
            out.append((src, oracles_for(lang, overrides.get(lang))))
    return out


def _as_sources(items: Sequence[TextSource | str], load: _Corpora, parallel: bool = False) -> list[TextSource]:
    """Library callers pass TextSource objects or corpus specs (strings) alike."""
    if isinstance(items, (str, TextSource)):
        items = [items]
    out: list[TextSource] = []
    for item in items:
        if isinstance(item, TextSource):
            out.append(item)
        elif isinstance(item, str):
            out.extend(load(item, parallel=parallel))
        else:
            raise ConfigError(f"a source is a corpus spec (str) or a TextSource, not {type(item).__name__}")
    return out


def evaluate(tokenizers: Sequence[Tokenizer | str], config: EvalConfig = EvalConfig(), *,
             sources: Sequence[TextSource | str] | None = None,
             premium_sources: Sequence[TextSource | str] | None = None,
             tr_sources: Sequence[TextSource | str] | None = None,
             progress: Progress = no_progress) -> EvalResults:
    """Measure ``tokenizers`` (objects or specs) with the metric families of ``config``.

    ``sources`` replaces ``config.corpora``, ``premium_sources`` ``config.premium_corpus`` (the languages
    of one parallel text, aligned by id) and ``tr_sources`` ``config.tr_corpora`` (each with a language):
    TextSource objects or corpus specs such as ``"my_turkish.txt:tr"``, ``"flores/dev"`` or
    ``"pairs.tsv"``. Tokenizers that fail to load are recorded in ``results.failures`` and the others
    still run; when none loads, raises. Bad corpora, metric names or reference languages raise before any
    encoding.
    """
    results = EvalResults(config)
    results.notes = {k: v for k, v in choices(config).items() if k in config.metrics}
    # user mistakes surface first, before any tokenizer loads
    if config.in_memory:
        inputs = load_inputs(config, results, sources, premium_sources, tr_sources)
    else:
        streamed = load_streamed_inputs(config, results, sources, premium_sources, tr_sources)
    if config.engine == "ray":  # a cluster that cannot be reached is one clear error, before any work
        from tokbench.engines.ray_counts import connect

        connect(config.ray_address, config.workers)
    toks = _load_tokenizers(tokenizers, results, config.use_cache)
    if not toks:
        detail = "; ".join(f"{f['tokenizer']}: {f['error']}" for f in results.failures)
        raise TokenizerError(f"no tokenizer could be loaded ({detail})")
    prepared = prepare(inputs, results, config.use_cache) if config.in_memory else None
    tables: dict[str, list[dict]] = defaultdict(list)
    recorded = False  # the streamed inputs' provenance is recorded by the first tokenizer measured
    for tok in toks:
        marks = ({k: len(v) for k, v in tables.items()}, len(results.tokenizers), len(results.inputs))
        try:
            run = _TokenizerRun(tok, config, results)
            if not config.in_memory:
                measure_streams(run, streamed, tables, progress, record_inputs=not recorded)
            else:
                if inputs.main:
                    measure_main(run, inputs.main, prepared, tables, progress)
                if inputs.premium:
                    measure_premium(run, inputs, prepared, tables, progress)
                if inputs.tr:
                    measure_tr(run, inputs.tr, tables, progress)
            run.finish()
            recorded = True
        except (KeyboardInterrupt, SystemExit, MemoryError):
            raise
        except BaseException as exc:  # noqa: BLE001 - one broken tokenizer (a Rust panic too) is its row, the others run
            for k, n in marks[0].items():
                del tables[k][n:]
            for k in [k for k in tables if k not in marks[0]]:
                del tables[k]
            del results.tokenizers[marks[1]:]
            del results.inputs[marks[2]:]
            results.timings.pop(tok.name, None)
            detail = str(exc) if isinstance(exc, TokbenchError) else f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
            results.failures.append({"tokenizer": getattr(tok, "spec", None) or tok.name, "error": detail})
    if not results.tokenizers:
        detail = "; ".join(f"{f['tokenizer']}: {f['error']}" for f in results.failures)
        raise TokenizerError(f"no tokenizer could be measured ({detail})")
    results.tables = dict(tables)
    results.tables["summary"] = summary_rows(results)
    return results


@dataclass
class Inputs:
    """The corpora of one evaluation, loaded and checked before any tokenizer work."""

    main: list[TextSource]
    premium: list[TextSource]
    reference: TextSource | None
    #: (source, the oracles that judge its language)
    tr: list[tuple[TextSource, list]]


def load_inputs(config: EvalConfig, results: EvalResults, sources=None, premium_sources=None, tr_sources=None) -> Inputs:
    """Step 1: read every corpus the metric families need (each spec once), record their provenance and
    the oracles' descriptions in ``results``."""
    want = set(config.metrics)
    load = _Corpora(config.max_bytes)
    main: list[TextSource] = []
    if want & {"compression", "fertility", "coverage"}:
        if sources is not None:
            main = _as_sources(sources, load)
        else:
            for spec in config.corpora:
                main.extend(load(spec))
    premium, reference = _load_premium(config, load, premium_sources) if "premium" in want else ([], None)
    tr = _load_tr(config, load, tr_sources) if "tr" in want else []
    seen = set()
    for s in main + premium + [s for s, _ in tr]:
        if id(s) not in seen:
            seen.add(id(s))
            results.inputs.append(s.provenance())
    for _, oracles in tr:
        for o in oracles:
            results.oracles[f"{o.name}:{o.lang}"] = o.description
    return Inputs(main, premium, reference, tr)


@dataclass
class Prepared:
    """Tokenizer-independent arrays, computed once for every tokenizer."""

    #: characters and words of each main text, by its sha256
    texts: dict[str, TextArrays]
    #: which premium segments pair up with the reference, by id() of the source
    aligned: dict[int, tuple]


def prepare(inputs: Inputs, results: EvalResults, use_cache: bool = True) -> Prepared:
    """Step 2: characters and words of each main text, and the premium alignment (timed in ``prep_s``)."""
    t = time.perf_counter()
    texts: dict[str, TextArrays] = {}
    for src in inputs.main:
        if src.sha256 not in texts:
            texts[src.sha256] = cached_text_arrays(src, use_cache)
    aligned = {id(src): align(inputs.reference.ids, inputs.reference.texts, src.ids, src.texts,
                              drop_identical=src is not inputs.reference) for src in inputs.premium}
    results.prep_s = time.perf_counter() - t
    return Prepared(texts, aligned)


#: Characters and words of a text depend on the text alone: cached by its content hash, they spare a warm
#: evaluation a fifth of its time. Bump when TextArrays or the word definition changes.
TEXT_ARRAYS = ArrayCache("text-arrays")
TEXT_ARRAYS_VERSION = 1
_TEXT_ARRAY_NAMES = ("doc_bytes", "doc_byte_offsets", "lead", "word_doc_offsets", "word_starts", "word_ends")


def cached_text_arrays(src: TextSource, use_cache: bool = True) -> TextArrays:
    """:func:`text_arrays` of ``src``, from the verified cache when this text was seen before."""
    key = f"text-arrays v{TEXT_ARRAYS_VERSION} {src.sha256}"
    if use_cache:
        hit = TEXT_ARRAYS.get(key, _text_arrays_check(len(src.texts), src.n_bytes))
        if hit is not None:
            arrays, meta = hit
            return TextArrays(n_chars=int(meta["n_chars"]), **{n: arrays[n] for n in _TEXT_ARRAY_NAMES})
    ta = text_arrays(src.texts)
    if use_cache:
        TEXT_ARRAYS.put(key, {n: getattr(ta, n) for n in _TEXT_ARRAY_NAMES}, meta={"n_chars": ta.n_chars})
    return ta


def _text_arrays_check(n_docs: int, n_bytes: int):
    """Shapes and bounds of cached text arrays, checked before any kernel indexes with them."""

    def check(z: dict[str, np.ndarray], meta: dict) -> bool:
        db, dbo, lead = z["doc_bytes"], z["doc_byte_offsets"], z["lead"]
        wdo, ws, we = z["word_doc_offsets"], z["word_starts"], z["word_ends"]
        if not isinstance(meta.get("n_chars"), int) or lead.dtype != np.bool_:
            return False
        if db.shape != (n_docs,) or dbo.shape != (n_docs + 1,) or wdo.shape != (n_docs + 1,) or lead.shape != (n_bytes,):
            return False
        if dbo[0] != 0 or dbo[-1] != n_bytes or not np.array_equal(np.diff(dbo), db):
            return False
        if ws.shape != we.shape or wdo[0] != 0 or wdo[-1] != ws.size or (np.diff(wdo) < 0).any():
            return False
        limit = np.repeat(db, np.diff(wdo))
        return bool(ws.size == 0 or ((ws >= 0) & (ws <= we) & (we <= limit)).all())

    return check


class _TokenizerRun:
    """One tokenizer's part of an evaluation: its masks, its encodings (each text encoded or read from the
    cache once, then kept in memory: LibreOffice serves compression and premium) and its timings."""

    def __init__(self, tok: Tokenizer, config: EvalConfig, results: EvalResults):
        self.started = time.perf_counter()
        self.tok, self.config, self.results = tok, config, results
        self.want = set(config.metrics)
        self.timing = {"encode_s": 0.0, "metrics_s": 0.0}
        self.V = V = tok.vocab_size
        byte_mask = np.asarray(tok.byte_token_mask, dtype=np.bool_)
        self.unk_mask, _ = flag_mask(V, tok.unk_id, byte_mask)
        self.byte_only = np.zeros(V, dtype=np.bool_)
        self.byte_only[: min(V, len(byte_mask))] = byte_mask[:V]
        info = encoding_cache.describe(tok)
        info["source"] = portable_path(str(info.get("source", "")))
        info["unk_id"] = tok.unk_id
        results.tokenizers.append(info)
        self.memo: dict[str, object] = {}
        self.timing["load_s"] = time.perf_counter() - self.started

    def encoding(self, src: TextSource):
        if src.sha256 in self.memo:
            self.results.cache["hits"] += 1
            return self.memo[src.sha256]
        t = time.perf_counter()
        enc, hit = encoding_cache.encode_texts(self.tok, src.texts, src.sha256, use_cache=self.config.use_cache)
        self.timing["encode_s"] += time.perf_counter() - t
        self.results.cache["hits" if hit else "misses"] += 1
        self.memo[src.sha256] = enc
        return enc

    def finish(self) -> None:
        self.timing["total_s"] = time.perf_counter() - self.started
        self.results.timings[self.tok.name] = {k: round(v, 3) for k, v in self.timing.items()}


def measure_main(run: _TokenizerRun, sources: list[TextSource], prepared: Prepared, tables: dict, progress: Progress) -> None:
    """Step 3a: compression, fertility and coverage per source, then totals per kind of text."""
    tok, V, want, power = run.tok, run.V, run.want, run.config.renyi_power
    total_counts = {"natural": np.zeros(V, np.int64), "code": np.zeros(V, np.int64)}
    totals = {k: [0, 0, 0] for k in total_counts}
    with progress(f"{tok.name}: compression, fertility, coverage", len(sources)) as adv:
        for src in sources:
            enc = run.encoding(src)
            t = time.perf_counter()
            ta = prepared.texts[src.sha256]
            counts = kernels.count_ids(enc.ids, V)
            kind = "code" if src.kind == "code" else "natural"
            total_counts[kind] += counts
            totals[kind][0] += ta.n_bytes
            totals[kind][1] += ta.n_chars
            totals[kind][2] += enc.n_tokens
            label = {"tokenizer": tok.name, "corpus": src.corpus, "lang": src.lang or src.label, "kind": src.kind}
            if "compression" in want:
                tables["compression"].append({**label, **compression_row(ta.n_bytes, ta.n_chars, enc.n_tokens, counts, V, power)})
            if "fertility" in want:
                tables["fertility"].append({**label, **fertility_row(enc, ta, src.lang if src.kind != "code" else None)})
            if "coverage" in want:
                tables["coverage"].append({**label, **coverage_row(enc, ta, counts, run.unk_mask, run.byte_only)})
            run.timing["metrics_s"] += time.perf_counter() - t
            adv(1)
    t = time.perf_counter()
    main_totals(run, total_counts, totals, tables)
    run.timing["metrics_s"] += time.perf_counter() - t


def main_totals(run: _TokenizerRun, total_counts: dict, totals: dict, tables: dict) -> None:
    """Compression and coverage totals per kind of text (natural, code), and the vocabulary by script."""
    tok, V, want, power = run.tok, run.V, run.want, run.config.renyi_power
    for kind, c in total_counts.items():
        b, ch, n = totals[kind]
        if n == 0:
            continue
        if "compression" in want:
            tables["compression_total"].append({"tokenizer": tok.name, "kind": kind, "vocab_size": V,
                                                **compression_row(b, ch, n, c, V, power)})
        if "coverage" in want:
            tables["coverage_total"].append({"tokenizer": tok.name, "kind": kind, "tokens": n,
                                             "unk_rate": float(c[run.unk_mask].sum()) / n,
                                             "byte_token_rate": float(c[run.byte_only].sum()) / n,
                                             "distinct_tokens": int((c > 0).sum()),
                                             "vocab_utilisation": float((c > 0).sum()) / V})
    if "coverage" in want:
        for script, (share, n) in vocabulary_scripts(tok, run.byte_only, run.config.use_cache).items():
            tables["scripts"].append({"tokenizer": tok.name, "script": script, "share": share, "vocab_entries": n})


def measure_premium(run: _TokenizerRun, inputs: Inputs, prepared: Prepared, tables: dict, progress: Progress) -> None:
    """Step 3b: the token premium of every language of the parallel text against the reference."""
    ref = inputs.reference
    ref_enc = run.encoding(ref)
    ref_tpd = ref_enc.tokens_per_doc()
    with progress(f"{run.tok.name}: premium on {ref.corpus}", len(inputs.premium)) as adv:
        for src in inputs.premium:
            enc = ref_enc if src is ref else run.encoding(src)
            t = time.perf_counter()
            r_pos, t_pos, identical = prepared.aligned[id(src)]
            unk_pd = kernels.count_masked_per_doc(enc.ids, enc.doc_offsets, run.unk_mask)
            row = premium_row(ref_tpd, enc.tokens_per_doc(), unk_pd, r_pos, t_pos)
            tables["premium"].append({"tokenizer": run.tok.name, "corpus": src.corpus, "lang": src.lang,
                                      "reference": ref.lang, **row, "dropped_identical": identical,
                                      "unaligned": len(src) - len(t_pos) - identical})
            run.timing["metrics_s"] += time.perf_counter() - t
            adv(1)


def measure_tr(run: _TokenizerRun, tr_sources: list[tuple[TextSource, list]], tables: dict, progress: Progress) -> None:
    """Step 3c: %TR / %Pure of the tokens used on each language's text, by each of its oracles."""
    for src, oracles in tr_sources:
        enc = run.encoding(src)
        t = time.perf_counter()
        tr_rows(run, src.label, src.lang, kernels.count_ids(enc.ids, run.V), oracles, tables, progress)
        run.timing["metrics_s"] += time.perf_counter() - t


def tr_rows(run: _TokenizerRun, label: str, lang: str, counts: np.ndarray, oracles: list, tables: dict,
            progress: Progress) -> None:
    """The %TR / %Pure rows of one language's token ``counts``, one per oracle that can judge."""
    tok, results = run.tok, run.results
    tb = tok.token_bytes()
    for oracle in list(oracles):
        try:
            with progress(f"{tok.name}: %TR {lang} ({oracle.name})", int((counts > 0).sum())) as adv:
                row = purity_row(counts, tb, oracle, adv)
        except TokbenchError as exc:
            # One oracle's missing data (no apt-get, offline) must not sink the whole evaluation.
            results.warnings.append(f"%TR oracle {oracle.name}:{oracle.lang} left out: {exc}")
            oracles.remove(oracle)
            results.oracles.pop(f"{oracle.name}:{oracle.lang}", None)
            continue
        tables["tr"].append({"tokenizer": tok.name, "corpus": label, "lang": lang, **row})


def vocabulary_scripts(tok, byte_mask: np.ndarray, use_cache: bool = True) -> dict[str, tuple[float, int]]:
    """(share, count) of the vocabulary per script, cached per tokenizer fingerprint (a property of the
    vocabulary alone; 262k entries take about a second)."""
    import json

    from tokbench.files import cache_dir, write_json_atomic

    from tokbench.verified_cache import best_effort

    folder = best_effort("vocabulary scripts", cache_dir, "tokenizer-info") if use_cache else None
    path = folder / f"{tok.fingerprint()[:40]}-scripts-v1.json" if folder else None
    if path is not None and path.is_file():
        try:
            return {str(k): (float(share), int(n)) for k, share, n in json.loads(path.read_text("utf-8"))}
        except (OSError, KeyError, IndexError, TypeError, ValueError, RecursionError):
            pass  # a damaged cache is a miss
    shares = script_shares(token_scripts(tok.token_bytes(), byte_mask))
    if path is not None:  # a list keeps the order
        best_effort("vocabulary scripts", write_json_atomic, path, [[k, share, n] for k, (share, n) in shares.items()])
    return shares


def summary_rows(results: EvalResults) -> list[dict]:
    """One row per tokenizer with the headline number of every family."""
    tables = results.tables
    rows = []
    for info in results.tokenizers:
        name = info["name"]
        row: dict = {"tokenizer": name, "vocab_size": info["vocab_size"]}
        for r in tables.get("compression_total", []):
            if r["tokenizer"] == name:
                row[f"bytes_per_token_{r['kind']}"] = r["bytes_per_token"]
                if r["kind"] == "natural":
                    row["renyi_efficiency"] = r["renyi_efficiency"]
        fert = [r["fertility"] for r in tables.get("fertility", []) if r["tokenizer"] == name and r["fertility"] is not None and r["kind"] != "code"]
        pcw = [r["pcw"] for r in tables.get("fertility", []) if r["tokenizer"] == name and r["pcw"] is not None and r["kind"] != "code"]
        if fert:
            row["fertility_mean"] = float(np.mean(fert))
            row["pcw_mean"] = float(np.mean(pcw))
        prem = [r["premium"] for r in tables.get("premium", []) if r["tokenizer"] == name and not r["flagged_unk"] and r["lang"] != r["reference"] and np.isfinite(r["premium"])]
        if prem:
            row["premium_median"] = float(np.median(prem))
            row["premium_mean"] = float(np.mean(prem))
            row["premium_std"] = float(np.std(prem))
            row["premium_flagged"] = sum(1 for r in tables["premium"] if r["tokenizer"] == name and r["flagged_unk"])
        for r in tables.get("tr", []):
            if r["tokenizer"] == name and r["oracle"] == "zeyrek":
                row["tr_pct_types"] = r["tr_pct_types"]
                row["pure_pct_types"] = r["pure_pct_types"]
        for r in tables.get("coverage_total", []):
            if r["tokenizer"] == name and r["kind"] == "natural":
                row["unk_rate"] = r["unk_rate"]
                row["byte_token_rate"] = r["byte_token_rate"]
                row["vocab_utilisation"] = r["vocab_utilisation"]
        rows.append(row)
    return rows


# ---------------------------------------------------------------------------------------------------------
# The streamed evaluation (the default): every family from sufficient statistics, never id arrays.


@dataclass
class StreamedInputs:
    """The corpora of one streamed evaluation as ``(stream, byte cap)`` pairs, opened (not read) and checked."""

    main: list[tuple]
    premium: list[tuple]
    #: the reference language's stream (one of ``premium``'s)
    reference: object | None
    #: (stream, cap, the oracles that judge its language)
    tr: list[tuple]


def _streams_of(items, max_bytes: int | None) -> list[tuple]:
    """(stream, cap) pairs of corpus specs (capped by ``max_bytes``) or TextSource objects (used whole)."""
    from tokbench.corpora import as_stream
    from tokbench.corpora.spec import open_capped_streams

    if isinstance(items, (str, TextSource)):
        items = [items]
    out: list[tuple] = []
    for item in items:
        if isinstance(item, TextSource):
            out.append((as_stream(item), None))
        elif isinstance(item, str):
            out.extend(open_capped_streams(item, max_bytes))
        else:
            raise ConfigError(f"a source is a corpus spec (str) or a TextSource, not {type(item).__name__}")
    return out


def _first_text(stream, cap) -> bool:
    """Whether one pass of ``stream`` under ``cap`` yields any text (reads up to the first that does)."""
    return any(text for _, text in stream.records(cap))


def load_streamed_inputs(config: EvalConfig, results: EvalResults, sources=None, premium_sources=None,
                         tr_sources=None) -> StreamedInputs:
    """Step 1 of the streamed evaluation: open every corpus the families need and check what can be
    checked without reading the text (an empty corpus is found by reading up to its first text). Their
    provenance is recorded by the first tokenizer's pass, which hashes the text on the way."""
    want = set(config.metrics)
    main: list[tuple] = []
    if want & {"compression", "fertility", "coverage"}:
        main = _streams_of(sources if sources is not None else list(config.corpora), config.max_bytes)
        for stream, cap in main:
            if not _first_text(stream, cap):
                raise CorpusError(f"corpus '{stream.spec}' is empty: it has no text to use")
    premium: list[tuple] = []
    reference = None
    if "premium" in want:
        if premium_sources is None:
            label = config.premium_corpus
            if not label.strip():
                from tokbench.corpora.parallel import FORMATS

                raise CorpusError(f"empty parallel corpus spec; give {FORMATS}")
            premium = _streams_of([label], config.max_bytes)
            if not premium[0][0].parallel:
                from tokbench.corpora.parallel import FORMATS

                raise CorpusError(f"'{label}' is not parallel text; the token premium needs translations aligned by id: give {FORMATS}")
        else:
            label = "premium_sources"
            premium = _streams_of(premium_sources, config.max_bytes)
            if not premium:
                raise CorpusError("premium_sources is empty; give the languages of a parallel corpus")
        empty = [s.lang for s, cap in premium if not _first_text(s, cap)]
        if empty:
            raise CorpusError(f"parallel corpus '{label}' has no text in {', '.join(map(str, empty))}")
        reference = pick_reference([s for s, _ in premium], config.reference_lang, label)
    tr: list[tuple] = []
    if "tr" in want:
        overrides = dict(config.oracles)
        given = tr_sources
        items = ([(s, s if isinstance(s, str) else s.label) for s in ([given] if isinstance(given, (str, TextSource)) else given)]
                 if given is not None else [(s, s) for s in config.tr_corpora])
        for item, spec in items:
            for stream, cap in _streams_of([item], config.max_bytes):
                if not stream.lang:
                    raise ConfigError(f"%TR corpus '{spec}' has no language; attach one with ':LANG' (e.g. '{spec}:tr') "
                                      "or name a bundled corpus language such as 'turkish@test' or 'libreoffice:de@test'")
                if not _first_text(stream, cap):
                    raise CorpusError(f"corpus '{stream.spec}' is empty: it has no text to use")
                lang = short_code(stream.lang)
                tr.append((stream, cap, oracles_for(lang, overrides.get(lang))))
        for _, _, oracles in tr:
            for o in oracles:
                results.oracles[f"{o.name}:{o.lang}"] = o.description
    return StreamedInputs(main, premium, reference, tr)


def _text_key(stream, cap) -> tuple:
    """Streams that read the same text get the same key: a bundled corpus's language and split, or the same
    spec, under the same cap. Streams over in-memory sources (TextSource objects) are only themselves."""
    made_by = getattr(stream.opener, "__qualname__", "")
    if made_by.startswith("_open_bundled"):
        return ("bundled", stream.corpus, stream.lang, stream.split, cap)
    if made_by.startswith("as_stream"):
        return ("object", id(stream))
    return ("spec", stream.spec, stream.lang, stream.split, stream.kind, cap)


def _stats_for(run: _TokenizerRun, jobs: list, progress: Progress) -> list:
    """:class:`~tokbench.metrics.stream_stats.StreamStats` of every job, on this process or on Ray."""
    from tokbench.metrics.stream_stats import count_stream, count_streams_on_ray

    config = run.config
    t = time.perf_counter()
    engine = "Ray" if config.engine == "ray" else "streamed"
    with progress(f"{run.tok.name}: encoding and counting {len(jobs)} texts ({engine})", len(jobs)) as adv:
        if config.engine == "ray":
            stats = count_streams_on_ray(run.tok, jobs, use_cache=config.use_cache, address=config.ray_address,
                                         workers=config.workers, shard_bytes=config.shard_bytes, advance=adv)
        else:
            stats = []
            masks = (run.unk_mask, run.unk_mask | run.byte_only)  # the coverage family's, computed once
            fingerprint = run.tok.fingerprint() if config.use_cache else ""
            for job in jobs:
                stats.append(count_stream(run.tok, job.stream, max_bytes=job.cap, use_cache=config.use_cache,
                                          needs=job.needs, shard_bytes=config.shard_bytes, masks=masks,
                                          fingerprint=fingerprint))
                adv(1)
    run.timing["encode_s"] += time.perf_counter() - t
    for st, job in zip(stats, jobs):
        run.results.cache["hits"] += st.cache["hits"]
        run.results.cache["misses"] += st.cache["misses"]
        if st.n_docs == 0 or st.n_bytes == 0:
            raise CorpusError(f"corpus '{job.stream.spec}' is empty: it has no text to use")
    return stats


def measure_streams(run: _TokenizerRun, inputs: StreamedInputs, tables: dict, progress: Progress,
                    record_inputs: bool = False) -> None:
    """Step 3, streamed: every text encoded once into the statistics its families need
    (:mod:`tokbench.metrics.stream_stats`), then the same rows as :func:`measure_main`,
    :func:`measure_premium` and :func:`measure_tr`."""
    from tokbench.metrics.coverage import coverage_totals_row
    from tokbench.metrics.fertility import fertility_totals_row
    from tokbench.metrics.premium import premium_totals_row
    from tokbench.metrics.stream_stats import Needs, StatsJob, premium_from_lines

    tok, V, want, power = run.tok, run.V, run.want, run.config.renyi_power
    jobs: list = []
    index: dict = {}
    reused: list[int] = []

    def job(stream, cap, needs) -> int:
        # A text several families read (libreoffice@test for compression and premium) is encoded once,
        # collecting what each needs; the reuse counts as a cache hit, as the in-memory path's does.
        key = _text_key(stream, cap)
        if key in index:
            j = index[key]
            have = jobs[j].needs
            jobs[j] = StatsJob(stream, cap, Needs(have.words or needs.words, have.chars or needs.chars,
                                                  have.lines or needs.lines))
            reused.append(j)
            return j
        jobs.append(StatsJob(stream, cap, needs))
        index[key] = len(jobs) - 1
        return len(jobs) - 1

    main_needs = Needs(words="fertility" in want, chars="coverage" in want)
    main = [(s, job(s, cap, main_needs)) for s, cap in inputs.main]
    premium = [(s, job(s, cap, Needs(lines=True))) for s, cap in inputs.premium]
    tr = [(s, job(s, cap, Needs()), oracles) for s, cap, oracles in inputs.tr]
    stats = _stats_for(run, jobs, progress)
    for j in reused:
        run.results.cache["hits"] += stats[j].cache["hits"] + stats[j].cache["misses"]

    if record_inputs:
        seen = set()
        for s, j in [*main, *premium, *[(s, j) for s, j, _ in tr]]:
            p = stats[j].provenance(s)
            if (p["spec"], p["label"], p["sha256"]) not in seen:
                seen.add((p["spec"], p["label"], p["sha256"]))
                run.results.inputs.append(p)

    t = time.perf_counter()
    total_counts = {"natural": np.zeros(V, np.int64), "code": np.zeros(V, np.int64)}
    totals = {k: [0, 0, 0] for k in total_counts}
    for src, j in main:
        st = stats[j]
        kind = "code" if src.kind == "code" else "natural"
        total_counts[kind] += st.counts
        totals[kind][0] += st.n_bytes
        totals[kind][1] += st.n_chars
        totals[kind][2] += st.n_tokens
        label = {"tokenizer": tok.name, "corpus": src.corpus, "lang": src.lang or src.label, "kind": src.kind}
        if "compression" in want:
            tables["compression"].append({**label, **compression_row(st.n_bytes, st.n_chars, st.n_tokens, st.counts, V, power)})
        if "fertility" in want:
            tables["fertility"].append({**label, **fertility_totals_row(st.n_words, st.word_tokens, st.continued_words,
                                                                         st.n_tokens, st.n_chars,
                                                                         src.lang if src.kind != "code" else None)})
        if "coverage" in want:
            tables["coverage"].append({**label, **coverage_totals_row(st.n_tokens, st.counts, run.unk_mask, run.byte_only,
                                                                       st.flagged_chars, st.n_chars)})
    if main:
        main_totals(run, total_counts, totals, tables)

    if premium:
        ref = inputs.reference
        ref_lines = stats[next(j for s, j in premium if s is ref)].lines
        for src, j in premium:
            st = stats[j]
            pairs, r, n, unk, identical, paired = premium_from_lines(ref_lines, st.lines, drop_identical=src is not ref)
            tables["premium"].append({"tokenizer": tok.name, "corpus": src.corpus, "lang": src.lang,
                                      "reference": ref.lang, **premium_totals_row(pairs, r, n, unk),
                                      "dropped_identical": identical, "unaligned": st.n_docs - paired - identical})
    run.timing["metrics_s"] += time.perf_counter() - t

    for src, j, oracles in tr:
        t = time.perf_counter()
        tr_rows(run, src.label, src.lang, stats[j].counts, oracles, tables, progress)
        run.timing["metrics_s"] += time.perf_counter() - t
