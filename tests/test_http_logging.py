"""Over streamable HTTP, ``--log-level`` governs uvicorn's lines too.

uvicorn logs one access line per request at INFO (to stdout, with its
default configuration) and its start-up lines at INFO (to stderr); the
server's default level is WARNING, so a default server prints neither.
"""

from __future__ import annotations

import http.client
import json

from http_servers import start_http_server, stop

ACCESS_LINE = '"POST /mcp HTTP/1.1"'
INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "log-test", "version": "1"}}}
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def _output_after_one_request(tmp_path, *flags: str) -> str:
    """What the server printed (stderr, then stdout) while it answered one initialize request."""
    log, stdout_log = tmp_path / "stderr.log", tmp_path / "stdout.log"
    process, _url, port = start_http_server(tmp_path / "data", log, *flags, stdout_log=stdout_log)
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("POST", "/mcp", body=json.dumps(INITIALIZE).encode(), headers=HEADERS)
        response = connection.getresponse()
        body = response.read()
        connection.close()
        assert response.status == 200, body
    finally:
        stop(process)
    return "".join(path.read_text(encoding="utf-8", errors="replace") for path in (log, stdout_log))


def test_the_default_level_keeps_access_and_start_up_lines_out(tmp_path):
    output = _output_after_one_request(tmp_path)
    assert ACCESS_LINE not in output, output
    assert " INFO " not in output and "INFO:" not in output, output


def test_info_level_shows_the_access_lines(tmp_path):
    # The same request is logged when asked for: the check above looks at the right thing.
    output = _output_after_one_request(tmp_path, "--log-level", "INFO")
    assert ACCESS_LINE in output, output
