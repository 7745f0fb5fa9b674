"""evaluate() and compare(): the numbers, streaming, cancelling, paging, and the fast path's ids."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from bpe_core import Tokenizer, train
from bpe_core.byte_symbols import BYTE_TO_SYMBOL
from bpe_core.errors import BPEError, EvaluationCancelled
from bpe_core.evaluation import compare, evaluate, segmentation
from bpe_core.fast import is_fast, ordinary_encoder

CORPUS = ("the lowest newest widest low lower 中文 中国 def f(x): return x + 1\n" * 30
          + "Tokenizers cut text into tokens. 分词器把文本切成词元。\n" * 30)
HELD_OUT = "the newest tokens 中文分词 café 🦊\n\nreturn f(x)\n"


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    return train(CORPUS, vocab_size=330)


def test_the_numbers_are_those_of_encoding_the_text(tokenizer):
    report = evaluate(tokenizer, texts=[HELD_OUT], name="small", fast=False)
    ids = tokenizer.encode_ordinary(HELD_OUT)
    data = HELD_OUT.encode("utf-8")
    assert (report.tokens, report.bytes, report.characters, report.words) == (
        len(ids), len(data), len(HELD_OUT), len(HELD_OUT.split()))
    assert report.bytes_per_token == len(data) / len(ids)
    assert report.tokens_per_word == len(ids) / len(HELD_OUT.split())
    # Tokens per CJK character: the runs 中文分词 encoded on their own.
    assert report.cjk_characters == 4 and report.cjk_tokens == len(tokenizer.encode_ordinary("中文分词"))
    counts = Counter(ids)
    assert report.vocab_used == len(counts)
    assert report.vocab_used_share == len(counts) / tokenizer.vocab_size  # no special tokens here
    assert [(t.id, t.count) for t in report.top_tokens] == counts.most_common(20)
    assert sum(report.length_distribution.values()) == len(ids)
    assert report.mean_token_length == len(data) / len(ids)
    # Byte fallback: single-byte tokens holding a non-ASCII byte (é and 🦊 were never seen in training).
    fallback = sum(1 for i in ids if len(tokenizer.token_bytes(i)) == 1 and tokenizer.token_bytes(i)[0] >= 0x80)
    assert report.byte_fallback_bytes == fallback >= 4 + 2
    assert (report.round_trip_checked, report.round_trip_failures) == (1, 0)
    assert report.summary().startswith(f"small (byte_level, gpt2, 330 tokens, bpe_core encoder): {len(data)} bytes "
                                       f"-> {len(ids)} tokens")


def test_every_token_is_used_merge_only_or_unused(tokenizer):
    report = evaluate(tokenizer, texts=[HELD_OUT], list_limit=500)
    emitted = set(tokenizer.encode_ordinary(HELD_OUT))
    merge_only = {t.id for t in report.merge_only_tokens}
    unused = {t.id for t in report.unused_tokens}
    assert report.vocab_used + report.merge_only_total + report.unused_total == tokenizer.vocab_size
    assert (len(merge_only), len(unused)) == (report.merge_only_total, report.unused_total)
    assert not (merge_only & emitted) and not (unused & emitted) and not (merge_only & unused)
    # A merge-only token is a part (at any depth) of the merge that made an emitted token.
    made_by = {}
    for left, right in tokenizer.merges:
        made_by.setdefault(left + right, (left, right))
    parts, todo = set(), [tokenizer.id_to_token[i] for i in emitted]
    while todo:
        for part in made_by.get(todo.pop(), ()):
            if part not in parts:
                parts.add(part)
                todo.append(part)
    assert merge_only == {tokenizer.vocab[p] for p in parts} - emitted
    lengths = [t.length for t in report.unused_tokens]
    assert lengths == sorted(lengths, reverse=True)  # longest first: the likeliest glitch tokens


def test_lists_are_capped_and_paged(tokenizer):
    whole = evaluate(tokenizer, texts=[HELD_OUT], list_limit=500)
    assert whole.next_list_offset is None
    pages, offset = [], 0
    while offset is not None:  # each page says where the next starts, the last that there is none
        page = evaluate(tokenizer, texts=[HELD_OUT], list_limit=50, list_offset=offset)
        pages.append(page.unused_tokens)
        offset = page.next_list_offset
    assert len(pages) == -(-max(whole.unused_total, whole.merge_only_total) // 50) > 1
    assert [t.id for page in pages for t in page] == [t.id for t in whole.unused_tokens]
    assert all(len(page) <= 50 for page in pages)
    assert len(evaluate(tokenizer, texts=[HELD_OUT], top_k=3).top_tokens) == 3
    with pytest.raises(BPEError, match="list_limit must be an integer from 0 to 500; got 501"):
        evaluate(tokenizer, texts=[HELD_OUT], list_limit=501)


def test_files_are_streamed_in_blocks_with_the_counts_of_the_whole(tokenizer, tmp_path):
    text = (CORPUS + HELD_OUT) * 5
    path = tmp_path / "held_out.txt"
    path.write_text(text, encoding="utf-8", newline="")
    streamed = evaluate(tokenizer, files=[path], block_chars=300, fast=False)
    assert streamed.round_trip_checked > 10  # many blocks
    assert streamed.tokens == len(tokenizer.encode_ordinary(text))
    assert streamed.forced_cuts == 0 and streamed.round_trip_failures == 0
    whole = evaluate(tokenizer, texts=[text], fast=False)
    assert streamed.to_dict() | {"seconds": 0, "megabytes_per_second": 0, "round_trip_checked": 0} == \
        whole.to_dict() | {"seconds": 0, "megabytes_per_second": 0, "round_trip_checked": 0}


@pytest.mark.parametrize("pattern", ["gpt2", "cl100k", "o200k"])
def test_blocks_are_cut_only_where_the_pattern_splits_anyway(pattern):
    # Line ends, spaces, tabs, '\r', '/' and punctuation: the places where a cut could join or split words.
    alphabet = ["\n", "\n", " ", " ", "\r", "\t", "/", ".", "a", "B", "1", "中", "'", "s", "!", "\u00a0"]
    rng = random.Random(pattern)
    tok = train("".join(rng.choice(alphabet) for _ in range(3000)), vocab_size=300, pattern=pattern)
    cut_somewhere = 0
    for _ in range(150):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 150)))
        for block_chars in (1, 3, 10):
            report = evaluate(tok, texts=[text], block_chars=block_chars, fast=False)
            if report.forced_cuts == 0:
                assert report.tokens == len(tok.encode_ordinary(text)), (text, block_chars)
                cut_somewhere += report.round_trip_checked > 1
    assert cut_somewhere > 100


def test_classic_round_trip_and_unknown_tokens():
    classic = train("low lower newest widest " * 5, mode="classic", num_merges=10)
    report = evaluate(classic, texts=["low  lower\n\nnewest", "low zebra"])
    assert report.byte_fallback_bytes is None and report.unknown_tokens == 3  # z, b, a: never seen in training
    assert (report.round_trip_checked, report.round_trip_failures) == (2, 1)  # whitespace is not a failure
    assert report.first_round_trip_failure.startswith("text 1 (block at character 0): the words differ")


def test_progress_and_cancellation(tokenizer, tmp_path):
    path = tmp_path / "big.txt"
    path.write_text(CORPUS * 20, encoding="utf-8")
    seen = []
    evaluate(tokenizer, files=[path], block_chars=2000, on_progress=lambda *a: seen.append(a))
    size = path.stat().st_size
    assert seen[-1] == ("evaluating", size, size)
    assert [done for _, done, _ in seen] == sorted(done for _, done, _ in seen)
    calls = []
    with pytest.raises(EvaluationCancelled, match="evaluating was cancelled after"):
        evaluate(tokenizer, files=[path], block_chars=2000, should_stop=lambda: calls.append(1) or len(calls) > 2)
    assert len(calls) == 3  # checked between blocks, stopped at the first true


def test_input_errors(tokenizer, tmp_path):
    with pytest.raises(BPEError, match="nothing to evaluate"):
        evaluate(tokenizer)
    with pytest.raises(BPEError, match="does not exist"):
        evaluate(tokenizer, files=[tmp_path / "missing.txt"])
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes(b"caf\xe9\n")
    with pytest.raises(BPEError, match=r"latin1.txt is not UTF-8 text: invalid byte 0xe9 at byte offset 3"):
        evaluate(tokenizer, files=[latin1])


def test_compare_ranks_and_aligns(tokenizer):
    small = train(CORPUS, vocab_size=270)
    classic = train(CORPUS, mode="classic", num_merges=40)
    result = compare({"small": small, "large": tokenizer, "classic": classic}, texts=[HELD_OUT * 3], sample_chars=40)
    counts = {name: len(tok.encode_ordinary(HELD_OUT * 3)) for name, tok in
              (("small", small), ("large", tokenizer), ("classic", classic))}
    assert [r.name for r in result.ranking] == sorted(counts, key=counts.get)
    assert [r.tokens for r in result.ranking] == sorted(counts.values())
    assert result.ranking[0].relative == 1.0
    assert result.sample == HELD_OUT[:result.sample.__len__()] and 20 <= len(result.sample) <= 40
    for name, spans in result.segmentations.items():
        assert spans == segmentation({"small": small, "large": tokenizer, "classic": classic}[name], result.sample)
        assert [s.start for s in spans] == sorted(s.start for s in spans)
    all_cuts = set().union(*map(set, result.boundaries.values()))
    shared = set.intersection(*map(set, result.boundaries.values()))
    assert result.differing_boundaries == sorted(all_cuts - shared) and result.differing_boundaries
    table = result.summary().splitlines()
    assert table[0].split()[:3] == ["tokenizer", "vocab", "tokens"]
    assert table[1].startswith(f"1. {result.ranking[0].name}")
    assert any(line.strip().startswith("large") and "|" in line for line in table)


def test_compare_takes_two_to_eight(tokenizer):
    with pytest.raises(BPEError, match="compare takes 2 to 8 tokenizers by name; got 1"):
        compare({"one": tokenizer}, texts=["x"])
    with pytest.raises(BPEError, match="got 9"):
        compare({str(n): tokenizer for n in range(9)}, texts=["x"])


# --- the fast path -----------------------------------------------------------------------------


@pytest.mark.parametrize("pattern", ["gpt2", "cl100k", "o200k"])
def test_fast_and_pure_give_the_same_ids(pattern):
    pytest.importorskip("tiktoken")
    tok = train(CORPUS, vocab_size=400, pattern=pattern, special_tokens=["<|end|>"])
    fast, pure = ordinary_encoder(tok, fast=True), ordinary_encoder(tok, fast=False)
    assert is_fast(fast) and not is_fast(pure)
    texts = [CORPUS, HELD_OUT, "<|end|> as text", " \n\r\n\t x  y\n\n/z", "🦊👨‍👩‍👧 ĉ"]
    for text in texts:
        assert fast(text) == pure(text) == tok.encode_ordinary(text)
    quick, slow = (evaluate(tok, texts=texts, fast=flag) for flag in (True, False))
    assert (quick.encoder, slow.encoder) == ("tiktoken", "bpe_core")
    ignore = {"encoder": 0, "seconds": 0, "megabytes_per_second": 0}
    assert quick.to_dict() | ignore == slow.to_dict() | ignore


def test_a_lone_surrogate_gets_the_engines_error_on_the_fast_path(tokenizer):
    pytest.importorskip("tiktoken")
    with pytest.raises(BPEError, match=r"lone surrogate U\+D800"):
        ordinary_encoder(tokenizer, fast=True)("ab\ud800")


def test_the_fast_path_is_refused_when_it_could_differ():
    pytest.importorskip("tiktoken")
    classic = train("low lower", mode="classic", num_merges=3)
    with pytest.raises(BPEError, match="the fast encoder cannot be used for this tokenizer: classic BPE"):
        ordinary_encoder(classic, fast=True)
    custom = train(CORPUS, vocab_size=280, pattern=r"\w+|\s+|[^\w\s]+")
    assert not is_fast(ordinary_encoder(custom))
    # Ids that are not ranks: the merge making "abc" gets a lower id than the one making "ab" before it.
    vocab = {symbol: i + 2 for i, symbol in enumerate(BYTE_TO_SYMBOL)} | {"ab": 1, "abc": 0}
    shuffled = Tokenizer(mode="byte_level", vocab=vocab, merges=[("a", "b"), ("ab", "c")], pattern="gpt2")
    assert not is_fast(ordinary_encoder(shuffled))
    assert ordinary_encoder(shuffled)("abc abd") == shuffled.encode_ordinary("abc abd")
    with pytest.raises(BPEError, match="its ids are not tiktoken ranks"):
        ordinary_encoder(shuffled, fast=True)
