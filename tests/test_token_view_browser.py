"""The token view's MCP App in a real browser (headless Chromium), fed by a test host the way a host feeds it.

The host page embeds the app's HTML (read from the server as a client reads it) in a sandboxed iframe,
answers ``ui/initialize``, then sends ``ui/notifications/tool-input`` and ``ui/notifications/tool-result``
with a real ``encode`` result from the server in memory.  The assertions read the iframe's DOM; a
screenshot of each theme is saved under the test's temporary directory.
"""

from __future__ import annotations

import json

import anyio
import pytest
from mcp import Client

from bpe_core import token_view
from browser import chromium, require_browser, serve
from server import ServerConfig, build_server
from server.storage import TokenizerStore
from server.token_view_app import RESOURCE_URI

# The text to show: English, Chinese and emoji the tokenizer learned, and one character it never saw ('龍'),
# whose bytes stay single-byte tokens.
TEXT = "The model reads tokens. 模型读取词元。 Emoji too 😀🚀\n龍"
CORPUS = ("The model reads tokens, and the tokens become ids. 模型读取词元，词元变成编号。 Emoji too 😀🚀 "
          "The reader sees each token.\n") * 40

HOST_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>test host</title>
<style>body { margin: 0; background: %(background)s; } iframe { border: 0; width: 880px; height: 300px; }</style>
</head><body>
<iframe id="app" sandbox="allow-scripts" title="token view"></iframe>
<script type="application/json" id="call">%(call)s</script>
<script>
  // The host side of MCP Apps, as small as it can be: answer ui/initialize, then hand over the call.
  const call = JSON.parse(document.getElementById("call").textContent);
  const frame = document.getElementById("app");
  window.received = [];
  function send(message) { frame.contentWindow.postMessage(message, "*"); }
  window.addEventListener("message", (event) => {
    if (event.source !== frame.contentWindow) return;
    const m = event.data;
    window.received.push(m);
    if (m.method === "ui/initialize") {
      send({jsonrpc: "2.0", id: m.id, result: {protocolVersion: "2026-01-26", hostInfo: {name: "test-host", version: "1"},
            hostCapabilities: {}, hostContext: {theme: call.theme, displayMode: "inline"}}});
    } else if (m.method === "ui/notifications/initialized") {
      send({jsonrpc: "2.0", method: "ui/notifications/tool-input", params: {arguments: call.arguments}});
      send({jsonrpc: "2.0", method: "ui/notifications/tool-result", params: call.result});
    } else if (m.method === "ui/notifications/size-changed") {
      frame.style.height = m.params.height + "px";
    }
  });
  frame.srcdoc = call.html;
</script>
</body></html>
"""


def host_page(html: str, arguments: dict, result: dict, theme: str) -> str:
    call = json.dumps({"html": html, "arguments": arguments, "result": result, "theme": theme})
    background = "#111" if theme == "dark" else "#fff"
    return HOST_PAGE % {"call": call.replace("<", "\\u003c"), "background": background}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The app page and real tool results, from the server in memory (before any browser starts)."""
    require_browser()
    data_dir = tmp_path_factory.mktemp("browser") / "data"

    async def from_server():
        server = build_server(ServerConfig(data_dir=data_dir))
        async with Client(server) as client:
            (page,) = (await client.read_resource(RESOURCE_URI)).contents
            for name, size in (("news", 420), ("small", 300)):
                trained = await client.call_tool("train_bpe", {"name": name, "text": CORPUS, "vocab_size": size})
                assert not trained.is_error, trained.content[0].text
            arguments = {"tokenizer": "news", "text": TEXT, "return_tokens": True, "return_offsets": True}
            encoded = await client.call_tool("encode", arguments)
            assert not encoded.is_error, encoded.content[0].text
            comparing = {"tokenizers": ["news", "small"], "text": TEXT, "sample_chars": 2000}
            compared = await client.call_tool("compare_tokenizers", comparing)
            assert not compared.is_error, compared.content[0].text
        dump = lambda result: result.model_dump(mode="json", by_alias=True, exclude_none=True)  # noqa: E731
        return page.text, arguments, dump(encoded), comparing, dump(compared)

    html, arguments, encoded, comparing, compared = anyio.run(from_server)
    # compare_tokenizers' result as a host hands it over: its sample, one segmentation per tokenizer.
    expected = [token_view.segment(TokenizerStore(data_dir).load(name).tokenizer, name, TEXT).to_dict()
                for name in ("news", "small")]
    pages = {f"/{kind}-{theme}.html": host_page(html, call_arguments, result, theme)
             for kind, call_arguments, result in (("encode", arguments, encoded), ("compare", comparing, compared))
             for theme in ("light", "dark")}
    with serve(pages) as url, chromium() as browser:
        yield url, browser, encoded["structuredContent"], expected


def open_app(browser, url: str, page_name: str, theme: str):
    page = browser.new_page(color_scheme=theme, viewport={"width": 900, "height": 640})
    page.goto(f"{url}/{page_name}")
    frame = page.frame_locator("#app")
    frame.locator("body[data-state=drawn]").wait_for(timeout=30_000)
    return page, frame


def rows(frame) -> list[dict]:
    """Each row of the view: its tokenizer, and per token span its id, text, class and background colour."""
    return frame.locator("#view").evaluate("""view => [...view.querySelectorAll("section.row")].map(row => ({
        tokenizer: row.dataset.tokenizer,
        counts: row.querySelector(".counts").textContent,
        tokens: [...row.querySelectorAll(".tokens > .tok")].map(span => ({
            id: Number(span.dataset.id), text: span.textContent, bytes: span.classList.contains("bytes"),
            background: getComputedStyle(span).backgroundColor, tabindex: span.tabIndex}))}))""")


def readable(text: str) -> str:
    return text.replace("␣", " ").replace("↵", "\n").replace("→", "\t")


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_encode_result_draws_one_span_per_token(served, theme, tmp_path):
    url, browser, encoded, _ = served
    page, frame = open_app(browser, url, f"encode-{theme}.html", theme)
    try:
        (row,) = rows(frame)
        encoding = encoded["encodings"][0]
        assert row["tokenizer"] == "news" and row["counts"].startswith(f"{len(encoding['ids'])} tokens · {len(TEXT)} characters")
        assert [t["id"] for t in row["tokens"]] == encoding["ids"]  # every token, in order
        assert all(a["background"] != b["background"] for a, b in zip(row["tokens"], row["tokens"][1:]))
        assert [t["tabindex"] for t in row["tokens"]].count(0) == 1  # one tab stop; arrows move inside
        # CJK and emoji arrive intact; the unseen '龍' shows as its bytes, marked.
        whole = [readable(t["text"]) for t in row["tokens"] if not t["bytes"]]
        assert "".join(whole) == TEXT[:-1]
        assert any("模型" in t for t in whole) and any("😀" in t for t in whole)
        pieces = [t["text"] for t in row["tokens"] if t["bytes"]]
        assert "".join(pieces) == "".join(f"\\x{b:02x}" for b in "龍".encode())

        # The id on keyboard focus: Tab into the view, an arrow to the next token.
        page.keyboard.press("Tab")
        page.keyboard.press("ArrowRight")
        focused = frame.locator(".tok:focus")
        assert focused.get_attribute("data-id") == str(encoding["ids"][1])
        tip = focused.evaluate("span => getComputedStyle(span, '::after').content")
        assert tip.startswith(f'"id {encoding["ids"][1]} ')
        assert frame.locator("#status").text_content().startswith(f"id {encoding['ids'][1]} ")
        # And on hover.
        frame.locator(".tokens > .tok").nth(4).hover()
        assert frame.locator("#status").text_content().startswith(f"id {encoding['ids'][4]} ")

        background = frame.locator("body").evaluate("body => getComputedStyle(body).backgroundColor")
        assert (background == "rgb(255, 255, 255)") == (theme == "light")
        received = page.evaluate("window.received.map(m => m.method || 'response')")
        assert received[:2] == ["ui/initialize", "ui/notifications/initialized"]
        assert "ui/notifications/size-changed" in received
        page.locator("#app").screenshot(path=str(tmp_path / f"token-view-{theme}.png"))
    finally:
        page.close()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_several_tokenizers_one_above_the_other(served, theme, tmp_path):
    url, browser, _, compared = served
    page, frame = open_app(browser, url, f"compare-{theme}.html", theme)
    try:
        drawn = rows(frame)
        assert [r["tokenizer"] for r in drawn] == ["news", "small"]
        for row, expected in zip(drawn, compared):
            assert [t["id"] for t in row["tokens"]] == [t["id"] for t in expected["tokens"]]
            assert row["counts"].startswith(f"{len(expected['tokens'])} tokens")
        assert len(drawn[1]["tokens"]) > len(drawn[0]["tokens"])  # the smaller vocabulary needs more tokens
        page.locator("#app").screenshot(path=str(tmp_path / f"token-view-compare-{theme}.png"))
    finally:
        page.close()
