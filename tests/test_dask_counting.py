"""Counting on a real Dask cluster gives exactly the single-machine counts and merges.

Clusters run on this machine: a ``LocalCluster`` of two worker processes,
and ``dask scheduler`` + two ``dask worker`` processes over TCP on
127.0.0.1 (``dask_clusters``).  Skipped without ``distributed``, except
under CI, where it fails.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import pytest

from bpe_core import BPEError, TrainingCancelled, train
from bpe_core.counts import count_words
from dask_clusters import external_cluster, local_cluster
from scale_corpora import make_records, optional, write_jsonl, write_parquet, write_text

MODES = ["byte_level", "classic"]
MERGES = 400
RECORDS = make_records(3000)


@pytest.fixture(scope="module")
def client():
    optional("distributed")
    with local_cluster(workers=2) as client:
        yield client


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """The corpus in four files of four formats, in corpus order."""
    directory = tmp_path_factory.mktemp("dask_corpus")
    quarter = len(RECORDS) // 4
    return [
        write_text(directory / "a.txt", RECORDS[:quarter]),
        write_jsonl(directory / "b.jsonl.gz", RECORDS[quarter:2 * quarter], compression="gz"),
        write_parquet(directory / "c.parquet", RECORDS[2 * quarter:3 * quarter], row_group_size=150),
        write_text(directory / "d.txt", RECORDS[3 * quarter:]),
    ]


@pytest.mark.parametrize("mode", MODES)
def test_local_cluster_counts_and_merges_equal_one_machine_for_any_shard_size(client, corpus, mode):
    expected_counts = count_words(files=corpus, mode=mode, workers=1)
    expected_merges = train("".join(RECORDS), mode=mode, num_merges=MERGES).merges
    for shard_bytes in (None, 1000, 7_777, 40_000):
        counted = count_words(files=corpus, mode=mode, dask=client, shard_bytes=shard_bytes)
        assert list(counted.counts.items()) == list(expected_counts.counts.items()), shard_bytes
        assert counted.corpus_bytes == expected_counts.corpus_bytes
        merges = train(files=corpus, mode=mode, num_merges=MERGES, dask=client, shard_bytes=shard_bytes).merges
        assert merges == expected_merges, shard_bytes


def test_workers_read_fsspec_urls(client, corpus):
    urls = [path.resolve().as_uri() for path in corpus]
    expected = count_words(files=corpus, mode="classic", workers=1)
    counted = count_words(files=urls, mode="classic", dask=client, shard_bytes=4000)
    assert list(counted.counts.items()) == list(expected.counts.items())


def test_local_n_starts_a_cluster_of_that_size(corpus):
    optional("distributed")
    expected = train("".join(RECORDS), mode="classic", num_merges=MERGES).merges
    assert train(files=corpus, mode="classic", num_merges=MERGES, dask="local:1", shard_bytes=5000).merges == expected


def test_progress_reaches_the_caller_and_cancellation_stops_the_count(client, corpus):
    seen = []
    train(files=corpus, num_merges=5, dask=client, shard_bytes=2000, on_progress=lambda *a: seen.append(a))
    counting = [(done, total) for phase, done, total in seen if phase == "counting"]
    total = sum(os.path.getsize(p) for p in corpus)
    assert counting[-1] == (total, total)
    assert all(a[0] <= b[0] for a, b in zip(counting, counting[1:]))
    started = threading.Event()

    def on_progress(phase, done, total):
        if phase == "counting" and 0 < done:
            started.set()

    with pytest.raises(TrainingCancelled, match="cancelled while counting words"):
        train(files=corpus, num_merges=5, dask=client, shard_bytes=500, on_progress=on_progress,
              should_stop=started.is_set)
    assert started.is_set()


def test_worker_errors_reach_the_caller(client, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b'{"text": "ok"}\n' * 50 + b'{broken\n' + b'{"text": "ok"}\n' * 50)
    with pytest.raises(BPEError, match=r"bad\.jsonl': not valid JSON .* at line 51"):
        train(files=[bad], num_merges=5, dask=client, shard_bytes=100)
    report = train(files=[bad], num_merges=5, dask=client, shard_bytes=100, on_error="skip").training
    assert report.skipped_records == 1 and report.problems[0].split(": ")[1] == "line 51"
    with pytest.raises(BPEError, match=r"dask must be a distributed.Client, a scheduler address .*; got 42"):
        train("x", files=[bad], num_merges=5, dask=42)


@pytest.mark.parametrize("mode", MODES)
def test_scheduler_and_workers_over_tcp(tmp_path, corpus, mode):
    with external_cluster(tmp_path / "cluster") as cluster:
        assert cluster.address.startswith("tcp://127.0.0.1:")
        expected = count_words(files=corpus, mode=mode, workers=1)
        counted = count_words(files=corpus, mode=mode, dask=cluster.address, shard_bytes=3000)
        assert list(counted.counts.items()) == list(expected.counts.items())
        result = subprocess.run(
            [sys.executable, "-m", "bpe_core", "train", *map(str, corpus), "--mode", mode, "--num-merges",
             str(MERGES), "--dask", cluster.address, "--shard-bytes", "5000", "-q", "-o", str(tmp_path / "t.json")],
            capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        from bpe_core import load_tokenizer
        assert load_tokenizer(tmp_path / "t.json").merges == train("".join(RECORDS), mode=mode,
                                                                   num_merges=MERGES).merges


def test_a_worker_killed_mid_count_is_retried_and_the_result_is_exact(tmp_path):
    path = write_text(tmp_path / "big.txt", make_records(12_000, seed=3))
    expected = count_words(files=[path], mode="classic", workers=1)
    with external_cluster(tmp_path / "cluster") as cluster:
        victim = cluster.workers[0]
        killed = threading.Event()
        progress = []

        def on_progress(phase, done, total):
            progress.append((done, total))
            if not killed.is_set() and 0 < done < total:
                os.kill(victim.pid, signal.SIGKILL)
                killed.set()

        counted = count_words(files=[path], mode="classic", dask=cluster.address, shard_bytes=8 << 10,
                              on_progress=on_progress)
        assert killed.is_set() and victim.wait(timeout=30) == -signal.SIGKILL
        assert progress[-1][0] == progress[-1][1]
    assert list(counted.counts.items()) == list(expected.counts.items())
    assert counted.corpus_bytes == expected.corpus_bytes
