from marshmallow import Schema, fields, validate

from feedback import bounds

PASSWORD = validate.Length(min=bounds.PASSWORD_MIN, max=bounds.PASSWORD_MAX)


class AccountIn(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=bounds.EMAIL_CHARS))
    password = fields.String(required=True, load_only=True, validate=PASSWORD)
    name = fields.String(required=True, validate=validate.Length(min=1, max=bounds.NAME_CHARS))


class StatusOut(Schema):
    status = fields.String(metadata={"description": "what happens next, the same whatever the address"})


class VerifyIn(Schema):
    token = fields.String(required=True, validate=validate.Length(max=bounds.TOKEN_CHARS))


class VerifiedOut(Schema):
    verified = fields.Boolean()


class TokenIn(Schema):
    email = fields.String(required=True, validate=validate.Length(max=bounds.EMAIL_CHARS))
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=bounds.PASSWORD_MAX))


class TokenOut(Schema):
    token = fields.String()
    expires_at = fields.DateTime()


class ResetIn(Schema):
    email = fields.String(required=True, validate=validate.Length(max=bounds.EMAIL_CHARS))


class NewPasswordIn(Schema):
    password = fields.String(required=True, load_only=True, validate=PASSWORD)


class PasswordChangeIn(Schema):
    current_password = fields.String(required=True, load_only=True, validate=validate.Length(max=bounds.PASSWORD_MAX))
    password = fields.String(required=True, load_only=True, validate=PASSWORD)
