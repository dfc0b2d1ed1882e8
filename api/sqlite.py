"""SQLite, the embedded default: real transactions (so SAVEPOINT works), foreign keys, WAL
and a busy wait, and a write lock taken only by transactions that may write.

Also ``connect``, a connection tuned the same for api/commit.py's committer, and ``scrub``,
which jobs call after deleting envelopes so the deleted ciphertext leaves the database's
files (SQLite's, and as far as the app can reach, PostgreSQL's)."""

import logging
import sqlite3

from sqlalchemy import event
from sqlalchemy.engine import Engine

from feedback.models import Envelope
from feedback.transactions import READS_ONLY

log = logging.getLogger("allyloop")
BUSY_TIMEOUT_MS = 10_000
# While a truncating checkpoint waits for readers, new writers (answers) wait behind it: so
# it waits only this long, and what it could not finish, the next scrub does.
SCRUB_WAIT_MS = 200
# WAL keeps readers off the writer's way; synchronous stays FULL, so an answer acknowledged
# with 202 survives even a power cut (P7). secure_delete zeroes deleted rows and freed
# pages, whatever the build's default: a deleted envelope leaves no ciphertext in the file.
PRAGMAS = (
    "foreign_keys=ON",
    "journal_mode=WAL",
    "synchronous=FULL",
    f"busy_timeout={BUSY_TIMEOUT_MS}",
    "secure_delete=ON",
)


def tune(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in PRAGMAS:
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def begin(conn):  # type: ignore[no-untyped-def]
        # Take the write lock up front: two writers never deadlock upgrading a read lock.
        # Transactions that only read (feedback.transactions.reading) leave it to writers.
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READS_ONLY) else "BEGIN IMMEDIATE")


def connect(path: str, *, shared: bool = False) -> sqlite3.Connection:
    """A connection outside the engine's pool, tuned like the pool's, for api/commit.py's
    committer. Autocommit mode: its owner writes BEGIN and COMMIT itself. ``shared``: used by
    one thread at a time, but not always the same one."""
    connection = sqlite3.connect(
        path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=not shared
    )
    for pragma in PRAGMAS:
        connection.execute(f"PRAGMA {pragma}")
    return connection


def scrub(engine: Engine) -> None:
    """Push envelopes deleted by committed transactions out of the database's files; best
    effort, never raises.

    SQLite: secure_delete zeroed them in the pages, but the WAL file still holds the frames
    written when they arrived; a truncating checkpoint copies the zeroed pages into the main
    file and empties the WAL. PostgreSQL: VACUUM removes the dead row versions from the
    table (and truncates pages left empty); its WAL segments and backups are out of reach.
    Either can be cut short by a reader still on an older snapshot: the next scrub finishes.
    Call it after the commit, with the caller's session holding no transaction.
    """
    try:
        if engine.dialect.name == "sqlite":
            _checkpoint(engine)
        elif engine.dialect.name == "postgresql":
            _vacuum(engine)
    except Exception as exc:  # noqa: BLE001 - what was deleted stays deleted; the next scrub retries
        log.warning("scrubbing deleted envelopes failed (%s); the next release or purge retries", type(exc).__name__)


def _checkpoint(engine: Engine) -> None:
    # A raw connection: outside any transaction (a checkpoint cannot run in one), and without
    # the "begin" hook's BEGIN IMMEDIATE.
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={SCRUB_WAIT_MS}")
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        result = cursor.fetchone()  # (busy, frames in the WAL, frames checkpointed)
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.close()
    except BaseException:
        connection.invalidate()  # never back to the pool with the short busy wait
        raise
    finally:
        connection.close()
    if result is None or result[0]:
        log.warning("a reader or writer kept the WAL from being emptied; the next release or purge retries")


def _vacuum(engine: Engine) -> None:
    # VACUUM runs outside a transaction only. SKIP_LOCKED: if another VACUUM holds the table
    # it is doing this work, and this one returns at once rather than wait.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(f"VACUUM (SKIP_LOCKED) {Envelope.__tablename__}")
