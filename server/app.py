"""The MCP server: the tools of :mod:`server.tools`, plus resources, prompts and completions.

``build_server(config)`` returns an :class:`MCPServer` over one
:class:`~server.service.BPEService`.  The tools are the rows of
:data:`server.tools.TOOLS` (the plumbing is :mod:`server.tooling`); the
resources below serve stored tokenizers as documents, and completions
offer tokenizer names.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

import anyio.to_thread
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from mcp_types import Completion, CompletionArgument, PromptReference, ResourceTemplateReference

from bpe_core import BPEError, interop, reference
from bpe_core.interop.files import merge_lines

from . import auth, prompts, token_view_app, tooling
from .config import ServerConfig
from .service import BPEService
from .storage import REFERENCES, StoredTokenizer, StoreError, UnknownTokenizer, validate_name
from .tooling import ArgumentCheckingServer
from .tools import TOOLS

logger = logging.getLogger(__name__)

SERVER_NAME = "bpe"

INSTRUCTIONS = """\
Train, apply, explain and inspect BPE (byte-pair encoding) tokenizers, the kind GPT models use.
Tokenizers are stored by name: list_tokenizers shows them, and OpenAI's o200k_base (gpt-4o) and cl100k_base
(gpt-4), read-only. Typical flow: train_bpe (from text or files in the allowed roots) -> encode / decode ->
inspect_vocab -> explain (merge by merge) -> evaluate_tokenizer / compare_tokenizers (against o200k_base on
held-out text) -> export_tokenizer.
To teach BPE without storing anything, call explain with train_on (a small corpus) instead of a tokenizer.
Files can only be read or written inside the allowed roots (see list_tokenizers)."""


def build_server(config: ServerConfig, service: BPEService | None = None) -> MCPServer:
    """The MCP server for ``config`` (registers nothing global; safe to build several).

    Pass ``service`` to share one with the caller (tests reach the store and
    the running trainings through it); by default the server makes its own.
    """
    service = service or BPEService(config)
    server = ArgumentCheckingServer(SERVER_NAME, title="BPE tokenizers", instructions=INSTRUCTIONS,
                                    version=_version(), extensions=[token_view_app.extension()],
                                    **auth.server_options(config.auth_token))
    tooling.register(server, TOOLS, service)
    _register_resources(server, service)
    prompts.register(server, service.store)
    _register_completions(server, service)
    return server


# --- resources and completions ---------------------------------------------------------


def _register_resources(server: MCPServer, service: BPEService) -> None:
    store = service.store

    def load(name: str):
        """The stored tokenizer, if its documents fit in a reply (they are about as large as its file)."""
        try:
            validate_name(name)
        except StoreError as exc:  # a bad argument (JSON-RPC -32602), not a server failure
            raise ResourceNotFoundError(str(exc)) from None
        try:
            stored = store.load(name)
        except UnknownTokenizer as exc:
            raise ResourceNotFoundError(str(exc)) from None
        except StoreError as exc:
            raise ResourceError(str(exc)) from None
        check_reply_size(f"tokenizer {name!r}", stored.size_bytes)
        return stored

    def fitting(name: str, document: str) -> str:
        """``document``, if it fits in a reply: a document derived from a tokenizer can outgrow its file."""
        check_reply_size(f"this document of tokenizer {name!r}", len(document.encode("utf-8", "surrogatepass")))
        return document

    def check_reply_size(what: str, size: int) -> None:
        allowed = service.config.limits.max_reply_bytes
        if size > allowed:
            raise ResourceError(
                f"{what} is {size:,} bytes, over this server's reply size limit of {allowed:,} bytes "
                "(--max-reply-bytes); write it to files with export_tokenizer instead, or page through it with "
                "inspect_vocab"
            )

    @server.resource(
        "bpe://tokenizers",
        name="tokenizers",
        title="Stored tokenizers",
        description="The stored tokenizers and the read-only reference ones (same content as the list_tokenizers "
        "tool), as JSON.",
        mime_type="application/json",
    )
    def tokenizers() -> str:
        return service.list_tokenizers().model_dump_json(indent=2)

    def reader(document: TokenizerDocument):
        def read(name: str) -> str:
            return fitting(name, document.render(load(name)))

        return read

    for document in TOKENIZER_DOCUMENTS:
        server.resource(f"bpe://tokenizers/{{name}}{document.suffix}", name=document.name, title=document.title,
                        description=document.description, mime_type=document.mime_type)(reader(document))


# --- a stored tokenizer as documents ---------------------------------------------------


@dataclass(frozen=True)
class TokenizerDocument:
    """A resource that serves each stored tokenizer as one document, at ``bpe://tokenizers/{name}`` + ``suffix``.

    ``render`` writes the document of a loaded tokenizer; a tokenizer that
    cannot be written so is a :class:`ResourceError` that says why.
    """

    suffix: str
    name: str
    title: str
    description: str
    mime_type: str
    render: Callable[[StoredTokenizer], str]


def _native_json(stored: StoredTokenizer) -> str:
    try:
        return stored.path.read_text(encoding="utf-8")
    except OSError as exc:  # a reference tokenizer whose converted copy could not be cached
        raise ResourceError(f"tokenizer {stored.name!r} has no native JSON file to read ({exc.strerror or exc}); "
                            "write it with export_tokenizer format='native' instead") from None


def _tokenizer_json(stored: StoredTokenizer) -> str:
    try:
        document = interop.huggingface.to_tokenizer_json(stored.tokenizer)
    except BPEError as exc:
        raise ResourceError(f"tokenizer {stored.name!r} cannot be a tokenizer.json: {exc}") from None
    return json.dumps(document, ensure_ascii=False, indent=1)


def _vocab_json(stored: StoredTokenizer) -> str:
    ordered = dict(sorted(stored.tokenizer.vocab.items(), key=lambda item: item[1]))
    return json.dumps(ordered, ensure_ascii=False, indent=1)


TOKENIZER_DOCUMENTS = [
    TokenizerDocument(
        "", "tokenizer", "Tokenizer (native JSON)",
        "A stored tokenizer in bpe_core's native JSON format: mode, pattern, special tokens, vocabulary, merges and "
        "training report.",
        "application/json", _native_json,
    ),
    TokenizerDocument(
        "/tokenizer.json", "tokenizer-huggingface", "Tokenizer as Hugging Face tokenizer.json",
        "A stored byte-level tokenizer exported as a Hugging Face tokenizer.json document "
        "(tokenizers.Tokenizer.from_str can load it). Classic tokenizers cannot be expressed in this format.",
        "application/json", _tokenizer_json,
    ),
    TokenizerDocument(
        "/merges", "tokenizer-merges", "Tokenizer merges",
        "The merges in rank order, in the GPT-2 merges.txt layout: a '#version: 0.2' header line, then one "
        "'left right' pair per line.",
        "text/plain", lambda stored: merge_lines(stored.tokenizer.merges),
    ),
    TokenizerDocument(
        "/vocab", "tokenizer-vocab", "Tokenizer vocabulary",
        "The vocabulary as a JSON object from token (as stored) to id.",
        "application/json", _vocab_json,
    ),
]


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
        names += [*REFERENCES, *reference.MODEL_ALIASES]  # the read-only reference tokenizers, by any name
        typed = argument.value.lower()
        matches = [n for n in names if n.lower().startswith(typed)]
        return Completion(values=matches[:100], total=len(matches), has_more=len(matches) > 100)


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("mcp-server-bpe")
    except Exception:
        return "0.0.0"
