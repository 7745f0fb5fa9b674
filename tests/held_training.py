"""A server process whose long training keeps merging until it is cancelled, by construction.

Load tests ask "is every encode answered while a training runs?".  A real
training of a finite corpus ends when no pair is left, and on a fast or an
idle machine that can come before the last encode.  The server started by
:data:`HOLDING_LAUNCHER` runs the real merge loop (the same CPU and GIL
load), but a training that asks for :data:`HELD_VOCAB_SIZE` tokens starts
it over each time it ends, counting its merges on so that progress keeps
rising, until the call is cancelled.  Every other training is untouched.
"""

from __future__ import annotations

import sys

#: The vocabulary size that marks a training to hold (and the --max-vocab-size it needs).
HELD_VOCAB_SIZE = 1_000_000

HOLDING_LAUNCHER = f"""
import sys
from bpe_core import training_pipeline

learn_merges = training_pipeline.learn_merges


def learn_or_hold(word_counts, family, limits, *, on_progress=None, **options):
    if limits.max_vocab != {HELD_VOCAB_SIZE}:
        return learn_merges(word_counts, family, limits, on_progress=on_progress, **options)
    rounds = 0

    def rising(phase, done, total):  # each round's merges count on from the last round's
        if on_progress is not None:
            on_progress(phase, rounds * 10**6 + min(done, 10**6 - 1), 10**9)

    while True:  # ended by TrainingCancelled, raised by the merge loop once the call is cancelled
        learn_merges(word_counts, family, limits, on_progress=rising, **options)
        rounds += 1


training_pipeline.learn_merges = learn_or_hold
from server.console import main
sys.exit(main(sys.argv[1:]))
"""

#: The command that starts such a server (its flags follow).
HOLDING_SERVER = [sys.executable, "-c", HOLDING_LAUNCHER]
