"""Counts you can keep: count once, merge counts, train from them with the corpus's exact merges."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from bpe_core import BPEError, train
from bpe_core.counts import count_words, load_counts, merge_counts, save_counts
from scale_corpora import make_records, optional, write_jsonl, write_text

MODES = ["byte_level", "classic"]
MERGES = 400
RECORDS = make_records(3000)
SPECIALS = ["<|endoftext|>"]


def corpus_with_specials() -> str:
    return "<|endoftext|>".join("".join(RECORDS[i:i + 100]) for i in range(0, len(RECORDS), 100))


@pytest.mark.parametrize("mode", MODES)
def test_training_from_saved_counts_learns_the_corpus_merges(tmp_path, mode):
    text = corpus_with_specials()
    direct = train(text, mode=mode, num_merges=MERGES, special_tokens=SPECIALS)
    table = count_words(text, mode=mode, special_tokens=SPECIALS)
    path = save_counts(table, tmp_path / "counts.tsv")
    for source in (table, path, load_counts(path)):
        tokenizer = train(word_counts=source, num_merges=MERGES)  # mode and specials come from the counts
        assert tokenizer.merges == direct.merges
        assert tokenizer.vocab == direct.vocab
        assert (tokenizer.mode, tokenizer.special_tokens, tokenizer.unk_token) == \
               (direct.mode, direct.special_tokens, direct.unk_token)
        assert tokenizer.training.words == direct.training.words
        assert tokenizer.training.corpus_bytes == direct.training.corpus_bytes


@pytest.mark.parametrize("mode", MODES)
def test_counts_of_two_halves_merged_equal_the_counts_of_the_whole(tmp_path, mode):
    half = len(RECORDS) // 2
    first = save_counts(count_words("".join(RECORDS[:half]), mode=mode), tmp_path / "a.tsv")
    second = save_counts(count_words("".join(RECORDS[half:]), mode=mode), tmp_path / "b.tsv")
    whole = count_words("".join(RECORDS), mode=mode)
    merged = merge_counts([first, second])
    assert list(merged.counts.items()) == list(whole.counts.items())  # counts and first-occurrence order
    assert merged.corpus_bytes == whole.corpus_bytes
    assert train(word_counts=merged, num_merges=MERGES).merges == train("".join(RECORDS), mode=mode,
                                                                         num_merges=MERGES).merges
    # The other order is another corpus: same counts, another first-occurrence order.
    assert list(merge_counts([second, first]).counts) != list(whole.counts)


def test_counts_file_survives_any_word_and_is_easy_to_write_elsewhere(tmp_path):
    text = "tab\there new\nline café 中文 \"quoted\" back\\slash\n"
    table = count_words(text, mode="byte_level")
    path = save_counts(table, tmp_path / "c.tsv")
    lines = path.read_text(encoding="utf-8").splitlines()
    header = json.loads(lines[0][1:])
    assert lines[0].startswith("#")
    assert {k: header[k] for k in ("format", "version", "mode", "pattern", "special_tokens", "unk_token")} == \
        {"format": "bpe_core-counts", "version": 1, "mode": "byte_level", "pattern": "gpt2",
         "special_tokens": [], "unk_token": None}
    assert header["regex"] == train("x", num_merges=0).pre_tokenizer.pattern
    assert all(line.count("\t") == 1 for line in lines[1:])
    assert load_counts(path).counts == table.counts
    # What another tool might write: a minimal header, words repeated (partial counts), any order of keys.
    external = tmp_path / "spark.tsv"
    external.write_text('#{"mode": "classic", "version": 1}\n3\t"low"\n2\t"lower"\n4\t"low"\n', encoding="utf-8")
    loaded = load_counts(external)
    assert list(loaded.counts.items()) == [("low", 7), ("lower", 2)]
    assert train(word_counts=external, num_merges=3).merges == train("low " * 7 + "lower " * 2, mode="classic",
                                                                      num_merges=3).merges


def test_bad_counts_files_and_mismatched_settings_are_clear_errors(tmp_path):
    plain = tmp_path / "plain.txt"
    plain.write_text("5\tword\n", encoding="utf-8")
    with pytest.raises(BPEError, match=r"is not a bpe_core counts file: the first line must be # and a JSON object"):
        load_counts(plain)
    broken = tmp_path / "broken.tsv"
    broken.write_text('#{"mode": "classic"}\n5\t"ok"\nfive\t"bad"\n', encoding="utf-8")
    with pytest.raises(BPEError, match=r"broken\.tsv', line 3: expected a count, a tab and a JSON string"):
        load_counts(broken)
    future = tmp_path / "future.tsv"
    future.write_text('#{"mode": "classic", "version": 9}\n', encoding="utf-8")
    with pytest.raises(BPEError, match=r"format version 9; this bpe_core reads version 1"):
        load_counts(future)
    classic = save_counts(count_words("low lower", mode="classic"), tmp_path / "classic.tsv")
    byte_level = save_counts(count_words("low lower", special_tokens=["<s>"]), tmp_path / "bl.tsv")
    with pytest.raises(BPEError, match=r"cannot merge counts made with different settings: .*classic\.tsv and "
                                       r".*bl\.tsv differ in mode 'classic' vs 'byte_level'"):
        merge_counts([classic, byte_level])
    with pytest.raises(BPEError, match=r"other settings .*special_tokens \['<s>'\] vs \['<t>'\]"):
        train(word_counts=byte_level, num_merges=5, special_tokens=["<t>"])
    with pytest.raises(BPEError, match=r"give a corpus \(texts or files\) or word_counts, not both"):
        train("text", word_counts=classic, num_merges=5)


def run_cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "bpe_core", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("mode", MODES)
def test_cli_count_merge_and_train_from_counts(tmp_path, mode):
    half = len(RECORDS) // 2
    write_text(tmp_path / "a.txt", RECORDS[:half])
    write_jsonl(tmp_path / "b.jsonl", RECORDS[half:], field="meta.body")
    write_text(tmp_path / "all.txt", RECORDS)
    steps = [
        ("count", "a.txt", "--mode", mode, "-q", "-o", "a.tsv"),
        ("count", "b.jsonl", "--text-field", "meta.body", "--mode", mode, "-q", "-o", "b.tsv"),
        ("count", "--merge", "a.tsv", "b.tsv", "-o", "ab.tsv"),
        ("train", "--from-counts", "ab.tsv", "--num-merges", MERGES, "-q", "-o", "from_counts.json"),
        ("train", "all.txt", "--mode", mode, "--num-merges", MERGES, "-q", "-o", "direct.json"),
    ]
    for step in steps:
        result = run_cli(*step, cwd=tmp_path)
        assert result.returncode == 0, (step, result.stderr)
    assert "merged" in result.stdout or "trained" in result.stdout
    from_counts = json.loads((tmp_path / "from_counts.json").read_text(encoding="utf-8"))
    direct = json.loads((tmp_path / "direct.json").read_text(encoding="utf-8"))
    assert from_counts["merges"] == direct["merges"] and from_counts["mode"] == mode
    mixed = run_cli("count", "--merge", "a.tsv", "b.tsv", "-o", "x.tsv", cwd=tmp_path)
    assert mixed.returncode == 0
    other = "classic" if mode == "byte_level" else "byte_level"
    assert run_cli("count", "a.txt", "--mode", other, "-q", "-o", "o.tsv", cwd=tmp_path).returncode == 0
    refused = run_cli("count", "--merge", "a.tsv", "o.tsv", "-o", "y.tsv", cwd=tmp_path)
    assert refused.returncode == 2 and refused.stderr.startswith("error: cannot merge counts made with different")
    assert not (tmp_path / "y.tsv").exists()


def test_cli_reports_skipped_records(tmp_path):
    (tmp_path / "bad.jsonl").write_bytes(b'{"text": "low low"}\n{oops\n{"text": "lower"}\n')
    failed = run_cli("count", "bad.jsonl", "-q", "-o", "c.tsv", cwd=tmp_path)
    assert failed.returncode == 2
    assert "bad.jsonl': not valid JSON" in failed.stderr and "at line 2" in failed.stderr
    assert "--on-error skip" in failed.stderr and not (tmp_path / "c.tsv").exists()
    skipped = run_cli("count", "bad.jsonl", "-q", "--on-error", "skip", "-o", "c.tsv", cwd=tmp_path)
    assert skipped.returncode == 0, skipped.stderr
    assert "skipped 1 bad record(s)" in skipped.stderr and "bad.jsonl: line 2: not valid JSON" in skipped.stderr
    assert load_counts(tmp_path / "c.tsv").counts == {"low": 1, " low": 1, "lower": 1}


def test_the_readme_examples_for_counts_and_dask_run_in_order(tmp_path):
    """The README's block, line by line, on two parts of a corpus: counts and Dask give the same tokenizer."""
    optional("zstandard"), optional("distributed")
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("\n## Real corpora, saved counts, and Dask"):]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    commands = [line.split("  #")[0] for line in block.splitlines() if line.startswith("python -m bpe_core")]
    assert len(commands) == 5
    half = len(RECORDS) // 2
    write_jsonl(tmp_path / "part-0.jsonl.zst", RECORDS[:half], compression="zst")
    write_jsonl(tmp_path / "part-1.jsonl.gz", RECORDS[half:], compression="gz")
    for command in commands:
        result = run_cli(*shlex.split(command)[3:], cwd=tmp_path)
        assert result.returncode == 0, (command, result.stderr)
    from_counts = json.loads((tmp_path / "from-counts.json").read_text(encoding="utf-8"))
    on_dask = json.loads((tmp_path / "on-dask.json").read_text(encoding="utf-8"))
    assert from_counts["merges"] == on_dask["merges"] and from_counts["vocab"] == on_dask["vocab"]
    assert [tuple(m) for m in on_dask["merges"]] == train("".join(RECORDS), vocab_size=32000).merges
