"""Response load (feedback/services/load.py) through the group insights API: links sent by
month, answers released, "I'd rather not answer", under the group pool rule."""

from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api.clock import utcnow
from api.documents import LoadPeriodOut
from api.extensions import db
from feedback.services.load import response_load
from tests.conftest import Person
from tests.integration.load_scenario import Scenario, build_scenario, month_label, months_ago


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


def test_the_load_holds_only_group_totals_never_an_ally(scenario: Scenario) -> None:
    load = scenario.load()
    assert set(load) == {"as_of", "periods", "links", "answers", "declined", "response_rate"}
    fields = {"first_month", "last_month", "links", "suppressed", "answers", "declined"}
    assert all(set(period) <= fields for period in load["periods"]), "nothing per ally in a period"
    text = str(load)
    assert not any(person.email in text or name in text for name, person in scenario.allies.items())


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
    assert LoadPeriodOut().dump(later.periods[0]) == before
    assert later.periods[-1].suppressed, "last month's two links and this month's five from one ally"


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
