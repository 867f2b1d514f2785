"""Pre-token counting on a Ray cluster (``--engine ray``): Ray Data maps shards of a stream to counting
actors, one pre-tokenizer per actor, and the driver sums the counts.

A job is a re-iterable stream of texts (a :class:`~tokbench.train.mixture.MixedText`, or any picklable
iterable) and a counting function. The stream is cut into blocks of ``BLOCK`` consecutive texts; shard
``k`` of ``n`` is every block whose number is ``k`` modulo ``n``. Each actor opens the stream itself
(the specs are re-read where the actor runs, so the files must be visible there: a shared filesystem or
the same paths on every node), walks it, and counts only its blocks. Walking the stream repeats the
reading and the byte sampling on every actor, which is cheap beside pre-tokenization; in exchange every
actor sees exactly the texts the local engine sees, so the summed counts are the local ones, bit for bit,
whatever the number of workers. The driver holds the summed counts (the distinct pre-tokens), never text.
"""

from __future__ import annotations

from collections import Counter
from typing import Callable, Iterable, Iterator

from tokbench.errors import ConfigError

#: Texts per block: the unit of work a shard is made of.
BLOCK = 1024


def shard(texts: Iterable[str], k: int, n: int, block: int = BLOCK) -> Iterator[str]:
    """The texts of blocks ``k, k + n, k + 2n, ...`` of ``texts``.

    >>> list(shard(range(7), 1, 2, block=2))
    [2, 3, 6]
    """
    for i, t in enumerate(texts):
        if (i // block) % n == k:
            yield t


def connect(address: str | None = None, workers: int | None = None):
    """The running Ray session, or one started for this command (a local cluster of ``workers`` CPUs when
    no address is given). Returns the ``ray`` module."""
    try:
        import ray
    except ImportError:
        raise ConfigError("--engine ray needs Ray: pip install 'tokbench[ray]'") from None
    if not ray.is_initialized():
        kwargs = {"address": address} if address else {"num_cpus": workers}
        try:
            ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False, **kwargs)
        except Exception as exc:  # Ray raises ConnectionError, RuntimeError, ValueError ... for a bad address
            where = f"at {address}" if address else "locally"
            raise ConfigError(f"cannot start or reach a Ray cluster {where} ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})") from None
    return ray


class _CountActor:
    """One per worker: builds its counter once, then counts the shards it is given."""

    def __init__(self, texts, counter: Callable[[Iterable[str]], Counter], n: int):
        self.texts = texts
        self.counter = counter
        self.n = n

    def __call__(self, batch: dict) -> dict:
        import numpy as np

        (k,) = batch["shard"].tolist()  # batch_size=1: one shard per call
        c = self.counter(shard(self.texts, int(k), self.n))
        pieces, counts = list(c.keys()) or [""], list(c.values()) or [0]
        # every actor walked the whole stream: shard 0 also reports what the mixture used
        usage = [_usage_json(self.texts) if k == 0 else ""] + [""] * (len(pieces) - 1)
        return {"piece": np.array(pieces, dtype=object), "count": np.array(counts, dtype=np.int64),
                "usage": np.array(usage, dtype=object)}


def _usage_json(texts) -> str:
    import json

    u = getattr(texts, "_usage", None)
    return json.dumps(u) if u is not None else ""


def count_on_ray(texts, counter: Callable[[Iterable[str]], Counter], *, address: str | None = None,
                 workers: int | None = None) -> Counter:
    """Sum of ``counter`` over ``workers`` shards of ``texts`` computed on Ray actors (see module doc).

    ``workers`` defaults to the cluster's CPUs. When ``texts`` is a MixedText its ``usage`` is filled from
    the actors' pass (the driver does not read the text).
    """
    import json

    ray = connect(address, workers)
    n = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
    ds = ray.data.from_items([{"shard": k} for k in range(n)], override_num_blocks=n)
    out = ds.map_batches(_CountActor, fn_constructor_kwargs={"texts": texts, "counter": counter, "n": n},
                         batch_size=1, concurrency=n, num_cpus=1, batch_format="numpy")
    total: Counter = Counter()
    for batch in out.iter_batches(batch_size=None, batch_format="numpy"):
        for piece, c in zip(batch["piece"].tolist(), batch["count"].tolist()):
            if c:
                total[piece] += c
        for u in batch["usage"].tolist():
            if u and hasattr(texts, "_usage"):
                texts._usage[:] = json.loads(u)
    return total
