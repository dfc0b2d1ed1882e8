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


class OptionOut(Schema):
    value = fields.String()
    label = fields.String()


class ItemOut(Schema):
    id = fields.String()
    construct = fields.String(metadata={"description": "What the item measures (DESIGN §5)"})
    type = fields.String(validate=validate.OneOf(["choice", "multi", "scale"]))
    prompt = fields.String()
    options = fields.List(fields.Nested(OptionOut), metadata={"description": "choice and multi items"})
    exclusive = fields.List(fields.String(), metadata={"description": "multi items: options chosen only alone"})
    min = fields.Integer(metadata={"description": "scale items"})
    max = fields.Integer(metadata={"description": "scale items"})
    labels = fields.Dict(
        keys=fields.String(), values=fields.String(), metadata={"description": "scale items: point (or na) -> label"}
    )
    allow_na = fields.Boolean(metadata={"description": 'scale items: whether "na" is an answer'})


class CommentFieldOut(Schema):
    prompt = fields.String()
    max_chars = fields.Integer()


class QuestionnaireOut(Schema):
    id = fields.String(metadata={"description": "e.g. immediate.v2; bound into the HPKE info"})
    stage = fields.String()
    version = fields.Integer()
    title = fields.String()
    intro = fields.String()
    items = fields.List(
        fields.Nested(ItemOut), metadata={"description": "What this link asks (by the action's path); all optional"}
    )
    comment = fields.Nested(CommentFieldOut)
    audiences = fields.List(fields.Nested(OptionOut), metadata={"description": "Who may read the comment"})


class AnswerPageOut(Schema):
    questionnaire = fields.Nested(QuestionnaireOut)
    action = fields.Nested(ActionSummaryOut)
    key = fields.Nested(KeyOut)
    info = fields.String()
    pad_to = fields.Integer()
