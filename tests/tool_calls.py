"""Calling the server's tools in tests: the checks every test makes on a reply, and a long call kept running.

``call`` and ``error`` fail the test with the server's own text when a
call goes the other way than expected.  ``running`` starts a long call
(a training, an evaluation) in a task, waits until its progress says it is
under way, and cancels it when the block ends::

    async with running(lambda: client.call_tool("train_bpe", args, progress_callback=on_progress), merging):
        ...  # the training is running in the server here
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import anyio
from mcp import Client


async def call(client: Client, tool: str, arguments: dict, **options) -> dict:
    """The structured result of a call that must succeed."""
    result = await client.call_tool(tool, arguments, **options)
    assert not result.is_error, result.content[0].text
    return result.structured_content


async def error(client: Client, tool: str, arguments: dict) -> str:
    """The error text of a call that must fail."""
    result = await client.call_tool(tool, arguments)
    assert result.is_error, result.structured_content
    return result.content[0].text


@asynccontextmanager
async def running(start: Callable[[], Awaitable], under_way: anyio.Event, timeout: float = 60) -> AsyncIterator[dict]:
    """Run ``start()`` in a task; enter once ``under_way`` is set, and cancel the call when the block ends.

    The dict it gives gets the call's ``"result"`` if the call returned (a
    cancelled call may still deliver its handler's answer).  ``timeout``
    seconds bound the wait: only a hang reaches it.
    """
    outcome: dict = {}

    async def run() -> None:
        outcome["result"] = await start()

    async with anyio.create_task_group() as group:
        group.start_soon(run)
        with anyio.fail_after(timeout):
            await under_way.wait()
        yield outcome
        group.cancel_scope.cancel()


async def cancel_once_under_way(start: Callable[[], Awaitable], under_way: anyio.Event, timeout: float = 60) -> dict:
    """Run ``start()`` until ``under_way`` is set, then cancel it; what :func:`running` gives."""
    async with running(start, under_way, timeout) as outcome:
        pass
    return outcome
