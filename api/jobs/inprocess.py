"""In-process background work, when there is no Redis: threads in each web process."""

import contextlib
import fcntl
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from flask import Flask

from api.jobs.deliver import MAIL_INTERVAL_SECONDS, send_logged
from api.jobs.release import run_due_logged


class Background:
    """In-process jobs: one daemon thread per process runs due work on wall-clock ticks, and
    another sends the emails with delivered links (at once when asked, and every
    ``MAIL_INTERVAL_SECONDS`` for retries).

    Ticks come every ``RELEASE_INTERVAL_SECONDS``, as with Redis, and never right after an
    answer: the moment a cohort appears does not point at whoever answered last. Work left
    by a restart or a failed run is picked up at the next tick. Every process wakes for a
    tick; one runs it and the others on the machine skip it. Processes on other machines
    may run it too: releases mark only what is still pending, so nothing is released twice.
    A process that dies mid-run loses nothing: its transaction rolls back and the answers
    stay pending (P7).
    """

    def __init__(self, app: Flask) -> None:
        self._app = app
        self._lock = threading.Lock()
        self._threads: dict[str, threading.Thread] = {}
        self._stopping = threading.Event()
        self._letters = threading.Event()  # set when a delivered request has emails waiting

    def _running(self) -> bool:
        return len(self._threads) == 2 and all(t.is_alive() for t in self._threads.values())

    def start(self) -> None:
        """Start the threads this process lacks (first request, or after a fork); never
        again once stopped. One runs the ticks, one sends the emails with links."""
        if self._stopping.is_set() or self._running():
            return
        with self._lock:
            if self._stopping.is_set():
                return
            for name, target in (("allyloop-jobs", self._loop), ("allyloop-mail", self._mail_loop)):
                thread = self._threads.get(name)
                if thread is None or not thread.is_alive():
                    thread = self._threads[name] = threading.Thread(target=target, name=name, daemon=True)
                    thread.start()

    def wake_mail(self) -> None:
        """Emails with links are waiting: send them now rather than at the next mail tick."""
        self.start()
        self._letters.set()

    def stop(self, timeout: float = 30.0) -> None:
        """End the thread for good, after the run in progress (if any) has closed its session.

        Whoever disposes of the app's engine, or reuses its database for something else
        (tests do, on one shared PostgreSQL database), stops this first.
        """
        with self._lock:
            self._stopping.set()
            self._letters.set()
            threads = list(self._threads.values())
        for thread in threads:
            thread.join(timeout)

    def _loop(self) -> None:
        interval = self._app.config["ALLYLOOP"].release_interval_seconds
        turns = Path(self._app.instance_path) / "jobs.lock"
        while not self._stopping.wait(interval - time.time() % interval):
            with _alone(turns) as alone:
                if alone:
                    with self._app.app_context(), _short_turns():
                        run_due_logged()

    def _mail_loop(self) -> None:
        """Emails with links go out as soon as they are asked for; retries, and any a
        restart left waiting, on a short tick."""
        turns = Path(self._app.instance_path) / "mail.lock"
        while not self._stopping.is_set():
            self._letters.wait(MAIL_INTERVAL_SECONDS)
            self._letters.clear()
            if self._stopping.is_set():
                return
            with _alone(turns) as alone:
                if alone:
                    with self._app.app_context():
                        send_logged()


# How often the interpreter hands the GIL from one thread to another while a tick runs
# (Python's default: every 5 ms). A request thread gives the GIL up at every socket read and
# write and every SQLite statement, a dozen times an answer; while a tick opens and counts
# answers on the CPU, it waited up to the whole interval to get it back each time, and the
# process's answers slowed to a few per second for as long as the tick lasted.
TICK_SWITCH_INTERVAL = 0.0002


@contextlib.contextmanager
def _short_turns() -> Iterator[None]:
    """The GIL handed around every ``TICK_SWITCH_INTERVAL`` for the block, in the whole
    process: the tick takes a little longer, the requests beside it barely slow down."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(min(before, TICK_SWITCH_INTERVAL))
    try:
        yield
    finally:
        sys.setswitchinterval(before)


@contextlib.contextmanager
def _alone(lock_file: Path) -> Iterator[bool]:
    """Whether this process is the only one here running the tick. Every web worker's thread
    wakes at the same moment; the others skip it rather than open the same answers again
    only to find, when they write, that one of them was first. Correctness does not rest on
    this (releases mark only what is still pending); it saves the repeated work."""
    with lock_file.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True  # closing the file, whatever happens, releases the lock
