"""What the answer API tells a client about a questionnaire: enough to render it."""

import json

import pytest

from api.resources.answer.questionnaire import document
from feedback import kinds
from feedback.questionnaires import AUDIENCES, STAGE_QUESTIONNAIRES, Questionnaire, load

QUESTIONNAIRE_IDS = sorted(set(STAGE_QUESTIONNAIRES.values()) | {"immediate.v1"})


@pytest.fixture
def immediate() -> Questionnaire:
    return load("immediate.v1")


@pytest.mark.parametrize("questionnaire_id", QUESTIONNAIRE_IDS)
def test_public_form_has_what_a_client_needs_to_render(questionnaire_id: str) -> None:
    questionnaire = load(questionnaire_id)
    public = json.loads(json.dumps(document(questionnaire, kinds.SIGNALING)))
    assert public["id"] == questionnaire_id
    assert public["version"] == questionnaire.version
    assert public["title"]
    assert public["intro"]
    assert public["comment"] == {
        "prompt": questionnaire.comment_prompt,
        "max_chars": 1000,
    }
    assert [a["value"] for a in public["audiences"]] == list(AUDIENCES)
    assert all(a["label"] for a in public["audiences"])
    assert [item["id"] for item in public["items"]] == [i.id for i in questionnaire.items_for(kinds.SIGNALING)]
    for item in public["items"]:
        assert item["prompt"]
        assert item["type"] in {"choice", "multi", "scale"}
        if item["type"] == "scale":
            assert item["min"] < item["max"]
            assert isinstance(item["allow_na"], bool)
            assert set(item["labels"]) <= {"1", "2", "3", "4", "5", "na"}
        else:
            assert all(o["value"] and o["label"] for o in item["options"])


def test_public_form_lists_exclusive_options_of_multi_items(
    immediate: Questionnaire,
) -> None:
    public = document(immediate, kinds.SIGNALING)
    items = public["items"]
    assert isinstance(items, list)
    (downsides,) = (item for item in items if item["id"] == "downsides")
    assert downsides["exclusive"] == ["none"]
