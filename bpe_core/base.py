"""What every part of the engine shares: the end-of-word mark and the callback types.

A small module with no imports of its own from ``bpe_core``, so the
trainer, the tokenizer, counting, inspection, evaluation, the interop
formats and the server may all import from here without importing each
other.

>>> END_OF_WORD
'</w>'
"""

from __future__ import annotations

from typing import Callable

#: Classic BPE's end-of-word symbol: the last symbol of every word, so that
#: a token can tell a word's end (``est</w>``) from its middle (``est``).
END_OF_WORD = "</w>"

#: ``on_progress(phase, done, total)``: progress of a long call (``phase`` is
#: "counting", "merging", "evaluating" or "comparing"; ``done`` and ``total``
#: in bytes or merges).
ProgressCallback = Callable[[str, int, int], None]

#: ``should_stop()``: true once the caller gave up on the call (asked often;
#: the work then stops and saves nothing).
StopCheck = Callable[[], bool]
