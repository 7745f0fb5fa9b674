"""Raw JSON-RPC lines on stdio against the real console script.

``mcp-server-bpe`` runs as a subprocess.  It is sent hand-picked hostile lines
(garbage, truncated JSON, wrong ids, requests before initialize, huge and
deeply nested lines, invalid UTF-8) and then Hypothesis-generated ones (random
bytes, random JSON, JSON-RPC-shaped messages with random methods, ids and
params).  After every line a ``ping`` must be answered, so the process is
alive and still reading; every line it writes to stdout must be a JSON-RPC
message; at the end a normal session (handshake, train, encode, decode) must
work.  The number of lines sent is printed.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stdio_harness import LEGACY, StdioServer, assert_every_stdout_line_is_json_rpc

CASES = {"lines": 0}


@pytest.fixture(scope="module")
def stdio_server(tmp_path_factory):
    base = tmp_path_factory.mktemp("stdio")
    root = base / "root"
    root.mkdir()
    server = StdioServer(base / "data", root, base / "stderr.log")
    yield server
    server.close()


@pytest.fixture(scope="module", autouse=True)
def report_cases(request):
    yield
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(f"\nhostile stdio fuzzing: {CASES['lines']} raw lines sent, each followed by an answered ping")


HAND_PICKED = [
    b"garbage",
    b"",
    b"   ",
    b"\x00\x00\x00",
    b"\xff\xfe\xfd not utf-8",
    b'{"jsonrpc":"2.0","id":1,"method":"tools/list"',  # truncated
    b'{"jsonrpc":"2.0","id":1,"method":',
    b'{"jsonrpc":"2.0","id":"before-init","method":"tools/list"}',  # before initialize
    b'{"jsonrpc":"2.0","id":"before-init-call","method":"tools/call","params":{"name":"list_tokenizers"}}',
    b'{"jsonrpc":"2.0","id":12345,"result":{}}',  # a reply to a request never made
    b'{"jsonrpc":"2.0","id":"nope","error":{"code":1,"message":"x"}}',
    b'{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}',  # ids must be strings or numbers
    b'{"jsonrpc":"2.0","id":[1],"method":"ping"}',
    b'{"jsonrpc":"2.0","id":1.5,"method":"ping"}',
    b'{"jsonrpc":"2.0","id":null,"method":"ping"}',
    b'{"jsonrpc":"2.0","id":123456789012345678901234567890,"method":"ping"}',
    b'{"jsonrpc":"1.0","id":7,"method":"ping"}',
    b'{"id":8,"method":"ping"}',
    b'{"jsonrpc":"2.0","id":9,"method":"no/such/method"}',
    b'{"jsonrpc":"2.0","id":10,"method":"tools/call","params":"not an object"}',
    b'{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"name":"encode","arguments":[1,2]}}',
    b'{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"never-sent"}}',
    b'{"jsonrpc":"2.0","method":"notifications/unknown"}',
    b"[]",
    b'[{"jsonrpc":"2.0","id":13,"method":"ping"}]',  # batches were removed from MCP
    b"null", b"true", b"42", b'"a string"',
    b'{"jsonrpc":"2.0","id":14,"method":"ping","params":{"_meta":{"progressToken":{"deep":[1,2,3]}}}}',
    b'{"jsonrpc":"2.0","id":"\\ud800","method":"ping"}',  # a lone surrogate as the id
    b'{"jsonrpc":"2.0","id":15,"method":"initialize","params":{"protocolVersion":"1999-01-01"}}',
    b"[" * 100_000 + b"]" * 100_000,  # deeply nested
    b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    b"x" * 5_000_000,  # a huge line
    b'{"jsonrpc":"2.0","id":16,"method":"tools/call","params":{"name":"encode","arguments":{"tokenizer":"t",'
    b'"text":"' + b"a" * 3_000_000 + b'"}}}',
]


def test_hand_picked_hostile_lines_leave_the_server_answering(stdio_server):
    for line in HAND_PICKED:
        stdio_server.send(line)
        CASES["lines"] += 1
        stdio_server.assert_alive()
    # Requests that are valid JSON-RPC got an answer, even before initialize.
    for request_id in ("before-init", 9, 11):
        assert "error" in stdio_server.reply(request_id) or "result" in stdio_server.reply(request_id)
    assert stdio_server.reply(9)["error"]["code"] == -32601
    assert_every_stdout_line_is_json_rpc(stdio_server.lines)


def _json_values():
    scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                                 max_size=4),
                        max_leaves=15)


METHODS = ["initialize", "ping", "tools/list", "tools/call", "resources/list", "resources/read",
           "resources/templates/list", "prompts/list", "prompts/get", "completion/complete", "logging/setLevel",
           "resources/subscribe", "notifications/cancelled", "notifications/initialized",
           "notifications/progress", "notifications/roots/list_changed", "server/discover"]
TOOLS = ["encode", "decode", "inspect_vocab", "explain", "list_tokenizers", "delete_tokenizer", "missing"]


def _rpc_messages():
    ids = st.one_of(st.integers(), st.text(max_size=10), st.none(), st.floats(allow_nan=False, allow_infinity=False),
                    st.lists(st.integers(), max_size=2))
    tool_params = st.fixed_dictionaries({"name": st.sampled_from(TOOLS)},
                                        optional={"arguments": st.dictionaries(st.sampled_from(
                                            ["tokenizer", "text", "ids", "name", "view", "zzz"]), _json_values(),
                                            max_size=4)})
    message = st.fixed_dictionaries(
        {"jsonrpc": st.sampled_from(["2.0", "2.0", "2.0", "1.0", 2])},
        optional={"id": ids, "method": st.sampled_from(METHODS) | st.text(max_size=12),
                  "params": tool_params | _json_values(), "result": _json_values(), "error": _json_values()},
    )
    return message.map(lambda m: json.dumps(m, ensure_ascii=False).encode("utf-8", "surrogatepass"))


def _truncated(line: bytes):
    return st.integers(0, max(len(line) - 1, 0)).map(lambda n: line[:n])


RAW_LINES = st.one_of(
    st.binary(max_size=300),
    _json_values().map(lambda v: json.dumps(v).encode()),
    _rpc_messages(),
    _rpc_messages().flatmap(_truncated),
).map(lambda line: line.replace(b"\n", b" ").replace(b"\r", b" "))


@settings(max_examples=1000, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(line=RAW_LINES)
def test_generated_lines_leave_the_server_answering(stdio_server, line):
    stdio_server.send(line)
    CASES["lines"] += 1
    stdio_server.assert_alive()


def test_a_normal_session_works_afterwards_and_stdout_held_only_json_rpc(stdio_server):
    server = stdio_server
    init = server.request("init", "initialize", {"protocolVersion": LEGACY, "capabilities": {},
                                                 "clientInfo": {"name": "hostile-test", "version": "0"}})
    assert init["result"]["serverInfo"]["name"] == "bpe"
    server.send_json({"jsonrpc": "2.0", "method": "notifications/initialized"})
    tools = server.request("list", "tools/list")["result"]["tools"]
    assert {"train_bpe", "encode", "decode"} <= {tool["name"] for tool in tools}
    trained = server.request("train", "tools/call", {"name": "train_bpe", "arguments": {
        "name": "after-fuzz", "text": "low lower newest widest " * 20, "vocab_size": 270, "overwrite": True}})
    assert trained["result"]["isError"] is False, trained
    encoded = server.request("enc", "tools/call", {"name": "encode", "arguments": {
        "tokenizer": "after-fuzz", "text": "lowest newer"}})
    ids = encoded["result"]["structuredContent"]["encodings"][0]["ids"]
    decoded = server.request("dec", "tools/call", {"name": "decode", "arguments": {"tokenizer": "after-fuzz",
                                                                                  "ids": ids}})
    assert decoded["result"]["structuredContent"]["text"] == "lowest newer"
    assert server.process.poll() is None
    assert_every_stdout_line_is_json_rpc(server.lines)
    assert server.close() == 0  # closing stdin ends the server cleanly


def test_garbage_gets_a_parse_error_and_non_messages_an_invalid_request(tmp_path):
    """JSON-RPC 2.0: text that is not JSON gets -32700, JSON that is not a message -32600, both with id
    null, in order, and the session goes on (server.stdio_transport adds these answers)."""
    root = tmp_path / "root"
    root.mkdir()
    server = StdioServer(tmp_path / "data", root, tmp_path / "stderr.log")
    try:
        for line in (b"garbage", b'{"jsonrpc":"2.0","id":1,"method":', b"\xff\xfe not utf-8", b"[]", b"42",
                     b'{"jsonrpc":"2.0"}'):
            server.send(line)
        server.assert_alive()
        errors = [json.loads(line) for line in server.lines if b'"error"' in line]
        assert [(m["id"], m["error"]["code"]) for m in errors] == [(None, -32700)] * 3 + [(None, -32600)] * 3
        assert errors[0]["error"]["message"].startswith("Parse error")
        init = server.request("init", "initialize", {"protocolVersion": LEGACY, "capabilities": {},
                                                     "clientInfo": {"name": "parse-errors", "version": "0"}})
        assert init["result"]["serverInfo"]["name"] == "bpe"
        assert_every_stdout_line_is_json_rpc(server.lines)
    finally:
        assert server.close() == 0


def test_malformed_requests_get_the_right_error_with_their_id(tmp_path):
    """Requests with an id that is not a string or an integer get -32600 with id null (before: no answer at all,
    the SDK read them as notifications); bad params get -32602 and bad jsonrpc -32600, both with their id
    (before: -32600 with id null); a bad tokenizer name in a resource URI is -32602 (before: -32603)."""
    root = tmp_path / "root"
    root.mkdir()
    server = StdioServer(tmp_path / "data", root, tmp_path / "stderr.log")
    try:
        server.request("init", "initialize", {"protocolVersion": LEGACY, "capabilities": {},
                                              "clientInfo": {"name": "malformed", "version": "0"}})
        server.send_json({"jsonrpc": "2.0", "method": "notifications/initialized"})
        bad_ids = [{"a": 1}, None, 1.5, True, [1]]
        for bad_id in bad_ids:
            server.send_json({"jsonrpc": "2.0", "id": bad_id, "method": "ping"})
        server.assert_alive()  # answered after every line before it: the refusals are already written
        refusals = [json.loads(line) for line in server.lines if b'"error"' in line]
        assert [(m["id"], m["error"]["code"]) for m in refusals] == [(None, -32600)] * len(bad_ids)
        assert "the id must be a string or an integer" in refusals[0]["error"]["message"]

        assert server.request(10, "tools/call", "x")["error"]["code"] == -32602
        assert server.request(11, "ping", [1, 2])["error"]["code"] == -32602
        server.send_json({"jsonrpc": "1.0", "id": 12, "method": "ping"})
        assert server.reply(12)["error"]["code"] == -32600
        server.send_json({"jsonrpc": "2.0", "id": 13, "method": 5})
        assert server.reply(13)["error"]["code"] == -32600

        bad_name = server.request(14, "resources/read", {"uri": "bpe://tokenizers/a b"})
        assert bad_name["error"]["code"] == -32602
        assert "invalid tokenizer name 'a b'" in bad_name["error"]["message"]
        assert server.request(15, "ping")["result"] == {}
        assert_every_stdout_line_is_json_rpc(server.lines)
    finally:
        assert server.close() == 0
