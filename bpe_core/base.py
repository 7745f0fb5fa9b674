"""What every part of the engine shares: the end-of-word mark and the callback types.

A small module that imports only the errors from ``bpe_core``, so the
trainer, the tokenizer, counting, inspection, evaluation, the interop
formats and the server may all import from here without importing each
other.

>>> END_OF_WORD
'</w>'
"""

from __future__ import annotations

from typing import Callable

from .errors import BPEError

#: Classic BPE's end-of-word symbol: the last symbol of every word, so that
#: a token can tell a word's end (``est</w>``) from its middle (``est``).
END_OF_WORD = "</w>"

#: ``on_progress(phase, done, total)``: progress of a long call (``phase`` is
#: "counting", "merging", "evaluating" or "comparing"; ``done`` and ``total``
#: in bytes or merges).
ProgressCallback = Callable[[str, int, int], None]

#: ``should_stop()``: true once the caller gave up on the call (asked often;
#: the work then stops and saves nothing).
StopCheck = Callable[[], bool]


def ids_to_tokens(vocab: dict[str, int]) -> dict[int, str]:
    """The inverse of ``vocab``; every id must be a non-negative integer with one owner.

    >>> ids_to_tokens({"a": 0, "b": 1})
    {0: 'a', 1: 'b'}
    >>> ids_to_tokens({"a": 0, "b": 0})
    Traceback (most recent call last):
    ...
    bpe_core.errors.BPEError: id 0 is given to both 'a' and 'b'
    """
    owners: dict[int, str] = {}
    for token, token_id in vocab.items():
        if not isinstance(token_id, int) or isinstance(token_id, bool) or token_id < 0:
            raise BPEError(f"token {token!r} has id {token_id!r}; ids must be non-negative integers")
        if token_id in owners:
            raise BPEError(f"id {token_id} is given to both {owners[token_id]!r} and {token!r}")
        owners[token_id] = token
    return owners
