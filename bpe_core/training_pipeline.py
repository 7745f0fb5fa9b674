"""``train()``: corpus in, :class:`~bpe_core.tokenizer.Tokenizer` out.

The three phases, each in its own module: pre-tokenize and count words
(:mod:`bpe_core.counts`, :mod:`bpe_core.counting`), learn merges
(:mod:`bpe_core.merge_learning`), and assemble the tokenizer (here).

>>> tok = train("low " * 5 + "lower " * 2 + "newest " * 6 + "widest " * 3,
...             mode="classic", num_merges=10)
>>> tok.merges[:3]
[('e', 's'), ('es', 't'), ('est', '</w>')]
>>> tok.training.stop_reason
'num_merges'
"""

from __future__ import annotations

import os
import time
from typing import Iterable, Sequence

from .base import ProgressCallback, StopCheck
from .corpus_formats import DEFAULT_TEXT_FIELD
from .counting import CorpusReading
from .counts import DEFAULT_UNK_TOKEN, CountSettings, CountsTable, count_table, load_counts
from .errors import BPEError
from .families import family_named
from .gc_pause import without_cyclic_gc
from .merge_learning import MergeLimits, learn_merges
from .tokenizer import Tokenizer, TrainingReport


@without_cyclic_gc
def train(
    texts: str | Iterable[str] = (),
    *,
    files: Iterable[str | os.PathLike] = (),
    word_counts: CountsTable | str | os.PathLike | None = None,
    mode: str | None = None,
    vocab_size: int | None = None,
    num_merges: int | None = None,
    min_frequency: int = 0,
    pattern: str | None = None,
    special_tokens: Sequence[str] | None = None,
    unk_token: str | None = None,
    text_field: str = DEFAULT_TEXT_FIELD,
    on_error: str = "fail",
    workers: int | None = None,
    dask=None,
    shard_bytes: int | None = None,
    on_progress: ProgressCallback | None = None,
    should_stop: StopCheck | None = None,
) -> Tokenizer:
    """Train a BPE tokenizer on ``texts`` (a string or strings) and ``files``, or on saved ``word_counts``.

    * ``mode``: ``"byte_level"`` (GPT-2 style, default) or ``"classic"``
      (Sennrich et al., words split on whitespace, ``</w>`` ends a word).
    * ``vocab_size`` counts special tokens and the initial symbols (the 256
      bytes, or the characters seen plus ``</w>`` and ``unk_token``);
      ``num_merges`` caps the merges.  At least one of them is required.
    * ``min_frequency``: stop when the best pair occurs fewer times.
    * ``pattern``: ``"gpt2"`` (default), ``"cl100k"``, ``"o200k"`` or a regex
      (byte-level only; classic always splits on whitespace).
    * ``special_tokens`` take the first ids and are never split or merged.
    * ``files`` may be plain text, JSON Lines (the ``text_field`` of each
      record, ``"text"`` by default, dotted for a nested field), Parquet (the
      ``text_field`` column), each compressed or not (``.gz``, ``.bz2``,
      ``.xz``, ``.zst``); ``on_error`` is ``"fail"`` (default) or ``"skip"``
      for records that cannot be read (see :mod:`bpe_core.corpus_formats`).
    * ``word_counts``: a :class:`~bpe_core.counts.CountsTable` or a counts
      file instead of a corpus; mode, pattern and special tokens default to
      the counts' own, and must match them.
    * ``workers``: local processes for counting; ``dask``: a
      ``distributed.Client``, a scheduler address or ``"local[:N]"`` to count
      on a Dask cluster instead (the merges are the same either way).
    * ``on_progress(phase, done, total)`` is called now and then;
      ``should_stop()`` returning true raises :class:`TrainingCancelled`.
    """
    if word_counts is not None and not isinstance(word_counts, CountsTable):
        word_counts = load_counts(word_counts)
    family = family_named(word_counts.settings.mode if mode is None and word_counts is not None else mode)
    if word_counts is not None:
        counted_with = word_counts.settings
        if pattern is None and family.name == counted_with.mode:
            pattern = counted_with.pre_tokenizer_pattern
        special_tokens = counted_with.special_tokens if special_tokens is None else special_tokens
        unk_token = counted_with.unk_token if unk_token is None else unk_token
    if vocab_size is None and num_merges is None:
        raise BPEError("give vocab_size (the final vocabulary size) or num_merges (how many merges to learn)")
    for name, value in (("vocab_size", vocab_size), ("num_merges", num_merges), ("min_frequency", min_frequency)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            raise BPEError(f"{name} must be a non-negative integer; got {value!r}")
    unk_token = DEFAULT_UNK_TOKEN if unk_token is None else unk_token
    settings = CountSettings.create(family.name, pattern, () if special_tokens is None else special_tokens,
                                    unk_token)
    if vocab_size is not None:
        family.check_vocab_size(vocab_size, len(settings.reserved))

    started = time.perf_counter()
    if word_counts is not None:
        if _given(texts) or _given(files):
            raise BPEError("give a corpus (texts or files) or word_counts, not both; merge counts with "
                           "bpe_core.counts.merge_counts, or count the corpus and merge")
        differences = word_counts.settings.differences(settings)
        if differences:
            raise BPEError(f"the word counts were made with other settings than this training asks for "
                           f"(counts vs training: {'; '.join(differences)}); train with the counts' settings "
                           "(leave mode, pattern and special_tokens out), or count the corpus again")
    else:
        reading = CorpusReading(text_field, on_error, workers, dask, shard_bytes)
        word_counts = count_table(texts, files, settings, reading, on_progress=on_progress, should_stop=should_stop)
    counted_at = time.perf_counter()
    learned = learn_merges(
        word_counts.counts, family, MergeLimits(vocab_size, num_merges, min_frequency),
        reserved=settings.reserved, on_progress=on_progress, should_stop=should_stop,
    )
    report = TrainingReport(
        mode=family.name,
        requested_vocab_size=vocab_size,
        requested_merges=num_merges,
        min_frequency=min_frequency,
        merges_learned=len(learned.merges),
        stop_reason=learned.stop_reason,
        corpus_bytes=word_counts.corpus_bytes,
        words=word_counts.total_words,
        distinct_words=len(word_counts.counts),
        skipped_records=word_counts.skipped_records,
        problems=word_counts.problems,
        seconds={},
    )
    tokenizer = Tokenizer(
        mode=family.name,
        vocab={token: token_id for token_id, token in enumerate(learned.tokens)},
        merges=learned.merges,
        pattern=settings.pre_tokenizer_pattern,
        special_tokens=settings.special_tokens,
        unk_token=settings.unk_token,
        training=report,
    )
    finished = time.perf_counter()
    report.seconds = {
        "counting": round(counted_at - started, 4),
        "merging": round(learned.seconds, 4),
        "total": round(finished - started, 4),
    }
    return tokenizer


def _given(corpus) -> bool:
    """Whether texts or files were given (one string or path counts, even empty)."""
    return isinstance(corpus, (str, os.PathLike)) or bool(list(corpus))
