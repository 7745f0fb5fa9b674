"""Budgets of the engine: small requests cannot make it use memory or time
out of proportion (issue 8).

Each memory test measures the peak of the operation with ``tracemalloc``
against a stated budget, on inputs the old code needed many times that
budget for.  Time is never asserted: a slow pattern is shown to be stopped
by what it raises, and cancellation by which error wins.
"""

from __future__ import annotations

import base64
import random
import sys
import threading
import tracemalloc

import pytest

import bpe_core
import bpe_core.tokenizer as tokenizer_module
from bpe_core import BPEError, BudgetExceeded, PatternError, Tokenizer, TokenizerFileError, TrainingCancelled
from bpe_core import inspection, pretokenize
from bpe_core.interop import export_tokenizer, import_tokenizer
from bpe_core.interop.tiktoken_files import MAX_TOKEN_BYTES
from budget_helpers import MB, chain_tokenizer, doubling_tokenizer, peak_memory


def letters(number: int) -> str:
    """A number spelled in letters, so that it stays one pre-tokenized word."""
    return "".join(chr(ord("a") + int(digit)) for digit in str(number))


# --- decode ------------------------------------------------------------------------


def test_decode_is_refused_before_the_output_is_built():
    tok = doubling_tokenizer(20)  # one token of 1 MB
    big = tok.vocab["a" * 2**20]
    with peak_memory() as memory:
        with pytest.raises(BudgetExceeded, match=r"1,000 ids decode to 1,048,576,000 bytes, over the limit of "
                                                 r"4,000,000 bytes \(max_bytes\); decode fewer ids"):
            tok.decode([big] * 1000, max_bytes=4_000_000)
    assert memory["peak"] < 4 * MB, memory  # the old decode joined the whole gigabyte first
    assert tok.decode([big, 97], max_bytes=2**20 + 1) == "a" * (2**20 + 1)


def test_decoded_size_is_the_length_of_what_decode_returns():
    byte_level = bpe_core.train("low lower 中文 😀 " * 5, vocab_size=300, special_tokens=["<|end|>"])
    classic = bpe_core.train("low lower newest " * 5, mode="classic", num_merges=10, special_tokens=["<pad>"])
    for tok in (byte_level, classic):
        ids = sorted(tok.id_to_token)
        assert tok.decoded_size(ids) == len(tok.decode_bytes(ids))
        assert tok.decoded_size(ids * 3) == 3 * len(tok.decode_bytes(ids))
    with pytest.raises(BPEError, match="token id 99999 is not in the vocabulary"):
        byte_level.decoded_size([1, 99999])


# --- explain -------------------------------------------------------------------------


def test_explaining_a_long_word_takes_memory_linear_in_its_length():
    tok = doubling_tokenizer(13)
    word = "a" * 8192  # one pre-tokenized word, 8191 merges
    with peak_memory() as memory:
        [explanation] = tok.explain(word)
    # The old explain kept the whole symbol list after every merge: 8192**2 / 2 entries, over 250 MB.
    assert memory["peak"] < 24 * MB, memory
    assert len(explanation.steps) == 8191 and explanation.tokens == [word]
    first = next(explanation.states())
    assert first == ["aa"] + ["a"] * 8190 and explanation.steps[0].position == 0
    assert explanation.steps[1].position == 1  # the second 'aa' starts at symbol 1 of ['aa', 'a', 'a', ...]


def test_states_replay_the_steps():
    tok = bpe_core.train("low " * 5 + "lower " * 2 + "newest " * 6 + "widest " * 3, mode="classic", num_merges=10)
    [newest] = tok.explain("newest")
    states = list(newest.states())
    assert states[0] == ["n", "e", "w", "es", "t", "</w>"] and states[-1] == newest.tokens
    assert list(newest.states(2)) == states[:2]


# --- tiktoken import -----------------------------------------------------------------


def write_rank_file(path, tokens: list[bytes]) -> None:
    """A .tiktoken file: the 256 bytes, then ``tokens`` in rank order."""
    ranked = [bytes([b]) for b in range(256)] + tokens
    path.write_text("".join(f"{base64.b64encode(t).decode()} {rank}\n" for rank, t in enumerate(ranked)))


def test_tiktoken_file_with_a_very_long_token_is_refused_quickly(tmp_path):
    path = tmp_path / "long.tiktoken"
    write_rank_file(path, [b"a" * 2**k for k in range(1, 15)])  # up to 16 KB, 44 KB of file
    with peak_memory() as memory:
        with pytest.raises(TokenizerFileError, match=rf"is 16,384 bytes long; tokens of more than "
                                                     rf"{MAX_TOKEN_BYTES:,} bytes are refused"):
            import_tokenizer(path, pattern="gpt2")
    # The old recovery built every split of every token: about 270 MB for the longest one here.
    assert memory["peak"] < 8 * MB, memory


def test_tiktoken_merges_of_long_tokens_are_recovered_exactly(tmp_path):
    tiktoken = pytest.importorskip("tiktoken")
    tokens = [b"a" * 2**k for k in range(1, 13)] + [b"ab", b"ba", b"aba", b"bab", b"abab"]
    path = tmp_path / "ok.tiktoken"
    write_rank_file(path, tokens)
    with peak_memory() as memory:
        ours = import_tokenizer(path, pattern="gpt2")
    assert memory["peak"] < 24 * MB, memory
    ranks = {bytes([b]): b for b in range(256)} | {t: 256 + i for i, t in enumerate(tokens)}
    theirs = tiktoken.Encoding("t", pat_str=r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s""",
                               mergeable_ranks=ranks, special_tokens={})
    for text in ("a" * 4096, "a" * 5000 + " abababab", "ab" * 3000, "b" + "a" * 777):
        assert ours.encode(text) == theirs.encode(text), text[:20]


def test_tiktoken_file_whose_tokens_split_in_too_many_ways_is_refused(tmp_path):
    path = tmp_path / "runs.tiktoken"
    write_rank_file(path, [b"a" * n for n in range(2, 901)])  # every length: n - 1 splits each
    with peak_memory() as memory:
        with pytest.raises(TokenizerFileError, match="split into pairs of tokens in too many ways"):
            import_tokenizer(path, pattern="gpt2")
    # Recovering them all would keep about 900**3 / 3 bytes (240 MB) of merges.
    assert memory["peak"] < 64 * MB, memory


# --- vocabulary size limit on import ---------------------------------------------------------


def test_import_refuses_a_tiktoken_file_over_the_vocab_limit_before_decoding_it(tmp_path):
    path = tmp_path / "big.tiktoken"
    write_rank_file(path, [f"w{i}".encode() for i in range(50_000)])
    with peak_memory() as memory:
        with pytest.raises(BudgetExceeded, match=r"holds 50,256 entries, over the vocabulary size limit of 1,000"):
            import_tokenizer(path, pattern="gpt2", max_vocab_size=1000)
    assert memory["peak"] < 4 * MB, memory  # the file's text, not 50,000 decoded tokens


@pytest.mark.parametrize("kind", ["huggingface", "tiktoken", "gpt2", "subword_nmt", "native"])
def test_every_import_format_applies_the_vocab_limit(tmp_path, kind):
    mode = "classic" if kind == "subword_nmt" else "byte_level"
    tok = bpe_core.train("low lower newest widest lowest " * 20 + "中文 😀 " * 5, mode=mode, num_merges=40)
    destination = tmp_path / ("out" if kind == "gpt2" else f"tok.{kind}")
    if kind == "gpt2":
        destination.mkdir()
    files = export_tokenizer(tok, kind, destination).files
    source = destination if kind == "gpt2" else files[0]
    with pytest.raises(BudgetExceeded, match="over the vocabulary size limit of 20") as refused:
        import_tokenizer(source, kind, max_vocab_size=20)
    assert refused.value.parameter == "max_vocab_size"
    assert import_tokenizer(source, kind, max_vocab_size=tok.vocab_size).vocab == tok.vocab


def test_import_refuses_a_file_far_larger_than_the_vocab_limit_allows_before_reading_it(tmp_path):
    path = tmp_path / "tokenizer.json"
    path.write_text(" " * (3 * MB) + "{}")
    with peak_memory() as memory:
        with pytest.raises(BudgetExceeded, match=r"is 3,145,730 bytes, more than a tokenizer within the vocabulary "
                                                 r"size limit of 10 tokens needs"):
            import_tokenizer(path, "huggingface", max_vocab_size=10)
    assert memory["peak"] < MB, memory


def test_deeply_nested_json_is_refused_with_a_reason(tmp_path):
    path = tmp_path / "tokenizer.json"
    path.write_text("[" * 200_000 + "]" * 200_000)
    for kind in ("huggingface", "native"):
        with pytest.raises(TokenizerFileError, match="nested too deeply"):
            import_tokenizer(path, kind)


# --- encode caches ------------------------------------------------------------------


def test_word_cache_is_bounded_by_bytes_not_entries(monkeypatch):
    tok = bpe_core.train("ab ab abc", vocab_size=260)
    monkeypatch.setattr(tokenizer_module, "_CACHE_BYTES", MB, raising=False)
    words = ["".join(random.Random(i).choices("abcdefghij", k=20_000)) for i in range(60)]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for word in words:  # 60 long distinct words, one call each
            tok.encode(word)
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    # 60 words of 20,000 characters and their ids are about 12 MB; the cache may keep about 1 MB.
    assert kept < 3 * MB, kept
    assert tok.encode(words[0]) == tok.encode_ordinary(words[0]) and tok.decode(tok.encode(words[0])) == words[0]


def test_special_token_splitters_are_bounded():
    specials = [f"<|s{i}|>" for i in range(40)]
    tok = bpe_core.train("ab ab abc", vocab_size=260 + len(specials), special_tokens=specials)
    for i in range(200):  # a different allowed subset every call
        allowed = set(specials[i % 40 : i % 40 + 1 + i % 7])
        assert tok.encode(specials[i % 40] + "ab", allowed_special=allowed) == [tok.vocab[specials[i % 40]],
                                                                             tok.vocab["ab"]]
    assert len(tok._splitters) <= tokenizer_module._SPLITTERS_KEPT


def test_concurrent_encodes_with_constant_evictions_are_correct(monkeypatch):
    tok = bpe_core.train("the cat sat on the mat " * 20, vocab_size=300)
    reference = Tokenizer(mode=tok.mode, vocab=tok.vocab, merges=tok.merges, pattern=tok.pattern)
    # Distinct words of letters only (one pre-token each), 30 per text: each text fits the cache alone.
    texts = [" ".join(letters(t * 10**4 + i * 100 + j) for j in range(30)) for t in range(8) for i in range(30)]
    expected = [reference.encode(text) for text in texts]
    monkeypatch.setattr(tokenizer_module, "_CACHE_BYTES", 20_000, raising=False)  # a few dozen words
    monkeypatch.setattr(tokenizer_module, "_CACHE_LIMIT", 50, raising=False)  # the old, per-entry bound
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    failures, results = [], {}
    start = threading.Barrier(8)

    def work(thread: int) -> None:
        start.wait()
        for index in range(thread, len(texts), 8):
            try:
                results[index] = tok.encode(texts[index])
            except Exception as exc:  # noqa: BLE001 - every failure is reported below
                failures.append(repr(exc))

    try:
        threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        sys.setswitchinterval(previous)
    assert not failures, failures[:3]
    assert [results[i] for i in range(len(texts))] == expected


# --- a custom pattern's time budget and cancellation ------------------------------------

SLOW = r"(a|aa)+b|\S+|\s+"  # backtracks on every run of a's not followed by b
SLOW_LINE = "a" * 27 + "\n"  # about 0.1 s each on a laptop


def test_a_slow_pattern_gets_one_budget_for_the_whole_call(monkeypatch):
    monkeypatch.setattr(pretokenize, "CUSTOM_PATTERN_TIMEOUT", 0.5)
    corpus = SLOW_LINE * 40  # each line is well within 0.5 s; all of them are not
    with pytest.raises(PatternError, match=r"took more than 0\.5 s \(its time budget for this call"):
        bpe_core.train(corpus, vocab_size=260, pattern=SLOW, workers=1)
    tok = bpe_core.train("ab", vocab_size=257, pattern=SLOW, workers=1)
    with pytest.raises(PatternError, match=r"took more than 0\.5 s"):
        tok.encode(corpus)
    with pytest.raises(PatternError, match=r"took more than 0\.5 s"):
        tok.encode_batch(corpus.splitlines())


def test_worker_processes_spend_from_the_same_budget(monkeypatch, tmp_path):
    from bpe_core import counting

    monkeypatch.setattr(pretokenize, "CUSTOM_PATTERN_TIMEOUT", 0.5)  # workers are forked, so they see it too
    monkeypatch.setattr(counting, "PARALLEL_THRESHOLD_BYTES", 0)
    corpus = tmp_path / "slow.txt"
    corpus.write_text(SLOW_LINE * 40, encoding="utf-8")
    # Shards of a few lines, each well within a budget of its own size: only their sum is over.
    shard = 3 * len(SLOW_LINE)
    with pytest.raises(PatternError, match=r"took more than 0\.5 s \(its time budget for this call"):
        bpe_core.train([], files=[corpus], vocab_size=260, pattern=SLOW, workers=2, shard_bytes=shard)


def test_cancellation_reaches_the_pattern_between_lines(monkeypatch):
    # Lines first that are merely slow, then one that exceeds the per-piece timeout: the old
    # code ran the whole block before asking should_stop, so it reported the pattern instead.
    monkeypatch.setattr(pretokenize, "CUSTOM_PATTERN_TIMEOUT", 0.5)
    corpus = SLOW_LINE * 3 + "a" * 40 + "\n"
    asked = []

    def should_stop() -> bool:
        asked.append(True)
        return True

    with pytest.raises(TrainingCancelled):
        bpe_core.train(corpus, vocab_size=260, pattern=SLOW, workers=1, should_stop=should_stop)
    assert asked


def test_presets_still_split_without_a_budget():
    pre = pretokenize.PreTokenizer.create("gpt2")
    assert pre.budget(10**9) is None and pre.split("Hello, world!") == ["Hello", ",", " world", "!"]


# --- merge trees ---------------------------------------------------------------------


def test_a_merge_tree_thousands_deep_is_built_and_drawn_without_recursion():
    tok = chain_tokenizer(1500)
    token_id = tok.vocab["a" * 1501]
    tree = inspection.merge_tree(tok, token_id)
    drawing = inspection.render_tree(tree)
    assert len(drawing.splitlines()) == 2 * 1500 + 1
    assert inspection.merge_depth(tok, token_id) == 1500
    assert inspection.merges_building(tok, token_id) == list(range(1500))
    top = inspection.merge_tree(tok, token_id, max_depth=10, max_nodes=1000)
    capped = inspection.render_tree(top)
    lines = capped.splitlines()
    assert len(lines) == 21 and [i for i, line in enumerate(lines) if "parts not drawn" in line] == [10]
    assert len(inspection.render_tree(tree, max_lines=50).splitlines()) == 51
