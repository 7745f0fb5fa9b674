"""Hostile paths, names, patterns and special-token strings, in memory.

Paths: ``..``, absolute paths outside the roots, symlinks out of a root, a
FIFO, ``/dev/zero``, trees over the corpus limits, files that are not UTF-8.
Names that try to leave the data directory.  A custom pattern that
backtracks catastrophically.  Special-token strings inside user text.  Each
is refused or handled with an error that says what was wrong, and the
server keeps answering.
"""

from __future__ import annotations

import os
from pathlib import Path

import anyio
import pytest
from mcp import Client

from bpe_core import pretokenize
from server import ServerConfig, build_server
from server.config import Limits

pytestmark = pytest.mark.anyio

TEXT = "low lower newest widest " * 30


@pytest.fixture
def layout(tmp_path):
    """root/ (allowed) with good, bad and tricky entries; outside/ next to it."""
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (outside / "secret.txt").write_text("secret " * 100, encoding="utf-8")
    (root / "good.txt").write_text(TEXT, encoding="utf-8")
    (root / "latin1.txt").write_bytes("café déjà vu\n".encode("latin-1") * 20)
    (root / "escape.txt").symlink_to(outside / "secret.txt")
    (root / "escape-dir").symlink_to(outside, target_is_directory=True)
    (root / "zero").symlink_to("/dev/zero")
    (root / "loop-a").symlink_to(root / "loop-b")
    (root / "loop-b").symlink_to(root / "loop-a")
    os.mkfifo(root / "fifo")
    big = root / "big"
    big.mkdir()
    for index in range(60):
        (big / f"part{index:02}.txt").write_text(f"word{index} " * 200, encoding="utf-8")
    (root / "exports").mkdir()
    return root, outside


@pytest.fixture
def server(tmp_path, layout):
    root, _ = layout
    limits = Limits(max_corpus_bytes=50_000, max_files=40, max_vocab_size=2000)
    # /dev is a root too, so /dev/zero is refused for what it is, not for where it is.
    return build_server(ServerConfig(data_dir=tmp_path / "data", roots=(root, Path("/dev")), limits=limits))


async def tool_error(client, tool, arguments) -> str:
    with anyio.fail_after(120):  # a generous bound: a refusal comes at once, only a hang reaches it
        result = await client.call_tool(tool, arguments)
    assert result.is_error, f"{tool} {arguments!r:.200} was accepted: {result.structured_content!r:.300}"
    return result.content[0].text


async def still_serving(client) -> None:
    listing = await client.call_tool("list_tokenizers", {})
    assert not listing.is_error
    trained = await client.call_tool("train_bpe", {"name": "probe", "text": TEXT, "vocab_size": 260,
                                                   "overwrite": True})
    assert not trained.is_error, trained.content[0].text


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        (["../outside/secret.txt"], "outside the allowed roots"),
        (["/etc/passwd"], "outside the allowed roots"),
        (["escape.txt"], "outside the allowed roots"),
        (["escape-dir/secret.txt"], "outside the allowed roots"),
        (["file:///etc/hostname"], "outside the allowed roots"),
        (["fifo"], "is not a regular file or a directory"),
        (["/dev/zero"], "is not a regular file or a directory"),
        (["zero"], "is not a regular file or a directory"),
        (["loop-a"], "loop-a"),
        (["a" * 300], "File name too long"),
        (["~no-such-user-here/x.txt"], "no-such-user-here"),
        (["big"], "over this server's corpus files limit of 40 files; start the server with --max-files"),
        (["big/part0*.txt", "big/part1*.txt", "big/part2*.txt", "big/part3*.txt"], "--max-corpus-bytes"),
        (["latin1.txt"], "not UTF-8"),
        (["missing.txt"], "does not exist"),
    ],
)
async def test_train_refuses_unusable_paths_with_a_clear_error(server, paths, expected):
    async with Client(server) as client:
        message = await tool_error(client, "train_bpe", {"name": "t", "paths": paths, "vocab_size": 300})
        assert expected in message, message
        await still_serving(client)


async def test_directory_walk_skips_links_out_of_the_root_fifos_and_devices(server, layout):
    root, outside = layout
    mixed = root / "mixed"
    mixed.mkdir()
    (mixed / "good.txt").write_text(TEXT, encoding="utf-8")
    (mixed / "escape.txt").symlink_to(outside / "secret.txt")
    (mixed / "escape-dir").symlink_to(outside, target_is_directory=True)
    (mixed / "zero").symlink_to("/dev/zero")
    (mixed / "loop").symlink_to(mixed / "loop")
    os.mkfifo(mixed / "fifo")
    async with Client(server) as client:
        for paths in (["mixed"], ["mixed/*"]):
            result = await client.call_tool("train_bpe", {"name": "walk", "paths": paths, "vocab_size": 300,
                                                          "overwrite": True})
            assert not result.is_error, result.content[0].text
            corpus = result.structured_content["corpus"]
            assert corpus["files"] == 1 and corpus["size_bytes"] == len(TEXT), corpus  # good.txt only
            assert any("escape.txt" in note and "outside the allowed roots" in note for note in corpus["skipped"])


@pytest.mark.parametrize(
    ("tool", "arguments", "expected"),
    [
        ("import_tokenizer", {"name": "i", "paths": ["/dev/zero"]}, "not a regular file"),
        ("import_tokenizer", {"name": "i", "paths": ["fifo"]}, "not a regular file"),
        ("import_tokenizer", {"name": "i", "paths": ["../outside/secret.txt"]}, "outside the allowed roots"),
        ("import_tokenizer", {"name": "i", "paths": ["escape.txt"]}, "outside the allowed roots"),
        ("import_tokenizer", {"name": "i", "paths": ["latin1.txt"]}, "latin1.txt"),
        ("export_tokenizer", {"tokenizer": "probe", "destination": "../outside/x.json"}, "outside the allowed roots"),
        ("export_tokenizer", {"tokenizer": "probe", "destination": "/tmp/x.json"}, "outside the allowed roots"),
        ("export_tokenizer", {"tokenizer": "probe", "destination": "escape-dir/x.json"}, "outside the allowed roots"),
        ("export_tokenizer", {"tokenizer": "probe", "destination": "escape.txt", "format": "native",
                              "overwrite": True}, "outside the allowed roots"),
    ],
)
async def test_import_and_export_refuse_unusable_paths(server, layout, tool, arguments, expected):
    _, outside = layout
    before = sorted(p.name for p in outside.iterdir())
    async with Client(server) as client:
        await still_serving(client)
        message = await tool_error(client, tool, arguments)
        assert expected in message, message
    assert sorted(p.name for p in outside.iterdir()) == before
    assert (outside / "secret.txt").read_text(encoding="utf-8") == "secret " * 100


NAMES = ["../x", "a/b", ".", "..", "/etc/passwd", "a\\b", "x" * 65, "x" * 5000, "con", "nul.json", "a..b", "a.",
         ".hidden", "-dash", "a\x00b", "tab\tname", "a b", "..%2fx", "~root"]


@pytest.mark.parametrize("name", NAMES)
async def test_tokenizer_names_cannot_escape_the_data_directory(server, tmp_path, name):
    def files():
        return sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if "root" not in p.parts)

    before = files()
    async with Client(server) as client:
        message = await tool_error(client, "train_bpe", {"name": name, "text": TEXT, "vocab_size": 260})
        assert "name" in message, message
        for tool, field in (("encode", "tokenizer"), ("delete_tokenizer", "name")):
            arguments = {field: name, "text": "x"} if tool == "encode" else {field: name}
            await tool_error(client, tool, arguments)
        assert not (await client.call_tool("list_tokenizers", {})).structured_content["tokenizers"]
    assert files() == before


async def test_catastrophic_custom_pattern_is_stopped_by_the_timeout(server, monkeypatch):
    monkeypatch.setattr(pretokenize, "CUSTOM_PATTERN_TIMEOUT", 1.0)
    # The regex module defuses the classic (a+)+$ itself; (a|a)+$ still backtracks exponentially.
    evil = "a" * 40 + "b"
    async with Client(server) as client:
        # The message says which timeout stopped it: 2**40 backtracking steps would never end.
        message = await tool_error(client, "train_bpe", {"name": "evil", "text": evil + "\n" + TEXT,
                                                         "pattern": r"(a|a)+$|\S+", "vocab_size": 300})
        assert "took more than 1 s" in message and "backtracks catastrophically" in message, message
        # The textbook example, (a+)+$, finishes within the timeout (the regex module guards against it).
        textbook = await client.call_tool("train_bpe", {"name": "textbook", "text": evil + "\n" + TEXT,
                                                        "pattern": r"(a+)+$|\S+", "vocab_size": 270})
        assert not textbook.is_error, textbook.content[0].text
        # A tokenizer whose pattern only backtracks on some inputs: encoding such input is stopped too.
        trained = await client.call_tool("train_bpe", {"name": "fragile", "text": TEXT, "pattern": r"(a|a)+$|\S+",
                                                       "vocab_size": 270})
        assert not trained.is_error, trained.content[0].text
        message = await tool_error(client, "encode", {"tokenizer": "fragile", "text": evil})
        assert "backtracks catastrophically" in message
        # The server is still responsive, and the safe input still encodes.
        fine = await client.call_tool("encode", {"tokenizer": "fragile", "text": "lower newest"})
        assert not fine.is_error, fine.content[0].text
        await still_serving(client)


async def test_special_token_strings_in_user_text_follow_the_declared_policy(server):
    async with Client(server) as client:
        trained = await client.call_tool("train_bpe", {"name": "sp", "text": TEXT, "vocab_size": 280,
                                                       "special_tokens": ["<|endoftext|>", "<pad>"]})
        assert not trained.is_error
        eot = trained.structured_content["special_tokens"]["<|endoftext|>"]
        text = "low<|endoftext|>lower <pad>"

        # Default: an error that names the token and the arguments that change the policy.
        message = await tool_error(client, "encode", {"tokenizer": "sp", "text": text})
        assert "<|endoftext|>" in message and "allowed_special" in message and "disallowed_special" in message

        async def encode(**policy):
            result = await client.call_tool("encode", {"tokenizer": "sp", "text": text, **policy})
            assert not result.is_error, result.content[0].text
            return result.structured_content["encodings"][0]["ids"]

        allowed = await encode(allowed_special="all")
        assert eot in allowed and allowed.count(eot) == 1
        only_eot = await tool_error(client, "encode", {"tokenizer": "sp", "text": text,
                                                       "allowed_special": ["<|endoftext|>"]})
        assert "<pad>" in only_eot
        plain = await encode(disallowed_special=[])
        assert eot not in plain  # the special-token string is ordinary text
        for ids in (allowed, plain):
            decoded = await client.call_tool("decode", {"tokenizer": "sp", "ids": ids})
            assert decoded.structured_content["text"] == text
        # Near misses are ordinary text under the default policy.
        near = await client.call_tool("encode", {"tokenizer": "sp", "text": "<|endoftext| <pa d> <|ENDOFTEXT|>"})
        assert not near.is_error and eot not in near.structured_content["encodings"][0]["ids"]
