"""What allies and leads may read: sums of released cohort documents, never one answer."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto import atrest
from feedback.models import Account, Cohort, ReleasedComment, Scope
from feedback.release import GROUP_RULE, combine
from feedback.services.groups import require_lead


def _scopes(session: Session, kind: str, subject_id: int) -> Sequence[Scope]:
    return session.scalars(
        select(Scope).where(Scope.kind == kind, Scope.subject_id == subject_id).order_by(Scope.questionnaire_id)
    ).all()


def _cohorts(session: Session, scope_ids: list[int]) -> Sequence[Cohort]:
    return session.scalars(select(Cohort).where(Cohort.scope_id.in_(scope_ids)).order_by(Cohort.id)).all()


def _comments(session: Session, cohorts: Sequence[Cohort], comment_key: bytes) -> tuple[list[str], int]:
    """Released comments, cohort by cohort, each cohort in its random order.

    A comment that no longer decrypts (SECRET_KEY was changed) is counted, not shown.
    """
    if not cohorts:
        return [], 0
    rows = session.execute(
        select(ReleasedComment.cohort_id, ReleasedComment.ciphertext)
        .where(ReleasedComment.cohort_id.in_([c.id for c in cohorts]))
        .order_by(ReleasedComment.cohort_id, ReleasedComment.position)
    )
    readable, unreadable = [], 0
    for cohort_id, blob in rows:
        try:
            readable.append(atrest.decrypt(comment_key, blob, atrest.comment_context(cohort_id)).decode())
        except atrest.AtRestError:
            unreadable += 1
    return readable, unreadable


def _released(session: Session, kind: str, subject_id: int, comment_key: bytes) -> dict[str, Any]:
    scopes = _scopes(session, kind, subject_id)
    cohorts = _cohorts(session, [s.id for s in scopes])
    by_scope: dict[int, list[Cohort]] = {}
    for cohort in cohorts:
        by_scope.setdefault(cohort.scope_id, []).append(cohort)
    questionnaires = {}
    for scope in scopes:
        mine = by_scope.get(scope.id, [])
        if mine:
            questionnaires[scope.questionnaire_id] = combine(c.document for c in mine)
    trend: dict[str, int] = {}
    for cohort in cohorts:
        month = cohort.released_on.strftime("%Y-%m")
        trend[month] = trend.get(month, 0) + cohort.responses
    comments, unreadable = _comments(session, cohorts, comment_key)
    return {
        "responses": sum(c.responses for c in cohorts),
        "cohorts": len(cohorts),
        "items": {qid: view["items"] for qid, view in questionnaires.items()},
        "questionnaires": questionnaires,
        "trend": [{"month": month, "responses": n} for month, n in sorted(trend.items())],
        "comments": comments,
        "unreadable_comments": unreadable,
    }


def ally_feedback(session: Session, ally: Account, *, k: int, comment_key: bytes) -> dict[str, Any]:
    """The ally's pooled results across all their requests, and comments meant for them."""
    return {"k": k, "released": _released(session, "ally", ally.id, comment_key)}


def group_insights(session: Session, lead: Account, group_id: int, *, k: int, comment_key: bytes) -> dict[str, Any]:
    """Released group aggregates; 404 for outsiders, 403 for members who are not leads."""
    require_lead(session, lead.id, group_id)
    return {"k": k, "min_allies": GROUP_RULE.min_allies, "released": _released(session, "group", group_id, comment_key)}
