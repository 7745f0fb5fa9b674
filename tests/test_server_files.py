"""Allowed roots, corpus expansion and limits; settings from flags and environment."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from server.__main__ import _parser, config_from_args
from server.config import Limits, LimitExceeded, default_data_dir, limits_from, roots_from
from server.files import FileAccess, FileAccessError, paths_from_root_uris


@pytest.fixture
def root(tmp_path) -> Path:
    directory = tmp_path / "root"
    (directory / "docs" / "deep").mkdir(parents=True)
    (directory / "a.txt").write_text("alpha\n", encoding="utf-8")
    (directory / "docs" / "b.md").write_text("beta\n", encoding="utf-8")
    (directory / "docs" / "deep" / "c.txt").write_text("gamma\n", encoding="utf-8")
    (directory / ".git").mkdir()
    (directory / ".git" / "config").write_text("hidden\n", encoding="utf-8")
    (directory / ".hidden.txt").write_text("hidden\n", encoding="utf-8")
    return directory


@pytest.fixture
def access(root) -> FileAccess:
    return FileAccess([root], Limits())


def names(corpus) -> list[str]:
    return sorted(p.name for p in corpus.files)


def test_directories_are_read_recursively_without_hidden_entries(access, root):
    corpus = access.corpus_files([str(root)])
    assert names(corpus) == ["a.txt", "b.md", "c.txt"]
    assert corpus.total_bytes == len("alpha\nbeta\ngamma\n")


def test_globs_relative_paths_and_file_uris(access, root):
    assert names(access.corpus_files(["**/*.txt"])) == ["a.txt", "c.txt"]
    assert names(access.corpus_files(["docs"])) == ["b.md", "c.txt"]
    assert names(access.corpus_files([(root / "a.txt").as_uri()])) == ["a.txt"]
    assert names(access.corpus_files(["a.txt", str(root / "a.txt"), "*.txt"])) == ["a.txt"]  # no duplicates


@pytest.mark.parametrize("path", ["/etc/hostname", "../outside.txt", "docs/../../outside.txt", "file:///etc/hostname"])
def test_paths_outside_the_roots_are_refused(access, root, path):
    (root.parent / "outside.txt").write_text("secret\n", encoding="utf-8")
    with pytest.raises(FileAccessError, match="outside the allowed roots"):
        access.corpus_files([path])
    with pytest.raises(FileAccessError, match="outside the allowed roots"):
        access.readable_file(path)


def test_symlinks_are_judged_by_where_they_lead(access, root, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("secret\n", encoding="utf-8")
    (root / "inside-link.txt").symlink_to(root / "a.txt")
    (root / "outside-link.txt").symlink_to(secret)
    (root / "outside-dir").symlink_to(tmp_path, target_is_directory=True)
    assert access.readable_file("inside-link.txt") == root / "a.txt"
    with pytest.raises(FileAccessError, match="secret.txt"):
        access.readable_file("outside-link.txt")
    with pytest.raises(FileAccessError, match="outside the allowed roots"):
        access.corpus_files(["outside-dir"])
    walked = access.corpus_files([str(root)])
    assert "secret.txt" not in names(walked)
    assert [line for line in walked.skipped if "outside-link.txt" in line]


def test_writable_paths(access, root, tmp_path):
    assert access.writable_path("new.json") == root / "new.json"
    assert access.writable_path("docs") == root / "docs"
    (root / "to-outside.json").symlink_to(tmp_path / "victim.json")
    with pytest.raises(FileAccessError, match="outside the allowed roots"):
        access.writable_path("to-outside.json")
    # A directory that does not exist yet is fine: the export creates it (inside the roots).
    assert access.writable_path("missing-dir/new.json") == root / "missing-dir" / "new.json"


def test_limits_name_the_flag(root):
    few_files = FileAccess([root], Limits(max_files=2))
    with pytest.raises(LimitExceeded, match="--max-files"):
        few_files.corpus_files([str(root)])
    few_bytes = FileAccess([root], Limits(max_corpus_bytes=10))
    with pytest.raises(LimitExceeded, match=r"the corpus is 17 bytes, over .* limit of 10 bytes; .*--max-corpus-bytes"):
        few_bytes.corpus_files([str(root)])


def test_no_roots_means_no_files(tmp_path):
    with pytest.raises(FileAccessError, match="no allowed roots"):
        FileAccess([], Limits()).corpus_files([str(tmp_path)])


def test_root_uris():
    assert paths_from_root_uris(["file:///data/my%20corpus", "s3://bucket/x"]) == [Path("/data/my corpus")]


# --- settings -----------------------------------------------------------------


def test_default_data_dir_follows_the_platform(monkeypatch, tmp_path):
    import platformdirs

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "local"))
    assert default_data_dir() == Path(platformdirs.user_data_dir("mcp-server-bpe", appauthor=False))
    if sys.platform.startswith("linux"):
        assert default_data_dir() == tmp_path / "mcp-server-bpe"  # XDG_DATA_HOME is honoured


def test_flags_win_over_environment_which_wins_over_defaults(monkeypatch, tmp_path):
    env_root, flag_root = tmp_path / "env-root", tmp_path / "flag-root"
    env_root.mkdir(), flag_root.mkdir()
    monkeypatch.setenv("MCP_BPE_DATA_DIR", str(tmp_path / "env-data"))
    monkeypatch.setenv("MCP_BPE_ROOTS", str(env_root))
    monkeypatch.setenv("MCP_BPE_MAX_VOCAB_SIZE", "1234")
    from_env = config_from_args(_parser().parse_args([]))
    assert from_env.data_dir == tmp_path / "env-data"
    assert from_env.roots == (env_root,) and from_env.limits.max_vocab_size == 1234
    from_flags = config_from_args(_parser().parse_args(
        ["--data-dir", str(tmp_path / "flag-data"), "--root", str(flag_root), "--max-vocab-size", "99",
         "--no-client-roots"]))
    assert from_flags.data_dir == tmp_path / "flag-data"
    assert from_flags.roots == (flag_root, env_root)  # --root adds to MCP_BPE_ROOTS
    assert from_flags.limits.max_vocab_size == 99 and from_flags.use_client_roots is False


def test_bad_settings_are_explained(monkeypatch, tmp_path):
    with pytest.raises(ValueError, match="not a directory"):
        roots_from([str(tmp_path / "missing")])
    monkeypatch.setenv("MCP_BPE_MAX_TEXT_CHARS", "lots")
    with pytest.raises(ValueError, match="MCP_BPE_MAX_TEXT_CHARS must be a whole number"):
        limits_from({})
    monkeypatch.delenv("MCP_BPE_MAX_TEXT_CHARS")
    with pytest.raises(ValueError, match="--max-text-chars must be at least 1"):
        limits_from({"max_text_chars": 0})
