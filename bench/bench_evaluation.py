"""Evaluation throughput (MB/s): the pure-Python encoder vs the tiktoken fast path.

    python bench/bench_evaluation.py                                  # ../shared/corpora, whole
    python bench/bench_evaluation.py my_corpus.txt --max-mb 10

``evaluate()`` encodes the whole corpus, so its speed is the encoder's: for
each corpus and tokenizer it runs ``evaluate(tokenizer, files=[corpus],
fast=...)`` with ``fast=False`` (bpe_core's pure-Python encoder) and
``fast=True`` (a ``tiktoken.Encoding`` built from the tokenizer's ranks),
each in a fresh subprocess with a freshly loaded tokenizer (bpe_core's
cache of encoded words starts empty), and checks that both give the same
token count.  Tokenizers: one trained here (byte-level, GPT-2 pattern,
vocab 8000, on the last megabyte of each corpus, which the evaluation does not read) and the reference
tokenizers ``cl100k_base`` and ``o200k_base``.  MB/s is corpus bytes over
the process's CPU time during the ``evaluate()`` call (loading the
tokenizer excluded; building the tiktoken encoding and the vocabulary
report included), which other load on a shared machine barely changes,
and in brackets over its wall time (tiktoken encodes on one thread here,
so the two agree on a quiet machine).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_CORPORA = HERE.parent.parent / "shared" / "corpora"
TOKENIZERS = ("trained", "cl100k_base", "o200k_base")


def measure(tokenizer: str, corpus: str, fast: bool) -> dict:
    """One evaluation, in this (fresh) process."""
    from bpe_core import load_tokenizer
    from bpe_core.evaluation import evaluate
    from bpe_core.reference import load_reference

    loaded = load_reference(tokenizer) if tokenizer in TOKENIZERS[1:] else load_tokenizer(tokenizer)
    started, started_cpu = time.perf_counter(), time.process_time()
    report = evaluate(loaded, files=[corpus], fast=fast)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - started_cpu
    return {"encoder": report.encoder, "tokens": report.tokens, "bytes": report.bytes, "seconds": seconds,
            "cpu_seconds": cpu_seconds, "mb_per_s": report.bytes / 1e6 / cpu_seconds,
            "wall_mb_per_s": report.bytes / 1e6 / seconds, "round_trip_failures": report.round_trip_failures}


def in_subprocess(tokenizer: str, corpus: str, fast: bool) -> dict:
    result = subprocess.run([sys.executable, __file__, "--one", tokenizer, corpus, "1" if fast else "0"],
                            capture_output=True, text=True, check=True, env=os.environ | {"PYTHONPATH": str(HERE.parent)})
    return json.loads(result.stdout.strip().splitlines()[-1])


def cell(result: dict) -> str:
    """MB/s of the whole evaluate() call over its CPU time, and in brackets over its wall time."""
    return f"{result['mb_per_s']:.2f} ({result['wall_mb_per_s']:.2f})"


def prefix(path: Path, megabytes: float, directory: Path) -> Path:
    """The first ``megabytes`` of ``path`` (whole lines) as a file in ``directory``."""
    with open(path, "rb") as handle:
        data = handle.read(int(megabytes * 1e6))
    cut = data.rfind(b"\n") + 1
    out = directory / path.name
    out.write_bytes(data[: cut or len(data)])
    return out


def tail(path: Path, megabytes: float) -> str:
    """The last ``megabytes`` of ``path`` (whole lines): training text that the evaluation does not read."""
    size = path.stat().st_size
    with open(path, "rb") as handle:
        handle.seek(max(0, size - int(megabytes * 1e6)))
        data = handle.read()
    return data[data.find(b"\n") + 1:].decode("utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpora", nargs="*", type=Path, help="UTF-8 corpus files (default: ../shared/corpora/*.txt)")
    parser.add_argument("--max-mb", type=float, default=12.0, help="megabytes of each corpus to evaluate (default 12)")
    parser.add_argument("--one", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        tokenizer, corpus, fast = args.one
        print(json.dumps(measure(tokenizer, corpus, fast == "1")))
        return
    corpora = args.corpora or sorted(DEFAULT_CORPORA.glob("*.txt"))
    if not corpora:
        sys.exit(f"no corpora: give UTF-8 files, or put the shared corpora in {DEFAULT_CORPORA}")
    sys.path.insert(0, str(HERE.parent))
    from bpe_core import train
    from bpe_core.fast import tiktoken_available

    if not tiktoken_available():
        sys.exit("tiktoken is not installed: pip install '.[fast]'")
    print(f"# {platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} cores; "
          f"{args.max_mb:g} MB of each corpus")
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        trained = directory / "trained.json"
        train([tail(path, 1) for path in corpora], vocab_size=8000).save(trained)
        slices = [prefix(path, args.max_mb, directory) for path in corpora]
        print("| corpus | tokenizer | tokens | bpe_core encoder MB/s | tiktoken fast path MB/s | speed-up | same count |")
        print("|---|---|---:|---:|---:|---:|---|")
        for path in slices:
            for name in TOKENIZERS:
                spec = str(trained) if name == "trained" else name
                pure, fast = in_subprocess(spec, str(path), False), in_subprocess(spec, str(path), True)
                assert fast["encoder"] == "tiktoken", fast
                print(f"| {path.name} | {name} | {pure['tokens']:,} | {cell(pure)} | {cell(fast)} "
                      f"| {fast['mb_per_s'] / pure['mb_per_s']:.1f}x | {pure['tokens'] == fast['tokens']} |", flush=True)


if __name__ == "__main__":
    main()
