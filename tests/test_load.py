"""Load: many clients at once over streamable HTTP, and a long pipelined burst
over one stdio session, each while a training call runs in the same server.

Every ``encode`` answer is checked against ``bpe_core``'s own encoding of the
same text with the same stored tokenizer (loaded from the server's data
directory), and every text is different, so an answer delivered to the wrong
request, a lost answer or a duplicated one fails the test.  Both run the real
console script; every wait is bounded.  The training is far too large to end
on its own during a test (a million tokens); it is cancelled once the load has
been served, so "while a training runs" holds by construction, and the order
of the messages shows the training making progress between the answers.
"""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest
from mcp import Client

import bpe_core
from corpus_text import random_text
from held_training import HELD_VOCAB_SIZE, HOLDING_SERVER
from http_servers import start, stop
from stdio_harness import StdioServer, call, handshake, merging_started, wait_for

SAMPLES = Path(__file__).resolve().parents[1] / "server" / "samples"
SAMPLE_LINES = [line for name in ("en.txt", "zh.txt")
                for line in (SAMPLES / name).read_text(encoding="utf-8").splitlines() if line.strip()]
BASE = {"name": "base", "text": "\n".join(SAMPLE_LINES), "vocab_size": 400}
# A million tokens from 1.5 MB of random words, in a server that holds such a training (the real merge loop,
# started over whenever it ends) until it is cancelled once the encodes are answered: see held_training.py.
LONG_TRAINING = {"name": "long", "paths": ["random.txt"], "vocab_size": HELD_VOCAB_SIZE}
LONG_TRAINING_FLAGS = ("--max-vocab-size", str(HELD_VOCAB_SIZE))


def long_training_root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    root.mkdir()
    (root / "random.txt").write_text(random_text(150_000, seed=7), encoding="utf-8")
    return root


def text_for(client: int, call_number: int) -> str:
    """A different text for every call: a sample line, and who sent it."""
    line = SAMPLE_LINES[(client * 53 + call_number * 7) % len(SAMPLE_LINES)]
    return f"{line[: 40 + call_number % 60]} [client {client}, call {call_number}]"


def stored_tokenizer(data_dir: Path, name: str) -> bpe_core.Tokenizer:
    return bpe_core.load_tokenizer(data_dir / "tokenizers" / f"{name}.json")


# --- many clients over streamable HTTP -------------------------------------------------------------

CLIENTS = 12
CALLS_PER_CLIENT = 50


@pytest.mark.anyio
async def test_concurrent_http_clients_during_training_all_get_correct_answers(tmp_path):
    root = long_training_root(tmp_path)
    process, url, _ = start(tmp_path, "--root", str(root), *LONG_TRAINING_FLAGS, command=HOLDING_SERVER)
    try:
        with anyio.fail_after(300):
            async with Client(url) as setup:
                trained = await setup.call_tool("train_bpe", BASE)
                assert not trained.is_error, trained.content[0].text
            reference = stored_tokenizer(tmp_path / "data", "base")

            answers: dict[tuple[int, int], list[int]] = {}
            events: list[str] = []  # "progress" and "answer", in the order they arrived
            merging = anyio.Event()
            training: dict = {}

            async def on_progress(progress, total, message):
                events.append("progress")
                if message and message.startswith("merging"):
                    merging.set()

            async def train_long(scope: anyio.CancelScope) -> None:
                with scope:
                    async with Client(url) as client:
                        training["result"] = await client.call_tool("train_bpe", LONG_TRAINING,
                                                                    progress_callback=on_progress)

            async def encoder(number: int) -> None:
                # Half the clients speak the 2025-11-25 handshake era, half the 2026-07-28 one.
                async with Client(url, mode="legacy" if number % 2 else "auto") as client:
                    for call_number in range(CALLS_PER_CLIENT):
                        text = text_for(number, call_number)
                        result = await client.call_tool("encode", {"tokenizer": "base", "text": text})
                        assert not result.is_error, result.content[0].text
                        (encoding,) = result.structured_content["encodings"]
                        answers[number, call_number] = encoding["ids"]
                        events.append("answer")

            async with anyio.create_task_group() as group:
                training_scope = anyio.CancelScope()
                group.start_soon(train_long, training_scope)
                await merging.wait()  # the training is under way in the server
                async with anyio.create_task_group() as encoders:
                    for number in range(CLIENTS):
                        encoders.start_soon(encoder, number)
                # Every encode was answered while the training ran: it has not returned.
                assert "result" not in training, training["result"].content[0].text
                training_scope.cancel()
    finally:
        stop(process)

    # None lost, every one right for its own text.
    assert len(answers) == CLIENTS * CALLS_PER_CLIENT
    wrong = [key for key, ids in answers.items() if ids != reference.encode(text_for(*key))]
    assert wrong == []
    # The training kept progressing between the answers: neither starved the other.
    first, last = events.index("answer"), len(events) - 1 - events[::-1].index("answer")
    print(f"training progress reports among the answers: {events[first:last].count('progress')}")
    assert "progress" in events[first:last]


# --- a long pipelined burst over one stdio session ---------------------------------------------------

BURST = 2000


def test_stdio_burst_of_pipelined_encodes_during_training(tmp_path):
    root = long_training_root(tmp_path)
    data = tmp_path / "data"
    server = StdioServer(data, root, tmp_path / "stderr.log", command=HOLDING_SERVER,
                         env={"MCP_BPE_MAX_VOCAB_SIZE": LONG_TRAINING_FLAGS[1]})
    try:
        handshake(server)
        assert call(server, "base", "train_bpe", BASE)["isError"] is False
        reference = stored_tokenizer(data, "base")
        server.send_json({"jsonrpc": "2.0", "id": "long", "method": "tools/call",
                          "params": {"name": "train_bpe", "arguments": LONG_TRAINING, "_meta": {"progressToken": "long"}}})
        wait_for(lambda: merging_started(server, "long"), 120, "the training to reach the merge phase")
        # Integer and string ids alternate: the answers must come back under the very id sent.
        request_ids = [number if number % 2 else f"enc-{number}" for number in range(BURST)]
        for number, request_id in enumerate(request_ids):
            server.send_json({"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": {
                "name": "encode", "arguments": {"tokenizer": "base", "text": text_for(number % 16, number)}}})
        for number, request_id in enumerate(request_ids):
            result = server.reply(request_id, timeout=60)["result"]
            assert result["isError"] is False, result
            (encoding,) = result["structuredContent"]["encodings"]
            assert encoding["ids"] == reference.encode(text_for(number % 16, number)), request_id
        # Every encode was answered while the training ran: it has not answered yet.
        messages = [json.loads(line) for line in list(server.lines)]
        assert not any(m.get("id") == "long" for m in messages), "the training ended before the burst was served"
        server.send_json({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": "long"}})
        # Exactly one answer per encode, none lost or duplicated.
        sent = {json.dumps(i) for i in request_ids}
        answered = sorted(json.dumps(m.get("id")) for m in messages if json.dumps(m.get("id")) in sent)
        assert answered == sorted(sent)
        # The training kept progressing between the answers: neither starved the other.
        kinds = ["progress" if m.get("method") == "notifications/progress" else "answer" for m in messages
                 if m.get("method") == "notifications/progress" or json.dumps(m.get("id")) in sent]
        first, last = kinds.index("answer"), len(kinds) - 1 - kinds[::-1].index("answer")
        print(f"training progress reports among the answers: {kinds[first:last].count('progress')}")
        assert "progress" in kinds[first:last]
    finally:
        assert server.close() == 0
