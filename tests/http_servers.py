"""The real server over streamable HTTP, for tests: ``mcp-server-bpe`` on a
free port of 127.0.0.1, waited for until it listens, and stopped.

>>> port = free_port()
>>> 1024 <= port < 65536
True
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

SERVER_SCRIPT = Path(sys.executable).with_name("mcp-server-bpe")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_http_server(
    data_dir: Path, log: Path, *flags: str, env: dict | None = None, timeout: float = 30,
    stdout_log: Path | None = None, command: list[str] | None = None,
) -> tuple[subprocess.Popen, str, int]:
    """Start the server; returns ``(process, /mcp URL, port)`` once it accepts connections.

    stderr goes to ``log``, stdout to ``stdout_log`` (default: nowhere).
    ``env`` entries set to ``None`` are removed from the environment.
    ``command`` starts the server (default: the console script).
    """
    port = free_port()
    with open(log, "wb") as stderr, open(stdout_log or os.devnull, "wb") as stdout:
        process = subprocess.Popen(
            [*(command or [str(SERVER_SCRIPT)]), "--transport", "streamable-http", "--host", "127.0.0.1", "--port", str(port),
             "--data-dir", str(data_dir), *flags],
            stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
            env={k: v for k, v in {**os.environ, **(env or {})}.items() if v is not None},
        )
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise AssertionError(f"the server exited: {log.read_text(errors='replace')}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return process, f"http://127.0.0.1:{port}/mcp", port
        except OSError:
            if time.monotonic() > deadline:
                stop(process)
                raise AssertionError(f"the HTTP server did not start within {timeout:g} s") from None
            time.sleep(0.1)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


# --- raw HTTP, for tests that misbehave on purpose --------------------------------------------------------

HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
LEGACY_VERSION = "2025-11-25"


def post(port: int, message: dict, session: str | None = None, timeout: float = 30) -> tuple[int, dict, dict]:
    """POST one JSON-RPC message to /mcp; returns ``(status, headers, JSON-RPC reply or {})``.

    The reply may come as JSON or as an SSE stream (its last ``data:`` event).  The whole exchange must
    end within ``timeout`` seconds (an SSE stream that only sends keep-alive pings does not extend it).
    """
    deadline = time.monotonic() + timeout
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {**HEADERS, **({"Mcp-Session-Id": session, "Mcp-Protocol-Version": LEGACY_VERSION}
                                 if session else {})}
        connection.request("POST", "/mcp", body=json.dumps(message).encode(), headers=headers)
        answer = connection.getresponse()
        chunks = []
        while chunk := answer.read1(65536):
            chunks.append(chunk)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no complete reply to {message.get('method')} within {timeout:g} s")
            if connection.sock is not None:  # None once http.client knows the connection will close
                connection.sock.settimeout(remaining)
        text = b"".join(chunks).decode("utf-8", "replace")
        found = {k.lower(): v for k, v in answer.getheaders()}
    finally:
        connection.close()
    if found.get("content-type", "").startswith("text/event-stream"):
        data = [line[5:].strip() for line in text.splitlines() if line.startswith("data:") and line[5:].strip()]
        return answer.status, found, json.loads(data[-1]) if data else {}
    return answer.status, found, json.loads(text) if text.strip() else {}


def initialize(port: int, name: str = "raw-test") -> tuple[int, str | None, dict]:
    """Open a 2025-11-25 session: ``(status, session id or None, reply)``; sends ``initialized`` too."""
    status, headers, reply = post(port, {"jsonrpc": "2.0", "id": "init", "method": "initialize", "params": {
        "protocolVersion": LEGACY_VERSION, "capabilities": {}, "clientInfo": {"name": name, "version": "0"}}})
    session = headers.get("mcp-session-id")
    if session:
        post(port, {"jsonrpc": "2.0", "method": "notifications/initialized"}, session)
    return status, session, reply


def call_tool(port: int, session: str | None, name: str, arguments: dict, request_id="call", meta=None,
              timeout: float = 60) -> dict:
    params = {"name": name, "arguments": arguments, **({"_meta": meta} if meta else {})}
    return post(port, {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}, session,
                timeout)[2]


def unread_request(port: int, message: dict, session: str | None, receive_buffer: int = 4096,
                   timeout: float = 60) -> socket.socket:
    """Send a POST on a raw socket with a small receive buffer and never read the reply.

    Sending fails after ``timeout`` seconds if the server stops reading.
    """
    body = json.dumps(message).encode()
    headers = {**HEADERS, "Host": f"127.0.0.1:{port}", "Content-Length": str(len(body)),
               **({"Mcp-Session-Id": session, "Mcp-Protocol-Version": LEGACY_VERSION} if session else {})}
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    raw.settimeout(timeout)
    raw.connect(("127.0.0.1", port))
    head = "POST /mcp HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    raw.sendall(head.encode() + body)
    return raw


def start(tmp_path: Path, *flags: str, env: dict | None = None,
          command: list[str] | None = None) -> tuple[subprocess.Popen, str, int]:
    """:func:`start_http_server` with its data and a fresh stderr log under ``tmp_path``."""
    return start_http_server(tmp_path / "data", _fresh_log(tmp_path), *flags, env=env, command=command)


def _fresh_log(tmp_path: Path) -> Path:
    return tmp_path / f"stderr-{len(list(tmp_path.glob('stderr-*')))}.log"


@dataclass
class RunningServer:
    """A server :func:`serving` started: its process, ``/mcp`` URL, port and stderr log, and the sockets a
    test keeps open (``held``: closed before the server is stopped)."""

    process: subprocess.Popen
    url: str
    port: int
    log: Path
    held: list[socket.socket] = field(default_factory=list)


@contextmanager
def serving(tmp_path: Path, *flags: str, **options) -> Iterator[RunningServer]:
    """The server over HTTP for a ``with`` block, its data under ``tmp_path``; when the block ends, however
    it ends, the sockets it held are closed and the server is stopped.

    ``flags`` and ``options`` are :func:`start_http_server`'s.
    """
    log = _fresh_log(tmp_path)
    process, url, port = start_http_server(tmp_path / "data", log, *flags, **options)
    server = RunningServer(process, url, port, log)
    try:
        yield server
    finally:
        for sock in server.held:
            sock.close()
        stop(process)
