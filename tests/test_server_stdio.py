"""End to end: the installed console script as a subprocess, as a client would start it."""

from __future__ import annotations

import json
import os
import queue
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters

from stdio_harness import console_script

pytestmark = pytest.mark.anyio


@pytest.fixture
def corpus(tmp_path) -> Path:
    root = tmp_path / "corpus"
    root.mkdir()
    samples = Path(__file__).resolve().parents[1] / "server" / "samples"
    for sample in samples.glob("*.txt"):
        shutil.copy(sample, root / sample.name)
    return root


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_train_encode_inspect_export_round_trip_over_stdio(tmp_path, corpus, mode):
    parameters = StdioServerParameters(
        command=console_script(), args=["--data-dir", str(tmp_path / "data"), "--root", str(corpus)]
    )
    updates = []

    async def on_progress(progress, total, message):
        updates.append(progress)

    with open(tmp_path / "stderr.log", "w") as errors:
        from mcp.client.stdio import stdio_client

        async with Client(stdio_client(parameters, errlog=errors), mode=mode) as client:
            assert {t.name for t in (await client.list_tools()).tools} >= {"train_bpe", "export_tokenizer"}
            trained = await client.call_tool(
                "train_bpe", {"name": "e2e", "paths": ["*.txt"], "vocab_size": 500, "special_tokens": ["<pad>"]},
                progress_callback=on_progress,
            )
            assert not trained.is_error, trained.content[0].text
            text = "Tokenizers cut text into pieces. 分词器把文本切成词元。"
            encoded = await client.call_tool("encode", {"tokenizer": "e2e", "text": text})
            ids = encoded.structured_content["encodings"][0]["ids"]
            decoded = await client.call_tool("decode", {"tokenizer": "e2e", "ids": ids})
            summary = await client.call_tool("inspect_vocab", {"tokenizer": "e2e"})
            exported = await client.call_tool("export_tokenizer", {"tokenizer": "e2e", "destination": str(corpus)})
            assert not exported.is_error, exported.content[0].text
            native = await client.read_resource("bpe://tokenizers/e2e")

    assert trained.structured_content["vocab_size"] == 500 and trained.structured_content["corpus"]["files"] == 2
    assert updates and updates[-1] == 100
    assert decoded.structured_content["text"] == text
    assert summary.structured_content["summary"]["vocab_size"] == 500
    assert json.loads(native.contents[0].text)["format"] == "bpe_core.tokenizer"
    (written,) = exported.structured_content["files"]
    assert written["path"] == str(corpus / "tokenizer.json")
    tokenizers = pytest.importorskip("tokenizers")
    assert tokenizers.Tokenizer.from_file(written["path"]).encode(text).ids == ids


def test_stdout_carries_only_json_rpc(tmp_path, corpus):
    """Drive the server with raw JSON-RPC lines; every line it prints must be JSON-RPC,
    even while it logs at INFO level and handles bad input."""
    process = subprocess.Popen(
        [console_script(), "--data-dir", str(tmp_path / "data"), "--root", str(corpus), "--log-level", "INFO"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    replies = []

    def send(message) -> None:
        process.stdin.write((message if isinstance(message, str) else json.dumps(message)) + "\n")
        process.stdin.flush()

    def reply_to(request_id):
        while True:
            line = lines.get(timeout=30)
            replies.append(json.loads(line))  # every stdout line is JSON...
            if replies[-1].get("id") == request_id:
                return replies[-1]

    def call(request_id, name, arguments, meta=None):
        params = {"name": name, "arguments": arguments, **({"_meta": meta} if meta else {})}
        send({"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params})
        return reply_to(request_id)

    try:
        send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}})
        assert reply_to(1)["result"]["serverInfo"]["name"] == "bpe"
        send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        trained = call(2, "train_bpe", {"name": "raw", "paths": ["en.txt"], "vocab_size": 300}, {"progressToken": "t"})
        missing = call(3, "encode", {"tokenizer": "missing", "text": "x"})
        malformed = call(4, "train_bpe", {"name": 5})
        send({"jsonrpc": "2.0", "id": 5, "method": "no/such/method"})
        unknown_method = reply_to(5)
        send("this is not json")
        listing = call(6, "list_tokenizers", {})
    finally:
        process.stdin.close()
        process.wait(timeout=30)
        stderr = process.stderr.read()
    while not lines.empty():
        replies.append(json.loads(lines.get()))
    assert all(reply.get("jsonrpc") == "2.0" for reply in replies)  # ...and JSON-RPC
    assert trained["result"]["isError"] is False
    assert missing["result"]["isError"] is True and "no tokenizer named" in missing["result"]["content"][0]["text"]
    assert malformed["result"]["isError"] is True
    assert "error" in unknown_method
    assert [t["name"] for t in listing["result"]["structuredContent"]["tokenizers"]] == ["raw"]
    assert any(reply.get("method") == "notifications/progress" for reply in replies)
    assert "training 'raw'" in stderr  # the logs went to stderr


def test_help_and_module_entry_point():
    for command in ([console_script(), "--help"], [sys.executable, "-m", "server", "--help"]):
        result = subprocess.run(command, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0
        assert "--data-dir" in result.stdout and "--root" in result.stdout and "demo" in result.stdout


def test_demo_runs_end_to_end_and_cleans_up(tmp_path):
    environment = {**os.environ, "TMPDIR": str(tmp_path), "PYTHONIOENCODING": "utf-8"}
    result = subprocess.run([console_script(), "demo"], capture_output=True, text=True, encoding="utf-8",
                            timeout=120, env=environment)
    assert result.returncode == 0, result.stderr
    output = result.stdout
    for heading in ("train_bpe on the bundled English + Chinese sample", "encode a sentence in English",
                    "encode a sentence in Chinese", "encode a batch with left padding", "explain 'tokenizer'"):
        assert heading in output
    assert output.count("decode(ids) == text: True") == 2
    assert "attention_mask [0" in output and "merge #" in output
    # The padded batch shows which text each row is, and \xNN is explained before the first one is shown.
    batch = output[output.index("encode a batch with left padding"):output.index("explain 'tokenizer'")]
    assert "text 'a model'" in batch and "text 'a language model reads tokens'" in batch
    assert output.index("\\xNN") < output.index("\\xe")
    assert list(tmp_path.iterdir()) == []  # the temporary data directory was removed


async def test_streamable_http_transport(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [console_script(), "--transport", "streamable-http", "--port", str(port), "--data-dir", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "the HTTP server did not start"
                await anyio.sleep(0.1)
        async with Client(f"http://127.0.0.1:{port}/mcp") as client:
            result = await client.call_tool("explain", {"text": "lowest", "train_on": "low lower newest widest"})
        assert not result.is_error and result.structured_content["words"][0]["word"] == "lowest"
    finally:
        server.terminate()
        server.wait(timeout=10)
