"""Group commit on SQLite: the answers that arrive together in a process are written in one
transaction and one synced COMMIT.

Why: on the embedded default the sync to disk at COMMIT is most of an answer's cost, and
SQLite has one writer at a time. A request thread checks its answer with reads of its own,
then hands its write to the process's ``Committer``. The first thread to find no commit
under way leads: it takes every write waiting (its own among them), runs each in a
SAVEPOINT of one transaction (a write that fails, such as a spent link or a replayed
envelope, rolls back alone and its request gets that error), COMMITs once with
``synchronous=FULL``, and only then wakes the requests of the batch: a 202 always follows
the synced COMMIT that holds its answer (P7). If the COMMIT fails, every write of the batch
fails with it, nothing of the batch is stored, and each request answers 503 (its link is
still live). Writes that arrive meanwhile wait, and one of them leads the next batch; so
batches form by themselves, with no waiting window, and no thread of its own outlives a
request.

Committers of different processes take turns on a file lock beside the database, so that a
writer waits in a queue rather than polling SQLite's busy timeout. A committer also keeps
the connections its requests check their answers on (``reader``): on SQLite the answer path
never goes through the ORM's engine and pool, whose checkout and reset cost more than the
check's one read.

``store_answer`` is the one way an answer is written, from the JSON API and the no-JavaScript
form alike: checked on a connection of the driver's own, then stored through this committer
on SQLite, or in one statement on PostgreSQL.
"""

import contextlib
import fcntl
import functools
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import psycopg
from flask import Flask, current_app
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from api import postgres, sqlite
from api.extensions import db
from feedback.services import answers

log = logging.getLogger("allyloop")
T = TypeVar("T")
Write = Callable[[sqlite3.Connection], T]
EXTENSION = "allyloop.committer"


class Stopped(sqlite3.OperationalError):
    """The committer is closed: nothing was written (the request answers 503)."""


@dataclass
class _Job(Generic[T]):
    write: Write[T]
    done: bool = False
    result: T | None = None
    error: BaseException | None = None


class Committer:
    """Runs writes on one SQLite connection of its own, a batch per synced COMMIT."""

    def __init__(self, connect: Callable[[], sqlite3.Connection], lock_path: Path) -> None:
        self._connect = connect
        self._lock_path = lock_path
        self._changed = threading.Condition()
        self._waiting: list[_Job[Any]] = []
        self._leading = False
        self._closed = False
        self._connection: sqlite3.Connection | None = None  # used by one leader at a time
        self._idle: list[sqlite3.Connection] = []  # readers; list.pop and append are atomic

    @contextlib.contextmanager
    def reader(self) -> Iterator[sqlite3.Connection]:
        """A connection to check an answer on before ``write``, in autocommit (each read its
        own transaction): one this committer kept, or a new one. One that failed is closed."""
        try:
            connection = self._idle.pop()
        except IndexError:
            connection = self._connect()
        try:
            yield connection
        except sqlite3.Error:  # the connection may be what failed
            connection.close()
            raise
        except BaseException:  # the request's refusal (no such link, spent, a bad envelope)
            self._keep(connection)
            raise
        self._keep(connection)

    def _keep(self, reader: sqlite3.Connection) -> None:
        if self._closed or reader.in_transaction:
            reader.close()
        else:
            self._idle.append(reader)

    def write(self, write: Write[T]) -> T:
        """Run ``write`` in a batch and return what it returned once that batch is committed,
        or raise what it raised (its savepoint rolled back) or why the batch failed."""
        job: _Job[T] = _Job(write)
        with self._changed:
            if self._closed:
                raise Stopped("the committer is closed")
            self._waiting.append(job)
            while not job.done:
                if self._leading:
                    self._changed.wait()
                    continue
                self._leading = True
                batch, self._waiting = self._waiting, []
                self._changed.release()
                try:
                    self._commit(batch)
                finally:
                    self._changed.acquire()
                    self._leading = False
                    self._changed.notify_all()
        if job.error is not None:
            raise job.error
        return job.result  # type: ignore[return-value]  # set whenever error is None

    def close(self) -> None:
        """Let the batch under way finish; later writes raise ``Stopped``."""
        with self._changed:
            self._closed = True
            while self._leading:
                self._changed.wait()
            for job in self._waiting:
                job.done, job.error = True, Stopped("the committer is closed")
            self._waiting = []
            self._changed.notify_all()
            if self._connection is not None:
                self._connection.close()
                self._connection = None
        while self._idle:
            self._idle.pop().close()

    def _commit(self, jobs: list[_Job[Any]]) -> None:
        try:
            with self._lock_path.open("a") as lock:
                fcntl.flock(lock.fileno(), fcntl.LOCK_EX)  # committers of other processes queue here
                self._run(jobs)  # the lock goes with the file's closing
        except BaseException as exc:  # noqa: BLE001 - reported to every request of the batch
            self._roll_back()
            log.warning("an answer batch was not committed (%s); its requests answer 503", type(exc).__name__)
            for job in jobs:
                job.result, job.error = None, exc
        finally:
            for job in jobs:
                job.done = True

    def _run(self, jobs: list[_Job[Any]]) -> None:
        if self._connection is None:  # opened here, so that a failure to open fails one batch only
            self._connection = self._connect()
        connection = self._connection
        connection.execute("BEGIN IMMEDIATE")
        for job in jobs:
            connection.execute("SAVEPOINT answer")
            try:
                job.result = job.write(connection)
            except sqlite3.Error:
                raise  # the connection may be in any state: the whole batch fails
            except Exception as exc:  # noqa: BLE001 - a refusal (spent link, replay) fails this write alone
                connection.execute("ROLLBACK TO answer")
                job.error = exc
            connection.execute("RELEASE answer")
        connection.execute("COMMIT")  # synchronous=FULL: synced before any request of the batch is woken

    def _roll_back(self) -> None:
        connection = self._connection
        if connection is None:
            return
        try:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
        except sqlite3.Error:  # a connection that cannot even roll back is replaced
            connection.close()
            self._connection = None


def for_app(app: Flask) -> Committer:
    """This process's committer for the app's SQLite database, made on first use (after
    gunicorn forks: a committer and its connection never cross a fork)."""
    found = app.extensions.get(EXTENSION)
    if found is not None and found[0] == os.getpid():
        return found[1]  # type: ignore[no-any-return]
    with _making:
        found = app.extensions.get(EXTENSION)
        if found is None or found[0] != os.getpid():
            path = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database or ""
            committer = Committer(lambda: sqlite.connect(path, shared=True), Path(path + ".writers"))
            found = app.extensions[EXTENSION] = (os.getpid(), committer)
    return found[1]


def install(app: Flask, committer: Committer) -> None:
    """Use this committer in this process (tests hand in one whose database fails)."""
    app.extensions[EXTENSION] = (os.getpid(), committer)


_making = threading.Lock()


def store_answer(check: Callable[[answers.DBAPIConnection], answers.CheckedAnswer]) -> str:
    """Check an answer on a connection of the driver's own (``check`` reads and raises the
    request's refusal), then store it: on SQLite through this process's committer, on
    PostgreSQL in one statement. Either way the answer is committed, with a sync to disk,
    before this returns its receipt (P7). The database busy or away, or the commit that held
    the answer failed: SQLAlchemy's OperationalError (every route's 503), nothing stored.

    On PostgreSQL the pool does not ping the connection first (``api.postgres``): if it
    turns out dead at the check, which only reads, the answer is checked and stored again
    on a connection the pool has pinged."""
    try:
        if db.engine.dialect.name == "sqlite":
            committer = for_app(current_app)
            with committer.reader() as connection:
                checked = check(connection)
            return committer.write(functools.partial(answers.store_checked, answer=checked))
        try:
            return _store_postgres(check, pinged=False)
        except _FoundDead:
            return _store_postgres(check, pinged=True)
    except (sqlite3.OperationalError, psycopg.OperationalError) as exc:
        raise OperationalError(None, None, exc) from exc


class _FoundDead(Exception):
    """The pooled connection was dead when the check read from it: nothing was written."""


def _store_postgres(check: Callable[[answers.DBAPIConnection], answers.CheckedAnswer], *, pinged: bool) -> str:
    with contextlib.nullcontext() if pinged else postgres.unpinged():
        pooled = db.engine.raw_connection()
    try:
        connection = pooled.driver_connection
        assert isinstance(connection, psycopg.Connection)  # noqa: S101 - the two databases the config allows
        connection.autocommit = True  # each statement commits as it returns: one round trip to store
        try:
            try:
                checked = check(connection)
            except psycopg.OperationalError as exc:
                if pinged or not connection.broken:
                    raise
                pooled.invalidate(exc)
                raise _FoundDead from exc
            return answers.store_checked_postgres(connection, checked)
        finally:
            if not connection.closed:
                connection.autocommit = False
    finally:
        pooled.close()
