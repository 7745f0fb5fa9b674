"""The two BPE families as two objects: everything in which they differ, in one place.

Training (:mod:`bpe_core.merge_learning`), encoding (:mod:`bpe_core.merging`)
and the :class:`~bpe_core.tokenizer.Tokenizer` are one mechanism each.  Where
the families differ, the mechanism asks its family:

* how a word is **spelled** before any merge (the alphabet and the speller):
  characters plus ``</w>`` (classic), or UTF-8 bytes as GPT-2's printable
  byte symbols (byte-level);
* how **ties** between equally frequent pairs break while training, and
  whether merges are applied strictly in rank order when encoding;
* how a word is **cut** from the text (whitespace, or a regex);
* what a token **stands for** (its bytes, its text, its length) and how a
  list of tokens decodes back to text;
* how tokens are **shown** to people.

>>> CLASSIC.alphabet(["low"]), CLASSIC.token_bytes("low</w>")
(['</w>', 'l', 'o', 'w'], b'low ')
>>> BYTE_LEVEL.stored_form(" 中"), BYTE_LEVEL.token_bytes("Ġä¸Ń").decode()
('Ġä¸Ń', ' 中')
>>> CLASSIC.token_text("low</w>"), BYTE_LEVEL.token_text("Ġlow")
('low', ' low')

A third family (say SentencePiece's ``▁``-prefixed words) would be one
more subclass of :class:`BPEFamily`, and one more entry in :data:`FAMILIES`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from itertools import chain
from typing import Callable, Iterable

from .base import END_OF_WORD
from .byte_symbols import BYTE_SYMBOLS, BYTE_TO_SYMBOL, SYMBOL_TO_BYTE, bytes_to_symbols
from .display import readable_bytes
from .errors import BPEError, PatternError
from .pretokenize import WHITESPACE, describe_presets, lone_surrogate_error

#: A training word spelled as its tokens, one ``chr(id)`` per token (see :mod:`bpe_core.merge_learning`).
TrainingSpeller = Callable[[str], str]
#: A word spelled as the ids of its initial symbols, for encoding.
IdSpeller = Callable[[str], "list[int]"]


class BPEFamily(ABC):
    """What one family of BPE decides; the subclasses are the families.

    The attributes are data the mechanism reads; the methods answer for one
    word or one token (special tokens and the unknown token are the
    tokenizer's business, never a family's).
    """

    #: The ``mode`` name users give and files store.
    name: str
    #: Training's tie-break between equally frequent pairs: ``"first_occurrence"`` or ``"smallest_ids"``.
    tie_break: str
    #: Encoding applies merges strictly in rank order (never back to a lower rank a later merge makes possible).
    merges_in_rank_order: bool
    #: What an unmerged token is (``token_kind``), and the unit of :meth:`length`.
    base_kind: str
    length_unit: str
    #: The symbol that ends every word, if the family has one.
    end_of_word: str | None = None
    #: Does the family need an unknown token (for characters never seen in training)?
    needs_unk_token: bool
    #: What a person reading an evaluation of this family should know (``None``: nothing special).
    evaluation_note: str | None = None
    #: How a word is spelled and merged, said once at the top of a walkthrough.
    notation: str
    #: The same for a list of tokens, short (``None``: the tokens read as they are stored).
    tokens_note: str | None = None

    # --- cutting the text into words -------------------------------------

    @abstractmethod
    def pre_tokenizer(self, pattern: str | None, default: str | None = None) -> str:
        """The pre-tokenizer this family uses, given the ``pattern`` asked for (``None``: the default)."""

    # --- spelling ---------------------------------------------------------

    @abstractmethod
    def alphabet(self, words: Iterable[str]) -> list[str]:
        """The initial symbols of these words, in id order."""

    @abstractmethod
    def training_speller(self, token_id: dict[str, int]) -> TrainingSpeller:
        """A function that spells a word as its initial tokens, one ``chr(id)`` each (one
        ``str.translate``: it runs for every distinct word of a corpus)."""

    @abstractmethod
    def check_vocabulary(self, vocab: dict[str, int], special_tokens: dict[str, int], unk_token: str | None) -> None:
        """Raise :class:`BPEError` if a vocabulary cannot be this family's."""

    @abstractmethod
    def id_speller(self, vocab: dict[str, int], unk_token: str | None) -> IdSpeller:
        """A function that spells a word as the ids of its initial symbols, for encoding."""

    def byte_ids(self, vocab: dict[str, int]) -> list[int] | None:
        """``byte_ids(vocab)[b]``: the id of the token of byte ``b``, for a family that spells words in
        bytes (``None``: this one does not)."""
        return None

    def check_vocab_size(self, vocab_size: int, reserved: int) -> None:
        """Raise :class:`BPEError` if a training cannot reach ``vocab_size`` tokens with ``reserved``
        special tokens (classic: any size stops training in time)."""

    # --- what a token stands for -------------------------------------------

    @abstractmethod
    def token_bytes(self, token: str) -> bytes:
        """The bytes an ordinary token stands for."""

    def byte_length(self, token: str) -> int:
        """``len(token_bytes(token))``, without building the bytes where the family can."""
        return len(self.token_bytes(token))

    @abstractmethod
    def token_text(self, token: str) -> str:
        """What an ordinary token reads as (classic: without its final ``</w>``)."""

    @abstractmethod
    def shown(self, token: str) -> str:
        """An ordinary token as a list of tokens shows it (classic: as stored, ``</w>`` and all)."""

    @abstractmethod
    def stored_form(self, text: str) -> str | None:
        """The stored token whose :meth:`token_text` is ``text`` (``None``: none can be)."""

    @abstractmethod
    def length(self, token: str) -> int:
        """The length of an ordinary token's text in :attr:`length_unit`."""

    @abstractmethod
    def text_length(self, text: str) -> int:
        """The length of a text (a special token's) in :attr:`length_unit`."""

    @abstractmethod
    def decode(self, data: bytes, errors: str) -> str:
        """Text of the joined bytes of a list of tokens."""

    def round_trip_difference(self, decoded: bytes, text: str) -> str | None:
        """Where the joined bytes of ``text``'s tokens differ from what decoding ``text`` must give
        (``None``: nowhere), said for a person."""
        data = text.encode("utf-8", "surrogatepass")
        if decoded == data:
            return None
        return f"decoding differs from byte {_first_difference(decoded, data)}"

    def byte_fallback_bytes(self, id_to_token: dict[int, str], counts: dict[int, int]) -> int | None:
        """How many of the counted tokens (``counts[id]``) are single bytes of a character split
        between tokens (``None``: the family never splits characters)."""
        return None

    @abstractmethod
    def character_spans(self, word: str, tokens: list[str], unknown: list[bool]) -> list[tuple[int, int]]:
        """Each token's ``(start, end)`` in characters of ``word``: the tokens (as stored) are the
        word's encoding, and ``unknown[i]`` says whether token ``i`` is the unknown token."""

    def __repr__(self) -> str:
        return f"<BPE family {self.name!r}>"


class ClassicFamily(BPEFamily):
    """Sennrich et al. (2016): words cut at whitespace, spelled as characters plus ``</w>``.

    Ties go to the pair whose first occurrence comes first (words in the
    order first seen, then left to right): what ``max(pairs, key=pairs.get)``
    does over the reference's insertion-ordered dicts.

    >>> CLASSIC.alphabet(["low", "owl"])
    ['</w>', 'l', 'o', 'w']
    >>> CLASSIC.token_bytes("low</w>"), CLASSIC.stored_form("low")
    (b'low ', 'low</w>')
    """

    name = "classic"
    tie_break = "first_occurrence"
    merges_in_rank_order = True
    base_kind = "character"
    length_unit = "characters"
    end_of_word = END_OF_WORD
    needs_unk_token = True
    evaluation_note = ("classic BPE keeps words, not whitespace: the round trip compares the words joined by single "
                       "spaces, and tokens/word counts </w> pieces")
    notation = ("Classic BPE: each word is spelled as characters plus '</w>' (end of word); merges are applied "
                "in the order they were learned.")

    def pre_tokenizer(self, pattern: str | None, default: str | None = None) -> str:
        if pattern not in (None, WHITESPACE):
            raise PatternError(
                f"classic BPE splits words on whitespace, so pattern {pattern!r} cannot be used; "
                "leave pattern out, or use mode='byte_level'"
            )
        return WHITESPACE

    def alphabet(self, words: Iterable[str]) -> list[str]:
        return [END_OF_WORD, *sorted(set(chain.from_iterable(words)))]

    def training_speller(self, token_id: dict[str, int]) -> TrainingSpeller:
        chars = {ord(symbol): chr(i) for symbol, i in token_id.items() if len(symbol) == 1}
        end_of_word = chr(token_id[END_OF_WORD])
        return lambda word: word.translate(chars) + end_of_word

    def check_vocabulary(self, vocab, special_tokens, unk_token) -> None:
        if unk_token is None:
            raise BPEError("a classic tokenizer needs an unk_token for characters never seen in training")
        if unk_token not in vocab:
            raise BPEError(f"unk_token {unk_token!r} is not in the vocabulary")
        if END_OF_WORD not in vocab:
            raise BPEError(f"a classic vocabulary must hold the end-of-word symbol {END_OF_WORD!r}")

    def id_speller(self, vocab: dict[str, int], unk_token: str | None) -> IdSpeller:
        unk_id, end_of_word_id, lookup = vocab[unk_token], vocab[END_OF_WORD], vocab.get
        return lambda word: [lookup(ch, unk_id) for ch in word] + [end_of_word_id]

    def token_bytes(self, token: str) -> bytes:
        # Only a final </w> ends a word (a space); one inside a token is text that spelled "</w>".
        return (self.token_text(token) + (" " if token.endswith(END_OF_WORD) else "")).encode("utf-8")

    def token_text(self, token: str) -> str:
        return token.removesuffix(END_OF_WORD)

    def shown(self, token: str) -> str:
        return token

    def stored_form(self, text: str) -> str | None:
        return text + END_OF_WORD

    def length(self, token: str) -> int:
        return len(self.token_text(token))

    def text_length(self, text: str) -> int:
        return len(text)

    def decode(self, data: bytes, errors: str) -> str:
        # Classic tokens are whole characters: their bytes are always valid UTF-8.
        return data.decode("utf-8").rstrip(" ")

    def round_trip_difference(self, decoded: bytes, text: str) -> str | None:
        # Classic BPE keeps words, not whitespace: compare with the words joined by single spaces.
        decoded_text, expected = self.decode(decoded, "strict"), " ".join(text.split())
        if decoded_text == expected:
            return None
        return f"the words differ from character {_first_difference(decoded_text, expected)} of the normalised text"

    def character_spans(self, word, tokens, unknown):
        spans, position = [], 0
        for token, is_unknown in zip(tokens, unknown):
            width = 1 if is_unknown else len(self.token_text(token))  # the unknown token stands for one character
            spans.append((position, position + width))
            position += width
        return spans


class ByteLevelFamily(BPEFamily):
    """GPT-2, tiktoken, Hugging Face: words cut by a regex, spelled as UTF-8 bytes.

    Ties go to the smallest ``(left id, right id)``, as in Hugging Face
    ``tokenizers``' ``BpeTrainer``.

    >>> BYTE_LEVEL.token_bytes("ä¸Ń").decode(), BYTE_LEVEL.stored_form(" 中")
    ('中', 'Ġä¸Ń')
    >>> BYTE_LEVEL.shown("ä¸")
    '\\\\xe4\\\\xb8'
    """

    name = "byte_level"
    tie_break = "smallest_ids"
    merges_in_rank_order = False
    base_kind = "byte"
    length_unit = "bytes"
    needs_unk_token = False
    notation = ("Byte-level BPE: each word (spaces included, shown as '␣') is spelled as UTF-8 bytes; a "
                "character of several bytes starts as several symbols. Symbols show the text their bytes "
                "spell, and bytes that are only part of a character as \\xNN (for example '中' is "
                "\\xe4 \\xb8 \\xad until merges join them). The merge with the lowest rank present is "
                "applied first.")
    tokens_note = "shown as text: '␣' is a space, \\xNN one byte of a character split between tokens"

    _symbol_set = frozenset(BYTE_TO_SYMBOL)

    def pre_tokenizer(self, pattern: str | None, default: str | None = None) -> str:
        pattern = pattern or default
        if pattern in (None, WHITESPACE):
            raise PatternError(f"byte-level BPE needs a regex pre-tokenizer that keeps spaces: {describe_presets()}")
        return pattern

    def alphabet(self, words: Iterable[str]) -> list[str]:
        return list(BYTE_SYMBOLS)

    def training_speller(self, token_id: dict[str, int]) -> TrainingSpeller:
        byte_tokens = {byte: chr(token_id[symbol]) for byte, symbol in enumerate(BYTE_TO_SYMBOL)}
        return lambda word: _utf8(word).decode("latin-1").translate(byte_tokens)

    def check_vocabulary(self, vocab, special_tokens, unk_token) -> None:
        missing = [s for s in BYTE_TO_SYMBOL if s not in vocab]
        if missing:
            raise BPEError(
                f"a byte-level vocabulary must hold all 256 byte symbols; {len(missing)} are missing "
                f"(for example {missing[0]!r})"
            )
        # Every other token must be spelled in byte symbols, or it has no bytes to decode to.
        symbols = self._symbol_set
        for token in vocab:
            if token not in special_tokens and not symbols.issuperset(token):
                foreign = next(ch for ch in token if ch not in symbols)
                raise BPEError(
                    f"token {token!r} holds {foreign!r}, which is not one of the 256 byte symbols; "
                    "a byte-level vocabulary spells every token (except special tokens) in byte symbols"
                )

    def byte_ids(self, vocab: dict[str, int]) -> list[int]:
        return [vocab[s] for s in BYTE_TO_SYMBOL]

    def id_speller(self, vocab: dict[str, int], unk_token: str | None) -> IdSpeller:
        byte_ids = self.byte_ids(vocab)
        return lambda word: [byte_ids[b] for b in _utf8(word)]

    def check_vocab_size(self, vocab_size: int, reserved: int) -> None:
        if vocab_size < reserved + 256:
            raise BPEError(
                f"vocab_size {vocab_size} is too small: the 256 byte symbols and {reserved} special "
                f"token(s) already take {reserved + 256}; use at least {reserved + 256}"
            )

    def token_bytes(self, token: str) -> bytes:
        return bytes(SYMBOL_TO_BYTE[s] for s in token)

    def byte_length(self, token: str) -> int:
        return len(token)  # one byte symbol per byte

    def token_text(self, token: str) -> str:
        try:
            return readable_bytes(self.token_bytes(token))
        except KeyError:  # not spelled in byte symbols (a symbol given by a person, not in a checked vocabulary)
            return token

    shown = token_text

    def stored_form(self, text: str) -> str | None:
        try:
            return bytes_to_symbols(text.encode("utf-8"))
        except UnicodeEncodeError:  # a lone surrogate is no token's text
            return None

    def length(self, token: str) -> int:
        return len(token)  # one byte symbol per byte

    def text_length(self, text: str) -> int:
        return len(text.encode("utf-8", "surrogatepass"))

    def decode(self, data: bytes, errors: str) -> str:
        try:
            return data.decode("utf-8", errors=errors)
        except UnicodeDecodeError as exc:
            raise BPEError(
                f"the ids decode to bytes that are not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset "
                f"{exc.start}); pass errors='replace' to get U+FFFD instead"
            ) from None

    def byte_fallback_bytes(self, id_to_token, counts) -> int | None:
        return sum(n for i, n in counts.items()
                   if len(token := id_to_token[i]) == 1 and SYMBOL_TO_BYTE.get(token, 0) >= 0x80)

    def character_spans(self, word, tokens, unknown):
        # A token covers every character its bytes touch (a split character is covered by each part).
        char_of_byte = [i for i, ch in enumerate(word) for _ in range(len(ch.encode("utf-8")))]
        spans, position = [], 0
        for token in tokens:
            spans.append((char_of_byte[position], char_of_byte[position + len(token) - 1] + 1))
            position += len(token)  # one byte symbol per byte
        return spans


def _first_difference(a, b) -> int:
    """The first index where two strings (or byte strings) differ, or the shorter one's length.

    >>> _first_difference("abc", "abd"), _first_difference(b"ab", b"abc")
    (2, 2)
    """
    return next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))


def _utf8(word: str) -> bytes:
    try:
        return word.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise lone_surrogate_error(word, exc.start, where="a word of the text") from None


CLASSIC = ClassicFamily()
BYTE_LEVEL = ByteLevelFamily()
#: Every family by its ``mode`` name; the first is the default.
FAMILIES: dict[str, BPEFamily] = {"byte_level": BYTE_LEVEL, "classic": CLASSIC}
DEFAULT_MODE = "byte_level"


def family_named(mode: str | None) -> BPEFamily:
    """The family of a ``mode`` name (``None``: the default), or a :class:`BPEError` listing them.

    >>> family_named("classic") is CLASSIC, family_named(None) is BYTE_LEVEL
    (True, True)
    """
    family = FAMILIES.get(DEFAULT_MODE if mode is None else mode) if isinstance(mode, (str, type(None))) else None
    if family is None:
        raise BPEError(f"mode must be one of {', '.join(FAMILIES)}; got {mode!r}")
    return family
