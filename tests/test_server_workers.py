"""Training through the server with worker processes: a server runs threads, so its workers
are forked from a clean fork server (not spawned: that re-imported the whole SDK in each one),
and they learn exactly what one process learns."""

from __future__ import annotations

import threading

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
