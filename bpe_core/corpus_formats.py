"""Corpus formats: plain text, JSON Lines and Parquet, compressed or not.

A corpus file is read as a stream of texts, never whole, so memory follows
what is counted (distinct words), not the file's size:

* **plain text**: the lines of the file;
* **JSON Lines** (``.jsonl``, ``.ndjson``, ``.json`` with one object per
  line): each record's ``text`` field, or the field ``text_field`` names
  (``meta.body`` for a nested field); blank lines are not records;
* **Parquet** (``.parquet``; ``pyarrow``): one column, row by row;
* **compressed** text or JSON Lines: ``.gz``, ``.bz2``, ``.xz`` (standard
  library) and ``.zst`` (``zstandard``).

A file may be a local path or an ``fsspec`` URL (``s3://bucket/a.jsonl.zst``),
so that Dask workers can read their shards from shared or object storage.

The format comes from the extension *and* the content: the magic bytes of
gzip, bzip2, xz, zstd and Parquet are recognised whatever the name, and a
name that promises a format the bytes do not have is an error.  Each
record's text is counted like one of ``train()``'s texts.

A record that cannot be read (not UTF-8, not JSON, no such field, not a
string) is a :class:`Problem`: the caller counts and reports every one, and
either skips it or stops (``on_error``).

>>> import os, tempfile, gzip
>>> path = os.path.join(tempfile.mkdtemp(), "docs.jsonl.gz")
>>> with gzip.open(path, "wt") as f:
...     _ = f.write('{"text": "low lower"}\\n{"title": "no text"}\\n')
>>> source = detect(path)
>>> source.format, source.compression
('jsonl', 'gz')
>>> problems = []
>>> [text for text, _ in read_texts(source, problems=problems)]
['low lower']
>>> problems[0].where(), problems[0].reason
('line 2', "the record has no field 'text'")
"""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import os
import re
from dataclasses import dataclass, field
from typing import Callable, Iterator

from .errors import BPEError

#: Text handed on at a time (bytes of input).
BLOCK_BYTES = 1 << 20
#: The optional extra that brings pyarrow, zstandard and dask.
SCALE_EXTRA = 'pip install "mcp-server-bpe[scale]"'
DEFAULT_TEXT_FIELD = "text"
ON_ERROR_CHOICES = ("fail", "skip")

_COMPRESSION_SUFFIXES = {".gz": "gz", ".gzip": "gz", ".bz2": "bz2", ".xz": "xz", ".zst": "zst", ".zstd": "zst"}
_JSONL_SUFFIXES = {".jsonl", ".ndjson", ".json"}
_PARQUET_SUFFIXES = {".parquet", ".pq"}
_COMPRESSION_NAMES = {"gz": "gzip", "bz2": "bzip2", "xz": "xz", "zst": "zstd"}
_PARQUET_MAGIC = b"PAR1"
_BYTE_LINE = re.compile(rb"[^\n]*\n|[^\n]+")


def _magic_compression(head: bytes) -> str | None:
    """The compression whose magic bytes start ``head``.

    bzip2's ``BZh`` could start a text, so its block header is checked too.

    >>> _magic_compression(b"\\x1f\\x8b\\x08\\x00"), _magic_compression(b"BZh is a word")
    ('gz', None)
    """
    if head.startswith(b"\x1f\x8b"):
        return "gz"
    if head.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    if head.startswith(b"\x28\xb5\x2f\xfd"):
        return "zst"
    if head[:3] == b"BZh" and head[3:4].isdigit() and head[4:10] in (b"1AY&SY", b"\x17rE8P\x90"):
        return "bz2"
    return None


@dataclass(frozen=True)
class CorpusSource:
    """One corpus file: where it is, how to read it, and its size on disk."""

    path: str
    format: str  # "text", "jsonl" or "parquet"
    compression: str | None  # None, "gz", "bz2", "xz" or "zst"
    size: int

    @property
    def splittable(self) -> bool:
        """Whether byte ranges of the file can be read on their own (uncompressed lines)."""
        return self.compression is None and self.format in ("text", "jsonl")


def is_url(path: str | os.PathLike) -> bool:
    """Whether ``path`` is an fsspec URL (``s3://bucket/docs.jsonl.zst``, ``file:///data/a.txt``).

    >>> is_url("s3://bucket/a.txt"), is_url("corpus/a.txt")
    (True, False)
    """
    return isinstance(path, str) and "://" in path


def _filesystem(url: str):
    fsspec = require("fsspec", f"reading the corpus URL {url!r}")
    try:
        return fsspec.core.url_to_fs(url)
    except (ImportError, ValueError) as exc:  # an unknown protocol, or its package is missing
        raise BPEError(f"cannot read the corpus URL {url!r}: {exc}") from None


def open_binary(path: str | os.PathLike):
    """A local path or an fsspec URL, opened for reading bytes (seekable)."""
    if is_url(path):
        filesystem, inner = _filesystem(path)
        return filesystem.open(inner, "rb")
    return open(path, "rb")


def is_corpus_file(path: str | os.PathLike) -> bool:
    """Whether ``path`` (or URL) names an existing regular file."""
    if is_url(path):
        filesystem, inner = _filesystem(path)
        return filesystem.isfile(inner)
    return os.path.isfile(path)


def file_size(path: str | os.PathLike) -> int:
    if is_url(path):
        filesystem, inner = _filesystem(path)
        return filesystem.size(inner)
    return os.path.getsize(path)


def detect(path: str | os.PathLike) -> CorpusSource:
    """How to read ``path`` (a path or an fsspec URL): format and compression, from its name and its first bytes."""
    path = os.fspath(path)
    try:
        size = file_size(path)
        with open_binary(path) as handle:
            head = handle.read(16)
            tail = b""
            if size >= 8:
                handle.seek(size - 4)
                tail = handle.read(4)
    except OSError as exc:
        raise BPEError(f"cannot read corpus file {path!r}: {exc.strerror or exc}") from None
    name = os.path.basename(path).lower()
    stem, suffix = os.path.splitext(name)
    named_compression = _COMPRESSION_SUFFIXES.get(suffix)
    if named_compression is not None:
        stem, suffix = os.path.splitext(stem)
    found_compression = _magic_compression(head)
    if named_compression is not None and found_compression != named_compression and size > 0:
        seen = f"{_COMPRESSION_NAMES[found_compression]} data" if found_compression else f"bytes {head[:4].hex(' ')}"
        raise BPEError(
            f"corpus file {path!r} is named like {_COMPRESSION_NAMES[named_compression]} data but starts with "
            f"{seen}; rename it to match its content, or recompress it"
        )
    compression = found_compression
    is_parquet = head.startswith(_PARQUET_MAGIC) and tail == _PARQUET_MAGIC
    if suffix in _PARQUET_SUFFIXES or is_parquet:
        if compression is not None:
            raise BPEError(f"corpus file {path!r}: a compressed Parquet file cannot be read; Parquet compresses "
                           "its own pages, so store it uncompressed")
        if not is_parquet:
            raise BPEError(f"corpus file {path!r} is named .parquet but is not a Parquet file (no PAR1 magic "
                           "bytes at both ends); check the file, or rename it")
        return CorpusSource(path, "parquet", None, size)
    return CorpusSource(path, "jsonl" if suffix in _JSONL_SUFFIXES else "text", compression, size)


#: Names a compressed file must have (before its compression suffix) to be taken for a corpus in a directory walk.
_TEXT_STEM_SUFFIXES = {".txt", ".text", ".md"} | _JSONL_SUFFIXES


def looks_like_corpus(path: str | os.PathLike) -> bool:
    """Whether a file that is not plain text is one ``bpe_core`` reads as a corpus, judged by name and magic bytes.

    For directory walks, which skip binary files: ``docs.jsonl.gz`` or ``wiki.parquet`` are corpora,
    ``backup.tar.gz`` is not.
    """
    path = os.fspath(path)
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
    except OSError:
        return False
    name = os.path.basename(path).lower()
    stem, suffix = os.path.splitext(name)
    if head.startswith(_PARQUET_MAGIC):
        return suffix in _PARQUET_SUFFIXES
    compression = _magic_compression(head)
    return (compression is not None and _COMPRESSION_SUFFIXES.get(suffix) == compression
            and os.path.splitext(stem)[1] in _TEXT_STEM_SUFFIXES)


def check_on_error(on_error: str) -> str:
    if on_error not in ON_ERROR_CHOICES:
        raise BPEError(f"on_error must be 'fail' (stop at the first bad record) or 'skip' (skip and report bad "
                       f"records); got {on_error!r}")
    return on_error


def check_text_field(text_field: str) -> str:
    if not isinstance(text_field, str) or not text_field or any(not part for part in text_field.split(".")):
        raise BPEError(f"text_field must name a field, with dots for nested fields (like 'text' or "
                       f"'meta.body'); got {text_field!r}")
    return text_field


def require(module: str, what: str):
    """Import an optional package, or say which install brings it."""
    try:
        return __import__(module, fromlist=["_"])
    except ImportError:
        raise BPEError(f"{what} needs the optional package {module.split('.')[0]!r}, which is not installed: "
                       f"{SCALE_EXTRA}") from None


# --- problems ---------------------------------------------------------------------


@dataclass
class Problem:
    """A record that could not be read, and where it is.

    ``line`` is 1-based within the piece read (``piece_start``, a byte
    offset or row group), made global once the lines before the piece are
    known; ``row`` is a Parquet row; ``offset`` a byte offset in the file.
    """

    path: str
    reason: str
    piece_start: int = 0
    line: int | None = None
    row: int | None = None
    offset: int | None = None

    def where(self, lines_before: int = 0) -> str:
        if self.row is not None:
            return f"row {self.row + 1}"
        line = f"line {self.line + lines_before}" if self.line is not None else ""
        if self.offset is not None:
            return f"byte offset {self.offset}" + (f" ({line})" if line else "")
        return line or "an unknown place"

    def describe(self, lines_before: int = 0) -> str:
        """``path: where: reason``, as a report lists it."""
        return f"{self.path}: {self.where(lines_before)}: {self.reason}"

    def error(self, lines_before: int = 0) -> BPEError:
        """The error that stops counting at this problem (``on_error='fail'``)."""
        fix = "convert it to UTF-8 first" if self.reason.startswith("not UTF-8") else "fix the record"
        return BPEError(f"corpus file {self.path!r}: {self.reason} at {self.where(lines_before)}; {fix}, or skip and report bad "
                        "records with on_error='skip' (--on-error skip)")


@dataclass
class PieceStats:
    """What reading one piece (a byte range, a whole file, a row group) saw besides its texts."""

    lines: int = 0
    problems: list[Problem] = field(default_factory=list)


# --- reading ----------------------------------------------------------------------

#: ``(text, text_bytes)`` pairs: a text to count and its size in UTF-8.
Texts = Iterator[tuple[str, int]]
#: ``tick(input_bytes)``: how many more bytes of the file were consumed.
Tick = Callable[[int], None]


def line_pieces(text: str, size: int) -> Iterator[str]:
    """``text`` in pieces of whole lines, each about ``size`` characters (or one longer line).

    A piece ends at the first line end after ``size`` characters, so no word
    is split between two pieces.

    >>> list(line_pieces("ab\\ncd\\nef", 2))
    ['ab\\n', 'cd\\n', 'ef']
    """
    start = 0
    while start < len(text):
        end = text.find("\n", start + size)
        end = len(text) if end < 0 else end + 1
        yield text[start:end]
        start = end


def read_texts(
    source: CorpusSource,
    *,
    byte_range: tuple[int, int] | None = None,
    row_group: int | None = None,
    text_field: str = DEFAULT_TEXT_FIELD,
    stats: PieceStats | None = None,
    problems: list | None = None,
    tick: Tick | None = None,
) -> Texts:
    """The texts of ``source``: all of them, those of the lines that start in ``byte_range``, or of a row group.

    Problems are appended to ``stats.problems`` (or ``problems``); the
    caller decides whether to go on.
    """
    stats = stats if stats is not None else PieceStats(problems=problems if problems is not None else [])
    if source.format == "parquet":
        return _parquet_texts(source, row_group, text_field, stats, tick)
    start, end = byte_range if byte_range is not None else (0, None)
    blocks = _line_blocks(source, start, end, stats, tick)
    if source.format == "jsonl":
        return _jsonl_texts(source, blocks, start, text_field, stats)
    return _plain_texts(source, blocks, start, stats)


def _open_decompressed(source: CorpusSource, raw):
    if source.compression is None:
        return raw
    if source.compression == "gz":
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if source.compression == "bz2":
        return bz2.BZ2File(raw, mode="rb")
    if source.compression == "xz":
        return lzma.LZMAFile(raw, mode="rb")
    zstandard = require("zstandard", f"reading the zstd file {source.path!r}")
    return zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)


def _line_blocks(source: CorpusSource, start: int, end: int | None, stats: PieceStats,
                 tick: Tick | None) -> Iterator[tuple[bytes, int]]:
    """Blocks of whole lines as ``(data, offset)``: the lines that start in ``[start, end)``.

    A line belongs to the range holding its first byte, so ranges cut
    anywhere cover each line exactly once.  ``offset`` is the block's
    position in the (decompressed) file.
    """
    with open_binary(source.path) as raw:
        stream = _open_decompressed(source, raw)
        position = 0
        if end is not None and start > 0:
            raw.seek(start - 1)
            raw.readline()  # the rest of the line that started before this range
            position = raw.tell()
        consumed = raw.tell()
        carry = b""
        limit = end if end is not None else None
        while limit is None or position < limit:
            want = BLOCK_BYTES if limit is None else min(BLOCK_BYTES, limit - position)
            chunk = stream.read(want)
            if tick is not None:
                now = raw.tell()
                tick(now - consumed)
                consumed = now
            if not chunk:
                break
            offset = position - len(carry)
            position += len(chunk)
            data = carry + chunk
            if limit is not None and position >= limit and not data.endswith(b"\n"):
                data += stream.readline()  # finish the range's last line
                carry = b""
                stats.lines += data.count(b"\n")
                yield data, offset
                break
            cut = data.rfind(b"\n") + 1
            carry = data[cut:]
            if cut:
                stats.lines += data.count(b"\n", 0, cut)
                yield data[:cut], offset
        if carry:
            yield carry, position - len(carry)
        if stream is not raw:
            stream.close()


def _decoded_lines(source: CorpusSource, data: bytes, offset: int, first_line: int,
                   stats: PieceStats, piece_start: int) -> Iterator[str]:
    """The lines of a block that failed to decode as a whole, minus (and reporting) the bad ones."""
    line_offset = offset
    for number, raw_line in enumerate(_BYTE_LINE.findall(data), first_line):
        try:
            yield raw_line.decode("utf-8")
        except UnicodeDecodeError as exc:
            stats.problems.append(Problem(
                source.path, f"not UTF-8: invalid byte 0x{raw_line[exc.start]:02x}", piece_start, number,
                offset=line_offset + exc.start))
        line_offset += len(raw_line)


def _plain_texts(source: CorpusSource, blocks, piece_start: int, stats: PieceStats) -> Texts:
    lines_before = 0
    for data, offset in blocks:
        try:
            yield data.decode("utf-8"), len(data)
        except UnicodeDecodeError:
            good = list(_decoded_lines(source, data, offset, lines_before + 1, stats, piece_start))
            text = "".join(good)
            yield text, len(text.encode("utf-8", "surrogatepass"))
        lines_before += data.count(b"\n")


def _field(record, text_field: str):
    """The (nested) field of a record, or a reason why there is none.

    >>> _field({"meta": {"body": "hi"}}, "meta.body"), _field({"meta": {}}, "meta.body")
    (('hi', None), (None, "the record has no field 'meta.body'"))
    """
    value = record
    for part in text_field.split("."):
        if not isinstance(value, dict) or part not in value:
            return None, f"the record has no field {text_field!r}"
        value = value[part]
    if not isinstance(value, str):
        shown = "null" if value is None else type(value).__name__
        return None, f"the field {text_field!r} is {shown}, not a string"
    return value, None


def _jsonl_texts(source: CorpusSource, blocks, piece_start: int, text_field: str, stats: PieceStats) -> Texts:
    number = 0
    for data, _ in blocks:
        for raw_line in _BYTE_LINE.findall(data):
            number += 1
            if not raw_line.strip():
                continue  # a blank line is not a record
            try:
                record = json.loads(raw_line.decode("utf-8"))
            except UnicodeDecodeError as exc:
                reason = f"not UTF-8: invalid byte 0x{raw_line[exc.start]:02x}"
            except ValueError as exc:
                reason = f"not valid JSON ({exc})"
            else:
                text, reason = _field(record, text_field)
                if reason is None:
                    yield text, len(text.encode("utf-8", "surrogatepass"))
                    continue
            stats.problems.append(Problem(source.path, reason, piece_start, number))


def parquet_row_groups(source: CorpusSource) -> int:
    pq = require("pyarrow.parquet", f"reading the Parquet file {source.path!r}")
    with open_binary(source.path) as handle:
        return pq.ParquetFile(handle).metadata.num_row_groups


def _parquet_texts(source: CorpusSource, row_group: int | None, text_field: str, stats: PieceStats,
                   tick: Tick | None) -> Texts:
    pq = require("pyarrow.parquet", f"reading the Parquet file {source.path!r}")
    with open_binary(source.path) as handle:
        yield from _parquet_file_texts(source, pq.ParquetFile(handle), row_group, text_field, stats, tick)


def _parquet_file_texts(source: CorpusSource, parquet, row_group: int | None, text_field: str, stats: PieceStats,
                        tick: Tick | None) -> Texts:
    top = text_field.split(".")[0]
    metadata = parquet.metadata
    if top not in parquet.schema_arrow.names:
        raise BPEError(f"the Parquet file {source.path!r} has no column {top!r} (its columns: "
                       f"{', '.join(parquet.schema_arrow.names)}); pass text_field to name the text column")
    groups = range(metadata.num_row_groups) if row_group is None else [row_group]
    for group in groups:
        row = sum(metadata.row_group(g).num_rows for g in range(group))
        for batch in parquet.iter_batches(batch_size=4096, row_groups=[group], columns=[top]):
            for value in batch.column(0).to_pylist():
                text, reason = _field({top: value}, text_field)
                if reason is None:
                    yield text, len(text.encode("utf-8", "surrogatepass"))
                else:
                    stats.problems.append(Problem(source.path, reason, group, row=row))
                row += 1
        if tick is not None:
            tick(parquet_group_bytes(source, group, metadata))


def parquet_group_bytes(source: CorpusSource, group: int, metadata=None) -> int:
    """The share of the file's bytes that counts for one row group's progress."""
    if metadata is None:
        pq = require("pyarrow.parquet", f"reading the Parquet file {source.path!r}")
        with open_binary(source.path) as handle:
            metadata = pq.ParquetFile(handle).metadata
    groups = max(1, metadata.num_row_groups)
    share = source.size // groups
    return share if group < groups - 1 else source.size - share * (groups - 1)  # the last one takes the rest
