"""``python -m bpe_core``: the engine from a shell, no MCP client needed.

::

    python -m bpe_core train corpus.txt --vocab-size 5000 -o tok.json
    python -m bpe_core count docs.jsonl.zst -o counts.tsv
    python -m bpe_core train --from-counts counts.tsv --vocab-size 5000 -o tok.json
    python -m bpe_core encode tok.json "Hello world" --tokens
    python -m bpe_core encode tok.json "Hello world" --show --html tokens.html
    python -m bpe_core encode tok.json "Hello world" | python -m bpe_core decode tok.json
    python -m bpe_core inspect tok.json
    python -m bpe_core explain tok.json "lowest"
    python -m bpe_core export tok.json --to huggingface -o tokenizer.json
    python -m bpe_core import tokenizer.json -o tok.json
    python -m bpe_core evaluate tok.json held_out.txt
    python -m bpe_core compare tok.json gpt-4o held_out.txt

Every command goes through the library's own functions (``train``,
``Tokenizer.encode``..., ``bpe_core.interop``); wherever a tokenizer is
read, any format ``import`` understands is accepted, and so is the name of a
reference tokenizer (``cl100k_base``, ``o200k_base``) or of a model that
uses one (``gpt-4o``, ``gpt-4``...).  Errors print one
``error: ...`` line and exit with status 2; Ctrl-C during training exits
with 130 and writes nothing; a reader that stops early (``| head``) ends
the command quietly with 141, like any Unix tool killed by SIGPIPE.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import sys
import time
from pathlib import Path
from typing import Sequence, TextIO

from . import __version__, display, inspection, token_view
from .corpus_formats import ON_ERROR_CHOICES
from .counting import PARALLEL_THRESHOLD_BYTES, available_cores, check_corpus_files
from .counts import count_words, merge_counts, save_counts
from .errors import BPEError, EvaluationCancelled, SpecialTokenError, TrainingCancelled
from .evaluation import compare, evaluate
from .interop import FORMATS, detect_format, export_tokenizer, import_tokenizer
from .reference import (
    default_cache_dir,
    is_cached,
    is_reference_name,
    load_reference,
    resolve_reference_name,
)
from .tokenizer import MODES, Tokenizer
from .training_pipeline import train

EXIT_ERROR = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells report for Ctrl-C
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what shells report for a writer whose reader left


# --- progress -----------------------------------------------------------------


class ProgressBar:
    """``train()``'s ``on_progress(phase, done, total)`` drawn on a stream.

    On a terminal one line is redrawn in place; elsewhere (a log, a pipe) a
    line is printed at most every ``interval`` seconds, and when a phase ends.

    >>> import io
    >>> stream = io.StringIO()
    >>> bar = ProgressBar(stream, interactive=False, width=10)
    >>> bar("merging", 50, 50)
    >>> bar.close()
    >>> stream.getvalue().split("]")[0]
    'merging   [##########'
    """

    def __init__(self, stream: TextIO, *, interactive: bool | None = None, width: int = 30, interval: float = 1.0):
        self.stream = stream
        self.interactive = stream.isatty() if interactive is None else interactive
        self.width = width
        self.interval = interval
        self.phase: str | None = None
        self.phase_started = 0.0
        self.last_drawn = 0.0
        self.drawn_line = False
        self.finished_phase: str | None = None

    def __call__(self, phase: str, done: int, total: int) -> None:
        now = time.monotonic()
        if phase != self.phase:
            self._end_line()
            self.phase, self.phase_started, self.last_drawn = phase, now, 0.0
        finished = total > 0 and done >= total
        if finished and self.finished_phase == phase:
            return  # already drawn complete
        if not finished and now - self.last_drawn < (0.1 if self.interactive else self.interval):
            return
        self.last_drawn = now
        if finished:
            self.finished_phase = phase
        line = self.render(phase, done, total, now - self.phase_started)
        if self.interactive:
            self.stream.write("\r" + line + "\x1b[K")
            self.drawn_line = True
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def render(self, phase: str, done: int, total: int, seconds: float) -> str:
        fraction = min(1.0, done / total) if total > 0 else 0.0
        filled = round(fraction * self.width)
        bar = "#" * filled + "." * (self.width - filled)
        rate = done / seconds if seconds >= 0.05 else None  # too soon to say
        if phase in _BYTE_PHASES:
            amount = f"{done / 1e6:,.1f}/{total / 1e6:,.1f} MB" + (f"  {rate / 1e6:,.1f} MB/s" if rate is not None else "")
        else:
            unit = "merges" if phase == "merging" else "steps"
            amount = f"{done:,}/{total:,} {unit}" + (f"  {rate:,.0f} {unit}/s" if rate is not None else "")
        return f"{phase:<9} [{bar}] {fraction:4.0%}  {amount}"

    def _end_line(self) -> None:
        if self.interactive and self.drawn_line:
            self.stream.write("\n")
            self.stream.flush()
        self.drawn_line = False

    def close(self) -> None:
        self._end_line()


_BYTE_PHASES = ("counting", "evaluating", "comparing")  # phases whose progress counts bytes


class _WorkersIgnoreCtrlC:
    """Let training's worker processes ignore Ctrl-C; the parent stops them.

    A terminal sends Ctrl-C to every process of the job, and a pool worker
    that receives it dies printing a traceback.  A signal set to "ignore"
    is the one disposition a new process inherits, so SIGINT is ignored
    while the workers start, and handled again from training's first
    progress report on (a Ctrl-C in that first second or two is lost).
    Nothing changes when training will not start workers.
    """

    def __init__(self, will_start_workers: bool):
        self.active = will_start_workers and hasattr(signal, "SIGINT")
        self.previous = None

    def __enter__(self):
        if self.active:
            self.previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        return self

    def restore(self) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
            self.previous = None

    def __exit__(self, *exc_info):
        self.restore()


def _will_start_workers(texts: list[str], files: list[str], workers: int | None) -> bool:
    try:
        size = sum(os.path.getsize(f) for f in files)  # inline texts are counted here, never in workers
    except OSError:
        return False  # train() reports the missing file
    return (workers if workers is not None else available_cores()) > 1 and size >= PARALLEL_THRESHOLD_BYTES


# --- commands -----------------------------------------------------------------


def _load(args) -> Tokenizer:
    if not Path(args.tokenizer).exists() and is_reference_name(args.tokenizer):
        for option in ("format", "pattern"):
            if getattr(args, option, None) is not None:
                raise BPEError(f"{args.tokenizer} is a reference tokenizer with its own {option}; leave --{option} out")
        return _load_reference(args.tokenizer)
    return import_tokenizer(args.tokenizer, getattr(args, "format", None), pattern=getattr(args, "pattern", None))


def _load_reference(name: str) -> Tokenizer:
    if not is_cached(name):
        print(f"note: converting {resolve_reference_name(name)}'s rank file, once (up to a minute); the result is "
              f"cached in {default_cache_dir()}", file=sys.stderr, flush=True)
    return load_reference(name)


def _load_any(spec: str) -> Tokenizer:
    """A tokenizer file (any format), or a reference tokenizer or model name."""
    if Path(spec).exists():
        return import_tokenizer(spec)
    try:
        resolve_reference_name(spec)
    except BPEError as exc:
        raise BPEError(f"{spec!r} is neither a tokenizer file nor a reference tokenizer: {exc}") from None
    return _load_reference(spec)


def _read_text(args) -> str:
    if args.file is not None:
        try:
            return Path(args.file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise BPEError(f"cannot read {args.file}: {exc}") from None
    if args.text is not None and args.text != "-":
        return args.text
    return sys.stdin.read()


def _special_policy(args) -> dict:
    if args.special_as_text:
        return {"allowed_special": (), "disallowed_special": ()}
    if args.allow_all_special:
        return {"allowed_special": "all"}
    return {"allowed_special": set(args.allow_special or ())}


def _special_token_error_in_flags(error: SpecialTokenError) -> str:
    """The engine's special-token error in terms of this command's flags.

    >>> _special_token_error_in_flags(SpecialTokenError("...", token="<|endoftext|>", position=5))
    "the text contains the special token '<|endoftext|>' (at character 5), which is disallowed: pass --allow-special '<|endoftext|>' (or --allow-all-special) to encode it as the special token, or --special-as-text to encode it as plain text"
    """
    if error.token is not None:
        return (f"the text contains the special token {error.token!r} (at character {error.position}), which is "
                f"disallowed: pass --allow-special {shlex.quote(error.token)} (or --allow-all-special) to encode it "
                "as the special token, or --special-as-text to encode it as plain text")
    if error.argument is not None:
        known = ", ".join(shlex.quote(t) for t in error.known) or "none"
        return (f"--allow-special names {', '.join(map(shlex.quote, error.unknown))}, which "
                f"{'is not a special token' if len(error.unknown) == 1 else 'are not special tokens'} of this "
                f"tokenizer (its special tokens: {known})")
    return f"{error} (on the command line: --allow-special TOKEN, --allow-all-special or --special-as-text)"


def _check_output(path: str, flag: str = "-o") -> None:
    """Fail before the work, not after it, if the result could not be saved."""
    output = Path(path)
    if output.is_dir():
        raise BPEError(f"{flag} {path} is a directory; give a file name")
    if not output.resolve().parent.is_dir():
        raise BPEError(f"{flag} {path}: the directory {output.parent} does not exist")


def _corpus_options(args) -> dict:
    """The options ``train`` and ``count`` share: how the corpus is read and where it is counted."""
    return {"text_field": args.text_field, "on_error": args.on_error, "workers": args.workers,
            "dask": args.dask, "shard_bytes": args.shard_bytes}


def _report_skipped(skipped: int, problems: list[str]) -> None:
    """Bad records skipped with --on-error skip: how many, and the first ones (to stderr)."""
    if skipped:
        print(f"skipped {skipped:,} bad record(s) (--on-error skip):", file=sys.stderr)
        for problem in problems[:10]:
            print(f"  {problem}", file=sys.stderr)
        if skipped > min(10, len(problems)):
            print(f"  ... and {skipped - min(10, len(problems)):,} more", file=sys.stderr)


def _run_with_progress(args, texts: list[str], files: list[str], work):
    """Run ``work(on_progress)`` with the progress bar and Ctrl-C handling of a counting command."""
    progress = ProgressBar(sys.stderr) if not args.quiet else None
    local = args.dask is None
    guard = _WorkersIgnoreCtrlC(local and _will_start_workers(texts, files, args.workers))

    def on_progress(phase: str, done: int, total: int) -> None:
        guard.restore()
        if progress is not None:
            progress(phase, done, total)

    try:
        with guard:
            return work(on_progress)
    finally:
        if progress is not None:
            progress.close()


def cmd_train(args) -> int:
    # In the order a person fixes them: the corpus, where the result goes, then the settings.
    texts = list(args.text or [])
    if args.from_counts is not None:
        if texts or args.files:
            raise BPEError("give corpus files (or --text) or --from-counts, not both; merge counts first with "
                           "'python -m bpe_core count --merge'")
    elif not texts and not args.files:
        raise BPEError("give corpus files, or text with --text (or saved counts with --from-counts)")
    check_corpus_files(args.files)
    _check_output(args.output)
    if args.vocab_size is None and args.num_merges is None:
        raise BPEError("give --vocab-size (the final vocabulary size) or --num-merges (how many merges to learn)")
    started = time.perf_counter()
    tokenizer = _run_with_progress(args, texts, args.files, lambda on_progress: train(
        texts, files=args.files, word_counts=args.from_counts, mode=args.mode, vocab_size=args.vocab_size,
        num_merges=args.num_merges, min_frequency=args.min_frequency, pattern=args.pattern,
        special_tokens=args.special_token, unk_token=args.unk_token, on_progress=on_progress,
        **_corpus_options(args),
    ))
    # Saved only now, and atomically: an interrupted run leaves no file behind.
    tokenizer.save(args.output)
    report = tokenizer.training
    _report_skipped(report.skipped_records, report.problems)
    print(f"trained a {tokenizer.mode} tokenizer: {tokenizer.vocab_size:,} tokens, {len(tokenizer.merges):,} merges "
          f"(stopped by {report.stop_reason}) in {time.perf_counter() - started:.1f} s -> {args.output}")
    return 0


def cmd_count(args) -> int:
    texts = list(args.text or [])
    if args.merge:
        if texts:
            raise BPEError("--merge takes counts files only; count --text separately, then merge")
        if len(args.files) < 1:
            raise BPEError("give the counts files to merge: count --merge a.tsv b.tsv -o all.tsv")
        _check_output(args.output)
        table = merge_counts(args.files)
    else:
        if not texts and not args.files:
            raise BPEError("give corpus files, or text with --text")
        check_corpus_files(args.files)
        _check_output(args.output)
        table = _run_with_progress(args, texts, args.files, lambda on_progress: count_words(
            texts, files=args.files, mode=args.mode or "byte_level", pattern=args.pattern,
            special_tokens=args.special_token or (), unk_token=args.unk_token or "<unk>",
            on_progress=on_progress, **_corpus_options(args),
        ))
    save_counts(table, args.output)
    _report_skipped(table.skipped_records, table.problems)
    print(f"{'merged' if args.merge else 'counted'} {table.total_words:,} words ({len(table.counts):,} distinct, "
          f"{table.settings.mode}, pattern {table.settings.pattern}) -> {args.output}")
    return 0


def cmd_encode(args) -> int:
    tokenizer = _load(args)
    text = _read_text(args)
    policy = _special_policy(args)
    if args.html is not None:
        _check_output(args.html, "--html")
    if args.show or args.html is not None:
        view = token_view.segment(tokenizer, Path(args.tokenizer).name, text, **policy)
        if args.html is not None:
            token_view.write_html(args.html, token_view.render_html([view], title=f"Tokens of {view.tokenizer}"))
            print(f"wrote {args.html}", file=sys.stderr)  # stdout stays the ids (or the view) for pipes
        if args.show:
            render = token_view.render_ansi if token_view.use_colour(sys.stdout) else token_view.plain
            sys.stdout.write(render([view]))
            return 0
    if args.tokens:
        tokens = tokenizer.encode_tokens(text, **policy)
        if args.json:
            print(json.dumps([vars(t) for t in tokens], ensure_ascii=False))
        else:
            print(_table(["id", "token", "text", "start", "end"],
                         [[t.id, t.token, display.quoted(t.text), t.start, t.end] for t in tokens]))
        return 0
    ids = tokenizer.encode(text, **policy)
    print(json.dumps(ids) if args.json else " ".join(map(str, ids)))
    return 0


def _table(header: list[str], rows: list[list]) -> str:
    cells = [header] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells)


def _parse_ids(words: Sequence[str]) -> list[int]:
    """Ids from arguments or stdin: ``1 2 3``, ``1,2,3`` or ``[1, 2, 3]``."""
    text = " ".join(words) if words else sys.stdin.read()
    pieces = text.replace("[", " ").replace("]", " ").replace(",", " ").split()
    try:
        return [int(p) for p in pieces]
    except ValueError:
        raise BPEError(f"ids must be integers (like 15496 995, or [15496, 995]); got {text.strip()[:60]!r}") from None


def cmd_decode(args) -> int:
    tokenizer = _load(args)
    sys.stdout.write(tokenizer.decode(_parse_ids(args.ids), errors="strict" if args.strict else "replace") + "\n")
    return 0


def cmd_inspect(args) -> int:
    tokenizer = _load(args)
    info = inspection.vocabulary_summary(tokenizer, first_merges=args.merges)
    if args.json:
        print(json.dumps(info, ensure_ascii=False, indent=2))
        return 0
    lines = [
        f"mode:           {info['mode']}",
        f"pattern:        {info['pattern']}" + (f"  {info['pattern_regex']}" if info["pattern_regex"] else ""),
        f"vocab size:     {info['vocab_size']:,}",
        f"merges:         {info['merges']:,}",
        "special tokens: " + (", ".join(f"{t} ({i})" for t, i in info["special_tokens"].items()) or "none"),
    ]
    if info["unk_token"]:
        lines.append(f"unk token:      {info['unk_token']}")
    if info["first_merges"]:
        def shown(symbol: str) -> str:
            return display.visible(display.symbol_text(tokenizer, symbol))

        note = f" ({tokenizer.family.tokens_note})" if tokenizer.family.tokens_note else ""
        lines.append(f"first {len(info['first_merges'])} merges{note}:")
        lines += [f"  #{m['rank']:<5} {shown(m['left'])} + {shown(m['right'])} -> {shown(m['token'])}  (id {m['id']})"
                  for m in info["first_merges"]]
    report = info["training"]
    if report:
        lines.append(
            f"training:       {report['corpus_bytes']:,} bytes, {report['words']:,} words "
            f"({report['distinct_words']:,} distinct), {report['merges_learned']:,} merges, "
            f"stopped by {report['stop_reason']}, {report['seconds'].get('total', 0):.2f} s"
        )
    print("\n".join(lines))
    return 0


def cmd_explain(args) -> int:
    tokenizer = _load(args)
    explanations = tokenizer.explain(_read_text(args))
    if args.json:
        print(json.dumps([vars(e) | {"steps": [vars(s) for s in e.steps]} for e in explanations], ensure_ascii=False))
        return 0
    print(display.walkthrough(tokenizer, explanations))
    return 0


def cmd_export(args) -> int:
    tokenizer = _load(args)
    result = export_tokenizer(tokenizer, args.to, args.output)
    for path in result.files:
        print(f"wrote {path}")
    for note in result.notes:
        print(f"note: {note}")
    return 0


def _special_tokens_with_ids(values: list[str] | None) -> list[str] | dict[str, int] | None:
    """``--special-token NAME`` (ids from the file) or ``NAME=ID`` for every one.

    >>> _special_tokens_with_ids(["<|endoftext|>=100257", "<|fim_prefix|>=100258"])
    {'<|endoftext|>': 100257, '<|fim_prefix|>': 100258}
    """
    if not values:
        return None
    pairs = [value.rpartition("=") for value in values]
    if all(sep and number.isdigit() for _, sep, number in pairs):
        return {name: int(number) for name, _, number in pairs}
    if any(sep and number.isdigit() for _, sep, number in pairs):
        raise BPEError("give every --special-token as NAME=ID, or none of them (ids then come from the files)")
    return list(values)


def cmd_import(args) -> int:
    _check_output(args.output)
    tokenizer = import_tokenizer(args.sources, args.format, pattern=args.pattern,
                                 special_tokens=_special_tokens_with_ids(args.special_token))
    tokenizer.save(args.output)
    print(f"imported {tokenizer!r} -> {args.output}")
    return 0


def _looks_like_tokenizer(spec: str) -> bool:
    """Whether a command-line argument names a tokenizer (a reference name, or a tokenizer file)."""
    if is_reference_name(spec) and not Path(spec).is_file():
        return True
    try:
        detect_format(spec)
    except (BPEError, OSError):
        return False
    return True


def _display_name(spec: str) -> str:
    """How a tokenizer argument is named in a report: a file by its name, a reference by its encoding."""
    if Path(spec).exists():
        return Path(spec).name
    return resolve_reference_name(spec) if is_reference_name(spec) else spec


def _corpus(args) -> tuple[list[str], list[str]]:
    if args.text and args.files:
        raise BPEError("give corpus files or --text, not both")
    if not args.text and not args.files:
        raise BPEError("give held-out corpus files, or text with --text")
    return list(args.text or []), list(args.files)


def _progress(args) -> ProgressBar | None:
    return None if args.quiet else ProgressBar(sys.stderr)


def cmd_evaluate(args) -> int:
    tokenizer = _load_any(args.tokenizer)
    texts, files = _corpus(args)
    progress = _progress(args)
    try:
        result = evaluate(tokenizer, texts, files, name=_display_name(args.tokenizer), fast=args.fast, top_k=args.top,
                          list_limit=args.list, list_offset=args.offset, on_progress=progress)
    finally:
        if progress is not None:
            progress.close()
    print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2) if args.json else result.summary())
    return 0


def cmd_compare(args) -> int:
    # Tokenizers first, then corpus files: the first argument that names no tokenizer starts the corpus.
    specs, files = list(args.items), []
    for index, spec in enumerate(args.items):
        if not _looks_like_tokenizer(spec):
            specs, files = args.items[:index], args.items[index:]
            break
    args.files = files
    texts, files = _corpus(args)
    if not 2 <= len(specs) <= 8:
        raise BPEError(f"compare takes 2 to 8 tokenizers (files, or names like gpt-4o, cl100k_base); got "
                       f"{len(specs)}: {', '.join(specs) or 'none'}")
    tokenizers: dict[str, Tokenizer] = {}
    for spec in specs:
        name = _display_name(spec)
        while name in tokenizers:
            name += "'"
        tokenizers[name] = _load_any(spec)
    progress = _progress(args)
    try:
        result = compare(tokenizers, texts, files, sample_chars=args.sample_chars, fast=args.fast,
                         on_progress=progress)
    finally:
        if progress is not None:
            progress.close()
    print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2) if args.json else result.summary())
    return 0


# --- the parser -----------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bpe_core",
        description="Train, apply, explain, inspect and convert BPE tokenizers (classic and byte-level).",
        epilog="Run 'python -m bpe_core COMMAND --help' for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"bpe_core {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    loading = argparse.ArgumentParser(add_help=False)
    loading.add_argument("tokenizer", help="tokenizer file: bpe_core JSON, tokenizer.json, .tiktoken, "
                                           "vocab.json/merges.txt directory, or codes file; or a reference "
                                           "tokenizer: cl100k_base, o200k_base, or a model name such as gpt-4o")
    loading.add_argument("--format", choices=FORMATS, help="the tokenizer file's format (default: detected)")
    loading.add_argument("--pattern", help="pre-tokenizer pattern for files that store none "
                                           "(a .tiktoken without its .json): gpt2, cl100k, o200k or a regex")
    text_input = argparse.ArgumentParser(add_help=False)
    text_input.add_argument("text", nargs="?", help="the text (omit it, or give '-', to read standard input)")
    text_input.add_argument("--file", help="read the text from this UTF-8 file instead")

    corpus = argparse.ArgumentParser(add_help=False)
    corpus.add_argument("--text", action="append", help="corpus text given inline (repeatable)")
    corpus.add_argument("--mode", choices=MODES, help="byte_level (GPT-2 style, default) or classic "
                                                      "(Sennrich et al., </w>)")
    corpus.add_argument("--pattern", help="byte-level pre-tokenizer: gpt2 (default), cl100k, o200k or a regex")
    corpus.add_argument("--special-token", action="append", metavar="TOKEN",
                        help="a special token, never split (repeatable; takes the first ids)")
    corpus.add_argument("--unk-token", help="classic mode's unknown token (default <unk>)")
    corpus.add_argument("--text-field", default="text", metavar="FIELD",
                        help="JSON Lines field / Parquet column holding the text (default text; a.b for nested)")
    corpus.add_argument("--on-error", choices=ON_ERROR_CHOICES, default="fail",
                        help="records that cannot be read (not UTF-8, not JSON, no text field): fail (default) "
                             "stops at the first, skip skips and reports them")
    corpus.add_argument("--workers", type=int, help="local processes for counting words (default: all cores)")
    corpus.add_argument("--dask", metavar="ADDRESS",
                        help="count on a Dask cluster: a scheduler address (tcp://host:8786), or local[:N] for "
                             "N local worker processes (needs: pip install \"mcp-server-bpe[scale]\")")
    corpus.add_argument("--shard-bytes", type=int, metavar="N",
                        help="size of the byte ranges uncompressed files are cut into (default 1 MiB, "
                             "32 MiB with --dask)")
    corpus.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    formats_note = ("Corpus files: plain text, JSON Lines (.jsonl/.json), Parquet, each possibly compressed "
                    "(.gz .bz2 .xz .zst); Parquet and zstd need pip install \"mcp-server-bpe[scale]\".")

    def command(name: str, run, *, help: str, description: str, examples: list[str], parents=(), **more):
        """The parser of one command, which runs ``run``; ``examples`` close its help, one a line."""
        several = len(examples) > 1
        parser = commands.add_parser(
            name, parents=list(parents), help=help, description=description,
            epilog=("examples: " if several else "example: ") + "\n          ".join(examples),
            formatter_class=argparse.RawDescriptionHelpFormatter if several else argparse.HelpFormatter, **more,
        )
        parser.set_defaults(run=run)
        return parser

    train_parser = command(
        "train", cmd_train, parents=[corpus], help="train a tokenizer on corpus files, text, or saved counts",
        description="Train a BPE tokenizer and save it (bpe_core JSON) once training is done. "
                    "Progress goes to stderr; Ctrl-C stops cleanly (exit 130) and writes nothing. " + formats_note,
        examples=["python -m bpe_core train corpus.txt --vocab-size 5000 --special-token '<|endoftext|>' -o tok.json"],
    )
    train_parser.add_argument("files", nargs="*", help="corpus files")
    train_parser.add_argument("--from-counts", metavar="COUNTS",
                              help="train from a counts file (python -m bpe_core count) instead of a corpus; "
                                   "mode, pattern and special tokens come from it")
    train_parser.add_argument("-o", "--output", required=True, help="where to save the tokenizer (bpe_core JSON)")
    train_parser.add_argument("--vocab-size", type=int, help="final vocabulary size, specials and base symbols included")
    train_parser.add_argument("--num-merges", type=int, help="how many merges to learn at most")
    train_parser.add_argument("--min-frequency", type=int, default=0, help="stop when the best pair is rarer")

    count_parser = command(
        "count", cmd_count, parents=[corpus], help="count a corpus's words once, to train from (or merge) later",
        description="Write the word counts of a corpus under a pre-tokenizer, with its settings in a header "
                    "(a TSV: see bpe_core.counts). 'train --from-counts' learns from it exactly the merges the "
                    "corpus gives. With --merge, merge counts files made with the same settings. " + formats_note,
        examples=["python -m bpe_core count part1.jsonl.zst -o part1.tsv",
                  "python -m bpe_core count --merge part1.tsv part2.tsv -o all.tsv",
                  "python -m bpe_core train --from-counts all.tsv --vocab-size 5000 -o tok.json"],
    )
    count_parser.add_argument("files", nargs="*", help="corpus files (with --merge: counts files)")
    count_parser.add_argument("--merge", action="store_true", help="merge counts files instead of counting a corpus")
    count_parser.add_argument("-o", "--output", required=True, help="where to save the counts")

    encode_parser = command(
        "encode", cmd_encode, parents=[loading, text_input], help="text to token ids",
        description="Encode text and print its token ids.",
        examples=["python -m bpe_core encode tok.json 'Hello world' --tokens",
                  "python -m bpe_core encode tok.json 'Hello 世界' --show --html tokens.html"],
    )
    encode_parser.add_argument("--tokens", action="store_true", help="a table of tokens with character offsets")
    encode_parser.add_argument("--json", action="store_true", help="print JSON")
    encode_parser.add_argument("--show", action="store_true",
                               help="show the text with token boundaries: coloured on a terminal, '|' dividers "
                                    "elsewhere or with NO_COLOR set")
    encode_parser.add_argument("--html", metavar="FILE",
                               help="also write the token view as a self-contained HTML page (the MCP App's view)")
    specials = encode_parser.add_mutually_exclusive_group()
    specials.add_argument("--allow-special", action="append", metavar="TOKEN",
                          help="encode this special token's text as the special token (repeatable)")
    specials.add_argument("--allow-all-special", action="store_true", help="encode every special token's text as such")
    specials.add_argument("--special-as-text", action="store_true", help="encode special-token text as plain text")

    decode_parser = command(
        "decode", cmd_decode, parents=[loading], help="token ids to text",
        description="Decode token ids (arguments, or standard input) to text.",
        examples=["python -m bpe_core decode tok.json 40 1762 995",
                  "python -m bpe_core encode tok.json 'Hello' | python -m bpe_core decode tok.json"],
    )
    decode_parser.add_argument("ids", nargs="*", help="ids: 1 2 3, 1,2,3 or [1, 2, 3] (default: standard input)")
    decode_parser.add_argument("--strict", action="store_true", help="fail on bytes that are not UTF-8")

    inspect_parser = command(
        "inspect", cmd_inspect, parents=[loading], help="summary of a tokenizer",
        description="Show mode, pattern, sizes, special tokens, first merges and the training report.",
        examples=["python -m bpe_core inspect tokenizer.json --merges 20"],
    )
    inspect_parser.add_argument("--merges", type=int, default=10, help="how many first merges to list (default 10)")
    inspect_parser.add_argument("--json", action="store_true", help="print JSON")

    explain_parser = command(
        "explain", cmd_explain, parents=[loading, text_input], help="merge-by-merge encoding",
        description="Show how each word of the text becomes tokens, merge by merge.",
        examples=["python -m bpe_core explain tok.json 'lowest newest'"],
    )
    explain_parser.add_argument("--json", action="store_true", help="print JSON")

    export_parser = command(
        "export", cmd_export, parents=[loading], help="write a tokenizer in another library's format",
        description="Write the tokenizer as a Hugging Face tokenizer.json, a tiktoken rank file (+ .json), "
                    "GPT-2 vocab.json + merges.txt (a directory), or subword-nmt codes (classic). A format "
                    "that cannot hold the tokenizer exactly refuses it and says why.",
        examples=["python -m bpe_core export tok.json --to tiktoken -o mine.tiktoken"],
    )
    export_parser.add_argument("--to", required=True, choices=FORMATS, help="the format to write")
    export_parser.add_argument("-o", "--output", required=True, help="destination file (a directory for gpt2)")

    import_parser = command(
        "import", cmd_import, help="read another library's tokenizer files into bpe_core JSON",
        description="Read tokenizer.json, a .tiktoken file, vocab.json + merges.txt or a codes file, check "
                    "that bpe_core can reproduce it exactly, and save it as bpe_core JSON.",
        examples=["python -m bpe_core import tokenizer.json -o tok.json",
                  "python -m bpe_core import cl100k_base.tiktoken --pattern cl100k "
                  "--special-token '<|endoftext|>=100257' -o cl100k.json"],
    )
    import_parser.add_argument("sources", nargs="+", help="the file(s), or a directory holding them")
    import_parser.add_argument("-o", "--output", required=True, help="where to save (bpe_core JSON)")
    import_parser.add_argument("--format", choices=FORMATS, help="the files' format (default: detected)")
    import_parser.add_argument("--pattern", help="pre-tokenizer for formats that store none: gpt2, cl100k, o200k "
                                                 "or a regex (tiktoken: required without its .json)")
    import_parser.add_argument("--special-token", action="append", metavar="TOKEN[=ID]",
                               help="a special token, with its id for tiktoken files (repeatable; default: the "
                                    "files' own; a tiktoken special without an id is numbered after the last rank)")

    evaluation = argparse.ArgumentParser(add_help=False)
    evaluation.add_argument("--text", action="append", help="held-out text given inline (repeatable), instead of files")
    evaluation.add_argument("--json", action="store_true", help="print JSON (every number, capped lists)")
    evaluation.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    encoder = evaluation.add_mutually_exclusive_group()
    encoder.add_argument("--fast", dest="fast", action="store_true", default=None,
                         help="insist on encoding through tiktoken (default: when installed and the ids are the same)")
    encoder.add_argument("--no-fast", dest="fast", action="store_false", help="encode with the pure-Python engine")

    evaluate_parser = command(
        "evaluate", cmd_evaluate, parents=[evaluation], help="how well a tokenizer compresses held-out text",
        description="Encode held-out text (streamed) and report compression (bytes, characters and words per "
                    "token; tokens per CJK character), vocabulary use (tokens that never occur, tokens used only "
                    "inside merges), token lengths, the most frequent tokens, a round-trip check and byte "
                    "fallback. TOKENIZER is a tokenizer file or a reference name (cl100k_base, o200k_base, "
                    "gpt-4o, gpt-4 ...).",
        examples=["python -m bpe_core evaluate tok.json held_out.txt",
                  "python -m bpe_core evaluate gpt-4o --text '你好，世界' --json"],
    )
    evaluate_parser.add_argument("tokenizer", help="tokenizer file, or reference/model name (o200k_base, gpt-4o)")
    evaluate_parser.add_argument("files", nargs="*", help="UTF-8 held-out corpus files")
    evaluate_parser.add_argument("--top", type=int, default=20, help="most frequent tokens to list (default 20)")
    evaluate_parser.add_argument("--list", type=int, default=20,
                                 help="unused and merge-only tokens to list, longest first (default 20)")
    evaluate_parser.add_argument("--offset", type=int, default=0, help="page through those lists from here")

    compare_parser = command(
        "compare", cmd_compare, parents=[evaluation], help="several tokenizers on the same text, side by side",
        usage="python -m bpe_core compare [-h] TOKENIZER TOKENIZER [TOKENIZER ...] (FILE [FILE ...] | --text TEXT) "
              "[--json] [-q] [--fast | --no-fast] [--sample-chars N]",
        description="Run 2 to 8 tokenizers over the same held-out text (read once): a table of the numbers "
                    "of 'evaluate' ranked by token count (fewest first), and the start of the text as each "
                    "tokenizer cuts it. Give the tokenizers first (files or reference names), then the corpus "
                    "files, or --text.",
        examples=["python -m bpe_core compare tok.json o200k_base held_out.txt",
                  "python -m bpe_core compare gpt-4 gpt-4o --text 'Tokenizers differ. 分词器不同。'"],
    )
    compare_parser.add_argument("items", nargs="+", metavar="TOKENIZER ... FILE ...",
                                help="tokenizers (files or reference names), then UTF-8 corpus files")
    compare_parser.add_argument("--sample-chars", type=int, default=200, metavar="N",
                                help="characters of the text to show cut by each tokenizer (default 200, 0 for none)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        status = args.run(args)
        sys.stdout.flush()  # here, so that a reader who left (| head) is noticed inside this try
        return status
    except BrokenPipeError:
        # The reader stopped reading (| head): stop quietly, as cat or grep do, with the status
        # a shell reports for SIGPIPE.  Python would flush stdout again at exit and complain, so
        # stdout now goes nowhere.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except (KeyboardInterrupt, TrainingCancelled, EvaluationCancelled):
        stopped = {"train": "training stopped, nothing was written",
                   "count": "counting stopped, nothing was written"}.get(args.command, "stopped")
        print(f"interrupted: {stopped}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except SpecialTokenError as exc:
        print(f"error: {_special_token_error_in_flags(exc)}", file=sys.stderr)
        return EXIT_ERROR
    except BPEError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as exc:
        print(f"error: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_ERROR
