"""Delivered requests (P8): the platform emails each named colleague their own link.

The ally names the colleagues they helped by work address. Each one gets a link whose token
only their email ever holds: not a response, a page, a log line or a mail to the ally. So
no one can answer in a colleague's place, and an answer to a delivered link is the only
kind that counts toward k (``feedback.release.rules.safe_voices``).

Until the mail server takes the message, the address and the token wait in a ``Delivery``
row, encrypted at rest; then the row goes, and all that is left of the address is the keyed
hash beside the link (gone with the link). A refused address stays, encrypted, until the
ally has been shown the refusal once.

Sending is at least once and, barring a crash in the instant between the mail server's
"OK" and our commit, exactly once: a sender first moves the row's ``due_at`` ahead (a
conditional update that only one sender wins), then sends, then deletes the row. A sender
that dies before sending leaves the row to come due again and be sent then; one that dies
after the server took the message but before its commit sends it again with the same
Message-ID, which mail clients show as one message.

Nothing here imports Flask; sending mail is a plain callable (``feedback.mail.Send``).
"""

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Final

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from crypto import atrest
from feedback import addresses
from feedback.errors import Invalid
from feedback.mail import ENGLISH, Mail, Refused, Send, Speak, Unavailable, Words, english
from feedback.models import Account, Action, Delivery, FeedbackRequest
from feedback.wording import N_, Wording

MAX_RECIPIENTS: Final = 50
QUEUED: Final = "queued"
REFUSED: Final = "refused"  # the mail server refused the address for good
EXPIRED: Final = "expired"  # the mail server was away until the link expired
# A sender holds a row this long; one that died meanwhile lets it come due again then.
HOLD: Final = timedelta(minutes=10)
FIRST_RETRY: Final = timedelta(minutes=1)
LAST_RETRY: Final = timedelta(hours=1)  # retries back off up to this, until the link expires
BATCH: Final = 200
log = logging.getLogger("allyloop.jobs")  # the jobs logger carries the privacy filter


@dataclass(frozen=True)
class DeliveryKeys:
    recipients: bytes  # keys the recipient hashes, and the tags answers keep of them
    at_rest: bytes  # encrypts addresses and tokens while they wait to be sent


@dataclass(frozen=True)
class Recipient:
    typed: str  # as the ally typed it, trimmed: what the mail goes to and a refusal shows
    address: str  # normalised: what is hashed and compared


@dataclass
class SendReport:
    sent: int = 0
    refused: int = 0
    deferred: int = 0
    expired: int = 0


@dataclass(frozen=True)
class Status:
    """What the ally may know of a delivered request: counts, and refusals of what they typed."""

    sent: int
    waiting: int
    refused: list[str] = field(default_factory=list)
    expired: list[str] = field(default_factory=list)


def check_recipients(typed: Sequence[str], *, own: str, domains: Sequence[str]) -> list[Recipient]:
    """The colleagues to ask, or Invalid naming each address that cannot be asked.

    Refused: a malformed address, one outside the organisation's domains (when they are
    set), the ally's own, and the same person twice (compared normalised: case and
    plus-addressing do not make a second person).
    """
    if not 1 <= len(typed) <= MAX_RECIPIENTS:
        raise Invalid(
            "name the colleagues to ask",
            {"recipients": Wording(N_("give between 1 and %(n)s work addresses"), n=MAX_RECIPIENTS)},
        )
    try:
        mine = addresses.normalise(own)
    except ValueError:
        mine = own.strip().lower()
    errors: dict[str, str] = {}
    first: dict[str, str] = {}
    chosen: list[Recipient] = []
    for index, text in enumerate(typed):
        text = text.strip()
        name = f"recipients.{index}"
        try:
            address = addresses.normalise(text)
        except ValueError as exc:
            why = exc.args[0] if exc.args else ""
            errors[name] = Wording(N_("“%(address)s” is not an email address: %(why)s"), address=text, why=why)
            continue
        if domains and not addresses.in_domains(address, domains):
            errors[name] = Wording(
                N_("%(address)s is not an address of the organisation (%(domains)s)"),
                address=text,
                domains=", ".join(domains),
            )
        elif address == mine:
            errors[name] = Wording(N_("%(address)s is your own address: ask the colleagues you helped"), address=text)
        elif address in first:
            errors[name] = Wording(
                N_("%(address)s is the same person as %(other)s"), address=text, other=first[address]
            )
        else:
            first[address] = text
            chosen.append(Recipient(typed=text, address=address))
    if errors:
        raise Invalid("some addresses cannot be asked", errors)
    return chosen


def _context(request_id: int | None) -> bytes:
    """Binds a waiting email to its request, so a row moved to another request does not open."""
    return b"allyloop/delivery/" + (b"account" if request_id is None else str(request_id).encode())


def seal(key: bytes, request_id: int, to: str, token: str | None) -> bytes:
    """The address (and, until sent, the token) of a waiting email, encrypted at rest."""
    body = {"to": to} if token is None else {"to": to, "token": token}
    return atrest.encrypt(key, json.dumps(body).encode(), _context(request_id))


def _unseal(key: bytes, delivery: Delivery) -> dict[str, str]:
    body: dict[str, str] = json.loads(atrest.decrypt(key, delivery.sealed, _context(delivery.request_id)))
    return body


def enqueue(session: Session, key: bytes, mail: Mail, *, now: datetime, expires_at: datetime) -> None:
    """Queue an email about an account (a verification, a reset, an invitation), composed
    already, to be sent like the emails with links: in the background, retried while the
    mail server is away, until ``expires_at`` (its link's), and encrypted at rest meanwhile.

    Whoever asked gets their answer before the mail server is even tried, so how long the
    answer takes never tells whether an address has an account.
    """
    body = {"to": mail.to, "subject": mail.subject, "body": mail.body, "key": mail.key}
    sealed = atrest.encrypt(key, json.dumps(body).encode(), _context(None))
    session.add(Delivery(request_id=None, sealed=sealed, state=QUEUED, attempts=0, due_at=now, expires_at=expires_at))
    session.flush()


@dataclass(frozen=True)
class Letter:
    """What the email to one recipient says: who asked, what about, and their own link."""

    ally_name: str
    stage: str
    url: str
    expires_on: date
    k: int


@dataclass(frozen=True)
class Mailer:
    """What sending the app's emails needs (links here, reminders in ``feedback.followups``)."""

    send: Send
    key: bytes  # DeliveryKeys.at_rest
    app_url: str  # PUBLIC_BASE_URL: the links point there
    k: int  # the emails say how many answers a result pools
    speak: Speak = english  # the words of the language the email goes out in


def _retry_in(attempts: int) -> timedelta:
    later: timedelta = FIRST_RETRY * 2 ** min(max(attempts - 1, 0), 10)
    return min(later, LAST_RETRY)


def due_ids(session: Session, now: datetime, limit: int = BATCH) -> list[int]:
    return list(
        session.scalars(
            select(Delivery.id)
            .where(Delivery.state == QUEUED, Delivery.due_at <= now)
            .order_by(Delivery.due_at, Delivery.id)
            .limit(limit)
        )
    )


def send_due(session: Session, mailer: Mailer, *, now: datetime) -> SendReport:
    """Send every email that is due, each in transactions of its own (see the module's
    docstring for why that makes it exactly once). Idempotent: a second run finds nothing
    due. When the mail server is away, the rest wait for the next run, backing off."""
    report = SendReport()
    for delivery_id in due_ids(session, now):
        held = session.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id, Delivery.state == QUEUED, Delivery.due_at <= now)
            .values(due_at=now + HOLD, attempts=Delivery.attempts + 1)
        )
        session.commit()
        if held.rowcount != 1:  # type: ignore[attr-defined]
            continue  # another sender has it
        delivery = session.get(Delivery, delivery_id)
        if delivery is None:
            continue
        key = mailer.key
        body = _unseal(key, delivery)
        if delivery.expires_at <= now:
            _give_up(session, key, delivery, body["to"], EXPIRED)
            report.expired += 1
            session.commit()
            continue
        try:
            mailer.send(_mail(session, delivery, body, mailer))
        except Refused:
            _give_up(session, key, delivery, body["to"], REFUSED)
            report.refused += 1
            session.commit()
            continue
        except Unavailable as exc:
            delivery.due_at = now + _retry_in(delivery.attempts)
            session.commit()
            report.deferred += 1
            # The type only: what a mail server says may quote the address.
            log.warning("the mail server is away (%s); emails with links wait and are retried", type(exc).__name__)
            break
        session.execute(delete(Delivery).where(Delivery.id == delivery_id))
        if delivery.request_id is not None:
            session.execute(
                update(FeedbackRequest)
                .where(FeedbackRequest.id == delivery.request_id)
                .values(sent=FeedbackRequest.sent + 1)
            )
        session.commit()
        report.sent += 1
    return report


def _give_up(session: Session, key: bytes, delivery: Delivery, to: str, state: str) -> None:
    """A link's email the ally will be told about (the address alone is kept until then);
    an account's email is simply dropped: whoever asked for it can ask again."""
    if delivery.request_id is None:
        session.delete(delivery)
        return
    request_id = delivery.request_id
    delivery.state, delivery.sealed = state, seal(key, request_id, to, None)


def _mail(session: Session, delivery: Delivery, body: dict[str, str], mailer: Mailer) -> Mail:
    if delivery.request_id is None:
        return Mail(to=body["to"], subject=body["subject"], body=body["body"], key=body["key"])
    stage, ally_name, language = session.execute(
        select(FeedbackRequest.stage, Account.name, Account.locale)
        .join(Action, FeedbackRequest.action_id == Action.id)
        .join(Account, Action.ally_id == Account.id)
        .where(FeedbackRequest.id == delivery.request_id)
    ).one()
    letter = Letter(
        ally_name=ally_name,
        stage=stage,
        url=f"{mailer.app_url}/r/{body['token']}",
        expires_on=delivery.expires_at.date(),
        k=mailer.k,
    )
    # In the ally's language: the colleagues they ask work beside them.
    subject, text = compose(letter, mailer.speak(language))
    return Mail(to=body["to"], subject=subject, body=text, key=f"delivery-{delivery.id}")


def statuses(session: Session, request_ids: Sequence[int], *, key: bytes) -> dict[int, Status]:
    """Per request: how many emails went, how many wait, and the refused addresses.

    Refusals are shown once: reading them forgets them (the caller commits). They are the
    addresses the ally typed, and say nothing about any answer.
    """
    if not request_ids:
        return {}
    sent = {
        request_id: n
        for request_id, n in session.execute(
            select(FeedbackRequest.id, FeedbackRequest.sent).where(FeedbackRequest.id.in_(request_ids))
        ).tuples()
    }
    waiting = {
        request_id: n
        for request_id, n in session.execute(
            select(Delivery.request_id, func.count())
            .where(Delivery.request_id.in_(request_ids), Delivery.state == QUEUED)
            .group_by(Delivery.request_id)
        ).tuples()
    }
    done = session.scalars(
        select(Delivery)
        .where(Delivery.request_id.in_(request_ids), Delivery.state.in_((REFUSED, EXPIRED)))
        .order_by(Delivery.id)
    ).all()
    refused: dict[int, list[str]] = {}
    expired: dict[int, list[str]] = {}
    for delivery in done:
        into = refused if delivery.state == REFUSED else expired
        into.setdefault(delivery.request_id or 0, []).append(_unseal(key, delivery)["to"])
    if done:
        session.execute(delete(Delivery).where(Delivery.id.in_([d.id for d in done])))
    return {
        request_id: Status(
            sent=sent.get(request_id, 0),
            waiting=waiting.get(request_id, 0),
            refused=refused.get(request_id, []),
            expired=expired.get(request_id, []),
        )
        for request_id in request_ids
    }


def compose(letter: Letter, words: Words = ENGLISH) -> tuple[str, str]:
    """Subject and plain-text body of the email that carries one recipient's link.

    It names the ally (the recipient knows who helped them, and an unknown sender reads as
    phishing) but not what they wrote about it: the page shows that, over HTTPS. It says
    who will read what, and that ignoring it is fine.
    """
    _ = words.gettext
    names = {"name": letter.ally_name}
    if letter.stage == "advice":
        subject = _("%(name)s would like your advice before acting") % names
        ask = _("%(name)s wants to support you in a way that suits you, and asks what you would prefer.") % names
    elif letter.stage == "immediate":
        subject = _("Did %(name)s's support help? Two minutes, anonymous") % names
        ask = _("%(name)s did something to support you recently and would like to know whether it helped.") % names
    else:
        subject = _("Did %(name)s's support last? Two minutes, anonymous") % names
        ask = _("%(name)s supported you a while ago and would like to know whether it made a lasting difference.") % (
            names
        )
    lines = [
        _("Hello,"),
        "",
        ask,
        "",
        _("%(name)s asked Allyloop, your organisation's feedback tool, to send you this link:") % names,
        "",
        letter.url,
        "",
        _(
            "It is yours alone: %(name)s never sees it and cannot tell whether you answered. Your answer is "
            "sealed before it leaves your browser and is only ever shown pooled with the answers of at least "
            "%(k)s colleagues, never on its own. Every question can be skipped."
        )
        % {"name": letter.ally_name, "k": letter.k},
        "",
        _("The link works once, until %(day)s. If you would rather not answer, ignore this email.")
        % {"day": words.day(letter.expires_on)},
    ]
    return subject, "\n".join(lines) + "\n"
