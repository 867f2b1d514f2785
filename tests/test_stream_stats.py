"""evaluate's streamed compression (counts per batch, statistics cached per shard) equals the in-memory one."""

from __future__ import annotations

from tokbench.corpora import load_source, open_stream
from tokbench.metrics import EvalConfig, evaluate
from tokbench.metrics.stream_stats import count_stream

from tests.tokenizer_builders import build_hf_bpe

CORPORA = ("libreoffice:de,ja@test", "code:python@test")


def _tok(tmp_path):
    texts = load_source("libreoffice:de@test", max_bytes=60_000).texts + load_source("code:python@test", max_bytes=30_000).texts
    (tmp_path / "tok").mkdir(exist_ok=True)
    return build_hf_bpe(texts, tmp_path / "tok")


def test_streamed_compression_equals_in_memory(tmp_path):
    tok = _tok(tmp_path)
    for max_bytes in (None, 5_000):
        streamed = evaluate([tok], EvalConfig(metrics=("compression",), corpora=CORPORA, max_bytes=max_bytes, use_cache=False))
        in_memory = evaluate([tok], EvalConfig(metrics=("compression", "fertility"), corpora=CORPORA, max_bytes=max_bytes, use_cache=False))
        assert streamed.tables["compression"] == in_memory.tables["compression"]
        assert streamed.tables["compression_total"] == in_memory.tables["compression_total"]
        assert [i["sha256"] for i in streamed.inputs] == [i["sha256"] for i in in_memory.inputs]


def test_shard_statistics_are_cached_and_reused(tmp_path):
    from tokbench.tokenizer.load import load_tokenizer

    tok = load_tokenizer(_tok(tmp_path))
    stream = open_stream("libreoffice:fr@test")
    first = count_stream(tok, stream, shard_bytes=20_000)
    assert first.cache["hits"] == 0 and first.cache["misses"] > 3
    again = count_stream(tok, stream, shard_bytes=20_000)
    assert again.cache["misses"] == 0 and again.cache["hits"] == first.cache["misses"]
    assert (again.counts == first.counts).all() and again.n_tokens == first.n_tokens and again.sha256 == first.sha256
    whole = count_stream(tok, stream, use_cache=False)
    assert (whole.counts == first.counts).all() and whole.n_tokens == first.n_tokens


def test_damaged_statistics_are_misses(tmp_path):
    import os
    from pathlib import Path

    from tokbench.tokenizer.load import load_tokenizer

    tok = load_tokenizer(_tok(tmp_path))
    stream = open_stream("libreoffice:fr@test")
    first = count_stream(tok, stream, shard_bytes=50_000)
    entries = sorted((Path(os.environ["TOKBENCH_CACHE"]) / "encoding-stats").glob("*.npz"))
    assert len(entries) == first.cache["misses"]
    entries[0].write_bytes(b"")
    entries[1].write_bytes(entries[2].read_bytes())  # another shard's valid entry under this key
    again = count_stream(tok, stream, shard_bytes=50_000)
    assert again.cache["misses"] == 2 and (again.counts == first.counts).all() and again.n_tokens == first.n_tokens
