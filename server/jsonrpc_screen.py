"""Answers for JSON-RPC messages the SDK would drop or answer without their id.

The SDK validates each message against a union of request, notification,
response and error.  Two shapes slip through that union badly:

* a request whose ``id`` is not a string or an integer (an object, ``null``,
  ``1.5``, ``true``) validates as a *notification* (the id is ignored), so
  the client never gets an answer;
* a message the union refuses (``params: "x"``, ``jsonrpc: "1.0"``) is
  answered, if at all, with ``id: null`` although its id was fine.

:func:`screen` looks at the decoded message before the SDK does and returns
the error to answer, or ``None`` to let the SDK handle it.  Both transports
use it: stdio (:mod:`server.stdio_transport`) and streamable HTTP
(:mod:`server.http_transport`).

>>> refusal = screen({"jsonrpc": "2.0", "id": {"a": 1}, "method": "ping"})
>>> refusal.id, refusal.error.code, refusal.error.message
(None, -32600, 'Invalid Request: the id must be a string or an integer; got {"a": 1}')
>>> screen({"jsonrpc": "2.0", "id": 7, "method": "ping", "params": "x"}).error.code
-32602
>>> screen({"jsonrpc": "2.0", "id": 7, "method": "ping"}) is None
True
"""

from __future__ import annotations

import json
from typing import Any

import mcp_types as types


def valid_id(value: Any) -> bool:
    """MCP request ids are strings or integers (never booleans, floats or null)."""
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def _shown(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + "..."


def _error(request_id, code: int, message: str) -> types.JSONRPCError:
    return types.JSONRPCError(jsonrpc="2.0", id=request_id, error=types.ErrorData(code=code, message=message))


def screen(message: Any) -> types.JSONRPCError | None:
    """The error that answers ``message`` (decoded JSON), or ``None`` if the SDK should handle it.

    Only requests (objects with a ``method`` and an ``id`` key) are screened:
    notifications and responses are never answered.
    """
    if not isinstance(message, dict) or "method" not in message or "id" not in message:
        return None
    request_id = message["id"]
    if not valid_id(request_id):
        return _error(None, types.INVALID_REQUEST,
                      f"Invalid Request: the id must be a string or an integer; got {_shown(request_id)}")
    if message.get("jsonrpc") != "2.0":
        return _error(request_id, types.INVALID_REQUEST,
                      f'Invalid Request: "jsonrpc" must be "2.0"; got {_shown(message.get("jsonrpc"))}')
    if not isinstance(message["method"], str):
        return _error(request_id, types.INVALID_REQUEST,
                      f"Invalid Request: the method must be a string; got {_shown(message['method'])}")
    if "params" in message and not isinstance(message["params"], dict):
        return _error(request_id, types.INVALID_PARAMS,
                      f"Invalid params: params must be an object; got {_shown(message['params'])}")
    return None


def recovered_id(candidates: list[Any]) -> str | int | None:
    """The valid id of the first candidate that looks like the whole message, else ``None``.

    ``candidates`` are the inputs pydantic reports in a validation error; for
    a message that matches no member of the union, one of them is the whole
    decoded object.

    >>> recovered_id(["1.0", {"jsonrpc": "1.0", "id": 15, "method": "ping"}])
    15
    >>> recovered_id([{"jsonrpc": "2.0", "id": 1.5}]) is None
    True
    """
    for candidate in candidates:
        if isinstance(candidate, dict) and "id" in candidate and valid_id(candidate["id"]):
            return candidate["id"]
    return None
