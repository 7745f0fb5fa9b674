"""A token's readable text agrees with the bytes it stands for, in both families,
even when the text itself spelled the end-of-word mark ``</w>``."""

from __future__ import annotations

import bpe_core


def test_classic_tokens_holding_a_literal_end_of_word_mark_read_as_their_bytes():
    tok = bpe_core.train("a</w> a</w> a</w> b</w>b b</w>b", mode="classic", num_merges=30)
    inner = {t: i for t, i in tok.vocab.items() if "</w>" in t.removesuffix("</w>")}
    assert inner, "the corpus should make tokens with a literal '</w>' inside"
    for token, token_id in tok.vocab.items():
        if token in tok.special_tokens or token == tok.unk_token or token == "</w>":
            continue
        spelled = tok.token_bytes(token_id).decode("utf-8")
        assert tok.token_text(token_id) == spelled.removesuffix(" "), token
    assert tok.token_text(tok.vocab["a</w></w>"]) == "a</w>"


def test_byte_level_token_text_is_the_text_its_bytes_spell():
    tok = bpe_core.train("中文 中国 low lower </w>", vocab_size=300)
    for token_id in range(tok.vocab_size):
        data = tok.token_bytes(token_id)
        assert tok.token_text(token_id) == data.decode("utf-8", errors="backslashreplace")
