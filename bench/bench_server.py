"""Server load benchmark (not a CI test): encode latency and throughput over
stdio and streamable HTTP, start-up time to the first tools/list, and a burst
of encodes while a training call runs (every answer checked).

    python bench/bench_server.py [--calls 2000]

Prints a Markdown table.  Uses raw JSON-RPC (stdio lines, HTTP POSTs on one
keep-alive connection) so the figures are the server's, not a client SDK's.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

SCRIPT = Path(sys.executable).with_name("mcp-server-bpe")
PROTOCOL = "2025-11-25"
TEXT = "low lower newest widest " * 40
SHORT = "The lowest newest widget, widely lowered."


def _init(request_id=0):
    return {"jsonrpc": "2.0", "id": request_id, "method": "initialize", "params": {
        "protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}}}


def _call(request_id, tool, arguments, token=None):
    params = {"name": tool, "arguments": arguments}
    if token:
        params["_meta"] = {"progressToken": token}
    return {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}


class Stdio:
    def __init__(self, data_dir: Path):
        self.process = subprocess.Popen([str(SCRIPT), "--data-dir", str(data_dir)], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.waiting: dict = {}
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            message = json.loads(line)
            if "id" in message and "method" not in message:
                with self.lock:
                    slot = self.waiting.pop(message["id"], None)
                if slot is not None:
                    slot[1] = message
                    slot[0].set()

    def send(self, message: dict, wait: bool = True):
        slot = [threading.Event(), None]
        if "id" in message:
            with self.lock:
                self.waiting[message["id"]] = slot
        self.process.stdin.write(json.dumps(message).encode() + b"\n")
        self.process.stdin.flush()
        if wait and "id" in message:
            assert slot[0].wait(120), message
            return slot[1]
        return slot

    def handshake(self):
        self.send(_init())
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def close(self):
        self.process.stdin.close()
        self.process.wait(timeout=30)


class Http:
    def __init__(self, data_dir: Path):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.process = subprocess.Popen([str(SCRIPT), "--transport", "streamable-http", "--port", str(self.port),
                                         "--data-dir", str(data_dir)], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        self.headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}

    def send(self, message: dict):
        self.connection.request("POST", "/mcp", body=json.dumps(message), headers=self.headers)
        response = self.connection.getresponse()
        data = response.read().decode()
        if "mcp-session-id" in {k.lower() for k, _ in response.getheaders()}:
            self.headers["Mcp-Session-Id"] = response.getheader("mcp-session-id")
        if not data.strip():
            return None
        if response.getheader("content-type", "").startswith("text/event-stream"):
            data = [line[5:] for line in data.splitlines() if line.startswith("data:")][-1]
        return json.loads(data)

    def handshake(self):
        self.send(_init())
        self.headers["MCP-Protocol-Version"] = PROTOCOL
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def close(self):
        self.connection.close()
        self.process.terminate()
        self.process.wait(timeout=30)


def _expected_ids(server) -> list[int]:
    server.send(_call("train", "train_bpe", {"name": "bench", "text": TEXT, "vocab_size": 300, "overwrite": True}))
    return server.send(_call("ref", "encode", {"tokenizer": "bench", "text": SHORT}))["result"][
        "structuredContent"]["encodings"][0]["ids"]


def _encode_latencies(server, calls: int, expected: list[int]) -> tuple[list[float], float]:
    latencies = []
    started = time.perf_counter()
    for index in range(calls):
        before = time.perf_counter()
        reply = server.send(_call(f"e{index}", "encode", {"tokenizer": "bench", "text": SHORT}))
        latencies.append(time.perf_counter() - before)
        assert reply["result"]["structuredContent"]["encodings"][0]["ids"] == expected, reply
    return latencies, time.perf_counter() - started


def _row(name: str, latencies: list[float], elapsed: float) -> str:
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    return f"| {name} | {len(latencies)} | {len(latencies) / elapsed:,.0f} | {p50:.2f} | {p99:.2f} |"


def startup(kind, data_dir: Path, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        server = kind(data_dir)
        server.handshake()
        tools = server.send({"jsonrpc": "2.0", "id": "tl", "method": "tools/list"})
        assert tools["result"]["tools"]
        times.append(time.perf_counter() - started)
        server.close()
    return statistics.median(times)


def burst_during_training(data_dir: Path, calls: int) -> tuple[str, int, float]:
    """Pipelined encodes on stdio while a long train_bpe runs in the same server."""
    server = Stdio(data_dir)
    server.handshake()
    expected = _expected_ids(server)
    rng = random.Random(1)
    corpus = " ".join("".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(4, 12)))
                      for _ in range(40_000))
    training = server.send(_call("long", "train_bpe", {"name": "long", "text": corpus, "vocab_size": 3000,
                                                       "overwrite": True}), wait=False)
    started = time.perf_counter()
    slots = [server.send(_call(f"b{index}", "encode", {"tokenizer": "bench", "text": SHORT}), wait=False)
             for index in range(calls)]
    wrong = 0
    for slot in slots:
        assert slot[0].wait(120)
        wrong += slot[1]["result"]["structuredContent"]["encodings"][0]["ids"] != expected
    burst = time.perf_counter() - started
    training_done = training[0].is_set()
    assert training[0].wait(600) and not training[1]["result"]["isError"], training[1]
    server.close()
    note = "training still running when the burst ended" if not training_done else "training ended first"
    return note, wrong, calls / burst


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        data_dir = Path(data)
        print("| transport | encode calls | calls/s | p50 ms | p99 ms |")
        print("|---|---:|---:|---:|---:|")
        for name, kind in (("stdio", Stdio), ("streamable HTTP", Http)):
            server = kind(data_dir)
            server.handshake()
            expected = _expected_ids(server)
            _encode_latencies(server, 50, expected)  # warm up
            print(_row(name, *_encode_latencies(server, args.calls, expected)))
            server.close()
        print()
        print("| start-up to first tools/list (median of 5) | seconds |")
        print("|---|---:|")
        for name, kind in (("stdio", Stdio), ("streamable HTTP", Http)):
            print(f"| {name} | {startup(kind, data_dir):.2f} |")
        print()
        note, wrong, rate = burst_during_training(data_dir, args.calls)
        print("| burst while training (stdio, pipelined) | encodes | wrong or lost | calls/s | note |")
        print("|---|---:|---:|---:|---|")
        print(f"| encode x {args.calls} during train_bpe (vocab 3000, 40k words) | {args.calls} | {wrong} | "
              f"{rate:,.0f} | {note} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
