from marshmallow import Schema, fields, validate

from api.extensions import MAX_ID
from feedback import kinds


class ActionIn(Schema):
    group_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=MAX_ID))
    kind = fields.String(required=True, validate=validate.OneOf(kinds.KINDS))
    summary = fields.String(required=True, validate=validate.Length(min=1, max=200))
    occurred_on = fields.Date(required=True)
    visibility = fields.String(required=True, validate=validate.OneOf(kinds.VISIBILITIES))


class ActionOut(Schema):
    id = fields.Integer()
    group_id = fields.Integer()
    kind = fields.String()
    path = fields.Function(lambda action: kinds.path_of(action.kind))
    summary = fields.String()
    occurred_on = fields.Date()
    visibility = fields.String()


class RequestIn(Schema):
    stage = fields.String(required=True, validate=validate.OneOf(kinds.STAGES))
    count = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=50))


class LinkOut(Schema):
    url = fields.String()
    expires_at = fields.DateTime()


class RequestOut(Schema):
    stage = fields.String()
    links = fields.List(fields.Nested(LinkOut))
