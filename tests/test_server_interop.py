"""import_tokenizer and export_tokenizer: files in other libraries' formats,
inside the allowed roots only."""

from __future__ import annotations

import pytest
from mcp import Client

from tool_calls import call, error

pytestmark = pytest.mark.anyio

TEXT = "low lower newest widest 分词器 模型 " * 20
SAMPLE = "the newest model is the lowest and widest 分词器"


async def ids(client, tokenizer, text=SAMPLE) -> list[int]:
    return (await call(client, "encode", {"tokenizer": tokenizer, "text": text}))["encodings"][0]["ids"]


@pytest.mark.parametrize(
    "export_format, import_paths",
    [
        ("huggingface", ["tokenizer.json"]),
        ("tiktoken", ["tokenizer.tiktoken"]),
        ("gpt2", ["vocab.json", "merges.txt"]),
        ("native", ["tokenizer.bpe.json"]),
    ],
)
async def test_export_then_import_gives_the_same_tokenizer(files_server, mode, files_root, export_format, import_paths):
    async with Client(files_server, mode=mode) as client:
        await call(client, "train_bpe", {"name": "orig", "text": TEXT, "vocab_size": 280,
                                         "special_tokens": ["<|end|>"]})
        exported = await call(client, "export_tokenizer", {"tokenizer": "orig", "format": export_format,
                                                           "destination": str(files_root)})
        imported = await call(client, "import_tokenizer", {"name": "copy", "paths": import_paths})
        assert await ids(client, "copy") == await ids(client, "orig")
    assert {f["path"] for f in exported["files"]} >= {str(files_root / p) for p in import_paths}
    assert all(f["size_bytes"] > 0 for f in exported["files"])
    assert imported["vocab_size"] == 280 and imported["special_tokens"] == {"<|end|>": 0}
    assert imported["format"] == export_format
    assert not [p for p in files_root.iterdir() if p.name.startswith(".")]  # no staging left behind


async def test_exported_tokenizer_json_encodes_like_us_in_hugging_face(files_server, mode, files_root):
    tokenizers = pytest.importorskip("tokenizers")
    async with Client(files_server, mode=mode) as client:
        await call(client, "train_bpe", {"name": "orig", "text": TEXT, "vocab_size": 280})
        exported = await call(client, "export_tokenizer", {"tokenizer": "orig", "destination": "hf.json"})
        ours = await ids(client, "orig")
    assert exported["files"][0]["path"] == str(files_root / "hf.json")
    assert any("from_file" in note for note in exported["notes"])
    assert tokenizers.Tokenizer.from_file(str(files_root / "hf.json")).encode(SAMPLE).ids == ours


async def test_exported_tiktoken_encodes_like_us_in_tiktoken(files_server, mode, files_root):
    tiktoken = pytest.importorskip("tiktoken")
    import base64
    import json

    async with Client(files_server, mode=mode) as client:
        await call(client, "train_bpe", {"name": "orig", "text": TEXT, "vocab_size": 280})
        await call(client, "export_tokenizer", {"tokenizer": "orig", "format": "tiktoken",
                                                "destination": "orig.tiktoken"})
        ours = await ids(client, "orig")
    spec = json.loads((files_root / "orig.tiktoken.json").read_text(encoding="utf-8"))
    ranks = {base64.b64decode(token): int(rank) for token, rank in
             (line.split() for line in (files_root / "orig.tiktoken").read_text().splitlines() if line.strip())}
    encoding = tiktoken.Encoding(spec["name"], pat_str=spec["pat_str"], mergeable_ranks=ranks,
                                 special_tokens=spec["special_tokens"])
    assert encoding.encode(SAMPLE) == ours


async def test_export_refuses_to_replace_files_unless_overwrite(files_server, mode, files_root):
    (files_root / "tokenizer.json").write_text("precious", encoding="utf-8")
    async with Client(files_server, mode=mode) as client:
        await call(client, "train_bpe", {"name": "orig", "text": TEXT, "vocab_size": 280})
        refused = await error(client, "export_tokenizer", {"tokenizer": "orig", "destination": str(files_root)})
        assert (files_root / "tokenizer.json").read_text(encoding="utf-8") == "precious"
        replaced = await call(client, "export_tokenizer", {"tokenizer": "orig", "destination": str(files_root),
                                                           "overwrite": True})
    assert "already exists" in refused and "overwrite=true" in refused
    assert replaced["files"][0]["path"] == str(files_root / "tokenizer.json")
    assert (files_root / "tokenizer.json").read_text(encoding="utf-8").startswith("{")


async def test_files_outside_the_roots_are_refused(files_server, mode, files_root, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (files_root / "escape").symlink_to(outside)
    async with Client(files_server, mode=mode) as client:
        await call(client, "train_bpe", {"name": "orig", "text": TEXT, "vocab_size": 280})
        to_outside = await error(client, "export_tokenizer", {"tokenizer": "orig", "destination": str(outside)})
        via_link = await error(client, "export_tokenizer", {"tokenizer": "orig", "destination": "escape"})
        via_dots = await error(client, "export_tokenizer", {"tokenizer": "orig", "destination": "../elsewhere/x.json"})
        from_outside = await error(client, "import_tokenizer", {"name": "x", "paths": [str(outside / "t.json")]})
    for message in (to_outside, via_link, via_dots, from_outside):
        assert "outside the allowed roots" in message
    assert list(outside.iterdir()) == []


async def test_classic_tokenizers_export_to_subword_nmt_but_not_tokenizer_json(files_server, mode, files_root):
    async with Client(files_server, mode=mode) as client:
        await call(client, "train_bpe", {"name": "classic", "text": TEXT, "mode": "classic", "num_merges": 20})
        refused = await error(client, "export_tokenizer", {"tokenizer": "classic", "destination": str(files_root)})
        await call(client, "export_tokenizer", {"tokenizer": "classic", "format": "subword_nmt",
                                                "destination": str(files_root)})
        imported = await call(client, "import_tokenizer", {"name": "back", "paths": ["codes.txt"]})
        assert await ids(client, "back", "lowest newest") == await ids(client, "classic", "lowest newest")
    assert "classic" in refused.lower() and "subword_nmt" in refused
    assert imported["mode"] == "classic" and imported["format"] == "subword_nmt"


async def test_import_errors_name_the_file(files_server, mode, files_root):
    (files_root / "tokenizer.json").write_text('{"model": {"type": "BPE", "vocab": ', encoding="utf-8")
    async with Client(files_server, mode=mode) as client:
        broken = await error(client, "import_tokenizer", {"name": "x", "paths": ["tokenizer.json"]})
        missing = await error(client, "import_tokenizer", {"name": "x", "paths": ["nothing.tiktoken"]})
        listing = await call(client, "list_tokenizers", {})
    assert "tokenizer.json" in broken and "JSON" in broken
    assert "nothing.tiktoken" in missing
    assert listing["tokenizers"] == []
