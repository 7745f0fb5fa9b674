"""Pre-tokenization: cut text into the words that BPE works inside.

BPE never merges across a word boundary, so the pre-tokenizer decides what
a "word" is.  Two families:

* ``whitespace`` (classic BPE, Sennrich et al.): ``str.split()``, punctuation
  stays attached, exactly as the teaching code does.

  >>> PreTokenizer.create("whitespace").split("Hello, world!")
  ['Hello,', 'world!']

* a regular expression (byte-level BPE, GPT-2 / tiktoken): every match is a
  word.  Presets hold the exact published patterns; a custom pattern is
  compiled with the ``regex`` module and run under a timeout, so a pattern
  that backtracks catastrophically cannot hang the process.

  >>> PreTokenizer.create("gpt2").split("Hello, world!")
  ['Hello', ',', ' world', '!']

Special tokens are cut out *before* pre-tokenization (see
:class:`SpecialTokenSplitter`), so they are never split and never merged.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Iterator

import regex

from .errors import BPEError, PatternError, TrainingCancelled

#: Published pre-tokenizer patterns, by preset name.
PRESET_PATTERNS: dict[str, str] = {
    # GPT-2's original pattern; also Hugging Face's ByteLevel(use_regex=True).
    "gpt2": r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""",
    # tiktoken's cl100k_base (GPT-3.5 / GPT-4).
    "cl100k": r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s""",
    # tiktoken's o200k_base (GPT-4o).
    "o200k": "|".join(
        [
            r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
            r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
            r"""\p{N}{1,3}""",
            r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
            r"""\s*[\r\n]+""",
            r"""\s+(?!\S)""",
            r"""\s+""",
        ]
    ),
}

#: The classic pre-tokenizer's name (not a regex: ``str.split()``).
WHITESPACE = "whitespace"

#: Seconds a custom pattern may spend in one call (an encode, a batch, the
#: word counting of a training run), all its pieces of text together ...
CUSTOM_PATTERN_TIMEOUT = 2.0
#: ... plus this many seconds per million characters of the call's text.
CUSTOM_PATTERN_SECONDS_PER_MB = 1.0

_CUSTOM_PATTERN_MAX_LENGTH = 10_000


def describe_presets() -> str:
    """One line naming the valid pattern choices, for error messages."""
    return ", ".join(sorted(PRESET_PATTERNS)) + " or a custom regex"


@dataclass(frozen=True)
class PreTokenizer:
    """Splits text into words, with their character offsets.

    ``name`` is ``"whitespace"``, a preset name, or ``"custom"``;
    ``pattern`` is the regex source (``None`` for whitespace).
    """

    name: str
    pattern: str | None
    _compiled: object = None

    @classmethod
    def create(cls, pattern: str | None) -> "PreTokenizer":
        """Build from ``"whitespace"``, a preset name, or a regex source.

        >>> PreTokenizer.create("cl100k").name
        'cl100k'
        >>> PreTokenizer.create(r"\\w+|\\W").split("a+b")
        ['a', '+', 'b']
        """
        if pattern is None or pattern == WHITESPACE:
            return cls(WHITESPACE, None)
        if not isinstance(pattern, str):
            raise PatternError(f"pattern must be a string: {describe_presets()}; got {pattern!r}")
        if pattern in PRESET_PATTERNS:
            source = PRESET_PATTERNS[pattern]
            return cls(pattern, source, regex.compile(source))
        for name, source in PRESET_PATTERNS.items():
            if pattern == source:
                return cls(name, source, regex.compile(source))
        return cls("custom", pattern, _compile_custom(pattern))

    @property
    def is_whitespace(self) -> bool:
        return self._compiled is None

    @property
    def timeout(self) -> float | None:
        """Seconds one call may run: :data:`CUSTOM_PATTERN_TIMEOUT` for a custom
        pattern (read at call time, so it can be tuned after creation), none
        for the published presets, which cannot backtrack badly."""
        return CUSTOM_PATTERN_TIMEOUT if self.name == "custom" else None

    def budget(self, characters: int, should_stop=None) -> "PatternBudget | None":
        """The time budget of one call over ``characters`` of text (``None``
        for whitespace and the presets, which need none)."""
        if self.name != "custom":
            return None
        return PatternBudget(CUSTOM_PATTERN_TIMEOUT + CUSTOM_PATTERN_SECONDS_PER_MB * characters / 1e6, should_stop)

    def split(self, text: str, budget: "PatternBudget | None" = None) -> list[str]:
        """The words of ``text``, in order (no empty words).

        A custom pattern spends from ``budget`` (by default, a budget for
        this text alone); pass one budget to every split of a call.
        """
        if self._compiled is None:
            # str.split() would accept a lone surrogate, which has no UTF-8
            # bytes: the tokenizer could neither save nor decode it.
            check_unicode(text)
            return text.split()
        if self.name != "custom":
            return self._compiled.findall(text)
        budget = budget or self.budget(len(text))
        return [word for word, _ in budget.run(self._compiled, self.pattern, text)]

    def split_with_offsets(self, text: str, budget: "PatternBudget | None" = None) -> Iterator[tuple[str, int]]:
        """Yield ``(word, start)`` pairs, ``start`` a character offset into ``text``.

        >>> list(PreTokenizer.create("whitespace").split_with_offsets(" ab  c"))
        [('ab', 1), ('c', 5)]
        """
        if self._compiled is None:
            check_unicode(text)
            position = 0
            for word in text.split():
                start = text.index(word, position)
                position = start + len(word)
                yield word, start
            return
        if self.name != "custom":
            for match in self._compiled.finditer(text):
                if match.end() > match.start():
                    yield match.group(0), match.start()
            return
        yield from (budget or self.budget(len(text))).run(self._compiled, self.pattern, text)


class PatternBudget:
    """The seconds a custom pattern may spend over one whole call.

    Every piece of text the call splits (each line of a corpus, each
    segment between special tokens) spends from the same budget, so a
    pattern that is slow on every line is stopped once, not allowed two
    seconds per line; ``should_stop()`` (a cancelled request) is asked
    between pieces.  Only the pattern's own time is counted.

    >>> budget = PatternBudget(2.0)
    >>> budget.run(regex.compile(r"\\w+"), r"\\w+", "ab cd")
    [('ab', 0), ('cd', 3)]
    >>> 0 < budget.left <= 2.0
    True
    """

    def __init__(self, seconds: float, should_stop=None):
        self.seconds = seconds
        self.left = seconds
        self.should_stop = should_stop
        self._last_check = float("-inf")  # ask at the first piece, then every 50 ms

    def run(self, compiled, pattern: str, text: str) -> list[tuple[str, int]]:
        """``(word, start)`` for every non-empty match of ``compiled`` in ``text``."""
        started = time.monotonic()
        if self.should_stop is not None and started - self._last_check > 0.05:
            self._last_check = started
            if self.should_stop():
                raise TrainingCancelled("the call was cancelled while its text was being pre-tokenized")
        if self.left <= 0:
            raise _timeout_error(pattern, text, self.seconds)
        try:
            return [(m.group(0), m.start()) for m in compiled.finditer(text, timeout=self.left) if m.end() > m.start()]
        except TimeoutError:
            self.left = 0.0
            raise _timeout_error(pattern, text, self.seconds) from None
        finally:
            self.left -= time.monotonic() - started


def check_unicode(text: str) -> None:
    """Raise :class:`BPEError` if ``text`` holds a lone surrogate (no UTF-8 form).

    >>> check_unicode("ok \\U0001F600")
    >>> check_unicode("bad " + chr(0xD800))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    bpe_core.errors.BPEError: text contains a lone surrogate U+D800 at character 4, ...
    """
    if text.isascii():  # O(1) in CPython
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise lone_surrogate_error(text, exc.start) from None


def lone_surrogate_error(text: str, position: int, where: str = "text", fix: str | None = None) -> BPEError:
    """The one error for a lone surrogate (a character with no UTF-8 form) at ``text[position]``."""
    fix = fix or "remove it or replace it (for example with U+FFFD)"
    return BPEError(
        f"{where} contains a lone surrogate U+{ord(text[position]):04X} at character {position}, "
        f"which is not valid Unicode and has no UTF-8 bytes; {fix}"
    )


def _compile_custom(pattern: str):
    if not isinstance(pattern, str) or not pattern:
        raise PatternError(f"pattern must be a non-empty string: {describe_presets()}; got {pattern!r}")
    if len(pattern) > _CUSTOM_PATTERN_MAX_LENGTH:
        raise PatternError(
            f"custom pattern is {len(pattern)} characters long; the limit is {_CUSTOM_PATTERN_MAX_LENGTH}"
        )
    try:
        compiled = regex.compile(pattern)
    except regex.error as exc:
        raise PatternError(
            f"pattern {pattern!r} is neither a preset ({', '.join(sorted(PRESET_PATTERNS))}) "
            f"nor a valid regular expression: {exc}"
        ) from None
    return compiled


def _timeout_error(pattern: str | None, text: str | None, seconds: float) -> PatternError:
    where = ""
    if text is not None:
        sample = text[:40] + ("..." if len(text) > 40 else "")
        where = f", and was stopped at the text {sample!r} ({len(text)} characters)"
    return PatternError(
        f"pattern {pattern!r} took more than {_seconds(seconds)} s (its time budget for this call: "
        f"{CUSTOM_PATTERN_TIMEOUT:g} s plus {CUSTOM_PATTERN_SECONDS_PER_MB:g} s per million characters of text)"
        f"{where}; it probably backtracks catastrophically (nested quantifiers such as (a+)+). "
        f"Simplify it or use a preset: {', '.join(sorted(PRESET_PATTERNS))}"
    )


def _seconds(value: float) -> str:
    """
    >>> _seconds(0.50011), _seconds(2.0), _seconds(202.34)
    ('0.5', '2', '202.3')
    """
    return f"{value:.1f}".rstrip("0").rstrip(".")


def pattern_budget_error(pattern: str | None, seconds: float) -> PatternError:
    """The error for a call whose pieces, split elsewhere (worker processes), overspent ``seconds``."""
    return _timeout_error(pattern, None, seconds)


class SpecialTokenSplitter:
    """Cuts text at special-token strings, so they never reach the pre-tokenizer.

    >>> list(SpecialTokenSplitter(["<|end|>"]).split("a<|end|>b"))
    [('a', False), ('<|end|>', True), ('b', False)]

    Longer specials win over shorter ones that start at the same place.
    """

    def __init__(self, special_tokens):
        self.special_tokens = list(special_tokens)
        if self.special_tokens:
            ordered = sorted(set(self.special_tokens), key=len, reverse=True)
            self._regex = regex.compile("|".join(regex.escape(s) for s in ordered))
        else:
            self._regex = None

    def split(self, text: str) -> Iterator[tuple[str, bool]]:
        """Yield ``(segment, is_special)`` in order; empty segments are skipped."""
        if self._regex is None:
            if text:
                yield text, False
            return
        position = 0
        for match in self._regex.finditer(text):
            if match.start() > position:
                yield text[position : match.start()], False
            yield match.group(0), True
            position = match.end()
        if position < len(text):
            yield text[position:], False

    def first_in(self, text: str) -> str | None:
        """The first special token found in ``text``, or ``None``."""
        if self._regex is None:
            return None
        match = self._regex.search(text)
        return match.group(0) if match else None
