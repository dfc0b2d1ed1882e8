"""Leaving: an ally downloads their data, or deletes their account, through the API and the
account page. What is theirs goes; the groups' released pooled results stay."""

import html
import itertools
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from api.clock import utcnow
from api.extensions import db
from feedback.models import Account, AllyNote, Envelope, Group, Response
from feedback.services import accounts
from tests.conftest import Person, Recipient

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
WANTED = {"wanted": "yes", "felt_recognised": 4}
NOTE = "Ask Dana first next time; introduce her to the architecture guild."
_addresses = itertools.count(1)


def colleagues(count: int) -> list[str]:
    return [f"teammate{next(_addresses)}@example.org" for _ in range(count)]


def csrf(web: FlaskClient, url: str) -> str:
    found = CSRF.search(web.get(url).get_data(as_text=True))
    assert found, f"{url} has a form with a CSRF token"
    return found.group(1)


def browser_for(app: Flask, person: Person) -> FlaskClient:
    """A browser signed in as the person through the sign-in form."""
    web = app.test_client()
    signed = web.post(
        "/sign-in", data={"csrf_token": csrf(web, "/sign-in"), "email": person.email, "password": person.password}
    )
    assert signed.status_code == 302, signed.get_data(as_text=True)
    return web


def write_note(app: Flask, person: Person, text: str = NOTE) -> None:
    web = browser_for(app, person)
    saved = web.post("/ally/note", data={"csrf_token": csrf(web, "/ally/note"), "text": text})
    assert saved.status_code in (200, 302), saved.get_data(as_text=True)


def answer(recipient: Recipient, tokens: list[str], comment: dict[str, str] | None = None) -> None:
    for token in tokens:
        assert recipient.answer(token, WANTED, comment).status_code == 202


def delete(person: Person, body: dict[str, str]) -> Any:
    return person.client.delete("/api/v1/me", json=body, headers=person.headers)


def count(app: Flask, query: Any) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(query.subquery())) or 0)


@pytest.fixture
def group(lead: Person, ally: Person) -> int:
    group_id = lead.create_group()
    lead.add(group_id, ally)
    return group_id


# --- Export -----------------------------------------------------------------------------


def test_the_export_holds_the_allys_actions_requests_note_and_released_results(
    app: Flask, ally: Person, group: int, recipient: Recipient
) -> None:
    action = ally.log_action(group, summary="Credited Dana's design in the review")
    answer(recipient, ally.ask(action, count=5), {"text": "It helped, thank you", "audience": "ally"})
    write_note(app, ally)
    response = ally.get("/api/v1/me/export")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    data = response.get_json()
    assert data["account"]["email"] == ally.email and data["account"]["name"] == "Alex"
    assert data["groups"] == [{"id": group, "name": "Women in Engineering", "role": "ally", "owner": False}]
    (logged,) = data["actions"]
    assert logged["summary"] == "Credited Dana's design in the review"
    assert logged["requests"] == [
        {
            "stage": "immediate",
            "created_on": utcnow().date().isoformat(),
            "links": 5,
            "delivered": True,
            "emails_sent": 5,
        }
    ]
    assert data["note"]["text"] == NOTE
    assert data["feedback"]["released"]["responses"] == 5
    assert data["feedback"]["released"]["comments"] == ["It helped, thank you"] * 5


def test_the_export_holds_no_link_token_and_no_colleagues_address(ally: Person, group: int) -> None:
    action = ally.log_action(group)
    addresses = colleagues(3)
    tokens = ally.ask_by_email(action, addresses) + ally.share_links(action, count=2)
    text = ally.get("/api/v1/me/export").get_data(as_text=True)
    assert not [secret for secret in tokens + addresses if secret in text]


def test_the_account_page_downloads_the_same_data_as_a_json_file(app: Flask, ally: Person, group: int) -> None:
    ally.log_action(group)
    download = browser_for(app, ally).get("/account/export")
    assert download.status_code == 200 and download.mimetype == "application/json"
    assert download.headers["Content-Disposition"].startswith("attachment; filename=")
    assert download.get_json() == ally.get("/api/v1/me/export").get_json()


# --- Deleting through the API ------------------------------------------------------------


def test_deleting_removes_the_account_its_note_and_its_unreleased_answers(
    app: Flask, ally: Person, group: int, recipient: Recipient
) -> None:
    tokens = ally.ask(ally.log_action(group), count=4)
    answer(recipient, tokens[:3])  # fewer than k: waiting for release
    write_note(app, ally)
    assert delete(ally, {"password": ally.password}).status_code == 204
    assert ally.get("/api/v1/me").status_code == 401, "the token went with the account"
    sign_in = ally.client.post("/api/v1/tokens", json={"email": ally.email, "password": ally.password})
    assert sign_in.status_code == 401
    assert count(app, select(Account).where(Account.email == ally.email)) == 0
    assert count(app, select(AllyNote)) == 0
    assert count(app, select(Response)) == 0 and count(app, select(Envelope)) == 0
    assert recipient.client.get(f"/api/v1/answer/{tokens[3]}").status_code == 404, "its links stop working"


def test_deleting_leaves_the_groups_released_results(
    lead: Person, ally: Person, group: int, client: FlaskClient, recipient: Recipient
) -> None:
    others = [Person(client, "Kim"), Person(client, "Sam")]
    for other in others:
        lead.add(group, other)
    for person in [ally, *others]:
        answer(recipient, person.ask(person.log_action(group), count=5), {"text": "to both", "audience": "both"})
    before = lead.get(f"/api/v1/groups/{group}/insights").get_json()["released"]
    assert before["cohorts"] == 1 and before["comments"]
    assert delete(ally, {"password": ally.password}).status_code == 204
    assert lead.get(f"/api/v1/groups/{group}/insights").get_json()["released"] == before


def test_a_wrong_password_deletes_nothing(ally: Person, group: int) -> None:
    refused = delete(ally, {"password": "not my password at all"})
    assert refused.status_code == 400 and "password" in refused.get_json()["error"]["fields"]
    assert delete(ally, {}).status_code == 400
    assert ally.get("/api/v1/me").status_code == 200


def test_the_only_lead_of_a_group_with_members_must_make_a_co_lead_first(
    app: Flask, lead: Person, ally: Person, group: int
) -> None:
    refused = delete(lead, {"password": lead.password})
    assert refused.status_code == 409
    assert "hand the group over or make someone a co-lead first" in refused.get_json()["error"]["message"]
    assert lead.get("/api/v1/me").status_code == 200, "nothing changed"
    promoted = lead.client.patch(
        f"/api/v1/groups/{group}/members/{ally.id}", json={"role": "lead"}, headers=lead.headers
    )
    assert promoted.status_code == 200
    assert delete(lead, {"password": lead.password}).status_code == 204
    assert ally.get("/api/v1/groups").get_json() == [{"id": group, "name": "Women in Engineering", "role": "lead"}]
    with app.app_context():
        assert db.session.get(Group, group).owner_id == ally.id, "the co-lead owns it now"


def test_a_group_whose_only_member_leaves_goes_with_them(app: Flask, lead: Person) -> None:
    group = lead.create_group("Parents at Work")
    assert delete(lead, {"password": lead.password}).status_code == 204
    with app.app_context():
        assert db.session.get(Group, group) is None


def test_someone_who_signs_up_after_an_ally_left_never_reads_the_allys_results(
    lead: Person, group: int, client: FlaskClient, recipient: Recipient
) -> None:
    """SQLite gives a new account the id of the newest deleted one: it must not inherit
    the pooled results and comments meant for that ally."""
    leaver = Person(client, "Robin")
    lead.add(group, leaver)
    answer(recipient, leaver.ask(leaver.log_action(group), count=5), {"text": "for Robin", "audience": "ally"})
    assert delete(leaver, {"password": leaver.password}).status_code == 204
    newcomer = Person(client, "Jo")
    released = newcomer.get("/api/v1/me/feedback").get_json()["released"]
    assert released["responses"] == 0 and released["comments"] == []


def test_an_account_that_signs_in_with_sso_deletes_by_typing_the_words(app: Flask, client: FlaskClient) -> None:
    """It has no password to give."""
    with app.app_context():
        account = accounts.sso_account(
            db.session,
            subject="https://idp.example.org 42",
            email="sso.user@example.org",
            email_verified=True,
            name="Sso User",
            today=utcnow().date(),
            domains=(),
        )
        headers = {"Authorization": "Bearer " + accounts.issue_token(db.session, account, now=utcnow())}
        db.session.commit()
    with_password = client.delete("/api/v1/me", json={"password": "anything at all"}, headers=headers)
    assert with_password.status_code == 400 and "confirm" in with_password.get_json()["error"]["fields"]
    typed = client.delete("/api/v1/me", json={"confirm": "delete my account"}, headers=headers)
    assert typed.status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401


# --- Deleting on the account page ----------------------------------------------------------


def test_the_delete_page_says_what_goes_and_what_stays(app: Flask, ally: Person, group: int) -> None:
    page = html.unescape(browser_for(app, ally).get("/account/delete").get_data(as_text=True))
    assert "Your private note." in page and "your requests about them" in page
    assert "Released pooled results in your groups' insights, since they hold no one's identity" in page
    assert "The group Women in Engineering, with its other members." in page


def test_deleting_on_the_page_takes_the_password_then_signs_out(app: Flask, ally: Person, group: int) -> None:
    web = browser_for(app, ally)
    wrong = web.post("/account/delete", data={"csrf_token": csrf(web, "/account/delete"), "password": "wrong one!"})
    assert wrong.status_code == 400 and "That is not your password." in wrong.get_data(as_text=True)
    deleted = web.post("/account/delete", data={"csrf_token": csrf(web, "/account/delete"), "password": ally.password})
    assert deleted.status_code == 302 and deleted.headers["Location"].endswith("/account/deleted")
    assert "Your account is deleted" in web.get("/account/deleted").get_data(as_text=True)
    assert web.get("/ally/").status_code == 302, "signed out"
    assert ally.get("/api/v1/me").status_code == 401


def test_the_only_lead_is_shown_which_groups_to_hand_over_and_no_delete_button(
    app: Flask, lead: Person, ally: Person, group: int
) -> None:
    web = browser_for(app, lead)
    page = web.get("/account/delete").get_data(as_text=True)
    assert "You are the only lead of these groups" in page and "<li>Women in Engineering</li>" in page
    assert 'name="password"' not in page
    refused = web.post("/account/delete", data={"csrf_token": csrf(web, "/account/"), "password": lead.password})
    assert refused.status_code == 409
    assert lead.get("/api/v1/me").status_code == 200
