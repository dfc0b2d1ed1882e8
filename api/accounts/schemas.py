from marshmallow import Schema, fields, validate


class AccountIn(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=320))
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=10, max=200))
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))


class AccountOut(Schema):
    id = fields.Integer()
    email = fields.String()
    name = fields.String()


class TokenIn(Schema):
    email = fields.String(required=True, validate=validate.Length(max=320))
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=200))


class TokenOut(Schema):
    token = fields.String()
