"""Reference tokenizers (cl100k_base, o200k_base and the model names) wherever the server takes a tokenizer name.

In memory, in both protocol eras.  The id test builds tiktoken's ``Encoding`` from the same ranks offline
(``tests/reference_oracle.py``) and compares it with the ids the ``encode`` tool returns.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from mcp import Client
from mcp_types import ResourceTemplateReference

from bpe_core import reference
from server import ServerConfig, build_server
from server.config import Limits
from server.storage import REFERENCES, TokenizerStore

from corpus_text import corpus_slice
from reference_oracle import EMOJI, tiktoken_encoding
from tool_calls import call, error

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("name", sorted(REFERENCES))
async def test_our_ids_through_the_server_equal_tiktoken(files_server, name, mode):
    theirs = tiktoken_encoding(name)
    texts = {kind: corpus_slice(kind, 12_000) for kind in ("en", "code", "zh")} | {"emoji": EMOJI * 5}
    async with Client(files_server, mode=mode) as client:
        for kind, text in texts.items():
            encoded = await call(client, "encode", {"tokenizer": name, "text": text})
            assert encoded["encodings"][0]["ids"] == theirs.encode_ordinary(text), kind
            decoded = await call(client, "decode", {"tokenizer": name, "ids": encoded["encodings"][0]["ids"]})
            assert decoded["text"] == text, kind


async def test_model_names_work_wherever_a_stored_name_does(files_server, files_root, mode):
    text = "Tokenizers 分词器 🦊"
    async with Client(files_server, mode=mode) as client:
        by_alias = await call(client, "encode", {"tokenizer": "gpt-4o", "text": text, "return_tokens": True})
        by_name = await call(client, "encode", {"tokenizer": "o200k_base", "text": text})
        assert by_alias["encodings"][0]["ids"] == by_name["encodings"][0]["ids"]
        summary = await call(client, "inspect_vocab", {"tokenizer": "gpt-4"})
        assert summary["summary"]["vocab_size"] == 100_261 and summary["summary"]["pattern"] == "cl100k"
        page = await call(client, "inspect_vocab", {"tokenizer": "gpt-4", "view": "tokens", "offset": 100_000,
                                                  "limit": 500})
        assert len(page["tokens"]["items"]) == 261 and page["tokens"]["next_offset"] is None
        token = await call(client, "inspect_vocab", {"tokenizer": "o200k_base", "view": "token", "token": " the"})
        assert token["token"]["merges_used_total"] >= 1
        explained = await call(client, "explain", {"tokenizer": "gpt-4o", "text": "tokenization"})
        assert "".join(explained["words"][0]["tokens"]) == "tokenization"
        exported = await call(client, "export_tokenizer", {"tokenizer": "gpt-4", "format": "tiktoken",
                                                         "destination": "cl100k"})
        assert {Path(f["path"]).name for f in exported["files"]} == {"cl100k", "cl100k.json"}
        evaluated = await call(client, "evaluate_tokenizer", {"tokenizer": "gpt-4o", "text": text})
        assert evaluated["tokens"] == len(by_name["encodings"][0]["ids"])
        # Completions offer the reference names and the model names.
        completion = await client.complete(ResourceTemplateReference(uri="bpe://tokenizers/{name}"),
                                           {"name": "name", "value": "gpt-4"})
        assert {"gpt-4", "gpt-4o", "gpt-4o-mini", "gpt-4.1"} <= set(completion.completion.values)
        merges = await client.read_resource("bpe://tokenizers/gpt-4/merges")
        assert merges.contents[0].text.startswith("#version: 0.2\n")


async def test_listing_shows_the_references_read_only_with_their_aliases(files_server, mode):
    async with Client(files_server, mode=mode) as client:
        listing = await call(client, "list_tokenizers", {})
        (resource,) = (await client.read_resource("bpe://tokenizers")).contents
    assert listing["tokenizers"] == []  # nothing stored
    references = {info["name"]: info for info in listing["references"]}
    assert list(references) == ["cl100k_base", "o200k_base"]
    assert all(info["reference"] for info in references.values())
    assert "gpt-4o" in references["o200k_base"]["aliases"] and "gpt-4" in references["cl100k_base"]["aliases"]
    assert references["o200k_base"]["special_tokens"] == ["<|endoftext|>", "<|endofprompt|>"]
    assert json.loads(resource.text)["references"] == listing["references"]


def test_what_listing_shows_is_what_loads(tmp_path):
    store = TokenizerStore(tmp_path)
    for name, facts in REFERENCES.items():
        tokenizer = store.load(name).tokenizer
        assert (tokenizer.vocab_size, len(tokenizer.merges), tokenizer.pattern_name) == (
            facts.vocab_size, facts.merges, facts.pattern)
        assert set(facts.aliases) == {a for a, n in reference.MODEL_ALIASES.items() if n == name}
        assert store.load(facts.aliases[0]).tokenizer is tokenizer
    assert store.cached_names == []  # not in the byte-bounded cache


@pytest.mark.parametrize("name", ["o200k_base", "gpt-4", "GPT-4o", "cl100k"])
async def test_references_cannot_be_overwritten_or_deleted(files_server, files_root, name, mode):
    (files_root / "tok.json").write_text("{}", encoding="utf-8")
    async with Client(files_server, mode=mode) as client:
        messages = [
            await error(client, "train_bpe", {"name": name, "text": "a b", "vocab_size": 257, "overwrite": True}),
            await error(client, "import_tokenizer", {"name": name, "paths": ["tok.json"], "overwrite": True}),
            await error(client, "delete_tokenizer", {"name": name}),
        ]
        still = await call(client, "encode", {"tokenizer": name, "text": "hello"})
    for message in messages:
        assert f"{name!r}" in message and "built-in reference tokenizer: read-only" in message, message
    assert still["total_tokens"] == 1


async def test_an_unknown_model_name_lists_what_exists(files_server, mode):
    async with Client(files_server, mode=mode) as client:
        message = await error(client, "encode", {"tokenizer": "gpt-5-turbo", "text": "x"})
    assert "no tokenizer named 'gpt-5-turbo'" in message
    for known in ("cl100k_base", "o200k_base", "gpt-4o", "gpt-3.5-turbo"):
        assert known in message


async def test_the_reply_budget_still_applies_to_references(tmp_path, mode):
    server = build_server(ServerConfig(data_dir=tmp_path / "data", limits=Limits(max_reply_bytes=1_000_000)))
    async with Client(server, mode=mode) as client:
        for uri in ("bpe://tokenizers/o200k_base", "bpe://tokenizers/gpt-4/vocab",
                    "bpe://tokenizers/gpt-4o/tokenizer.json"):
            with pytest.raises(Exception) as caught:
                await client.read_resource(uri)
            assert "over this server's reply size limit" in str(caught.value), uri
            assert "export_tokenizer" in str(caught.value)
        # A page of tokens that fits is served.
        page = await call(client, "inspect_vocab", {"tokenizer": "o200k_base", "view": "tokens", "limit": 100})
        assert len(page["tokens"]["items"]) == 100


def test_two_first_uses_at_once_load_once(tmp_path, monkeypatch):
    store = TokenizerStore(tmp_path)
    calls, entered = [], []
    everyone_asked = threading.Event()
    real = reference.load_reference

    def held_load(name, **options):
        calls.append(name)
        # The load goes on only once every thread has asked for the tokenizer, so the first uses overlap.
        assert everyone_asked.wait(timeout=60), "the other threads never asked"
        return real(name, **options)

    def first_use(name):
        entered.append(name)
        if len(entered) == 4:
            everyone_asked.set()
        results.append(store.load(name).tokenizer)

    monkeypatch.setattr(reference, "load_reference", held_load)
    results = []
    threads = [threading.Thread(target=first_use, args=(n,)) for n in ("gpt-4o", "o200k_base", "gpt-4o-mini", "o200k")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert calls == ["o200k_base"]
    assert len(results) == 4 and all(r is results[0] for r in results)


async def test_a_document_larger_than_its_tokenizer_file_is_refused_too(tmp_path, mode):
    # o200k_base's native file is about 12 MB; its tokenizer.json is larger still.
    server = build_server(ServerConfig(data_dir=tmp_path / "data", limits=Limits(max_reply_bytes=13_000_000)))
    async with Client(server, mode=mode) as client:
        with pytest.raises(Exception) as caught:
            await client.read_resource("bpe://tokenizers/o200k_base/tokenizer.json")
    assert "this document of tokenizer 'o200k_base' is" in str(caught.value)
    assert "over this server's reply size limit of 13,000,000 bytes" in str(caught.value)
