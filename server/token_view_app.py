"""The token view as an MCP App (the ``io.modelcontextprotocol/ui`` extension).

A host that supports MCP Apps reads the ``ui://`` page below when a tool
whose ``_meta.ui.resourceUri`` points at it is called, shows it in a
sandboxed iframe and sends it the call's arguments and result; the page
(:func:`bpe_core.token_view.app_html`) draws the tokens.  A client without
Apps still reads the text content, where :func:`with_readable_tokens` puts
the tokens between ``|`` dividers after the usual JSON.

The server uses three names from here (all that ``server/app.py`` needs)::

    server = MCPServer(..., extensions=[token_view_app.extension()])
    server.add_tool(encode, ..., meta=token_view_app.TOOL_META)
    return token_view_app.with_readable_tokens(service.encode(args))  # in encode's handler

What the page accepts as ``structuredContent`` (also the shape for
``compare_tokenizers``):

* encode's result, ``{"tokenizer", "encodings": [{"ids", "tokens"?,
  "offsets"?, "attention_mask"?}]}``: one row per text (the text comes from
  the tool input; tokens come from ``return_tokens``/``return_offsets``);
* ``{"segmentations": [{"tokenizer", "tokens": [{"id", "text", "start",
  "end", "byte_fallback"?, "special"?}], "characters"?}]}``, at the top
  level or under ``"sample"`` or ``"alignment"``: one row per tokenizer,
  one above the other (:meth:`bpe_core.token_view.Segmentation.to_dict`).
"""

from __future__ import annotations

from mcp.server.apps import Apps
from mcp_types import CallToolResult, TextContent

from bpe_core import token_view

from . import schemas as s

RESOURCE_URI = "ui://bpe/token-view.html"

#: The ``_meta`` of a tool whose result the token view can draw.
TOOL_META = {"ui": {"resourceUri": RESOURCE_URI}}


def extension() -> Apps:
    """The Apps extension holding the token view page, for ``MCPServer(extensions=[...])``."""
    apps = Apps()
    apps.add_html_resource(
        RESOURCE_URI,
        token_view.app_html(),
        name="token-view",
        title="Token view",
        description="Shows encode's tokens (or several tokenizers' segmentations) as coloured spans, with each "
        "token's id on hover or focus. For MCP hosts that render apps; others read the tool's text.",
        prefers_border=True,
    )
    return apps


def readable_tokens(result: s.EncodeResult) -> str | None:
    """Each encoding's tokens between ``|`` dividers (``None`` without ``return_tokens``).

    >>> result = s.EncodeResult(tokenizer="t", total_tokens=2,
    ...                         encodings=[s.Encoding(ids=[1, 2], token_count=2, tokens=["Hi", " you"])])
    >>> print(readable_tokens(result))
    tokens of text 1 (2, '|' between tokens, '␣' a space, '↵' a line break):
    Hi|␣you
    """
    if not any(encoding.tokens is not None for encoding in result.encodings):
        return None
    blocks = []
    for number, encoding in enumerate(result.encodings, 1):
        tokens = encoding.tokens or []
        heading = f"tokens of text {number} ({len(tokens)}, '|' between tokens, '␣' a space, '↵' a line break):"
        blocks.append(heading + "\n" + token_view.divided(tokens))
    return "\n".join(blocks)


def with_readable_tokens(result: s.EncodeResult) -> s.EncodeResult | CallToolResult:
    """encode's reply: the JSON as usual, then the tokens between dividers when it has them.

    The JSON stays the first text block (clients parse it); the second is for
    people and for hosts that show text only.
    """
    readable = readable_tokens(result)
    if readable is None:
        return result
    return CallToolResult(
        content=[TextContent(type="text", text=result.model_dump_json(indent=2)),
                 TextContent(type="text", text=readable)],
        structured_content=result.model_dump(mode="json", by_alias=True),
    )
