"""Advice before acting: an ally logs what they are thinking of doing (no day), asks for advice,
and marks it done later; only then can they ask whether it helped. Recipients read "before they
act", never a day it happened."""

from datetime import date, timedelta
from typing import Any

from flask import Flask

from tests.conftest import Person, inbox, outbox
from tests.integration.test_web_ally import WebAlly, group_with

TODAY = date.today().isoformat()


def plan(ally: Person, group: int, summary: str = "Suggest Priya leads the next design review") -> dict[str, Any]:
    body = {"group_id": group, "kind": "sponsor", "summary": summary, "visibility": "public"}
    response = ally.post("/api/v1/actions", body)
    assert response.status_code == 201, response.get_json()
    return dict(response.get_json())


def test_a_planned_action_has_no_day_and_asks_only_for_advice(lead: Person, ally: Person) -> None:
    group = lead.create_group()
    lead.add(group, ally)
    action = plan(ally, group)
    assert action["planned"] is True and action["occurred_on"] is None
    refused = ally.post(f"/api/v1/actions/{action['id']}/requests", {"stage": "immediate", "count": 1})
    assert refused.status_code == 400
    assert "mark it done" in refused.get_json()["error"]["fields"]["stage"]
    (token,) = ally.ask(action["id"], stage="advice", count=1)
    page = ally.client.get(f"/r/{token}").get_data(as_text=True)
    assert "thinking of doing this" in page and "before they act" in page
    assert "says that on" not in page, "a plan has no day it happened"
    (email,) = [m for m in outbox(ally.client.application) if token in m.get_content()]
    assert "advice before acting" in email["Subject"]
    listed = ally.get("/api/v1/actions").get_json()
    assert [a["planned"] for a in listed] == [True]


def test_marking_it_done_opens_did_it_help(lead: Person, ally: Person) -> None:
    group = lead.create_group()
    lead.add(group, ally)
    action = plan(ally, group)
    done = ally.post(f"/api/v1/actions/{action['id']}/done", {"occurred_on": TODAY})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["planned"] is False and done.get_json()["occurred_on"] == TODAY
    (token,) = ally.ask(action["id"], stage="immediate", count=1)
    assert "says that on" in ally.client.get(f"/r/{token}").get_data(as_text=True)
    again = ally.post(f"/api/v1/actions/{action['id']}/done", {"occurred_on": TODAY})
    assert again.status_code == 400 and "occurred_on" in again.get_json()["error"]["fields"]


def test_a_done_day_in_the_future_or_on_another_allys_action_is_refused(lead: Person, ally: Person) -> None:
    group = lead.create_group()
    lead.add(group, ally)
    action = plan(ally, group)
    later = (date.today() + timedelta(days=5)).isoformat()
    assert ally.post(f"/api/v1/actions/{action['id']}/done", {"occurred_on": later}).status_code == 400
    assert ally.post(f"/api/v1/actions/{action['id']}/done", {}).status_code == 400
    assert lead.post(f"/api/v1/actions/{action['id']}/done", {"occurred_on": TODAY}).status_code == 404


def test_on_the_web_a_plan_is_logged_without_a_day_and_marked_done_later(app: Flask) -> None:
    robin = WebAlly(app)
    group = group_with(app, robin)
    form = {
        "group_id": group,
        "kind": "connect",
        "summary": "Introduce Sam to the platform team",
        "when": "planned",
        "occurred_on": "",
        "visibility": "private",
    }
    response = robin.post("/ally/actions/new", form)
    assert response.status_code == 302, response.text
    action_url = response.headers["Location"]
    page = robin.get(action_url).text
    assert "Not yet: you are thinking of doing this" in page
    assert 'value="advice"' in page and 'value="immediate"' not in page, "only advice until it is done"
    assert "Planned: ask for advice first" in robin.get("/ally/").text
    action_id = action_url.rstrip("/").rsplit("/", 1)[1]
    bad = robin.post(f"/ally/actions/{action_id}/done", {"occurred_on": "soon"})
    assert bad.status_code == 400 and 'id="occurred_on-error"' in bad.text
    assert robin.post(f"/ally/actions/{action_id}/done", {"occurred_on": TODAY}).status_code == 302
    assert 'value="immediate"' in robin.get(action_url).text


def test_on_the_web_a_done_action_still_needs_its_day(app: Flask) -> None:
    robin = WebAlly(app)
    group = group_with(app, robin)
    form = {"group_id": group, "kind": "credit", "summary": "Credited Sam", "when": "done", "visibility": "public"}
    response = robin.post("/ally/actions/new", form)
    assert response.status_code == 400 and 'id="occurred_on-error"' in response.text
    assert "Give the day it happened" in response.text


def test_an_advice_email_never_names_a_day(lead: Person, ally: Person) -> None:
    group = lead.create_group()
    lead.add(group, ally)
    action = plan(ally, group)
    ally.ask_by_email(action["id"], ["kim@example.org"], stage="advice")
    assert inbox(ally.client.application, "kim@example.org")
    (email,) = [m for m in outbox(ally.client.application) if "kim@example.org" in m["To"]]
    body = email.get_content()
    assert "before" in email["Subject"] and " did something" not in body


def test_the_error_summary_links_to_each_field(app: Flask) -> None:
    robin = WebAlly(app)
    group_with(app, robin)
    page = robin.post("/ally/actions/new", {"when": "done"}).text
    summary = page.split('role="alert"', 1)[1].split("</div>", 1)[0]
    for field in ("group_id", "kind", "summary", "occurred_on", "visibility"):
        assert f'href="#{field}"' in summary, field
        assert f'id="{field}"' in page, field
