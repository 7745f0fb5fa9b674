"""Counting workers of a threaded process (a server) come from the fork server, and what they re-run of the
caller's main script is light: run from its console script, the server's main script once imported the whole
MCP SDK in every worker, 0.8-0.9 s of CPU on every training call."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path

import pytest
from corpus_text import corpus_slice

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="no fork server on Windows")

# A main script that counts from a thread (as the server does).
MAIN_SCRIPT = textwrap.dedent('''
    import json, sys, threading

    from bpe_core import counting
    from bpe_core.pretokenize import PreTokenizer

    if __name__ == "__main__":
        counting.PARALLEL_THRESHOLD_BYTES = 0
        corpus = sys.argv[1]
        found = {}

        def count():
            found["start method"] = counting._process_context().get_start_method()
            found["counts"] = counting.count_words([], [corpus], PreTokenizer.create("gpt2"),
                                                   reading=counting.CorpusReading(workers=2, shard_bytes=4096)).counts

        thread = threading.Thread(target=count)
        thread.start()
        thread.join()
        alone = counting.count_words([], [corpus], PreTokenizer.create("gpt2"),
                                     reading=counting.CorpusReading(workers=1)).counts
        print(json.dumps({"start method": found["start method"],
                          "same counts in the same order": list(found["counts"].items()) == list(alone.items())}))
''')


def test_a_threaded_process_counts_with_workers_from_the_fork_server(tmp_path):
    script = tmp_path / "main_script.py"
    script.write_text(MAIN_SCRIPT, encoding="utf-8")
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(corpus_slice("en", 40_000) + corpus_slice("zh", 20_000), encoding="utf-8")
    run = subprocess.run([sys.executable, str(script), str(corpus)], check=False, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {"start method": "forkserver", "same counts in the same order": True}


# What a worker runs of the server's main script: the console script pip wrote, run as __mp_main__.
CONSOLE_SCRIPT_AS_A_WORKER_RUNS_IT = textwrap.dedent("""
    import runpy, sys
    runpy.run_path(sys.argv[1], run_name="__mp_main__")
    print(sorted(name for name in ("mcp", "pydantic", "server.app", "anyio") if name in sys.modules))
""")


def test_the_servers_console_script_imports_no_sdk_in_a_worker():
    entry = [e for e in metadata.entry_points(group="console_scripts") if e.name == "mcp-server-bpe"]
    assert [e.value for e in entry] == ["server.console:main"]
    script = Path(sys.executable).with_name("mcp-server-bpe")
    if not script.exists():
        pytest.skip(f"no console script beside {sys.executable} (install the package with pip)")
    run = subprocess.run([sys.executable, "-c", CONSOLE_SCRIPT_AS_A_WORKER_RUNS_IT, str(script)], check=False,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]", f"a counting worker would import {run.stdout.strip()}"
