from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from feedback import bounds
from feedback.services.groups import ROLES


class GroupIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=bounds.NAME_CHARS))


class GroupOut(Schema):
    id = fields.Integer()
    name = fields.String()
    role = fields.String()


class MemberIn(Schema):
    """``email`` for one invitation, ``emails`` for many (a pasted list)."""

    email = fields.String(validate=validate.Length(min=3, max=bounds.EMAIL_CHARS))
    emails = fields.List(
        fields.String(validate=validate.Length(min=3, max=bounds.EMAIL_CHARS)), validate=validate.Length(min=1, max=50)
    )
    role = fields.String(required=True, validate=validate.OneOf(ROLES))

    @validates_schema
    def one_way(self, data: dict[str, Any], **_: Any) -> None:
        if ("email" in data) == ("emails" in data):
            raise ValidationError("give email (one address) or emails (a list)", "_body")


class InvitedOut(Schema):
    status = fields.String(metadata={"description": "invited, whatever the address: nothing says who has an account"})
    invited = fields.Integer()


class RoleIn(Schema):
    role = fields.String(required=True, validate=validate.OneOf(ROLES))


class MemberOut(Schema):
    group_id = fields.Integer()
    account_id = fields.Integer()
    role = fields.String()


class OwnerIn(Schema):
    account_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=bounds.MAX_ID))


class InvitationOut(Schema):
    id = fields.Integer()
    email = fields.String()
    role = fields.String()
    expires_on = fields.Date()


class JoinedOut(Schema):
    group_id = fields.Integer()
    role = fields.String()
