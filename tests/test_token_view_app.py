"""The token view as an MCP App, in memory: the ui:// page, encode's _meta, and encode's text for clients without Apps."""

from __future__ import annotations

import json
import re

import pytest
from mcp import Client

from bpe_core import token_view
from server import ServerConfig, build_server
from server.token_view_app import RESOURCE_URI

pytestmark = pytest.mark.anyio

CORPUS = "the cat sat on the mat, 中文 中国 😀 the cat ate the rat\n" * 20


@pytest.fixture
def server(tmp_path):
    return build_server(ServerConfig(data_dir=tmp_path / "data"))


async def test_the_page_is_a_listed_app_resource_and_encode_points_at_it(server, mode):
    async with Client(server, mode=mode) as client:
        resources = {str(r.uri): r for r in (await client.list_resources()).resources}
        tools = {t.name: t for t in (await client.list_tools()).tools}
        (page,) = (await client.read_resource(RESOURCE_URI)).contents
        capabilities = client.server_capabilities
    assert resources[RESOURCE_URI].mime_type == "text/html;profile=mcp-app"
    assert page.mime_type == "text/html;profile=mcp-app"
    assert page.text == token_view.app_html()
    assert tools["encode"].meta == {"ui": {"resourceUri": RESOURCE_URI}}
    # Only encode and compare_tokenizers draw tokens; the other tools stay plain.
    assert [name for name, tool in tools.items() if tool.meta] == ["encode", "compare_tokenizers"]
    assert tools["compare_tokenizers"].meta == {"ui": {"resourceUri": RESOURCE_URI}}
    if mode == "auto":  # the 2026 era advertises extensions; the SDK sends none in the 2025 handshake
        assert "io.modelcontextprotocol/ui" in (capabilities.extensions or {})


async def test_the_page_cannot_reach_the_network(server):
    async with Client(server) as client:
        (page,) = (await client.read_resource(RESOURCE_URI)).contents
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page.text)[1]
    assert csp.startswith("default-src 'none';") and "connect-src" not in csp  # default-src covers fetches
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page.text)
    assert '<script type="application/json" id="data">null</script>' in page.text  # waits for the host


async def test_encode_text_shows_tokens_between_dividers(server, mode):
    text = "the cat 中国 😀\nrat"
    async with Client(server, mode=mode) as client:
        trained = await client.call_tool("train_bpe", {"name": "cats", "text": CORPUS, "vocab_size": 300})
        assert not trained.is_error, trained.content[0].text
        plain = await client.call_tool("encode", {"tokenizer": "cats", "text": text})
        shown = await client.call_tool("encode", {"tokenizer": "cats", "text": text, "return_tokens": True})
        batch = await client.call_tool("encode", {"tokenizer": "cats", "texts": ["a cat", "the mat"],
                                                  "return_tokens": True, "padding": "longest",
                                                  "padding_side": "left", "pad_token": "t"})
    # Without tokens nothing changes: one block, the JSON.
    assert len(plain.content) == 1 and json.loads(plain.content[0].text) == plain.structured_content
    json_block, readable = shown.content
    assert json.loads(json_block.text) == shown.structured_content  # still first, for clients that parse it
    tokens = shown.structured_content["encodings"][0]["tokens"]
    heading, body = readable.text.split("\n", 1)
    assert heading.startswith(f"tokens of text 1 ({len(tokens)},")
    assert body.split("|") == [token_view.shown(t) for t in tokens]
    assert body.replace("|", "").replace("↵", "").replace("␣", " ") == text  # every character, in order
    assert readable.text.count("tokens of text") == 1
    assert batch.content[1].text.count("tokens of text") == 2 and "tokens of text 2" in batch.content[1].text
