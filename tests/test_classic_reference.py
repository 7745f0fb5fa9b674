"""Classic BPE (Sennrich et al. 2016) against the reference algorithm.

The reference is the teaching loop: count every adjacent pair, take
``max(pairs, key=pairs.get)``, glue it everywhere with a regex, repeat.  It is
written out naively below and compared with ``bpe_core.train(mode="classic")``.
"""

from __future__ import annotations

import collections
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bpe_core
from bpe_core import BPEError
from conftest import first_difference
from corpus_text import corpus_slice

# --- the reference, written naively -------------------------------------------


def get_vocab(text: str) -> dict[str, int]:
    """Words as space-separated characters plus </w>, in the order first seen."""
    vocab: dict[str, int] = {}
    for word in text.split():
        spelled = " ".join(word) + " </w>"
        vocab[spelled] = vocab.get(spelled, 0) + 1
    return vocab


def get_stats(vocab: dict[str, int]) -> dict[tuple[str, str], int]:
    pairs: dict[tuple[str, str], int] = collections.defaultdict(int)
    for word, freq in vocab.items():
        symbols = word.split()
        for i in range(len(symbols) - 1):
            pairs[symbols[i], symbols[i + 1]] += freq
    return pairs


def merge_vocab(pair: tuple[str, str], v_in: dict[str, int]) -> dict[str, int]:
    v_out = {}
    bigram = re.escape(" ".join(pair))
    p = re.compile(r"(?<!\S)" + bigram + r"(?!\S)")
    merged = "".join(pair)
    for word in v_in:
        # The reference passes ''.join(pair) as the replacement *template*,
        # which breaks on backslashes; a function replacement is literal.
        w_out = p.sub(lambda m: merged, word)
        v_out[w_out] = v_in[word]
    return v_out


def reference_bpe(text: str, num_merges: int) -> tuple[list[tuple[str, str]], dict[str, int]]:
    """``(merges, final vocab)`` of the reference algorithm."""
    vocab = get_vocab(text)
    merges = []
    for _ in range(num_merges):
        pairs = get_stats(vocab)
        if not pairs:
            break
        best = max(pairs, key=pairs.get)
        vocab = merge_vocab(best, vocab)
        merges.append(best)
    return merges, vocab


# --- the golden case ------------------------------------------------------------

GOLDEN_TEXT = "low " * 5 + "lower " * 2 + "newest " * 6 + "widest " * 3
GOLDEN_MERGES = [
    ("e", "s"), ("es", "t"), ("est", "</w>"), ("l", "o"), ("lo", "w"),
    ("n", "e"), ("ne", "w"), ("new", "est</w>"), ("low", "</w>"), ("w", "i"),
]


def test_golden_classic_merges():
    tok = bpe_core.train(GOLDEN_TEXT, mode="classic", num_merges=10)
    assert tok.merges == GOLDEN_MERGES
    assert tok.training.stop_reason == "num_merges"


def test_golden_case_matches_the_naive_reference():
    # Guards the naive reference itself: it must reproduce the published result.
    merges, vocab = reference_bpe(GOLDEN_TEXT, 10)
    assert merges == GOLDEN_MERGES
    assert vocab == {"low</w>": 5, "low e r </w>": 2, "newest</w>": 6, "wi d est</w>": 3}


def test_golden_segmentation_is_what_encode_gives():
    tok = bpe_core.train(GOLDEN_TEXT, mode="classic", num_merges=10)
    assert [t.token for t in tok.encode_tokens("lower widest")] == ["low", "e", "r", "</w>", "wi", "d", "est</w>"]


def test_stops_when_no_pair_is_left():
    tok = bpe_core.train("ab ab", mode="classic", num_merges=50)
    assert tok.merges == [("a", "b"), ("ab", "</w>")]
    assert tok.training.stop_reason == "no_pairs_left"


@pytest.mark.parametrize("name", ["en", "zh", "code"])
def test_classic_training_equals_the_reference_on_the_test_corpora(name):
    # Real text: thousands of distinct words, long Chinese runs between spaces, code punctuation.
    text = corpus_slice(name, 12_000)
    expected, _ = reference_bpe(text, 150)
    tok = bpe_core.train(text, mode="classic", num_merges=150)
    assert tok.merges == expected, first_difference(tok.merges, expected)


# --- the property test ------------------------------------------------------------

ALPHABETS = [
    "ab",
    "abc",
    "lowernstid",
    "\\ab",  # backslashes: the reference's replacement-template trap
    ".*+?()[]{}|^$\\",  # every regex metacharacter
    "a.b*c\\1",  # "\\1" would be a group reference in a replacement template
    "中文字词",  # CJK
    "😀👍🏽🎉",  # emoji, one with a skin-tone modifier
    "e\u0301a\u0308o",  # combining marks
    "</w>",  # can spell the end-of-word symbol inside a word
    "ab中😀\\.",
]

SEPARATORS = [" ", "  ", "\t", "\n", " \n ", "\u3000", "\x1c"]


@st.composite
def classic_texts(draw):
    alphabet = draw(st.sampled_from(ALPHABETS))
    word = st.text(alphabet=alphabet, min_size=1, max_size=8)
    words = draw(st.lists(word, min_size=1, max_size=25))
    separators = draw(st.lists(st.sampled_from(SEPARATORS), min_size=len(words), max_size=len(words)))
    return "".join(w + s for w, s in zip(words, separators))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=classic_texts(), num_merges=st.integers(min_value=1, max_value=40))
def test_classic_training_equals_the_reference(text, num_merges):
    expected, final_vocab = reference_bpe(text, num_merges)
    tok = bpe_core.train(text, mode="classic", num_merges=num_merges)
    assert tok.merges == expected
    # Encoding a training word gives the segmentation training ended with.
    for spelled in final_vocab:
        symbols = spelled.split()
        word = "".join(symbols)[: -len("</w>")]
        assert [t.token for t in tok.encode_tokens(word)] == symbols


@settings(max_examples=150, deadline=None)
@given(text=classic_texts(), vocab_size=st.integers(min_value=1, max_value=60))
def test_classic_vocab_size_counts_every_token(text, vocab_size):
    tok = bpe_core.train(text, mode="classic", vocab_size=vocab_size)
    expected, _ = reference_bpe(text, len(tok.merges))
    assert tok.merges == expected
    initial = {"</w>", "<unk>", *"".join(text.split())}
    # Merged strings can coincide (("a", "bc") and ("ab", "c") both make "abc").
    merged = {left + right for left, right in tok.merges}
    assert set(tok.vocab) == initial | merged
    if tok.training.stop_reason == "vocab_size":
        # The initial symbols are never dropped, even under a tiny vocab_size.
        assert tok.vocab_size == max(vocab_size, len(initial))
    else:
        assert tok.vocab_size <= vocab_size
        assert tok.training.stop_reason == "no_pairs_left"


# --- encoding with a classic tokenizer ---------------------------------------------


def test_unknown_characters_become_the_unk_token():
    tok = bpe_core.train("low lower lowest", mode="classic", num_merges=5)
    tokens = tok.encode_tokens("lo\u00e9w x")
    unknown = [t for t in tokens if t.unknown]
    assert [(t.token, t.text, t.start, t.end) for t in unknown] == [("<unk>", "\u00e9", 2, 3), ("<unk>", "x", 5, 6)]
    assert all(t.id == tok.vocab["<unk>"] for t in unknown)
    assert not any(t.unknown for t in tokens if t.token != "<unk>")


def test_custom_unk_token_name():
    tok = bpe_core.train("ab ab", mode="classic", num_merges=1, unk_token="[UNK]")
    assert "[UNK]" in tok.vocab and "<unk>" not in tok.vocab
    assert tok.encode("z") == [tok.vocab["[UNK]"], tok.vocab["</w>"]]


def test_classic_decode_joins_words_with_single_spaces():
    tok = bpe_core.train(GOLDEN_TEXT, mode="classic", num_merges=10)
    assert tok.decode(tok.encode("  lower\n\tnewest   widest ")) == "lower newest widest"


def test_classic_offsets_follow_the_words():
    tok = bpe_core.train(GOLDEN_TEXT, mode="classic", num_merges=10)
    text = " newest\t lower"
    for token in tok.encode_tokens(text):
        assert text[token.start:token.end] == token.text
        assert token.text == token.token.removesuffix("</w>")


def test_classic_rejects_patterns():
    with pytest.raises(BPEError, match="whitespace"):
        bpe_core.train("a b", mode="classic", num_merges=1, pattern="gpt2")


def test_literal_end_of_word_inside_a_word_decodes_as_text():
    # "</w>" typed inside a word is text; only a token's final </w> ends a word.
    tok = bpe_core.train("a</w>b " * 5, mode="classic", num_merges=20)
    assert tok.merges[-1] == ("a</w>b", "</w>")
    assert tok.decode(tok.encode("a</w>b")) == "a</w>b"
    [token] = tok.encode_tokens("a</w>b")
    assert (token.start, token.end, token.text) == (0, 6, "a</w>b")


def test_lone_surrogates_are_rejected_when_encoding():
    tok = bpe_core.train("ab ab", mode="classic", num_merges=2)
    with pytest.raises(BPEError, match="lone surrogate U\\+D800"):
        tok.encode("a\ud800b")
    with pytest.raises(BPEError, match="lone surrogate"):
        tok.encode_tokens("a\ud800b")


def test_lone_surrogates_are_rejected_when_training():
    with pytest.raises(BPEError, match="lone surrogate"):
        bpe_core.train("a\ud800b a\ud800b", mode="classic", num_merges=3)


def test_text_spelling_the_unk_token_does_not_hijack_it():
    tok = bpe_core.train("<unk> <unk> <unk>", mode="classic", num_merges=10)
    # An unknown character must still come out as the unk token, flagged unknown.
    tokens = tok.encode_tokens("z")
    assert [(t.token, t.unknown) for t in tokens] == [("<unk>", True), ("</w>", False)]
