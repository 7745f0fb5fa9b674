"""Shared helpers for the tests: the two oracles, protocol eras, an in-memory server over a folder of files,
and the shared-corpora marker.

The test corpora (English, Chinese, code) come from ``corpus_text``: built
from the standard library or shipped in ``tests/corpora``, so a fresh clone
runs every parity test.  Tests marked ``@pytest.mark.shared_corpora`` also
read the larger corpora in ``../shared/corpora`` (or ``$BPE_TEST_SHARED_CORPORA``);
they are skipped when those are absent, and the run's closing summary lists
them with what became of each.  ``tokenizers`` and ``tiktoken`` are test
oracles only: ``bpe_core`` never imports them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from corpus_text import SHARED_CORPORA_ENV, SHARED_FILES, missing_shared_corpora, shared_corpora_dir

# How Hugging Face feeds text to a trainer: lines, each keeping its "\n".
LINES = re.compile(r"[^\n]*\n|[^\n]+")


# --- the shared corpora: a marker, a skip, a closing summary --------------------

SHARED_MARKER = "shared_corpora"
#: nodeid -> outcome of every test marked shared_corpora, in the order they ran.
_shared_outcomes: dict[str, str] = {}


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        f"{SHARED_MARKER}(*names): an extended test that reads the large shared corpora "
        f"({', '.join(SHARED_FILES)}; all if none named) from ../shared/corpora or ${SHARED_CORPORA_ENV}; "
        "skipped when they are absent",
    )


def pytest_runtest_setup(item):
    marker = item.get_closest_marker(SHARED_MARKER)
    if marker is None:
        return
    missing = missing_shared_corpora(marker.args or tuple(SHARED_FILES))
    if missing:
        pytest.skip(
            f"extended test: needs the shared corpora, {', '.join(str(p) for p in missing)} not found; "
            f"put them in ../shared/corpora or set {SHARED_CORPORA_ENV} to their directory"
        )


def pytest_runtest_logreport(report):
    if SHARED_MARKER not in report.keywords:
        return
    if report.when == "call" or report.outcome != "passed":
        _shared_outcomes[report.nodeid] = "skipped" if report.skipped else report.outcome


@pytest.hookimpl(trylast=True)  # after the durations, next to the skip reasons
def pytest_terminal_summary(terminalreporter):
    if not _shared_outcomes:
        return
    ran = sum(outcome != "skipped" for outcome in _shared_outcomes.values())
    terminalreporter.section(f"tests that need the shared corpora ({shared_corpora_dir()})")
    terminalreporter.write_line(
        f"{ran} of {len(_shared_outcomes)} ran; every other test reads only the corpora built from the standard "
        "library and tests/corpora"
    )
    for nodeid, outcome in _shared_outcomes.items():
        terminalreporter.write_line(f"{outcome:8} {nodeid}")


# --- the oracles ---------------------------------------------------------------------


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
    return hf_train_sequences(LINES.findall(text), vocab_size, min_frequency, special_tokens)


def hf_train_sequences(sequences, vocab_size: int, min_frequency: int = 0, special_tokens=()):
    """Train Hugging Face's byte-level BPE on these texts, each pre-tokenized apart."""
    tokenizer, trainer = hf_byte_level_trainer(vocab_size, min_frequency, special_tokens)
    tokenizer.train_from_iterator(list(sequences), trainer=trainer)
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


@pytest.fixture
def files_root(tmp_path) -> Path:
    """An empty folder: the one root ``files_server`` reads and writes files in."""
    directory = tmp_path / "files"
    directory.mkdir()
    return directory


@pytest.fixture
def files_server(tmp_path, files_root):
    """An in-memory server storing its tokenizers under ``tmp_path / "data"``, with ``files_root`` its only root."""
    from server import ServerConfig, build_server  # the engine's tests need no server

    return build_server(ServerConfig(data_dir=tmp_path / "data", roots=(files_root,)))
