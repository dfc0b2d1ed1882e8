"""The JSON documents the API and the pages both hand out: the released figures and an
account's export. The application keeps them so that ``web/`` never imports a resource.

Schemas of what the reads return (``feedback.figures``), for ``GET /api/v1/me/feedback`` and
``GET /api/v1/groups/{id}/insights``: every field documented in the OpenAPI document.

The domain's figures are exact; means and shares are rounded to two decimals here, at the
edge. A figure the release rules hide is ``{"suppressed": true}``, never a number, nor why.
"""

from datetime import date
from typing import Any, ClassVar

from marshmallow import Schema, fields, post_dump


class Rounded(fields.Float):
    """A mean or share, to two decimals; null where no one answered."""

    def __init__(self, description: str) -> None:
        super().__init__(allow_none=True, metadata={"description": description + "; null if no one answered"})

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> float | None:
        return None if value is None else round(float(value), 2)


class YearMonth(fields.String):
    """A month as YYYY-MM."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else date.strftime(value, "%Y-%m")


class _Out(Schema):
    """Leaves out fields that do not apply to a value: ``OPTIONAL`` ones when null, and
    ``suppressed`` unless true, so a suppressed figure is ``{"suppressed": true}``."""

    OPTIONAL: ClassVar[tuple[str, ...]] = ()

    @post_dump
    def _leave_out(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        for key in self.OPTIONAL:
            if data.get(key, 0) is None:
                del data[key]
        if data.get("suppressed") is False:
            del data["suppressed"]
        return data


class _MaybeSuppressed(_Out):
    OPTIONAL = ("complete",)

    suppressed = fields.Boolean(metadata={"description": "true where the release rules hide this figure"})


class ItemCountsOut(Schema):
    answered = fields.Integer(metadata={"description": "people who answered the question"})
    counts = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={"description": "value -> how many chose it (a scale point, na, a choice or an option)"},
    )


def _items(description: str) -> fields.Dict:
    return fields.Dict(keys=fields.String(), values=fields.Nested(ItemCountsOut), metadata={"description": description})


class CellOut(_MaybeSuppressed):
    responses = fields.Integer(metadata={"description": "answers in this cell, from the releases that showed it"})
    items = _items("question id -> its counts in this cell")
    complete = fields.Boolean(
        metadata={"description": "false if some release hid this cell: it covers only the releases that showed it"}
    )


class QuestionnaireViewOut(Schema):
    responses = fields.Integer(metadata={"description": "answers released for this questionnaire"})
    cohorts = fields.Integer(metadata={"description": "releases (cohorts) they came in"})
    declined = fields.Integer(metadata={"description": 'answers that only said "I\'d rather not answer"'})
    items = _items("question id -> its counts")
    slices = fields.Dict(
        keys=fields.String(),
        values=fields.Dict(keys=fields.String(), values=fields.Nested(CellOut)),
        metadata={"description": "dimension (kind, path, visibility, stage, ...) -> cell -> its counts, or suppressed"},
    )


class MonthOut(Schema):
    month = fields.String(metadata={"description": "YYYY-MM, when its releases came out"})
    responses = fields.Integer()


class ImmediateOut(_MaybeSuppressed):
    responses = fields.Integer()
    wanted = Rounded("share (0-1) who wanted the help")
    signaling = Rounded("mean (1-5) of the signaling questions: recognised, seen as capable, safer to speak")
    mitigation = Rounded("mean (1-5) of the mitigation questions: treated differently, access")
    complete = fields.Boolean(metadata={"description": "by path or kind: false if some release hid the cell"})


class LaterOut(_MaybeSuppressed):
    responses = fields.Integer()
    lasting = Rounded("mean (1-5) lasting difference")
    recurred_less = Rounded("share (0-1) for whom the problem came up less or not at all, where it applied")
    ally_checked_back = Rounded("share (0-1) whose ally checked back")
    complete = fields.Boolean(metadata={"description": "false if some release hid the cell or told no stage apart"})


class MomentsOut(Schema):
    immediate = fields.Nested(ImmediateOut, allow_none=True, metadata={"description": "right after; null if none"})
    followup = fields.Nested(LaterOut, allow_none=True, metadata={"description": "both follow-ups pooled"})
    followup_30 = fields.Nested(LaterOut, allow_none=True, metadata={"description": "after 30 days"})
    followup_90 = fields.Nested(LaterOut, allow_none=True, metadata={"description": "after 90 days"})


class LastingRowOut(MomentsOut):
    path = fields.String(metadata={"description": "signaling, interpersonal, access or structural"})
    mitigation = fields.Boolean(metadata={"description": "true for the paths that remove a barrier"})


class LastingOut(Schema):
    overall = fields.Nested(MomentsOut)
    by_path = fields.Dict(keys=fields.String(), values=fields.Nested(LastingRowOut))
    by_kind = fields.Dict(keys=fields.String(), values=fields.Nested(LastingRowOut))


class ReleasedOut(Schema):
    responses = fields.Integer(metadata={"description": "answers released in all"})
    cohorts = fields.Integer(metadata={"description": "releases they came in"})
    items = fields.Dict(
        keys=fields.String(),
        values=fields.Dict(keys=fields.String(), values=fields.Nested(ItemCountsOut)),
        metadata={"description": "questionnaire id -> question id -> its counts (as in questionnaires)"},
    )
    questionnaires = fields.Dict(
        keys=fields.String(),
        values=fields.Nested(QuestionnaireViewOut),
        metadata={"description": "questionnaire id -> its released view"},
    )
    trend = fields.List(fields.Nested(MonthOut), metadata={"description": "answers released per month"})
    comments = fields.List(fields.String(), metadata={"description": "released comments the reader may read"})
    unreadable_comments = fields.Integer(metadata={"description": "comments that no longer decrypt"})
    comments_total = fields.Integer(metadata={"description": "comments in all, listed or unreadable"})
    lasting = fields.Nested(LastingOut, metadata={"description": "does it last? right after vs 30 and 90 days"})


class FeedbackOut(Schema):
    k = fields.Integer(metadata={"description": "the fewest people behind any figure"})
    released = fields.Nested(ReleasedOut)


class FollowupRateOut(_Out):
    OPTIONAL = ("actions", "followed_up", "share")

    as_of = fields.Date(metadata={"description": "the first day of this month; only months before it count"})
    actions = fields.Integer(metadata={"description": "actions counted; absent while suppressed"})
    followed_up = fields.Integer(metadata={"description": "of those, followed up within 30 days of coming due"})
    share = Rounded("followed_up / actions")
    suppressed = fields.Boolean(metadata={"description": "true while the actions fail the group pool rule"})


class LoadPeriodOut(_Out):
    OPTIONAL = ("links",)

    first_month = YearMonth(attribute="first", metadata={"description": "YYYY-MM, the period's first month"})
    last_month = YearMonth(
        attribute="last", metadata={"description": "YYYY-MM, its last month (months merge until safe)"}
    )
    links = fields.Integer(metadata={"description": "answer links the group's allies sent; absent when suppressed"})
    suppressed = fields.Boolean(metadata={"description": "true while the links sent fail the group pool rule"})
    answers = fields.Integer(metadata={"description": "answers released in these months"})
    declined = fields.Integer(metadata={"description": 'of those, "I\'d rather not answer"'})


class ResponseLoadOut(Schema):
    as_of = fields.Date(metadata={"description": "the first day of this month; only months before it count"})
    periods = fields.List(fields.Nested(LoadPeriodOut))
    links = fields.Integer(metadata={"description": "links sent in the shown periods"})
    answers = fields.Integer(metadata={"description": "answers released in the shown periods"})
    declined = fields.Integer(metadata={"description": 'of those, "I\'d rather not answer"'})
    response_rate = Rounded("answers released per link sent in the shown periods (a floor)")


class InsightsOut(_Out):
    OPTIONAL = ("followed_up", "response_load")

    k = fields.Integer(metadata={"description": "the fewest people behind any figure"})
    min_allies = fields.Integer(metadata={"description": "the fewest allies behind any figure"})
    released = fields.Nested(ReleasedOut)
    followed_up = fields.Nested(
        FollowupRateOut,
        metadata={"description": "share of actions whose ally followed up, over closed months"},
    )
    response_load = fields.Nested(
        ResponseLoadOut,
        metadata={
            "description": "response load: answer links sent, answers released and declined, by period of "
            "closed months; a period's links show only under the group pool rule"
        },
    )


class ExportAccountOut(Schema):
    email = fields.String()
    name = fields.String()
    created_on = fields.Date()
    single_sign_on = fields.Boolean(metadata={"description": "signs in through the organisation's identity provider"})


class ExportGroupOut(Schema):
    id = fields.Integer()
    name = fields.String()
    role = fields.String(metadata={"description": "ally or lead"})
    owner = fields.Boolean()


class ExportRequestOut(Schema):
    stage = fields.String()
    created_on = fields.Date()
    links = fields.Integer(metadata={"description": "how many links were made; never the links"})
    delivered = fields.Boolean(metadata={"description": "emailed by Allyloop to named colleagues"})
    emails_sent = fields.Integer(metadata={"description": "how many of those emails the mail server took"})


class ExportFollowupOut(Schema):
    stage = fields.String()
    due_on = fields.Date()
    asked_on = fields.Date(allow_none=True)


class ExportActionOut(Schema):
    id = fields.Integer()
    group_id = fields.Integer()
    kind = fields.String()
    summary = fields.String()
    occurred_on = fields.Date()
    visibility = fields.String()
    created_on = fields.Date()
    requests = fields.List(fields.Nested(ExportRequestOut))
    followups = fields.List(fields.Nested(ExportFollowupOut))


class ExportNoteOut(Schema):
    text = fields.String(allow_none=True, metadata={"description": "null if it can no longer be read"})
    updated_on = fields.Date()
    unreadable = fields.Boolean(metadata={"description": "written under an earlier SECRET_KEY"})


class ExportOut(Schema):
    account = fields.Nested(ExportAccountOut)
    groups = fields.List(fields.Nested(ExportGroupOut))
    actions = fields.List(fields.Nested(ExportActionOut))
    note = fields.Nested(ExportNoteOut, allow_none=True, metadata={"description": "your private note, or null"})
    feedback = fields.Nested(FeedbackOut, metadata={"description": "your released pooled results"})
