"""One process-wide flag: the server is shutting down.

Set when the HTTP server receives SIGTERM or SIGINT (:mod:`server.http_transport`).
Worker threads read it between steps: a training stops as if cancelled, and
progress notifications are no longer sent, so that no thread holds up the exit
waiting on a client that does not read.

>>> stopping.is_set()
False
"""

from __future__ import annotations

import threading

stopping = threading.Event()
