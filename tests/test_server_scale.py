"""train_bpe on real corpus formats, from a counts file, and on a Dask cluster (in-memory MCP client)."""

from __future__ import annotations

import json

import pytest
from mcp import Client

from bpe_core import train as engine_train
from bpe_core.counts import count_words, save_counts
from dask_clusters import local_cluster
from scale_corpora import make_records, optional, write_jsonl, write_parquet, write_text
from server import ServerConfig, build_server

pytestmark = pytest.mark.anyio

RECORDS = make_records(800)
MERGES = 150


@pytest.fixture
def root(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    return root


def server_for(tmp_path, root, **config):
    return build_server(ServerConfig(data_dir=tmp_path / "data", roots=(root,), **config))


async def call(client, arguments: dict) -> dict:
    result = await client.call_tool("train_bpe", arguments)
    assert not result.is_error, result.content[0].text
    return result.structured_content


async def error(client, arguments: dict) -> str:
    result = await client.call_tool("train_bpe", arguments)
    assert result.is_error, result.structured_content
    return result.content[0].text


def stored_merges(tmp_path, name: str) -> list:
    return [tuple(m) for m in json.loads((tmp_path / "data" / "tokenizers" / f"{name}.json").read_text(encoding="utf-8"))["merges"]]


async def test_train_bpe_reads_compressed_json_lines_with_a_nested_field_and_reports_bad_records(tmp_path, root,
                                                                                               mode):
    write_jsonl(root / "docs.jsonl.gz", RECORDS, field="meta.body", compression="gz")
    (root / "bad.jsonl").write_bytes(b'{"meta": {"body": "low lower\\n"}}\n{nope\n{"meta": {}}\n')
    expected = engine_train("".join(RECORDS) + "low lower\n", mode="classic", num_merges=MERGES).merges
    async with Client(server_for(tmp_path, root), mode=mode) as client:
        arguments = {"name": "docs", "paths": ["docs.jsonl.gz", "bad.jsonl"], "mode": "classic",
                     "num_merges": MERGES, "text_field": "meta.body"}
        message = await error(client, arguments)
        assert "bad.jsonl': not valid JSON" in message and "at line 2" in message and "on_error='skip'" in message
        result = await call(client, {**arguments, "on_error": "skip"})
    assert result["corpus"]["files"] == 2
    assert result["corpus"]["skipped_records"] == 2
    assert [p.split(": ")[1] for p in result["corpus"]["problems"]] == ["line 2", "line 3"]
    assert stored_merges(tmp_path, "docs") == expected


async def test_train_bpe_from_a_counts_file_inside_the_roots(tmp_path, root, mode):
    text = "".join(RECORDS)
    save_counts(count_words(text, mode="classic", special_tokens=["<s>"]), root / "counts.tsv")
    outside = save_counts(count_words(text), tmp_path / "outside.tsv")
    expected = engine_train(text, mode="classic", num_merges=MERGES, special_tokens=["<s>"])
    async with Client(server_for(tmp_path, root), mode=mode) as client:
        # Mode and special tokens left out: they come from the counts file.
        result = await call(client, {"name": "counted", "counts_path": "counts.tsv", "num_merges": MERGES})
        assert "outside the allowed roots" in await error(
            client, {"name": "x", "counts_path": str(outside), "num_merges": 5})
        assert "not both" in await error(
            client, {"name": "x", "counts_path": "counts.tsv", "text": "more", "num_merges": 5})
        assert "other settings" in await error(
            client, {"name": "x", "counts_path": "counts.tsv", "special_tokens": ["<t>"], "num_merges": 5})
    assert result["mode"] == "classic" and result["special_tokens"] == {"<s>": 0}
    assert result["corpus"]["words"] == expected.training.words
    assert stored_merges(tmp_path, "counted") == [tuple(m) for m in expected.merges]


async def test_server_flag_dask_counts_train_bpe_on_the_cluster(tmp_path, root, mode):
    optional("distributed")
    write_text(root / "a.txt", RECORDS)
    expected = engine_train("".join(RECORDS), mode="classic", num_merges=MERGES).merges
    with local_cluster(workers=2) as cluster_client:
        address = cluster_client.scheduler.address
        async with Client(server_for(tmp_path, root, dask=address), mode=mode) as client:
            await call(client, {"name": "on_dask", "paths": ["a.txt"], "mode": "classic", "num_merges": MERGES})
        # The cluster did the counting: its scheduler saw our count tasks.
        assert any("count_shard" in str(key) for key in cluster_client.run_on_scheduler(
            lambda dask_scheduler: list(dask_scheduler.task_prefixes)))
    assert stored_merges(tmp_path, "on_dask") == expected


async def test_directory_walks_take_compressed_and_parquet_corpora_and_skip_other_archives(tmp_path, root, mode):
    optional("pyarrow")
    corpus = root / "corpus"
    corpus.mkdir()
    third = len(RECORDS) // 3
    write_jsonl(corpus / "a.jsonl.gz", RECORDS[:third], compression="gz")
    write_parquet(corpus / "b.parquet", RECORDS[third:2 * third])
    write_text(corpus / "c.txt.xz", RECORDS[2 * third:], compression="xz")
    write_text(corpus / "backup.tar.gz", ["not a corpus\n"], compression="gz")
    expected = engine_train("".join(RECORDS), mode="classic", num_merges=MERGES).merges
    async with Client(server_for(tmp_path, root), mode=mode) as client:
        result = await call(client, {"name": "walked", "paths": ["corpus"], "mode": "classic", "num_merges": MERGES})
    assert result["corpus"]["files"] == 3
    assert any("backup.tar.gz: skipped" in note for note in result["corpus"]["skipped"])
    assert stored_merges(tmp_path, "walked") == expected
