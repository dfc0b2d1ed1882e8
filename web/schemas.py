"""The pages' forms, read with marshmallow against the domain's bounds (``feedback.bounds``,
kinds, roles): the pages never borrow the JSON API's schemas, yet refuse exactly what the
API refuses, with the same messages."""

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from feedback import bounds, delivery, kinds, stages
from feedback.services.actions import MAX_LINKS
from feedback.services.groups import ROLES

NEW_PASSWORD = validate.Length(min=bounds.PASSWORD_MIN, max=bounds.PASSWORD_MAX)
TYPED_PASSWORD = validate.Length(max=bounds.PASSWORD_MAX)
EMAIL = validate.Length(max=bounds.EMAIL_CHARS)


class SignUpForm(Schema):
    email = fields.Email(required=True, validate=EMAIL)
    password = fields.String(required=True, validate=NEW_PASSWORD)
    name = fields.String(required=True, validate=validate.Length(min=1, max=bounds.NAME_CHARS))


class SignInForm(Schema):
    email = fields.String(required=True, validate=EMAIL)
    password = fields.String(required=True, validate=TYPED_PASSWORD)


class ResetForm(Schema):
    email = fields.String(required=True, validate=EMAIL)


class NewPasswordForm(Schema):
    password = fields.String(required=True, validate=NEW_PASSWORD)


class PasswordChangeForm(Schema):
    current_password = fields.String(required=True, validate=TYPED_PASSWORD)
    password = fields.String(required=True, validate=NEW_PASSWORD)


class DeleteForm(Schema):
    password = fields.String(validate=TYPED_PASSWORD)
    confirm = fields.String(validate=validate.Length(max=bounds.CONFIRM_CHARS))


class ActionForm(Schema):
    group_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=bounds.MAX_ID))
    kind = fields.String(required=True, validate=validate.OneOf(kinds.KINDS))
    summary = fields.String(required=True, validate=validate.Length(min=1, max=bounds.SUMMARY_CHARS))
    occurred_on = fields.Date()  # left out for a planned action; the page asks "Have you done it yet?"
    visibility = fields.String(required=True, validate=validate.OneOf(kinds.VISIBILITIES))


class DoneForm(Schema):
    occurred_on = fields.Date(required=True)


class RequestForm(Schema):
    """Addresses to email (``recipients``) or a number of links to share (``count``)."""

    stage = fields.String(required=True, validate=validate.OneOf(stages.IDS))
    recipients = fields.List(
        fields.String(validate=EMAIL),
        validate=validate.Length(min=1, max=delivery.MAX_RECIPIENTS, error="give between {min} and {max} addresses"),
    )
    count = fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_LINKS))

    @validates_schema
    def one_way(self, data: dict[str, Any], **_: Any) -> None:
        if ("recipients" in data) == ("count" in data):
            raise ValidationError("give either recipients (emailed by Allyloop) or count (links you share)", "_body")


class GroupForm(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=bounds.NAME_CHARS))


class RoleForm(Schema):
    role = fields.String(required=True, validate=validate.OneOf(ROLES))


class OwnerForm(Schema):
    account_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=bounds.MAX_ID))
