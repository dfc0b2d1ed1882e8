"""PostgreSQL: the pool checks a connection is alive before handing it out, except to the
answer path, which finds out for itself at no extra cost.

A pooled connection may have died while it waited (the server restarted, a proxy cut it).
SQLAlchemy's ``pool_pre_ping`` sends a statement on every checkout to find out: one round
trip more for every request. The answer path does without it: its first statements only
read, so a connection found dead there has written nothing, and the answer is simply tried
again on a connection the pool has checked (``api.commit.store_answer``). Every other
checkout is pinged here exactly as ``pool_pre_ping`` would.
"""

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine import Engine

_UNPINGED = contextvars.ContextVar("allyloop_unpinged_checkout", default=False)
_FRESH = "allyloop_fresh"


def tune(engine: Engine) -> None:
    """Ping each connection the pool hands out (``pool_pre_ping``'s rule: not one it has just
    opened), but inside ``unpinged``. The engine is made with ``pool_pre_ping`` off."""

    @event.listens_for(engine, "connect")
    def connect(_dbapi_connection: Any, record: Any) -> None:
        record.info[_FRESH] = True

    @event.listens_for(engine, "checkout")
    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if record.info.pop(_FRESH, False) or _UNPINGED.get():
            return
        dialect = engine.dialect
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                # As pool_pre_ping does: this connection and every older one are replaced,
                # and the pool tries again with a new one.
                raise exc.InvalidatePoolError() from error
            raise


@contextlib.contextmanager
def unpinged() -> Iterator[None]:
    """Checkouts inside the block are not pinged: for a caller whose first statements only
    read, and which retries on a connection checked as usual if one turns out dead."""
    token = _UNPINGED.set(True)
    try:
        yield
    finally:
        _UNPINGED.reset(token)
