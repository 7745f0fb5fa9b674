"""The MCP server: tools, resources, prompts and completions over :class:`BPEService`.

``build_server(config)`` returns an :class:`MCPServer`.  Every tool is a
plain function run in a worker thread (so a long training never blocks the
event loop) whose arguments come from one pydantic ``...Input`` model in
:mod:`server.schemas`, and whose result is one output model.  Errors the
caller can fix become tool errors with the engine's message; cancellation
of a call reaches the training loop through ``should_stop``.
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any

import anyio.from_thread
import anyio.to_thread
from mcp.server.mcpserver import Context, ListRoots, MCPServer, Resolve
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError
from mcp_types import (
    Completion,
    CompletionArgument,
    ListRootsResult,
    PromptReference,
    ResourceTemplateReference,
    ToolAnnotations,
)
from pydantic import BaseModel, Field, ValidationError

from bpe_core import BPEError, TrainingCancelled, interop

from . import auth, prompts
from . import schemas as s
from .config import LimitExceeded, ServerConfig
from .files import FileAccessError, paths_from_root_uris
from .service import BPEService
from .shutdown import stopping
from .storage import StoreError, UnknownTokenizer, validate_name

logger = logging.getLogger(__name__)

SERVER_NAME = "bpe"

INSTRUCTIONS = """\
Train, apply, explain and inspect BPE (byte-pair encoding) tokenizers, the kind GPT models use.
Tokenizers are stored by name: list_tokenizers shows them. Typical flow: train_bpe (from text or files in
the allowed roots) -> encode / decode -> inspect_vocab -> explain (merge by merge) -> export_tokenizer.
To teach BPE without storing anything, call explain with train_on (a small corpus) instead of a tokenizer.
Files can only be read or written inside the allowed roots (see list_tokenizers)."""

# Errors whose message is written for the caller: they become tool errors.
_CALLER_ERRORS = (BPEError, StoreError, FileAccessError, LimitExceeded)



def _read_only(title: str) -> ToolAnnotations:
    return ToolAnnotations(title=title, read_only_hint=True, idempotent_hint=True, open_world_hint=False)


def build_server(config: ServerConfig) -> MCPServer:
    """The MCP server for ``config`` (register nothing global; safe to build several)."""
    service = BPEService(config)
    server = MCPServer(SERVER_NAME, title="BPE tokenizers", instructions=INSTRUCTIONS, version=_version(),
                       **auth.server_options(config.auth_token))
    server.service = service  # tests reach the store and running trainings through it

    client_roots = _roots_resolvers(config)

    def add(name, input_model, output_model, handler, *, description, annotations, roots=None):
        server.add_tool(
            _tool_function(name, input_model, output_model, handler, roots),
            name=name,
            title=annotations.title,
            description=description,
            annotations=annotations,
        )

    # --- tools ---------------------------------------------------------------------

    def train(args: s.TrainInput, ctx: Context, roots: ListRootsResult | None) -> s.TrainResult:
        return service.train(
            args,
            files=service.file_access(_root_paths(roots)) if args.paths else None,
            progress=_progress_reporter(ctx),
            should_stop=_cancel_requested,
        )

    add(
        "train_bpe",
        s.TrainInput,
        s.TrainResult,
        train,
        roots=client_roots["paths"],
        description=(
            "Train a BPE tokenizer on a corpus and save it under a name, for later use with encode, decode, "
            "inspect_vocab, explain and export_tokenizer. The corpus is `text`, and/or `paths` (files, "
            "directories or glob patterns inside the server's allowed roots). Choose `vocab_size` (final "
            "vocabulary size; byte-level BPE starts with 256 byte tokens) and/or `num_merges`. `mode` "
            "'byte_level' (default, GPT-2 style, any language) or 'classic' (the textbook algorithm with "
            "'</w>'). An existing name is refused unless overwrite=true. Sends progress notifications; "
            "cancelling the call stops training and saves nothing. Returns the vocabulary size, merges learned, "
            "why training stopped, corpus statistics, timings, the first merges, and the tokenizer's resource URI."
        ),
        annotations=ToolAnnotations(
            title="Train a BPE tokenizer", read_only_hint=False, destructive_hint=True,
            idempotent_hint=False, open_world_hint=False,
        ),
    )
    add(
        "encode",
        s.EncodeInput,
        s.EncodeResult,
        lambda args, ctx, roots: service.encode(args),
        description=(
            "Turn text into token ids with a stored tokenizer. Give `text` (one string) or `texts` (a batch). "
            "Set return_tokens / return_offsets to see each token's readable text and character span. For "
            "model input, batches can be truncated (max_length, truncation_side) and padded (padding, "
            "padding_side, pad_token), which adds an attention_mask (1 = real token, 0 = padding). Special-token "
            "strings in the text are an error unless listed in allowed_special (then they become their id) or "
            "disallowed_special=[] (then they are plain text). Returns one encoding per text and the total count."
        ),
        annotations=_read_only("Encode text"),
    )
    add(
        "decode",
        s.DecodeInput,
        s.DecodeResult,
        lambda args, ctx, roots: service.decode(args),
        description=(
            "Turn token ids back into text with a stored tokenizer (the inverse of encode). Byte-level "
            "tokenizers restore the text exactly; classic ones join words with single spaces. Returns the text "
            "and whether the bytes were valid UTF-8 (ids cut in the middle of a character are not)."
        ),
        annotations=_read_only("Decode ids"),
    )
    add(
        "inspect_vocab",
        s.InspectInput,
        s.VocabView,
        lambda args, ctx, roots: service.inspect(args),
        description=(
            "Look inside a stored tokenizer. view='summary' (default): mode, pre-tokenizer, vocabulary size, "
            "merges, special tokens and a histogram of token lengths. view='tokens': a page of tokens with id, "
            "readable text, length and the merge that made each; sort by id, length or alphabetically; filter "
            "with `contains` or `regex`. view='merges': a page of merges in rank order as [left, right] pairs. "
            "view='token' with `id` or `token`: one token's bytes and the tree of merges that builds it. Pages "
            f"hold at most {s.PAGE_LIMIT_MAX} items and say how to fetch the next one (next_offset)."
        ),
        annotations=_read_only("Inspect a vocabulary"),
    )
    add(
        "explain",
        s.ExplainInput,
        s.ExplainResult,
        lambda args, ctx, roots: service.explain(args),
        description=(
            "Show, merge by merge, how BPE turns a word or short text into tokens: the word spelled as "
            "characters or bytes, each merge applied (which pair, which rank) and the symbols after it, then the "
            "final tokens and ids. Use a stored `tokenizer`, or give `train_on` (a small corpus such as "
            "'low low low lower newest newest widest') to first learn `num_merges` merges, which are listed too, "
            "without storing anything. Best for teaching or debugging a surprising tokenization. Returns the "
            "steps as data and as a readable `walkthrough`."
        ),
        annotations=_read_only("Explain BPE step by step"),
    )
    add(
        "list_tokenizers",
        s.ListInput,
        s.TokenizerList,
        lambda args, ctx, roots: service.list_tokenizers(),
        description=(
            "List the stored tokenizers with their mode, vocabulary size, merges, special tokens and resource "
            "URI; files that are not valid tokenizers are reported under `unreadable`. Also shows the data "
            "directory and the allowed roots set at server start (the client's own roots are allowed too). "
            "Call this first to find tokenizer names."
        ),
        annotations=_read_only("List tokenizers"),
    )
    add(
        "delete_tokenizer",
        s.DeleteInput,
        s.DeleteResult,
        lambda args, ctx, roots: service.delete(args),
        description=(
            "Delete a stored tokenizer by name, permanently (there is no undo). Use it to remove a tokenizer that "
            "is no longer needed; to replace one, train_bpe with overwrite=true is enough. Files written by "
            "export_tokenizer are not touched. Returns the names that remain."
        ),
        annotations=ToolAnnotations(
            title="Delete a tokenizer", read_only_hint=False, destructive_hint=True,
            idempotent_hint=True, open_world_hint=False,
        ),
    )

    def import_(args: s.ImportInput, ctx: Context, roots: ListRootsResult | None) -> s.ImportResult:
        return service.import_tokenizer(args, files=service.file_access(_root_paths(roots)))

    add(
        "import_tokenizer",
        s.ImportInput,
        s.ImportResult,
        import_,
        roots=client_roots["always"],
        description=(
            "Import a tokenizer made elsewhere and store it under a name, so that encode, explain, "
            "inspect_vocab and the other tools can use it: a Hugging Face tokenizer.json (byte-level BPE), a "
            "tiktoken .tiktoken file (with pattern='cl100k' or 'o200k' for OpenAI's files unless the companion "
            ".tiktoken.json is present), a GPT-2 vocab.json + merges.txt pair, a subword-nmt codes file, or "
            "bpe_core's native JSON. Files must be inside the allowed roots. The import is exact or refused "
            "with the reason. Returns the stored name, format, mode, sizes and special tokens."
        ),
        annotations=ToolAnnotations(
            title="Import a tokenizer file", read_only_hint=False, destructive_hint=True,
            idempotent_hint=True, open_world_hint=False,
        ),
    )

    def export(args: s.ExportInput, ctx: Context, roots: ListRootsResult | None) -> s.ExportResult:
        return service.export_tokenizer(args, files=service.file_access(_root_paths(roots)))

    add(
        "export_tokenizer",
        s.ExportInput,
        s.ExportResult,
        export,
        roots=client_roots["always"],
        description=(
            "Write a stored tokenizer to files other libraries read, inside the allowed roots: format "
            "'huggingface' (tokenizer.json for the tokenizers / transformers libraries, the default), 'tiktoken', "
            "'gpt2' (vocab.json + merges.txt), 'subword_nmt' (classic tokenizers) or 'native'. Byte-level "
            "tokenizers fit the first three; classic ones only subword_nmt and native. Existing files are refused "
            "unless overwrite=true. Returns the files written and notes on how to load them."
        ),
        annotations=ToolAnnotations(
            title="Export a tokenizer to files", read_only_hint=False, destructive_hint=True,
            idempotent_hint=True, open_world_hint=False,
        ),
    )

    _register_resources(server, service)
    prompts.register(server)
    _register_completions(server, service)
    return server


# --- tool plumbing -------------------------------------------------------------------


def _tool_function(
    name: str, input_model: type[BaseModel], output_model: type[BaseModel], handler: Callable, roots_resolver=None
):
    """A plain function whose keyword arguments are ``input_model``'s fields.

    The SDK builds a tool's input schema from its function signature, so the
    signature is generated from the model (each field with its type,
    constraints and description).  The body validates the arguments against
    the full model (cross-field rules included), runs ``handler(args, ctx,
    roots)`` and turns errors the caller can fix into tool errors.
    """
    parameters = []
    for field_name, field in input_model.model_fields.items():
        metadata = Field(description=field.description, title=field.title)
        annotation = Annotated[(field.annotation, *field.metadata, metadata)]
        default = inspect.Parameter.empty if field.is_required() else field.get_default(call_default_factory=True)
        parameters.append(inspect.Parameter(field_name, inspect.Parameter.KEYWORD_ONLY, default=default,
                                            annotation=annotation))
    parameters.append(inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=Context))
    roots_annotation = Annotated[ListRootsResult | None, Resolve(roots_resolver or _no_roots)]
    parameters.append(inspect.Parameter("client_roots", inspect.Parameter.KEYWORD_ONLY, annotation=roots_annotation))

    def tool(**arguments: Any):
        ctx = arguments.pop("ctx")
        roots = arguments.pop("client_roots")
        _check_progress_token(ctx)
        try:
            args = input_model.model_validate(arguments)
        except ValidationError as exc:
            raise ToolError(_validation_message(exc)) from None
        try:
            return handler(args, ctx, roots)
        except _CALLER_ERRORS as exc:
            raise ToolError(str(exc)) from None
        except OSError as exc:  # a file that passed the checks but cannot be read or written
            where = f"{exc.filename}: " if exc.filename else ""
            raise ToolError(f"{where}{exc.strerror or exc}") from None
        except TrainingCancelled:
            raise ToolError("the call was cancelled; nothing was saved") from None

    tool.__name__ = tool.__qualname__ = name
    tool.__signature__ = inspect.Signature(parameters, return_annotation=output_model)
    tool.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": output_model}
    return tool


def _validation_message(error: ValidationError) -> str:
    problems = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"])
        message = item["msg"].removeprefix("Value error, ")
        problems.append(f"{where}: {message}" if where else message)
    return "invalid arguments: " + "; ".join(problems)


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


def _progress_reporter(ctx: Context):
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


def _no_roots() -> None:
    return None


def _roots_resolvers(config: ServerConfig) -> dict[str, Callable]:
    """Resolvers that fetch the client's roots, only when a call needs files.

    They ask only clients that declare the roots capability; the SDK sends
    ``roots/list`` (2025-11-25) or an input request (2026-07-28).
    """

    def offers_roots(ctx: Context) -> bool:
        capabilities = ctx.client_capabilities
        return config.use_client_roots and capabilities is not None and capabilities.roots is not None

    def roots_for_paths(ctx: Context, paths: list[str] | None) -> ListRoots | None:
        return ListRoots() if paths and offers_roots(ctx) else None

    def roots_always(ctx: Context) -> ListRoots | None:
        return ListRoots() if offers_roots(ctx) else None

    return {"paths": roots_for_paths, "always": roots_always}


def _root_paths(roots: ListRootsResult | None) -> list[Path]:
    if roots is None:
        return []
    return paths_from_root_uris([str(root.uri) for root in roots.roots])


# --- resources and completions ---------------------------------------------------------


def _register_resources(server: MCPServer, service: BPEService) -> None:
    store = service.store

    def load(name: str):
        try:
            validate_name(name)
        except StoreError as exc:  # a bad argument (JSON-RPC -32602), not a server failure
            raise ResourceNotFoundError(str(exc)) from None
        try:
            return store.load(name)
        except UnknownTokenizer as exc:
            raise ResourceNotFoundError(str(exc)) from None
        except StoreError as exc:
            raise ResourceError(str(exc)) from None

    @server.resource(
        "bpe://tokenizers",
        name="tokenizers",
        title="Stored tokenizers",
        description="The stored tokenizers (same content as the list_tokenizers tool), as JSON.",
        mime_type="application/json",
    )
    def tokenizers() -> str:
        return service.list_tokenizers().model_dump_json(indent=2)

    @server.resource(
        "bpe://tokenizers/{name}",
        name="tokenizer",
        title="Tokenizer (native JSON)",
        description="A stored tokenizer in bpe_core's native JSON format: mode, pattern, special tokens, "
        "vocabulary, merges and training report.",
        mime_type="application/json",
    )
    def tokenizer_native(name: str) -> str:
        return load(name).path.read_text(encoding="utf-8")

    @server.resource(
        "bpe://tokenizers/{name}/tokenizer.json",
        name="tokenizer-huggingface",
        title="Tokenizer as Hugging Face tokenizer.json",
        description="A stored byte-level tokenizer exported as a Hugging Face tokenizer.json document "
        "(tokenizers.Tokenizer.from_str can load it). Classic tokenizers cannot be expressed in this format.",
        mime_type="application/json",
    )
    def tokenizer_huggingface(name: str) -> str:
        tokenizer = load(name).tokenizer
        try:
            document = interop.huggingface.to_tokenizer_json(tokenizer)
        except BPEError as exc:
            raise ResourceError(f"tokenizer {name!r} cannot be a tokenizer.json: {exc}") from None
        return json.dumps(document, ensure_ascii=False, indent=1)

    @server.resource(
        "bpe://tokenizers/{name}/merges",
        name="tokenizer-merges",
        title="Tokenizer merges",
        description="The merges in rank order, one 'left right' pair per line (the GPT-2 merges.txt layout).",
        mime_type="text/plain",
    )
    def tokenizer_merges(name: str) -> str:
        tokenizer = load(name).tokenizer
        return "#version: 0.2\n" + "".join(f"{left} {right}\n" for left, right in tokenizer.merges)

    @server.resource(
        "bpe://tokenizers/{name}/vocab",
        name="tokenizer-vocab",
        title="Tokenizer vocabulary",
        description="The vocabulary as a JSON object from token (as stored) to id.",
        mime_type="application/json",
    )
    def tokenizer_vocab(name: str) -> str:
        tokenizer = load(name).tokenizer
        ordered = dict(sorted(tokenizer.vocab.items(), key=lambda item: item[1]))
        return json.dumps(ordered, ensure_ascii=False, indent=1)


def _register_completions(server: MCPServer, service: BPEService) -> None:
    @server.completion()
    async def complete(ref, argument: CompletionArgument, context) -> Completion | None:
        wants_name = (
            isinstance(ref, ResourceTemplateReference)
            and ref.uri.startswith("bpe://tokenizers/")
            and argument.name == "name"
        ) or (isinstance(ref, PromptReference) and argument.name == "tokenizer")
        if not wants_name:
            return None
        names = await anyio.to_thread.run_sync(service.store.names)
        typed = argument.value.lower()
        matches = [n for n in names if n.lower().startswith(typed)]
        return Completion(values=matches[:100], total=len(matches), has_more=len(matches) > 100)


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("mcp-server-bpe")
    except Exception:
        return "0.0.0"
