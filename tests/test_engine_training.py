"""train(): arguments, the training report, progress, cancellation, worker processes."""

from __future__ import annotations

import multiprocessing.pool

import pytest

import bpe_core
from bpe_core import BPEError, TrainingCancelled
import bpe_core.counting
from conftest import first_difference, hf_train_text
from corpus_text import corpus_slice, shared_corpus_slice

TEXT = "low " * 5 + "lower " * 2 + "newest " * 6 + "widest " * 3


# --- arguments --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({}, "vocab_size"),
        ({"vocab_size": -1}, "vocab_size must be a non-negative integer"),
        ({"num_merges": 2.5}, "num_merges must be a non-negative integer"),
        ({"num_merges": True}, "num_merges must be a non-negative integer"),
        ({"vocab_size": 300, "min_frequency": -2}, "min_frequency"),
        ({"vocab_size": 300, "mode": "wordpiece"}, "mode must be one of"),
        ({"vocab_size": 257, "special_tokens": ["<pad>", "<eos>"]}, "use at least 258"),
        ({"vocab_size": 300, "special_tokens": [""]}, "special tokens must be non-empty strings"),
    ],
)
def test_bad_arguments_are_explained(kwargs, fragment):
    with pytest.raises(BPEError, match=fragment):
        bpe_core.train(TEXT, **kwargs)


def test_corpus_problems_are_explained(tmp_path):
    with pytest.raises(BPEError, match="does not exist"):
        bpe_core.train(files=[tmp_path / "missing.txt"], vocab_size=300)
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("ok line\ncaf\xe9\n".encode("latin-1"))
    with pytest.raises(BPEError, match=r"latin1\.txt.*not UTF-8.*0xe9 at byte offset 11"):
        bpe_core.train(files=[bad], vocab_size=300)
    with pytest.raises(BPEError, match="must be strings"):
        bpe_core.train([b"bytes"], vocab_size=300)


def test_vocab_size_and_num_merges_together_take_the_smaller():
    tok = bpe_core.train(TEXT, mode="classic", vocab_size=100, num_merges=3)
    assert len(tok.merges) == 3 and tok.training.stop_reason == "num_merges"
    tok = bpe_core.train(TEXT * 3, vocab_size=260, num_merges=100)
    assert tok.vocab_size == 260 and tok.training.stop_reason == "vocab_size"


def test_duplicate_special_tokens_are_kept_once():
    tok = bpe_core.train(TEXT, vocab_size=270, special_tokens=["<pad>", "<pad>", "<eos>"])
    assert tok.special_tokens == {"<pad>": 0, "<eos>": 1}


def test_training_report():
    text = TEXT + "中文 😀\n"
    tok = bpe_core.train(text, mode="classic", num_merges=10)
    report = tok.training
    assert report.mode == "classic"
    assert report.requested_merges == 10 and report.requested_vocab_size is None
    assert report.merges_learned == len(tok.merges) == 10
    assert report.corpus_bytes == len(text.encode("utf-8"))
    assert report.words == len(text.split())
    assert report.distinct_words == len(set(text.split()))
    assert set(report.seconds) >= {"counting", "merging", "total"}
    assert all(v >= 0 for v in report.seconds.values())


def test_texts_may_be_a_string_or_several():
    one = bpe_core.train("ab ab\ncd cd\n", vocab_size=262)
    several = bpe_core.train(["ab ab\n", "cd cd\n"], vocab_size=262)
    assert one.merges == several.merges


# --- progress and cancellation ----------------------------------------------------------


def test_progress_reports_both_phases():
    calls = []
    text = corpus_slice("en", 200_000)
    tok = bpe_core.train(text, vocab_size=1000, on_progress=lambda *call: calls.append(call), workers=1)
    phases = [phase for phase, _, _ in calls]
    assert "counting" in phases and "merging" in phases
    assert phases.index("merging") > max(i for i, p in enumerate(phases) if p == "counting")
    for phase, done, total in calls:
        assert 0 <= done <= total
    assert ("counting", len(text.encode("utf-8")), len(text.encode("utf-8"))) in calls
    assert calls[-1] == ("merging", len(tok.merges), len(tok.merges))


def test_should_stop_cancels_while_counting():
    asked = []

    def stop():
        asked.append(True)
        return True

    with pytest.raises(TrainingCancelled) as raised:
        bpe_core.train(TEXT, vocab_size=300, should_stop=stop)
    assert asked
    assert not isinstance(raised.value, BPEError)  # nothing was wrong with the input


def test_should_stop_cancels_while_merging():
    # Stop once the merging phase has reported progress: counting has finished by then.
    phase = []
    text = corpus_slice("zh", 600_000)
    with pytest.raises(TrainingCancelled, match="merging"):
        bpe_core.train(
            text,
            vocab_size=50_000,
            workers=1,
            on_progress=lambda name, done, total: phase.append(name),
            should_stop=lambda: bool(phase) and phase[-1] == "merging",
        )
    assert "merging" in phase


def test_should_stop_returning_false_changes_nothing():
    text = corpus_slice("code", 100_000)
    plain = bpe_core.train(text, vocab_size=600, workers=1)
    watched = bpe_core.train(text, vocab_size=600, workers=1, should_stop=lambda: False, on_progress=lambda *a: None)
    assert watched.merges == plain.merges


# --- worker processes --------------------------------------------------------------------


def _count_pool_sizes(monkeypatch) -> list[int]:
    """The size of every worker pool that counts words from now on."""
    imap_calls = []
    real_imap = multiprocessing.pool.Pool.imap

    def counting_imap(self, *args, **kwargs):
        imap_calls.append(self._processes)
        return real_imap(self, *args, **kwargs)

    monkeypatch.setattr(multiprocessing.pool.Pool, "imap", counting_imap)
    return imap_calls


def _small_parallel_threshold(monkeypatch) -> None:
    # Workers start above 4 MiB; lower the bar (and the block size) so that the
    # test corpora of a fresh clone go through the pool, in several blocks.
    monkeypatch.setattr(bpe_core.counting, "PARALLEL_THRESHOLD_BYTES", 64_000)
    monkeypatch.setattr(bpe_core.counting, "BLOCK_BYTES", 40_000)


def test_two_workers_learn_what_one_learns_on_the_test_corpora(monkeypatch):
    _small_parallel_threshold(monkeypatch)
    pools = _count_pool_sizes(monkeypatch)
    text = corpus_slice("en", 150_000) + corpus_slice("zh", 100_000) + corpus_slice("code", 150_000)
    parallel = bpe_core.train(text, vocab_size=1500, special_tokens=["<pad>"], workers=2)
    # Inline text is counted in this process (only files are cut into shards for workers); the
    # files test below covers the pool. Either way the merges must not depend on the setting.
    serial = bpe_core.train(text, vocab_size=1500, special_tokens=["<pad>"], workers=1)
    assert pools == [], "inline text must not start a pool"
    assert parallel.merges == serial.merges, first_difference(parallel.merges, serial.merges)
    assert parallel.vocab == serial.vocab
    assert parallel.training.words == serial.training.words
    hf_merges, _ = hf_train_text(text, 1500, 0, ["<pad>"])
    assert serial.merges == hf_merges, first_difference(serial.merges, hf_merges)


def test_two_workers_on_files_of_the_test_corpora(tmp_path, monkeypatch):
    _small_parallel_threshold(monkeypatch)
    pools = _count_pool_sizes(monkeypatch)
    paths = []
    for name in ("code", "zh", "en"):
        paths.append(tmp_path / f"{name}.txt")
        paths[-1].write_text(corpus_slice(name, 120_000), encoding="utf-8")
    parallel = bpe_core.train(files=paths, vocab_size=800, workers=2)
    assert pools == [2]
    serial = bpe_core.train("".join(p.read_text(encoding="utf-8") for p in paths), vocab_size=800, workers=1)
    assert parallel.merges == serial.merges, first_difference(parallel.merges, serial.merges)


@pytest.mark.shared_corpora("en")
def test_two_workers_learn_what_one_learns(monkeypatch, tmp_path):
    text = shared_corpus_slice("en", 4_700_000)
    assert len(text.encode("utf-8")) > 4 << 20, "the input must be above the parallel threshold"
    imap_calls = _count_pool_sizes(monkeypatch)
    path = tmp_path / "en.txt"  # files are cut into shards for workers; inline text is counted here
    path.write_text(text, encoding="utf-8")
    parallel = bpe_core.train(files=[path], vocab_size=1500, special_tokens=["<pad>"], workers=2)
    assert imap_calls == [2], "workers=2 on a large input must count in a pool of 2 processes"
    serial = bpe_core.train(text, vocab_size=1500, special_tokens=["<pad>"], workers=1)
    assert imap_calls == [2], "workers=1 must not start a pool"
    assert parallel.merges == serial.merges, first_difference(parallel.merges, serial.merges)
    assert parallel.vocab == serial.vocab
    assert parallel.training.corpus_bytes == serial.training.corpus_bytes
    assert parallel.training.words == serial.training.words
    # And both are what tokenizers learns from the same 4.7 MB.
    hf_merges, _ = hf_train_text(text, 1500, 0, ["<pad>"])
    assert serial.merges == hf_merges, first_difference(serial.merges, hf_merges)


@pytest.mark.shared_corpora("code")
def test_two_workers_on_files(tmp_path):
    text = shared_corpus_slice("code", 4_500_000)
    path = tmp_path / "code.txt"
    path.write_text(text, encoding="utf-8")
    parallel = bpe_core.train(files=[path], vocab_size=800, workers=2)
    serial = bpe_core.train(text, vocab_size=800, workers=1)
    assert parallel.merges == serial.merges, first_difference(parallel.merges, serial.merges)


# --- argument shapes train() accepts or refuses -------------------------------------------


def test_special_tokens_given_as_one_string_are_refused():
    with pytest.raises(BPEError, match="special_tokens"):
        bpe_core.train("a padded sentence <pad>", vocab_size=300, special_tokens="<pad>")


def test_files_may_be_a_single_path(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text(TEXT, encoding="utf-8")
    assert bpe_core.train(files=str(path), vocab_size=270).merges == bpe_core.train(files=[path], vocab_size=270).merges
