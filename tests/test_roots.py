"""The allowed roots hold: nothing is written, listed or revealed outside them.

Each case here was an attack that worked: ``destination: ".."`` wrote into
a root's parent, ``paths: ["/etc/*"]`` listed a system directory (and told
whether an outside path exists), ``/**`` walked the whole file system.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp import Client

from bpe_core import TrainingCancelled
from server import ServerConfig, build_server
from server.config import LimitExceeded, Limits
from server.files import FileAccess, FileAccessError

pytestmark = pytest.mark.anyio

TEXT = "low lower newest widest " * 30


@pytest.fixture
def tree(tmp_path):
    """parent/ holds root/ (allowed), a victim file and an outside directory."""
    parent = tmp_path / "parent"
    root = parent / "root"
    (root / "sub").mkdir(parents=True)
    (root / "a.txt").write_text(TEXT, encoding="utf-8")
    (parent / "victim.json").write_text("precious", encoding="utf-8")
    (parent / "outside").mkdir()
    (parent / "outside" / "secret.txt").write_text("secret", encoding="utf-8")
    (root / "link-to-parent").symlink_to(parent, target_is_directory=True)
    return parent, root


@pytest.fixture
def server(tmp_path, tree):
    _, root = tree
    return build_server(ServerConfig(data_dir=tmp_path / "data", roots=(root,), use_client_roots=False,
                                     limits=Limits(max_files=30)))


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every file under ``directory`` outside its root/ subtree, with its content."""
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*"))
            if p.is_file() and "root" not in p.relative_to(directory).parts}


async def error_text(client, tool, arguments) -> str:
    result = await client.call_tool(tool, arguments)
    assert result.is_error, f"{tool} {arguments!r:.200} was accepted: {result.structured_content!r:.300}"
    return result.content[0].text.removeprefix(f"Error executing tool {tool}: ")


@pytest.mark.parametrize("overwrite", [False, True])
@pytest.mark.parametrize("form", ["..", "{root}/..", "file://{root}/..", "../", "{root}/../", "sub/../..",
                                  "link-to-parent", "link-to-parent/", "link-to-parent/victim.json",
                                  "../victim.json", "sub/../../victim.json", "{root}/../outside/new.json",
                                  "link-to-parent/outside"])
@pytest.mark.parametrize("format_", ["huggingface", "gpt2", "native"])
async def test_export_never_writes_outside_the_roots(server, tree, form, overwrite, format_):
    parent, root = tree
    before = snapshot(parent)
    destination = form.format(root=root)
    async with Client(server) as client:
        trained = await client.call_tool("train_bpe", {"name": "t", "text": TEXT, "vocab_size": 270})
        assert not trained.is_error
        message = await error_text(client, "export_tokenizer", {"tokenizer": "t", "destination": destination,
                                                                 "format": format_, "overwrite": overwrite})
    assert "outside the allowed roots" in message and str(root) in message, message
    assert snapshot(parent) == before
    assert not [p for p in parent.iterdir() if p.name.startswith(".export-")]


@pytest.mark.parametrize(("destination", "expected"), [
    (".", "tokenizer.json"), ("{root}", "tokenizer.json"), ("{root}/", "tokenizer.json"),
    ("sub/", "sub/tokenizer.json"), ("new/deeper/", "new/deeper/tokenizer.json"),
    ("made/on/demand.json", "made/on/demand.json"), ("sub/../top.json", "top.json"),
])
async def test_export_inside_the_roots_resolves_dots_and_creates_directories(server, tree, destination, expected):
    _, root = tree
    async with Client(server) as client:
        await client.call_tool("train_bpe", {"name": "t", "text": TEXT, "vocab_size": 270})
        result = await client.call_tool("export_tokenizer", {"tokenizer": "t",
                                                             "destination": destination.format(root=root)})
        assert not result.is_error, result.content[0].text
        assert [f["path"] for f in result.structured_content["files"]] == [str(root / expected)]
        assert (root / expected).is_file()
        # An existing file is refused without overwrite and replaced with it.
        again = await client.call_tool("export_tokenizer", {"tokenizer": "t", "destination": destination.format(root=root)})
        assert again.is_error and "already exist" in again.content[0].text
        replaced = await client.call_tool("export_tokenizer", {"tokenizer": "t", "overwrite": True,
                                                               "destination": destination.format(root=root)})
        assert not replaced.is_error, replaced.content[0].text


async def test_gpt2_export_creates_its_directory(server, tree):
    _, root = tree
    async with Client(server) as client:
        await client.call_tool("train_bpe", {"name": "t", "text": TEXT, "vocab_size": 270})
        result = await client.call_tool("export_tokenizer", {"tokenizer": "t", "destination": "gpt2-files",
                                                             "format": "gpt2"})
        assert not result.is_error, result.content[0].text
    assert sorted(p.name for p in (root / "gpt2-files").iterdir()) == ["merges.txt", "vocab.json"]


OUTSIDE_PATTERNS = ["/etc/*", "/etc/**", "/**", "/**/*.txt", "../*", "../**/*.txt", "{parent}/outside/*",
                    "sub/../../*", "file:///etc/*", "/no-such-directory-here/*", "/etc/no-such-thing-*"]


@pytest.mark.parametrize("pattern", OUTSIDE_PATTERNS)
async def test_outside_globs_reveal_nothing(server, tree, pattern):
    parent, root = tree
    pattern = pattern.format(parent=parent)
    async with Client(server) as client:
        message = await error_text(client, "train_bpe", {"name": "t", "paths": ["a.txt", pattern], "vocab_size": 270})
    assert message == (f"{pattern!r} is outside the allowed roots; allowed roots: {root}. "
                       "Start the server with --root DIR to allow another directory")


async def test_an_outside_path_gets_the_same_answer_whether_it_exists_or_not(server, tree):
    parent, _ = tree
    async with Client(server) as client:
        answers = set()
        for path in (parent / "outside" / "secret.txt", parent / "outside" / "missing.txt"):
            message = await error_text(client, "train_bpe", {"name": "t", "paths": [str(path)], "vocab_size": 270})
            answers.add(message.replace(repr(str(path)), "PATH"))
        for path in (parent / "outside", parent / "nowhere"):
            message = await error_text(client, "import_tokenizer", {"name": "i", "paths": [str(path)]})
            answers.add(message.replace(repr(str(path)), "PATH"))
    assert len(answers) == 1, answers


def test_walks_stop_at_the_file_budget(tree):
    _, root = tree
    big = root / "big"
    for index in range(40):
        (big / f"d{index}").mkdir(parents=True)
        for inner in range(30):
            (big / f"d{index}" / f"f{inner}.txt").write_text("x", encoding="utf-8")
    access = FileAccess([root], Limits(max_files=10))
    for patterns in (["big"], ["big/**"], ["big/**/*.txt"], ["**"]):
        with pytest.raises((FileAccessError, LimitExceeded), match="--max-files"):
            access.corpus_files(patterns)


def test_walks_over_many_entries_that_are_not_files_stop_too(tree):
    _, root = tree
    for index in range(1100):
        (root / "empty" / f"d{index:04}").mkdir(parents=True)
        (root / "skipped" / f"f{index:04}.pyc").parent.mkdir(parents=True, exist_ok=True)
        (root / "skipped" / f"f{index:04}.pyc").write_bytes(b"\0")
    access = FileAccess([root], Limits(max_files=5))  # a budget of 1,000 entries
    for patterns in (["empty", "a.txt"], ["empty/**/*.txt", "a.txt"], ["skipped", "a.txt"]):
        with pytest.raises(FileAccessError, match="entries"):
            access.corpus_files(patterns)


def test_a_cancelled_walk_stops(tree):
    _, root = tree
    for index in range(2000):
        (root / "many" / f"d{index // 100}").mkdir(parents=True, exist_ok=True)
        (root / "many" / f"d{index // 100}" / f"{index}.bin").write_bytes(b"\0")
    asked = []

    def should_stop() -> bool:
        asked.append(1)
        return len(asked) >= 2

    with pytest.raises(TrainingCancelled):
        FileAccess([root], Limits()).corpus_files(["many"], should_stop=should_stop)
    with pytest.raises(TrainingCancelled):
        FileAccess([root], Limits()).corpus_files(["many/**/*.bin"], should_stop=should_stop)


def test_a_name_with_glob_characters_that_exists_is_a_path(tree):
    _, root = tree
    (root / "notes [draft].txt").write_text(TEXT, encoding="utf-8")
    (root / "what?.txt").write_text(TEXT, encoding="utf-8")
    access = FileAccess([root], Limits())
    for name in ("notes [draft].txt", "what?.txt"):
        assert [p.name for p in access.corpus_files([name]).files] == [name]
    # Still a glob when nothing has that name.
    with pytest.raises(FileAccessError, match="matches no files"):
        access.corpus_files(["notes [d]*.txt"])


def test_directory_walks_skip_files_that_are_not_text_and_say_so(tree):
    _, root = tree
    package = root / "package"
    (package / "__pycache__").mkdir(parents=True)
    (package / "module.py").write_text("def f():\n    return 1\n", encoding="utf-8")
    (package / "__pycache__" / "module.cpython-311.pyc").write_bytes(b"\xa7\r\r\n" + bytes(range(256)))
    (package / "data.dat").write_bytes(b"abc\0def")
    (package / "latin1.txt").write_bytes("café".encode("latin-1"))
    (package / "picture.png").write_bytes(b"\x89PNG\r\n")
    access = FileAccess([root], Limits())
    for patterns in (["package"], ["package/**"]):
        corpus = access.corpus_files(patterns)
        assert [p.name for p in corpus.files] == ["module.py"]
        skipped = "\n".join(corpus.skipped)
        assert "module.cpython-311.pyc: skipped, a binary file type (.pyc)" in skipped
        assert "data.dat: skipped, binary content" in skipped and "picture.png" in skipped
        assert "latin1.txt: skipped, not UTF-8 text" in skipped
    # Named explicitly, a file that is not UTF-8 is an error with a hint (from the engine).


async def test_an_explicit_file_that_is_not_utf8_is_an_error_with_a_hint(server, tree):
    _, root = tree
    (root / "latin1.txt").write_bytes("café déjà vu\n".encode("latin-1"))
    async with Client(server) as client:
        message = await error_text(client, "train_bpe", {"name": "t", "paths": ["latin1.txt"], "vocab_size": 270})
    assert "not UTF-8" in message and "convert it to UTF-8" in message, message


async def test_relative_paths_in_errors_show_where_the_server_looked(server, tree):
    _, root = tree
    async with Client(server) as client:
        message = await error_text(client, "train_bpe", {"name": "t", "paths": ["missing.txt"], "vocab_size": 270})
        assert str(root / "missing.txt") in message, message
        message = await error_text(client, "import_tokenizer", {"name": "i", "paths": ["missing.json"]})
        assert str(root / "missing.json") in message, message


async def test_a_nul_byte_in_a_path_is_refused_with_the_reason(server):
    async with Client(server) as client:
        for tool, arguments in (("train_bpe", {"name": "t", "paths": ["a\0.txt"], "vocab_size": 270}),
                                ("import_tokenizer", {"name": "i", "paths": ["a\0.json"]}),
                                ("export_tokenizer", {"tokenizer": "t", "destination": "x\0.json"})):
            if tool == "export_tokenizer":
                await client.call_tool("train_bpe", {"name": "t", "text": TEXT, "vocab_size": 270})
            message = await error_text(client, tool, arguments)
            assert "NUL character" in message, message
