"""The real server over streamable HTTP, for tests: ``mcp-server-bpe`` on a
free port of 127.0.0.1, waited for until it listens, and stopped.

>>> port = free_port()
>>> 1024 <= port < 65536
True
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

SERVER_SCRIPT = Path(sys.executable).with_name("mcp-server-bpe")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_http_server(
    data_dir: Path, log: Path, *flags: str, env: dict | None = None, timeout: float = 30,
    stdout_log: Path | None = None,
) -> tuple[subprocess.Popen, str, int]:
    """Start the server; returns ``(process, /mcp URL, port)`` once it accepts connections.

    stderr goes to ``log``, stdout to ``stdout_log`` (default: nowhere).
    ``env`` entries set to ``None`` are removed from the environment.
    """
    port = free_port()
    with open(log, "wb") as stderr, open(stdout_log or os.devnull, "wb") as stdout:
        process = subprocess.Popen(
            [str(SERVER_SCRIPT), "--transport", "streamable-http", "--host", "127.0.0.1", "--port", str(port),
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
