# SPDX-License-Identifier: MIT
"""What the bench's own TLS clients (idle_client.py --tls, handshake_client.py) share: a pool of
threads that makes COUNT connections and gives up early on a server that fails them all, and a
short name for each kind of failure."""

from __future__ import annotations

import collections
import ssl
import threading
import time
from typing import Callable


def error_name(e: BaseException) -> str:
    what = type(e).__name__
    if isinstance(e, ssl.SSLError):
        what += f" {e.reason or e}"
    elif isinstance(e, OSError) and e.errno:
        what += f" {e.errno}"
    elif str(e):
        what += f" {e}"
    return what[:120]


def run_threads(count: int, threads: int, errors: collections.Counter, lock: threading.Lock,
                one: Callable[[], None]) -> float:
    """Calls one() COUNT times from THREADS threads and returns the seconds it took. one() counts
    its failures in |errors| under |lock|; after max(20, COUNT / 10) of them the calls left are
    counted as "not tried (too many failures)" instead, so a server that drops or stalls every
    connection ends the run in seconds."""
    left = [count]
    give_up = max(20, count // 10)

    def work() -> None:
        while True:
            with lock:
                if left[0] == 0:
                    return
                if sum(errors.values()) >= give_up:
                    errors["not tried (too many failures)"] += left[0]
                    left[0] = 0
                    return
                left[0] -= 1
            one()

    t0 = time.monotonic()
    pool = [threading.Thread(target=work) for _ in range(max(1, min(threads, count)))]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return time.monotonic() - t0
