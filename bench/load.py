"""A small HTTP load generator: processes x threads, one http.client connection per thread.

Every request is sent exactly once (no retries: a retried submit would be a replay).
Connections are kept alive when the server allows it; gunicorn's sync workers close
each connection after the response, so http.client connects for the next request.
"""

import http.client
import multiprocessing as mp
import queue
import resource
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

Work = list[tuple[str, bytes]]  # (path, JSON body)
HEADERS = {"Content-Type": "application/json", "Connection": "keep-alive"}


@dataclass
class LoadResult:
    requests: int
    wall: float  # first request sent to last response read, across all client processes
    statuses: Counter[int] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    client_cpu: float = 0.0  # user+system seconds of all client processes during the run
    connects: int = 0

    @property
    def rate(self) -> float:
        return self.requests / self.wall if self.wall else 0.0

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] if ordered else 0.0


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _client(host: str, port: int, work: Work, threads: int, ready, go, out) -> None:
    jobs: queue.SimpleQueue[tuple[str, bytes]] = queue.SimpleQueue()
    for item in work:
        jobs.put(item)
    lock = threading.Lock()
    statuses: Counter[int] = Counter()
    errors: list[str] = []
    latencies: list[float] = []
    connects = [0]
    firsts: list[float] = []
    lasts: list[float] = []

    def loop() -> None:
        conn = http.client.HTTPConnection(host, port, timeout=60)
        mine: list[float] = []
        seen: Counter[int] = Counter()
        first = last = 0.0
        while True:
            try:
                path, body = jobs.get_nowait()
            except queue.Empty:
                break
            started = time.monotonic()
            first = first or started
            try:
                if conn.sock is None:
                    connects[0] += 1
                conn.request("POST", path, body, HEADERS)
                response = conn.getresponse()
                response.read()
                seen[response.status] += 1
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}")
            last = time.monotonic()
            mine.append(last - started)
        conn.close()
        with lock:
            statuses.update(seen)
            latencies.extend(mine)
            if first:
                firsts.append(first)
                lasts.append(last)

    ready.set()
    go.wait()
    cpu0 = _cpu()
    pool = [threading.Thread(target=loop) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    out.put(
        {
            "statuses": dict(statuses),
            "errors": errors[:20],
            "latencies": latencies,
            "first": min(firsts, default=0.0),
            "last": max(lasts, default=0.0),
            "cpu": _cpu() - cpu0,
            "connects": connects[0],
        }
    )


def _stop(procs: list[Any]) -> None:
    for proc in procs:  # only the client processes this module started
        if proc.is_alive():
            proc.terminate()
        proc.join(10)


def run(host: str, port: int, work: Work, *, processes: int, threads: int, timeout: float = 600) -> LoadResult:
    """Send every request in ``work`` once, spread over processes x threads; block until done."""
    ctx = mp.get_context("spawn")  # no inherited threads or app state
    go = ctx.Event()
    out = ctx.Queue()
    readies, procs = [], []
    for index in range(processes):
        ready = ctx.Event()
        proc = ctx.Process(target=_client, args=(host, port, work[index::processes], threads, ready, go, out))
        proc.start()
        readies.append(ready)
        procs.append(proc)
    for ready, proc in zip(readies, procs, strict=True):
        if not ready.wait(60):
            _stop(procs)
            raise RuntimeError(f"load client {proc.pid} did not start")
    go.set()
    parts: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(parts) < len(procs):
        try:
            parts.append(out.get(timeout=1))
        except queue.Empty:
            if time.monotonic() > deadline or any(p.exitcode not in (None, 0) for p in procs):
                _stop(procs)
                raise RuntimeError("load clients failed or ran past the time limit") from None
    for proc in procs:
        proc.join(30)
    result = LoadResult(
        requests=len(work), wall=max(p["last"] for p in parts) - min(p["first"] for p in parts if p["first"])
    )
    for part in parts:
        result.statuses.update({int(k): v for k, v in part["statuses"].items()})
        result.errors.extend(part["errors"])
        result.latencies.extend(part["latencies"])
        result.client_cpu += part["cpu"]
        result.connects += part["connects"]
    return result
