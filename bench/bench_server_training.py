"""What training through the server adds to the engine's own time (not a CI test).

    python bench/bench_server_training.py [CORPUS ...] [--vocab 32000] [--repeat 3]

For each corpus file (default: the shared corpora, English and code joined
into one file, and the Chinese one), in alternation and ``--repeat`` times:

* the engine: a fresh ``python -c`` process runs ``bpe_core.train(files=[...])``
  and reports the seconds of that call;
* the server: ``mcp-server-bpe`` over stdio with the corpus's directory as its
  root, one ``train_bpe`` call with a progress token (as a client that shows
  progress sends it), timed from the request line to the reply.

Both count words with the same worker processes (the default: the cores).
Prints the best time of each and the ratio server / engine (target: at most
1.10).  The server's figure includes the JSON-RPC round trip, argument
checks, progress notifications, saving the tokenizer and building the reply.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCRIPT = Path(sys.executable).with_name("mcp-server-bpe")
CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"

ENGINE = """
import sys, time, bpe_core
started = time.perf_counter()
tok = bpe_core.train([], files=[sys.argv[1]], vocab_size=int(sys.argv[2]))
print(time.perf_counter() - started, len(tok.merges))
"""


def engine_seconds(path: Path, vocab: int) -> tuple[float, int]:
    output = subprocess.run([sys.executable, "-c", ENGINE, str(path), str(vocab)], capture_output=True, text=True,
                            check=True).stdout.split()
    return float(output[0]), int(output[1])


def server_seconds(path: Path, vocab: int) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as data:
        process = subprocess.Popen([str(SCRIPT), "--data-dir", data, "--root", str(path.parent)],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

        def send(message: dict) -> None:
            process.stdin.write((json.dumps(message) + "\n").encode())
            process.stdin.flush()

        def reply(request_id) -> dict:
            for line in process.stdout:
                message = json.loads(line)
                if message.get("id") == request_id and "method" not in message:
                    return message
            raise RuntimeError("the server closed stdout")

        send({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}}})
        reply(0)
        send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        started = time.perf_counter()
        send({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
            "name": "train_bpe", "_meta": {"progressToken": "t"},
            "arguments": {"name": "bench", "paths": [path.name], "vocab_size": vocab}}})
        result = reply(1)["result"]
        seconds = time.perf_counter() - started
        process.stdin.close()
        process.wait(timeout=60)
        assert not result["isError"], result["content"][0]["text"]
        return seconds, result["structuredContent"]["merges_learned"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpora", nargs="*", type=Path)
    parser.add_argument("--vocab", type=int, default=32000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        corpora = args.corpora
        if not corpora:
            joined = Path(scratch) / "en_and_code.txt"
            joined.write_bytes((CORPORA / "en_pydocs.txt").read_bytes() + (CORPORA / "code_cpython.txt").read_bytes())
            corpora = [joined, CORPORA / "zh_kernel_docs.txt"]
        print(f"vocab {args.vocab}, best of {args.repeat}\n")
        print("| corpus | MB | engine s | through the server s | server / engine | same merges count |")
        print("|---|---:|---:|---:|---:|---|")
        for path in corpora:
            engine, server = [], []
            for _ in range(args.repeat):
                engine.append(engine_seconds(path, args.vocab))
                server.append(server_seconds(path, args.vocab))
            best_engine, best_server = min(engine), min(server)
            same = {m for _, m in engine} == {m for _, m in server}
            print(f"| {path.name} | {path.stat().st_size / 1e6:.1f} | {best_engine[0]:.2f} | {best_server[0]:.2f} | "
                  f"{best_server[0] / best_engine[0]:.2f} | {'yes' if same else 'no'} |")


if __name__ == "__main__":
    main()
