"""The unit of work, built here in the composition root: a request's writes commit together
when it ends well and roll back when it does not, so views neither commit nor roll back by
hand. Work that must see the writes (the emails a request queued) waits for the commit.

The factory installs it (``install``); a view that needs its writes kept even though it
answers with an error (a refused sign-in counted) still commits explicitly.
"""

from collections.abc import Callable

from flask import Flask, Response, g
from sqlalchemy.orm import Session

from api.extensions import db

_AFTER = "allyloop_after_commit"


def after_commit(work: Callable[[], None]) -> None:
    """Run ``work`` once this request's writes are committed; never if they are rolled back."""
    g.setdefault(_AFTER, []).append(work)


def _used() -> Session | None:
    """The request's session if it made one. A request that never did (an answer is stored
    on the driver's own connection) has nothing to commit or roll back, and making a session
    only to end its empty transaction cost the submit a tenth of its time."""
    return db.session() if db.session.registry.has() else None


def _finish(response: Response) -> Response:
    waiting: list[Callable[[], None]] = g.pop(_AFTER, [])
    used = _used()
    if response.status_code >= 400:
        if used is not None:
            used.rollback()
        return response
    if used is not None:
        used.commit()
    for work in waiting:
        work()
    return response


def _abandon(error: BaseException | None) -> None:
    used = _used()
    if error is not None and used is not None:  # an exception no handler turned into a response
        used.rollback()


def install(app: Flask) -> None:
    app.after_request(_finish)
    app.teardown_request(_abandon)
