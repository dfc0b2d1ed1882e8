"""The follow-up rate and the response load over closed months, kept as each month closes
(feedback/release/closing.py): the same figures the live computation gave on the same rows, and
figures an ally's leaving cannot move (P5)."""

import random
from collections import Counter
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from api.clock import utcnow
from api.extensions import db
from feedback import followups
from feedback.figures import FollowupRate, ResponseLoad
from feedback.models import Account, Action, ClosedMonths, FeedbackRequest, Followup, Group, Scope, ScopeView
from feedback.release import closing
from feedback.release.closing import FOLLOW_UP_WINDOW, month_of, months_between, next_month, periods
from feedback.release.rules import GROUP_RULE, safe_shares
from feedback.services import load
from tests.conftest import Person
from tests.integration.load_scenario import months_ago

K = 5


# --- the oracle: both figures as they were computed on every read ----------------------------


def live_followup_rate(session: Session, group_id: int, today: date, k: int) -> FollowupRate:
    """``followups.followup_rate`` before it was kept: every action cut into batches."""
    cutoff = today.replace(day=1)
    first: dict[int, tuple[date, date | None, int]] = {}
    rows = session.execute(
        select(Action.id, Action.ally_id, Followup.due_on, Followup.asked_on)
        .join(Followup, Followup.action_id == Action.id)
        .where(Action.group_id == group_id)
    )
    for action_id, ally_id, due, asked in rows:
        if action_id not in first or due < first[action_id][0]:
            first[action_id] = (due, asked, ally_id)
    closed = sorted((due, a) for a, (due, _, _) in first.items() if due + FOLLOW_UP_WINDOW < cutoff)
    counted: list[int] = []
    batch: list[int] = []
    shares: Counter[int] = Counter()
    for _, action_id in closed:
        batch.append(action_id)
        shares[first[action_id][2]] += 1
        if safe_shares(shares, k=k, rule=GROUP_RULE):
            counted, batch, shares = counted + batch, [], Counter()
    if not counted:
        return FollowupRate(as_of=cutoff)
    done = sum(1 for a in counted if (asked := first[a][1]) is not None and asked <= first[a][0] + FOLLOW_UP_WINDOW)
    return FollowupRate(as_of=cutoff, actions=len(counted), followed_up=done)


def live_response_load(session: Session, group_id: int, today: date, k: int) -> ResponseLoad:
    """``load.response_load`` before it was kept: every request and month read again."""
    cutoff = month_of(today)
    links: dict[date, Counter[int]] = {}
    for day, ally_id, sent in session.execute(
        select(FeedbackRequest.created_on, Action.ally_id, FeedbackRequest.link_count)
        .join(Action, FeedbackRequest.action_id == Action.id)
        .where(Action.group_id == group_id, FeedbackRequest.created_on < cutoff)
    ):
        links.setdefault(month_of(day), Counter())[ally_id] += sent
    answers: dict[date, tuple[int, int]] = {}
    for months in session.scalars(
        select(ScopeView.months).join(Scope).where(Scope.kind == "group", Scope.subject_id == group_id)
    ):
        for month, released in months.items():
            day = date.fromisoformat(month + "-01")
            if day < cutoff:
                n, no = answers.get(day, (0, 0))
                answers[day] = (n + released["responses"], no + released["declined"])
    created = session.scalar(select(Group.created_on).where(Group.id == group_id))
    assert created is not None
    found = periods(months_between(min([*links, *answers, month_of(created)]), cutoff), links, answers, k=k)
    return ResponseLoad(as_of=cutoff, periods=tuple(found))


# --- generated histories --------------------------------------------------------------------


def history(session: Session, rng: random.Random, start: date, months: int) -> int:
    """A group over ``months`` months from ``start``: a few allies, some busy, some not,
    logging actions (asked at once, followed up in time or late or never) and releasing
    answers; rows written as the app writes them."""
    group = Group(name="Generated", created_on=start)
    session.add(group)
    session.flush()
    scope = Scope(kind="group", subject_id=group.id, questionnaire_id="immediate.v1", invalid=0)
    session.add(scope)
    allies = []
    for n in range(rng.randint(2, 6)):
        account = Account(email=f"a{group.id}-{n}@example.org", name="A", created_on=start, verified=True)
        session.add(account)
        allies.append(account)
    session.flush()
    busy = [rng.choice([1, 3, 8]) for _ in allies]
    released: dict[str, dict[str, int]] = {}
    day = start
    end = start + timedelta(days=30 * months)
    while day < end:
        for ally, weight in zip(allies, busy, strict=True):
            if rng.random() * 10 > weight:
                continue
            action = Action(
                group_id=group.id,
                ally_id=ally.id,
                kind="credit",
                summary="s",
                occurred_on=day,
                visibility="public",
                created_on=day,
            )
            session.add(action)
            session.flush()
            session.add(
                FeedbackRequest(
                    action_id=action.id,
                    stage="immediate",
                    questionnaire_id="immediate.v1",
                    ally_scope_id=scope.id,
                    group_scope_id=scope.id,
                    link_count=rng.randint(1, 4),
                    created_on=day,
                    delivered=True,
                )
            )
            for stage, offset in (("followup_30", 30), ("followup_90", 90)):
                due = day + timedelta(days=offset)
                late = rng.choice([None, 3, 20, 45])
                asked = None if late is None or stage == "followup_90" else due + timedelta(days=late)
                session.add(Followup(action_id=action.id, stage=stage, due_on=due, asked_on=asked))
        if rng.random() < 0.3:
            month = day.strftime("%Y-%m")
            n = rng.randint(5, 9)
            was = released.get(month, {"responses": 0, "declined": 0})
            released[month] = {"responses": was["responses"] + n, "declined": was["declined"] + rng.randint(0, 2)}
        day += timedelta(days=rng.randint(1, 6))
    session.add(ScopeView(scope_id=scope.id, cohorts=1, responses=0, comments=0, view={}, uncut=[], months=released))
    session.flush()
    return group.id


@pytest.mark.parametrize("seed", range(6))
def test_kept_figures_equal_the_live_ones_month_after_month(app: Flask, seed: int) -> None:
    """The tick closes each month as it turns (sometimes it misses a few); every read in
    between, and every read before a tick catches up, gives what the live computation gave."""
    rng = random.Random(seed)
    start = date(2025, 1, 1) + timedelta(days=rng.randint(0, 27))
    with app.app_context():
        session = db.session
        group = history(session, rng, start, months=10)
        month = month_of(start)
        for _ in range(14):
            month = next_month(month)
            today = month + timedelta(days=rng.randint(0, 27))
            assert followups.followup_rate(session, group, today=today, k=K) == live_followup_rate(
                session, group, today, K
            )
            assert load.response_load(session, group, today=today, k=K) == live_response_load(session, group, today, K)
            if rng.random() < 0.7:  # the tick ran this month
                closing.close(session, group, today=today, k=K)
        kept = followups.followup_rate(session, group, today=today, k=K)
        assert kept == live_followup_rate(session, group, today, K)
        assert not kept.suppressed or seed, "most histories show a rate"


# --- the attack: a lead compares the page before and after an ally leaves --------------------


def test_a_lead_learns_nothing_of_an_ally_who_deletes_their_account(
    app: Flask, client: FlaskClient, lead: Person
) -> None:
    """Four allies, three actions each, asked and followed up months ago. Noor followed up
    every one; the others never did. Once the months have closed, the lead reads the page,
    Noor deletes their account, and the lead reads it again: had the figures moved, the
    difference would be Noor's own record (3 actions, all followed up; their links)."""
    group = lead.create_group()
    people = []
    for name in ("Noor", "Ben", "Cy", "Dee"):
        person = Person(client, name)
        lead.add(group, person)
        people.append(person)
    actions = {p.email: [p.log_action(group) for _ in range(3)] for p in people}
    for person in people:
        for action in actions[person.email]:
            person.ask(action, "immediate", count=2)
    today = utcnow().date()
    with app.app_context():
        for index, person in enumerate(people):  # Noor's are the oldest
            for n, action in enumerate(actions[person.email]):
                due = today - timedelta(days=130) + timedelta(days=3 * index + n)
                asked = due + timedelta(days=2) if person is people[0] else None
                db.session.execute(
                    update(Followup)
                    .where(Followup.action_id == action, Followup.stage == "followup_30")
                    .values(due_on=due, asked_on=asked)
                )
        db.session.execute(update(FeedbackRequest).values(created_on=months_ago(3)))
        db.session.commit()
    run_tick(app)
    with app.app_context():
        assert db.session.get(ClosedMonths, group) is not None, "the tick kept the closed months"

    def page() -> tuple[Any, Any]:
        body = lead.get(f"/api/v1/groups/{group}/insights").get_json()
        return body["followed_up"], body["response_load"]

    before = page()
    assert before[0]["actions"] >= 5 and before[0]["followed_up"] == 3, "Noor's three are in the figure"
    assert any("links" in p for p in before[1]["periods"]), "the links are shown"
    gone = people[0].client.delete("/api/v1/me", json={"password": people[0].password}, headers=people[0].headers)
    assert gone.status_code in (200, 204), gone.get_json()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Action).where(Action.group_id == group)) == 9
    assert page() == before, "the page after Noor left is the page before"


def run_tick(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["jobs", "run-due"])
    assert result.exit_code == 0, result.output
