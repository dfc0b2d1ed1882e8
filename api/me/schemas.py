from marshmallow import Schema, fields


class FeedbackOut(Schema):
    k = fields.Integer()
    released = fields.Dict()
