"""Delivered requests (P8, P9): no one fills a cohort alone, and comments reach only their audience.

The attacks of the issue, played as the attacker would: an ally answering links they hold,
a lead with a second account, a lead reading comments about themselves.
"""

import logging
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from api.extensions import db
from api.jobs.release import run_due_now
from feedback.models import Delivery, FeedbackRequest, Link, Response
from tests.conftest import Person, Recipient, build_app, inbox, outbox

DECLINED: dict[str, Any] = {}  # "I'd rather not answer"
REAL = {"wanted": "no", "felt_recognised": 1}
SECRET_WORDS = "please never tell Jordan about the transfer"


def released(person: Person) -> dict[str, Any]:
    return dict(person.get("/api/v1/me/feedback").get_json()["released"])


def insights(person: Person, group: int) -> dict[str, Any]:
    response = person.get(f"/api/v1/groups/{group}/insights")
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json()["released"])


def answer(recipient: Recipient, tokens: list[str], answers: dict[str, Any], comment: Any = None) -> None:
    for token in tokens:
        assert recipient.answer(token, answers, comment).status_code == 202


def count(app: Flask, model: type) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


# --- the fill attacks: nothing released to the attacker ---------------------------------


def test_an_ally_who_answers_four_links_they_hold_reads_nothing_of_the_one_colleague(
    app: Flask, lead: Person, ally: Person, recipient: Recipient
) -> None:
    group = lead.create_group()
    lead.add(group, ally)
    action = ally.log_action(group)
    (colleague,) = ally.ask(action, count=1)
    answer(recipient, [colleague], REAL, {"text": SECRET_WORDS, "audience": "ally"})
    answer(recipient, ally.share_links(action, count=4), DECLINED)  # the ally, answering for others
    with app.app_context():
        run_due_now()
    view = released(ally)
    assert view["responses"] == 0 and view["comments"] == []
    assert SECRET_WORDS not in str(ally.get("/api/v1/me/feedback").get_json())


def test_held_links_never_fill_a_cohort_however_many_the_ally_answers(
    app: Flask, lead: Person, ally: Person, recipient: Recipient
) -> None:
    group = lead.create_group()
    lead.add(group, ally)
    action = ally.log_action(group)
    answer(recipient, ally.ask(action, count=4), REAL, {"text": SECRET_WORDS, "audience": "ally"})
    answer(recipient, ally.share_links(action, count=50), DECLINED)
    with app.app_context():
        run_due_now()
    assert released(ally)["responses"] == 0


def test_held_answers_ride_along_once_k_colleagues_answered(
    app: Flask, lead: Person, ally: Person, recipient: Recipient
) -> None:
    """Links for people without a work address still work: their answers join the cohort."""
    group = lead.create_group()
    lead.add(group, ally)
    action = ally.log_action(group)
    answer(recipient, ally.share_links(action, count=2), {"wanted": "yes"})
    answer(recipient, ally.ask(action, count=5), {"wanted": "yes"})
    view = released(ally)
    assert view["responses"] == 7 and view["cohorts"] == 1


def test_a_lead_with_a_second_account_cannot_isolate_another_allys_recipient(
    app: Flask, client: FlaskClient, lead: Person, recipient: Recipient
) -> None:
    """The lead and their second account each answer their own links (4 + 3); another
    ally's one colleague answers. Neither account nor the group view shows anything."""
    second, victim = Person(client, "Sock"), Person(client, "Vic")
    group = lead.create_group()
    lead.add(group, second)
    lead.add(group, victim)
    answer(recipient, lead.share_links(lead.log_action(group), count=4), DECLINED)
    answer(recipient, second.share_links(second.log_action(group), count=3), DECLINED)
    (colleague,) = victim.ask(victim.log_action(group), count=1)
    answer(recipient, [colleague], REAL, {"text": SECRET_WORDS, "audience": "both"})
    with app.app_context():
        run_due_now()
    assert insights(lead, group)["responses"] == 0
    assert released(lead)["responses"] == released(second)["responses"] == released(victim)["responses"] == 0


def test_the_group_counts_colleagues_asked_through_allyloop_only(
    app: Flask, client: FlaskClient, lead: Person, recipient: Recipient
) -> None:
    """Three allies: two with five delivered answers each, one with held links only. The
    group rule needs k recipients from two allies with any one ally taken away, which held
    answers cannot give."""
    allies = [Person(client, name) for name in ("Ana", "Ben", "Cam")]
    group = lead.create_group()
    for person in allies:
        lead.add(group, person)
    for person in allies[:2]:
        answer(recipient, person.ask(person.log_action(group), count=5), {"wanted": "yes"})
    answer(recipient, allies[2].share_links(allies[2].log_action(group), count=10), {"wanted": "yes"})
    assert insights(lead, group)["responses"] == 0, "without Ana or Ben, one ally is left"
    answer(recipient, allies[2].ask(allies[2].log_action(group), count=1), {"wanted": "yes"})
    assert insights(lead, group)["responses"] == 21, "one colleague of Cam's: six without Ana, six without Ben"


def test_a_colleague_asked_twice_counts_once(app: Flask, lead: Person, ally: Person, recipient: Recipient) -> None:
    group = lead.create_group()
    lead.add(group, ally)
    sam = "sam.colleague@example.org"
    first = ally.ask_by_email(ally.log_action(group), [sam, "kit@example.org", "lou@example.org", "max@example.org"])
    again = ally.ask_by_email(ally.log_action(group), ["Sam.Colleague+later@Example.org"])
    answer(recipient, first + again, {"wanted": "yes"})
    assert released(ally)["responses"] == 0, "four people, five answers"
    answer(recipient, ally.ask(ally.log_action(group), count=1), {"wanted": "yes"})
    assert released(ally)["responses"] == 6


# --- who may be asked --------------------------------------------------------------------


def ask(person: Person, action: int, recipients: Any, stage: str = "immediate") -> Any:
    return person.post(f"/api/v1/actions/{action}/requests", {"stage": stage, "recipients": recipients})


def test_the_same_person_twice_is_refused_naming_each_and_nothing_is_written(
    app: Flask, lead: Person, ally: Person
) -> None:
    group = lead.create_group()
    lead.add(group, ally)
    response = ask(ally, ally.log_action(group), ["kim@example.org", "ola@example.org", "KIM+erg@example.org"])
    assert response.status_code == 400
    fields = response.get_json()["error"]["fields"]
    assert list(fields) == ["recipients.2"] and "KIM+erg@example.org" in fields["recipients.2"]
    assert "kim@example.org" in fields["recipients.2"], "says whom it repeats"
    assert count(app, FeedbackRequest) == count(app, Link) == count(app, Delivery) == 0
    assert not [m for m in outbox(app) if str(m["To"]).startswith(("kim", "ola"))]


def test_the_allys_own_address_is_refused(lead: Person, ally: Person) -> None:
    group = lead.create_group()
    lead.add(group, ally)
    own = ally.email.replace("@", "+me@").upper()
    response = ask(ally, ally.log_action(group), ["kim@example.org", own])
    assert response.status_code == 400
    assert "your own address" in response.get_json()["error"]["fields"]["recipients.1"]


def test_malformed_addresses_are_refused_naming_each(lead: Person, ally: Person) -> None:
    group = lead.create_group()
    lead.add(group, ally)
    response = ask(ally, ally.log_action(group), ["not an address", "kim@example.org", "a@b@example.org"])
    assert response.status_code == 400
    assert set(response.get_json()["error"]["fields"]) == {"recipients.0", "recipients.2"}


def test_fifty_one_addresses_are_refused_and_fifty_accepted(app: Flask, lead: Person, ally: Person) -> None:
    group = lead.create_group()
    lead.add(group, ally)
    action = ally.log_action(group)
    many = [f"person{n}@example.org" for n in range(51)]
    too_many = ask(ally, action, many)
    assert too_many.status_code == 400 and "recipients" in too_many.get_json()["error"]["fields"]
    assert ask(ally, action, []).status_code == 400
    accepted = ask(ally, action, many[:50])
    assert accepted.status_code == 201
    assert accepted.get_json()["delivered"] == 50
    assert {r["status"] for r in accepted.get_json()["recipients"]} == {"queued"}
    assert len([m for m in outbox(app) if str(m["To"]).startswith("person")]) == 50


def test_count_and_recipients_together_are_refused(lead: Person, ally: Person) -> None:
    group = lead.create_group()
    lead.add(group, ally)
    body = {"stage": "immediate", "recipients": ["kim@example.org"], "count": 2}
    assert ally.post(f"/api/v1/actions/{ally.log_action(group)}/requests", body).status_code == 400


def test_addresses_outside_the_organisations_domains_are_refused(tmp_path: Path) -> None:
    app = build_app(tmp_path, org_email_domains=("example.org", "example.com"))
    try:
        client = app.test_client()
        lead, ally = Person(client, "Lee"), Person(client, "Alex")
        group = lead.create_group()
        lead.add(group, ally)
        action = ally.log_action(group)
        response = ask(ally, action, ["kim@example.com", "ola@gmail.example", "pat@sub.example.org"])
        assert response.status_code == 400
        fields = response.get_json()["error"]["fields"]
        assert set(fields) == {"recipients.1", "recipients.2"}
        assert "not an address of the organisation" in fields["recipients.1"]
        assert ask(ally, action, ["kim@example.com", "Ola@EXAMPLE.org"]).status_code == 201
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


# --- the ally never holds a delivered token --------------------------------------------


def test_no_delivered_token_reaches_the_ally_a_log_line_or_a_database_row(
    app: Flask,
    tmp_path: Path,
    lead: Person,
    ally: Person,
    recipient: Recipient,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    group = lead.create_group()
    lead.add(group, ally)
    action = ally.log_action(group)
    made = ally.post(f"/api/v1/actions/{action}/requests", {"stage": "immediate", "recipients": ["kim@example.org"]})
    seen = [made.get_data(as_text=True)]
    tokens = ally.ask(action, count=5)
    (kim,) = inbox(app, "kim@example.org")  # one email, with Kim's own link
    tokens.append(kim)
    answer(recipient, tokens[:3], {"wanted": "yes"})
    for url in ("/api/v1/actions", f"/api/v1/actions/{action}/requests", "/api/v1/me/feedback", "/api/v1/me/reminders"):
        seen.append(ally.get(url).get_data(as_text=True))
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    out, err = capfd.readouterr()
    logs = caplog.text + out + err
    stored = [p for p in tmp_path.rglob("*") if p.is_file() and p.parent.name != "outbox"]
    for token in tokens:
        assert not any(token in text for text in seen), "in a response to the ally"
        assert token not in logs
        assert not [p for p in stored if token.encode() in p.read_bytes()], "in the database or a file"
    assert "kim@example.org" not in logs


def test_a_sent_address_is_forgotten_and_only_a_keyed_hash_stays_beside_the_link(
    app: Flask, tmp_path: Path, lead: Person, ally: Person
) -> None:
    group = lead.create_group()
    lead.add(group, ally)
    ally.ask_by_email(ally.log_action(group), ["kim.unique.person@example.org"])
    assert count(app, Delivery) == 0, "sent: the waiting email is gone"
    with app.app_context():
        hashes = db.session.scalars(select(Link.recipient_hash)).all()
        db.session.remove()
        db.engine.dispose()
    assert len(hashes) == 1 and hashes[0] is not None and len(hashes[0]) == 32
    stored = [p for p in tmp_path.rglob("*") if p.is_file() and p.parent.name != "outbox"]
    for needle in (b"kim.unique.person", b"kim.unique.person".upper()):
        assert not [p for p in stored if needle in p.read_bytes()]


def test_an_answer_keeps_its_recipient_tag_only_while_it_waits(
    app: Flask, lead: Person, ally: Person, recipient: Recipient
) -> None:
    group = lead.create_group()
    lead.add(group, ally)
    tokens = ally.ask(ally.log_action(group), count=5)
    answer(recipient, tokens[:4], {"wanted": "yes"})
    with app.app_context():
        tags = db.session.scalars(select(Response.person)).all()
        links = set(db.session.scalars(select(Link.recipient_hash)).all())
    assert len(set(tags)) == 4 and None not in tags
    assert not set(tags) & links, "no stored value matches an answer to its link"
    answer(recipient, tokens[4:], {"wanted": "yes"})
    with app.app_context():
        run_due_now()
        pending = db.session.scalars(select(Response.person).where(Response.group_cohort_id.is_(None))).all()
        done = db.session.scalars(select(Response.person).where(Response.group_cohort_id.is_not(None))).all()
    assert len(pending) == 5 and done == [], "the group scope is still waiting for a second ally"


# --- P9: a comment for the leads never reaches the ally it is about ---------------------


def _three_allies_with_comments(client: FlaskClient, lead: Person, recipient: Recipient) -> tuple[int, list[Person]]:
    allies = [Person(client, name) for name in ("Ana", "Ben", "Cam")]
    group = lead.create_group()
    for person in allies:
        lead.add(group, person)
    for person in allies:
        words = f"for the leads about {person.email}"
        answer(
            recipient,
            person.ask(person.log_action(group), count=5),
            {"wanted": "yes"},
            {"text": words, "audience": "lead"},
        )
    return group, allies


def test_a_lead_reads_comments_for_the_leads(client: FlaskClient, lead: Person, recipient: Recipient) -> None:
    group, allies = _three_allies_with_comments(client, lead, recipient)
    comments = insights(lead, group)["comments"]
    # The third ally's first answer completes the group rule: 5 + 5 + 1 are released, 4 wait.
    assert len(comments) == 11
    assert {c.rsplit(" ", 1)[1] for c in comments} == {p.email for p in allies}


def test_an_ally_promoted_to_co_lead_never_reads_the_comments_about_themselves(
    client: FlaskClient, lead: Person, recipient: Recipient
) -> None:
    group, (ana, ben, _cam) = _three_allies_with_comments(client, lead, recipient)
    lead.add(group, ana, role="lead")
    comments = insights(ana, group)["comments"]
    assert len(comments) == 6, "11 released, 5 of them about Ana"
    assert not [c for c in comments if ana.email in c]
    assert [c for c in comments if ben.email in c], "the others' are there"
    assert not [c for c in released(ana)["comments"] if ana.email in c], "nor on their own page: it was for the leads"


def test_a_lead_who_logs_actions_is_never_shown_comments_about_them(
    client: FlaskClient, lead: Person, recipient: Recipient
) -> None:
    allies = [Person(client, name) for name in ("Ben", "Cam")]
    group = lead.create_group()
    for person in allies:
        lead.add(group, person)
    for person in [lead, *allies]:
        words = f"for the leads about {person.email}"
        answer(
            recipient,
            person.ask(person.log_action(group), count=5),
            {"wanted": "yes"},
            {"text": words, "audience": "lead"},
        )
    comments = insights(lead, group)["comments"]
    assert len(comments) == 6 and not [c for c in comments if lead.email in c], "11 released, 5 about the lead"
