"""Corpora as streams: stream and in-memory reads agree, caps and mixture budgets are exact and deterministic."""

from __future__ import annotations

import gzip
import json
import random

import pytest

from tokbench.corpora import cut_utf8, load_source, open_stream, open_streams
from tokbench.corpora.spec import _read_text_file
from tokbench.train import TrainConfig, train
from tokbench.train.mixture import mix_by_bytes

ALPHABET = ["a", "b", " ", "é", "日", "🙂", "\n", "\r\n", "\r", "\u2028", "\x0c", "  "]


def _random_text(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(n))


@pytest.mark.parametrize("seed", range(8))
def test_text_reader_in_small_chunks_equals_whole_file_splitlines(tmp_path, seed):
    rng = random.Random(seed)
    text = _random_text(rng, 3000)
    path = tmp_path / "t.txt"
    path.write_bytes(text.encode("utf-8"))
    expected = [(f"t.txt:{n}", line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    for chunk in (1, 2, 3, 7, 64, 1 << 20):
        assert list(_read_text_file(path, chunk=chunk)) == expected


def test_cut_utf8_never_splits_a_character():
    rng = random.Random(0)
    for _ in range(300):
        t = _random_text(rng, rng.randint(0, 40))
        n = rng.randint(0, 3 * len(t) + 2)
        c = cut_utf8(t, n)
        assert t.startswith(c) and len(c.encode()) <= n
        assert len(c.encode()) >= min(n, len(t.encode())) - 3


@pytest.fixture
def folder(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    d = tmp_path / "shards"
    d.mkdir()
    rng = random.Random(1)
    (d / "a.txt").write_text("\n".join(_random_text(rng, 30).replace("\n", " ") for _ in range(50)), encoding="utf-8")
    with gzip.open(d / "b.jsonl.gz", "wt", encoding="utf-8") as f:
        for i in range(40):
            f.write(json.dumps({"id": f"r{i}", "text": f"record {i} " + _random_text(rng, 20)}) + "\n")
    pq.write_table(pa.table({"text": [f"row {i} naïve" for i in range(30)]}), d / "c.parquet")
    return d


def test_stream_and_in_memory_read_the_same_text(folder):
    for spec in (str(folder), str(folder / "a.txt"), "udhr:tur", "libreoffice:de@test"):
        stream = open_stream(spec)
        src = load_source(spec)
        assert [t for _, t in stream.records()] == src.texts
        assert [i for i, _ in stream.records()] == src.ids
        st = stream.stats()
        assert (st.sha256, st.bytes, st.segments) == (src.sha256, src.n_bytes, len(src))
        assert sum(len(b) for b in stream.batches(size=7)) == len(src)


def test_max_bytes_is_a_true_cap_cutting_one_huge_line(tmp_path):
    path = tmp_path / "one-line.txt"
    path.write_text("ünï " * 500_000, encoding="utf-8")  # 3.5 MB, one line
    src = load_source(str(path), max_bytes=100_000)
    assert 100_000 - 3 <= src.n_bytes <= 100_000 and len(src) == 1
    for cap in (2, 3, 4, 999, 1001):
        got = load_source(str(path), max_bytes=cap)
        assert cap - 3 <= got.n_bytes <= cap and "ünï ".startswith(got.texts[0][:4])


def test_caps_are_exact_across_segments_and_sources():
    for cap in (1, 10, 999, 5000):
        for src in (load_source("udhr:tur", max_bytes=cap), load_source("libreoffice:ja@test", max_bytes=cap)):
            assert cap - 3 <= src.n_bytes <= cap


def test_mixture_budget_is_exact_and_deterministic_on_streams():
    streams = open_streams("libreoffice:de,fr,ja@test")
    m = mix_by_bytes(streams, [2, 1, 1], budget=30_000, seed=3)
    used = [u["bytes_used"] for u in m.usage]
    assert [u["bytes_target"] for u in m.usage] == [15_000, 7_500, 7_500]
    assert all(t - 3 <= u <= t for u, t in zip(used, [15_000, 7_500, 7_500]))
    assert sum(len(t.encode()) for t in m) == sum(used)
    again = mix_by_bytes(open_streams("libreoffice:de,fr,ja@test"), [2, 1, 1], budget=30_000, seed=3)
    assert again.texts == m.texts and again.usage == m.usage
    other = mix_by_bytes(open_streams("libreoffice:de,fr,ja@test"), [2, 1, 1], budget=30_000, seed=4)
    assert other.texts != m.texts
    # the same sources in memory give the same mixture
    in_memory = [s.materialise() for s in streams]
    assert mix_by_bytes(in_memory, [2, 1, 1], budget=30_000, seed=3).texts == m.texts


def test_mixture_samples_the_whole_source_not_its_head():
    src = load_source("libreoffice:de@test")
    m = mix_by_bytes([src], [1], budget=src.n_bytes // 4, seed=0)
    pos = {t: i for i, t in enumerate(src.texts)}
    picked = [pos[t] for t in m if t in pos]
    assert max(picked) > 0.8 * len(src) and min(picked) < 0.2 * len(src)


@pytest.mark.parametrize("kind", ["bpe", "unigram", "wordpiece", "char", "superbpe"])
def test_training_from_streams_equals_training_in_memory(kind):
    cfg = TrainConfig(kind, vocab_size=600, max_bytes=60_000, seed=1)
    streams = open_streams("libreoffice:de,fr@test")
    a = train(cfg, streams)
    b = train(cfg, [s.materialise() for s in open_streams("libreoffice:de,fr@test")])
    if kind in ("unigram", "wordpiece"):
        # The stock unigram and wordpiece trainers differ between two runs on the same list of texts (threads,
        # tie order), so only the vocabulary size is compared; the text they get is compared exactly above.
        assert a.vocab_size == b.vocab_size
    else:
        assert a.tokenizer.to_str() == b.tokenizer.to_str()
    assert a.usage == b.usage
    assert sum(u["bytes_used"] for u in a.usage) <= 60_000


def test_sentencepiece_samples_a_bounded_number_of_sentences_and_says_so():
    cfg = TrainConfig("sp-bpe", vocab_size=400, max_bytes=80_000, seed=2, sp_max_sentences=300)
    a = train(cfg, open_streams("libreoffice:de@test"))
    assert a.info["sampled"] and a.info["sentences_used"] == 300 < a.info["sentences_offered"]
    assert 80_000 - 3 <= a.info["bytes_offered"] <= 80_000
    b = train(cfg, open_streams("libreoffice:de@test"))
    assert a.extra_files["tokenizer.model"] == b.extra_files["tokenizer.model"]
    full = train(TrainConfig("sp-bpe", vocab_size=400, max_bytes=80_000, seed=2), open_streams("libreoffice:de@test"))
    assert not full.info["sampled"] and full.info["sentences_used"] == full.info["sentences_offered"]


def test_bounded_counter_keeps_the_most_frequent():
    from tokbench.train.superbpe import BoundedCounter

    rng = random.Random(0)
    for cap in (1, 3, 10, 1000):
        c = BoundedCounter(cap)
        plain = {}
        for _ in range(20):
            for _ in range(50):
                k = f"w{min(int(rng.expovariate(0.2)), 60)}"
                c[k] += 1
                plain[k] = plain.get(k, 0) + 1
            c.maybe_prune()
        c.maybe_prune(final=True)
        assert len(c) <= cap
        assert sum(c.values()) + c.dropped == sum(plain.values())
        assert all(c[k] <= plain[k] for k in c)
        if cap >= len(plain):
            assert dict(c) == plain and c.dropped == 0


def test_superbpe_stage2_bound_reports_what_it_dropped():
    kw = dict(vocab_size=700, max_bytes=60_000, seed=1)
    free = train(TrainConfig("superbpe", stage2_max_pretokens=None, **kw), open_streams("libreoffice:de@test"))
    roomy = train(TrainConfig("superbpe", stage2_max_pretokens=10**7, **kw), open_streams("libreoffice:de@test"))
    assert roomy.tokenizer.to_str() == free.tokenizer.to_str() and roomy.info["stage2_dropped_share"] == 0
    tight = train(TrainConfig("superbpe", stage2_max_pretokens=200, **kw), open_streams("libreoffice:de@test"))
    assert tight.info["stage2_pretokens"] <= 200 < free.info["stage2_pretokens"]
    assert tight.info["stage2_pruned"] >= 1 and 0 < tight.info["stage2_dropped_share"] < 1


def test_a_capped_text_file_fills_its_cap_when_it_has_the_text(tmp_path):
    from tokbench.corpora.stream import capped

    path = tmp_path / "many.txt"
    path.write_text("".join(f"line {i} ünï\n\n" for i in range(20_000)), encoding="utf-8")
    full = "".join(t for _, t in _read_text_file(path))
    for cap in (10, 5_000, 100_000, 250_001):
        got = "".join(t for _, t in capped(_read_text_file(path, hint=cap, chunk=997), cap))
        assert cap - 3 <= len(got.encode()) <= cap and full.startswith(got[:50])
