"""Operator commands: ``flask jobs run-due`` and ``flask keys rotate``."""

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime

import click
from flask import Flask
from flask.cli import AppGroup

from api.clock import utcnow
from api.extensions import session
from api.jobs.adapters import MissingKey, kek
from api.jobs.release import run_due_now
from feedback.errors import DomainError
from feedback.services import keys

jobs_cli = AppGroup("jobs", help="Background work.")
keys_cli = AppGroup("keys", help="Response keys.")


@contextlib.contextmanager
def _plainly() -> Iterator[None]:
    """An operator's mistake ends the command with its message, not a traceback."""
    try:
        yield
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    except MissingKey as exc:
        raise click.ClickException(str(exc)) from None


@jobs_cli.command("run-due")
@click.option("--now", "now_text", default=None, help="Run as of this earlier ISO date or time (UTC).")
def run_due(now_text: str | None) -> None:
    """Run all due background work once: releases, purges, emails with links and follow-up reminders."""
    real = utcnow()
    try:
        now = datetime.fromisoformat(now_text) if now_text else real
        if now.tzinfo is not None:
            now = now.astimezone(UTC).replace(tzinfo=None)
    except ValueError:
        raise click.BadParameter("use an ISO date such as 2026-01-31", param_hint="--now") from None
    if now > real:
        raise click.BadParameter(
            "must not be later than now: a later time would purge links still in use and send"
            " reminders before their follow-ups are due",
            param_hint="--now",
        )
    with _plainly():
        report = run_due_now(now)
    click.echo(
        f"released {report.released_cohorts} cohort(s) of {report.released_responses} response(s); "
        f"{report.invalid} invalid discarded; {report.purged_links} expired link(s) purged; "
        f"{report.links_sent} email(s) with links sent; {report.reminders_sent} reminder email(s) sent"
    )
    if report.failed_scopes:
        raise click.ClickException(f"releases failed for scope(s) {report.failed_scopes}; see the log")


@keys_cli.command("rotate")
def rotate() -> None:
    """Make a new current response key; older keys keep opening what was sealed to them."""
    with _plainly():
        key = keys.rotate(session(), kek(), now=utcnow())
    session().commit()
    click.echo(f"new response key {key.kid}")


@keys_cli.command("init")
def init() -> None:
    """Make the first response key if there is none (safe to run at every start)."""
    with _plainly():
        key = keys.ensure_key(session(), kek(), now=utcnow())
    session().commit()
    click.echo(f"current response key {key.kid}")


@keys_cli.command("retire")
@click.argument("kid")
def retire(kid: str) -> None:
    """Stop accepting answers sealed to KID; what was sealed to it still opens."""
    with _plainly():
        keys.retire(session(), kid)
    session().commit()
    click.echo(f"retired {kid}; current response key {keys.current_key(session()).kid}")


def register(app: Flask) -> None:
    app.cli.add_command(jobs_cli)
    app.cli.add_command(keys_cli)
