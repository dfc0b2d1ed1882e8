"""Questionnaires as the domain holds them: items, and the checks every answer passes.

Each questionnaire is versioned data (DESIGN §5), its items tagged with the construct they
measure. Every item is optional: a recipient skips an item by leaving it out, and an empty
answer set is valid. Answers opened from an envelope, or read from the no-JavaScript form
by the web, pass the same ``validate_answers`` and ``validate_comment``. Error messages
never repeat what was submitted, so they are safe to return to a client or to log.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, Literal, TypeAlias, TypedDict, cast

from feedback import stages
from feedback.text import clean
from feedback.wording import N_, Choices, Wording

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

STAGE_QUESTIONNAIRES: Final[Mapping[str, str]] = MappingProxyType(
    {stage.id: stage.questionnaire for stage in stages.STAGES}
)

# What a new request asks one recipient at most, on any path (the questionnaires that
# STAGE_QUESTIONNAIRES names; immediate.v1, from before the limit, asked 12).
MAX_ITEMS_PER_REQUEST: Final = 7

NOT_APPLICABLE: Final = "na"

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
    # The action paths (feedback.kinds.PATHS) this item is asked about; empty: every path.
    paths: frozenset[str] = frozenset()

    def counts_as(self, other: Item) -> bool:
        """Whether an answer to this item means what the same answer to ``other`` means:
        same id, construct and answers (wording may differ), so the two pool together."""
        return (self.id, self.construct, self.type, self.option_values, self.min, self.max, self.allow_na) == (
            other.id,
            other.construct,
            other.type,
            other.option_values,
            other.min,
            other.max,
            other.allow_na,
        ) and self.exclusive == other.exclusive

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
            raise _ItemError(N_("Choose one of the listed options, or skip this question."))
        return value

    def _validate_multi(self, value: object) -> list[str]:
        if not isinstance(value, list | tuple):
            raise _ItemError("Send a list of the chosen options.")
        if not value:
            raise _ItemError(N_("Choose at least one option, or skip this question."))
        known = self._option_set
        if not all(isinstance(choice, str) and choice in known for choice in value):
            raise _ItemError(N_("Choose only from the listed options."))
        chosen = set(cast(list[str], list(value)))
        if len(chosen) != len(value):
            raise _ItemError(N_("Choose each option at most once."))
        if len(chosen) > 1 and chosen & self.exclusive:
            names = Choices(option.label for option in self.options if option.value in self.exclusive)
            raise _ItemError(Wording(N_("%(names)s cannot be combined with other options."), names=names))
        return [option for option in self.option_values if option in chosen]

    def _validate_scale(self, value: object) -> int | str:
        if self.allow_na and value == NOT_APPLICABLE:
            return NOT_APPLICABLE
        low, high = cast(int, self.min), cast(int, self.max)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            if self.allow_na:
                scale = N_('Choose a whole number from %(low)s to %(high)s or "%(na)s".')
                raise _ItemError(Wording(scale, low=low, high=high, na=NOT_APPLICABLE))
            raise _ItemError(Wording(N_("Choose a whole number from %(low)s to %(high)s."), low=low, high=high))
        return value


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
    # The questionnaire whose scopes (and so cohorts and views) this one's answers join;
    # itself unless a later version reads as an earlier one (files.load checks it can).
    pools_with: str = ""
    _by_id: dict[str, Item] = field(init=False, repr=False, compare=False, hash=False)  # never handed out

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {item.id: item for item in self.items})
        if not self.pools_with:
            object.__setattr__(self, "pools_with", self.id)

    def items_for(self, path: str) -> tuple[Item, ...]:
        """The items a recipient is asked about an action on this path, in order."""
        return tuple(item for item in self.items if not item.paths or path in item.paths)

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
                errors[key] = exc.args[0]  # a Wording: pages show it in their reader's language
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
            raise InvalidAnswers({"comment": exc.args[0]}) from None

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
            raise _ItemError(N_("The comment contains characters that cannot be stored."))
        text = clean(text, multiline=True)
        if not text:
            raise _ItemError(N_("The comment is empty; leave it out to send no comment."))
        if len(text) > self.comment_max_chars:
            raise _ItemError(
                Wording(N_("Please keep the comment to %(n)s characters or fewer."), n=self.comment_max_chars)
            )
        if not isinstance(audience, str) or audience not in AUDIENCES:
            raise _ItemError(N_("Choose who may read your comment."))
        return {"text": text, "audience": audience}


def _field_name(key: object) -> str:
    """A safe, short error-field name for a submitted key."""
    if not isinstance(key, str) or not key or not key.isprintable():
        return "answers"
    return key[:_FIELD_NAME_MAX]


# Control characters (category Cc: C0, DEL and C1) but newline and tab, and lone
# surrogates, are refused. Refusing them also bounds the encoded size: in compact UTF-8
# JSON every remaining character takes at most four bytes.
_FORBIDDEN_IN_COMMENT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
