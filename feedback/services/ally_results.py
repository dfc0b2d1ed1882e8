"""An ally's pooled results read in plain language, with what to try next, and how far along
their requests are: counts that keep the release rules (nothing says who answered, or when)."""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from feedback import reading
from feedback.figures import AllyFeedback
from feedback.models import Account, Action, FeedbackRequest
from feedback.services.results import COMMENTS_PAGE, ally_feedback

# Requests by the questionnaire their answers count toward: follow-ups at 30 and 90 days are one.
STAGES = ("advice", "immediate", "followup")


@dataclass(frozen=True)
class Progress:
    """One questionnaire's requests: people asked by email (their answers count toward k),
    links the ally shared themselves (theirs never do), and answers released so far. How
    many answered and wait is not said: the ally knows whom they asked, and a count that
    moves by one answer would tell them who answered (P1)."""

    stage: str
    requests: int
    asked: int
    shared: int
    released: int


def _stage(request_stage: str) -> str:
    return "followup" if request_stage.startswith("followup") else request_stage


def progress(session: Session, ally: Account, feedback: AllyFeedback) -> tuple[Progress, ...]:
    """Per questionnaire stage the ally has asked about, or has results for, in ``STAGES`` order."""
    rows = session.execute(
        select(
            FeedbackRequest.stage,
            FeedbackRequest.delivered,
            func.count(FeedbackRequest.id),
            func.sum(FeedbackRequest.link_count),
        )
        .join(Action, FeedbackRequest.action_id == Action.id)
        .where(Action.ally_id == ally.id)
        .group_by(FeedbackRequest.stage, FeedbackRequest.delivered)
    ).all()
    requests = dict.fromkeys(STAGES, 0)
    asked, shared = dict.fromkeys(STAGES, 0), dict.fromkeys(STAGES, 0)
    for stage, delivered, n, links in rows:
        key = _stage(stage)
        requests[key] = requests.get(key, 0) + int(n)
        into = asked if delivered else shared
        into[key] = into.get(key, 0) + int(links or 0)
    released = dict.fromkeys(STAGES, 0)
    for qid, view in feedback.released.questionnaires.items():
        key = qid.split(".", 1)[0]
        released[key] = released.get(key, 0) + view.responses
    stages: Sequence[str] = [*STAGES, *sorted((set(requests) | set(released)) - set(STAGES))]
    return tuple(
        Progress(stage, requests.get(stage, 0), asked.get(stage, 0), shared.get(stage, 0), released.get(stage, 0))
        for stage in stages
        if requests.get(stage) or released.get(stage)
    )


def pooled_reading(
    session: Session, ally: Account, *, k: int, comment_key: bytes
) -> tuple[reading.Reading, tuple[Progress, ...]]:
    """The ally's results in plain words, with the newest ``COMMENTS_PAGE`` comments, and
    their requests per questionnaire."""
    feedback = ally_feedback(session, ally, k=k, comment_key=comment_key, comments=COMMENTS_PAGE)
    action_kinds = session.scalars(select(Action.kind).where(Action.ally_id == ally.id)).all()
    return reading.read(feedback, action_kinds), progress(session, ally, feedback)
