"""Helpers for the budget tests: peak memory, and tokenizers with extreme tokens.

>>> doubling_tokenizer(3).vocab_size, chain_tokenizer(3).vocab_size
(259, 259)
"""

from __future__ import annotations

import tracemalloc
from contextlib import contextmanager

from bpe_core import Tokenizer
from bpe_core.byte_symbols import BYTE_TO_SYMBOL

MB = 1 << 20


@contextmanager
def peak_memory():
    """Yields a dict whose ``"peak"`` is the bytes allocated at the peak of the block."""
    result = {}
    tracemalloc.start()
    try:
        yield result
    finally:
        result["peak"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()


def doubling_tokenizer(doublings: int) -> Tokenizer:
    """Byte-level, with the tokens 'a' * 2**k for k <= doublings, each the merge of two halves."""
    vocab = {symbol: i for i, symbol in enumerate(BYTE_TO_SYMBOL)}
    merges, token = [], "a"
    for _ in range(doublings):
        merges.append((token, token))
        token += token
        vocab[token] = len(vocab)
    return Tokenizer(mode="byte_level", vocab=vocab, merges=merges, pattern="gpt2")


def chain_tokenizer(depth: int) -> Tokenizer:
    """Byte-level, with 'a' * k for k <= depth + 1, each made by the merge (a * (k - 1), a): a deep tree."""
    vocab = {symbol: i for i, symbol in enumerate(BYTE_TO_SYMBOL)}
    merges, token = [], "a"
    for _ in range(depth):
        merges.append((token, "a"))
        token += "a"
        vocab[token] = len(vocab)
    return Tokenizer(mode="byte_level", vocab=vocab, merges=merges, pattern="gpt2")
