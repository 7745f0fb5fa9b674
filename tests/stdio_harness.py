"""The real server over stdio, for tests: ``mcp-server-bpe`` as a subprocess,
raw JSON-RPC lines in, every stdout line collected, and the small helpers
the stdio tests share (handshake, tool calls, bounded waits).

Every wait is bounded; none is a measurement of speed.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

SCRIPT = Path(sys.executable).with_name("mcp-server-bpe")
REPLY_TIMEOUT = 30.0
LEGACY = "2025-11-25"


def console_script() -> str:
    """``mcp-server-bpe`` next to this Python (a venv's bin/ or Scripts/), else on PATH."""
    folder = Path(sys.executable).parent
    for candidate in (folder / "mcp-server-bpe", folder / "mcp-server-bpe.exe"):
        if candidate.exists():
            return str(candidate)
    found = shutil.which("mcp-server-bpe")
    assert found, "the console script mcp-server-bpe is not installed (pip install .)"
    return found


class StdioServer:
    """The server process, a thread collecting its stdout lines, and helpers."""

    def __init__(self, data_dir: Path, root: Path, stderr_path: Path, command: list[str] | None = None,
                 env: dict | None = None):
        """``command`` starts the server (default: the console script); ``env`` adds to the environment."""
        if command is None:
            command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "server"]
        self.stderr = open(stderr_path, "wb")
        self.process = subprocess.Popen(
            [*command, "--data-dir", str(data_dir), "--root", str(root)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr, env={**os.environ, **(env or {})},
        )
        self.lines: list[bytes] = []
        self.replies: dict = {}
        self.arrived = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.probes = 0

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)
            try:
                message = json.loads(line)
            except ValueError:
                continue  # the test asserts on every line later
            if isinstance(message, dict) and "id" in message and "method" not in message:
                self.replies[json.dumps(message["id"])] = message
            self.arrived.put(None)

    def send(self, line: bytes) -> None:
        assert b"\n" not in line
        self.process.stdin.write(line + b"\n")
        self.process.stdin.flush()

    def send_json(self, message: dict) -> None:
        self.send(json.dumps(message).encode())

    def reply(self, request_id, timeout: float = REPLY_TIMEOUT) -> dict:
        key = json.dumps(request_id)
        waited = 0.0
        while key not in self.replies:
            assert self.process.poll() is None, f"the server exited with {self.process.returncode}"
            try:
                self.arrived.get(timeout=0.5)
            except queue.Empty:
                waited += 0.5
                assert waited < timeout, f"no reply to id {request_id!r} within {timeout} s"
        return self.replies[key]

    def request(self, request_id, method: str, params: dict | None = None) -> dict:
        message = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        self.send_json(message)
        return self.reply(request_id)

    def assert_alive(self) -> None:
        """A ping gets its pong: the process is alive and still reading lines."""
        self.probes += 1
        answer = self.request(f"probe-{self.probes}", "ping")
        assert answer.get("result") == {}, answer

    def close(self) -> int:
        try:
            self.process.stdin.close()
            return self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
            return -9
        finally:
            self.stderr.close()


def assert_every_stdout_line_is_json_rpc(lines: list[bytes]) -> None:
    for line in lines:
        message = json.loads(line)  # raises on anything that is not JSON
        assert isinstance(message, dict) and message.get("jsonrpc") == "2.0", line[:200]
        assert "method" in message or "result" in message or "error" in message, line[:200]


def handshake(server: StdioServer) -> None:
    server.request("init", "initialize", {"protocolVersion": LEGACY, "capabilities": {},
                                          "clientInfo": {"name": "faults", "version": "0"}})
    server.send_json({"jsonrpc": "2.0", "method": "notifications/initialized"})


def call(server: StdioServer, request_id, tool: str, arguments: dict, progress_token=None) -> dict:
    params = {"name": tool, "arguments": arguments}
    if progress_token is not None:
        params["_meta"] = {"progressToken": progress_token}
    reply = server.request(request_id, "tools/call", params)
    assert "result" in reply, reply
    return reply["result"]


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def merging_started(server: StdioServer, token: str) -> bool:
    for line in list(server.lines):
        message = json.loads(line)
        params = message.get("params") or {}
        if (message.get("method") == "notifications/progress" and params.get("progressToken") == token
                and str(params.get("message", "")).startswith("merging")):
            return True
    return False
