"""Response load (feedback/services/load.py) through the group insights API: links sent by
month, answers released, "I'd rather not answer", under the group pool rule."""

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from api.clock import utcnow
from api.extensions import db
from feedback.models import Cohort, FeedbackRequest, Scope
from feedback.services.load import response_load
from tests.conftest import Person, Recipient


def months_ago(n: int) -> date:
    """A day in the month n months before this one."""
    month = utcnow().date().replace(day=1)
    for _ in range(n):
        month = (month - timedelta(days=1)).replace(day=1)
    return month + timedelta(days=9)


def month_label(day: date) -> str:
    return day.strftime("%Y-%m")


class Scenario:
    """A group whose allies sent links in past months, some answered and released."""

    def __init__(self, app: Flask, client: FlaskClient, lead: Person) -> None:
        self.app, self.lead = app, lead
        self.group = lead.create_group()
        self.allies: dict[str, Person] = {}
        self.recipient = Recipient(client)
        for name in ("Ana", "Ben", "Cy", "Dee"):
            person = Person(client, name)
            lead.add(self.group, person)
            self.allies[name] = person

    def send(self, name: str, count: int, month: int) -> list[str]:
        """``name`` asks for ``count`` links about a new action, ``month`` months ago."""
        person = self.allies[name]
        action = person.log_action(self.group)
        tokens = person.ask(action, count=count)
        with self.app.app_context():
            db.session.execute(
                update(FeedbackRequest).where(FeedbackRequest.action_id == action).values(created_on=months_ago(month))
            )
            db.session.commit()
        return tokens

    def release_in(self, month: int) -> None:
        """Date every group release so far ``month`` months ago."""
        with self.app.app_context():
            group_scopes = select(Scope.id).where(Scope.kind == "group", Scope.subject_id == self.group)
            db.session.execute(
                update(Cohort).where(Cohort.scope_id.in_(group_scopes)).values(released_on=months_ago(month))
            )
            db.session.commit()

    def load(self) -> dict[str, Any]:
        response = self.lead.get(f"/api/v1/groups/{self.group}/insights")
        assert response.status_code == 200, response.get_json()
        return dict(response.get_json()["response_load"])


ANSWER = {"wanted": "yes", "felt_recognised": 4}


def build_scenario(app: Flask, client: FlaskClient, lead: Person) -> Scenario:
    """Three months ago only Ana sent links (6); two months ago Ben and Cy sent 3 each; last
    month Ana and Ben sent one each; this month Dee sent 5. Eleven answers to the first
    months' links, two of them "I'd rather not answer", released two months ago."""
    scenario = Scenario(app, client, lead)
    tokens = scenario.send("Ana", 6, month=3) + scenario.send("Ben", 3, month=2) + scenario.send("Cy", 3, month=2)
    for index, token in enumerate(tokens[:-1]):
        answers = {} if index in (0, 7) else ANSWER
        assert scenario.recipient.answer(token, answers).status_code == 202
    scenario.send("Ana", 1, month=1)
    scenario.send("Ben", 1, month=1)
    scenario.send("Dee", 5, month=0)
    scenario.release_in(2)
    return scenario


@pytest.fixture
def scenario(app: Flask, client: FlaskClient, lead: Person) -> Iterator[Scenario]:
    yield build_scenario(app, client, lead)


def test_a_month_when_only_one_ally_sent_links_is_merged_with_the_next(scenario: Scenario) -> None:
    load = scenario.load()
    first = load["periods"][0]
    assert (first["first_month"], first["last_month"]) == (month_label(months_ago(3)), month_label(months_ago(2)))
    assert first["links"] == 12, "Ana's 6 and Ben's and Cy's 3 each: the truth, merged"
    alone = (month_label(months_ago(3)), month_label(months_ago(3)))
    assert alone not in [(p["first_month"], p["last_month"]) for p in load["periods"]], "Ana's month never alone"


def test_released_answers_and_declines_are_counted_in_their_release_month(scenario: Scenario) -> None:
    first = scenario.load()["periods"][0]
    assert first["answers"] == 11 and first["declined"] == 2, "group releases only, not the allies' own"


def test_a_month_with_fewer_than_k_links_is_suppressed(scenario: Scenario) -> None:
    load = scenario.load()
    last = load["periods"][-1]
    assert last == {
        "first_month": month_label(months_ago(1)),
        "last_month": month_label(months_ago(1)),
        "suppressed": True,
        "answers": 0,
        "declined": 0,
    }, "two links from two allies"
    assert len(load["periods"]) == 2


def test_this_month_is_not_counted_until_it_ends(scenario: Scenario) -> None:
    load = scenario.load()
    assert load["as_of"] == utcnow().date().replace(day=1).isoformat()
    assert month_label(utcnow().date()) not in {p["last_month"] for p in load["periods"]}


def test_the_totals_and_rate_cover_only_the_shown_periods(scenario: Scenario) -> None:
    load = scenario.load()
    assert (load["links"], load["answers"], load["declined"]) == (12, 11, 2)
    assert load["response_rate"] == round(11 / 12, 2)


def test_the_load_never_names_an_ally(scenario: Scenario) -> None:
    text = str(scenario.load())
    for person in scenario.allies.values():
        assert person.email not in text and f"'{person.id}'" not in text


def test_two_allies_alone_never_show_however_many_links(app: Flask, client: FlaskClient, lead: Person) -> None:
    """With one ally's links taken away, one ally is left: that ally would be exposed."""
    scenario = Scenario(app, client, lead)
    for month in (3, 2, 1):
        scenario.send("Ana", 20, month=month)
        scenario.send("Ben", 20, month=month)
    load = scenario.load()
    assert [p.get("suppressed") for p in load["periods"]] == [True]
    assert load["links"] == 0 and load["response_rate"] is None


def test_a_shown_period_does_not_change_as_later_months_come_in(app: Flask, client: FlaskClient, lead: Person) -> None:
    scenario = build_scenario(app, client, lead)
    before = scenario.load()["periods"][0]
    with app.app_context():
        later = response_load(db.session, scenario.group, today=utcnow().date() + timedelta(days=62), k=5)
    assert later["periods"][0] == before
    assert later["periods"][-1]["suppressed"] is True, "last month's two links and this month's five from one ally"


def test_the_openapi_document_describes_the_response_load(client: FlaskClient) -> None:
    spec = client.get("/api/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    assert schemas["InsightsOut"]["properties"]["response_load"]["allOf"] == [
        {"$ref": "#/components/schemas/ResponseLoadOut"}
    ]
    assert schemas["ResponseLoadOut"]["properties"]["response_rate"]["nullable"] is True
    assert set(schemas["LoadPeriodOut"]["properties"]) == {
        "first_month",
        "last_month",
        "links",
        "suppressed",
        "answers",
        "declined",
    }
