from marshmallow import Schema, fields, validate

from feedback import bounds


class MeOut(Schema):
    id = fields.Integer()
    email = fields.String()
    name = fields.String()


class ReminderOut(Schema):
    action_id = fields.Integer(metadata={"description": "the action to follow up on"})
    stage = fields.String(metadata={"description": "followup_30 or followup_90: the stage to ask for"})
    due_on = fields.Date(metadata={"description": "the day it came due"})


class RemindersOut(Schema):
    items = fields.List(fields.Nested(ReminderOut))


class DeleteIn(Schema):
    password = fields.String(
        load_only=True,
        validate=validate.Length(max=bounds.PASSWORD_MAX),
        metadata={"description": "your current password (accounts that have one)"},
    )
    confirm = fields.String(
        validate=validate.Length(max=bounds.CONFIRM_CHARS),
        metadata={"description": 'accounts that sign in with SSO only: the words "delete my account"'},
    )
