"""A release run: find the scopes due, release each one's cohort, and the tick that runs
everything due (releases, closed months, the purge, the emails).

Each function takes a session and plain values, does its work in that session, and is
idempotent: running it twice releases nothing twice. Callers commit, except for ``run_due``:
the tick commits the session it is given itself, each scope's release on its own.
"""

import contextlib
import json
import logging
import secrets
from array import array
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Connection, Select, delete, func, insert, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.elements import ColumnElement

from crypto import atrest
from feedback import delivery, followups, questionnaires
from feedback.models import (
    Cohort,
    Envelope,
    ReleasedComment,
    Response,
    Scope,
    ScopeView,
)
from feedback.release import closing, opening
from feedback.release.combine import Combined
from feedback.release.opening import Counting, KeyLoader, Row
from feedback.release.purge import purge
from feedback.release.rules import NotReleasable, Opened, ready_voices, rule_for
from feedback.transactions import reading

# Slices a cohort document is cut by, for both an ally's and a group's view.
DIMENSIONS = ("path", "kind", "visibility")
# Follow-up scopes hold two stages (followup_30 and followup_90 share a questionnaire), so
# their cohorts are also cut by stage, and by stage within each path and each kind
# ("followup_30:signaling"): the cells "does it last?" sets side by side. Each is a slice
# like any other, under the same suppression; the audit sees how they nest.
STAGE_DIMENSIONS = ("stage", "stage_path", "stage_kind")


def dimensions_for(questionnaire: questionnaires.Questionnaire) -> tuple[str, ...]:
    """What a scope's cohorts are cut by: the follow-up's also by stage."""
    return DIMENSIONS + STAGE_DIMENSIONS if questionnaire.stage == "followup" else DIMENSIONS


# What a group's answers wait for (``ReleaseSettings.group_hold_days``): every cell of these
# dimensions shown. A cohort is released as soon as its pending answers come from k people,
# so a group's cohorts stay just above k, and within 7 answers no path or kind has k people
# from two allies: nearly every slice of every cohort was hidden, and a view shows a cell
# only as the sum of the cohorts that showed it, so they stayed hidden (docs/erg.md).
# Waiting, within a bound, until the pool shows its breakdown by path (and by stage, where
# a scope has stages) makes fewer, larger cohorts whose slices show, under the same audit.
# Ally scopes never wait: an ally's own results come as soon as they may.
BREAKDOWN = ("path", "stage")

COMMENT_AUDIENCES = {"ally": ("ally", "both"), "group": ("lead", "both")}
# Answers a release streams and opens at a time: each holds its envelope and its plaintext
# (about 6 kB each) while its batch is open; 250 rather than 500 took 4 MB off the peak of a
# release of 100,000 (bench/release.py memory) at no cost in speed that the runs could tell.
_BATCH = 250
# From this many answers on, a release may open them on several processes (RELEASE_PROCESSES):
# starting a pool costs about a second, which pays off only in a large release.
POOL_FROM = 30_000
T = TypeVar("T", bound=tuple[object, ...])
_UPDATE_BATCH = 5000  # ids per UPDATE ... IN (...), well under every database's parameter limit

log = logging.getLogger("allyloop.jobs")


@dataclass(frozen=True)
class ReleaseSettings:
    k: int
    comment_key: bytes  # at-rest key for released comments
    processes: int = 1  # a release of pool_from answers or more opens them on this many processes
    pool_from: int = POOL_FROM
    # A group's pending answers that could be released but would hide part of their
    # breakdown (``BREAKDOWN``) wait up to this many days for more; 0: never wait.
    group_hold_days: int = 0


@dataclass
class RunReport:
    released_cohorts: int = 0
    released_responses: int = 0
    invalid: int = 0
    purged_links: int = 0
    links_sent: int = 0
    reminders_sent: int = 0
    closed_groups: int = 0  # groups whose last month's follow-up rate and response load were stored
    failed_scopes: list[int] = field(default_factory=list)


def _cohort_column(scope: Scope) -> InstrumentedAttribute[int | None]:
    return Response.ally_cohort_id if scope.kind == "ally" else Response.group_cohort_id


def _other_cohort_column(scope: Scope) -> InstrumentedAttribute[int | None]:
    return Response.group_cohort_id if scope.kind == "ally" else Response.ally_cohort_id


def _scope_column(scope: Scope) -> InstrumentedAttribute[int]:
    return Response.ally_scope_id if scope.kind == "ally" else Response.group_scope_id


def _pending(scope: Scope) -> tuple[ColumnElement[bool], ...]:
    # The pending index's own terms (``feedback.models._pending_index``): SQLite uses a partial
    # index only for a query that repeats them, and then never reads the scope's history.
    return (_scope_column(scope) == scope.id, _cohort_column(scope).is_(None), Response.invalid.is_(False))


def due_scope_ids(session: Session, k: int) -> list[int]:
    """Scopes whose pending answers come from at least k recipients of delivered requests
    (the pool rule is checked in the release)."""
    due: set[int] = set()
    for scope_col, cohort_col in (
        (Response.ally_scope_id, Response.ally_cohort_id),
        (Response.group_scope_id, Response.group_cohort_id),
    ):
        # Reads pending answers only: those of the pending index (see ``_pending``), or, where
        # SQLite's planner prefers it, the cohort column's index at NULL.
        rows = session.execute(
            select(scope_col)
            .where(cohort_col.is_(None), Response.invalid.is_(False), Response.person.is_not(None))
            .group_by(scope_col)
            .having(func.count(Response.person.distinct()) >= k)
        )
        due.update(row[0] for row in rows)
    return sorted(due)


class _Held:
    """A group's pending answers are enough to release, but wait for their breakdown."""


_HELD = _Held()


@dataclass
class _Counted:
    """What reading a scope's pending answers found, to be written as its cohort."""

    document: dict[str, object] | None  # None: too few were valid after all
    released: "array[int]"
    invalid: "array[int]"
    comments: list[tuple[int, str]]  # (about which ally, plaintext), sealed at rest once the cohort has its id


def release_scope(
    session: Session,
    scope_id: int,
    *,
    keys: KeyLoader,
    settings: ReleaseSettings,
    today: date,
    once: opening.OpenedOnce | None = None,
) -> Cohort | None:
    """Release every pending response of a scope as one cohort, if there are enough.

    Streams the responses, so memory stays flat however many are pending, but for the
    comments to release, held until the cohort is written. Responses that do not open or do
    not fit the questionnaire are marked invalid and never released.

    Opening and counting only read, in a transaction of their own where that matters
    (``feedback.transactions.reading``): on SQLite a release of many answers would otherwise
    hold the write lock, and keep every recipient's answer waiting, for as long as it opens.
    The write after it marks exactly the answers it counted, and only if all of them are
    still pending: if another release took any meanwhile, this one publishes nothing.

    ``once``: what this tick opened already, for releasing both views of an answer.
    """
    return _release(session, scope_id, keys=keys, settings=settings, today=today, once=once)[0]


def _release(
    session: Session,
    scope_id: int,
    *,
    keys: KeyLoader,
    settings: ReleaseSettings,
    today: date,
    once: opening.OpenedOnce | None = None,
) -> tuple[Cohort | None, int]:
    """``release_scope``, and how many answers it newly found invalid."""
    with reading(session):
        counted = _open_pending(session, scope_id, keys=keys, settings=settings, today=today, once=once)
    if counted is None:
        return None, 0
    if isinstance(counted, _Held):
        # The day the wait began, once: the wait ends group_hold_days after it.
        session.execute(update(Scope).where(Scope.id == scope_id, Scope.held_since.is_(None)).values(held_since=today))
        return None, 0
    scope = session.scalars(select(Scope).where(Scope.id == scope_id).with_for_update()).one()
    invalid = _mark_invalid(session, scope, counted.invalid)
    if counted.document is None:
        return None, invalid
    cohort = Cohort(scope_id=scope.id, released_on=today, responses=len(counted.released), document=counted.document)
    with session.begin_nested() as attempt:
        session.add(cohort)
        session.flush()
        # Plain Core on the session's connection: no loaded Response needs refreshing, and the
        # ORM's check for them costs a release of many answers a few percent.
        connection = session.connection()
        marked = 0
        for chunk in _chunks(counted.released):
            done = connection.execute(
                update(Response)
                .where(Response.id.in_(chunk), *_pending(scope))
                .values({_cohort_column(scope).key: cohort.id})
            )
            marked += done.rowcount
            # Once the other view has released it too, the envelope has done its job: drop it,
            # and the recipient's tag with it (only pending answers are counted by person).
            both = select(Response.id).where(Response.id.in_(chunk), _other_cohort_column(scope).is_not(None))
            connection.execute(delete(Envelope).where(Envelope.response_id.in_(both)))
            connection.execute(
                update(Response)
                .where(Response.id.in_(chunk), _other_cohort_column(scope).is_not(None))
                .values(person=None)
            )
        if marked != len(counted.released):
            attempt.rollback()  # another release published some of them meanwhile
            return None, invalid
        if scope.held_since is not None:
            scope.held_since = None
        context = atrest.comment_context(cohort.id)
        for start in range(0, len(counted.comments), _BATCH):
            rows = [
                {
                    "cohort_id": cohort.id,
                    "position": secrets.randbelow(2**31),
                    "ciphertext": atrest.encrypt(
                        settings.comment_key, json.dumps({"about": about, "text": text}).encode(), context
                    ),
                }
                for about, text in counted.comments[start : start + _BATCH]
            ]
            connection.execute(insert(ReleasedComment), rows)
        _add_to_view(connection, cohort, counted.document, comments=len(counted.comments))
    return cohort, invalid


def _add_to_view(connection: Connection, cohort: Cohort, document: Mapping[str, Any], *, comments: int) -> None:
    """Add a cohort being released to its scope's ``ScopeView``, in the release's transaction,
    so that the view is always the sum of the scope's cohorts: the cohort, its comments and
    its view change commit together or not at all. Releases of one scope take turns here
    (the scope row is locked), and each costs the same however many cohorts came before.
    """
    row = connection.execute(
        select(
            ScopeView.cohorts,
            ScopeView.responses,
            ScopeView.comments,
            ScopeView.view,
            ScopeView.uncut,
            ScopeView.months,
        ).where(ScopeView.scope_id == cohort.scope_id)
    ).one_or_none()
    combined = Combined() if row is None else Combined.resume(row.view, row.uncut)
    combined.add(document)
    months: dict[str, Any] = {} if row is None else dict(row.months)
    month = cohort.released_on.strftime("%Y-%m")
    before = months.get(month, {"responses": 0, "declined": 0})
    months[month] = {
        "responses": before["responses"] + cohort.responses,
        "declined": before["declined"] + int(document["declined"]),
    }
    values = {
        "cohorts": combined.cohorts,
        "responses": cohort.responses + (0 if row is None else row.responses),
        "comments": comments + (0 if row is None else row.comments),
        "view": combined.view(),
        "uncut": sorted(combined.uncut),
        "months": dict(sorted(months.items())),
    }
    if row is None:
        connection.execute(insert(ScopeView).values(scope_id=cohort.scope_id, **values))
    else:
        connection.execute(update(ScopeView).where(ScopeView.scope_id == cohort.scope_id).values(**values))


def _open_pending(
    session: Session,
    scope_id: int,
    *,
    keys: KeyLoader,
    settings: ReleaseSettings,
    today: date,
    once: opening.OpenedOnce | None,
) -> _Counted | _Held | None:
    """Open, check and count a scope's pending answers; None if they are not enough yet,
    _HELD if they are but a group's wait for its breakdown goes on (see ``_waits``)."""
    scope = session.scalars(select(Scope).where(Scope.id == scope_id)).one()
    rule = rule_for(scope.kind)
    voices = session.execute(
        select(Response.ally_id, Response.person).where(*_pending(scope), Response.person.is_not(None)).distinct()
    ).tuples()
    if not ready_voices(voices, k=settings.k, rule=rule):
        return None
    questionnaire = questionnaires.load(scope.questionnaire_id)
    counting = Counting(
        questionnaire_id=questionnaire.id,
        k=settings.k,
        min_allies=rule.min_allies,
        each_ally=rule.each_ally,
        dimensions=dimensions_for(questionnaire),
        audiences=COMMENT_AUDIENCES[scope.kind],
    )
    if _waits(session, scope, counting, settings=settings, today=today):
        return _HELD
    count = session.scalar(select(func.count()).select_from(Response).where(*_pending(scope))) or 0
    builder = counting.builder()
    counted = _Counted(document=None, released=array("q"), invalid=array("q"), comments=[])
    processes = settings.processes if count >= settings.pool_from else 1
    kids = session.scalars(_with_envelopes(scope, select(Envelope.kid).distinct())).all() if processes > 1 else []
    batches = opening.open_all(_stream(session, scope), keys, counting, kids=kids, processes=processes, once=once)
    for batch in batches:
        builder.merge(batch.counts)
        counted.released.extend(batch.released)
        counted.invalid.extend(batch.invalid)
        counted.comments.extend(batch.comments)
    # Too few valid after all: no document, so nothing is released and the rest wait.
    with contextlib.suppress(NotReleasable):
        counted.document = builder.build()
    return counted


def _waits(session: Session, scope: Scope, counting: Counting, *, settings: ReleaseSettings, today: date) -> bool:
    """Whether a group's pending answers, enough to release, wait for more (``BREAKDOWN``).

    Decided from what the database holds in the clear beside each answer (its ally, cells
    and recipient tag), never from what the answer says: how long a group waits tells the
    reader nothing the released cohort does not. The wait ends when the cohort would show
    every cell of its breakdown, or ``group_hold_days`` after it began, whichever is first.
    """
    if scope.kind != "group" or settings.group_hold_days <= 0:
        return False
    if scope.held_since is not None and today >= scope.held_since + timedelta(days=settings.group_hold_days):
        return False
    builder = counting.builder()
    rows = session.execute(
        select(Response.ally_id, Response.person, Response.kind, Response.visibility, Response.stage).where(
            *_pending(scope)
        )
    ).tuples()
    for ally_id, person, kind, visibility, stage in rows:
        builder.add(
            Opened(answers={}, ally_id=ally_id, slices=opening.cells_of(kind, visibility, stage), person=person)
        )
    return not builder.shows(BREAKDOWN)


def _with_envelopes(scope: Scope, query: Select[T]) -> Select[T]:
    """The query over the scope's pending answers and their envelopes."""
    return query.select_from(Response).join(Envelope, Envelope.response_id == Response.id).where(*_pending(scope))


def _stream(session: Session, scope: Scope) -> Iterator[Sequence[Row]]:
    """The scope's pending answers with their envelopes, a batch at a time, in digest order.

    Digest order is random, so nothing derived from the stream (comment rows) keeps arrival
    order. The database sorts only the ids, then the envelopes are read a batch at a time by
    id: sorting the rows themselves would carry every ciphertext through the sort (half a
    gigabyte of temporary sort space for 100,000 answers on SQLite).
    """
    connection = session.connection()
    ids_in_order = _with_envelopes(scope, select(Response.id)).order_by(Envelope.digest)
    order = array("q", connection.execute(ids_in_order).scalars())
    query = select(
        Response.id,
        Response.ally_id,
        Response.kind,
        Response.visibility,
        Response.stage,
        Response.person,
        Envelope.kid,
        Envelope.info,
        Envelope.sealed,
    ).join(Envelope, Envelope.response_id == Response.id)
    for start in range(0, len(order), _BATCH):
        ids = order[start : start + _BATCH]
        # Plain tuples straight from the connection: no ORM bookkeeping per response.
        rows = {row[0]: row for row in connection.execute(query.where(Response.id.in_(ids.tolist()))).tuples()}
        # An id that is gone was found invalid meanwhile by a release of its other view.
        yield [rows[response_id] for response_id in ids if response_id in rows]


def _chunks(ids: "array[int]", size: int = _UPDATE_BATCH) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def _mark_invalid(session: Session, scope: Scope, ids: "array[int]") -> int:
    """An invalid answer is discarded for good, in every scope, and only counted (once, even
    when a release of its other view found it too). Returns how many were newly found."""
    connection = session.connection()
    found = 0
    for chunk in _chunks(ids):
        marked = connection.execute(
            update(Response).where(Response.id.in_(chunk), Response.invalid.is_(False)).values(invalid=True)
        )
        found += marked.rowcount
        connection.execute(delete(Envelope).where(Envelope.response_id.in_(chunk)))
        connection.execute(update(Response).where(Response.id.in_(chunk)).values(person=None))
    if found:
        scope.invalid += found
        session.flush()
    return found


def run_due(
    session: Session,
    *,
    keys: KeyLoader,
    settings: ReleaseSettings,
    now: datetime,
    mailer: delivery.Mailer | None = None,
) -> RunReport:
    """Everything due, once: each scope's release in its own transaction; once a month has
    closed, each group's figures for it (``feedback.release.closing``), a group per transaction;
    the purge; then (with ``mailer``) the emails with delivered links and reminders of due
    follow-ups.

    A scope whose release fails is rolled back and reported; the others still release.
    """
    report = RunReport()
    with reading(session):  # a tick with nothing due never takes SQLite's write lock for it
        due = due_scope_ids(session, settings.k)
    # An answer due in its ally's view and its group's is opened once in this tick.
    once = opening.OpenedOnce()
    for scope_id in due:
        try:
            cohort, invalid = _release(session, scope_id, keys=keys, settings=settings, today=now.date(), once=once)
            # Read before the commit expires it: read after, it would begin a transaction (on
            # SQLite, with the write lock) and hold it through the next scope's opening,
            # while every answer arriving waited.
            released = 0 if cohort is None else cohort.responses
            session.commit()
        except Exception:
            session.rollback()
            log.exception("release of scope %s failed; its answers stay pending", scope_id)
            report.failed_scopes.append(scope_id)
            continue
        report.invalid += invalid
        if cohort is not None:
            report.released_cohorts += 1
            report.released_responses += released
    with reading(session):
        unclosed = closing.unclosed_groups(session, today=now.date())
    for group_id in unclosed:
        try:
            report.closed_groups += closing.close(session, group_id, today=now.date(), k=settings.k)
            session.commit()
        except Exception:
            session.rollback()
            log.exception("closing the last month of group %s failed; the next run tries again", group_id)
    report.purged_links = purge(session, now=now)
    session.commit()
    if mailer is not None:
        report.links_sent = delivery.send_due(session, mailer, now=now).sent
        report.reminders_sent = followups.dispatch_reminders(
            session,
            today=now.date(),
            send=mailer.send,
            app_url=mailer.app_url + "/ally/",
            speak=mailer.speak,
        )
    return report
