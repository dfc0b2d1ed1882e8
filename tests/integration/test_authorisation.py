"""Who may read what: an ally only their own pooled results, a lead only their group's."""

from datetime import datetime
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from api.extensions import db
from feedback.models import Invitation
from tests.conftest import Person, Recipient, build_app, inbox


def full_cohort(ally: Person, group: int, recipient: Recipient) -> None:
    for token in ally.ask(ally.log_action(group), count=5):
        assert (
            recipient.answer(token, {"wanted": "yes"}, {"text": "private words", "audience": "ally"}).status_code == 202
        )


def test_an_ally_never_reads_another_allys_results(
    client: FlaskClient, lead: Person, ally: Person, recipient: Recipient
) -> None:
    other = Person(client, "Kim")
    group = lead.create_group()
    lead.add(group, ally)
    lead.add(group, other)
    full_cohort(ally, group, recipient)
    theirs = other.get("/api/v1/me/feedback").get_json()["released"]
    assert theirs["responses"] == 0 and theirs["comments"] == []
    assert ally.get("/api/v1/me/feedback").get_json()["released"]["responses"] == 5


def test_an_ally_cannot_ask_about_another_allys_action(client: FlaskClient, lead: Person, ally: Person) -> None:
    other = Person(client, "Kim")
    group = lead.create_group()
    lead.add(group, ally)
    lead.add(group, other)
    action = ally.log_action(group)
    assert other.post(f"/api/v1/actions/{action}/requests", {"stage": "immediate", "count": 1}).status_code == 404


def test_a_member_who_is_not_a_lead_gets_403_on_insights(lead: Person, ally: Person) -> None:
    group = lead.create_group()
    lead.add(group, ally)
    response = ally.get(f"/api/v1/groups/{group}/insights")
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"


def test_nobody_reads_another_groups_insights(client: FlaskClient, lead: Person) -> None:
    mine = lead.create_group("Mine")
    stranger = Person(client, "Sol")
    theirs = stranger.create_group("Theirs")
    assert lead.get(f"/api/v1/groups/{theirs}/insights").status_code == 403
    assert stranger.get(f"/api/v1/groups/{mine}/insights").status_code == 403
    # A group that does not exist looks the same as one that is not yours.
    assert (
        lead.get("/api/v1/groups/999999/insights").get_json()
        == stranger.get(f"/api/v1/groups/{mine}/insights").get_json()
    )


def test_nobody_logs_actions_in_a_group_they_are_not_in(client: FlaskClient, lead: Person) -> None:
    group = lead.create_group()
    outsider = Person(client, "Out")
    body = {"group_id": group, "kind": "credit", "summary": "s", "occurred_on": "2026-01-05", "visibility": "public"}
    assert outsider.post("/api/v1/actions", body).status_code == 404


def test_only_leads_add_members(client: FlaskClient, lead: Person, ally: Person) -> None:
    group = lead.create_group()
    lead.add(group, ally)
    newcomer = Person(client, "New")
    assert ally.post(f"/api/v1/groups/{group}/members", {"email": newcomer.email, "role": "ally"}).status_code == 403
    assert (
        newcomer.post(f"/api/v1/groups/{group}/members", {"email": newcomer.email, "role": "lead"}).status_code == 403
    )


def test_inviting_tells_a_lead_nothing_about_who_has_an_account(lead: Person, ally: Person) -> None:
    """No account oracle: an address with an account and one without get the same answer."""
    group = lead.create_group()
    known = lead.post(f"/api/v1/groups/{group}/members", {"email": ally.email, "role": "ally"})
    ghost = lead.post(f"/api/v1/groups/{group}/members", {"email": "ghost@example.org", "role": "ally"})
    assert (
        (known.status_code, known.get_json())
        == (ghost.status_code, ghost.get_json())
        == (
            202,
            {"status": "invited", "invited": 1},
        )
    )


def test_an_invitation_adds_no_one_until_they_accept(app: Flask, lead: Person, ally: Person) -> None:
    group = lead.create_group()
    assert lead.post(f"/api/v1/groups/{group}/members", {"email": ally.email, "role": "ally"}).status_code == 202
    assert ally.get("/api/v1/groups").get_json() == []
    body = {"group_id": group, "kind": "credit", "summary": "x", "occurred_on": "2026-01-02", "visibility": "public"}
    assert ally.post("/api/v1/actions", body).status_code == 404, "not a member yet"
    token = inbox(app, ally.email, "invitations")[-1]
    assert ally.post(f"/api/v1/invitations/{token}", {}).get_json() == {"group_id": group, "role": "ally"}
    assert ally.post(f"/api/v1/invitations/{token}", {}).status_code == 200, "a second accept answers the same"
    assert [g["id"] for g in ally.get("/api/v1/groups").get_json()] == [group]


def test_only_the_invited_address_can_accept(app: Flask, client: FlaskClient, lead: Person, ally: Person) -> None:
    group = lead.create_group()
    lead.post(f"/api/v1/groups/{group}/members", {"email": ally.email, "role": "lead"})
    token = inbox(app, ally.email, "invitations")[-1]
    other = Person(client, "Sock")
    refused = other.post(f"/api/v1/invitations/{token}", {})
    assert refused.status_code == 403
    assert other.get("/api/v1/groups").get_json() == []


def test_a_withdrawn_invitation_no_longer_works(app: Flask, lead: Person, ally: Person) -> None:
    group = lead.create_group()
    lead.post(f"/api/v1/groups/{group}/members", {"email": ally.email, "role": "ally"})
    token = inbox(app, ally.email, "invitations")[-1]
    (pending,) = lead.get(f"/api/v1/groups/{group}/invitations").get_json()
    assert pending["email"] == ally.email and pending["role"] == "ally"
    assert (
        lead.client.delete(f"/api/v1/groups/{group}/invitations/{pending['id']}", headers=lead.headers).status_code
        == 204
    )
    assert ally.post(f"/api/v1/invitations/{token}", {}).status_code == 404
    assert lead.get(f"/api/v1/groups/{group}/invitations").get_json() == []


def test_an_expired_invitation_is_gone(app: Flask, lead: Person, ally: Person) -> None:
    group = lead.create_group()
    lead.post(f"/api/v1/groups/{group}/members", {"email": ally.email, "role": "ally"})
    token = inbox(app, ally.email, "invitations")[-1]
    with app.app_context():
        db.session.execute(update(Invitation).values(expires_at=datetime(2000, 1, 1)))
        db.session.commit()
    assert ally.post(f"/api/v1/invitations/{token}", {}).status_code == 410
    assert ally.get("/api/v1/groups").get_json() == []


def test_invitations_outside_the_organisations_domains_are_refused(tmp_path: Path) -> None:
    app = build_app(tmp_path, org_email_domains=("example.org",))
    try:
        lead = Person(app.test_client(), "Lee")
        group = lead.create_group()
        response = lead.post(
            f"/api/v1/groups/{group}/members", {"emails": ["ana@example.org", "eve@elsewhere.example"], "role": "ally"}
        )
        assert response.status_code == 400
        assert list(response.get_json()["error"]["fields"]) == ["email.1"]
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_a_co_lead_can_neither_remove_nor_demote_the_owner(client: FlaskClient, lead: Person, ally: Person) -> None:
    group = lead.create_group()
    lead.add(group, ally, role="lead")
    url = f"/api/v1/groups/{group}/members/{lead.id}"
    assert ally.client.delete(url, headers=ally.headers).status_code == 403
    assert ally.client.patch(url, json={"role": "ally"}, headers=ally.headers).status_code == 403
    assert (
        ally.client.put(f"/api/v1/groups/{group}/owner", json={"account_id": ally.id}, headers=ally.headers).status_code
        == 403
    )
    handed = lead.client.put(f"/api/v1/groups/{group}/owner", json={"account_id": ally.id}, headers=lead.headers)
    assert handed.status_code == 200
    assert ally.client.patch(url, json={"role": "ally"}, headers=ally.headers).status_code == 200, "now the owner may"


def test_a_co_lead_reads_insights_and_manages_members(client: FlaskClient, lead: Person, ally: Person) -> None:
    group = lead.create_group()
    co_lead = Person(client, "Co")
    lead.add(group, co_lead, role="lead")
    co_lead.add(group, ally)
    assert co_lead.get(f"/api/v1/groups/{group}/insights").status_code == 200
    assert [g["role"] for g in ally.get("/api/v1/groups").get_json()] == ["ally"]


def test_a_removed_ally_can_no_longer_ask(client: FlaskClient, lead: Person, ally: Person) -> None:
    group = lead.create_group()
    lead.add(group, ally)
    action = ally.log_action(group)
    assert client.delete(f"/api/v1/groups/{group}/members/{ally.id}", headers=lead.headers).status_code == 204
    assert ally.post(f"/api/v1/actions/{action}/requests", {"stage": "immediate", "count": 1}).status_code == 404


def test_the_last_lead_cannot_leave_the_group_leaderless(client: FlaskClient, lead: Person) -> None:
    group = lead.create_group()
    response = client.delete(f"/api/v1/groups/{group}/members/{lead.id}", headers=lead.headers)
    assert response.status_code == 400
    assert lead.get(f"/api/v1/groups/{group}/insights").status_code == 200
