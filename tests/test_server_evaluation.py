"""evaluate_tokenizer and compare_tokenizers through the SDK's in-memory client, in both protocol eras.

Each reply's first text block is the readable summary, the second the JSON of the structured content (the
numbers); compare_tokenizers' structured content is a shape the token view app draws.
"""

from __future__ import annotations

import json
import os
import random
import threading
from pathlib import Path

import anyio
import pytest
from mcp import Client

from bpe_core import evaluation, load_tokenizer
from bpe_core.errors import EvaluationCancelled
from server import ServerConfig, build_server, token_view_app
from server.config import Limits
from server.service import BPEService

from corpus_text import corpus_slice
from tool_calls import cancel_once_under_way

pytestmark = pytest.mark.anyio

ENGLISH = corpus_slice("en", 6_000)
CHINESE = corpus_slice("zh", 3_000)


@pytest.fixture
def corpus_root(tmp_path) -> Path:
    root = tmp_path / "corpus"
    root.mkdir()
    (root / "en.txt").write_text(ENGLISH, encoding="utf-8")
    (root / "zh.txt").write_text(CHINESE, encoding="utf-8")
    return root


@pytest.fixture
def service(tmp_path, corpus_root) -> BPEService:
    return BPEService(ServerConfig(data_dir=tmp_path / "data", roots=(corpus_root,)))


@pytest.fixture
def server(service):
    return build_server(service.config, service)


async def reply(client: Client, tool: str, arguments: dict, **options) -> tuple[str, dict]:
    """(summary, structured content) of a successful call, after checking the two text blocks."""
    result = await client.call_tool(tool, arguments, **options)
    assert not result.is_error, result.content[0].text
    summary, data = (block.text for block in result.content)
    assert json.loads(data) == result.structured_content  # the JSON for clients without structured content
    return summary, result.structured_content


async def failure(client: Client, tool: str, arguments: dict) -> str:
    result = await client.call_tool(tool, arguments)
    assert result.is_error, result.structured_content
    return result.content[0].text


async def train(client: Client, name: str, text: str = ENGLISH, **arguments) -> None:
    result = await client.call_tool("train_bpe", {"name": name, "text": text, "vocab_size": 400, **arguments})
    assert not result.is_error, result.content[0].text


async def test_evaluate_reports_the_engines_numbers_with_a_summary_first(server, service, mode):
    async with Client(server, mode=mode) as client:
        await train(client, "en-bpe")
        summary, numbers = await reply(client, "evaluate_tokenizer", {"tokenizer": "en-bpe", "text": CHINESE,
                                                                      "top_k": 5, "list_limit": 7})
    expected = evaluation.evaluate(service.store.load("en-bpe").tokenizer, [CHINESE], name="en-bpe", top_k=5,
                                   list_limit=7)
    assert summary == expected.summary()
    assert summary.startswith("en-bpe (byte_level, gpt2, 400 tokens")
    for field in ("bytes", "characters", "tokens", "cjk_characters", "cjk_tokens", "vocab_used", "unused_total",
                  "merge_only_total", "round_trip_failures", "byte_fallback_bytes"):
        assert numbers[field] == getattr(expected, field), field
    assert numbers["tokens_per_cjk_character"] == pytest.approx(expected.tokens_per_cjk_character)
    assert numbers["round_trip_failures"] == 0 and numbers["byte_fallback_bytes"] > 0  # English merges, Chinese text
    assert [t["id"] for t in numbers["top_tokens"]] == [t.id for t in expected.top_tokens]
    assert len(numbers["unused_tokens"]) == 7 and numbers["next_list_offset"] == 7


async def test_evaluate_pages_through_the_unused_tokens(server, mode):
    async with Client(server, mode=mode) as client:
        await train(client, "zh-bpe", text=CHINESE)
        seen, offset = [], 0
        while offset is not None:
            _, page = await reply(client, "evaluate_tokenizer", {"tokenizer": "zh-bpe", "text": ENGLISH[:2000],
                                                                 "list_offset": offset, "list_limit": 50})
            assert page["list_offset"] == offset
            seen += [t["id"] for t in page["unused_tokens"]]
            offset = page["next_list_offset"]
    assert len(seen) == len(set(seen)) == page["unused_total"]  # every unused token once, in pages


async def test_evaluate_reads_files_in_the_roots_and_reports_progress(server, corpus_root, mode):
    progress = []

    async def on_progress(done, total, message):
        progress.append((done, total, message))

    async with Client(server, mode=mode) as client:
        await train(client, "en-bpe")
        _, numbers = await reply(client, "evaluate_tokenizer", {"tokenizer": "en-bpe", "paths": ["*.txt"]},
                                 progress_callback=on_progress)
        outside = await failure(client, "evaluate_tokenizer", {"tokenizer": "en-bpe", "paths": ["/etc/hostname"]})
        neither = await failure(client, "evaluate_tokenizer", {"tokenizer": "en-bpe"})
    assert numbers["sources"] == 2
    assert numbers["bytes"] == sum(len(p.read_bytes()) for p in corpus_root.glob("*.txt"))
    assert progress and [p[0] for p in progress] == sorted(p[0] for p in progress) and progress[-1][0] == 100.0
    assert all(message.startswith("evaluating: ") for _, _, message in progress)
    assert "outside the allowed roots" in outside
    assert "give the held-out text as text, as paths, or both" in neither


async def test_compare_ranks_and_aligns_and_the_token_view_can_draw_it(server, mode):
    text = ENGLISH[:400] + "\n" + CHINESE[:200]
    async with Client(server, mode=mode) as client:
        await train(client, "en-bpe")
        await train(client, "zh-bpe", text=CHINESE)
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        summary, result = await reply(client, "compare_tokenizers", {
            "tokenizers": ["en-bpe", "zh-bpe", "o200k_base"], "text": text, "sample_chars": 300})
    assert tools["compare_tokenizers"].meta == token_view_app.TOOL_META  # MCP Apps hosts draw the sample
    table = result["table"]
    assert [row["rank"] for row in table] == [1, 2, 3]
    assert [row["tokens"] for row in table] == sorted(row["tokens"] for row in table)
    assert table[0]["tokenizer"] == "o200k_base" and table[0]["relative"] == 1.0
    assert {row["tokenizer"] for row in table} == {"en-bpe", "zh-bpe", "o200k_base"}
    # The readable table first (for clients without Apps), one row per tokenizer, best first.
    lines = summary.splitlines()
    assert lines[0].split()[:3] == ["tokenizer", "vocab", "tokens"]
    assert [line.split()[1] for line in lines[1:4]] == [row["tokenizer"] for row in table]
    # The sample: each tokenizer's tokens cover it, in order, by character offsets.
    sample = result["sample"]
    assert 150 <= len(sample["text"]) <= 300 and text.startswith(sample["text"])
    assert [s["tokenizer"] for s in sample["segmentations"]] == ["en-bpe", "zh-bpe", "o200k_base"]
    for segmentation in sample["segmentations"]:
        tokens = segmentation["tokens"]
        assert tokens[0]["start"] == 0 and tokens[-1]["end"] == len(sample["text"])
        assert all(a["end"] <= b["start"] or a["start"] == b["start"] or a["end"] == b["end"]
                   for a, b in zip(tokens, tokens[1:]))
        assert all(t["byte_fallback"] == (t["text"] != sample["text"][t["start"]:t["end"]]) for t in tokens)
    assert sample["differing_boundaries"]
    # The shape the app's reader takes: {"sample": {"segmentations": [{"tokenizer", "tokens": [...]}]}}.
    html = token_view_app.token_view.app_html()
    assert "result.sample" in html and "holders[i].segmentations" in html


async def test_compare_refuses_too_few_repeated_or_unknown_tokenizers(server, mode):
    async with Client(server, mode=mode) as client:
        await train(client, "en-bpe")
        one = await failure(client, "compare_tokenizers", {"tokenizers": ["en-bpe"], "text": "x"})
        nine = await failure(client, "compare_tokenizers", {"tokenizers": ["en-bpe"] * 9, "text": "x"})
        twice = await failure(client, "compare_tokenizers", {"tokenizers": ["en-bpe", "en-bpe"], "text": "x"})
        unknown = await failure(client, "compare_tokenizers", {"tokenizers": ["en-bpe", "gpt-5"], "text": "x"})
    assert "tokenizers" in one and "at least 2" in one
    assert "tokenizers" in nine and "at most 8" in nine
    assert "'en-bpe' more than once" in twice
    assert "no tokenizer named 'gpt-5'" in unknown and "o200k_base" in unknown and "gpt-4o" in unknown


async def test_reply_size_budget_applies_to_evaluation_lists(tmp_path):
    small = ServerConfig(data_dir=tmp_path / "data", limits=Limits(max_reply_bytes=4096))
    async with Client(build_server(small)) as client:
        await train(client, "en-bpe")
        message = await failure(client, "evaluate_tokenizer", {"tokenizer": "en-bpe", "text": ENGLISH,
                                                               "list_limit": 500, "top_k": 500})
        _, fitting = await reply(client, "evaluate_tokenizer", {"tokenizer": "en-bpe", "text": ENGLISH,
                                                                "list_limit": 3, "top_k": 3})
    assert "over this server's reply size limit" in message and "list fewer tokens (top_k, list_limit)" in message
    assert fitting["tokens"] > 0


@pytest.fixture
def big_root(tmp_path) -> Path:
    """~4 MB of lines of random words: the pure-Python classic encoder takes seconds, 1 MB block by block
    (a block ends at a line end, so the lines let the evaluation report progress and stop between blocks)."""
    root = tmp_path / "big"
    root.mkdir()
    rng = random.Random(11)
    lines = (" ".join("".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(4, 14))) for _ in range(12))
             for _ in range(35_000))
    (root / "random.txt").write_text("\n".join(lines), encoding="utf-8")
    return root


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_cancelling_an_evaluation_stops_its_worker(tmp_path, big_root, mode, monkeypatch):
    service = BPEService(ServerConfig(data_dir=tmp_path / "data", roots=(big_root,)))
    server = build_server(service.config, service)
    # Record how the service call ends, in its worker thread (the real evaluation runs).
    ended, how = threading.Event(), []
    real_evaluate = service.evaluate

    def recorded(*args, **kwargs):
        try:
            return real_evaluate(*args, **kwargs)
        except BaseException as exc:
            how.append(exc)
            raise
        finally:
            ended.set()

    monkeypatch.setattr(service, "evaluate", recorded)
    started = anyio.Event()

    async def on_progress(done, total, message):
        if 0 < done < 100:
            started.set()

    async with Client(server, mode=mode) as client:
        result = await client.call_tool("train_bpe", {"name": "classic", "text": "low lower newest widest " * 20,
                                                      "mode": "classic", "num_merges": 20})
        assert not result.is_error
        outcome = await cancel_once_under_way(
            lambda: client.call_tool("evaluate_tokenizer", {"tokenizer": "classic", "paths": ["random.txt"]},
                                     progress_callback=on_progress),
            started, timeout=120)
        with anyio.fail_after(120):
            while not ended.is_set():
                await anyio.sleep(0.02)
    assert len(how) == 1 and isinstance(how[0], EvaluationCancelled), how
    if "result" in outcome:  # the in-process dispatcher may still deliver the handler's answer
        assert outcome["result"].is_error and outcome["result"].content[0].text.endswith("the call was cancelled")


async def test_a_cancelled_evaluation_is_the_tool_error_the_call_was_cancelled(server, service, monkeypatch):
    def cancelled(*args, **kwargs):
        raise EvaluationCancelled("evaluating was cancelled after 0 of 10 bytes")

    monkeypatch.setattr(evaluation, "evaluate", cancelled)
    async with Client(server) as client:
        await train(client, "en-bpe")
        message = await failure(client, "evaluate_tokenizer", {"tokenizer": "en-bpe", "text": "hello"})
    assert message == "Error executing tool evaluate_tokenizer: the call was cancelled"
    assert load_tokenizer(service.store.path_for("en-bpe")).vocab_size == 400  # nothing else touched


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_evaluate_and_compare_over_stdio(tmp_path, corpus_root, mode):
    from mcp import StdioServerParameters
    from mcp.client.stdio import stdio_client

    from stdio_harness import console_script

    # The SDK starts a stdio server with a minimal environment: pass PYTHONPATH on (the code under test).
    python_path = os.pathsep.join(os.path.abspath(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p)
    parameters = StdioServerParameters(
        command=console_script(), args=["--data-dir", str(tmp_path / "data"), "--root", str(corpus_root)],
        env={"PYTHONPATH": python_path} if python_path else None)
    progress = []

    async def on_progress(done, total, message):
        progress.append(done)

    with open(tmp_path / "stderr.log", "w") as errors:
        async with Client(stdio_client(parameters, errlog=errors), mode=mode) as client:
            await train(client, "en-bpe")
            summary, numbers = await reply(client, "evaluate_tokenizer", {"tokenizer": "gpt-4o", "paths": ["zh.txt"]},
                                           progress_callback=on_progress)
            table, compared = await reply(client, "compare_tokenizers", {
                "tokenizers": ["en-bpe", "gpt-4o"], "paths": ["en.txt", "zh.txt"], "sample_chars": 100})
    assert summary.startswith("gpt-4o (byte_level, o200k, 200,000 tokens")
    assert numbers["bytes"] == len(CHINESE.encode()) and numbers["round_trip_failures"] == 0
    assert progress and progress[-1] == 100.0
    assert [row["tokenizer"] for row in compared["table"]] == ["gpt-4o", "en-bpe"]
    assert table.splitlines()[1].split()[:2] == ["1.", "gpt-4o"]
