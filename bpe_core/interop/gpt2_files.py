"""GPT-2's ``vocab.json`` + ``merges.txt`` in and out.

The oldest byte-level format, still read by ``transformers``
(``GPT2Tokenizer``) and ``tokenizers`` (``BPE.from_file``):

* ``vocab.json``: token (in GPT-2 byte symbols) -> id, special tokens included;
* ``merges.txt``: ``#version: 0.2``, then one merge per line, ``Ġ t``.

Neither file names the pre-tokenizer pattern (readers assume GPT-2's) or
says which tokens are special.  On import, a token that no BPE could make
(not a single byte, not the result of any merge, like GPT-2's
``<|endoftext|>``) is taken as special unless ``special_tokens`` says
otherwise.

>>> from bpe_core import train
>>> tok = train("hello hello world", vocab_size=260, special_tokens=["<|endoftext|>"])
>>> merge_lines(tok.merges).splitlines()[:3]  # merges.txt
['#version: 0.2', 'e l', 'h el']
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

from ..errors import BPEError
from ..tokenizer import Tokenizer
from .files import (build_tokenizer, check_vocab, describe_paths, fail, merge_lines, ordered_vocab,
    read_json, read_merges, require_mode, unreachable_specials, write_json, write_text)

VOCAB_FILE = "vocab.json"
MERGES_FILE = "merges.txt"


def export_gpt2(tokenizer: Tokenizer, destination: str | os.PathLike) -> list[Path]:
    """Write ``vocab.json`` and ``merges.txt`` into the directory ``destination``."""
    require_mode(tokenizer, "byte_level", "GPT-2 vocab.json + merges.txt")
    directory = Path(destination)
    if directory.exists() and not directory.is_dir():
        raise BPEError(f"{directory} is a file; GPT-2 files go into a directory (vocab.json + merges.txt)")
    directory.mkdir(parents=True, exist_ok=True)
    return [write_json(directory / VOCAB_FILE, ordered_vocab(tokenizer)),
            write_text(directory / MERGES_FILE, merge_lines(tokenizer.merges))]


def gpt2_paths(paths: Iterable[str | os.PathLike]) -> tuple[Path, Path]:
    """``(vocab.json, merges.txt)`` from a directory, one of the two files, or both."""
    paths = [Path(p) for p in paths]
    if len(paths) == 1:
        (path,) = paths
        directory = path if path.is_dir() else path.parent
        paths = [directory / VOCAB_FILE, directory / MERGES_FILE]
    if len(paths) != 2:
        raise BPEError(f"GPT-2 files are a vocab.json and a merges.txt; got {len(paths)} paths")
    first, second = paths
    # By name when the names say it; otherwise the JSON one is the vocabulary.
    if first.name == MERGES_FILE or second.name == VOCAB_FILE or (
        first.suffix != ".json" and second.suffix == ".json"
    ):
        first, second = second, first
    for path in (first, second):
        if not path.is_file():
            raise fail(path, "does not exist; GPT-2 tokenizers need both vocab.json and merges.txt")
    return first, second


def import_gpt2(
    vocab_path: str | os.PathLike,
    merges_path: str | os.PathLike,
    *,
    pattern: str | None = None,
    special_tokens: Iterable[str] | None = None,
    max_vocab_size: int | None = None,
) -> Tokenizer:
    """Read ``vocab.json`` + ``merges.txt``; ``pattern`` defaults to ``"gpt2"``.
    With ``max_vocab_size``, larger files are refused before they are parsed."""
    vocab = dict(check_vocab(read_json(vocab_path, max_vocab_size), vocab_path, max_vocab_size=max_vocab_size))
    merges = read_merges(merges_path, "the merges", max_vocab_size)
    for rank, (left, right) in enumerate(merges):
        for part in (left, right, left + right):
            if part not in vocab:
                raise fail(merges_path, f"merge #{rank} ({left!r}, {right!r}) uses {part!r}, which is not in "
                                        f"{Path(vocab_path).name}; the two files do not belong together")
    if special_tokens is None:
        special_tokens = unreachable_specials(vocab, merges)
    else:
        special_tokens = list(special_tokens)
        for special in special_tokens:
            if special not in vocab:
                raise fail(vocab_path, f"special token {special!r} is not in the vocabulary")
    return build_tokenizer(describe_paths([vocab_path, merges_path]), mode="byte_level", vocab=vocab, merges=merges,
                           pattern=pattern or "gpt2", special_tokens=special_tokens)
