"""Follow-up rules on their own: due days, what may be asked when, what a reminder says."""

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from feedback import followups
from feedback.errors import Conflict
from feedback.mail import Mail, Refused, Send, Unavailable, Words
from feedback.models import Account, Action, Base, Group, Membership

DAY = date(2027, 3, 10)
APP = "https://allyloop.example.org/ally/"


@pytest.fixture
def session() -> Iterator[Session]:
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        yield session
    engine.dispose()


def dispatch(session: Session, today: date, send: Send) -> int:
    return followups.dispatch_reminders(session, today=today, send=send, app_url=APP)


def due_lines(mail: Mail) -> list[str]:
    return [line for line in mail.body.splitlines() if line.startswith("- ")]


def reminder(*items: followups.ReminderItem) -> followups.Reminder:
    return followups.Reminder(ally_id=1, to="alex@example.org", name="Alex", items=items, on=date(2027, 6, 8))


def an_action(session: Session, email: str = "alex@example.org") -> tuple[Account, Action]:
    ally = Account(email=email, name="Alex", password_hash="x", created_on=DAY)
    group = Group(name="G", created_on=DAY)
    session.add_all([ally, group])
    session.flush()
    session.add(Membership(group_id=group.id, account_id=ally.id, role="ally"))
    action = Action(
        group_id=group.id,
        ally_id=ally.id,
        kind="credit",
        summary="Credited Sam",
        occurred_on=DAY,
        visibility="public",
        created_on=DAY,
    )
    session.add(action)
    session.flush()
    return ally, action


@pytest.mark.parametrize("days", [(30, 90), (1, 2), (7, 3650)])
def test_increasing_offsets_up_to_ten_years_are_accepted(days: tuple[int, int]) -> None:
    assert followups.check_days(days) == days


@pytest.mark.parametrize("days", [(30,), (30, 60, 90), (0, 30), (90, 30), (30, 30), (30, 3651), (-1, 5)])
def test_offsets_that_are_not_two_increasing_days_are_refused(days: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="30,90"):
        followups.check_days(days)


def test_follow_ups_come_due_from_the_day_of_the_immediate_request(session: Session) -> None:
    ally, action = an_action(session)
    followups.schedule(session, action, today=DAY)
    assert followups.due_followups(session, ally, date(2027, 4, 8)) == []
    due = followups.due_followups(session, ally, date(2027, 4, 9))
    assert [(d.stage, d.due_on) for d in due] == [("followup_30", date(2027, 4, 9))]
    later = followups.due_followups(session, ally, date(2027, 6, 8))
    assert [d.stage for d in later] == ["followup_30", "followup_90"], "unasked ones stay due"


def test_scheduling_again_keeps_the_first_due_days(session: Session) -> None:
    ally, action = an_action(session)
    followups.schedule(session, action, today=DAY)
    followups.schedule(session, action, today=date(2027, 5, 1))
    assert followups.due_followups(session, ally, date(2027, 4, 9))[0].due_on == date(2027, 4, 9)


def test_asking_is_refused_without_a_schedule_and_before_the_day(session: Session) -> None:
    ally, action = an_action(session)
    with pytest.raises(Conflict, match="immediate"):
        followups.ask(session, action, "followup_30", today=DAY)
    followups.schedule(session, action, today=DAY)
    with pytest.raises(Conflict, match="2027-04-09"):
        followups.ask(session, action, "followup_30", today=date(2027, 4, 8))
    followups.ask(session, action, "followup_30", today=date(2027, 4, 9))
    assert followups.due_followups(session, ally, date(2027, 4, 20)) == [], "asked is no longer due"


def test_an_ally_who_left_the_group_is_not_reminded(session: Session) -> None:
    ally, action = an_action(session)
    followups.schedule(session, action, today=DAY)
    session.query(Membership).delete()
    assert followups.due_followups(session, ally, date(2027, 12, 1)) == []
    assert dispatch(session, date(2027, 12, 1), lambda m: None) == 0


def test_one_email_per_ally_lists_every_due_follow_up_once(session: Session) -> None:
    _ally, action = an_action(session)
    followups.schedule(session, action, today=DAY, days=(30, 40))
    sent: list[Mail] = []
    assert dispatch(session, date(2027, 4, 20), sent.append) == 1
    assert dispatch(session, date(2027, 4, 21), sent.append) == 0
    assert [(m.to, due_lines(m)) for m in sent] == [
        (
            "alex@example.org",
            [
                "- Credit, on 2027-03-10: first follow-up, due 2027-04-09",
                "- Credit, on 2027-03-10: second follow-up, due 2027-04-19",
            ],
        )
    ]


def test_the_reminder_text_gives_kinds_and_days_and_the_app_but_no_summary(session: Session) -> None:
    _ally, action = an_action(session)  # summary "Credited Sam"
    followups.schedule(session, action, today=DAY, days=(30, 40))
    sent: list[Mail] = []
    assert dispatch(session, date(2027, 4, 20), sent.append) == 1
    subject, body = sent[0].subject, sent[0].body
    assert subject == "Time to follow up (2 follow-ups)" and "2 follow-ups are due" in body
    assert "- Credit, on 2027-03-10: first follow-up, due 2027-04-09" in body
    assert "- Credit, on 2027-03-10: second follow-up, due 2027-04-19" in body
    assert "https://allyloop.example.org/ally/" in body and "/r/" not in body
    assert "Sam" not in subject + body, "the summary may name the person helped: it stays in the app"


def test_a_single_reminder_says_one_is_due() -> None:
    item = followups.ReminderItem("followup_90", "share_resource", date(2027, 3, 10), date(2027, 6, 8))
    mail = followups.compose(reminder(item), "https://a.example/ally/")
    subject, body = mail.subject, mail.body
    assert subject == "Time to follow up" and "1 follow-up is due" in body
    assert "- Share a resource, on 2027-03-10: second follow-up, due 2027-06-08" in body


def test_every_sentence_kind_stage_and_day_of_the_reminder_goes_through_the_language() -> None:
    catalogue = {
        "Time to follow up": "Zeit nachzufragen",
        "%(count)s follow-up is due:": "%(count)s Nachfrage ist fällig:",
        "- %(kind)s, on %(occurred)s: %(stage)s, due %(due)s": "- %(kind)s am %(occurred)s: %(stage)s, fällig %(due)s",
        "Introduce": "Vorstellen",
        "second follow-up": "zweite Nachfrage",
    }
    item = followups.ReminderItem("followup_90", "connect", date(2027, 3, 10), date(2027, 6, 8))
    german = Words(
        gettext=lambda text: catalogue.get(text, text),
        ngettext=lambda one, many, n: catalogue.get(one if n == 1 else many, one if n == 1 else many),
        day=lambda day: day.strftime("%d.%m.%Y"),
    )
    mail = followups.compose(reminder(item), "https://a.example/ally/", german)
    subject, body = mail.subject, mail.body
    assert subject == "Zeit nachzufragen" and "1 Nachfrage ist fällig:" in body
    assert "- Vorstellen am 10.03.2027: zweite Nachfrage, fällig 08.06.2027" in body, (
        "the kind and days read as on the pages"
    )


def test_follow_ups_due_long_ago_are_listed_but_not_emailed(session: Session) -> None:
    ally, action = an_action(session)
    followups.schedule(session, action, today=DAY)
    sent: list[Mail] = []
    long_after = date(2027, 9, 7)  # 90 days after the 90-day follow-up came due
    assert dispatch(session, long_after, sent.append) == 0
    assert len(followups.due_followups(session, ally, long_after)) == 2


def test_a_mail_server_that_is_down_ends_the_run_after_a_few_tries(session: Session) -> None:
    for index in range(5):
        _ally, action = an_action(session, email=f"ally{index}@example.org")
        followups.schedule(session, action, today=DAY)
    tries: list[str] = []

    def down(mail: Mail) -> None:
        tries.append(mail.to)
        raise Unavailable("could not reach the mail server (TimeoutError)")

    assert dispatch(session, date(2027, 4, 9), down) == 0
    assert len(tries) == followups.GIVE_UP_AFTER, "no timeout per ally while the server is down"
    sent: list[Mail] = []
    assert dispatch(session, date(2027, 4, 10), sent.append) == 5, "all caught up"


def test_an_address_the_server_refuses_holds_up_no_one_else_and_is_tried_again_next_run(session: Session) -> None:
    for index in range(3):
        _ally, action = an_action(session, email=f"ally{index}@example.org")
        followups.schedule(session, action, today=DAY)
    sent: list[Mail] = []

    def refusing(mail: Mail) -> None:
        if mail.to == "ally1@example.org":
            raise Refused("the mail server refused the recipient for good (550)")
        sent.append(mail)

    assert dispatch(session, date(2027, 4, 9), refusing) == 2
    assert dispatch(session, date(2027, 4, 10), sent.append) == 1
    assert sorted(m.to for m in sent) == ["ally0@example.org", "ally1@example.org", "ally2@example.org"]


def test_a_reminder_sent_again_after_a_failure_is_the_same_email(session: Session) -> None:
    """The server took it but the connection broke before its answer: the resend keeps the
    key (so the Message-ID), and the ally's mail client shows one email."""
    _ally, action = an_action(session)
    followups.schedule(session, action, today=DAY)
    tried: list[Mail] = []

    def lost_answer(mail: Mail) -> None:
        tried.append(mail)
        raise Unavailable("could not reach the mail server (SMTPServerDisconnected)")

    assert dispatch(session, date(2027, 4, 9), lost_answer) == 0
    assert dispatch(session, date(2027, 4, 9), tried.append) == 1
    assert len(tried) == 2 and tried[0] == tried[1], "same address, text and key"
