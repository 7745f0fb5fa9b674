"""Resources, resource templates, prompts and completions, in both protocol eras."""

from __future__ import annotations

import json

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp_types import PromptReference, ResourceTemplateReference

from bpe_core import load_tokenizer, reference
from server import ServerConfig, build_server
from server.storage import REFERENCES, TokenizerStore

pytestmark = pytest.mark.anyio

TEXT = "the cat sat on the mat, the cat ate the rat " * 10


@pytest.fixture
def server(tmp_path):
    return build_server(ServerConfig(data_dir=tmp_path / "data"))


async def trained(client, name="cats", **arguments):
    result = await client.call_tool("train_bpe", {"name": name, "text": TEXT, "vocab_size": 280, **arguments})
    assert not result.is_error, result.content[0].text
    return result.structured_content


async def read(client, uri: str):
    (content,) = (await client.read_resource(uri)).contents
    return content


async def test_resources_and_templates_are_listed(server, mode):
    async with Client(server, mode=mode) as client:
        resources = (await client.list_resources()).resources
        templates = (await client.list_resource_templates()).resource_templates
    # The token view's MCP App page is listed too (tests/test_token_view_app.py reads it).
    assert [str(r.uri) for r in resources] == ["ui://bpe/token-view.html", "bpe://tokenizers"]
    assert {t.uri_template for t in templates} == {
        "bpe://tokenizers/{name}",
        "bpe://tokenizers/{name}/tokenizer.json",
        "bpe://tokenizers/{name}/merges",
        "bpe://tokenizers/{name}/vocab",
    }
    assert all(t.description and t.mime_type for t in templates)


async def test_reading_each_resource(server, mode, tmp_path):
    async with Client(server, mode=mode) as client:
        summary = await trained(client, special_tokens=["<pad>"])
        listing = await read(client, "bpe://tokenizers")
        native = await read(client, summary["uri"])
        merges = await read(client, "bpe://tokenizers/cats/merges")
        vocab = await read(client, "bpe://tokenizers/cats/vocab")
        huggingface = await read(client, "bpe://tokenizers/cats/tokenizer.json")
    stored = load_tokenizer(TokenizerStore(tmp_path / "data").path_for("cats"))
    assert [t["name"] for t in json.loads(listing.text)["tokenizers"]] == ["cats"]
    assert native.mime_type == "application/json" and json.loads(native.text)["format"] == "bpe_core.tokenizer"
    lines = merges.text.splitlines()
    assert lines[0] == "#version: 0.2" and [tuple(l.split(" ")) for l in lines[1:]] == stored.merges
    assert json.loads(vocab.text) == stored.vocab
    document = json.loads(huggingface.text)
    assert document["model"]["type"] == "BPE" and document["model"]["vocab"] == stored.vocab
    assert document["added_tokens"][0]["content"] == "<pad>"


async def test_huggingface_resource_loads_in_tokenizers(server, mode):
    tokenizers = pytest.importorskip("tokenizers")
    async with Client(server, mode=mode) as client:
        await trained(client)
        document = (await read(client, "bpe://tokenizers/cats/tokenizer.json")).text
        ours = (await client.call_tool("encode", {"tokenizer": "cats", "text": "the rat sat"})).structured_content
    theirs = tokenizers.Tokenizer.from_str(document).encode("the rat sat").ids
    assert theirs == ours["encodings"][0]["ids"]


async def test_resource_errors_are_protocol_errors_with_the_reason(server, mode):
    async with Client(server, mode=mode) as client:
        await trained(client)
        await trained(client, name="classic", mode="classic", vocab_size=None, num_merges=5)
        with pytest.raises(MCPError, match="no tokenizer named 'nope'.*'cats'"):
            await client.read_resource("bpe://tokenizers/nope")
        with pytest.raises(MCPError, match="no tokenizer named"):
            await client.read_resource("bpe://tokenizers/nope/vocab")
        with pytest.raises(MCPError, match="cannot be a tokenizer.json"):
            await client.read_resource("bpe://tokenizers/classic/tokenizer.json")
        with pytest.raises(MCPError):
            await client.read_resource("bpe://tokenizers/..%2F..%2Fetc%2Fpasswd")
        # Still serving.
        assert (await read(client, "bpe://tokenizers/cats/merges")).text.startswith("#version")


async def test_completion_of_tokenizer_names(server, mode):
    template = ResourceTemplateReference(type="ref/resource", uri="bpe://tokenizers/{name}/vocab")
    prompt = PromptReference(type="ref/prompt", name="bpe_walkthrough")
    async with Client(server, mode=mode) as client:
        for name in ("cats", "cat-small", "dogs"):
            await trained(client, name=name)
        by_prefix = await client.complete(template, {"name": "name", "value": "ca"})
        everything = await client.complete(prompt, {"name": "tokenizer", "value": ""})
        other_argument = await client.complete(prompt, {"name": "sentence", "value": "ca"})
    assert by_prefix.completion.values == ["cat-small", "cats"] and by_prefix.completion.total == 2
    # The stored names, then the read-only reference tokenizers and the model names that select them.
    assert everything.completion.values == ["cat-small", "cats", "dogs", *REFERENCES, *reference.MODEL_ALIASES]
    assert other_argument.completion.values == []


async def test_prompts_are_listed_with_described_arguments(server, mode):
    async with Client(server, mode=mode) as client:
        prompts = {p.name: p for p in (await client.list_prompts()).prompts}
    assert set(prompts) == {"bpe_walkthrough", "train_tokenizer_for_corpus"}
    for prompt in prompts.values():
        assert prompt.description and prompt.title
        assert all(argument.description for argument in prompt.arguments)
    assert [a.name for a in prompts["bpe_walkthrough"].arguments if a.required] == ["sentence"]
    assert [a.name for a in prompts["train_tokenizer_for_corpus"].arguments if a.required] == ["corpus"]


async def test_walkthrough_prompt_uses_the_sentence_and_the_tools(server, mode):
    async with Client(server, mode=mode) as client:
        own = await client.get_prompt("bpe_walkthrough", {"sentence": "low lower lowest", "language": "中文"})
        stored = await client.get_prompt("bpe_walkthrough", {"sentence": "hi", "tokenizer": "cats"})
    text = own.messages[0].content.text
    assert own.messages[0].role == "user"
    assert "low lower lowest" in text and "中文" in text
    assert "train_on" in text and "</w>" in text and "attention mask" in text
    assert "tokenizer='cats'" in stored.messages[0].content.text


async def test_walkthrough_prompt_speaks_the_stored_tokenizers_mode(server, mode):
    async with Client(server, mode=mode) as client:
        await trained(client, name="bytes")
        await trained(client, name="words", mode="classic", vocab_size=None, num_merges=10)
        byte_level = await client.get_prompt("bpe_walkthrough", {"sentence": "the cat 中文", "tokenizer": "bytes"})
        classic = await client.get_prompt("bpe_walkthrough", {"sentence": "the cat", "tokenizer": "words"})
        missing = await client.get_prompt("bpe_walkthrough", {"sentence": "the cat", "tokenizer": "dogs"})
    byte_text, classic_text = byte_level.messages[0].content.text, classic.messages[0].content.text
    # A byte-level tokenizer has no '</w>', and its merges come from its own corpus, not from train_on.
    assert "</w>" not in byte_text and "train_on" not in byte_text
    assert "tokenizer='bytes'" in byte_text and "UTF-8 bytes" in byte_text and "\\xNN" in byte_text
    assert "lowest-ranked merge" in byte_text and "attention mask" in byte_text
    # A classic one keeps the textbook's words; its byte-level contrast gets a corpus to train on.
    assert "tokenizer='words'" in classic_text and "</w>" in classic_text
    assert "train_on=<the sentence>, text=<the sentence> and\n   mode='byte_level'" in classic_text
    assert "list_tokenizers" in missing.messages[0].content.text


async def test_training_prompt_guides_through_the_tools(server, mode):
    async with Client(server, mode=mode) as client:
        result = await client.get_prompt("train_tokenizer_for_corpus", {"corpus": "books/*.txt", "vocab_size": "8000"})
    text = result.messages[0].content.text
    assert "books/*.txt" in text and "vocab_size=8000" in text
    for tool in ("list_tokenizers", "train_bpe", "inspect_vocab", "encode", "export_tokenizer"):
        assert tool in text
