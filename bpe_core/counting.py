"""Word counting: stream a corpus through the pre-tokenizer into word counts.

BPE training only needs each distinct word once, with its number of
occurrences, so the corpus itself is never held in memory: it is read in
blocks of lines and memory grows with the number of distinct words.

Inputs are fed the way Hugging Face ``tokenizers`` feeds them: as lines
split on ``"\\n"`` with the line ending kept, each line its own sequence.
Files may be plain text, JSON Lines or Parquet, compressed or not
(:mod:`bpe_core.corpus_formats`).

The corpus is cut into :class:`Shard` s in corpus order: uncompressed
files into byte ranges (a line belongs to the range holding its first
byte), compressed files whole, Parquet files by row group.  Each shard is
counted on its own (here, in worker processes, or on a Dask cluster) into
:class:`PartialCounts`, and partial counts are merged *in shard order*
(:meth:`PartialCounts.merged`): the words of a later shard come after those
of an earlier one, so "first seen" - classic BPE's tie rule - means the same
whatever the number of workers or the shard size.

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
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Iterator

from .base import ProgressCallback, StopCheck
from .corpus_formats import (
    DEFAULT_TEXT_FIELD,
    CorpusSource,
    PieceStats,
    Problem,
    check_on_error,
    check_text_field,
    detect,
    is_corpus_file,
    is_url,
    line_pieces,
    parquet_group_bytes,
    parquet_row_groups,
    read_texts,
)
from .errors import BPEError, TrainingCancelled
from .pretokenize import (
    PatternBudget,
    PreTokenizer,
    SpecialTokenSplitter,
    pattern_budget_error,
)

#: Bytes of corpus handed to the pre-tokenizer at a time.
BLOCK_BYTES = 1 << 20
#: Size of the byte ranges uncompressed files are cut into for worker processes.
SHARD_BYTES = 1 << 20
#: The same for Dask workers, where each task costs a round trip to the scheduler.
DASK_SHARD_BYTES = 32 << 20
#: Below this many corpus bytes, extra processes cost more than they save.
PARALLEL_THRESHOLD_BYTES = 4 << 20
#: Bad records described one by one in a report; the rest are counted.
PROBLEMS_KEPT = 50

_LINE = re.compile(r"[^\n]*\n|[^\n]+")



@dataclass
class WordCounts:
    """Distinct words (in the order first seen) with their counts, and the records that could not be read."""

    counts: dict[str, int]
    corpus_bytes: int
    total_words: int
    #: Bad records skipped (``on_error="skip"``), all of them.
    skipped_records: int = 0
    #: The first :data:`PROBLEMS_KEPT` of them, as ``path: where: reason``.
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CountJob:
    """What a worker needs to count a shard: the pre-tokenizer and the reading options."""

    pattern: str | None
    special_tokens: tuple[str, ...] = ()
    text_field: str = DEFAULT_TEXT_FIELD
    on_error: str = "fail"


@dataclass(frozen=True)
class Shard:
    """A piece of the corpus counted on its own: a byte range, a whole file, or a Parquet row group."""

    file_index: int
    source: CorpusSource
    kind: str  # "range", "file" or "row_group"
    start: int = 0  # byte offset ("range") or row group
    end: int = 0  # end of the byte range
    size: int = 0  # bytes on disk, for progress


@dataclass
class PartialCounts:
    """The counts of consecutive shards (or texts), ready to merge with the next ones."""

    counts: dict[str, int] = field(default_factory=dict)
    text_bytes: int = 0
    input_bytes: int = 0
    words: int = 0
    #: Lines in each byte range, ``(file index, range start) -> lines``: numbers a problem's line.
    lines: dict[tuple[int, int], int] = field(default_factory=dict)
    problems: list[tuple[int, Problem]] = field(default_factory=list)
    problem_total: int = 0
    #: Seconds a custom pattern spent on these shards in a worker, for the caller to charge to its budget.
    pattern_seconds: float = 0.0

    def absorb(self, later: PartialCounts) -> None:
        """Add the counts of shards that come after these (in corpus order)."""
        if not self.counts:
            self.counts = dict(later.counts)
        else:
            add_counts(self.counts, later.counts)
        self.text_bytes += later.text_bytes
        self.input_bytes += later.input_bytes
        self.words += later.words
        self.lines.update(later.lines)
        self.problems += later.problems[: max(0, PROBLEMS_KEPT - len(self.problems))]
        self.problem_total += later.problem_total
        self.pattern_seconds += later.pattern_seconds

    @staticmethod
    def merged(earlier: PartialCounts, later: PartialCounts) -> PartialCounts:
        """A new partial count of both (the inputs are left as they are: Dask may hold them)."""
        result = PartialCounts()
        result.absorb(earlier)
        result.absorb(later)
        return result

    def lines_before(self, file_index: int, piece_start: int) -> int:
        return sum(n for (index, start), n in self.lines.items() if index == file_index and start < piece_start)

    def describe_problems(self) -> list[str]:
        return [problem.describe(self.lines_before(index, problem.piece_start)) for index, problem in self.problems]

    def first_error(self) -> BPEError:
        index, problem = self.problems[0]
        return problem.error(self.lines_before(index, problem.piece_start))

    def result(self) -> WordCounts:
        skipped = self.problem_total
        return WordCounts(self.counts, self.text_bytes, self.words, skipped, self.describe_problems())


def add_counts(counts: dict[str, int], more: dict[str, int]) -> None:
    """Add ``more`` into ``counts``; words new to ``counts`` go after its own, in ``more``'s order.

    That order is the corpus order when ``more`` comes later in the corpus,
    which classic BPE's first-occurrence tie rule needs.

    >>> counts = {"b": 1, "a": 2}
    >>> add_counts(counts, {"c": 1, "a": 1})
    >>> counts
    {'b': 1, 'a': 3, 'c': 1}
    """
    get = counts.get
    for word, n in more.items():
        counts[word] = get(word, 0) + n


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def check_corpus_files(files: Iterable[str | os.PathLike]) -> list[Path | str]:
    """The corpus files as paths (or fsspec URLs), once each one is known to be a regular file."""
    paths = [f if is_url(f) else Path(f) for f in files]
    for path in paths:
        if not is_corpus_file(path):
            raise BPEError(f"corpus file {str(path)!r} does not exist or is not a regular file")
    return paths


def plan_shards(files: Iterable[str | os.PathLike], shard_bytes: int = SHARD_BYTES) -> list[Shard]:
    """The corpus files cut into shards, in corpus order.

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "a.txt")
    >>> _ = open(path, "w").write("one line\\n" * 3)
    >>> [(s.kind, s.start, s.end) for s in plan_shards([path], shard_bytes=10)]
    [('range', 0, 10), ('range', 10, 20), ('range', 20, 27)]
    """
    if not isinstance(shard_bytes, int) or shard_bytes < 1:
        raise BPEError(f"shard_bytes must be a positive integer; got {shard_bytes!r}")
    shards: list[Shard] = []
    for index, path in enumerate(files):
        source = detect(path)
        if source.splittable:
            for start in range(0, source.size, shard_bytes):
                end = min(start + shard_bytes, source.size)
                shards.append(Shard(index, source, "range", start, end, end - start))
        elif source.format == "parquet":
            for group in range(parquet_row_groups(source)):
                shards.append(Shard(index, source, "row_group", group, 0, parquet_group_bytes(source, group)))
        else:
            shards.append(Shard(index, source, "file", 0, 0, source.size))
    return shards


@lru_cache(maxsize=8)
def _splitters(pattern: str | None, special_tokens: tuple[str, ...]):
    return PreTokenizer.create(pattern), SpecialTokenSplitter(list(special_tokens))


def count_texts(texts: Iterable[tuple[str, int]], job: CountJob, stats: PieceStats | None = None,
                should_stop: StopCheck | None = None, budget: PatternBudget | None = None) -> PartialCounts:
    """Count ``(text, utf8_bytes)`` pairs; with ``on_error="fail"``, stop at the first problem in ``stats``.

    A custom pattern spends from ``budget`` line by line (see :class:`~bpe_core.pretokenize.PatternBudget`).
    """
    pre_tokenizer, splitter = _splitters(job.pattern, tuple(job.special_tokens))
    split = pre_tokenizer.split
    stop_at_problem = job.on_error == "fail" and stats is not None
    partial = PartialCounts()
    counts = partial.counts
    words: list[str] = []
    pending = 0
    dropped = 0

    def flush() -> None:
        nonlocal words, pending
        # Counter keeps first-seen order, which classic BPE's tie rule needs.
        add_counts(counts, Counter(words))
        partial.words += len(words)
        words, pending = [], 0

    for text, size in texts:
        if not splitter.special_tokens:
            for line in _LINE.findall(text):
                words += split(line, budget)
        else:
            for line in _LINE.findall(text):
                for segment, is_special in splitter.split(line):
                    if not is_special:
                        words += split(segment, budget)
        partial.text_bytes += size
        pending += size
        if pending >= BLOCK_BYTES:
            flush()
            if should_stop is not None and should_stop():
                raise TrainingCancelled("training was cancelled while counting words")
        if stats is not None and stats.problems:
            if stop_at_problem:
                break
            if len(stats.problems) > PROBLEMS_KEPT:
                dropped += len(stats.problems) - PROBLEMS_KEPT
                del stats.problems[PROBLEMS_KEPT:]
    flush()
    if stats is not None:
        partial.problem_total = len(stats.problems) + dropped
    return partial


def count_shard(shard: Shard, job: CountJob, tick=None, should_stop: StopCheck | None = None,
                budget: PatternBudget | None = None) -> PartialCounts:
    """Count one shard (in this process, a worker process, or a Dask worker).

    In this process a custom pattern spends from the call's ``budget``;
    elsewhere (no ``budget``) the shard gets a budget of its own size and
    reports the seconds it spent, which the caller charges to the call's
    budget, so a shard can never overspend by more than its own share.
    """
    own_budget = None
    if budget is None:
        own_budget = budget = _splitters(job.pattern, tuple(job.special_tokens))[0].budget(shard.size)
    stats = PieceStats()
    ticked = 0

    def on_tick(n: int) -> None:
        nonlocal ticked
        ticked += n
        if tick is not None:
            tick(n)

    texts = read_texts(
        shard.source,
        byte_range=(shard.start, shard.end) if shard.kind == "range" else None,
        row_group=shard.start if shard.kind == "row_group" else None,
        text_field=job.text_field,
        stats=stats,
        tick=on_tick if tick is not None else None,
    )
    try:
        partial = count_texts(texts, job, stats, should_stop, budget)
    finally:
        texts.close()
    if own_budget is not None:
        partial.pattern_seconds = own_budget.seconds - own_budget.left
    partial.input_bytes = shard.size
    if tick is not None and shard.size > ticked:
        tick(shard.size - ticked)
    if shard.kind == "range":
        partial.lines[(shard.file_index, shard.start)] = stats.lines
    partial.problems = [(shard.file_index, problem) for problem in stats.problems]
    return partial


def _text_pieces(texts: list[str]) -> Iterator[str]:
    """Inline texts as pieces of whole lines, about ``BLOCK_BYTES`` each."""
    for text in texts:
        if not isinstance(text, str):
            raise BPEError(f"training texts must be strings, got {type(text).__name__}")
        yield from line_pieces(text, BLOCK_BYTES)


@dataclass(frozen=True)
class CorpusReading:
    """How a corpus is read, as ``train()`` and ``count_words()`` take it.

    * ``text_field`` names the text of JSON Lines records and the Parquet
      column; ``on_error`` is ``"fail"`` (stop at the first bad record, the
      default) or ``"skip"`` (skip bad records, and report them);
    * ``workers`` processes count shards in parallel (default: the cores
      available) when the corpus is large enough to be worth it; with
      ``dask`` (a ``distributed.Client``, a scheduler address, or
      ``"local[:N]"``) the shards are counted on that cluster instead;
      ``shard_bytes`` overrides the size shards are cut to.

    >>> CorpusReading(workers=1).on_error
    'fail'
    """

    text_field: str = DEFAULT_TEXT_FIELD
    on_error: str = "fail"
    workers: int | None = None
    dask: object = None
    shard_bytes: int | None = None


def count_words(
    texts: Iterable[str],
    files: Iterable[str | os.PathLike],
    pre_tokenizer: PreTokenizer,
    special_tokens: Iterable[str] = (),
    reading: CorpusReading = CorpusReading(),
    *,
    on_progress: ProgressCallback | None = None,
    should_stop: StopCheck | None = None,
) -> WordCounts:
    """Count the words of every text and file.

    ``reading`` says how (see :class:`CorpusReading`); the result is the
    same whatever the number of workers and the shard size.
    """
    text_field, on_error, workers, dask, shard_bytes = (
        reading.text_field, reading.on_error, reading.workers, reading.dask, reading.shard_bytes)
    texts = list(texts)
    files = check_corpus_files(files)
    check_text_field(text_field)
    check_on_error(on_error)
    job = CountJob(pre_tokenizer.pattern, tuple(special_tokens), text_field, on_error)
    if dask is not None:
        # Dask workers may run elsewhere, in another directory: they get absolute paths.
        files = [path if is_url(path) else path.absolute() for path in files]
    shards = plan_shards(files, shard_bytes or (DASK_SHARD_BYTES if dask is not None else SHARD_BYTES))
    text_bytes = [len(t.encode("utf-8", "surrogatepass")) if isinstance(t, str) else 0 for t in texts]
    total_bytes = sum(text_bytes) + sum(shard.size for shard in shards)  # bytes, as progress reports them
    workers = available_cores() if workers is None else max(1, int(workers))
    progress = _Progress(total_bytes, on_progress, should_stop)
    total = PartialCounts()
    # A custom pattern gets one time budget for the whole corpus: spent line by
    # line here, or shard by shard in the workers, which report what they spent.
    budget = pre_tokenizer.budget(total_bytes, should_stop)

    def absorb(partial: PartialCounts) -> None:
        total.absorb(partial)
        if on_error == "fail" and partial.problem_total:
            raise total.first_error()
        if budget is not None and partial.pattern_seconds:
            budget.left -= partial.pattern_seconds
            if budget.left < 0:
                raise pattern_budget_error(pre_tokenizer.pattern, budget.seconds)

    for piece in _text_pieces(texts):
        size = len(piece.encode("utf-8", "surrogatepass"))
        absorb(count_texts([(piece, size)], job, budget=budget))
        progress.add(size)
    if dask is not None:
        from .dask_counting import count_shards_on_dask

        absorb(count_shards_on_dask(shards, job, dask, progress.add, progress.stopped))
    elif workers > 1 and total_bytes >= PARALLEL_THRESHOLD_BYTES and len(shards) > 1:
        context = _process_context()
        with context.Pool(min(workers, len(shards)), initializer=_init_worker, initargs=(job,)) as pool:
            try:
                for partial in pool.imap(_count_shard_in_worker, shards):
                    absorb(partial)
                    progress.add(partial.input_bytes)
            except BaseException:
                pool.terminate()
                raise
    else:
        for shard in shards:
            absorb(count_shard(shard, job, tick=progress.add, should_stop=progress.stopped, budget=budget))
    progress.finish()
    return total.result()


class _Progress:
    """Bytes counted so far, reported at most every 0.1 s; raises once the caller wants to stop."""

    def __init__(self, total: int, on_progress: ProgressCallback | None, should_stop: StopCheck | None):
        self.total, self.done = total, 0
        self.on_progress, self.should_stop = on_progress, should_stop
        self.last_report = 0.0

    def stopped(self) -> bool:
        return self.should_stop is not None and bool(self.should_stop())

    def add(self, n: int) -> None:
        self.done += n
        if self.stopped():
            raise TrainingCancelled("training was cancelled while counting words")
        now = time.monotonic()
        if self.on_progress is not None and now - self.last_report > 0.1:
            self.last_report = now
            self.on_progress("counting", min(self.done, self.total), self.total)

    def finish(self) -> None:
        if self.on_progress is not None:
            self.on_progress("counting", self.total, self.total)


def _process_context():
    """How to start worker processes.

    ``fork`` is fast and does not re-import the caller's ``__main__``, but
    forking a process that runs other threads (a server) can copy a lock in
    its held state.  Such processes use ``forkserver`` where there is one:
    workers are forked from a small clean process that has imported only
    this module.  Python still has each of them re-run the caller's main
    script (as ``__mp_main__``) before its first shard, so a program that
    counts from threads keeps its main script light: the server's console
    script imports only :mod:`server.console`, not the MCP SDK (importing
    the SDK cost each worker 0.8-0.9 s of CPU on every training call).
    ``spawn`` (the last resort) starts every worker from a fresh interpreter.
    """
    methods = multiprocessing.get_all_start_methods()
    if threading.active_count() == 1 and "fork" in methods:
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        return _forkserver_context()
    return multiprocessing.get_context("spawn")


def _forkserver_context():
    """The ``forkserver`` start method, its server importing this module once for every worker."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    return context


def start_worker_server(workers: int | None = None) -> bool:
    """Get ready to count in worker processes from threads: start the fork server they come from.

    For a server, whose trainings run in threads (see :func:`_process_context`):
    call it when the server starts, with the ``workers`` its trainings will ask
    for, and the first training does not wait 0.2-0.5 s for the fork server (a
    fresh interpreter importing ``bpe_core``).  Returns whether one is starting
    (not for one worker or one core, nor where there is no fork server).
    """
    workers = available_cores() if workers is None else max(1, int(workers))
    if workers < 2 or "forkserver" not in multiprocessing.get_all_start_methods():
        return False
    from multiprocessing import forkserver

    _forkserver_context()  # says what the fork server imports
    forkserver.ensure_running()
    return True


# --- worker-process side -------------------------------------------------

_worker_job: CountJob | None = None


def _init_worker(job: CountJob) -> None:
    global _worker_job
    # Ctrl-C is the parent's to handle (it terminates the pool); a worker
    # dying on it mid-shard would only print a second traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker_job = job


def _count_shard_in_worker(shard: Shard) -> PartialCounts:
    assert _worker_job is not None, "worker used before _init_worker"
    return count_shard(shard, _worker_job)
