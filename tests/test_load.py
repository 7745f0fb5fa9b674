"""Load: many clients at once over streamable HTTP, and a long pipelined burst
over one stdio session, each while a training call runs in the same server.

Every ``encode`` answer is checked against ``bpe_core``'s own encoding of the
same text with the same stored tokenizer (loaded from the server's data
directory), and every text is different, so an answer delivered to the wrong
request, a lost answer or a duplicated one fails the test.  Both run the real
console script; every wait is bounded.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import anyio
import pytest
from mcp import Client

import bpe_core
from test_access import start, stop
from test_faults import call, handshake, random_text
from test_hostile_stdio import StdioServer

SAMPLES = Path(__file__).resolve().parents[1] / "server" / "samples"
SAMPLE_LINES = [line for name in ("en.txt", "zh.txt")
                for line in (SAMPLES / name).read_text(encoding="utf-8").splitlines() if line.strip()]
BASE = {"name": "base", "text": "\n".join(SAMPLE_LINES), "vocab_size": 400}
# A training that lasts a couple of seconds on this machine (about 1.8 s alone, longer under load).
LONG_TRAINING = {"name": "long", "text": random_text(60_000), "vocab_size": 6000}


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
    process, url, _ = start(tmp_path)
    try:
        with anyio.fail_after(120):
            async with Client(url) as setup:
                trained = await setup.call_tool("train_bpe", BASE)
                assert not trained.is_error, trained.content[0].text
            reference = stored_tokenizer(tmp_path / "data", "base")

            answers: dict[tuple[int, int], list[int]] = {}
            finished_at: list[float] = []
            training: dict = {}

            async def train_long() -> None:
                async with Client(url) as client:
                    training["started"] = time.monotonic()
                    training["result"] = await client.call_tool("train_bpe", LONG_TRAINING)
                    training["ended"] = time.monotonic()

            async def encoder(number: int) -> None:
                # Half the clients speak the 2025-11-25 handshake era, half the 2026-07-28 one.
                async with Client(url, mode="legacy" if number % 2 else "auto") as client:
                    for call_number in range(CALLS_PER_CLIENT):
                        text = text_for(number, call_number)
                        result = await client.call_tool("encode", {"tokenizer": "base", "text": text})
                        assert not result.is_error, result.content[0].text
                        (encoding,) = result.structured_content["encodings"]
                        answers[number, call_number] = encoding["ids"]
                        finished_at.append(time.monotonic())

            async with anyio.create_task_group() as group:
                group.start_soon(train_long)
                while "started" not in training:
                    await anyio.sleep(0.01)
                for number in range(CLIENTS):
                    group.start_soon(encoder, number)
    finally:
        stop(process)

    assert not training["result"].is_error, training["result"].content[0].text
    assert training["result"].structured_content["vocab_size"] == LONG_TRAINING["vocab_size"]
    assert stored_tokenizer(tmp_path / "data", "long").vocab_size == LONG_TRAINING["vocab_size"]
    # None lost, every one right for its own text.
    assert len(answers) == CLIENTS * CALLS_PER_CLIENT
    wrong = [key for key, ids in answers.items() if ids != reference.encode(text_for(*key))]
    assert wrong == []
    # The training really overlapped the load: answers kept coming while it ran.
    during = [t for t in finished_at if training["started"] < t < training["ended"]]
    print(f"encodes answered during the training: {len(during)} of {len(answers)}")
    assert len(during) >= CLIENTS, (len(during), training["ended"] - training["started"])


# --- a long pipelined burst over one stdio session ---------------------------------------------------

BURST = 2000


def test_stdio_burst_of_pipelined_encodes_during_training(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    data = tmp_path / "data"
    server = StdioServer(data, root, tmp_path / "stderr.log")
    try:
        handshake(server)
        assert call(server, "base", "train_bpe", BASE)["isError"] is False
        reference = stored_tokenizer(data, "base")
        server.send_json({"jsonrpc": "2.0", "id": "long", "method": "tools/call",
                          "params": {"name": "train_bpe", "arguments": LONG_TRAINING}})
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
        trained = server.reply("long", timeout=120)["result"]
        assert trained["isError"] is False, trained
        assert trained["structuredContent"]["vocab_size"] == LONG_TRAINING["vocab_size"]
        # Exactly one answer per request, and some encodes were answered before the training ended.
        sent = {json.dumps(i) for i in [*request_ids, "long"]}
        answered = [json.dumps(json.loads(line).get("id")) for line in server.lines]
        answered = [i for i in answered if i in sent]
        assert sorted(answered) == sorted(sent)
        print(f"encodes answered before the training: {answered.index(json.dumps('long'))} of {BURST}")
        assert answered.index(json.dumps("long")) >= 50, "the training held the encodes back"
    finally:
        assert server.close() == 0
