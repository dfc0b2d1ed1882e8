from marshmallow import Schema, fields, validate

PASSWORD = validate.Length(min=10, max=200)


class AccountIn(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=320))
    password = fields.String(required=True, load_only=True, validate=PASSWORD)
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))


class StatusOut(Schema):
    status = fields.String(metadata={"description": "what happens next, the same whatever the address"})


class VerifyIn(Schema):
    token = fields.String(required=True, validate=validate.Length(max=64))


class VerifiedOut(Schema):
    verified = fields.Boolean()


class TokenIn(Schema):
    email = fields.String(required=True, validate=validate.Length(max=320))
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=200))


class TokenOut(Schema):
    token = fields.String()
    expires_at = fields.DateTime()


class ResetIn(Schema):
    email = fields.String(required=True, validate=validate.Length(max=320))


class NewPasswordIn(Schema):
    password = fields.String(required=True, load_only=True, validate=PASSWORD)


class PasswordChangeIn(Schema):
    current_password = fields.String(required=True, load_only=True, validate=validate.Length(max=200))
    password = fields.String(required=True, load_only=True, validate=PASSWORD)
