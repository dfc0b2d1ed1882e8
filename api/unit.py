"""The unit of work, built here in the composition root: a request's writes commit together
when it ends well and roll back when it does not, so views neither commit nor roll back by
hand. Work that must see the writes (the emails a request queued) waits for the commit.

The factory installs it (``install``); a view that needs its writes kept even though it
answers with an error (a refused sign-in counted) still commits explicitly.
"""

from collections.abc import Callable

from flask import Flask, Response, g

from api.extensions import session

_AFTER = "allyloop_after_commit"


def after_commit(work: Callable[[], None]) -> None:
    """Run ``work`` once this request's writes are committed; never if they are rolled back."""
    g.setdefault(_AFTER, []).append(work)


def _finish(response: Response) -> Response:
    waiting: list[Callable[[], None]] = g.pop(_AFTER, [])
    if response.status_code >= 400:
        session().rollback()
        return response
    session().commit()
    for work in waiting:
        work()
    return response


def _abandon(error: BaseException | None) -> None:
    if error is not None:  # an exception no handler turned into a response
        session().rollback()


def install(app: Flask) -> None:
    app.after_request(_finish)
    app.teardown_request(_abandon)
