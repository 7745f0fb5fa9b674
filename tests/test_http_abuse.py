"""Streamable HTTP under abuse: one slow or hostile client must not starve the others.

Each test runs the real console script on a free port of 127.0.0.1 and misbehaves on purpose with raw
sockets: calls whose replies are never read, a huge progress token, sessions never closed, connections
that never finish their headers, SIGTERM with requests in flight, malformed JSON-RPC.  Every wait is
bounded; the bounds are generous (they separate "answered" from "hangs", not fast from slow).
"""

from __future__ import annotations

import http.client
import random
import resource
import signal
import socket
import subprocess
import time

import anyio
import pytest
from http_servers import (
    SERVER_SCRIPT,
    call_tool,
    initialize,
    RunningServer,
    post,
    serving,
    unread_request,
)
from mcp import Client
from mcp_types import ListRootsResult, Root

from server import tooling as server_tooling

WAIT = 60.0  # seconds: the bound for "answered" in every test


def words(count: int, seed: int = 1) -> str:
    rng = random.Random(seed)
    return " ".join("".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(3, 12))) for _ in range(count))


LONG_TRAINING = {"text": words(100_000), "vocab_size": 30_000, "overwrite": True}  # runs for many seconds


def train_call(name: str, request_id, arguments: dict, token=None) -> dict:
    params = {"name": "train_bpe", "arguments": {"name": name, **arguments}}
    if token is not None:
        params["_meta"] = {"progressToken": token}
    return {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}


def tool_text(reply: dict) -> str:
    return reply["result"]["content"][0]["text"]


def read_until(sock: socket.socket, marker: bytes, timeout: float = WAIT) -> bytes:
    sock.settimeout(timeout)
    data = b""
    while marker not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def hog(server: RunningServer, session: str, calls: int) -> None:
    """A client that never reads: ``calls`` train_bpe calls with a 3.5 MB progress token, on sockets the
    server's ``held`` keeps open and nobody reads."""
    corpus = {"text": words(20_000, seed=2), "vocab_size": 2000, "overwrite": True}
    for number in range(calls):
        server.held.append(unread_request(server.port, train_call(f"hog-{number}", f"hog-{number}", corpus,
                                                                  token="t" * 3_500_000), session))


def closed_by_server(sock: socket.socket, timeout: float) -> bool:
    """True if the server closes ``sock`` within ``timeout`` seconds (reading whatever it sends)."""
    sock.settimeout(timeout)
    try:
        while sock.recv(65536):
            pass
        return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


# --- replies never read ----------------------------------------------------------------------------------


def test_a_client_that_never_reads_its_replies_does_not_starve_other_clients(tmp_path):
    """42 train_bpe calls with a 3.5 MB progress token on sockets that are never read held every worker
    thread, so every other client's calls hung; now they are refused (token too long, session busy) and
    another client is answered while the hog still holds all its connections."""
    with serving(tmp_path) as server:
        port = server.port
        _, session, _ = initialize(port, "hog")
        hog(server, session, calls=42)
        _, other, _ = initialize(port, "other")
        listed = call_tool(port, other, "list_tokenizers", {}, timeout=WAIT)
        assert listed["result"]["isError"] is False, listed
        explained = call_tool(port, other, "explain", {"text": "lowest", "train_on": "low lower lowest " * 5,
                                                      "num_merges": 5}, timeout=WAIT)
        assert explained["result"]["isError"] is False, explained
        # ... while the hog still holds every connection (none is closed until the end).
        first = read_until(server.held[0], b"progressToken").decode("utf-8", "replace")
        assert "progressToken is 3,500,000 characters long" in first


def test_an_oversize_progress_token_is_refused_and_a_normal_one_accepted(tmp_path):
    with serving(tmp_path) as server:
        port = server.port
        _, session, _ = initialize(port)
        refused = call_tool(port, session, "list_tokenizers", {}, meta={"progressToken": "p" * 10_000})
        assert refused["result"]["isError"] is True
        assert "at most 256 characters" in tool_text(refused)
        accepted = call_tool(port, session, "list_tokenizers", {}, meta={"progressToken": "p" * 256})
        assert accepted["result"]["isError"] is False
        numeric = call_tool(port, session, "list_tokenizers", {}, meta={"progressToken": 10**300})
        assert numeric["result"]["isError"] is True  # an integer counts its digits


@pytest.mark.anyio
async def test_a_progress_notification_the_client_does_not_take_frees_the_worker_thread(monkeypatch):
    """The worker thread used to wait for as long as the transport did; now one send waits at most
    PROGRESS_SEND_TIMEOUT, and after a stalled one the call sends no more progress."""
    monkeypatch.setattr(server_tooling, "PROGRESS_SEND_TIMEOUT", 0.5)
    attempts = []

    class ClientThatNeverReads:
        async def report_progress(self, *args):
            attempts.append(args)
            await anyio.sleep_forever()

    report = server_tooling._progress_reporter(ClientThatNeverReads())
    with anyio.fail_after(WAIT):
        await anyio.to_thread.run_sync(report, 1, 10, "first", abandon_on_cancel=True)
        await anyio.to_thread.run_sync(report, 2, 10, "second", abandon_on_cancel=True)
    assert attempts == [(1, 10, "first")]


def test_tool_calls_in_flight_per_session_are_capped_with_a_busy_error(tmp_path):
    with serving(tmp_path, "--max-calls-per-session", "2") as server:
        port = server.port
        held = server.held  # closed when the block ends
        _, session, _ = initialize(port, "busy")
        for number in range(2):
            held.append(unread_request(port, train_call(f"long-{number}", number, LONG_TRAINING), session))
        for sock in held:  # the SSE response has started: the call is in flight
            assert b"200 OK" in read_until(sock, b"\r\n\r\n")
        busy = call_tool(port, session, "list_tokenizers", {}, request_id="third")
        assert busy["id"] == "third" and busy["result"]["isError"] is True
        assert "busy" in tool_text(busy) and "--max-calls-per-session" in tool_text(busy)
        _, other, _ = initialize(port, "other")  # another session is not affected
        assert call_tool(port, other, "list_tokenizers", {})["result"]["isError"] is False
        for sock in held:
            sock.close()  # the client goes away: its calls end, and the session may call again
        deadline = time.monotonic() + WAIT
        while call_tool(port, session, "list_tokenizers", {})["result"]["isError"]:
            assert time.monotonic() < deadline, "the session stayed busy after its calls' connections closed"
            time.sleep(0.2)


# --- sessions --------------------------------------------------------------------------------------------


def test_sessions_are_capped_per_client_and_a_new_client_gets_in_after_the_idle_timeout(tmp_path):
    with serving(tmp_path, "--max-sessions-per-client", "3", "--session-idle-timeout", "2") as server:
        port = server.port
        sessions = [initialize(port, f"s{n}") for n in range(3)]
        assert [status for status, _, _ in sessions] == [200] * 3
        status, session, reply = initialize(port, "one too many")
        assert status == 503 and session is None
        assert "too many open sessions from 127.0.0.1" in reply["error"]["message"]
        assert "--max-sessions-per-client" in reply["error"]["message"]
        # A DELETE makes room at once.
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)
        connection.request("DELETE", "/mcp", headers={"Mcp-Session-Id": sessions[0][1],
                                                      "Mcp-Protocol-Version": "2025-11-25"})
        assert connection.getresponse().status == 200
        connection.close()
        assert initialize(port, "after delete")[0] == 200
        assert initialize(port, "full again")[0] == 503
        # Idle sessions expire: a new client gets in without anyone closing anything.
        deadline = time.monotonic() + WAIT
        while initialize(port, "after idle")[0] != 200:
            assert time.monotonic() < deadline, "no new session was admitted after the idle timeout"
            time.sleep(0.5)


def test_the_total_number_of_sessions_is_capped(tmp_path):
    with serving(tmp_path, "--max-sessions", "2") as server:
        port = server.port
        assert [initialize(port)[0] for _ in range(2)] == [200, 200]
        status, _, reply = initialize(port)
        assert status == 503 and "this server's limit is 2" in reply["error"]["message"]
        assert "--max-sessions" in reply["error"]["message"]


# --- connections and shutdown ----------------------------------------------------------------------------


def test_slowloris_connections_are_closed_and_the_log_stays_small(tmp_path):
    """Connections that never finish their headers were held until the client gave up, and with few file
    descriptors left asyncio logged a traceback for every failed accept (120 MB of stderr)."""
    with serving(tmp_path, "--http-header-timeout", "1") as server:
        port = server.port
        slow = server.held  # closed when the block ends
        resource.prlimit(server.process.pid, resource.RLIMIT_NOFILE, (64, 64))  # from now on, at most 64 open files
        for _ in range(150):  # more than the 64 descriptors the server may open
            sock = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
            sock.sendall(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            slow.append(sock)
        deadline = time.monotonic() + 2 * WAIT
        for sock in slow:
            assert closed_by_server(sock, max(deadline - time.monotonic(), 0.1)), "a slowloris connection was held"
        _, session, _ = initialize(port, "after the flood")
        assert call_tool(port, session, "list_tokenizers", {})["result"]["isError"] is False
    stderr = server.log.read_bytes()
    assert len(stderr) < 100_000, f"{len(stderr):,} bytes of stderr"
    # The server did run out of descriptors, and said so a few times, not once per failed accept.
    assert 1 <= stderr.count(b"socket.accept() out of system resource") <= 10


def test_sigterm_stops_the_server_with_requests_in_flight(tmp_path):
    """Worker threads blocked on sending progress to a client that never reads kept the server alive after
    SIGTERM for ever; now the hog's calls hold no thread, in-flight requests get a short grace period, and a
    training in flight stops unsaved."""
    with serving(tmp_path) as server:
        port = server.port
        held = server.held  # closed when the block ends
        _, session, _ = initialize(port, "sigterm")
        hog(server, session, calls=12)
        stream = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
        stream.sendall(f"GET /mcp HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: text/event-stream\r\n"
                       f"Mcp-Session-Id: {session}\r\nMcp-Protocol-Version: 2025-11-25\r\n\r\n".encode())
        held.append(stream)
        _, other, _ = initialize(port, "sigterm-other")
        held.append(unread_request(port, train_call("long", 1, LONG_TRAINING, token="p"), other))
        for sock in held[-2:]:
            assert b"200 OK" in read_until(sock, b"\r\n\r\n")
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the server did not exit within {WAIT:g} s of SIGTERM")
        assert not (tmp_path / "data" / "tokenizers" / "long.json").exists()  # the training stopped unsaved


# --- protocol, exposure, roots ---------------------------------------------------------------------------


def test_malformed_requests_get_the_right_json_rpc_error_over_http(tmp_path):
    with serving(tmp_path) as server:
        port = server.port
        _, session, _ = initialize(port)
        for bad_id in ({"a": 1}, None, 1.5, True):
            status, _, reply = post(port, {"jsonrpc": "2.0", "id": bad_id, "method": "ping"}, session)
            assert (status, reply["id"], reply["error"]["code"]) == (400, None, -32600), bad_id
        status, _, reply = post(port, {"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": "x"}, session)
        assert (status, reply["id"], reply["error"]["code"]) == (400, 5, -32602)
        status, _, reply = post(port, {"jsonrpc": "1.0", "id": 6, "method": "ping"}, session)
        assert (reply["id"], reply["error"]["code"]) == (6, -32600)
        status, _, reply = post(port, {"jsonrpc": "2.0", "id": 7, "method": "resources/read",
                                       "params": {"uri": "bpe://tokenizers/a b"}}, session)
        assert (reply["id"], reply["error"]["code"]) == (7, -32602)
        assert post(port, {"jsonrpc": "2.0", "id": 8, "method": "ping"}, session)[2]["result"] == {}


def test_a_non_loopback_host_without_a_token_is_refused(tmp_path):
    # 192.0.2.1 is a documentation address (TEST-NET-1): even a server that failed to refuse could not bind it.
    result = subprocess.run([str(SERVER_SCRIPT), "--transport", "streamable-http", "--host", "192.0.2.1",
                             "--data-dir", str(tmp_path / "data")],
                            capture_output=True, text=True, timeout=WAIT, check=False)
    assert result.returncode == 2
    assert "--auth-token" in result.stderr and "--allow-unauthenticated" in result.stderr


@pytest.mark.anyio
@pytest.mark.parametrize("flag, allowed", [((), False), (("--client-roots",), True)])
async def test_client_roots_are_off_over_http_unless_asked_for(tmp_path, flag, allowed):
    offered = tmp_path / "offered"
    offered.mkdir()
    (offered / "corpus.txt").write_text("low lower lowest newest widest " * 20)

    async def list_roots(context):
        return ListRootsResult(roots=[Root(uri="file:///", name="everything")])

    with serving(tmp_path, *flag) as server, anyio.fail_after(WAIT):
        async with Client(server.url, mode="legacy", list_roots_callback=list_roots) as client:
            result = await client.call_tool("train_bpe", {"name": "from-roots", "vocab_size": 260,
                                                          "paths": [str(offered / "corpus.txt")]})
    assert result.is_error is not allowed, result.content[0].text
