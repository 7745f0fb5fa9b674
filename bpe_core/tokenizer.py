"""The tokenizer: a trained (or loaded) BPE model and everything it can do.

>>> from bpe_core import train
>>> tok = train("low lower newest widest " * 5, mode="byte_level", vocab_size=270)
>>> ids = tok.encode("lowest")
>>> tok.decode(ids)
'lowest'

A :class:`Tokenizer` holds its vocabulary (token string -> id), its merges
in rank order, its pre-tokenizer pattern and its special tokens.  The pipeline
is the one the field names: special tokens are cut out first, the
pre-tokenizer splits the rest into words, and the BPE model
(:func:`~bpe_core.merging.apply_merges`) turns each word into tokens.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from itertools import chain
from typing import Collection, Iterable, Iterator, Literal

from .base import END_OF_WORD, ids_to_tokens
from .byte_symbols import BYTE_TO_SYMBOL, SYMBOL_TO_BYTE
from .char_pieces import CharPieces
from .display import readable_bytes
from .errors import BPEError, BudgetExceeded, SpecialTokenError
from .merging import apply_merges
from .pretokenize import (
    WHITESPACE,
    PreTokenizer,
    SpecialTokenSplitter,
    lone_surrogate_error,
    resolve_pattern,
)

Mode = Literal["classic", "byte_level"]
MODES = ("byte_level", "classic")
SpecialPolicy = Literal["all"] | Collection[str]

#: Bytes (approximately: see :func:`_entries_bytes`) that the encode cache
#: of one tokenizer may hold.  Sized in bytes, not entries: a long word
#: weighs what it holds.
_CACHE_BYTES = 32 << 20
#: Special-token splitters kept per tokenizer (each a compiled regex).
_SPLITTERS_KEPT = 16
_BYTE_SYMBOL_SET = frozenset(BYTE_TO_SYMBOL)


@dataclass
class Token:
    """One token of an encoded text.

    ``token`` is the vocabulary entry as stored (``'Ġworld'``,
    ``'low</w>'``); ``text`` is what its bytes read as (undecodable partial
    characters shown as ``\\xNN``); ``start``/``end`` are character offsets
    into the input (a token holding part of a character covers all of it).
    """

    id: int
    token: str
    text: str
    start: int
    end: int
    special: bool = False
    unknown: bool = False


def truncate(items: list, max_length: int | None, side: Literal["left", "right"] = "right") -> list:
    """At most ``max_length`` items, cut from the ``side`` given (``None``: all of them).

    >>> truncate([1, 2, 3, 4], 2), truncate([1, 2, 3, 4], 2, "left"), truncate([1, 2], None)
    ([1, 2], [3, 4], [1, 2])
    """
    if max_length is None or len(items) <= max_length:
        return items
    return items[:max_length] if side == "right" else items[len(items) - max_length :]


@dataclass
class BatchEncoding:
    """Ids of several texts, truncated and padded to one length on request.

    ``attention_mask[i][j]`` is 1 for a real token and 0 for padding: a model
    must not attend to pad tokens (left padding is what decoder-only models
    need when generating: the next token follows the last real one).
    """

    input_ids: list[list[int]]
    attention_mask: list[list[int]]
    lengths: list[int]  # tokens per text before truncation
    truncated: list[bool]
    padding_side: str = "right"
    pad_token_id: int | None = None


@dataclass
class MergeStep:
    """One merge applied while encoding a word: ``left`` (the symbol at
    ``position``) and ``right`` (the next one) became ``merged``.

    A step records the change, not the whole word, so explaining a word of
    ``n`` symbols takes memory linear in ``n``; :meth:`WordExplanation.states`
    replays the symbols after each step for the words a person will read.
    """

    rank: int
    left: str
    right: str
    merged: str
    position: int  # index of ``left`` among the word's symbols just before this merge


@dataclass
class WordExplanation:
    """How one pre-tokenized word became tokens, merge by merge.

    >>> from bpe_core import train
    >>> tok = train("low low low lower", mode="classic", num_merges=3)
    >>> [" ".join(symbols) for symbols in tok.explain("low")[0].states()]
    ['lo w </w>', 'low </w>', 'low</w>']
    """

    word: str
    start: int
    symbols: list[str]  # the initial spelling (characters + </w>, or bytes)
    steps: list[MergeStep]
    tokens: list[str]
    ids: list[int]
    special: bool = False

    def states(self, limit: int | None = None) -> Iterator[list[str]]:
        """The word's symbols after each of the first ``limit`` steps (all by
        default), replayed from the steps.  Each list is new; showing them
        all costs the square of the word's length, so callers bound ``limit``
        or the words they show."""
        symbols = list(self.symbols)
        for step in self.steps[:limit]:
            symbols[step.position : step.position + 2] = [step.merged]
            yield list(symbols)


@dataclass
class TrainingReport:
    """What a training run did (kept in the saved tokenizer)."""

    mode: str
    requested_vocab_size: int | None
    requested_merges: int | None
    min_frequency: int
    merges_learned: int
    stop_reason: str
    corpus_bytes: int
    words: int
    distinct_words: int
    seconds: dict[str, float] = field(default_factory=dict)
    #: Records of the corpus that could not be read and were skipped (``on_error="skip"``), and the first described.
    skipped_records: int = 0
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


class Tokenizer:
    """A BPE tokenizer (``mode`` ``"byte_level"`` or ``"classic"``)."""

    def __init__(
        self,
        *,
        mode: Mode,
        vocab: dict[str, int],
        merges: Iterable[tuple[str, str]],
        pattern: str | None = None,
        special_tokens: Iterable[str] = (),
        unk_token: str | None = None,
        training: TrainingReport | None = None,
    ):
        if mode not in MODES:
            raise BPEError(f"mode must be one of {', '.join(MODES)}; got {mode!r}")
        self.mode: Mode = mode
        self.pre_tokenizer = PreTokenizer.create(resolve_pattern(mode, pattern))
        self.vocab: dict[str, int] = dict(vocab)
        self.merges: list[tuple[str, str]] = [tuple(m) for m in merges]
        self.special_tokens: dict[str, int] = {}
        if isinstance(special_tokens, str):  # each character would become a special token
            raise BPEError(f"special_tokens must be a list of strings, not the string {special_tokens!r}")
        for special in special_tokens:
            if not isinstance(special, str) or not special:
                raise BPEError(f"special tokens must be non-empty strings; got {special!r}")
            if special not in self.vocab:
                raise BPEError(f"special token {special!r} is not in the vocabulary")
            self.special_tokens[special] = self.vocab[special]
        if unk_token is not None and not isinstance(unk_token, str):
            raise BPEError(f"unk_token must be a string or None; got {unk_token!r}")
        self.unk_token = unk_token
        self.training = training
        self._check_and_index()
        self._splitters: dict[frozenset, SpecialTokenSplitter] = {}
        self._cache = _WordCache()
        self._char_pieces: CharPieces | None | object = _UNBUILT  # built on the first encode that needs it

    # --- construction helpers ----------------------------------------------

    def _check_and_index(self) -> None:
        self.id_to_token: dict[int, str] = ids_to_tokens(self.vocab)
        self.merge_ranks: dict[tuple[int, int], tuple[int, int]] = {}
        for rank, (left, right) in enumerate(self.merges):
            for part in (left, right, left + right):
                if part not in self.vocab:
                    raise BPEError(f"merge #{rank} ({left!r}, {right!r}) uses {part!r}, which is not in the vocabulary")
            key = (self.vocab[left], self.vocab[right])
            if key not in self.merge_ranks:  # a repeated merge keeps its first rank
                self.merge_ranks[key] = (rank, self.vocab[left + right])
        if self.mode == "byte_level":
            missing = [s for s in BYTE_TO_SYMBOL if s not in self.vocab]
            if missing:
                raise BPEError(
                    f"a byte-level vocabulary must hold all 256 byte symbols; {len(missing)} are missing "
                    f"(for example {missing[0]!r})"
                )
            # Every other token must be spelled in byte symbols, or it has no bytes to decode to.
            for token in self.vocab:
                if token not in self.special_tokens and not _BYTE_SYMBOL_SET.issuperset(token):
                    foreign = next(ch for ch in token if ch not in _BYTE_SYMBOL_SET)
                    raise BPEError(
                        f"token {token!r} holds {foreign!r}, which is not one of the 256 byte symbols; "
                        "a byte-level vocabulary spells every token (except special tokens) in byte symbols"
                    )
            self._byte_ids = [self.vocab[s] for s in BYTE_TO_SYMBOL]
        else:
            if self.unk_token is None:
                raise BPEError("a classic tokenizer needs an unk_token for characters never seen in training")
            if self.unk_token not in self.vocab:
                raise BPEError(f"unk_token {self.unk_token!r} is not in the vocabulary")
            if END_OF_WORD not in self.vocab:
                raise BPEError(f"a classic vocabulary must hold the end-of-word symbol {END_OF_WORD!r}")
            self._byte_ids = None
            self._unk_id = self.vocab[self.unk_token]
            self._end_of_word_id = self.vocab[END_OF_WORD]

    # --- the vocabulary ------------------------------------------------------

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    @property
    def pattern(self) -> str:
        """The pre-tokenizer: ``'whitespace'`` or the regex source."""
        return self.pre_tokenizer.pattern or WHITESPACE

    @property
    def pattern_name(self) -> str:
        """``'whitespace'``, ``'gpt2'``, ``'cl100k'``, ``'o200k'`` or ``'custom'``."""
        return self.pre_tokenizer.name

    def token_to_id(self, token: str) -> int | None:
        return self.vocab.get(token)

    def token_bytes(self, token_id: int) -> bytes:
        """The bytes a token stands for (a special token: its UTF-8 text).

        >>> from bpe_core import train
        >>> train("ab ab", vocab_size=258).token_bytes(256)
        b'ab'
        """
        token = self._token(token_id)
        if token in self.special_tokens or self.mode == "classic":
            if self.mode == "classic" and token not in self.special_tokens and token != self.unk_token:
                # Only a final </w> ends a word; one inside a token is text that spelled "</w>".
                token = _strip_end_of_word(token) + (" " if token.endswith(END_OF_WORD) else "")
            return token.encode("utf-8")
        return bytes(SYMBOL_TO_BYTE[s] for s in token)

    def readable(self, token_id: int) -> str:
        """A token as text; partial UTF-8 characters show as ``\\xNN``.

        >>> from bpe_core import train
        >>> tok = train("中文", vocab_size=300)
        >>> [tok.readable(i) for i in tok.encode("中")]
        ['中']
        """
        if self.mode == "classic":
            return self._token(token_id)
        return readable_bytes(self.token_bytes(token_id))

    def _token(self, token_id: int) -> str:
        try:
            return self.id_to_token[token_id]
        except (KeyError, TypeError):
            raise BPEError(
                f"token id {token_id!r} is not in the vocabulary (valid ids: 0 to {max(self.id_to_token)})"
            ) from None

    # --- encoding -----------------------------------------------------------

    def encode(
        self,
        text: str,
        *,
        allowed_special: SpecialPolicy = (),
        disallowed_special: SpecialPolicy = "all",
    ) -> list[int]:
        """Token ids of ``text``.

        Special-token strings in ``text`` follow tiktoken's policy: those in
        ``allowed_special`` become their special token; those in
        ``disallowed_special`` (default: all not allowed) raise
        :class:`SpecialTokenError`; any others are encoded as plain text.
        """
        text = _checked_text(text)
        return self._encode(text, allowed_special, disallowed_special, self.pre_tokenizer.budget(len(text)))

    def _encode(self, text: str, allowed_special, disallowed_special, budget) -> list[int]:
        ids: list[int] = []
        for segment, _start, is_special in self._segments(text, allowed_special, disallowed_special):
            if is_special:
                ids.append(self.special_tokens[segment])
            else:
                ids += self._encode_ordinary(segment, budget)
        return ids

    def encode_ordinary(self, text: str) -> list[int]:
        """Ids of ``text`` with special-token strings treated as plain text."""
        return self._encode_ordinary(_checked_text(text))

    def count_tokens(self, text: str, **special_policy) -> int:
        return len(self.encode(text, **special_policy))

    def _encode_ordinary(self, text: str, budget=None) -> list[int]:
        # The hot path.  Most words repeat, so BPE runs once per distinct new
        # word and everything else is set and dict operations at C speed.
        #
        # Threads share the cache without a lock: a full cache is never
        # cleared but replaced by a new one, and this call keeps reading the
        # table it started with, from which nothing is ever removed.
        words = self.pre_tokenizer.split(text, budget)
        state = self._cache
        cache = state.table
        distinct = set(words)
        missing = distinct.difference(cache)
        if missing:
            found = {word: self._word_ids(word) for word in missing}
            added = _entries_bytes(found)
            if added > _CACHE_BYTES:
                # More new words than the cache may hold: a table for this call only.
                found.update((word, cache[word]) for word in distinct - missing)
                return list(chain.from_iterable(map(found.__getitem__, words)))
            if state.size + added > _CACHE_BYTES:
                # Start a new cache with the words of this text.
                kept = {word: cache[word] for word in distinct - missing}
                kept.update(found)
                self._cache = _WordCache(kept, _entries_bytes(kept))
                cache = kept
            else:
                cache.update(found)
                state.size += added  # a race may lose an update: the bound is approximate under threads
        return list(chain.from_iterable(map(cache.__getitem__, words)))

    def _initial_ids(self, word: str) -> list[int]:
        """The word spelled as initial symbol ids (bytes, or characters + </w>)."""
        if self._byte_ids is not None:
            byte_ids = self._byte_ids
            try:
                return [byte_ids[b] for b in word.encode("utf-8")]
            except UnicodeEncodeError as exc:
                raise lone_surrogate_error(word, exc.start, where="a word of the text") from None
        vocab = self.vocab
        unk = self._unk_id
        return [vocab.get(ch, unk) for ch in word] + [self._end_of_word_id]

    def _word_ids(self, word: str, trace: list | None = None) -> list[int]:
        if trace is None and self._byte_ids is not None:
            symbols = self._character_pieces(word)
        else:
            symbols = self._initial_ids(word)
        return apply_merges(symbols, self.merge_ranks, monotonic=self.mode == "classic", trace=trace)

    def _character_pieces(self, word: str) -> list[int]:
        """The word spelled as its characters' pieces, where that is exact
        (see :mod:`bpe_core.char_pieces`), else in bytes: a CJK word then
        needs about a quarter of the merges."""
        if word.isascii():
            return self._initial_ids(word)  # each ASCII character is one byte: its pieces are its bytes
        pieces = self._char_pieces
        if pieces is _UNBUILT:
            pieces = self._char_pieces = CharPieces.build(self.merge_ranks, self._byte_ids, self.token_bytes)
        if pieces is not None:
            try:
                return list(map(ord, word.translate(pieces)))
            except UnicodeEncodeError:
                pass  # a lone surrogate: _initial_ids says so in the error users get
        return self._initial_ids(word)

    def _segments(self, text: str, allowed_special: SpecialPolicy, disallowed_special: SpecialPolicy):
        """Yield ``(segment, start, is_special)`` after applying the special-token policy."""
        text = _checked_text(text)
        allowed = self._resolve_specials(allowed_special, "allowed_special")
        if disallowed_special == "all":
            disallowed = frozenset(self.special_tokens) - allowed
        else:
            disallowed = self._resolve_specials(disallowed_special, "disallowed_special")
        if disallowed:
            found = self._splitter(disallowed).first_in(text)
            if found is not None:
                position = text.index(found)
                raise SpecialTokenError(
                    f"the text contains the special token {found!r} (at character {position}), "
                    f"which is disallowed. To encode it as the special token, pass "
                    f"allowed_special={{{found!r}}} (or 'all'); to encode it as plain text, pass "
                    f"disallowed_special=() (or a set without it).",
                    token=found, position=position,
                )
        start = 0
        for segment, is_special in self._splitter(allowed).split(text):
            yield segment, start, is_special
            start += len(segment)

    def _resolve_specials(self, policy: SpecialPolicy, argument: str) -> frozenset:
        if policy == "all":
            return frozenset(self.special_tokens)
        if isinstance(policy, str):
            raise BPEError(f"{argument} must be 'all' or a collection of special tokens, not the string {policy!r}")
        try:
            chosen = frozenset(policy)
        except TypeError:
            raise BPEError(f"{argument} must be 'all' or a collection of special tokens; got {policy!r}") from None
        unknown = chosen - self.special_tokens.keys()
        if unknown:
            known = ", ".join(repr(s) for s in self.special_tokens) or "none"
            raise SpecialTokenError(
                f"{argument} names {sorted(unknown, key=repr)!r}, which are not special tokens of this tokenizer "
                f"(its special tokens: {known})",
                argument=argument, unknown=tuple(sorted(unknown, key=repr)), known=tuple(self.special_tokens),
            )
        return chosen

    def _splitter(self, specials: frozenset) -> SpecialTokenSplitter:
        splitters = self._splitters
        splitter = splitters.get(specials)
        if splitter is None:
            splitter = SpecialTokenSplitter(sorted(specials))
            if len(splitters) >= _SPLITTERS_KEPT:
                # Keep the most recently made ones, in a new dict (threads may be reading the old one).
                splitters = dict(list(splitters.items())[1 - _SPLITTERS_KEPT :])
                self._splitters = splitters
            splitters[specials] = splitter
        return splitter

    def encode_tokens(
        self,
        text: str,
        *,
        allowed_special: SpecialPolicy = (),
        disallowed_special: SpecialPolicy = "all",
    ) -> list[Token]:
        """Encode ``text`` into :class:`Token` records (id, strings, offsets).

        >>> from bpe_core import train
        >>> tok = train("hello hello", vocab_size=300)
        >>> [(t.token, t.start, t.end) for t in tok.encode_tokens("hello you")][:2]
        [('hello', 0, 5), ('Ġ', 5, 6)]
        """
        tokens: list[Token] = []
        budget = self.pre_tokenizer.budget(len(_checked_text(text)))
        for segment, segment_start, is_special in self._segments(text, allowed_special, disallowed_special):
            if is_special:
                token_id = self.special_tokens[segment]
                tokens.append(Token(token_id, segment, segment, segment_start, segment_start + len(segment), special=True))
                continue
            for word, word_start in self.pre_tokenizer.split_with_offsets(segment, budget):
                tokens += self._word_tokens(word, segment_start + word_start, self._word_ids(word))
        return tokens

    def _word_tokens(self, word: str, start: int, ids: list[int]) -> list[Token]:
        """Attach strings and character offsets to the ids of one word."""
        result = []
        if self.mode == "classic":
            position = 0
            for token_id in ids:
                token = self.id_to_token[token_id]
                unknown = token_id == self._unk_id
                width = 1 if unknown else len(_strip_end_of_word(token))
                result.append(Token(token_id, token, word[position : position + width], start + position,
                                    start + position + width, unknown=unknown))
                position += width
            return result
        # Byte-level: map each token's byte span back to the characters it touches.
        char_of_byte = [i for i, ch in enumerate(word) for _ in range(len(ch.encode("utf-8")))]
        byte_position = 0
        for token_id in ids:
            data = self.token_bytes(token_id)
            first = char_of_byte[byte_position]
            last = char_of_byte[byte_position + len(data) - 1]
            result.append(Token(token_id, self.id_to_token[token_id], data.decode("utf-8", "backslashreplace"),
                                start + first, start + last + 1))
            byte_position += len(data)
        return result

    def encode_batch(
        self,
        texts: list[str],
        *,
        max_length: int | None = None,
        padding: Literal["longest", "max_length"] | None = None,
        pad_token: str | None = None,
        padding_side: Literal["left", "right"] = "right",
        truncation_side: Literal["left", "right"] = "right",
        allowed_special: SpecialPolicy = (),
        disallowed_special: SpecialPolicy = "all",
    ) -> BatchEncoding:
        """Encode several texts; truncate to ``max_length``; pad to one length.

        Decoder-only models generating text want ``padding_side="left"``:

        >>> from bpe_core import train
        >>> tok = train("ab ab abc", vocab_size=300, special_tokens=["<pad>"])
        >>> batch = tok.encode_batch(["ab", "ab ab"], padding="longest", padding_side="left")
        >>> batch.attention_mask
        [[0, 1], [1, 1]]
        """
        if padding_side not in ("left", "right") or truncation_side not in ("left", "right"):
            raise BPEError(f"padding_side and truncation_side must be 'left' or 'right'; got {padding_side!r}, {truncation_side!r}")
        if padding not in (None, "longest", "max_length"):
            raise BPEError(f"padding must be None, 'longest' or 'max_length'; got {padding!r}")
        if max_length is not None and max_length < 1:
            raise BPEError(f"max_length must be at least 1; got {max_length}")
        if padding == "max_length" and max_length is None:
            raise BPEError("padding='max_length' needs max_length; pass max_length=N or use padding='longest'")
        if isinstance(texts, str):
            raise BPEError("encode_batch takes a list of texts, not one string; use encode() for a single text")
        pad_id = self._pad_id(pad_token) if padding else None
        texts = [_checked_text(text) for text in texts]
        budget = self.pre_tokenizer.budget(sum(map(len, texts)))  # one budget for the whole batch
        rows, lengths, truncated = [], [], []
        for text in texts:
            ids = self._encode(text, allowed_special, disallowed_special, budget)
            lengths.append(len(ids))
            truncated.append(max_length is not None and len(ids) > max_length)
            ids = truncate(ids, max_length, truncation_side)
            rows.append(ids)
        width = max_length if padding == "max_length" else max((len(r) for r in rows), default=0)
        input_ids, attention_mask = [], []
        for ids in rows:
            missing = width - len(ids) if padding else 0
            pad, ones = [pad_id] * missing, [1] * len(ids)
            if padding_side == "left":
                input_ids.append(pad + ids)
                attention_mask.append([0] * missing + ones)
            else:
                input_ids.append(ids + pad)
                attention_mask.append(ones + [0] * missing)
        return BatchEncoding(input_ids, attention_mask, lengths, truncated, padding_side, pad_id)

    def _pad_id(self, pad_token: str | None) -> int:
        if pad_token is None:
            for candidate in ("<pad>", "[PAD]", "<|pad|>"):
                if candidate in self.special_tokens:
                    return self.special_tokens[candidate]
            known = ", ".join(repr(s) for s in self.special_tokens) or "none"
            raise BPEError(
                f"padding needs a pad token and this tokenizer has none named <pad> (its special tokens: {known}); "
                "pass pad_token=..., or train with special_tokens=['<pad>']"
            )
        if pad_token not in self.vocab:
            raise BPEError(f"pad_token {pad_token!r} is not in the vocabulary; train with special_tokens=[{pad_token!r}]")
        return self.vocab[pad_token]

    # --- decoding -----------------------------------------------------------

    def decoded_size(self, ids: Iterable[int]) -> int:
        """How many bytes ``decode_bytes(ids)`` returns, from the tokens'
        lengths alone (nothing is joined), so a caller can refuse a request
        before building its answer.

        >>> from bpe_core import train
        >>> tok = train("ab ab", vocab_size=258)
        >>> tok.decoded_size([256, 256, 97]), len(tok.decode_bytes([256, 256, 97]))
        (5, 5)
        """
        lengths: dict[int, int] = {}
        total = 0
        for token_id in ids:
            length = lengths.get(token_id) if isinstance(token_id, int) else None
            if length is None:
                length = lengths[token_id] = self._byte_length(token_id)
            total += length
        return total

    def _byte_length(self, token_id: int) -> int:
        token = self._token(token_id)
        if self.mode == "byte_level" and token not in self.special_tokens:
            return len(token)  # one byte symbol per byte
        return len(self.token_bytes(token_id))

    def decode_bytes(self, ids: Iterable[int], *, max_bytes: int | None = None) -> bytes:
        """The bytes of ``ids``; with ``max_bytes``, refused (before any is
        joined) when they would be more.

        >>> from bpe_core import train
        >>> train("ab ab", vocab_size=258).decode_bytes([256] * 3, max_bytes=5)
        Traceback (most recent call last):
        ...
        bpe_core.errors.BudgetExceeded: these 3 ids decode to 6 bytes, over the limit of 5 bytes (max_bytes); decode fewer ids at a time
        """
        if max_bytes is not None:
            ids = list(ids)
            size = self.decoded_size(ids)
            if size > max_bytes:
                raise BudgetExceeded(
                    f"these {len(ids):,} ids decode to {size:,} bytes, over the limit of {max_bytes:,} bytes "
                    "(max_bytes); decode fewer ids at a time",
                    "max_bytes",
                )
        return b"".join(self.token_bytes(i) for i in ids)

    def decode(
        self, ids: Iterable[int], errors: Literal["replace", "strict"] = "replace", *, max_bytes: int | None = None
    ) -> str:
        """Text of ``ids``.  Bytes that are not valid UTF-8 become U+FFFD, or
        raise with ``errors="strict"``.  ``max_bytes`` bounds the decoded
        bytes (see :meth:`decode_bytes`).

        Classic BPE keeps no whitespace but word ends, so its decode joins
        words with single spaces.
        """
        data = self.decode_bytes(ids, max_bytes=max_bytes)
        if self.mode == "classic":
            return data.decode("utf-8").rstrip(" ")
        try:
            return data.decode("utf-8", errors=errors)
        except UnicodeDecodeError as exc:
            raise BPEError(
                f"the ids decode to bytes that are not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset "
                f"{exc.start}); pass errors='replace' to get U+FFFD instead"
            ) from None

    # --- explaining -----------------------------------------------------------

    def explain(self, text: str, *, allowed_special: SpecialPolicy = "all") -> list[WordExplanation]:
        """How each word of ``text`` becomes tokens, merge by merge.

        >>> from bpe_core import train
        >>> tok = train("low low low lower", mode="classic", num_merges=3)
        >>> [(s.left, s.right) for s in tok.explain("low")[0].steps]
        [('l', 'o'), ('lo', 'w'), ('low', '</w>')]
        """
        explanations = []
        budget = self.pre_tokenizer.budget(len(_checked_text(text)))
        for segment, segment_start, is_special in self._segments(text, allowed_special, ()):
            if is_special:
                token_id = self.special_tokens[segment]
                explanations.append(WordExplanation(segment, segment_start, [segment], [], [segment], [token_id], True))
                continue
            for word, word_start in self.pre_tokenizer.split_with_offsets(segment, budget):
                initial = self._initial_ids(word)
                trace: list = []
                ids = self._word_ids(word, trace)
                steps = [
                    MergeStep(rank, *self.merges[rank], self.id_to_token[new_id], position)
                    for rank, new_id, position in trace
                ]
                explanations.append(WordExplanation(
                    word, segment_start + word_start, [self.id_to_token[i] for i in initial], steps,
                    [self.id_to_token[i] for i in ids], ids,
                ))
        return explanations

    # --- saving ---------------------------------------------------------------

    def save(self, path) -> None:
        """Write the native JSON format atomically (see :mod:`bpe_core.serialization`)."""
        from .serialization import save_tokenizer

        save_tokenizer(self, path)

    @classmethod
    def load(cls, path) -> "Tokenizer":
        from .serialization import load_tokenizer

        return load_tokenizer(path)

    def __repr__(self) -> str:
        return (f"Tokenizer(mode={self.mode!r}, pattern={self.pattern_name!r}, vocab_size={self.vocab_size}, "
                f"merges={len(self.merges)}, special_tokens={list(self.special_tokens)!r})")


_UNBUILT = object()


class _WordCache:
    """The encode cache: word -> ids, and roughly how many bytes it holds."""

    __slots__ = ("table", "size")

    def __init__(self, table: dict[str, list[int]] | None = None, size: int = 0):
        self.table = {} if table is None else table
        self.size = size


def _entries_bytes(entries: dict[str, list[int]]) -> int:
    """About what cache entries cost: a byte per character, 8 per id, and
    the string, list and dict slot around them (summed at C speed: this
    runs for every batch of new words).

    >>> _entries_bytes({"hello": [1, 2]})
    197
    """
    return sum(map(len, entries)) + 8 * sum(map(len, entries.values())) + 176 * len(entries)


def _strip_end_of_word(token: str) -> str:
    """A classic token without its final ``</w>`` (if any)."""
    return token[: -len(END_OF_WORD)] if token.endswith(END_OF_WORD) else token


def _checked_text(text) -> str:
    if not isinstance(text, str):
        raise BPEError(f"text must be a string, got {type(text).__name__}")
    return text


