"""An answer counts in its ally's view and its group's; a tick that releases both opens it once
(feedback/release/opening.py, ``OpenedOnce``). Opening is most of a release's work per answer,
and on the embedded default it runs beside the answers arriving."""

from collections import Counter
from collections.abc import Callable
from typing import Any

from flask import Flask
from sqlalchemy import select

from api.clock import utcnow
from api.extensions import db
from api.jobs.adapters import kek, release_settings
from feedback.models import Cohort, Scope
from feedback.release import opening, run
from feedback.services import keys
from tests.conftest import group_answered, release_at_once

ANSWERS = ({"wanted": "yes"}, {"wanted": "no"}, {}, {"wanted": "yes"}, {"wanted": "unsure"})


def pending_in_both_views(make_app: Callable[..., Flask]) -> Flask:
    """Three allies of a group, five answers each, none released yet: four scopes due."""
    app = make_app(jobs_inline=False, release_interval_seconds=86400)  # answers wait for the test's tick
    release_at_once(app)
    group_answered(app.test_client(), ("Alex", "Sam", "Kim"), ANSWERS)
    app.extensions["allyloop.jobs"].stop()
    return app


def counting_keys(opened: Counter[str]) -> Any:
    load = keys.private_keys(db.session(), kek())

    def loader(kid: str) -> Any:
        opened[kid] += 1  # called once for each envelope opened
        return load(kid)

    return loader


def documents() -> dict[str, Any]:
    rows = db.session.execute(
        select(Scope.kind, Scope.subject_id, Cohort.document).join(Scope, Cohort.scope_id == Scope.id)
    ).all()
    return {f"{kind}:{subject}": document for kind, subject, document in rows}


def test_a_tick_that_releases_both_views_opens_each_answer_once(make_app: Callable[..., Flask]) -> None:
    app = pending_in_both_views(make_app)
    opened: Counter[str] = Counter()
    with app.app_context():
        report = run.run_due(db.session(), keys=counting_keys(opened), settings=release_settings(app), now=utcnow())
        assert report.failed_scopes == []
        assert report.released_cohorts == 4, "each ally's view and the group's"
        assert report.released_responses == 30, "fifteen answers, each in two views"
    assert sum(opened.values()) == 15, "each of the fifteen envelopes opened once, not twice"


def test_what_is_opened_once_counts_as_what_is_opened_twice(make_app: Callable[..., Flask]) -> None:
    """The same cohorts, figure for figure, whether the tick remembers what it opened or not."""
    app = pending_in_both_views(make_app)
    settings = release_settings(app)
    with app.app_context():
        session = db.session()
        due = run.due_scope_ids(session, settings.k)
        released: list[dict[str, Any]] = []
        opened: list[int] = []
        for once in (opening.OpenedOnce(limit=0), opening.OpenedOnce()):  # limit 0: remembers nothing
            count: Counter[str] = Counter()
            loader = counting_keys(count)
            for scope_id in due:
                cohort = run.release_scope(
                    session, scope_id, keys=loader, settings=settings, today=utcnow().date(), once=once
                )
                assert cohort is not None
            released.append(documents())
            opened.append(sum(count.values()))
            session.rollback()  # the same answers are pending again for the second way
    assert opened == [30, 15]
    assert released[0] == released[1] and len(released[0]) == 4
