"""Counting workers of a threaded process (a server) come from the fork server and never re-run the caller's
main script: run from its console script, the server's main script imports the whole MCP SDK, which cost
each worker 0.8-0.9 s of CPU on every training call."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from corpus_text import corpus_slice

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="no fork server on Windows")

# A main script that counts from a thread (as the server does) and leaves a mark if a worker imports it.
MAIN_SCRIPT = textwrap.dedent('''
    import json, sys, threading
    from pathlib import Path

    from bpe_core import counting
    from bpe_core.pretokenize import PreTokenizer

    if __name__ == "__mp_main__":  # a worker process re-running this script
        Path(__file__).with_suffix(".imported").touch()

    if __name__ == "__main__":
        counting.PARALLEL_THRESHOLD_BYTES = 0
        corpus = sys.argv[1]
        found = {}

        def count():
            found["start method"] = counting._process_context().get_start_method()
            found["counts"] = counting.count_words([], [corpus], PreTokenizer.create("gpt2"), workers=2,
                                                   shard_bytes=4096).counts

        thread = threading.Thread(target=count)
        thread.start()
        thread.join()
        alone = counting.count_words([], [corpus], PreTokenizer.create("gpt2"), workers=1).counts
        print(json.dumps({"start method": found["start method"],
                          "same counts in the same order": list(found["counts"].items()) == list(alone.items())}))
''')


def test_workers_of_a_threaded_process_skip_its_main_script(tmp_path):
    script = tmp_path / "main_script.py"
    script.write_text(MAIN_SCRIPT, encoding="utf-8")
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(corpus_slice("en", 40_000) + corpus_slice("zh", 20_000), encoding="utf-8")
    run = subprocess.run([sys.executable, str(script), str(corpus)], check=False, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {"start method": "forkserver", "same counts in the same order": True}
    assert not script.with_suffix(".imported").exists(), "a counting worker re-ran the caller's main script"
