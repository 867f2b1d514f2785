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
