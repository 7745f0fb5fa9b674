"""Helpers for the corpus-format, counts and Dask tests: one generated corpus
written in every format, and the optional packages those tests need.

The corpus is made of records (each one line ending in ``"\\n"``), so the
same text can be written as plain text (the records one after the other),
as JSON Lines (one record per object), as a Parquet column, and compressed.
Its words follow a skewed distribution over invented syllables, English
and Chinese, so that classic BPE meets ties whose winner depends on the
order words first occur.

Optional packages (``pyarrow``, ``zstandard``, ``distributed``) are skipped
when missing, except under CI (``CI`` set), where a missing one fails.
"""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import os
import random
from pathlib import Path

import pytest

SYLLABLES = ["lo", "w", "er", "ne", "st", "wi", "de", "th", "in", "g", "an", "re", "é", "ö", "中", "文", "词"]


def optional(module: str):
    """Import an optional test dependency, or skip (fail under CI, which installs the [scale] extra)."""
    try:
        return __import__(module, fromlist=["_"])
    except ImportError:
        message = f"{module} is not installed: pip install \"mcp-server-bpe[scale]\" (the tests' CI installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def make_records(count: int, seed: int = 0) -> list[str]:
    """``count`` lines of generated text, each ending in a newline."""
    rng = random.Random(seed)
    vocabulary = ["".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 4))) for _ in range(400)]
    weights = [1 / (rank + 1) for rank in range(len(vocabulary))]
    records = []
    for _ in range(count):
        words = rng.choices(vocabulary, weights, k=rng.randint(1, 14))
        separators = [rng.choice([" ", " ", " ", ", ", "  ", "\t"]) for _ in words]
        records.append("".join(w + s for w, s in zip(words, separators)).rstrip(" ,\t") + rng.choice([".", "!", ""]) + "\n")
    return records


def compressed_open(path: Path, compression: str | None):
    """A binary file for writing, compressed by its ``compression``."""
    if compression is None:
        return open(path, "wb")
    if compression == "gz":
        return gzip.open(path, "wb")
    if compression == "bz2":
        return bz2.open(path, "wb")
    if compression == "xz":
        return lzma.open(path, "wb")
    zstandard = optional("zstandard")
    return zstandard.ZstdCompressor().stream_writer(open(path, "wb"), closefd=True)


def write_text(path: Path, records: list[str], compression: str | None = None) -> Path:
    with compressed_open(path, compression) as handle:
        handle.write("".join(records).encode("utf-8"))
    return path


def write_jsonl(path: Path, records: list[str], field: str = "text", compression: str | None = None) -> Path:
    """One object per record; ``field`` may be dotted (``meta.body``) for a nested field."""
    with compressed_open(path, compression) as handle:
        for number, record in enumerate(records):
            value: object = record
            for part in reversed(field.split(".")):
                value = {part: value}
            handle.write((json.dumps({"id": number, **value}, ensure_ascii=False) + "\n").encode("utf-8"))
    return path


def write_parquet(path: Path, records: list[str], column: str = "text", row_group_size: int = 500) -> Path:
    pa = optional("pyarrow")
    pq = optional("pyarrow.parquet")
    pq.write_table(pa.table({"id": list(range(len(records))), column: records}), path, row_group_size=row_group_size)
    return path
