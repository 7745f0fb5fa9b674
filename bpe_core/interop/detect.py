"""Telling tokenizer file formats apart, by name first and content second.

>>> detect_format("tokenizer.json")
'huggingface'
>>> detect_format(["vocab.json", "merges.txt"])
'gpt2'
>>> detect_format("cl100k_base.tiktoken")
'tiktoken'

A name that settles nothing (``model.json``, ``codes``) is opened and
sniffed: a JSON object with a ``model`` is a tokenizer.json, a text whose
first line is ``#version`` holds merges, lines of ``base64 rank`` are ranks.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Sequence

from ..errors import BPEError, TokenizerFileError
from ..serialization import FORMAT_NAME
from . import gpt2_files, huggingface, subword_nmt, tiktoken_files
from .files import read_bytes, read_json

_RANK_LINE = re.compile(rb"^[A-Za-z0-9+/=]+ \d+\r?$")
_SNIFF_BYTES = 1 << 16


def detect_format(path_or_paths: str | os.PathLike | Sequence[str | os.PathLike]) -> str:
    """The format name of a file, a directory, or a (vocab.json, merges.txt) pair."""
    if not isinstance(path_or_paths, (str, os.PathLike)):
        paths = [Path(p) for p in path_or_paths]
        if len(paths) == 2:
            return "gpt2"
        if len(paths) != 1:
            raise BPEError(f"give one tokenizer file (or vocab.json + merges.txt); got {len(paths)} paths")
        path_or_paths = paths[0]
    path = Path(path_or_paths)
    if path.is_dir():
        return _detect_directory(path)
    name = path.name
    if name == huggingface.FILE_NAME:
        return "huggingface"
    if name.endswith(tiktoken_files.SUFFIX) or name.endswith(tiktoken_files.SUFFIX + ".json"):
        return "tiktoken"
    if name.endswith(".vocab.json"):
        return "subword_nmt"
    if name in (gpt2_files.VOCAB_FILE, gpt2_files.MERGES_FILE):
        return "gpt2"
    if not path.is_file():
        raise TokenizerFileError(f"{path}: no such file")
    return _sniff(path)


def _detect_directory(directory: Path) -> str:
    present = {p.name for p in directory.iterdir()}
    if huggingface.FILE_NAME in present:
        return "huggingface"
    if {gpt2_files.VOCAB_FILE, gpt2_files.MERGES_FILE} <= present:
        return "gpt2"
    if subword_nmt.DEFAULT_FILE in present:
        return "subword_nmt"
    raise TokenizerFileError(
        f"{directory}: a directory with neither tokenizer.json, vocab.json + merges.txt nor codes.txt "
        f"(found: {', '.join(sorted(present)[:8]) or 'nothing'}); name the file to import"
    )


def _sniff(path: Path) -> str:
    head = read_bytes(path)[:_SNIFF_BYTES]
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith((b"{", b"[")):
        return _sniff_json(path)
    lines = [line for line in head.split(b"\n")[:5] if line.strip()]
    if lines and lines[0].startswith(b"#version"):
        return "subword_nmt" if b"</w>" in head else "gpt2"
    if lines and all(_RANK_LINE.match(line) for line in lines[:-1] or lines):
        return "tiktoken"
    raise TokenizerFileError(
        f"{path}: cannot tell which tokenizer format this is (not JSON, no '#version' merges header, not "
        "'base64 rank' lines); pass format= (huggingface, tiktoken, gpt2, subword_nmt or native)"
    )


def _sniff_json(path: Path) -> str:
    document = read_json(path)
    if isinstance(document, dict):
        if document.get("format") == FORMAT_NAME:
            return "native"
        if document.get("format") == tiktoken_files.SPEC_FORMAT:
            return "tiktoken"
        if document.get("format") == subword_nmt.VOCAB_FORMAT:
            return "subword_nmt"
        if isinstance(document.get("model"), dict):
            return "huggingface"
        if document and all(isinstance(v, int) for v in document.values()):
            return "gpt2"
    raise TokenizerFileError(
        f"{path}: a JSON file that is neither a bpe_core tokenizer, a Hugging Face tokenizer.json nor a "
        f"GPT-2 vocab.json (it starts {json.dumps(document)[:60]})"
    )
