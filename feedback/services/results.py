"""What allies and leads may read: sums of released cohort documents, never one answer."""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from crypto import atrest
from feedback import followups, kinds
from feedback.measures import chosen, pick, ratio, scale_sum
from feedback.models import Account, Action, Cohort, ReleasedComment, Scope
from feedback.release import GROUP_RULE, combine
from feedback.services import load
from feedback.services.groups import require_lead


def _scopes(session: Session, kind: str, subject_id: int) -> Sequence[Scope]:
    return session.scalars(
        select(Scope).where(Scope.kind == kind, Scope.subject_id == subject_id).order_by(Scope.questionnaire_id)
    ).all()


def _cohorts(session: Session, scope_ids: list[int]) -> Sequence[Cohort]:
    return session.scalars(select(Cohort).where(Cohort.scope_id.in_(scope_ids)).order_by(Cohort.id)).all()


@dataclass(frozen=True)
class Reader:
    """Who reads a group's comments, as far as P9 needs: never one about themselves."""

    account_id: int
    # Comments released before they named their ally cannot be told apart: a reader who
    # ever acted in the group (and so may be the one a comment is about) is not shown them.
    may_read_legacy: bool


def _comments(
    session: Session, cohorts: Sequence[Cohort], comment_key: bytes, reader: Reader | None = None
) -> tuple[list[str], int]:
    """Released comments, cohort by cohort, each cohort in its random order. With ``reader``
    (a lead reading the group's), none about the reader (P9).

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
            comment = json.loads(atrest.decrypt(comment_key, blob, atrest.comment_context(cohort_id)))
        except atrest.AtRestError:
            try:
                legacy = atrest.decrypt(comment_key, blob, atrest.legacy_comment_context(cohort_id)).decode()
            except atrest.AtRestError:
                unreadable += 1
                continue
            if reader is None or reader.may_read_legacy:
                readable.append(legacy)
            continue
        if reader is None or comment["about"] != reader.account_id:
            readable.append(comment["text"])
    return readable, unreadable


def _released(
    session: Session, kind: str, subject_id: int, comment_key: bytes, reader: Reader | None = None
) -> dict[str, Any]:
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
    comments, unreadable = _comments(session, cohorts, comment_key, reader)
    return {
        "responses": sum(c.responses for c in cohorts),
        "cohorts": len(cohorts),
        "items": {qid: view["items"] for qid, view in questionnaires.items()},
        "questionnaires": questionnaires,
        "trend": [{"month": month, "responses": n} for month, n in sorted(trend.items())],
        "comments": comments,
        "unreadable_comments": unreadable,
        "lasting": does_it_last(questionnaires),
    }


# What "does it last?" compares: the immediate questionnaire's measures against the follow-up's.
IMMEDIATE, FOLLOWUP = "immediate.v1", "followup.v1"
FOLLOWUP_STAGES = ("followup_30", "followup_90")  # slices of the follow-up's cohorts
SIGNALING_ITEMS = ("felt_recognised", "seen_capable", "safer_to_speak")
MITIGATION_ITEMS = ("changed_treatment", "gave_access")


def _immediate_measures(items: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "wanted": ratio(*chosen(pick(items, "wanted"), ("yes",))),
        "signaling": ratio(*scale_sum(pick(items, *SIGNALING_ITEMS))),
        "mitigation": ratio(*scale_sum(pick(items, *MITIGATION_ITEMS))),
    }


def _followup_measures(items: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "lasting": ratio(*scale_sum(pick(items, "lasting_difference"))),
        "recurred_less": ratio(*chosen(pick(items, "recurred"), ("not_at_all", "less"), ignore=("not_applicable",))),
        "ally_checked_back": ratio(*chosen(pick(items, "ally_checked_back"), ("yes",))),
    }


def _side(view: Mapping[str, Any] | None, dimension: str, cell: str, measures: Any) -> dict[str, Any] | None:
    """One released cell, summarised; {"suppressed": True} as released; None if nothing was."""
    if view is None or cell not in view["slices"].get(dimension, {}):
        return None
    shown = view["slices"][dimension][cell]
    if shown.get("suppressed"):
        return {"suppressed": True}
    return {"responses": shown["responses"], "complete": shown["complete"], **measures(shown["items"])}


def does_it_last(views: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Immediate vs 30-day vs 90-day results, overall, by path (signaling, or a mitigation
    path) and by action kind.

    ``followup`` pools both follow-up stages; ``followup_30`` and ``followup_90`` are read
    from the stage slices of the follow-up cohorts (``stage``, ``stage_path``,
    ``stage_kind``). Cohorts released before those slices existed count in ``followup``
    only, and make the stage cells ``complete: false``.

    Built only from released cohort views, cell by cell, so every number here already
    passed the release rules; a cell the release suppressed stays suppressed.
    """
    immediate, followup = views.get(IMMEDIATE), views.get(FOLLOWUP)
    overall: dict[str, Any] = {
        "immediate": None
        if immediate is None
        else {"responses": immediate["responses"], **_immediate_measures(immediate["items"])},
        "followup": None
        if followup is None
        else {"responses": followup["responses"], **_followup_measures(followup["items"])},
    }
    for stage in FOLLOWUP_STAGES:
        overall[stage] = _side(followup, "stage", stage, _followup_measures)
    out: dict[str, Any] = {"overall": overall}
    for dimension, cells in (("path", kinds.PATHS), ("kind", kinds.KINDS)):
        rows: dict[str, Any] = {}
        for cell in cells:
            sides = {
                "immediate": _side(immediate, dimension, cell, _immediate_measures),
                "followup": _side(followup, dimension, cell, _followup_measures),
            }
            for stage in FOLLOWUP_STAGES:
                sides[stage] = _side(followup, f"stage_{dimension}", f"{stage}:{cell}", _followup_measures)
            if all(side is None for side in sides.values()):
                continue
            path = cell if dimension == "path" else kinds.path_of(cell)
            rows[cell] = {"path": path, "mitigation": path in kinds.MITIGATION_PATHS, **sides}
        out[f"by_{dimension}"] = rows
    return out


def _reader(session: Session, lead: Account, group_id: int) -> Reader:
    acted = session.scalar(select(exists().where(Action.group_id == group_id, Action.ally_id == lead.id)))
    return Reader(account_id=lead.id, may_read_legacy=not acted)


def ally_feedback(session: Session, ally: Account, *, k: int, comment_key: bytes) -> dict[str, Any]:
    """The ally's pooled results across all their requests, and comments meant for them."""
    return {"k": k, "released": _released(session, "ally", ally.id, comment_key)}


def group_insights(
    session: Session, lead: Account, group_id: int, *, k: int, comment_key: bytes, today: date | None = None
) -> dict[str, Any]:
    """Released group aggregates, for the group's leads only (Forbidden for anyone else).

    With ``today``, also the share of actions whose ally followed up (``followed_up``) and
    the response load by month (``response_load``), both shown only under the group pool rule.
    """
    require_lead(session, lead.id, group_id)
    insights = {
        "k": k,
        "min_allies": GROUP_RULE.min_allies,
        "released": _released(session, "group", group_id, comment_key, _reader(session, lead, group_id)),
    }
    if today is not None:
        insights["followed_up"] = followups.followup_rate(session, group_id, today=today, k=k)
        insights["response_load"] = load.response_load(session, group_id, today=today, k=k)
    return insights
