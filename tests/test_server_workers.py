"""Training through the server with worker processes: a server runs threads, so its workers
are forked from a clean fork server (not spawned: that re-imported the whole SDK in each one),
started with the server, and they learn exactly what one process learns."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from mcp import Client

import bpe_core
from bpe_core import counting
from corpus_text import corpus_slice, random_text
from server import ServerConfig, build_server

pytestmark = pytest.mark.anyio


async def test_a_server_training_counts_in_worker_processes_exactly(tmp_path, monkeypatch):
    monkeypatch.setattr(counting, "PARALLEL_THRESHOLD_BYTES", 0)
    monkeypatch.setattr(counting, "SHARD_BYTES", 64 * 1024)
    contexts = []
    real_context = counting._process_context

    def recording_context():
        context = real_context()
        contexts.append(context.get_start_method())
        return context

    monkeypatch.setattr(counting, "_process_context", recording_context)
    root = tmp_path / "root"
    root.mkdir()
    corpus = root / "corpus.txt"
    corpus.write_text(corpus_slice("en", 200_000) + corpus_slice("zh", 100_000) + random_text(20_000), encoding="utf-8")
    server = build_server(ServerConfig(data_dir=tmp_path / "data", roots=(root,), training_workers=2))
    async with Client(server) as client:
        result = await client.call_tool("train_bpe", {"name": "w", "paths": ["corpus.txt"], "vocab_size": 1200})
        assert not result.is_error, result.content[0].text
        encoded = await client.call_tool("encode", {"tokenizer": "w", "text": "the lowest 分词器"})
    assert threading.active_count() > 1 and contexts and set(contexts) <= {"forkserver", "spawn"}
    alone = bpe_core.train([], files=[corpus], vocab_size=1200, workers=1)
    assert result.structured_content["merges_learned"] == len(alone.merges)
    assert encoded.structured_content["encodings"][0]["ids"] == alone.encode("the lowest 分词器")


# A server process: does it have a fork server (a child running multiprocessing.forkserver) once its service exists?
FORK_SERVER_CHECK = """
import os, sys
from server import ServerConfig
from server.service import BPEService

def children_command_lines():
    for task in os.listdir("/proc/self/task"):
        with open(f"/proc/self/task/{task}/children") as children:
            for pid in children.read().split():
                with open(f"/proc/{pid}/cmdline", "rb") as command:
                    yield command.read().decode(errors="replace")

BPEService(ServerConfig(data_dir=sys.argv[1], training_workers=int(sys.argv[2])))
print(any("multiprocessing.forkserver" in line for line in children_command_lines()))
"""


@pytest.mark.anyio(False)
@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads /proc (Linux)")
@pytest.mark.parametrize(("workers", "fork_server"), [(2, True), (1, False)])
def test_a_server_starts_its_fork_server_before_the_first_training(tmp_path, workers, fork_server):
    run = subprocess.run([sys.executable, "-c", FORK_SERVER_CHECK, str(tmp_path / "data"), str(workers)],
                         check=False, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == [str(fork_server)]
