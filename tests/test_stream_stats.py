"""evaluate's streamed statistics (counts per batch, cached per shard) give the in-memory evaluation's tables,
for every metric family; the shard statistics cache is verified; the premium join equals align()."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from tokbench.corpora import load_source, open_stream
from tokbench.metrics import EvalConfig, evaluate
from tokbench.metrics.premium import align
from tokbench.metrics.stream_stats import LINES, Needs, count_stream, premium_from_lines

from tests.tokenizer_builders import build_hf_bpe, build_hf_wordpiece

CORPORA = ("libreoffice:de,ja,hi@test", "code:python@test")
EVERY = dict(metrics=("compression", "fertility", "premium", "tr", "coverage"), corpora=CORPORA,
             premium_corpus="libreoffice:en-us,de,ja,hi@test", reference_lang="en-us",
             tr_corpora=("turkish@test", "libreoffice:de@test"), oracles=(("tr", ("wordfreq",)), ("de", ("wordfreq",))))
#: Relative tolerance of float columns: both paths compute every float from the same integers in the same
#: order, so they agree to the last bit here; the tolerance only guards against a platform's libm.
REL = 1e-12


def _texts():
    return load_source("libreoffice:de@test", max_bytes=60_000).texts + load_source("code:python@test", max_bytes=30_000).texts


@pytest.fixture(scope="module")
def toks(tmp_path_factory):
    """A byte-level BPE (lossless: byte tokens, exact spans) and a WordPiece (UNK tokens, offset spans)."""
    root = tmp_path_factory.mktemp("toks")
    (root / "bpe").mkdir()
    (root / "wp").mkdir()
    return [build_hf_bpe(_texts(), root / "bpe"), build_hf_wordpiece(_texts(), root / "wp")]


def _same(a, b, where=""):
    """Tables equal: integers, strings, None exactly; floats within REL (nan equals nan)."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), where
        for k in a:
            _same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and not isinstance(a, bool):
        assert isinstance(b, float), where
        assert (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=REL, abs_tol=0.0), (where, a, b)
    else:
        assert type(a) is type(b) and a == b, (where, a, b)


@pytest.mark.parametrize("max_bytes,shard_bytes", [(None, 16_000_000), (None, 9_000), (5_000, 16_000_000)])
def test_every_family_streamed_equals_in_memory(toks, max_bytes, shard_bytes):
    kw = dict(EVERY, max_bytes=max_bytes, use_cache=False)
    streamed = evaluate(toks, EvalConfig(shard_bytes=shard_bytes, **kw))
    in_memory = evaluate(toks, EvalConfig(in_memory=True, **kw))
    assert set(streamed.tables) == set(in_memory.tables) >= {"compression", "compression_total", "fertility", "premium",
                                                              "tr", "coverage", "coverage_total", "scripts", "summary"}
    for name in in_memory.tables:
        assert in_memory.tables[name], name
        _same(streamed.tables[name], in_memory.tables[name], name)
    _same(streamed.inputs, in_memory.inputs, "inputs")
    # the WordPiece has UNK tokens on Hindi/Japanese: coverage and the premium's UNK share are not all zero
    assert any(r["unk_rate"] > 0 for r in streamed.tables["coverage"])
    assert all(r["segments"] > 0 for r in streamed.tables["premium"])


def test_each_family_alone_equals_in_memory(toks):
    for family in EVERY["metrics"]:
        kw = dict(EVERY, metrics=(family,), max_bytes=20_000, use_cache=False)
        streamed, in_memory = evaluate(toks[:1], EvalConfig(**kw)), evaluate(toks[:1], EvalConfig(in_memory=True, **kw))
        _same(streamed.tables, in_memory.tables, family)


def test_shards_and_cache_give_the_same_statistics(toks):
    from tokbench.tokenizer.load import load_tokenizer

    needs = Needs(words=True, chars=True, lines=True)
    for spec in toks:
        tok = load_tokenizer(spec)
        stream = open_stream("libreoffice:ja@test")
        whole = count_stream(tok, stream, use_cache=False, needs=needs)
        first = count_stream(tok, stream, shard_bytes=20_000, needs=needs)
        assert first.cache["hits"] == 0 and first.cache["misses"] > 3
        again = count_stream(tok, stream, shard_bytes=20_000, needs=needs)
        assert again.cache["misses"] == 0 and again.cache["hits"] == first.cache["misses"]
        # a request for less is served by the richer entries
        fewer = count_stream(tok, stream, shard_bytes=20_000, needs=Needs(words=True))
        assert fewer.cache["misses"] == 0 and fewer.lines is None
        for st in (first, again, fewer):
            assert (st.counts == whole.counts).all() and st.sha256 == whole.sha256
            for k in ("n_bytes", "n_chars", "n_tokens", "n_docs", "n_words", "word_tokens", "continued_words"):
                assert getattr(st, k) == getattr(whole, k), k
        for st in (first, again):
            assert st.flagged_chars == whole.flagged_chars
            for k in LINES:
                assert (st.lines[k] == whole.lines[k]).all(), k
        assert whole.n_words > 0 and whole.continued_words > 0


def test_damaged_statistics_are_misses(tmp_path, toks):
    import os
    from pathlib import Path

    from tokbench.tokenizer.load import load_tokenizer

    tok = load_tokenizer(toks[0])
    stream = open_stream("libreoffice:fr@test")
    first = count_stream(tok, stream, shard_bytes=50_000, needs=Needs(words=True))
    entries = sorted((Path(os.environ["TOKBENCH_CACHE"]) / "encoding-stats").glob("*.npz"))
    assert len(entries) == first.cache["misses"] >= 3  # the test's own cache folder (conftest)
    entries[0].write_bytes(b"")
    entries[1].write_bytes(entries[2].read_bytes())  # another shard's valid entry under this key
    again = count_stream(tok, stream, shard_bytes=50_000, needs=Needs(words=True))
    assert again.cache["misses"] == 2 and (again.counts == first.counts).all()
    assert (again.n_tokens, again.n_words, again.word_tokens) == (first.n_tokens, first.n_words, first.word_tokens)


def test_premium_join_equals_align_on_random_segments():
    """The streamed join (hashes, last target id wins) pairs what align() pairs, duplicates included."""
    from tokbench.metrics.stream_stats import _hash64

    rnd = random.Random(3)
    for trial in range(200):
        n_ref, n_tgt = rnd.randint(0, 12), rnd.randint(0, 12)
        ref_ids = [str(rnd.randint(0, 9)) for _ in range(n_ref)]
        tgt_ids = [str(rnd.randint(0, 9)) for _ in range(n_tgt)]
        ref_texts = [rnd.choice("abc") for _ in ref_ids]
        tgt_texts = [rnd.choice("abc") for _ in tgt_ids]
        ref_tok = np.array([rnd.randint(0, 20) for _ in ref_ids], dtype=np.int64)
        tgt_tok = np.array([rnd.randint(0, 20) for _ in tgt_ids], dtype=np.int64)
        tgt_unk = np.array([rnd.randint(0, 3) for _ in tgt_ids], dtype=np.int64)
        for drop in (True, False):
            r_pos, t_pos, identical = align(ref_ids, ref_texts, tgt_ids, tgt_texts, drop_identical=drop)

            def lines(ids, texts, tokens, unk):
                return {"key_hash": np.array([_hash64(i) for i in ids], dtype=np.uint64),
                        "text_hash": np.array([_hash64(t) for t in texts], dtype=np.uint64),
                        "tokens": tokens, "unk": unk}

            got = premium_from_lines(lines(ref_ids, ref_texts, ref_tok, np.zeros(n_ref, np.int64)),
                                     lines(tgt_ids, tgt_texts, tgt_tok, tgt_unk), drop)
            want = (len(r_pos), int(ref_tok[r_pos].sum()), int(tgt_tok[t_pos].sum()), int(tgt_unk[t_pos].sum()),
                    identical, len(t_pos))
            assert got == want, (trial, drop)


def test_streamed_memory_holds_no_ids(toks):
    """The statistics of a stream are sums and per-segment columns only when the premium asks for them."""
    from tokbench.tokenizer.load import load_tokenizer

    tok = load_tokenizer(toks[0])
    st = count_stream(tok, open_stream("code:python@test"), use_cache=False, needs=Needs(words=True, chars=True))
    assert st.lines is None and st.counts.shape == (tok.vocab_size,)
    assert st.n_tokens == int(st.counts.sum()) > st.n_docs


def test_content_hash_of_many_records_equals_one_by_one():
    from tokbench.corpora.stream import ContentHash

    records = [("1", "añb"), ("x\ud800y", "日本\ud83d"), ("", ""), ("k", "\0\1 end")]
    one, many = ContentHash(), ContentHash()
    for r in records:
        one.update(*r)
    many.update_many(records[:2])
    many.update_many(records[2:])
    assert one.hexdigest() == many.hexdigest()
