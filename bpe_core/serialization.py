"""The native file format: one versioned JSON document per tokenizer.

It holds everything needed to rebuild an identical tokenizer (mode,
pattern, special tokens, vocabulary, merges) plus the training report::

    {"format": "bpe_core.tokenizer", "version": 1, "mode": "byte_level",
     "pattern": {"name": "gpt2", "regex": "..."}, "special_tokens": [...],
     "unk_token": null, "vocab": {"!": 0, ...}, "merges": [["Ġ", "t"], ...],
     "training": {...}}

Saving is atomic: the document goes to a temporary file in the same
directory, is flushed to disk, then renamed over the target, so a reader
sees the old file or the new one, never half of one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from .atomic_files import create_atomically, write_atomically
from .errors import BPEError, TokenizerFileError
from .pretokenize import PRESET_PATTERNS, WHITESPACE, lone_surrogate_error
from .tokenizer import Tokenizer, TrainingReport

FORMAT_NAME = "bpe_core.tokenizer"
FORMAT_VERSION = 1


def tokenizer_to_dict(tokenizer: Tokenizer) -> dict:
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "mode": tokenizer.mode,
        "pattern": {"name": tokenizer.pattern_name, "regex": tokenizer.pre_tokenizer.pattern},
        "special_tokens": list(tokenizer.special_tokens),
        "unk_token": tokenizer.unk_token,
        "vocab": tokenizer.vocab,
        "merges": [list(pair) for pair in tokenizer.merges],
        "training": tokenizer.training.to_dict() if tokenizer.training else None,
    }


def tokenizer_from_dict(document: dict, source: str = "<memory>") -> Tokenizer:
    """Rebuild a tokenizer; any problem is a :class:`TokenizerFileError` naming ``source``."""

    def fail(problem: str) -> TokenizerFileError:
        return TokenizerFileError(f"{source}: {problem}")

    if not isinstance(document, dict):
        raise fail(f"expected a JSON object, found {type(document).__name__}")
    if document.get("format") != FORMAT_NAME:
        raise fail(
            f"not a bpe_core tokenizer file (format is {document.get('format')!r}, expected {FORMAT_NAME!r}); "
            "to read a Hugging Face tokenizer.json or a tiktoken file, import it instead"
        )
    version = document.get("version")
    if version != FORMAT_VERSION:
        raise fail(f"format version {version!r} is not supported (this bpe_core reads version {FORMAT_VERSION})")
    for key, kind in (("mode", str), ("pattern", dict), ("special_tokens", list), ("vocab", dict), ("merges", list)):
        if not isinstance(document.get(key), kind):
            raise fail(f"field {key!r} is missing or is not a {kind.__name__}")
    merges = document["merges"]
    for rank, pair in enumerate(merges):
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)):
            raise fail(f"merge #{rank} must be a pair of strings, found {pair!r}")
    training = document.get("training")
    report = None
    if training is not None:
        try:
            report = TrainingReport(**training)
        except TypeError as exc:
            raise fail(f"field 'training' is malformed: {exc}") from None
    pattern = _pattern_of(document["pattern"], fail)
    try:
        return Tokenizer(
            mode=document["mode"],
            vocab=document["vocab"],
            merges=[tuple(pair) for pair in merges],
            pattern=pattern,
            special_tokens=document["special_tokens"],
            unk_token=document.get("unk_token"),
            training=report,
        )
    except BPEError as exc:
        raise fail(str(exc)) from None


def _pattern_of(pattern: dict, fail) -> str | None:
    """The pattern argument for :class:`Tokenizer`: a known name, else the regex.

    An unknown name is not taken for a regex (a name like ``"gpt5"`` from a
    newer version would silently match almost nothing).
    """
    name, source = pattern.get("name"), pattern.get("regex")
    if name == WHITESPACE or name in PRESET_PATTERNS:
        return name
    if name not in (None, "custom"):
        raise fail(f"pattern name {name!r} is unknown (expected whitespace, {', '.join(sorted(PRESET_PATTERNS))} or custom)")
    if source is not None and not isinstance(source, str):
        raise fail(f"pattern regex must be a string, found {source!r}")
    return source


def save_tokenizer(tokenizer: Tokenizer, path: str | os.PathLike, *, replace: bool = True) -> Path:
    """Write ``tokenizer`` to ``path`` atomically; returns the path.

    With ``replace=False`` an existing file is never replaced
    (:class:`FileExistsError`), even one another process creates meanwhile.
    """
    path = Path(path)
    data = tokenizer_bytes(tokenizer, path)
    (write_atomically if replace else create_atomically)(path, data)
    return path


def tokenizer_bytes(tokenizer: Tokenizer, shown_as: str | os.PathLike = "<memory>") -> bytes:
    """The native document of ``tokenizer`` as UTF-8 bytes (compact JSON)."""
    text = json.dumps(tokenizer_to_dict(tokenizer), ensure_ascii=False, indent=None, separators=(",", ":"))
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise lone_surrogate_error(text, exc.start, where=f"cannot save to {shown_as}: the tokenizer",
                                   fix="retrain it on text without lone surrogates") from None


def load_tokenizer(path: str | os.PathLike) -> Tokenizer:
    """Read a tokenizer saved by :func:`save_tokenizer`."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise TokenizerFileError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    try:
        document = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise TokenizerFileError(f"{path}: not UTF-8 text, so not a tokenizer file") from None
    except json.JSONDecodeError as exc:
        raise TokenizerFileError(
            f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}); "
            "the file may be truncated or corrupt"
        ) from None
    except RecursionError:
        raise TokenizerFileError(f"{path}: JSON nested too deeply, so not a tokenizer file") from None
    return tokenizer_from_dict(document, str(path))
