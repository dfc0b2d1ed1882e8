"""The development outbox at /dev/outbox: without MAIL_URL, a developer on this machine reads
the emails the app sent and follows their links; anywhere else the page does not exist."""

import re
from datetime import datetime, time
from typing import Any
from unittest import mock

import pytest
from flask import Flask

from api.clock import utcnow
from tests.conftest import Person, make_due

LOCAL = "http://localhost:5000"
HERE = {"REMOTE_ADDR": "127.0.0.1"}


def run_due(app: Flask) -> None:
    """`flask jobs run-due`, which mails a reminder for each follow-up that came due."""
    with mock.patch("api.cli.utcnow", return_value=datetime.combine(utcnow().date(), time(9))):
        result = app.test_cli_runner().invoke(args=["jobs", "run-due"])
    assert "1 reminder email(s) sent" in result.output, result.output


def remind(app: Flask) -> tuple[Person, int]:
    """An ally whose first follow-up came due, reminded; and their action."""
    client = app.test_client()
    lead, ally = Person(client, "Lee"), Person(client, "Alex")
    group = lead.create_group()
    lead.add(group, ally)
    action = ally.log_action(group)
    ally.share_links(action, "immediate")
    make_due(app, action)
    run_due(app)
    return ally, action


def test_a_reminder_mailed_without_mail_url_shows_in_the_outbox_with_its_link(make_app: Any) -> None:
    app = make_app(public_base_url=LOCAL)
    ally, _ = remind(app)
    client = app.test_client()
    listing = client.get("/dev/outbox", environ_base=HERE)
    assert listing.status_code == 200
    page = listing.get_data(as_text=True)
    assert ally.email in page and "Time to follow up" in page
    opened = client.get(re.findall(r'href="(/dev/outbox/[^"]+\.eml)"', page)[0], environ_base=HERE)
    text = opened.get_data(as_text=True)
    assert opened.status_code == 200 and "1 follow-up is due" in text
    assert f'<a href="{LOCAL}/ally/" rel="noreferrer">{LOCAL}/ally/</a>' in text, "its link can be clicked"
    assert "Set-Cookie" not in opened.headers


def test_the_newest_email_is_listed_first(make_app: Any) -> None:
    app = make_app(public_base_url=LOCAL)
    ally, action = remind(app)
    make_due(app, action, "followup_90")
    run_due(app)
    page = app.test_client().get("/dev/outbox/", environ_base=HERE).get_data(as_text=True)
    rows = re.findall(r"<td>([^<]+)</td>\s*<td>([^<]+)</td>\s*<td><a href=\"([^\"]+)\">", page)
    # Newest first: the two reminders, then the emails that made the account and the group.
    assert [to for _, to, _ in rows[:2]] == [ally.email, ally.email]
    newest = app.test_client().get(rows[0][2], environ_base=HERE).get_data(as_text=True)
    assert "second follow-up" in newest and "first follow-up" not in newest


@pytest.mark.parametrize(
    "path", ["/dev/outbox", "/dev/outbox/", "/dev/outbox/20270101-000000-000000-0123456789abcdef.eml"]
)
def test_another_machine_gets_not_found(make_app: Any, path: str) -> None:
    app = make_app(public_base_url=LOCAL)
    remind(app)
    elsewhere = {"REMOTE_ADDR": "203.0.113.9"}
    client = app.test_client()
    response = client.get(path, environ_base=elsewhere, headers={"Accept": "text/html"})
    unknown = client.get("/dev/nothing-here", environ_base=elsewhere, headers={"Accept": "text/html"})
    assert response.status_code == 404 and response.get_data() == unknown.get_data(), "the usual 404 page"


def test_with_mail_url_there_is_no_outbox(make_app: Any) -> None:
    app = make_app(public_base_url=LOCAL, mail_url="smtp://127.0.0.1:2525")
    assert app.test_client().get("/dev/outbox/", environ_base=HERE).status_code == 404


def test_an_app_that_others_open_has_no_outbox(make_app: Any) -> None:
    app = make_app()  # PUBLIC_BASE_URL http://allyloop.test
    remind(app)
    assert app.test_client().get("/dev/outbox/", environ_base=HERE).status_code == 404


def test_a_name_outside_the_outbox_is_not_found(make_app: Any) -> None:
    app = make_app(public_base_url=LOCAL)
    remind(app)
    client = app.test_client()
    for name in ("..%2Fallyloop.sqlite3", "20270101-000000-000000-0123456789abcdef.eml", "x.eml"):
        assert client.get(f"/dev/outbox/{name}", environ_base=HERE).status_code == 404
