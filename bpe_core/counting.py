"""Word counting: stream a corpus through the pre-tokenizer into word counts.

BPE training only needs each distinct word once, with its number of
occurrences, so the corpus itself is never held in memory: it is read in
blocks of lines and memory grows with the number of distinct words.

Inputs are fed the way Hugging Face ``tokenizers`` feeds them: as lines
split on ``"\\n"`` with the line ending kept, each line its own sequence.

>>> from bpe_core.pretokenize import PreTokenizer
>>> counts = count_words(["low low lower\\nnewest"], [], PreTokenizer.create("whitespace"))
>>> counts.counts
{'low': 2, 'lower': 1, 'newest': 1}
"""

from __future__ import annotations

import multiprocessing
import os
import re
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

from .errors import BPEError, TrainingCancelled
from .pretokenize import PreTokenizer, SpecialTokenSplitter, pattern_budget_error

#: Bytes of corpus handed to the pre-tokenizer at a time.
BLOCK_BYTES = 1 << 20
#: Below this many corpus bytes, extra processes cost more than they save.
PARALLEL_THRESHOLD_BYTES = 4 << 20

_LINE = re.compile(r"[^\n]*\n|[^\n]+")

ProgressCallback = Callable[[str, int, int], None]
StopCheck = Callable[[], bool]


@dataclass
class WordCounts:
    """Distinct words (in the order first seen) with their counts."""

    counts: dict[str, int]
    corpus_bytes: int
    total_words: int


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def check_corpus_files(files: Iterable[str | os.PathLike]) -> list[Path]:
    """The corpus files as paths, once each one is known to be a readable regular file."""
    paths = [Path(f) for f in files]
    for path in paths:
        if not path.is_file():
            raise BPEError(f"corpus file {str(path)!r} does not exist or is not a regular file")
    return paths


def count_words(
    texts: Iterable[str],
    files: Iterable[str | os.PathLike],
    pre_tokenizer: PreTokenizer,
    special_tokens: Iterable[str] = (),
    *,
    workers: int | None = None,
    on_progress: ProgressCallback | None = None,
    should_stop: StopCheck | None = None,
) -> WordCounts:
    """Count the words of every text and file.

    ``workers`` processes pre-tokenize in parallel (default: the cores
    available) when the corpus is large enough to be worth it.  The result
    is the same whatever the number of workers: blocks are merged in corpus
    order, so "first seen" keeps its meaning.
    """
    texts = list(texts)
    files = check_corpus_files(files)
    total_bytes = sum(len(t) for t in texts) + sum(p.stat().st_size for p in files)
    workers = available_cores() if workers is None else max(1, int(workers))
    specials = list(special_tokens)

    blocks = _blocks(texts, files)
    counts: dict[str, int] = {}
    done_bytes = 0
    total_words = 0
    last_report = 0.0
    # A custom pattern gets one time budget for the whole corpus; it is
    # spent line by line here, or block by block in the workers.
    budget = pre_tokenizer.budget(total_bytes, should_stop)

    def absorb(block_counts: dict[str, int], block_bytes: int, pattern_seconds: float = 0.0) -> None:
        nonlocal done_bytes, total_words, last_report
        get = counts.get
        for word, n in block_counts.items():
            counts[word] = get(word, 0) + n
            total_words += n
        done_bytes += block_bytes
        if should_stop is not None and should_stop():
            raise TrainingCancelled("training was cancelled while counting words")
        if budget is not None and pattern_seconds:
            budget.left -= pattern_seconds
            if budget.left < 0:
                raise pattern_budget_error(pre_tokenizer.pattern, budget.seconds)
        now = time.monotonic()
        if on_progress is not None and now - last_report > 0.1:
            last_report = now
            on_progress("counting", done_bytes, max(total_bytes, done_bytes))

    if workers > 1 and total_bytes >= PARALLEL_THRESHOLD_BYTES:
        context = _process_context()
        with context.Pool(
            workers, initializer=_init_worker, initargs=(pre_tokenizer.pattern, specials)
        ) as pool:
            try:
                for block_counts, block_bytes, pattern_seconds in pool.imap(_count_block_in_worker, blocks):
                    absorb(block_counts, block_bytes, pattern_seconds)
            except BaseException:
                pool.terminate()
                raise
    else:
        splitter = SpecialTokenSplitter(specials)
        for block in blocks:
            absorb(*_count_block(block, pre_tokenizer, splitter, budget))
    if on_progress is not None:
        on_progress("counting", done_bytes, done_bytes)
    return WordCounts(counts, done_bytes, total_words)


def _process_context():
    """How to start worker processes.

    ``fork`` is fast and does not re-import the caller's ``__main__``, but
    forking a process that runs other threads (a server) can copy a lock in
    its held state, so such processes use ``spawn``.
    """
    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _blocks(texts: list[str], files: list[Path]) -> Iterator[str]:
    """The corpus as blocks of whole lines, about ``BLOCK_BYTES`` each."""
    for text in texts:
        if not isinstance(text, str):
            raise BPEError(f"training texts must be strings, got {type(text).__name__}")
        start = 0
        while start < len(text):
            end = text.find("\n", start + BLOCK_BYTES)
            end = len(text) if end < 0 else end + 1
            yield text[start:end]
            start = end
    for path in files:
        yield from _file_blocks(path)


def _file_blocks(path: Path) -> Iterator[str]:
    offset = 0
    carry = b""
    with open(path, "rb") as handle:
        while True:
            chunk = handle.read(BLOCK_BYTES)
            if not chunk:
                break
            data = carry + chunk
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                carry = data
                continue
            yield _decode(data[:cut], path, offset)
            offset += cut
            carry = data[cut:]
    if carry:
        yield _decode(carry, path, offset)


def _decode(data: bytes, path: Path, offset: int) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BPEError(
            f"corpus file {str(path)!r} is not UTF-8 text: invalid byte 0x{data[exc.start]:02x} "
            f"at byte offset {offset + exc.start}; convert it to UTF-8 first"
        ) from None


def _count_block(block: str, pre_tokenizer: PreTokenizer, splitter: SpecialTokenSplitter, budget=None):
    """``(word counts, bytes)`` of one block; a custom pattern spends from ``budget``."""
    words: list[str] = []
    split = pre_tokenizer.split
    if not splitter.special_tokens:
        for line in _LINE.findall(block):
            words += split(line, budget)
    else:
        for line in _LINE.findall(block):
            for segment, is_special in splitter.split(line):
                if not is_special:
                    words += split(segment, budget)
    # Counter keeps first-seen order, which classic BPE's tie rule needs.
    return dict(Counter(words)), len(block.encode("utf-8", "surrogatepass"))


# --- worker-process side -------------------------------------------------

_worker_state: tuple[PreTokenizer, SpecialTokenSplitter] | None = None


def _init_worker(pattern: str | None, specials: list[str]) -> None:
    global _worker_state
    # Ctrl-C is the parent's to handle (it terminates the pool); a worker
    # dying on it mid-block would only print a second traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker_state = (PreTokenizer.create(pattern), SpecialTokenSplitter(specials))


def _count_block_in_worker(block: str):
    """``(word counts, bytes, seconds a custom pattern spent)``: the parent
    charges the seconds to the call's budget, and a block can never spend
    more than a budget of its own size (so cancellation, checked by the
    parent between blocks, is never long in coming)."""
    assert _worker_state is not None, "worker used before _init_worker"
    pre_tokenizer, splitter = _worker_state
    budget = pre_tokenizer.budget(len(block))
    block_counts, block_bytes = _count_block(block, pre_tokenizer, splitter, budget)
    return block_counts, block_bytes, (budget.seconds - budget.left) if budget is not None else 0.0
