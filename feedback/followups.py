"""Follow-ups: did the help last? Asking again at 30 and 90 days, and reminding the ally.

When an ally first asks for ``immediate`` feedback on an action, one ``Followup`` row per
follow-up stage is written with its due day. The database is the source of truth: the
reminders API and the reminder email read these rows, and no queue holds any schedule.

Rules (docs/followups.md explains why):

- follow-ups exist only for actions with an immediate request; asking for a follow-up
  stage without one, or before its due day, is a ``Conflict``;
- the first request for a follow-up stage marks it asked; asking again for more links is
  allowed and changes nothing;
- a follow-up is *due* from its due day until it is asked, while the ally is still a
  member of the action's group;
- each due follow-up is emailed once (``reminded_on``), one email per ally per run,
  holding no link, no token, no summary and nothing about any recipient (only the kind of
  action and its days); one that came due more than ``MAIL_WINDOW`` ago is not emailed,
  only listed.

Only days are stored. Nothing here imports Flask; sending mail is a plain callable
(``feedback.mail.Send``).
"""

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from feedback import closing, mail, stages
from feedback.errors import Conflict
from feedback.figures import FollowupRate
from feedback.kinds import kind_name
from feedback.models import Account, Action, Followup, Membership
from feedback.wording import N_

FOLLOWUP_STAGES: Final = stages.FOLLOWUPS
DEFAULT_DAYS: Final = (30, 90)
# Follow-ups that came due longer ago than this are not emailed (say, once mail is first set
# up on an old install): they stay in the app's list, but nobody gets a backlog of stale mail.
MAIL_WINDOW: Final = timedelta(days=30)
GIVE_UP_AFTER: Final = 3  # failed sends in a row that end a run's mailing
STAGE_NAMES: Final = {"followup_30": N_("first follow-up"), "followup_90": N_("second follow-up")}
# The jobs logger carries the privacy filter; messages here name no address anyway.
log = logging.getLogger("allyloop.jobs")


@dataclass(frozen=True)
class DueFollowup:
    action_id: int
    stage: str
    due_on: date
    summary: str  # the ally's own words about what they did


@dataclass(frozen=True)
class ReminderItem:
    """One due follow-up as the email tells it: the kind of action and its days only.

    No summary: the ally's own words often name the colleague they helped ("Credited
    Priya's idea"), and the email passes through mail providers. The ally reads the
    summary in the app.
    """

    stage: str
    kind: str
    occurred_on: date
    due_on: date


@dataclass(frozen=True)
class Reminder:
    """One reminder email: to one ally, about their own due follow-ups. No token, no
    summary, nothing about any recipient."""

    ally_id: int
    to: str
    name: str
    items: tuple[ReminderItem, ...]
    on: date  # the day of the run; with the ally, it names the email (a resend is the same email)


Send = mail.Send  # feedback.jobs takes a sender by this name


def check_days(days: Sequence[int]) -> tuple[int, int]:
    """Offsets in days for followup_30 and followup_90: two, increasing, at most ten years."""
    if len(days) != len(FOLLOWUP_STAGES):
        raise ValueError(f"give {len(FOLLOWUP_STAGES)} numbers of days, one per follow-up, such as 30,90")
    first, second = days
    if not 0 < first < second <= 3650:
        raise ValueError("the days must increase, from 1 up to 3650, such as 30,90")
    return first, second


def schedule(session: Session, action: Action, *, today: date, days: Sequence[int] = DEFAULT_DAYS) -> None:
    """Make the action's follow-ups due ``days`` after today, unless they already exist.

    Called when an immediate request is made; a second immediate request moves nothing.
    """
    existing = set(session.scalars(select(Followup.stage).where(Followup.action_id == action.id)))
    for stage, offset in zip(FOLLOWUP_STAGES, check_days(days), strict=True):
        if stage in existing:
            continue
        try:
            with session.begin_nested():  # a racing request may have made it: theirs stands
                session.add(Followup(action_id=action.id, stage=stage, due_on=today + timedelta(days=offset)))
        except IntegrityError:
            continue


def ask(session: Session, action: Action, stage: str, *, today: date) -> None:
    """Check that the follow-up ``stage`` may be asked today, and mark it asked.

    Raises Conflict before the immediate request or before the due day: answers collected
    early would say nothing about whether the help lasted, and would dilute the pool that does.
    """
    followup = session.scalar(
        select(Followup).where(Followup.action_id == action.id, Followup.stage == stage).with_for_update()
    )
    if followup is None:
        raise Conflict("ask for immediate feedback on this action first; follow-ups come after it")
    if followup.due_on > today:
        raise Conflict(f"this follow-up is due on {followup.due_on.isoformat()}; ask then")
    if followup.asked_on is None:
        followup.asked_on = today
        session.flush()


def _due_query(today: date) -> Any:
    return (
        select(Followup, Action)
        .join(Action, Followup.action_id == Action.id)
        # Someone who left the group can no longer ask, so they are not reminded either.
        .join(Membership, (Membership.group_id == Action.group_id) & (Membership.account_id == Action.ally_id))
        .where(Followup.due_on <= today, Followup.asked_on.is_(None))
        .order_by(Followup.due_on, Followup.action_id, Followup.stage)
    )


def due_followups(session: Session, ally: Account, today: date) -> list[DueFollowup]:
    """The ally's own follow-ups that are due and not yet asked, oldest first."""
    rows = session.execute(_due_query(today).where(Action.ally_id == ally.id)).all()
    return [DueFollowup(f.action_id, f.stage, f.due_on, a.summary) for f, a in rows]


def dispatch_reminders(
    session: Session,
    *,
    today: date,
    send: mail.Send,
    app_url: str,
    commit: Callable[[], None] | None = None,
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
    commit = commit or session.commit
    fresh = (Followup.reminded_on.is_(None), Followup.due_on > today - MAIL_WINDOW)
    allies = session.scalars(
        select(Action.ally_id)
        .join(Followup, Followup.action_id == Action.id)
        .where(Followup.due_on <= today, Followup.asked_on.is_(None), *fresh)
        .distinct()
        .order_by(Action.ally_id)
    ).all()
    commit()  # end the read before taking locks ally by ally
    sent = failed = 0
    for ally_id in allies:
        if failed >= GIVE_UP_AFTER:
            # The mail server is likely down: stop here rather than wait out a timeout per
            # ally, which would hold up the next release run. The next run tries again.
            log.error("%s reminders failed in a row; the rest wait for the next run", failed)
            break
        try:
            rows = session.execute(
                _due_query(today)
                .where(Action.ally_id == ally_id, *fresh)
                .with_for_update(of=Followup, skip_locked=True)
            ).all()
            account = session.get(Account, ally_id)
            if not rows or account is None:
                commit()
                continue
            items = tuple(ReminderItem(f.stage, a.kind, a.occurred_on, f.due_on) for f, a in rows)
            reminder = Reminder(ally_id=ally_id, to=account.email, name=account.name, items=items, on=today)
            send(compose(reminder, app_url, speak(account.locale)))
            for followup, _ in rows:
                followup.reminded_on = today
            commit()
            sent += 1
            failed = 0
        except Exception as exc:  # noqa: BLE001 - one ally's mail must not stop the others'
            session.rollback()
            failed += 1
            # The type only: SMTP errors quote addresses, and the ally's address stays out of logs.
            log.error("reminder for ally %s failed (%s); it is retried on the next run", ally_id, type(exc).__name__)
    return sent


def compose(reminder: Reminder, app_url: str, words: mail.Words = mail.ENGLISH) -> mail.Mail:
    """The reminder email: how many follow-ups are due and, for each, the kind of action,
    the day it happened and the due day, then the app's address. Its key names the ally,
    the day and the text, so an email sent again after a crash keeps its Message-ID.

    Never the ally's summary (it may name the person helped), no link token, nothing about
    anyone who answered. ``words`` translates each sentence whole (placeholders are
    ``%(name)s`` style so translators can move them), with the language's plurals and dates.
    """
    _ = words.gettext
    count = len(reminder.items)
    subject = words.ngettext("Time to follow up", "Time to follow up (%(count)s follow-ups)", count) % {"count": count}
    due = words.ngettext("%(count)s follow-up is due:", "%(count)s follow-ups are due:", count) % {"count": count}
    lines = [
        _("Hello %(name)s,") % {"name": reminder.name},
        "",
        _("A while ago you helped a colleague. A short follow-up shows whether it made a lasting difference."),
        "",
        due,
        "",
    ]
    for item in reminder.items:
        line = _("- %(kind)s, on %(occurred)s: %(stage)s, due %(due)s") % {
            "kind": _(kind_name(item.kind)),
            "occurred": words.day(item.occurred_on),
            "stage": _(STAGE_NAMES.get(item.stage, item.stage)),
            "due": words.day(item.due_on),
        }
        lines.append(line)
    lines += [
        "",
        _("Sign in to see which actions these are, make the follow-up links and share them as before:"),
        app_url,
        "",
        _("You get this email once per follow-up. Answers stay anonymous and pooled."),
    ]
    body = "\n".join(lines) + "\n"
    # The same text to the same ally on the same day is the same email (a resend after a
    # crash); a different one that day (say, after rejoining a group) must not look like it.
    text = hashlib.sha256(body.encode()).hexdigest()[:16]
    key = f"reminder-{reminder.ally_id}-{reminder.on.isoformat()}-{text}"
    return mail.Mail(to=reminder.to, subject=subject, body=body, key=key)


def followup_rate(session: Session, group_id: int, *, today: date, k: int) -> FollowupRate:
    """The share of the group's actions whose ally followed up, as a group aggregate.

    An action counts as followed up when its first follow-up was asked within
    ``closing.FOLLOW_UP_WINDOW`` of coming due, and it is counted only once that window has closed
    before the first day of this month, so its status is final when it enters the figure.
    Like answers into a group cohort, actions enter in batches, oldest first, each batch
    the shortest run that passes the group pool rule on its own (at least k actions from at
    least two allies, still so with any one ally's taken away). So what the figure gains
    from one month to the next is never one ally's record; until the first batch, it is
    suppressed. Counted batches are stored as each month closes (``feedback.closing``) and
    never cut again: an ally who leaves takes nothing out of them, and a changed
    ``RELEASE_MIN_RESPONSES`` applies to the batches still to come.
    """
    state, _ = closing.advance(session, group_id, cutoff=today.replace(day=1), k=k)
    as_of = state.through or today.replace(day=1)
    if not state.actions:
        return FollowupRate(as_of=as_of)
    return FollowupRate(as_of=as_of, actions=state.actions, followed_up=state.followed_up)
