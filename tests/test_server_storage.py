"""TokenizerStore: safe names, atomic writes shared by several processes, corrupt files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpe_core import train
from server.storage import StoreError, TokenizerExists, TokenizerStore, UnknownTokenizer, validate_name


@pytest.fixture
def store(tmp_path) -> TokenizerStore:
    return TokenizerStore(tmp_path / "data")


@pytest.fixture(scope="module")
def tokenizer():
    return train("hello world, hello tokens " * 10, vocab_size=270)


@pytest.mark.parametrize(
    "name",
    ["", ".", "..", "../x", "a/b", "a\\b", "/abs", ".hidden", "-dash", "_under", "a..b", "ends.", "con", "NUL.txt",
     "x" * 65, "tab\there", "nul\x00byte", "space name", "C:evil"],
)
def test_unsafe_names_are_refused(name):
    with pytest.raises(StoreError, match="invalid tokenizer name"):
        validate_name(name)


@pytest.mark.parametrize("name", ["gpt2", "news-bpe_8k", "v1.2", "中文分词", "Ünïcode"])
def test_ordinary_names_are_accepted(name):
    assert validate_name(name) == name


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1, max_size=70))
def test_an_accepted_name_always_stays_inside_the_directory(tmp_path_factory, name):
    store = TokenizerStore(Path("/data"))
    try:
        path = store.path_for(name)
    except StoreError:
        return
    assert path.parent == store.directory and path.name == name + ".json"
    assert "/" not in name and "\\" not in name and ".." not in name and "\x00" not in name


def test_save_load_list_delete(store, tokenizer):
    path, replaced = store.save("demo", tokenizer)
    assert path == store.directory / "demo.json" and not replaced
    assert store.load("demo").tokenizer.vocab == tokenizer.vocab
    (good,), broken = store.list()
    assert good.name == "demo" and broken == []
    store.delete("demo")
    assert store.names() == []
    with pytest.raises(UnknownTokenizer, match="none is stored yet"):
        store.load("demo")


def test_existing_names_need_overwrite_and_the_cache_follows_the_file(store, tokenizer):
    store.save("demo", tokenizer)
    with pytest.raises(TokenizerExists, match="overwrite=true"):
        store.save("demo", tokenizer)
    smaller = train("hello world, hello tokens " * 10, vocab_size=265)
    _, replaced = store.save("demo", smaller, overwrite=True)
    assert replaced and store.load("demo").tokenizer.vocab_size == 265


def test_names_differing_only_in_case_are_refused(store, tokenizer):
    store.save("Demo", tokenizer)
    with pytest.raises(TokenizerExists, match="differ only in case"):
        store.save("demo", tokenizer)


def test_corrupt_and_foreign_files_are_reported_by_name_and_skipped(store, tokenizer):
    store.save("good", tokenizer)
    (store.directory / "truncated.json").write_text(store.path_for("good").read_text()[:100], encoding="utf-8")
    (store.directory / "binary.json").write_bytes(b"\xff\xfe\x00garbage")
    (store.directory / "foreign.json").write_text(json.dumps({"model": {}}), encoding="utf-8")
    (store.directory / ".good.json.abc.tmp").write_text("half a write", encoding="utf-8")
    (store.directory / "not a name.json").write_text("{}", encoding="utf-8")
    (store.directory / "notes.txt").write_text("hello", encoding="utf-8")
    good, broken = store.list()
    assert [t.name for t in good] == ["good"]
    assert {b.file: b.error for b in broken}.keys() == {"truncated.json", "binary.json", "foreign.json"}
    assert all(b.error.startswith(f"tokenizer {b.file[:-5]!r} cannot be loaded") for b in broken)


def test_stale_temporary_files_are_removed_and_recent_ones_kept(store, tokenizer, caplog):
    store.save("good", tokenizer)
    directory = store.directory
    stale = [directory / ".good.json.k1ll3d.tmp", directory / ".other.x7.tmp"]  # bpe_core's and the store's
    recent = directory / ".good.json.writing.tmp"  # maybe another server's save in progress
    link = directory / ".link.json.abc.tmp"
    for path in (*stale, recent):
        path.write_text("half a write", encoding="utf-8")
    link.symlink_to(store.path_for("good"))
    old = time.time() - 120
    for path in (*stale, link):
        os.utime(path, (old, old), follow_symlinks=False)
    other = directory / "notes.tmp"  # not hidden: not ours
    other.write_text("x", encoding="utf-8")
    os.utime(other, (old, old))

    assert store.remove_stale_temporaries() == sorted(p.name for p in stale)
    assert not any(p.exists() for p in stale)
    assert recent.exists() and link.is_symlink() and other.exists() and store.path_for("good").exists()
    assert "removed 2 stale temporary file(s)" in caplog.text
    assert store.remove_stale_temporaries() == []
    assert TokenizerStore(directory.parent / "missing").remove_stale_temporaries() == []


def test_unknown_names_suggest_and_list_the_known_ones(store, tokenizer):
    store.save("english-8k", tokenizer)
    store.save("chinese-8k", tokenizer)
    with pytest.raises(UnknownTokenizer) as caught:
        store.load("english-9k")
    assert "Did you mean 'english-8k'?" in str(caught.value)
    assert "'chinese-8k', 'english-8k'" in str(caught.value)


def test_unwritable_data_directory_is_a_clear_error(tmp_path, tokenizer):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreError, match="--data-dir"):
        TokenizerStore(blocker).save("x", tokenizer)


# --- several processes sharing one directory --------------------------------------------

_WORKER = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    from bpe_core import train
    from server.storage import TokenizerStore, TokenizerExists, StoreError
    data, go, role, name = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4]
    store = TokenizerStore(data)
    tokenizers = [train("hello world, hello tokens " * 10, vocab_size=v) for v in (262, 266, 270)]
    (go.parent / f"ready-{role}-{os.getpid()}").touch()  # set up: the test gives the start signal
    while not go.exists():
        time.sleep(0.005)
    if role == "create":
        try:
            store.save(name, tokenizers[0])
            print("saved")
        except TokenizerExists:
            print("exists")
    elif role == "overwrite":
        for i in range(60):
            store.save(name, tokenizers[i % 3], overwrite=True)
        print("done")
    else:
        sizes = set()
        for i in range(200):
            try:
                sizes.add(store.load(name).tokenizer.vocab_size)
            except StoreError as exc:
                if "no tokenizer named" not in str(exc):
                    print("BROKEN", exc)
                    raise
        print("read", sorted(sizes))
    """
)


def _start(tmp_path: Path, role: str, name: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", _WORKER, str(tmp_path / "data"), str(tmp_path / "go"), role, name],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _start_together(tmp_path: Path, processes) -> None:
    """Wait until every worker is ready (a ready file each), then let them all go at once."""
    deadline = time.monotonic() + 120  # generous: only a broken worker makes the test wait this long
    while len(list(tmp_path.glob("ready-*"))) < len(processes):
        for process in processes:
            if process.poll() is not None:
                raise AssertionError(f"a worker exited before it was ready: {process.communicate()[1]}")
        assert time.monotonic() < deadline, "the workers did not get ready"
        time.sleep(0.01)
    (tmp_path / "go").touch()


def _finish(processes) -> list[str]:
    outputs = []
    for process in processes:
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        outputs.append(out.strip())
    return outputs


def test_two_processes_creating_one_name_never_both_succeed(tmp_path):
    processes = [_start(tmp_path, "create", "same") for _ in range(4)]
    _start_together(tmp_path, processes)
    outputs = _finish(processes)
    assert sorted(outputs) == ["exists", "exists", "exists", "saved"]
    assert TokenizerStore(tmp_path / "data").load("same").tokenizer.vocab_size == 262


def test_readers_never_see_half_a_file_while_another_process_overwrites(tmp_path):
    processes = [_start(tmp_path, "overwrite", "busy"), _start(tmp_path, "read", "busy"),
                 _start(tmp_path, "read", "busy")]
    _start_together(tmp_path, processes)
    writer, *readers = _finish(processes)
    assert writer == "done"
    for output in readers:
        assert output.startswith("read") and "BROKEN" not in output
    leftovers = [p.name for p in (tmp_path / "data" / "tokenizers").iterdir()]
    assert leftovers == ["busy.json"]
