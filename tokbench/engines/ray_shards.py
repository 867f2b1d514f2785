"""Run numbered work items on Ray actors, one long-lived state (e.g. a tokenizer) per actor.

The generic half of the Ray engine of ``evaluate`` (the metric-specific half is
:mod:`tokbench.metrics.stream_stats`): ``work`` is a picklable object with ``setup()`` (run once in each
actor's constructor: load the tokenizer there, not once per item) and ``run(state, item)`` (one item's
result, any picklable value). Ray Data maps the item numbers through ``map_batches`` with ``workers``
actors (one CPU each) and the driver gets every ``(item, result)`` back, in completion order; the caller
sums. The cluster comes from :func:`tokbench.engines.ray_counts.connect` (the running session, the given
address, or a local cluster started for this command).
"""

from __future__ import annotations

import pickle
from typing import Iterator

from tokbench.engines.ray_counts import connect


class _WorkActor:
    """One per worker: builds its state once, then runs the items it is given."""

    def __init__(self, work):
        self.work = work
        self.state = work.setup()

    def __call__(self, batch: dict) -> dict:
        import numpy as np

        (item,) = batch["item"].tolist()  # batch_size=1: one item per call
        result = self.work.run(self.state, int(item))
        # results of any shape travel pickled: Ray Data columns must be arrays with one row per item
        return {"item": np.array([item], dtype=np.int64),
                "result": np.array([pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)], dtype=object)}


def workers_of(address: str | None = None, workers: int | None = None) -> int:
    """How many actors a job gets: ``workers``, else one per CPU of the cluster."""
    ray = connect(address, workers)
    return workers or max(1, int(ray.cluster_resources().get("CPU", 1)))


def run_on_ray(work, n_items: int, *, address: str | None = None, workers: int | None = None) -> Iterator[tuple[int, object]]:
    """``(item, work.run(state, item))`` for items ``0 .. n_items - 1``, computed on ``workers`` actors."""
    if n_items == 0:
        return
    ray = connect(address, workers)
    n = workers_of(address, workers)
    ds = ray.data.from_items([{"item": i} for i in range(n_items)], override_num_blocks=n_items)
    out = ds.map_batches(_WorkActor, fn_constructor_kwargs={"work": work}, batch_size=1,
                         concurrency=min(n, n_items), num_cpus=1, batch_format="numpy")
    for batch in out.iter_batches(batch_size=None, batch_format="numpy"):
        for item, blob in zip(batch["item"].tolist(), batch["result"].tolist()):
            yield int(item), pickle.loads(blob)
