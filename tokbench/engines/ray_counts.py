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


class _ShardActor:
    """One per worker: holds the job (built once), runs it on the shard numbers it is given."""

    def __init__(self, job: Callable[[int, int], object], n: int):
        self.job = job
        self.n = n

    def __call__(self, batch: dict) -> dict:
        import pickle

        import numpy as np

        (k,) = batch["shard"].tolist()  # batch_size=1: one shard per call
        blob = pickle.dumps(self.job(int(k), self.n), protocol=pickle.HIGHEST_PROTOCOL)
        return {"shard": np.array([k], dtype=np.int64), "result": np.array([blob], dtype=object)}


def map_shards(job: Callable[[int, int], object], *, address: str | None = None, workers: int | None = None) -> list:
    """``[job(0, n), job(1, n), ..., job(n - 1, n)]`` computed on ``n`` Ray actors (``workers``, default:
    the cluster's CPUs), in shard order. ``job`` is pickled to the actors; what it returns is pickled
    back (keep it to counts, never text)."""
    import pickle

    ray = connect(address, workers)
    n = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
    ds = ray.data.from_items([{"shard": k} for k in range(n)], override_num_blocks=n)
    out = ds.map_batches(_ShardActor, fn_constructor_kwargs={"job": job, "n": n},
                         batch_size=1, concurrency=n, num_cpus=1, batch_format="numpy")
    results: dict[int, object] = {}
    for batch in out.iter_batches(batch_size=None, batch_format="numpy"):
        for k, blob in zip(batch["shard"].tolist(), batch["result"].tolist()):
            results[int(k)] = pickle.loads(blob)
    return [results[k] for k in range(n)]


class _CountShard:
    """The job of :func:`count_on_ray`: count shard ``k`` of ``n`` of the texts (shard 0 also reports what
    the mixture used: every actor walked the whole stream)."""

    def __init__(self, texts, counter: Callable[[Iterable[str]], Counter]):
        self.texts = texts
        self.counter = counter

    def __call__(self, k: int, n: int):
        c = self.counter(shard(self.texts, k, n))
        usage = getattr(self.texts, "_usage", None) if k == 0 else None
        return Counter(c), usage


def count_on_ray(texts, counter: Callable[[Iterable[str]], Counter], *, address: str | None = None,
                 workers: int | None = None) -> Counter:
    """Sum of ``counter`` over ``workers`` shards of ``texts`` computed on Ray actors (see module doc).

    ``workers`` defaults to the cluster's CPUs. When ``texts`` is a MixedText its ``usage`` is filled from
    the actors' pass (the driver does not read the text).
    """
    total: Counter = Counter()
    for c, usage in map_shards(_CountShard(texts, counter), address=address, workers=workers):
        for piece, k in c.items():
            if k:
                total[piece] += k
        if usage is not None and hasattr(texts, "_usage"):
            texts._usage[:] = usage
    return total
