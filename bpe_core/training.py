"""``train()``: corpus in, :class:`~bpe_core.tokenizer.Tokenizer` out.

The three phases, each in its own module: pre-tokenize and count words
(:mod:`bpe_core.counting`), learn merges (:mod:`bpe_core.trainer`), and
assemble the tokenizer.

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

from .counting import ProgressCallback, StopCheck, count_words
from .errors import BPEError
from .pretokenize import PreTokenizer, resolve_pattern
from .tokenizer import MODES, Tokenizer, TrainingReport
from .trainer import POLICIES, learn_merges

DEFAULT_PATTERN = "gpt2"
DEFAULT_UNK_TOKEN = "<unk>"


def train(
    texts: str | Iterable[str] = (),
    *,
    files: Iterable[str | os.PathLike] = (),
    mode: str = "byte_level",
    vocab_size: int | None = None,
    num_merges: int | None = None,
    min_frequency: int = 0,
    pattern: str | None = None,
    special_tokens: Sequence[str] = (),
    unk_token: str = DEFAULT_UNK_TOKEN,
    workers: int | None = None,
    on_progress: ProgressCallback | None = None,
    should_stop: StopCheck | None = None,
) -> Tokenizer:
    """Train a BPE tokenizer on ``texts`` (a string or strings) and ``files``.

    * ``mode``: ``"byte_level"`` (GPT-2 style, default) or ``"classic"``
      (Sennrich et al., words split on whitespace, ``</w>`` ends a word).
    * ``vocab_size`` counts special tokens and the initial symbols (the 256
      bytes, or the characters seen plus ``</w>`` and ``unk_token``);
      ``num_merges`` caps the merges.  At least one of them is required.
    * ``min_frequency``: stop when the best pair occurs fewer times.
    * ``pattern``: ``"gpt2"`` (default), ``"cl100k"``, ``"o200k"`` or a regex
      (byte-level only; classic always splits on whitespace).
    * ``special_tokens`` take the first ids and are never split or merged.
    * ``on_progress(phase, done, total)`` is called now and then;
      ``should_stop()`` returning true raises :class:`TrainingCancelled`.
    """
    if mode not in POLICIES:
        raise BPEError(f"mode must be one of {', '.join(MODES)}; got {mode!r}")
    if vocab_size is None and num_merges is None:
        raise BPEError("give vocab_size (the final vocabulary size) or num_merges (how many merges to learn)")
    for name, value in (("vocab_size", vocab_size), ("num_merges", num_merges), ("min_frequency", min_frequency)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            raise BPEError(f"{name} must be a non-negative integer; got {value!r}")
    if isinstance(special_tokens, str):
        raise BPEError(
            f"special_tokens must be a list of strings, not the string {special_tokens!r}; "
            f"write special_tokens=[{special_tokens!r}]"
        )
    specials = list(dict.fromkeys(special_tokens))
    if any(not isinstance(s, str) or not s for s in specials):
        raise BPEError(f"special tokens must be non-empty strings; got {special_tokens!r}")
    pattern = resolve_pattern(mode, pattern, default=DEFAULT_PATTERN)
    if mode == "classic":
        # The unk token is cut out of the corpus like a special token: were
        # "<unk>" learned by merging '<', 'u', ..., it would share the unk id.
        reserved = specials + ([unk_token] if unk_token not in specials else [])
    else:
        reserved = specials
        minimum = len(reserved) + 256
        if vocab_size is not None and vocab_size < minimum:
            raise BPEError(
                f"vocab_size {vocab_size} is too small: the 256 byte symbols and {len(reserved)} special "
                f"token(s) already take {minimum}; use at least {minimum}"
            )
    pre_tokenizer = PreTokenizer.create(pattern)
    if isinstance(texts, str):
        texts = [texts]
    if isinstance(files, (str, os.PathLike)):
        files = [files]

    started = time.perf_counter()
    counted = count_words(
        texts, files, pre_tokenizer, reserved, workers=workers, on_progress=on_progress, should_stop=should_stop
    )
    counted_at = time.perf_counter()
    learned = learn_merges(
        counted.counts,
        POLICIES[mode],
        reserved=reserved,
        max_vocab=vocab_size,
        max_merges=num_merges,
        min_frequency=min_frequency,
        on_progress=on_progress,
        should_stop=should_stop,
    )
    report = TrainingReport(
        mode=mode,
        requested_vocab_size=vocab_size,
        requested_merges=num_merges,
        min_frequency=min_frequency,
        merges_learned=len(learned.merges),
        stop_reason=learned.stop_reason,
        corpus_bytes=counted.corpus_bytes,
        words=counted.total_words,
        distinct_words=len(counted.counts),
        seconds={},
    )
    tokenizer = Tokenizer(
        mode=mode,
        vocab={token: token_id for token_id, token in enumerate(learned.tokens)},
        merges=learned.merges,
        pattern=pattern,
        special_tokens=specials,
        unk_token=unk_token if mode == "classic" else None,
        training=report,
    )
    finished = time.perf_counter()
    report.seconds = {
        "counting": round(counted_at - started, 4),
        "merging": round(learned.seconds, 4),
        "total": round(finished - started, 4),
    }
    return tokenizer
