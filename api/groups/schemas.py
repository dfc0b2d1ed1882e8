from marshmallow import Schema, fields, validate


class GroupIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))


class GroupOut(Schema):
    id = fields.Integer()
    name = fields.String()
    role = fields.String()


class MemberIn(Schema):
    email = fields.String(required=True, validate=validate.Length(min=3, max=320))
    role = fields.String(required=True, validate=validate.OneOf(["ally", "lead"]))


class MemberOut(Schema):
    group_id = fields.Integer()
    account_id = fields.Integer()
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
