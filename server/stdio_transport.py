"""stdio with JSON-RPC errors for lines that are not messages.

The SDK's ``stdio_server`` turns a line it cannot parse into an exception on
the read stream, and the serving loop only logs it: the client never learns
why it got no answer.  JSON-RPC 2.0 asks for an error: ``-32700`` (parse
error, id null) for text that is not JSON, ``-32600`` (invalid request) for
JSON that is not a JSON-RPC message, with the message's id when it carried a
valid one.  And a request whose id is not a string or an integer is read by
the SDK as a notification, so it would get no answer at all.

:func:`run_stdio` keeps the SDK's transport (its stdout handling is subtle)
but feeds it stdin through :func:`screened_lines`, which answers what
:func:`server.jsonrpc_screen.screen` refuses, and wraps the read stream so
that the SDK's parse failures become errors on the write stream.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from contextlib import contextmanager
from io import TextIOWrapper

import anyio
import mcp_types as types
import pydantic_core
from mcp.server.mcpserver import MCPServer
from mcp.server.stdio import stdio_server
from mcp.shared.message import SessionMessage
from pydantic import ValidationError

from .jsonrpc_screen import recovered_id, screen

logger = logging.getLogger(__name__)


def error_for_unreadable_line(exc: Exception) -> types.JSONRPCError:
    """The JSON-RPC error that answers a line the transport could not read as a message.

    >>> import pydantic
    >>> try:
    ...     types.jsonrpc_message_adapter.validate_json("garbage", by_name=False)
    ... except pydantic.ValidationError as exc:
    ...     error_for_unreadable_line(exc).model_dump_json(by_alias=True, exclude_unset=True)
    '{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error: the line is not JSON"}}'

    JSON that is not a message keeps its id when it had a valid one:

    >>> try:
    ...     types.jsonrpc_message_adapter.validate_json('{"jsonrpc":"1.0","id":15,"method":"ping"}', by_name=False)
    ... except pydantic.ValidationError as exc:
    ...     error_for_unreadable_line(exc).id
    15
    """
    problems = exc.errors() if isinstance(exc, ValidationError) else []
    if any(problem["type"] == "json_invalid" for problem in problems):
        error = types.ErrorData(code=types.PARSE_ERROR, message="Parse error: the line is not JSON")
        return types.JSONRPCError(jsonrpc="2.0", id=None, error=error)
    error = types.ErrorData(code=types.INVALID_REQUEST, message="Invalid Request: the line is JSON but not a "
                            "JSON-RPC 2.0 request, notification or response")
    request_id = recovered_id([problem.get("input") for problem in problems])
    return types.JSONRPCError(jsonrpc="2.0", id=request_id, error=error)


async def screened_lines(
    lines: AsyncIterable[str], answer: Callable[[types.JSONRPCError], Awaitable[None]]
) -> AsyncIterator[str]:
    """``lines`` without the requests :func:`screen` refuses; each of those is answered instead.

    Lines that are not JSON pass through: the SDK's own parse error answers them.
    """
    async for line in lines:
        try:
            message = pydantic_core.from_json(line)
        except ValueError:
            yield line
            continue
        refusal = screen(message)
        if refusal is None:
            yield line
        else:
            logger.debug("answering a malformed request: %s", line[:200])
            await answer(refusal)


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


@contextmanager
def _private_stdin():
    """The wire of fd 0 as a binary file, with fd 0 itself pointed at the null device meanwhile.

    This is what the SDK's ``stdio_server`` does when it reads stdin itself:
    a handler or child process that reads fd 0 gets end of file instead of
    bytes of the JSON-RPC stream.  Where descriptors cannot be moved, stdin
    is read in place.
    """
    if sys.platform == "win32":
        yield sys.stdin.buffer
        return
    try:
        wire = os.dup(0)
        null = os.open(os.devnull, os.O_RDONLY)
    except OSError:
        yield sys.stdin.buffer
        return
    os.dup2(null, 0)
    os.close(null)
    try:
        # closefd=False: a worker thread may still block on this descriptor after we return
        yield os.fdopen(wire, "rb", closefd=False)
    finally:
        os.dup2(wire, 0)


async def run_stdio(server: MCPServer) -> None:
    """Serve ``server`` over stdin/stdout, like ``server.run("stdio")``, answering malformed lines."""
    lowlevel = getattr(server, "_lowlevel_server", None)
    if lowlevel is None:  # an SDK without this attribute: serve without the error answers
        logger.warning("this MCP SDK version hides its low-level server; malformed lines will get no answer")
        await server.run_stdio_async()
        return
    write_ready = anyio.Event()
    writer = {}

    async def answer(error: types.JSONRPCError) -> None:
        await write_ready.wait()
        try:
            await writer["stream"].send(SessionMessage(error))
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            pass  # the session is ending: nobody is left to answer

    with _private_stdin() as wire:
        text = anyio.wrap_file(TextIOWrapper(wire, encoding="utf-8", errors="replace"))
        async with stdio_server(stdin=screened_lines(text, answer)) as (read_stream, write_stream):
            writer["stream"] = write_stream
            write_ready.set()
            await lowlevel.run(AnsweringUnreadableLines(read_stream, write_stream), write_stream,
                               lowlevel.create_initialization_options())
