"""Response load: how often the people a group's allies help are asked for feedback.

Per period of whole calendar months: how many answer links the group's allies sent, how
many answers came back (released), and how many of those were "I'd rather not answer".
Asking is itself a burden (DESIGN §1); this shows a lead whether the group asks too much.

What it reads, and why it is safe (P3, P5):

- Links sent: ``FeedbackRequest.link_count`` by the day the ally made the request (an
  ally-side day; links themselves are purged after expiry, requests are not). Nothing
  about any recipient, and nothing about whether a link was answered.
- Answers: released group cohorts only, by the month they were released (answers carry
  no time on purpose, so "came back" means "was released"), read from the scopes' views
  (``ScopeView.months``); "I'd rather not answer" is the cohort document's ``declined``.
  Every cohort already passed the release rules, and the trend by month shows the same
  answers.
- Only closed months count (before the first day of this month), so a shown figure is
  final: no later look at the page differs from an earlier one by one ally's link.
- Links are shown per *period*: months are merged, oldest first, until the links in
  them pass the group pool rule (at least k links from at least 2 allies, still so with
  any one ally's links taken away). A month where only one ally sent links never shows
  alone. The periods follow one another without gaps, and the latest months, until they
  pass, show as suppressed; since a period, once shown, never changes, and no total
  covers the suppressed months, no sum or difference of shown numbers isolates them.
- Shown periods are stored as their months close (``feedback.release.closing``) and never cut
  again from the requests: an ally who deletes their account takes no link out of them.
"""

from datetime import date

from sqlalchemy.orm import Session

from feedback.figures import Period, ResponseLoad
from feedback.release import closing
from feedback.release.closing import month_of, months_between, next_month, periods

__all__ = ["Period", "month_of", "months_between", "next_month", "periods", "response_load"]


def response_load(session: Session, group_id: int, *, today: date, k: int) -> ResponseLoad:
    """The group's response load over closed months, as periods (see the module's text).

    Its ``links``, ``answers`` and ``declined`` sum the shown periods only, and its
    ``response_rate`` is their answers per link sent: every answer released by the end of
    the last shown period answered a link sent by then, so it is a floor (answers still
    waiting for a cohort are not in it). Callers check that the reader leads the group.
    """
    state, tail = closing.advance(session, group_id, cutoff=month_of(today), k=k)
    return ResponseLoad(as_of=state.through or month_of(today), periods=(*state.shown, *tail))
