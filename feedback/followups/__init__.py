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

One module per part: ``scheduling`` (rows, asking, what is due), ``reminders`` (the
mail loop), ``reminder_email`` (the email's wording) and ``rate`` (the lead's follow-up rate).
"""

from feedback.followups.rate import followup_rate
from feedback.followups.reminder_email import STAGE_NAMES, Reminder, ReminderItem, compose
from feedback.followups.reminders import GIVE_UP_AFTER, MAIL_WINDOW, dispatch_reminders
from feedback.followups.scheduling import (
    DEFAULT_DAYS,
    FOLLOWUP_STAGES,
    DueFollowup,
    ask,
    check_days,
    due_followups,
    schedule,
)

__all__ = [
    "DEFAULT_DAYS",
    "FOLLOWUP_STAGES",
    "GIVE_UP_AFTER",
    "MAIL_WINDOW",
    "STAGE_NAMES",
    "DueFollowup",
    "Reminder",
    "ReminderItem",
    "ask",
    "check_days",
    "compose",
    "dispatch_reminders",
    "due_followups",
    "followup_rate",
    "schedule",
]
