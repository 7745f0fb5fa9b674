"""Pre-tokenizers: whitespace, the presets, custom patterns (with their timeout), special-token cutting."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bpe_core
from bpe_core import BPEError, PatternError
from bpe_core import pretokenize
from bpe_core.pretokenize import PRESET_PATTERNS, PreTokenizer, SpecialTokenSplitter


@pytest.mark.parametrize(
    "pattern, text, words",
    [
        ("whitespace", "  Hello,\tworld!\n", ["Hello,", "world!"]),
        ("gpt2", "Hello, world! It's 2024", ["Hello", ",", " world", "!", " It", "'s", " 2024"]),
        ("gpt2", "a  b\n\nc ", ["a", " ", " b", "\n", "\n", "c", " "]),  # as tokenizers' ByteLevel splits it
        ("cl100k", "Hello, world! It'S 12345", ["Hello", ",", " world", "!", " It", "'S", " ", "123", "45"]),
        ("cl100k", "x\r\n\r\n  y", ["x", "\r\n\r\n", " ", " y"]),
        ("o200k", "HelloWorld don't", ["Hello", "World", " don't"]),
        ("o200k", "path/to\n\nx", ["path", "/to", "\n\n", "x"]),
    ],
)
def test_preset_splits(pattern, text, words):
    assert PreTokenizer.create(pattern).split(text) == words


@pytest.mark.parametrize("pattern", ["whitespace", "gpt2", "cl100k", "o200k", r"\w+|\W"])
@settings(max_examples=100, deadline=None)
@given(text=st.text(max_size=60))
def test_offsets_locate_every_word(pattern, text):
    pre = PreTokenizer.create(pattern)
    pairs = list(pre.split_with_offsets(text))
    assert [w for w, _ in pairs] == pre.split(text)
    position = 0
    for word, start in pairs:
        assert start >= position and text[start:start + len(word)] == word
        position = start + len(word)
    if not pre.is_whitespace:
        # The presets cover every character: no text is dropped.
        assert "".join(w for w, _ in pairs) == text


def test_preset_names_and_sources_are_recognised():
    for name, source in PRESET_PATTERNS.items():
        assert PreTokenizer.create(name).name == name
        assert PreTokenizer.create(source).name == name  # the regex of a preset is the preset
    assert PreTokenizer.create(None).is_whitespace
    assert PreTokenizer.create(r"\w+").name == "custom"


@pytest.mark.parametrize("pattern", ["(unclosed", "[a-", "*oops", r"\p{NoSuchProperty}"])
def test_invalid_regex_is_a_pattern_error(pattern):
    with pytest.raises(PatternError, match="valid regular expression"):
        PreTokenizer.create(pattern)
    with pytest.raises(PatternError):
        bpe_core.train("some text", vocab_size=260, pattern=pattern)


@pytest.mark.parametrize("pattern", ["", 42, ["gpt2"]])
def test_pattern_must_be_a_non_empty_string(pattern):
    with pytest.raises(PatternError, match="pattern must be"):
        PreTokenizer.create(pattern)


def test_overlong_pattern_is_refused():
    with pytest.raises(PatternError, match="characters long"):
        PreTokenizer.create("a" * 20_000)


# The regex module defuses the textbook (a+)+$, so the slow pattern here is
# one it cannot: two identical alternatives inside a repetition.
CATASTROPHIC = r"(a|a)+$"
VICTIM = "a" * 40 + "b"


def test_textbook_nested_quantifier_does_not_hang(monkeypatch):
    # A generous timeout: the regex module answers at once, exponential backtracking would hit it.
    monkeypatch.setattr(pretokenize, "CUSTOM_PATTERN_TIMEOUT", 30.0)
    assert PreTokenizer.create(r"(a+)+$").split(VICTIM) == []  # no match: the pattern does not cover "b"


def test_catastrophic_pattern_is_stopped_by_the_timeout(monkeypatch):
    monkeypatch.setattr(pretokenize, "CUSTOM_PATTERN_TIMEOUT", 0.2)
    pre = PreTokenizer.create(CATASTROPHIC)
    for run in (pre.split, lambda text: list(pre.split_with_offsets(text))):
        # The message names the timeout that stopped it: 2**40 backtracking steps would never end.
        with pytest.raises(PatternError, match=r"took more than 0\.2 s.*catastrophically"):
            run(VICTIM)


def test_timeout_is_read_when_splitting_not_when_created(monkeypatch):
    pre = PreTokenizer.create(CATASTROPHIC)  # created under the default timeout
    monkeypatch.setattr(pretokenize, "CUSTOM_PATTERN_TIMEOUT", 0.1)
    with pytest.raises(PatternError, match=r"more than 0\.1 s"):  # the new timeout, not the default
        pre.split(VICTIM)


def test_catastrophic_pattern_in_training_and_encoding(monkeypatch):
    monkeypatch.setattr(pretokenize, "CUSTOM_PATTERN_TIMEOUT", 0.2)
    with pytest.raises(PatternError, match="took more than"):
        bpe_core.train(VICTIM, vocab_size=260, pattern=CATASTROPHIC, workers=1)
    tok = bpe_core.train("aaa aa a", vocab_size=258, pattern=CATASTROPHIC, workers=1)
    with pytest.raises(PatternError, match="took more than"):
        tok.encode(VICTIM)


def test_presets_have_no_timeout():
    assert all(PreTokenizer.create(name).timeout is None for name in PRESET_PATTERNS)
    assert PreTokenizer.create(r"\w+").timeout == pretokenize.CUSTOM_PATTERN_TIMEOUT


def test_byte_level_needs_a_regex():
    with pytest.raises(BPEError, match="byte-level BPE needs a regex"):
        bpe_core.train("a b", vocab_size=260, pattern="whitespace")


def test_whitespace_split_rejects_lone_surrogates():
    with pytest.raises(BPEError, match="lone surrogate U\\+DC00 at character 2"):
        PreTokenizer.create("whitespace").split("ab\udc00")


# --- special tokens --------------------------------------------------------------------


def test_special_token_splitter():
    splitter = SpecialTokenSplitter(["<|end|>", "<pad>"])
    assert list(splitter.split("a<|end|>b<pad><pad>")) == [
        ("a", False), ("<|end|>", True), ("b", False), ("<pad>", True), ("<pad>", True)
    ]
    assert list(splitter.split("")) == []
    assert list(SpecialTokenSplitter([]).split("x<pad>")) == [("x<pad>", False)]
    assert splitter.first_in("x <pad> <|end|>") == "<pad>"
    assert splitter.first_in("nothing") is None


def test_special_tokens_with_regex_metacharacters():
    splitter = SpecialTokenSplitter(["[CLS]", "a.b", "(?)"])
    assert list(splitter.split("axb[CLS]a.b(?)")) == [("axb", False), ("[CLS]", True), ("a.b", True), ("(?)", True)]


def test_longer_special_wins_at_the_same_start():
    splitter = SpecialTokenSplitter(["<s>", "<s><s>"])
    assert list(splitter.split("<s><s><s>")) == [("<s><s>", True), ("<s>", True)]
