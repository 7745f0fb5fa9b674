"""Optional speed: encode through tiktoken when it gives the very same ids.

Evaluating or comparing tokenizers reads whole corpora, and the
pure-Python encoder runs at about 1 MB/s where tiktoken's Rust core runs
at 10 MB/s or more.  When ``tiktoken`` is installed (``pip install
".[fast]"``), :func:`ordinary_encoder` hands a byte-level tokenizer to a
``tiktoken.Encoding`` built from its own ranks, but only when the ids are
the same by construction:

* the pre-tokenizer is one of the presets (``gpt2``, ``cl100k``,
  ``o200k``), whose regex tiktoken runs the same way;
* the tokenizer passes :func:`~bpe_core.interop.tiktoken_files.tiktoken_ranks`'s
  check: its ids are tiktoken ranks of its tokens' bytes (the merges
  create ids in increasing order, and each token is what the merges make
  of its own bytes), which every tokenizer trained here or by
  ``tokenizers`` is; the reference tokenizers are tiktoken's own ranks.

Anything else (classic BPE, a custom regex, an imported tokenizer whose
ids are not ranks) keeps the pure-Python encoder, which stays the
default when tiktoken is missing.  The tests check the ids are identical
either way.

>>> from bpe_core import train
>>> tok = train("the cat sat on the mat " * 20, vocab_size=270)
>>> encode = ordinary_encoder(tok, fast=False)
>>> encode("the cat") == tok.encode_ordinary("the cat")
True
"""

from __future__ import annotations

import re
import threading
import weakref
from typing import Callable

from .byte_symbols import SYMBOL_TO_BYTE
from .errors import BPEError
from .families import BYTE_LEVEL
from .pretokenize import PRESET_PATTERNS
from .tokenizer import Tokenizer

Encoder = Callable[[str], list[int]]

# A lone surrogate has no UTF-8 bytes: the pure encoder says so, tiktoken would quietly replace it.
_SURROGATE = re.compile("[\ud800-\udfff]")

_SYMBOL_TO_LATIN1 = str.maketrans({symbol: chr(byte) for symbol, byte in SYMBOL_TO_BYTE.items()})

_lock = threading.Lock()
_encodings: "weakref.WeakKeyDictionary[Tokenizer, object]" = weakref.WeakKeyDictionary()
_REFUSED = object()


def tiktoken_available() -> bool:
    """Whether the optional ``tiktoken`` package can be imported."""
    try:
        import tiktoken  # noqa: F401
    except ImportError:
        return False
    return True


def fast_reason(tokenizer: Tokenizer) -> str | None:
    """Why ``tokenizer`` cannot use the fast encoder (``None``: it can, or may after the rank check)."""
    if not tiktoken_available():
        return "tiktoken is not installed (pip install 'mcp-server-bpe[fast]')"
    if tokenizer.family is not BYTE_LEVEL:
        return f"{tokenizer.mode} BPE has no tiktoken form"
    if tokenizer.pattern_name not in PRESET_PATTERNS:
        return "its pre-tokenizer is a custom regex, not one of the presets"
    return None


def tiktoken_encoding(tokenizer: Tokenizer):
    """The ``tiktoken.Encoding`` that gives ``tokenizer``'s ids, or ``None`` if none does.

    Built once per tokenizer (checking the ranks of a 100,000-token
    vocabulary takes seconds) and kept as long as the tokenizer lives.
    """
    if fast_reason(tokenizer) is not None:
        return None
    with _lock:
        encoding = _encodings.get(tokenizer)
        if encoding is None:
            encoding = _encodings[tokenizer] = _build(tokenizer)
    return None if encoding is _REFUSED else encoding


def _build(tokenizer: Tokenizer):
    import tiktoken

    from .interop.tiktoken_files import tiktoken_pattern, tiktoken_ranks
    from .reference import is_reference

    if is_reference(tokenizer):
        # tiktoken's own ranks, imported exactly (tested): no need to prove it again.  A byte-level token
        # spells one byte per symbol, so translating symbols to latin-1 characters gives its bytes at C speed.
        specials = tokenizer.special_tokens
        ranks = {token.translate(_SYMBOL_TO_LATIN1).encode("latin-1"): i
                 for token, i in tokenizer.vocab.items() if token not in specials}
    else:
        try:
            ranks = tiktoken_ranks(tokenizer)
        except BPEError:
            return _REFUSED
    return tiktoken.Encoding(
        name=f"bpe_core-{id(tokenizer)}",
        pat_str=tiktoken_pattern(tokenizer),
        mergeable_ranks=ranks,
        special_tokens=dict(tokenizer.special_tokens),
    )


def ordinary_encoder(tokenizer: Tokenizer, fast: bool | None = None) -> Encoder:
    """A function ``text -> ids`` that treats special-token text as plain text.

    ``fast=None`` uses tiktoken when it gives the same ids, ``False`` never
    does, ``True`` insists (an error says why it cannot).
    """
    encoding = tiktoken_encoding(tokenizer) if fast is not False else None
    if fast is True and encoding is None:
        reason = fast_reason(tokenizer) or "its ids are not tiktoken ranks of its tokens (see tiktoken export)"
        raise BPEError(f"the fast encoder cannot be used for this tokenizer: {reason}; leave fast unset to "
                       "fall back to the pure-Python encoder")
    if encoding is None:
        return tokenizer.encode_ordinary
    encode_ordinary = encoding.encode_ordinary

    def encode(text: str) -> list[int]:
        if _SURROGATE.search(text):
            return tokenizer.encode_ordinary(text)  # raises the engine's clear error
        return encode_ordinary(text)

    encode.fast = True  # type: ignore[attr-defined]
    encode.decode_bytes = encoding.decode_bytes  # type: ignore[attr-defined]  # the same ranks: our bytes
    return encode


def is_fast(encoder: Encoder) -> bool:
    """Whether ``encoder`` (from :func:`ordinary_encoder`) runs through tiktoken."""
    return getattr(encoder, "fast", False)
