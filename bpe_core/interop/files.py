"""What every interop format shares: reading, failing, merge lines, building.

Every problem with a file becomes one :class:`~bpe_core.errors.TokenizerFileError`
whose message starts with the file's path, so a user with five files open
knows which one to fix:

>>> parse_merge("Ġ t", "merges.txt", "line 2")
('Ġ', 't')
>>> parse_merge("Ġt", "merges.txt", "line 2")
Traceback (most recent call last):
...
bpe_core.errors.TokenizerFileError: merges.txt: line 2 must be two tokens separated by one space, found 'Ġt'

Importers only construct a :class:`~bpe_core.tokenizer.Tokenizer` once the
whole file has been read and checked, so a failed import leaves nothing
half-loaded behind.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Iterable

from ..atomic_files import write_atomically
from ..base import ids_to_tokens
from ..byte_symbols import BYTE_TO_SYMBOL, SYMBOL_TO_BYTE
from ..errors import BPEError, BudgetExceeded, TokenizerFileError
from ..tokenizer import Tokenizer

#: The first line of GPT-2 ``merges.txt`` and subword-nmt codes files.
MERGES_HEADER = "#version: 0.2"

_NON_BLANK_LINE = re.compile(r"^[^\S\n]*\S", re.MULTILINE)

#: Refuse to read files larger than this (a tokenizer file is megabytes, not gigabytes).
MAX_FILE_BYTES = 1 << 30
#: With a vocabulary size limit, a file may hold this many bytes per token
#: allowed (plus :data:`FILE_BYTES_SLACK`): real files need about 100, so a
#: file far larger than its limit allows is refused before it is read.
FILE_BYTES_PER_TOKEN = 4096
FILE_BYTES_SLACK = 1 << 20


def fail(path, problem: str) -> TokenizerFileError:
    """The error for ``problem`` in the file ``path`` (to be raised by the caller)."""
    return TokenizerFileError(f"{path}: {problem}")


def read_bytes(path: str | os.PathLike, max_vocab_size: int | None = None) -> bytes:
    """The file's bytes; refused before reading when larger than
    :data:`MAX_FILE_BYTES`, or than a tokenizer of at most ``max_vocab_size``
    tokens needs (:data:`FILE_BYTES_PER_TOKEN` per token)."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise fail(path, f"is {size:,} bytes, too large for a tokenizer file (limit {MAX_FILE_BYTES:,})")
        if max_vocab_size is not None and size > max_vocab_size * FILE_BYTES_PER_TOKEN + FILE_BYTES_SLACK:
            allowed = max_vocab_size * FILE_BYTES_PER_TOKEN + FILE_BYTES_SLACK
            raise BudgetExceeded(
                f"{path}: is {size:,} bytes, more than a tokenizer within the vocabulary size limit of "
                f"{max_vocab_size:,} tokens needs (at most {allowed:,} bytes, {FILE_BYTES_PER_TOKEN:,} per token); "
                "import a smaller tokenizer, or raise the vocabulary size limit",
                "max_vocab_size",
            )
        return path.read_bytes()
    except IsADirectoryError:
        raise fail(path, "is a directory, not a file") from None
    except OSError as exc:
        raise fail(path, f"cannot be read ({exc.strerror or exc})") from None


def read_text(path: str | os.PathLike, max_vocab_size: int | None = None) -> str:
    """The file as text; a file that is not UTF-8 is not one of ours."""
    data = read_bytes(path, max_vocab_size)
    try:
        return data.decode("utf-8-sig")  # tolerate a byte-order mark
    except UnicodeDecodeError as exc:
        raise fail(path, f"is not UTF-8 text (invalid byte 0x{data[exc.start]:02x} at offset {exc.start})") from None


def read_json(path: str | os.PathLike, max_vocab_size: int | None = None):
    try:
        return json.loads(read_text(path, max_vocab_size))
    except json.JSONDecodeError as exc:
        raise fail(
            path,
            f"is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}); "
            "the file may be truncated or corrupt",
        ) from None
    except RecursionError:
        raise fail(path, "holds JSON nested too deeply to read (thousands of levels), so it is not a tokenizer "
                         "file; a tokenizer file nests a few levels") from None


def check_count(path, what: str, count: int, max_vocab_size: int | None) -> None:
    """Refuse ``count`` entries (tokens, merges) over the vocabulary size
    limit, before anything is built from them.

    >>> check_count("t.json", "model.vocab", 5_000, 1_000)
    Traceback (most recent call last):
    ...
    bpe_core.errors.BudgetExceeded: t.json: model.vocab holds 5,000 entries, over the vocabulary size limit of 1,000; import a smaller tokenizer, or raise the vocabulary size limit
    """
    if max_vocab_size is not None and count > max_vocab_size:
        raise BudgetExceeded(
            f"{path}: {what} holds {count:,} entries, over the vocabulary size limit of {max_vocab_size:,}; "
            "import a smaller tokenizer, or raise the vocabulary size limit",
            "max_vocab_size",
        )


def read_lines(path: str | os.PathLike, what: str, max_vocab_size: int | None = None) -> str:
    """The text of a file of one entry a line (``merges.txt``, codes, a
    ``.tiktoken`` rank file), refused before it is parsed when it holds
    more entries than ``max_vocab_size``; ``what`` names them in the error.

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "merges.txt")
    >>> with open(path, "w") as f:
    ...     _ = f.write("#version: 0.2\\nh e\\nhe llo\\n")
    >>> read_lines(path, "the merges", 2)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    bpe_core.errors.BudgetExceeded: ...merges.txt: the merges holds 3 entries, over the vocabulary size limit of 2; ...
    """
    text = read_text(path, max_vocab_size)
    check_count(path, what, count_lines(text), max_vocab_size)
    return text


def count_lines(text: str) -> int:
    """Lines holding something, counted without splitting the text.

    >>> count_lines("a 1\\n\\n b 2\\n")
    2
    """
    return sum(1 for _ in _NON_BLANK_LINE.finditer(text))


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` as UTF-8, atomically (readers never see half a file)."""
    path = Path(path)
    if path.is_dir():
        raise BPEError(f"{path} is a directory; give a file name to write to")
    if not path.parent.is_dir():
        raise BPEError(f"cannot write {path}: the directory {path.parent} does not exist")
    write_atomically(path, text.encode("utf-8"))
    return path


def write_json(path: Path, document) -> Path:
    return write_text(path, json.dumps(document, ensure_ascii=False, indent=2) + "\n")


# --- vocabularies and merges -------------------------------------------------


def check_vocab(vocab, path, where: str = "the vocabulary", max_vocab_size: int | None = None) -> dict[str, int]:
    """``vocab`` must map token strings to distinct non-negative integer ids, at most ``max_vocab_size``."""
    if not isinstance(vocab, dict):
        raise fail(path, f"{where} must be a JSON object of token -> id, found {type(vocab).__name__}")
    check_count(path, where, len(vocab), max_vocab_size)
    try:
        ids_to_tokens(vocab)
    except BPEError as exc:
        raise fail(path, f"{where}: {exc}") from None
    return vocab


def add_entry(entries: dict, owners: dict, token, token_id: int, path, where: str, *, earlier: str,
              id_name: str = "id") -> None:
    """Add ``token -> token_id`` to ``entries`` and to its inverse ``owners``
    (``earlier`` says where their entries came from, for the error).

    The same entry twice is fine (a tokenizer.json lists its special tokens
    in the vocabulary and again as added tokens); a token with two ids, or
    an id with two tokens, is a file that contradicts itself.

    >>> ranks, owners = {b"a": 0}, {0: b"a"}
    >>> add_entry(ranks, owners, b"a", 0, "r.tiktoken", "line 2", earlier="line 1", id_name="rank")
    >>> add_entry(ranks, owners, b"b", 0, "r.tiktoken", "line 3", earlier="line 1", id_name="rank")
    Traceback (most recent call last):
    ...
    bpe_core.errors.TokenizerFileError: r.tiktoken: line 3: rank 0 is given to both b'a' (line 1) and b'b'
    """
    if entries.get(token, token_id) != token_id:
        raise fail(path, f"{where}: {token!r} has {id_name} {token_id}, but {earlier} gives it {id_name} "
                         f"{entries[token]}")
    if owners.get(token_id, token) != token:
        raise fail(path, f"{where}: {id_name} {token_id} is given to both {owners[token_id]!r} ({earlier}) and "
                         f"{token!r}")
    entries[token] = token_id
    owners[token_id] = token


def parse_merge(entry, path, where: str) -> tuple[str, str]:
    """A merge written as ``"a b"`` (merges.txt, older tokenizer.json) or ``["a", "b"]``."""
    if isinstance(entry, str):
        parts = entry.split(" ")
        if len(parts) == 2 and all(parts):
            return parts[0], parts[1]
        raise fail(path, f"{where} must be two tokens separated by one space, found {entry!r}")
    if isinstance(entry, list) and len(entry) == 2 and all(isinstance(p, str) and p for p in entry):
        return entry[0], entry[1]
    raise fail(path, f"{where} must be a pair of tokens, found {entry!r}")


def parse_merge_lines(text: str, path) -> list[tuple[str, str]]:
    """The merges of a ``merges.txt`` / codes file (``#version`` header optional).

    >>> parse_merge_lines("#version: 0.2\\nh e\\nhe llo\\n", "merges.txt")
    [('h', 'e'), ('he', 'llo')]
    """
    merges = []
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.rstrip("\r")
        if not line or (number == 1 and line.startswith("#version")):
            continue
        merges.append(parse_merge(line, path, f"line {number}"))
    return merges


def read_merges(path, what: str, max_vocab_size: int | None = None) -> list[tuple[str, str]]:
    """The merges of a ``merges.txt`` or codes file; ``what`` names them in errors."""
    return parse_merge_lines(read_lines(path, what, max_vocab_size), path)


def merge_lines(merges: Iterable[tuple[str, str]]) -> str:
    """``merges.txt`` text: the header, then one ``left right`` per line."""
    return "\n".join([MERGES_HEADER, *(f"{left} {right}" for left, right in merges)]) + "\n"


def ordered_vocab(tokenizer: Tokenizer) -> dict[str, int]:
    """The vocabulary sorted by id, so files read top to bottom like the id space."""
    return {token: token_id for token_id, token in sorted(tokenizer.id_to_token.items())}


#: Where a tokenizer a format refuses can go instead, by its mode.
FORMATS_FOR = {
    "classic": "Classic tokenizers export with format='subword_nmt'.",
    "byte_level": "Byte-level tokenizers export with format='huggingface', 'tiktoken' or 'gpt2'.",
}


def require_mode(tokenizer: Tokenizer, mode: str, format_name: str, advice: str | None = None) -> None:
    """Refuse a tokenizer the format cannot hold, saying where it can go (``advice``, by default
    :data:`FORMATS_FOR` its mode)."""
    if tokenizer.mode != mode:
        raise BPEError(
            f"the {format_name} format holds {mode.replace('_', '-')} tokenizers only; this tokenizer is "
            f"{tokenizer.mode.replace('_', '-')}. {advice or FORMATS_FOR[tokenizer.mode]}"
        )


def is_byte_symbols(token: str) -> bool:
    """True if ``token`` is spelled in GPT-2 byte symbols only (could be a BPE token)."""
    return bool(token) and all(ch in SYMBOL_TO_BYTE for ch in token)


def merge_products(merges: Iterable[tuple[str, str]]) -> set[str]:
    return {left + right for left, right in merges}


def unreachable_specials(vocab: dict[str, int], merges: list[tuple[str, str]]) -> list[str]:
    """Tokens no byte-level BPE could produce: neither one byte nor a merge's result.

    GPT-2's ``vocab.json`` holds ``<|endoftext|>`` this way; such a token
    can only be a special token.

    >>> vocab = {s: i for i, s in enumerate(BYTE_TO_SYMBOL)} | {"ab": 256, "<|eot|>": 257}
    >>> unreachable_specials(vocab, [("a", "b")])
    ['<|eot|>']
    """
    products = merge_products(merges)
    singles = set(BYTE_TO_SYMBOL)
    return [t for t in sorted(vocab, key=vocab.get) if t not in singles and t not in products]


def build_tokenizer(path, **fields) -> Tokenizer:
    """``Tokenizer(**fields)``, with any inconsistency reported against ``path``."""
    try:
        return Tokenizer(**fields)
    except BPEError as exc:
        raise fail(path, str(exc)) from None


def describe_paths(paths: Iterable) -> str:
    return " + ".join(str(p) for p in paths)
