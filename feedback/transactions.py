"""Transactions that only read, so that on SQLite they need not wait for the write lock.

The app begins every SQLite transaction with the write lock taken (``BEGIN IMMEDIATE``), so
that two writers never deadlock upgrading a read lock. A transaction started under
``reading`` carries the ``READS_ONLY`` execution option and begins without it: checks that
come before a short write then run beside other writers instead of queueing behind them.
PostgreSQL locks rows, not the database, so there a separate transaction would only cost
two more round trips, and the block runs in the caller's.
"""

import contextlib
from collections.abc import Iterator
from typing import Final

from sqlalchemy.orm import Session

READS_ONLY: Final = "allyloop_reads_only"


@contextlib.contextmanager
def reading(session: Session) -> Iterator[None]:
    """Run the block in a transaction of its own that writes nothing, ended when it leaves.

    Inside an already open transaction, or on a database other than SQLite, the block simply
    runs in the session's transaction.
    """
    if session.in_transaction() or session.get_bind().dialect.name != "sqlite":
        yield
        return
    session.connection(execution_options={READS_ONLY: True})
    try:
        yield
    finally:
        session.rollback()  # nothing was written: this only ends the read
