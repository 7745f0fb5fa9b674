"""Helpers for the tests that drive MCP clients we did not write (Node programs
pinned in ``tests/clients/package.json``): where they are, and our server
started over streamable HTTP on a free port of 127.0.0.1.

The clients are installed by ``tests/clients/install.sh``.  Without them the
tests are skipped, except under CI (``CI`` set), where a missing client fails.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

CLIENTS = Path(__file__).resolve().parent / "clients"
NODE_MODULES = CLIENTS / "node_modules"
NODE = NODE_MODULES / ".bin" / "node"
SERVER_SCRIPT = Path(sys.executable).with_name("mcp-server-bpe")


def node_program(package: str, bin_name: str) -> list[str]:
    """The argv prefix that runs ``bin_name`` of ``package`` with the pinned Node, or skip (fail under CI)."""
    manifest = NODE_MODULES / package / "package.json"
    if not (NODE.exists() and manifest.exists()):
        message = (f"{package} is not installed in {NODE_MODULES}: run tests/clients/install.sh "
                   "(npm ci of the pinned MCP clients and Node 22)")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    script = json.loads(manifest.read_text())["bin"][bin_name]
    return [str(NODE), str(manifest.parent / script)]


def client_env(home: Path) -> dict[str, str]:
    """The environment for a Node client: the pinned Node first on PATH, and a private HOME
    (the Inspector keeps a catalog and secrets under ~/.mcp-inspector)."""
    home.mkdir(parents=True, exist_ok=True)
    return {**os.environ, "HOME": str(home), "PATH": f"{NODE.parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "NO_COLOR": "1"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def http_server(data_dir: Path, log: Path):
    """``mcp-server-bpe --transport streamable-http`` on a free port of 127.0.0.1; yields its /mcp URL."""
    port = free_port()
    with open(log, "wb") as stderr:
        process = subprocess.Popen(
            [str(SERVER_SCRIPT), "--transport", "streamable-http", "--host", "127.0.0.1", "--port", str(port),
             "--data-dir", str(data_dir)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, f"the server exited: {log.read_text(errors='replace')}"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the HTTP server did not start within 30 s"
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
