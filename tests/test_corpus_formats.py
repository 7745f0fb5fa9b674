"""Corpus formats: JSON Lines, Parquet and compressed files train exactly like the same text as .txt.

Every format is written from one generated corpus (``scale_corpora``); the
merges learned from it must equal those learned from the plain text, in
both modes, whatever the mix of formats, the number of worker processes and
the shard size.  Bad records are counted and reported with file and line.
"""

from __future__ import annotations

import gzip
import subprocess
import sys
import tracemalloc

import pytest

from bpe_core import BPEError, train
from bpe_core import corpus_formats, counting
from bpe_core.corpus_formats import detect
from bpe_core.pretokenize import PreTokenizer
from scale_corpora import make_records, optional, write_jsonl, write_parquet, write_text

MODES = ["byte_level", "classic"]
MERGES = 400
RECORDS = make_records(3000)


@pytest.fixture(scope="module")
def baseline():
    """The merges of the plain text, per mode (one worker: the reference)."""
    return {mode: train("".join(RECORDS), mode=mode, num_merges=MERGES, workers=1).merges for mode in MODES}


def test_the_corpus_is_order_sensitive_in_classic_mode():
    # Otherwise the equalities below could not catch words counted out of order.
    forward = train("".join(RECORDS), mode="classic", num_merges=MERGES).merges
    assert train("".join(reversed(RECORDS)), mode="classic", num_merges=MERGES).merges != forward


FORMATS = {
    "plain.txt": lambda p: write_text(p, RECORDS),
    "docs.jsonl": lambda p: write_jsonl(p, RECORDS),
    "docs.json": lambda p: write_jsonl(p, RECORDS),
    "text.txt.gz": lambda p: write_text(p, RECORDS, "gz"),
    "text.txt.bz2": lambda p: write_text(p, RECORDS, "bz2"),
    "text.txt.xz": lambda p: write_text(p, RECORDS, "xz"),
    "text.txt.zst": lambda p: write_text(p, RECORDS, "zst"),
    "docs.jsonl.gz": lambda p: write_jsonl(p, RECORDS, compression="gz"),
    "docs.jsonl.zst": lambda p: write_jsonl(p, RECORDS, compression="zst"),
    "docs.jsonl.xz": lambda p: write_jsonl(p, RECORDS, compression="xz"),
    "docs.parquet": lambda p: write_parquet(p, RECORDS, row_group_size=700),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", FORMATS)
def test_every_format_learns_the_merges_of_the_plain_text(tmp_path, baseline, mode, name):
    path = FORMATS[name](tmp_path / name)
    tokenizer = train(files=[path], mode=mode, num_merges=MERGES, workers=1)
    assert tokenizer.merges == baseline[mode]
    assert tokenizer.training.words == train("".join(RECORDS), mode=mode, num_merges=0).training.words


def test_nested_field_and_other_column(tmp_path, baseline):
    jsonl = write_jsonl(tmp_path / "nested.jsonl", RECORDS, field="meta.body")
    parquet = write_parquet(tmp_path / "body.parquet", RECORDS, column="body")
    assert train(files=[jsonl], text_field="meta.body", mode="classic", num_merges=MERGES).merges == baseline["classic"]
    assert train(files=[parquet], text_field="body", mode="classic", num_merges=MERGES).merges == baseline["classic"]
    with pytest.raises(BPEError, match=r"has no column 'text'.*columns: id, body.*text_field"):
        train(files=[parquet], num_merges=5)


@pytest.mark.parametrize("mode", MODES)
def test_mixed_formats_in_one_call_keep_corpus_order(tmp_path, mode):
    # Four slices of the corpus, each in another format; in classic mode the order of files matters.
    quarter = len(RECORDS) // 4
    parts = [RECORDS[i * quarter:(i + 1) * quarter] for i in range(3)] + [RECORDS[3 * quarter:]]
    files = [
        write_jsonl(tmp_path / "a.jsonl.gz", parts[0], compression="gz"),
        write_text(tmp_path / "b.txt", parts[1]),
        write_parquet(tmp_path / "c.parquet", parts[2], row_group_size=100),
        write_text(tmp_path / "d.txt.zst", parts[3], "zst"),
    ]
    expected = train("".join(RECORDS), mode=mode, num_merges=MERGES).merges
    for workers, shard_bytes in [(1, None), (1, 777), (2, 4096)]:
        assert train(files=files, mode=mode, num_merges=MERGES, workers=workers,
                     shard_bytes=shard_bytes).merges == expected, (workers, shard_bytes)


@pytest.mark.parametrize("mode", MODES)
def test_worker_processes_and_shard_sizes_do_not_change_the_merges(tmp_path, monkeypatch, mode):
    monkeypatch.setattr(counting, "PARALLEL_THRESHOLD_BYTES", 0)  # worker processes even for a small corpus
    files = [write_text(tmp_path / "a.txt", RECORDS[:1500]), write_jsonl(tmp_path / "b.jsonl", RECORDS[1500:])]
    expected = train("".join(RECORDS), mode=mode, num_merges=MERGES, workers=1).merges
    for workers, shard_bytes in [(2, 500), (3, 4096), (2, 1 << 20)]:
        assert train(files=files, mode=mode, num_merges=MERGES, workers=workers,
                     shard_bytes=shard_bytes).merges == expected, (workers, shard_bytes)


def test_format_is_detected_from_content_and_a_wrong_name_is_refused(tmp_path):
    disguised = tmp_path / "corpus.txt"
    disguised.write_bytes(gzip.compress("".join(RECORDS).encode()))
    assert (detect(disguised).format, detect(disguised).compression) == ("text", "gz")
    assert train(files=[disguised], num_merges=50).merges == train("".join(RECORDS), num_merges=50).merges
    lying = tmp_path / "corpus.txt.gz"
    lying.write_text("plain text\n", encoding="utf-8")
    with pytest.raises(BPEError, match=r"named like gzip data but starts with bytes 70 6c 61 69"):
        train(files=[lying], num_merges=5)
    not_parquet = tmp_path / "table.parquet"
    not_parquet.write_text("a b c\n", encoding="utf-8")
    with pytest.raises(BPEError, match=r"is not a Parquet file"):
        train(files=[not_parquet], num_merges=5)
    # A text that merely starts like bzip2's magic is text.
    bz_like = tmp_path / "bz.txt"
    bz_like.write_text("BZh9 is not compressed\n", encoding="utf-8")
    assert detect(bz_like).compression is None


BAD_JSONL = (b'{"text": "low lower\\n"}\n'
             b'not json at all\n'
             b'\n'
             b'{"title": "no text"}\n'
             b'{"text": 42}\n'
             b'{"text": "caf\xe9"}\n'
             b'{"text": "newest\\n"}\n')


@pytest.mark.parametrize("workers", [1, 2])
def test_bad_records_are_counted_and_reported_with_file_and_line(tmp_path, monkeypatch, workers):
    monkeypatch.setattr(counting, "PARALLEL_THRESHOLD_BYTES", 0)
    path = tmp_path / "bad.jsonl"
    path.write_bytes(BAD_JSONL)
    with pytest.raises(BPEError, match=r"bad\.jsonl': not valid JSON .* at line 2; fix the record, or skip"):
        train(files=[path], num_merges=5, workers=workers, shard_bytes=20)
    tokenizer = train(files=[path], num_merges=5, on_error="skip", workers=workers, shard_bytes=20)
    report = tokenizer.training
    assert report.skipped_records == 4
    assert [p.split(": ", 2)[1:] for p in report.problems] == [
        ["line 2", "not valid JSON (Expecting value: line 1 column 1 (char 0))"],
        ["line 4", "the record has no field 'text'"],
        ["line 5", "the field 'text' is int, not a string"],
        ["line 6", "not UTF-8: invalid byte 0xe9"],
    ]
    # The good records, and only they, were counted.
    assert report.words == train("low lower\nnewest\n", num_merges=0).training.words


@pytest.mark.parametrize("shard_bytes", [None, 7])
def test_plain_text_that_is_not_utf8_is_reported_by_line_and_offset(tmp_path, shard_bytes):
    path = tmp_path / "mixed.txt"
    path.write_bytes(b"good line\nanother\nbad \xff here\nlast line\n")
    with pytest.raises(BPEError, match=r"mixed\.txt': not UTF-8: invalid byte 0xff at byte offset 22 \(line 3\); "
                                       r"convert it to UTF-8 first"):
        train(files=[path], num_merges=5, shard_bytes=shard_bytes)
    report = train(files=[path], num_merges=5, on_error="skip", shard_bytes=shard_bytes).training
    assert report.skipped_records == 1
    assert report.problems == [f"{path}: byte offset 22 (line 3): not UTF-8: invalid byte 0xff"]
    assert report.words == train("good line\nanother\nlast line\n", num_merges=0).training.words


def test_options_are_checked(tmp_path):
    path = write_text(tmp_path / "a.txt", RECORDS[:10])
    with pytest.raises(BPEError, match=r"on_error must be 'fail' .* or 'skip' .*; got 'ignore'"):
        train(files=[path], num_merges=5, on_error="ignore")
    with pytest.raises(BPEError, match=r"text_field must name a field.*got 'meta\.'"):
        train(files=[path], num_merges=5, text_field="meta.")


@pytest.mark.parametrize("module, name", [("zstandard", "text.txt.zst"), ("pyarrow.parquet", "docs.parquet")])
def test_a_missing_optional_package_names_the_install(tmp_path, monkeypatch, module, name):
    path = FORMATS[name](tmp_path / name)
    monkeypatch.setitem(sys.modules, module, None)  # import now raises ImportError
    with pytest.raises(BPEError, match=r"needs the optional package '(zstandard|pyarrow)'.*"
                                       r'pip install "mcp-server-bpe\[scale\]"'):
        train(files=[path], num_merges=5)


REPEATS = 25


def test_peak_memory_follows_distinct_words_not_corpus_size(tmp_path, monkeypatch):
    """A compressed corpus several times the memory budget is counted within it.

    Blocks are 16 KiB here (1 MiB by default) so that the budget, and the
    corpus several times larger than it, stay small enough for a test.
    """
    monkeypatch.setattr(corpus_formats, "BLOCK_BYTES", 16 << 10)
    monkeypatch.setattr(counting, "BLOCK_BYTES", 16 << 10)
    records = make_records(4000, seed=1)
    path = tmp_path / "big.txt.gz"
    with gzip.open(path, "wb", compresslevel=1) as handle:
        for _ in range(REPEATS):
            handle.write("".join(records).encode())
    corpus_bytes = REPEATS * len("".join(records).encode())
    budget = 1 << 20
    assert corpus_bytes > 4 * budget
    tracemalloc.start()
    try:
        counted = counting.count_words([], [path], PreTokenizer.create("gpt2"), reading=counting.CorpusReading(workers=1))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert counted.corpus_bytes == corpus_bytes
    assert counted.total_words == REPEATS * train("".join(records), num_merges=0).training.words
    assert peak < budget, f"peak {peak:,} bytes for a {corpus_bytes:,}-byte corpus"


def test_the_core_imports_no_optional_package():
    """A fresh ``pip install .`` has no pyarrow, zstandard or dask: importing bpe_core must not need them."""
    code = ("import sys, bpe_core, bpe_core.cli; "
            "print(sorted(m for m in ('pyarrow', 'zstandard', 'fsspec', 'dask', 'distributed') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("mode", MODES)
def test_fsspec_urls_read_like_paths(tmp_path, baseline, mode):
    optional("fsspec")
    half = len(RECORDS) // 2
    files = [write_jsonl(tmp_path / "a.jsonl.gz", RECORDS[:half], compression="gz"),
             write_parquet(tmp_path / "b.parquet", RECORDS[half:], row_group_size=300)]
    urls = [path.resolve().as_uri() for path in files]
    assert urls[0].startswith("file:///")
    assert train(files=urls, mode=mode, num_merges=MERGES).merges == baseline[mode]
    with pytest.raises(BPEError, match=r"corpus file 'file:///.*missing\.txt' does not exist"):
        train(files=[(tmp_path / "missing.txt").as_uri()], num_merges=5)
    with pytest.raises(BPEError, match=r"cannot read the corpus URL 'nope://x\.txt': Protocol not known"):
        train(files=["nope://x.txt"], num_merges=5)
