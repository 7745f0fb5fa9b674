"""Encoding and decoding: round trips, special-token policy, offsets, batches, explain."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bpe_core
from bpe_core import BPEError, SpecialTokenError
from bpe_core.byte_symbols import BYTE_TO_SYMBOL
from corpus_text import corpus_slice

SPECIALS = ["<pad>", "<|endoftext|>"]
CUSTOM_PATTERN = r"\s+|\w+|[^\w\s]+"  # covers every character, so nothing is dropped


def _small_training_text() -> str:
    return "".join(corpus_slice(name, 40_000) for name in ("en", "zh", "code")) + " 😀👍🏽 e\u0301 aaaa aaaaaaaa" * 20


@pytest.fixture(scope="module", params=["gpt2", "cl100k", "o200k", CUSTOM_PATTERN], ids=["gpt2", "cl100k", "o200k", "custom"])
def byte_tok(request):
    return bpe_core.train(_small_training_text(), vocab_size=1200, pattern=request.param, special_tokens=SPECIALS, workers=1)


@pytest.fixture(scope="module")
def gpt2_tok():
    return bpe_core.train(_small_training_text(), vocab_size=1200, special_tokens=SPECIALS, workers=1)


@pytest.fixture(scope="module")
def classic_tok():
    return bpe_core.train(corpus_slice("en", 40_000), mode="classic", vocab_size=800, special_tokens=SPECIALS)


# --- round trips ----------------------------------------------------------------------

# st.text() never draws surrogates (category Cs), so these are all valid Unicode.
unicode_text = st.one_of(
    st.text(max_size=80),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=80),
    st.lists(
        st.sampled_from(["the", " ", "  ", "\n", "中文", "😀", "e\u0301", "'s", "\r\n", "\t", "123", "<pad>", "<|endoftext|>"]),
        max_size=30,
    ).map("".join),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=unicode_text)
def test_decode_encode_round_trip(byte_tok, text):
    # Special-token strings round-trip both as text and as special tokens.
    for policy in ({"disallowed_special": ()}, {"allowed_special": "all"}):
        ids = byte_tok.encode(text, **policy)
        assert byte_tok.decode(ids) == text
        assert byte_tok.decode(ids, errors="strict") == text
        assert byte_tok.decode_bytes(ids) == text.encode("utf-8")
        assert byte_tok.count_tokens(text, **policy) == len(ids)
    assert byte_tok.encode_ordinary(text) == byte_tok.encode(text, disallowed_special=())


def test_round_trip_on_corpus_text(byte_tok):
    # Past the 40 KB each tokenizer was trained on.
    text = corpus_slice("zh", 20_000, start=40_000) + corpus_slice("code", 20_000, start=40_000)
    assert len(text) > 10_000
    assert byte_tok.decode(byte_tok.encode(text)) == text


@pytest.mark.parametrize("text", ["a\ud800b", "\udfff", "ok \ud83d end", "\ud83d\ude00 reversed order: \ude00\ud83d"])
def test_lone_surrogates_are_rejected(byte_tok, text):
    with pytest.raises(BPEError, match="lone surrogate U\\+D[89A-F][0-9A-F]{2}"):
        byte_tok.encode(text)
    with pytest.raises(BPEError, match="lone surrogate"):
        byte_tok.encode_tokens(text)
    with pytest.raises(BPEError, match="lone surrogate"):
        byte_tok.explain(text)


def test_lone_surrogates_are_rejected_when_training():
    with pytest.raises(BPEError, match="lone surrogate"):
        bpe_core.train("abc \udc80 abc", vocab_size=260)


# --- the special-token policy ------------------------------------------------------------


def test_special_tokens_are_disallowed_by_default(gpt2_tok):
    with pytest.raises(SpecialTokenError) as raised:
        gpt2_tok.encode("hello <|endoftext|> world")
    message = str(raised.value)
    assert "'<|endoftext|>'" in message and "allowed_special" in message and "disallowed_special" in message


def test_allowed_special_encodes_the_special_token(gpt2_tok):
    eot, pad = gpt2_tok.vocab["<|endoftext|>"], gpt2_tok.vocab["<pad>"]
    ids = gpt2_tok.encode("a<|endoftext|>b<pad>", allowed_special="all")
    assert ids == gpt2_tok.encode("a") + [eot] + gpt2_tok.encode("b") + [pad]
    ids = gpt2_tok.encode("a<|endoftext|>b", allowed_special={"<|endoftext|>"})
    assert eot in ids
    # Allowing one special leaves the others disallowed.
    with pytest.raises(SpecialTokenError, match="<pad>"):
        gpt2_tok.encode("a<|endoftext|>b<pad>", allowed_special={"<|endoftext|>"})


def test_disallowed_special_empty_encodes_specials_as_text(gpt2_tok):
    text = "x<|endoftext|>y<pad>"
    ids = gpt2_tok.encode(text, disallowed_special=())
    assert ids == gpt2_tok.encode_ordinary(text)
    assert gpt2_tok.vocab["<|endoftext|>"] not in ids and gpt2_tok.vocab["<pad>"] not in ids
    assert gpt2_tok.decode(ids) == text


def test_explicitly_disallowed_special_raises_even_if_others_are_plain(gpt2_tok):
    assert gpt2_tok.encode("<pad>", disallowed_special={"<|endoftext|>"}) == gpt2_tok.encode_ordinary("<pad>")
    with pytest.raises(SpecialTokenError, match="disallowed"):
        gpt2_tok.encode("<|endoftext|>", disallowed_special={"<|endoftext|>"})


def test_unknown_names_in_the_policy_name_the_argument(gpt2_tok):
    with pytest.raises(SpecialTokenError, match="allowed_special.*<nope>"):
        gpt2_tok.encode("x", allowed_special={"<nope>"})
    with pytest.raises(SpecialTokenError, match="disallowed_special.*<nope>"):
        gpt2_tok.encode("x", disallowed_special={"<nope>"})
    with pytest.raises(BPEError, match="allowed_special must be 'all' or a collection"):
        gpt2_tok.encode("x", allowed_special="<pad>")
    with pytest.raises(BPEError, match="disallowed_special must be 'all' or a collection"):
        gpt2_tok.encode("x", disallowed_special="none")


def test_longest_special_token_wins():
    tok = bpe_core.train("ab ab", vocab_size=260, special_tokens=["<|end|>", "<|end|>!"])
    ids = tok.encode("a<|end|>!b<|end|>", allowed_special="all")
    assert ids == tok.encode("a") + [tok.vocab["<|end|>!"]] + tok.encode("b") + [tok.vocab["<|end|>"]]


def test_special_tokens_are_cut_out_when_training():
    tok = bpe_core.train("<pad>ab<pad>ab<pad>ab " * 20, vocab_size=270, special_tokens=["<pad>"])
    for left, right in tok.merges:
        assert "<" not in left + right and ">" not in left + right


def test_classic_special_tokens(classic_tok):
    pad = classic_tok.vocab["<pad>"]
    ids = classic_tok.encode("the<pad> end", allowed_special="all")
    assert pad in ids
    with pytest.raises(SpecialTokenError):
        classic_tok.encode("the<pad> end")


# --- offsets --------------------------------------------------------------------------


def _check_offsets(tok, text, tokens):
    """Spans are in order, leave no gap, and overlap only on a character split between tokens."""
    assert tok.decode([t.id for t in tokens]) == text
    position = 0
    for token in tokens:
        assert token.end > token.start
        if token.start == position - 1:
            assert len(text[token.start].encode("utf-8")) > 1, "only a multi-byte character is shared"
        else:
            assert token.start == position, "tokens must not leave gaps"
        position = token.end
        piece = tok.token_bytes(token.id)
        span = text[token.start:token.end]
        if piece.decode("utf-8", "replace") == span:
            assert token.text == span
        else:  # a partial character: the span covers the whole character
            assert piece in span.encode("utf-8")
    assert position == len(text)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=unicode_text)
def test_encode_tokens_offsets_cover_the_input(byte_tok, text):
    tokens = byte_tok.encode_tokens(text, allowed_special="all")
    assert [t.id for t in tokens] == byte_tok.encode(text, allowed_special="all")
    _check_offsets(byte_tok, text, tokens)


def test_encode_tokens_marks_specials(gpt2_tok):
    text = "hi <pad>中"
    tokens = gpt2_tok.encode_tokens(text, allowed_special="all")
    [special] = [t for t in tokens if t.special]
    assert (special.token, special.text, special.start, special.end) == ("<pad>", "<pad>", 3, 8)
    assert all(not t.unknown for t in tokens)
    _check_offsets(gpt2_tok, text, tokens)


def test_encode_tokens_on_a_partial_character():
    # Train so that 中's first two bytes merge but not the third: the token
    # "\xe4\xb8" and the byte "\xad" both cover the one character.
    tok = bpe_core.train("中丮", vocab_size=257)
    assert len(tok.merges) == 1 and tok.merges[0] == (BYTE_TO_SYMBOL[0xE4], BYTE_TO_SYMBOL[0xB8])
    tokens = tok.encode_tokens("a中")
    assert [(t.start, t.end) for t in tokens] == [(0, 1), (1, 2), (1, 2)]
    assert tokens[1].text == "\\xe4\\xb8"


def test_classic_offsets_and_unknowns(classic_tok):
    text = "The  quick\tfox\u00e9\u4e2d jumps"
    tokens = classic_tok.encode_tokens(text)
    never_seen = [ch for ch in text if not ch.isspace() and ch not in classic_tok.vocab]
    assert "\u4e2d" in never_seen
    assert [t.text for t in tokens if t.unknown] == never_seen
    assert all(t.token == "<unk>" for t in tokens if t.unknown)
    for token in tokens:
        assert text[token.start:token.end] == token.text
    assert "".join(t.text for t in tokens) == "".join(text.split())


# --- batches ---------------------------------------------------------------------------

BATCH = ["hello world", "a", "the quick brown fox jumps over the lazy dog", ""]


def test_batch_without_padding_is_plain_encode(gpt2_tok):
    batch = gpt2_tok.encode_batch(BATCH)
    assert batch.input_ids == [gpt2_tok.encode(t) for t in BATCH]
    assert batch.attention_mask == [[1] * len(gpt2_tok.encode(t)) for t in BATCH]
    assert batch.truncated == [False] * len(BATCH)


@pytest.mark.parametrize("side", ["right", "left"])
def test_batch_padding_longest(gpt2_tok, side):
    pad = gpt2_tok.vocab["<pad>"]
    batch = gpt2_tok.encode_batch(BATCH, padding="longest", padding_side=side)
    encoded = [gpt2_tok.encode(t) for t in BATCH]
    width = max(map(len, encoded))
    assert batch.pad_token_id == pad and batch.padding_side == side
    assert batch.lengths == [len(e) for e in encoded]
    for ids, mask, expected in zip(batch.input_ids, batch.attention_mask, encoded):
        assert len(ids) == len(mask) == width
        fill = width - len(expected)
        if side == "right":
            assert ids == expected + [pad] * fill
            assert mask == [1] * len(expected) + [0] * fill
        else:
            assert ids == [pad] * fill + expected
            assert mask == [0] * fill + [1] * len(expected)


@pytest.mark.parametrize("truncation_side", ["right", "left"])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_batch_truncation_and_max_length_padding(gpt2_tok, truncation_side, padding_side):
    pad = gpt2_tok.vocab["<pad>"]
    max_length = 4
    batch = gpt2_tok.encode_batch(
        BATCH, max_length=max_length, padding="max_length", truncation_side=truncation_side, padding_side=padding_side
    )
    for text, ids, mask, truncated, length in zip(BATCH, batch.input_ids, batch.attention_mask, batch.truncated, batch.lengths):
        full = gpt2_tok.encode(text)
        assert length == len(full)
        assert truncated == (len(full) > max_length)
        kept = full[:max_length] if truncation_side == "right" else full[-max_length:]
        if len(full) <= max_length:
            kept = full
        assert len(ids) == len(mask) == max_length
        real = [i for i, m in zip(ids, mask) if m == 1]
        assert real == kept
        assert all(i == pad for i, m in zip(ids, mask) if m == 0)
        assert mask == ([1] * len(kept) + [0] * (max_length - len(kept)) if padding_side == "right"
                        else [0] * (max_length - len(kept)) + [1] * len(kept))


def test_batch_truncation_without_padding(gpt2_tok):
    batch = gpt2_tok.encode_batch(BATCH, max_length=2)
    assert batch.input_ids == [gpt2_tok.encode(t)[:2] for t in BATCH]
    assert [len(m) for m in batch.attention_mask] == [len(i) for i in batch.input_ids]


def test_batch_explicit_pad_token(gpt2_tok):
    batch = gpt2_tok.encode_batch(["a", "hello world"], padding="longest", pad_token="<|endoftext|>")
    assert batch.pad_token_id == gpt2_tok.vocab["<|endoftext|>"]
    assert batch.input_ids[0][-1] == gpt2_tok.vocab["<|endoftext|>"]


def test_batch_errors(gpt2_tok):
    plain = bpe_core.train("ab ab", vocab_size=260)
    with pytest.raises(BPEError, match="pad token") as raised:
        plain.encode_batch(["a", "ab ab"], padding="longest")
    assert "pad_token" in str(raised.value)
    with pytest.raises(BPEError, match="pad_token '<nope>' is not in the vocabulary"):
        gpt2_tok.encode_batch(["a"], padding="longest", pad_token="<nope>")
    with pytest.raises(BPEError, match="needs max_length"):
        gpt2_tok.encode_batch(["a"], padding="max_length")
    with pytest.raises(BPEError, match="max_length must be at least 1"):
        gpt2_tok.encode_batch(["a"], max_length=0)
    with pytest.raises(BPEError, match="padding_side"):
        gpt2_tok.encode_batch(["a"], padding="longest", padding_side="middle")
    with pytest.raises(BPEError, match="padding must be"):
        gpt2_tok.encode_batch(["a"], padding="shortest")
    with pytest.raises(BPEError, match="list of texts"):
        gpt2_tok.encode_batch("hello")
    with pytest.raises(SpecialTokenError):
        gpt2_tok.encode_batch(["<pad>"])


# --- decoding -------------------------------------------------------------------------


def test_decode_invalid_utf8(gpt2_tok):
    # One byte of a three-byte character.
    lone_byte = gpt2_tok.vocab[BYTE_TO_SYMBOL[0xE4]]
    assert gpt2_tok.decode([lone_byte]) == "\ufffd"
    assert gpt2_tok.decode_bytes([lone_byte]) == b"\xe4"
    with pytest.raises(BPEError, match="not valid UTF-8.*0xe4.*errors='replace'"):
        gpt2_tok.decode([lone_byte], errors="strict")
    ids = gpt2_tok.encode("中")
    assert gpt2_tok.decode(ids, errors="strict") == "中"


def test_decode_unknown_id(gpt2_tok):
    with pytest.raises(BPEError, match="token id 999999 is not in the vocabulary"):
        gpt2_tok.decode([999999])
    with pytest.raises(BPEError, match="not in the vocabulary"):
        gpt2_tok.decode([-1])


def test_readable_tokens(gpt2_tok):
    assert gpt2_tok.readable(gpt2_tok.vocab["<pad>"]) == "<pad>"
    assert gpt2_tok.readable(gpt2_tok.vocab[BYTE_TO_SYMBOL[ord(" ")]]) == " "
    assert gpt2_tok.readable(gpt2_tok.vocab[BYTE_TO_SYMBOL[0xE4]]) == "\\xe4"


# --- explain ---------------------------------------------------------------------------


def _replace_one(symbols, position, merged):
    return symbols[:position] + [merged] + symbols[position + 2:]


def _check_explanation(tok, explanation, *, lowest_rank_first: bool):
    ranks = {pair: rank for rank, pair in reversed(list(enumerate(tok.merges)))}
    symbols = explanation.symbols
    previous_rank = -1
    assert len(list(explanation.states())) == len(explanation.steps)
    for step, after in zip(explanation.steps, explanation.states()):
        assert (step.left, step.right) == tok.merges[step.rank]
        assert step.merged == step.left + step.right
        positions = [i for i in range(len(symbols) - 1) if (symbols[i], symbols[i + 1]) == (step.left, step.right)]
        assert positions, f"step {step} merges a pair that is not in {symbols}"
        present = [ranks[pair] for pair in zip(symbols, symbols[1:]) if pair in ranks]
        if lowest_rank_first:
            assert step.rank == min(present)  # byte-level: lowest rank present, leftmost first
        else:
            assert step.rank >= previous_rank  # classic: the merge list, in order
        assert step.position == positions[0]  # the leftmost occurrence
        assert after == _replace_one(symbols, positions[0], step.merged)
        symbols, previous_rank = after, step.rank
    assert symbols == explanation.tokens
    assert [tok.vocab[s] for s in explanation.tokens] == explanation.ids


@pytest.mark.parametrize("text", ["lowest newer", "Hello, world! 中文 😀", "def f(x):\n    return x", "aaaaaaaaaaaa"])
def test_explain_byte_level(gpt2_tok, text):
    explanations = gpt2_tok.explain(text)
    assert [w.word for w in explanations] == gpt2_tok.pre_tokenizer.split(text)
    assert [i for w in explanations for i in w.ids] == gpt2_tok.encode(text)
    for word in explanations:
        assert "".join(word.symbols) == "".join(BYTE_TO_SYMBOL[b] for b in word.word.encode("utf-8"))
        assert text[word.start:word.start + len(word.word)] == word.word
        _check_explanation(gpt2_tok, word, lowest_rank_first=True)
    assert any(w.steps for w in explanations)


def test_explain_classic():
    tok = bpe_core.train("low " * 5 + "lower " * 2 + "newest " * 6 + "widest " * 3, mode="classic", num_merges=10)
    [newest, lowest] = tok.explain("newest lowest")
    assert [(s.left, s.right) for s in newest.steps] == [
        ("e", "s"), ("es", "t"), ("est", "</w>"), ("n", "e"), ("ne", "w"), ("new", "est</w>")
    ]
    assert newest.symbols == ["n", "e", "w", "e", "s", "t", "</w>"]
    assert newest.tokens == ["newest</w>"]
    assert lowest.tokens == ["low", "est</w>"]
    for word in (newest, lowest):
        _check_explanation(tok, word, lowest_rank_first=False)


def test_explain_special_tokens(gpt2_tok):
    explanations = gpt2_tok.explain("a<pad>b")
    assert [(w.word, w.special, w.ids) for w in explanations][1] == ("<pad>", True, [gpt2_tok.vocab["<pad>"]])


# --- the BPE model itself, against naive encoders ------------------------------------


def naive_byte_level_encode(tok, word: str) -> list[str]:
    """Hugging Face / tiktoken style: merge the lowest-ranked adjacent pair, leftmost first."""
    ranks = {pair: rank for rank, pair in reversed(list(enumerate(tok.merges)))}
    symbols = [BYTE_TO_SYMBOL[b] for b in word.encode("utf-8")]
    while True:
        candidates = [(ranks[p], i) for i, p in enumerate(zip(symbols, symbols[1:])) if p in ranks]
        if not candidates:
            return symbols
        _, i = min(candidates)
        symbols = _replace_one(symbols, i, symbols[i] + symbols[i + 1])


def naive_classic_encode(tok, word: str) -> list[str]:
    """Sennrich style: apply every merge in order, left to right, as training did."""
    spelled = " ".join(ch if ch in tok.vocab else tok.unk_token for ch in word) + " </w>"
    for left, right in tok.merges:
        pattern = re.compile(r"(?<!\S)" + re.escape(left + " " + right) + r"(?!\S)")
        spelled = pattern.sub(lambda m: left + right, spelled)
    return spelled.split()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(word=st.text(alphabet="aeilnorst \u4e2d\u6587\U0001F600", min_size=1, max_size=30))
def test_byte_level_model_equals_naive(gpt2_tok, word):
    for piece in gpt2_tok.pre_tokenizer.split(word):
        expected = naive_byte_level_encode(gpt2_tok, piece)
        assert [t.token for t in gpt2_tok.encode_tokens(piece)] == expected


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(word=st.text(alphabet="aeilnorsthdTW.,\u00e9\u4e2d", min_size=1, max_size=20))
def test_classic_model_equals_naive(classic_tok, word):
    assert [t.token for t in classic_tok.encode_tokens(word)] == naive_classic_encode(classic_tok, word)


# --- robustness ------------------------------------------------------------------------


def test_policy_arguments_of_the_wrong_type(gpt2_tok):
    with pytest.raises(BPEError, match="allowed_special must be 'all' or a collection"):
        gpt2_tok.encode("x", allowed_special=None)
    with pytest.raises(BPEError, match="disallowed_special must be 'all' or a collection"):
        gpt2_tok.encode("x", disallowed_special=5)
    with pytest.raises(SpecialTokenError, match="allowed_special names"):
        gpt2_tok.encode("x", allowed_special={1, "<nope>"})


def test_text_must_be_a_string(gpt2_tok):
    with pytest.raises(BPEError, match="text must be a string, got bytes"):
        gpt2_tok.encode(b"bytes")
    with pytest.raises(BPEError, match="text must be a string"):
        gpt2_tok.encode_ordinary(None)


def test_word_cache_stays_bounded(monkeypatch):
    import bpe_core.tokenizer as tokenizer_module

    tok = bpe_core.train("ab ab abc", vocab_size=260)
    monkeypatch.setattr(tokenizer_module, "_CACHE_BYTES", 2000)
    text = " ".join(f"w{i}" for i in range(100))  # 100 distinct words in one call
    ids = tok.encode(text)
    assert tok._cache.size <= 2000 and len(tok._cache.table) <= 20
    assert tok.decode(ids) == text
    assert tok.encode(text) == ids  # a cold cache changes nothing


def test_tokenizer_special_tokens_must_be_a_list(gpt2_tok):
    with pytest.raises(BPEError, match="special_tokens must be a list of strings, not the string '<pad>'"):
        bpe_core.Tokenizer(mode="byte_level", vocab=gpt2_tok.vocab, merges=gpt2_tok.merges, pattern="gpt2",
                           special_tokens="<pad>")
