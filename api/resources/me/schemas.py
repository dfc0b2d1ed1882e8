from marshmallow import Schema, fields, validate

from api.resources.released import FeedbackOut
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
