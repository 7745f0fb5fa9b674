"""What training through the server adds to the engine's own time (not a CI test).

    python bench/bench_server_training.py [CORPUS ...] [--vocab 32000] [--repeat 3] [--calls 1]

For each corpus file (default: the shared corpora, English and code joined
into one file, and the Chinese one; ``$BPE_TEST_SHARED_CORPORA`` says where they
are), in alternation and ``--repeat`` times:

* the engine: a fresh ``python -c`` process runs ``bpe_core.train(files=[...])``
  and reports the seconds of that call;
* the server: a fresh ``mcp-server-bpe`` over stdio with the corpus's directory
  as its root, ``--calls`` ``train_bpe`` calls one after the other, each with a
  progress token (as a client that shows progress sends it), timed from the
  request line to the reply.  The first call of a server also starts its fork
  server (the process its counting workers are forked from).

Both count words with the same worker processes (the default: the cores).
Prints the best time of each and the ratio server / engine (target: at most
1.10).  The server's figure includes the JSON-RPC round trip, argument
checks, progress notifications, saving the tokenizer and building the reply.

The machine is shared and wall times swing with its load, so CPU seconds
are printed too: of the engine process and its workers, and of the server's
process tree (the server, its fork server and the workers) during the call.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

SCRIPT = Path(sys.executable).with_name("mcp-server-bpe")
# The shared corpora: $BPE_TEST_SHARED_CORPORA (as the tests read it), else ../shared/corpora.
CORPORA = Path(os.environ.get("BPE_TEST_SHARED_CORPORA") or Path(__file__).resolve().parents[2] / "shared" / "corpora")
TICKS = os.sysconf("SC_CLK_TCK")

ENGINE = """
import resource, sys, time, bpe_core

def cpu():
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # the worker processes, once they are gone
    return time.process_time() + children.ru_utime + children.ru_stime

started, cpu_started = time.perf_counter(), cpu()
tok = bpe_core.train([], files=[sys.argv[1]], vocab_size=int(sys.argv[2]))
print(time.perf_counter() - started, cpu() - cpu_started, len(tok.merges), tok.training.seconds["counting"])
"""


class Run(NamedTuple):
    """One training: wall seconds, CPU seconds (all processes), merges learned, seconds counting words."""

    seconds: float
    cpu: float
    merges: int
    counting: float


def engine_run(path: Path, vocab: int) -> Run:
    output = subprocess.run([sys.executable, "-c", ENGINE, str(path), str(vocab)], capture_output=True, text=True,
                            check=True).stdout.split()
    return Run(float(output[0]), float(output[1]), int(output[2]), float(output[3]))


def tree_cpu(pid: int) -> float:
    """CPU seconds of a process, of its children still running, and of the children they have reaped."""
    total = 0.0
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        total += sum(int(f) for f in fields[11:15]) / TICKS  # utime, stime, cutime, cstime
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as children:
                total += sum(tree_cpu(int(child)) for child in children.read().split())
    except FileNotFoundError:  # gone meanwhile
        pass
    return total


def server_runs(path: Path, vocab: int, calls: int) -> list[Run]:
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
        runs = []
        for call in range(1, calls + 1):
            started, cpu_started = time.perf_counter(), tree_cpu(process.pid)
            send({"jsonrpc": "2.0", "id": call, "method": "tools/call", "params": {
                "name": "train_bpe", "_meta": {"progressToken": "t"},
                "arguments": {"name": f"bench{call}", "paths": [path.name], "vocab_size": vocab}}})
            result = reply(call)["result"]
            seconds, cpu = time.perf_counter() - started, tree_cpu(process.pid) - cpu_started
            assert not result["isError"], result["content"][0]["text"]
            report = result["structuredContent"]
            runs.append(Run(seconds, cpu, report["merges_learned"], report["seconds"]["counting"]))
        process.stdin.close()
        process.wait(timeout=60)
        return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpora", nargs="*", type=Path)
    parser.add_argument("--vocab", type=int, default=32000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--calls", type=int, default=1, help="train_bpe calls per server process (default 1)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        corpora = args.corpora
        if not corpora:
            joined = Path(scratch) / "en_and_code.txt"
            joined.write_bytes((CORPORA / "en_pydocs.txt").read_bytes() + (CORPORA / "code_cpython.txt").read_bytes())
            corpora = [joined, CORPORA / "zh_kernel_docs.txt"]
        print(f"vocab {args.vocab}, best of {args.repeat}, {args.calls} call(s) per server\n")
        print("| corpus | MB | call | engine s | server s | server / engine | engine CPU s | server CPU s | "
              "CPU server / engine | counting: engine s | counting: server s | same merges |")
        print("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        for path in corpora:
            engine: list[Run] = []
            server: list[list[Run]] = []
            for _ in range(args.repeat):
                engine.append(engine_run(path, args.vocab))
                server.append(server_runs(path, args.vocab, args.calls))
            groups = {"first": [runs[0] for runs in server], "later": [run for runs in server for run in runs[1:]]}
            same = {run.merges for run in engine} == {run.merges for runs in server for run in runs}
            for call, runs in groups.items():
                if not runs:
                    continue
                wall = (min(r.seconds for r in engine), min(r.seconds for r in runs))
                cpu = (min(r.cpu for r in engine), min(r.cpu for r in runs))
                counting = (min(r.counting for r in engine), min(r.counting for r in runs))
                print(f"| {path.name} | {path.stat().st_size / 1e6:.1f} | {call} | {wall[0]:.2f} | {wall[1]:.2f} | "
                      f"{wall[1] / wall[0]:.2f} | {cpu[0]:.2f} | {cpu[1]:.2f} | {cpu[1] / cpu[0]:.2f} | "
                      f"{counting[0]:.2f} | {counting[1]:.2f} | {'yes' if same else 'no'} |")


if __name__ == "__main__":
    main()
