"""The reminder mail loop: each ally with due follow-ups is emailed once, at least once."""

import logging
from datetime import date, timedelta
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from feedback import mail
from feedback.followups.reminder_email import Reminder, ReminderItem, compose
from feedback.followups.scheduling import due_query
from feedback.models import Account, Action, Followup

# Follow-ups that came due longer ago than this are not emailed (say, once mail is first set
# up on an old install): they stay in the app's list, but nobody gets a backlog of stale mail.
MAIL_WINDOW: Final = timedelta(days=30)
GIVE_UP_AFTER: Final = 3  # failed sends in a row that end a run's mailing
# The jobs logger carries the privacy filter; messages here name no address anyway.
log = logging.getLogger("allyloop.jobs")


def dispatch_reminders(
    session: Session,
    *,
    today: date,
    send: mail.Send,
    app_url: str,
    speak: mail.Speak = mail.english,
) -> int:
    """Email each ally once about their due follow-ups not yet emailed (and due within
    ``MAIL_WINDOW``); returns the number of emails sent. ``app_url`` is where the email
    sends the ally (PUBLIC_BASE_URL + ``/ally/``); ``speak`` gives the words of the ally's
    language (the one they last signed in with), see ``compose``.

    Idempotent, and at least once: an ally's rows are locked (others skip them), the email
    is sent, then ``reminded_on`` is committed. A crash between the send and the commit
    sends that one email again on the next run; nothing is ever skipped, and a follow-up
    emailed and committed is never emailed again. A failed send is logged and retried on
    the next run; other allies still get theirs, unless ``GIVE_UP_AFTER`` sends fail in a
    row (the server is down), which ends this run's mailing. ``Refused`` and ``Unavailable``
    are failures like any other: logged by their type, retried on the next run.
    """
    fresh = (Followup.reminded_on.is_(None), Followup.due_on > today - MAIL_WINDOW)
    allies = session.scalars(
        select(Action.ally_id)
        .join(Followup, Followup.action_id == Action.id)
        .where(Followup.due_on <= today, Followup.asked_on.is_(None), *fresh)
        .distinct()
        .order_by(Action.ally_id)
    ).all()
    session.commit()  # end the read before taking locks ally by ally
    sent = failed = 0
    for ally_id in allies:
        if failed >= GIVE_UP_AFTER:
            # The mail server is likely down: stop here rather than wait out a timeout per
            # ally, which would hold up the next release run. The next run tries again.
            log.error("%s reminders failed in a row; the rest wait for the next run", failed)
            break
        try:
            rows = session.execute(
                due_query(today).where(Action.ally_id == ally_id, *fresh).with_for_update(of=Followup, skip_locked=True)
            ).all()
            account = session.get(Account, ally_id)
            if not rows or account is None:
                session.commit()
                continue
            items = tuple(ReminderItem(f.stage, a.kind, a.occurred_on, f.due_on) for f, a in rows)
            reminder = Reminder(ally_id=ally_id, to=account.email, name=account.name, items=items, on=today)
            send(compose(reminder, app_url, speak(account.locale)))
            for followup, _ in rows:
                followup.reminded_on = today
            session.commit()
            sent += 1
            failed = 0
        except Exception as exc:  # noqa: BLE001 - one ally's mail must not stop the others'
            session.rollback()
            failed += 1
            # The type only: SMTP errors quote addresses, and the ally's address stays out of logs.
            log.error("reminder for ally %s failed (%s); it is retried on the next run", ally_id, type(exc).__name__)
    return sent
