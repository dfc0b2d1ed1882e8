"""What allies and leads may read: sums of released cohort documents, never one answer.

The sums are read, not recomputed (DESIGN §7): each release adds its cohort to its scope's
``ScopeView`` in the same transaction, so a view costs one row per scope however many
cohorts it holds. Comments stay encrypted at rest, so reading them costs a decryption each:
a reader may ask for the newest few with the count of all.
"""

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto import atrest
from feedback import followups, kinds, stages
from feedback.figures import (
    AllyFeedback,
    GroupInsights,
    Immediate,
    Items,
    Lasting,
    LastingRow,
    Later,
    Moments,
    Month,
    QuestionnaireView,
    Released,
    Suppressed,
    share,
    view_from_json,
)
from feedback.measures import chosen, pick, scale_ids, scale_sum
from feedback.models import Account, Action, Cohort, ReleasedComment, Response, Scope, ScopeView
from feedback.questionnaires import load as load_questionnaire
from feedback.release.rules import GROUP_RULE
from feedback.services import load
from feedback.services.groups import require_lead

# Cohorts whose comments are read at a time, newest first, for a page of comments.
_COHORT_CHUNK = 200
# The comments a page shows: the newest this many, with the count of all.
COMMENTS_PAGE = 50


def _scopes(session: Session, kind: str, subject_id: int) -> Sequence[Scope]:
    return session.scalars(
        select(Scope).where(Scope.kind == kind, Scope.subject_id == subject_id).order_by(Scope.questionnaire_id)
    ).all()


@dataclass(frozen=True)
class _View:
    """One scope's ``ScopeView`` row, as read."""

    questionnaire_id: str
    scope_id: int
    cohorts: int
    responses: int
    comments: int
    view: dict[str, Any]
    months: dict[str, Any]
    legacy_through: int


def _views(session: Session, scopes: Sequence[Scope]) -> list[_View]:
    """The views of the scopes that released anything, in the order of ``scopes``."""
    rows = session.execute(
        select(
            ScopeView.scope_id,
            ScopeView.cohorts,
            ScopeView.responses,
            ScopeView.comments,
            ScopeView.view,
            ScopeView.months,
            ScopeView.legacy_through,
        ).where(ScopeView.scope_id.in_([s.id for s in scopes]))
    )
    by_scope = {row.scope_id: row for row in rows}
    return [_View(s.questionnaire_id, *by_scope[s.id]) for s in scopes if s.id in by_scope]


@dataclass(frozen=True)
class Reader:
    """Who reads a group's comments, as far as P9 needs: never one about themselves."""

    account_id: int
    # Comments released before they named their ally cannot be told apart: a reader who
    # ever acted in the group (and so may be the one a comment is about) is not shown them.
    may_read_legacy: bool


_UNREADABLE = object()  # a comment that no longer decrypts (SECRET_KEY was changed)
_HIDDEN = object()  # one the reader may not read (P9)


def _open(comment_key: bytes, cohort_id: int, blob: bytes, reader: Reader | None) -> object:
    """A released comment's text; ``_HIDDEN`` if it is about ``reader`` (or, for a reader who
    may be the one it is about, names no one); ``_UNREADABLE`` if it does not decrypt."""
    try:
        comment = json.loads(atrest.decrypt(comment_key, blob, atrest.comment_context(cohort_id)))
    except atrest.AtRestError:
        try:
            legacy = atrest.decrypt(comment_key, blob, atrest.legacy_comment_context(cohort_id)).decode()
        except atrest.AtRestError:
            return _UNREADABLE
        return legacy if reader is None or reader.may_read_legacy else _HIDDEN
    return comment["text"] if reader is None or comment["about"] != reader.account_id else _HIDDEN


def _comments(
    session: Session, views: Sequence[_View], comment_key: bytes, reader: Reader | None = None
) -> tuple[list[str], int]:
    """Every released comment of the views, cohort by cohort, each cohort in its random
    order, and how many no longer decrypt. With ``reader`` (a lead reading the group's),
    none about the reader (P9)."""
    if not views:
        return [], 0
    rows = session.execute(
        select(ReleasedComment.cohort_id, ReleasedComment.ciphertext)
        .join(Cohort, Cohort.id == ReleasedComment.cohort_id)
        .where(Cohort.scope_id.in_([v.scope_id for v in views]))
        .order_by(ReleasedComment.cohort_id, ReleasedComment.position, ReleasedComment.id)
    )
    readable, unreadable = [], 0
    for cohort_id, blob in rows:
        text = _open(comment_key, cohort_id, blob, reader)
        if text is _UNREADABLE:
            unreadable += 1
        elif text is not _HIDDEN:
            readable.append(str(text))
    return readable, unreadable


def _newest_rows(session: Session, views: Sequence[_View]) -> Iterator[tuple[int, bytes]]:
    """The views' released comments, newest first (the reverse of ``_comments``' order).

    Walks the cohorts back a chunk at a time, each scope's by its index, so a page of the
    newest comments reads about as many rows as it shows, however long the history."""
    left = {v.scope_id: v.comments for v in views if v.comments}  # comments not yet read, per scope
    before: int | None = None
    while left:
        newest: list[tuple[int, int]] = []  # (cohort id, scope id)
        for scope_id in left:
            query = select(Cohort.id).where(Cohort.scope_id == scope_id)
            if before is not None:
                query = query.where(Cohort.id < before)
            ids = session.scalars(query.order_by(Cohort.id.desc()).limit(_COHORT_CHUNK)).all()
            newest += [(cohort_id, scope_id) for cohort_id in ids]
        if not newest:
            return
        chunk = sorted(newest, reverse=True)[:_COHORT_CHUNK]
        before = chunk[-1][0]
        rows = session.execute(
            select(ReleasedComment.cohort_id, ReleasedComment.ciphertext)
            .where(ReleasedComment.cohort_id.in_([cohort_id for cohort_id, _ in chunk]))
            .order_by(ReleasedComment.cohort_id.desc(), ReleasedComment.position.desc(), ReleasedComment.id.desc())
        ).all()
        scope_of = dict(chunk)
        for cohort_id, blob in rows:
            left[scope_of[cohort_id]] -= 1
            yield cohort_id, blob
        left = {scope_id: n for scope_id, n in left.items() if n > 0}


def _hidden(session: Session, views: Sequence[_View], comment_key: bytes, reader: Reader) -> int:
    """How many of a group's released comments that still decrypt ``reader`` may not read (P9).

    Decrypts only where such a comment can be: in the cohorts that hold answers about the
    reader (comments name the ally the answer was about), and, for a reader who acted in
    the group, in cohorts released before views were kept, the only ones that may hold
    comments naming no one.
    """
    in_view = {v.scope_id for v in views}
    theirs = session.scalars(select(Scope.id).where(Scope.kind == "ally", Scope.subject_id == reader.account_id)).all()
    cohorts: set[int] = set()
    if theirs:
        # By the reader's own scopes only, whose index holds their answers alone: the
        # group's index would read every answer the group ever released.
        for group_scope_id, cohort_id in session.execute(
            select(Response.group_scope_id, Response.group_cohort_id)
            .where(Response.ally_scope_id.in_(theirs))
            .distinct()
        ):
            if cohort_id is not None and group_scope_id in in_view:
                cohorts.add(cohort_id)
    if not reader.may_read_legacy:
        for v in views:
            if v.legacy_through:
                older = select(Cohort.id).where(Cohort.scope_id == v.scope_id, Cohort.id <= v.legacy_through)
                cohorts.update(session.scalars(older))
    hidden = 0
    ids = sorted(cohorts)
    for start in range(0, len(ids), _COHORT_CHUNK):
        rows = session.execute(
            select(ReleasedComment.cohort_id, ReleasedComment.ciphertext).where(
                ReleasedComment.cohort_id.in_(ids[start : start + _COHORT_CHUNK])
            )
        ).tuples()
        hidden += sum(1 for cohort_id, blob in rows if _open(comment_key, cohort_id, blob, reader) is _HIDDEN)
    return hidden


def _newest_comments(
    session: Session, views: Sequence[_View], comment_key: bytes, reader: Reader | None, limit: int
) -> tuple[list[str], int, int]:
    """The newest ``limit`` comments ``reader`` may read, in ``_comments``' order (they are
    the end of its list); how many of those newer than the oldest shown no longer decrypt
    (all of them, once there are fewer than ``limit``); and how many comments ``_comments``
    would count in all, shown or unreadable."""
    shown: list[str] = []
    unreadable = 0
    if limit > 0:
        for cohort_id, blob in _newest_rows(session, views):
            text = _open(comment_key, cohort_id, blob, reader)
            if text is _UNREADABLE:
                unreadable += 1
            elif text is not _HIDDEN:
                shown.append(str(text))
                if len(shown) == limit:
                    break
    total = sum(v.comments for v in views)
    if reader is not None and total:
        total -= _hidden(session, views, comment_key, reader)
    return shown[::-1], unreadable, total


def _released(
    session: Session,
    kind: str,
    subject_id: int,
    comment_key: bytes,
    reader: Reader | None = None,
    comments: int | None = None,
) -> Released:
    """A subject's released views, one per questionnaire, and its comments.

    ``comments`` lists every released comment the reader may read, and
    ``unreadable_comments`` counts those that no longer decrypt. With ``comments`` set
    (a number, 0 or more), only the newest that many are decrypted and listed (the end of
    the full list), and ``unreadable_comments`` counts only those met on the way; either
    way ``comments_total`` is how many the full list and its unreadable count hold together.
    """
    if comments is not None and comments < 0:
        raise ValueError("comments must be 0 or more")
    views = _views(session, _scopes(session, kind, subject_id))
    questionnaires = {v.questionnaire_id: view_from_json(v.view) for v in views}
    trend: dict[str, int] = {}
    for v in views:
        for month, released in v.months.items():
            trend[month] = trend.get(month, 0) + int(released["responses"])
    if comments is None:
        shown, unreadable = _comments(session, views, comment_key, reader)
        total = len(shown) + unreadable
    else:
        shown, unreadable, total = _newest_comments(session, views, comment_key, reader, comments)
    return Released(
        responses=sum(v.responses for v in views),
        cohorts=sum(v.cohorts for v in views),
        questionnaires=questionnaires,
        trend=tuple(Month(month, n) for month, n in sorted(trend.items())),
        comments=tuple(shown),
        unreadable_comments=unreadable,
        comments_total=total,
        lasting=does_it_last(questionnaires),
    )


# What "does it last?" compares: the immediate questionnaire's measures against the follow-up's.
IMMEDIATE, FOLLOWUP = "immediate.v1", "followup.v1"
FOLLOWUP_STAGES = stages.FOLLOWUPS  # slices of the follow-up's cohorts


def _immediate(responses: int, items: Items, complete: bool | None = None) -> Immediate:
    return Immediate(
        responses=responses,
        wanted=share(*chosen(pick(items, "wanted"), ("yes",))),
        signaling=_felt(items, "signaling"),
        mitigation=_felt(items, "mitigation"),
        complete=complete,
    )


def _felt(items: Items, construct: str) -> float | None:
    """The mean of the immediate questionnaire's scales that measure ``construct``."""
    return share(*scale_sum(pick(items, *scale_ids(load_questionnaire(IMMEDIATE), construct))))


def _later(responses: int, items: Items, complete: bool | None = None) -> Later:
    return Later(
        responses=responses,
        lasting=share(*scale_sum(pick(items, "lasting_difference"))),
        recurred_less=share(*chosen(pick(items, "recurred"), ("not_at_all", "less"), ignore=("not_applicable",))),
        ally_checked_back=share(*chosen(pick(items, "ally_checked_back"), ("yes",))),
        complete=complete,
    )


_Side = TypeVar("_Side", Immediate, Later)


def _side(
    view: QuestionnaireView | None, dimension: str, cell: str, measures: Callable[[int, Items, bool], _Side]
) -> _Side | Suppressed | None:
    """One released cell, summarised; Suppressed as released; None if nothing was."""
    shown = None if view is None else view.slices.get(dimension, {}).get(cell)
    if shown is None or isinstance(shown, Suppressed):
        return shown
    return measures(shown.responses, shown.items, shown.complete)


def does_it_last(views: Mapping[str, QuestionnaireView]) -> Lasting:
    """Immediate vs 30-day vs 90-day results, overall, by path (signaling, or a mitigation
    path) and by action kind.

    ``followup`` pools both follow-up stages; ``followup_30`` and ``followup_90`` are read
    from the stage slices of the follow-up cohorts (``stage``, ``stage_path``,
    ``stage_kind``). Cohorts released before those slices existed count in ``followup``
    only, and make the stage cells incomplete.

    Built only from released cohort views, cell by cell, so every number here already
    passed the release rules; a cell the release suppressed stays suppressed.
    """
    immediate, followup = views.get(IMMEDIATE), views.get(FOLLOWUP)
    overall = Moments(
        immediate=None if immediate is None else _immediate(immediate.responses, immediate.items),
        followup=None if followup is None else _later(followup.responses, followup.items),
        followup_30=_side(followup, "stage", "followup_30", _later),
        followup_90=_side(followup, "stage", "followup_90", _later),
    )
    by: dict[str, dict[str, LastingRow]] = {}
    for dimension, cells in (("path", kinds.PATHS), ("kind", kinds.KINDS)):
        rows: dict[str, LastingRow] = {}
        for cell in cells:
            moments = Moments(
                immediate=_side(immediate, dimension, cell, _immediate),
                followup=_side(followup, dimension, cell, _later),
                followup_30=_side(followup, f"stage_{dimension}", f"followup_30:{cell}", _later),
                followup_90=_side(followup, f"stage_{dimension}", f"followup_90:{cell}", _later),
            )
            if all(side is None for side in vars(moments).values()):
                continue
            path = cell if dimension == "path" else kinds.path_of(cell)
            rows[cell] = LastingRow(**vars(moments), path=path, mitigation=path in kinds.MITIGATION_PATHS)
        by[dimension] = rows
    return Lasting(overall=overall, by_path=by["path"], by_kind=by["kind"])


def _reader(session: Session, lead: Account, group_id: int) -> Reader:
    # By the lead's own actions alone: the group's index would read every action it ever logged.
    acted = group_id in session.scalars(select(Action.group_id).where(Action.ally_id == lead.id).distinct()).all()
    return Reader(account_id=lead.id, may_read_legacy=not acted)


def ally_feedback(
    session: Session, ally: Account, *, k: int, comment_key: bytes, comments: int | None = None
) -> AllyFeedback:
    """The ally's pooled results across all their requests, and comments meant for them.

    With ``comments``, only the newest that many comments are read (see ``_released``)."""
    return AllyFeedback(k=k, released=_released(session, "ally", ally.id, comment_key, comments=comments))


def group_insights(
    session: Session,
    lead: Account,
    group_id: int,
    *,
    k: int,
    comment_key: bytes,
    today: date | None = None,
    comments: int | None = None,
) -> GroupInsights:
    """Released group aggregates, for the group's leads only (Forbidden for anyone else).

    With ``today``, also the share of actions whose ally followed up (``followed_up``) and
    the response load by month (``response_load``), both shown only under the group pool rule.
    With ``comments``, only the newest that many comments are read (see ``_released``).
    """
    require_lead(session, lead.id, group_id)
    reader = _reader(session, lead, group_id)
    released = _released(session, "group", group_id, comment_key, reader, comments=comments)
    if today is None:
        return GroupInsights(k=k, min_allies=GROUP_RULE.min_allies, released=released)
    return GroupInsights(
        k=k,
        min_allies=GROUP_RULE.min_allies,
        released=released,
        followed_up=followups.followup_rate(session, group_id, today=today, k=k),
        response_load=load.response_load(session, group_id, today=today, k=k),
    )
