"""stdio with JSON-RPC errors for lines that are not messages.

The SDK's ``stdio_server`` turns a line it cannot parse into an exception on
the read stream, and the serving loop only logs it: the client never learns
why it got no answer.  JSON-RPC 2.0 asks for an error with ``id`` null:
``-32700`` (parse error) for text that is not JSON, ``-32600`` (invalid
request) for JSON that is not a JSON-RPC message.  :func:`run_stdio` keeps the
SDK's transport (its stdin/stdout handling is subtle) and wraps only the read
stream so that such exceptions become those errors on the write stream.
"""

from __future__ import annotations

import logging

import anyio
import mcp_types as types
from mcp.server.mcpserver import MCPServer
from mcp.server.stdio import stdio_server
from mcp.shared.message import SessionMessage
from pydantic import ValidationError

logger = logging.getLogger(__name__)


def error_for_unreadable_line(exc: Exception) -> types.JSONRPCError:
    """The JSON-RPC error that answers a line the transport could not read as a message.

    >>> import pydantic
    >>> try:
    ...     types.jsonrpc_message_adapter.validate_json("garbage", by_name=False)
    ... except pydantic.ValidationError as exc:
    ...     error_for_unreadable_line(exc).model_dump_json(by_alias=True, exclude_unset=True)
    '{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error: the line is not JSON"}}'
    """
    not_json = isinstance(exc, ValidationError) and any(e["type"] == "json_invalid" for e in exc.errors())
    if not_json:
        error = types.ErrorData(code=types.PARSE_ERROR, message="Parse error: the line is not JSON")
    else:
        error = types.ErrorData(code=types.INVALID_REQUEST, message="Invalid Request: the line is JSON but not a "
                                "JSON-RPC 2.0 request, notification or response")
    return types.JSONRPCError(jsonrpc="2.0", id=None, error=error)


class AnsweringUnreadableLines:
    """A read stream that answers the transport's parse failures and yields only messages."""

    def __init__(self, read_stream, write_stream):
        self._read = read_stream
        self._write = write_stream

    @property
    def last_context(self):  # the sender context the serving loop restores per message
        return getattr(self._read, "last_context", None)

    async def receive(self):
        while True:
            item = await self._read.receive()
            if not isinstance(item, Exception):
                return item
            logger.debug("answering an unreadable line: %r", item)
            try:
                await self._write.send(SessionMessage(error_for_unreadable_line(item)))
            except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                pass  # the session is ending: nobody is left to answer

    async def aclose(self) -> None:
        await self._read.aclose()

    def __aiter__(self):
        return self

    async def __anext__(self):
        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.aclose()


async def run_stdio(server: MCPServer) -> None:
    """Serve ``server`` over stdin/stdout, like ``server.run("stdio")``, answering unreadable lines."""
    lowlevel = getattr(server, "_lowlevel_server", None)
    if lowlevel is None:  # an SDK without this attribute: serve without the error answers
        logger.warning("this MCP SDK version hides its low-level server; non-JSON lines will get no answer")
        await server.run_stdio_async()
        return
    async with stdio_server() as (read_stream, write_stream):
        await lowlevel.run(AnsweringUnreadableLines(read_stream, write_stream), write_stream,
                           lowlevel.create_initialization_options())
