from marshmallow import Schema, fields, validate


class EnvelopeIn(Schema):
    # Key ids are ASCII ("rk-" and hex); the pattern also keeps text no database stores
    # (NUL, lone surrogates) out of the lookup.
    kid = fields.String(
        required=True, validate=[validate.Length(min=1, max=40), validate.Regexp(r"^[A-Za-z0-9_.-]+\Z")]
    )
    sealed = fields.String(required=True, validate=validate.Length(min=1, max=32768))


class ReceiptOut(Schema):
    receipt = fields.String()


class KeyOut(Schema):
    kid = fields.String()
    suite = fields.String()
    public_key = fields.String()


class ActionSummaryOut(Schema):
    kind = fields.String()
    summary = fields.String()
    occurred_on = fields.Date()


class AnswerPageOut(Schema):
    questionnaire = fields.Dict()
    action = fields.Nested(ActionSummaryOut)
    key = fields.Nested(KeyOut)
    info = fields.String()
    pad_to = fields.Integer()
