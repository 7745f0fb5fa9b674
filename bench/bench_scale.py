"""Training at scale (not a CI test): real corpus formats, local processes vs a
local Dask cluster vs Hugging Face ``tokenizers``; time and peak memory of the
driver and of the workers; the figures the scaling model in README.md needs.

    python bench/bench_scale.py [--size-mb 200] [--parts 8] [--vocab 8000] [--workers 2] [--distinct 1000000]

Builds a corpus of at least ``--size-mb`` MB (uncompressed) by repeating the
lines of the shared corpora (``../shared/corpora/*.txt``), shuffled
differently on each pass, written twice in a temporary directory that is
deleted afterwards: as ``--parts`` JSON Lines files compressed with zstd
(one record per line, ``{"text": line}``), and as one plain text file for
``tokenizers``.  Then, each in its own subprocess:

* ``bpe_core`` with ``--workers`` local worker processes on the .jsonl.zst parts;
* ``bpe_core`` on a ``LocalCluster`` of ``--workers`` single-threaded worker processes;
* ``tokenizers`` with ``--workers`` threads on the plain text (same byte-level settings);
* the reduce step alone: merging two partial counts of the corpus's halves, and
  their pickled size (what crosses the network at each node of the tree);
* the merge loop on ``--distinct`` synthetic distinct words read from a counts
  file, for the driver's memory per million distinct words.

Prints Markdown tables.  Needs the [scale] extra and the test extra's ``tokenizers``.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPORA = HERE.parents[1] / "shared" / "corpora"
if not CORPORA.is_dir():  # a worktree sits one level deeper
    CORPORA = HERE.parents[2] / "shared" / "corpora"


def peak_rss_mb(who=resource.RUSAGE_SELF) -> float:
    """Peak RSS in MB: this process's own (VmHWM, which starts afresh at exec, unlike ru_maxrss), or the
    largest of its waited-for children's."""
    if who == resource.RUSAGE_SELF:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    return resource.getrusage(who).ru_maxrss / 1024  # Linux: kilobytes


# --- building the corpus ---------------------------------------------------------


def build_corpus(sources: list[Path], workdir: Path, size_bytes: int, parts: int, seed: int = 0) -> dict:
    """Shuffled passes over the sources' lines: ``parts`` .jsonl.zst files and one .txt, same text, same order."""
    import zstandard

    lines = [line for source in sources for line in source.read_text(encoding="utf-8").splitlines(keepends=True)]
    rng = random.Random(seed)
    plain = workdir / "corpus.txt"
    part_paths = [workdir / f"part{i:03d}.jsonl.zst" for i in range(parts)]
    per_part = size_bytes / parts
    written = records = 0
    compressor = zstandard.ZstdCompressor(level=3)
    with open(plain, "wb") as text_out:
        part_index = 0
        part_out = compressor.stream_writer(open(part_paths[0], "wb"), closefd=True)
        while written < size_bytes:
            order = list(range(len(lines)))
            rng.shuffle(order)
            for index in order:
                data = lines[index].encode("utf-8")
                text_out.write(data)
                part_out.write((json.dumps({"text": lines[index]}, ensure_ascii=False) + "\n").encode("utf-8"))
                written += len(data)
                records += 1
                if written >= per_part * (part_index + 1) and part_index < parts - 1:
                    part_out.close()
                    part_index += 1
                    part_out = compressor.stream_writer(open(part_paths[part_index], "wb"), closefd=True)
                if written >= size_bytes:
                    break
        part_out.close()
    return {"plain": str(plain), "parts": [str(p) for p in part_paths], "bytes": written, "records": records,
            "compressed": sum(p.stat().st_size for p in part_paths)}


# --- measurements, each in a fresh process -----------------------------------------


def run_local(parts: list[str], vocab: int, workers: int, out: str) -> dict:
    from bpe_core import train

    started = time.perf_counter()
    tok = train(files=parts, vocab_size=vocab, workers=workers)
    seconds = time.perf_counter() - started
    tok.save(out)
    return {"seconds": seconds, "phases": tok.training.seconds, "driver_mb": peak_rss_mb(),
            "worker_mb": peak_rss_mb(resource.RUSAGE_CHILDREN), "distinct": tok.training.distinct_words,
            "merges": len(tok.merges)}


def run_dask(parts: list[str], vocab: int, workers: int, out: str) -> dict:
    import distributed

    from bpe_core import train

    with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=":0") as cluster, distributed.Client(cluster) as client:
        started = time.perf_counter()
        tok = train(files=parts, vocab_size=vocab, dask=client)
        seconds = time.perf_counter() - started
        worker_mb = client.run(peak_rss_mb)
    tok.save(out)
    return {"seconds": seconds, "phases": tok.training.seconds, "driver_mb": peak_rss_mb(),
            "worker_mb": max(worker_mb.values()), "distinct": tok.training.distinct_words,
            "merges": len(tok.merges)}


def run_tokenizers(plain: str, vocab: int, threads: int, out: str) -> dict:
    # RAYON_NUM_THREADS is set by the parent before this process starts.
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab, min_frequency=0, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    started = time.perf_counter()
    tokenizer.train([plain], trainer)
    seconds = time.perf_counter() - started
    tokenizer.save(out)
    return {"seconds": seconds, "driver_mb": peak_rss_mb(), "merges": len(json.load(open(out))["model"]["merges"])}


def run_reduce(parts: list[str]) -> dict:
    """One node of the reduce tree at the corpus's size: merge the counts of its two halves."""
    from bpe_core.counting import PartialCounts

    from bpe_core.counts import count_words

    half = len(parts) // 2
    tables = [count_words(files=parts[:half]), count_words(files=parts[half:])]
    partials = [PartialCounts(counts=t.counts) for t in tables]
    started = time.perf_counter()
    merged = PartialCounts.merged(*partials)
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    pickled = pickle.dumps(merged, protocol=pickle.HIGHEST_PROTOCOL)
    pickle_seconds = time.perf_counter() - started
    return {"seconds": seconds, "distinct": len(merged.counts), "pickled_mb": len(pickled) / 1e6,
            "pickle_seconds": pickle_seconds}


def run_driver_memory(counts_path: str, merges: int) -> dict:
    """Peak RSS of training from a counts file, minus that of a process that only imported bpe_core."""
    from bpe_core import train

    baseline = peak_rss_mb()
    started = time.perf_counter()
    tok = train(word_counts=counts_path, num_merges=merges)
    return {"seconds": time.perf_counter() - started, "peak_mb": peak_rss_mb(), "baseline_mb": baseline,
            "distinct": tok.training.distinct_words}


def run_throughput(part: str, plain: str) -> dict:
    """Counting MB/s of one worker (this process): a .jsonl.zst part, and the same amount of plain text."""
    from bpe_core.counts import count_words

    started = time.perf_counter()
    table = count_words(files=[part], workers=1)
    jsonl_seconds = time.perf_counter() - started
    slice_path = Path(plain).with_name("slice.txt")
    with open(plain, "rb") as source, open(slice_path, "wb") as out:
        data = source.read(table.corpus_bytes)
        out.write(data[: data.rfind(b"\n") + 1])
    started = time.perf_counter()
    plain_table = count_words(files=[slice_path], workers=1)
    plain_seconds = time.perf_counter() - started
    return {"jsonl_mb_s": table.corpus_bytes / 1e6 / jsonl_seconds,
            "plain_mb_s": plain_table.corpus_bytes / 1e6 / plain_seconds}


MEASURES = {"throughput": run_throughput, "local": run_local, "dask": run_dask, "tokenizers": run_tokenizers, "reduce": run_reduce,
            "driver_memory": run_driver_memory}


def measure(kind: str, *args, env_extra: dict | None = None) -> dict:
    completed = subprocess.run([sys.executable, __file__, "--measure", kind, json.dumps(args)],
                               capture_output=True, text=True, env=dict(os.environ, **(env_extra or {})))
    if completed.returncode != 0:
        raise RuntimeError(f"{kind} failed:\n{completed.stderr[-4000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def synthetic_counts(path: Path, distinct: int, seed: int = 0) -> None:
    """A byte-level counts file of ``distinct`` random words (3-12 letters, Zipf-like counts)."""
    from bpe_core.counts import CountSettings, CountsTable, save_counts

    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    counts: dict[str, int] = {}
    while len(counts) < distinct:
        word = " " + "".join(rng.choices(letters, k=rng.randint(3, 12)))
        counts[word] = 1 + int(1000 / (1 + len(counts) % 1000))
    save_counts(CountsTable(CountSettings.create("byte_level"), counts), path)


def same_merges(ours: str, theirs_hf: str) -> bool:
    mine = [tuple(m) for m in json.loads(Path(ours).read_text(encoding="utf-8"))["merges"]]
    hf = json.loads(Path(theirs_hf).read_text(encoding="utf-8"))["model"]["merges"]
    return mine == [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in hf]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=float, default=200.0, help="uncompressed corpus size in MB")
    parser.add_argument("--parts", type=int, default=8, help="number of .jsonl.zst files")
    parser.add_argument("--vocab", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--distinct", type=int, default=1_000_000, help="synthetic distinct words for the "
                                                                         "driver-memory measurement (0: skip)")
    parser.add_argument("--corpora", type=Path, default=CORPORA)
    parser.add_argument("--measure", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        kind, arguments = args.measure
        print(json.dumps(MEASURES[kind](*json.loads(arguments))))
        return 0

    sources = sorted(args.corpora.glob("*.txt"))
    if not sources:
        parser.error(f"no *.txt corpora in {args.corpora}")
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as work:
        workdir = Path(work)
        started = time.perf_counter()
        corpus = build_corpus(sources, workdir, int(args.size_mb * 1e6), args.parts)
        print(f"corpus: {corpus['bytes'] / 1e6:,.1f} MB of text, {corpus['records']:,} records, as {args.parts} "
              f".jsonl.zst files ({corpus['compressed'] / 1e6:,.1f} MB) and one .txt; built in "
              f"{time.perf_counter() - started:.0f} s. vocab {args.vocab}, {args.workers} workers; "
              f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}", flush=True)
        n = args.workers
        local = measure("local", corpus["parts"], args.vocab, n, str(workdir / "local.json"))
        dask = measure("dask", corpus["parts"], args.vocab, n, str(workdir / "dask.json"))
        hf = measure("tokenizers", corpus["plain"], args.vocab, n, str(workdir / "hf.json"),
                     env_extra={"RAYON_NUM_THREADS": str(n)})
        reduce = measure("reduce", corpus["parts"])
        throughput = measure("throughput", corpus["parts"][0], corpus["plain"])
        same_local_dask = (json.loads((workdir / "local.json").read_text())["merges"]
                           == json.loads((workdir / "dask.json").read_text())["merges"])
        same_hf = same_merges(str(workdir / "local.json"), str(workdir / "hf.json"))
        mb = corpus["bytes"] / 1e6
        print()
        print("| trainer (input) | total s | counting s | counting MB/s | merging s | peak RSS driver | "
              "peak RSS largest worker |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for name, run in ((f"bpe_core, {n} local processes (.jsonl.zst)", local),
                          (f"bpe_core, Dask LocalCluster {n}x1 (.jsonl.zst)", dask)):
            phases = run["phases"]
            print(f"| {name} | {run['seconds']:.1f} | {phases['counting']:.1f} | {mb / phases['counting']:.1f} | "
                  f"{phases['merging']:.1f} | {run['driver_mb']:.0f} MB | {run['worker_mb']:.0f} MB |")
        print(f"| tokenizers, {n} threads (.txt) | {hf['seconds']:.1f} | | | | {hf['driver_mb']:.0f} MB | "
              "(threads) |")
        print()
        print(f"distinct words: {local['distinct']:,}; merges identical local vs Dask: "
              f"{'yes' if same_local_dask else 'NO'}; bpe_core vs tokenizers: {'yes' if same_hf else 'NO'}")
        print(f"one worker counts {throughput['plain_mb_s']:.1f} MB/s of plain text and "
              f"{throughput['jsonl_mb_s']:.1f} MB/s of .jsonl.zst (MB of text)")
        print(f"reduce node at this size: merging two halves ({reduce['distinct']:,} distinct words) "
              f"{reduce['seconds']:.2f} s; pickled partial {reduce['pickled_mb']:.1f} MB in "
              f"{reduce['pickle_seconds']:.2f} s")
        if args.distinct:
            counts_path = workdir / "synthetic.tsv"
            synthetic_counts(counts_path, args.distinct)
            memory = measure("driver_memory", str(counts_path), 200)
            per_million = (memory["peak_mb"] - memory["baseline_mb"]) / (memory["distinct"] / 1e6)
            print(f"driver, training from {memory['distinct']:,} synthetic distinct words (200 merges): peak RSS "
                  f"{memory['peak_mb']:.0f} MB ({memory['baseline_mb']:.0f} MB before), so about "
                  f"{per_million:.0f} MB per million distinct words; {memory['seconds']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
