"""Response load: how often the people a group's allies help are asked for feedback.

Per period of whole calendar months: how many answer links the group's allies sent, how
many answers came back (released), and how many of those were "I'd rather not answer".
Asking is itself a burden (DESIGN §1); this shows a lead whether the group asks too much.

What it reads, and why it is safe (P3, P5):

- Links sent: ``FeedbackRequest.link_count`` by the day the ally made the request (an
  ally-side day; links themselves are purged after expiry, requests are not). Nothing
  about any recipient, and nothing about whether a link was answered.
- Answers: released group cohorts only, by the month they were released (answers carry
  no time on purpose, so "came back" means "was released"); "I'd rather not answer" is
  the cohort document's ``declined``. Every cohort already passed the release rules, and
  the trend by month shows the same answers.
- Only closed months count (before the first day of this month), so a shown figure is
  final: no later look at the page differs from an earlier one by one ally's link.
- Links are shown per *period*: months are merged, oldest first, until the links in
  them pass the group pool rule (at least k links from at least 2 allies, still so with
  any one ally's links taken away). A month where only one ally sent links never shows
  alone. The periods follow one another without gaps, and the latest months, until they
  pass, show as suppressed; since a period, once shown, never changes, and no total
  covers the suppressed months, no sum or difference of shown numbers isolates them.
"""

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from feedback.figures import Period, ResponseLoad
from feedback.models import Action, Cohort, FeedbackRequest, Group, Scope
from feedback.release import GROUP_RULE, safe_shares


def month_of(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def months_between(first: date, end: date) -> list[date]:
    """Every month from ``first``'s up to, not including, ``end``'s."""
    months, month = [], month_of(first)
    while month < month_of(end):
        months.append(month)
        month = next_month(month)
    return months


def periods(
    months: Sequence[date],
    links: Mapping[date, Mapping[int, int]],
    answers: Mapping[date, tuple[int, int]],
    *,
    k: int,
) -> list[Period]:
    """Merge ``months`` (consecutive, oldest first) into periods whose links pass the group
    pool rule; the months after the last such period form one suppressed period.

    ``links`` is month -> ally id -> links sent; ``answers`` is month -> (released answers,
    of which declined). Greedy from the oldest month, so a period once closed never changes
    as later months come in.
    """
    out: list[Period] = []
    first: date | None = None
    shares: Counter[int] = Counter()
    answered = declined = 0
    for month in months:
        first = first or month
        shares.update(links.get(month, {}))
        n, no = answers.get(month, (0, 0))
        answered, declined = answered + n, declined + no
        if safe_shares(shares, k=k, rule=GROUP_RULE):
            out.append(Period(first, month, shares.total(), answered, declined))
            first, shares, answered, declined = None, Counter(), 0, 0
    if first is not None:
        out.append(Period(first, months[-1], None, answered, declined))
    return out


def _links_by_month(session: Session, group_id: int, cutoff: date) -> dict[date, Counter[int]]:
    rows = session.execute(
        select(FeedbackRequest.created_on, Action.ally_id, func.sum(FeedbackRequest.link_count))
        .join(Action, FeedbackRequest.action_id == Action.id)
        .where(Action.group_id == group_id, FeedbackRequest.created_on < cutoff)
        .group_by(FeedbackRequest.created_on, Action.ally_id)
    )
    by_month: dict[date, Counter[int]] = {}
    for day, ally_id, sent in rows:
        by_month.setdefault(month_of(day), Counter())[ally_id] += int(sent)
    return by_month


def _answers_by_month(session: Session, group_id: int, cutoff: date) -> dict[date, tuple[int, int]]:
    rows = session.execute(
        select(Cohort.released_on, Cohort.responses, Cohort.document)
        .join(Scope, Cohort.scope_id == Scope.id)
        .where(Scope.kind == "group", Scope.subject_id == group_id, Cohort.released_on < cutoff)
    )
    by_month: dict[date, tuple[int, int]] = {}
    for day, responses, document in rows:
        n, no = by_month.get(month_of(day), (0, 0))
        by_month[month_of(day)] = (n + int(responses), no + int(document.get("declined", 0)))
    return by_month


def response_load(session: Session, group_id: int, *, today: date, k: int) -> ResponseLoad:
    """The group's response load over closed months, as periods (see the module's text).

    Its ``links``, ``answers`` and ``declined`` sum the shown periods only, and its
    ``response_rate`` is their answers per link sent: every answer released by the end of
    the last shown period answered a link sent by then, so it is a floor (answers still
    waiting for a cohort are not in it). Callers check that the reader leads the group.
    """
    cutoff = month_of(today)
    links = _links_by_month(session, group_id, cutoff)
    answers = _answers_by_month(session, group_id, cutoff)
    group = session.get(Group, group_id)
    starts = [*links, *answers, *([month_of(group.created_on)] if group is not None else [])]
    found = periods(months_between(min(starts), cutoff), links, answers, k=k) if starts else []
    return ResponseLoad(as_of=cutoff, periods=tuple(found))
