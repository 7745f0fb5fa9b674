"""Tokenizer files of other libraries, in and out, exactly.

Two entry points, used by the command line and the MCP server alike:

>>> import tempfile, pathlib
>>> from bpe_core import train
>>> tok = train("hello hello world", vocab_size=260, special_tokens=["<|end|>"])
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> result = export_tokenizer(tok, "huggingface", folder / "tokenizer.json")
>>> [p.name for p in result.files]
['tokenizer.json']
>>> import_tokenizer(folder / "tokenizer.json").encode("hello world") == tok.encode("hello world")
True

Formats (one module each, sharing :mod:`~bpe_core.interop.files`):

* ``huggingface``: ``tokenizer.json`` (byte-level), read by ``tokenizers.Tokenizer.from_file``;
* ``tiktoken``: a ``.tiktoken`` rank file plus ``.tiktoken.json`` (pattern, special tokens);
* ``gpt2``: ``vocab.json`` + ``merges.txt`` in a directory (byte-level);
* ``subword_nmt``: a codes file plus ``.vocab.json`` (classic, ``</w>`` its own symbol);
* ``native``: bpe_core's own JSON (:mod:`bpe_core.serialization`).

A format that cannot hold a tokenizer exactly refuses it with the reason
(a classic tokenizer cannot be a ``tokenizer.json``: see
:data:`~bpe_core.interop.huggingface.CLASSIC_ADVICE`); so does an import
of a file we cannot reproduce exactly.  Every file problem is a
:class:`~bpe_core.errors.TokenizerFileError` naming the file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

from ..errors import BPEError
from ..serialization import load_tokenizer, save_tokenizer, tokenizer_from_dict
from ..tokenizer import Tokenizer
from .detect import detect_format
from .files import check_count, read_json
from .gpt2_files import export_gpt2, gpt2_paths, import_gpt2
from .huggingface import export_huggingface, import_huggingface
from .subword_nmt import export_subword_nmt, import_subword_nmt
from .tiktoken_files import SUFFIX as TIKTOKEN_SUFFIX
from .tiktoken_files import export_tiktoken, import_tiktoken, usage_snippet

FORMATS = ("huggingface", "tiktoken", "gpt2", "subword_nmt", "native")
_ALIASES = {"hf": "huggingface", "tokenizer.json": "huggingface", "tokenizers": "huggingface",
            "vocab_merges": "gpt2", "subword-nmt": "subword_nmt", "codes": "subword_nmt", "bpe_core": "native"}

PathLike = str | os.PathLike
SpecialTokens = Sequence[str] | Mapping[str, int]


@dataclass
class ExportResult:
    """What :func:`export_tokenizer` wrote, and what a reader of it must know."""

    format: str
    files: list[Path]
    notes: list[str] = field(default_factory=list)


def format_name(name: str) -> str:
    """The canonical format name (``"hf"`` -> ``"huggingface"``), or a helpful error."""
    key = str(name).strip().lower()
    key = _ALIASES.get(key, key.replace("-", "_"))
    if key not in FORMATS:
        raise BPEError(f"unknown tokenizer file format {name!r}; choose one of {', '.join(FORMATS)}")
    return key


def export_tokenizer(tokenizer: Tokenizer, format: str, destination: PathLike) -> ExportResult:
    """Write ``tokenizer`` in ``format`` at ``destination`` (atomically, file by file).

    ``destination`` is a file for ``huggingface``, ``tiktoken``,
    ``subword_nmt`` and ``native`` (an existing directory gets a default
    name), a directory for ``gpt2``.
    """
    kind = format_name(format)
    if kind == "huggingface":
        files = export_huggingface(tokenizer, destination)
        notes = [
            f"load with tokenizers.Tokenizer.from_file({str(files[0])!r})",
            "tokenizers always recognises special tokens in text: compare with encode(text, allowed_special='all'), "
            "and decode with skip_special_tokens=False to keep them",
        ]
    elif kind == "tiktoken":
        files = export_tiktoken(tokenizer, destination)
        notes = [
            f"{files[1].name} holds the pattern and special tokens; build the Encoding with:\n"
            + usage_snippet(str(files[0]), str(files[1])).rstrip("\n"),
            "pass allowed_special='all' (or a set) to tiktoken's encode to turn special-token text into special tokens",
        ]
    elif kind == "gpt2":
        files = export_gpt2(tokenizer, destination)
        notes = _gpt2_notes(tokenizer)
    elif kind == "subword_nmt":
        files = export_subword_nmt(tokenizer, destination)
        notes = [
            "the codes use subword-nmt's layout but keep </w> as a symbol of its own (this classic model); "
            "subword-nmt's apply-bpe glues </w> to the last character and would segment differently, so "
            "read them back with bpe_core (python -m bpe_core import)",
        ]
    else:
        path = Path(destination)
        files = [save_tokenizer(tokenizer, path / "tokenizer.bpe.json" if path.is_dir() else path)]
        notes = []
    return ExportResult(kind, files, notes)


def _gpt2_notes(tokenizer: Tokenizer) -> list[str]:
    notes = []
    if tokenizer.pattern_name != "gpt2":
        notes.append(
            f"vocab.json + merges.txt hold no pre-tokenizer, and readers assume GPT-2's; this tokenizer uses "
            f"{tokenizer.pattern_name} ({tokenizer.pre_tokenizer.pattern!r}), so tell the reader (import here "
            f"with pattern=...)"
        )
    if tokenizer.special_tokens:
        notes.append(
            f"the special tokens {list(tokenizer.special_tokens)} are in vocab.json but nothing marks them special; "
            "register them with the reader (tokenizers: add_special_tokens)"
        )
    return notes


def import_tokenizer(
    path_or_paths: PathLike | Sequence[PathLike],
    format: str | None = None,
    *,
    pattern: str | None = None,
    special_tokens: SpecialTokens | None = None,
    max_vocab_size: int | None = None,
) -> Tokenizer:
    """Read a tokenizer in any supported format (detected when ``format`` is None).

    * ``pattern``: for files that store none (``tiktoken`` without its
      ``.tiktoken.json``, ``gpt2``, which defaults to ``"gpt2"``);
    * ``special_tokens``: names (ids taken from the vocabulary, or, for
      tiktoken, numbered after the last rank) or a ``{name: id}`` mapping;
      by default the file's own (``gpt2``: tokens no merge can make);
    * ``max_vocab_size``: refuse (:class:`~bpe_core.errors.BudgetExceeded`)
      a file with more tokens or merges, as early as the format allows:
      from its size before reading, from its line or entry count before
      anything is built.

    Nothing is kept from a file that fails: the tokenizer is built last.
    """
    if isinstance(path_or_paths, (str, os.PathLike)):
        paths = [Path(path_or_paths)]
    else:
        paths = [Path(p) for p in path_or_paths]
    kind = format_name(format) if format is not None else detect_format(paths)
    if kind == "gpt2":
        vocab_path, merges_path = gpt2_paths(paths)
        tokenizer = import_gpt2(vocab_path, merges_path, pattern=pattern, special_tokens=special_tokens,
                                max_vocab_size=max_vocab_size)
        return _checked_ids(tokenizer, special_tokens, vocab_path)
    if len(paths) != 1:
        raise BPEError(f"the {kind} format is one file; got {len(paths)} paths")
    path = paths[0]
    if kind == "tiktoken":
        if path.name.endswith(TIKTOKEN_SUFFIX + ".json"):
            path = path.with_name(path.name[: -len(".json")])
        return import_tiktoken(path, pattern=pattern, special_tokens=special_tokens, max_vocab_size=max_vocab_size)
    _refuse_options(kind, path, pattern=pattern)
    if kind == "subword_nmt":
        if path.name.endswith(".vocab.json"):
            path = path.with_name(path.name[: -len(".vocab.json")])
        tokenizer = import_subword_nmt(path, special_tokens=special_tokens, max_vocab_size=max_vocab_size)
        return _checked_ids(tokenizer, special_tokens, path)
    _refuse_options(kind, path, special_tokens=special_tokens)
    if kind == "huggingface":
        return import_huggingface(path, max_vocab_size=max_vocab_size)
    if max_vocab_size is None:
        return load_tokenizer(path)
    document = read_json(path, max_vocab_size)
    if isinstance(document, dict):
        for part in ("vocab", "merges"):
            if isinstance(document.get(part), (dict, list)):
                check_count(path, part, len(document[part]), max_vocab_size)
    return tokenizer_from_dict(document, str(path))


def _refuse_options(kind: str, path: Path, **options) -> None:
    for option, value in options.items():
        if value is not None:
            raise BPEError(f"{path}: a {kind} file stores its own {option.replace('_', ' ')}; leave {option} out")


def _checked_ids(tokenizer: Tokenizer, special_tokens: SpecialTokens | None, path) -> Tokenizer:
    """A ``{name: id}`` mapping given for a format that stores ids must agree with the file."""
    if isinstance(special_tokens, Mapping):
        for name, token_id in special_tokens.items():
            if tokenizer.special_tokens.get(name) != token_id:
                raise BPEError(f"{path}: special token {name!r} has id {tokenizer.special_tokens.get(name)} in the "
                               f"file, not {token_id}; pass the names only to take the file's ids")
    return tokenizer


__all__ = ["ExportResult", "FORMATS", "detect_format", "export_tokenizer", "format_name", "import_tokenizer"]
