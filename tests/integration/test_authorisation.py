"""Who may read what: an ally only their own pooled results, a lead only their group's."""

from flask.testing import FlaskClient

from tests.conftest import Person, Recipient


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


def test_adding_an_unknown_email_is_404(lead: Person) -> None:
    group = lead.create_group()
    response = lead.post(f"/api/v1/groups/{group}/members", {"email": "ghost@example.org", "role": "ally"})
    assert response.status_code == 404
    assert "email" in response.get_json()["error"]["fields"]


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
