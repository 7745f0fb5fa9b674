"""How a row of the tool table becomes an MCP tool: the SDK plumbing, in one place.

:mod:`server.tools` says *what* each tool is (name, input and result
models, annotations, the service call); this module does the rest:

* the SDK builds a tool's input schema from its function signature, so a
  signature is generated from the input model (each field with its type,
  bounds and description), and the body validates against the whole model;
* argument errors become sentences (:mod:`server.argument_errors`), also
  for the SDK's own check, and unknown arguments are refused by name;
* errors the caller can fix become tool errors with their message;
* a call's files are resolved against the allowed roots plus the client's
  roots, fetched only when the call needs files;
* progress goes from the worker thread to the client through the event
  loop, and cancellation of the request reaches the work as ``should_stop``.

Every tool is a plain function, so the SDK runs it in a worker thread and a
long training never blocks the event loop.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import anyio
import anyio.from_thread
from mcp.server.mcpserver import Context, ListRoots, MCPServer, Resolve
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, ListRootsResult, TextContent, ToolAnnotations
from pydantic import BaseModel, Field, ValidationError

from bpe_core import BPEError, TrainingCancelled
from bpe_core.errors import EvaluationCancelled

from . import argument_errors
from .config import LimitExceeded, ServerConfig
from .files import FileAccess, FileAccessError, paths_from_root_uris
from .service import BPEService, Progress, StopCheck
from .shutdown import stopping
from .storage import StoreError

logger = logging.getLogger(__name__)

# Errors whose message is written for the caller: they become tool errors.
CALLER_ERRORS = (BPEError, StoreError, FileAccessError, LimitExceeded)

#: When a tool asks the client for its roots: never, only when ``paths`` is given, or always.
RootsWanted = Literal["never", "paths", "always"]


@dataclass
class ToolCall:
    """What one call gives the service besides its arguments: files, progress, cancellation."""

    service: BPEService
    client_roots: list[Path] = field(default_factory=list)
    progress: Progress | None = None
    should_stop: StopCheck | None = None

    def files(self) -> FileAccess:
        """The allowed roots of this call: the server's, plus the client's unless --no-client-roots."""
        return self.service.file_access(self.client_roots)


@dataclass(frozen=True)
class Tool:
    """One row of the tool table: everything that defines a tool.

    The description is the input model's docstring, so what the tool does and
    what its arguments mean are written side by side.
    """

    name: str
    input_model: type[BaseModel]
    result_model: type[BaseModel]
    run: Callable[[BPEService, Any, ToolCall], Any]  # (service, validated input, call) -> result
    annotations: ToolAnnotations
    roots: RootsWanted = "never"
    meta: dict | None = None

    @property
    def description(self) -> str:
        return " ".join(inspect.cleandoc(self.input_model.__doc__ or "").split())


def summary_first(result: BaseModel, summary: str) -> CallToolResult:
    """A reply whose first text block is ``summary`` (for people, and for the model to read first), the second
    the result's JSON (for clients that read no structured content), and the structured content the result."""
    return CallToolResult(
        content=[TextContent(type="text", text=summary),
                 TextContent(type="text", text=result.model_dump_json(indent=1))],
        structured_content=result.model_dump(mode="json", by_alias=True),
    )


def read_only(title: str) -> ToolAnnotations:
    return ToolAnnotations(title=title, read_only_hint=True, idempotent_hint=True, open_world_hint=False)


def changes_storage(title: str, *, idempotent: bool) -> ToolAnnotations:
    return ToolAnnotations(title=title, read_only_hint=False, destructive_hint=True, idempotent_hint=idempotent,
                           open_world_hint=False)


class ArgumentCheckingServer(MCPServer):
    """An :class:`MCPServer` whose argument errors are sentences (:mod:`server.argument_errors`).

    The SDK validates a call's arguments against the tool's signature before
    our function runs, and reports pydantic's raw text; it also drops
    arguments the tool does not have, so a misspelt ``vocab_sise`` would be
    ignored without a word.  Both are caught here, where every call passes.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.argument_names: dict[str, list[str]] = {}  # tool -> its arguments, in schema order

    async def list_tools(self):
        """The SDK's tool list, with the schemas' generated titles removed (see :func:`without_titles`)."""
        tools = await super().list_tools()
        for tool in tools:
            tool.input_schema = without_titles(tool.input_schema)
            if tool.output_schema is not None:
                tool.output_schema = without_titles(tool.output_schema, defaults=False)
        return tools

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Context | None = None):
        known = self.argument_names.get(name)
        if known is not None and not arguments.keys() <= set(known):
            message = argument_errors.unknown_arguments(arguments.keys() - set(known), known)
            raise ToolError(f"Error executing tool {name}: {message}")
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            # Only the SDK's own argument check raises a ToolError caused by a ValidationError.
            if type(exc) is ToolError and isinstance(exc.__cause__, ValidationError):
                raise ToolError(f"Error executing tool {name}: {argument_errors.describe(exc.__cause__)}") from exc.__cause__
            raise


def without_titles(schema: Any, *, defaults: bool = True) -> Any:
    """A JSON schema without the keywords that tell a model nothing: titles, and null defaults.

    pydantic titles every property and model after its name ('vocab_size'
    -> 'Vocab Size'), which says nothing the name does not, and every
    tool definition is sent to the model on every turn: they were an eighth
    of ``tools/list``.  ``"default": null`` only repeats that an argument is
    not required; ``defaults=False`` (for output schemas, where a default
    means nothing) drops every default.  A property *named* title is kept.

    >>> without_titles({"title": "A", "type": "object", "properties": {"title": {"title": "Title", "type": "string",
    ...                 "default": None}, "n": {"type": "integer", "default": 3}}})
    {'type': 'object', 'properties': {'title': {'type': 'string'}, 'n': {'type': 'integer', 'default': 3}}}
    """
    if isinstance(schema, list):
        return [without_titles(item, defaults=defaults) for item in schema]
    if not isinstance(schema, dict):
        return schema
    cleaned = {}
    for key, value in schema.items():
        if key == "title" and isinstance(value, str):
            continue
        if key == "default" and (value is None or not defaults):
            continue
        if key in ("properties", "$defs", "patternProperties") and isinstance(value, dict):
            cleaned[key] = {name: without_titles(sub, defaults=defaults) for name, sub in value.items()}
        elif key in ("default", "const", "enum", "examples"):
            cleaned[key] = value  # values, not schemas
        else:
            cleaned[key] = without_titles(value, defaults=defaults)
    return cleaned


def register(server: ArgumentCheckingServer, tools: list[Tool], service: BPEService) -> None:
    """Add every row of ``tools`` to ``server``, each calling ``service``."""
    resolvers = _roots_resolvers(service.config)
    for tool in tools:
        server.argument_names[tool.name] = list(tool.input_model.model_fields)
        roots = tool.roots
        if roots == "paths" and "counts_path" not in tool.input_model.model_fields:
            roots = "paths only"  # a resolver may only name arguments the tool has
        server.add_tool(
            _tool_function(tool, service, resolvers[roots]),
            name=tool.name,
            title=tool.annotations.title,
            description=tool.description,
            annotations=tool.annotations,
            meta=tool.meta,
        )


def _tool_function(tool: Tool, service: BPEService, roots_resolver: Callable):
    """A plain function whose keyword arguments are the input model's fields, running ``tool.run``."""
    parameters = []
    for field_name, model_field in tool.input_model.model_fields.items():
        metadata = Field(description=model_field.description, title=model_field.title)
        annotation = Annotated[(model_field.annotation, *model_field.metadata, metadata)]
        default = (inspect.Parameter.empty if model_field.is_required()
                   else model_field.get_default(call_default_factory=True))
        parameters.append(inspect.Parameter(field_name, inspect.Parameter.KEYWORD_ONLY, default=default,
                                            annotation=annotation))
    parameters.append(inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=Context))
    roots_annotation = Annotated[ListRootsResult | None, Resolve(roots_resolver)]
    parameters.append(inspect.Parameter("client_roots", inspect.Parameter.KEYWORD_ONLY, annotation=roots_annotation))

    def function(**arguments: Any):
        ctx = arguments.pop("ctx")
        roots = arguments.pop("client_roots")
        _check_progress_token(ctx)
        try:
            args = tool.input_model.model_validate(arguments)
        except ValidationError as exc:
            raise ToolError(argument_errors.describe(exc)) from None
        call = ToolCall(service, _root_paths(roots), _progress_reporter(ctx), _cancel_requested)
        try:
            return tool.run(service, args, call)
        except CALLER_ERRORS as exc:
            raise ToolError(str(exc)) from None
        except OSError as exc:  # a file that passed the checks but cannot be read or written
            where = f"{exc.filename}: " if exc.filename else ""
            raise ToolError(f"{where}{exc.strerror or exc}") from None
        except TrainingCancelled:
            raise ToolError("the call was cancelled; nothing was saved") from None
        except EvaluationCancelled:
            raise ToolError("the call was cancelled") from None

    function.__name__ = function.__qualname__ = tool.name
    function.__signature__ = inspect.Signature(parameters, return_annotation=tool.result_model)
    function.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": tool.result_model}
    return function


#: Longest ``_meta.progressToken`` accepted (characters; an integer counts its digits).  Every progress
#: notification repeats the token, so a 3.5 MB token made each one 3.5 MB.
MAX_PROGRESS_TOKEN_CHARS = 256
#: Longest wait for one progress notification to be taken by the transport; after one such wait the call
#: sends no more progress (the client is not reading), so no worker thread waits on a client for long.
PROGRESS_SEND_TIMEOUT = 5.0


def _check_progress_token(ctx: Context) -> None:
    params = ctx.request_context.params or {}
    meta = params.get("_meta") if isinstance(params, Mapping) else None
    token = meta.get("progressToken") if isinstance(meta, Mapping) else None
    if token is not None and len(str(token)) > MAX_PROGRESS_TOKEN_CHARS:
        raise ToolError(
            f"the request's _meta.progressToken is {len(str(token)):,} characters long; this server accepts "
            f"progress tokens of at most {MAX_PROGRESS_TOKEN_CHARS} characters (every progress notification "
            "repeats it). Use a short string or an integer"
        )


def _progress_reporter(ctx: Context) -> Progress:
    """Send progress notifications from the worker thread through the event loop, never waiting long.

    A client that does not read its replies must not hold the worker thread:
    each notification may wait :data:`PROGRESS_SEND_TIMEOUT` seconds, and once
    one has timed out (or the server is stopping) the call sends no more.
    """
    state = {"stalled": False}

    async def send(progress: float, total: float, message: str) -> None:
        with anyio.move_on_after(PROGRESS_SEND_TIMEOUT) as scope:
            await ctx.report_progress(progress, total, message)
        if scope.cancelled_caught:
            state["stalled"] = True
            logger.info("the client is not taking progress notifications; no more are sent for this call")

    def report(progress: float, total: float, message: str) -> None:
        if state["stalled"] or stopping.is_set():
            return
        try:
            anyio.from_thread.run(send, progress, total, message)
        except Exception as exc:  # a vanished client must not break the training
            logger.debug("progress notification not sent: %r", exc)

    return report


def _cancel_requested() -> bool:
    """True once the MCP request running this worker thread was cancelled, or the server is stopping."""
    if stopping.is_set():
        return True
    try:
        anyio.from_thread.check_cancelled()
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception:
        return False  # not in an AnyIO worker thread: nothing can cancel us
    except BaseException:
        return True  # the event loop's cancellation exception
    return False


def _roots_resolvers(config: ServerConfig) -> dict[str, Callable]:
    """Resolvers that fetch the client's roots, only when a call needs files.

    They ask only clients that declare the roots capability; the SDK sends
    ``roots/list`` (2025-11-25) or an input request (2026-07-28).
    """

    def offers_roots(ctx: Context) -> bool:
        capabilities = ctx.client_capabilities
        return config.use_client_roots and capabilities is not None and capabilities.roots is not None

    def never() -> None:
        return None

    def when_paths_given(ctx: Context, paths: list[str] | None, counts_path: str | None = None) -> ListRoots | None:
        return ListRoots() if (paths or counts_path) and offers_roots(ctx) else None

    def when_only_paths_given(ctx: Context, paths: list[str] | None) -> ListRoots | None:
        return ListRoots() if paths and offers_roots(ctx) else None

    def always(ctx: Context) -> ListRoots | None:
        return ListRoots() if offers_roots(ctx) else None

    return {"never": never, "paths": when_paths_given, "paths only": when_only_paths_given, "always": always}


def _root_paths(roots: ListRootsResult | None) -> list[Path]:
    if roots is None:
        return []
    return paths_from_root_uris([str(root.uri) for root in roots.roots])
