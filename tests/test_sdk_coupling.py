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


def test_the_http_transport_finds_the_sdk_and_uvicorn_hooks_it_uses(tmp_path):
    from uvicorn.protocols.http.h11_impl import H11Protocol

    server = build_server(ServerConfig(data_dir=tmp_path))
    parameters = inspect.signature(server.streamable_http_app).parameters
    for name in ("session_idle_timeout", "max_sessions", "host"):
        assert name in parameters, (
            f"MCPServer.streamable_http_app() no longer takes {name}=: server/http_transport.py passes it; "
            "update build_http_app")
    app = server.streamable_http_app()
    assert isinstance(getattr(app, "user_middleware", None), list), (
        "the SDK's Starlette app has no user_middleware list: server/http_transport.py appends its "
        "BoundedMcpEndpoint there; update build_http_app")
    for method in ("connection_made", "connection_lost", "on_response_complete"):
        assert callable(getattr(H11Protocol, method, None)), (
            f"uvicorn's H11Protocol has no {method}(): server/http_transport.HeaderTimeoutProtocol overrides it "
            "to close connections that never finish their headers; update it")
