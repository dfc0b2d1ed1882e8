"""The reminder email's wording: what it tells an ally about their due follow-ups, and
nothing more (no summary, no link, nothing about any recipient)."""

import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Final

from feedback import mail
from feedback.kinds import kind_name
from feedback.wording import N_

STAGE_NAMES: Final = {"followup_30": N_("first follow-up"), "followup_90": N_("second follow-up")}


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
