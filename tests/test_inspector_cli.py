"""The MCP Inspector CLI (pinned in tests/clients/package.json), a client we did
not write, against mcp-server-bpe over stdio and streamable HTTP.

Each call runs ``inspector --cli --format json ...`` once, as a CI job would, and
the assertions read the JSON it prints and its exit code (the Inspector's map:
0 ok, 1 error, 5 the tool returned isError, 6 a tool schema is not portable
under --strict).
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass

import pytest

from http_servers import SERVER_SCRIPT
from node_clients import client_env, http_server, node_program

CORPUS = "low low low low low lower lower newest newest newest newest newest newest widest widest widest"
TOOLS = {"train_bpe", "encode", "decode", "inspect_vocab", "explain", "list_tokenizers", "delete_tokenizer",
         "import_tokenizer", "evaluate_tokenizer", "compare_tokenizers", "export_tokenizer"}
EXIT_OK, EXIT_ERROR, EXIT_TOOL_ERROR = 0, 1, 5


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> dict:
        return json.loads(self.stdout)

    def error(self) -> dict:
        """The error envelope the Inspector prints on stderr (its last line)."""
        return json.loads(self.stderr.strip().splitlines()[-1])["error"]


@dataclass
class Inspector:
    """The Inspector CLI pointed at one server: a stdio command (``target``) or an HTTP URL (``connect`` options)."""

    argv: list[str]
    connect: list[str]
    target: list[str]
    env: dict[str, str]

    def __call__(self, *args: str, era: str = "legacy", expect: int = EXIT_OK) -> Run:
        # Options first, then "--" and the target, so a variadic option cannot swallow it.
        command = [*self.argv, "--cli", "--format", "json", "--protocol-era", era, *self.connect, *args,
                   "--", *self.target]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, env=self.env)
        run = Run(done.returncode, done.stdout, done.stderr)
        assert run.returncode == expect, f"exit {run.returncode}, expected {expect}\n{command}\n{run.stdout}\n{run.stderr}"
        return run

    def call(self, tool: str, arguments: dict, **options) -> dict:
        return self("--method", "tools/call", "--tool-name", tool, "--tool-args-json", json.dumps(arguments),
                    **options).json()["result"]


@pytest.fixture(scope="module", params=["stdio", "http"])
def inspector(request, tmp_path_factory):
    argv = node_program("@modelcontextprotocol/inspector", "mcp-inspector")
    root = tmp_path_factory.mktemp(f"inspector-{request.param}")
    env = client_env(root / "home")
    if request.param == "stdio":
        # The Inspector starts a stdio server with a minimal environment: pass PYTHONPATH on, so that the
        # server runs the code under test (a worktree's), as the HTTP server started here does.
        python_path = os.pathsep.join(os.path.abspath(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p)
        passed = ["-e", f"PYTHONPATH={python_path}"] if python_path else []
        yield Inspector(argv, passed, [str(SERVER_SCRIPT), "--data-dir", str(root / "data")], env)
    else:
        with http_server(root / "data", root / "server.log") as url:
            yield Inspector(argv, ["--transport", "http", "--server-url", url], [], env)


@pytest.fixture(scope="module")
def trained(inspector) -> dict:
    """train_bpe 'tiny' (classic, 5 merges) through the Inspector; the tool's result."""
    return inspector.call("train_bpe", {"name": "tiny", "text": CORPUS, "mode": "classic", "num_merges": 5})


def test_tools_list_is_portable_under_strict(inspector):
    run = inspector("--method", "tools/list", "--strict")
    tools = {tool["name"]: tool for tool in run.json()["result"]["tools"]}
    assert set(tools) == TOOLS
    assert run.stderr.strip() == "", "--strict reports schema portability problems on stderr"
    for name, tool in tools.items():
        assert tool["inputSchema"]["type"] == "object" and tool["outputSchema"]["type"] == "object", name
        assert tool["description"], name
    assert tools["encode"]["annotations"]["readOnlyHint"] is True
    assert tools["train_bpe"]["inputSchema"]["required"] == ["name"]


def test_train_bpe_returns_structured_result(trained):
    assert trained["isError"] is False
    report = trained["structuredContent"]
    assert (report["name"], report["mode"], report["merges_learned"], report["vocab_size"]) == ("tiny", "classic", 5, 17)
    assert [(m["left"], m["right"]) for m in report["first_merges"]] == [
        ("e", "s"), ("es", "t"), ("est", "</w>"), ("l", "o"), ("lo", "w")]
    assert report["uri"] == "bpe://tokenizers/tiny"
    assert json.loads(trained["content"][0]["text"]) == report  # the text block mirrors the structured result


def test_encode_and_inspect_vocab_agree(inspector, trained):
    encoding = inspector.call("encode", {"tokenizer": "tiny", "text": "lowest", "return_tokens": True})
    assert encoding["isError"] is False
    (result,) = encoding["structuredContent"]["encodings"]
    assert result["tokens"] == ["low", "est"]  # readable text; the vocabulary entry is "est</w>"
    view = inspector.call("inspect_vocab", {"tokenizer": "tiny", "view": "token", "token": "low"})
    token = view["structuredContent"]["token"]
    assert token["id"] == result["ids"][0]
    assert token["merge_rank"] == 4
    assert (token["tree"]["left"]["token"], token["tree"]["right"]["token"]) == ("lo", "w")
    summary = inspector.call("inspect_vocab", {"tokenizer": "tiny"})["structuredContent"]["summary"]
    assert (summary["vocab_size"], summary["merges"]) == (17, 5)


def test_tool_error_exits_as_tool_error(inspector, trained):
    run = inspector("--method", "tools/call", "--tool-name", "encode",
                    "--tool-args-json", json.dumps({"tokenizer": "nope", "text": "x"}), expect=EXIT_TOOL_ERROR)
    result = run.json()["result"]
    assert result["isError"] is True
    assert "no tokenizer named 'nope'" in result["content"][0]["text"]
    assert "'tiny'" in result["content"][0]["text"]  # the message names the tokenizers that do exist
    assert run.error()["code"] == "tool_is_error"


def test_read_resources(inspector, trained):
    listing = inspector("--method", "resources/read", "--uri", "bpe://tokenizers").json()["result"]["contents"][0]
    assert listing["mimeType"] == "application/json"
    assert [t["name"] for t in json.loads(listing["text"])["tokenizers"]] == ["tiny"]

    native = inspector("--method", "resources/read", "--uri", "bpe://tokenizers/tiny").json()["result"]["contents"][0]
    document = json.loads(native["text"])
    assert (native["uri"], document["format"], document["mode"]) == ("bpe://tokenizers/tiny", "bpe_core.tokenizer",
                                                                      "classic")
    assert len(document["merges"]) == 5

    templates = inspector("--method", "resources/templates/list").json()["result"]["resourceTemplates"]
    assert "bpe://tokenizers/{name}" in {t["uriTemplate"] for t in templates}


def test_unknown_resource_is_an_error(inspector, trained):
    run = inspector("--method", "resources/read", "--uri", "bpe://tokenizers/nope", expect=EXIT_ERROR)
    assert run.stdout == ""
    assert "no tokenizer named 'nope'" in run.error()["message"]


def test_get_prompt(inspector, trained):
    prompts = inspector("--method", "prompts/list").json()["result"]["prompts"]
    assert {p["name"] for p in prompts} == {"bpe_walkthrough", "train_tokenizer_for_corpus"}
    result = inspector("--method", "prompts/get", "--prompt-name", "bpe_walkthrough",
                       "--prompt-args", "sentence=low lower lowest", "tokenizer=tiny").json()["result"]
    (message,) = result["messages"]
    assert message["role"] == "user"
    assert "Sentence: low lower lowest" in message["content"]["text"]
    assert "tokenizer='tiny'" in message["content"]["text"]


def test_modern_protocol_era(inspector, trained):
    """The same call when the Inspector negotiates the 2026-07-28 protocol (stateless requests)."""
    result = inspector.call("encode", {"tokenizer": "tiny", "text": "lowest lower"}, era="modern")
    assert result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == "bpe"
    assert result["structuredContent"]["total_tokens"] >= 2
    error = inspector("--method", "tools/call", "--tool-name", "encode", "--tool-args-json",
                      json.dumps({"tokenizer": "nope", "text": "x"}), era="modern", expect=EXIT_TOOL_ERROR)
    assert error.json()["result"]["isError"] is True
