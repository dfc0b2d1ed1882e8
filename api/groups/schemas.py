from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from api.extensions import MAX_ID


class GroupIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))


class GroupOut(Schema):
    id = fields.Integer()
    name = fields.String()
    role = fields.String()


class MemberIn(Schema):
    """``email`` for one invitation, ``emails`` for many (a pasted list)."""

    email = fields.String(validate=validate.Length(min=3, max=320))
    emails = fields.List(
        fields.String(validate=validate.Length(min=3, max=320)), validate=validate.Length(min=1, max=50)
    )
    role = fields.String(required=True, validate=validate.OneOf(["ally", "lead"]))

    @validates_schema
    def one_way(self, data: dict[str, Any], **_: Any) -> None:
        if ("email" in data) == ("emails" in data):
            raise ValidationError("give email (one address) or emails (a list)", "_body")


class InvitedOut(Schema):
    status = fields.String(metadata={"description": "invited, whatever the address: nothing says who has an account"})
    invited = fields.Integer()


class RoleIn(Schema):
    role = fields.String(required=True, validate=validate.OneOf(["ally", "lead"]))


class MemberOut(Schema):
    group_id = fields.Integer()
    account_id = fields.Integer()
    role = fields.String()


class OwnerIn(Schema):
    account_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=MAX_ID))


class InvitationOut(Schema):
    id = fields.Integer()
    email = fields.String()
    role = fields.String()
    expires_on = fields.Date()


class JoinedOut(Schema):
    group_id = fields.Integer()
    role = fields.String()


class LoadPeriodOut(Schema):
    first_month = fields.String(metadata={"description": "YYYY-MM, the period's first month"})
    last_month = fields.String(metadata={"description": "YYYY-MM, its last month (months merge until safe)"})
    links = fields.Integer(metadata={"description": "answer links the group's allies sent; absent when suppressed"})
    suppressed = fields.Boolean(metadata={"description": "true while the links sent fail the group pool rule"})
    answers = fields.Integer(metadata={"description": "answers released in these months"})
    declined = fields.Integer(metadata={"description": 'of those, "I\'d rather not answer"'})


class ResponseLoadOut(Schema):
    as_of = fields.String(metadata={"description": "the first day of this month; only months before it count"})
    periods = fields.List(fields.Nested(LoadPeriodOut))
    links = fields.Integer(metadata={"description": "links sent in the shown periods"})
    answers = fields.Integer(metadata={"description": "answers released in the shown periods"})
    declined = fields.Integer(metadata={"description": 'of those, "I\'d rather not answer"'})
    response_rate = fields.Float(
        allow_none=True,
        metadata={"description": "answers released per link sent in the shown periods (a floor); null if none"},
    )


class InsightsOut(Schema):
    k = fields.Integer()
    min_allies = fields.Integer()
    released = fields.Dict()
    followed_up = fields.Dict(
        metadata={
            "description": "share of actions whose ally followed up, over closed months: "
            "{as_of, actions, followed_up, share}, or {as_of, suppressed: true} below the group pool rule"
        }
    )
    response_load = fields.Nested(
        ResponseLoadOut,
        metadata={
            "description": "response load: answer links sent, answers released and declined, by period of "
            "closed months; a period's links show only under the group pool rule"
        },
    )
