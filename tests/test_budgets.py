"""Every request has a budget: small requests cannot make the server build huge replies,
keep tokenizers it only listed, or run more trainings than it has room for.

The memory budget is measured on a real server process (its peak RSS, from
``/proc``), so what counts is what the operating system saw.
"""

from __future__ import annotations

import gc
import random
import sys
import tracemalloc
from pathlib import Path

import anyio
import pytest
from mcp import Client

import bpe_core
from server import ServerConfig, build_server
from server.config import Limits
from server.storage import TokenizerStore
from stdio_harness import LEGACY, StdioServer

TEXT = "low lower newest widest " * 30

#: What the hostile requests below may add to the server's peak memory.
PEAK_BUDGET_BYTES = 300 * 2**20


def random_words(count: int, seed: int = 5) -> str:
    rng = random.Random(seed)
    return " ".join("".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(3, 10))) for _ in range(count))


def peak_rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM line in /proc/PID/status")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the server's peak RSS from /proc")
def test_small_requests_for_huge_replies_are_refused_within_the_memory_budget(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    server = StdioServer(tmp_path / "data", root, tmp_path / "stderr.log")
    try:
        server.request("init", "initialize", {"protocolVersion": LEGACY, "capabilities": {},
                                              "clientInfo": {"name": "budgets", "version": "0"}})
        server.send_json({"jsonrpc": "2.0", "method": "notifications/initialized"})

        def call(request_id, tool, arguments):
            reply = server.request(request_id, "tools/call", {"name": tool, "arguments": arguments})
            return reply["result"]

        trained = call(1, "train_bpe", {"name": "small", "text": TEXT, "vocab_size": 270})
        assert not trained["isError"], trained
        baseline = peak_rss_bytes(server.process.pid)

        hostile = [
            # 582 bytes of request that asked for 100 rows of a million ids each.
            {"tokenizer": "small", "texts": ["low"] * 100, "padding": "max_length", "max_length": 1_000_000},
            # Within the text limit, but tokens and offsets for ~a million tokens.
            {"tokenizer": "small", "texts": [random_words(120, seed=i) for i in range(1000)],
             "return_tokens": True, "return_offsets": True},
        ]
        for number, arguments in enumerate(hostile, start=2):
            result = call(number, "encode", arguments)
            assert result["isError"], str(result)[:300]
            message = result["content"][0]["text"]
            assert "reply size limit" in message and "--max-reply-bytes" in message, message
            assert "batches of at most" in message or "pad to 'longest'" in message, message
        # The same texts in pages the error suggests are served.
        page = call(10, "encode", {"tokenizer": "small", "texts": [random_words(120, seed=i) for i in range(50)],
                                   "return_tokens": True, "return_offsets": True})
        assert not page["isError"], page["content"][0]["text"]
        assert len(page["structuredContent"]["encodings"]) == 50
        server.assert_alive()
        grown = peak_rss_bytes(server.process.pid) - baseline
        assert grown < PEAK_BUDGET_BYTES, f"peak RSS grew by {grown / 2**20:.0f} MB"
    finally:
        server.close()


@pytest.mark.anyio
async def test_padding_and_replies_within_the_budget_still_work(tmp_path):
    server = build_server(ServerConfig(data_dir=tmp_path / "data", limits=Limits(max_reply_bytes=200_000)))
    async with Client(server) as client:
        await client.call_tool("train_bpe", {"name": "t", "text": TEXT, "vocab_size": 270,
                                             "special_tokens": ["<pad>"]})
        fits = await client.call_tool("encode", {"tokenizer": "t", "texts": ["low", "lower"], "padding": "max_length",
                                                 "max_length": 1000})
        assert not fits.is_error and [len(e["ids"]) for e in fits.structured_content["encodings"]] == [1000, 1000]
        over = await client.call_tool("encode", {"tokenizer": "t", "texts": ["low"] * 20, "padding": "max_length",
                                                 "max_length": 1000})
        assert over.is_error and "batches of at most 12" in over.content[0].text, over.content[0].text


def big_tokenizer(words: int) -> bpe_core.Tokenizer:
    return bpe_core.train(random_words(words), vocab_size=3000)


def test_listing_keeps_summaries_not_tokenizers(tmp_path, monkeypatch):
    store = TokenizerStore(tmp_path, cache_bytes=50_000)
    tokenizer = big_tokenizer(20_000)
    for name in ("a", "b", "c"):
        store.save(name, tokenizer)
    assert store.path_for("a").stat().st_size > 50_000  # each one over the cache budget
    del tokenizer
    gc.collect()
    loads = []
    real_load = bpe_core.load_tokenizer

    def counting_load(path):
        loads.append(Path(path).name)
        return real_load(path)

    monkeypatch.setattr("server.storage.load_tokenizer", counting_load)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        good, broken = store.list()
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert [s.name for s in good] == ["a", "b", "c"] and not broken
    assert all(s.vocab_size == 3000 and s.mode == "byte_level" for s in good)
    assert store.cached_names == []  # none fits the budget, so none is kept
    assert kept < 200_000, f"listing kept {kept:,} bytes"
    store.list()
    assert sorted(loads) == ["a.json", "b.json", "c.json"]  # listed again from the summaries


def test_the_tokenizer_cache_is_bounded_by_bytes_and_evicts_the_least_recent(tmp_path):
    tokenizer = big_tokenizer(5_000)
    store = TokenizerStore(tmp_path)
    store.save("x", tokenizer)
    size = store.path_for("x").stat().st_size
    store = TokenizerStore(tmp_path, cache_bytes=2 * size + 10)
    for name in ("a", "b", "c"):
        store.save(name, tokenizer)
    for name in ("a", "b", "a", "c"):
        store.load(name)
    assert store.cached_names == ["a", "c"]  # b was the least recently used
    # A changed file is loaded again, never served stale.
    store.save("a", bpe_core.train(TEXT, vocab_size=262), overwrite=True)
    assert store.load("a").tokenizer.vocab_size == 262
    assert [s.vocab_size for s in store.list()[0] if s.name == "a"] == [262]


@pytest.mark.anyio
async def test_trainings_beyond_the_limit_get_a_busy_error(tmp_path):
    server = build_server(ServerConfig(data_dir=tmp_path / "data", limits=Limits(max_concurrent_trainings=2)))
    merging = {"one": anyio.Event(), "two": anyio.Event()}

    def on_progress_of(name):
        async def on_progress(progress, total, message):
            if message and message.startswith("merging"):
                merging[name].set()
        return on_progress

    async with Client(server) as client:
        async def long_training(name, scope):
            with scope:
                await client.call_tool("train_bpe", {"name": name, "text": random_words(60_000, seed=len(name)),
                                                     "vocab_size": 30_000}, progress_callback=on_progress_of(name))

        async with anyio.create_task_group() as group:
            scopes = {name: anyio.CancelScope() for name in merging}
            for name, scope in scopes.items():
                group.start_soon(long_training, name, scope)
            with anyio.fail_after(120):
                for event in merging.values():
                    await event.wait()
            third = await client.call_tool("train_bpe", {"name": "three", "text": TEXT, "vocab_size": 270})
            assert third.is_error
            message = third.content[0].text
            assert "busy" in message and "2 training(s) are running" in message and "--max-concurrent-trainings" in message
            taught = await client.call_tool("explain", {"text": "lower", "train_on": TEXT, "num_merges": 5})
            assert taught.is_error and "busy" in taught.content[0].text
            for scope in scopes.values():
                scope.cancel()
        # Once the slots are free, training is served again.
        with anyio.fail_after(60):
            while True:
                again = await client.call_tool("train_bpe", {"name": "three", "text": TEXT, "vocab_size": 270})
                if not again.is_error:
                    break
                assert "busy" in again.content[0].text
                await anyio.sleep(0.1)
