"""A long training runs in a worker thread: other calls are answered meanwhile,
and cancelling the call really stops the worker and saves nothing."""

from __future__ import annotations

import logging
import random

import anyio
import pytest
from mcp import Client

from server import ServerConfig, build_server
from server.service import BPEService
from server.config import Limits

from tool_calls import running

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def big_corpus(tmp_path_factory):
    """~1.5 MB of random words: hundreds of thousands of merges to learn, far more than a test waits for."""
    root = tmp_path_factory.mktemp("big")
    rng = random.Random(7)
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = ("".join(rng.choices(letters, k=rng.randint(4, 14))) for _ in range(150_000))
    (root / "random.txt").write_text(" ".join(words), encoding="utf-8")
    return root


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_cancelled_training_stops_the_worker_and_other_calls_are_answered_meanwhile(
    tmp_path, big_corpus, mode, caplog
):
    # A million tokens: a training that runs until it is cancelled (about 20,000
    # merges a second here), so every check below happens while it runs.
    limits = Limits(max_vocab_size=1_000_000)
    service = BPEService(ServerConfig(data_dir=tmp_path / "data", roots=(big_corpus,), limits=limits))
    server = build_server(service.config, service)
    caplog.set_level(logging.INFO, logger="server.service")
    merging = anyio.Event()
    seen_progress = []

    async def on_progress(progress, total, message):
        seen_progress.append(progress)
        if message and message.startswith("merging"):
            merging.set()

    async with Client(server, mode=mode) as client:
        small = await client.call_tool("train_bpe", {"name": "small", "text": "hello world " * 50, "vocab_size": 260})
        assert not small.is_error
        big = {"name": "big", "paths": ["random.txt"], "vocab_size": 1_000_000}
        async with running(lambda: client.call_tool("train_bpe", big, progress_callback=on_progress),
                           merging) as outcome:
            assert service.trainings_running == ["big"]

            # The event loop is free: quick calls are answered while the training runs.
            for tool, arguments in [
                ("list_tokenizers", {}),
                ("encode", {"tokenizer": "small", "text": "hello world"}),
                ("inspect_vocab", {"tokenizer": "small"}),
            ]:
                with anyio.fail_after(60):
                    result = await client.call_tool(tool, arguments)
                assert not result.is_error, result.content[0].text
                assert service.trainings_running == ["big"] and "result" not in outcome, f"{tool} waited for the training"

            # The same name cannot be trained twice at once.
            clash = await client.call_tool("train_bpe", {"name": "big", "text": "x y", "vocab_size": 257})
            assert clash.is_error and "already in progress" in clash.content[0].text
            # Leaving the block cancels the training.

        # The worker thread notices the cancellation and stops training (it
        # would otherwise run for minutes), saving nothing.
        with anyio.fail_after(60):
            while service.trainings_running:
                await anyio.sleep(0.02)
        assert "training 'big' was cancelled; nothing saved" in caplog.messages
        if "result" in outcome:  # the in-process dispatcher may still deliver the handler's answer
            assert outcome["result"].is_error and "cancelled" in outcome["result"].content[0].text
        assert seen_progress == sorted(seen_progress) and seen_progress[-1] < 100

        listing = await client.call_tool("list_tokenizers", {})
        assert [t["name"] for t in listing.structured_content["tokenizers"]] == ["small"]
    assert sorted(p.name for p in service.store.directory.iterdir()) == ["small.json"]  # no leftovers
