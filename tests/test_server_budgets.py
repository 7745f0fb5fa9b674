"""The server passes its limits to the engine's budgets (issue 8): decode,
explain, import and the merge tree of inspect_vocab, each refused or
bounded with an error or note that names what to change.

Memory is measured with ``tracemalloc`` around the service call, against a
stated budget the old code exceeded many times over.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp import Client

import bpe_core
from bpe_core.interop import export_tokenizer
from budget_helpers import MB, chain_tokenizer, doubling_tokenizer, peak_memory
from server import ServerConfig, build_server
from server import schemas as s
from server.config import LimitExceeded, Limits
from server.service import EXPLAIN_SYMBOLS_SHOWN, TREE_DEPTH_SHOWN, BPEService


def service_with(tmp_path, tokenizers: dict, data: str = "data", **limits) -> BPEService:
    service = BPEService(ServerConfig(data_dir=tmp_path / data, roots=(tmp_path,), limits=Limits(**limits)))
    for name, tokenizer in tokenizers.items():
        service.store.save(name, tokenizer)
        service.store.load(name)  # loaded before any measurement
    return service


def test_decode_is_refused_from_token_lengths_naming_the_flag(tmp_path):
    tok = doubling_tokenizer(16)  # one token of 64 KB
    service = service_with(tmp_path, {"big": tok}, max_text_chars=1000)
    ids = [tok.vocab["a" * 2**16]] * 1000  # a 5 KB request for 64 MB of text
    with peak_memory() as memory:
        with pytest.raises(LimitExceeded, match=r"these 1,000 ids decode to 65,536,000 bytes, over this server's "
                                                r"limit of 4,000 bytes .* start the server with --max-text-chars N"):
            service.decode(s.DecodeInput(tokenizer="big", ids=ids))
    assert memory["peak"] < 4 * MB, memory  # the old decode built the 64 MB twice over
    assert service.decode(s.DecodeInput(tokenizer="big", ids=[97] * 4000)).text == "a" * 4000


def test_explain_of_a_long_word_lists_steps_without_the_square_of_its_length(tmp_path):
    service = service_with(tmp_path, {"runs": doubling_tokenizer(11)})
    text = "aaaa " + "a" * 1990
    with peak_memory() as memory:
        result = service.explain(s.ExplainInput(text=text, tokenizer="runs"))
    # The old reply listed every symbol after every merge: about 2 million strings.
    assert memory["peak"] < 40 * MB, memory
    short, long = result.words
    assert short.steps[-1].symbols == short.tokens == ["aaaa"]  # a short word keeps its listings
    assert long.word == " " + "a" * 1990 and len(long.steps) > 1000
    assert all(step.symbols is None for step in long.steps)
    assert [step.position for step in long.steps[:3]] == [1, 2, 3]  # ' ' stays symbol 0; the a's pair up
    assert result.steps_note and f"{EXPLAIN_SYMBOLS_SHOWN:,} symbols" in result.steps_note
    assert "Explain such a word alone" in result.steps_note
    assert "at symbol 1" in result.walkthrough


def test_import_applies_the_vocab_limit_naming_the_flag(tmp_path):
    sample = (Path(__file__).resolve().parents[1] / "server" / "samples" / "en.txt").read_text(encoding="utf-8")
    tok = bpe_core.train(sample, vocab_size=400)
    assert tok.vocab_size == 400
    export_tokenizer(tok, "huggingface", tmp_path / "tokenizer.json")
    service = service_with(tmp_path, {}, max_vocab_size=300)
    with pytest.raises(LimitExceeded, match=r"holds \d+ entries, over the vocabulary size limit of 300.*"
                                            r"start the server with --max-vocab-size N"):
        service.import_tokenizer(s.ImportInput(name="copy", paths=[str(tmp_path / "tokenizer.json")]))
    assert service.store.names() == []
    roomy = service_with(tmp_path, {}, data="roomy", max_vocab_size=400)
    roomy.import_tokenizer(s.ImportInput(name="copy", paths=[str(tmp_path / "tokenizer.json")]))
    assert roomy.store.names() == ["copy"]


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.mark.anyio
async def test_inspect_a_token_300_merges_deep(tmp_path):
    tok = chain_tokenizer(300)
    service_with(tmp_path, {"deep": tok})
    server = build_server(ServerConfig(data_dir=tmp_path / "data"))
    async with Client(server) as client:
        result = await client.call_tool("inspect_vocab", {"tokenizer": "deep", "view": "token",
                                                          "id": tok.vocab["a" * 301]})
    assert not result.is_error, result.content[0].text
    token = result.structured_content["token"]
    assert token["tree_depth"] == 300 and token["merges_used_total"] == 300
    assert [rule["rank"] for rule in token["merges_used"]] == list(range(300))
    assert "300 merges deep" in token["tree_note"] and "merges_used lists every merge" in token["tree_note"]
    depth, node = 0, token["tree"]
    while node["left"] is not None:
        depth, node = depth + 1, node["left"]
    assert depth == TREE_DEPTH_SHOWN and node["rank"] is not None  # cut where the note says
    assert "parts not drawn" in token["tree_text"]


def test_inspect_a_long_token_keeps_its_tree_small(tmp_path):
    tok = doubling_tokenizer(16)  # 'a' * 65536, built by halves: 131,071 nodes in the full tree
    service = service_with(tmp_path, {"runs": tok})
    with peak_memory() as memory:
        view = service.inspect(s.InspectInput(tokenizer="runs", view="token", id=tok.vocab["a" * 2**16]))
        reply = view.model_dump_json()
    assert memory["peak"] < 8 * MB, memory  # the whole tree: over 2 MB of text per level, drawn recursively
    assert len(reply) < MB, len(reply)
    assert view.token.tree_depth == 16 and "100,000 characters of tokens" in view.token.tree_note
    assert [rule.rank for rule in view.token.merges_used] == list(range(16))
