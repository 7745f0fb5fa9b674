"""What the server offers: one row per tool.

Each row names the tool, its input model (whose docstring is the tool's
description, beside its arguments in :mod:`server.schemas`), its result
model, its annotations, when it needs the client's roots, and the one
:class:`~server.service.BPEService` call it makes.  Adding a tool is a row
here, its models, its service function and its tests; the plumbing that
turns a row into an MCP tool is :mod:`server.tooling`.
"""

from __future__ import annotations

from . import schemas as s
from . import token_view_app
from .tooling import Tool, changes_storage, read_only, summary_first


def _on_held_out(measure: str):
    """The handler of a tool that measures held-out text and/or files (``args.paths``, read inside the
    roots): it sends progress, stops when cancelled, and replies with the summary first.

    ``measure`` names the :class:`~server.service.BPEService` method, e.g. ``"evaluate"``, that returns
    ``(result, summary)``.
    """
    return lambda service, args, call: summary_first(*getattr(service, measure)(
        args, files=call.files() if args.paths else None, progress=call.progress, should_stop=call.should_stop))


TOOLS: list[Tool] = [
    Tool(
        "train_bpe", s.TrainInput, s.TrainResult,
        lambda service, args, call: service.train(
            args, files=call.files() if args.paths or args.counts_path else None, progress=call.progress,
            should_stop=call.should_stop),
        changes_storage("Train a BPE tokenizer", idempotent=False),
        roots="paths",
    ),
    Tool(
        "encode", s.EncodeInput, s.EncodeResult,
        lambda service, args, call: token_view_app.with_readable_tokens(service.encode(args)),
        read_only("Encode text"),
        meta=token_view_app.TOOL_META,
    ),
    Tool("decode", s.DecodeInput, s.DecodeResult, lambda service, args, call: service.decode(args),
         read_only("Decode ids")),
    Tool("inspect_vocab", s.InspectInput, s.VocabView, lambda service, args, call: service.inspect(args),
         read_only("Inspect a vocabulary")),
    Tool("explain", s.ExplainInput, s.ExplainResult, lambda service, args, call: service.explain(args),
         read_only("Explain BPE step by step")),
    Tool("list_tokenizers", s.ListInput, s.TokenizerList, lambda service, args, call: service.list_tokenizers(),
         read_only("List tokenizers")),
    Tool("delete_tokenizer", s.DeleteInput, s.DeleteResult, lambda service, args, call: service.delete(args),
         changes_storage("Delete a tokenizer", idempotent=True)),
    Tool(
        "import_tokenizer", s.ImportInput, s.ImportResult,
        lambda service, args, call: service.import_tokenizer(args, files=call.files()),
        changes_storage("Import a tokenizer file", idempotent=True),
        roots="always",
    ),
    Tool("evaluate_tokenizer", s.EvaluateInput, s.EvaluateResult, _on_held_out("evaluate"),
         read_only("Evaluate a tokenizer"), roots="paths"),
    Tool("compare_tokenizers", s.CompareInput, s.CompareResult, _on_held_out("compare"),
         read_only("Compare tokenizers"), roots="paths", meta=token_view_app.TOOL_META),
    Tool(
        "export_tokenizer", s.ExportInput, s.ExportResult,
        lambda service, args, call: service.export_tokenizer(args, files=call.files()),
        changes_storage("Export a tokenizer to files", idempotent=True),
        roots="always",
    ),
]
