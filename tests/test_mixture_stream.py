"""infer-mixture counts pre-tokens from streams: the same Words, pair counts and weights as the in-memory
path; exact byte caps; the streaming Poisson bootstrap's replicate counts against a slow reference."""

from __future__ import annotations

import numpy as np
import pytest

from tokbench.corpora import load_source, open_stream
from tokbench.mixture.config import MixtureConfig
from tokbench.mixture.counting import BLOCK, PretokenCounter, count_category, replicate_weights
from tokbench.mixture.infer import Category, infer_mixture, load_categories
from tokbench.mixture.paircount import count_all
from tokbench.mixture.words import SymbolTable, Words, build_words
from tokbench.tokenizer import load_tokenizer

SPECS = [("de", "libreoffice:de@test"), ("fr", "libreoffice:fr@test"), ("py", "code:python@test")]
CAP = 40_000


@pytest.fixture(scope="module")
def tok(tmp_path_factory):
    from tests.tokenizer_builders import train_bytelevel_bpe

    texts = [t for _, spec in SPECS for t in load_source(spec, max_bytes=30_000).texts]
    path = tmp_path_factory.mktemp("tok") / "tokenizer.json"
    train_bytelevel_bpe(texts, vocab_size=800).save(str(path))
    return load_tokenizer(str(path))


def _same_words(a: Words, b: Words) -> None:
    assert a.n_bytes == b.n_bytes
    np.testing.assert_array_equal(a.symbols, b.symbols)
    np.testing.assert_array_equal(a.offsets, b.offsets)
    np.testing.assert_array_equal(a.counts, b.counts)


def test_stream_gives_the_in_memory_words_pair_counts_and_provenance(tok):
    merges = tok.model_merges()
    t_mem, t_str = SymbolTable.from_merges(merges), SymbolTable.from_merges(merges)
    mem = [build_words(tok, load_source(spec, max_bytes=CAP).texts, t_mem) for _, spec in SPECS]
    streamed = [count_category(tok, open_stream(spec), t_str, max_bytes=CAP, category=i) for i, (_, spec) in enumerate(SPECS)]
    assert t_mem.strings == t_str.strings
    for a, b, (_, spec) in zip(mem, streamed, SPECS):
        _same_words(a, b.words)
        assert b.provenance == load_source(spec, max_bytes=CAP).provenance()  # same bytes, segments, sha256
    tr_a, ix_a = count_all(mem, t_mem.merges, len(t_mem))
    tr_b, ix_b = count_all([c.words for c in streamed], t_str.merges, len(t_str))
    np.testing.assert_array_equal(ix_a.pairs(), ix_b.pairs())
    for a, b in zip(tr_a, tr_b):
        for name in ("init_pairs", "init_counts", "merge_counts", "ev_offsets", "ev_pairs", "ev_deltas", "token_counts"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


def test_streamed_categories_infer_the_in_memory_weights(tok):
    config = MixtureConfig(merges=200, bootstrap=0, time_limit=None)
    streamed = load_categories(SPECS, sample_bytes=CAP)
    assert all(c.texts is None and c.stream is not None for c in streamed)  # nothing read when opened
    in_memory = [Category(n, load_source(s, max_bytes=CAP).texts) for n, s in SPECS]
    a = infer_mixture(tok, streamed, config)
    b = infer_mixture(tok, in_memory, config)
    np.testing.assert_array_equal(a.proportions, b.proportions)
    np.testing.assert_array_equal(a.alpha, b.alpha)
    assert a.n_bytes == b.n_bytes and max(a.n_bytes) <= CAP
    assert streamed[0].provenance["sha256"] == load_source(SPECS[0][1], max_bytes=CAP).sha256


@pytest.mark.parametrize("cap", [1, 999, 12_345, 50_001])
def test_the_sample_cap_is_exact(tok, tmp_path, cap):
    # One ASCII line of 70 KB and short ones: the cap is filled to the byte, cutting the long line.
    path = tmp_path / "t.txt"
    path.write_text("short line one\n" + "x y " * 17_500 + "\nshort line two\n" * 50, encoding="utf-8")
    table = SymbolTable.from_merges(tok.model_merges())
    got = count_category(tok, open_stream(str(path)), table, max_bytes=cap)
    assert got.words.n_bytes == got.provenance["bytes"] == cap
    assert got.provenance["sha256"] == load_source(str(path), max_bytes=cap).sha256


def _docs(n: int) -> list[str]:
    rng = np.random.default_rng(4)
    vocab = "the cat sat on a mat der Hund schläft 12 34 def return (x) über".split()
    return [" ".join(rng.choice(vocab, size=int(rng.integers(1, 9)))) for _ in range(n)]


def test_replicate_counts_equal_pretokenizing_the_weighted_documents(tok, tmp_path):
    # Slow reference: replicate r of document d is the document repeated w_r(d) times, pre-tokenized anew.
    docs = _docs(2 * BLOCK + 300)  # three blocks, the last one short
    path = tmp_path / "docs.txt"
    path.write_text("\n".join(docs) + "\n", encoding="utf-8")
    B, seed = 3, 11
    table = SymbolTable.from_merges(tok.model_merges())
    got = count_category(tok, open_stream(str(path)), table, replicates=B, seed=seed, category=2)
    again = count_category(tok, open_stream(str(path)), SymbolTable.from_merges(tok.model_merges()), replicates=B,
                           seed=seed, category=2)
    np.testing.assert_array_equal(got.rep_counts, again.rep_counts)  # reproducible for a seed
    other = count_category(tok, open_stream(str(path)), SymbolTable.from_merges(tok.model_merges()), replicates=B,
                           seed=seed + 1, category=2)
    assert not np.array_equal(got.rep_counts, other.rep_counts)
    weights = np.concatenate([replicate_weights(seed, 2, b, len(docs[b * BLOCK:(b + 1) * BLOCK]), B)
                              for b in range((len(docs) + BLOCK - 1) // BLOCK)])
    assert weights.shape == (len(docs), B) and 0.9 < weights.mean() < 1.1
    for r in range(B):
        drawn = [d for d, w in zip(docs, weights[:, r]) for _ in range(w)]
        ref = build_words(tok, drawn, SymbolTable.from_merges(tok.model_merges()))
        rep = got.resample(r)
        assert rep.n_bytes == ref.n_bytes == sum(len(d.encode()) for d in drawn)
        assert _multiset(rep) == _multiset(ref)
    _same_words(got.words, build_words(tok, docs, SymbolTable.from_merges(tok.model_merges())))


def _multiset(w: Words) -> list:
    return sorted((tuple(w.symbols[w.offsets[i]:w.offsets[i + 1]].tolist()), int(w.counts[i])) for i in range(w.n_words))


def test_counts_of_shards_merge_into_the_one_pass_counts(tok):
    # What Ray workers do, without Ray: worker k of n counts blocks k, k+n, ...; the driver merges.
    docs = _docs(4 * BLOCK + 17)
    blocks = [docs[i:i + BLOCK] for i in range(0, len(docs), BLOCK)]
    whole = PretokenCounter(tok.model_pretokenize, 2, seed=5)
    for b, block in enumerate(blocks):
        whole.add_block(b, block)
    for n in (2, 3):
        parts = []
        for k in range(n):
            part = PretokenCounter(tok.model_pretokenize, 2, seed=5)
            for b, block in enumerate(blocks):
                if b % n == k:
                    part.add_block(b, block)
            parts.append(part)
        merged = parts[-1]  # merge in an order other than the stream's
        for p in parts[:-1]:
            merged.merge(p)
        a = whole.finish(tok, SymbolTable.from_merges(tok.model_merges()))
        m = merged.finish(tok, SymbolTable.from_merges(tok.model_merges()))
        _same_words(a.words, m.words)
        np.testing.assert_array_equal(a.rep_counts, m.rep_counts)
        np.testing.assert_array_equal(a.rep_bytes, m.rep_bytes)


def test_bootstrap_intervals_come_from_the_streamed_replicates(tok):
    config = MixtureConfig(merges=150, bootstrap=3, seed=1, time_limit=None, bootstrap_time_limit=None,
                           bootstrap_over="documents")
    res = infer_mixture(tok, load_categories(SPECS, sample_bytes=20_000), config)
    again = infer_mixture(tok, [Category(n, load_source(s, max_bytes=20_000).texts) for n, s in SPECS], config)
    np.testing.assert_array_equal(res.intervals, again.intervals)
    assert res.bootstrap["replicates"] == 3
    assert np.all(res.intervals[:, 0] <= res.proportions + 1e-12)


def test_categories_counted_apart_renumber_into_the_shared_index(tok):
    # What the Ray engine does with the pair counting: each category over its own index, renumbered.
    from tokbench.mixture.paircount import count_pairs_alone, shared_index

    table = SymbolTable.from_merges(tok.model_merges())
    words = [count_category(tok, open_stream(spec), table, max_bytes=20_000).words for _, spec in SPECS]
    together, index = count_all(words, table.merges, len(table))
    apart, index2 = shared_index([count_pairs_alone(w, table.merges, len(table)) for w in words])
    np.testing.assert_array_equal(index.pairs(), index2.pairs())
    assert dict(index.ids) == dict(index2.ids)
    for a, b in zip(together, apart):
        for name in ("init_pairs", "init_counts", "merge_counts", "ev_offsets", "ev_pairs", "ev_deltas", "token_counts"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
