"""Schema-driven fuzzing of every tool, in memory, in both protocol eras.

Each tool's ``inputSchema`` comes from ``tools/list``; arguments are drawn
from it (valid values, values just past each bound) mixed with hostile ones
(empty, huge, wrong types, NUL bytes, lone surrogates, deeply nested JSON,
negative and enormous numbers, unknown fields).  Every call must come back
as a result or as a tool error that says why (never an unexpected exception,
whose message the SDK reduces to a bare "Error executing tool X"), and the
server must still encode correctly afterwards.

The server runs in a background event loop (``start_blocking_portal``), so
one client serves every Hypothesis example.  The number of calls made is
printed at the end of the run.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from anyio.from_thread import start_blocking_portal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp import Client

from server import ServerConfig, build_server
from server.config import Limits

MAIN = "fuzz"  # a byte-level tokenizer with special tokens, never deleted
CLASSIC = "fuzz-classic"
SPECIALS = ["<|endoftext|>", "<pad>"]
CASES = {"calls": 0}
EXAMPLES = {"auto": 300, "legacy": 150}


def _nested_list(depth: int):
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


def _nested_dict(depth: int):
    value: dict = {}
    for _ in range(depth):
        value = {"a": value}
    return value


# Deeper nesting than 100 levels is refused by the client itself (pydantic serialization
# depth); the raw stdio fuzzer sends far deeper documents.
HOSTILE = [
    "", " ", "\x00", "a\x00b", "\ud800", "x\udfffy", "\ufeff", "\u202e", "A" * 100_000, "𝔘" * 3000,
    "<|endoftext|>", "hi <pad> there", "(a+)+$", "[", "\\", "../../etc/passwd", "/etc/passwd", "/dev/zero",
    "file:///etc/passwd", ".", "..", "a/b", "C:\\x", "*", "**/*", "%s%n", "\n" * 1000,
    -1, 0, 1, -(2**63), 2**63, 10**30, -(10**30), 1e308, -0.0, 3.5, True, False, None,
    [], {}, [None], ["\x00"], ["\ud800"], [1, "a", None], _nested_list(100), _nested_dict(100),
    {"$ref": "#"}, list(range(5000)),
]


def hostile() -> st.SearchStrategy:
    return st.sampled_from(HOSTILE)


def _string(schema: dict) -> st.SearchStrategy:
    low = schema.get("minLength", 0)
    high = schema.get("maxLength")
    choices = [st.text(min_size=low, max_size=min(high or 40, 40) if (high or 40) >= low else low)]
    boundaries = [low, max(low - 1, 0)]
    if high is not None:
        boundaries += [high, high + 1]
    choices.append(st.sampled_from(sorted(set(boundaries))).map(lambda n: "a" * n))
    if "enum" in schema:
        choices.append(st.sampled_from(schema["enum"]))
    return st.one_of(choices)


def _integer(schema: dict) -> st.SearchStrategy:
    low, high = schema.get("minimum"), schema.get("maximum")
    edges = [v for v in (low, high) if v is not None]
    edges += [v - 1 for v in edges] + [v + 1 for v in edges]
    # Values a test server can afford: 2,000 is over its vocab limit already.
    return st.one_of(st.integers(min_value=low if low is not None else -5, max_value=min(high or 2000, 2000)),
                     st.sampled_from(edges or [0]))


def from_schema(schema: dict, field: str = "") -> st.SearchStrategy:
    """Values for ``schema``, mostly valid, often at or just past a bound."""
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "anyOf" in schema:
        return st.one_of([from_schema(option, field) for option in schema["anyOf"]])
    kind = schema.get("type")
    if kind == "string":
        return _string(schema)
    if kind == "integer":
        return _integer(schema)
    if kind == "number":
        return st.floats(allow_nan=False, allow_infinity=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    if kind == "array":
        items = from_schema(schema.get("items", {}), field)
        low = schema.get("minItems", 0)
        return st.lists(items, min_size=low, max_size=max(low, min(schema.get("maxItems", 4), 4)))
    if kind == "object":
        return st.dictionaries(st.text(max_size=5), st.integers(), max_size=3)
    return hostile()


def _domain_values(tool: str, field: str) -> list:
    """Meaningful values for fields whose random strings would only hit 'unknown name'."""
    if field in ("tokenizer",):
        return [MAIN, CLASSIC, "missing"]
    if field == "tokenizers":
        return [[MAIN, CLASSIC], [MAIN, "missing"], [CLASSIC, MAIN, CLASSIC]]
    if field == "name":
        return ["victim"] if tool == "delete_tokenizer" else ["fresh", "fresh.v2", MAIN + "-copy"]
    if field in ("paths", "destination"):
        return [["a.txt"], ["sub"], ["**/*.txt"], ["bad.bin"], "out", "out/tok.json", ["exports/tokenizer.json"]]
    if field in ("text", "train_on"):
        return ["low lower newest widest", "hello <|endoftext|> world", "日本語のテキスト", "tab\tnew\nline"]
    return []


def arguments_for(tool: str, schema: dict) -> st.SearchStrategy:
    properties = schema.get("properties", {})
    required = set(schema.get("required", []))
    fields = {}
    for field, field_schema in properties.items():
        choices = [from_schema(field_schema, field), from_schema(field_schema, field), hostile()]
        domain = _domain_values(tool, field)
        if domain:
            choices += [st.sampled_from(domain)] * 2
        fields[field] = st.one_of(choices)

    @st.composite
    def build(draw):
        arguments = {}
        for field, strategy in fields.items():
            # Required fields are usually there (else every call stops at validation).
            if draw(st.integers(0, 9)) < (9 if field in required else 5):
                arguments[field] = draw(strategy)
        if draw(st.integers(0, 9)) == 0:
            arguments[draw(st.sampled_from(["zzz", "__proto__", "", "\x00", "name "]))] = draw(hostile())
        return arguments

    return build()


class CrashLog(logging.Handler):
    """Collects the SDK's 'raised an unexpected exception' records."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture(scope="module")
def corpus_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("fuzzroot")
    (root / "a.txt").write_text("the cat sat on the mat\n" * 20, encoding="utf-8")
    (root / "sub").mkdir()
    (root / "sub" / "b.txt").write_text("low lower newest widest\n" * 20, encoding="utf-8")
    (root / "bad.bin").write_bytes(b"\xff\xfe\x00 not utf-8 \xc3\x28" * 10)
    (root / "out").mkdir()
    return root


@pytest.fixture(scope="module", params=["auto", "legacy"])
def live(request, tmp_path_factory, corpus_root):
    """(portal, client) for a server with small limits, already holding two tokenizers."""
    config = ServerConfig(
        data_dir=tmp_path_factory.mktemp("fuzzdata"),
        roots=(corpus_root,),
        limits=Limits(max_corpus_bytes=50_000, max_text_chars=50_000, max_vocab_size=1000, max_files=50),
    )
    server = build_server(config)
    crashes = CrashLog()
    sdk_logger = logging.getLogger("mcp")
    sdk_logger.addHandler(crashes)
    with start_blocking_portal("asyncio") as portal:
        with portal.wrap_async_context_manager(Client(server, mode=request.param)) as client:
            call = lambda tool, arguments: portal.call(client.call_tool, tool, arguments)  # noqa: E731
            for name, mode in ((MAIN, "byte_level"), (CLASSIC, "classic")):
                result = call("train_bpe", {"name": name, "text": "low lower newest widest " * 20,
                                            "vocab_size": 280 if mode == "byte_level" else 30, "mode": mode,
                                            "special_tokens": SPECIALS})
                assert not result.is_error, result.content[0].text
            tools = {tool.name: tool.input_schema for tool in portal.call(client.list_tools).tools}
            yield request.param, portal, client, call, tools, crashes
    sdk_logger.removeHandler(crashes)


@pytest.fixture(scope="module", autouse=True)
def report_cases(request):
    yield
    report(request, f"hostile tool fuzzing: {CASES['calls']} tool calls, no crash, server still serving")


def report(request, line: str) -> None:
    """Print ``line`` past pytest's output capture (the case counts belong in the CI log)."""
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(f"\n{line}")


TOOL_NAMES = ["train_bpe", "encode", "decode", "inspect_vocab", "explain", "list_tokenizers",
              "delete_tokenizer", "import_tokenizer", "export_tokenizer", "evaluate_tokenizer", "compare_tokenizers"]


def _json_or_none(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return None


def assert_still_serving(call):
    listing = call("list_tokenizers", {})
    assert not listing.is_error
    names = {t["name"] for t in listing.structured_content["tokenizers"]}
    assert MAIN in names, names
    encoded = call("encode", {"tokenizer": MAIN, "text": "low lower"})
    assert not encoded.is_error, encoded.content[0].text
    ids = encoded.structured_content["encodings"][0]["ids"]
    decoded = call("decode", {"tokenizer": MAIN, "ids": ids})
    assert decoded.structured_content["text"] == "low lower"


@pytest.mark.parametrize("tool", TOOL_NAMES)
def test_every_call_gets_a_result_or_a_tool_error_with_a_reason(live, tool):
    mode, portal, client, call, tools, crashes = live
    schema = tools[tool]

    @settings(max_examples=EXAMPLES[mode], deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(arguments=arguments_for(tool, schema))
    def check(arguments):
        if tool in ("train_bpe", "import_tokenizer") and arguments.get("name") == MAIN:
            return
        before = len(crashes.records)
        result = call(tool, arguments)
        CASES["calls"] += 1
        text = result.content[0].text if result.content else ""
        if result.is_error:
            assert text.strip() != f"Error executing tool {tool}", f"crash on {arguments!r:.300}"
            assert len(text) > len(f"Error executing tool {tool}: "), text
        else:
            assert result.structured_content is not None
            # The JSON is the first text block, or the second after a readable summary (evaluate, compare).
            texts = [block.text for block in result.content]
            assert result.structured_content in [_json_or_none(t) for t in texts[:2]], texts[0][:300]
        assert len(crashes.records) == before, crashes.records[-1].getMessage()

    check()
    assert_still_serving(call)
    CASES["calls"] += 3
