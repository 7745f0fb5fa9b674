"""The README's examples do what the README says, as a newcomer would run them.

The command-line block is run line by line, in order, in an empty
directory that holds only a ``corpus.txt`` (the README's own file name;
here the bundled sample), so every command uses the files the ones before
it wrote, as in a terminal.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from mcp import Client

from server import ServerConfig, build_server

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")
SAMPLES = REPO / "server" / "samples"


def _section(title: str) -> str:
    start = README.index(f"\n## {title}")
    end = README.find("\n## ", start + 1)
    return README[start:end if end != -1 else None]


def _cli_examples() -> list[str]:
    block = re.search(r"```bash\n(.*?)```", _section("Command line and other libraries' files"), re.S).group(1)
    return [line for line in block.splitlines() if line.startswith("python -m bpe_core")]


def test_the_command_line_examples_run_in_order(tmp_path):
    examples = _cli_examples()
    assert len(examples) >= 7 and examples[0].split()[3] == "train"
    corpus = "".join(p.read_text(encoding="utf-8") for p in sorted(SAMPLES.glob("*.txt")))
    (tmp_path / "corpus.txt").write_text(corpus, encoding="utf-8")
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    outputs = []
    for line in examples:
        command = line.replace("python -m bpe_core", f"{sys.executable} -m bpe_core")
        result = subprocess.run(["bash", "-o", "pipefail", "-c", command], cwd=tmp_path, capture_output=True,
                                text=True, encoding="utf-8", env=environment, timeout=300)
        assert result.returncode == 0, f"{line}\n{result.stderr}"
        assert "error" not in result.stderr.lower(), f"{line}\n{result.stderr}"
        outputs.append(result.stdout)
    # The decode example gets back the text the encode example encoded.
    decoded = [out for line, out in zip(examples, outputs) if "bpe_core decode" in line]
    assert decoded == ["Hello world\n"]
    assert (tmp_path / "tokenizer.json").is_file() and (tmp_path / "tok.json").is_file()


@pytest.mark.anyio
async def test_the_merges_resource_starts_with_the_header_the_readme_names(tmp_path):
    described = re.search(r"`bpe://tokenizers/\{name\}/merges` \(([^)]*)\)", README).group(1)
    header = re.search(r"`(#version[^`]*)` header line", described).group(1)
    server = build_server(ServerConfig(data_dir=tmp_path / "data"))
    async with Client(server) as client:
        trained = await client.call_tool("train_bpe", {"name": "t", "text": "low lower lowest " * 5,
                                                       "vocab_size": 260})
        assert not trained.is_error
        (content,) = (await client.read_resource("bpe://tokenizers/t/merges")).contents
    first, second, *_ = content.text.splitlines()
    assert first == header
    assert len(second.split(" ")) == 2  # then "left right" pairs
