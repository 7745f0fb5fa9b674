"""Pausing Python's cycle collector while a training runs.

Training makes millions of small lists and strings, none of them in a
cycle, so reference counting frees them all; but each of those
allocations counts towards the next full collection, and a full
collection walks every object of the process.  In a server that is the
whole MCP SDK and pydantic, many more objects than the trainer's: paused,
a server's training was about a quarter faster, and the engine alone
5-10% faster on Chinese.

>>> import gc
>>> with cyclic_gc_paused():
...     gc.isenabled()
False
>>> gc.isenabled()
True
"""

from __future__ import annotations

import functools
import gc
import threading
from contextlib import contextmanager

_pauses = 0
_was_enabled = False
_lock = threading.Lock()


@contextmanager
def cyclic_gc_paused():
    """Pause the cycle collector for the block (reference counting still frees memory).

    Several trainings may overlap (threads): the collector comes back when
    the last one ends, in the state it was in before the first.
    """
    global _pauses, _was_enabled
    with _lock:
        if _pauses == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _lock:
            _pauses -= 1
            if _pauses == 0 and _was_enabled:
                gc.enable()


def without_cyclic_gc(function):
    """``function`` run inside :func:`cyclic_gc_paused` (for whole training calls: counting makes
    millions of objects too).

    >>> import gc
    >>> without_cyclic_gc(gc.isenabled)()
    False
    """

    @functools.wraps(function)
    def paused(*args, **kwargs):
        with cyclic_gc_paused():
            return function(*args, **kwargs)

    return paused
