"""Every request has a budget: small requests cannot make the server build huge replies,
keep tokenizers it only listed, or run more trainings than it has room for.

The memory budget is measured on a real server process (its peak RSS, from
``/proc``), so what counts is what the operating system saw.
"""

from __future__ import annotations

import gc
import random
import sys
import threading
import tracemalloc
from pathlib import Path

import anyio
import pytest
from mcp import Client

import bpe_core
from bpe_core import training_pipeline
from bpe_core.errors import TrainingCancelled
from server import ServerConfig, build_server
from server.config import Limits
from server.storage import TokenizerStore
from budget_helpers import chain_tokenizer, doubling_tokenizer
from stdio_harness import LEGACY, StdioServer

TEXT = "low lower newest widest " * 30

#: What the hostile requests below may add to the server's peak memory.
PEAK_BUDGET_BYTES = 600 * 2**20


def random_words(count: int, seed: int = 5) -> str:
    rng = random.Random(seed)
    return " ".join("".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(3, 10))) for _ in range(count))


def peak_rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM line in /proc/PID/status")


def cjk_text(characters: int, seed: int) -> str:
    rng = random.Random(seed)
    return "".join(chr(rng.randint(0x4E00, 0x9FFF)) + ("\n" if rng.random() < 0.02 else "")
                   for _ in range(characters))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the server's peak RSS from /proc")
def test_small_requests_cannot_exhaust_the_server(tmp_path):
    """The issue's attacks, each a request of a few KB at most (the cache ones repeated a few hundred
    times), against one real server process:
    its peak RSS (VmHWM, what the OS saw) may grow by at most PEAK_BUDGET_BYTES over all of them."""
    root, data = tmp_path / "root", tmp_path / "data"
    root.mkdir()
    store = TokenizerStore(data)
    big, deep = doubling_tokenizer(20), chain_tokenizer(300)  # a 1 MB token; a token 300 merges deep
    store.save("big", big)
    store.save("deep", deep)
    server = StdioServer(data, root, tmp_path / "stderr.log")
    try:
        server.request("init", "initialize", {"protocolVersion": LEGACY, "capabilities": {},
                                              "clientInfo": {"name": "budgets", "version": "0"}})
        server.send_json({"jsonrpc": "2.0", "method": "notifications/initialized"})

        def call(request_id, tool, arguments):
            return server.request(request_id, "tools/call", {"name": tool, "arguments": arguments})["result"]

        def refused(request_id, tool, arguments, *expected):
            result = call(request_id, tool, arguments)
            assert result["isError"], str(result)[:300]
            message = result["content"][0]["text"]
            assert all(part in message for part in expected), message

        trained = call(1, "train_bpe", {"name": "small", "text": TEXT + cjk_text(3000, 1), "vocab_size": 400})
        assert not trained["isError"], trained
        assert not call(2, "list_tokenizers", {})["isError"]
        baseline = peak_rss_bytes(server.process.pid)

        # 582 bytes of request that asked for 100 rows of a million ids each.
        refused(3, "encode", {"tokenizer": "small", "texts": ["low"] * 100, "padding": "max_length",
                              "max_length": 1_000_000}, "reply size limit", "--max-reply-bytes", "pad to 'longest'")
        # Within the text limit, but tokens and offsets for about a million tokens.
        refused(4, "encode", {"tokenizer": "small", "texts": [random_words(120, seed=i) for i in range(1000)],
                              "return_tokens": True, "return_offsets": True},
                "reply size limit", "batches of at most")
        # 1,000 ids of a 1 MB token: a 5 KB request for a gigabyte of text.
        refused(5, "decode", {"tokenizer": "big", "ids": [big.vocab["a" * 2**20]] * 1000}, "--max-text-chars")
        # A page of the longest tokens of the big tokenizer.
        refused(6, "inspect_vocab", {"tokenizer": "big", "view": "tokens", "sort": "length", "descending": True,
                                     "limit": 500}, "reply size limit", "smaller page")
        # Explaining 2,000 CJK characters (one pre-tokenized word) and 2,000 characters of emoji.
        for number, text in ((7, cjk_text(2000, 2).replace("\n", "")), (8, "😀👍🏽🚀" * 400)):
            explained = call(number, "explain", {"tokenizer": "small", "text": text[:2000]})
            assert not explained["isError"], explained["content"][0]["text"]
        # A merge tree 300 deep, and a 1 MB token's tree.
        for number, (name, token) in ((9, ("deep", "a" * 301)), (10, ("big", "a" * 2**20))):
            tokenizer = deep if name == "deep" else big
            viewed = call(number, "inspect_vocab", {"tokenizer": name, "view": "token", "id": tokenizer.vocab[token]})
            assert not viewed["isError"], viewed["content"][0]["text"]
        # Twelve trainings of 1 MB of CJK text at once: two run, the rest are told the server is busy.
        texts = [cjk_text(330_000, 10 + i) for i in range(12)]
        for i, text in enumerate(texts):
            server.send_json({"jsonrpc": "2.0", "id": f"t{i}", "method": "tools/call",
                              "params": {"name": "train_bpe", "arguments": {"name": f"cjk{i}", "text": text,
                                                                              "vocab_size": 3000}}})
        replies = [server.reply(f"t{i}", timeout=600)["result"] for i in range(12)]
        # How many find a free slot depends on how soon the first ones finish (the refusal itself is
        # tested with events in test_trainings_beyond_the_limit_get_a_busy_error): each one either
        # trains or is told the server is busy, and the memory below is what counts here.
        busy = [r for r in replies if r["isError"] and "busy" in r["content"][0]["text"]]
        assert all(not r["isError"] for r in replies if r not in busy), replies
        # Encode caches: 300 calls of long distinct words, and 400 different allowed_special subsets.
        specials = [f"<|s{i}|>" for i in range(12)]
        trained = call(12, "train_bpe", {"name": "specials", "text": TEXT, "vocab_size": 300, "special_tokens": specials})
        assert not trained["isError"], trained
        rng = random.Random(7)
        for number in range(300):
            word = "".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=3000))
            assert not call(f"w{number}", "encode", {"tokenizer": "small", "text": word})["isError"]
        for number in range(400):
            subset = rng.sample(specials, rng.randint(1, len(specials)))
            encoded = call(f"s{number}", "encode", {"tokenizer": "specials", "text": "low " + " ".join(subset),
                                                   "allowed_special": subset})
            assert not encoded["isError"], encoded["content"][0]["text"]
        # Listing keeps summaries, not the tokenizers it loaded.
        assert not call(11, "list_tokenizers", {})["isError"]
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
async def test_trainings_beyond_the_limit_get_a_busy_error(tmp_path, monkeypatch):
    server = build_server(ServerConfig(data_dir=tmp_path / "data", limits=Limits(max_concurrent_trainings=2)))
    merging = {"one": anyio.Event(), "two": anyio.Event()}
    # The first two trainings keep merging, by construction, until they are cancelled: a real merge loop
    # could finish before the third call arrives (progress reaches the client at most every 0.5 s).
    holding, never = threading.Event(), threading.Event()
    holding.set()
    learn_merges = training_pipeline.learn_merges

    def learn_or_hold(*args, on_progress=None, should_stop=None, **kwargs):
        merged = 0
        while holding.is_set():
            if should_stop():
                raise TrainingCancelled("training was cancelled while merging")
            merged += 1  # progress must rise to be sent
            on_progress("merging", merged, 1_000_000)
            never.wait(0.05)  # keep reporting, as the merge loop does, until released or cancelled
        return learn_merges(*args, on_progress=on_progress, should_stop=should_stop, **kwargs)

    monkeypatch.setattr(training_pipeline, "learn_merges", learn_or_hold)

    def on_progress_of(name):
        async def on_progress(progress, total, message):
            if message and message.startswith("merging"):
                merging[name].set()
        return on_progress

    async with Client(server) as client:
        async def long_training(name, scope):
            with scope:
                await client.call_tool("train_bpe", {"name": name, "text": random_words(2_000, seed=len(name)),
                                                     "vocab_size": 3_000}, progress_callback=on_progress_of(name))

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
        holding.clear()
        # Once the slots are free, training is served again.
        with anyio.fail_after(60):
            while True:
                again = await client.call_tool("train_bpe", {"name": "three", "text": TEXT, "vocab_size": 270})
                if not again.is_error:
                    break
                assert "busy" in again.content[0].text
                await anyio.sleep(0.1)
