"""The BPE families are objects: the mechanism asks them, never their names.

The proof is a third family written here, in the test alone: SentencePiece's
way of keeping spaces (a word's leading space spelled ``▁``, characters
rather than bytes).  Registering it is one dict entry; training, encoding
with offsets, decoding, explaining and the vocabulary views then work
without a line of the engine knowing it exists.
"""

from __future__ import annotations

import typing

import pytest

import bpe_core
from bpe_core import families, inspection
from bpe_core.errors import BPEError
from bpe_core.families import BYTE_LEVEL, CLASSIC, FAMILIES, BPEFamily, family_named
from bpe_core.pretokenize import PRESET_PATTERNS

SPACE_MARK = "▁"


class SpacePrefixFamily(BPEFamily):
    """Characters, a word's spaces spelled ``▁``; cut by the GPT-2 regex (which keeps spaces); ties by first
    occurrence; an unknown token for characters never seen."""

    name = "space_prefix"
    tie_break = "first_occurrence"
    merges_in_rank_order = False
    base_kind = "character"
    length_unit = "characters"
    needs_unk_token = True
    notation = "Characters, with a word's leading space as '▁'."

    def pre_tokenizer(self, pattern, default=None):
        return pattern or "gpt2"

    def alphabet(self, words):
        return sorted({ch for word in words for ch in word.replace(" ", SPACE_MARK)})

    def training_speller(self, token_id):
        table = {ord(symbol): chr(i) for symbol, i in token_id.items() if len(symbol) == 1}
        table[ord(" ")] = table[ord(SPACE_MARK)] if SPACE_MARK in token_id else None
        return lambda word: word.translate(table)

    def check_vocabulary(self, vocab, special_tokens, unk_token):
        if unk_token not in vocab:
            raise BPEError("this family needs its unk_token in the vocabulary")

    def id_speller(self, vocab, unk_token):
        unk = vocab[unk_token]
        return lambda word: [vocab.get(ch, unk) for ch in word.replace(" ", SPACE_MARK)]

    def token_bytes(self, token):
        return self.token_text(token).encode("utf-8")

    def token_text(self, token):
        return token.replace(SPACE_MARK, " ")

    def shown(self, token):
        return token

    def stored_form(self, text):
        return text.replace(" ", SPACE_MARK)

    def length(self, token):
        return len(token)

    def text_length(self, text):
        return len(text)

    def decode(self, data, errors):
        return data.decode("utf-8", errors)

    def character_spans(self, word, tokens, unknown):
        spans, position = [], 0
        for token, is_unknown in zip(tokens, unknown):
            width = 1 if is_unknown else len(token)
            spans.append((position, position + width))
            position += width
        return spans


@pytest.fixture
def space_prefix(monkeypatch):
    family = SpacePrefixFamily()
    monkeypatch.setitem(FAMILIES, family.name, family)
    return family


def test_a_third_family_is_one_object(space_prefix):
    corpus = "the cat sat on the mat, the cat ate " * 30
    tok = bpe_core.train(corpus, mode="space_prefix", num_merges=12)
    assert tok.family is space_prefix and tok.mode == "space_prefix"
    assert tok.merges[0] == ("a", "t")  # 'at' is the most frequent pair, and first seen in 'cat'
    assert f"{SPACE_MARK}the" in tok.vocab  # spaces join the word that follows, spelled '▁'
    text = "the cat sat on the zat"
    ids = tok.encode(text)
    assert tok.decode(ids) == "the cat sat on the <unk>at"  # "z" was never seen in training
    tokens = tok.encode_tokens(text)
    assert "".join(t.text for t in tokens) == text  # the unknown token shows the character it stands for
    assert [text[t.start:t.end] for t in tokens if not t.unknown] == [t.text for t in tokens if not t.unknown]
    assert [t.text for t in tokens if t.unknown] == ["z"]
    steps = tok.explain(" cat")[0]
    assert steps.symbols == [SPACE_MARK, "c", "a", "t"] and steps.tokens[-1].endswith("at")
    the = tok.vocab[f"{SPACE_MARK}the"]
    assert inspection.token_id_of(tok, " the") == the
    assert inspection.token_kind(tok, the) == "merged" and inspection.token_kind(tok, tok.vocab["c"]) == "character"
    assert tok.token_text(the) == " the" and tok.token_length(the) == 4


def test_families_answer_for_their_tokens():
    assert CLASSIC.token_bytes("a</w></w>") == b"a</w> "  # only the final </w> ends the word
    assert CLASSIC.token_text("low</w>") == "low" and CLASSIC.shown("low</w>") == "low</w>"
    assert BYTE_LEVEL.token_bytes("Ġä¸Ń").decode() == " 中"
    assert BYTE_LEVEL.shown("ä¸") == "\\xe4\\xb8" and BYTE_LEVEL.length("ä¸") == 2
    assert BYTE_LEVEL.stored_form("\ud800") is None  # a lone surrogate is no token's text
    assert CLASSIC.round_trip_difference(b"a b ", "a   b") is None
    assert BYTE_LEVEL.round_trip_difference(b"a b", "a  b") == "decoding differs from byte 2"
    with pytest.raises(BPEError, match="mode must be one of byte_level, classic; got 'sentencepiece'"):
        family_named("sentencepiece")


def test_the_server_schema_offers_every_family():
    from server.schemas import FamilyName

    assert set(typing.get_args(FamilyName)) == set(families.FAMILIES)
    assert PRESET_PATTERNS  # the byte-level presets the schema's pattern field names exist
