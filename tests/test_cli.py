"""``python -m bpe_core``, run as a user runs it: in a subprocess."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bpe_core import load_tokenizer
from bpe_core.counting import PARALLEL_THRESHOLD_BYTES
from corpus_text import corpus_slice

REPO = Path(__file__).resolve().parents[1]
CORPUS_TEXT = "the lowest newest widest low lower 中文 中国 def f(x): return x + 1\n" * 40
COMMANDS = ["train", "encode", "decode", "inspect", "explain", "export", "import", "evaluate", "compare"]


def run(*args: str, input: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "bpe_core", *map(str, args)], input=input, capture_output=True,
                            text=True, cwd=REPO, timeout=120)
    if check:
        assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result


@pytest.fixture(scope="module")
def tokenizer_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "tok.json"
    result = run("train", "--text", CORPUS_TEXT, "--vocab-size", "300", "--special-token", "<|end|>", "-o", path)
    assert f"-> {path}" in result.stdout
    assert "merging" in result.stderr and "[" in result.stderr  # the progress bar
    return path


def test_help_for_every_command():
    assert all(command in run("--help").stdout for command in COMMANDS)
    for command in COMMANDS:
        usage = run(command, "--help").stdout
        assert usage.startswith(f"usage: python -m bpe_core {command}")


def test_train_from_files_with_every_option(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(CORPUS_TEXT, encoding="utf-8")
    output = tmp_path / "classic.json"
    result = run("train", corpus, "--mode", "classic", "--num-merges", "20", "--min-frequency", "2",
                 "--special-token", "<pad>", "--unk-token", "<UNK>", "-q", "-o", output)
    assert result.stderr == ""  # -q: no progress
    tokenizer = load_tokenizer(output)
    assert (tokenizer.mode, len(tokenizer.merges), tokenizer.unk_token) == ("classic", 20, "<UNK>")
    run("train", corpus, "--pattern", "cl100k", "--vocab-size", "280", "-o", tmp_path / "cl.json")
    assert load_tokenizer(tmp_path / "cl.json").pattern_name == "cl100k"


def test_encode_matches_the_library(tokenizer_path):
    tokenizer = load_tokenizer(tokenizer_path)
    text = "the newest 中文 def"
    assert run("encode", tokenizer_path, text).stdout.split() == [str(i) for i in tokenizer.encode(text)]
    assert json.loads(run("encode", tokenizer_path, "--json", input=text).stdout) == tokenizer.encode(text)
    table = run("encode", tokenizer_path, text, "--tokens").stdout.splitlines()
    assert table[0].split() == ["id", "token", "text", "start", "end"]
    assert len(table) == 1 + len(tokenizer.encode(text))
    tokens = json.loads(run("encode", tokenizer_path, text, "--tokens", "--json").stdout)
    assert [(t["start"], t["end"]) for t in tokens][0] == (0, 3)


def test_encode_special_token_policy(tokenizer_path):
    text = "low<|end|>"
    refused = run("encode", tokenizer_path, text, check=False)
    assert refused.returncode == 2
    assert refused.stderr.startswith("error: the text contains the special token '<|end|>'")
    # Said with the command's flags, not the Python API's arguments.
    assert "--allow-special '<|end|>' (or --allow-all-special)" in refused.stderr
    assert "--special-as-text" in refused.stderr and "allowed_special=" not in refused.stderr
    unknown = run("encode", tokenizer_path, text, "--allow-special", "<x>", check=False)
    assert unknown.stderr == ("error: --allow-special names '<x>', which is not a special token of this tokenizer "
                              "(its special tokens: '<|end|>')\n")
    special_id = load_tokenizer(tokenizer_path).special_tokens["<|end|>"]
    assert run("encode", tokenizer_path, text, "--allow-special", "<|end|>").stdout.split()[-1] == str(special_id)
    assert str(special_id) not in run("encode", tokenizer_path, text, "--special-as-text").stdout.split()


def test_decode_from_arguments_and_stdin(tokenizer_path):
    ids = load_tokenizer(tokenizer_path).encode("the newest 中文")
    assert run("decode", tokenizer_path, *map(str, ids)).stdout == "the newest 中文\n"
    assert run("decode", tokenizer_path, input=json.dumps(ids)).stdout == "the newest 中文\n"
    bad = run("decode", tokenizer_path, "12", "x", check=False)
    assert bad.returncode == 2 and bad.stderr.startswith("error: ids must be integers")


def test_inspect_and_explain(tokenizer_path):
    summary = run("inspect", tokenizer_path, "--merges", "3").stdout
    assert "mode:           byte_level" in summary and "<|end|>" in summary and "#2 " in summary
    info = json.loads(run("inspect", tokenizer_path, "--json").stdout)
    assert info["vocab_size"] == load_tokenizer(tokenizer_path).vocab_size and info["training"]["stop_reason"]
    explained = run("explain", tokenizer_path, "lowest").stdout
    # The notation is said first (once), then the words.
    assert explained.startswith("Byte-level BPE: ") and explained.splitlines()[2] == "Word 'lowest':"
    assert " -> " in explained and "tokens" in explained


def test_explain_and_encode_show_bytes_in_one_notation(tokenizer_path):
    # Byte-level symbols read as text, with \xNN for bytes that are only part of a character: the same on
    # every screen, never GPT-2's byte symbols ('Ġ', 'ä¸') in explain, never JSON's doubled backslash.
    explained = run("explain", tokenizer_path, "the 中文字").stdout
    assert explained.count("\\xNN") == 1 and explained.index("\\xNN") < explained.index("\\xe5")
    assert "Ġ" not in explained and "ä" not in explained
    assert "  start:     ␣  \\xe4  \\xb8  \\xad" in explained
    summary = run("inspect", tokenizer_path, "--merges", "40").stdout
    assert "Ġ" not in summary and "\\xNN" in summary and "␣" in summary
    table = run("encode", tokenizer_path, "字", "--tokens").stdout
    assert '"\\xe5"' in table and "\\\\x" not in table
    steps = json.loads(run("explain", tokenizer_path, "lowest", "--json").stdout)
    assert steps[0]["word"] == "lowest" and steps[0]["steps"]


def test_export_then_import_through_tokenizers(tokenizer_path, tmp_path):
    tokenizers = pytest.importorskip("tokenizers")
    exported = run("export", tokenizer_path, "--to", "huggingface", "-o", tmp_path / "tokenizer.json").stdout
    assert f"wrote {tmp_path / 'tokenizer.json'}" in exported and "note:" in exported
    theirs = tokenizers.Tokenizer.from_file(str(tmp_path / "tokenizer.json"))
    text = "the lowest 中国"
    # Any format is accepted wherever a tokenizer is read.
    assert run("encode", tmp_path / "tokenizer.json", text, "--json").stdout.strip() == json.dumps(theirs.encode(text).ids)
    run("import", tmp_path / "tokenizer.json", "-o", tmp_path / "back.json")
    assert load_tokenizer(tmp_path / "back.json").vocab == load_tokenizer(tokenizer_path).vocab


def test_export_and_import_tiktoken_and_gpt2(tokenizer_path, tmp_path):
    run("export", tokenizer_path, "--to", "tiktoken", "-o", tmp_path / "t.tiktoken")
    (tmp_path / "t.tiktoken.json").unlink()
    missing = run("import", tmp_path / "t.tiktoken", "-o", tmp_path / "x.json", check=False)
    assert missing.returncode == 2 and "pattern=" in missing.stderr
    run("import", tmp_path / "t.tiktoken", "--pattern", "gpt2", "--special-token", "<|end|>=0", "-o", tmp_path / "t.json")
    run("export", tokenizer_path, "--to", "gpt2", "-o", tmp_path / "gpt2")
    run("import", tmp_path / "gpt2" / "vocab.json", tmp_path / "gpt2" / "merges.txt", "-o", tmp_path / "g.json")
    expected = load_tokenizer(tokenizer_path).encode("the newest 中文")
    for path in ("t.json", "g.json"):
        assert load_tokenizer(tmp_path / path).encode("the newest 中文") == expected


@pytest.mark.parametrize(
    "args, message",
    [
        (["encode", "missing.json", "x"], "error: missing.json: no such file"),
        (["train", "--text", "abc", "--mode", "classic", "--pattern", "gpt2", "--num-merges", "3", "-o", "x.json"],
         "error: classic BPE splits words on whitespace"),
        (["train", "-o", "x.json", "--vocab-size", "300"], "error: give corpus files, or text with --text"),
        (["train", "--text", "abc", "--vocab-size", "300", "-o", "nowhere/x.json"],
         "error: -o nowhere/x.json: the directory nowhere does not exist"),
        (["export", "TOKENIZER", "--to", "subword_nmt", "-o", "codes.txt"], "error: the subword-nmt codes format holds classic"),
    ],
)
def test_errors_are_one_line_with_status_2(args, message, tokenizer_path, tmp_path):
    args = [str(tokenizer_path) if a == "TOKENIZER" else a for a in args]
    result = subprocess.run([sys.executable, "-m", "bpe_core", *args], capture_output=True, text=True, cwd=tmp_path,
                            timeout=60)
    assert result.returncode == 2
    assert result.stderr.startswith(message), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x.json").exists()


def test_corrupt_tokenizer_file(tmp_path):
    path = tmp_path / "tok.json"
    path.write_text('{"format": "bpe_core.tokenizer", "version": 1, "mode": "byte_', encoding="utf-8")
    result = run("inspect", path, check=False)
    assert result.returncode == 2 and result.stderr.startswith(f"error: {path}: is not valid JSON")


@pytest.mark.parametrize("workers", ["1", "2"])
def test_ctrl_c_stops_training_cleanly_and_writes_nothing(workers, tmp_path):
    # Five copies of the test corpora: above the parallel threshold, so that
    # workers=2 starts a pool, and too much to count and merge into 50,000
    # tokens in the moment between the first progress line and the signal.
    corpus = tmp_path / "corpus" / "big.txt"
    corpus.parent.mkdir()
    corpus.write_text("".join(corpus_slice(name, 2_000_000) for name in ("en", "zh", "code")) * 5, encoding="utf-8")
    assert corpus.stat().st_size > PARALLEL_THRESHOLD_BYTES
    output = tmp_path / "out" / "tok.json"
    output.parent.mkdir()
    process = subprocess.Popen(
        [sys.executable, "-m", "bpe_core", "train", str(corpus), "--vocab-size", "50000", "--workers", workers,
         "-o", str(output)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,  # its own process group, like a shell job
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # even if our runner ignores SIGINT
    )
    try:
        first_line = process.stderr.readline()  # the first progress report: training is under way
        assert first_line.startswith("counting"), first_line
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole job
        stdout, stderr = process.communicate(timeout=120)  # a generous bound; it stops within a second or two
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 130, stderr
    assert stderr.strip().splitlines()[-1] == "interrupted: training stopped, nothing was written"
    assert "Traceback" not in stderr  # not in the parent, not in a worker
    assert stdout == ""
    assert list(output.parent.iterdir()) == []  # no output, no temporary file


def test_a_reader_that_stops_early_ends_the_command_quietly(tokenizer_path):
    # `python -m bpe_core encode ... --tokens | head -1`: far more output than a pipe holds, and the
    # reader closes its end after one line.
    text = "the lowest newest widest 中文 " * 20_000
    process = subprocess.Popen([sys.executable, "-m", "bpe_core", "encode", str(tokenizer_path), "--tokens"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO)
    process.stdin.write(text.encode())
    process.stdin.close()
    first_line = process.stdout.readline()
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == 141  # 128 + SIGPIPE, as a shell reports for cat or grep
    assert first_line.split() == [b"id", b"token", b"text", b"start", b"end"]
    assert stderr == ""


def test_train_reports_problems_in_the_order_a_person_fixes_them(tmp_path):
    # The corpus first, then where the result goes, then the settings: each fix reveals the next problem.
    def first_error(*args: str) -> str:
        result = subprocess.run([sys.executable, "-m", "bpe_core", "train", *args], capture_output=True, text=True,
                                cwd=tmp_path, timeout=60)
        assert result.returncode == 2 and len(result.stderr.splitlines()) == 1, result.stderr
        return result.stderr

    assert first_error("nope.txt", "-o", "nowhere/x.json") == (
        "error: corpus file 'nope.txt' does not exist or is not a regular file\n")
    (tmp_path / "corpus.txt").write_text("low lower newest\n", encoding="utf-8")
    assert first_error("corpus.txt", "-o", "nowhere/x.json") == (
        "error: -o nowhere/x.json: the directory nowhere does not exist\n")
    assert first_error("corpus.txt", "-o", "x.json") == (
        "error: give --vocab-size (the final vocabulary size) or --num-merges (how many merges to learn)\n")
    assert not (tmp_path / "x.json").exists()


def run_in_terminal(*args: str, env: dict | None = None) -> str:
    """``python -m bpe_core ARGS`` with a pseudo-terminal as stdout (what a person at a shell sees)."""
    import pty

    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen([sys.executable, "-m", "bpe_core", *map(str, args)], stdout=follower,
                                   stderr=subprocess.PIPE, cwd=REPO, env={**os.environ, **(env or {})})
        os.close(follower)
        output = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            output += chunk
        assert process.wait(timeout=120) == 0, process.stderr.read()
        process.stderr.close()
    finally:
        os.close(leader)
    return output.decode("utf-8").replace("\r\n", "\n")


def test_encode_show_divides_tokens_without_escape_codes_off_a_terminal(tokenizer_path):
    tokenizer = load_tokenizer(tokenizer_path)
    text = "the newest 中文\n\tdef"
    shown = run("encode", tokenizer_path, text, "--show").stdout
    assert "\x1b" not in shown
    heading, body = shown.split("\n", 1)
    tokens = tokenizer.encode_tokens(text)
    assert heading == f"tok.json: {len(tokens)} tokens, {len(text)} characters"
    assert body.rstrip("\n").split("|") == [t.text.replace(" ", "␣").replace("\n", "↵\n").replace("\t", "→")
                                            for t in tokens]


def test_encode_show_colours_a_terminal_unless_no_color(tokenizer_path):
    text = "the newest 中文 def"
    coloured = run_in_terminal("encode", tokenizer_path, text, "--show", env={"TERM": "xterm-256color"})
    tokens = load_tokenizer(tokenizer_path).encode_tokens(text)
    backgrounds = re.findall(r"\x1b\[48;5;(\d+)m", coloured)
    assert len(backgrounds) == len(tokens) and "|" not in coloured.split("\n", 1)[1]
    assert all(a != b for a, b in zip(backgrounds, backgrounds[1:]))  # neighbours always differ
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured).split("\n")[1].replace("␣", " ") == text
    plain = run_in_terminal("encode", tokenizer_path, text, "--show", env={"NO_COLOR": "1"})
    assert "\x1b" not in plain and plain.count("|") == len(tokens) - 1


def test_encode_html_writes_the_page_and_keeps_stdout(tokenizer_path, tmp_path):
    text = "the newest 中文 😀"
    page_path = tmp_path / "view.html"
    result = run("encode", tokenizer_path, text, "--html", page_path)
    tokenizer = load_tokenizer(tokenizer_path)
    assert result.stdout.split() == [str(i) for i in tokenizer.encode(text)]  # the ids, as without --html
    assert result.stderr == f"wrote {page_path}\n"
    page = page_path.read_text(encoding="utf-8")
    data = json.loads(re.search(r'<script type="application/json" id="data">(.*?)</script>', page, re.S)[1])
    (segmentation,) = data["segmentations"]
    assert [t["id"] for t in segmentation["tokens"]] == tokenizer.encode(text)
    assert "".join(t["text"] for t in segmentation["tokens"] if not t.get("byte_fallback")).startswith("the newest")
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    missing = run("encode", tokenizer_path, text, "--html", tmp_path / "no" / "view.html", check=False)
    assert missing.returncode == 2 and missing.stderr.startswith("error: --html ")
    assert "does not exist" in missing.stderr


# --- evaluate and compare ----------------------------------------------------------------------

HELD_OUT = "the newest lowest tokens\n中文分词 café\n\nreturn f(x)\n"


@pytest.fixture(scope="module")
def o200k_cached():
    """o200k_base converted and cached before a subprocess needs it (the first conversion takes a while)."""
    from bpe_core.reference import load_reference

    return load_reference("o200k_base")


def test_evaluate_text_and_files(tokenizer_path, tmp_path):
    from bpe_core.evaluation import evaluate

    expected = evaluate(load_tokenizer(tokenizer_path), texts=[HELD_OUT], fast=False, top_k=5)
    report = json.loads(run("evaluate", tokenizer_path, "--text", HELD_OUT, "--json", "--top", "5").stdout)
    for key in ("tokens", "bytes", "words", "vocab_used", "unused_total", "merge_only_total", "byte_fallback_bytes",
                "round_trip_failures", "length_distribution"):
        assert report[key] == getattr(expected, key), key
    assert [t["id"] for t in report["top_tokens"]] == [t.id for t in expected.top_tokens]
    corpus = tmp_path / "held_out.txt"
    corpus.write_text(HELD_OUT * 50, encoding="utf-8")
    summary = run("evaluate", tokenizer_path, corpus, "-q").stdout.splitlines()
    assert summary[0].startswith(f"tok.json (byte_level, gpt2, {load_tokenizer(tokenizer_path).vocab_size} tokens, ")
    assert f"{len((HELD_OUT * 50).encode()):,} bytes ->" in summary[0]
    assert summary[1].startswith("  compression: ") and "tokens/CJK char" in summary[1]
    assert summary[2].startswith("  vocabulary: ") and "round trip: 0 of 1 blocks failed" in summary[3]


def test_evaluate_needs_a_corpus_and_a_known_tokenizer(tokenizer_path):
    missing = run("evaluate", tokenizer_path, check=False)
    assert missing.returncode == 2 and missing.stderr == "error: give held-out corpus files, or text with --text\n"
    unknown = run("evaluate", "gpt-4oo", "--text", "x", check=False)
    assert unknown.returncode == 2 and len(unknown.stderr.splitlines()) == 1
    assert unknown.stderr.startswith("error: 'gpt-4oo' is neither a tokenizer file nor a reference tokenizer")
    assert unknown.stderr.rstrip().endswith("(nearest: gpt-4o)")


def test_compare_a_trained_tokenizer_with_a_reference(tokenizer_path, tmp_path, o200k_cached):
    corpus = tmp_path / "held_out.txt"
    corpus.write_text(HELD_OUT * 20, encoding="utf-8")
    result = json.loads(run("compare", tokenizer_path, "gpt-4o", corpus, "--json", "-q").stdout)
    assert [r["name"] for r in result["ranking"]] == ["o200k_base", "tok.json"]  # fewer tokens first
    assert result["ranking"][0]["tokens"] == len(o200k_cached.encode_ordinary(HELD_OUT * 20))
    assert result["evaluations"]["o200k_base"]["vocab_size"] == 200_000
    assert set(result["segmentations"]) == {"tok.json", "o200k_base"} and result["differing_boundaries"]
    table = run("compare", tokenizer_path, "o200k_base", "--text", HELD_OUT, "-q").stdout.splitlines()
    assert table[0].split()[:3] == ["tokenizer", "vocab", "tokens"]
    assert table[1].startswith("1. o200k_base") and table[2].startswith("2. tok.json")
    assert table[3].startswith("sample (") and table[4].lstrip().startswith("tok.json")
    one = run("compare", tokenizer_path, corpus, check=False)
    assert one.returncode == 2 and one.stderr.startswith("error: compare takes 2 to 8 tokenizers")


def test_commands_accept_reference_names(o200k_cached):
    assert run("encode", "gpt-4o", "Hello 世界").stdout.split() == [str(i) for i in o200k_cached.encode("Hello 世界")]
    assert "vocab size:     200,000" in run("inspect", "o200k_base", "--merges", "1").stdout
    refused = run("encode", "gpt-4o", "x", "--pattern", "gpt2", check=False)
    assert refused.returncode == 2 and "reference tokenizer with its own pattern" in refused.stderr
