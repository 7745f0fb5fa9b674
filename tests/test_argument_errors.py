"""Argument errors reach the caller as sentences, through a real MCP client.

Every constraint of every tool's published input schema is broken once
(wrong type, empty, too long, pattern, below the minimum, above the
maximum, not one of the choices, a bad list item, too few or too many
items, a missing required argument, an unknown argument).  Each call must
come back as a tool error that names the argument and the value sent, and
shows nothing of pydantic (its wording, error types, union members, URL).
"""

from __future__ import annotations

import json

import pytest
from mcp import Client

from server import ServerConfig, build_server

pytestmark = pytest.mark.anyio

# Valid values for required arguments, so that one argument at a time is wrong.
VALID = {"name": "ok", "tokenizer": "tok", "tokenizers": ["tok", "tok2"], "text": "a", "ids": [1], "paths": ["a.txt"],
         "destination": "out"}
# What pydantic says that a caller should never see.
PYDANTIC_WORDS = ["pydantic", "should", "type=", "input_value", "constrained-", "literal[", "list[", "validation error"]


@pytest.fixture
def server(tmp_path):
    return build_server(ServerConfig(data_dir=tmp_path / "data"))


def _variants(schema: dict) -> list[dict]:
    """The schema's non-null alternatives."""
    options = schema.get("anyOf", [schema])
    return [option for option in options if option.get("type") != "null"]


def _wrong_type(kind: str):
    return {"string": 12345, "integer": "many", "boolean": "maybe", "array": "abc", "number": "many"}[kind]


def _valid_item(schema: dict):
    return {"string": "x", "integer": 1}[schema["type"]]


def _violations(schema: dict) -> list[tuple[str, object, str]]:
    """``(what is broken, a value breaking it, the list index named in the error)`` for one argument."""
    cases = []
    variants = _variants(schema)
    kinds = {v.get("type") for v in variants}
    for variant in variants:
        if "enum" in variant:
            cases.append(("enum", "nope", ""))
        if "pattern" in variant:
            cases.append(("pattern", "../x", ""))
        if "minLength" in variant:
            cases.append(("minLength", "", ""))
        if "maxLength" in variant:
            cases.append(("maxLength", "y" * (variant["maxLength"] + 1), ""))
        if "minimum" in variant:
            cases.append(("minimum", variant["minimum"] - 1, ""))
        if "maximum" in variant:
            cases.append(("maximum", variant["maximum"] + 1, ""))
        if variant.get("type") == "array":
            item = variant["items"]
            if variant.get("minItems", 0) > 0:
                cases.append(("minItems", [], ""))
            if variant.get("maxItems", 10**9) <= 2000:
                cases.append(("maxItems", [_valid_item(item)] * (variant["maxItems"] + 1), ""))
            cases.append(("item type", [_wrong_type(item["type"])], "[0]"))
            for broken, value, _ in _violations(item):
                if broken != "type":
                    cases.append((f"item {broken}", [_valid_item(item), value], "[1]"))
    # A value of no accepted type (a number where a string is accepted: pydantic does not turn it into one).
    cases.append(("type", 12345 if "string" in kinds else _wrong_type(kinds.pop()), ""))
    return cases


def _offending(value, place: str):
    """The value the error must quote: the broken item of a list, or the whole value."""
    return value[int(place[1:-1])] if place else value


def _shown(value) -> str:
    """The part of the value the error must quote."""
    text = json.dumps(value, ensure_ascii=False)
    return text[:20]


async def test_every_constraint_of_every_tool_is_reported_as_a_sentence(server, mode):
    checked = []
    async with Client(server, mode=mode) as client:
        for tool in (await client.list_tools()).tools:
            required = tool.input_schema.get("required", [])
            base = {name: VALID[name] for name in required}
            for argument, schema in tool.input_schema["properties"].items():
                for broken, value, place in _violations(schema):
                    result = await client.call_tool(tool.name, base | {argument: value})
                    label = f"{tool.name}.{argument} ({broken}={str(value)[:30]!r})"
                    assert result.is_error, label
                    message = result.content[0].text
                    assert f"invalid arguments: {argument}{place} " in message, (label, message)
                    assert _shown(_offending(value, place)) in message, (label, message)
                    assert not [w for w in PYDANTIC_WORDS if w in message.lower()], (label, message)
                    checked.append((tool.name, argument, broken))
    broken_kinds = {broken for _, _, broken in checked}
    assert {"type", "enum", "pattern", "minLength", "maxLength", "minimum", "maximum", "minItems", "maxItems",
            "item type", "item minimum", "item minLength"} <= broken_kinds
    assert len({(tool, argument) for tool, argument, _ in checked}) >= 40


async def test_missing_and_unknown_arguments_are_named(server, mode):
    async with Client(server, mode=mode) as client:
        missing = await client.call_tool("train_bpe", {"text": "a b", "vocab_size": 300})
        unknown = await client.call_tool("train_bpe", {"name": "ok", "text": "a b", "vocab_sise": 300})
        stray = await client.call_tool("list_tokenizers", {"verbose": True})
    assert missing.is_error and unknown.is_error and stray.is_error
    assert missing.content[0].text.endswith("invalid arguments: name is required")
    # A misspelt argument is not silently dropped (training would then ask for vocab_size).
    assert "'vocab_sise' is not an argument of this tool (did you mean 'vocab_size'?)" in unknown.content[0].text
    assert "its arguments are name, text, paths, mode, vocab_size" in unknown.content[0].text
    assert "'verbose' is not an argument of this tool" in stray.content[0].text
    for result in (missing, unknown, stray):
        assert not [w for w in PYDANTIC_WORDS if w in result.content[0].text.lower()]


async def test_the_name_rule_is_said_in_words(server, mode):
    async with Client(server, mode=mode) as client:
        result = await client.call_tool("train_bpe", {"name": "../x", "text": "a b", "vocab_size": 300})
        union = await client.call_tool("encode", {"tokenizer": "tok", "text": "a", "allowed_special": "some"})
        item = await client.call_tool("decode", {"tokenizer": "tok", "ids": [3, -1]})
    assert result.content[0].text == (
        "Error executing tool train_bpe: invalid arguments: name must be 1 to 64 characters: letters (any "
        "script), digits, '_', '-' and '.', starting with a letter or digit, with no '..' and not ending in '.'; "
        'got "../x"'
    )
    # A union is one requirement, in JSON terms, not one pydantic message per member.
    assert union.content[0].text.endswith('invalid arguments: allowed_special must be "all" or a list; got "some"')
    assert item.content[0].text.endswith("invalid arguments: ids[1] must be at least 0; got -1")


async def test_cross_argument_rules_keep_their_sentences(server, mode):
    async with Client(server, mode=mode) as client:
        result = await client.call_tool("train_bpe", {"name": "ok", "text": "a b"})
    assert result.content[0].text == ("Error executing tool train_bpe: invalid arguments: give vocab_size (final "
                                      "vocabulary size) or num_merges (number of merges to learn)")
