"""Helpers for the tests that drive MCP clients we did not write (Node programs
pinned in ``tests/clients/package.json``): where they are, and our server
started over streamable HTTP on a free port of 127.0.0.1.

The clients are installed by ``tests/clients/install.sh``.  Without them the
tests are skipped, except under CI (``CI`` set), where a missing client fails.
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from pathlib import Path

import pytest

from http_servers import start_http_server, stop

CLIENTS = Path(__file__).resolve().parent / "clients"
NODE_MODULES = CLIENTS / "node_modules"
NODE = NODE_MODULES / ".bin" / "node"


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


@contextmanager
def http_server(data_dir: Path, log: Path):
    """``mcp-server-bpe --transport streamable-http`` on a free port of 127.0.0.1; yields its /mcp URL."""
    process, url, _ = start_http_server(data_dir, log)
    try:
        yield url
    finally:
        stop(process)
