"""Questionnaire versions read together: answers to immediate.v1 links made before v2 shipped
and to immediate.v2 links form the same cohorts and the same released figures."""

from flask import Flask
from sqlalchemy import update

from api.extensions import session
from feedback.models import FeedbackRequest
from tests.conftest import Person, Recipient
from tests.integration.test_loop import answer_all, released


def _made_before_v2(app: Flask, action_id: int) -> None:
    """The action's requests as they were made while immediate.v1 was the current version."""
    with app.app_context():
        session().execute(
            update(FeedbackRequest)
            .where(FeedbackRequest.action_id == action_id)
            .values(questionnaire_id="immediate.v1")
        )
        session().commit()


def test_v1_and_v2_answers_release_together_in_one_cohort(
    app: Flask, lead: Person, ally: Person, recipient: Recipient
) -> None:
    group = lead.create_group()
    lead.add(group, ally)
    old_action = ally.log_action(group, kind="credit")
    old = ally.ask(old_action, count=3)
    _made_before_v2(app, old_action)
    new = ally.ask(ally.log_action(group, kind="credit"), count=2)
    assert recipient.client.get(f"/api/v1/answer/{old[0]}").get_json()["questionnaire"]["id"] == "immediate.v1"
    assert recipient.client.get(f"/api/v1/answer/{new[0]}").get_json()["questionnaire"]["id"] == "immediate.v2"

    answer_all(recipient, old, answers={"wanted": "yes", "felt_recognised": 4, "asked_first": "yes"})
    assert released(ally)["responses"] == 0
    answer_all(recipient, new, answers={"wanted": "no", "felt_recognised": 2})

    view = released(ally)
    assert (view["responses"], view["cohorts"]) == (5, 1)
    assert set(view["items"]) == {"immediate.v1"}, "v2 answers read under the questionnaire they pool with"
    items = view["items"]["immediate.v1"]
    assert items["wanted"] == {"answered": 5, "counts": {"yes": 3, "no": 2}}
    assert items["felt_recognised"]["answered"] == 5


def test_a_v2_link_asks_only_its_paths_questions(lead: Person, ally: Person, recipient: Recipient) -> None:
    group = lead.create_group()
    lead.add(group, ally)
    (token,) = ally.ask(ally.log_action(group, kind="change_process"), count=1)
    asked = [
        item["id"] for item in recipient.client.get(f"/api/v1/answer/{token}").get_json()["questionnaire"]["items"]
    ]
    assert "addressed_process" in asked and "felt_recognised" not in asked and len(asked) <= 7
    page = recipient.client.get(f"/r/{token}").get_data(as_text=True)
    assert 'name="item-addressed_process"' in page and 'name="item-felt_recognised"' not in page
