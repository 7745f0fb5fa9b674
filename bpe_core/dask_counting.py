"""Counting words on a Dask cluster (``dask.distributed``, an optional extra).

The driver (this process) cuts the corpus into shards
(:func:`~bpe_core.counting.plan_shards`: byte ranges of uncompressed files,
whole compressed files, Parquet row groups), the workers count them
(:func:`~bpe_core.counting.count_shard`, reading the files themselves), and
the partial counts are reduced as a tree whose every node merges two
*adjacent* runs of shards, earlier run first::

    s0  s1  s2  s3  s4          shards, in corpus order
     \\  /    \\  /   |
     m01     m23    s4         merge(earlier, later)
        \\    /      |
        m0123       s4
             \\     /
             m01234             -> the driver: learn merges

A merge keeps the earlier run's words first and appends the later run's
new words, so every node holds its words in the order they first occur in
its run, and the root holds them in corpus order: the same table, in the
same order, as counting on one machine, whatever the number of workers or
the shard size.  (This is what carrying each word's first position through
the reduce would give, without storing positions.)  Tasks are pure
functions of their shard, so a shard or merge lost with a worker is
recomputed by Dask and the result stays exact.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

from .corpus_formats import require
from .counting import CountJob, PartialCounts, Shard, available_cores, count_shard
from .errors import BPEError, TrainingCancelled

#: How often (seconds) the driver looks at progress and cancellation.
POLL_SECONDS = 0.2


def merge_partials(earlier: PartialCounts, later: PartialCounts) -> PartialCounts:
    """One node of the reduce tree (a new object: Dask may still hold its inputs)."""
    return PartialCounts.merged(earlier, later)


@contextmanager
def dask_client(dask) -> Iterator:
    """A ``distributed.Client`` for ``dask``: a client (used as is), ``"local[:N]"`` or a scheduler address."""
    distributed = require("distributed", "counting on a Dask cluster")
    if isinstance(dask, distributed.Client):
        yield dask
        return
    if not isinstance(dask, str) or not dask.strip():
        raise BPEError(f"dask must be a distributed.Client, a scheduler address such as 'tcp://10.0.0.5:8786', "
                       f"or 'local' / 'local:N' for a cluster of N local processes; got {dask!r}")
    dask = dask.strip()
    if dask == "local" or dask.startswith("local:"):
        size = dask.partition(":")[2]
        if size and not (size.isdigit() and int(size) > 0):
            raise BPEError(f"'local:N' takes a positive number of worker processes; got {dask!r}")
        workers = int(size) if size else available_cores()
        # host (and the dashboard port given as ":0") keep the cluster on 127.0.0.1, on free ports.
        with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                      dashboard_address=":0") as cluster, distributed.Client(cluster) as client:
            yield client
        return
    try:
        client = distributed.Client(dask, timeout="20s")
    except (OSError, TimeoutError) as exc:
        raise BPEError(f"cannot reach the Dask scheduler at {dask!r} ({exc}); start one with 'dask scheduler' "
                       "and workers with 'dask worker ADDRESS', or use 'local:N' for a local cluster") from None
    with client:
        yield client


def count_shards_on_dask(
    shards: list[Shard],
    job: CountJob,
    dask,
    add_progress: Callable[[int], None],
    stopped: Callable[[], bool],
) -> PartialCounts:
    """Count ``shards`` on the cluster; ``add_progress(bytes)`` as shards finish; stops when ``stopped()``."""
    if not shards:
        return PartialCounts()
    with dask_client(dask) as client:
        distributed = require("distributed", "counting on a Dask cluster")
        counted = client.map(count_shard, shards, job=job, pure=False)
        submitted = list(counted)
        try:
            level = counted
            while len(level) > 1:
                merged = [client.submit(merge_partials, level[i], level[i + 1], pure=False)
                          for i in range(0, len(level) - 1, 2)]
                if len(level) % 2:
                    merged.append(level[-1])
                submitted += merged
                level = merged
            size = {future.key: shard.size for future, shard in zip(counted, shards)}
            pending = set(counted)
            while pending:
                if stopped():
                    raise TrainingCancelled("training was cancelled while counting words on the Dask cluster")
                try:
                    done, pending = distributed.wait(pending, timeout=POLL_SECONDS, return_when="FIRST_COMPLETED")
                except TimeoutError:
                    continue
                for future in done:
                    if future.status == "error":
                        future.result()  # raises the worker's error here
                    add_progress(size[future.key])
            root = level[0]
            while True:
                if stopped():
                    raise TrainingCancelled("training was cancelled while merging counts on the Dask cluster")
                try:
                    return root.result(timeout=POLL_SECONDS)
                except TimeoutError:
                    continue
        finally:
            client.cancel(submitted)
