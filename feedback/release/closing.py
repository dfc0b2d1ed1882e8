"""Closed months, frozen: what a lead reads of the follow-up rate and the response load.

Both figures count only months that have closed, and both pass the group pool rule batch by
batch (``followups.followup_rate``) or period by period (``load.response_load``). Computed
live from actions and requests, a shown figure would still move when an ally deletes their
account (their actions and requests go with it): a lead comparing the page before and
after would learn that ally's follow-ups and links (P5). So what a closed month adds is
written once, in ``ClosedMonths``, by the release tick's first run in the next month, and
never recomputed: an ally who leaves takes nothing out of a shown figure.

What is kept per group, as JSON (``State``):

- the follow-up rate's counted batches as two sums, and where they end (the due day and id
  of the last action counted: actions enter oldest first, so the next batch starts after it);
- the response load's shown periods, and the first month not in any of them (the tail,
  shown as suppressed until its links pass the rule).

Once the tick has stored this month's state (within a minute of the month turning), a read
is that one row. Before, a read starts from the stored state and adds, in memory only, what
closed since. Either way the figures equal the live computation's on the same rows
(``tests/integration/test_closed_months.py``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy import exists, func, insert, select, update
from sqlalchemy.orm import Session, aliased

from feedback.figures import Period
from feedback.models import Action, ClosedMonths, FeedbackRequest, Followup, Group, Scope, ScopeView
from feedback.release.rules import GROUP_RULE, safe_shares

# A follow-up asked within this of coming due counts as the ally following up.
FOLLOW_UP_WINDOW = timedelta(days=30)


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


@dataclass(frozen=True)
class State:
    """A group's closed months, up to (not including) ``through``; see the module's text."""

    through: date | None = None
    actions: int = 0  # actions in counted follow-up batches
    followed_up: int = 0  # of which the ally followed up in time
    after: tuple[date, int] | None = None  # (first due day, action id) of the last counted action
    shown: tuple[Period, ...] = ()  # the response load's periods that passed the rule
    tail_from: date | None = None  # the first month of no shown period (None: no month yet)
    suppressed: Period | None = None  # the months from tail_from to through, while their links do not pass

    def to_json(self) -> dict[str, Any]:
        return {
            "actions": self.actions,
            "followed_up": self.followed_up,
            "after": None if self.after is None else [self.after[0].isoformat(), self.after[1]],
            "shown": [_period_json(p) for p in self.shown],
            "tail_from": None if self.tail_from is None else self.tail_from.isoformat(),
            "suppressed": None if (tail := self.suppressed) is None else _period_json(tail),
        }

    @classmethod
    def from_json(cls, through: date, data: Mapping[str, Any]) -> State:
        after = data["after"]
        return cls(
            through=through,
            actions=int(data["actions"]),
            followed_up=int(data["followed_up"]),
            after=None if after is None else (date.fromisoformat(after[0]), int(after[1])),
            shown=tuple(_period(p) for p in data["shown"]),
            tail_from=None if data["tail_from"] is None else date.fromisoformat(data["tail_from"]),
            suppressed=None if data["suppressed"] is None else _period(data["suppressed"]),
        )


def _period(row: Sequence[Any]) -> Period:
    first, last, links, answers, declined = row
    links = None if links is None else int(links)
    return Period(date.fromisoformat(first), date.fromisoformat(last), links, int(answers), int(declined))


def _period_json(p: Period) -> list[Any]:
    return [p.first.isoformat(), p.last.isoformat(), p.links, p.answers, p.declined]


@dataclass
class _Months:
    """Answers and declined per month of release, summed over a group's scopes' views."""

    by_month: dict[date, tuple[int, int]] = field(default_factory=dict)

    @classmethod
    def read(cls, session: Session, group_id: int) -> _Months:
        rows = session.scalars(
            select(ScopeView.months)
            .join(Scope, Scope.id == ScopeView.scope_id)
            .where(Scope.kind == "group", Scope.subject_id == group_id)
        )
        by_month: dict[date, tuple[int, int]] = {}
        for months in rows:
            for month, released in months.items():
                day = date.fromisoformat(f"{month}-01")
                n, no = by_month.get(day, (0, 0))
                by_month[day] = (n + int(released["responses"]), no + int(released["declined"]))
        return cls(by_month)


def _stored(session: Session, group_id: int) -> State:
    row = session.execute(
        select(ClosedMonths.through, ClosedMonths.state).where(ClosedMonths.group_id == group_id)
    ).one_or_none()
    return State() if row is None else State.from_json(row.through, row.state)


def _advance_followups(session: Session, group_id: int, state: State, cutoff: date, k: int) -> State:
    """Cut into batches the actions whose first follow-up's window closed before ``cutoff``
    and that come after the last counted one; the unfinished batch stays uncounted."""
    last_due = cutoff - FOLLOW_UP_WINDOW  # windows closing before the cutoff: due before this
    earlier = aliased(Followup)
    query = (
        select(Action.id, Action.ally_id, Followup.due_on, Followup.asked_on)
        .join(Followup, Followup.action_id == Action.id)
        .where(
            Action.group_id == group_id,
            Followup.due_on < last_due,
            # The action's first follow-up: none of its others is due earlier (nor, due the
            # same day, comes first by stage).
            ~exists().where(
                earlier.action_id == Followup.action_id,
                (earlier.due_on < Followup.due_on)
                | ((earlier.due_on == Followup.due_on) & (earlier.stage < Followup.stage)),
            ),
        )
    )
    if state.after is not None:
        query = query.where(Followup.due_on >= state.after[0])
    rows = sorted(
        (
            (due, action_id, ally_id, asked)
            for action_id, ally_id, due, asked in session.execute(query)
            if state.after is None or (due, action_id) > state.after
        ),
        key=lambda row: (row[0], row[1]),
    )
    actions, done, after = state.actions, state.followed_up, state.after
    batch_done, shares = 0, Counter[int]()
    for due, action_id, ally_id, asked in rows:
        shares[ally_id] += 1
        batch_done += asked is not None and asked <= due + FOLLOW_UP_WINDOW
        if safe_shares(shares, k=k, rule=GROUP_RULE):
            actions, done, after = actions + shares.total(), done + batch_done, (due, action_id)
            batch_done, shares = 0, Counter()
    return replace(state, actions=actions, followed_up=done, after=after)


def _first_month(session: Session, group_id: int, months: _Months) -> date | None:
    """The first month the response load covers: the group's, its first link's, or its
    first answer's, whichever is earliest."""
    created = session.scalar(select(Group.created_on).where(Group.id == group_id))
    first_link = session.scalar(
        select(func.min(FeedbackRequest.created_on))
        .join(Action, FeedbackRequest.action_id == Action.id)
        .where(Action.group_id == group_id)
    )
    starts = [month_of(d) for d in (created, first_link) if d is not None] + list(months.by_month)
    return min(starts, default=None)


def advance(session: Session, group_id: int, *, cutoff: date, k: int) -> tuple[State, list[Period]]:
    """The group's state closed up to ``cutoff`` (the stored one, plus what closed since),
    and the response load's suppressed period after its shown ones, if any.

    Once the tick has stored this month's state, a read is that one row: nothing that
    closed before this month can change after it (new actions come due, and new requests
    are made, after it), and nothing may (an ally who leaves)."""
    state = _stored(session, group_id)
    if state.through is not None and state.through >= cutoff:
        return state, [] if state.suppressed is None else [state.suppressed]
    months = _Months.read(session, group_id)
    state = _advance_followups(session, group_id, state, cutoff, k)
    start = state.tail_from if state.tail_from is not None else _first_month(session, group_id, months)
    tail: list[Period] = []
    if start is not None and start < cutoff:
        links: dict[date, Counter[int]] = {}
        rows = session.execute(
            select(FeedbackRequest.created_on, Action.ally_id, func.sum(FeedbackRequest.link_count))
            .join(Action, FeedbackRequest.action_id == Action.id)
            .where(
                Action.group_id == group_id, FeedbackRequest.created_on >= start, FeedbackRequest.created_on < cutoff
            )
            .group_by(FeedbackRequest.created_on, Action.ally_id)
        )
        for day, ally_id, sent in rows:
            links.setdefault(month_of(day), Counter())[ally_id] += int(sent)
        tail = periods(months_between(start, cutoff), links, months.by_month, k=k)
    passed = [p for p in tail if p.links is not None]
    if passed:
        state = replace(state, shown=state.shown + tuple(passed), tail_from=next_month(passed[-1].last))
    elif start is not None and state.tail_from is None:
        state = replace(state, tail_from=start)
    suppressed = next((p for p in tail if p.links is None), None)
    return replace(state, through=cutoff, suppressed=suppressed), [] if suppressed is None else [suppressed]


def close(session: Session, group_id: int, *, today: date, k: int) -> bool:
    """Store the group's closed months up to this month, if not yet stored (the tick's work,
    in the caller's transaction); whether anything was written."""
    cutoff = month_of(today)
    through = session.scalar(select(ClosedMonths.through).where(ClosedMonths.group_id == group_id))
    if through is not None and through >= cutoff:
        return False
    state, _ = advance(session, group_id, cutoff=cutoff, k=k)
    values = {"through": cutoff, "state": state.to_json()}
    if through is None:
        session.execute(insert(ClosedMonths).values(group_id=group_id, **values))
    else:
        session.execute(update(ClosedMonths).where(ClosedMonths.group_id == group_id).values(**values))
    return True


def unclosed_groups(session: Session, *, today: date) -> list[int]:
    """Groups whose closed months are not yet stored up to this month."""
    stored = select(ClosedMonths.group_id).where(ClosedMonths.through >= month_of(today))
    return list(session.scalars(select(Group.id).where(Group.id.not_in(stored)).order_by(Group.id)))
