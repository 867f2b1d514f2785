"""The Ray engine on a real local Ray cluster (2 CPUs) gives the local engine's numbers, bit for bit."""

from __future__ import annotations

import json

import pytest

ray = pytest.importorskip("ray", reason="the ray extra is not installed (scripts/test.sh installs it)")

from tokbench.corpora import open_streams  # noqa: E402
from tokbench.engines.ray_counts import count_on_ray  # noqa: E402
from tokbench.train import TrainConfig, train  # noqa: E402
from tokbench.train.bpe_counts import count_pretokens  # noqa: E402
from tokbench.train.mixture import mix_by_bytes  # noqa: E402

SPEC = "libreoffice:de,fr,ja@test"


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def test_counts_on_one_and_two_workers_equal_local(cluster):
    mixed = mix_by_bytes(open_streams(SPEC), [1, 1, 1], budget=100_000, seed=5)
    local = count_pretokens(mixed)
    for workers in (1, 2):
        again = mix_by_bytes(open_streams(SPEC), [1, 1, 1], budget=100_000, seed=5)
        assert count_on_ray(again, count_pretokens, workers=workers) == local
        assert again._usage == mixed.usage  # the actors' pass fills the usage; the driver read no text


@pytest.mark.parametrize("kind", ["bpe", "superbpe"])
def test_train_on_ray_equals_local(cluster, kind):
    kw = dict(vocab_size=800, max_bytes=100_000, seed=2)
    local = train(TrainConfig(kind, **kw), open_streams(SPEC))
    remote = train(TrainConfig(kind, engine="ray", workers=2, **kw), open_streams(SPEC))
    assert json.loads(remote.tokenizer.to_str())["model"] == json.loads(local.tokenizer.to_str())["model"]
    assert remote.tokenizer.to_str() == local.tokenizer.to_str()
    assert remote.usage == local.usage


def test_infer_mixture_counts_on_ray_equal_local(cluster, tmp_path):
    # Pre-token counts (and the bootstrap's replicate counts) of every category, counted by 2 actors (each
    # counts every other block of 1,024 documents), are the local ones bit for bit; so are the inferred
    # weights with the pair counting on Ray too. (One actor is the local walk: test_mixture_stream checks
    # that merging shard counts in any order gives the one-pass counts.)
    import numpy as np

    from tests.tokenizer_builders import train_bytelevel_bpe
    from tokbench.corpora import load_source
    from tokbench.mixture.config import MixtureConfig
    from tokbench.mixture.counting import count_categories
    from tokbench.mixture.infer import infer_mixture, load_categories
    from tokbench.mixture.words import SymbolTable
    from tokbench.tokenizer import load_tokenizer

    specs = [("de", "libreoffice:de@test"), ("ja", "libreoffice:ja@test"), ("py", "code:python@test")]
    train_bytelevel_bpe([t for _, s in specs for t in load_source(s, max_bytes=20_000).texts], 600).save(str(tmp_path / "t.json"))
    tok = load_tokenizer(str(tmp_path / "t.json"))
    cats = load_categories(specs, sample_bytes=120_000)
    sources = [(c.stream, c.max_bytes) for c in cats]
    local = count_categories(tok, sources, SymbolTable.from_merges(tok.model_merges()), replicates=2, seed=3)
    assert local[0].n_docs > 1024 and local[1].n_docs > 1024  # two blocks or more: both actors count some
    for workers in (2,):
        remote = count_categories(tok, sources, SymbolTable.from_merges(tok.model_merges()), replicates=2, seed=3,
                                  engine="ray", workers=workers)
        for a, b in zip(local, remote):
            for name in ("symbols", "offsets", "counts"):
                np.testing.assert_array_equal(getattr(a.words, name), getattr(b.words, name))
            np.testing.assert_array_equal(a.rep_counts, b.rep_counts)
            np.testing.assert_array_equal(a.rep_bytes, b.rep_bytes)
            assert a.provenance == b.provenance and a.n_docs == b.n_docs
    config = dict(merges=150, bootstrap=2, seed=3, time_limit=None, bootstrap_time_limit=None, bootstrap_over="documents")
    here = infer_mixture(tok, load_categories(specs, sample_bytes=120_000), MixtureConfig(**config))
    there = infer_mixture(tok, load_categories(specs, sample_bytes=120_000), MixtureConfig(engine="ray", workers=2, **config))
    np.testing.assert_array_equal(here.proportions, there.proportions)
    np.testing.assert_array_equal(here.intervals, there.intervals)


def test_evaluate_on_ray_equals_local(cluster, tmp_path):
    """Every metric family on 1 and 2 Ray workers, shards small enough that each worker gets several
    (segment columns of the premium put back in stream order), equals the local streamed evaluation."""
    from tests.tokenizer_builders import build_hf_bpe
    from tokbench.corpora import load_source
    from tokbench.metrics import EvalConfig, evaluate

    texts = load_source("libreoffice:de@test", max_bytes=60_000).texts + load_source("code:python@test", max_bytes=30_000).texts
    tok = build_hf_bpe(texts, tmp_path)
    kw = dict(corpora=("libreoffice:de,ja@test", "code:python@test"), premium_corpus="libreoffice:en-us,de,ja@test",
              reference_lang="en-us", tr_corpora=("libreoffice:de@test",), oracles=(("de", ("wordfreq",)),),
              max_bytes=60_000, shard_bytes=8_000, use_cache=False)
    local = evaluate([tok], EvalConfig(**kw))
    for workers in (1, 2):
        remote = evaluate([tok], EvalConfig(engine="ray", workers=workers, **kw))
        assert remote.tables == local.tables, workers
        assert remote.inputs == local.inputs
    assert {"compression", "fertility", "premium", "tr", "coverage"} <= set(local.tables)
