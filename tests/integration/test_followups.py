"""Follow-ups: due 30 and 90 days after the immediate request, listed for their ally only,
emailed once when mail is set up, and compared with the immediate results under the
release rules."""

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from api.clock import utcnow
from api.extensions import db
from api.jobs.release import run_due_now
from feedback import followups
from feedback.figures import FollowupRate
from feedback.mail import Mail, Send, Unavailable
from feedback.models import Followup
from tests.conftest import Person, Recipient, make_due, release_at_once

LASTED = {"lasting_difference": 4, "recurred": "less", "ally_checked_back": "yes"}


def today() -> date:
    return utcnow().date()


def member(lead: Person, group: int, name: str) -> Person:
    person = Person(lead.client, name)
    lead.add(group, person)
    return person


# --- The reminders API ---


def test_a_follow_up_is_listed_when_due_for_its_ally_only_and_goes_once_asked(
    app: Flask, lead: Person, ally: Person
) -> None:
    group = lead.create_group()
    lead.add(group, ally)
    other = member(lead, group, "Other")
    action = ally.log_action(group)
    ally.ask(action, "immediate")
    other.ask(other.log_action(group), "immediate")
    assert ally.get("/api/v1/me/reminders").get_json() == {"items": []}, "nothing is due on the day of asking"

    make_due(app, action)
    items = ally.get("/api/v1/me/reminders").get_json()["items"]
    assert items == [{"action_id": action, "stage": "followup_30", "due_on": today().isoformat()}]
    assert other.get("/api/v1/me/reminders").get_json() == {"items": []}, "only the caller's own"
    assert lead.get("/api/v1/me/reminders").get_json() == {"items": []}

    assert len(ally.ask(action, "followup_30", count=2)) == 2
    assert ally.get("/api/v1/me/reminders").get_json() == {"items": []}, "asked: no longer due"
    assert len(ally.ask(action, "followup_30", count=1)) == 1, "more links for the same stage are fine"


def test_the_reminders_need_a_token(client: FlaskClient) -> None:
    assert client.get("/api/v1/me/reminders").status_code == 401


def test_follow_ups_come_due_at_the_configured_days(make_app: Any) -> None:
    app = make_app(followup_days=(7, 21))
    person = Person(app.test_client(), "Lee")
    group = person.create_group()
    action = person.log_action(group)
    person.ask(action, "immediate")
    person.ask(action, "immediate")  # a second immediate request moves nothing
    with app.app_context():
        due = {f.stage: f.due_on for f in db.session.query(Followup).filter_by(action_id=action)}
    assert due == {"followup_30": today() + timedelta(days=7), "followup_90": today() + timedelta(days=21)}


def test_a_follow_up_before_its_day_or_without_an_immediate_request_is_refused(
    app: Flask, lead: Person, ally: Person
) -> None:
    group = lead.create_group()
    lead.add(group, ally)
    action = ally.log_action(group)
    early = ally.post(f"/api/v1/actions/{action}/requests", {"stage": "followup_30", "count": 1})
    assert early.status_code == 409 and "immediate" in early.get_json()["error"]["message"]
    ally.ask(action, "immediate")
    due_on = (today() + timedelta(days=30)).isoformat()
    early = ally.post(f"/api/v1/actions/{action}/requests", {"stage": "followup_30", "count": 1})
    assert early.status_code == 409 and due_on in early.get_json()["error"]["message"]
    make_due(app, action)
    assert ally.post(f"/api/v1/actions/{action}/requests", {"stage": "followup_30", "count": 1}).status_code == 201
    still = ally.post(f"/api/v1/actions/{action}/requests", {"stage": "followup_90", "count": 1})
    assert still.status_code == 409, "the 90-day follow-up keeps its own day"


def test_the_reminders_call_is_documented(client: FlaskClient) -> None:
    spec = client.get("/api/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/me/reminders"]["get"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("/RemindersOut")
    item = spec["components"]["schemas"]["ReminderOut"]["properties"]
    assert set(item) == {"action_id", "stage", "due_on"}


# --- Reminder email, to a real SMTP server on loopback ---


class Inbox:
    """A real SMTP server's mailbox; it checks the login the sender offers."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.raw: list[bytes] = []
        self.logins: list[tuple[str, str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.raw.append(envelope.original_content)
        self.messages.append(BytesParser(policy=policy.default).parsebytes(envelope.original_content))
        return "250 OK"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        self.logins.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=auth_data.password == b"p@ss word")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=inbox.authenticate,
        auth_require_tls=False,  # loopback only, in a test; real relays use smtps:// or STARTTLS
    )
    controller.start()
    yield inbox, port
    controller.stop()


def run_due(app: Flask, on: date) -> str:
    """``flask jobs run-due`` on that day (the command refuses a --now later than the clock)."""
    with mock.patch("api.cli.utcnow", return_value=datetime.combine(on, time(9))):
        result = app.test_cli_runner().invoke(args=["jobs", "run-due"])
    assert result.exit_code == 0, result.output
    return str(result.output)


def test_run_due_emails_each_due_follow_up_once_without_links_summaries_or_recipients(
    make_app: Any, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    app = make_app(
        mail_url=f"smtp://reminders%40allyloop.test:p%40ss%20word@127.0.0.1:{port}", mailbox=lambda: inbox.messages
    )

    def reminders() -> list[tuple[EmailMessage, str]]:
        """The reminders received (the server also got the accounts' and invitations' emails)."""
        return [
            (message, raw.decode())
            for message, raw in zip(inbox.messages, inbox.raw, strict=True)
            if str(message["Subject"]).startswith("Time to follow up")
        ]

    client = app.test_client()
    lead, person = Person(client, "Lee"), Person(client, "Alex")
    group = lead.create_group()
    lead.add(group, person)
    action = person.log_action(group, summary="Put Sam forward for the platform lead role")
    # Links the ally holds: the emails of delivered ones would share this inbox.
    tokens = person.share_links(action, "immediate")
    Recipient(client).answer(tokens[0], LASTED | {"comment_marker": "x"})  # invalid, but stored: nothing leaks

    assert "0 reminder email(s) sent" in run_due(app, today() + timedelta(days=29))
    assert "1 reminder email(s) sent" in run_due(app, today() + timedelta(days=31))
    assert "0 reminder email(s) sent" in run_due(app, today() + timedelta(days=32)), "not twice"
    assert len(reminders()) == 1
    assert inbox.logins[0] == ("reminders@allyloop.test", "p@ss word"), "the URL's login, decoded"
    mail, raw = reminders()[0]
    assert mail["To"] == person.email
    body = mail.get_content()
    assert "1 follow-up is due" in body and "- Credit, on " in body
    due = today() + timedelta(days=30)
    assert "first follow-up" in body and f"due {due:%B} {due.day}, {due.year}" in body, "the day as English writes it"
    assert "Sam" not in raw and "platform" not in body, "no summary: it may name the person"
    assert "http://allyloop.test/ally/" in body
    assert "/r/" not in raw and not any(token in raw for token in tokens), "no link, no token"
    assert "comment" not in raw.lower() and "lasting_difference" not in raw, "nothing a recipient sent"

    assert "1 reminder email(s) sent" in run_due(app, today() + timedelta(days=91))
    later = reminders()[1][0].get_content()
    assert "second follow-up" in later and "first follow-up" not in later, "each follow-up is emailed once"
    assert "0 reminder email(s) sent" in run_due(app, today() + timedelta(days=92))
    assert len(reminders()) == 2


def test_without_mail_url_the_reminder_lands_in_the_outbox_and_stays_in_the_app(
    app: Flask, lead: Person, ally: Person
) -> None:
    group = lead.create_group()
    lead.add(group, ally)
    action = ally.log_action(group)
    ally.ask(action, "immediate")
    make_due(app, action)
    assert "1 reminder email(s) sent" in run_due(app, today())
    assert "0 reminder email(s) sent" in run_due(app, today()), "not twice"
    filed = [BytesParser(policy=policy.default).parsebytes(f.read_bytes()) for f in outbox_files(app)]
    # The colleagues' links, and the ally's verification and invitation, are there too.
    reminders = [m for m in filed if m["To"] == ally.email and str(m["Subject"]).startswith("Time to follow up")]
    assert [m["Subject"] for m in reminders] == ["Time to follow up"]
    assert "http://allyloop.test/ally/" in reminders[0].get_content()
    assert [i["stage"] for i in ally.get("/api/v1/me/reminders").get_json()["items"]] == ["followup_30"]


def outbox_files(app: Flask) -> list[Path]:
    folder = Path(app.instance_path) / "outbox"
    return sorted(folder.glob("*.eml")) if folder.is_dir() else []


def test_a_failed_send_is_retried_on_the_next_run(app: Flask, lead: Person, ally: Person) -> None:
    group = lead.create_group()
    lead.add(group, ally)
    ally.ask(ally.log_action(group), "immediate")
    later = today() + timedelta(days=31)
    got: list[Mail] = []

    def broken(mail: Mail) -> None:
        raise Unavailable("could not reach the mail server (ConnectionRefusedError)")

    def dispatch(send: Send) -> int:
        return followups.dispatch_reminders(db.session, today=later, send=send, app_url="http://allyloop.test/ally/")

    with app.app_context():
        assert dispatch(broken) == 0
        assert dispatch(got.append) == 1
        assert dispatch(got.append) == 0
    due = [line for line in got[0].body.splitlines() if line.startswith("- Credit, on ")]
    assert len(due) == 1 and due[0].endswith(f": first follow-up, due {(today() + timedelta(days=30)).isoformat()}")


# --- Does it last? ---


@dataclass
class Team:
    app: Flask
    lead: Person
    group: int
    allies: list[tuple[Person, str]]  # each ally and the kind of action they log

    def insights(self) -> Any:
        return self.lead.get(f"/api/v1/groups/{self.group}/insights").get_json()


def team(app: Flask, lead: Person, kinds: list[str]) -> Team:
    group = lead.create_group()
    return Team(app, lead, group, [(member(lead, group, f"Ally{i}"), kind) for i, kind in enumerate(kinds)])


def followup_answers(
    team: Team, recipient: Recipient, order: list[int], immediate: dict[str, Any] | None = None
) -> None:
    """Each ally asks for a 30-day follow-up; answers arrive in ``order`` (indexes into the
    allies). With ``immediate``, the immediate requests are answered that way first, in the same order."""
    asked, tokens = [], []
    for person, kind in team.allies:
        action = person.log_action(team.group, kind=kind)
        asked.append(person.ask(action, "immediate", count=10))
        make_due(team.app, action)
        tokens.append(person.ask(action, "followup_30", count=10))
    for index in order if immediate is not None else []:
        assert recipient.answer(asked[index].pop(), immediate).status_code == 202
    for index in order:
        assert recipient.answer(tokens[index].pop(), LASTED).status_code == 202


def test_does_it_last_shows_follow_up_results_by_path_and_kind_above_k(
    app: Flask, lead: Person, recipient: Recipient
) -> None:
    three = team(app, lead, ["credit", "credit", "credit"])
    followup_answers(three, recipient, [0, 1, 2] * 3)  # the 8th answer releases 8 from three allies
    lasting = three.insights()["released"]["lasting"]
    assert lasting["overall"]["followup"] == {
        "responses": 8,
        "lasting": 4.0,
        "recurred_less": 1.0,
        "ally_checked_back": 1.0,
    }
    signaling = lasting["by_path"]["signaling"]
    assert signaling["mitigation"] is False and signaling["immediate"] is None, "no immediate answers yet"
    assert signaling["followup"]["responses"] == 8 and signaling["followup"]["lasting"] == 4.0
    credit = lasting["by_kind"]["credit"]
    assert credit["path"] == "signaling" and credit["followup"]["responses"] == 8
    mine = three.allies[0][0].get("/api/v1/me/feedback").get_json()["released"]["lasting"]
    assert mine["overall"]["followup"] is None, "an ally's own view needs k of their own answers"


def test_does_it_last_sets_the_immediate_results_beside_the_follow_up(
    app: Flask, lead: Person, recipient: Recipient
) -> None:
    three = team(app, lead, ["credit", "credit", "credit"])
    felt = {"wanted": "yes", "felt_recognised": 5, "seen_capable": 4, "changed_treatment": 2, "gave_access": "na"}
    followup_answers(three, recipient, [0, 1, 2] * 3, immediate=felt)
    signaling = three.insights()["released"]["lasting"]["by_path"]["signaling"]
    assert signaling["immediate"] == {
        "responses": 8,
        "complete": True,
        "wanted": 1.0,
        "signaling": 4.5,
        "mitigation": 2.0,
    }
    assert signaling["followup"]["lasting"] == 4.0


def test_does_it_last_is_suppressed_below_the_group_rules(app: Flask, lead: Person, recipient: Recipient) -> None:
    release_at_once(app)
    four = team(app, lead, ["credit", "credit", "credit", "sponsor"])
    followup_answers(four, recipient, [3, 0, 1, 2, 0, 1, 2])  # released at the 7th, cells too small
    lasting = four.insights()["released"]["lasting"]
    assert lasting["overall"]["followup"]["responses"] == 7
    assert lasting["by_path"]["signaling"]["followup"] == {"suppressed": True}
    assert lasting["by_path"]["access"]["followup"] == {"suppressed": True}
    assert lasting["by_kind"]["sponsor"]["followup"] == {"suppressed": True}


def both_stages(make_app: Any, answers: list[tuple[int, int]]) -> Any:
    """Three allies log a credit each; ally i's people answer answers[i] = (30-day, 90-day)
    follow-ups. Releases wait for one run (no worker), so the stages land in one cohort."""
    # Nothing listens at that Redis: no release until run_due_now, which releases at once.
    app = make_app(redis_url="redis://127.0.0.1:9/0", group_hold_days=0)
    client = app.test_client()
    lead, recipient = Person(client, "Lead"), Recipient(client)
    group = lead.create_group()
    for index, (thirty, ninety) in enumerate(answers):
        person = member(lead, group, f"Ally{index}")
        action = person.log_action(group, kind="credit")
        person.ask(action, "immediate", count=1)
        for stage, n in (("followup_30", thirty), ("followup_90", ninety)):
            make_due(app, action, stage)
            for token in person.ask(action, stage, count=n) if n else []:
                assert recipient.answer(token, LASTED if stage == "followup_30" else LASTED_LESS).status_code == 202
    with app.app_context():
        run_due_now()
    return lead.get(f"/api/v1/groups/{group}/insights").get_json()["released"]["lasting"]


LASTED_LESS = {"lasting_difference": 2, "recurred": "same", "ally_checked_back": "no"}


def test_does_it_last_tells_30_days_from_90_days_when_each_stage_has_enough(make_app: Any) -> None:
    lasting = both_stages(make_app, [(3, 3), (3, 3), (3, 3)])
    overall = lasting["overall"]
    assert overall["followup"]["responses"] == 18, "both stages, pooled"
    assert overall["followup_30"] == {
        "responses": 9,
        "complete": True,
        "lasting": 4.0,
        "recurred_less": 1.0,
        "ally_checked_back": 1.0,
    }
    assert overall["followup_90"]["responses"] == 9 and overall["followup_90"]["lasting"] == 2.0
    signaling = lasting["by_path"]["signaling"]
    assert (signaling["followup_30"]["lasting"], signaling["followup_90"]["lasting"]) == (4.0, 2.0)
    credit = lasting["by_kind"]["credit"]
    assert (credit["followup_30"]["responses"], credit["followup_90"]["recurred_less"]) == (9, 0.0)


def test_a_stage_below_k_is_suppressed_and_so_is_the_stage_that_would_give_it_away(make_app: Any) -> None:
    lasting = both_stages(make_app, [(3, 2), (3, 0), (3, 0)])
    assert lasting["overall"]["followup"]["responses"] == 11, "the pool still shows"
    assert lasting["overall"]["followup_90"] == {"suppressed": True}, "two answers, one ally"
    assert lasting["overall"]["followup_30"] == {"suppressed": True}, "else 90 days = all - 30 days"
    assert lasting["by_path"]["signaling"]["followup_90"] == {"suppressed": True}
    assert lasting["by_kind"]["credit"]["followup_30"] == {"suppressed": True}


def test_nothing_lasts_before_a_cohort_is_released(app: Flask, lead: Person, recipient: Recipient) -> None:
    three = team(app, lead, ["credit", "credit", "credit"])
    followup_answers(three, recipient, [0, 1, 2, 0])
    lasting = three.insights()["released"]["lasting"]
    nothing = {"immediate": None, "followup": None, "followup_30": None, "followup_90": None}
    assert lasting == {"overall": nothing, "by_path": {}, "by_kind": {}}


# --- The follow-up rate ---


def rate_with(app: Flask, lead: Person, actions_per_ally: list[int], followed: int) -> FollowupRate:
    group = lead.create_group()
    actions = []
    for index, count in enumerate(actions_per_ally):
        person = member(lead, group, f"Rate{index}")
        for _ in range(count):
            action = person.log_action(group)
            person.ask(action, "immediate", count=1)
            actions.append(action)
    later = today() + timedelta(days=200)
    with app.app_context():
        for action in actions[:followed]:
            db.session.execute(
                update(Followup)
                .where(Followup.action_id == action, Followup.stage == "followup_30")
                .values(asked_on=today() + timedelta(days=31))
            )
        db.session.commit()
        return followups.followup_rate(db.session, group, today=later, k=5)


def test_the_follow_up_rate_shows_with_enough_actions_from_enough_allies(app: Flask, lead: Person) -> None:
    rate = rate_with(app, lead, [3, 3, 3, 3], followed=4)
    # Oldest first, the first run passing the group rule (k=5) is 3+3+2 actions; the last 4 wait.
    assert rate.actions == 8 and rate.followed_up == 4 and rate.share == 0.5


def test_the_follow_up_rate_moves_only_by_whole_batches(app: Flask, lead: Person) -> None:
    """One more action, followed up or not, does not change the figure until a batch is complete."""
    before = rate_with(app, lead, [3, 3, 3, 3], followed=12)
    after = rate_with(app, lead, [3, 3, 3, 4], followed=13)
    assert before == after and before.actions == 8


def test_a_new_allys_actions_alone_never_move_the_follow_up_rate(app: Flask, lead: Person) -> None:
    """Five new actions from one ally are a whole k, but would show that ally's record."""
    before = rate_with(app, lead, [4, 3, 3], followed=6)
    after = rate_with(app, lead, [4, 3, 3, 5], followed=6)
    assert before == after and before.actions == 9


def test_a_follow_up_asked_long_after_it_was_due_does_not_count(app: Flask, lead: Person) -> None:
    group = lead.create_group()
    actions = []
    for index in range(4):
        person = member(lead, group, f"Late{index}")
        for _ in range(3):
            action = person.log_action(group)
            person.ask(action, "immediate", count=1)
            actions.append(action)
    with app.app_context():
        db.session.execute(
            update(Followup).where(Followup.action_id.in_(actions)).values(asked_on=today() + timedelta(days=90))
        )
        db.session.commit()
        rate = followups.followup_rate(db.session, group, today=today() + timedelta(days=200), k=5)
    assert rate.followed_up == 0 and rate.actions == 8


def test_the_follow_up_rate_is_suppressed_when_one_ally_carries_it(app: Flask, lead: Person) -> None:
    assert rate_with(app, lead, [3, 3], followed=2).suppressed, "two allies: one is exposed"
    assert rate_with(app, lead, [6, 1, 1], followed=2).suppressed, "without the busiest, too few"


def test_the_lead_sees_the_follow_up_rate_in_insights(lead: Person) -> None:
    group = lead.create_group()
    body = lead.get(f"/api/v1/groups/{group}/insights").get_json()
    assert body["followed_up"] == {"as_of": today().replace(day=1).isoformat(), "suppressed": True}
