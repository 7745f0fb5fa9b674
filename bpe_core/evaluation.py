"""Is this tokenizer any good?  Evaluate one on held-out text, or compare several.

>>> from bpe_core import train
>>> tok = train("the cat sat on the mat " * 20, vocab_size=270)
>>> report = evaluate(tok, texts=["the cat sat on the hat"], name="tiny")
>>> report.tokens, report.round_trip_failures
(8, 0)
>>> report.vocab_used, report.vocab_size
(8, 268)

What an :class:`Evaluation` holds, and why each number matters:

* **compression**: bytes, characters and words per token (fewer tokens
  for the same text is cheaper and leaves more context); for text with
  CJK characters, tokens per CJK character (each run of CJK characters
  encoded on its own, so the number is the cost of those characters);
* **vocabulary use**: the share of ids the text uses at all; tokens that
  never occur, not even as a part of a token that does (candidates for
  under-trained "glitch" tokens, whose embeddings never learned), and
  tokens never emitted but used inside the merges of tokens that are;
* **token lengths**, weighted by how often each token occurs, and the most
  frequent tokens;
* a **round trip** check (``decode(encode(x)) == x``, block by block) and
  the bytes that **fell back** to single-byte tokens (a byte of a
  character the vocabulary has no token for).

The corpus is streamed: files are read in blocks of about a megabyte, so
memory stays bounded whatever their size.  Each tokenizer cuts the blocks
only at a line end where its pre-tokenizer splits anyway (see
``_SAFE_CUTS``), so the counts are those of encoding each file whole; a
custom regex gets the rule of GPT-2's pattern and could differ by a token
at a cut, and a file with no such line end for eight blocks is cut at a
plain line end (counted in ``forced_cuts``).  Special-token text is encoded as plain
text, as in any held-out corpus.  ``should_stop()`` returning true stops the
work between blocks (:class:`~bpe_core.errors.EvaluationCancelled`), and
``on_progress(phase, done_bytes, total_bytes)`` reports progress.
"""

from __future__ import annotations

import heapq
import os
import re
import time
import weakref
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

import regex

from .base import ProgressCallback, StopCheck
from .corpus_formats import line_pieces
from .counting import check_corpus_files
from .display import quoted, visible
from .errors import BPEError, EvaluationCancelled
from .fast import Encoder, is_fast, ordinary_encoder
from .tokenizer import Tokenizer

#: Characters handed to the encoder at a time.
BLOCK_CHARS = 1 << 20
#: Most entries a list in a result may hold (a chat client is never flooded).
MAX_LISTED = 500
#: Token lengths at or above this share one bucket of the distribution.
LONG_TOKEN = 16


# Where a block may be cut so that the pre-tokenizer splits each side as it splits the whole text.
# cl100k and o200k end a word at the last line end of a whitespace run that a non-space character
# follows, and look no further: so after a line end followed by spaces or tabs (no other line end)
# and a non-space character ('/' only after a space: o200k's punctuation words take line ends and
# '/').  GPT-2's pattern gives spaces after a line end to the line end's word, so there the cut comes
# after a non-space character and one line end, before a non-space character or a second line end
# (which goes to the next block, as it would in the whole text).  A custom regex gets GPT-2's rule.
_RUN_END_CUT = re.compile(r"(?<=\n)(?=[^\S\r\n]+\S|[^\s/])")
_SAFE_CUTS = {"cl100k": _RUN_END_CUT, "o200k": _RUN_END_CUT, "whitespace": re.compile(r"(?<=\n)")}
_GPT2_SAFE_CUT = re.compile(r"(?<=\S\n)(?=\n?[^\s/])")

_CJK_RUN = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}]+")


# No CJK character is below U+1100 (the first Hangul Jamo): the regex runs only on runs of such characters.
_HIGH_RUN = re.compile("[\u1100-\U0010ffff]+")


def _cjk_runs(text: str) -> list[str]:
    """The runs of CJK characters in ``text``.

    >>> _cjk_runs("GPT-4o 的分词器, カタカナ")
    ['的分词器', 'カタカナ']
    """
    if text.isascii():
        return []
    return [run for high in _HIGH_RUN.findall(text) for run in _CJK_RUN.findall(high)]


@dataclass
class TokenCount:
    """A token and how often it occurred."""

    id: int
    text: str  # readable: the text its bytes spell (\\xNN for part of a character)
    count: int
    share: float  # of all tokens


@dataclass
class TokenEntry:
    """A vocabulary entry, in a list of tokens that did not occur."""

    id: int
    text: str
    length: int  # bytes (byte-level) or characters (classic, without </w>)


@dataclass
class Evaluation:
    """One tokenizer on one corpus: the numbers of the module docstring.

    Lists are capped (``top_tokens`` at ``top_k``; ``unused_tokens`` and
    ``merge_only_tokens`` at ``list_limit`` from ``list_offset``); the
    ``*_total`` fields say how many there are in all.
    """

    name: str
    mode: str
    pattern: str
    vocab_size: int
    encoder: str  # "tiktoken" or "bpe_core"
    sources: int
    bytes: int
    characters: int
    words: int
    tokens: int
    bytes_per_token: float | None
    characters_per_token: float | None
    tokens_per_word: float | None
    cjk_characters: int
    cjk_tokens: int
    tokens_per_cjk_character: float | None
    vocab_used: int  # distinct non-special ids that occurred
    vocab_used_share: float
    unused_total: int  # never emitted and not part of any emitted token
    unused_tokens: list[TokenEntry]
    merge_only_total: int  # never emitted, but a merge part of an emitted token
    merge_only_tokens: list[TokenEntry]
    list_offset: int
    next_list_offset: int | None  # list_offset of the next page of those lists (None: this is the last)
    length_distribution: dict[str, int]  # token length ("1".."15", "16+") -> occurrences
    mean_token_length: float | None
    top_tokens: list[TokenCount]
    round_trip_checked: int  # blocks checked
    round_trip_failures: int
    first_round_trip_failure: str | None
    byte_fallback_bytes: int | None  # single-byte tokens holding a non-ASCII byte (byte-level only)
    unknown_tokens: int | None  # unk tokens emitted (classic only)
    forced_cuts: int  # blocks cut where words may join (no suitable line end for a long stretch)
    seconds: float
    megabytes_per_second: float | None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        """A few readable lines.

        >>> from bpe_core import train
        >>> tok = train("low lower lowest " * 10, vocab_size=262)
        >>> print(evaluate(tok, texts=["low lowest"], name="tiny", fast=False).summary().splitlines()[0])
        tiny (byte_level, gpt2, 262 tokens, bpe_core encoder): 10 bytes -> 3 tokens
        """
        def ratio(value, unit):
            return f"{value:.2f} {unit}" if value is not None else None

        compression = [ratio(self.bytes_per_token, "bytes/token"), ratio(self.characters_per_token, "chars/token"),
                       ratio(self.tokens_per_word, "tokens/word"),
                       ratio(self.tokens_per_cjk_character, "tokens/CJK char")]
        lines = [
            f"{self.name} ({self.mode}, {self.pattern}, {self.vocab_size:,} tokens, {self.encoder} encoder): "
            f"{self.bytes:,} bytes -> {self.tokens:,} tokens",
            "  compression: " + (", ".join(c for c in compression if c) or "no text"),
            f"  vocabulary: {_share(self.vocab_used_share)} of ids used; {self.unused_total:,} never occur "
            f"(glitch candidates), {self.merge_only_total:,} only inside longer tokens",
        ]
        fallback = (f"{self.byte_fallback_bytes:,} bytes in single-byte tokens" if self.byte_fallback_bytes is not None
                    else f"{self.unknown_tokens:,} unknown tokens")
        lines.append(f"  {fallback}; round trip: {self.round_trip_failures} of {self.round_trip_checked} blocks "
                     "failed" + (f" ({self.first_round_trip_failure})" if self.first_round_trip_failure else ""))
        if self.top_tokens:
            lines.append("  most frequent: " + ", ".join(f"{quoted(t.text)} {t.share:.1%}" for t in self.top_tokens[:8]))
        return "\n".join(lines)


# --- reading the corpus -------------------------------------------------------


@dataclass
class _Block:
    source: str
    start: int  # character offset in its source
    text: str


def _input_size(texts: list[str], files: list[Path]) -> int:
    return sum(len(t.encode("utf-8", "surrogatepass")) for t in texts) + sum(p.stat().st_size for p in files)


def _sources(texts: list[str], files: list[Path], block_chars: int) -> Iterator[tuple[str, Iterator[str]]]:
    """Each text and file as ``(name, pieces)``: strings of whole lines, about ``block_chars`` each."""
    for number, text in enumerate(texts):
        yield f"text {number}", line_pieces(text, block_chars)
    for path in files:
        yield str(path), _file_pieces(path, block_chars)


def _file_pieces(path: Path, block_chars: int) -> Iterator[str]:
    offset, carry = 0, b""
    with open(path, "rb") as handle:
        while chunk := handle.read(block_chars):
            data = carry + chunk
            cut = data.rfind(b"\n") + 1
            if not cut and len(data) > 8 * block_chars:  # no line end for long: cut between characters
                cut = len(data) - 1
                while cut > 0 and 0x80 <= data[cut] < 0xC0:  # a continuation byte: not a character's start
                    cut -= 1
            if cut:
                yield _decode(data[:cut], path, offset)
                offset += cut
            carry = data[cut:]
    if carry:
        yield _decode(carry, path, offset)


def _decode(data: bytes, path: Path, offset: int) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BPEError(f"{path} is not UTF-8 text: invalid byte 0x{data[exc.start]:02x} at byte offset "
                       f"{offset + exc.start}; convert it to UTF-8 first, or leave it out") from None


class _Cutter:
    """Gathers one source's pieces into blocks, cut only where the pre-tokenizer splits anyway."""

    def __init__(self, pattern_name: str, block_chars: int):
        self.safe_cut = _SAFE_CUTS.get(pattern_name, _GPT2_SAFE_CUT)
        self.block_chars = block_chars
        self.forced = 0
        self.source, self.pending, self.start = "", "", 0

    def begin(self, source: str) -> None:
        self.source, self.pending, self.start = source, "", 0

    def feed(self, piece: str) -> Iterator[_Block]:
        self.pending += piece
        while len(self.pending) > self.block_chars:
            cut = self._last_safe_cut()
            if not cut:
                if len(self.pending) < 8 * self.block_chars:
                    return  # read on: a safe cut may come
                cut = self.pending.rfind("\n", 0, len(self.pending) - 1) + 1 or self.block_chars
                self.forced += 1
            yield self._take(cut)

    def end(self) -> Iterator[_Block]:
        if self.pending:
            yield self._take(len(self.pending))

    def _take(self, cut: int) -> _Block:
        block = _Block(self.source, self.start, self.pending[:cut])
        self.start += cut
        self.pending = self.pending[cut:]
        return block

    def _last_safe_cut(self) -> int:
        """The last safe cut (0 if none): the last line end after which the rule matches."""
        text, match = self.pending, self.safe_cut.match
        end = len(text)
        while (end := text.rfind("\n", 0, end)) >= 0:
            if match(text, end + 1):  # the rule's lookbehind sees the characters before end + 1
                return end + 1
        return 0


# --- one tokenizer's tally ----------------------------------------------------------


class _TokenBytes(dict):
    """id -> the bytes of a token, filled in on first use (a reference vocabulary has 200,000)."""

    def __init__(self, tokenizer: Tokenizer):
        super().__init__()
        self.tokenizer = tokenizer

    def __missing__(self, token_id: int) -> bytes:
        value = self[token_id] = self.tokenizer.token_bytes(token_id)
        return value


class _Tally:
    """What one tokenizer did with the blocks it was given."""

    def __init__(self, name: str, tokenizer: Tokenizer, fast: bool | None, block_chars: int):
        self.name = name
        self.cutter = _Cutter(tokenizer.pattern_name, block_chars)
        self.tokenizer = tokenizer
        self.encode: Encoder = ordinary_encoder(tokenizer, fast)
        self.counts: Counter[int] = Counter()
        self.tokens = self.cjk_tokens = 0
        self.checked = self.failures = 0
        self.first_failure: str | None = None
        self.seconds = 0.0
        self.token_bytes = _TokenBytes(tokenizer)

    def begin(self, source: str) -> None:
        self.cutter.begin(source)

    def feed(self, piece: str) -> None:
        for block in self.cutter.feed(piece):
            self._add(block)

    def end(self) -> None:
        for block in self.cutter.end():
            self._add(block)

    def _add(self, block: _Block) -> None:
        started = time.perf_counter()
        ids = self.encode(block.text)
        self.counts.update(ids)
        self.tokens += len(ids)
        self.cjk_tokens += sum(len(self.encode(run)) for run in _cjk_runs(block.text))
        self.checked += 1
        if not self._round_trips(block, ids):
            self.failures += 1
        self.seconds += time.perf_counter() - started

    def _round_trips(self, block: _Block, ids: list[int]) -> bool:
        fast_decode = getattr(self.encode, "decode_bytes", None)
        decoded = fast_decode(ids) if fast_decode else b"".join(map(self.token_bytes.__getitem__, ids))
        difference = self.tokenizer.family.round_trip_difference(decoded, block.text)
        if difference is None:
            return True
        self._note_failure(f"{block.source} (block at character {block.start}): {difference}")
        return False

    def _note_failure(self, where: str) -> None:
        if self.first_failure is None:
            self.first_failure = where


class _Totals:
    """The tokenizer-independent counts of the corpus (what every tally divides by)."""

    def __init__(self, sources: int):
        self.sources = sources
        self.bytes = self.characters = self.words = self.cjk_characters = 0

    def add(self, piece: str) -> None:
        self.bytes += len(piece.encode("utf-8", "surrogatepass"))
        self.characters += len(piece)
        self.words += len(piece.split())  # pieces end at line ends, so no word is counted twice
        self.cjk_characters += sum(map(len, _cjk_runs(piece)))


def _run(tallies: list[_Tally], texts: list[str], files: list, *, phase: str, block_chars: int,
         should_stop: StopCheck | None, on_progress: ProgressCallback | None) -> _Totals:
    for text in texts:
        if not isinstance(text, str):
            raise BPEError(f"texts must be strings, got {type(text).__name__}")
    paths = check_corpus_files(files)
    if not texts and not paths:
        raise BPEError("nothing to evaluate: give texts or files")
    total = _input_size(texts, paths)
    totals = _Totals(len(texts) + len(paths))
    last_report = 0.0
    for source, pieces in _sources(texts, paths, block_chars):
        for tally in tallies:
            tally.begin(source)
        for piece in pieces:
            if should_stop is not None and should_stop():
                raise EvaluationCancelled(f"{phase} was cancelled after {totals.bytes:,} of {total:,} bytes")
            for tally in tallies:
                tally.feed(piece)
            totals.add(piece)
            now = time.monotonic()
            if on_progress is not None and now - last_report > 0.1:
                last_report = now
                on_progress(phase, totals.bytes, max(total, totals.bytes))
        for tally in tallies:
            tally.end()
    if on_progress is not None:
        on_progress(phase, totals.bytes, totals.bytes)
    return totals


def _corpus_lists(texts, files, block_chars) -> tuple[list[str], list]:
    if not isinstance(block_chars, int) or isinstance(block_chars, bool) or block_chars < 1:
        raise BPEError(f"block_chars must be a positive integer; got {block_chars!r}")
    if isinstance(files, (str, os.PathLike)):
        files = [files]
    return ([texts] if isinstance(texts, str) else list(texts or ())), list(files or ())


# --- the result ----------------------------------------------------------------------


def _check_limit(value: int, argument: str, low: int = 0) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= MAX_LISTED:
        raise BPEError(f"{argument} must be an integer from {low} to {MAX_LISTED}; got {value!r}")
    return value


def _merge_parts(tokenizer: Tokenizer) -> dict[int, tuple[int, int]]:
    """id of a merged token -> the ids of the two tokens its first merge joins (kept per tokenizer)."""
    parts = _MERGE_PARTS.get(tokenizer)
    if parts is None:
        vocab, parts = tokenizer.vocab, {}
        for left, right in tokenizer.merges:  # in rank order: the first merge making a token wins
            parts.setdefault(vocab[left + right], (vocab[left], vocab[right]))
        _MERGE_PARTS[tokenizer] = parts
    return parts


_MERGE_PARTS: "weakref.WeakKeyDictionary[Tokenizer, dict]" = weakref.WeakKeyDictionary()


def _merge_only(tokenizer: Tokenizer, emitted: Iterable[int]) -> set[int]:
    """Ids never emitted that are parts (at any depth) of the merges of emitted tokens."""
    parts = _merge_parts(tokenizer)
    emitted = set(emitted)
    seen: set[int] = set()
    stack = [part for token_id in emitted for part in parts.get(token_id, ())]
    while stack:
        token_id = stack.pop()
        if token_id in seen:
            continue
        seen.add(token_id)
        stack.extend(parts.get(token_id, ()))
    return seen - emitted


def _result(tally: _Tally, totals: _Totals, *, top_k: int, list_limit: int, list_offset: int) -> Evaluation:
    tokenizer, counts, tokens = tally.tokenizer, tally.counts, tally.tokens
    specials = set(tokenizer.special_tokens.values())
    ordinary_ids = [i for i in tokenizer.id_to_token if i not in specials]
    merge_only = _merge_only(tokenizer, counts)
    unused = [i for i in ordinary_ids if i not in counts and i not in merge_only]
    following = list_offset + list_limit

    def entries(ids: Iterable[int]) -> list[TokenEntry]:
        # Longest first: a long token that never occurs is the likeliest to be under-trained.
        keyed = heapq.nsmallest(list_offset + list_limit, ((-tokenizer.token_length(i), i) for i in ids))
        return [TokenEntry(i, tokenizer.readable(i), -negative) for negative, i in keyed[list_offset:]]

    lengths: Counter[str] = Counter()
    length_sum = 0
    for token_id, n in counts.items():
        length = tokenizer.token_length(token_id)
        length_sum += length * n
        lengths[str(length) if length < LONG_TOKEN else f"{LONG_TOKEN}+"] += n
    fallback = tokenizer.family.byte_fallback_bytes(tokenizer.id_to_token, counts)
    notes = [tokenizer.family.evaluation_note] if tokenizer.family.evaluation_note else []
    if tally.cutter.forced:
        notes.append(f"{tally.cutter.forced} block(s) were cut where words may join (no line end between a "
                     "non-space characters for a long stretch): counts there may differ by a token")
    per = lambda a, b: a / b if b else None  # noqa: E731
    return Evaluation(
        name=tally.name, mode=tokenizer.mode, pattern=tokenizer.pattern_name, vocab_size=tokenizer.vocab_size,
        encoder="tiktoken" if is_fast(tally.encode) else "bpe_core", sources=totals.sources,
        bytes=totals.bytes, characters=totals.characters, words=totals.words, tokens=tokens,
        bytes_per_token=per(totals.bytes, tokens), characters_per_token=per(totals.characters, tokens),
        tokens_per_word=per(tokens, totals.words), cjk_characters=totals.cjk_characters,
        cjk_tokens=tally.cjk_tokens, tokens_per_cjk_character=per(tally.cjk_tokens, totals.cjk_characters),
        vocab_used=sum(1 for i in counts if i not in specials),
        vocab_used_share=per(sum(1 for i in counts if i not in specials), len(ordinary_ids)) or 0.0,
        unused_total=len(unused), unused_tokens=entries(unused),
        merge_only_total=len(merge_only), merge_only_tokens=entries(merge_only), list_offset=list_offset,
        next_list_offset=following if list_limit and following < max(len(unused), len(merge_only)) else None,
        length_distribution=dict(sorted(lengths.items(), key=lambda item: int(item[0].rstrip("+")))),
        mean_token_length=per(length_sum, tokens),
        top_tokens=[TokenCount(i, tokenizer.readable(i), n, n / tokens) for i, n in counts.most_common(top_k)],
        round_trip_checked=tally.checked, round_trip_failures=tally.failures,
        first_round_trip_failure=tally.first_failure, byte_fallback_bytes=fallback,
        unknown_tokens=None if tokenizer.unk_token is None else counts.get(tokenizer.vocab[tokenizer.unk_token], 0),
        forced_cuts=tally.cutter.forced, seconds=tally.seconds,
        megabytes_per_second=per(totals.bytes / 1e6, tally.seconds), notes=notes,
    )


def evaluate(
    tokenizer: Tokenizer,
    texts: str | Iterable[str] = (),
    files: Iterable[str | os.PathLike] = (),
    *,
    name: str | None = None,
    fast: bool | None = None,
    top_k: int = 20,
    list_limit: int = 20,
    list_offset: int = 0,
    should_stop: StopCheck | None = None,
    on_progress: ProgressCallback | None = None,
    block_chars: int = BLOCK_CHARS,
) -> Evaluation:
    """Evaluate ``tokenizer`` on ``texts`` and UTF-8 ``files`` (see the module docstring).

    ``fast``: ``None`` encodes through tiktoken when that gives the same
    ids (:mod:`bpe_core.fast`), ``False`` never, ``True`` insists.
    ``top_k`` most frequent tokens; ``list_limit`` unused tokens from
    ``list_offset`` (page through them with it); at most 500 each.
    """
    _check_limit(top_k, "top_k")
    _check_limit(list_limit, "list_limit")
    if not isinstance(list_offset, int) or list_offset < 0:
        raise BPEError(f"list_offset must be a non-negative integer; got {list_offset!r}")
    texts, files = _corpus_lists(texts, files, block_chars)
    tally = _Tally(name or "tokenizer", tokenizer, fast, block_chars)
    totals = _run([tally], texts, files, phase="evaluating", block_chars=block_chars,
                  should_stop=should_stop, on_progress=on_progress)
    return _result(tally, totals, top_k=top_k, list_limit=list_limit, list_offset=list_offset)


# --- comparing several ------------------------------------------------------------------

#: How many tokenizers one comparison takes.
MIN_COMPARED, MAX_COMPARED = 2, 8


@dataclass
class TokenSpan:
    """One token of the sample, by character offsets (several tokens may share a character)."""

    start: int
    end: int
    id: int
    text: str


@dataclass
class Ranked:
    name: str
    tokens: int
    relative: float  # tokens / the fewest tokens (1.0 for the best)


@dataclass
class Comparison:
    """Several tokenizers on the same corpus, side by side.

    ``evaluations`` holds each one's numbers (lists kept short);
    ``ranking`` orders them by tokens for the same text (fewest first: the
    best compression); ``sample`` is the start of the corpus, with each
    tokenizer's ``segmentations`` (token spans by character offsets), its
    ``boundaries`` (the offsets where a token starts) and the
    ``differing_boundaries`` where some cut and others do not.
    """

    evaluations: dict[str, Evaluation]
    ranking: list[Ranked]
    sample: str
    segmentations: dict[str, list[TokenSpan]]
    boundaries: dict[str, list[int]]
    differing_boundaries: list[int]

    def to_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        """A small table (one row per tokenizer, best first) and the sample as each one cuts it."""
        header = ["tokenizer", "vocab", "tokens", "bytes/tok", "chars/tok", "tok/word", "tok/CJK", "vocab used"]
        rows = []
        for place, ranked in enumerate(self.ranking, start=1):
            e = self.evaluations[ranked.name]
            rows.append([f"{place}. {e.name}", f"{e.vocab_size:,}", f"{e.tokens:,}", _fixed(e.bytes_per_token),
                         _fixed(e.characters_per_token), _fixed(e.tokens_per_word),
                         _fixed(e.tokens_per_cjk_character), _share(e.vocab_used_share)])
        lines = _table(header, rows)
        if self.sample:
            lines.append(f"sample ({len(self.sample)} characters; tokens separated by |, spaces as ␣, \\xNN a byte of "
                         f"a character split between tokens; {len(self.differing_boundaries)} boundaries differ):")
            width = max(len(name) for name in self.segmentations)
            for name, spans in self.segmentations.items():
                lines.append(f"  {name.ljust(width)}  " + _segmented(spans))
        return "\n".join(lines)


def _share(value: float) -> str:
    """A share as a percentage; a small non-zero one is not shown as 0.0%.

    >>> _share(0.00004), _share(0.25)
    ('<0.1%', '25.0%')
    """
    return "<0.1%" if 0 < value < 0.001 else f"{value:.1%}"


def _fixed(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    cells = [header] + rows
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    return ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))
            for row in cells]


def _segmented(spans: list[TokenSpan]) -> str:
    """The tokens joined by '|', as people read them: spaces as '␣', part of a character as \\xNN.

    >>> _segmented([TokenSpan(0, 2, 7, "a "), TokenSpan(2, 3, 8, "\\xe4"), TokenSpan(2, 3, 9, "\\xb8\\xad")])
    'a␣|\\xe4|\\xb8\\xad'
    """
    return "|".join(visible(span.text) for span in spans)


def _sample_text(texts: list[str], files: list[Path], sample_chars: int) -> str:
    """The first ``sample_chars`` characters of the corpus, ending at a space where one is near."""
    if texts:
        text = texts[0][: sample_chars + 1]
    elif files:
        with open(files[0], "rb") as handle:
            text = handle.read(4 * (sample_chars + 1)).decode("utf-8", "ignore")[: sample_chars + 1]
    else:
        return ""
    if len(text) > sample_chars:
        cut = max(text.rfind(" ", 0, sample_chars + 1), text.rfind("\n", 0, sample_chars + 1))
        text = text[: cut if cut > sample_chars // 2 else sample_chars]
    return text


def segmentation(tokenizer: Tokenizer, text: str) -> list[TokenSpan]:
    """``text``'s tokens as character spans (special-token text as plain text).

    >>> from bpe_core import train
    >>> tok = train("ab ab ab", vocab_size=258)
    >>> [(s.start, s.end, s.text) for s in segmentation(tok, "ab a")]
    [(0, 2, 'ab'), (2, 3, ' '), (3, 4, 'a')]
    """
    return [TokenSpan(t.start, t.end, t.id, tokenizer.readable(t.id) if not t.special else t.token)
            for t in tokenizer.encode_tokens(text, allowed_special=(), disallowed_special=())]


def compare(
    tokenizers: dict[str, Tokenizer],
    texts: str | Iterable[str] = (),
    files: Iterable[str | os.PathLike] = (),
    *,
    sample_chars: int = 200,
    fast: bool | None = None,
    top_k: int = 5,
    list_limit: int = 5,
    should_stop: StopCheck | None = None, on_progress: ProgressCallback | None = None,  # as evaluate() takes them
    block_chars: int = BLOCK_CHARS,
) -> Comparison:
    """Run 2 to 8 tokenizers (``{name: tokenizer}``) over the same corpus, read once.

    >>> from bpe_core import train
    >>> corpus = "the cat sat on the mat " * 20
    >>> small, large = train(corpus, vocab_size=260), train(corpus, vocab_size=280)
    >>> result = compare({"small": small, "large": large}, texts=["the cat sat on the mat"])
    >>> [(r.name, r.tokens) for r in result.ranking]
    [('large', 6), ('small', 14)]
    """
    if not isinstance(tokenizers, dict) or not MIN_COMPARED <= len(tokenizers) <= MAX_COMPARED:
        count = len(tokenizers) if isinstance(tokenizers, dict) else type(tokenizers).__name__
        raise BPEError(f"compare takes {MIN_COMPARED} to {MAX_COMPARED} tokenizers by name; got {count}")
    if not isinstance(sample_chars, int) or not 0 <= sample_chars <= 2000:
        raise BPEError(f"sample_chars must be an integer from 0 to 2000; got {sample_chars!r}")
    _check_limit(top_k, "top_k")
    _check_limit(list_limit, "list_limit")
    texts, files = _corpus_lists(texts, files, block_chars)
    tallies = [_Tally(name, tokenizer, fast, block_chars) for name, tokenizer in tokenizers.items()]
    totals = _run(tallies, texts, files, phase="comparing", block_chars=block_chars,
                  should_stop=should_stop, on_progress=on_progress)
    evaluations = {t.name: _result(t, totals, top_k=top_k, list_limit=list_limit, list_offset=0) for t in tallies}
    fewest = min(e.tokens for e in evaluations.values())
    ranking = [Ranked(e.name, e.tokens, e.tokens / fewest if fewest else 1.0)
               for e in sorted(evaluations.values(), key=lambda e: e.tokens)]
    sample = _sample_text(texts, [Path(f) for f in files], sample_chars) if sample_chars else ""
    segmentations = {name: segmentation(tokenizer, sample) for name, tokenizer in tokenizers.items()}
    boundaries = {name: sorted({s.start for s in spans} - {0}) for name, spans in segmentations.items()}
    all_cuts = set().union(*boundaries.values())
    shared = set.intersection(*(set(b) for b in boundaries.values()))
    return Comparison(evaluations, ranking, sample, segmentations, boundaries, sorted(all_cuts - shared))
