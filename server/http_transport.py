"""Streamable HTTP with bounds, so that one slow or hostile client cannot starve the others.

``server.run("streamable-http")`` serves the SDK's app with uvicorn's
defaults, which leave every bound open: a session lives 30 minutes after its
last request and 10,000 of them may exist, a connection that never finishes
its headers is held forever, a client that never reads its replies holds
its calls (and the worker threads sending their progress) forever, and
SIGTERM waits for all of it.  :func:`serve_http` serves the same app with:

* **sessions**: an idle timeout, a total cap and a cap per client address
  (a new session over a cap gets ``503`` with a JSON-RPC error saying which
  cap and how to get in);
* **calls**: at most ``max_calls_per_session`` tool calls in flight per
  session (over HTTP a call is in flight until its reply is delivered), and
  ``max_sessions_per_client * max_calls_per_session`` per client address for
  requests without a session (the 2026-07-28 era); one more gets a tool
  error "busy, try again";
* **connections**: a connection must finish its request headers within
  ``header_timeout`` seconds, an idle keep-alive connection is closed after
  a few seconds, and the accept loop's "Too many open files" error is
  logged a few times and then summarised (:class:`RepeatedErrorFilter`);
* **shutdown**: SIGTERM sets :data:`server.shutdown.stopping` (trainings stop,
  progress stops) and in-flight requests get ``SHUTDOWN_GRACE`` seconds;
* **protocol**: malformed requests get the JSON-RPC error
  :func:`server.jsonrpc_screen.screen` chooses, with their id.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import mcp_types as types
import pydantic_core
import uvicorn
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import DEFAULT_MAX_REQUEST_BODY_SIZE
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from .jsonrpc_screen import screen, valid_id
from .shutdown import stopping

logger = logging.getLogger(__name__)

MCP_PATH = "/mcp"
SESSION_HEADER = "mcp-session-id"
KEEP_ALIVE_SECONDS = 5  # an idle keep-alive connection is closed after this
SHUTDOWN_GRACE = 3  # seconds in-flight requests get after SIGTERM


@dataclass(frozen=True)
class HttpSettings:
    """Bounds of the streamable-HTTP transport (each has a command-line flag, see ``--help``)."""

    session_idle_timeout: float = 300.0
    max_sessions: int = 100
    max_sessions_per_client: int = 16
    max_calls_per_session: int = 4
    header_timeout: float = 10.0

    def __post_init__(self):
        for name in ("session_idle_timeout", "max_sessions", "max_sessions_per_client", "max_calls_per_session",
                     "header_timeout"):
            if not getattr(self, name) > 0:
                raise ValueError(f"--{name.replace('_', '-')} must be positive; got {getattr(self, name)}")


# --- sessions and calls --------------------------------------------------------------------------------


@dataclass
class _Session:
    client: str
    requests_in_flight: int = 0
    calls_in_flight: int = 0
    last_active: float = field(default_factory=time.monotonic)


class SessionTable:
    """Which client opened which session, and what each holds, mirroring the SDK's idle rule.

    The SDK ends a session once no request of it has been in flight for the
    idle timeout; this table forgets it by the same rule (or on ``DELETE`` or
    ``404``), so the counts per client follow the SDK's sessions.

    >>> table = SessionTable(idle_timeout=60)
    >>> table.opened("s1", "10.0.0.1"); table.opened("s2", "10.0.0.1")
    >>> table.count(), table.count("10.0.0.1"), table.count("10.0.0.2")
    (2, 2, 0)
    >>> table.forget("s1"); table.count("10.0.0.1")
    1
    """

    def __init__(self, idle_timeout: float):
        self.idle_timeout = idle_timeout
        self._sessions: dict[str, _Session] = {}

    def _expire(self) -> None:
        now = time.monotonic()
        for session_id, session in list(self._sessions.items()):
            if session.requests_in_flight == 0 and now - session.last_active > self.idle_timeout:
                del self._sessions[session_id]

    def count(self, client: str | None = None) -> int:
        self._expire()
        return sum(1 for s in self._sessions.values() if client is None or s.client == client)

    def opened(self, session_id: str, client: str) -> None:
        self._sessions[session_id] = _Session(client)

    def forget(self, session_id: str) -> None:
        self._sessions.pop(session_id, None)

    def get(self, session_id: str | None) -> _Session | None:
        return self._sessions.get(session_id) if session_id else None


def _json_response(status: int, message: types.JSONRPCMessage | types.JSONRPCError | types.JSONRPCResponse):
    body = message.model_dump_json(by_alias=True, exclude_unset=True).encode()

    async def respond(send: Send) -> None:
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    return respond


def _refusal(request_id, message: str):
    return types.JSONRPCError(jsonrpc="2.0", id=request_id,
                              error=types.ErrorData(code=types.INTERNAL_ERROR, message=message))


def _busy(request_id, message: str):
    """A tools/call answered with a tool error (``isError``), which a model reads and can act on."""
    result = types.CallToolResult(content=[types.TextContent(type="text", text=message)], is_error=True)
    return types.JSONRPCResponse(jsonrpc="2.0", id=request_id,
                                 result=result.model_dump(by_alias=True, exclude_none=True))


class BoundedMcpEndpoint:
    """ASGI middleware in front of the SDK's ``/mcp`` endpoint: screens requests and enforces the caps.

    It sits after authentication: a request that did not authenticate is
    passed on untouched, to get the SDK's ``401``.
    """

    def __init__(self, app: ASGIApp, settings: HttpSettings, require_auth: bool):
        self.app = app
        self.settings = settings
        self.require_auth = require_auth
        self.sessions = SessionTable(settings.session_idle_timeout)
        self.calls_without_session: dict[str, int] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].rstrip("/") != MCP_PATH:
            return await self.app(scope, receive, send)
        if self.require_auth and not getattr(scope.get("user"), "is_authenticated", False):
            return await self.app(scope, receive, send)
        client = (scope.get("client") or ("unknown", 0))[0]
        session_id = _header(scope, SESSION_HEADER)
        message = None
        if scope["method"] == "POST":
            body, receive = await _buffered_body(receive)
            if body is not None:
                try:
                    message = pydantic_core.from_json(body)
                except ValueError:
                    message = None  # the SDK answers with its parse error
            refusal = screen(message)
            if refusal is not None:
                return await _json_response(400, refusal)(send)
        method = message.get("method") if isinstance(message, dict) else None
        request_id = message.get("id") if isinstance(message, dict) and valid_id(message.get("id")) else None

        if session_id is None and method == "initialize":
            refused = self._session_refused(client)
            if refused:
                logger.warning("refused a new session from %s: %s", client, refused)
                return await _json_response(503, _refusal(request_id, refused))(send)
        if method == "tools/call":
            busy = self._calls_refused(session_id, client)
            if busy:
                return await _json_response(200, _busy(request_id, busy))(send)

        session = self.sessions.get(session_id)
        status = {}

        async def watching_send(event: Message) -> None:
            if event["type"] == "http.response.start":
                status["code"] = event["status"]
                status["session"] = _header({"headers": event.get("headers", [])}, SESSION_HEADER)
            await send(event)

        is_call = method == "tools/call"
        self._hold(session, client, is_call)
        try:
            await self.app(scope, receive, watching_send)
        finally:
            self._release(session, client, is_call)
            code = status.get("code")
            if session_id is None and code is not None and code < 400 and status.get("session"):
                self.sessions.opened(status["session"], client)
            elif session_id is not None and (code == 404 or (scope["method"] == "DELETE" and code is not None
                                                             and code < 300)):
                self.sessions.forget(session_id)

    def _session_refused(self, client: str) -> str | None:
        s = self.settings
        mine, everyone = self.sessions.count(client), self.sessions.count()
        if mine >= s.max_sessions_per_client:
            return (f"too many open sessions from {client}: {mine}, the limit per client is "
                    f"{s.max_sessions_per_client}. End sessions you no longer use (HTTP DELETE), or wait: a session "
                    f"expires after {s.session_idle_timeout:g} s without requests. The server's "
                    "--max-sessions-per-client raises the limit")
        if everyone >= s.max_sessions:
            return (f"too many open sessions: {everyone}, this server's limit is {s.max_sessions}. Try again "
                    f"later (idle sessions expire after {s.session_idle_timeout:g} s); the server's --max-sessions "
                    "raises the limit")
        return None

    def _calls_refused(self, session_id: str | None, client: str) -> str | None:
        s = self.settings
        session = self.sessions.get(session_id)
        if session is not None and session.calls_in_flight >= s.max_calls_per_session:
            return (f"busy: this session already has {session.calls_in_flight} tool calls in flight (the limit "
                    f"per session is {s.max_calls_per_session}); wait for one to finish and try again. A call "
                    "stays in flight until its reply has been read. The server's --max-calls-per-session raises "
                    "the limit")
        limit = s.max_sessions_per_client * s.max_calls_per_session
        if session is None and self.calls_without_session.get(client, 0) >= limit:
            return (f"busy: {limit} tool calls from {client} are already in flight (the limit per client is "
                    "--max-sessions-per-client times --max-calls-per-session); wait for one to finish and try "
                    "again")
        return None

    def _hold(self, session: _Session | None, client: str, is_call: bool) -> None:
        if session is not None:
            session.requests_in_flight += 1
            session.calls_in_flight += is_call
        elif is_call:
            self.calls_without_session[client] = self.calls_without_session.get(client, 0) + 1

    def _release(self, session: _Session | None, client: str, is_call: bool) -> None:
        if session is not None:
            session.requests_in_flight -= 1
            session.calls_in_flight -= is_call
            session.last_active = time.monotonic()
        elif is_call:
            left = self.calls_without_session.get(client, 1) - 1
            if left:
                self.calls_without_session[client] = left
            else:
                self.calls_without_session.pop(client, None)


def _header(scope: Scope, name: str) -> str | None:
    wanted = name.encode()
    for key, value in scope.get("headers", []):
        if key.lower() == wanted:
            return value.decode("latin-1")
    return None


async def _buffered_body(receive: Receive) -> tuple[bytes | None, Receive]:
    """The request body (``None`` if over the SDK's size limit), and a ``receive`` that replays it."""
    events: list[Message] = []
    size = 0
    while True:
        event = await receive()
        events.append(event)
        if event["type"] != "http.request":
            break
        size += len(event.get("body", b""))
        if size > DEFAULT_MAX_REQUEST_BODY_SIZE or not event.get("more_body", False):
            break
    complete = events[-1]["type"] == "http.request" and not events[-1].get("more_body", False)
    body = b"".join(e.get("body", b"") for e in events) if complete else None

    async def replay() -> Message:
        return events.pop(0) if events else await receive()

    return body, replay


# --- connections -----------------------------------------------------------------------------------------


class HeaderTimeoutProtocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, closing connections that do not finish a request's headers in time.

    uvicorn's keep-alive timer runs only between a response and the next
    request's first byte; a client that sends half a request line and then
    waits (slowloris) holds the connection forever.  Here a timer armed when
    the connection opens, and again after each response, closes it unless a
    new request has started by then.
    """

    header_timeout: float = 10.0

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._arm_header_timer()

    def _arm_header_timer(self) -> None:
        cycle_when_armed = self.cycle

        def expire() -> None:
            if self.cycle is cycle_when_armed and not self.transport.is_closing():
                logger.debug("closing a connection from %s that sent no complete request in %g s",
                              self.client, self.header_timeout)
                self.transport.close()

        self._header_timer = self.loop.call_later(self.header_timeout, expire)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._header_timer.cancel()
        self._arm_header_timer()

    def connection_lost(self, exc) -> None:
        self._header_timer.cancel()
        super().connection_lost(exc)


class RepeatedErrorFilter(logging.Filter):
    """Let the first ``first`` records matching ``text`` through, then one summary per ``interval`` seconds.

    asyncio logs "socket.accept() out of system resource" with a traceback
    every time accepting fails for lack of file descriptors; under a flood of
    connections that was 270,000 tracebacks (120 MB of stderr) in 70 s.

    >>> f = RepeatedErrorFilter("boom", first=1, interval=3600)
    >>> [f.filter(logging.makeLogRecord({"msg": "boom"})) for _ in range(3)]
    [True, False, False]
    >>> f.suppressed
    2
    """

    def __init__(self, text: str, first: int = 3, interval: float = 60.0):
        super().__init__()
        self.text, self.first, self.interval = text, first, interval
        self.seen = 0
        self.suppressed = 0
        self.last_summary = time.monotonic()

    def filter(self, record: logging.LogRecord) -> bool:
        if self.text not in str(record.msg):
            return True
        self.seen += 1
        if self.seen <= self.first:
            return True
        self.suppressed += 1
        now = time.monotonic()
        if now - self.last_summary < self.interval:
            return False
        record.msg = (f"{self.text}: {self.suppressed} more times since the last report (too many open connections; "
                      "see the --http-header-timeout and the process's open-file limit)")
        record.args, record.exc_info, record.exc_text = (), None, None
        self.suppressed = 0
        self.last_summary = now
        return True


ACCEPT_FAILURE = "socket.accept() out of system resource"


# --- the server --------------------------------------------------------------------------------------------


def build_http_app(server: MCPServer, *, host: str, settings: HttpSettings, require_auth: bool) -> ASGIApp:
    """The SDK's streamable-HTTP Starlette app with :class:`BoundedMcpEndpoint` in front of ``/mcp``."""
    app = server.streamable_http_app(streamable_http_path=MCP_PATH, host=host,
                                     session_idle_timeout=settings.session_idle_timeout,
                                     max_sessions=settings.max_sessions)
    # Innermost user middleware: it runs after the SDK's authentication middleware has set scope["user"].
    app.user_middleware.append(Middleware(BoundedMcpEndpoint, settings=settings, require_auth=require_auth))
    return app


class _Server(uvicorn.Server):
    def handle_exit(self, sig, frame) -> None:
        stopping.set()  # worker threads stop training and sending progress
        super().handle_exit(sig, frame)


async def serve_http(server: MCPServer, *, host: str, port: int, settings: HttpSettings, require_auth: bool,
                     log_level: str = "WARNING") -> None:
    """Serve ``server`` over streamable HTTP at ``http://host:port/mcp`` until SIGTERM or SIGINT."""
    logging.getLogger("asyncio").addFilter(RepeatedErrorFilter(ACCEPT_FAILURE))
    protocol = type("BoundedHeaderTimeoutProtocol", (HeaderTimeoutProtocol,),
                    {"header_timeout": settings.header_timeout})
    config = uvicorn.Config(
        build_http_app(server, host=host, settings=settings, require_auth=require_auth),
        host=host, port=port, log_level=log_level.lower(), http=protocol, lifespan="on",
        timeout_keep_alive=KEEP_ALIVE_SECONDS, timeout_graceful_shutdown=SHUTDOWN_GRACE,
    )
    await _Server(config).serve()
