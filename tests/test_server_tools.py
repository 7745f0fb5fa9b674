"""The server's tools through the SDK's in-memory client, in both protocol eras.

``mode="auto"`` negotiates 2026-07-28 (direct dispatch, no handshake);
``mode="legacy"`` runs the 2025-11-25 initialize handshake over JSON-RPC.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mcp import Client
from mcp_types import ListRootsResult, Root

from bpe_core.byte_symbols import BYTE_TO_SYMBOL
from server import ServerConfig, build_server
from server.storage import TokenizerStore
from server import schemas
from server.config import Limits

from tool_calls import error

pytestmark = pytest.mark.anyio

TEXTBOOK = "low " * 5 + "lower " * 2 + "newest " * 6 + "widest " * 3
SAMPLES = Path(__file__).resolve().parents[1] / "server" / "samples"
SAMPLE = (SAMPLES / "en.txt").read_text(encoding="utf-8")[:2500] + (SAMPLES / "zh.txt").read_text(encoding="utf-8")[:500]

TOOLS = {
    "train_bpe": (schemas.TrainResult, False),
    "encode": (schemas.EncodeResult, True),
    "decode": (schemas.DecodeResult, True),
    "inspect_vocab": (schemas.VocabView, True),
    "explain": (schemas.ExplainResult, True),
    "list_tokenizers": (schemas.TokenizerList, True),
    "delete_tokenizer": (schemas.DeleteResult, False),
    "evaluate_tokenizer": (schemas.EvaluateResult, True),
    "compare_tokenizers": (schemas.CompareResult, True),
}
#: Every tool definition is sent to the model on every turn: the whole tools/list, as a client sees it,
#: stays under this many characters (issue 11).
TOOLS_LIST_BUDGET = 39_000


@pytest.fixture
def corpus_root(tmp_path) -> Path:
    root = tmp_path / "corpus"
    root.mkdir()
    (root / "a.txt").write_text("the cat sat on the mat\n" * 30, encoding="utf-8")
    (root / "sub").mkdir()
    (root / "sub" / "b.txt").write_text("分词器把文本切成词元\n" * 30, encoding="utf-8")
    return root


@pytest.fixture
def server(tmp_path, corpus_root):
    config = ServerConfig(data_dir=tmp_path / "data", roots=(corpus_root,), limits=Limits(max_vocab_size=5000))
    return build_server(config)


@pytest.fixture
def store(tmp_path):
    """The server's tokenizer store, as another process sharing its data directory sees it."""
    return TokenizerStore(tmp_path / "data")


async def call(client: Client, tool: str, arguments: dict, **options) -> dict:
    result = await client.call_tool(tool, arguments, **options)
    assert not result.is_error, result.content[0].text
    # The text content mirrors the structured content.
    assert json.loads(result.content[0].text) == result.structured_content
    return result.structured_content


async def train(client, name="tok", **arguments) -> dict:
    arguments = {"name": name, "text": SAMPLE, "vocab_size": 300, **arguments}
    return await call(client, "train_bpe", arguments)


# --- schemas and annotations ------------------------------------------------------


async def test_every_tool_has_described_bounded_schemas_and_honest_annotations(server, mode):
    async with Client(server, mode=mode) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(TOOLS) <= set(tools)
    for name, (output_model, read_only) in TOOLS.items():
        tool = tools[name]
        assert len(tool.description) > 150, name  # written for a model that has never seen us
        for field, schema in tool.input_schema["properties"].items():
            assert schema.get("description"), f"{name}.{field} has no description"
        assert tool.output_schema["properties"].keys() == output_model.model_json_schema()["properties"].keys()
        assert tool.annotations.read_only_hint is read_only, name
        assert tool.annotations.open_world_hint is False
        assert tool.annotations.title
    assert tools["delete_tokenizer"].annotations.destructive_hint is True
    # train_bpe can replace a tokenizer (overwrite=true): it does not claim to be harmless.
    assert tools["train_bpe"].annotations.destructive_hint is True
    train_schema = tools["train_bpe"].input_schema
    assert train_schema["required"] == ["name"]
    assert train_schema["properties"]["mode"]["enum"] == ["byte_level", "classic"]
    vocab = train_schema["properties"]["vocab_size"]["anyOf"][0]
    assert vocab["minimum"] == 1 and vocab["maximum"] == 1_000_000
    limit = tools["inspect_vocab"].input_schema["properties"]["limit"]
    assert limit["maximum"] == schemas.PAGE_LIMIT_MAX


async def test_the_tool_list_fits_its_budget(server, mode):
    async with Client(server, mode=mode) as client:
        listing = await client.list_tools()
    size = len(listing.model_dump_json(by_alias=True, exclude_none=True))
    assert {"evaluate_tokenizer", "compare_tokenizers"} <= {tool.name for tool in listing.tools}
    assert size < TOOLS_LIST_BUDGET, f"tools/list is {size:,} characters, over its budget of {TOOLS_LIST_BUDGET:,}"
    # What was cut tells a model nothing: generated titles repeat the names, null defaults repeat 'optional'.
    assert '"title":"' not in listing.model_dump_json(by_alias=True, exclude_none=True, include={"tools": {
        "__all__": {"input_schema", "output_schema"}}})
    assert '"default":null' not in listing.model_dump_json(by_alias=True, exclude_none=True)
    train = {tool.name: tool for tool in listing.tools}["train_bpe"].input_schema["properties"]
    assert train["mode"]["default"] == "byte_level"  # real defaults stay


# --- train, encode, decode ---------------------------------------------------------------


async def test_train_returns_the_summary_and_saves_the_tokenizer(server, store, mode):
    async with Client(server, mode=mode) as client:
        result = await train(client, special_tokens=["<pad>"])
        listing = await call(client, "list_tokenizers", {})
    summary = schemas.TrainResult.model_validate(result)
    assert summary.vocab_size == 300 and summary.merges_learned == 300 - 256 - 1
    assert summary.stop_reason == "vocab_size" and summary.special_tokens == {"<pad>": 0}
    assert summary.uri == "bpe://tokenizers/tok"
    assert summary.corpus.size_bytes == len(SAMPLE.encode()) and summary.corpus.files == 0
    assert [m.rank for m in summary.first_merges] == list(range(20))
    assert {"counting", "merging", "saving", "total"} <= summary.seconds.keys()
    assert [t["name"] for t in listing["tokenizers"]] == ["tok"]
    assert (store.directory / "tok.json").is_file()


async def test_train_in_merges_like_the_tutorial(server, mode):
    async with Client(server, mode=mode) as client:
        result = await train(client, name="textbook", text=TEXTBOOK, mode="classic", num_merges=5, vocab_size=None)
    assert [(m["left"], m["right"]) for m in result["first_merges"]] == [
        ("e", "s"), ("es", "t"), ("est", "</w>"), ("l", "o"), ("lo", "w")
    ]
    assert result["stop_reason"] == "num_merges"


async def test_train_reads_files_directories_and_globs_inside_the_roots(server, mode, corpus_root):
    async with Client(server, mode=mode) as client:
        by_directory = await train(client, name="dir", text=None, paths=[str(corpus_root)])
        by_glob = await train(client, name="glob", text=None, paths=["**/*.txt"])
        by_file = await train(client, name="file", text=None, paths=["a.txt"])
    assert by_directory["corpus"]["files"] == by_glob["corpus"]["files"] == 2
    assert by_file["corpus"]["files"] == 1
    assert by_directory["corpus"]["size_bytes"] == by_glob["corpus"]["size_bytes"]


async def test_train_sends_rising_progress_up_to_100(server, mode):
    updates = []

    async def on_progress(progress, total, message):
        updates.append((progress, total, message))

    async with Client(server, mode=mode) as client:
        await call(client, "train_bpe", {"name": "p", "text": SAMPLE, "vocab_size": 300},
                   progress_callback=on_progress)
    assert updates, "no progress notification arrived"
    values = [u[0] for u in updates]
    assert values == sorted(set(values)) and values[-1] == 100
    assert all(u[1] == 100 for u in updates)
    assert any("counting" in u[2] for u in updates) and any("merging" in u[2] for u in updates)


async def test_existing_name_is_refused_unless_overwrite(server, mode):
    async with Client(server, mode=mode) as client:
        await train(client)
        message = await error(client, "train_bpe", {"name": "tok", "text": "abc", "vocab_size": 260})
        replaced = await train(client, text="abc abc", vocab_size=258, overwrite=True)
    assert "already exists" in message and "overwrite=true" in message
    assert replaced["replaced_existing"] is True and replaced["vocab_size"] == 258


async def test_encode_decode_round_trip_with_tokens_and_offsets(server, mode):
    text = "the tokenizer 分词器"
    async with Client(server, mode=mode) as client:
        await train(client)
        encoded = await call(client, "encode", {"tokenizer": "tok", "text": text,
                                                "return_tokens": True, "return_offsets": True})
        decoded = await call(client, "decode", {"tokenizer": "tok", "ids": encoded["encodings"][0]["ids"]})
    encoding = encoded["encodings"][0]
    assert decoded["text"] == text and decoded["valid_utf8"] is True
    assert encoding["token_count"] == len(encoding["ids"]) == len(encoding["tokens"]) == encoded["total_tokens"]
    assert encoding["attention_mask"] is None and encoding["truncated"] is False
    # Tokens holding whole characters read as their text; a token with part of a
    # character shows its bytes as \xNN and covers the whole character.
    for token, (start, end) in zip(encoding["tokens"], encoding["offsets"]):
        assert token == text[start:end] or "\\x" in token
    assert encoding["offsets"][0][0] == 0 and encoding["offsets"][-1][1] == len(text)


async def test_batch_padding_truncation_and_attention_mask(server, mode):
    async with Client(server, mode=mode) as client:
        await train(client, special_tokens=["<pad>"])
        plain = await call(client, "encode", {"tokenizer": "tok", "texts": ["the", "the cat sat on the mat"]})
        padded = await call(client, "encode", {
            "tokenizer": "tok", "texts": ["the", "the cat sat on the mat"], "padding": "longest",
            "padding_side": "left", "max_length": 4, "return_tokens": True,
        })
    short, long = padded["encodings"]
    assert padded["pad_token_id"] == 0 and padded["padding_side"] == "left"
    assert len(short["ids"]) == len(long["ids"]) == 4
    real = plain["encodings"][0]["token_count"]
    assert short["attention_mask"] == [0] * (4 - real) + [1] * real
    assert short["ids"][: 4 - real] == [0] * (4 - real)
    assert long["truncated"] is True and long["attention_mask"] == [1, 1, 1, 1]
    assert long["ids"] == plain["encodings"][1]["ids"][:4] and len(long["tokens"]) == 4
    assert long["token_count"] == plain["encodings"][1]["token_count"]


async def test_special_token_policy_errors_say_which_argument_to_change(server, mode):
    async with Client(server, mode=mode) as client:
        await train(client, special_tokens=["<|end|>"])
        message = await error(client, "encode", {"tokenizer": "tok", "text": "the<|end|>"})
        allowed = await call(client, "encode", {"tokenizer": "tok", "text": "the<|end|>", "allowed_special": "all"})
        plain = await call(client, "encode", {"tokenizer": "tok", "text": "the<|end|>", "disallowed_special": []})
    assert "allowed_special" in message and "<|end|>" in message
    assert allowed["encodings"][0]["ids"][-1] == 0
    assert 0 not in plain["encodings"][0]["ids"]


async def test_special_token_errors_speak_json(server, mode):
    # The engine says allowed_special={'<|end|>'} and disallowed_special=() for Python callers;
    # an MCP caller writes JSON arguments, so the fix is said in JSON.
    async with Client(server, mode=mode) as client:
        await train(client, special_tokens=["<|end|>", "<pad>"])
        found = await error(client, "encode", {"tokenizer": "tok", "texts": ["a", "the<|end|>"]})
        unknown = await error(client, "encode", {"tokenizer": "tok", "text": "a", "allowed_special": ["<x>", "<y>"]})
    assert found == (
        'Error executing tool encode: the text contains the special token "<|end|>" (at character 3), which is '
        'disallowed. To encode it as the special token, pass "allowed_special": ["<|end|>"] (or "all"); to encode '
        'it as plain text, pass "disallowed_special": [] (or a list without it).'
    )
    assert unknown == ('Error executing tool encode: allowed_special names ["<x>", "<y>"], which are not special '
                       'tokens of this tokenizer (its special tokens: "<|end|>", "<pad>")')


async def test_decode_reports_invalid_utf8_and_unknown_ids(server, mode):
    async with Client(server, mode=mode) as client:
        await train(client)
        # 'å' is how byte-level BPE stores the byte 0xE5, the first byte of '分': alone it is not UTF-8.
        lead_byte = (await call(client, "inspect_vocab", {"tokenizer": "tok", "view": "token", "token": "å"}))
        ids = [lead_byte["token"]["id"]]
        replaced = await call(client, "decode", {"tokenizer": "tok", "ids": ids})
        strict = await error(client, "decode", {"tokenizer": "tok", "ids": ids, "errors": "strict"})
        unknown = await error(client, "decode", {"tokenizer": "tok", "ids": [99999]})
    assert lead_byte["token"]["bytes_hex"] == "e5"
    assert replaced["valid_utf8"] is False and replaced["text"] == "\ufffd"
    assert "not valid UTF-8" in strict and "errors='replace'" in strict
    assert "99999" in unknown and "not in the vocabulary" in unknown


# --- inspect_vocab ------------------------------------------------------------------------


async def test_inspect_summary_and_histogram(server, mode):
    async with Client(server, mode=mode) as client:
        await train(client, special_tokens=["<pad>"])
        view = await call(client, "inspect_vocab", {"tokenizer": "tok"})
    summary = view["summary"]
    assert summary["mode"] == "byte_level" and summary["pattern"] == "gpt2"
    assert summary["vocab_size"] == 300 and summary["special_tokens"] == {"<pad>": 0}
    assert summary["base_symbols"] == 256 and summary["length_unit"] == "bytes"
    assert sum(row["count"] for row in summary["length_histogram"]) == 299
    assert summary["length_histogram"][0] == {"length": 1, "count": 256}


async def test_inspect_tokens_pages_sorts_and_filters(server, mode):
    async with Client(server, mode=mode) as client:
        await train(client)
        first = await call(client, "inspect_vocab", {"tokenizer": "tok", "view": "tokens", "limit": 100})
        second = await call(client, "inspect_vocab", {"tokenizer": "tok", "view": "tokens", "limit": 100,
                                                      "offset": first["tokens"]["next_offset"]})
        longest = await call(client, "inspect_vocab", {"tokenizer": "tok", "view": "tokens", "sort": "length",
                                                       "descending": True, "limit": 3})
        cats = await call(client, "inspect_vocab", {"tokenizer": "tok", "view": "tokens", "contains": " the"})
        regex = await call(client, "inspect_vocab", {"tokenizer": "tok", "view": "tokens", "regex": "^ ?ma"})
        too_many = await error(client, "inspect_vocab", {"tokenizer": "tok", "view": "tokens", "limit": 10_000})
    page = first["tokens"]
    assert page["total"] == 300 and len(page["items"]) == 100 and page["next_offset"] == 100
    assert "offset=100" in page["next_page"]
    assert [t["id"] for t in second["tokens"]["items"]] == list(range(100, 200))
    lengths = [t["length"] for t in longest["tokens"]["items"]]
    assert lengths == sorted(lengths, reverse=True) and lengths[0] > 1
    assert cats["tokens"]["items"] and all(" the" in t["text"] for t in cats["tokens"]["items"])
    assert all(t["text"].lstrip().startswith("ma") for t in regex["tokens"]["items"])
    assert "limit" in too_many


async def test_inspect_merges_and_one_token_with_its_tree(server, mode):
    async with Client(server, mode=mode) as client:
        await train(client, name="textbook", text=TEXTBOOK, mode="classic", num_merges=10, vocab_size=None)
        merges = await call(client, "inspect_vocab", {"tokenizer": "textbook", "view": "merges", "limit": 3})
        by_text = await call(client, "inspect_vocab", {"tokenizer": "textbook", "view": "token", "token": "est</w>"})
        by_id = await call(client, "inspect_vocab", {"tokenizer": "textbook", "view": "token",
                                                     "id": by_text["token"]["id"]})
        missing = await error(client, "inspect_vocab", {"tokenizer": "textbook", "view": "token", "token": "zzz"})
        needs_one = await error(client, "inspect_vocab", {"tokenizer": "textbook", "view": "token"})
    assert [(m["left"], m["right"]) for m in merges["merges"]["items"]] == [("e", "s"), ("es", "t"), ("est", "</w>")]
    assert merges["merges"]["total"] == 10 and merges["merges"]["next_offset"] == 3
    detail = by_text["token"]
    assert detail == by_id["token"]
    assert detail["kind"] == "merged" and detail["merge_rank"] == 2
    tree = detail["tree"]
    assert (tree["left"]["token"], tree["right"]["token"]) == ("est", "</w>")
    assert (tree["left"]["left"]["token"], tree["left"]["right"]["token"]) == ("es", "t")
    assert tree["left"]["left"]["left"]["rank"] is None  # 'e' is a base symbol
    assert "merge #2" in detail["tree_text"]
    assert "zzz" in missing and "contains" in missing
    assert "exactly one of id and token" in needs_one


async def test_inspect_finds_byte_level_tokens_by_readable_text(server, mode):
    async with Client(server, mode=mode) as client:
        await train(client)
        view = await call(client, "inspect_vocab", {"tokenizer": "tok", "view": "token", "token": " the"})
    assert view["token"]["token"] == "Ġthe" and view["token"]["bytes_hex"] == "20 74 68 65"


# --- explain ---------------------------------------------------------------------------


async def test_explain_with_train_on_follows_the_textbook(server, store, mode):
    async with Client(server, mode=mode) as client:
        result = await call(client, "explain", {"text": "lowest", "train_on": TEXTBOOK, "num_merges": 10})
    assert result["tokenizer"] is None and result["mode"] == "classic"
    assert [(m["left"], m["right"]) for m in result["learned_merges"][:3]] == [("e", "s"), ("es", "t"), ("est", "</w>")]
    (word,) = result["words"]
    assert word["initial_symbols"] == ["l", "o", "w", "e", "s", "t", "</w>"]
    assert [tuple(step["pair"]) for step in word["steps"]][:2] == [("e", "s"), ("es", "t")]
    assert word["tokens"] == ["low", "est</w>"]
    assert "merge #0 (e + s -> es)" in result["walkthrough"]
    assert store.names() == []  # nothing stored


async def test_explain_with_a_stored_byte_level_tokenizer(server, mode):
    async with Client(server, mode=mode) as client:
        await train(client)
        result = await call(client, "explain", {"tokenizer": "tok", "text": "the mat 分词器", "max_words": 2})
        both = await error(client, "explain", {"tokenizer": "tok", "train_on": "x", "text": "x"})
    assert [w["word"] for w in result["words"]] == ["the", " mat"] and result["words_omitted"] == 1
    for word in result["words"]:
        assert "".join(word["tokens"]) == word["word"]
        if word["steps"]:
            assert word["steps"][-1]["symbols"] == word["tokens"]
    assert "␣" in result["walkthrough"]
    assert "exactly one of tokenizer" in both


async def test_byte_level_explain_uses_one_notation_explained_once(server, mode):
    # Merges learned, steps and tokens all show readable text, with \xNN for bytes that are only part of
    # a character (never GPT-2's byte symbols such as 'Ġ' or 'ä¸'); the first line says so, once.
    corpus = "中文 中文字 字 low lower 中文\nlowest low"
    async with Client(server, mode=mode) as client:
        result = await call(client, "explain", {"text": "lowest 中文字", "train_on": corpus, "mode": "byte_level",
                                                "num_merges": 8})
    text = result["walkthrough"]
    lines = text.splitlines()
    assert "\\xNN" in lines[0] and text.count("\\xNN") == 1
    assert text.index("\\xNN") < text.index("\\xe4")
    gpt2_symbols = {symbol for byte, symbol in enumerate(BYTE_TO_SYMBOL) if symbol != chr(byte) or byte > 127}
    assert not gpt2_symbols & set(text.replace("中", "").replace("文", "").replace("字", "")), text
    # A merge reads the same in the list of learned merges and in the word's steps.
    learned = {line.split(":")[0].strip(): line.split(": ", 1)[1] for line in lines if line.startswith("  #")}
    steps = [line for line in lines if line.startswith("  merge #")]
    assert steps
    for line in steps:
        rank, rule = line.removeprefix("  merge ").split(" (", 1)
        assert learned[rank] == rule.split("):")[0], (learned[rank], line)
    assert learned["#5"] == "␣ + low -> ␣low" and learned["#3"] == "\\xe4 + \\xb8\\xad -> 中"


# --- listing and deleting -----------------------------------------------------------------------


async def test_list_reports_corrupt_files_by_name_and_keeps_going(server, store, mode):
    async with Client(server, mode=mode) as client:
        await train(client, name="good")
        (store.directory / "broken.json").write_text('{"format": "bpe_core.tokenizer", "vers', encoding="utf-8")
        (store.directory / "foreign.json").write_text('{"hello": 1}', encoding="utf-8")
        listing = await call(client, "list_tokenizers", {})
        using = await error(client, "encode", {"tokenizer": "broken", "text": "x"})
    assert [t["name"] for t in listing["tokenizers"]] == ["good"]
    assert sorted(b["file"] for b in listing["unreadable"]) == ["broken.json", "foreign.json"]
    assert "broken" in using and "delete_tokenizer" in using


async def test_delete_then_unknown_name_lists_the_known_ones(server, mode):
    async with Client(server, mode=mode) as client:
        await train(client, name="alpha")
        await train(client, name="beta")
        deleted = await call(client, "delete_tokenizer", {"name": "alpha"})
        again = await error(client, "delete_tokenizer", {"name": "alpha"})
        unknown = await error(client, "encode", {"tokenizer": "bet", "text": "x"})
    assert deleted == {"name": "alpha", "deleted": True, "remaining": ["beta"]}
    assert "no tokenizer named 'alpha'" in again and "'beta'" in again
    assert "Did you mean 'beta'" in unknown


# --- bad input never kills the server ----------------------------------------------------------


@pytest.mark.parametrize(
    "arguments, expected",
    [
        ({"name": "../escape", "text": "abc", "vocab_size": 300}, "name"),
        ({"name": "x", "vocab_size": 300}, "text, as paths"),
        ({"name": "x", "text": "abc"}, "vocab_size"),
        ({"name": "x", "text": "abc", "vocab_size": 100}, "at least 256"),
        ({"name": "x", "text": "abc", "vocab_size": 9000}, "--max-vocab-size"),
        ({"name": "x", "text": "abc", "vocab_size": 300, "mode": "classic", "pattern": "gpt2"}, "classic"),
        ({"name": "x", "text": "abc", "vocab_size": 300, "pattern": "(unclosed"}, "regular expression"),
        ({"name": "x", "text": "abc", "vocab_size": "many"}, "vocab_size"),
        ({"name": "x", "paths": ["/etc/passwd"], "vocab_size": 300}, "outside the allowed roots"),
        ({"name": "x", "paths": ["../../"], "vocab_size": 300}, "outside the allowed roots"),
        ({"name": "x", "paths": ["missing.txt"], "vocab_size": 300}, "does not exist"),
        ({"name": "x", "paths": ["*.nothing"], "vocab_size": 300}, "matches no files"),
    ],
)
async def test_bad_training_input_is_a_tool_error_with_a_useful_message(server, mode, arguments, expected):
    async with Client(server, mode=mode) as client:
        message = await error(client, "train_bpe", arguments)
        still_alive = await call(client, "list_tokenizers", {})
    assert expected in message
    assert still_alive["tokenizers"] == []


async def test_limits_name_the_flag_that_raises_them(tmp_path, mode):
    server = build_server(ServerConfig(data_dir=tmp_path, limits=Limits(max_text_chars=10, max_corpus_bytes=5)))
    async with Client(server, mode=mode) as client:
        too_long = await error(client, "train_bpe", {"name": "x", "text": "a" * 11, "vocab_size": 300})
        too_big = await error(client, "train_bpe", {"name": "x", "text": "分分", "vocab_size": 300})
        no_roots = await error(client, "train_bpe", {"name": "x", "paths": ["a.txt"], "vocab_size": 300})
    assert "--max-text-chars" in too_long and "MCP_BPE_MAX_TEXT_CHARS" in too_long
    assert "--max-corpus-bytes" in too_big
    assert "no allowed roots" in no_roots and "--root" in no_roots


async def test_symlink_leading_outside_a_root_is_refused(server, mode, corpus_root, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret words\n", encoding="utf-8")
    (corpus_root / "link.txt").symlink_to(secret)
    async with Client(server, mode=mode) as client:
        explicit = await error(client, "train_bpe", {"name": "x", "paths": ["link.txt"], "vocab_size": 300})
        walked = await call(client, "train_bpe", {"name": "y", "paths": [str(corpus_root)], "vocab_size": 300})
    assert "outside the allowed roots" in explicit and "secret.txt" in explicit
    assert walked["corpus"]["files"] == 2
    assert any("link.txt" in line and "refused" in line for line in walked["corpus"]["skipped"])


async def test_client_roots_allow_files_only_when_the_client_offers_them(tmp_path, mode):
    outside = tmp_path / "client-files"
    outside.mkdir()
    (outside / "c.txt").write_text("client corpus text\n" * 10, encoding="utf-8")
    server = build_server(ServerConfig(data_dir=tmp_path / "data"))
    arguments = {"name": "c", "paths": [str(outside / "c.txt")], "vocab_size": 270}

    async def list_roots(context):
        return ListRootsResult(roots=[Root(uri=outside.as_uri(), name="client files")])

    async with Client(server, mode=mode) as client:
        refused = await error(client, "train_bpe", arguments)
    async with Client(server, mode=mode, list_roots_callback=list_roots) as client:
        trained = await call(client, "train_bpe", arguments)
    assert "no allowed roots" in refused
    assert trained["corpus"]["files"] == 1


async def test_an_unreadable_file_is_reported_with_its_name(server, mode, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied", "/corpus/locked.txt")

    monkeypatch.setattr("server.service.bpe_core.train", refuse)
    async with Client(server, mode=mode) as client:
        message = await error(client, "train_bpe", {"name": "x", "paths": ["a.txt"], "vocab_size": 300})
    assert "/corpus/locked.txt: Permission denied" in message
