"""The places where the server leans on SDK internals, checked so that an SDK upgrade fails here, loudly and
with the reason, instead of silently dropping a feature."""

from __future__ import annotations

import inspect

from mcp.server.stdio import stdio_server

from server.app import build_server
from server.config import ServerConfig


def test_the_stdio_transport_can_reach_the_sdks_low_level_server(tmp_path):
    server = build_server(ServerConfig(data_dir=tmp_path))
    lowlevel = getattr(server, "_lowlevel_server", None)
    assert lowlevel is not None, (
        "MCPServer no longer has the private attribute _lowlevel_server: server/stdio_transport.py needs it to "
        "answer malformed stdio lines with JSON-RPC errors (it would fall back to serving without them). Find the "
        "new way to reach the low-level server and update run_stdio.")
    for method in ("run", "create_initialization_options"):
        assert callable(getattr(lowlevel, method, None)), (
            f"the SDK's low-level server has no {method}(): server/stdio_transport.py calls it; update run_stdio")
    assert "stdin" in inspect.signature(stdio_server).parameters, (
        "mcp.server.stdio.stdio_server no longer takes stdin=: server/stdio_transport.py passes the screened lines "
        "through it; update run_stdio")
