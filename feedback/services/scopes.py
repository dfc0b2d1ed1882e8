"""Scopes: where responses wait until a cohort of at least k can be released."""

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from feedback.models import Scope


def scope_for(session: Session, kind: str, subject_id: int, questionnaire_id: str) -> Scope:
    """The scope row, made on first use (safely, if two requests race to make it)."""
    query = select(Scope).where(
        Scope.kind == kind, Scope.subject_id == subject_id, Scope.questionnaire_id == questionnaire_id
    )
    scope = session.scalar(query)
    if scope is not None:
        return scope
    try:
        with session.begin_nested():
            scope = Scope(kind=kind, subject_id=subject_id, questionnaire_id=questionnaire_id, invalid=0)
            session.add(scope)
    except IntegrityError:
        scope = session.scalar(query)
        assert scope is not None  # noqa: S101 - the racing insert committed it
    return scope
