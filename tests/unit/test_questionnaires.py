"""Questionnaires: loading, versions that pool together, questions by path, answer and comment validation, padding."""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
from collections.abc import Callable
from importlib import resources
from itertools import combinations
from typing import Any, cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feedback import kinds
from feedback.questionnaires import (
    AUDIENCES,
    CONSTRUCTS,
    MAX_ITEMS_PER_REQUEST,
    STAGE_QUESTIONNAIRES,
    Answers,
    Comment,
    InvalidAnswers,
    Item,
    Questionnaire,
    QuestionnaireFormatError,
    UnknownQuestionnaire,
    for_stage,
    load,
    parse_questionnaire,
)

# Every packaged questionnaire: those new requests use, and earlier versions whose pending
# and released answers still read.
QUESTIONNAIRE_IDS = sorted(set(STAGE_QUESTIONNAIRES.values()) | {"immediate.v1", "followup.v1"})
PREFERENCES = (
    "speak_up_for_me",
    "make_room",
    "ask_privately_first",
    "fix_process",
    "connect_me",
    "let_me_handle",
)
VISIBILITY = ("public", "private", "depends")


def _scale(allow_na: bool = False) -> tuple[object, ...]:
    return ("scale", 1, 5, allow_na)


# DESIGN §5, item by item: (id, construct, shape).
DESIGN_ITEMS: dict[str, list[tuple[str, str, tuple[object, ...]]]] = {
    "immediate.v1": [
        (
            "confirmed",
            "confirmation",
            ("choice", "yes", "partly", "no", "didnt_notice"),
        ),
        ("wanted", "wanted", ("choice", "yes", "partly", "no", "unsure")),
        ("asked_first", "consent", ("choice", "yes", "no", "not_needed")),
        ("felt_recognised", "signaling", _scale()),
        ("seen_capable", "signaling", _scale()),
        ("safer_to_speak", "signaling", _scale()),
        ("changed_treatment", "mitigation", _scale(allow_na=True)),
        ("gave_access", "mitigation", _scale(allow_na=True)),
        (
            "addressed_process",
            "mitigation",
            ("choice", "yes", "partly", "no", "dont_know"),
        ),
        (
            "downsides",
            "backfire",
            (
                "multi",
                ("unwanted_attention", "spoken_for", "looked_rescued", "none"),
                ("none",),
            ),
        ),
        ("prefer_next", "preference", ("choice", *PREFERENCES)),
        ("recognition", "visibility_preference", ("choice", *VISIBILITY)),
    ],
    "advice.v1": [
        ("want", "preference", ("choice", *PREFERENCES)),
        ("recognition", "visibility_preference", ("choice", *VISIBILITY)),
    ],
    "followup.v1": [
        ("lasting_difference", "lasting", _scale()),
        (
            "recurred",
            "recurrence",
            ("choice", "not_at_all", "less", "same", "more", "not_applicable"),
        ),
        (
            "results",
            "outcomes",
            (
                "multi",
                (
                    "introduction",
                    "assignment",
                    "visibility",
                    "sponsorship",
                    "process_change",
                    "nothing_yet",
                ),
                ("nothing_yet",),
            ),
        ),
        ("ally_checked_back", "ally_checked_back", ("choice", "yes", "no", "not_sure")),
        ("can_disagree", "voice", _scale()),
        ("belong", "belonging", _scale()),
        ("access_change", "access", ("choice", "worse", "same", "better")),
    ],
}

DESIGN_ITEMS["immediate.v2"] = DESIGN_ITEMS["immediate.v1"]  # the same items, asked by path
DESIGN_ITEMS["followup.v2"] = DESIGN_ITEMS["followup.v1"]

FULL_IMMEDIATE = {
    "confirmed": "partly",
    "wanted": "yes",
    "asked_first": "not_needed",
    "felt_recognised": 4,
    "seen_capable": 5,
    "safer_to_speak": 1,
    "changed_treatment": "na",
    "gave_access": 3,
    "addressed_process": "dont_know",
    "downsides": ["unwanted_attention", "looked_rescued"],
    "prefer_next": "make_room",
    "recognition": "depends",
}


def _shape(item: Item) -> tuple[object, ...]:
    if item.type == "scale":
        return ("scale", item.min, item.max, item.allow_na)
    if item.type == "multi":
        exclusive = tuple(v for v in item.option_values if v in item.exclusive)
        return ("multi", item.option_values, exclusive)
    return ("choice", *item.option_values)


def _encoded(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _plaintext(answers: object, comment: object) -> bytes:
    """The envelope plaintext exactly as DESIGN §4 builds it, before padding."""
    return _encoded({"v": 1, "answers": answers, "comment": comment, "pad": ""})


def _valid_values(questionnaire: Questionnaire, item: Item) -> list[object]:
    """Every value the validator accepts for an item (multi: every accepted subset)."""
    if item.type == "choice":
        return list(item.option_values)
    if item.type == "scale":
        assert item.min is not None
        assert item.max is not None
        points: list[object] = list(range(item.min, item.max + 1))
        return [*points, "na"] if item.allow_na else points
    accepted: list[object] = []
    for size in range(1, len(item.options) + 1):
        for subset in combinations(item.option_values, size):
            try:
                questionnaire.validate_answers({item.id: list(subset)})
            except InvalidAnswers:
                continue
            accepted.append(list(subset))
    return accepted


def _longest_answers(questionnaire: Questionnaire) -> dict[str, object]:
    """Answers to every item, each with the value whose JSON encoding is longest."""
    return {
        item.id: max(_valid_values(questionnaire, item), key=lambda v: len(_encoded(v))) for item in questionnaire.items
    }


def _raw_questionnaire(questionnaire_id: str) -> dict[str, Any]:
    text = resources.files("feedback.questionnaires").joinpath(f"{questionnaire_id}.json").read_text(encoding="utf-8")
    return cast(dict[str, Any], json.loads(text))


def _raw_item(data: dict[str, Any], item_id: str) -> dict[str, Any]:
    (item,) = (item for item in data["items"] if item["id"] == item_id)
    return cast(dict[str, Any], item)


@pytest.fixture
def immediate() -> Questionnaire:
    return load("immediate.v1")


# --- Loading --------------------------------------------------------------------------


@pytest.mark.parametrize("stage", sorted(STAGE_QUESTIONNAIRES))
def test_every_request_stage_has_a_questionnaire(stage: str) -> None:
    questionnaire = for_stage(stage)
    assert questionnaire.id == STAGE_QUESTIONNAIRES[stage]
    assert questionnaire.items


def test_both_follow_up_stages_use_the_follow_up_questionnaire() -> None:
    assert for_stage("followup_30") is for_stage("followup_90")
    assert for_stage("followup_30").stage == "followup"


def test_every_packaged_questionnaire_file_loads() -> None:
    package = resources.files("feedback.questionnaires")
    ids = sorted(entry.name.removesuffix(".json") for entry in package.iterdir() if entry.name.endswith(".json"))
    assert ids == QUESTIONNAIRE_IDS
    for questionnaire_id in ids:
        assert load(questionnaire_id).id == questionnaire_id


@pytest.mark.parametrize("questionnaire_id", ["nope.v1", "immediate.v9", "../immediate.v1", "immediate", ""])
def test_unknown_questionnaire_ids_raise_unknown_questionnaire(
    questionnaire_id: str,
) -> None:
    with pytest.raises(UnknownQuestionnaire):
        load(questionnaire_id)


@pytest.mark.parametrize("stage", ["followup", "later", ""])
def test_unknown_stages_raise_a_key_error(stage: str) -> None:
    with pytest.raises(KeyError, match="stage"):
        for_stage(stage)


def test_asking_for_an_unknown_item_raises_key_error(immediate: Questionnaire) -> None:
    with pytest.raises(KeyError):
        immediate.item("favourite_colour")


@pytest.mark.parametrize("questionnaire_id", QUESTIONNAIRE_IDS)
def test_items_are_those_of_design_section_5(questionnaire_id: str) -> None:
    questionnaire = load(questionnaire_id)
    actual = [(item.id, item.construct, _shape(item)) for item in questionnaire.items]
    assert actual == DESIGN_ITEMS[questionnaire_id]
    assert all(item.construct in CONSTRUCTS for item in questionnaire.items)


def test_advice_offers_the_same_choices_as_next_time_prefer() -> None:
    advice, immediate = load("advice.v1"), load("immediate.v1")
    assert advice.item("want").options == immediate.item("prefer_next").options


@pytest.mark.parametrize("questionnaire_id", QUESTIONNAIRE_IDS)
def test_every_comment_allows_1000_characters(questionnaire_id: str) -> None:
    assert load(questionnaire_id).comment_max_chars == 1000


# --- Loader validation ----------------------------------------------------------------

Mutation = Callable[[dict[str, Any]], None]


def _set(key: str, value: object) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        data[key] = value

    return mutate


def _set_item(item_id: str, key: str, value: object) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        _raw_item(data, item_id)[key] = value

    return mutate


def _duplicate_item_id(data: dict[str, Any]) -> None:
    data["items"][1]["id"] = data["items"][0]["id"]


def _drop_comment(data: dict[str, Any]) -> None:
    del data["comment"]


@pytest.mark.parametrize(
    ("mutate", "complaint"),
    [
        (_duplicate_item_id, "distinct"),
        (_set_item("confirmed", "options", []), "options must not be empty"),
        (_set_item("felt_recognised", "max", 1), "min < max"),
        (_set_item("downsides", "exclusive", ["never"]), "exclusive"),
        (_set_item("wanted", "construct", "happiness"), "construct"),
        (_set_item("wanted", "type", "text"), "type"),
        (_set_item("wanted", "allow_NA", True), "unknown allow_NA"),
        (_set_item("felt_recognised", "labels", {"7": "Off the scale"}), "unknown 7"),
        (_set_item("felt_recognised", "labels", {"na": "Doesn't apply"}), "unknown na"),
        (_set_item("felt_recognised", "allow_na", "yes"), "allow_na"),
        (_set_item("felt_recognised", "min", True), "integer"),
        (_set("pad_to", 4000), "multiple of 256"),
        (_set("id", "immediate.v2"), "immediate.v1"),
        (_set("items", []), "items must not be empty"),
        (_drop_comment, "lacks comment"),
    ],
)
def test_loader_rejects_malformed_questionnaires(mutate: Mutation, complaint: str) -> None:
    data = copy.deepcopy(_raw_questionnaire("immediate.v1"))
    mutate(data)
    with pytest.raises(QuestionnaireFormatError, match=complaint) as raised:
        parse_questionnaire(data, source="broken.json")
    assert str(raised.value).startswith("broken.json: ")


def test_loader_accepts_the_unchanged_data() -> None:
    data = _raw_questionnaire("immediate.v1")
    assert parse_questionnaire(data) == load("immediate.v1")


# --- Versions that pool together, questions by path -----------------------------------


def test_a_new_request_asks_at_most_seven_questions_on_every_path() -> None:
    for stage in STAGE_QUESTIONNAIRES:
        for path in kinds.PATHS:
            assert 1 <= len(for_stage(stage).items_for(path)) <= MAX_ITEMS_PER_REQUEST, (stage, path)


def test_immediate_requests_ask_signaling_questions_only_about_signaling() -> None:
    """No "did you feel recognised?" about a process change, and no "did it change the
    process?" about amplifying someone."""
    immediate = for_stage("immediate")
    asked = {path: {item.construct for item in immediate.items_for(path)} for path in kinds.PATHS}
    assert "signaling" in asked[kinds.SIGNALING]
    assert "mitigation" not in asked[kinds.SIGNALING]
    for path in kinds.MITIGATION_PATHS:
        assert "mitigation" in asked[path]
        assert "signaling" not in asked[path]
    assert "addressed_process" in {item.id for item in immediate.items_for(kinds.STRUCTURAL)}
    assert "gave_access" in {item.id for item in immediate.items_for(kinds.ACCESS)}


def test_follow_ups_ask_about_feelings_only_after_signaling_and_about_outcomes_only_after_mitigation() -> None:
    """No "do you feel you belong?" months after a process change, and no "did it lead to
    an assignment?" months after someone credited your idea."""
    followup = for_stage("followup_30")
    asked = {path: {item.construct for item in followup.items_for(path)} for path in kinds.PATHS}
    felt, barriers = {"voice", "belonging"}, {"outcomes", "access"}
    assert felt <= asked[kinds.SIGNALING] and not barriers & asked[kinds.SIGNALING]
    assert barriers <= asked[kinds.STRUCTURAL] and not felt & asked[kinds.STRUCTURAL]
    assert barriers <= asked[kinds.ACCESS] and not felt & asked[kinds.ACCESS]
    for path in kinds.PATHS:  # what "does it last?" compares is asked after every action
        assert {"lasting", "recurrence", "ally_checked_back"} <= asked[path], path


@pytest.mark.parametrize(("stage", "first_id"), [("immediate", "immediate.v1"), ("followup_30", "followup.v1")])
def test_the_new_versions_pool_with_the_first(stage: str, first_id: str) -> None:
    current, first = for_stage(stage), load(first_id)
    assert (current.pools_with, first.pools_with) == (first_id, first_id)
    assert current.id != first_id and all(item.counts_as(first.item(item.id)) for item in current.items)
    # Any answer the new version accepts, the first accepts as the same answer.
    longest = _longest_answers(current)
    assert first.validate_answers(current.validate_answers(longest)) == longest


@pytest.mark.parametrize(
    ("mutate", "complaint"),
    [
        (_set_item("confirmed", "options", [{"value": "yes", "label": "Yes"}]), "must count as immediate.v1"),
        (_set_item("felt_recognised", "max", 7), "must count as immediate.v1"),
        (_set_item("wanted", "construct", "consent"), "must count as immediate.v1"),
        (_set_item("wanted", "id", "wanted_now"), "must count as immediate.v1"),
        (_set("pools_with", "advice.v1"), "same stage"),
        (_set("pools_with", "immediate.v9"), "names no questionnaire"),
        (_set_item("wanted", "paths", ["everywhere"]), "paths must list"),
        (_set_item("wanted", "paths", []), "paths must list"),
    ],
)
def test_a_version_that_pools_with_another_must_mean_the_same(mutate: Mutation, complaint: str) -> None:
    data = copy.deepcopy(_raw_questionnaire("immediate.v2"))
    mutate(data)
    with pytest.raises(QuestionnaireFormatError, match=complaint):
        parse_questionnaire(data, source="broken.json")


def test_a_version_may_reword_what_it_pools() -> None:
    data = copy.deepcopy(_raw_questionnaire("immediate.v2"))
    _raw_item(data, "wanted")["prompt"] = "Did you want help like this?"
    assert parse_questionnaire(data).item("wanted").prompt == "Did you want help like this?"


# --- Answers --------------------------------------------------------------------------


@pytest.mark.parametrize("questionnaire_id", QUESTIONNAIRE_IDS)
def test_answering_nothing_is_valid(questionnaire_id: str) -> None:
    assert load(questionnaire_id).validate_answers({}) == {}


@pytest.mark.parametrize("item_id", [item_id for item_id, _, _ in DESIGN_ITEMS["immediate.v1"]])
def test_any_single_item_can_be_skipped(immediate: Questionnaire, item_id: str) -> None:
    answers = {key: value for key, value in FULL_IMMEDIATE.items() if key != item_id}
    assert immediate.validate_answers(answers) == answers


def test_full_valid_answers_come_back_unchanged(immediate: Questionnaire) -> None:
    submitted = copy.deepcopy(FULL_IMMEDIATE)
    validated = immediate.validate_answers(submitted)
    assert validated == FULL_IMMEDIATE
    assert validated is not submitted
    assert immediate.validate_answers(validated) == validated


def test_multi_answers_come_back_in_option_order(immediate: Questionnaire) -> None:
    validated = immediate.validate_answers({"downsides": ["looked_rescued", "unwanted_attention"]})
    assert validated == {"downsides": ["unwanted_attention", "looked_rescued"]}


def test_an_exclusive_option_alone_is_valid(immediate: Questionnaire) -> None:
    assert immediate.validate_answers({"downsides": ["none"]}) == {"downsides": ["none"]}


def test_not_applicable_is_accepted_where_the_scale_allows_it(
    immediate: Questionnaire,
) -> None:
    answers = {"changed_treatment": "na", "gave_access": "na"}
    assert immediate.validate_answers(answers) == answers


@pytest.mark.parametrize(
    ("item_id", "value"),
    [
        ("confirmed", "maybe"),
        ("confirmed", 1),
        ("confirmed", ["yes"]),
        ("confirmed", None),
        ("felt_recognised", 0),
        ("felt_recognised", 6),
        ("felt_recognised", True),
        ("felt_recognised", 3.0),
        ("felt_recognised", "3"),
        ("felt_recognised", "na"),
        ("changed_treatment", "n/a"),
        ("downsides", ["nope"]),
        ("downsides", ["spoken_for", "spoken_for"]),
        ("downsides", ["none", "spoken_for"]),
        ("downsides", "spoken_for"),
        ("downsides", []),
        ("downsides", [1]),
        ("favourite_colour", "blue"),
    ],
)
def test_invalid_answers_are_rejected_naming_the_item(immediate: Questionnaire, item_id: str, value: object) -> None:
    with pytest.raises(InvalidAnswers) as raised:
        immediate.validate_answers({"wanted": "yes", item_id: value})
    assert list(raised.value.fields) == [item_id]
    assert raised.value.fields[item_id]


@pytest.mark.parametrize("answers", [None, [], "yes", 3, [("confirmed", "yes")]])
def test_answers_that_are_not_an_object_are_rejected(immediate: Questionnaire, answers: object) -> None:
    with pytest.raises(InvalidAnswers) as raised:
        immediate.validate_answers(answers)
    assert list(raised.value.fields) == ["answers"]


def test_every_invalid_item_is_reported_at_once(immediate: Questionnaire) -> None:
    with pytest.raises(InvalidAnswers) as raised:
        immediate.validate_answers({"confirmed": "maybe", "seen_capable": 9, "x": 1})
    assert set(raised.value.fields) == {"confirmed", "seen_capable", "x"}


def test_error_messages_never_repeat_submitted_values(immediate: Questionnaire) -> None:
    secret = "my manager said something awful"
    with pytest.raises(InvalidAnswers) as raised:
        immediate.validate_answers({"confirmed": secret, "downsides": [secret]})
    assert secret not in str(raised.value)
    assert all(secret not in message for message in raised.value.fields.values())


# --- Comments -------------------------------------------------------------------------


def test_no_comment_is_valid(immediate: Questionnaire) -> None:
    assert immediate.validate_comment(None) is None


@pytest.mark.parametrize("audience", AUDIENCES)
def test_each_audience_can_be_chosen(immediate: Questionnaire, audience: str) -> None:
    comment = immediate.validate_comment({"text": "Thank you", "audience": audience})
    assert comment == {"text": "Thank you", "audience": audience}


def test_comment_is_stripped_and_line_breaks_normalised(
    immediate: Questionnaire,
) -> None:
    comment = immediate.validate_comment({"text": "  first\r\nsecond\rthird\n\tindented  \n", "audience": "lead"})
    assert comment == {"text": "first\nsecond\nthird\n\tindented", "audience": "lead"}


def test_a_comment_of_max_chars_astral_characters_is_accepted(
    immediate: Questionnaire,
) -> None:
    text = "\N{GRINNING FACE}" * immediate.comment_max_chars
    comment = immediate.validate_comment({"text": text, "audience": "both"})
    assert comment is not None
    assert comment["text"] == text


@pytest.mark.parametrize(
    "comment",
    [
        "just text",
        ["text", "ally"],
        {"text": "hello"},
        {"text": "hello", "audience": "everyone"},
        {"text": "hello", "audience": None},
        {"text": 5, "audience": "ally"},
        {"text": None, "audience": "ally"},
        {"text": " \n\t ", "audience": "ally"},
        {"text": "x" * 1001, "audience": "ally"},
        {"text": "a\x00b", "audience": "ally"},
        {"text": "a\x1bb", "audience": "ally"},
        {"text": "a\x7fb", "audience": "ally"},
        {"text": "a\x85b", "audience": "ally"},
        {"text": "a\ud800b", "audience": "ally"},
        {"text": "hello", "audience": "ally", "name": "Sam"},
    ],
)
def test_invalid_comments_are_rejected_naming_the_comment(immediate: Questionnaire, comment: object) -> None:
    with pytest.raises(InvalidAnswers) as raised:
        immediate.validate_comment(comment)
    assert list(raised.value.fields) == ["comment"]


# --- Padding --------------------------------------------------------------------------


@pytest.mark.parametrize("questionnaire_id", QUESTIONNAIRE_IDS)
def test_worst_case_plaintext_fits_pad_to(questionnaire_id: str) -> None:
    questionnaire = load(questionnaire_id)
    answers = questionnaire.validate_answers(_longest_answers(questionnaire))
    # Four UTF-8 bytes per character is the most any accepted character costs;
    # the characters JSON escapes to six bytes (controls, lone surrogates) are refused.
    comment = questionnaire.validate_comment(
        {
            "text": "\U0010ffff" * questionnaire.comment_max_chars,
            "audience": max(AUDIENCES, key=len),
        }
    )
    assert len(_plaintext(answers, comment)) <= questionnaire.pad_to


@pytest.mark.parametrize("questionnaire_id", QUESTIONNAIRE_IDS)
def test_pad_to_is_the_smallest_multiple_of_256_that_fits(
    questionnaire_id: str,
) -> None:
    questionnaire = load(questionnaire_id)
    answers = _longest_answers(questionnaire)
    comment = {
        "text": "\U0010ffff" * questionnaire.comment_max_chars,
        "audience": "both",
    }
    worst = len(_plaintext(answers, comment))
    assert questionnaire.pad_to % 256 == 0
    assert questionnaire.pad_to - 256 < worst <= questionnaire.pad_to


@pytest.mark.parametrize("questionnaire_id", QUESTIONNAIRE_IDS)
@pytest.mark.parametrize(
    "char",
    ['"', "\\", "\n", "\t", "a", "\u00e9", "\u20ac", "\u2028", "\ufffe", "\U0001f600"],
)
def test_a_full_comment_of_any_accepted_character_fits_pad_to(questionnaire_id: str, char: str) -> None:
    questionnaire = load(questionnaire_id)
    text = "a" + char * (questionnaire.comment_max_chars - 2) + "a"
    comment = questionnaire.validate_comment({"text": text, "audience": "none"})
    plaintext = _plaintext(_longest_answers(questionnaire), comment)
    assert len(plaintext) <= questionnaire.pad_to


# --- Properties -----------------------------------------------------------------------

_json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=20), children, max_size=5),
    max_leaves=20,
)


def _near_miss_answers(questionnaire: Questionnaire) -> st.SearchStrategy[object]:
    """Objects keyed mostly by real item ids, with plausible and junk values."""
    option_values = sorted({v for item in questionnaire.items for v in item.option_values})
    value = st.one_of(
        _json_like,
        st.sampled_from(option_values),
        st.integers(min_value=-1, max_value=7),
        st.just("na"),
        st.lists(st.sampled_from(option_values), max_size=4),
    )
    key = st.sampled_from([item.id for item in questionnaire.items]) | st.text(max_size=10)
    return st.dictionaries(key, value, max_size=len(questionnaire.items) + 2)


def _valid_answers(
    questionnaire: Questionnaire,
) -> st.SearchStrategy[dict[str, object]]:
    optional = {item.id: st.sampled_from(_valid_values(questionnaire, item)) for item in questionnaire.items}
    return st.fixed_dictionaries({}, optional=optional)


@pytest.mark.parametrize("questionnaire_id", QUESTIONNAIRE_IDS)
@given(data=st.data())
def test_validate_answers_raises_only_invalid_answers(questionnaire_id: str, data: st.DataObject) -> None:
    questionnaire = load(questionnaire_id)
    answers = data.draw(_json_like | _near_miss_answers(questionnaire))
    outcome: Answers | InvalidAnswers
    try:
        outcome = questionnaire.validate_answers(answers)
    except InvalidAnswers as exc:
        outcome = exc
    if isinstance(outcome, InvalidAnswers):
        assert outcome.fields
    else:
        assert questionnaire.validate_answers(outcome) == outcome


@pytest.mark.parametrize("questionnaire_id", QUESTIONNAIRE_IDS)
@given(
    data=st.data(),
    text=st.text(max_size=1000),
    audience=st.sampled_from(AUDIENCES) | st.text(max_size=5),
)
def test_any_accepted_response_fits_pad_to(
    questionnaire_id: str, data: st.DataObject, text: str, audience: str
) -> None:
    questionnaire = load(questionnaire_id)
    answers = questionnaire.validate_answers(data.draw(_valid_answers(questionnaire)))
    comment: Comment | None = None
    with contextlib.suppress(InvalidAnswers):
        comment = questionnaire.validate_comment({"text": text, "audience": audience})
    assert len(_plaintext(answers, comment)) <= questionnaire.pad_to


# A published questionnaire is part of every pending envelope's meaning: answers sealed
# against it are checked against it at release. Changing one in place would turn pending
# answers invalid, so a change needs a new version file (v2) and a new digest here.
PUBLISHED = {
    "advice.v1.json": "994459ceeffc044403dbe8a3b79c943e73bf8f58913fc81bcdbcd5d4b9d48b0e",
    "followup.v1.json": "eee62cda93f0232b97619a5abd86c083217421f26e04d24f8b64d27b07be036c",
    "followup.v2.json": "cfb86876fbbbb28aa5b7646f5db0ae0fda9710a803c2cdca8eb0aca84c9d1461",
    "immediate.v1.json": "64e103959bf8bbe6ecfff13e3500cd1d8a9e032057935a5d5a9126a9f21889a3",
    "immediate.v2.json": "56cf5f3558095e4bb824f471bac2366a66eca3ef09fc56fa12ca819f1e4e8b45",
}


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_questionnaires_never_change_in_place(name: str) -> None:
    data = (resources.files("feedback.questionnaires") / name).read_bytes()
    assert hashlib.sha256(data).hexdigest() == PUBLISHED[name], f"{name} changed: publish a new version instead"
