"""Training on a large corpus (not a CI test): bpe_core vs Hugging Face
``tokenizers``, time and peak memory side by side.

    python bench/bench_large_training.py [--size-mb 200] [--vocab 32000]

Builds a corpus of at least ``--size-mb`` MB by repeating the lines of the
shared corpora (``../shared/corpora/*.txt``), shuffled differently on each
pass, in a temporary directory that is deleted afterwards.  Then trains, each
in its own subprocess (``bench_engine``'s measurements): bpe_core with 2
worker processes and ``tokenizers`` with 2 threads, same byte-level settings,
and prints a Markdown table: seconds, peak RSS of the training process (and,
for bpe_core, of its largest worker process), and whether the merges are
identical.
"""

from __future__ import annotations

import argparse
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_engine import measure, same_merges  # noqa: E402

CORPORA = HERE.parents[1] / "shared" / "corpora"


def build_corpus(sources: list[Path], target: Path, size_bytes: int, seed: int = 0) -> tuple[int, int]:
    """Write shuffled passes over the sources' lines until ``size_bytes``; returns (bytes, lines)."""
    lines = [line for source in sources for line in source.read_bytes().splitlines(keepends=True)]
    rng = random.Random(seed)
    written = count = 0
    with open(target, "wb") as out:
        while written < size_bytes:
            order = list(range(len(lines)))
            rng.shuffle(order)
            for index in order:
                out.write(lines[index])
                written += len(lines[index])
            count += len(lines)
    return written, count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=float, default=200.0, help="corpus size in MB (default 200)")
    parser.add_argument("--vocab", type=int, default=32000)
    parser.add_argument("--corpora", type=Path, default=CORPORA, help=f"folder of *.txt sources (default {CORPORA})")
    args = parser.parse_args()
    sources = sorted(args.corpora.glob("*.txt"))
    if not sources:
        parser.error(f"no *.txt corpora in {args.corpora}")
    with tempfile.TemporaryDirectory(prefix="bench-large-") as work:
        workdir = Path(work)
        corpus = workdir / "corpus.txt"
        started = time.perf_counter()
        size, lines = build_corpus(sources, corpus, int(args.size_mb * 1e6))
        print(f"corpus: {size / 1e6:.1f} MB, {lines:,} lines from {', '.join(s.name for s in sources)} "
              f"(built in {time.perf_counter() - started:.1f} s); vocab {args.vocab}; "
              f"{platform.processor() or platform.machine()}, Python {platform.python_version()}", flush=True)
        ours_path, hf_path = workdir / "bpe_core.json", workdir / "tokenizers.json"
        ours = measure("train_bpe_core", corpus, args.vocab, 2, ours_path)
        theirs = measure("train_tokenizers", corpus, args.vocab, 2, hf_path, env_extra={"RAYON_NUM_THREADS": "2"})
        identical = same_merges(str(ours_path), str(hf_path))
        print()
        print("| trainer | seconds | peak RSS, training process | peak RSS, largest worker | merges |")
        print("|---|---:|---:|---:|---:|")
        phases = ", ".join(f"{k} {v:.0f} s" for k, v in ours["phases"].items() if k != "total")
        print(f"| bpe_core, 2 worker processes ({phases}) | {ours['seconds']:.1f} | {ours['peak_mb']:.0f} MB | "
              f"{ours['workers_peak_mb']:.0f} MB | {ours['merges']:,} |")
        print(f"| tokenizers {_version()}, 2 threads | {theirs['seconds']:.1f} | {theirs['peak_mb']:.0f} MB | "
              f"(threads) | {theirs['merges']:,} |")
        print()
        print(f"time ratio bpe_core / tokenizers: {ours['seconds'] / theirs['seconds']:.1f}; "
              f"identical merges: {'yes' if identical else 'NO'}")
    return 0


def _version() -> str:
    import tokenizers

    return tokenizers.__version__


if __name__ == "__main__":
    sys.exit(main())
