"""The ids an encode returns belong to the caller.

The encoder joins the cached ids of each word into one list extended in
place; these tests hold it to giving a fresh list every time, so that a
caller changing its result never changes the cache or a later encode.
"""

from __future__ import annotations

import pytest

import bpe_core
import bpe_core.tokenizer as tokenizer_module


@pytest.fixture(scope="module")
def tok():
    return bpe_core.train("low lower newest widest 中文 中国 " * 5, vocab_size=300, workers=1)


@pytest.mark.parametrize("text", ["lowest", "lowest lowest", "中文中国 newest", " ", ""])
def test_changing_a_result_changes_no_later_encode(tok, text):
    first = tok.encode(text)
    expected = list(first)
    first.append(-1)  # a caller extending its own list
    first[:0] = [-2]
    assert tok.encode(text) == expected
    assert tok.encode_ordinary(text) == expected


def test_a_call_over_the_cache_bound_returns_its_own_list_too(tok, monkeypatch):
    # A call whose new words would not fit the cache gets a table for itself only.
    monkeypatch.setattr(tokenizer_module, "_CACHE_BYTES", 50)
    fresh = bpe_core.Tokenizer(mode="byte_level", vocab=tok.vocab, merges=tok.merges, pattern=tok.pattern)
    text = "lowest newest widest"
    first = fresh.encode(text)
    expected = list(first)
    first += [-1]
    assert fresh.encode(text) == expected
    assert fresh.decode(expected) == text
