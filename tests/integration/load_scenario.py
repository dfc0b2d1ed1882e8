"""A group whose allies sent answer links in past months, for the response-load tests (API,
page and browser): the requests and releases are dated back as a month's work would be."""

from datetime import date, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from api.clock import utcnow
from api.extensions import db
from feedback.models import ClosedMonths, Cohort, FeedbackRequest, Scope, ScopeView
from tests.conftest import Person, Recipient


def months_ago(n: int) -> date:
    """A day in the month n months before this one."""
    month = utcnow().date().replace(day=1)
    for _ in range(n):
        month = (month - timedelta(days=1)).replace(day=1)
    return month + timedelta(days=9)


def redate_releases(session: Session, scope_ids: Any, day: date) -> None:
    """Date these scopes' releases so far ``day``, in the cohorts and in the views' months
    (each release keeps its month in its scope's view, which the response load reads), and
    forget what the release tick closed before this history was dated back."""
    session.execute(delete(ClosedMonths))
    session.execute(update(Cohort).where(Cohort.scope_id.in_(scope_ids)).values(released_on=day))
    for view in session.scalars(select(ScopeView).where(ScopeView.scope_id.in_(scope_ids))):
        responses = sum(int(m["responses"]) for m in view.months.values())
        declined = sum(int(m["declined"]) for m in view.months.values())
        view.months = {month_label(day): {"responses": responses, "declined": declined}}


def month_label(day: date) -> str:
    """A month as the API gives it."""
    return day.strftime("%Y-%m")


def page_month(day: date) -> str:
    """A month as the pages write it in English."""
    return day.strftime("%b %Y")


class Scenario:
    """A group whose allies sent links in past months, some answered and released."""

    def __init__(self, app: Flask, client: FlaskClient, lead: Person) -> None:
        self.app, self.lead = app, lead
        self.group = lead.create_group()
        self.allies: dict[str, Person] = {}
        self.recipient = Recipient(client)
        for name in ("Ana", "Ben", "Cy", "Dee"):
            person = Person(client, name)
            lead.add(self.group, person)
            self.allies[name] = person

    def send(self, name: str, count: int, month: int) -> list[str]:
        """``name`` asks for ``count`` links about a new action, ``month`` months ago."""
        person = self.allies[name]
        action = person.log_action(self.group)
        tokens = person.ask(action, count=count)
        with self.app.app_context():
            db.session.execute(
                update(FeedbackRequest).where(FeedbackRequest.action_id == action).values(created_on=months_ago(month))
            )
            db.session.commit()
        return tokens

    def release_in(self, month: int) -> None:
        """Date every group release so far ``month`` months ago."""
        with self.app.app_context():
            group_scopes = select(Scope.id).where(Scope.kind == "group", Scope.subject_id == self.group)
            redate_releases(db.session, group_scopes, months_ago(month))
            db.session.commit()

    def load(self) -> dict[str, Any]:
        response = self.lead.get(f"/api/v1/groups/{self.group}/insights")
        assert response.status_code == 200, response.get_json()
        return dict(response.get_json()["response_load"])


ANSWER = {"wanted": "yes", "felt_recognised": 4}


def build_scenario(app: Flask, client: FlaskClient, lead: Person) -> Scenario:
    """Three months ago only Ana sent links (6); two months ago Ben and Cy sent 3 each; last
    month Ana and Ben sent one each; this month Dee sent 5. Eleven answers to the first
    months' links, two of them "I'd rather not answer", released two months ago."""
    scenario = Scenario(app, client, lead)
    tokens = scenario.send("Ana", 6, month=3) + scenario.send("Ben", 3, month=2) + scenario.send("Cy", 3, month=2)
    for index, token in enumerate(tokens[:-1]):
        answers = {} if index in (0, 7) else ANSWER
        assert scenario.recipient.answer(token, answers).status_code == 202
    scenario.send("Ana", 1, month=1)
    scenario.send("Ben", 1, month=1)
    scenario.send("Dee", 5, month=0)
    scenario.release_in(2)
    return scenario
