"""Counting workers started from Python's fork server, without the caller's ``__main__``.

A process that runs threads (the MCP server) must not ``fork`` its
counting workers, so it starts them from a fork server: a small clean
process that has imported only :mod:`bpe_core.counting`.  But Python hands
every process started that way the parent's "preparation data", and the
new process first re-runs the parent's main script as ``__mp_main__``.
Started from its console script, the server's main script imports the
server and the whole MCP SDK (670 modules): 0.8-0.9 s of CPU in each
worker, on every training call, which made counting words through the
server 1.5-2x as slow as in the engine alone.

Counting workers need nothing from ``__main__`` (the job, the shards and
the worker functions all live in :mod:`bpe_core.counting`), so here the
main script is left out of the preparation data; the rest of the launch is
``multiprocessing.popen_forkserver``'s own (the same from CPython 3.8 to
CPython's main branch as read in 2026-12; ``tests/test_worker_start.py``
fails if a new Python changes it).  Only for POSIX systems, where the fork server exists.

>>> context = forkserver_context()
>>> context.get_start_method(), context.Process is WorkerProcess
('forkserver', True)
"""

from __future__ import annotations

import io
import os
from multiprocessing import context, forkserver, popen_forkserver, process, spawn, util

#: Where the parent's main module would be named for the new process to import.
MAIN_MODULE_KEYS = ("init_main_from_name", "init_main_from_path")


class _Popen(popen_forkserver.Popen):
    """``popen_forkserver.Popen``, launching without the caller's main module."""

    def _launch(self, process_obj):
        prep_data = spawn.get_preparation_data(process_obj._name)
        for key in MAIN_MODULE_KEYS:
            prep_data.pop(key, None)
        buf = io.BytesIO()
        context.set_spawning_popen(self)
        try:
            context.reduction.dump(prep_data, buf)
            context.reduction.dump(process_obj, buf)
        finally:
            context.set_spawning_popen(None)
        self.sentinel, w = forkserver.connect_to_new_process(self._fds)
        # The child takes the end of this pipe closing as the sign that its parent has gone.
        parent_w = os.dup(w)
        self.finalizer = util.Finalize(self, util.close_fds, (parent_w, self.sentinel))
        with open(w, "wb", closefd=True) as pipe:
            pipe.write(buf.getbuffer())
        self.pid = forkserver.read_signed(self.sentinel)


class WorkerProcess(process.BaseProcess):
    """A process forked by the fork server that does not import the caller's ``__main__``."""

    _start_method = "forkserver"

    @staticmethod
    def _Popen(process_obj):
        return _Popen(process_obj)


class _ForkServerContext(context.ForkServerContext):
    Process = WorkerProcess


def forkserver_context() -> context.ForkServerContext:
    """The ``forkserver`` start method, whose processes (a ``Pool``'s workers) skip the caller's ``__main__``.

    The fork server imports :mod:`bpe_core.counting` (and this module) once,
    so each worker starts with them loaded.
    """
    server_context = _ForkServerContext()
    server_context.set_forkserver_preload(["bpe_core.counting", __name__])
    return server_context


def start_fork_server() -> None:
    """Start the fork server now, in the background, rather than when the first pool of workers needs it.

    It is a fresh interpreter importing ``bpe_core``: the first training of
    a server waited 0.2-0.5 s for it.  This returns at once.
    """
    forkserver_context()  # sets what the fork server imports
    forkserver.ensure_running()
