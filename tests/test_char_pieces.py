"""The CJK encode shortcut (bpe_core.char_pieces) gives exactly the ids of BPE on the bytes.

The oracle is ``apply_merges`` on the word's bytes, the path every word took
before the shortcut; tiktoken parity on real text is in test_byte_level_parity.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpe_core import train
from bpe_core.byte_symbols import BYTE_TO_SYMBOL
from bpe_core.char_pieces import CharPieces
from bpe_core.merging import apply_merges
from bpe_core.tokenizer import Tokenizer
from corpus_text import corpus_slice


def bytes_oracle(tok: Tokenizer, word: str) -> list[int]:
    return apply_merges(tok._initial_ids(word), tok.merge_ranks)


def symbols(data: bytes) -> str:
    return "".join(BYTE_TO_SYMBOL[b] for b in data)


def tokenizer_from_merges(merges_bytes: list[tuple[bytes, bytes]]) -> Tokenizer:
    vocab = {s: i for i, s in enumerate(BYTE_TO_SYMBOL)}
    merges = []
    for left, right in merges_bytes:
        merges.append((symbols(left), symbols(right)))
        vocab.setdefault(symbols(left + right), len(vocab))
    return Tokenizer(mode="byte_level", vocab=vocab, merges=merges, pattern="gpt2")


@pytest.fixture(scope="module")
def zh_tok():
    return train(corpus_slice("zh", 60_000), vocab_size=3000)


def test_every_word_of_the_chinese_corpus_gets_the_ids_of_bpe_on_bytes(zh_tok):
    words = dict.fromkeys(zh_tok.pre_tokenizer.split(corpus_slice("zh", 100_000)))
    assert len(words) > 1000
    assert [zh_tok._word_ids(w) for w in words] == [bytes_oracle(zh_tok, w) for w in words]
    assert isinstance(zh_tok._char_pieces, CharPieces)  # the shortcut was taken, not skipped


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("的是函数中文一个内核驱动程序，。 ab1é😀\n"), max_size=40))
def test_random_mixed_text_gets_the_ids_of_bpe_on_bytes(zh_tok, text):
    for word in zh_tok.pre_tokenizer.split(text):
        assert zh_tok._word_ids(word) == bytes_oracle(zh_tok, word)


def test_a_character_whose_last_byte_joins_the_next_character_keeps_its_bytes():
    # 函 = e5 87 bd, 数 = e6 95 b0.  Merge 3 glues 函's last byte to a finished
    # 数 before 函 itself is finished (merge 4): BPE on the bytes ends with
    # [e5 87, bd 数], where finishing each character first would give [函, 数].
    f, s = "函".encode(), "数".encode()
    tok = tokenizer_from_merges([(f[:1], f[1:2]), (s[:1], s[1:2]), (s[:2], s[2:]), (f[2:], s), (f[:2], f[2:])])
    ids = tok.encode("函数")
    assert ids == bytes_oracle(tok, "函数")
    assert [tok.token_bytes(i) for i in ids] == [f[:2], f[2:] + s]
    assert tok.encode("数函") == bytes_oracle(tok, "数函")  # no crossing there: [数, 函]
    assert [tok.token_bytes(i) for i in tok.encode("数函")] == [s, f]


def test_a_space_that_joins_a_first_byte_before_the_character_is_finished():
    # (space, e4) ranks between e4's merges: " 中" must become " \xe4" + rest.
    z = "中".encode()
    tok = tokenizer_from_merges([(z[1:2], z[2:]), (b" ", z[:1]), (z[:1], z[1:])])
    assert tok.encode(" 中") == bytes_oracle(tok, " 中")
    assert [tok.token_bytes(i) for i in tok.encode(" 中")] == [b" \xe4", z[1:]]
    assert [tok.token_bytes(i) for i in tok.encode("中")] == [z]


def test_a_table_whose_merges_are_not_in_rank_order_is_encoded_on_bytes():
    # Merge 0 takes the token that merge 1 makes: no shortcut, same ids as before.
    z = "中".encode()
    tok = tokenizer_from_merges([(z[:2], z[2:]), (z[:1], z[1:2])])
    assert CharPieces.build(tok.merge_ranks, tok._byte_ids, tok.token_bytes) is None
    assert tok.encode("中中") == bytes_oracle(tok, "中中")
    assert [tok.token_bytes(i) for i in tok.encode("中")] == [z]


def test_the_table_stays_bounded_on_text_of_many_distinct_characters(zh_tok, monkeypatch):
    import bpe_core.char_pieces as char_pieces

    monkeypatch.setattr(char_pieces, "MAX_CHARS", 300)
    tok = Tokenizer(mode="byte_level", vocab=zh_tok.vocab, merges=zh_tok.merges, pattern=zh_tok.pattern)
    text = "".join(chr(c) for c in range(0x4E00, 0x4E00 + 2000))
    assert tok.encode(text) == bytes_oracle(tok, text)
    assert len(tok._char_pieces) <= 300


def test_ascii_text_never_builds_the_table(zh_tok):
    # ASCII characters are their own pieces: pure-ASCII encodes skip the table's
    # one-off build (a pass over every merge) and keep the ids.
    tok = Tokenizer(mode="byte_level", vocab=zh_tok.vocab, merges=zh_tok.merges, pattern=zh_tok.pattern)
    text = corpus_slice("en", 20_000).encode("ascii", "ignore").decode("ascii")
    assert tok.encode(text) == [i for w in tok.pre_tokenizer.split(text) for i in bytes_oracle(tok, w)]
    assert not isinstance(tok._char_pieces, CharPieces)
    tok.encode("中文")
    assert isinstance(tok._char_pieces, CharPieces)
