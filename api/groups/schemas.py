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
