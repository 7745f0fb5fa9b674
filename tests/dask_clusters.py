"""Real Dask clusters on this machine for the tests: ``dask scheduler`` and
``dask worker`` processes over TCP on 127.0.0.1, and a ``LocalCluster``.

Without ``distributed`` the tests are skipped, except under CI (``CI`` set),
where it is installed and a missing one fails (see ``scale_corpora.optional``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from scale_corpora import optional

STARTUP_SECONDS = 90


def dask_command(*args: str) -> list[str]:
    """``dask ARGS`` with the dask of this Python (its console script sits next to the interpreter)."""
    script = Path(sys.executable).parent / "dask"
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-m", "dask", *args]


@dataclass
class ExternalCluster:
    address: str
    scheduler: subprocess.Popen
    workers: list[subprocess.Popen]


def _wait_for_file(path: Path, process: subprocess.Popen, log: Path) -> dict:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if path.exists():
            try:
                return json.loads(path.read_text())
            except ValueError:
                pass  # still being written
        if process.poll() is not None:
            raise RuntimeError(f"dask scheduler exited with {process.returncode}: {log.read_text()[-2000:]}")
        time.sleep(0.1)
    raise RuntimeError(f"dask scheduler did not write {path} within {STARTUP_SECONDS} s: {log.read_text()[-2000:]}")


@contextmanager
def external_cluster(directory: Path, workers: int = 2):
    """A scheduler and ``workers`` single-threaded worker processes (no nanny, so a kill is a lost worker)."""
    distributed = optional("distributed")
    directory.mkdir(parents=True, exist_ok=True)
    scheduler_file = directory / "scheduler.json"
    processes: list[subprocess.Popen] = []
    logs = []

    def start(name: str, *args: str) -> subprocess.Popen:
        log = directory / f"{name}.log"
        handle = open(log, "wb")
        logs.append(handle)
        process = subprocess.Popen(dask_command(*args), stdout=handle, stderr=subprocess.STDOUT, cwd=directory,
                                   env=os.environ.copy())
        processes.append(process)
        return process

    try:
        scheduler = start("scheduler", "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                          "--scheduler-file", str(scheduler_file))
        address = _wait_for_file(scheduler_file, scheduler, directory / "scheduler.log")["address"]
        worker_processes = [
            start(f"worker{i}", "worker", address, "--host", "127.0.0.1", "--nthreads", "1", "--no-nanny",
                  "--no-dashboard", "--name", f"worker{i}")
            for i in range(workers)
        ]
        with distributed.Client(address, timeout=STARTUP_SECONDS) as client:
            client.wait_for_workers(workers, timeout=STARTUP_SECONDS)
        yield ExternalCluster(address, scheduler, worker_processes)
    finally:
        # All at once: a worker stopped alone first tries to hand its data to the others.
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                # A worker whose scheduler left can linger in its shutdown; it holds nothing of ours.
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for handle in logs:
            handle.close()


@contextmanager
def local_cluster(workers: int = 2):
    """A ``LocalCluster`` of worker processes on 127.0.0.1, and a client of it."""
    distributed = optional("distributed")
    with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=":0") as cluster, distributed.Client(cluster) as client:
        yield client
