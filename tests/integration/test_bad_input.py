"""Bad input gets a clear 4xx in the JSON error shape, and nothing is half-written."""

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api import create_app
from api.extensions import db
from crypto.encoding import b64u_decode, b64u_encode
from feedback.models import Link, Response
from tests.conftest import SUITE, Person, Recipient, make_settings, outbox


@pytest.fixture
def links(lead: Person, ally: Person) -> list[str]:
    group = lead.create_group()
    lead.add(group, ally)
    return ally.ask(ally.log_action(group), count=5)


def assert_error(response: Any, status: int, field: str | None = None) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"}
    assert {"code", "message", "fields"} <= set(body["error"])
    assert body["error"]["message"]
    if field is not None:
        assert field in body["error"]["fields"], body


def stored_responses(app: Flask) -> int:
    with app.app_context():
        return db.session.query(Response).count()


def test_an_unknown_link_is_404(client: FlaskClient) -> None:
    assert_error(client.get("/api/v1/answer/AAAAAAAAAAAAAAAAAAAAAA"), 404)
    assert_error(client.get("/api/v1/answer/not-a-token"), 404)
    assert_error(client.post("/api/v1/answer/AAAAAAAAAAAAAAAAAAAAAA", json={"kid": "x", "sealed": "AA"}), 404)


def test_a_used_link_is_410_and_counts_once(app: Flask, links: list[str], recipient: Recipient) -> None:
    envelope = recipient.envelope(links[0], {"wanted": "yes"})
    assert recipient.client.post(f"/api/v1/answer/{links[0]}", json=envelope).status_code == 202
    assert_error(recipient.client.post(f"/api/v1/answer/{links[0]}", json=envelope), 410)
    assert_error(recipient.client.get(f"/api/v1/answer/{links[0]}"), 410)
    assert stored_responses(app) == 1


def test_an_envelope_replayed_on_another_link_is_refused_and_that_link_stays_usable(
    app: Flask, links: list[str], recipient: Recipient
) -> None:
    envelope = recipient.envelope(links[0], {"wanted": "yes"})
    assert recipient.client.post(f"/api/v1/answer/{links[0]}", json=envelope).status_code == 202
    assert_error(recipient.client.post(f"/api/v1/answer/{links[1]}", json=envelope), 400, "sealed")
    assert recipient.answer(links[1], {"wanted": "no"}).status_code == 202
    assert stored_responses(app) == 2


def test_an_expired_link_is_410(app: Flask, links: list[str], client: FlaskClient) -> None:
    with app.app_context():
        for link in db.session.query(Link):
            link.expires_at -= timedelta(days=365)
        db.session.commit()
    assert_error(client.get(f"/api/v1/answer/{links[0]}"), 410)


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda env: {**env, "sealed": env["sealed"] + "!"}, "sealed"),  # not base64url
        (lambda env: {**env, "sealed": env["sealed"] + "=="}, "sealed"),  # padded
        (lambda env: {**env, "sealed": env["sealed"][:-8]}, "sealed"),  # wrong length
        (lambda env: {**env, "sealed": env["sealed"] + "AAAA"}, "sealed"),  # wrong length
        (lambda env: {**env, "kid": "rk-0000000000000000"}, "kid"),  # unknown key
        (lambda env: {"kid": env["kid"]}, "sealed"),  # missing
        (lambda env: {**env, "sealed": 42}, "sealed"),  # wrong type
    ],
)
def test_a_malformed_envelope_is_400_and_the_link_stays_usable(
    app: Flask, links: list[str], recipient: Recipient, mutate: Any, field: str
) -> None:
    envelope = recipient.envelope(links[0], {"wanted": "yes"})
    assert_error(recipient.client.post(f"/api/v1/answer/{links[0]}", json=mutate(envelope)), 400, field)
    assert stored_responses(app) == 0
    assert recipient.client.post(f"/api/v1/answer/{links[0]}", json=envelope).status_code == 202


def test_an_envelope_sealed_to_the_wrong_key_is_never_released(
    app: Flask, links: list[str], recipient: Recipient, ally: Person
) -> None:
    """The web tier cannot open envelopes; the worker discards one that does not open."""
    page = recipient.client.get(f"/api/v1/answer/{links[0]}").get_json()
    stranger = X25519PrivateKey.generate().public_key()
    forged = SUITE.encrypt(b" " * page["pad_to"], stranger, b64u_decode(page["info"]))
    wrong = {"kid": page["key"]["kid"], "sealed": b64u_encode(forged)}
    assert recipient.client.post(f"/api/v1/answer/{links[0]}", json=wrong).status_code == 202
    for token in links[1:]:
        assert recipient.answer(token, {"wanted": "yes"}).status_code == 202
    assert ally.get("/api/v1/me/feedback").get_json()["released"]["responses"] == 0, "4 valid of 5 is not a cohort"


def test_answers_that_do_not_fit_the_questionnaire_are_discarded(
    lead: Person, ally: Person, recipient: Recipient
) -> None:
    group = lead.create_group()
    lead.add(group, ally)
    tokens = ally.ask(ally.log_action(group), count=6)
    assert recipient.answer(tokens[0], {"wanted": "certainly", "invented": 1}).status_code == 202
    for token in tokens[1:]:
        assert recipient.answer(token, {"wanted": "partly"}).status_code == 202
    view = ally.get("/api/v1/me/feedback").get_json()["released"]
    assert view["responses"] == 5
    assert view["items"]["immediate.v1"]["wanted"]["counts"] == {"partly": 5}


def test_an_oversize_body_is_413(links: list[str], client: FlaskClient) -> None:
    response = client.post(f"/api/v1/answer/{links[0]}", json={"kid": "x", "sealed": "A" * 200_000})
    assert_error(response, 413)


def test_malformed_json_is_400(links: list[str], client: FlaskClient) -> None:
    response = client.post(f"/api/v1/answer/{links[0]}", data="{not json", content_type="application/json")
    assert_error(response, 400)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"stage": "immediate", "count": 0}, "count"),
        ({"stage": "immediate", "count": 51}, "count"),
        ({"stage": "later", "count": 1}, "stage"),
        ({"stage": "immediate", "count": "3"}, "count"),
    ],
)
def test_invalid_request_fields_are_400_and_make_no_links(
    app: Flask, lead: Person, ally: Person, body: dict[str, Any], field: str
) -> None:
    group = lead.create_group()
    lead.add(group, ally)
    action = ally.log_action(group)
    assert_error(ally.post(f"/api/v1/actions/{action}/requests", body), 400, field)
    with app.app_context():
        assert db.session.query(Link).count() == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "heroics"}, "kind"),
        ({"visibility": "secret"}, "visibility"),
        ({"occurred_on": "yesterday"}, "occurred_on"),
        ({"occurred_on": "2999-01-01"}, "occurred_on"),
        ({"summary": ""}, "summary"),
        ({"summary": "x" * 201}, "summary"),
        ({"group_id": "1"}, "group_id"),
    ],
)
def test_invalid_action_fields_are_400(lead: Person, change: dict[str, Any], field: str) -> None:
    group = lead.create_group()
    body = {"group_id": group, "kind": "credit", "summary": "s", "occurred_on": "2026-01-05", "visibility": "public"}
    assert_error(lead.post("/api/v1/actions", {**body, **change}), 400, field)


def test_signing_up_with_a_known_email_answers_as_for_a_new_one_and_changes_nothing(
    client: FlaskClient, ally: Person
) -> None:
    """No account oracle: the owner is told by email; the caller learns nothing."""
    again = client.post("/api/v1/accounts", json={"email": ally.email, "password": "another long one", "name": "A"})
    new = client.post(
        "/api/v1/accounts", json={"email": "new.person@example.org", "password": "another long one", "name": "B"}
    )
    assert (
        (again.status_code, again.get_json())
        == (new.status_code, new.get_json())
        == (202, {"status": "check your email"})
    )
    assert client.post("/api/v1/tokens", json={"email": ally.email, "password": "another long one"}).status_code == 401
    ally.sign_in()  # the old password still works
    notes = [m for m in outbox(client.application) if m["To"] == ally.email and "already" in m.get_content()]
    assert len(notes) == 1 and "/reset-password" in notes[0].get_content()


def test_a_wrong_password_is_401(client: FlaskClient, ally: Person) -> None:
    assert_error(client.post("/api/v1/tokens", json={"email": ally.email, "password": "wrong password"}), 401)
    assert_error(client.post("/api/v1/tokens", json={"email": "nobody@example.org", "password": "whatever"}), 401)


def test_calls_without_a_valid_token_are_401(client: FlaskClient) -> None:
    assert_error(client.get("/api/v1/me/feedback"), 401)
    assert_error(client.get("/api/v1/me/feedback", headers={"Authorization": "Bearer nope"}), 401)
    assert_error(client.post("/api/v1/groups", json={"name": "x"}), 401)


def test_without_a_token_a_call_is_401_before_its_body_is_looked_at(client: FlaskClient) -> None:
    """Someone with no account learns nothing of what a valid body would be."""
    for url in ("/api/v1/groups", "/api/v1/groups/1/members", "/api/v1/actions", "/api/v1/actions/1/requests"):
        response = client.post(url, json={"unexpected": True})
        assert_error(response, 401)
        assert response.get_json()["error"]["fields"] == {}, url


def test_repeated_failed_logins_are_rate_limited(client: FlaskClient, ally: Person) -> None:
    statuses = [
        client.post("/api/v1/tokens", json={"email": ally.email, "password": "guess guess"}).status_code
        for _ in range(12)
    ]
    assert statuses[:9].count(401) == 9 and statuses[-1] == 429
    assert_error(client.post("/api/v1/tokens", json={"email": ally.email, "password": ally.password}), 429)


def test_repeated_answer_calls_on_one_link_are_rate_limited(links: list[str], client: FlaskClient) -> None:
    statuses = [
        client.post(f"/api/v1/answer/{links[0]}", json={"kid": "x", "sealed": "!"}).status_code for _ in range(11)
    ]
    assert statuses[:10] == [400] * 10 and statuses[10] == 429
    assert client.get(f"/api/v1/answer/{links[1]}").status_code == 200, "other links are not affected"


def test_unknown_routes_and_methods_use_the_error_shape(client: FlaskClient) -> None:
    assert_error(client.get("/api/v1/nothing-here"), 404)
    assert_error(client.delete("/api/v1/accounts"), 405)


# Any code point, lone surrogates and NUL included, as JSON's \u escapes can carry them.
any_text = st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=()), max_size=30)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | any_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=json_values, route=st.sampled_from(["answer", "actions", "requests", "groups", "members", "tokens"]))
def test_no_body_a_client_sends_causes_a_500(links: list[str], lead: Person, body: Any, route: str) -> None:
    group = lead.create_group()
    urls = {
        "answer": f"/api/v1/answer/{links[-1]}",
        "actions": "/api/v1/actions",
        "requests": "/api/v1/actions/1/requests",
        "groups": "/api/v1/groups",
        "members": f"/api/v1/groups/{group}/members",
        "tokens": "/api/v1/tokens",
    }
    response = lead.post(urls[route], body)
    assert response.status_code < 500, response.get_data(as_text=True)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(number=st.integers(), path=st.sampled_from(["groups/{}/insights", "actions/{}/requests", "groups/1/members/{}"]))
def test_no_id_in_a_path_causes_a_500(lead: Person, client: FlaskClient, number: int, path: str) -> None:
    url = "/api/v1/" + path.format(number)
    for method in ("GET", "POST", "DELETE"):
        response = client.open(url, method=method, json={"stage": "immediate", "count": 1}, headers=lead.headers)
        assert response.status_code < 500, (method, url, response.get_data(as_text=True))


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ("[" * 20_000 + "]" * 20_000, None),  # nesting deeper than the parser allows
        ('{"email": "a@b.org", "password": "' + "x" * 12 + '", "name": ' + "9" * 5000 + "}", None),  # huge int
        ('{"email": "a@b.org", "password": "a long password", "name": "\\ud800"}', "name"),  # lone surrogate
        ('{"email": "a@b.org", "password": "a long password", "name": "a\\u0000b"}', "name"),  # NUL
    ],
    ids=["deep-nesting", "huge-number", "lone-surrogate", "nul"],
)
def test_hostile_json_bodies_are_400(app: Flask, client: FlaskClient, raw: str, field: str | None) -> None:
    for url in ("/api/v1/accounts", "/api/v1/tokens"):
        response = client.post(url, data=raw, content_type="application/json")
        assert_error(response, 400, field)
    with app.app_context():
        assert db.session.execute(db.text("SELECT count(*) FROM account")).scalar() == 0


def test_a_non_ascii_bearer_token_is_401(client: FlaskClient) -> None:
    assert_error(client.get("/api/v1/me/feedback", headers={"Authorization": "Bearer \u00e9\u00e9"}), 401)


def test_ids_beyond_any_database_integer_are_404_or_400(lead: Person, client: FlaskClient) -> None:
    huge = 2**70
    assert_error(lead.get(f"/api/v1/groups/{huge}/insights"), 404)
    assert_error(lead.post(f"/api/v1/actions/{huge}/requests", {"stage": "immediate", "count": 1}), 404)
    body = {"group_id": huge, "kind": "credit", "summary": "s", "occurred_on": "2026-01-05", "visibility": "public"}
    assert_error(lead.post("/api/v1/actions", body), 400, "group_id")


def test_a_poisoned_envelope_is_discarded_and_the_rest_still_release(
    lead: Person, ally: Person, recipient: Recipient
) -> None:
    """A plaintext built to crash a JSON parser only ever makes that one answer invalid."""
    group = lead.create_group()
    lead.add(group, ally)
    tokens = ally.ask(ally.log_action(group), count=7)
    for poison in ('{"v":1,"answers":{"wanted":' + "9" * 4400 + "}", "[" * 3000):
        token = tokens.pop()
        envelope = recipient.seal(token, lambda pad_to, poison=poison: poison.encode().ljust(pad_to, b" "))
        assert recipient.client.post(f"/api/v1/answer/{token}", json=envelope).status_code == 202
    for token in tokens:
        assert recipient.answer(token, {"wanted": "yes"}).status_code == 202
    view = ally.get("/api/v1/me/feedback").get_json()["released"]
    assert view["responses"] == 5
    assert view["items"]["immediate.v1"]["wanted"]["counts"] == {"yes": 5}


def test_an_unreachable_database_is_a_503_to_retry_not_a_500(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, database_url="postgresql+psycopg://nobody@127.0.0.1:9/none")
    client = create_app(settings, instance_path=str(tmp_path / "instance")).test_client()
    response = client.get("/api/v1/answer/AAAAAAAAAAAAAAAAAAAAAA")
    assert_error(response, 503)
    assert response.headers["Retry-After"]
