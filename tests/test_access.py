"""Streamable HTTP access: loopback by default, DNS-rebinding protection on,
and an optional bearer token (``--auth-token`` / ``MCP_SERVER_BPE_AUTH_TOKEN``)
without which requests get 401.  Real HTTP on 127.0.0.1 and a free port."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest

from http_servers import SERVER_SCRIPT as SCRIPT, start, stop
from server.auth import ENV_AUTH_TOKEN

TOKEN = "s3cret-token-for-tests-0123456789"
INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "access-test", "version": "0"}}}
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def listening_addresses(port: int) -> set[str]:
    """Local addresses listening on ``port`` (Linux /proc/net/tcp, hex little-endian IPv4)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        for line in open(table).read().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if int(hex_port, 16) == port and state == "0A":  # LISTEN
                found.add(address)
    return found


@dataclass
class Response:
    status_code: int
    headers: dict[str, str]
    text: str

    def json(self):
        return json.loads(self.text)


def request(method: str, url: str, message: dict | None = None, **headers) -> Response:
    """One HTTP request with exactly these headers (http.client lets a test set Host)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        payload = None if message is None else json.dumps(message).encode()
        connection.request(method, parts.path, body=payload, headers={**HEADERS, **headers})
        answer = connection.getresponse()
        return Response(answer.status, {k.lower(): v for k, v in answer.getheaders()},
                        answer.read().decode("utf-8", "replace"))
    finally:
        connection.close()


def post(url: str, message: dict, **headers) -> Response:
    return request("POST", url, message, **headers)


def body(response: Response) -> dict:
    """The JSON-RPC message of a response, whether sent as JSON or as one SSE event."""
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        data = [line[5:].strip() for line in response.text.splitlines() if line.startswith("data:")]
        return json.loads(data[-1])
    return response.json()


@pytest.fixture
def secured(tmp_path):
    process, url, port = start(tmp_path, "--auth-token", TOKEN)
    yield url, port
    stop(process)


def test_binds_loopback_only_by_default(tmp_path):
    process, url, port = start(tmp_path, env={ENV_AUTH_TOKEN: None})
    try:
        assert listening_addresses(port) == {"0100007F"}  # 127.0.0.1 and nothing else
        response = post(url, INIT)
        assert response.status_code == 200 and body(response)["result"]["serverInfo"]["name"] == "bpe"
    finally:
        stop(process)


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token-wrong-token", f"Basic {TOKEN}", "Bearer ",
                                           f"Bearer {TOKEN}x", f"bearer{TOKEN}"])
def test_requests_without_the_token_get_401(secured, authorization):
    url, _ = secured
    headers = {} if authorization is None else {"Authorization": authorization}
    response = post(url, INIT, **headers)
    assert response.status_code == 401, response.text
    assert "error" in response.json()
    assert request("GET", url, **headers).status_code == 401


def test_the_token_opens_a_working_session(secured):
    url, _ = secured
    auth = {"Authorization": f"Bearer {TOKEN}"}
    init = post(url, INIT, **auth)
    assert init.status_code == 200, init.text
    assert body(init)["result"]["serverInfo"]["name"] == "bpe"
    session = {"Mcp-Session-Id": init.headers["mcp-session-id"]} if "mcp-session-id" in init.headers else {}
    version = {"MCP-Protocol-Version": "2025-11-25"}
    post(url, {"jsonrpc": "2.0", "method": "notifications/initialized"}, **auth, **session, **version)
    listed = post(url, {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                        "params": {"name": "list_tokenizers", "arguments": {}}}, **auth, **session, **version)
    assert listed.status_code == 200, listed.text
    assert body(listed)["result"]["structuredContent"]["tokenizers"] == []
    # The token does not open the session to a request without it.
    stolen = post(url, {"jsonrpc": "2.0", "id": 3, "method": "tools/list"}, **session, **version)
    assert stolen.status_code == 401


def test_the_token_can_come_from_the_environment(tmp_path):
    process, url, _ = start(tmp_path, env={ENV_AUTH_TOKEN: TOKEN})
    try:
        assert post(url, INIT).status_code == 401
        assert post(url, INIT, Authorization=f"Bearer {TOKEN}").status_code == 200
    finally:
        stop(process)


def test_dns_rebinding_protection_refuses_foreign_hosts_and_origins(secured):
    url, port = secured
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert post(url, INIT, **auth, Host=f"evil.example:{port}").status_code in (403, 421)
    assert post(url, INIT, **auth, Origin="http://evil.example").status_code == 403
    assert post(url, INIT, **auth, Origin=f"http://localhost:{port}").status_code == 200


def test_a_short_token_is_refused_at_start(tmp_path):
    result = subprocess.run([str(SCRIPT), "--transport", "streamable-http", "--auth-token", "short"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "at least 16 characters" in result.stderr
