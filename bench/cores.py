"""How much CPU work the machine does with every core busy, against one core alone.

A fixed pure-Python loop is timed in one process, then in one process per core at once.
The figure is the work done per second with all cores busy over the work done by one:
about the core count on dedicated cores, near 1 where virtual cores share a physical one
or a quota. It says what any parallel release (or a second gunicorn worker) can gain here.
"""

import os
import time
from multiprocessing import get_context

LOOP = 10_000_000


def spin(n: int = LOOP) -> float:
    started = time.perf_counter()
    total = 0
    for i in range(n):
        total += i & 7
    return time.perf_counter() - started


def capacity() -> float:
    cores = os.cpu_count() or 1
    alone = min(spin() for _ in range(2))
    with get_context("spawn").Pool(cores) as pool:
        pool.map(spin, [1000] * cores)  # start every process before timing
        started = time.perf_counter()
        pool.map(spin, [LOOP] * cores)
        together = time.perf_counter() - started
    return cores * alone / together


if __name__ == "__main__":
    print(f"{capacity():.2f}")
