from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from feedback import bounds, delivery, kinds, stages
from feedback.services.actions import MAX_LINKS


class ActionIn(Schema):
    group_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=bounds.MAX_ID))
    kind = fields.String(required=True, validate=validate.OneOf(kinds.KINDS))
    summary = fields.String(required=True, validate=validate.Length(min=1, max=bounds.SUMMARY_CHARS))
    occurred_on = fields.Date(
        metadata={
            "description": "the day you did it; leave it out for something you are thinking of doing (a planned"
            " action: ask for advice first, mark it done later)"
        }
    )
    visibility = fields.String(required=True, validate=validate.OneOf(kinds.VISIBILITIES))


class DoneIn(Schema):
    occurred_on = fields.Date(required=True, metadata={"description": "the day you did it"})


class ActionOut(Schema):
    id = fields.Integer()
    group_id = fields.Integer()
    kind = fields.String()
    path = fields.Function(lambda action: kinds.path_of(action.kind))
    summary = fields.String()
    occurred_on = fields.Date(allow_none=True, metadata={"description": "null while the action is planned"})
    planned = fields.Boolean(
        metadata={"description": "thinking of doing it: only advice can be asked until it is marked done"}
    )
    visibility = fields.String()


class RequestIn(Schema):
    """Either ``recipients`` (delivered: the platform emails each their own link, and only
    these answers count toward k) or ``count`` (links for the ally to share)."""

    stage = fields.String(required=True, validate=validate.OneOf(stages.IDS))
    recipients = fields.List(
        fields.String(validate=validate.Length(max=bounds.EMAIL_CHARS)),
        validate=validate.Length(min=1, max=delivery.MAX_RECIPIENTS, error="give between {min} and {max} addresses"),
        metadata={"description": "work addresses of the colleagues to ask; each is emailed their own link"},
    )
    count = fields.Integer(
        strict=True,
        validate=validate.Range(min=1, max=MAX_LINKS),
        metadata={"description": "links for you to share; their answers never count toward k"},
    )

    @validates_schema
    def one_way(self, data: dict[str, Any], **_: Any) -> None:
        if ("recipients" in data) == ("count" in data):
            raise ValidationError("give either recipients (emailed by Allyloop) or count (links you share)", "_body")


class LinkOut(Schema):
    url = fields.String()
    expires_at = fields.DateTime()


class RecipientOut(Schema):
    email = fields.String(metadata={"description": "as you typed it"})
    status = fields.String(metadata={"description": "queued: Allyloop emails it in the background"})


class RequestOut(Schema):
    stage = fields.String()
    links = fields.List(fields.Nested(LinkOut), metadata={"description": "only for count: each token shown only here"})
    delivered = fields.Integer(metadata={"description": "only for recipients: how many colleagues will be emailed"})
    recipients = fields.List(fields.Nested(RecipientOut), metadata={"description": "only for recipients"})


class RequestStatusOut(Schema):
    """One request about an action: never which link was answered (P5)."""

    id = fields.Integer()
    stage = fields.String()
    created_on = fields.Date()
    links = fields.Integer(attribute="link_count")
    delivered = fields.Boolean(metadata={"description": "the platform emailed the links: these answers count toward k"})
    sent = fields.Integer(metadata={"description": "emails the mail server accepted"})
    waiting = fields.Integer(
        metadata={"description": "emails still to be sent (retried while the mail server is away)"}
    )
    refused = fields.List(
        fields.String(), metadata={"description": "addresses the mail server refused; shown once, then forgotten"}
    )
    expired = fields.List(
        fields.String(), metadata={"description": "addresses not sent before the link expired; shown once"}
    )
