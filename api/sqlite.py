"""SQLite, the embedded default: real transactions (so SAVEPOINT works), foreign keys, WAL
and a busy wait, and a write lock taken only by transactions that may write."""

from sqlalchemy import event
from sqlalchemy.engine import Engine

from feedback.transactions import READS_ONLY


def tune(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # WAL keeps readers off the writer's way; synchronous stays FULL, so an answer
        # acknowledged with 202 survives even a power cut (P7).
        for pragma in ("foreign_keys=ON", "journal_mode=WAL", "synchronous=FULL", "busy_timeout=10000"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def begin(conn):  # type: ignore[no-untyped-def]
        # Take the write lock up front: two writers never deadlock upgrading a read lock.
        # Transactions that only read (feedback.transactions.reading) leave it to writers.
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READS_ONLY) else "BEGIN IMMEDIATE")
