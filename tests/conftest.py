"""Shared helpers for the engine tests: corpus slices and the two oracles.

The corpora live outside the repository (``../shared/corpora`` from the repo
root, where CI also puts them) and are read at test time, a slice at a time;
they are never copied into the project.  ``tokenizers`` and ``tiktoken`` are
test oracles only: ``bpe_core`` never imports them.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

import pytest

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"
CORPUS_FILES = {"en": "en_pydocs.txt", "zh": "zh_kernel_docs.txt", "code": "code_cpython.txt"}

# How Hugging Face feeds text to a trainer: lines, each keeping its "\n".
LINES = re.compile(r"[^\n]*\n|[^\n]+")


@lru_cache(maxsize=None)
def _read_prefix(name: str, size: int) -> str | None:
    path = CORPORA / CORPUS_FILES[name]
    if not path.is_file():
        return None
    with open(path, "rb") as handle:
        data = handle.read(size)
    cut = data.rfind(b"\n") + 1  # whole lines only, so no character is cut in two
    return data[: cut or len(data)].decode("utf-8")


def corpus_slice(name: str, size: int) -> str:
    """The first ``size`` bytes (whole lines) of a shared corpus, or skip the test."""
    text = _read_prefix(name, size)
    if text is None:
        pytest.skip(
            f"corpus {CORPUS_FILES[name]} not found in {CORPORA}: these tests need the shared corpora "
            "next to the repository (../shared/corpora), as CI provides them"
        )
    return text


def hf_merges(document: dict) -> list[tuple[str, str]]:
    """The merges of a ``tokenizer.json`` document: ``"a b"`` strings or ``[a, b]`` lists."""
    merges = []
    for merge in document["model"]["merges"]:
        if isinstance(merge, str):
            left, right = merge.split(" ")
        else:
            left, right = merge
        merges.append((left, right))
    return merges


def hf_byte_level_trainer(vocab_size: int, min_frequency: int, special_tokens):
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=list(special_tokens),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    return tokenizer, trainer


def hf_train_text(text: str, vocab_size: int, min_frequency: int = 0, special_tokens=()):
    """Train Hugging Face's byte-level BPE on ``text``; returns ``(merges, vocab)``."""
    tokenizer, trainer = hf_byte_level_trainer(vocab_size, min_frequency, special_tokens)
    tokenizer.train_from_iterator(LINES.findall(text), trainer=trainer)
    document = json.loads(tokenizer.to_str())
    return hf_merges(document), document["model"]["vocab"]


def hf_train_files(paths, vocab_size: int, min_frequency: int = 0, special_tokens=()):
    """Train Hugging Face's byte-level BPE on files; returns ``(merges, vocab)``."""
    tokenizer, trainer = hf_byte_level_trainer(vocab_size, min_frequency, special_tokens)
    tokenizer.train([str(p) for p in paths], trainer=trainer)
    document = json.loads(tokenizer.to_str())
    return hf_merges(document), document["model"]["vocab"]


def first_difference(ours: list, theirs: list) -> str:
    """A short description of where two lists part, for assertion messages."""
    for index, (a, b) in enumerate(zip(ours, theirs)):
        if a != b:
            return f"first difference at #{index}: ours {ours[index:index + 3]!r}, theirs {theirs[index:index + 3]!r}"
    return f"lengths differ: ours {len(ours)}, theirs {len(theirs)}"


# --- shared by the server tests ------------------------------------------------

#: The two protocol eras: "auto" negotiates 2026-07-28, "legacy" the 2025-11-25 handshake.
PROTOCOL_MODES = ["auto", "legacy"]


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture(params=PROTOCOL_MODES)
def mode(request):
    """Run the test once per protocol era."""
    return request.param
