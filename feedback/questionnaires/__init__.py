"""Versioned questionnaires: load them, validate answers and comments.

Each questionnaire is a JSON data file beside this module (``immediate.v1.json``, ...),
its items tagged with the construct they measure (DESIGN §5). Every item is optional:
a recipient skips an item by leaving it out, and an empty answer set is valid.

Answers arrive in two ways: decrypted from a sealed envelope (``validate_answers`` and
``validate_comment``) or from the no-JavaScript HTML form (``parse_form``). Both give
the same normalized values. Error messages never repeat what was submitted, so they are
safe to return to a client or to log.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from types import MappingProxyType
from typing import Final, Literal, TypeAlias, TypedDict, cast

from feedback.text import clean

__all__ = [
    "AUDIENCES",
    "AUDIENCE_LABELS",
    "CONSTRUCTS",
    "ITEM_TYPES",
    "STAGE_QUESTIONNAIRES",
    "AnswerValue",
    "Answers",
    "Comment",
    "InvalidAnswers",
    "Item",
    "ItemType",
    "Option",
    "Questionnaire",
    "QuestionnaireFormatError",
    "UnknownQuestionnaire",
    "for_stage",
    "load",
    "parse_questionnaire",
]

AnswerValue: TypeAlias = str | int | list[str]
Answers: TypeAlias = dict[str, AnswerValue]
ItemType: TypeAlias = Literal["choice", "multi", "scale"]


class Comment(TypedDict):
    """A recipient's free-text comment and who may read it."""

    text: str
    audience: str


ITEM_TYPES: Final[tuple[ItemType, ...]] = ("choice", "multi", "scale")

CONSTRUCTS: Final[frozenset[str]] = frozenset(
    {
        "confirmation",
        "wanted",
        "consent",
        "signaling",
        "mitigation",
        "backfire",
        "preference",
        "visibility_preference",
        "lasting",
        "recurrence",
        "outcomes",
        "ally_checked_back",
        "voice",
        "belonging",
        "access",
    }
)

AUDIENCES: Final[tuple[str, ...]] = ("ally", "lead", "both", "none")

AUDIENCE_LABELS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "ally": "Only the person who sent you this link",
        "lead": "Only the group's ERG leads",
        "both": "Both the person who sent this link and the ERG leads",
        "none": "Nobody: keep my comment out of every report",
    }
)

STAGE_QUESTIONNAIRES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "advice": "advice.v1",
        "immediate": "immediate.v1",
        "followup_30": "followup.v1",
        "followup_90": "followup.v1",
    }
)

NOT_APPLICABLE: Final = "na"

_NAME = re.compile(r"[a-z][a-z0-9_]*")
_QUESTIONNAIRE_ID = re.compile(r"([a-z][a-z0-9_]*)\.v([1-9][0-9]*)")
_FORM_INTEGER = re.compile(r"-?[0-9]{1,9}")
_FORM_ITEM_PREFIX: Final = "item-"
_FIELD_NAME_MAX: Final = 64


class InvalidAnswers(ValueError):
    """Answers or a comment that do not fit the questionnaire.

    ``fields`` maps each offending field (an item id, ``"comment"`` or ``"answers"``)
    to a message meant for the person answering.
    """

    def __init__(self, fields: Mapping[str, str]) -> None:
        self.fields: dict[str, str] = dict(fields)
        super().__init__("invalid answers: " + ", ".join(sorted(self.fields)))


class UnknownQuestionnaire(KeyError):
    """No questionnaire has this id, or no questionnaire serves this stage."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class QuestionnaireFormatError(ValueError):
    """A questionnaire data file is malformed; the message says where."""


class _ItemError(Exception):
    """One item's answer is invalid; carries the message for that item."""


@dataclass(frozen=True)
class Option:
    value: str
    label: str


@dataclass(frozen=True)
class Item:
    """One question. Options are for choice and multi items; min/max for scales."""

    id: str
    construct: str
    type: ItemType
    prompt: str
    options: tuple[Option, ...] = ()
    min: int | None = None
    max: int | None = None
    labels: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    allow_na: bool = False
    exclusive: frozenset[str] = frozenset()

    @functools.cached_property
    def option_values(self) -> tuple[str, ...]:
        return tuple(option.value for option in self.options)

    @functools.cached_property
    def _option_set(self) -> frozenset[str]:
        return frozenset(self.option_values)

    @functools.cached_property
    def single_values(self) -> frozenset[str | int]:
        """Every valid answer that is a single value: a choice, a scale point, or "na"."""
        if self.type == "choice":
            return frozenset(self.option_values)
        if self.type == "scale":
            points: set[str | int] = set(range(cast(int, self.min), cast(int, self.max) + 1))
            return frozenset(points | ({NOT_APPLICABLE} if self.allow_na else set()))
        return frozenset()

    def _validate(self, value: object) -> AnswerValue:
        """Return the normalized answer, or raise ``_ItemError``."""
        if self.type == "choice":
            return self._validate_choice(value)
        if self.type == "multi":
            return self._validate_multi(value)
        return self._validate_scale(value)

    def _validate_choice(self, value: object) -> str:
        if not isinstance(value, str) or value not in self._option_set:
            raise _ItemError("Choose one of the listed options, or skip this question.")
        return value

    def _validate_multi(self, value: object) -> list[str]:
        if not isinstance(value, list | tuple):
            raise _ItemError("Send a list of the chosen options.")
        if not value:
            raise _ItemError("Choose at least one option, or skip this question.")
        known = self._option_set
        if not all(isinstance(choice, str) and choice in known for choice in value):
            raise _ItemError("Choose only from the listed options.")
        chosen = set(cast(list[str], list(value)))
        if len(chosen) != len(value):
            raise _ItemError("Choose each option at most once.")
        if len(chosen) > 1 and chosen & self.exclusive:
            names = " or ".join(f'"{option.label}"' for option in self.options if option.value in self.exclusive)
            raise _ItemError(f"{names} cannot be combined with other options.")
        return [option for option in self.option_values if option in chosen]

    def _validate_scale(self, value: object) -> int | str:
        if self.allow_na and value == NOT_APPLICABLE:
            return NOT_APPLICABLE
        low, high = cast(int, self.min), cast(int, self.max)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            also = f' or "{NOT_APPLICABLE}"' if self.allow_na else ""
            raise _ItemError(f"Choose a whole number from {low} to {high}{also}.")
        return value

    def _form_value(self, values: Sequence[str]) -> object:
        """Turn this item's non-blank form strings into a value to validate."""
        if self.type == "multi":
            return list(values)
        if len(values) > 1:
            raise _ItemError("Choose only one answer.")
        (value,) = values
        if self.type == "scale" and _FORM_INTEGER.fullmatch(value):
            return int(value)
        return value

    def to_public_dict(self) -> dict[str, object]:
        public: dict[str, object] = {
            "id": self.id,
            "construct": self.construct,
            "type": self.type,
            "prompt": self.prompt,
        }
        if self.type == "scale":
            public.update(
                min=self.min,
                max=self.max,
                labels=dict(self.labels),
                allow_na=self.allow_na,
            )
        else:
            public["options"] = [{"value": option.value, "label": option.label} for option in self.options]
        if self.type == "multi":
            public["exclusive"] = [v for v in self.option_values if v in self.exclusive]
        return public


@dataclass(frozen=True)
class Questionnaire:
    id: str
    stage: str
    version: int
    pad_to: int
    title: str
    intro: str
    items: tuple[Item, ...]
    comment_prompt: str
    comment_max_chars: int
    _by_id: dict[str, Item] = field(init=False, repr=False, compare=False, hash=False)  # never handed out

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {item.id: item for item in self.items})

    def item(self, item_id: str) -> Item:
        """The item with this id; ``KeyError`` if there is none."""
        return self._by_id[item_id]

    def validate_answers(self, answers: object) -> Answers:
        """Check answers against the items and return a normalized copy.

        Skipped items are simply absent, so ``{}`` is valid. Multi answers come back in
        the questionnaire's option order. Raises ``InvalidAnswers`` naming every
        offending item.
        """
        if not isinstance(answers, Mapping):
            raise InvalidAnswers({"answers": "Send an object mapping question ids to answers."})
        errors: dict[str, str] = {}
        accepted: Answers = {}
        by_id = self._by_id
        for key, value in answers.items():
            item = by_id.get(key) if isinstance(key, str) else None
            # Fast path for the common case (run once per answer in a release); type() rather
            # than isinstance, so that True is not taken for 1.
            if item is not None and (type(value) is str or type(value) is int) and value in item.single_values:
                accepted[key] = value
                continue
            if item is None:
                errors[_field_name(key)] = "This is not a question in this questionnaire."
                continue
            try:
                accepted[key] = item._validate(value)
            except _ItemError as exc:
                errors[key] = str(exc)
        if errors:
            raise InvalidAnswers(errors)
        return accepted

    def validate_comment(self, comment: object) -> Comment | None:
        """Check the optional comment and return a normalized copy, or ``None``.

        The text must hold no control characters other than newline and tab; its line
        breaks are normalized to ``\\n``, bidi controls and invisible format characters
        removed (``feedback.text.clean``) and surrounding whitespace stripped; it must
        then hold 1 to ``comment_max_chars`` characters. The audience is one of
        ``AUDIENCES``.
        """
        if comment is None:
            return None
        try:
            return self._validate_comment(comment)
        except _ItemError as exc:
            raise InvalidAnswers({"comment": str(exc)}) from None

    def _validate_comment(self, comment: object) -> Comment:
        if not isinstance(comment, Mapping):
            raise _ItemError("Send the comment as an object with text and audience.")
        if set(comment) - {"text", "audience"}:
            raise _ItemError("A comment has only text and audience.")
        text, audience = comment.get("text"), comment.get("audience")
        if not isinstance(text, str):
            raise _ItemError("The comment text must be a string.")
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        # Controls are refused, as the answer page refuses them before sealing; bidi overrides
        # and invisible characters, which no page shows, are dropped: the reader sees what was meant.
        if _FORBIDDEN_IN_COMMENT.search(text):
            raise _ItemError("The comment contains characters that cannot be stored.")
        text = clean(text, multiline=True)
        if not text:
            raise _ItemError("The comment is empty; leave it out to send no comment.")
        if len(text) > self.comment_max_chars:
            raise _ItemError(f"Please keep the comment to {self.comment_max_chars} characters or fewer.")
        if not isinstance(audience, str) or audience not in AUDIENCES:
            raise _ItemError("Choose who may read your comment.")
        return {"text": text, "audience": audience}

    def parse_form(self, form: Mapping[str, Sequence[str]]) -> tuple[Answers, Comment | None]:
        """Read the no-JavaScript form; return validated ``(answers, comment)``.

        Items are fields named ``item-<id>`` (several values for a multi item, scale
        values as decimal strings or ``"na"``); the comment is ``comment`` with its
        ``audience``. Blank values mean skipped; fields with other names are ignored.
        A form with a ``decline`` field ("I'd rather not answer") gives ``({}, None)``.
        """
        if "decline" in form:
            return {}, None
        errors: dict[str, str] = {}
        raw: dict[str, object] = {}
        for name, submitted in form.items():
            if not name.startswith(_FORM_ITEM_PREFIX):
                continue
            item_id = name.removeprefix(_FORM_ITEM_PREFIX)
            values = _non_blank(submitted)
            if not values:
                continue
            item = self._by_id.get(item_id)
            if item is None:
                raw[item_id] = values  # validate_answers names the unknown item
                continue
            try:
                raw[item_id] = item._form_value(values)
            except _ItemError as exc:
                errors[item_id] = str(exc)
        try:
            answers = self.validate_answers(raw)
        except InvalidAnswers as exc:
            errors.update(exc.fields)
            answers = {}
        comment: Comment | None = None
        try:
            comment = self._form_comment(form)
        except InvalidAnswers as exc:
            errors.update(exc.fields)
        if errors:
            raise InvalidAnswers(errors)
        return answers, comment

    def _form_comment(self, form: Mapping[str, Sequence[str]]) -> Comment | None:
        # A box holding only invisible characters was left blank: no comment, as when empty.
        texts = [text for text in _non_blank(form.get("comment", ())) if clean(text, multiline=True)]
        if not texts:
            return None
        audiences = _non_blank(form.get("audience", ()))
        if len(texts) > 1 or len(audiences) > 1:
            raise InvalidAnswers({"comment": "Send one comment with one audience."})
        audience = audiences[0] if audiences else None
        return self.validate_comment({"text": texts[0], "audience": audience})

    def to_public_dict(self) -> dict[str, object]:
        """Everything a client needs to render this questionnaire."""
        return {
            "id": self.id,
            "stage": self.stage,
            "version": self.version,
            "title": self.title,
            "intro": self.intro,
            "items": [item.to_public_dict() for item in self.items],
            "comment": {
                "prompt": self.comment_prompt,
                "max_chars": self.comment_max_chars,
            },
            "audiences": [{"value": audience, "label": AUDIENCE_LABELS[audience]} for audience in AUDIENCES],
        }


def _field_name(key: object) -> str:
    """A safe, short error-field name for a submitted key."""
    if not isinstance(key, str) or not key or not key.isprintable():
        return "answers"
    return key[:_FIELD_NAME_MAX]


def _non_blank(submitted: str | Sequence[str]) -> list[str]:
    values: Iterable[object] = [submitted] if isinstance(submitted, str) else submitted
    return [value.strip() for value in values if isinstance(value, str) and value.strip()]


# Control characters (category Cc: C0, DEL and C1) but newline and tab, and lone
# surrogates, are refused. Refusing them also bounds the encoded size: in compact UTF-8
# JSON every remaining character takes at most four bytes.
_FORBIDDEN_IN_COMMENT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


# --- Loading -------------------------------------------------------------------------


@functools.cache
def load(questionnaire_id: str) -> Questionnaire:
    """The questionnaire with this id (e.g. ``"immediate.v1"``), read once and cached.

    Raises ``UnknownQuestionnaire`` if there is none and ``QuestionnaireFormatError``
    if its data file is malformed.
    """
    if not isinstance(questionnaire_id, str) or not _QUESTIONNAIRE_ID.fullmatch(questionnaire_id):
        raise UnknownQuestionnaire(f"no questionnaire with id {questionnaire_id!r}")
    source = f"{questionnaire_id}.json"
    resource = resources.files(__name__).joinpath(source)
    if not resource.is_file():
        raise UnknownQuestionnaire(f"no questionnaire with id {questionnaire_id!r}")
    try:
        data = json.loads(resource.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise QuestionnaireFormatError(f"{source}: not valid UTF-8 JSON ({exc})") from exc
    questionnaire = parse_questionnaire(data, source=source)
    if questionnaire.id != questionnaire_id:
        raise QuestionnaireFormatError(f"{source}: id must be {questionnaire_id!r}")
    return questionnaire


def for_stage(stage: str) -> Questionnaire:
    """The questionnaire used for a request stage (``advice``, ``immediate``, ...)."""
    try:
        questionnaire_id = STAGE_QUESTIONNAIRES[stage]
    except (KeyError, TypeError):
        raise UnknownQuestionnaire(f"no questionnaire for stage {stage!r}") from None
    return load(questionnaire_id)


def parse_questionnaire(data: object, *, source: str = "questionnaire") -> Questionnaire:
    """Build a ``Questionnaire`` from decoded JSON, checking that it is well formed.

    Raises ``QuestionnaireFormatError`` naming the file and the offending place.
    """
    try:
        return _questionnaire(_Obj(data, source))
    except _FormatError as exc:
        raise QuestionnaireFormatError(f"{source}: {exc}") from None


class _FormatError(Exception):
    pass


class _Obj:
    """A JSON object being read, with its path for error messages."""

    def __init__(self, data: object, path: str) -> None:
        if not isinstance(data, Mapping) or not all(isinstance(k, str) for k in data):
            raise _FormatError(f"{path} must be an object")
        self.data = cast(Mapping[str, object], data)
        self.path = path

    def keys(self, required: Iterable[str], optional: Iterable[str] = ()) -> None:
        required = set(required)
        if missing := required - set(self.data):
            raise _FormatError(f"{self.path} lacks {', '.join(sorted(missing))}")
        if unknown := set(self.data) - required - set(optional):
            raise _FormatError(f"{self.path} has unknown {', '.join(sorted(unknown))}")

    def where(self, key: str) -> str:
        return f"{self.path}.{key}"

    def text(self, key: str) -> str:
        value = self.data[key]
        if not isinstance(value, str) or not value.strip():
            raise _FormatError(f"{self.where(key)} must be a non-empty string")
        return value

    def name(self, key: str) -> str:
        value = self.text(key)
        if not _NAME.fullmatch(value):
            raise _FormatError(f"{self.where(key)} must match {_NAME.pattern}")
        return value

    def integer(self, key: str, *, minimum: int | None = None) -> int:
        value = self.data[key]
        if isinstance(value, bool) or not isinstance(value, int):
            raise _FormatError(f"{self.where(key)} must be an integer")
        if minimum is not None and value < minimum:
            raise _FormatError(f"{self.where(key)} must be at least {minimum}")
        return value

    def array(self, key: str) -> list[object]:
        value = self.data.get(key, [])
        if not isinstance(value, list):
            raise _FormatError(f"{self.where(key)} must be a list")
        return value


def _questionnaire(obj: _Obj) -> Questionnaire:
    obj.keys({"id", "stage", "version", "pad_to", "title", "intro", "items", "comment"})
    stage = obj.name("stage")
    version = obj.integer("version", minimum=1)
    questionnaire_id = obj.text("id")
    if questionnaire_id != f"{stage}.v{version}":
        raise _FormatError(f"{obj.where('id')} must be {stage}.v{version}")
    pad_to = obj.integer("pad_to", minimum=256)
    if pad_to % 256:
        raise _FormatError(f"{obj.where('pad_to')} must be a multiple of 256")
    raw_items = obj.array("items")
    if not raw_items:
        raise _FormatError(f"{obj.where('items')} must not be empty")
    items = tuple(_item(_Obj(raw, f"items[{i}]")) for i, raw in enumerate(raw_items))
    _require_unique((item.id for item in items), "item id", obj.where("items"))
    comment = _Obj(obj.data["comment"], obj.where("comment"))
    comment.keys({"prompt", "max_chars"})
    return Questionnaire(
        id=questionnaire_id,
        stage=stage,
        version=version,
        pad_to=pad_to,
        title=obj.text("title"),
        intro=obj.text("intro"),
        items=items,
        comment_prompt=comment.text("prompt"),
        comment_max_chars=comment.integer("max_chars", minimum=1),
    )


def _item(obj: _Obj) -> Item:
    common = {"id", "construct", "type", "prompt"}
    item_type = obj.data.get("type")
    if item_type not in ITEM_TYPES:
        raise _FormatError(f"{obj.where('type')} must be one of {', '.join(ITEM_TYPES)}")
    item_id = obj.name("id") if "id" in obj.data else ""
    if item_id:
        obj.path = f"{obj.path} ({item_id})"
    construct = obj.name("construct") if "construct" in obj.data else ""
    if construct not in CONSTRUCTS:
        raise _FormatError(f"{obj.where('construct')} must be one of the known constructs")
    if item_type == "scale":
        obj.keys(common | {"min", "max"}, {"labels", "allow_na"})
        return _scale_item(obj, item_id, construct)
    item_type = cast(ItemType, item_type)
    obj.keys(common | {"options"}, {"exclusive"} if item_type == "multi" else ())
    options = tuple(_option(_Obj(raw, f"{obj.where('options')}[{i}]")) for i, raw in enumerate(obj.array("options")))
    if not options:
        raise _FormatError(f"{obj.where('options')} must not be empty")
    values = [option.value for option in options]
    _require_unique(values, "option value", obj.where("options"))
    exclusive = obj.array("exclusive")
    _require_unique(exclusive, "value", obj.where("exclusive"))
    if not set(exclusive) <= set(values):
        raise _FormatError(f"{obj.where('exclusive')} must list only option values")
    return Item(
        id=item_id,
        construct=construct,
        type=item_type,
        prompt=obj.text("prompt"),
        options=options,
        exclusive=frozenset(cast(list[str], exclusive)),
    )


def _scale_item(obj: _Obj, item_id: str, construct: str) -> Item:
    low, high = obj.integer("min"), obj.integer("max")
    if low >= high:
        raise _FormatError(f"{obj.path} needs min < max")
    allow_na = obj.data.get("allow_na", False)
    if not isinstance(allow_na, bool):
        raise _FormatError(f"{obj.where('allow_na')} must be true or false")
    labels = _Obj(obj.data.get("labels", {}), obj.where("labels"))
    points = {str(point) for point in range(low, high + 1)}
    allowed = points | {NOT_APPLICABLE} if allow_na else points
    labels.keys((), allowed)
    return Item(
        id=item_id,
        construct=construct,
        type="scale",
        prompt=obj.text("prompt"),
        min=low,
        max=high,
        labels=MappingProxyType({key: labels.text(key) for key in labels.data}),
        allow_na=allow_na,
    )


def _option(obj: _Obj) -> Option:
    obj.keys({"value", "label"})
    return Option(value=obj.name("value"), label=obj.text("label"))


def _require_unique(values: Iterable[object], what: str, where: str) -> None:
    seen: set[object] = set()
    for value in values:
        if not isinstance(value, str) or value in seen:
            raise _FormatError(f"{where}: each {what} must be a distinct string")
        seen.add(value)
