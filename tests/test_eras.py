"""Both protocol eras give the same results.

A legacy client (``mode="legacy"``: the 2025-11-25 initialize handshake) and a
modern one (``mode="auto"``: 2026-07-28, a per-request envelope, no handshake)
run one script of calls, each against its own fresh data directory, and must
get equal results: tools (listing, every tool, a tool error), resources and
templates, prompts and completions.  In memory and over stdio with the real
console script.

Only these differ legitimately, and are blanked before comparing (the keys
must still be present on both sides):

* ``seconds``: timings, in train_bpe's result and in the training report kept
  in the stored file (so also in inspect_vocab's summary and the native JSON);
* ``modified``: the stored file's modification time;
* ``size_bytes``: the stored file's size, which depends on how many digits the
  timings have;
* ``data_dir``: each session has its own data directory.
"""

from __future__ import annotations

import json

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp_types import PromptReference, ResourceTemplateReference

from server import ServerConfig, build_server
from stdio_harness import console_script

pytestmark = pytest.mark.anyio

DIFFERING_KEYS = {"seconds", "modified", "size_bytes", "data_dir"}
CORPUS = ("low " * 5 + "lower " * 2 + "newest " * 6 + "widest " * 3) * 4 + "分词器把文本切成词元。" * 5
PROBE = "the lowest newest widget, 分词器"
VERSIONS = {"legacy": "2025-11-25", "auto": "2026-07-28"}


def blank_differing(value):
    """``value`` with the values of :data:`DIFFERING_KEYS` replaced, at any depth."""
    if isinstance(value, dict):
        return {k: "<differs>" if k in DIFFERING_KEYS else blank_differing(v) for k, v in value.items()}
    if isinstance(value, list):
        return [blank_differing(v) for v in value]
    return value


def resource_text(text: str, mime_type: str | None):
    return blank_differing(json.loads(text)) if mime_type == "application/json" else text


async def tool(client: Client, name: str, arguments: dict) -> dict:
    result = await client.call_tool(name, arguments)
    if result.is_error:
        return {"is_error": True, "message": result.content[0].text}
    assert json.loads(result.content[0].text) == result.structured_content
    return {"is_error": False, "result": blank_differing(result.structured_content)}


async def script(client: Client) -> dict:
    """The same calls, in the same order, for either era; the results by label."""
    results = {}
    assert client.protocol_version == VERSIONS[client.mode]
    tools = (await client.list_tools()).tools
    results["tools/list"] = [t.model_dump(mode="json", by_alias=True, exclude={"meta"}) for t in tools]

    results["train byte_level"] = await tool(client, "train_bpe", {
        "name": "eras", "text": CORPUS, "vocab_size": 300, "special_tokens": ["<pad>"]})
    results["train classic"] = await tool(client, "train_bpe", {
        "name": "eras-classic", "text": CORPUS, "mode": "classic", "num_merges": 20})
    results["encode"] = await tool(client, "encode", {
        "tokenizer": "eras", "text": PROBE, "return_tokens": True, "return_offsets": True})
    ids = results["encode"]["result"]["encodings"][0]["ids"]
    results["encode batch"] = await tool(client, "encode", {
        "tokenizer": "eras", "texts": [PROBE, "low", "newest widest lowest"], "padding": "longest",
        "pad_token": "<pad>", "max_length": 6, "truncation_side": "left", "return_tokens": True})
    results["decode"] = await tool(client, "decode", {"tokenizer": "eras", "ids": ids})
    results["decode classic"] = await tool(client, "decode", {"tokenizer": "eras-classic", "ids": [1, 2, 3]})
    for view, extra in [("summary", {}), ("tokens", {"sort": "length", "descending": True, "limit": 20}),
                        ("tokens", {"contains": "est", "limit": 5}), ("merges", {"offset": 3, "limit": 10}),
                        ("token", {"token": " newest"}), ("token", {"id": 260})]:
        label = f"inspect {view} {sorted(extra.items())}"
        results[label] = await tool(client, "inspect_vocab", {"tokenizer": "eras", "view": view, **extra})
    results["inspect classic"] = await tool(client, "inspect_vocab", {"tokenizer": "eras-classic"})
    results["explain stored"] = await tool(client, "explain", {"tokenizer": "eras", "text": PROBE})
    results["explain train_on"] = await tool(client, "explain", {
        "text": "lowest", "train_on": CORPUS, "mode": "classic", "num_merges": 5})
    results["list"] = await tool(client, "list_tokenizers", {})
    # Tool errors: an unknown tokenizer, an invalid argument, an existing name.
    results["error unknown"] = await tool(client, "encode", {"tokenizer": "erass", "text": "x"})
    results["error invalid"] = await tool(client, "inspect_vocab", {"tokenizer": "eras", "limit": 10_000})
    results["error exists"] = await tool(client, "train_bpe", {"name": "eras", "text": "x", "vocab_size": 257})

    results["resources/list"] = [r.model_dump(mode="json", by_alias=True, exclude={"meta"})
                                 for r in (await client.list_resources()).resources]
    results["resources/templates/list"] = [
        t.model_dump(mode="json", by_alias=True, exclude={"meta"})
        for t in (await client.list_resource_templates()).resource_templates]
    for uri in ("bpe://tokenizers", "bpe://tokenizers/eras", "bpe://tokenizers/eras/tokenizer.json",
                "bpe://tokenizers/eras/merges", "bpe://tokenizers/eras/vocab"):
        (content,) = (await client.read_resource(uri)).contents
        results[f"read {uri}"] = (str(content.uri), content.mime_type, resource_text(content.text, content.mime_type))

    results["prompts/list"] = [p.model_dump(mode="json", by_alias=True, exclude={"meta"})
                               for p in (await client.list_prompts()).prompts]
    for name, arguments in [("bpe_walkthrough", {"sentence": PROBE, "tokenizer": "eras"}),
                            ("train_tokenizer_for_corpus", {"corpus": "my emails", "vocab_size": "8000"})]:
        prompt = await client.get_prompt(name, arguments)
        results[f"prompt {name}"] = [m.model_dump(mode="json", by_alias=True) for m in prompt.messages]

    template = ResourceTemplateReference(type="ref/resource", uri="bpe://tokenizers/{name}/vocab")
    prompt_ref = PromptReference(type="ref/prompt", name="bpe_walkthrough")
    for label, ref, argument in [("complete template", template, {"name": "name", "value": "er"}),
                                 ("complete prompt", prompt_ref, {"name": "tokenizer", "value": ""})]:
        results[label] = (await client.complete(ref, argument)).completion.model_dump(mode="json", by_alias=True)
    return results


def assert_same(legacy: dict, modern: dict) -> None:
    assert legacy.keys() == modern.keys()
    differing = [label for label in legacy if legacy[label] != modern[label]]
    assert differing == [], {label: (legacy[label], modern[label]) for label in differing[:2]}
    # The script did what it says: the errors are errors, the rest are not.
    assert [label for label, r in legacy.items() if isinstance(r, dict) and r.get("is_error")] == [
        "error unknown", "error invalid", "error exists"]
    assert "Did you mean 'eras'" in legacy["error unknown"]["message"]


async def test_both_eras_give_the_same_results_in_memory(tmp_path):
    results = {}
    for mode in ("legacy", "auto"):
        server = build_server(ServerConfig(data_dir=tmp_path / mode))
        with anyio.fail_after(120):
            async with Client(server, mode=mode) as client:
                results[mode] = await script(client)
    assert_same(results["legacy"], results["auto"])


async def test_both_eras_give_the_same_results_over_stdio(tmp_path):
    results = {}
    for mode in ("legacy", "auto"):
        parameters = StdioServerParameters(command=console_script(), args=["--data-dir", str(tmp_path / mode)])
        with open(tmp_path / f"stderr-{mode}.log", "w") as errors, anyio.fail_after(120):
            async with Client(stdio_client(parameters, errlog=errors), mode=mode) as client:
                results[mode] = await script(client)
    assert_same(results["legacy"], results["auto"])
