"""Questionnaire versions read together: answers to immediate.v1 (or followup.v1) links made
before v2 shipped and to v2 links form the same cohorts and the same released figures."""

import pytest
from flask import Flask
from sqlalchemy import update

from api.extensions import session
from feedback.models import FeedbackRequest
from tests.conftest import Person, Recipient, make_due
from tests.integration.test_loop import answer_all, released


def _made_before_v2(app: Flask, action_id: int, stage: str = "immediate") -> None:
    """The action's requests at this stage as they were made while v1 was the current version."""
    first = "immediate.v1" if stage == "immediate" else "followup.v1"
    with app.app_context():
        session().execute(
            update(FeedbackRequest)
            .where(FeedbackRequest.action_id == action_id, FeedbackRequest.stage == stage)
            .values(questionnaire_id=first)
        )
        session().commit()


def _asked(recipient: Recipient, token: str) -> tuple[str, list[str]]:
    """The questionnaire a link asks, and the ids of the questions it asks."""
    questionnaire = recipient.client.get(f"/api/v1/answer/{token}").get_json()["questionnaire"]
    return questionnaire["id"], [item["id"] for item in questionnaire["items"]]


def _links(app: Flask, ally: Person, action: int, stage: str, count: int) -> list[str]:
    """Links for this stage of the action; a follow-up is asked once it has come due."""
    if stage != "immediate":
        ally.ask(action, "immediate", count=1)
        make_due(app, action, stage)
    return ally.ask(action, stage, count=count)


@pytest.mark.parametrize(
    ("stage", "first", "old_answers", "new_answers", "item", "counts"),
    [
        (
            "immediate",
            "immediate.v1",
            {"wanted": "yes", "felt_recognised": 4, "asked_first": "yes"},
            {"wanted": "no", "felt_recognised": 2},
            "wanted",
            {"yes": 3, "no": 2},
        ),
        (
            "followup_30",
            "followup.v1",
            {"lasting_difference": 4, "belong": 3, "results": ["process_change"]},
            {"lasting_difference": 2, "belong": 5},
            "lasting_difference",
            {"4": 3, "2": 2},
        ),
    ],
)
def test_v1_and_v2_answers_release_together_in_one_cohort(
    app: Flask,
    lead: Person,
    ally: Person,
    recipient: Recipient,
    stage: str,
    first: str,
    old_answers: dict[str, object],
    new_answers: dict[str, object],
    item: str,
    counts: dict[str, int],
) -> None:
    """Links mailed before v2 shipped still count, in the same cohort as v2's answers."""
    group = lead.create_group()
    lead.add(group, ally)
    old_action = ally.log_action(group, kind="credit")
    old = _links(app, ally, old_action, stage, 3)
    _made_before_v2(app, old_action, stage)
    new = _links(app, ally, ally.log_action(group, kind="credit"), stage, 2)
    assert _asked(recipient, old[0])[0] == first
    assert _asked(recipient, new[0])[0] == first.replace(".v1", ".v2")

    answer_all(recipient, old, answers=old_answers)
    assert released(ally)["responses"] == 0
    answer_all(recipient, new, answers=new_answers)

    view = released(ally)
    assert (view["responses"], view["cohorts"]) == (5, 1)
    assert set(view["items"]) == {first}, "v2 answers read under the questionnaire they pool with"
    assert view["items"][first][item] == {"answered": 5, "counts": counts}
    assert view["items"][first]["belong" if stage != "immediate" else "felt_recognised"]["answered"] == 5


def test_a_v2_link_asks_only_its_paths_questions(lead: Person, ally: Person, recipient: Recipient) -> None:
    group = lead.create_group()
    lead.add(group, ally)
    (token,) = ally.ask(ally.log_action(group, kind="change_process"), count=1)
    asked = _asked(recipient, token)[1]
    assert "addressed_process" in asked and "felt_recognised" not in asked and len(asked) <= 7
    page = recipient.client.get(f"/r/{token}").get_data(as_text=True)
    assert 'name="item-addressed_process"' in page and 'name="item-felt_recognised"' not in page


@pytest.mark.parametrize(
    ("kind", "asked", "not_asked"),
    [
        ("change_process", {"lasting_difference", "results", "access_change"}, {"can_disagree", "belong"}),
        ("credit", {"lasting_difference", "can_disagree", "belong"}, {"results", "access_change"}),
    ],
)
def test_a_follow_up_link_asks_only_its_paths_questions(
    app: Flask, lead: Person, ally: Person, recipient: Recipient, kind: str, asked: set[str], not_asked: set[str]
) -> None:
    """No "do you feel you belong?" about a process change, no "did it lead to anything
    concrete?" about being credited: in the API's description and on the page."""
    group = lead.create_group()
    lead.add(group, ally)
    (token,) = _links(app, ally, ally.log_action(group, kind=kind), "followup_30", 1)
    questionnaire, items = _asked(recipient, token)
    assert questionnaire == "followup.v2" and asked <= set(items) and not not_asked & set(items)
    assert len(items) <= 7
    page = recipient.client.get(f"/r/{token}").get_data(as_text=True)
    assert all(f'name="item-{item}"' in page for item in asked)
    assert not any(f'name="item-{item}"' in page for item in not_asked)
