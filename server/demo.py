"""``mcp-server-bpe demo``: the real server, driven by a real MCP client.

Starts ``python -m server`` as a subprocess over stdio (exactly what Claude
Desktop or the MCP Inspector would start), then, as an MCP client: trains a
tokenizer on the bundled English and Chinese sample corpus, encodes an
English and a Chinese sentence, encodes a padded batch, explains one word
merge by merge, and prints it all.  The tokenizer goes to a temporary data
directory that is removed afterwards, unless ``--data-dir`` or ``--keep``.

This module is the *client* side: its ``print`` calls go to the user's
terminal.  The server's own stdout is the pipe to this process, and it
carries JSON-RPC only (``tests/test_server_stdio.py`` checks that).
"""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

SAMPLES = Path(__file__).resolve().parent / "samples"
TOKENIZER = "demo-sample"
ENGLISH = "Tokenizers split rare words into familiar pieces."
CHINESE = "分词器把文本切成词元，模型读到的是编号。"
WORD = "tokenizer"
# A token holding only part of a character's UTF-8 bytes shows them as \xNN (bpe_core.display).
BYTE_FRAGMENT = re.compile(r"\\x[0-9a-f]{2}")
FRAGMENTS_NOTE = ("(\\xNN below is one byte of a character whose UTF-8 bytes are split between tokens: "
                  "'切' is \\xe5\\x88\\x87, so a token '\\xe5\\x88' holds its first two bytes)")


def run_demo(data_dir: str | None = None, keep: bool = False) -> int:
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="replace")  # consoles that cannot show Chinese
    temporary = data_dir is None
    directory = Path(data_dir).expanduser() if data_dir else Path(tempfile.mkdtemp(prefix="mcp-server-bpe-demo-"))
    directory.mkdir(parents=True, exist_ok=True)
    log_path = directory / "server.log"
    try:
        with open(log_path, "w", encoding="utf-8") as server_log:
            anyio.run(_session, directory, server_log)
    except Exception as exc:
        print(f"\nThe demo failed: {exc!r}", file=sys.stderr)
        print(f"The server's log is in {log_path}", file=sys.stderr)
        return 1
    finally:
        if temporary and not keep:
            shutil.rmtree(directory, ignore_errors=True)
    if temporary and not keep:
        print("\nThe demo's data directory was temporary and has been removed (use --keep to keep it).")
    else:
        print(f"\nThe tokenizer is stored in {directory / 'tokenizers'}.")
    return 0


def _heading(text: str) -> None:
    print(f"\n== {text} " + "=" * max(0, 66 - len(text)))


async def _session(data_dir: Path, server_log) -> None:
    command = [sys.executable, "-m", "server", "--data-dir", str(data_dir), "--root", str(SAMPLES),
               "--log-level", "INFO"]
    _heading("Starting the server over stdio")
    print("$ " + " ".join(command))
    parameters = StdioServerParameters(command=command[0], args=command[1:])
    async with Client(stdio_client(parameters, errlog=server_log)) as client:
        tools = await client.list_tools()
        print(f"connected (protocol {client.protocol_version}); tools: " + ", ".join(t.name for t in tools.tools))

        explained = []

        def explain_fragments_once(texts: list[str]) -> None:
            """Say what \\xNN means before the first text that shows one, and only then."""
            if not explained and any(BYTE_FRAGMENT.search(text) for text in texts):
                print(FRAGMENTS_NOTE)
                explained.append(True)

        _heading("train_bpe on the bundled English + Chinese sample")
        print("corpus files: " + ", ".join(p.name for p in sorted(SAMPLES.glob("*.txt"))))

        live = sys.stdout.isatty()

        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            line = f"  progress {progress:5.1f}%  {message or '':<40}"
            print("\r" + line if live else line, end="" if live else "\n", flush=True)

        trained = await _call(client, "train_bpe", {
            "name": TOKENIZER, "paths": ["*.txt"], "vocab_size": 600,
            "special_tokens": ["<|endoftext|>", "<pad>"], "overwrite": True,
        }, progress_callback=on_progress)
        if live:
            print()
        corpus = trained["corpus"]
        print(f"vocabulary: {trained['vocab_size']} tokens ({trained['merges_learned']} merges learned, "
              f"stopped because: {trained['stop_explanation']})")
        print(f"corpus: {corpus['files']} files, {corpus['size_bytes']:,} bytes, {corpus['words']:,} words "
              f"({corpus['distinct_words']:,} distinct); {trained['seconds']['total']:.2f} s")
        first_merges = [m["merged_text"] for m in trained["first_merges"][:12]]
        explain_fragments_once(first_merges)
        print("first merges: " + ", ".join(f"'{text}'" for text in first_merges))
        print(f"saved as {trained['uri']}")

        for title, sentence in (("English", ENGLISH), ("Chinese", CHINESE)):
            _heading(f"encode a sentence in {title}")
            encoded = await _call(client, "encode", {"tokenizer": TOKENIZER, "text": sentence, "return_tokens": True})
            encoding = encoded["encodings"][0]
            print(f"text:   {sentence}")
            explain_fragments_once(encoding["tokens"])
            print(f"tokens: {' | '.join(encoding['tokens'])}")
            print(f"ids:    {encoding['ids']}")
            print(f"{len(sentence)} characters -> {encoding['token_count']} tokens")
            decoded = await _call(client, "decode", {"tokenizer": TOKENIZER, "ids": encoding["ids"]})
            print(f"decode(ids) == text: {decoded['text'] == sentence}")

        _heading("encode a batch with left padding")
        texts = ["a model", "a language model reads tokens"]
        batch = await _call(client, "encode", {
            "tokenizer": TOKENIZER, "texts": texts, "padding": "longest", "padding_side": "left",
        })
        for text, row in zip(texts, batch["encodings"]):
            print(f"text {text!r} ({row['token_count']} tokens)")
            print(f"    ids            {row['ids']}\n    attention_mask {row['attention_mask']}")
        print(f"(pad id {batch['pad_token_id']}; 0 in the mask = padding the model must not attend to)")

        _heading(f"explain {WORD!r}, merge by merge")
        explained = await _call(client, "explain", {"tokenizer": TOKENIZER, "text": WORD})
        print(explained["walkthrough"])

        _heading("inspect_vocab: how the longest learned token is built")
        longest = await _call(client, "inspect_vocab", {
            "tokenizer": TOKENIZER, "view": "tokens", "sort": "length", "descending": True, "limit": 10,
        })
        token_id = next(t["id"] for t in longest["tokens"]["items"] if t["kind"] == "merged")
        detail = await _call(client, "inspect_vocab", {"tokenizer": TOKENIZER, "view": "token", "id": token_id})
        print(detail["token"]["tree_text"])


async def _call(client: Client, tool: str, arguments: dict, **options) -> dict:
    result = await client.call_tool(tool, arguments, **options)
    if result.is_error:
        raise RuntimeError(f"{tool} failed: {result.content[0].text}")
    return result.structured_content
