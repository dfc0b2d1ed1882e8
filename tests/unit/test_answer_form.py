"""The recipient page's no-JavaScript form, read as a browser would seal it."""

import pytest

from feedback.questionnaires import InvalidAnswers, Questionnaire, load
from web.answer_form import parse_form


@pytest.fixture
def immediate() -> Questionnaire:
    return load("immediate.v1")


def test_an_empty_form_means_nothing_answered(immediate: Questionnaire) -> None:
    assert parse_form(immediate, {}) == ({}, None)


def test_a_filled_form_gives_typed_answers_and_the_comment(
    immediate: Questionnaire,
) -> None:
    form = {
        "item-confirmed": ["yes"],
        "item-felt_recognised": ["4"],
        "item-gave_access": ["na"],
        "item-downsides": ["looked_rescued", "spoken_for"],
        "comment": ["Ask me first next time.\r\nThanks."],
        "audience": ["ally"],
    }
    answers, comment = parse_form(immediate, form)
    assert answers == {
        "confirmed": "yes",
        "felt_recognised": 4,
        "gave_access": "na",
        "downsides": ["spoken_for", "looked_rescued"],
    }
    assert comment == {"text": "Ask me first next time.\nThanks.", "audience": "ally"}


def test_blank_form_values_mean_skipped(immediate: Questionnaire) -> None:
    form = {
        "item-confirmed": [""],
        "item-felt_recognised": ["  "],
        "item-downsides": ["", "spoken_for"],
        "comment": ["   "],
        "audience": ["lead"],
    }
    assert parse_form(immediate, form) == ({"downsides": ["spoken_for"]}, None)


def test_fields_that_are_not_items_are_ignored(immediate: Questionnaire) -> None:
    form = {"csrf_token": ["abc"], "submit": ["Send"], "item-wanted": ["no"]}
    assert parse_form(immediate, form) == ({"wanted": "no"}, None)


def test_declining_ignores_everything_else_in_the_form(
    immediate: Questionnaire,
) -> None:
    form = {
        "decline": ["1"],
        "item-confirmed": ["not-an-option"],
        "comment": ["hello"],
        "audience": ["ally"],
    }
    assert parse_form(immediate, form) == ({}, None)


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"item-confirmed": ["yes", "no"]}, "confirmed"),
        ({"item-felt_recognised": ["four"]}, "felt_recognised"),
        ({"item-felt_recognised": ["4.0"]}, "felt_recognised"),
        ({"item-felt_recognised": ["na"]}, "felt_recognised"),
        ({"item-felt_recognised": ["\u0664"]}, "felt_recognised"),
        ({"item-downsides": ["none", "spoken_for"]}, "downsides"),
        ({"item-favourite_colour": ["blue"]}, "favourite_colour"),
        ({"comment": ["Thanks"]}, "comment"),
        ({"comment": ["Thanks"], "audience": ["everyone"]}, "comment"),
        ({"comment": ["Thanks", "again"], "audience": ["ally"]}, "comment"),
    ],
)
def test_invalid_forms_are_rejected_naming_the_field(
    immediate: Questionnaire, form: dict[str, list[str]], field: str
) -> None:
    with pytest.raises(InvalidAnswers) as raised:
        parse_form(immediate, form)
    assert list(raised.value.fields) == [field]


def test_form_errors_for_items_and_comment_are_reported_together(
    immediate: Questionnaire,
) -> None:
    form = {"item-confirmed": ["maybe"], "item-seen_capable": ["9"], "comment": ["Hi"]}
    with pytest.raises(InvalidAnswers) as raised:
        parse_form(immediate, form)
    assert set(raised.value.fields) == {"confirmed", "seen_capable", "comment"}
