from marshmallow import Schema, fields


class FeedbackOut(Schema):
    k = fields.Integer()
    released = fields.Dict()


class ReminderOut(Schema):
    action_id = fields.Integer(metadata={"description": "the action to follow up on"})
    stage = fields.String(metadata={"description": "followup_30 or followup_90: the stage to ask for"})
    due_on = fields.Date(metadata={"description": "the day it came due"})


class RemindersOut(Schema):
    items = fields.List(fields.Nested(ReminderOut))
